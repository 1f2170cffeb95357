"""Cut-edge model with lazy contiguity cuts (CP-SAT), for whole plans and neighbourhoods.

The model of :mod:`gridplan._balance.model` enforces contiguity up front with parent arcs
and levels, which makes CP-SAT's linear relaxation useless for the cut-edge objective.
This one follows Validi & Buchanan, "Political districting to minimize cut edges"
(Math. Prog. Comp. 2022): assignment ``x[i,d]``, balance bands, and
``y[e] >= x[a,d] - x[b,d]`` for every edge ``e = (a, b)`` and territory ``d`` (both
directions), minimising ``sum_e y[e]``; CP-SAT's LP (``linearization_level = 2``) then
gives real bounds. Contiguity is added lazily: when a territory of the solution falls
apart, each piece ``C`` that is not its largest gets the separator cut
``x[a,d] + x[b,d] - 1 <= sum_{c in N(C)} x[c,d]`` (``a`` in ``C``, ``b`` in the largest
piece, ``N(C)`` the neighbours of ``C``) for every territory ``d`` it may take, and the
model is solved again with the best contiguous plan as hint.

Nodes can be fixed (large-neighbourhood use: only the union of a few territories is
free). With every node free and interchangeable territories, symmetry is broken by
heaviest-first ordering (the ``r``-th heaviest node may only take territories
``0..r``), with the hint relabelled to agree.

Deterministic for a seed: one worker, deterministic time limits (the wall-clock limit
is a safety net).
"""

from __future__ import annotations

from collections import deque

import numpy as np
from ortools.sat.python import cp_model

__all__ = ["band_polish", "polish", "solve_cut"]


def _pieces(adj: list[list[int]], lab: list[int], d: int, nodes: list[int]) -> list[list[int]]:
    seen: set[int] = set()
    out = []
    for s in nodes:
        if s in seen:
            continue
        comp = [s]
        seen.add(s)
        q = deque([s])
        while q:
            u = q.popleft()
            for v in adj[u]:
                if v not in seen and lab[v] == d:
                    seen.add(v)
                    comp.append(v)
                    q.append(v)
        out.append(comp)
    return out


def _cut_count(edges: np.ndarray, lab: list[int]) -> int:
    la = np.asarray(lab)
    return int(np.count_nonzero(la[edges[:, 0]] != la[edges[:, 1]]))


def _plan_value(edges: np.ndarray, lab: list[int], cost, cut_scale: int) -> int:
    """The objective of a plan: cut edges, or ``cut_scale`` x cut edges + assignment
    costs when ``cost`` is given."""
    if cost is None:
        return _cut_count(edges, lab)
    return int(cut_scale) * _cut_count(edges, lab) + sum(cost[i][d] for i, d in enumerate(lab))


def _options(n: int, k: int, hint: list[int], free: list[bool], allowed) -> list[list[int]]:
    """Territories each node may take: its own when fixed, else ``allowed`` or all."""
    opts: list[list[int]] = []
    for i in range(n):
        if not free[i]:
            opts.append([hint[i]])
        elif allowed is not None:
            opts.append(sorted(set(allowed[i]) | {hint[i]}))
        else:
            opts.append(list(range(k)))
    return opts


def _heaviest_first(
    opts: list[list[int]], hint: list[int], w: list[int], k: int
) -> tuple[list[int], list[int]]:
    """Symmetry breaking: the ``r``-th heaviest node may only take territories ``0..r``
    (``opts`` is narrowed in place). Returns the relabelled hint and the relabelling."""
    n = len(hint)
    order = sorted(range(n), key=lambda i: (-w[i], i))
    first: dict[int, int] = {}
    for i in order:
        if hint[i] not in first:
            first[hint[i]] = len(first)
    for d in range(k):
        if d not in first:
            first[d] = len(first)
    relabel = [first[d] for d in range(k)]
    hint = [relabel[d] for d in hint]
    for r, i in enumerate(order[:k]):
        opts[i] = [d for d in opts[i] if d <= r]
    return hint, relabel


