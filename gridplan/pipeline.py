"""The whole flow in one call: layers → cells → grids → workload → territories → areas.

Used by ``gridplan demo``, the app and the benchmarks; each step is also callable on its
own (:mod:`gridplan.cells`, :mod:`gridplan.partition`, :mod:`gridplan.workload`,
:mod:`gridplan.balance`). All geometry stays in the layers' work CRS (metres).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from gridplan.balance import BalanceConfig, BalanceResult, balance_grids, group_into_areas
from gridplan.cells import CellsConfig, CellSet, build_cells
from gridplan.layers import Layers
from gridplan.partition import PartitionConfig, PartitionResult, partition_cells
from gridplan.plan import HOURS, Plan
from gridplan.progress import ProgressCallback, no_progress, scaled
from gridplan.workload import WorkloadConfig, default_workload_config, grid_workload

__all__ = [
    "DEMO_FLOORS",
    "DEMO_TARGET_CELLS",
    "PlanSettings",
    "demo_settings",
    "grid_edges",
    "make_plan",
    "plan_from_grids",
]


@dataclass(frozen=True)
class PlanSettings:
    """Settings of a whole run.

    ``n_managers``: team size (``None`` = the headcount the workload needs at
    ``workload.capacity_h`` hours/month); ``managers_per_area``: territories per area
    (区域) for the area managers (0 = no areas); ``name``: the plan's name.
    """

    cells: CellsConfig = field(default_factory=lambda: CellsConfig(target_cells=2000))
    partition: PartitionConfig = field(default_factory=PartitionConfig)
    workload: WorkloadConfig | None = None
    balance: BalanceConfig = field(default_factory=lambda: BalanceConfig(time_limit=20.0))
    n_managers: int | None = None
    managers_per_area: int = 5
    name: str = "plan"


def grid_edges(adjacency: Any, cell_grid: np.ndarray) -> np.ndarray:
    """Grid adjacency as unique pairs ``(a, b)``, ``a < b``, of grid positions.

    ``adjacency``: cell CSR (``indptr``/``indices``; edges cut by a barrier are
    skipped); ``cell_grid``: grid position of each cell."""
    ip = np.asarray(adjacency.indptr)
    ix = np.asarray(adjacency.indices)
    rows = np.repeat(np.arange(len(ip) - 1), np.diff(ip))
    keep = np.ones(len(ix), dtype=bool)
    cut = getattr(adjacency, "cut_by_barrier", None)
    if cut is not None:
        keep &= ~np.asarray(cut, dtype=bool)
    a, b = cell_grid[rows[keep]], cell_grid[ix[keep]]
    e = np.stack([np.minimum(a, b), np.maximum(a, b)], axis=1)
    e = e[e[:, 0] != e[:, 1]]
    return np.unique(e, axis=0) if len(e) else e.reshape(0, 2)


def _manager_names(k: int) -> list[str]:
    width = max(2, len(str(k)))
    return [f"CM{i + 1:0{width}d}" for i in range(k)]


def plan_from_grids(
    cellset: CellSet,
    part: PartitionResult,
    layers: Layers,
    settings: PlanSettings,
    progress: ProgressCallback = no_progress,
) -> tuple[Plan, BalanceResult]:
    """Workload, territories and areas for a partition; returns the plan and the
    balance result (its ``report`` is the quality report)."""
    wcfg = settings.workload or default_workload_config()
    grids = part.grids.copy()
    hours = grid_workload(grids, wcfg)
    for col in hours.columns:
        grids[col] = hours[col].to_numpy()
    cells = cellset.cells.copy()
    cells["grid_id"] = part.assignment.to_numpy()
    pos = pd.Index(grids["grid_id"]).get_indexer(cells["grid_id"])
    edges = grid_edges(cellset.adjacency, pos)
    total = float(grids[HOURS].sum())
    k = settings.n_managers or max(1, math.ceil(total / wcfg.capacity_h - 1e-9))
    k = min(k, len(grids))
    names = _manager_names(k)
    team = pd.DataFrame({"manager": names, "capacity_h": float(wcfg.capacity_h)})
    progress(0.0, f"balancing {len(grids):,} grids among {k} managers")
    bal = balance_grids(
        grids,
        adjacency=pd.DataFrame(
            {
                "a": grids["grid_id"].to_numpy()[edges[:, 0]],
                "b": grids["grid_id"].to_numpy()[edges[:, 1]],
            }
        ),
        config=settings.balance,
        managers=team.rename(columns={"manager": "name"}),
        progress=scaled(progress, 0.0, 0.85),
    )
    grids["manager"] = bal.assignment.reindex(grids["grid_id"]).to_numpy()
    team["area"] = ""
    if settings.managers_per_area and k > 1:
        n_areas = max(1, math.ceil(k / settings.managers_per_area))
        if n_areas > 1:
            tw = np.array([t.weight for t in bal.report.territories], dtype=float)
            ar = group_into_areas(
                bal.labels,
                edges,
                tw,
                n_areas=n_areas,
                tolerance=0.25,
                seed=settings.balance.seed,
                time_limit=min(10.0, settings.balance.time_limit),
                progress=scaled(progress, 0.85, 1.0),
            )
            team["area"] = [f"A{int(a) + 1}" for a in ar.labels]
        else:
            team["area"] = "A1"
    customers = None
    if layers.customers is not None and cellset.customer_cell is not None:
        cc = np.asarray(cellset.customer_cell)
        ids = cells["cell_id"].to_numpy(dtype=object)
        customers = layers.customers[["customer_id", "segment", "spend", "geometry"]].copy()
        customers["cell_id"] = np.where(cc >= 0, ids[np.clip(cc, 0, None)], None)
    meta = {
        "city": layers.name,
        "tolerance": repr(settings.balance.tolerance),
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "synthetic_layers": ",".join(layers.synthetic),
        "seed": str(settings.partition.seed),
        "crs": cells.crs.to_string() if cells.crs is not None else "",
    }
    plan = Plan(
        name=settings.name,
        cells=cells,
        grids=gpd.GeoDataFrame(grids, geometry="geometry", crs=part.grids.crs),
        managers=team,
        customers=customers,
        sites=layers.sites,
        districts=layers.districts,
        meta=meta,
    )
    return plan, bal


def make_plan(
    layers: Layers,
    settings: PlanSettings = PlanSettings(),
    progress: ProgressCallback = no_progress,
) -> tuple[Plan, dict[str, Any]]:
    """Run every step on ``layers``; returns the plan and a report with the cell notes,
    the partition summary and notes, and the balance quality report."""
    cellset = build_cells(layers, settings.cells, progress=scaled(progress, 0.0, 0.3))
    part = partition_cells(
        cellset.cells,
        cellset.adjacency,
        settings.partition,
        progress=scaled(progress, 0.3, 0.6),
    )
    plan, bal = plan_from_grids(cellset, part, layers, settings, scaled(progress, 0.6, 1.0))
    report = {
        "cells": {"n": cellset.n, "notes": list(cellset.notes)},
        "partition": {"summary": dict(part.summary), "notes": list(part.notes)},
        "balance": bal.report.to_dict(),
    }
    return plan, report


#: Floors of the demo run: grids of at least this many residents and customers.
DEMO_FLOORS: dict[str, float] = {"population": 5_000.0, "customers": 30.0}

#: H3 cells the demo aims for (NYC: resolution 9, about 0.1 km² per hexagon).
DEMO_TARGET_CELLS = 8000


def demo_settings(
    *,
    seed: int = 0,
    cells: CellsConfig | None = None,
    time_limit: float = 20.0,
    name: str = "demo",
) -> PlanSettings:
    """The settings ``gridplan demo`` and the app start from: H3 cells (about
    :data:`DEMO_TARGET_CELLS`), floors :data:`DEMO_FLOORS`, grids uniform in coverage,
    managers balanced to ±3 % in ``time_limit`` seconds, 5 managers per area."""
    return PlanSettings(
        cells=cells or CellsConfig(target_cells=DEMO_TARGET_CELLS),
        partition=PartitionConfig(floors=DEMO_FLOORS, homogeneity={"coverage": 1.0}, seed=seed),
        balance=BalanceConfig(tolerance=0.03, seed=seed, time_limit=time_limit),
        name=name,
    )
