"""Large-neighbourhood search over territories, with CP-SAT sub-problems.

Each iteration picks two or three adjacent territories, frees the nodes of their union
that lie within a few hops of the borders between them (the rest of each territory is
contracted into one fixed node per connected piece, the heaviest piece being the
territory's fixed root), and re-solves that small problem exactly with
:func:`gridplan.balance_model.solve_subproblem`: contiguity, balance bands, objective
and disruption caps all hold on the union, and the rest of the plan does not change, so
every accepted step keeps the whole plan feasible. Between CP-SAT calls the fast local
search of :mod:`gridplan._balance.search` runs.

The neighbourhood size adapts: a sub-problem solved to optimality grows the next one,
one stopped by its work limit shrinks it. When every pair of adjacent territories has
been solved to optimality with its whole union free and nothing changed since, the
search stops early (a local optimum for that neighbourhood), which also makes small
runs finish well before their time limit and so reproducible.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from gridplan._balance.model import SubProblem, solve_subproblem
from gridplan._balance.search import State, descent

__all__ = ["LnsContext", "run_lns"]


@dataclass
class LnsContext:
    """Static data of one balance run (integers where CP-SAT needs them)."""

    adj: list[list[int]]
    weight: list[int]
    lo: list[int]
    hi: list[int]
    locked: list[bool]
    seed: int = 0
    workers: int = 1
    prev: list[int] | None = None
    max_moved: int | None = None
    max_moved_weight: int | None = None
    clock: Callable[[], float] = time.monotonic
    deadline: float = float("inf")
    max_iterations: int | None = None
    dtime_budget: float = float("inf")  # total CP-SAT deterministic seconds
    progress: Callable[[float, str], None] | None = None
    log: list[str] = field(default_factory=list)


def _moved(ctx: LnsContext, lab: list[int]) -> tuple[int, int]:
    if ctx.prev is None:
        return 0, 0
    c = w = 0
    for i, p in enumerate(ctx.prev):
        if p >= 0 and lab[i] != p:
            c += 1
            w += ctx.weight[i]
    return c, w


def _band(st: State, S: list[int], target: int, rng: np.random.Generator) -> tuple[list[int], bool]:
    """Free nodes of the union of territories ``S``: BFS layers from their mutual borders
    until about ``target`` nodes; returns (free nodes, whole union free?)."""
    inS = set(S)
    lab = st.lab
    union_size = sum(st.size[d] for d in S)
    if union_size <= target:
        return [i for i in range(st.n) if lab[i] in inS], True
    seeds = []
    for i in range(st.n):
        a = lab[i]
        if a in inS:
            for b in st.nb[i]:
                if b != a and b in inS:
                    seeds.append(i)
                    break
    if not seeds:
        return [], False
    if len(seeds) > target // 2:
        # long border: a window around a random border node
        c = seeds[int(rng.integers(len(seeds)))]
        seed_set = set(seeds)
        dist = {c: 0}
        q = deque([c])
        win = []
        while q and len(win) < target // 2:
            u = q.popleft()
            if u in seed_set:
                win.append(u)
            for v in st.adj[u]:
                if v not in dist and lab[v] in inS:
                    dist[v] = dist[u] + 1
                    q.append(v)
        seeds = win
    free = set(seeds)
    frontier = list(seeds)
    while frontier and len(free) < target:
        nxt = []
        for u in frontier:
            for v in st.adj[u]:
                if v not in free and lab[v] in inS:
                    free.add(v)
                    nxt.append(v)
        frontier = nxt
    return sorted(free), len(free) >= union_size


def _contract(
    ctx: LnsContext, st: State, inS: dict[int, int], free_nodes: list[int]
) -> tuple[list[int], dict[int, int], list[list[int]], list[int]]:
    """Sub-nodes of the union of the territories ``inS``: one per free unlocked node, one
    per connected piece of fixed (or locked) nodes of a territory. Returns (union,
    sub-node of each unit, members of each sub-node, fixed territory or -1)."""
    lab = st.lab
    free_set = set(free_nodes)
    union = [i for i in range(st.n) if lab[i] in inS]
    node_of: dict[int, int] = {}
    members: list[list[int]] = []
    fixed: list[int] = []
    for i in free_nodes:
        if ctx.locked[i]:
            continue
        node_of[i] = len(members)
        members.append([i])
        fixed.append(-1)
    # fixed pieces: connected components of non-free (or locked) nodes per territory
    for s in union:
        if s in node_of:
            continue
        d = lab[s]
        cid = len(members)
        comp = [s]
        node_of[s] = cid
        q = deque([s])
        while q:
            u = q.popleft()
            for v in st.adj[u]:
                if v not in node_of and lab[v] == d and (v not in free_set or ctx.locked[v]):
                    node_of[v] = cid
                    comp.append(v)
                    q.append(v)
        members.append(comp)
        fixed.append(inS[d])
    return union, node_of, members, fixed


def _contracted_edges(
    st: State, union: list[int], node_of: dict[int, int]
) -> tuple[np.ndarray, np.ndarray]:
    """Edges between sub-nodes (m, 2) and their multiplicities (parallel edges merged)."""
    ecount: dict[tuple[int, int], int] = {}
    for i in union:
        a = node_of[i]
        for j in st.adj[i]:
            if j > i and j in node_of:
                b = node_of[j]
                if a != b:
                    key = (a, b) if a < b else (b, a)
                    ecount[key] = ecount.get(key, 0) + 1
    if ecount:
        return (
            np.array(list(ecount.keys()), dtype=np.int64),
            np.array(list(ecount.values()), dtype=np.int64),
        )
    return np.zeros((0, 2), dtype=np.int64), np.zeros(0, dtype=np.int64)


def _roots(fixed: list[int], weight: np.ndarray, k: int) -> np.ndarray:
    """Each territory's heaviest fixed piece as its root (-1 when it has none)."""
    m = len(fixed)
    roots = np.full(k, -1, dtype=np.int64)
    for t in range(k):
        best = -1
        for c in range(m):
            if fixed[c] == t and (best < 0 or weight[c] > weight[best]):
                best = c
        roots[t] = best
    return roots


