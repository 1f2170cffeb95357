"""The region-count search's early stop and the grids' dissolve (fast paths that
must not change results)."""

from __future__ import annotations

import random

import numpy as np
import shapely
from shapely.geometry import box

from gridplan._partition.frames import _dissolve
from gridplan._partition.solver import ComponentTask, Solver, _grow_profiles
from tests.partition.test_partition import lattice


def _task(rows: int, cols: int, n_regions: float) -> ComponentTask:
    ip, ix, x, y = lattice(rows, cols)
    n = rows * cols
    rng = np.random.default_rng(5)
    pop = rng.lognormal(0, 1, n)
    cust = rng.integers(0, 4, n).astype(float) + 0.1
    return ComponentTask(
        index=0,
        indptr=ip,
        indices=ix,
        floors=np.column_stack([pop / (pop.sum() / n_regions), cust / (cust.sum() / n_regions)]),
        ceilings=None,
        homog=rng.normal(size=(n, 1)),
        x=x / 100.0,
        y=y / 100.0,
        area=np.ones(n),
        max_diameter=None,
        compactness_weight=1.0,
        seed=0,
        deadline=float("inf"),
    )


def test_construct_with_a_reachable_target_grows_the_same_regions() -> None:
    task = _task(12, 12, 12.0)
    cells = list(range(144))
    for k in range(5):
        solver = Solver(task)
        r = random.Random(k)
        free = solver.construct(cells, _grow_profiles(r, k), r)
        plain = list(solver.label)
        solver.clear()
        r = random.Random(k)
        got = solver.construct(cells, _grow_profiles(r, k), r, target=len(free))
        assert got == free and list(solver.label) == plain
        assert len(free) >= 8


def test_construct_stops_when_the_target_is_out_of_reach() -> None:
    """12 regions' worth of value cannot hold 13 regions: no region is created and
    the cells are left for the caller to restore (labels < 0)."""
    task = _task(12, 12, 12.0)
    solver = Solver(task)
    r = random.Random(1)
    got = solver.construct(list(range(144)), _grow_profiles(r, 1), r, target=13)
    assert got == [] and solver.n_alive == 0
    assert all(v < 0 for v in solver.label)


def test_dissolve_coverage_matches_union_and_falls_back_on_overlaps() -> None:
    # a 4x3 block of unit squares in two grids, plus two overlapping squares
    squares = [box(i, j, i + 1, j + 1) for j in range(3) for i in range(4)]
    labels = np.array([0, 0, 1, 1] * 3)
    geoms = np.array(squares, dtype=object)
    out = _dissolve(geoms, labels, 2)
    for r in (0, 1):
        ref = shapely.union_all(geoms[labels == r])
        assert shapely.equals(out[r], ref)
        assert shapely.length(out[r]) == 10.0  # one 2x3 rectangle, no inner edges
    over = np.array([box(0, 0, 2, 2), box(1, 1, 3, 3)], dtype=object)
    got = _dissolve(over, np.array([0, 0]), 1)[0]
    assert shapely.is_valid(got) and shapely.area(got) == 7.0
