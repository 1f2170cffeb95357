"""The operator's organisation in a plan (issue 16): levels, the unit of every grid,
community managers per unit, roll-ups to every level and the area teams.

The organisation nests the plan: city → county → branch (分局) → sub-branch (支局) →
area (区域) → grid → cell. A plan with an organisation records its level keys, top →
bottom, in ``meta['org_levels']`` (comma-separated) and their display labels in
``meta['org_labels']`` (JSON); every grid and cell carries ``unit_<level>`` (the unit's
code, text) and ``unit_<level>_name``. Territories and areas are formed inside the units
of ``meta['area_level']`` (by default the level above the lowest; the lowest when there
is one level): each community manager works in one such unit (``managers['unit']``), his
workload target is his share of that unit's hours, and areas never span two units.

Headcount of every role and every figure roll up to every level (:func:`org_rollup`).
The other people of an area's team — its area manager, its marketing managers (一主一辅)
— are the plan's ``staff`` table (:func:`area_team`).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from gridplan.errors import InputError, Problem
from gridplan.plan.model import HOURS, Plan, plan_headcount
from gridplan.workload import ROLES

__all__ = [
    "AREA_LEVEL_KEY",
    "ORG_LABELS_KEY",
    "ORG_LEVELS_KEY",
    "STAFF_COLUMNS",
    "STAFF_ROLES",
    "OrgSettings",
    "apportion",
    "area_level",
    "area_units",
    "grid_units",
    "org_labels",
    "org_levels",
    "org_meta",
    "org_rollup",
    "org_tables",
    "team_units",
    "unit_column",
    "unit_name_column",
    "unit_names",
    "units_from_cells",
]

#: plan meta keys of the organisation
ORG_LEVELS_KEY = "org_levels"
ORG_LABELS_KEY = "org_labels"
AREA_LEVEL_KEY = "area_level"

#: roles of the ``staff`` table (community managers are the plan's ``managers``)
STAFF_ROLES: tuple[str, ...] = (
    "area_manager",
    "marketing_manager",
    "group_client_manager",
    "vip_client_manager",
    "phone_client_manager",
)
#: columns of the ``staff`` table
STAFF_COLUMNS: tuple[str, ...] = ("person", "role", "area", "unit", "supports")


@dataclass(frozen=True)
class OrgSettings:
    """How the plan follows the organisation.

    ``area_level``: the level inside which territories and areas are formed (``None``:
    the level above the lowest, or the lowest when there is one); ``min_managers_per_unit``:
    community managers every unit with work gets at least (1)."""

    area_level: str | None = None
    min_managers_per_unit: int = 1


def unit_column(level: str) -> str:
    """The grids' and cells' code column of ``level`` (``unit_<level>``)."""
    return f"unit_{level}"


def unit_name_column(level: str) -> str:
    """The grids' and cells' name column of ``level`` (``unit_<level>_name``)."""
    return f"unit_{level}_name"


def org_levels(plan: Plan) -> tuple[str, ...]:
    """The plan's organisation levels, top → bottom (empty without an organisation)."""
    text = str(plan.meta.get(ORG_LEVELS_KEY, "")).strip()
    levels = tuple(x.strip() for x in text.split(",") if x.strip())
    return tuple(lv for lv in levels if unit_column(lv) in plan.grids.columns)


def org_labels(plan: Plan) -> dict[str, str]:
    """Display label of every level (the key itself where none is given)."""
    try:
        given = json.loads(str(plan.meta.get(ORG_LABELS_KEY, "") or "{}"))
    except json.JSONDecodeError:
        given = {}
    return {lv: str(given.get(lv) or lv) for lv in org_levels(plan)}


def default_area_level(levels: Sequence[str]) -> str | None:
    """The level above the lowest (the lowest when there is one), ``None`` when none."""
    if not levels:
        return None
    return levels[-2] if len(levels) > 1 else levels[-1]


def area_level(plan: Plan) -> str | None:
    """The level inside which territories and areas are formed (``None``: the city)."""
    levels = org_levels(plan)
    given = str(plan.meta.get(AREA_LEVEL_KEY, "")).strip()
    if given in levels:
        return given
    if given in ("city", "none"):
        return None
    return default_area_level(levels)


def org_meta(
    levels: Sequence[str], labels: Mapping[str, str] | None = None, area: str | None = None
) -> dict[str, str]:
    """The plan meta entries of an organisation (see the module docstring)."""
    if not levels:
        return {}
    chosen = area if area is not None else default_area_level(levels)
    return {
        ORG_LEVELS_KEY: ",".join(levels),
        ORG_LABELS_KEY: json.dumps(dict(labels or {}), ensure_ascii=False),
        AREA_LEVEL_KEY: chosen or "city",
    }


