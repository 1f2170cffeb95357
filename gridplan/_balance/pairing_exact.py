"""The flow-based exact CP-SAT model of :func:`gridplan.balance.pair_marketing` on one
connected part of ``n`` territories split into ``G`` contiguous groups of ``lo..hi``
territories: the fallback of the set-partitioning model
(:mod:`gridplan._balance.pairing_columns`) when a part has too many connected groups to
list (large ratios), on small parts only (its relaxation is weak).

Variables: ``x[i][g]`` territory ``i`` in group ``g``; ``r[i][g]`` ``i`` is the root
(smallest index) of ``g``. Symmetry: group ``g``'s root ``rho_g = sum_i i r[i][g]`` is
its smallest member (``x[j][g] -> rho_g <= j``) and the roots increase with ``g``, so
every grouping has exactly one labelling (``x[i][g]`` exists only for ``g <= i``).

Contiguity (single-commodity flow): ``s_e`` allows flow on edge ``e`` only when both
ends are in the same group; each territory consumes one unit, only roots supply
(``supply_i <= hi * root_i``). Summing conservation over a piece of a group that holds
no root gives ``-|piece| = 0``: impossible, so every piece holds the group's one root.

Objective, lexicographic in two solves on integer weights: first the max deviation
``D >= |G W_g - W|`` (``G`` times the deviation from the mean), then, with ``D`` fixed
at its best value, the sum of ``W_g^2`` (the sum of squared deviations plus a
constant, since ``sum W_g = W``). Deterministic: one worker (or ``interleave_search``)
and CP-SAT deterministic time limits.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass
from typing import Any

import numpy as np
from ortools.sat.python import cp_model

from gridplan.graph import edge_array, is_connected_subset

__all__ = ["ExactResult", "solve_exact"]


@dataclass(frozen=True)
class ExactResult:
    """``labels`` (n,) canonical groups or ``None``; ``status`` "OPTIMAL" (both stages
    proven), "FEASIBLE", "INFEASIBLE" (no contiguous grouping with those sizes) or
    "UNKNOWN"; ``dtime`` the CP-SAT deterministic seconds spent; ``clock_stopped``
    whether the wall clock (not the deterministic limit) ended an unproven stage."""

    labels: np.ndarray | None
    status: str
    dtime: float
    clock_stopped: bool = False  # the wall-clock limit, not the work, ended a stage


@dataclass
class _Model:
    m: cp_model.CpModel
    x: list[dict[int, Any]]
    r: list[dict[int, Any]]
    s: dict[tuple[int, int], Any]
    f: dict[tuple[int, int], Any]
    supply: list[Any]
    wg: list[Any]
    dev: Any


def _build(ip, ix, w: np.ndarray, G: int, lo: int, hi: int) -> _Model:
    n = ip.size - 1
    m = cp_model.CpModel()
    x = [{g: m.NewBoolVar(f"x{i}_{g}") for g in range(min(i, G - 1) + 1)} for i in range(n)]
    r = [{g: m.NewBoolVar(f"r{i}_{g}") for g in x[i]} for i in range(n)]
    for i in range(n):
        m.AddExactlyOne(x[i].values())
        for g in r[i]:
            m.AddImplication(r[i][g], x[i][g])
    rho = []
    for g in range(G):
        m.AddExactlyOne(r[i][g] for i in range(n) if g in r[i])
        rho_g = m.NewIntVar(g, n - (G - g), f"rho{g}")
        m.Add(rho_g == sum(i * r[i][g] for i in range(n) if g in r[i]))
        for j in range(n):
            if g in x[j]:
                m.Add(rho_g <= j).OnlyEnforceIf(x[j][g])
        rho.append(rho_g)
        members = [x[i][g] for i in range(n) if g in x[i]]
        m.AddLinearConstraint(sum(members), lo, hi)
    for g in range(G - 1):
        m.Add(rho[g] < rho[g + 1])
    s: dict[tuple[int, int], Any] = {}
    f: dict[tuple[int, int], Any] = {}
    for i, j in edge_array(ip, ix).tolist():
        se = m.NewBoolVar(f"s{i}_{j}")
        s[i, j] = se
        for g in range(G):
            a, b = x[i].get(g), x[j].get(g)
            if a is not None and b is not None:
                m.Add(a == b).OnlyEnforceIf(se)
            elif a is not None or b is not None:
                m.AddImplication(se, (a if a is not None else b).Not())
        for u, v in ((i, j), (j, i)):
            f[u, v] = m.NewIntVar(0, hi - 1, f"f{u}_{v}")
            m.Add(f[u, v] <= (hi - 1) * se)
    supply = []
    for i in range(n):
        root = sum(r[i].values())
        sp = m.NewIntVar(0, hi, f"supply{i}")
        m.Add(sp <= hi * root)
        out = [f[i, int(v)] for v in ix[ip[i] : ip[i + 1]]]
        inn = [f[int(v), i] for v in ix[ip[i] : ip[i + 1]]]
        m.Add(sum(out) - sum(inn) == sp - 1)
        supply.append(sp)
    total = int(w.sum())
    wg = []
    dev = m.NewIntVar(0, G * total + total, "D")
    for g in range(G):
        wv = m.NewIntVar(0, total, f"W{g}")
        m.Add(wv == sum(int(w[i]) * x[i][g] for i in range(n) if g in x[i]))
        m.Add(dev >= G * wv - total)
        m.Add(dev >= total - G * wv)
        wg.append(wv)
    return _Model(m, x, r, s, f, supply, wg, dev)


def _tree_flows(ip, ix, lab: np.ndarray, root: int) -> dict[tuple[int, int], int]:
    """Flow on a BFS tree of ``root``'s group: each arc carries its subtree's size."""
    parent = {root: -1}
    order = [root]
    q = deque([root])
    while q:
        u = q.popleft()
        for v in ix[ip[u] : ip[u + 1]].tolist():
            if lab[v] == lab[root] and v not in parent:
                parent[v] = u
                order.append(v)
                q.append(v)
    sub = dict.fromkeys(order, 1)
    flows = {}
    for v in reversed(order[1:]):
        sub[parent[v]] += sub[v]
        flows[parent[v], v] = sub[v]
    return flows


def _hint(md: _Model, ip, ix, lab: np.ndarray) -> None:
    """A complete hint from canonical labels (groups by smallest index)."""
    md.m.ClearHints()
    G = len(md.wg)
    if int(lab.max()) + 1 != G or any(int(lab[i]) not in md.x[i] for i in range(lab.size)):
        return
    roots = {int(np.flatnonzero(lab == g)[0]): g for g in range(G)}
    flows: dict[tuple[int, int], int] = {}
    for rt in roots:
        flows.update(_tree_flows(ip, ix, lab, rt))
    for i in range(lab.size):
        for g, v in md.x[i].items():
            md.m.AddHint(v, int(lab[i] == g))
            md.m.AddHint(md.r[i][g], int(roots.get(i) == g))
        md.m.AddHint(md.supply[i], int((lab == lab[i]).sum()) if i in roots else 0)
    for (i, j), se in md.s.items():
        md.m.AddHint(se, int(lab[i] == lab[j]))
    for key, fv in md.f.items():
        md.m.AddHint(fv, flows.get(key, 0))


def _solver(seed: int, time_limit: float, dtime: float, workers: int) -> cp_model.CpSolver:
    solver = cp_model.CpSolver()
    prm = solver.parameters
    prm.max_time_in_seconds = max(0.01, float(time_limit))
    prm.max_deterministic_time = max(0.001, float(dtime))
    prm.random_seed = int(seed)
    prm.num_workers = max(1, int(workers))
    if workers > 1:
        prm.interleave_search = True
    return solver


def _read(md: _Model, solver: cp_model.CpSolver) -> np.ndarray:
    lab = np.empty(len(md.x), dtype=np.int64)
    for i, row in enumerate(md.x):
        lab[i] = next(g for g, v in row.items() if solver.BooleanValue(v))
    return lab


def solve_exact(
    ip: np.ndarray, ix: np.ndarray, w: np.ndarray, G: int, lo: int, hi: int, *,
    hint: np.ndarray | None = None, seed: int = 0, time_limit: float = 10.0,
    dtime: float = 10.0, workers: int = 1,
) -> ExactResult:  # fmt: skip
    """Solve one part exactly (``w`` integer weights, (n,)); ``time_limit`` wall-clock
    seconds (safety), ``dtime`` deterministic seconds shared by the two stages (60 % to
    the first, the rest and what it left to the second). ``hint`` canonical labels."""
    t0 = time.monotonic()
    w = np.asarray(w, dtype=np.int64)
    md = _build(ip, ix, w, G, lo, hi)
    if hint is not None:
        _hint(md, ip, ix, hint)
        sizes = np.bincount(hint, minlength=G)
        valid = sizes.size == G and sizes.min() >= lo and sizes.max() <= hi
        if valid and all(is_connected_subset(ip, ix, np.flatnonzero(hint == g)) for g in range(G)):
            wh = np.bincount(hint, weights=w, minlength=G).astype(np.int64)
            md.m.Add(md.dev <= int(np.abs(G * wh - int(w.sum())).max()))
    md.m.Minimize(md.dev)
    solver = _solver(seed, 0.6 * time_limit, 0.6 * dtime, workers)
    st1 = solver.Solve(md.m)
    used = solver.deterministic_time
    clock = st1 != cp_model.OPTIMAL and _clock_hit(solver)
    if st1 not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return ExactResult(None, solver.StatusName(st1), used, clock)
    lab = _read(md, solver)
    md.m.Add(md.dev <= int(solver.Value(md.dev)))
    sq = []
    for g, wv in enumerate(md.wg):
        q = md.m.NewIntVar(0, int(w.sum()) ** 2, f"sq{g}")
        md.m.AddMultiplicationEquality(q, [wv, wv])
        sq.append(q)
    md.m.Minimize(sum(sq))
    _hint(md, ip, ix, lab)
    left = time_limit - (time.monotonic() - t0)
    solver2 = _solver(seed, max(0.01, left), max(0.001, dtime - used), workers)
    st2 = solver2.Solve(md.m)
    used += solver2.deterministic_time
    if st2 in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        lab = _read(md, solver2)
    clock = clock or (st2 != cp_model.OPTIMAL and _clock_hit(solver2))
    optimal = st1 == cp_model.OPTIMAL and st2 == cp_model.OPTIMAL
    return ExactResult(lab, "OPTIMAL" if optimal else "FEASIBLE", used, clock)


def _clock_hit(solver: cp_model.CpSolver) -> bool:
    """Whether the wall-clock limit (not the deterministic one) ended the solve."""
    prm = solver.parameters
    return solver.wall_time >= 0.99 * prm.max_time_in_seconds and (
        solver.deterministic_time < 0.99 * prm.max_deterministic_time
    )
