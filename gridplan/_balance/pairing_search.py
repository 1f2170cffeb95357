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

import heapq
import time
from collections import deque
from dataclasses import dataclass, field

import numpy as np

#: moves between two exact recomputations of a state's aggregates (float drift)
_EXACT_EVERY = 256
#: move evaluations per territory a local search from a grown start typically needs
_STEPS_TO_CONVERGE = 150

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


def _seeds(nbrs: list[list[int]], G: int, rng: np.random.Generator) -> list[int]:
    """``G`` spread-out seeds: a random first, then each time a node farthest (hops)
    from the seeds so far (random among ties); pruned breadth-first updates."""
    n = len(nbrs)
    near = [n + 1] * n
    seeds: list[int] = []
    s = int(rng.integers(n))
    while True:
        seeds.append(s)
        near[s] = 0
        q = deque([s])
        while q:
            u = q.popleft()
            for v in nbrs[u]:
                if near[v] > near[u] + 1:
                    near[v] = near[u] + 1
                    q.append(v)
        if len(seeds) == G:
            return seeds
        top = max(near)
        cand = [v for v in range(n) if near[v] == top]
        s = cand[int(rng.integers(len(cand)))]


def grow(
    ip: np.ndarray, ix: np.ndarray, w: np.ndarray, G: int, hi: int, rng: np.random.Generator
) -> np.ndarray:
    """A contiguous grouping of a connected graph into ``G`` groups: farthest-point
    seeds (hops), then the smallest group (lightest on ties) takes the free neighbour
    with most links into it, up to ``hi`` territories while another group can grow."""
    n = ip.size - 1
    nbrs = [ix[ip[u] : ip[u + 1]].tolist() for u in range(n)]
    lab = [-1] * n
    sizes = [0] * G
    wt = [0.0] * G
    front: list[dict[int, int]] = [{} for _ in range(G)]  # free neighbour -> links
    touching: list[set[int]] = [set() for _ in range(n)]  # groups next to a free node

    def take(v: int, g: int) -> None:
        lab[v] = g
        sizes[g] += 1
        wt[g] += float(w[v])
        for h in touching[v]:
            front[h].pop(v, None)
        for x in nbrs[v]:
            if lab[x] < 0:
                front[g][x] = front[g].get(x, 0) + 1
                touching[x].add(g)

    for g, s in enumerate(_seeds(nbrs, G, rng)):
        take(s, g)
    for _ in range(n - G):
        g = min((g for g in range(G) if front[g]),
                key=lambda g: (sizes[g] >= hi, sizes[g], wt[g], g))  # fmt: skip
        f = front[g]
        take(min(f, key=lambda k: (-f[k], k)), g)
    return np.array(lab, dtype=np.int64)


