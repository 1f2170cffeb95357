"""Service + marketing pairing (一主一辅): brute-force optima on tiny graphs, sizes,
contiguity, units, corner cases, determinism."""

from __future__ import annotations

import itertools
from dataclasses import replace

import numpy as np
import pytest

from gridplan._balance.pairing_columns import connected_sets
from gridplan.balance import (
    PairingConfig,
    PairingResult,
    delaunay_edges,
    group_count,
    pair_marketing,
)
from gridplan.errors import InputError
from gridplan.graph import Adjacency, csr_from_edges, is_connected_subset
from tests.conftest import lattice

HEURISTIC = PairingConfig(exact_max=0, lns_groups=0)  # the local search alone


def graph(n: int, edges: list[tuple[int, int]]) -> tuple[np.ndarray, np.ndarray]:
    return csr_from_edges(n, np.array(edges, dtype=np.int64).reshape(-1, 2))


def partitions(n: int):
    """Every set partition of 0..n-1 as a restricted-growth label array."""

    def rec(i: int, lab: list[int], k: int):
        if i == n:
            yield np.array(lab)
            return
        for g in range(k + 1):
            lab.append(g)
            yield from rec(i + 1, lab, max(k, g + 1))
            lab.pop()

    yield from rec(0, [], 0)


def brute_force(ip, ix, w, G: int, lo: int, hi: int) -> tuple[float, float] | None:
    """The lexicographic optimum (max |W_g - mean|, sum of squares) over every
    grouping into ``G`` contiguous groups of ``lo..hi`` territories (``None``: none)."""
    best = None
    mean = w.sum() / G
    for lab in partitions(w.size):
        if lab.max() + 1 != G:
            continue
        sizes = np.bincount(lab, minlength=G)
        if sizes.min() < lo or sizes.max() > hi:
            continue
        if not all(is_connected_subset(ip, ix, np.flatnonzero(lab == g)) for g in range(G)):
            continue
        d = np.bincount(lab, weights=w, minlength=G) - mean
        key = (float(np.abs(d).max()), float((d * d).sum()))
        if best is None or key < best:
            best = key
    return best


def objective(res: PairingResult) -> tuple[float, float]:
    d = res.weights - res.targets
    return float(np.abs(d).max()), float((d * d).sum())


def assert_valid(res: PairingResult, ip, ix, w, within=None, lo=None, hi=None):
    T = w.size
    assert res.labels.shape == (T,)
    G = res.n_groups
    assert sorted(set(res.labels.tolist())) == list(range(G))
    np.testing.assert_array_equal(res.sizes, np.bincount(res.labels, minlength=G))
    np.testing.assert_allclose(res.weights, np.bincount(res.labels, weights=w, minlength=G))
    for g in range(G):
        members = np.flatnonzero(res.labels == g)
        assert is_connected_subset(ip, ix, members), f"group {g} is not contiguous"
        if within is not None:
            assert len(set(np.asarray(within)[members].tolist())) == 1, f"group {g} spans units"
            assert res.units[g] == np.asarray(within)[members[0]]
    if lo is not None:
        assert res.sizes.min() >= lo and res.sizes.max() <= hi


CASES = [
    ("path7", 7, [(i, i + 1) for i in range(6)], [5, 1, 4, 4, 2, 6, 3], 3),
    ("lattice3x3", None, "3x3", [3, 7, 1, 5, 9, 2, 6, 4, 8], 3),
    ("cycle8", 8, [(i, (i + 1) % 8) for i in range(8)], [9, 1, 1, 8, 2, 7, 3, 6], 3),
    ("tree9", 9, [(0, 1), (0, 2), (1, 3), (1, 4), (2, 5), (2, 6), (5, 7), (6, 8)],
     [4, 4, 3, 9, 1, 7, 2, 5, 6], 3),
    ("lattice2x4_ratio2", None, "2x4", [1, 9, 2, 8, 3, 7, 4, 6], 2),
    ("lattice2x4_ratio4", None, "2x4", [10, 1, 1, 10, 5, 5, 2, 6], 4),
]  # fmt: skip


@pytest.mark.parametrize("name,n,edges,weights,ratio", CASES, ids=[c[0] for c in CASES])
def test_exact_matches_brute_force(name, n, edges, weights, ratio):
    if edges in ("3x3", "2x4"):
        ip, ix = lattice(*(int(v) for v in edges.split("x")))
    else:
        ip, ix = graph(n, edges)
    w = np.array(weights, dtype=float)
    G, lo, hi, _ = group_count(w.size, ratio)
    res = pair_marketing((ip, ix), w, ratio, time_limit=30, work_limit=10)
    assert_valid(res, ip, ix, w, lo=lo, hi=hi)
    assert res.n_groups == G
    assert res.stats["parts"][0]["method"] == "exact"
    assert res.stats["parts"][0]["model"] == "columns"
    opt = brute_force(ip, ix, w, G, lo, hi)
    got = objective(res)
    assert got[0] == pytest.approx(opt[0], abs=1e-9)
    assert got[1] == pytest.approx(opt[1], abs=1e-9)


