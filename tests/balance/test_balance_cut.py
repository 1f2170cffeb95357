"""The cut-edge CP-SAT model with lazy contiguity cuts and the exact neighbourhood polish."""

from __future__ import annotations

import itertools

import numpy as np

from gridplan._balance.cut import polish, solve_cut


def ladder(c: int) -> tuple[list[list[int]], np.ndarray]:
    """2 x c grid graph."""
    e = []
    for j in range(c):
        if j + 1 < c:
            e += [(j, j + 1), (c + j, c + j + 1)]
        e.append((j, c + j))
    n = 2 * c
    adj: list[list[int]] = [[] for _ in range(n)]
    for a, b in e:
        adj[a].append(b)
        adj[b].append(a)
    return adj, np.array(e)


def connected(adj, lab, d) -> bool:
    nodes = [i for i in range(len(adj)) if lab[i] == d]
    if not nodes:
        return False
    seen = {nodes[0]}
    stack = [nodes[0]]
    while stack:
        u = stack.pop()
        for v in adj[u]:
            if lab[v] == d and v not in seen:
                seen.add(v)
                stack.append(v)
    return len(seen) == len(nodes)


def cut(edges, lab) -> int:
    la = np.asarray(lab)
    return int(np.count_nonzero(la[edges[:, 0]] != la[edges[:, 1]]))


def feasible(adj, w, lab, k, lo, hi) -> bool:
    for d in range(k):
        s = sum(w[i] for i in range(len(w)) if lab[i] == d)
        if not (lo[d] <= s <= hi[d]) or not connected(adj, lab, d):
            return False
    return True


def enumerate_best(adj, edges, w, k, lo, hi):
    n = len(w)
    best = None
    for rest in itertools.product(range(k), repeat=n - 1):
        lab = (0, *rest)
        if feasible(adj, w, lab, k, lo, hi):
            c = cut(edges, lab)
            if best is None or c < best[0]:
                best = (c, list(lab))
    return best


def test_solve_cut_reaches_enumerated_optimum_with_contiguity():
    # weights make the contiguity cuts necessary: without contiguity the cheapest
    # balanced split uses the two heavy end columns together
    adj, edges = ladder(5)
    w = [9, 1, 1, 1, 9, 8, 1, 1, 1, 8]
    k = 2
    lo, hi = [19, 19], [21, 21]
    best = enumerate_best(adj, edges, w, k, lo, hi)
    assert best is not None
    # a poor but feasible start: enumerate the worst feasible plan
    worst = None
    for rest in itertools.product(range(k), repeat=len(w) - 1):
        lab = [0, *rest]
        if feasible(adj, w, lab, k, lo, hi) and (worst is None or cut(edges, lab) > worst[0]):
            worst = (cut(edges, lab), lab)
    assert worst is not None and worst[0] > best[0]
    out, _ = solve_cut(adj, edges, w, lo, hi, worst[1], symmetric=True, dtime=20.0)
    assert out is not None
    assert feasible(adj, w, out, k, lo, hi)
    assert cut(edges, out) == best[0]


def test_solve_cut_returns_none_at_optimum():
    adj, edges = ladder(4)
    w = [1] * 8
    lo, hi = [4, 4], [4, 4]
    best = enumerate_best(adj, edges, w, 2, lo, hi)
    out, st = solve_cut(adj, edges, w, lo, hi, best[1], symmetric=True, dtime=10.0)
    assert out is None
    assert st["status"] in ("INFEASIBLE", "OPTIMAL")


def test_polish_pairs_keeps_plan_valid_and_never_worse():
    rng = np.random.default_rng(0)
    adj, edges = ladder(6)
    w = rng.integers(1, 6, 12).tolist()
    k = 3
    total = sum(w)
    lo = [int(np.ceil(total / k * 0.8))] * k
    hi = [int(np.floor(total / k * 1.2))] * k
    # all feasible plans, a bad one as the start
    plans = []
    for rest in itertools.product(range(k), repeat=11):
        lab = [0, *rest]
        if feasible(adj, w, lab, k, lo, hi):
            plans.append((cut(edges, lab), lab))
    plans.sort()
    start = plans[-1][1]
    out, st = polish(adj, edges, w, lo, hi, start, size=2, dtime=10.0)
    assert feasible(adj, w, out, k, lo, hi)
    assert cut(edges, out) <= cut(edges, start)
    assert st["improvements"] >= 1
    # pair-optimal: no pair of territories can be re-split better
    for a, b in itertools.combinations(range(k), 2):
        free = [out[i] in (a, b) for i in range(12)]
        again, _ = solve_cut(
            adj, edges, w, lo, hi, out, free=free, allowed=[[a, b]] * 12, dtime=10.0
        )
        assert again is None


def test_locked_nodes_stay_put():
    adj, edges = ladder(4)
    w = [1] * 8
    lo, hi = [4, 4], [4, 4]
    start = [0, 0, 1, 1, 1, 1, 0, 0]  # feasible, cut 4
    free = [True] * 8
    free[0] = False  # node 0 must stay in territory 0
    out, _ = solve_cut(adj, edges, w, lo, hi, start, free=free, dtime=10.0)
    assert out is not None and out[0] == 0 and cut(edges, out) == 2


def test_chain_repair_carries_weight_along_a_path_of_territories():
    from gridplan._balance.search import State, chain_repair

    n = 12
    adj = [[j for j in (i - 1, i + 1) if 0 <= j < n] for i in range(n)]
    w = [1] * n
    k = 4
    lo = hi = [3] * k
    # territory 0 has one node too many, territory 3 one too few, two territories between
    st = State(adj, w, lo, hi, [0, 0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3])
    assert st.violation() == 2
    chain_repair(st, np.random.default_rng(0))
    assert st.violation() == 0
    assert st.lab == [0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3]
