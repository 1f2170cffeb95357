"""Solving one connected graph, and a disconnected one part by part.

:func:`solve_component` integerises the weights and bands, builds the cost matrix and
runs the engine; :func:`solve_components` gives every connected part of the adjacency a
whole number of managers and solves the parts apart.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from gridplan._balance.costs import (
    _centres_with_home,
    _cost_no_penalty,
    _home_costs,
    _kmeans_labels,
    _median_edge_length,
)
from gridplan._balance.engine import EngineInput, optimise_parallel
from gridplan.errors import InfeasibleError
from gridplan.graph import csr_from_edges, edge_array
from gridplan.progress import scaled

__all__ = ["solve_component", "solve_components"]

#: integer objective units per cut edge when a cost term is present
_UNIT = 100


def _int_weights(w: np.ndarray) -> tuple[np.ndarray, float]:
    """Integer weights for CP-SAT and the scale used (weights * scale, rounded)."""
    total = float(w.sum())
    if np.all(np.abs(w - np.round(w)) < 1e-9) and total < 2e12:
        return np.round(w).astype(np.int64), 1.0
    scale = 1e9 / max(total, 1e-12)
    return np.round(w * scale).astype(np.int64), scale


def _bands(
    w_int: np.ndarray, scale: float, targets: np.ndarray, tol: float
) -> tuple[list[int], list[int]]:
    lo = [max(0, math.ceil(t * (1 - tol) * scale - 1e-9)) for t in targets]
    hi = [math.floor(t * (1 + tol) * scale + 1e-9) for t in targets]
    return lo, hi


def solve_components(
    w, ip, ix, comp, m_per, targets, tolerance, coords, home_a, objective, lk, prev,
    move_penalty, max_moved, max_moved_weight, seed, time_left, workers, progress,
    capacities, notes, *, work=None, home_weight=0.0,
):  # fmt: skip
    """Disconnected graph: give each part a whole number of managers and solve apart."""
    n = w.size
    K = targets.size
    ncomp = m_per.size
    labels = np.full(n, -1, dtype=np.int64)
    # which managers go to which part: locked managers first, then by home base / order
    owner = np.full(K, -1, dtype=np.int64)
    for d in range(K):
        parts = np.unique(comp[lk == d])
        if parts.size > 1:
            raise InfeasibleError(
                f"manager {d} has locked units in {parts.size} disconnected parts; a "
                "territory must be contiguous",
                suggestions=["lock that manager's units in one part only"],
            )
        if parts.size == 1:
            owner[d] = parts[0]
    need = m_per.copy()
    for d in range(K):
        if owner[d] >= 0:
            need[owner[d]] -= 1
    if np.any(need < 0):
        c = int(np.flatnonzero(need < 0)[0])
        raise InfeasibleError(
            f"a disconnected part can hold {m_per[c]} territories but more managers have "
            "units locked in it",
            suggestions=["unlock units", "change the number of managers"],
        )
    free_mgr = [d for d in range(K) if owner[d] < 0]
    if home_a is not None and coords is not None:
        cx = np.array([coords[0][comp == c].mean() for c in range(ncomp)])
        cy = np.array([coords[1][comp == c].mean() for c in range(ncomp)])
        for d in list(free_mgr):
            order = np.argsort((cx - home_a[d, 0]) ** 2 + (cy - home_a[d, 1]) ** 2)
            for c in order:
                if need[c] > 0:
                    owner[d] = c
                    need[c] -= 1
                    break
    else:
        for d in free_mgr:
            c = int(np.argmax(need))
            owner[d] = c
            need[c] -= 1
    stats_all: dict[str, Any] = {"parts": []}
    sizes = np.bincount(comp, minlength=ncomp).astype(float)
    t0 = time.monotonic()
    done = 0.0
    for c in range(ncomp):
        nodes = np.flatnonzero(comp == c)
        mgrs = [d for d in range(K) if owner[d] == c]
        frac = sizes[c] / sizes.sum()
        budget = max(0.05, (time_left - (time.monotonic() - t0)) * frac / max(1e-9, 1 - done))
        if len(mgrs) == 1:
            labels[nodes] = mgrs[0]
            stats_all["parts"].append({"units": int(nodes.size), "managers": 1})
        else:
            pos = -np.ones(n, dtype=np.int64)
            pos[nodes] = np.arange(nodes.size)
            sub_edges = edge_array(ip, ix)
            keep = (pos[sub_edges[:, 0]] >= 0) & (pos[sub_edges[:, 1]] >= 0)
            sip, six = csr_from_edges(nodes.size, pos[sub_edges[keep]])
            # targets of this part: its weight shared by its managers' capacities
            tg = targets[mgrs] / targets[mgrs].sum() * w[nodes].sum()
            sub_lk = np.where(lk[nodes] >= 0, lk[nodes], -1)
            remap = {d: t for t, d in enumerate(mgrs)}
            sub_lk = np.array([remap.get(int(v), -1) if v >= 0 else -1 for v in sub_lk])
            sub_prev = None
            if prev is not None:
                sub_prev = np.array([remap.get(int(v), -1) for v in prev[nodes]])
            sub_coords = None if coords is None else (coords[0][nodes], coords[1][nodes])
            sub_home = None if home_a is None else home_a[mgrs]
            lab, st = solve_component(
                w[nodes], sip, six, nodes, list(range(len(mgrs))), tg, tolerance, sub_coords,
                sub_home, objective, sub_lk, sub_prev, move_penalty, max_moved,
                max_moved_weight, seed + c, budget, workers,
                scaled(progress, done, done + frac),
                interchangeable=capacities is None and home_a is None,
                work=None if work is None else max(0.05, work * frac), home_weight=home_weight,
            )  # fmt: skip
            labels[nodes] = np.asarray(mgrs)[lab]
            stats_all["parts"].append({"units": int(nodes.size), "managers": len(mgrs), **st})
        done += frac
    notes.append(f"the adjacency has {ncomp} disconnected parts, balanced one by one")
    return labels, stats_all


@dataclass
class _Costs:
    """Integer cost matrix ``cost[i][d]`` of the engine (objective units, ``_UNIT`` per cut
    edge): compactness (workload x squared distance / ``norm``) and move penalties.

    ``comp_cost`` is ``(costs_of_centres, fixed_costs)`` for the compactness objectives
    (fixed when home bases are given, else recomputed from each plan's centres);
    ``pen`` is ``None``, ``"lex"`` (disruption first) or the penalty per moved unit.
    """

    w: np.ndarray
    K: int
    coords: Any
    objective: str
    prev: np.ndarray | None
    comp_cost: tuple[Callable[[np.ndarray], np.ndarray], np.ndarray | None] | None
    pen: str | float | None
    lex_pen: float
    both_scale: list[float] = field(default_factory=lambda: [1.0])
    home_a: np.ndarray | None = None  # (K, 2) homes, NaN rows for managers without one
    home_cost: np.ndarray | None = None  # (n, K) home term of cut_edges (cut-edge units)

    def build(self, labels: list[int] | None) -> list[list[int]] | None:
        """The cost matrix for a plan (its centres), or ``None`` when there are no costs."""
        n, K, prev = self.w.size, self.K, self.prev
        c = np.zeros((n, K), dtype=float)
        used = False
        if self.comp_cost is not None:
            fn, base = self.comp_cost
            if base is not None:
                cc = base
            else:
                lab = np.asarray(labels) if labels is not None else np.full(n, -1)
                cc = fn(_centres_with_home(self.coords, self.w, lab, K, self.home_a))
            if self.objective == "both":
                cc = cc * self.both_scale[0]
            c += cc * _UNIT
            used = True
        if self.home_cost is not None:
            c += self.home_cost * _UNIT
            used = True
        if self.pen is not None:
            p = self.lex_pen if self.pen == "lex" else self.pen * _UNIT
            moved = (prev[:, None] >= 0) & (np.arange(K)[None, :] != prev[:, None])
            c += moved * p
            used = True
        if not used:
            return None
        return np.round(c).astype(np.int64).tolist()


def _compactness_costs(w, coords, home_a, edges: np.ndarray):
    """``(costs_of_centres, fixed_costs)``: workload x squared distance (coordinate
    units²) to each manager's centre, over the mean workload x the squared median edge
    length; ``fixed_costs`` are those of the home bases when given."""
    xs, ys = coords
    ell = _median_edge_length(xs, ys, edges)
    wbar = max(float(w.mean()), 1e-12)
    norm = wbar * ell * ell

    def comp_costs(centres: np.ndarray) -> np.ndarray:
        d2 = (xs[:, None] - centres[None, :, 0]) ** 2 + (ys[:, None] - centres[None, :, 1]) ** 2
        return w[:, None] * d2 / norm

    full = home_a is not None and bool(np.isfinite(home_a).all())
    base = comp_costs(home_a) if full else None
    return comp_costs, base


def _calibrate(costs: _Costs, edges: np.ndarray, home_a, seed: int) -> list[int]:
    """Start plan of the compactness costs (the previous plan, else k-means); scales
    "both" so that compactness equals the cut edges in it, and lifts the lexicographic
    move penalty above the whole cost span. Returns the start plan."""
    n, K, w, coords, prev = costs.w.size, costs.K, costs.w, costs.coords, costs.prev
    comp_cost = costs.comp_cost
    assert comp_cost is not None
    start = prev.tolist() if prev is not None and np.all(prev >= 0) else None
    if start is None:
        start = _kmeans_labels(coords, w, K, seed)
    if costs.objective == "both":
        cc = comp_cost[0](_centres_with_home(coords, w, np.asarray(start), K, home_a))
        inertia = float(cc[np.arange(n), np.asarray(start)].sum())
        cut0 = int(
            np.count_nonzero(np.asarray(start)[edges[:, 0]] != np.asarray(start)[edges[:, 1]])
        )
        costs.both_scale[0] = max(cut0, 1) / max(inertia, 1e-12)
    if costs.pen == "lex":
        probe = _cost_no_penalty(comp_cost, start, coords, w, K, costs.objective, costs.both_scale)
        span = (
            float(probe.max(axis=1).sum() - probe.min(axis=1).sum()) if probe is not None else 0.0
        )
        costs.lex_pen = float(_UNIT * (len(edges) + 1) + span * _UNIT + 1)
    return start


def solve_component(
    w, ip, ix, nodes, mgr_idx, targets, tolerance, coords, home_a, objective, lk, prev,
    move_penalty, max_moved, max_moved_weight, seed, time_left, workers, progress,
    *, interchangeable, work=None, home_weight=0.0,
):  # fmt: skip
    """One connected graph: integerise, build costs and run the engine (``home_weight``:
    the home-base term of ``cut_edges``, see :class:`BalanceConfig`)."""
    n = w.size
    K = len(mgr_idx)
    if K == 1:
        return np.zeros(n, dtype=np.int64), {"stopped_by": "trivial"}
    w_int, scale = _int_weights(w)
    lo, hi = _bands(w_int, scale, targets, tolerance)
    tgt_int = [round(t * scale) for t in targets]
    edges = edge_array(ip, ix)
    adj = [ix[ip[i] : ip[i + 1]].tolist() for i in range(n)]
    home_cost = None
    if objective == "cut_edges":
        home_cost = _home_costs(coords, home_a, edges, home_weight)
    cut_scale = 1
    if objective != "cut_edges" or prev is not None or home_cost is not None:
        cut_scale = _UNIT if objective != "compactness" else 0
    comp_cost = None
    if objective in ("compactness", "both"):
        assert coords is not None
        comp_cost = _compactness_costs(w, coords, home_a, edges)
    pen = None
    if prev is not None:
        pen = "lex" if move_penalty is None else float(move_penalty)
    home_span = 0.0 if home_cost is None else float(np.ptp(home_cost, axis=1).sum())
    costs = _Costs(
        w, K, coords, objective, prev, comp_cost, pen,
        lex_pen=float(_UNIT * (len(edges) + 1) + _UNIT * home_span + 1),
        home_a=home_a, home_cost=home_cost,
    )  # fmt: skip
    cost = None
    if comp_cost is not None:
        cost = costs.build(_calibrate(costs, edges, home_a, seed))
    elif pen is not None or home_cost is not None:
        cost = costs.build(None)
    dynamic = comp_cost is not None and comp_cost[1] is None
    inp = EngineInput(
        adj=adj,
        edges=edges,
        weight=w_int.tolist(),
        lo=lo,
        hi=hi,
        target=tgt_int,
        locked=[int(v) for v in lk],
        cut_scale=cut_scale,
        cost=cost,
        previous=None if prev is None else [int(v) for v in prev],
        max_moved=max_moved,
        max_moved_weight=None
        if max_moved_weight is None
        else math.floor(max_moved_weight * scale + 1e-9),
        interchangeable=interchangeable,
        refresh_costs=costs.build if dynamic else None,
        lexicographic_moves=pen == "lex",
        temp_unit=int(costs.lex_pen) if pen == "lex" else (_UNIT if cut_scale == 0 else 0),
    )
    res = optimise_parallel(
        inp,
        seed=seed,
        time_limit=max(0.05, time_left),
        workers=workers,
        progress=progress,
        work_limit=work,
    )
    stats = dict(res.stats)
    stats.pop("exact_labels", None)
    return np.asarray(res.labels, dtype=np.int64), stats