@pytest.mark.parametrize("name,n,edges,weights,ratio", CASES[:4], ids=[c[0] for c in CASES[:4]])
def test_flow_model_matches_brute_force(name, n, edges, weights, ratio):
    """With no room for the listed groups the flow model (contiguity by flows) runs."""
    if edges in ("3x3", "2x4"):
        ip, ix = lattice(*(int(v) for v in edges.split("x")))
    else:
        ip, ix = graph(n, edges)
    w = np.array(weights, dtype=float)
    G, lo, hi, _ = group_count(w.size, ratio)
    cfg = PairingConfig(max_columns=0)
    res = pair_marketing((ip, ix), w, ratio, time_limit=30, work_limit=10, config=cfg)
    assert_valid(res, ip, ix, w, lo=lo, hi=hi)
    part = res.stats["parts"][0]
    assert (part["method"], part["model"]) == ("exact", "flow")
    opt = brute_force(ip, ix, w, G, lo, hi)
    assert objective(res) == pytest.approx(opt, abs=1e-9)


def test_connected_sets_lists_each_connected_group_once():
    ip, ix = lattice(3, 3)
    nbrs = [ix[ip[u] : ip[u + 1]].tolist() for u in range(9)]
    got = connected_sets(nbrs, 2, 4, 10**6)
    assert len(got) == len(set(got))
    want = {
        c
        for k in range(2, 5)
        for c in itertools.combinations(range(9), k)
        if is_connected_subset(ip, ix, np.array(c))
    }
    assert set(got) == want
    assert connected_sets(nbrs, 2, 4, 5) is None  # past the limit


def test_zero_weights_give_zero_deviation():
    ip, ix = lattice(2, 4)
    res = pair_marketing((ip, ix), np.zeros(8), 4)
    assert_valid(res, ip, ix, np.zeros(8), lo=3, hi=5)
    assert res.max_deviation == 0.0 and np.all(res.targets == 0)


def test_fractional_weights_reach_the_brute_force_optimum():
    ip, ix = lattice(3, 3)
    w = np.array([0.31, 1.7, 2.25, 0.9, 1.1, 3.3, 0.45, 2.05, 1.6])
    res = pair_marketing((ip, ix), w, 3, time_limit=30, work_limit=10)
    G, lo, hi, _ = group_count(9, 3)
    opt = brute_force(ip, ix, w, G, lo, hi)
    assert objective(res)[0] == pytest.approx(opt[0], abs=1e-6)


def test_heuristic_alone_gives_valid_groups_near_the_optimum():
    ip, ix = lattice(3, 3)
    w = np.array([3, 7, 1, 5, 9, 2, 6, 4, 8], dtype=float)
    res = pair_marketing((ip, ix), w, 3, config=HEURISTIC)
    G, lo, hi, _ = group_count(9, 3)
    assert_valid(res, ip, ix, w, lo=lo, hi=hi)
    assert res.stats["parts"][0]["method"] == "heuristic"
    # on a graph this small the local search finds the optimum too
    assert objective(res)[0] == pytest.approx(brute_force(ip, ix, w, G, lo, hi)[0])


def test_large_unit_uses_the_heuristic_and_the_exact_polish():
    ip, ix = lattice(9, 9)
    w = np.random.default_rng(3).integers(1, 40, 81).astype(float)
    res = pair_marketing((ip, ix), w, 4, config=PairingConfig(exact_max=40), work_limit=2)
    assert_valid(res, ip, ix, w, lo=3, hi=5)
    assert res.n_groups == 20
    part = res.stats["parts"][0]
    assert part["model"] == "lns" and part["lns_solved"] > 0
    assert res.max_deviation < 0.25
    assert not res.notes
    # the exact polish only ever improves the local search's plan
    alone = pair_marketing((ip, ix), w, 4, config=replace(HEURISTIC, lns_work=0.4), work_limit=2)
    assert objective(res) <= objective(alone)


@pytest.mark.parametrize("seed", range(4))
def test_heuristic_keeps_groups_contiguous_on_random_graphs(seed):
    rng = np.random.default_rng(seed)
    pts = rng.random((60, 2))
    ip, ix = csr_from_edges(60, delaunay_edges(pts[:, 0], pts[:, 1]))
    w = rng.gamma(2.0, 10.0, 60)
    within = (pts[:, 0] > 0.5).astype(int)
    res = pair_marketing((ip, ix), w, 4, within=within, seed=seed, config=HEURISTIC)
    assert_valid(res, ip, ix, w, within=within)
    for p in res.stats["parts"]:
        assert p["size_violation"] == 0 or any("miss" in n for n in res.notes)


def test_groups_never_span_units():
    ip, ix = lattice(6, 6)
    w = np.random.default_rng(0).integers(1, 20, 36).astype(float)
    col = np.arange(36) % 6
    within = np.where(col < 2, "b1", np.where(col < 4, "b2", "b3"))
    res = pair_marketing((ip, ix), w, 4, within=within, time_limit=20, work_limit=3)
    assert_valid(res, ip, ix, w, within=within, lo=3, hi=5)
    assert res.n_groups == 9  # 12 territories per unit -> 3 groups each
    assert res.units == ("b1",) * 3 + ("b2",) * 3 + ("b3",) * 3
    # the targets are each unit's own mean group weight
    for u in ("b1", "b2", "b3"):
        g = [i for i, x in enumerate(res.units) if x == u]
        assert res.targets[g] == pytest.approx(w[within == u].sum() / 3)


