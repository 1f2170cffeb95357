"""Balance engine: invariants, exact small cases, locks, disruption, determinism, errors."""

from __future__ import annotations

import json

import numpy as np
import pytest

from gridplan._balance.graph import (
    csr_from_edges,
    delaunay_edges,
    edge_array,
    is_connected_subset,
)
from gridplan.balance import balance_arrays, group_into_areas
from gridplan.errors import InfeasibleError
from tests.conftest import assert_regions_valid, lattice


def random_graph(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    pts = rng.random((n, 2)) * 1000
    ip, ix = csr_from_edges(n, delaunay_edges(pts[:, 0], pts[:, 1]))
    return ip, ix, pts[:, 0], pts[:, 1]


def assert_valid(res, ip, ix, w, k, tol):
    lab = res.labels
    assert lab.shape == (w.size,)
    assert set(np.unique(lab).tolist()) <= set(range(k))
    target = w.sum() / k
    for d in range(k):
        members = np.flatnonzero(lab == d)
        assert members.size > 0
        assert is_connected_subset(ip, ix, members), f"territory {d} not contiguous"
        assert abs(w[members].sum() - target) <= tol * target + 1e-9
    assert res.report.contiguous
    assert res.report.within_tolerance
    assert res.report.max_deviation <= tol + 1e-9
    assert_regions_valid(lab, edge_array(ip, ix))  # the shared invariant check agrees


@pytest.mark.parametrize(("r", "c", "k", "best"), [(2, 4, 2, 2), (4, 4, 4, 8), (3, 3, 3, 6)])
def test_exact_small_lattices(r, c, k, best):
    ip, ix = lattice(r, c)
    w = np.ones(r * c)
    res = balance_arrays(w, ip, ix, k, tolerance=0.0, time_limit=10)
    assert_valid(res, ip, ix, w, k, 0.0)
    assert res.report.cut_edges == best
    assert res.report.stopped_by == "convergence"  # proven optimal by CP-SAT


def brute_force_min_cut(ip, ix, w, k, tol, capacities=None):
    """Optimum by enumeration (tiny graphs only)."""
    import itertools

    n = w.size
    edges = edge_array(ip, ix)
    share = np.full(k, 1 / k) if capacities is None else np.asarray(capacities) / sum(capacities)
    targets = share * w.sum()
    best = None
    # equal shares: managers are interchangeable, so unit 0 may be fixed to manager 0
    first = (0,) if capacities is None else tuple(range(k))
    for rest in itertools.product(range(k), repeat=n - 1):
        for f in first:
            lab = np.array((f, *rest))
            if _fits(lab, ip, ix, w, k, targets, tol):
                cut = int(np.count_nonzero(lab[edges[:, 0]] != lab[edges[:, 1]]))
                best = cut if best is None else min(best, cut)
    return best


def _fits(lab, ip, ix, w, k, targets, tol):
    for d in range(k):
        m = np.flatnonzero(lab == d)
        if m.size == 0 or abs(w[m].sum() - targets[d]) > tol * targets[d] + 1e-9:
            return False
        if not is_connected_subset(ip, ix, m):
            return False
    return True


def test_matches_enumeration_on_weighted_graph():
    ip, ix, _, _ = random_graph(10, 3)
    w = np.array([5, 3, 8, 2, 7, 4, 6, 1, 9, 5], dtype=float)
    best = brute_force_min_cut(ip, ix, w, 2, 0.1)
    res = balance_arrays(w, ip, ix, 2, tolerance=0.1, time_limit=10)
    assert_valid(res, ip, ix, w, 2, 0.1)
    assert res.report.cut_edges == best


def test_matches_enumeration_three_managers_with_capacities():
    ip, ix, _, _ = random_graph(9, 11)
    w = np.array([4, 7, 2, 6, 5, 3, 8, 4, 5], dtype=float)
    cap = np.array([1.0, 1.0, 2.0])  # the third manager works full time, the others half
    best = brute_force_min_cut(ip, ix, w, 3, 0.15, capacities=cap)
    assert best is not None
    res = balance_arrays(w, ip, ix, 3, tolerance=0.15, capacities=cap, time_limit=10)
    rep = res.report
    assert rep.contiguous and rep.within_tolerance
    assert rep.cut_edges == best
    assert rep.territories[2].target == pytest.approx(w.sum() / 2)


def test_matches_enumeration_three_equal_managers():
    ip, ix, _, _ = random_graph(10, 12)
    w = np.array([3, 9, 4, 4, 6, 2, 7, 5, 3, 6], dtype=float)
    best = brute_force_min_cut(ip, ix, w, 3, 0.1)
    assert best is not None
    res = balance_arrays(w, ip, ix, 3, tolerance=0.1, time_limit=10)
    assert_valid(res, ip, ix, w, 3, 0.1)
    assert res.report.cut_edges == best


def test_random_planar_graph_invariants():
    ip, ix, x, y = random_graph(150, 1)
    w = np.random.default_rng(1).lognormal(3, 0.6, 150)
    res = balance_arrays(w, ip, ix, 5, tolerance=0.03, x=x, y=y, time_limit=3)
    assert_valid(res, ip, ix, w, 5, 0.03)
    assert json.dumps(res.report.to_dict())  # JSON-serialisable


@pytest.mark.parametrize("seed", [0, 10])
def test_random_instances_stay_contiguous(seed):
    rng = np.random.default_rng(seed)
    n = 223
    ip, ix, x, y = random_graph(n, seed)
    w = rng.lognormal(2, 1.0, n)
    res = balance_arrays(
        w, ip, ix, 8, tolerance=0.1, x=x, y=y, objective="both", time_limit=1.5, seed=seed
    )
    assert res.report.contiguous, res.report.to_dict()["territories"]
    for d in range(8):
        assert is_connected_subset(ip, ix, np.flatnonzero(res.labels == d))


def test_tight_tolerance_and_locks_kept():
    ip, ix, x, _y = random_graph(120, 2)
    w = np.random.default_rng(2).integers(50, 150, 120).astype(float)
    locks = np.full(120, -1)
    far = np.argsort(x)
    locks[far[:3]] = 0
    locks[far[-3:]] = 2
    res = balance_arrays(w, ip, ix, 4, tolerance=0.01, locks=locks, time_limit=3)
    assert_valid(res, ip, ix, w, 4, 0.01)
    assert np.all(res.labels[far[:3]] == 0)
    assert np.all(res.labels[far[-3:]] == 2)
    assert res.report.territories[0].locked_units == 3


def test_minimum_disruption_moves_nothing_when_previous_is_fine():
    ip, ix = lattice(6, 6)
    w = np.ones(36)
    previous = np.repeat(np.arange(3), 12)  # three 2x6 strips: balanced, contiguous
    res = balance_arrays(w, ip, ix, 3, tolerance=0.0, previous=previous, time_limit=3)
    assert np.array_equal(res.labels, previous)
    assert res.report.moved_units == 0
    assert res.report.moved_weight == 0


def test_minimum_disruption_keeps_a_non_optimal_plan_that_meets_the_tolerance():
    # exact path (small): an L-shaped split of a 3x4 lattice cuts 5 edges where the best
    # split cuts 3, yet it is balanced and contiguous, so it must come back unchanged
    ip, ix = lattice(3, 4)
    w = np.ones(12)
    previous = np.array([0, 0, 0, 0,
                         0, 0, 1, 1,
                         1, 1, 1, 1])  # fmt: skip
    res = balance_arrays(w, ip, ix, 2, tolerance=0.0, previous=previous, time_limit=3)
    assert np.array_equal(res.labels, previous)
    assert res.report.cut_edges == 5 and res.report.moved_units == 0
    # search path (large): a compact plan is not the fewest-cut-edges plan
    ip, ix, x, y = random_graph(300, 9)
    w = np.random.default_rng(9).lognormal(3, 0.4, 300)
    compact = balance_arrays(
        w, ip, ix, 6, tolerance=0.03, x=x, y=y, objective="compactness", time_limit=3
    )
    assert compact.report.within_tolerance and compact.report.contiguous
    again = balance_arrays(w, ip, ix, 6, tolerance=0.03, previous=compact.labels, time_limit=3)
    assert np.array_equal(again.labels, compact.labels)
    assert again.report.moved_units == 0 and again.report.moved_weight == 0


def test_rebalance_moves_little():
    ip, ix, _x, _y = random_graph(100, 4)
    w = np.ones(100)
    first = balance_arrays(w, ip, ix, 4, tolerance=0.02, time_limit=2)
    w2 = w.copy()
    w2[first.labels == 0] *= 1.1  # manager 0's grids got 10 % more work
    res = balance_arrays(w2, ip, ix, 4, tolerance=0.02, previous=first.labels, time_limit=3)
    assert_valid(res, ip, ix, w2, 4, 0.02)
    assert 0 < res.report.moved_units <= 15


def test_max_moved_cap():
    ip, ix = lattice(6, 6)
    w = np.ones(36)
    previous = np.repeat(np.arange(3), 12)
    w[:6] = 1.5  # strip 0 is now too heavy at 5 %
    res = balance_arrays(
        w, ip, ix, 3, tolerance=0.05, previous=previous, move_penalty=0.0, max_moved=4,
        time_limit=2,
    )  # fmt: skip
    assert res.report.moved_units <= 4


def test_deterministic_for_a_seed():
    ip, ix, _x, _y = random_graph(200, 5)
    w = np.random.default_rng(5).lognormal(3, 0.5, 200)
    a = balance_arrays(w, ip, ix, 6, tolerance=0.02, seed=7, time_limit=60, work_limit=0.5)
    b = balance_arrays(w, ip, ix, 6, tolerance=0.02, seed=7, time_limit=60, work_limit=0.5)
    assert a.report.stopped_by != "time"
    assert np.array_equal(a.labels, b.labels)


def test_two_worker_processes_give_the_same_plan_twice():
    # two forked searches bounded by a work budget (the clock only as a safety net), a
    # city-like instance of ~8 grids per manager: identical plans run after run
    ip, ix = lattice(15, 20)
    w = np.random.default_rng(3).lognormal(3.0, 0.5, 300)
    runs = [
        balance_arrays(w, ip, ix, 36, tolerance=0.03, seed=0, time_limit=60, work_limit=2.5,
                       workers=2)
        for _ in range(2)
    ]  # fmt: skip
    for res in runs:
        assert res.report.stopped_by != "time"
        assert res.report.stats["processes"] == 2  # the forked path, not the fallback
    np.testing.assert_array_equal(runs[0].labels, runs[1].labels)
    assert runs[0].report.cut_edges == runs[1].report.cut_edges


def test_compactness_with_home_bases():
    ip, ix, x, y = random_graph(120, 6)
    w = np.ones(120)
    home = np.array([[0.0, 0.0], [1000.0, 1000.0]])
    res = balance_arrays(
        w, ip, ix, 2, tolerance=0.05, x=x, y=y, home=home, objective="compactness",
        time_limit=2,
    )  # fmt: skip
    assert_valid(res, ip, ix, w, 2, 0.05)
    d0 = np.hypot(x - 0, y - 0)
    near0 = np.argsort(d0)[:20]
    assert np.mean(res.labels[near0] == 0) > 0.9


@pytest.mark.parametrize("objective", ["compactness", "both"])
def test_centre_objectives_run_in_worker_processes(objective):
    # their costs are refreshed by a closure, which cannot be pickled: the workers must
    # inherit the job through fork instead (this used to raise an AttributeError)
    ip, ix, x, y = random_graph(200, 13)
    w = np.random.default_rng(13).lognormal(3, 0.4, 200)
    res = balance_arrays(
        w, ip, ix, 4, tolerance=0.05, x=x, y=y, objective=objective, time_limit=2.5, workers=2
    )
    assert res.report.stats.get("processes") == 2
    assert_valid(res, ip, ix, w, 4, 0.05)


def test_both_objective_and_capacities():
    ip, ix, x, y = random_graph(90, 8)
    w = np.ones(90)
    cap = np.array([1.0, 2.0])
    res = balance_arrays(
        w, ip, ix, 2, tolerance=0.05, x=x, y=y, objective="both", capacities=cap, time_limit=2
    )
    rep = res.report
    assert rep.contiguous and rep.within_tolerance
    assert rep.territories[1].target == pytest.approx(60.0)


# -- infeasibility ---------------------------------------------------------------------


def test_unit_too_heavy_is_best_effort_with_the_reachable_tolerance():
    # a unit heavier than the target: no plan can be within ±10 %, and the run says by
    # how much at best (the unit against the target) instead of failing
    ip, ix = lattice(2, 3)
    w = np.array([1, 1, 1, 1, 1, 20.0])
    res = balance_arrays(w, ip, ix, 2, tolerance=0.1, time_limit=1, ids=list("abcdef"))
    bound = w.max() / (w.sum() / 2) - 1  # 20 / 12.5 - 1 = 60 %
    rep = res.report
    assert rep.reachable_tolerance == pytest.approx(bound)
    assert not rep.tolerance_reachable and not rep.within_tolerance
    assert rep.max_deviation >= bound - 1e-9
    note = next(n for n in rep.notes if "out of reach" in n)
    assert "unit 'f' weighs 20.00" in note and "±60.0%" in note and "Split" in note
    assert rep.notes[-1].startswith("the plan misses the tolerance")


def test_locks_overloading_a_manager_are_kept_and_bound_the_tolerance():
    ip, ix = lattice(2, 4)
    w = np.ones(8)
    locks = np.array([0, 0, 0, 0, 0, -1, -1, -1])
    res = balance_arrays(w, ip, ix, 2, tolerance=0.1, locks=locks, time_limit=1)
    assert np.all(res.labels[locks >= 0] == 0)
    assert res.report.reachable_tolerance == pytest.approx(5 / 4 - 1)
    assert any("locked to manager 0 weigh 5.00" in n for n in res.report.notes)


def path_graph(n: int) -> tuple[np.ndarray, np.ndarray]:
    return csr_from_edges(n, np.array([(i, i + 1) for i in range(n - 1)]))


def test_infeasible_locks_too_far_apart():
    ip, ix = path_graph(10)
    locks = np.full(10, -1)
    locks[[0, 9]] = 0  # one manager at both ends: the territory would be the whole path
    with pytest.raises(
        InfeasibleError,
        match=r"(?s)joining the units locked to manager 0 \(0 to 9\) takes at least 10\.00 .*"
        r"locked 2\.00 \+ the lightest connecting path 8\.00.*upper bound 5\.50.*unlock",
    ):
        balance_arrays(np.ones(10), ip, ix, 2, tolerance=0.1, locks=locks, time_limit=1)


def test_infeasible_locks_cut_apart_by_other_locks():
    ip, ix = path_graph(10)
    locks = np.full(10, -1)
    locks[[0, 5]] = 0
    locks[4] = 1
    with pytest.raises(InfeasibleError, match=r"manager 0 \(0 and 5\) are cut apart"):
        balance_arrays(np.ones(10), ip, ix, 2, tolerance=0.5, locks=locks, time_limit=1)


def test_infeasible_locks_fence_a_manager_in():
    ip, ix = path_graph(10)
    locks = np.full(10, -1)
    locks[1], locks[2] = 0, 1  # manager 0 can only have units 0 and 1
    with pytest.raises(
        InfeasibleError,
        match=r"(?s)manager 0 can reach at most 2\.00 of workload.*lower bound 4\.00",
    ):
        balance_arrays(np.ones(10), ip, ix, 2, tolerance=0.2, locks=locks, time_limit=1)


def test_infeasible_locks_force_too_much_on_a_manager():
    # a pocket of 7 units behind manager 0's locked unit 7; a shared region 8..19 that
    # managers 1 and 2 (locked at 20 and 21) reach too. Every manager has a lock, so the
    # pocket is manager 0's: 8 units against an upper bound of 22/3 * 1.05 = 7.70
    e = [(i, i + 1) for i in range(19)] + [(19, 20), (13, 21)]
    ip, ix = csr_from_edges(22, np.array(e))
    locks = np.full(22, -1)
    locks[7], locks[20], locks[21] = 0, 1, 2
    with pytest.raises(
        InfeasibleError,
        match=r"(?s)manager 0 must take at least 8\.00 of workload.*upper bound 7\.70",
    ):
        balance_arrays(np.ones(22), ip, ix, 3, tolerance=0.05, locks=locks, time_limit=1)


@pytest.mark.parametrize("seed", range(6))
def test_lock_checks_never_reject_a_feasible_plan(seed):
    # locks taken from a valid plan can always be kept: no lock message may fire
    rng = np.random.default_rng(seed)
    ip, ix, _x, _y = random_graph(80, seed)
    w = rng.lognormal(2, 0.5, 80)
    plan = balance_arrays(w, ip, ix, 4, tolerance=0.05, time_limit=1, seed=seed)
    assert plan.report.within_tolerance and plan.report.contiguous
    for frac in (0.1, 0.5, 0.9):
        locks = np.where(rng.random(80) < frac, plan.labels, -1)
        res = balance_arrays(w, ip, ix, 4, tolerance=0.05, locks=locks, time_limit=1, seed=seed)
        assert np.all(res.labels[locks >= 0] == locks[locks >= 0])


def test_disconnected_part_too_big_is_best_effort():
    # a path of 5 units and a separate path of 3: target 4, so each part holds one
    # territory at best, 25 % off: the bound of the parts
    e = [(0, 1), (1, 2), (2, 3), (3, 4), (5, 6), (6, 7)]
    ip, ix = csr_from_edges(8, np.array(e))
    res = balance_arrays(np.ones(8), ip, ix, 2, tolerance=0.05, time_limit=1)
    assert res.report.reachable_tolerance == pytest.approx(0.25)
    assert res.report.max_deviation == pytest.approx(0.25)
    assert res.report.contiguous
    assert any(
        "a part of 5 unit(s) with no neighbour outside it (0, 1, 2…) weighs 5.00" in n
        for n in res.report.notes
    )


def test_infeasible_parts_need_more_managers():
    ip, ix = csr_from_edges(3, np.zeros((0, 2), dtype=np.int64))  # three islands
    with pytest.raises(InfeasibleError, match=r"3 disconnected parts that need between 3 and 3"):
        balance_arrays(np.ones(3), ip, ix, 2, tolerance=0.5, time_limit=1)


def test_infeasible_locks_in_two_disconnected_parts():
    e = [(0, 1), (1, 2), (3, 4), (4, 5)]
    ip, ix = csr_from_edges(6, np.array(e))
    locks = np.array([0, -1, -1, 0, -1, -1])
    with pytest.raises(InfeasibleError, match=r"locked to manager 0 \(0 and 3\) are in 2 disc"):
        balance_arrays(np.ones(6), ip, ix, 2, tolerance=0.1, locks=locks, time_limit=1)


def test_disconnected_pair_bounds_the_tolerance():
    # a 2x3 block and a separate pair, 2 managers (target 4): the pair holds one
    # territory at -50 % whatever the search does
    e = [(0, 1), (1, 2), (3, 4), (4, 5), (0, 3), (1, 4), (2, 5), (6, 7)]
    ip, ix = csr_from_edges(8, np.array(e))
    w = np.ones(8)
    res = balance_arrays(w, ip, ix, 2, tolerance=0.05, time_limit=1)
    assert res.report.reachable_tolerance == pytest.approx(0.5)
    assert res.report.max_deviation == pytest.approx(0.5)
    assert len(set(res.labels[6:])) == 1 and res.labels[6] not in set(res.labels[:6])


def test_disconnected_parts_each_get_whole_territories():
    e = [(0, 1), (1, 2), (2, 3), (4, 5), (5, 6), (6, 7)]
    ip, ix = csr_from_edges(8, np.array(e))
    w = np.ones(8)
    res = balance_arrays(w, ip, ix, 4, tolerance=0.0, time_limit=2)
    assert_valid(res, ip, ix, w, 4, 0.0)
    assert res.report.cut_edges == 2


def test_infeasible_more_managers_than_units():
    ip, ix = lattice(1, 3)
    with pytest.raises(InfeasibleError, match=r"5 managers but only 3 units"):
        balance_arrays(np.ones(3), ip, ix, 5, time_limit=1)


# -- second level ----------------------------------------------------------------------


def test_group_into_areas():
    ip, ix = lattice(6, 6)
    w = np.ones(36)
    terr = balance_arrays(w, ip, ix, 6, tolerance=0.0, time_limit=3)
    tw = np.bincount(terr.labels, weights=w, minlength=6)
    areas = group_into_areas(terr.labels, (ip, ix), tw, area_size=3, tolerance=0.0, time_limit=2)
    assert areas.labels.shape == (6,)
    assert sorted(np.bincount(areas.labels).tolist()) == [3, 3]
    assert areas.report.contiguous
