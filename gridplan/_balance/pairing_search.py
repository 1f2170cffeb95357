"""The heuristic of :func:`gridplan.balance.pair_marketing` on one connected part:
region growing from spread-out seeds, then a local search of single moves and swaps
that keep every group contiguous.

Score of a grouping (compared lexicographically, smaller is better): the size
violation (territories below ``lo`` or above ``hi`` summed over groups), the max
deviation of a group weight from the mean group weight, then the sum of squared
deviations. A first phase also flattens the group sizes (their sum of squared
deviations from ``n / G``) before the weights count, so over-full groups hand
territories on along chains. Deterministic for a seed: every step is counted, no clock
decides anything except the wall-clock safety ``deadline``.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field

import numpy as np

__all__ = ["SearchResult", "better", "canonical", "grow", "local_search", "score", "search_part"]


@dataclass
class SearchResult:
    """Labels ``0..G-1`` (n,), their score, the steps (move evaluations) spent and
    whether the wall-clock deadline stopped the search."""

    labels: np.ndarray
    score: tuple[float, float, float]
    steps: int = 0
    timed_out: bool = False
    starts: list[tuple[float, float, float]] = field(default_factory=list)


def score(
    sizes: np.ndarray, weights: np.ndarray, lo: int, hi: int, total: float
) -> tuple[float, float, float]:
    """``(size violation, max |W_g - mean|, sum (W_g - mean)^2)`` (weight units)."""
    mean = total / sizes.size
    viol = float(np.maximum(lo - sizes, 0).sum() + np.maximum(sizes - hi, 0).sum())
    d = weights - mean
    return viol, float(np.abs(d).max()), float((d * d).sum())


def better(a: tuple, b: tuple, eps: float = 1e-9) -> bool:
    """``a`` strictly better than ``b`` (lexicographic; values within a relative
    ``eps`` tie)."""
    for x, y in zip(a, b, strict=True):
        tol = eps * max(1.0, abs(x), abs(y))
        if x < y - tol:
            return True
        if x > y + tol:
            return False
    return False


def _connected(
    ip: np.ndarray, ix: np.ndarray, lab: np.ndarray, g: int, drop: int, add: int
) -> bool:
    """Whether group ``g`` minus ``drop`` plus ``add`` (-1: none) is connected."""
    members = set(np.flatnonzero(lab == g).tolist())
    members.discard(drop)
    if add >= 0:
        members.add(add)
    if not members:
        return False
    start = next(iter(members))
    seen = {start}
    stack = [start]
    while stack:
        u = stack.pop()
        for v in ix[ip[u] : ip[u + 1]].tolist():
            if v in members and v not in seen:
                seen.add(v)
                stack.append(v)
    return len(seen) == len(members)


def _bfs_hops(ip: np.ndarray, ix: np.ndarray, src: int) -> np.ndarray:
    n = ip.size - 1
    dist = np.full(n, n + 1, dtype=np.int64)
    dist[src] = 0
    q = deque([src])
    while q:
        u = q.popleft()
        for v in ix[ip[u] : ip[u + 1]].tolist():
            if dist[v] > dist[u] + 1:
                dist[v] = dist[u] + 1
                q.append(v)
    return dist


def grow(
    ip: np.ndarray, ix: np.ndarray, w: np.ndarray, G: int, hi: int, rng: np.random.Generator
) -> np.ndarray:
    """A contiguous grouping of a connected graph into ``G`` groups: farthest-point
    seeds (hops), then the smallest group (lightest on ties) takes the free neighbour
    with most links into it, up to ``hi`` territories while another group can grow."""
    n = ip.size - 1
    seeds = [int(rng.integers(n))]
    near = _bfs_hops(ip, ix, seeds[0])
    while len(seeds) < G:
        cand = np.flatnonzero(near == near.max())
        s = int(cand[rng.integers(cand.size)])
        seeds.append(s)
        near = np.minimum(near, _bfs_hops(ip, ix, s))
    lab = np.full(n, -1, dtype=np.int64)
    sizes = np.zeros(G, dtype=np.int64)
    wt = np.zeros(G)
    for g, s in enumerate(seeds):
        lab[s], sizes[g], wt[g] = g, 1, w[s]
    free = n - G
    while free:
        best: tuple | None = None
        for g in range(G):
            links: dict[int, int] = {}
            for u in np.flatnonzero(lab == g).tolist():
                for v in ix[ip[u] : ip[u + 1]].tolist():
                    if lab[v] < 0:
                        links[v] = links.get(v, 0) + 1
            if not links:
                continue
            v = min(links, key=lambda k: (-links[k], k))
            key = (sizes[g] >= hi, sizes[g], wt[g], g)
            if best is None or key < best[0]:
                best = (key, g, v)
        assert best is not None, "the part is connected"
        _, g, v = best
        lab[v], sizes[g], wt[g] = g, sizes[g] + 1, wt[g] + w[v]
        free -= 1
    return lab


@dataclass
class _State:
    lab: np.ndarray
    sizes: np.ndarray
    wt: np.ndarray


def _moves(ip, ix, lab) -> list[tuple[int, int]]:
    """Every (territory, neighbouring group) pair: candidate single moves."""
    out = set()
    for u in range(lab.size):
        for v in ix[ip[u] : ip[u + 1]].tolist():
            if lab[v] != lab[u]:
                out.add((u, int(lab[v])))
    return sorted(out)


def _key(st: _State, lo, hi, total, flat: bool) -> tuple:
    v, d, s = score(st.sizes, st.wt, lo, hi, total)
    if flat:
        m = st.sizes.size
        dz = st.sizes - st.lab.size / m
        return (v, float((dz * dz).sum()), d, s)
    return (v, d, s)


def _try(st: _State, w, changes: list[tuple[int, int]]) -> tuple[np.ndarray, np.ndarray]:
    sizes, wt = st.sizes.copy(), st.wt.copy()
    for u, b in changes:
        a = st.lab[u]
        sizes[a] -= 1
        wt[a] -= w[u]
        sizes[b] += 1
        wt[b] += w[u]
    return sizes, wt


def _apply(st: _State, w, changes: list[tuple[int, int]]) -> None:
    st.sizes, st.wt = _try(st, w, changes)
    for u, b in changes:
        st.lab[u] = b


def _pass(ip, ix, w, st: _State, lo, hi, total, flat, rng, eps, budget) -> tuple[bool, int]:
    """One first-improvement pass over single moves, then (when none helped) swaps;
    returns (improved, steps)."""
    steps = 0
    cur = _key(st, lo, hi, total, flat)
    moves = _moves(ip, ix, st.lab)
    order = rng.permutation(len(moves))
    improved = False
    for k in order.tolist():
        if steps >= budget:
            return improved, steps
        u, b = moves[k]
        a = int(st.lab[u])
        if st.lab[u] == b or st.sizes[a] <= 1:
            continue
        if not any(st.lab[v] == b for v in ix[ip[u] : ip[u + 1]].tolist()):
            continue  # an earlier move of this pass took u's neighbours out of b
        steps += 1
        sizes, wt = _try(st, w, [(u, b)])
        new = _key(_State(st.lab, sizes, wt), lo, hi, total, flat)
        if better(new, cur, eps) and _connected(ip, ix, st.lab, a, u, -1):
            _apply(st, w, [(u, b)])
            cur, improved = new, True
    if improved:
        return improved, steps
    for k in order.tolist():
        u, b = moves[k]
        a = int(st.lab[u])
        for j in np.flatnonzero(st.lab == b).tolist():
            if steps >= budget:
                return improved, steps
            if not any(st.lab[v] == a for v in ix[ip[j] : ip[j + 1]].tolist()):
                continue
            steps += 1
            ch = [(u, b), (j, a)]
            sizes, wt = _try(st, w, ch)
            new = _key(_State(st.lab, sizes, wt), lo, hi, total, flat)
            if (
                better(new, cur, eps)
                and _connected(ip, ix, st.lab, a, u, j)
                and _connected(ip, ix, st.lab, b, j, u)
            ):
                _apply(st, w, ch)
                return True, steps
    return improved, steps


def local_search(
    ip, ix, w, lab: np.ndarray, lo: int, hi: int, rng: np.random.Generator, budget: int,
    deadline: float,
) -> tuple[np.ndarray, int, bool]:  # fmt: skip
    """Improve a contiguous grouping by moves and swaps that keep it contiguous: first
    the sizes (violation, then flatness), then the weights. Returns (labels, steps,
    stopped by the deadline)."""
    G = int(lab.max()) + 1
    st = _State(lab.copy(), np.bincount(lab, minlength=G), np.bincount(lab, weights=w, minlength=G))
    total = float(w.sum())
    eps = 1e-9
    steps = 0
    phases = (True, False) if _key(st, lo, hi, total, False)[0] > 0 else (False,)
    for flat in phases:
        improved = True
        while improved and steps < budget:
            if time.monotonic() > deadline:
                return st.lab, steps, True
            improved, s = _pass(ip, ix, w, st, lo, hi, total, flat, rng, eps, budget - steps)
            steps += s
    return st.lab, steps, False


def _kick(ip, ix, w, lab: np.ndarray, lo: int, hi: int, rng, n_moves: int) -> np.ndarray:
    """Random contiguity-keeping moves that keep the sizes within ``[lo, hi]``."""
    lab = lab.copy()
    G = int(lab.max()) + 1
    sizes = np.bincount(lab, minlength=G)
    for _ in range(n_moves):
        moves = [(u, b) for u, b in _moves(ip, ix, lab) if sizes[lab[u]] > lo and sizes[b] < hi]
        for k in rng.permutation(len(moves)).tolist():
            u, b = moves[k]
            a = int(lab[u])
            if _connected(ip, ix, lab, a, u, -1):
                lab[u] = b
                sizes[a] -= 1
                sizes[b] += 1
                break
    return lab


def search_part(
    ip: np.ndarray, ix: np.ndarray, w: np.ndarray, G: int, lo: int, hi: int, *, seed: int,
    starts: int, kicks: int, steps_per_start: int, deadline: float,
) -> SearchResult:  # fmt: skip
    """Best of ``starts`` grown starts, each local-searched then perturbed ``kicks``
    times (iterated local search, a kick kept when it improves). Labels are canonical:
    groups numbered by their smallest territory index."""
    rng = np.random.default_rng(seed)
    eps = 1e-9
    best: SearchResult | None = None
    steps = 0
    timed_out = False
    for _ in range(max(1, starts)):
        lab = grow(ip, ix, w, G, hi, rng)
        lab, s, timed_out = local_search(ip, ix, w, lab, lo, hi, rng, steps_per_start, deadline)
        steps += s
        sc = _score_labels(lab, w, G, lo, hi)
        for _k in range(kicks):
            if timed_out:
                break
            cand = _kick(ip, ix, w, lab, lo, hi, rng, max(1, G // 2 + 1))
            cand, s, timed_out = local_search(
                ip, ix, w, cand, lo, hi, rng, steps_per_start, deadline
            )
            steps += s
            cs = _score_labels(cand, w, G, lo, hi)
            if better(cs, sc, eps):
                lab, sc = cand, cs
        if best is None or better(sc, best.score, eps):
            best = SearchResult(canonical(lab), sc)
        best.starts.append(sc)
        if timed_out:
            break
    assert best is not None
    best.steps, best.timed_out = steps, timed_out
    return best


def _score_labels(lab, w, G, lo, hi) -> tuple[float, float, float]:
    return score(
        np.bincount(lab, minlength=G), np.bincount(lab, weights=w, minlength=G), lo, hi,
        float(w.sum()),
    )  # fmt: skip


def canonical(lab: np.ndarray) -> np.ndarray:
    """Relabel groups ``0..G-1`` in the order of their smallest territory index."""
    _, first = np.unique(lab, return_index=True)
    order = np.argsort(first, kind="stable")
    remap = np.empty(int(lab.max()) + 1, dtype=np.int64)
    remap[np.unique(lab)[order]] = np.arange(order.size)
    return remap[lab]