class _State:
    """A grouping with its aggregates, scored in O(1) per candidate change: sizes,
    weights, size violation, sum of squared (size and weight) deviations and the three
    largest |weight - mean| (the max over the untouched groups)."""

    def __init__(self, nbrs: list[list[int]], w: list[float], lab: list[int], G: int,
                 lo: int, hi: int, flat: bool) -> None:  # fmt: skip
        self.nbrs, self.w, self.lab, self.G = nbrs, w, list(lab), G
        self.lo, self.hi, self.flat = lo, hi, flat
        self.members: list[set[int]] = [set() for _ in range(G)]
        for u, g in enumerate(self.lab):
            self.members[g].add(u)
        self.sizes = [len(m) for m in self.members]
        self.wt = [sum(w[u] for u in m) for m in self.members]
        self.mean = sum(w) / G
        self.z = len(w) / G
        self.n_moves = 0
        self.ss_first = False
        self._refresh()

    def _v(self, s: int) -> int:
        return max(0, self.lo - s) + max(0, s - self.hi)

    def _refresh(self) -> None:
        self.wt = [sum(self.w[u] for u in m) for m in self.members]  # no drift
        dev = [abs(x - self.mean) for x in self.wt]
        self.top = sorted(((d, g) for g, d in enumerate(dev)), reverse=True)[:3]
        self.viol = sum(self._v(s) for s in self.sizes)
        self.fss = sum((s - self.z) ** 2 for s in self.sizes)
        self.ss = sum((x - self.mean) ** 2 for x in self.wt)

    def _compose(self, viol: float, fss: float, big: float, ss: float) -> tuple:
        """The key in the current mode: sizes first (``flat``: their flatness too),
        then the max deviation and the squares (``ss_first``: the other way round)."""
        if self.flat:
            return (viol, fss, big, ss)
        return (viol, ss, big) if self.ss_first else (viol, big, ss)

    def key(self) -> tuple:
        return self._compose(self.viol, self.fss, self.top[0][0], self.ss)

    def _after(self, a: int, b: int, dw: float, ds: int) -> tuple[float, float, float, float]:
        """(violation, size squares, max deviation, weight squares) once group ``a``
        gains ``dw`` weight and ``ds`` territories that group ``b`` loses."""
        sa, sb = self.sizes[a] + ds, self.sizes[b] - ds
        m = self.mean
        da, db = self.wt[a] - m, self.wt[b] - m
        da2, db2 = da + dw, db - dw
        v = self._v
        viol = self.viol - v(self.sizes[a]) - v(self.sizes[b]) + v(sa) + v(sb)
        ss = self.ss - da * da - db * db + da2 * da2 + db2 * db2
        other = next((d for d, g in self.top if g != a and g != b), 0.0)
        big = max(abs(da2), abs(db2), other)
        z = self.z
        fss = (self.fss - (self.sizes[a] - z) ** 2 - (self.sizes[b] - z) ** 2
               + (sa - z) ** 2 + (sb - z) ** 2)  # fmt: skip
        return viol, fss, big, ss

    def key_after(self, a: int, b: int, dw: float, ds: int) -> tuple:
        """The key once group ``a`` gains ``dw`` weight and ``ds`` territories that
        group ``b`` loses."""
        return self._compose(*self._after(a, b, dw, ds))

    def connected(self, g: int, drop: int, add: int) -> bool:
        """Whether group ``g`` minus ``drop`` plus ``add`` (-1: none) is connected."""
        members = set(self.members[g])
        members.discard(drop)
        if add >= 0:
            members.add(add)
        if not members:
            return False
        start = next(iter(members))
        seen = {start}
        stack = [start]
        while stack:
            for v in self.nbrs[stack.pop()]:
                if v in members and v not in seen:
                    seen.add(v)
                    stack.append(v)
        return len(seen) == len(members)

    def move(self, u: int, b: int) -> None:
        """Move ``u`` to group ``b``, updating the aggregates (exactly every
        ``_EXACT_EVERY`` moves, against float drift)."""
        a = self.lab[u]
        viol, fss, _, ss = self._after(b, a, self.w[u], 1)
        self.members[a].discard(u)
        self.members[b].add(u)
        self.sizes[a] -= 1
        self.sizes[b] += 1
        self.lab[u] = b
        self.n_moves += 1
        if self.n_moves % _EXACT_EVERY == 0:
            self._refresh()
            return
        self.wt[a] -= self.w[u]
        self.wt[b] += self.w[u]
        self.viol, self.fss, self.ss = viol, fss, ss
        m = self.mean
        self.top = heapq.nlargest(3, ((abs(x - m), g) for g, x in enumerate(self.wt)))

    def moves(self) -> list[tuple[int, int]]:
        """Every (territory, neighbouring group) pair: candidate single moves."""
        lab = self.lab
        return sorted({(u, lab[v]) for u, nb in enumerate(self.nbrs) for v in nb
                       if lab[v] != lab[u]})  # fmt: skip

    def touches(self, u: int, g: int) -> bool:
        return any(self.lab[v] == g for v in self.nbrs[u])


def _pass(st: _State, rng: np.random.Generator, budget: int) -> tuple[bool, int]:
    """One first-improvement pass over single moves, then (when none helped) swaps;
    returns (improved, steps)."""
    steps = 0
    cur = st.key()
    moves = st.moves()
    order = rng.permutation(len(moves)).tolist()
    improved = False
    for k in order:
        if steps >= budget:
            return improved, steps
        u, b = moves[k]
        a = st.lab[u]
        if a == b or st.sizes[a] <= 1 or not st.touches(u, b):
            continue  # an earlier move of this pass changed u's neighbourhood
        steps += 1
        new = st.key_after(b, a, st.w[u], 1)
        if better(new, cur) and st.connected(a, u, -1):
            st.move(u, b)
            cur, improved = st.key(), True
    if improved:
        return improved, steps
    for k in order:
        u, b = moves[k]
        a = st.lab[u]
        for j in sorted(st.members[b]):
            if steps >= budget:
                return improved, steps
            if not st.touches(j, a):
                continue
            steps += 1
            new = st.key_after(a, b, st.w[j] - st.w[u], 0)
            if better(new, cur) and st.connected(a, u, j) and st.connected(b, j, u):
                st.move(u, b)
                st.move(j, a)
                return True, steps
    return improved, steps