def _add_assignment(m: cp_model.CpModel, opts: list[list[int]]) -> list[dict[int, object]]:
    """``x[i][d]``: a Boolean per option (the constant 1 for a single option)."""
    x: list[dict[int, object]] = []
    for opt in opts:
        row: dict[int, object] = {}
        if len(opt) == 1:
            row[opt[0]] = 1
        else:
            for d in opt:
                row[d] = m.NewBoolVar("")
            m.AddExactlyOne(list(row.values()))
        x.append(row)
    return x


def _add_balance(m, x, w: list[int], lo: list[int], hi: list[int]) -> bool:
    """Balance bands; False when a territory with no free node misses its band."""
    n = len(x)
    for d in range(len(lo)):
        terms = [(x[i][d], w[i]) for i in range(n) if d in x[i]]
        const = sum(c for v, c in terms if isinstance(v, int))
        var_terms = [(v, c) for v, c in terms if not isinstance(v, int)]
        if not var_terms:
            if not lo[d] <= const <= hi[d]:
                return False
            continue
        m.AddLinearConstraint(sum(v * c for v, c in var_terms) + const, lo[d], hi[d])
    return True


def _add_cut_vars(m, x, edge_list: list[list[int]]) -> list:
    """``y[e] >= |x[a,d] - x[b,d]|`` per edge (the constant 1 for a surely cut edge)."""
    ys = []
    for a, b in edge_list:
        xa, xb = x[a], x[b]
        if len(xa) == 1 and len(xb) == 1:
            if next(iter(xa)) != next(iter(xb)):
                ys.append(1)
            continue
        y = m.NewBoolVar("")
        for d in set(xa) | set(xb):
            va = xa.get(d, 0)
            vb = xb.get(d, 0)
            if isinstance(va, int) and isinstance(vb, int):
                if va != vb:
                    m.Add(y == 1)
                continue
            m.Add(va - vb <= y)
            m.Add(vb - va <= y)
        ys.append(y)
    return ys


def _add_piece_cuts(m, x, adj, edge_list, w: list[int], lo: list[int]) -> None:
    """Small pieces cannot be whole territories: a node (or an edge's two ends) in d
    lighter than ``lo[d]`` needs a neighbour in d."""
    for i in range(len(x)):
        xi = x[i]
        for d, v in xi.items():
            if isinstance(v, int) or w[i] >= lo[d]:
                continue
            m.Add(sum(x[j].get(d, 0) for j in adj[i]) >= v)
    for a, b in edge_list:
        for d in set(x[a]) & set(x[b]):
            va, vb = x[a][d], x[b][d]
            if isinstance(va, int) and isinstance(vb, int):
                continue
            if w[a] + w[b] >= lo[d]:
                continue
            sep = {c for c in adj[a] if c != b} | {c for c in adj[b] if c != a}
            m.Add(va + vb - 1 <= sum(x[c].get(d, 0) for c in sep))


def _read_labels(solver: cp_model.CpSolver, x: list[dict[int, object]]) -> list[int]:
    lab = [0] * len(x)
    for i, row in enumerate(x):
        for d, v in row.items():
            if isinstance(v, int) or solver.BooleanValue(v):
                lab[i] = d
                break
    return lab


def _separators(adj, lab: list[int], w: list[int], k: int, cuts: list) -> int:
    """Append the separator cuts of every piece of a territory that is not its largest
    (for every territory ``dd``); return how many pieces were cut off."""
    n = len(lab)
    new_cuts = 0
    for d in range(k):
        nodes = [i for i in range(n) if lab[i] == d]
        comps = _pieces(adj, lab, d, nodes)
        if len(comps) <= 1:
            continue
        comps.sort(key=lambda c: (-sum(w[i] for i in c), min(c)))
        big = comps[0]
        b = max(big, key=lambda i: (w[i], -i))
        for comp in comps[1:]:
            cs = set(comp)
            sep = sorted({v for u in comp for v in adj[u] if v not in cs})
            a = max(comp, key=lambda i: (w[i], -i))
            for dd in range(k):
                cuts.append((a, b, sep, dd))
            new_cuts += 1
    return new_cuts


