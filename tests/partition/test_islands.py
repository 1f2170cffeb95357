"""Islands and slivers in the partition: the shared rule of gridplan.cells.detached
(synthetic coastal city of tests/islands_city.py, and tiny arrays)."""

from __future__ import annotations

import re

import numpy as np
import pytest

from gridplan.cells.detached import Proximity
from gridplan.errors import InfeasibleError
from gridplan.graph import csr_from_edges
from gridplan.partition import partition_arrays, partition_cells
from tests.islands_city import (
    BIG_ISLAND,
    FLOOR,
    SLIVER,
    SMALL_ISLAND,
    cells_in,
    city_cells,
    city_partition,
    config,
)


def _joins_by_id(res):
    ids = city_cells().cells["cell_id"].astype(str).to_numpy()
    grid_ids = res.grids["grid_id"].astype(str).to_numpy()
    return {
        (j.kind, frozenset(ids[list(j.cells)])): grid_ids[j.region] for j in res.arrays.island_joins
    }


def test_small_island_and_sliver_are_the_only_exceptions():
    res = city_partition()
    joins = _joins_by_id(res)
    small, sliver = frozenset(cells_in(SMALL_ISLAND)), frozenset(cells_in(SLIVER.buffer(1)))
    assert set(joins) == {("island", small), ("sliver", sliver)}
    assert {j.kind for j in res.arrays.exceptions} == {"island", "sliver"}
    # the island joined a grid of the mainland; the sliver the grid it touches at a corner
    a = res.assignment.set_axis(city_cells().cells["cell_id"].astype(str))
    assert a[sorted(small)].nunique() == 1
    sliver_grid = joins[("sliver", sliver)]
    touching = [c for c in a.index if a[c] == sliver_grid and c not in sliver]
    assert touching, "the sliver joined a grid with no other cell"


def test_island_meeting_the_floor_is_its_own_grids():
    res = city_partition()
    a = res.assignment.set_axis(city_cells().cells["cell_id"].astype(str))
    big = sorted(cells_in(BIG_ISLAND))
    own = set(a[big])
    # the big island's grids hold island cells only, all contiguous and above the floor
    assert set(a[a.isin(own)].index) == set(big)
    g = res.grids.set_index("grid_id").loc[sorted(own)]
    assert g["contiguous"].all() and (g["population"] >= FLOOR - 1e-6).all()


def test_bay_grids_are_not_exceptions():
    res = city_partition()
    broken = set(res.grids.loc[~res.grids["contiguous"], "grid_id"])
    joined = set(_joins_by_id(res).values())
    assert broken <= joined  # only the grids that took the island or the sliver


def test_notes_are_summarised_and_name_cells_by_id():
    res = city_partition()
    notes = " ".join(res.notes)
    assert len([n for n in res.notes if "island" in n]) == 1
    assert len([n for n in res.notes if "sliver" in n]) == 1
    assert "1 island" in notes and "1 empty sliver" in notes
    assert sorted(cells_in(SMALL_ISLAND))[0] in notes
    assert not re.search(r"cells \d", notes), notes  # no row positions
    assert "island_joins" not in notes and "2,000 m" in notes


def test_sliver_without_proximity_is_an_island_join():
    # path 0-1-2-3 (population 5 each), cell 4 empty near cell 3 (queen contact only)
    ip, ix = csr_from_edges(5, [(0, 1), (1, 2), (2, 3)])
    vals = np.array([[5.0], [5.0], [5.0], [5.0], [0.0]])
    x = np.array([0.0, 1, 2, 3, 3.5]) * 1000
    y = np.zeros(5)
    near = Proximity(np.array([[3, 4]]), np.array([0.0]), np.array([False]))
    res = partition_arrays(ip, ix, vals, [10.0], x=x, y=y, population=vals[:, 0], proximity=near)
    (j,) = res.island_joins
    assert j.kind == "sliver" and res.labels[4] == res.labels[3]
    plain = partition_arrays(ip, ix, vals, [10.0], x=x, y=y)
    assert plain.island_joins[0].kind == "island"
    far = Proximity(np.array([[0, 4]]), np.array([80.0]), np.array([False]))
    res = partition_arrays(ip, ix, vals, [10.0], x=x, y=y, population=vals[:, 0], proximity=far)
    assert res.island_joins[0].kind == "island"  # 80 m is beyond the 50 m gap


def test_barrier_cut_part_joins_the_grid_across_the_barrier():
    # 0-1-2-3 and 4-5 cut off by a barrier between 3 and 4 (and 4 far from 0..2)
    ip, ix = csr_from_edges(6, [(0, 1), (1, 2), (2, 3), (4, 5)])
    vals = np.array([[5.0]] * 4 + [[1.0], [1.0]])
    x = np.array([0.0, 1, 2, 3, 4, 5]) * 1000
    cut = Proximity(np.array([[3, 4]]), np.array([0.0]), np.array([True]))
    res = partition_arrays(ip, ix, vals, [10.0], x=x, y=np.zeros(6), proximity=cut)
    (j,) = res.island_joins
    assert j.kind == "adjacent" and res.labels[4] == res.labels[3]
    assert not res.exceptions


def test_no_grid_in_the_district_still_fails_with_cell_ids():
    cs = city_cells()
    cells = cs.cells.copy()
    small = cells["cell_id"].astype(str).isin(cells_in(SMALL_ISLAND))
    cells.loc[small, "district"] = "far"
    with pytest.raises(InfeasibleError, match=r"sq_8\d\d_\d+.*district far"):
        partition_cells(cells, cs.adjacency, config())
