"""Exact pairing by set partitioning: every contiguous group is a column.

Groups are small (``ratio ± 1`` territories), so every connected set of ``lo..hi``
territories of a part can be listed (ESU enumeration: each set once, from its smallest
territory, extended only by larger territories that are new neighbours). The CP-SAT
model then picks ``G`` columns covering every territory exactly once; contiguity is
built into the columns, so the linear relaxation is tight. Objective, lexicographic: the
max deviation ``D`` (``y_S -> D >= |G W_S - W|``), then, keeping only the columns
within the best ``D``, the sum of ``(G W_S - W)^2`` (linear in ``y``). Returns ``None``
when the part has more than ``max_columns`` connected sets (the flow model of
:mod:`gridplan._balance.pairing_exact` takes over).
"""

from __future__ import annotations

import time

import numpy as np
from ortools.sat.python import cp_model

from gridplan._balance.pairing_exact import ExactResult, _clock_hit, _solver

__all__ = ["connected_sets", "solve_columns"]


def connected_sets(
    nbrs: list[list[int]], lo: int, hi: int, limit: int
) -> list[tuple[int, ...]] | None:
    """Every connected set of ``lo..hi`` nodes (sorted tuples), or ``None`` past
    ``limit`` sets (ESU: Wernicke 2006)."""
    out: list[tuple[int, ...]] = []
    adj = [set(nb) for nb in nbrs]

    def extend(sub: list[int], near: set[int], ext: list[int], v: int) -> bool:
        if len(sub) >= lo:
            out.append(tuple(sorted(sub)))
            if len(out) > limit:
                return False
        if len(sub) == hi:
            return True
        ext = list(ext)
        while ext:
            u = ext.pop()
            new = [x for x in adj[u] if x > v and x not in near]
            if not extend([*sub, u], near | adj[u], ext + new, v):
                return False
        return True

    for v in range(len(nbrs)):
        start = [u for u in nbrs[v] if u > v]
        if not extend([v], adj[v] | {v}, start, v):
            return None
    return out


def solve_columns(
    nbrs: list[list[int]], w: np.ndarray, G: int, lo: int, hi: int, *,
    hint: np.ndarray | None = None, seed: int = 0, time_limit: float = 10.0,
    dtime: float = 10.0, workers: int = 1, max_columns: int = 100_000,
    scale: int | None = None, total: int | None = None, other: int = 0,
) -> ExactResult | None:  # fmt: skip
    """Solve one part exactly over its connected sets (``w`` integer weights (n,));
    ``time_limit`` wall-clock seconds (safety), ``dtime`` deterministic seconds (half to
    each stage, plus what the first left); ``hint`` labels of a valid plan.

    A neighbourhood of a bigger part (the large-neighbourhood search) measures the
    deviations against the whole part: ``scale`` its number of groups, ``total`` its
    weight (so a group's deviation is ``|scale W_S - total|``) and ``other`` the largest
    deviation among the groups outside, which the second stage may use up to."""
    t0 = time.monotonic()
    cols = connected_sets(nbrs, lo, hi, max_columns)
    if cols is None:
        return None
    n = len(nbrs)
    w = np.asarray(w, dtype=np.int64)
    scale = G if scale is None else int(scale)
    total = int(w.sum()) if total is None else int(total)
    dev = [abs(scale * int(w[list(c)].sum()) - total) for c in cols]
    m = cp_model.CpModel()
    y = [m.NewBoolVar(f"y{k}") for k in range(len(cols))]
    cover: list[list[int]] = [[] for _ in range(n)]
    for k, c in enumerate(cols):
        for i in c:
            cover[i].append(k)
    for i in range(n):
        if not cover[i]:
            return ExactResult(None, "INFEASIBLE", 0.0)
        m.AddExactlyOne(y[k] for k in cover[i])
    m.Add(sum(y) == G)
    big = m.NewIntVar(0, max(dev, default=0), "D")
    for k, d in enumerate(dev):
        if d:
            m.Add(big >= d).OnlyEnforceIf(y[k])
    chosen = _hint_columns(m, y, cols, hint)
    if chosen is not None:
        m.Add(big <= max(dev[k] for k in chosen))
    m.Minimize(big)
    s1 = _solver(seed, 0.5 * time_limit, 0.5 * dtime, workers)
    st1 = s1.Solve(m)
    used = s1.deterministic_time
    clock = st1 != cp_model.OPTIMAL and _clock_hit(s1)
    if st1 not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return ExactResult(None, s1.StatusName(st1), used, clock)
    best = [k for k in range(len(cols)) if s1.BooleanValue(y[k])]
    d_star = max(int(s1.Value(big)), int(other))
    for k, d in enumerate(dev):
        if d > d_star:
            m.Add(y[k] == 0)
    m.Minimize(sum(d * d * y[k] for k, d in enumerate(dev) if d))
    m.ClearHints()
    picked = set(best)
    for k in range(len(cols)):
        m.AddHint(y[k], int(k in picked))
    left = time_limit - (time.monotonic() - t0)
    s2 = _solver(seed, max(0.01, left), max(0.001, dtime - used), workers)
    st2 = s2.Solve(m)
    used += s2.deterministic_time
    if st2 in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        best = [k for k in range(len(cols)) if s2.BooleanValue(y[k])]
    clock = clock or (st2 != cp_model.OPTIMAL and _clock_hit(s2))
    lab = np.empty(n, dtype=np.int64)
    for g, k in enumerate(sorted(best, key=lambda k: cols[k][0])):
        lab[list(cols[k])] = g
    optimal = st1 == cp_model.OPTIMAL and st2 == cp_model.OPTIMAL
    return ExactResult(lab, "OPTIMAL" if optimal else "FEASIBLE", used, clock)


def _hint_columns(m, y, cols, hint) -> list[int] | None:
    """Hint the columns of ``hint``'s groups; their indices when every group is one."""
    if hint is None:
        return None
    where = {c: k for k, c in enumerate(cols)}
    chosen = []
    for g in range(int(hint.max()) + 1):
        k = where.get(tuple(np.flatnonzero(hint == g).tolist()))
        if k is None:
            return None
        chosen.append(k)
    picked = set(chosen)
    for k in range(len(cols)):
        m.AddHint(y[k], int(k in picked))
    return chosen
