"""A small balanced plan of the Seoul demo (about 1,300 H3 cells), built once per test run."""

from __future__ import annotations

import functools

import numpy as np

from gridplan.balance import BalanceConfig
from gridplan.cells import CellsConfig, build_cells
from gridplan.checks import edges_from_adjacency
from gridplan.demo import load_demo
from gridplan.partition import PartitionConfig, partition_cells
from gridplan.pipeline import DEMO_FLOORS
from gridplan.planning import balance_plan, default_team, plan_from_partition

FLOORS = dict(DEMO_FLOORS)


@functools.cache
def seoul_grids():
    """(plan without managers, cell edges) of Seoul at ~500 target cells."""
    layers = load_demo("seoul")
    cellset = build_cells(layers, CellsConfig(target_cells=500))
    part = partition_cells(cellset.cells, cellset.adjacency, PartitionConfig(floors=FLOORS))
    plan = plan_from_partition(cellset, part, layers, name="seoul-test", floors=FLOORS)
    return plan, edges_from_adjacency(cellset.adjacency)


@functools.cache
def seoul_plan(n_managers: int = 12):
    """(balanced plan with ``n_managers`` managers at ±10 %, cell edges)."""
    plan, edges = seoul_grids()
    hours = float(plan.grids["hours_total"].sum())
    plan = plan.with_(managers=default_team(hours, hours / n_managers, n_managers))
    plan, _ = balance_plan(plan, edges, BalanceConfig(tolerance=0.10, time_limit=3.0))
    return plan, np.asarray(edges)
