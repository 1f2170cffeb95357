"""Recombination (gridplan._balance.recom): re-splits of two adjacent territories."""

from __future__ import annotations

from collections import deque

import numpy as np
import pytest

from gridplan._balance.engine import EngineInput, optimise
from gridplan._balance.recom import _window, pair_splits, recom_applies, recom_balance
from gridplan._balance.search import State
from tests.conftest import lattice_lists


def _connected_nodes(adj: list[list[int]], nodes: list[int]) -> bool:
    if not nodes:
        return False
    inside = set(nodes)
    seen = {nodes[0]}
    q = deque([nodes[0]])
    while q:
        u = q.popleft()
        for v in adj[u]:
            if v in inside and v not in seen:
                seen.add(v)
                q.append(v)
    return len(seen) == len(inside)


def _contiguous(adj: list[list[int]], lab: list[int], k: int) -> bool:
    return all(_connected_nodes(adj, [i for i, x in enumerate(lab) if x == d]) for d in range(k))


def _masks(adj: list[list[int]]) -> list[int]:
    return [sum(1 << j for j in adj[i]) for i in range(len(adj))]


def _brute_splits(adj, wt, window, lock_a, lock_b) -> set[int]:
    """Every A (bit set) of a connected bipartition with A's weight in the window."""
    n = len(adj)
    out = set()
    for a in range(1, (1 << n) - 1):
        if (a & lock_b) or (lock_a & ~a):
            continue
        wa = sum(wt[i] for i in range(n) if (a >> i) & 1)
        if not (window[0] <= wa <= window[1]):
            continue
        side_a = [i for i in range(n) if (a >> i) & 1]
        side_b = [i for i in range(n) if not (a >> i) & 1]
        if _connected_nodes(adj, side_a) and _connected_nodes(adj, side_b):
            out.add(a)
    return out


@pytest.mark.parametrize("seed", range(6))
def test_pair_splits_finds_every_connected_bipartition_once(seed: int) -> None:
    rng = np.random.default_rng(seed)
    rows, cols = (3, 4) if seed % 2 else (2, 6)
    adj = lattice_lists(rows, cols)
    n = rows * cols
    # drop a few edges (keeping the graph connected) so the shapes are irregular
    for _ in range(3):
        i = int(rng.integers(n))
        if len(adj[i]) > 1:
            j = adj[i][int(rng.integers(len(adj[i])))]
            adj[i].remove(j)
            adj[j].remove(i)
            if not _connected_nodes(adj, list(range(n))):
                adj[i].append(j)
                adj[j].append(i)
    wt = [int(v) for v in rng.integers(5, 30, n)]
    tot = sum(wt)
    window = (0.35 * tot, 0.6 * tot) if seed < 3 else (0.0, float(tot))
    lock_a = (1 << int(rng.integers(n))) if seed in (1, 4) else 0
    lock_b = (1 << int(rng.integers(n))) & ~lock_a if seed in (2, 4) else 0
    got, count = pair_splits(_masks(adj), wt, window, lock_a=lock_a, lock_b=lock_b)
    assert len(got) == len(set(got))  # each bipartition once
    assert set(got) == _brute_splits(adj, wt, window, lock_a, lock_b)
    assert count >= 1


def test_pair_splits_stops_at_its_work_cap() -> None:
    adj = lattice_lists(3, 4)
    wt = [1] * 12
    full, count_full = pair_splits(_masks(adj), wt, (0.0, 12.0))
    part, count = pair_splits(_masks(adj), wt, (0.0, 12.0), max_sets=10)
    assert count == 10 < count_full
    assert set(part) <= set(full)


def test_window_is_the_sublevel_set_of_a_convex_energy() -> None:
    def energy(x: float) -> float:
        return (x - 40) ** 2

    assert _window(energy, 100, 26.0) == (35.0, 45.0)  # (x-40)^2 < 26: 35..45
    assert _window(energy, 100, 0.5) == (40.0, 40.0)
    assert _window(energy, 100, 0.0) == (1.0, 0.0)  # empty
    assert _window(energy, 100, 1e9) == (0.0, 100.0)


