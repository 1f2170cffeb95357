"""Balance engine: invariants, exact small cases, locks, disruption, determinism, errors."""

from __future__ import annotations

import json

import numpy as np
import pytest

from gridplan.balance import balance_arrays, group_into_areas
from gridplan.balance_graph import (
    csr_from_edges,
    delaunay_edges,
    edge_array,
    is_connected_subset,
)
from gridplan.errors import InfeasibleError


def lattice(r: int, c: int) -> tuple[np.ndarray, np.ndarray]:
    e = []
    for i in range(r):
        for j in range(c):
            u = i * c + j
            if j + 1 < c:
                e.append((u, u + 1))
            if i + 1 < r:
                e.append((u, u + c))
    return csr_from_edges(r * c, np.array(e))


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


@pytest.mark.parametrize(("r", "c", "k", "best"), [(2, 4, 2, 2), (4, 4, 4, 8), (3, 3, 3, 6)])
def test_exact_small_lattices(r, c, k, best):
    ip, ix = lattice(r, c)
    w = np.ones(r * c)
    res = balance_arrays(w, ip, ix, k, tolerance=0.0, time_limit=10)
    assert_valid(res, ip, ix, w, k, 0.0)
    assert res.report.cut_edges == best
    assert res.report.stopped_by == "convergence"  # proven optimal by CP-SAT


def brute_force_min_cut(ip, ix, w, k, tol):
    """Optimum by enumeration (tiny graphs only)."""
    import itertools

    n = w.size
    edges = edge_array(ip, ix)
    target = w.sum() / k
    best = None
    for lab in itertools.product(range(k), repeat=n - 1):
        lab = np.array((0, *lab))
        ok = True
        for d in range(k):
            m = np.flatnonzero(lab == d)
            if m.size == 0 or abs(w[m].sum() - target) > tol * target + 1e-9:
                ok = False
                break
            if not is_connected_subset(ip, ix, m):
                ok = False
                break
        if ok:
            cut = int(np.count_nonzero(lab[edges[:, 0]] != lab[edges[:, 1]]))
            best = cut if best is None else min(best, cut)
    return best


def test_matches_enumeration_on_weighted_graph():
    ip, ix, _, _ = random_graph(10, 3)
    w = np.array([5, 3, 8, 2, 7, 4, 6, 1, 9, 5], dtype=float)
    best = brute_force_min_cut(ip, ix, w, 2, 0.1)
    res = balance_arrays(w, ip, ix, 2, tolerance=0.1, time_limit=10)
    assert_valid(res, ip, ix, w, 2, 0.1)
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


def test_infeasible_unit_too_heavy():
    ip, ix = lattice(2, 3)
    w = np.array([1, 1, 1, 1, 1, 20.0])
    with pytest.raises(InfeasibleError, match=r"(?s)unit 5 weighs 20\.00.*13\.75.*split"):
        balance_arrays(w, ip, ix, 2, tolerance=0.1, time_limit=1)


def test_infeasible_locks_overload_manager():
    ip, ix = lattice(2, 4)
    w = np.ones(8)
    locks = np.array([0, 0, 0, 0, 0, -1, -1, -1])
    with pytest.raises(InfeasibleError, match=r"locked to manager 0 weigh 5\.00, above"):
        balance_arrays(w, ip, ix, 2, tolerance=0.1, locks=locks, time_limit=1)


def test_infeasible_disconnected_part():
    # a 2x3 block and a separate pair: the pair (weight 2) cannot hold a whole territory
    e = [(0, 1), (1, 2), (3, 4), (4, 5), (0, 3), (1, 4), (2, 5), (6, 7)]
    ip, ix = csr_from_edges(8, np.array(e))
    w = np.ones(8)
    with pytest.raises(InfeasibleError, match=r"disconnected group of \d unit.*whole number"):
        balance_arrays(w, ip, ix, 2, tolerance=0.05, time_limit=1)


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