def test_unit_of_one_territory_is_one_group_with_a_note():
    ip, ix = lattice(3, 3)
    w = np.ones(9)
    within = np.array(["a"] * 8 + ["b"])
    res = pair_marketing((ip, ix), w, 4, within=within, time_limit=10, work_limit=2)
    assert_valid(res, ip, ix, w, within=within)
    assert res.units[-1] == "b" and res.sizes[-1] == 1
    assert any("'b'" in n and "one group" in n for n in res.notes)
    assert sorted(res.sizes[:-1].tolist()) == [4, 4]


def test_disconnected_unit_groups_each_part_on_its_own():
    # two separate paths of 4 and 6 territories in one unit (no edge between them)
    edges = [(0, 1), (1, 2), (2, 3), (4, 5), (5, 6), (6, 7), (7, 8), (8, 9)]
    ip, ix = graph(10, edges)
    w = np.arange(1, 11, dtype=float)
    res = pair_marketing((ip, ix), w, 4, within=np.zeros(10, int), time_limit=10, work_limit=2)
    assert_valid(res, ip, ix, w, lo=3, hi=5)
    assert res.n_groups == 3  # 1 group on the 4-path, 2 on the 6-path
    assert set(res.labels[:4].tolist()).isdisjoint(res.labels[4:].tolist())
    assert any("disconnected parts" in n for n in res.notes)


def test_impossible_sizes_are_reported_and_groups_stay_contiguous():
    # a star: only the group holding the centre can be contiguous beyond one leaf
    ip, ix = graph(7, [(0, i) for i in range(1, 7)])
    w = np.ones(7)
    res = pair_marketing((ip, ix), w, 3, time_limit=10, work_limit=2)
    assert_valid(res, ip, ix, w)
    assert res.stats["parts"][0]["exact"] == "INFEASIBLE"
    assert any("no contiguous grouping" in n for n in res.notes)
    assert any("miss" in n for n in res.notes)


def test_same_seed_same_labels():
    ip, ix = lattice(7, 7)
    w = np.random.default_rng(5).integers(1, 30, 49).astype(float)
    within = np.where(np.arange(49) < 21, 1, 2)  # 21 territories (exact) and 28 (exact)
    a = pair_marketing((ip, ix), w, 4, within=within, seed=3, time_limit=60, work_limit=0.3)
    b = pair_marketing((ip, ix), w, 4, within=within, seed=3, time_limit=60, work_limit=0.3)
    np.testing.assert_array_equal(a.labels, b.labels)
    big_ip, big_ix = lattice(8, 8)  # 64 territories: local search + exact polish
    bw = np.random.default_rng(6).integers(1, 30, 64).astype(float)
    p1 = pair_marketing((big_ip, big_ix), bw, 4, seed=2, time_limit=60, work_limit=0.5)
    p2 = pair_marketing((big_ip, big_ix), bw, 4, seed=2, time_limit=60, work_limit=0.5)
    assert p1.stats["parts"][0]["model"] == "lns"
    np.testing.assert_array_equal(p1.labels, p2.labels)
    h1 = pair_marketing((ip, ix), w, 4, seed=7, config=HEURISTIC)
    h2 = pair_marketing((ip, ix), w, 4, seed=7, config=HEURISTIC)
    np.testing.assert_array_equal(h1.labels, h2.labels)


def test_group_count():
    assert group_count(8, 4) == (2, 3, 5, None)
    assert group_count(11, 4)[0] == 3
    assert group_count(3, 4) == (1, 3, 5, None)
    assert group_count(2, 4)[:3] == (1, 2, 2) and group_count(2, 4)[3]
    # 10 territories at ratio 10 -> 1; 14 at ratio 10 fits no count of 9..11 -> widened
    assert group_count(10, 10) == (1, 9, 11, None)
    g, lo, hi, note = group_count(14, 10)
    assert note and g * lo <= 14 <= g * hi
    for n, r in itertools.product(range(1, 30), range(2, 7)):
        g, lo, hi, _ = group_count(n, r)
        assert g >= 1 and g * lo <= n <= g * hi


def test_edges_input_and_errors():
    w = np.array([1.0, 2, 3, 4, 5, 6])
    edges = np.array([(i, i + 1) for i in range(5)])
    res = pair_marketing(edges, w, 3)
    via_adjacency = pair_marketing(Adjacency.from_edges(6, edges), w, 3)
    np.testing.assert_array_equal(res.labels, via_adjacency.labels)
    assert res.n_groups == 2 and sorted(res.sizes.tolist()) == [2, 4]  # 1+2+3+4 | 5+6
    with pytest.raises(InputError):
        pair_marketing(edges, w, 0)
    with pytest.raises(InputError):
        pair_marketing(edges, w, 3, within=np.zeros(4))
