"""check_plan and the partition agree on islands and slivers (the shared rule of
gridplan.cells.detached), on the synthetic coastal city of tests/islands_city.py."""

from __future__ import annotations

import numpy as np
import pandas as pd

from gridplan.plan.rules import cell_edges, check_plan
from tests.islands_city import (
    FLOOR,
    SLIVER,
    SMALL_ISLAND,
    cells_in,
    city_partition,
    city_plan,
)


def test_check_plan_accepts_exactly_the_partitions_exceptions():
    plan = city_plan()
    edges = cell_edges(plan.cells)
    rep = check_plan(plan, edges, floors={"population": FLOOR}, territories=False)
    assert not rep.by_rule("grid_contiguity")
    assert rep.ok
    ids = plan.cells["cell_id"].astype(str).to_numpy()
    grid_ids = city_partition().grids["grid_id"].astype(str).to_numpy()
    engine = {
        (grid_ids[j.region], j.kind, frozenset(ids[list(j.cells)]))
        for j in city_partition().arrays.exceptions
    }
    checks = {(x.id, x.kind, frozenset(x.cells)) for x in rep.exceptions}
    assert engine == checks
    kinds = {x.kind: x for x in rep.exceptions}
    assert set(kinds["island"].cells) == cells_in(SMALL_ISLAND)
    assert set(kinds["sliver"].cells) == cells_in(SLIVER.buffer(1))
    assert kinds["sliver"].distance_m == 0.0  # it touches its grid at a corner
    assert kinds["island"].distance_m > 1000
    assert rep.stats["accepted_exceptions"] == 2 and rep.stats["grids_not_contiguous"] == 0


def test_a_broken_grid_on_land_is_still_a_violation():
    plan = city_plan()
    edges = cell_edges(plan.cells)
    cells = plan.cells.copy()
    # move a mainland cell of one grid into a grid it does not touch
    grid_of = cells["grid_id"].astype(str)
    gx = cells.groupby(grid_of)["x"].mean()
    far_grid = gx.idxmax()
    west = cells.index[np.argmin(cells["x"].to_numpy() + cells["y"].to_numpy())]
    assert grid_of[west] != far_grid
    cells.loc[west, "grid_id"] = far_grid
    rep = check_plan(plan.with_(cells=cells), edges, territories=False)
    bad = rep.by_rule("grid_contiguity")
    assert [v.ids for v in bad] == [(far_grid,)]
    assert str(cells.loc[west, "cell_id"]) in bad[0].message
    # the partition's island and sliver are still accepted
    assert {x.kind for x in rep.exceptions} >= {"sliver"}


def test_an_island_grid_in_a_territory_is_accepted():
    plan = city_plan()
    edges = cell_edges(plan.cells)
    grids = plan.grids.copy()
    # one manager: the whole city (mainland and the big island's grids)
    grids["manager"] = "CM01"
    one = plan.with_(grids=grids, managers=_team("CM01"))
    rep = check_plan(one, edges)
    assert not rep.by_rule("territory_contiguity")
    terr = [x for x in rep.exceptions if x.rule == "territory_contiguity"]
    assert len(terr) == 1 and terr[0].kind == "island" and terr[0].id == "CM01"
    # two managers sharing the mainland crosswise: a real territory violation remains
    gx = grids.geometry.centroid.x
    mainland = grids.geometry.centroid.y > grids.geometry.centroid.y.min() + 1000
    order = np.argsort(gx.to_numpy())
    names = np.where(np.arange(len(grids)) % 2 == 0, "CM01", "CM02")
    split = grids.copy()
    split.loc[split.index[order], "manager"] = names
    split.loc[~mainland, "manager"] = "CM01"
    two = plan.with_(grids=split, managers=_team("CM01", "CM02"))
    assert check_plan(two, edges).by_rule("territory_contiguity")


def _team(*names: str) -> pd.DataFrame:
    return pd.DataFrame({"manager": list(names), "capacity_h": 128.0, "area": ""})