#: a 4 x 6 lattice, 6 territories of 4 nodes; node weights 80-125 (a band of +-3 % is
#: about 25 wide, narrower than any node), a start of vertical 2 x 2 blocks off its bands
ROWS, COLS, K = 4, 6, 6
WEIGHTS = [
    112, 95, 101, 88, 120, 97,
    83, 118, 99, 105, 91, 110,
    104, 86, 123, 94, 100, 89,
    97, 109, 92, 115, 84, 102,
]  # fmt: skip


def _bands() -> tuple[list[int], list[int], list[int]]:
    t = sum(WEIGHTS) / K
    return [int(np.ceil(t * 0.97))] * K, [int(t * 1.03)] * K, [round(t)] * K


def _blocks() -> list[int]:
    return [(i // COLS // 2) * 3 + (i % COLS) // 2 for i in range(ROWS * COLS)]


def _plan_within_bands_exists() -> bool:
    """Brute force: connected node sets within the band (grown node by node), then an
    exact cover of the lattice by K of them."""
    adj = lattice_lists(ROWS, COLS)
    lo, hi, _ = _bands()
    n = ROWS * COLS
    sets: set[int] = set()
    layer = {1 << i for i in range(n)}
    for _size in range(1, 7):
        nxt = set()
        for s in layer:
            w = sum(WEIGHTS[i] for i in range(n) if (s >> i) & 1)
            if lo[0] <= w <= hi[0]:
                sets.add(s)
            if w < hi[0]:
                for i in range(n):
                    if (s >> i) & 1:
                        for j in adj[i]:
                            if not (s >> j) & 1:
                                nxt.add(s | (1 << j))
        layer = nxt
    by_low: dict[int, list[int]] = {}
    for s in sets:
        by_low.setdefault((s & -s).bit_length() - 1, []).append(s)
    full = (1 << n) - 1

    def cover(used: int, left: int) -> bool:
        if used == full:
            return left == 0
        free = ~used & full
        low = (free & -free).bit_length() - 1
        return left > 0 and any(
            cover(used | s, left - 1) for s in by_low.get(low, []) if not s & used
        )

    return cover(0, K)


def test_the_lattice_has_a_plan_within_the_bands_that_single_moves_miss() -> None:
    assert _plan_within_bands_exists()
    lo, hi, _ = _bands()
    st = State(lattice_lists(ROWS, COLS), WEIGHTS, lo, hi, _blocks())
    assert st.violation() > 0


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_recom_reaches_the_bands_and_keeps_territories_contiguous(seed: int) -> None:
    adj = lattice_lists(ROWS, COLS)
    lo, hi, target = _bands()
    st = State(adj, WEIGHTS, lo, hi, _blocks())
    info = recom_balance(st, np.random.default_rng(seed), target=target, work=2_000_000)
    assert st.violation() == 0 == info["violation_after"]
    assert info["stopped_by"] == "within bands"
    assert _contiguous(adj, st.lab, K)
    assert sorted(set(st.lab)) == list(range(K))


def test_recom_is_deterministic_and_keeps_locks() -> None:
    adj = lattice_lists(ROWS, COLS)
    lo, hi, target = _bands()
    start = _blocks()
    locked = [False] * (ROWS * COLS)
    for i in (0, 5, 18, 23):
        locked[i] = True
    runs = []
    for _ in range(2):
        st = State(adj, WEIGHTS, lo, hi, start, locked=locked)
        recom_balance(st, np.random.default_rng(7), target=target, work=300_000)
        runs.append(list(st.lab))
        assert _contiguous(adj, st.lab, K)
        assert all(st.lab[i] == start[i] for i in (0, 5, 18, 23))
    assert runs[0] == runs[1]


def test_recom_never_ends_worse_than_it_started() -> None:
    adj = lattice_lists(ROWS, COLS)
    lo, hi, target = _bands()
    st = State(adj, WEIGHTS, lo, hi, _blocks())
    before = (st.violation(), st.objective())
    recom_balance(st, np.random.default_rng(3), target=target, work=2_000)  # a tiny budget
    assert (st.violation(), st.objective()) <= before
    assert _contiguous(adj, st.lab, K)


def test_recom_applies_only_with_few_nodes_per_territory() -> None:
    assert recom_applies(800, 100)
    assert not recom_applies(2_000, 30)
    assert not recom_applies(10, 1)


def test_the_engine_balances_the_lattice_with_a_work_budget() -> None:
    adj = lattice_lists(ROWS, COLS)
    lo, hi, target = _bands()
    edges = [(i, j) for i in range(len(adj)) for j in adj[i] if i < j]
    inp = EngineInput(
        adj=adj, edges=np.array(edges), weight=WEIGHTS, lo=lo, hi=hi, target=target,
        locked=[-1] * len(adj),
    )  # fmt: skip
    outs = [optimise(inp, seed=0, time_limit=60.0, work_limit=1.0).labels for _ in range(2)]
    assert outs[0] == outs[1]
    st = State(adj, WEIGHTS, lo, hi, outs[0])
    assert st.violation() == 0
    assert _contiguous(adj, outs[0], K)


def _engine_input(adj: list[list[int]], weights: list[int], k: int, tol: float) -> EngineInput:
    t = sum(weights) / k
    edges = [(i, j) for i in range(len(adj)) for j in adj[i] if i < j]
    return EngineInput(
        adj=adj, edges=np.array(edges), weight=weights, lo=[int(np.ceil(t * (1 - tol)))] * k,
        hi=[int(t * (1 + tol))] * k, target=[round(t)] * k, locked=[-1] * len(adj),
    )  # fmt: skip


def test_a_plan_within_the_bands_half_way_is_searched_as_without_recombination(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # 6 x 8 lattice, 6 territories of 8 nodes (few nodes per territory), weights 1..3
    # and bands of +-10 %: the annealing is within the bands long before half-way
    adj = lattice_lists(6, 8)
    weights = [1 + (i * 7) % 3 for i in range(48)]
    inp = _engine_input(adj, weights, 6, 0.10)
    assert recom_applies(48, 6)
    res = optimise(inp, seed=1, time_limit=60.0, work_limit=1.0)
    assert res.violation == 0 and "recom" not in res.stats
    import gridplan._balance.engine as engine

    monkeypatch.setattr(engine, "recom_applies", lambda n, k: False)
    plain = optimise(_engine_input(adj, weights, 6, 0.10), seed=1, time_limit=60.0, work_limit=1.0)
    assert plain.labels == res.labels and plain.objective == res.objective


@pytest.mark.parametrize("seed", range(8))
def test_recom_keeps_its_off_band_count_exact(seed: int) -> None:
    """The loop tracks the off-band weight incrementally: it stops 'within bands' only
    when the plan is, and reports the plan's true off-band weight."""
    rng = np.random.default_rng(seed)
    adj = lattice_lists(4, 6)
    weights = [int(x) for x in rng.integers(60, 140, 24)]
    k = 6
    t = sum(weights) / k
    lo, hi = [int(np.ceil(t * 0.97))] * k, [int(t * 1.03)] * k
    st = State(adj, weights, lo, hi, _blocks())
    info = recom_balance(
        st, np.random.default_rng(seed), target=[round(t)] * k, work=int(rng.integers(500, 50_000))
    )
    assert info["violation_after"] == st.violation() <= info["violation_before"]
    assert (info["stopped_by"] == "within bands") == (st.violation() == 0)
    assert _contiguous(adj, st.lab, k)
