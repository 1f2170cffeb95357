"""The app's engine calls, step by step: a plan from a partition (grids, no managers
yet), the team as the planner edits it, balancing a plan among a team, local re-balance
around broken territories, a re-partition of selected grids.

:func:`gridplan.pipeline.make_plan` runs the same steps in one go for the CLI; here
each step is separate so the planner can edit between them. Workload is in
hours/month; coordinates in the plan's work CRS (metres).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from gridplan.balance import (
    BalanceConfig,
    BalanceReport,
    ReachBound,
    reach_round,
    reachable_bound,
)
from gridplan.cells.build import CellSet
from gridplan.errors import GridplanError
from gridplan.layers.crs import WGS84
from gridplan.layers.model import Layers
from gridplan.partition import PartitionConfig, PartitionResult, partition_cells
from gridplan.plan.balancing import balance_plan
from gridplan.plan.model import HOURS, Plan
from gridplan.plan.organisation import org_meta, units_from_cells
from gridplan.plan.rules import grid_edge_pairs
from gridplan.progress import ProgressCallback, no_progress
from gridplan.workload import WorkloadConfig, default_workload_config, grid_workload

__all__ = [
    "apply_team",
    "balance_plan",
    "default_capacity_h",
    "default_team",
    "neighbour_managers",
    "plan_from_partition",
    "rebalance_around",
    "repartition_grids",
    "split_heavy_grids",
    "tolerance_bound",
]


def default_capacity_h() -> float:
    """A manager's customer-work hours per month by default: the
    :class:`~gridplan.workload.WorkloadConfig` defaults (160 h x 0.8 = 128 h)."""
    return WorkloadConfig(standards=()).capacity_h


def default_team(hours_total: float, capacity_h: float, n: int | None = None) -> pd.DataFrame:
    """A team of ``n`` managers (default: the headcount ``hours_total / capacity_h``
    rounded up) named CM01, CM02 … with ``capacity_h`` hours/month each."""
    k = n or max(1, math.ceil(hours_total / capacity_h - 1e-9))
    width = max(2, len(str(k)))
    names = [f"CM{i + 1:0{width}d}" for i in range(k)]
    return pd.DataFrame({"manager": names, "capacity_h": float(capacity_h), "area": ""})


def plan_from_partition(
    cellset: CellSet,
    part: PartitionResult,
    layers: Layers,
    *,
    name: str = "plan",
    tolerance: float = 0.03,
    floors: Mapping[str, float] | None = None,
    workload: WorkloadConfig | None = None,
    area_level: str | None = None,
    respect_units: bool = True,
) -> Plan:
    """A plan of the partition's grids with their workload and no manager yet; the team
    is the suggested headcount at the workload config's capacity. With the layers'
    organisation the plan records its levels, ``area_level`` (the level territories and
    areas are formed in; default the level above the lowest) and whether the partition
    had to respect the lowest units, and holds the units layer."""
    wcfg = workload or default_workload_config()
    grids = part.grids.copy()
    hours = grid_workload(grids, wcfg)
    for col in hours.columns:
        grids[col] = hours[col].to_numpy()
    grids["manager"] = ""
    cells = cellset.cells.copy()
    cells["grid_id"] = part.assignment.to_numpy()
    customers = None
    if layers.customers is not None and cellset.customer_cell is not None:
        cc = np.asarray(cellset.customer_cell)
        ids = cells["cell_id"].to_numpy(dtype=object)
        customers = layers.customers[["customer_id", "segment", "spend", "geometry"]].copy()
        customers["cell_id"] = np.where(cc >= 0, ids[np.clip(cc, 0, None)], None)
    meta = {
        "city": layers.name,
        "tolerance": repr(float(tolerance)),
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "synthetic_layers": ",".join(layers.synthetic),
        "crs": cells.crs.to_string() if cells.crs is not None else "",
        "floors": ";".join(f"{k}={v:g}" for k, v in dict(floors or {}).items()),
    }
    team = team_with_homes(
        default_team(float(grids[HOURS].sum()), wcfg.capacity_h), layers.home_bases, cells.crs
    )
    org = getattr(layers, "organisation", None)
    units = None
    if org is not None and org.levels:
        meta.update(org_meta(org.levels, getattr(org, "labels", None), area_level))
        meta["respect_units"] = "true" if respect_units else "false"
        # grids inside the lowest units dissolve to the same outlines, ten times faster
        inside = respect_units and all(f"unit_{lv}" in grids.columns for lv in org.levels)
        units = units_from_cells(grids if inside else cells, org.levels, org.units)
    return Plan(
        name=name,
        cells=cells,
        grids=gpd.GeoDataFrame(grids, geometry="geometry", crs=part.grids.crs),
        managers=team,
        customers=customers,
        sites=layers.sites,
        districts=layers.districts,
        meta=meta,
        units=units,
    )


def plan_floors(plan: Plan) -> dict[str, float]:
    """The floors recorded in the plan's meta (``population=5000;customers=30``)."""
    out: dict[str, float] = {}
    for part in str(plan.meta.get("floors", "")).split(";"):
        if "=" in part:
            k, v = part.split("=", 1)
            try:
                out[k.strip()] = float(v)
            except ValueError:
                continue
    return out


