"""The whole flow on a real demo city, and the grid adjacency it derives from cells."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from gridplan.cells.build import CellsConfig
from gridplan.demo.cities import load_demo
from gridplan.graph import Adjacency
from gridplan.plan.model import customer_attribution, manager_table, territories
from gridplan.plan.pipeline import demo_settings, grid_edges, make_plan


def test_grid_edges_from_cells_skip_barriers_and_inner_links():
    # path 0-1-2-3, grids [0, 0, 1, 2]; the 2-3 link is cut by a barrier
    ip = np.array([0, 1, 3, 5, 6])
    ix = np.array([1, 0, 2, 1, 3, 2])
    cut = np.array([False, False, False, False, True, True])
    adj = Adjacency(ip, ix, np.zeros(6, bool), cut)
    e = grid_edges(adj, np.array([0, 0, 1, 2]))
    assert e.tolist() == [[0, 1]]


@pytest.mark.slow
def test_make_plan_on_seoul_end_to_end():
    layers = load_demo("seoul")
    settings = replace(
        demo_settings(cells=CellsConfig(target_cells=500), time_limit=4.0),
        managers_per_area=4,
    )
    seen = []
    plan, report = make_plan(layers, settings, progress=lambda f, m: seen.append(f))
    assert seen and all(0.0 <= f <= 1.0 for f in seen)
    # every cell in a grid of the plan; every grid with a manager of the team
    assert set(plan.cells["grid_id"]) == set(plan.grids["grid_id"])
    team = set(plan.managers["manager"])
    assert set(plan.grids["manager"]) <= team and plan.grids["manager"].ne("").all()
    # headcount from the workload at 128 h/month
    hours = plan.grids["hours_total"].sum()
    assert len(team) == int(np.ceil(hours / 128.0 - 1e-9))
    table = manager_table(plan)
    assert table["hours"].sum() == pytest.approx(hours)
    assert report["balance"]["contiguous"]
    assert table["n_grids"].gt(0).all()
    # areas: about 4 managers each, every manager in one
    assert plan.managers["area"].ne("").all()
    assert plan.managers["area"].nunique() == int(np.ceil(len(team) / 4))
    assert len(territories(plan)) == len(team)
    # every customer inside a cell is attributed down to its area
    att = customer_attribution(plan)
    assert len(att) == len(layers.customers)
    inside = att["cell_id"].notna()
    assert inside.mean() > 0.99
    assert att.loc[inside, "area"].ne("").all()