def _cut_model(
    opts, adj, edge_list, w, lo, hi, cuts, best, best_cut: int, *, piece_cuts: bool,
    use_hint: bool, cost=None, cut_scale: int = 1,
):  # fmt: skip
    """One lazy round's model: ``(model, x)``, or ``None`` for an infeasible band."""
    m = cp_model.CpModel()
    x = _add_assignment(m, opts)
    if not _add_balance(m, x, w, lo, hi):
        return None
    ys = _add_cut_vars(m, x, edge_list)
    if piece_cuts:
        _add_piece_cuts(m, x, adj, edge_list, w, lo)
    for a, b, sep, d in cuts:
        if d not in x[a] or d not in x[b]:
            continue
        m.Add(x[a][d] + x[b][d] - 1 <= sum(x[c].get(d, 0) for c in sep))
    obj = sum(ys)
    if cost is not None:  # assignment costs (home bases) next to the cut edges
        const = 0
        terms = []
        for i, row in enumerate(x):
            for d, v in row.items():
                c = int(cost[i][d])
                if c == 0:
                    continue
                if isinstance(v, int):
                    const += c * v
                else:
                    terms.append(v * c)
        obj = int(cut_scale) * obj + sum(terms) + const
    m.Add(obj <= best_cut - 1)
    m.Minimize(obj)
    for i in range(len(x) if use_hint else 0):
        for d, v in x[i].items():
            if not isinstance(v, int):
                m.AddHint(v, int(best[i] == d))
    return m, x


def _cut_solver(seed: int, left: float, dtime_left: float) -> cp_model.CpSolver:
    solver = cp_model.CpSolver()
    prm = solver.parameters
    prm.num_workers = 1
    prm.random_seed = int(seed)
    prm.linearization_level = 2
    prm.max_time_in_seconds = max(0.05, left)
    prm.max_deterministic_time = max(0.05, dtime_left)
    return solver


def solve_cut(
    adj: list[list[int]],
    edges: np.ndarray,
    weight: list[int],
    lo: list[int],
    hi: list[int],
    hint: list[int],
    *,
    free: list[bool] | None = None,
    allowed: list[list[int]] | None = None,
    symmetric: bool = False,
    time_limit: float = 10.0,
    dtime: float = 5.0,
    seed: int = 0,
    max_rounds: int = 30,
    clock=None,
    incumbent: int | None = None,
    use_hint: bool = True,
    piece_cuts: bool = True,
    cost: list[list[int]] | None = None,
    cut_scale: int = 1,
) -> tuple[list[int] | None, dict]:
    """Improve the contiguous, balanced plan ``hint`` (cut edges) by CP-SAT.

    ``free[i]`` says whether node ``i`` may change territory (default all);
    ``allowed[i]`` lists the territories a free node may take (default all). With
    ``incumbent`` (cut edges of the best known plan) the hint may be any labelling
    (e.g. a plan off the bands): only plans below ``incumbent`` are sought. Returns
    (the best contiguous plan found if it has fewer cut edges than ``hint``, else None;
    stats). ``dtime`` is the total deterministic budget over the lazy rounds. With
    ``cost`` (n, k integer assignment costs, e.g. home bases) the objective is
    ``cut_scale`` x cut edges + costs (``incumbent`` and the stats in those units).
    """
    import time

    clock = clock or time.monotonic
    t_end = clock() + time_limit
    n = len(adj)
    k = len(lo)
    hint = list(hint)
    if free is None:
        free = [True] * n
    stats: dict = {"rounds": 0, "cuts": 0, "status": "none"}
    w = weight
    opts = _options(n, k, hint, free, allowed)
    relabel = list(range(k))
    if symmetric and all(free) and cost is None:
        hint, relabel = _heaviest_first(opts, hint, w, k)
    best = list(hint)
    best_cut = _plan_value(edges, best, cost, cut_scale) if incumbent is None else int(incumbent)
    stats["start"] = best_cut
    cuts: list[tuple[int, int, list[int], int]] = []  # (a, b, separator, d)
    spent = 0.0
    improved = False
    edge_list = edges.tolist()
    for rnd in range(max_rounds):
        left = t_end - clock()
        if left <= 0.05 or spent >= dtime:
            break
        built = _cut_model(
            opts, adj, edge_list, w, lo, hi, cuts, best, best_cut, piece_cuts=piece_cuts,
            use_hint=use_hint, cost=cost, cut_scale=cut_scale,
        )  # fmt: skip
        if built is None:
            stats["status"] = "infeasible band"
            return None, stats
        m, x = built
        solver = _cut_solver(int(seed) + rnd, left, dtime - spent)
        status = solver.Solve(m)
        spent += solver.deterministic_time
        stats["rounds"] = rnd + 1
        stats["status"] = solver.StatusName(status)
        if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            break
        lab = _read_labels(solver, x)
        new_cuts = _separators(adj, lab, w, k, cuts)
        stats["cuts"] += new_cuts
        if new_cuts == 0:
            cut = _plan_value(edges, lab, cost, cut_scale)
            if cut < best_cut:
                best, best_cut = lab, cut
                improved = True
            if status == cp_model.OPTIMAL:
                break
    stats["dtime"] = spent
    stats["cut"] = best_cut
    if not improved:
        return None, stats
    if relabel != list(range(k)):
        inv = [0] * k
        for d, r in enumerate(relabel):
            inv[r] = d
        best = [inv[d] for d in best]
    return best, stats