def grid_units(plan: Plan, level: str | None = None) -> pd.Series:
    """The unit code of every grid at ``level`` (default: the area level), index-aligned
    with ``plan.grids``; ``""`` without one."""
    level = level if level is not None else area_level(plan)
    col = unit_column(level) if level else None
    if col is None or col not in plan.grids.columns:
        return pd.Series("", index=plan.grids.index, dtype=object)
    return plan.grids[col].fillna("").astype(str)


def unit_names(plan: Plan, level: str) -> dict[str, str]:
    """Unit code → name at ``level`` (the code where no name is known)."""
    out: dict[str, str] = {}
    if plan.units is not None and len(plan.units) and "level" in plan.units.columns:
        u = plan.units[plan.units["level"].astype(str) == level]
        out.update(zip(u["code"].astype(str), u["name"].fillna("").astype(str), strict=True))
    ncol = unit_name_column(level)
    if ncol in plan.grids.columns:
        g = plan.grids[[unit_column(level), ncol]].astype(str).drop_duplicates(unit_column(level))
        for code, name in zip(g.iloc[:, 0], g.iloc[:, 1], strict=True):
            out.setdefault(code, name)
    return {k: (v if v and v != "nan" else k) for k, v in out.items()}


def apportion(weights: Sequence[float], total: int, minimum: int = 1) -> np.ndarray:
    """``total`` seats shared in proportion to ``weights`` by the largest remainder, every
    positive weight getting at least ``minimum`` (zero weights get none).

    Raises ValueError when ``total`` is below the minimum seats."""
    w = np.clip(np.asarray(weights, dtype=float), 0.0, None)
    pos = w > 0
    need = int(pos.sum()) * int(minimum)
    if total < need:
        raise ValueError(f"{total} seats for {int(pos.sum())} units of at least {minimum}")
    seats = np.where(pos, minimum, 0).astype(np.int64)
    left = total - need
    if left == 0 or not pos.any():
        return seats
    # share all seats by weight, then take off the minimum already given (never below 0)
    quota = w / w.sum() * total
    extra = np.clip(quota - seats, 0.0, None)
    if extra.sum() <= 0:
        extra = w.copy()
    quota = extra / extra.sum() * left
    base = np.floor(quota).astype(np.int64)
    rest = left - int(base.sum())
    order = np.lexsort((np.arange(len(w)), -(quota - base)))
    base[order[:rest]] += 1
    return seats + base


def _unit_hours(plan: Plan, level: str) -> pd.Series:
    units = grid_units(plan, level)
    hours = pd.to_numeric(plan.grids[HOURS], errors="coerce").fillna(0.0)
    return hours.groupby(units.to_numpy()).sum().sort_index()


def _seat_managers(
    team: pd.DataFrame, codes: np.ndarray, seats: np.ndarray, current: pd.DataFrame | None
) -> np.ndarray:
    """Unit code per manager: the unit holding most of his ``current`` grids' hours while
    it has seats (managers with most hours there first), the rest in team order."""
    left = dict(zip(codes, seats.astype(int), strict=True))
    names = team["manager"].astype(str).to_numpy()
    out = np.full(len(team), "", dtype=object)
    if current is not None and "manager" in current.columns and len(current):
        held = pd.DataFrame(
            {
                "manager": current["manager"].fillna("").astype(str).to_numpy(),
                "unit": current["_unit"].to_numpy(),
                "hours": pd.to_numeric(current[HOURS], errors="coerce").fillna(0).to_numpy(),
            }
        )
        held = held[(held["manager"] != "") & held["unit"].isin(set(codes))]
        best = held.groupby(["manager", "unit"], sort=True)["hours"].sum().reset_index()
        best = best.sort_values(["hours", "manager"], ascending=[False, True], kind="stable")
        pos = {m: i for i, m in enumerate(names)}
        for man, unit in zip(best["manager"], best["unit"], strict=True):
            i = pos.get(man)
            if i is not None and out[i] == "" and left[unit] > 0:
                out[i] = unit
                left[unit] -= 1
    free = iter(c for c in codes for _ in range(left[c]))
    for i in range(len(out)):
        if out[i] == "":
            out[i] = next(free)
    return out