def _sub_costs(st: State, S: list[int], members: list[list[int]], fixed: list[int]):
    """(m, k) costs of the free sub-nodes (sums over their members), or ``None``."""
    if st.cost is None:
        return None
    m, k = len(members), len(S)
    cost = np.zeros((m, k), dtype=np.int64)
    for c in range(m):
        if fixed[c] >= 0:
            continue
        for u in members[c]:
            row = st.cost[u]
            for t, d in enumerate(S):
                cost[c, t] += row[d]
    return cost


def _sub_move_caps(ctx: LnsContext, st: State, inS, members, fixed):
    """``(prev, move budget, move weight budget)`` of the sub-problem: moves outside the
    free nodes are constants taken off the run's caps."""
    if ctx.prev is None or (ctx.max_moved is None and ctx.max_moved_weight is None):
        return None, None, None
    lab = st.lab
    m = len(members)
    moved_c, moved_w = _moved(ctx, lab)
    prev_l = np.full(m, -1, dtype=np.int64)
    free_moved_c = free_moved_w = 0
    for c in range(m):
        if fixed[c] >= 0:
            continue
        u = members[c][0]
        p = ctx.prev[u]
        if p >= 0 and p in inS:
            prev_l[c] = inS[p]
            if lab[u] != p:
                free_moved_c += 1
                free_moved_w += st.w[u]
    budget = wbudget = None
    if ctx.max_moved is not None:
        budget = ctx.max_moved - (moved_c - free_moved_c)
    if ctx.max_moved_weight is not None:
        wbudget = ctx.max_moved_weight - (moved_w - free_moved_w)
    return prev_l, budget, wbudget


