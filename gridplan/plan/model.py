"""A plan: the city's cells cut into grids, the grids shared among managers, in one object.

A :class:`Plan` is what the app edits, the workspace saves and the exports write. It
holds the *primary* data only — cells with their grid, grids with their figures,
workload and manager, the team — and derives everything else on demand
(:func:`territories`, :func:`areas`, :func:`manager_table`,
:func:`customer_attribution`), so nothing can go stale after an edit.

All geometries are in the plan's work CRS (projected, metres); exports reproject.

Columns (beyond geometry):

- ``cells``: ``cell_id``, ``grid_id``, ``district`` and the aggregated figures
  (``population``, ``customers``, ``cust_<segment>``, ``spend`` CNY/month,
  ``coverage`` 0..1, ``area_km2``).
- ``grids``: ``grid_id``, ``district``, ``grid_type``, summed figures, ``area_km2``,
  ``hours_total`` (workload, hours/month), ``manager`` (name or ``""``).
- ``managers``: ``manager`` (unique name), ``capacity_h`` (hours/month), optional
  ``home_x``/``home_y`` (work CRS, metres) and ``area`` (area team name or ``""``).
- ``customers`` (optional): points with ``customer_id``, ``segment``, ``spend`` and
  ``cell_id`` (the cell the customer is attributed to; ``-1``/missing = none).
- ``sites``, ``districts`` (optional): the input layers, for maps.
- ``units`` (optional): the operator's organisation units (``level``, ``code``, ``name``,
  ``parent``, polygon), with their levels in ``meta['org_levels']``; grids and cells then
  carry ``unit_<level>`` (code) and ``unit_<level>_name`` (see :mod:`gridplan.plan.organisation`).
- ``staff`` (optional): the people of the other roles — ``person``, ``role``, ``area``,
  ``unit`` and ``supports`` (a marketing manager's community managers, comma-separated).
- ``meta``: text key/value pairs (``city``, ``tolerance``, ``created``, ``synthetic``…).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from gridplan.atomic import atomic_path
from gridplan.errors import InputError, Problem
from gridplan.workload import HOURS as WORKLOAD_HOURS
from gridplan.workload import WorkloadConfig, default_workload_config, role_headcount

__all__ = [
    "PLAN_LAYERS",
    "Plan",
    "areas",
    "customer_attribution",
    "load_plan",
    "manager_table",
    "plan_headcount",
    "reassign",
    "save_plan",
    "territories",
]

#: Layers of a plan GeoPackage, in writing order (tables ``managers`` and ``plan_meta`` too).
PLAN_LAYERS: tuple[str, ...] = (
    "cells",
    "grids",
    "territories",
    "areas",
    "districts",
    "units",
    "sites",
    "customers",
)

#: The workload column of ``grids`` (hours/month): the community manager's hours, which
#: territories balance (the other roles' hours are beside it, see gridplan.workload).
HOURS = WORKLOAD_HOURS  # the workload column of grids (gridplan.workload.HOURS)


@dataclass(frozen=True, eq=False)
class Plan:
    """One named plan (see the module docstring for the columns)."""

    name: str
    cells: gpd.GeoDataFrame
    grids: gpd.GeoDataFrame
    managers: pd.DataFrame
    customers: gpd.GeoDataFrame | None = None
    sites: gpd.GeoDataFrame | None = None
    districts: gpd.GeoDataFrame | None = None
    meta: Mapping[str, str] = field(default_factory=dict)
    units: gpd.GeoDataFrame | None = None
    staff: pd.DataFrame | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "meta", MappingProxyType(dict(self.meta)))

    @property
    def crs(self) -> Any:
        """The work CRS (projected, metres)."""
        return self.grids.crs

    @property
    def tolerance(self) -> float:
        """Workload tolerance of the plan (fraction of the target, e.g. 0.03)."""
        return float(self.meta.get("tolerance", "0.05"))

    def with_(self, **changes: Any) -> Plan:
        """A copy with some fields replaced."""
        return replace(self, **changes)


# ------------------------------------------------------------------ derived tables


def _area_unit_column(plan: Plan) -> str | None:
    """The grids' column of the organisation level that territories are formed in, when
    the plan has one and every manager has a unit there (see gridplan.plan.organisation)."""
    levels = [x.strip() for x in str(plan.meta.get("org_levels", "")).split(",") if x.strip()]
    level = str(plan.meta.get("area_level", "")).strip()
    if level not in levels and level != "city" and levels:  # the default area level
        level = levels[-2] if len(levels) > 1 else levels[-1]
    col = f"unit_{level}" if level else ""
    team = plan.managers
    if not col or col not in plan.grids.columns or "unit" not in team.columns or team.empty:
        return None
    return col if (team["unit"].fillna("").astype(str) != "").all() else None


def _capacity_shares(team: pd.DataFrame) -> pd.Series:
    cap = pd.to_numeric(team.get("capacity_h"), errors="coerce") if len(team) else None
    if cap is None or cap.isna().all() or float(cap.fillna(0).sum()) <= 0:
        return pd.Series(1.0 / max(len(team), 1), index=team.index)
    cap = cap.fillna(cap.median())
    return cap / float(cap.sum())


def manager_targets(plan: Plan) -> pd.Series:
    """Target workload per manager (hours/month): the total shared by capacity — the
    total of the manager's organisation unit when the plan's territories are formed
    inside units (each manager has a ``unit``), else the city's."""
    team = plan.managers.set_index("manager")
    hours = pd.to_numeric(plan.grids[HOURS], errors="coerce").fillna(0)
    col = _area_unit_column(plan)
    if col is None:
        return (_capacity_shares(team) * float(hours.sum())).rename("target_h")
    unit_hours = hours.groupby(plan.grids[col].fillna("").astype(str).to_numpy()).sum()
    units = team["unit"].fillna("").astype(str)
    out = pd.Series(0.0, index=team.index)
    for unit, members in team.groupby(units.to_numpy(), sort=False):
        share = _capacity_shares(members)
        out.loc[members.index] = (share * float(unit_hours.get(unit, 0.0))).to_numpy()
    return out.rename("target_h")