def _adjacent_sets(edges: np.ndarray, lab: list[int], k: int, size: int) -> list[tuple[int, ...]]:
    """Sets of ``size`` territories whose union is connected in the territory graph."""
    la = np.asarray(lab)
    a, b = la[edges[:, 0]], la[edges[:, 1]]
    nbr: list[set[int]] = [set() for _ in range(k)]
    for u, v in zip(a[a != b].tolist(), b[a != b].tolist(), strict=True):
        nbr[u].add(v)
        nbr[v].add(u)
    out: set[tuple[int, ...]] = set()
    frontier = {(d,) for d in range(k)}
    for _ in range(size - 1):
        nxt = set()
        for s in frontier:
            for d in s:
                for e in nbr[d]:
                    if e not in s:
                        nxt.add(tuple(sorted((*s, e))))
        frontier = nxt
    out = frontier
    return sorted(out)


def polish(
    adj: list[list[int]],
    edges: np.ndarray,
    weight: list[int],
    lo: list[int],
    hi: list[int],
    labels: list[int],
    *,
    locked: list[bool] | None = None,
    size: int = 2,
    dtime: float = 1.0,
    call_dtime: float = 0.5,
    seed: int = 0,
    deadline: float | None = None,
    clock=None,
    max_free: int = 2000,
    cost: list[list[int]] | None = None,
    cut_scale: int = 1,
) -> tuple[list[int], dict]:
    """Re-solve the union of every ``size`` adjacent territories exactly (the rest of
    the plan fixed) with :func:`solve_cut` until none improves or the budget is spent
    (``cost``/``cut_scale``: as in :func:`solve_cut`). Returns the (possibly unchanged)
    plan and stats."""
    import time

    clock = clock or time.monotonic
    k = len(lo)
    n = len(adj)
    lab = list(labels)
    spent = 0.0
    stats = {"calls": 0, "improvements": 0, "proved": 0}
    if size >= k:
        return lab, stats
    tried: set[tuple[tuple[int, ...], int]] = set()
    version = 0
    while spent < dtime:
        sets = _adjacent_sets(edges, lab, k, size)
        todo = [s for s in sets if (s, version) not in tried]
        if not todo:
            break
        progress = False
        for s in todo:
            if spent >= dtime or (deadline is not None and clock() > deadline):
                stats["dtime"] = spent
                return lab, stats
            tried.add((s, version))
            inS = set(s)
            free = [lab[i] in inS and not (locked is not None and locked[i]) for i in range(n)]
            if sum(free) > max_free:
                continue
            left = 5.0 if deadline is None else max(0.05, deadline - clock())
            out, st = solve_cut(
                adj, edges, weight, lo, hi, lab, free=free, allowed=[list(s)] * n,
                time_limit=min(left, 10.0), dtime=min(call_dtime, dtime - spent),
                seed=seed + stats["calls"], clock=clock, cost=cost, cut_scale=cut_scale,
            )  # fmt: skip
            spent += st.get("dtime", 0.0)
            stats["calls"] += 1
            if st.get("status") == "INFEASIBLE" or (st.get("status") == "OPTIMAL" and out is None):
                stats["proved"] += 1
            if out is not None:
                lab = out
                version += 1
                stats["improvements"] += 1
                progress = True
                break
        if not progress:
            break
    stats["dtime"] = spent
    return lab, stats