def local_search(
    nbrs: list[list[int]], w: list[float], lab: np.ndarray, lo: int, hi: int,
    rng: np.random.Generator, budget: int, deadline: float, ss_first: bool = False,
) -> tuple[np.ndarray, int, bool]:  # fmt: skip
    """Improve a contiguous grouping by moves and swaps that keep it contiguous: first
    the sizes (violation, then flatness) when some miss ``lo..hi``, then the weights
    (``ss_first``: the sum of squares first, a smoother landscape, then the max
    deviation first). Returns (labels, steps, stopped by the deadline)."""
    G = int(lab.max()) + 1
    st = _State(nbrs, w, lab.tolist(), G, lo, hi, flat=False)
    steps = 0
    phases = [(True, False)] if st.viol > 0 else []
    phases += [(False, True), (False, False)] if ss_first else [(False, False)]
    for flat, sq in phases:
        st.flat, st.ss_first = flat, sq
        improved = True
        while improved and steps < budget and not (flat and st.viol == 0):
            if time.monotonic() > deadline:
                return np.array(st.lab, dtype=np.int64), steps, True
            improved, s = _pass(st, rng, budget - steps)
            steps += s
    return np.array(st.lab, dtype=np.int64), steps, False


def _kick(nbrs, w, lab: np.ndarray, lo: int, hi: int, rng, n_moves: int) -> np.ndarray:
    """Random contiguity-keeping moves that keep the sizes within ``[lo, hi]``."""
    st = _State(nbrs, w, lab.tolist(), int(lab.max()) + 1, lo, hi, flat=False)
    for _ in range(n_moves):
        moves = [(u, b) for u, b in st.moves() if st.sizes[st.lab[u]] > lo and st.sizes[b] < hi]
        for k in rng.permutation(len(moves)).tolist():
            u, b = moves[k]
            if st.connected(st.lab[u], u, -1):
                st.move(u, b)
                break
    return np.array(st.lab, dtype=np.int64)


def search_part(
    ip: np.ndarray, ix: np.ndarray, w: np.ndarray, G: int, lo: int, hi: int, *, seed: int,
    starts: int, kicks: int, budget: int, deadline: float,
) -> SearchResult:  # fmt: skip
    """Best of ``starts`` grown starts, each local-searched then perturbed up to
    ``kicks`` times (iterated local search, a kick kept when it improves); ``budget``
    move evaluations in all, shared equally by the starts (the deterministic work).
    Labels are canonical: groups numbered by their smallest territory index."""
    rng = np.random.default_rng(seed)
    nbrs = [ix[ip[u] : ip[u + 1]].tolist() for u in range(ip.size - 1)]
    wl = [float(x) for x in w]
    best: SearchResult | None = None
    steps = 0
    timed_out = False
    # a start needs about ``_STEPS_TO_CONVERGE`` steps per territory: fewer starts on
    # big parts so that each one converges
    starts = max(1, min(starts, budget // (_STEPS_TO_CONVERGE * len(nbrs))))
    for k in range(starts):
        left = (budget - steps) // (starts - k)  # this start's share of what is left
        lab = grow(ip, ix, w, G, hi, rng)
        lab, s, timed_out = local_search(nbrs, wl, lab, lo, hi, rng, max(1, left), deadline)
        steps, left = steps + s, left - s
        sc = _score_labels(lab, w, G, lo, hi)
        for _k in range(kicks):
            if timed_out or left <= 0:
                break
            cand = _kick(nbrs, wl, lab, lo, hi, rng, min(G // 2 + 1, 6))
            cand, s, timed_out = local_search(nbrs, wl, cand, lo, hi, rng, left, deadline)
            steps, left = steps + s, left - s
            cs = _score_labels(cand, w, G, lo, hi)
            if better(cs, sc):
                lab, sc = cand, cs
        if best is None or better(sc, best.score):
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
