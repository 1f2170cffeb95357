"""The GeoDataFrame wrapper :func:`balance_grids` (grids in a projected CRS, metres)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from gridplan._balance.adjacency import _link_islands, geometry_adjacency
from gridplan._balance.arrays import balance_arrays
from gridplan._balance.config import BalanceConfig
from gridplan._balance.inputs import _adjacency_edges, _by_id, _problem
from gridplan._balance.results import BalanceResult
from gridplan.graph import csr_from_edges
from gridplan.progress import ProgressCallback, no_progress

__all__ = ["balance_grids"]


def balance_grids(
    grids: Any,
    adjacency: Any = None,
    config: BalanceConfig | None = None,
    managers: pd.DataFrame | None = None,
    locks: Mapping[Any, Any] | None = None,
    previous: Mapping[Any, Any] | pd.Series | None = None,
    progress: ProgressCallback = no_progress,
) -> BalanceResult:
    """Assign grids to managers (see the module docstring).

    ``grids``: GeoDataFrame with the workload column ``config.weight_column`` (hours per
    month; compute it with :func:`gridplan.workload.grid_workload`), ids in ``grid_id``
    (else the index), polygons in a projected CRS (metres). ``adjacency``: an
    :class:`~gridplan.adjacency.Adjacency`, ``(indptr, indices)``, a table of ``a, b``
    grid ids, or ``None`` to build rook/queen adjacency from the geometry.
    ``managers``: table with ``name`` and optional ``capacity_h`` (hours/month) and
    ``home_x``/``home_y`` (same CRS); without it ``config.n_managers`` managers named
    M01, M02, … (default: the headcount the workload needs at ``config.capacity_h``).
    ``locks``: grid id -> manager name; ``previous``: grid id -> manager name.
    Returns ``assignment`` (grid id -> manager), ``territories`` (dissolved, with
    workload, target, deviation, number of grids) and ``report``.
    """
    cfg = config or BalanceConfig()
    if cfg.weight_column not in grids.columns:
        raise _problem(
            f"no workload column {cfg.weight_column!r} (columns: {list(grids.columns)[:12]})",
            "grids",
            "compute hours with gridplan.workload.grid_workload or set weight_column",
        )
    ids = pd.Index(grids["grid_id"] if "grid_id" in grids.columns else grids.index)
    if ids.has_duplicates:
        raise _problem("duplicate grid ids", "grids", "give every grid its own id")
    n = len(grids)
    w = pd.to_numeric(grids[cfg.weight_column], errors="coerce").to_numpy(dtype=float)
    notes: list[str] = []
    geom = grids.geometry if hasattr(grids, "geometry") else None
    xs = ys = None
    if geom is not None:
        pts = geom.representative_point()
        xs, ys = pts.x.to_numpy(float), pts.y.to_numpy(float)
    names, capacities, home = _manager_table(managers, cfg, w, notes)
    edges = _grid_edges(adjacency, geom, cfg, n, ids, xs, ys, notes, w, len(names))
    ip, ix = csr_from_edges(n, edges)
    lk = _by_id(locks, ids, names, "locks")
    prev = _by_id(previous, ids, names, "previous") if previous is not None else None
    res = balance_arrays(
        w,
        ip,
        ix,
        len(names),
        tolerance=cfg.tolerance,
        capacities=capacities,
        x=xs,
        y=ys,
        home=home,
        objective=cfg.objective,
        locks=lk,
        previous=prev,
        move_penalty=cfg.move_penalty,
        max_moved=cfg.max_moved,
        max_moved_weight=cfg.max_moved_weight,
        seed=cfg.seed,
        time_limit=cfg.time_limit,
        workers=cfg.workers,
        progress=progress,
        ids=list(ids),
        names=names,
        work_limit=cfg.work_limit,
        home_weight=cfg.home_weight,
    )
    if notes:
        res.report = replace(res.report, notes=tuple(notes) + res.report.notes)
    res.assignment = pd.Series([names[d] for d in res.labels], index=ids, name="manager")
    if geom is not None:
        res.territories = _dissolve(res, geom, grids.crs)
    return res


def _grid_edges(
    adjacency, geom, cfg: BalanceConfig, n: int, ids: pd.Index, xs, ys, notes, w, k: int
):
    """Undirected grid edges (m, 2): the given adjacency or the rook/queen adjacency of
    the polygons, with islands linked to their nearest grid when ``cfg.link_islands``."""
    if adjacency is None:
        if geom is None:
            raise _problem("no adjacency and no geometry", "grids", "pass an adjacency")
        edges = geometry_adjacency(geom, cfg.adjacency, crs=getattr(geom, "crs", None))
        notes.append(f"built {cfg.adjacency} adjacency from the grid polygons")
    else:
        edges = _adjacency_edges(adjacency, n, ids)
    if cfg.link_islands and xs is not None and n > 1:
        edges, more = _link_islands(
            n, edges, xs, ys, crs=getattr(geom, "crs", None), weights=w,
            target=float(np.nansum(w)) / k, tolerance=cfg.tolerance, ids=ids,
        )  # fmt: skip
        notes += more
    return edges


def _manager_table(
    managers: pd.DataFrame | None, cfg: BalanceConfig, w: np.ndarray, notes: list[str]
) -> tuple[list[Any], np.ndarray | None, np.ndarray | None]:
    """``(names, capacities, home)`` of the managers: from the table (capacities in
    hours/month, home bases in the grids' CRS), else ``cfg.n_managers`` (or the headcount
    the workload needs at ``cfg.capacity_h``) named M01, M02, …"""
    if managers is None:
        k = cfg.n_managers
        if k is None:
            k = max(1, math.ceil(float(np.nansum(w)) / cfg.capacity_h - 1e-9))
            notes.append(
                f"{k} managers: the workload {np.nansum(w):,.1f} h/month at "
                f"{cfg.capacity_h:g} h per manager"
            )
        return [f"M{i + 1:02d}" for i in range(k)], None, None
    if "name" not in managers.columns:
        raise _problem("managers table has no 'name' column", "managers", "add names")
    names = managers["name"].tolist()
    if len(set(map(str, names))) != len(names):
        raise _problem("duplicate manager names", "managers", "give unique names")
    capacities = None
    if "capacity_h" in managers.columns and managers["capacity_h"].notna().any():
        capacities = (
            pd.to_numeric(managers["capacity_h"], errors="coerce")
            .fillna(managers["capacity_h"].median())
            .to_numpy(float)
        )
    home = None
    if {"home_x", "home_y"} <= set(managers.columns) and managers["home_x"].notna().any():
        home = managers[["home_x", "home_y"]].apply(pd.to_numeric, errors="coerce")
        home = home.to_numpy(float)  # NaN rows: managers without a home
    return names, capacities, home


def _dissolve(res: BalanceResult, geom: Any, crs: Any) -> Any:
    """Territories: the grids dissolved by manager, with workload, target, deviation,
    number of grids and contiguity from the report."""
    import geopandas as gpd

    assert res.assignment is not None
    g = gpd.GeoDataFrame({"manager": res.assignment.to_numpy()}, geometry=geom.values, crs=crs)
    diss = g.dissolve(by="manager", as_index=False)
    tr = {t.manager: t for t in res.report.territories}
    diss["workload"] = [tr[m].weight for m in diss["manager"]]
    diss["target"] = [tr[m].target for m in diss["manager"]]
    diss["deviation"] = [tr[m].deviation for m in diss["manager"]]
    diss["n_grids"] = [tr[m].units for m in diss["manager"]]
    diss["contiguous"] = [tr[m].contiguous for m in diss["manager"]]
    return diss
