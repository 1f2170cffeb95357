"""The whole flow in one call: layers → cells → grids → workload → territories → areas.

Used by ``gridplan demo``, the app and the benchmarks; each step is also callable on its
own (:mod:`gridplan.cells.build`, :mod:`gridplan.partition`, :mod:`gridplan.workload`,
:mod:`gridplan.balance`). All geometry stays in the layers' work CRS (metres).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from gridplan.balance import BalanceConfig, BalanceReport
from gridplan.cells.build import CellsConfig, CellSet, build_cells, pick_h3_resolution
from gridplan.errors import GridplanError
from gridplan.layers.model import Layers
from gridplan.layers.team import split_team
from gridplan.partition import PartitionConfig, PartitionResult, partition_cells
from gridplan.plan.model import HOURS, Plan
from gridplan.plan.staff import StaffSettings, assign_staff
from gridplan.plan.steps import (
    apply_team,
    balance_plan,
    default_team,
    plan_from_partition,
    team_with_homes,
)
from gridplan.progress import ProgressCallback, no_progress, scaled
from gridplan.workload import WorkloadConfig, default_workload_config

__all__ = [
    "APP_BALANCE_SECONDS",
    "DEMO_FLOORS",
    "DEMO_TARGET_CELLS",
    "PlanSettings",
    "cell_pairs",
    "demo_h3_resolution",
    "demo_settings",
    "grid_edges",
    "make_plan",
    "plan_from_grids",
]


@dataclass(frozen=True)
class PlanSettings:
    """Settings of a whole run.

    ``team``: the team table (:func:`gridplan.layers.team.read_team`: ``manager``,
    ``capacity_h`` hours/month, blank = ``workload.capacity_h``; ``home_lon`` /
    ``home_lat`` degrees, EPSG:4326, kept in the work CRS); else ``n_managers``: team size
    (``None`` = the headcount the workload needs at ``workload.capacity_h``
    hours/month); ``managers_per_area``: territories per area (区域) for the area
    managers (0 = no areas); ``name``: the plan's name.
    """

    cells: CellsConfig = field(default_factory=lambda: CellsConfig(target_cells=2000))
    partition: PartitionConfig = field(default_factory=PartitionConfig)
    workload: WorkloadConfig | None = None
    balance: BalanceConfig = field(default_factory=lambda: BalanceConfig(time_limit=20.0))
    n_managers: int | None = None
    team: pd.DataFrame | None = field(default=None, compare=False)
    managers_per_area: int = 5
    name: str = "plan"
    area_level: str | None = None
    staff: StaffSettings = field(default_factory=StaffSettings)


def cell_pairs(adjacency: Any) -> np.ndarray:
    """Unique cell pairs ``(a, b)``, ``a < b``, of a CSR adjacency (``indptr``/``indices``);
    edges cut by a barrier (``cut_by_barrier``) are left out."""
    ip = np.asarray(adjacency.indptr)
    ix = np.asarray(adjacency.indices)
    rows = np.repeat(np.arange(len(ip) - 1), np.diff(ip))
    cut = getattr(adjacency, "cut_by_barrier", None)
    keep = np.ones(len(ix), dtype=bool) if cut is None else ~np.asarray(cut, dtype=bool)
    e = np.stack([np.minimum(rows[keep], ix[keep]), np.maximum(rows[keep], ix[keep])], axis=1)
    e = e[e[:, 0] != e[:, 1]]
    return np.unique(e, axis=0) if len(e) else np.zeros((0, 2), dtype=np.int64)


def grid_edges(adjacency: Any, cell_grid: np.ndarray) -> np.ndarray:
    """Grid adjacency as unique pairs ``(a, b)``, ``a < b``, of grid positions.

    ``adjacency``: cell CSR (edges cut by a barrier are skipped); ``cell_grid``: grid
    position of each cell."""
    e = cell_pairs(adjacency)
    a, b = cell_grid[e[:, 0]], cell_grid[e[:, 1]]
    g = np.stack([np.minimum(a, b), np.maximum(a, b)], axis=1)
    g = g[g[:, 0] != g[:, 1]]
    return np.unique(g, axis=0) if len(g) else g.reshape(0, 2)


def _team_table(team: pd.DataFrame, capacity_h: float) -> pd.DataFrame:
    """A read team table as :func:`~gridplan.plan.steps.apply_team` takes it: blank
    capacities at ``capacity_h`` hours/month, no area yet, homes in lon/lat."""
    if team.empty:
        raise GridplanError("the team table has no manager: give one row per manager")
    out = pd.DataFrame({"manager": team["manager"].astype(str).to_numpy()})
    blank = pd.Series(np.nan, index=team.index)
    cap = pd.to_numeric(team["capacity_h"], errors="coerce") if "capacity_h" in team else blank
    out["capacity_h"] = cap.fillna(capacity_h).to_numpy(float)
    out["area"] = ""
    for col in ("home_lon", "home_lat"):
        out[col] = pd.to_numeric(team[col], errors="coerce").to_numpy() if col in team else np.nan
    if "unit" in team.columns and (team["unit"].astype(str) != "").any():
        out["unit"] = team["unit"].fillna("").astype(str).to_numpy()
    return out


def plan_from_grids(
    cellset: CellSet,
    part: PartitionResult,
    layers: Layers,
    settings: PlanSettings,
    progress: ProgressCallback = no_progress,
) -> tuple[Plan, BalanceReport]:
    """Workload, territories and areas for a partition (the app's steps
    :func:`~gridplan.planning.plan_from_partition` then
    :func:`~gridplan.planning.balance_plan`); returns the plan and the balance quality
    report."""
    plan = plan_from_partition(
        cellset,
        part,
        layers,
        name=settings.name,
        tolerance=settings.balance.tolerance,
        floors=settings.partition.floors,
        workload=settings.workload,
        area_level=settings.area_level,
        respect_units=getattr(settings.partition, "respect_units", True),
    )
    cap = (settings.workload or default_workload_config()).capacity_h
    people = None
    if settings.team is not None:
        managers, people = split_team(settings.team)
        plan = apply_team(plan, _team_table(managers, cap))
    elif settings.n_managers:
        hours = float(plan.grids[HOURS].sum())
        team = team_with_homes(
            default_team(hours, cap, settings.n_managers), layers.home_bases, plan.crs
        )
        plan = plan.with_(managers=team)
    progress(0.0, f"balancing {len(plan.grids):,} grids among {len(plan.managers)} managers")
    plan, report = balance_plan(
        plan,
        cell_pairs(cellset.adjacency),
        settings.balance,
        managers_per_area=settings.managers_per_area,
        progress=progress,
    )
    if settings.managers_per_area:
        plan = assign_staff(plan, people, settings.staff, seed=settings.balance.seed)
    return plan.with_(meta={**plan.meta, "seed": str(settings.partition.seed)}), report


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
    plan, balance = plan_from_grids(cellset, part, layers, settings, scaled(progress, 0.6, 1.0))
    return plan, run_report(cellset, part, balance)


def run_report(cellset: CellSet, part: PartitionResult, balance: BalanceReport) -> dict[str, Any]:
    """The run's ``report.json``: the cells, the partition's summary and notes and the
    balance report of one city."""
    return {
        "cells": {"n": cellset.n, "notes": list(cellset.notes)},
        "partition": {"summary": dict(part.summary), "notes": list(part.notes)},
        "balance": balance.to_dict(),
    }


#: Floors of the demo run (``gridplan demo`` and the app's defaults): grids of at least
#: this many residents and customers. With :data:`DEMO_TARGET_CELLS` (H3 resolution 9)
#: about 9 cells per grid on the demo cities (NYC 928 grids of 8,333 cells, Seoul 1,033
#: of 8,719).
DEMO_FLOORS: dict[str, float] = {"population": 8_500.0, "customers": 30.0}

#: Seconds of the app's Balance by default (the whole step: start plans, repairs,
#: search and areas): the demo cities reach ±3 % in it, and the click ends within 10 s.
APP_BALANCE_SECONDS = 7.0

#: H3 cells the demo aims for (NYC and Seoul: resolution 9, about 0.1 km² per hexagon).
DEMO_TARGET_CELLS = 8000


def demo_h3_resolution(area_km2: float) -> int:
    """The H3 resolution of the demo run for a city of ``area_km2`` km²: the one whose
    mean hexagon area gives about :data:`DEMO_TARGET_CELLS` cells (9 for NYC and Seoul)."""
    return pick_h3_resolution(area_km2, DEMO_TARGET_CELLS)


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
