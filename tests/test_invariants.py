"""The shared invariant check itself: it passes real plans and catches broken ones."""

from __future__ import annotations

import numpy as np
import pytest

from gridplan.plan.model import reassign
from tests.plans import FLOORS


def test_the_seoul_plan_passes(seoul_balanced, check_plan_invariants):
    plan, edges = seoul_balanced
    check_plan_invariants(plan, edges, tolerance=0.10)


def test_a_grid_in_two_pieces_is_caught(check_region_invariants):
    edges = np.array([[0, 1], [1, 2], [2, 3]])
    check_region_invariants(np.array([0, 0, 1, 1]), edges)
    with pytest.raises(AssertionError, match="several pieces"):
        check_region_invariants(np.array([0, 1, 1, 0]), edges)
    check_region_invariants(np.array([0, 1, 1, 0]), edges, allowed_pieces=[0])


def test_a_floor_miss_is_caught(check_region_invariants):
    edges = np.array([[0, 1], [1, 2], [2, 3]])
    values = {"population": np.array([5.0, 5.0, 1.0, 1.0])}
    with pytest.raises(AssertionError, match="population floor"):
        check_region_invariants(
            np.array([0, 0, 1, 1]), edges, values=values, floors={"population": 3}
        )


def test_a_broken_territory_and_tolerance_are_caught(seoul_balanced, check_plan_invariants):
    plan, edges = seoul_balanced
    grids = plan.grids
    first = grids["manager"].iloc[0]
    other = grids.loc[grids["manager"] != first, "grid_id"]
    moved = reassign(plan, other.iloc[: len(other) // 3], first)
    with pytest.raises(AssertionError):
        check_plan_invariants(moved, edges, tolerance=0.10)


def test_floors_of_the_demo_partition_hold(seoul_balanced, check_plan_invariants):
    plan, edges = seoul_balanced
    lowest = {col: float(plan.grids[col].min()) for col in FLOORS}
    check_plan_invariants(plan, edges, floors=lowest)
    too_high = {col: float(plan.grids[col].max()) + 1 for col in FLOORS}
    with pytest.raises(AssertionError, match="floor"):
        check_plan_invariants(plan, edges, floors=too_high)