def manager_table(plan: Plan) -> pd.DataFrame:
    """One row per manager: ``manager``, ``area``, ``capacity_h``, ``hours`` (workload,
    hours/month), ``target_h``, ``deviation`` ((hours - target) / target), ``within``
    (inside the plan's tolerance), ``n_grids``, ``population``, ``customers``,
    ``spend`` (CNY/month) and ``grids`` (their ids, comma-separated); ``unit`` (the
    organisation unit the manager works in) after ``area`` when the team has one."""
    g = plan.grids
    team = plan.managers.copy()
    by = g.groupby("manager", sort=False)
    hours = by[HOURS].sum() if HOURS in g.columns else pd.Series(dtype=float)
    out = pd.DataFrame({"manager": team["manager"].to_numpy()})
    out["area"] = team["area"].to_numpy() if "area" in team.columns else ""
    if "unit" in team.columns:
        out["unit"] = team["unit"].fillna("").astype(str).to_numpy()
    out["capacity_h"] = team["capacity_h"].to_numpy() if "capacity_h" in team.columns else np.nan
    out["hours"] = out["manager"].map(hours).fillna(0.0).to_numpy(float)
    out["target_h"] = out["manager"].map(manager_targets(plan)).to_numpy(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        out["deviation"] = np.where(
            out["target_h"] > 0, out["hours"] / out["target_h"] - 1.0, np.nan
        )
    out["within"] = out["deviation"].abs() <= plan.tolerance + 1e-9
    out["n_grids"] = out["manager"].map(by.size()).fillna(0).astype(int)
    for col in ("population", "customers", "spend"):
        if col in g.columns:
            out[col] = out["manager"].map(by[col].sum()).fillna(0.0)
    ids = by["grid_id"].agg(lambda s: ",".join(map(str, s)))
    out["grids"] = out["manager"].map(ids).fillna("")
    return out


def _dissolve(grids: gpd.GeoDataFrame, key: str, figures: Iterable[str]) -> gpd.GeoDataFrame:
    cols = [c for c in figures if c in grids.columns]
    g = grids[[key, *cols, "geometry"]].copy()
    g = g[g[key].astype(str) != ""]
    if g.empty:  # e.g. grids without managers yet, right after a partition
        empty = {key: pd.Series(dtype=object), **{c: pd.Series(dtype=float) for c in cols}}
        return gpd.GeoDataFrame(
            {**empty, "n_grids": pd.Series(dtype=int)}, geometry=[], crs=grids.crs
        )
    out = g.dissolve(by=key, aggfunc="sum", as_index=False)
    out["n_grids"] = out[key].map(g.groupby(key).size()).astype(int)
    return out


def territories(plan: Plan) -> gpd.GeoDataFrame:
    """Territories: the grids of each manager dissolved, with the manager table's figures."""
    diss = _dissolve(plan.grids, "manager", ())
    table = manager_table(plan).drop(columns=["n_grids"])
    return diss.merge(table, on="manager", how="left")[
        [*table.columns, "n_grids", "geometry"]
    ].pipe(gpd.GeoDataFrame, geometry="geometry", crs=plan.crs)


def areas(plan: Plan) -> gpd.GeoDataFrame:
    """Areas (区域): territories grouped by the managers' ``area``, dissolved, with
    ``hours`` (hours/month), ``n_managers`` and summed figures; ``unit`` (the
    organisation unit of its managers) and ``area_manager`` (from the plan's staff) when
    the plan has them."""
    if "area" not in plan.managers.columns:
        return gpd.GeoDataFrame({"area": []}, geometry=[], crs=plan.crs)
    area_of = plan.managers.set_index("manager")["area"]
    g = plan.grids.assign(area=plan.grids["manager"].map(area_of).fillna(""))
    out = _dissolve(g, "area", (HOURS, "population", "customers", "spend"))
    out = out.rename(columns={HOURS: "hours"})
    n_man = plan.managers[plan.managers["area"].astype(str) != ""].groupby("area").size()
    out["n_managers"] = out["area"].map(n_man).fillna(0).astype(int)
    if "unit" in plan.managers.columns:
        unit_of = plan.managers.groupby("area")["unit"].first()
        out.insert(1, "unit", out["area"].map(unit_of).fillna("").astype(str))
    staff = plan.staff
    if staff is not None and len(staff) and {"role", "area", "person"} <= set(staff.columns):
        lead = staff[staff["role"].astype(str) == "area_manager"].groupby("area")["person"]
        out.insert(1, "area_manager", out["area"].map(lead.first()).fillna("").astype(str))
    return out


def plan_headcount(
    plan: Plan, workload: WorkloadConfig | None = None, *, cm_capacity_h: float | None = None
) -> pd.DataFrame:
    """Headcount per role for the city, each district, each organisation unit (levels
    ``unit_<level>``) and each area (区域) of the plan
    (:func:`gridplan.workload.role_headcount`; the area of a grid is its manager's).

    The community manager's hours are the plan's :data:`HOURS` (what was balanced); their
    capacity is ``cm_capacity_h`` (hours/month), else the team's median ``capacity_h``,
    else that of ``workload`` (default: the bundled standards)."""
    cfg = workload or default_workload_config()
    if cm_capacity_h is None and "capacity_h" in plan.managers.columns:
        cap = pd.to_numeric(plan.managers["capacity_h"], errors="coerce").dropna()
        cm_capacity_h = float(cap.median()) if len(cap) and cap.median() > 0 else None
    if cm_capacity_h is not None:
        cfg = replace(cfg, cm_capacity_h=float(cm_capacity_h))
    g = plan.grids
    area_of = (
        plan.managers.set_index("manager")["area"]
        if "area" in plan.managers.columns
        else pd.Series(dtype=object)
    )
    area = g["manager"].map(area_of) if "manager" in g.columns else None
    district = g["district"] if "district" in g.columns else None
    levels = [x.strip() for x in str(plan.meta.get("org_levels", "")).split(",") if x.strip()]
    units = {f"unit_{lv}": g[f"unit_{lv}"] for lv in levels if f"unit_{lv}" in g.columns}
    return role_headcount(g, cfg, district=district, area=area, units=units)


def customer_attribution(plan: Plan) -> pd.DataFrame:
    """Customer → cell → grid → manager → area, one row per customer.

    Columns ``customer_id``, ``segment``, ``spend`` (CNY/month), ``cell_id``, ``grid_id``,
    ``manager``, ``area`` and, with an organisation, ``unit_<level>`` and
    ``unit_<level>_name`` of every level (empty text where a customer lies in no cell)."""
    cols = ["customer_id", "segment", "spend", "cell_id", "grid_id", "manager", "area"]
    if plan.customers is None or plan.customers.empty:
        return pd.DataFrame(columns=cols)
    c = pd.DataFrame(plan.customers.drop(columns="geometry", errors="ignore"))
    grid_of = plan.cells.set_index("cell_id")["grid_id"]
    man_of = plan.grids.set_index("grid_id")["manager"]
    area_of = (
        plan.managers.set_index("manager")["area"]
        if "area" in plan.managers.columns
        else pd.Series(dtype=object)
    )
    out = pd.DataFrame(
        {
            "customer_id": c["customer_id"].to_numpy(),
            "segment": c["segment"].to_numpy(),
            "spend": c["spend"].to_numpy(),
            "cell_id": c["cell_id"].to_numpy(),
        }
    )
    out["grid_id"] = out["cell_id"].map(grid_of).fillna("").astype(str)
    out["manager"] = out["grid_id"].map(man_of).fillna("").astype(str)
    out["area"] = out["manager"].map(area_of).fillna("").astype(str)
    levels = [x.strip() for x in str(plan.meta.get("org_levels", "")).split(",") if x.strip()]
    g = plan.grids.set_index("grid_id")
    for lv in levels:
        for col in (f"unit_{lv}", f"unit_{lv}_name"):
            if col in g.columns:
                out[col] = out["grid_id"].map(g[col]).fillna("").astype(str)
    return out


# ------------------------------------------------------------------ edits


def reassign(plan: Plan, grid_ids: Iterable[Any], manager: str) -> Plan:
    """A copy of ``plan`` with the given grids moved to ``manager`` (a name in the team)."""
    ids = list(grid_ids)
    if manager not in set(plan.managers["manager"]):
        raise InputError(
            Problem(
                f"no manager {manager!r} in the team",
                "reassign",
                f"pick one of {list(plan.managers['manager'])[:10]}",
            )
        )
    known = set(plan.grids["grid_id"])
    missing = [i for i in ids if i not in known]
    if missing:
        raise InputError(
            Problem(f"unknown grid ids {missing[:5]}", "reassign", "pick grids of this plan")
        )
    grids = plan.grids.copy()
    grids.loc[grids["grid_id"].isin(ids), "manager"] = manager
    return plan.with_(grids=grids)


# ------------------------------------------------------------------ files


def check_plan_tables(plan: Plan) -> None:
    """Raise :class:`InputError` when a table lacks its key columns or grid ids repeat."""
    problems = []
    for name, frame, cols in (
        ("cells", plan.cells, ("cell_id", "grid_id")),
        ("grids", plan.grids, ("grid_id", "manager")),
        ("managers", plan.managers, ("manager",)),
    ):
        missing = [c for c in cols if c not in frame.columns]
        if missing:
            problems.append(
                Problem(f"the {name} table has no column {missing}", "plan", "rebuild the plan")
            )
    if not problems and plan.grids["grid_id"].duplicated().any():
        problems.append(Problem("duplicate grid ids", "plan grids", "give every grid its own id"))
    if problems:
        raise InputError(problems)


def save_plan(plan: Plan, path: str | Path) -> Path:
    """Write the plan to one GeoPackage, atomically (work CRS).

    Layers: ``cells``, ``grids``, ``territories``, ``areas`` (derived, for GIS users),
    ``districts``, ``units``, ``sites``, ``customers`` when present, and the tables
    ``managers``, ``staff`` (when present) and ``plan_meta`` (``key``, ``value``; the
    name is under ``name``)."""
    import pyogrio

    check_plan_tables(plan)
    path = Path(path)
    meta = {"name": plan.name, **dict(plan.meta)}
    with atomic_path(path) as tmp:
        layers: dict[str, gpd.GeoDataFrame | None] = {
            "cells": plan.cells,
            "grids": plan.grids,
            "territories": territories(plan),
            "areas": areas(plan),
            "districts": plan.districts,
            "units": plan.units,
            "sites": plan.sites,
            "customers": plan.customers,
        }
        for name, frame in layers.items():
            if frame is None or len(frame) == 0:
                continue
            frame.to_file(tmp, layer=name, driver="GPKG")
        pyogrio.write_dataframe(pd.DataFrame(plan.managers), tmp, layer="managers")
        if plan.staff is not None and len(plan.staff):
            pyogrio.write_dataframe(pd.DataFrame(plan.staff), tmp, layer="staff")
        table = pd.DataFrame({"key": list(meta), "value": [str(v) for v in meta.values()]})
        pyogrio.write_dataframe(table, tmp, layer="plan_meta")
    return path


def load_plan(path: str | Path) -> Plan:
    """Read a plan GeoPackage written by :func:`save_plan`."""
    import pyogrio

    path = Path(path)
    if not path.is_file():
        raise InputError(
            Problem(f"no plan file {path.name!r}", str(path), "give the path of a saved plan")
        )
    try:
        names = {str(row[0]) for row in pyogrio.list_layers(path)}
    except Exception as exc:  # any reader failure means: not a plan
        raise InputError(
            Problem(
                f"cannot read {path.name!r} as a GeoPackage ({exc})",
                str(path),
                "give a plan saved by gridplan (.gpkg)",
            )
        ) from None
    need = {"cells", "grids", "managers", "plan_meta"}
    if not need <= names:
        raise InputError(
            Problem(
                f"{path.name!r} is not a gridplan plan: layers {sorted(need - names)} missing",
                str(path),
                "save the plan from the app or with `gridplan demo`",
            )
        )

    def read(name: str) -> Any:
        if name not in names:
            return None
        frame = pyogrio.read_dataframe(path, layer=name)
        return frame

    meta_t = read("plan_meta")
    meta = dict(zip(meta_t["key"].astype(str), meta_t["value"].astype(str), strict=True))
    name = meta.pop("name", path.stem)
    managers = pd.DataFrame(read("managers"))
    grids = read("grids")
    grids["manager"] = grids["manager"].fillna("").astype(str)
    return Plan(
        name=name,
        cells=read("cells"),
        grids=grids,
        managers=managers,
        customers=read("customers"),
        sites=read("sites"),
        districts=read("districts"),
        meta=meta,
        units=read("units"),
        staff=_text_table(read("staff")),
    )


def _text_table(frame: Any) -> pd.DataFrame | None:
    """A read table with its text columns as text ('' for missing), or ``None``."""
    if frame is None:
        return None
    out = pd.DataFrame(frame)
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].fillna("").astype(str)
    return out


def plan_summary(plan: Plan) -> dict[str, Any]:
    """Headline figures of a plan (JSON-friendly)."""
    table = manager_table(plan)
    return {
        "name": plan.name,
        "cells": len(plan.cells),
        "grids": len(plan.grids),
        "managers": len(plan.managers),
        HOURS: float(table["hours"].sum()),
        "max_deviation": float(table["deviation"].abs().max()) if len(table) else 0.0,
        "all_within_tolerance": bool(table["within"].all()) if len(table) else True,
        "unassigned_grids": int((plan.grids["manager"].astype(str) == "").sum()),
        "meta": json.loads(json.dumps(dict(plan.meta))),
    }
