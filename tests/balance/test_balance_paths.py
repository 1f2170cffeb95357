"""Path moves (gridplan._balance.paths): weight carried along a path of territories."""

from __future__ import annotations

from collections import deque

import numpy as np

from gridplan._balance.engine import EngineInput, optimise
from gridplan._balance.paths import path_repair
from gridplan._balance.search import State, chain_repair, repair
from tests.conftest import lattice_lists

#: a 3 x 12 lattice cut into four 3-column territories; every node (72-120) weighs more
#: than a band is wide (+-3 % of 885 = 53), territory 0 is 3.6 % over its target and the
#: others are within their bands, so no single move and no push chain ends within them
ROWS, COLS, K = 3, 12, 4
WEIGHTS = [
    113, 116, 120, 93, 97, 95, 105, 73, 76, 104, 88, 84,
    102, 89, 95, 77, 89, 101, 120, 107, 99, 119, 82, 98,
    107, 101, 77, 120, 101, 120, 79, 93, 110, 117, 72, 112,
]  # fmt: skip


def _lattice() -> list[list[int]]:
    return lattice_lists(ROWS, COLS)


def _bands() -> tuple[list[int], list[int]]:
    t = sum(WEIGHTS) / K
    return [int(np.ceil(t * 0.97))] * K, [int(t * 1.03)] * K


def _start() -> list[int]:
    return [(i % COLS) // 3 for i in range(ROWS * COLS)]


def _contiguous(adj: list[list[int]], lab: list[int], k: int) -> bool:
    for d in range(k):
        mem = [i for i, x in enumerate(lab) if x == d]
        if not mem:
            return False
        seen = {mem[0]}
        q = deque([mem[0]])
        while q:
            u = q.popleft()
            for v in adj[u]:
                if lab[v] == d and v not in seen:
                    seen.add(v)
                    q.append(v)
        if len(seen) != len(mem):
            return False
    return True


def test_single_moves_and_push_chains_cannot_reach_the_band():
    adj = _lattice()
    lo, hi = _bands()
    st = State(adj, WEIGHTS, lo, hi, _start())
    assert st.violation() > 0
    assert [d for d in range(K) if not lo[d] <= st.dw[d] <= hi[d]] == [0]
    for seed in range(3):
        st = State(adj, WEIGHTS, lo, hi, _start())
        repair(st, np.random.default_rng(seed))
        chain_repair(st, np.random.default_rng(seed), tries=400)
        assert st.violation() > 0


def test_a_path_move_reaches_the_band_and_keeps_territories_contiguous():
    adj = _lattice()
    lo, hi = _bands()
    st = State(adj, WEIGHTS, lo, hi, _start())
    before = st.violation()
    assert path_repair(st) == before
    assert st.violation() == 0
    assert all(lo[d] <= st.dw[d] <= hi[d] for d in range(K))
    assert _contiguous(adj, st.lab, K)
    # the incremental state agrees with a fresh one
    fresh = State(adj, WEIGHTS, lo, hi, st.lab)
    assert fresh.dw == st.dw and fresh.cut_edges() == st.cut_edges()
    # more than one border moved: the weight went through a third territory
    moved = {st.lab[i] for i, d in enumerate(_start()) if st.lab[i] != d} | {
        d for i, d in enumerate(_start()) if st.lab[i] != d
    }
    assert len(moved) >= 3


def test_path_repair_is_deterministic_and_leaves_a_balanced_plan_alone():
    adj = _lattice()
    lo, hi = _bands()
    a = State(adj, WEIGHTS, lo, hi, _start())
    b = State(adj, WEIGHTS, lo, hi, _start())
    path_repair(a)
    path_repair(b)
    assert a.lab == b.lab
    done = list(a.lab)
    assert path_repair(a) == 0 and a.lab == done


def test_locked_nodes_do_not_move():
    adj = _lattice()
    lo, hi = _bands()
    start = _start()
    locked = [i % COLS in (2, 3) for i in range(ROWS * COLS)]  # the 0|1 border
    st = State(adj, WEIGHTS, lo, hi, start, locked=locked)
    path_repair(st)
    assert all(st.lab[i] == start[i] for i in range(len(start)) if locked[i])
    assert _contiguous(adj, st.lab, K)


def test_the_engine_balances_the_lattice():
    adj = _lattice()
    lo, hi = _bands()
    edges = np.array([(i, j) for i in range(len(adj)) for j in adj[i] if i < j])
    t = sum(WEIGHTS) // K
    inp = EngineInput(
        adj=adj, edges=edges, weight=WEIGHTS, lo=lo, hi=hi, target=[t] * K,
        locked=[-1] * len(adj),
    )  # fmt: skip
    res = optimise(inp, seed=0, time_limit=5.0, work_limit=0.5)
    assert res.violation == 0
    assert _contiguous(adj, res.labels, K)