def team_with_homes(team: pd.DataFrame, home_bases: Any, crs: Any) -> pd.DataFrame:
    """The team with the home bases of the uploaded layer (points with ``manager``) in
    ``crs`` (the work CRS, metres) as ``home_x``/``home_y``: a manager of the team gets
    the home of the same name; the layer's other managers take the places of the
    default names (CM01 …) in order, then join the team (default capacity). A team
    manager without a point keeps their home (or none)."""
    if home_bases is None or len(home_bases) == 0 or "manager" not in home_bases.columns:
        return team
    pts = home_bases.to_crs(crs) if crs is not None and home_bases.crs is not None else home_bases
    pts = pts[pts.geometry.notna() & ~pts.geometry.is_empty]
    homes = {
        str(m).strip(): (float(g.x), float(g.y))
        for m, g in zip(pts["manager"], pts.geometry, strict=True)
        if str(m).strip()
    }
    team = team.reset_index(drop=True).copy()
    names = team["manager"].astype(str).tolist()
    new = [m for m in homes if m not in names]
    default = [
        i for i, m in enumerate(names) if m.startswith("CM") and m[2:].isdigit() and m not in homes
    ]
    for i, m in zip(default, new, strict=False):
        team.loc[i, "manager"] = m
    extra = new[len(default) :]
    if extra:
        cap = float(team["capacity_h"].median()) if len(team) else default_capacity_h()
        more = pd.DataFrame({"manager": extra, "capacity_h": cap, "area": ""})
        team = pd.concat([team, more], ignore_index=True)
    for col in ("home_x", "home_y"):
        if col not in team.columns:
            team[col] = np.nan
    for i, m in enumerate(team["manager"].astype(str)):
        if m in homes:
            team.loc[i, ["home_x", "home_y"]] = list(homes[m])
    return team


def neighbour_managers(plan: Plan, edges: np.ndarray, managers: Iterable[str]) -> list[str]:
    """The given managers and every manager whose territory touches theirs."""
    want = {str(m) for m in managers}
    man = plan.grids["manager"].fillna("").astype(str).to_numpy()
    pairs = grid_edge_pairs(plan, edges)
    a, b = man[pairs[:, 0]], man[pairs[:, 1]]
    near = set(b[np.isin(a, list(want))]) | set(a[np.isin(b, list(want))])
    return sorted((want | near) - {""})


def rebalance_around(
    plan: Plan,
    edges: np.ndarray,
    managers: Iterable[str],
    config: BalanceConfig,
    *,
    progress: ProgressCallback = no_progress,
) -> tuple[Plan, BalanceReport]:
    """One-click repair: re-balance only the territories of ``managers`` and their
    neighbours, with minimum disruption (every other grid and every locked grid keeps
    its manager)."""
    from gridplan.plan.edits import locked_grids

    near = set(neighbour_managers(plan, edges, managers))
    man = plan.grids["manager"].fillna("").astype(str)
    free = plan.grids.loc[man.isin(near) | (man == ""), "grid_id"].astype(str)
    previous = dict(zip(plan.grids["grid_id"].astype(str), man, strict=True))
    return balance_plan(
        plan,
        edges,
        config,
        locks=locked_grids(plan),
        previous=previous,
        grid_ids=list(free),
        managers_per_area=0,
        progress=progress,
    )