def _build_sub(
    ctx: LnsContext,
    st: State,
    S: list[int],
    free_nodes: list[int],
    soft: bool,
    soft_penalty: int,
) -> tuple[SubProblem, list[list[int]], np.ndarray] | None:
    """Contract the fixed part of the union of ``S`` and build the sub-problem.

    Returns (sub-problem, members of each sub-node, hint labels)."""
    inS = {d: t for t, d in enumerate(S)}
    lab = st.lab
    union, node_of, members, fixed = _contract(ctx, st, inS, free_nodes)
    m = len(members)
    weight = np.array([sum(st.w[u] for u in mem) for mem in members], dtype=np.int64)
    edges, ew = _contracted_edges(st, union, node_of)
    roots = _roots(fixed, weight, len(S))
    cost = _sub_costs(st, S, members, fixed)
    hint = np.array([inS[lab[members[c][0]]] for c in range(m)], dtype=np.int64)
    prev, budget, wbudget = _sub_move_caps(ctx, st, inS, members, fixed)
    lo = np.array([ctx.lo[d] for d in S], dtype=np.int64)
    hi = np.array([ctx.hi[d] for d in S], dtype=np.int64)
    sp = SubProblem(
        weight=weight,
        edges=edges,
        edge_w=ew,
        lo=lo,
        hi=hi,
        fixed=np.array(fixed, dtype=np.int64),
        cut_scale=st.cut_scale,
        cost=cost,
        roots=roots,
        soft=soft,
        soft_penalty=soft_penalty,
        prev=prev,
        move_budget=budget,
        move_weight_budget=wbudget,
    )
    return sp, members, hint


def _territory_graph(st: State) -> dict[int, dict[int, int]]:
    g: dict[int, dict[int, int]] = {d: {} for d in range(st.k)}
    for i in range(st.n):
        a = st.lab[i]
        for b, c in st.nb[i].items():
            if b != a:
                g[a][b] = g[a].get(b, 0) + c
    return g


def _choose_set(
    st: State, tg: dict[int, dict[int, int]], rng: np.random.Generator, viol: int
) -> list[int] | None:
    """Two or three adjacent territories, one of them off its band while any is."""
    k = st.k
    if viol > 0:
        bad = [d for d in range(k) if st.dw[d] > st.hi[d] or st.dw[d] < st.lo[d]]
        a = bad[int(rng.integers(len(bad)))]
    else:
        a = int(rng.integers(k))
    nbrs = sorted(tg[a])
    if not nbrs:
        return None
    size = 2 if (k == 2 or rng.random() < 0.6) else 3
    b = nbrs[int(rng.integers(len(nbrs)))]
    S = [a, b]
    if size == 3:
        cand = sorted((set(tg[a]) | set(tg[b])) - {a, b})
        if cand:
            S.append(cand[int(rng.integers(len(cand)))])
    return S


def _all_clean(clean: dict, version: list[int], tg: dict[int, dict[int, int]], k: int) -> bool:
    """Every adjacent pair of territories proven optimal at its current versions."""
    pairs = {(min(x, y), max(x, y)) for x in range(k) for y in tg[x]}
    return all(clean.get(p) == (version[p[0]], version[p[1]]) for p in pairs)


def _stop_reason(ctx: LnsContext, it: int, stats: dict) -> str | None:
    """Why the search stops before iteration ``it + 1`` (``None``: go on)."""
    if ctx.clock() >= ctx.deadline:
        return "time"
    if ctx.max_iterations is not None and it >= ctx.max_iterations:
        return "work"
    if stats["dtime"] >= ctx.dtime_budget:
        return "work"
    return None