def team_units(
    plan: Plan,
    team: pd.DataFrame,
    settings: OrgSettings | None = None,
    *,
    current: pd.DataFrame | None = None,
) -> pd.Series:
    """The area-level unit of every community manager of ``team`` (index-aligned).

    A ``unit`` column naming a unit of the plan for every manager is kept (the planner's
    choice); otherwise the managers are shared among the units in proportion to their
    hours (largest remainder, at least ``min_managers_per_unit`` each, units in code
    order): a manager who holds grids in ``current`` (grids with ``manager``, e.g. the
    plan's own before a re-balance) goes where most of his hours are, the others fill
    the seats left in team order. Without an organisation every unit is ``""``.
    Raises :class:`InputError` when the team is too small or names unknown units."""
    settings = settings or OrgSettings()
    level = area_level(plan)
    if level is None:
        return pd.Series("", index=team.index, dtype=object)
    hours = _unit_hours(plan, level)
    hours = hours[hours.index != ""]
    counts = grid_units(plan, level).value_counts()
    # a unit with grids but no hours still needs someone to own its grids
    hours = hours.where(hours > 0, np.where(hours.index.map(counts).fillna(0) > 0, 1e-9, 0.0))
    names = unit_names(plan, level)
    given = team["unit"].fillna("").astype(str) if "unit" in team.columns else None
    if given is not None and (given != "").all():
        unknown = sorted(set(given) - set(hours.index))
        empty = sorted(set(hours.index[hours > 0]) - set(given))
        problems = []
        if unknown:
            problems.append(
                Problem(
                    f"the team names {len(unknown)} unknown {level} units {unknown[:5]}",
                    "team table, column unit",
                    f"use codes of the plan's {level} units: {sorted(hours.index)[:8]}",
                )
            )
        if empty:
            problems.append(
                Problem(
                    f"{len(empty)} {level} units with work have no manager: "
                    + ", ".join(f"{c} ({names.get(c, c)})" for c in empty[:5]),
                    "team table, column unit",
                    "give each of them at least one manager, or clear the unit column",
                )
            )
        if problems:
            raise InputError(problems)
        return given
    k = len(team)
    try:
        seats = apportion(hours.to_numpy(), k, settings.min_managers_per_unit)
    except ValueError:
        n = int((hours > 0).sum())
        raise InputError(
            Problem(
                f"a team of {k} community managers for {n} {level} units: each unit needs "
                f"at least {settings.min_managers_per_unit}",
                "team",
                f"add {n * settings.min_managers_per_unit - k} more (--managers / the team "
                "table) or form territories at a higher level of the organisation "
                "(--area-level)",
            )
        ) from None
    if current is not None:
        current = current.assign(_unit=grid_units(plan, level).to_numpy())
    codes = _seat_managers(team, hours.index.to_numpy(dtype=object), seats, current)
    return pd.Series(codes, index=team.index, dtype=object)


def area_units(plan: Plan) -> dict[str, str]:
    """Area name → the area-level unit code of its managers (``""`` without one)."""
    team = plan.managers
    if "area" not in team.columns or "unit" not in team.columns:
        return {}
    t = team[team["area"].astype(str) != ""]
    return dict(zip(t["area"].astype(str), t["unit"].fillna("").astype(str), strict=True))


_FIGURES = ("population", "customers", "spend", HOURS)


def _level_labels(plan: Plan, level: str) -> pd.Series:
    if level == "city":
        return pd.Series("city", index=plan.grids.index, dtype=object)
    if level == "area":
        area_of = plan.managers.set_index(plan.managers["manager"].astype(str))["area"]
        return plan.grids["manager"].astype(str).map(area_of).fillna("").astype(str)
    return grid_units(plan, level)


def org_rollup(plan: Plan, level: str) -> pd.DataFrame:
    """Every figure of the plan summed per unit of ``level`` (an organisation level,
    ``area`` or ``city``): ``code``, ``name``, ``parent`` (the unit of the level above,
    when it is one), ``n_grids``, ``n_managers`` (community managers owning its grids),
    ``n_areas``, ``population``, ``customers``, ``spend`` (CNY/month), ``hours_total``
    (community managers' hours/month) and the recommended headcount of every role
    (``hc_<role>``, staffed on the unit's own figures)."""
    g = plan.grids
    labels = _level_labels(plan, level)
    keep = labels != ""
    area = _level_labels(plan, "area")
    out = pd.DataFrame({"code": sorted(set(labels[keep]))})
    by = g[keep].groupby(labels[keep].to_numpy())
    out["name"] = out["code"].map(unit_names(plan, level)) if level in org_levels(plan) else ""
    out["name"] = out["name"].fillna(out["code"])
    levels = org_levels(plan)
    if level in levels and levels.index(level) > 0:
        up = grid_units(plan, levels[levels.index(level) - 1])
        parent = up[keep].groupby(labels[keep].to_numpy()).first()
        out["parent"] = out["code"].map(parent).fillna("")
    else:
        out["parent"] = ""
    out["n_grids"] = out["code"].map(by.size()).fillna(0).astype(int)
    man = g["manager"].astype(str)
    owners = man[keep & (man != "")].groupby(labels[keep & (man != "")].to_numpy()).nunique()
    out["n_managers"] = out["code"].map(owners).fillna(0).astype(int)
    areas = area[keep & (area != "")].groupby(labels[keep & (area != "")].to_numpy()).nunique()
    out["n_areas"] = out["code"].map(areas).fillna(0).astype(int)
    for col in _FIGURES:
        if col in g.columns:
            vals = pd.to_numeric(g[col], errors="coerce").fillna(0.0)
            out[col] = out["code"].map(vals[keep].groupby(labels[keep].to_numpy()).sum())
    hc = _headcount_of(plan, level)
    for role in ROLES:
        col = f"hc_{role.code}"
        out[col] = out["code"].map(hc.get(role.code, {})).fillna(0).astype(int)
    return out