def headcount_note(hours_total: float, capacity_h: float) -> dict[str, Any]:
    """Suggested headcount: ``managers`` (rounded up) and ``exact`` for the workload
    ``hours_total`` hours/month at ``capacity_h`` hours/month per manager."""
    exact = hours_total / capacity_h if capacity_h > 0 else math.inf
    return {"managers": max(1, math.ceil(exact - 1e-9)), "exact": exact}


__all__ += ["headcount_note", "plan_floors", "team_with_homes"]


def _homes_from_lonlat(plan: Plan, lon: pd.Series, lat: pd.Series) -> tuple[Any, Any]:
    """Home coordinates in the plan's work CRS (metres) from longitude/latitude (EPSG:4326);
    NaN where either is missing."""
    from pyproj import Transformer

    tr = Transformer.from_crs(WGS84, plan.crs, always_xy=True)
    x, y = tr.transform(lon.fillna(0).to_numpy(float), lat.fillna(0).to_numpy(float))
    both = lon.notna() & lat.notna()
    return np.where(both, x, np.nan), np.where(both, y, np.nan)


def apply_team(plan: Plan, edited: pd.DataFrame) -> Plan:
    """The plan with an edited team table (columns ``manager``, ``capacity_h``
    (hours/month), ``area``, ``home_lon``, ``home_lat``, optionally ``unit``; one row
    per manager, rows in the order of ``plan.managers``).

    Rows without a name are dropped; a renamed manager keeps their grids (matched by
    row), a removed manager's grids become unassigned; a blank capacity is the default
    (:func:`default_capacity_h`); homes are given in lon/lat and kept in the work CRS.
    Two managers with the same name are a :class:`~gridplan.errors.GridplanError`."""
    old = plan.managers["manager"].astype(str).tolist()
    edited = edited[edited["manager"].astype(str).str.strip() != ""].copy()
    edited["manager"] = edited["manager"].astype(str).str.strip()
    if edited["manager"].duplicated().any():
        raise GridplanError("two managers have the same name: give every manager their own name")
    rename = {
        old[i]: edited.loc[i, "manager"]
        for i in edited.index
        if isinstance(i, int | np.integer) and 0 <= i < len(old)
    }
    grids = plan.grids.copy()
    grids["manager"] = grids["manager"].astype(str).map(lambda m: rename.get(m, "")).fillna("")
    team = pd.DataFrame(
        {
            "manager": edited["manager"].to_numpy(),
            "capacity_h": pd.to_numeric(edited["capacity_h"], errors="coerce")
            .fillna(default_capacity_h())
            .to_numpy(),
            "area": edited["area"].fillna("").astype(str).to_numpy(),
        }
    )
    if "unit" in edited.columns:  # the organisation unit the planner put the manager in
        team["unit"] = edited["unit"].fillna("").astype(str).to_numpy()
    lon = pd.to_numeric(edited["home_lon"], errors="coerce")
    lat = pd.to_numeric(edited["home_lat"], errors="coerce")
    if lon.notna().any():
        team["home_x"], team["home_y"] = _homes_from_lonlat(plan, lon, lat)
    return plan.with_(managers=team, grids=grids)


def repartition_grids(
    plan: Plan, adjacency: Any, grid_ids: Iterable[str], config: PartitionConfig
) -> Plan:
    """The plan with the cells of ``grid_ids`` cut into grids again under ``config``;
    every other grid stays as it is, locked grids included (``adjacency``: the cells'
    CSR adjacency)."""
    from gridplan.plan.edits import apply_cell_grids, locked_grids

    sel = {str(g) for g in grid_ids}
    cg = plan.cells["grid_id"].astype(str)
    subset = cg.isin(sel).to_numpy()
    locked = locked_grids(plan)
    lk = cg.where(cg.isin(set(locked) - sel))
    lk = lk.where(lk.notna(), np.nan)
    part = partition_cells(
        plan.cells.drop(columns=["grid_id"]),
        adjacency,
        config,
        locked_grids=lk,
        subset=subset,
        current=cg,
    )
    return apply_cell_grids(plan, part.assignment)