def _apply_labels(
    st: State, S: list[int], members: list[list[int]], labels: np.ndarray, viol: int
) -> tuple[list[tuple[int, int]], bool, int] | None:
    """Apply a sub-solution; undo it and return ``None`` when it is worse than before.

    Returns (moves applied as (unit, old territory), strictly better?, violation after)."""
    before_obj = st.objective()
    before_viol = viol
    applied = []
    for c, mem in enumerate(members):
        d = S[int(labels[c])]
        for u in mem:
            if st.lab[u] != d:
                applied.append((u, st.lab[u]))
                st.apply(u, d)
    after_obj = st.objective() if applied else before_obj
    after_viol = st.violation() if applied else before_viol
    better = (after_viol, after_obj) < (before_viol, before_obj)
    same = (after_viol, after_obj) == (before_viol, before_obj)
    if not better and not same:
        for u, old in reversed(applied):
            st.apply(u, old)
        return None
    return applied, better, after_viol


def _descend(ctx: LnsContext, st: State, rng: np.random.Generator, version: list[int]) -> None:
    """A few descent passes; every territory's version is bumped when anything moved."""
    moves = descent(st, rng, max_passes=3, deadline=ctx.deadline, clock=ctx.clock)
    if moves:
        for d in range(st.k):
            version[d] += 1


def run_lns(
    ctx: LnsContext,
    st: State,
    rng: np.random.Generator,
    *,
    soft_penalty: int,
    on_improve: Callable[[State], None] | None = None,
    refresh_costs: Callable[[State], bool] | None = None,
) -> dict:
    """Improve ``st`` in place until the deadline, the iteration cap or convergence.

    While the plan violates the balance bands, sub-problems are solved in soft mode
    (violation first, penalised by ``soft_penalty`` per unit of weight) on sets that
    contain a violating territory. Returns statistics.
    """
    k = st.k
    stats = {
        "iterations": 0,
        "improvements": 0,
        "cpsat_calls": 0,
        "converged": False,
        "dtime": 0.0,
        "stopped_by": "time",
    }
    if k < 2:
        stats["converged"] = True
        return stats
    target = 60 if st.n > 60 else st.n
    version = [0] * k  # bumped when a territory changes
    clean: dict[tuple[int, ...], tuple[int, ...]] = {}  # set -> versions when proven optimal
    it = 0
    start_clock = ctx.clock()
    total = max(ctx.deadline - start_clock, 1e-9)
    ls_every = 3
    while True:
        reason = _stop_reason(ctx, it, stats)
        if reason is not None:
            stats["stopped_by"] = reason
            break
        it += 1
        stats["iterations"] = it
        viol = st.violation()
        tg = _territory_graph(st)
        S = _choose_set(st, tg, rng, viol)
        if S is None:
            continue
        key = tuple(sorted(S))
        if viol == 0 and clean.get(key) == tuple(version[d] for d in key):
            # this set is already optimal; if every adjacent pair is, stop
            if _all_clean(clean, version, tg, k):
                stats["converged"] = True
                stats["stopped_by"] = "convergence"
                break
            continue
        free_nodes, whole = _band(st, S, target, rng)
        built = _build_sub(ctx, st, S, free_nodes, viol > 0, soft_penalty) if free_nodes else None
        if built is None:
            continue
        sp, members, hint = built
        remaining = ctx.deadline - ctx.clock()
        if remaining <= 0.01:
            break
        dtime = min(0.3 + 0.004 * sp.n, max(0.05, ctx.dtime_budget - stats["dtime"]))
        res = solve_subproblem(
            sp,
            hint=hint,
            time_limit=remaining,
            dtime=dtime,
            seed=int(rng.integers(1 << 30)),
            workers=1,
        )
        stats["cpsat_calls"] += 1
        stats["dtime"] += res.dtime
        if res.labels is None:
            target = max(20, int(target * 0.8))
            continue
        # adapt the neighbourhood size
        target = min(int(target * 1.25) + 5, st.n) if res.optimal else max(20, int(target * 0.85))
        outcome = _apply_labels(st, S, members, res.labels, viol)
        if outcome is None:
            continue
        applied, better, after_viol = outcome
        if applied:
            for d in S:
                version[d] += 1
        if better:
            stats["improvements"] += 1
            if on_improve is not None:
                on_improve(st)
        if res.optimal and whole and after_viol == 0:
            clean[key] = tuple(version[d] for d in key)
        if it % ls_every == 0 and after_viol == 0:
            _descend(ctx, st, rng, version)
        if refresh_costs is not None and it % 10 == 0 and refresh_costs(st):
            clean.clear()
        if ctx.progress is not None:
            frac = min(1.0, (ctx.clock() - start_clock) / total)
            ctx.progress(
                frac,
                f"LNS {it}: cut edges {st.cut_edges()}, off-band weight {st.violation()}",
            )
    return stats