def _boundary_hops(adj: list[list[int]], lab: list[int], limit: int) -> list[int]:
    """Hops from every node to the nearest node with a neighbour in another territory
    (``limit + 1`` beyond ``limit`` hops)."""
    n = len(adj)
    dist = [limit + 1] * n
    q: deque[int] = deque()
    for i in range(n):
        if any(lab[j] != lab[i] for j in adj[i]):
            dist[i] = 0
            q.append(i)
    while q:
        u = q.popleft()
        if dist[u] >= limit:
            continue
        for v in adj[u]:
            if dist[v] > dist[u] + 1:
                dist[v] = dist[u] + 1
                q.append(v)
    return dist


def band_polish(
    adj: list[list[int]],
    edges: np.ndarray,
    weight: list[int],
    lo: list[int],
    hi: list[int],
    labels: list[int],
    *,
    locked: list[bool] | None = None,
    hops: int = 2,
    max_free: int = 600,
    dtime: float = 1.0,
    seed: int = 0,
    deadline: float | None = None,
    clock=None,
    cost: list[list[int]] | None = None,
    cut_scale: int = 1,
) -> tuple[list[int], dict]:
    """Re-solve every border of the plan at once with :func:`solve_cut`: the nodes
    within ``hops`` hops of a cut edge are free (fewer hops while more than
    ``max_free`` nodes would be), each may take the territories found within that many
    hops of it, the rest is fixed. This is the neighbourhood of all territories
    together, which :func:`polish` (``size`` < k) never sees, e.g. with k = 2 or 3.
    ``dtime`` deterministic seconds in all; the clock (``deadline``) is a safety net.
    Returns the (possibly unchanged, never worse) plan and stats."""
    import time

    clock = clock or time.monotonic
    n = len(adj)
    lab = list(labels)
    stats: dict = {"calls": 0, "improvements": 0, "dtime": 0.0, "hops": 0, "free": 0}
    h = hops
    dist = _boundary_hops(adj, lab, h)
    while h > 0 and sum(1 for d in dist if d <= h) > max_free:
        h -= 1
    free = [dist[i] <= h and not (locked is not None and locked[i]) for i in range(n)]
    stats["hops"], stats["free"] = h, sum(free)
    if not any(free):
        return lab, stats
    # territories reachable within h hops of each free node (its own included)
    allowed: list[list[int]] = []
    for i in range(n):
        if not free[i]:
            allowed.append([lab[i]])
            continue
        seen, frontier, terr = {i}, [i], {lab[i]}
        for _ in range(h + 1):
            nxt = []
            for u in frontier:
                for v in adj[u]:
                    if v not in seen:
                        seen.add(v)
                        terr.add(lab[v])
                        nxt.append(v)
            frontier = nxt
        allowed.append(sorted(terr))
    left = 10.0 if deadline is None else max(0.05, deadline - clock())
    out, st = solve_cut(
        adj, edges, weight, lo, hi, lab, free=free, allowed=allowed,
        time_limit=min(left, 30.0), dtime=dtime, seed=seed, clock=clock, cost=cost,
        cut_scale=cut_scale,
    )  # fmt: skip
    stats["calls"] = 1
    stats["dtime"] = st.get("dtime", 0.0)
    stats["status"] = st.get("status")
    if out is not None:
        lab = out
        stats["improvements"] = 1
    return lab, stats