def tolerance_bound(plan: Plan) -> ReachBound:
    """What the plan's grids allow before any search (instant): a lower bound on the
    max deviation any balance of ``plan.managers`` can reach (share of the target), from
    the heaviest grid against the largest target and each manager's locked grids (a
    tolerance below ``bound.tolerance`` is out of reach). Islands are linked by the
    balance, so parts without neighbours do not bound it here."""
    from gridplan.plan.edits import locked_grids
    from gridplan.plan.model import manager_targets

    w = pd.to_numeric(plan.grids[HOURS], errors="coerce").fillna(0.0).to_numpy(float)
    targets = manager_targets(plan)
    names = [str(m) for m in targets.index]
    gid = plan.grids["grid_id"].astype(str).tolist()
    locks = np.full(len(gid), -1, dtype=np.int64)
    pos = {m: d for d, m in enumerate(names)}
    for g, m in locked_grids(plan).items():
        if g in gid and str(m) in pos:
            locks[gid.index(g)] = pos[str(m)]
    comp = np.zeros(len(gid), dtype=np.int64)
    return reachable_bound(w, comp, targets.to_numpy(float), locks, gid, names, "grid")


def reachable_tolerance(plan: Plan) -> float:
    """The smallest tolerance a planner can ask for with these grids and this team
    (:func:`tolerance_bound` rounded up to 0.1 %; 0 when no bound bites)."""
    return reach_round(tolerance_bound(plan).tolerance)


def heavy_grids(plan: Plan, tolerance: float) -> list[str]:
    """Ids of the grids too heavy for ``tolerance``: above the largest manager target ×
    (1 + tolerance) (hours/month), heaviest first; locked grids are left out (a
    re-partition keeps them)."""
    from gridplan.plan.edits import locked_grids
    from gridplan.plan.model import manager_targets

    w = pd.to_numeric(plan.grids[HOURS], errors="coerce").fillna(0.0)
    limit = float(manager_targets(plan).max()) * (1 + tolerance)
    locked = set(locked_grids(plan))
    gid = plan.grids["grid_id"].astype(str)
    order = np.argsort(-w.to_numpy(float), kind="stable")
    return [gid.iloc[i] for i in order if w.iloc[i] > limit and gid.iloc[i] not in locked]


def split_heavy_grids(
    plan: Plan,
    adjacency: Any,
    tolerance: float,
    *,
    config: PartitionConfig | None = None,
    rounds: int = 4,
) -> tuple[Plan, list[str]]:
    """The one-click repair of an unreachable tolerance: the grids heavier than the
    largest target × (1 + ``tolerance``) are re-partitioned with lower floors (the
    plan's floors, halved each round, at most ``rounds`` times) until none is left or
    a grid cannot be cut (one cell). Every other grid stays as it is; new grids take
    the manager who held most of their cells. ``adjacency``: the cells' CSR adjacency.
    Returns the plan and notes for the planner (what was split, what is still too
    heavy and why)."""
    base = config or PartitionConfig(time_limit_s=10.0)
    floors = plan_floors(plan) or dict(base.floors)
    notes: list[str] = []
    first = heavy_grids(plan, tolerance)
    if not first:
        return plan, ["no grid is heavier than a target: nothing to split"]
    todo = first
    for r in range(rounds):
        factor = 0.5 ** (r + 1)
        cfg = replace(base, floors={k: v * factor for k, v in floors.items()})
        plan = repartition_grids(plan, adjacency, todo, cfg)
        todo = heavy_grids(plan, tolerance)
        if not todo:
            break
    lim = _target_limit(plan, tolerance)
    notes.append(
        f"split {len(first)} grid(s) heavier than {lim:,.1f} h/month ("
        + ", ".join(first[:5])
        + ("…" if len(first) > 5 else "")
        + f") with floors down to {factor:.0%} of the plan's; balance again"
    )
    if todo:
        cells = plan.cells["grid_id"].astype(str).value_counts()
        single = [g for g in todo if int(cells.get(g, 0)) <= 1]
        notes.append(
            f"{len(todo)} grid(s) are still heavier than {lim:,.1f} h/month ("
            + ", ".join(todo[:5])
            + ")"
            + (
                f"; {len(single)} of them are a single cell: build finer cells (a higher "
                "lattice resolution) or raise the tolerance"
                if single
                else ": split them by hand or raise the tolerance"
            )
        )
    return plan, notes


def _target_limit(plan: Plan, tolerance: float) -> float:
    from gridplan.plan.model import manager_targets

    return float(manager_targets(plan).max()) * (1 + tolerance)


__all__ += ["heavy_grids", "reachable_tolerance"]