def _balance_set(
    st: State, tg: dict[int, dict[int, int]], a: int, max_nodes: int, rng: np.random.Generator
) -> list[int]:
    """Territory ``a`` (off its band) and neighbours added one by one, each the one that
    brings the union's weight closest to the union's band, until the union can be
    balanced (its weight within the sum of the bands), or ``max_nodes`` is reached."""
    dw, lo, hi = st.dw, st.lo, st.hi
    S = [a]
    inS = {a}
    tot, lo_s, hi_s, size = dw[a], lo[a], hi[a], st.size[a]
    while len(S) < 2 or tot < lo_s or tot > hi_s:
        cand = sorted({b for d in S for b in tg[d]} - inS)
        if not cand:
            break
        noise = rng.random(len(cand))
        keys = []
        for t, b in enumerate(cand):
            x, lw, hw = tot + dw[b], lo_s + lo[b], hi_s + hi[b]
            keys.append((max(0, x - hw) + max(0, lw - x), float(noise[t]), b))
        b = min(keys)[2]
        if size + st.size[b] > max_nodes and len(S) >= 2:
            break
        S.append(b)
        inS.add(b)
        tot, lo_s, hi_s, size = tot + dw[b], lo_s + lo[b], hi_s + hi[b], size + st.size[b]
    return S


def balance_lns(
    ctx: LnsContext,
    st: State,
    rng: np.random.Generator,
    *,
    soft_penalty: int,
    deadline: float,
    max_nodes: int = 90,
) -> dict:
    """Bring an off-band plan into the bands: around an off-band territory, a set of
    adjacent territories whose total weight fits their bands is re-solved whole by
    CP-SAT (off-band weight first, then the objective). Stops when every territory is
    within its band, at ``deadline`` or when the deterministic budget is spent."""
    stats = {"calls": 0, "improvements": 0, "dtime": 0.0}
    fails = 0
    while st.violation() > 0 and fails < 4 * st.k:
        now = ctx.clock()
        if now >= min(deadline, ctx.deadline) - 0.02 or stats["dtime"] >= ctx.dtime_budget:
            break
        viol = st.violation()
        bad = [d for d in range(st.k) if st.dw[d] > st.hi[d] or st.dw[d] < st.lo[d]]
        a = bad[int(rng.integers(len(bad)))]
        tg = _territory_graph(st)
        S = _balance_set(st, tg, a, max_nodes + 15 * min(fails, 4), rng)
        if len(S) < 2:
            fails += 1
            continue
        free_nodes, _whole = _band(st, S, max_nodes + 15 * min(fails, 4), rng)
        built = _build_sub(ctx, st, S, free_nodes, True, soft_penalty) if free_nodes else None
        if built is None:
            fails += 1
            continue
        sp, members, hint = built
        res = solve_subproblem(
            sp,
            hint=hint,
            time_limit=max(0.05, min(deadline, ctx.deadline) - ctx.clock()),
            dtime=0.2 + 0.004 * sp.n,
            seed=int(rng.integers(1 << 30)),
            workers=1,
        )
        stats["calls"] += 1
        stats["dtime"] += res.dtime
        outcome = (
            _apply_labels(st, S, members, res.labels, viol) if res.labels is not None else None
        )
        if outcome is not None and outcome[2] < viol:
            stats["improvements"] += 1
            fails = 0
        else:
            fails += 1
    return stats