def _headcount_of(plan: Plan, level: str) -> dict[str, dict[str, int]]:
    """Recommended headcount per role code → unit → persons at ``level``."""
    table = plan_headcount(plan)
    want = level if level in ("city", "area", "district") else unit_column(level)
    rows = table[table["level"].astype(str) == want]
    out: dict[str, dict[str, int]] = {}
    for code, unit, rec in zip(rows["role"], rows["unit"], rows["recommended"], strict=True):
        out.setdefault(str(code), {})[str(unit)] = int(rec) if not pd.isna(rec) else 0
    return out


def org_tables(plan: Plan) -> dict[str, pd.DataFrame]:
    """:func:`org_rollup` for the city, every organisation level and the areas, top → bottom."""
    levels = ["city", *org_levels(plan), "area"]
    return {lv: org_rollup(plan, lv) for lv in levels}


def units_from_cells(
    cells: gpd.GeoDataFrame, levels: Sequence[str], table: pd.DataFrame | None = None
) -> gpd.GeoDataFrame:
    """The plan's ``units`` layer: the cells dissolved per unit of every level (so the
    outlines match the grids exactly), with ``level``, ``code``, ``name`` and ``parent``
    (from ``table``'s rows — ``level``, ``code``, ``name``, ``parent`` — where given, else
    the cells' name columns and the unit of the level above)."""
    frames = []
    known = {}
    if table is not None and len(table):
        t = table.astype({"level": str, "code": str})
        known = {
            (lv, c): (str(n), str(p))
            for lv, c, n, p in zip(t["level"], t["code"], t["name"], t["parent"], strict=True)
        }
    for k, lv in enumerate(levels):
        col = unit_column(lv)
        if col not in cells.columns:
            continue
        sub = cells[cells[col].fillna("").astype(str) != ""]
        if sub.empty:
            continue
        d = sub[[col, "geometry"]].dissolve(by=col, as_index=False)
        codes = d[col].astype(str)
        first = sub.groupby(sub[col].astype(str)).first()
        ncol = unit_name_column(lv)
        up = unit_column(levels[k - 1]) if k > 0 else None
        names = [known.get((lv, c), (None, None))[0] for c in codes]
        parents = [known.get((lv, c), (None, None))[1] for c in codes]
        frames.append(
            gpd.GeoDataFrame(
                {
                    "level": lv,
                    "code": codes.to_numpy(),
                    "name": [
                        n if n else (str(first.at[c, ncol]) if ncol in first else c)
                        for n, c in zip(names, codes, strict=True)
                    ],
                    "parent": [
                        p if p is not None else (str(first.at[c, up]) if up in first else "")
                        for p, c in zip(parents, codes, strict=True)
                    ],
                },
                geometry=d.geometry.to_numpy(),
                crs=cells.crs,
            )
        )
    if not frames:
        return gpd.GeoDataFrame({"level": [], "code": [], "name": [], "parent": []},
                                geometry=[], crs=cells.crs)  # fmt: skip
    return gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=cells.crs)


def unit_of_area_names(plan: Plan, n_per_unit: Mapping[str, int]) -> dict[str, list[str]]:
    """Area names per area-level unit: ``"<unit name> A<i>"`` (``"A<i>"`` without one)."""
    level = area_level(plan)
    names = unit_names(plan, level) if level else {}
    out: dict[str, list[str]] = {}
    for unit, n in n_per_unit.items():
        stem = f"{names.get(unit, unit)} " if unit else ""
        out[unit] = [f"{stem}A{i + 1}" for i in range(int(n))]
    return out


def ceil_div(a: int, b: int) -> int:
    """``ceil(a / b)`` for positive integers (at least 1)."""
    return max(1, math.ceil(a / max(b, 1)))
