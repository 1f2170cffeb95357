"""Exact CP-SAT model of contiguous, balanced territories on a (sub)graph.

One model serves both the exact solve of small instances and every sub-problem of the
large-neighbourhood search (which re-solves two or three adjacent territories with the
rest of the plan fixed).

Model (``D`` territories on ``n`` nodes with integer weights ``w``):

- ``x[i,d]`` = node ``i`` in territory ``d``; ``sum_d x[i,d] = 1``; nodes that are fixed
  or not allowed in ``d`` get no variable.
- balance: ``lo[d] <= sum_i w[i] x[i,d] <= hi[d]`` (hard), or with slack penalised per
  unit of weight outside the band (``soft`` mode, used to repair a start plan).
- cut edges in the extended form of Ferreira et al.: ``z[e,d] <= x[i,d], z[e,d] <= x[j,d]``
  and ``cut(e) = 1 - sum_d z[e,d]``; edges carry integer multiplicities ``edge_w``
  (contracted sub-problems merge parallel edges).
- contiguity by a rooted spanning forest: each territory has exactly one root
  (``r[i,d]``); every other node picks one parent arc ``p[i->j]`` towards a neighbour in
  the same territory whose level is strictly lower (``p[i->j] => h[i] >= h[j] + 1``), so
  the parent arcs form one tree per territory. Roots may be fixed (the LNS fixes the
  territory's contracted core as its root, which also removes the symmetry).
- symmetry: when territories are interchangeable (equal bounds, no costs, no fixed
  nodes), the orbitope ordering "territory d's first node comes before territory d+1's"
  is imposed through prefix indicators.
- objective: ``cut_scale * sum_e edge_w[e] * cut(e) + sum_{i,d} cost[i,d] x[i,d]``
  (+ slack penalty), integers throughout.

Determinism: a single worker or ``interleave_search`` with a deterministic time limit;
the wall-clock limit is only a safety net (see :func:`solve_subproblem`).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from ortools.sat.python import cp_model

__all__ = ["SubProblem", "SubResult", "solve_subproblem"]


@dataclass
class SubProblem:
    """A partition problem on ``n`` nodes into ``D`` territories (all arrays numpy).

    ``fixed[i]`` is ``-1`` for a free node or the territory it must stay in; ``allowed``
    (n, D) optionally restricts free nodes; ``cost`` (n, D) is an integer cost of
    putting node ``i`` in territory ``d`` (compactness, home base, disruption);
    ``roots[d]`` is a node fixed as territory ``d``'s root or ``-1``.
    ``prev``/``move_budget``/``move_weight_budget`` cap how many nodes (and how much
    weight) may end in a territory other than ``prev[i]`` (``-1`` = counts as moved
    whatever happens, i.e. it is excluded from the cap).
    """

    weight: np.ndarray
    edges: np.ndarray
    edge_w: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    fixed: np.ndarray
    cut_scale: int = 1
    cost: np.ndarray | None = None
    allowed: np.ndarray | None = None
    roots: np.ndarray | None = None
    symmetric: bool = False
    soft: bool = False
    soft_penalty: int = 1
    prev: np.ndarray | None = None
    move_budget: int | None = None
    move_weight_budget: int | None = None
    count_w: np.ndarray | None = field(default=None)  # node multiplicity for move caps

    @property
    def n(self) -> int:
        return int(self.weight.size)

    @property
    def k(self) -> int:
        return int(self.lo.size)


@dataclass
class SubResult:
    """Outcome of one CP-SAT solve: ``labels`` (n,) or ``None`` when nothing was found."""

    labels: np.ndarray | None
    status: str
    objective: float
    bound: float
    optimal: bool
    dtime: float = 0.0  # CP-SAT deterministic time used (reproducible work measure)


def _hint_forest(
    n: int, adj: list[list[int]], labels: np.ndarray, roots: np.ndarray | None, k: int
) -> tuple[dict[tuple[int, int], int], np.ndarray, np.ndarray] | None:
    """Parent arcs, levels and roots of a BFS forest of a contiguous labelling, else None."""
    parent: dict[tuple[int, int], int] = {}
    level = np.full(n, -1, dtype=np.int64)
    root_of = np.full(k, -1, dtype=np.int64)
    for d in range(k):
        members = np.flatnonzero(labels == d)
        if members.size == 0:
            return None
        r = int(roots[d]) if roots is not None and roots[d] >= 0 else int(members[0])
        if labels[r] != d:
            return None
        root_of[d] = r
        level[r] = 0
        dq = deque([r])
        while dq:
            u = dq.popleft()
            for v in adj[u]:
                if labels[v] == d and level[v] < 0:
                    level[v] = level[u] + 1
                    parent[(v, u)] = 1
                    dq.append(v)
        if np.any(level[members] < 0):
            return None
    return parent, level, root_of


class _Infeasible(Exception):
    """Raised by a model phase that proves the sub-problem infeasible while building."""


@dataclass
class _Model:
    """The CP-SAT model of a :class:`SubProblem` while it is built, phase by phase.

    ``x[i][d]`` is a literal or one of the constants ``true``/``false``; ``adj`` the
    neighbour lists; ``same[(a, b)]`` the "uncut" literal of edge ``a-b``;
    ``uncut`` the (literal, edge weight) pairs of edges that may be uncut and
    ``const_uncut`` the weight of edges that are uncut for sure; ``is_root[i]`` and
    ``h[i]`` (level) of the spanning forest, ``parent[(i, j)]`` its arc literals.
    """

    sp: SubProblem
    w: np.ndarray
    edges: np.ndarray
    ew: np.ndarray
    allowed: np.ndarray
    m: cp_model.CpModel = field(default_factory=cp_model.CpModel)
    true: object = None
    false: object = None
    x: list[list] = field(default_factory=list)
    slack: list = field(default_factory=list)
    adj: list[list[int]] = field(default_factory=list)
    same: dict[tuple[int, int], object] = field(default_factory=dict)
    uncut: list = field(default_factory=list)
    const_uncut: int = 0
    roots: np.ndarray | None = None
    is_root: list = field(default_factory=list)
    h: list = field(default_factory=list)
    parent: dict[tuple[int, int], object] = field(default_factory=dict)
    #: ``is_var(lit)``: a literal that is neither constant (a closure: hot in every phase)
    is_var: Callable[[object], bool] = field(default=lambda lit: True)


def _allowed(sp: SubProblem, fixed: np.ndarray) -> np.ndarray:
    """(n, D) which territories each node may join (fixed nodes: their own only)."""
    allowed = np.ones((sp.n, sp.k), dtype=bool) if sp.allowed is None else sp.allowed.copy()
    for i in np.flatnonzero(fixed >= 0):
        allowed[i, :] = False
        allowed[i, fixed[i]] = True
    if np.any(~allowed.any(axis=1)):
        raise _Infeasible
    return allowed


def _add_assignment(md: _Model) -> None:
    """``x[i][d]``: one territory per node (constants where only one is allowed)."""
    m, allowed, n, k = md.m, md.allowed, md.sp.n, md.sp.k
    md.true = true_lit = m.NewConstant(1)
    md.false = false_lit = m.NewConstant(0)

    def is_var(lit) -> bool:
        return lit is not true_lit and lit is not false_lit

    md.is_var = is_var
    x = md.x
    for i in range(n):
        row = []
        nd = int(allowed[i].sum())
        for d in range(k):
            if not allowed[i, d]:
                row.append(false_lit)
            elif nd == 1:
                row.append(true_lit)
            else:
                row.append(m.NewBoolVar(f"x{i}_{d}"))
        x.append(row)
        if nd > 1:
            m.AddExactlyOne([row[d] for d in range(k) if allowed[i, d]])


def _add_balance(md: _Model) -> None:
    """``lo[d] <= weight(d) <= hi[d]``, hard or with penalised slack (``soft``)."""
    m, sp, w, x, allowed, is_var = md.m, md.sp, md.w, md.x, md.allowed, md.is_var
    n = sp.n
    for d in range(sp.k):
        const = int(w[allowed[:, d] & (allowed.sum(axis=1) == 1)].sum())
        terms = [(x[i][d], int(w[i])) for i in range(n) if is_var(x[i][d]) and w[i] != 0]
        expr = sum(lit * c for lit, c in terms) + const if terms else const
        lo, hi = int(sp.lo[d]), int(sp.hi[d])
        if sp.soft:
            over = m.NewIntVar(0, int(w.sum()), f"over{d}")
            under = m.NewIntVar(0, int(w.sum()), f"under{d}")
            m.Add(expr - over <= hi)
            m.Add(expr + under >= lo)
            md.slack += [over, under]
        else:
            if not terms:
                if const < lo or const > hi:
                    raise _Infeasible
                continue
            m.AddLinearConstraint(expr, lo, hi)


def _add_edges(md: _Model) -> None:
    """``z[e][d]`` "both ends in d" and ``same[e] = sum_d z[e][d]`` (edge uncut)."""
    m, x, edges, ew = md.m, md.x, md.edges, md.ew
    true_lit, false_lit, is_var = md.true, md.false, md.is_var
    n, k = md.sp.n, md.sp.k
    adj: list[list[int]] = [[] for _ in range(n)]
    edge_same = md.same
    obj_same = md.uncut
    const_uncut = 0
    for e in range(edges.shape[0]):
        a, b = int(edges[e, 0]), int(edges[e, 1])
        adj[a].append(b)
        adj[b].append(a)
        zs = []
        for d in range(k):
            xa, xb = x[a][d], x[b][d]
            if xa is false_lit or xb is false_lit:
                continue
            if xa is true_lit and xb is true_lit:
                zs = [true_lit]
                break
            z = m.NewBoolVar(f"z{e}_{d}")
            for lit in (xa, xb):
                if is_var(lit):
                    m.AddImplication(z, lit)
            zs.append(z)
        if not zs:
            same = false_lit
        elif len(zs) == 1:
            same = zs[0]
        else:
            same = m.NewBoolVar(f"s{e}")
            m.Add(sum(zs) == same)
        edge_same[(a, b)] = same
        edge_same[(b, a)] = same
        if same is true_lit:
            const_uncut += int(ew[e])
        elif same is not false_lit:
            obj_same.append((same, int(ew[e])))
    md.adj = adj
    md.const_uncut = const_uncut


def _add_roots(md: _Model) -> None:
    """Exactly one root per territory (fixed when ``sp.roots`` names one)."""
    m, x, allowed, sp = md.m, md.x, md.allowed, md.sp
    true_lit, false_lit, is_var = md.true, md.false, md.is_var
    n, k = sp.n, sp.k
    roots = sp.roots if sp.roots is not None else np.full(k, -1, dtype=np.int64)
    is_root: list = [false_lit] * n
    root_terms: list[list] = [[] for _ in range(n)]
    for d in range(k):
        if roots[d] >= 0:
            r = int(roots[d])
            if not allowed[r, d]:
                raise _Infeasible
            if is_var(x[r][d]):
                m.Add(x[r][d] == 1)
            root_terms[r].append(true_lit)
        else:
            cands = [i for i in range(n) if allowed[i, d]]
            lits = []
            for i in cands:
                rv = m.NewBoolVar(f"r{i}_{d}")
                if is_var(x[i][d]):
                    m.AddImplication(rv, x[i][d])
                root_terms[i].append(rv)
                lits.append(rv)
            m.AddExactlyOne(lits)
    for i in range(n):
        t = root_terms[i]
        if any(lit is true_lit for lit in t):
            is_root[i] = true_lit
        elif len(t) == 1:
            is_root[i] = t[0]
        elif len(t) > 1:
            rv = m.NewBoolVar(f"R{i}")
            m.Add(sum(t) == rv)
            is_root[i] = rv
    md.roots = roots
    md.is_root = is_root


def _add_contiguity(md: _Model) -> None:
    """Roots, then one parent arc per non-root node towards a strictly lower level in
    the same territory: the arcs form one tree per territory."""
    _add_roots(md)
    m, adj, edge_same, is_root = md.m, md.adj, md.same, md.is_root
    true_lit, false_lit = md.true, md.false
    n = md.sp.n
    h = [m.NewIntVar(0, max(n - 1, 0), f"h{i}") for i in range(n)]
    parent_vars = md.parent
    for i in range(n):
        if is_root[i] is true_lit:
            m.Add(h[i] == 0)
            continue
        arcs = []
        for j in adj[i]:
            same = edge_same[(i, j)]
            if same is false_lit:
                continue
            if is_root[j] is false_lit and len(adj[j]) == 1:
                continue  # a leaf that is not a root cannot be a parent
            p = m.NewBoolVar(f"p{i}_{j}")
            if same is not true_lit:
                m.AddImplication(p, same)
            m.Add(h[i] >= h[j] + 1).OnlyEnforceIf(p)
            parent_vars[(i, j)] = p
            arcs.append(p)
        if is_root[i] is false_lit:
            if not arcs:
                raise _Infeasible
            m.AddExactlyOne(arcs)
        else:
            m.AddExactlyOne([*arcs, is_root[i]])
            m.Add(h[i] == 0).OnlyEnforceIf(is_root[i])
    md.h = h


def _add_symmetry(md: _Model) -> None:
    """Orbitope ordering: territory d's first node precedes territory d+1's."""
    m, x = md.m, md.x
    true_lit, false_lit, is_var = md.true, md.false, md.is_var
    n, k = md.sp.n, md.sp.k
    prefix_prev: list = [false_lit] * k
    for i in range(n):
        cur = []
        for d in range(k):
            if d > i and is_var(x[i][d]):
                m.Add(x[i][d] == 0)
            if d >= 1 and is_var(x[i][d]):
                if prefix_prev[d - 1] is false_lit:
                    m.Add(x[i][d] == 0)
                elif prefix_prev[d - 1] is not true_lit:
                    m.AddImplication(x[i][d], prefix_prev[d - 1])
            xi = x[i][d]
            if prefix_prev[d] is true_lit or xi is true_lit:
                cur.append(true_lit)
            elif xi is false_lit:
                cur.append(prefix_prev[d])
            elif prefix_prev[d] is false_lit:
                cur.append(xi)
            else:
                s = m.NewBoolVar(f"o{i}_{d}")
                m.AddBoolOr([prefix_prev[d], xi]).OnlyEnforceIf(s)
                m.AddImplication(prefix_prev[d], s)
                m.AddImplication(xi, s)
                cur.append(s)
        prefix_prev = cur


def _add_move_caps(md: _Model) -> None:
    """Disruption caps: nodes (by multiplicity) and weight that leave ``prev``."""
    m, sp, w, x, true_lit, is_var = md.m, md.sp, md.w, md.x, md.true, md.is_var
    n = sp.n
    stay_terms = []
    prev = np.asarray(sp.prev, dtype=np.int64)
    cw = np.ones(n, dtype=np.int64) if sp.count_w is None else sp.count_w
    base_cnt = 0
    base_w = 0
    for i in range(n):
        if prev[i] < 0:
            continue
        base_cnt += int(cw[i])
        base_w += int(w[i])
        lit = x[i][prev[i]]
        if lit is true_lit:
            base_cnt -= int(cw[i])
            base_w -= int(w[i])
        elif is_var(lit):
            stay_terms.append((lit, i))
    if sp.move_budget is not None:
        m.Add(base_cnt - sum(lit * int(cw[i]) for lit, i in stay_terms) <= sp.move_budget)
    if sp.move_weight_budget is not None:
        m.Add(base_w - sum(lit * int(w[i]) for lit, i in stay_terms) <= sp.move_weight_budget)


def _add_objective(md: _Model) -> None:
    """Minimise ``cut_scale`` x cut edge weight + assignment costs (+ slack penalty)."""
    sp, x, true_lit, false_lit = md.sp, md.x, md.true, md.false
    n, k = sp.n, sp.k
    total_ew = int(md.ew.sum())
    obj_terms = [(-int(sp.cut_scale) * wt, lit) for lit, wt in md.uncut]
    const = int(sp.cut_scale) * (total_ew - md.const_uncut)
    if sp.cost is not None:
        cost = np.asarray(sp.cost, dtype=np.int64)
        for i in range(n):
            for d in range(k):
                lit = x[i][d]
                c = int(cost[i, d])
                if c == 0 or lit is false_lit:
                    continue
                if lit is true_lit:
                    const += c
                else:
                    obj_terms.append((c, lit))
    expr = sum(c * lit for c, lit in obj_terms) + const if obj_terms else const
    if sp.soft:
        expr = expr + int(sp.soft_penalty) * sum(md.slack)
    md.m.Minimize(expr)


def _add_hint(md: _Model, hint: np.ndarray) -> None:
    """Hint the assignment, and the forest / uncut literals when the hint is contiguous
    (root and z literals are left for CP-SAT to complete, cheap to infer)."""
    m, x, is_var, edges, edge_same = md.m, md.x, md.is_var, md.edges, md.same
    n, k = md.sp.n, md.sp.k
    hint = np.asarray(hint, dtype=np.int64)
    for i in range(n):
        for d in range(k):
            if is_var(x[i][d]):
                m.AddHint(x[i][d], int(hint[i] == d))
    forest = _hint_forest(n, md.adj, hint, md.roots, k)
    if forest is None:
        return
    par, lev, _root_of = forest
    for i in range(n):
        m.AddHint(md.h[i], int(lev[i]))
    for (i, j), p in md.parent.items():
        m.AddHint(p, int((i, j) in par))
    for e in range(edges.shape[0]):
        a, b = int(edges[e, 0]), int(edges[e, 1])
        s = edge_same[(a, b)]
        if is_var(s):
            m.AddHint(s, int(hint[a] == hint[b]))


def _build(sp: SubProblem, hint: np.ndarray | None) -> _Model:
    """The whole model, phase by phase (raises :class:`_Infeasible`)."""
    fixed = np.asarray(sp.fixed, dtype=np.int64)
    md = _Model(
        sp=sp,
        w=np.asarray(sp.weight, dtype=np.int64),
        edges=np.asarray(sp.edges, dtype=np.int64).reshape(-1, 2),
        ew=np.asarray(sp.edge_w, dtype=np.int64),
        allowed=_allowed(sp, fixed),
    )
    _add_assignment(md)
    _add_balance(md)
    _add_edges(md)
    _add_contiguity(md)
    if sp.symmetric and sp.k > 1:
        _add_symmetry(md)
    if sp.prev is not None and (sp.move_budget is not None or sp.move_weight_budget is not None):
        _add_move_caps(md)
    _add_objective(md)
    if hint is not None:
        _add_hint(md, hint)
    return md


def _solver(
    time_limit: float, dtime: float | None, seed: int, workers: int, stop_after_first: bool
) -> cp_model.CpSolver:
    """A CP-SAT solver with the wall-clock and deterministic limits (seconds)."""
    solver = cp_model.CpSolver()
    prm = solver.parameters
    prm.max_time_in_seconds = max(0.01, float(time_limit))
    if dtime is not None:
        prm.max_deterministic_time = max(0.001, float(dtime))
    prm.random_seed = int(seed)
    prm.num_workers = max(1, int(workers))
    if workers > 1:
        prm.interleave_search = True
    prm.log_search_progress = False
    if stop_after_first:
        prm.stop_after_first_solution = True
    return solver


def _read_solution(md: _Model, solver: cp_model.CpSolver, status: int) -> SubResult:
    """Labels, status, objective and bound of a solved model."""
    name = solver.StatusName(status)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return SubResult(None, name, float("inf"), float("inf"), False, solver.deterministic_time)
    x, true_lit, is_var = md.x, md.true, md.is_var
    n, k = md.sp.n, md.sp.k
    labels = np.empty(n, dtype=np.int64)
    for i in range(n):
        for d in range(k):
            lit = x[i][d]
            if lit is true_lit or (is_var(lit) and solver.BooleanValue(lit)):
                labels[i] = d
                break
    return SubResult(
        labels,
        name,
        float(solver.ObjectiveValue()),
        float(solver.BestObjectiveBound()),
        status == cp_model.OPTIMAL,
        solver.deterministic_time,
    )


def solve_subproblem(
    sp: SubProblem,
    *,
    hint: np.ndarray | None = None,
    time_limit: float = 10.0,
    dtime: float | None = None,
    seed: int = 0,
    workers: int = 1,
    stop_after_first: bool = False,
) -> SubResult:
    """Build and solve the CP-SAT model of ``sp``.

    ``time_limit`` is the wall-clock safety limit (seconds); ``dtime`` the deterministic
    limit that makes the result reproducible (CP-SAT's deterministic seconds). With
    ``workers > 1`` the search is interleaved (``interleave_search``) so it stays
    deterministic for a given seed.
    """
    try:
        md = _build(sp, hint)
    except _Infeasible:
        return SubResult(None, "INFEASIBLE", float("inf"), float("inf"), False)
    solver = _solver(time_limit, dtime, seed, workers, stop_after_first)
    status = solver.Solve(md.m)
    return _read_solution(md, solver, status)
