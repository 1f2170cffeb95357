"""Recombination: merge two adjacent territories and split them again (few grids each).

When a territory holds only 6-10 nodes whose weights are each 10-25 % of a target and
the bands are +-3 % wide, a boundary flip changes a territory's weight by far more than
its band is wide, so the flip-based searches (annealing, path moves, ejection chains)
freeze with a few territories just off their bands. What still moves is a re-split of
the union of two adjacent territories: among all ways to cut the union into two
connected parts there are many weight pairs, and one of them is usually closer to both
targets than the current one.

:func:`recom_balance` anneals over such re-splits (ReCom-style, after the
merge-and-split chains of redistricting): it picks a territory (the further from its
target, the likelier) and one of its neighbours, enumerates *every* connected
bipartition of their union (:func:`pair_splits`: connected node sets holding the
union's first node, complements checked for connectivity, locks respected; pruned
where the balance term can only grow), and draws the new split by its Boltzmann weight
at the current temperature (a heat-bath step; the current split is one of the
candidates). The energy of a territory is, in units of its half-band squared,
``centre_weight * z**2 + band_penalty * max(0, |z| - 1)**2`` with ``z`` its distance to
its target over the half-band: the first term spreads surplus weight across the plan
(diffusion towards the targets, which makes room in the bands), the second weighs
the band itself; each cut edge adds ``cut_weight`` so that among equal balances the
shorter borders win. Every step keeps both territories connected, so the plan stays
contiguous. Work is counted in enumerated node sets (deterministic for a seed); the
clock is only a safety net.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from gridplan._balance.search import State

__all__ = ["RecomConfig", "pair_splits", "recom_applies", "recom_balance"]


@dataclass(frozen=True)
class RecomConfig:
    """Knobs of :func:`recom_balance`.

    ``max_union``: most nodes in the union of two territories that is re-split (larger
    pairs are skipped); ``max_sets``: node sets enumerated per pair at most (work cap of
    one step); ``centre_weight``/``band_penalty``/``cut_weight``: the energy terms (half-band
    squared units, see the module doc); ``t_start``/``t_end``: the temperature at the
    first and the last step (same units, geometric in between);
    ``max_mean_size``: the recombination runs only when territories average at most this
    many nodes (:func:`recom_applies`); ``patience``: steps per territory without a
    better plan after which the walk goes back to the best plan and half-way up the
    schedule (a reheat); ``step_sets``: the work of one step besides its enumeration
    (drawing the pair, its union, the window), in node sets."""

    max_union: int = 30
    max_sets: int = 40_000
    centre_weight: float = 0.2
    band_penalty: float = 100.0
    cut_weight: float = 0.05
    t_start: float = 0.33
    t_end: float = 0.0033
    max_mean_size: float = 9.0
    patience: int = 30
    step_sets: int = 12


def recom_applies(n: int, k: int, config: RecomConfig | None = None) -> bool:
    """Whether the plan has few nodes per territory (``n / k <= max_mean_size``)."""
    cfg = config or RecomConfig()
    return k >= 2 and n <= cfg.max_mean_size * k


def _connected(mask: int, nbm: list[int]) -> bool:
    """Whether the nodes of bit set ``mask`` are connected (neighbour bit sets ``nbm``)."""
    if mask == 0:
        return False
    seen = frontier = mask & -mask
    while frontier:
        nxt = 0
        m = frontier
        while m:
            b = m & -m
            m ^= b
            nxt |= nbm[b.bit_length() - 1]
        frontier = nxt & mask & ~seen
        seen |= frontier
    return seen == mask


@dataclass
class _Pair:
    """The union of two territories as a small graph on bit sets."""

    nodes: list[int]
    nbm: list[int]
    wt: list[int]
    lock_a: int
    lock_b: int
    edges: list[tuple[int, int]]


def _pair_graph(st: State, a: int, b: int, members: list[set[int]]) -> _Pair:
    nodes = sorted(members[a] | members[b])
    pos = {u: c for c, u in enumerate(nodes)}
    nbm = [0] * len(nodes)
    edges = []
    lock_a = lock_b = 0
    for c, u in enumerate(nodes):
        for v in st.adj[u]:
            p = pos.get(v)
            if p is not None:
                nbm[c] |= 1 << p
                if p > c:
                    edges.append((c, p))
        if st.locked[u]:
            if st.lab[u] == a:
                lock_a |= 1 << c
            else:
                lock_b |= 1 << c
    return _Pair(nodes, nbm, [st.w[u] for u in nodes], lock_a, lock_b, edges)


def _cut_of(mask: int, edges: list[tuple[int, int]]) -> int:
    return sum(1 for i, j in edges if ((mask >> i) ^ (mask >> j)) & 1)


def pair_splits(
    nbm: list[int],
    wt: list[int],
    window: tuple[float, float],
    *,
    lock_a: int = 0,
    lock_b: int = 0,
    max_sets: int = 40_000,
) -> tuple[list[int], int]:
    """Connected bipartitions ``(A, B)`` of a small connected graph with A's weight in
    ``window`` = (least, most).

    ``nbm[i]`` is node ``i``'s neighbour bit set, ``wt[i] >= 0`` its weight. Nodes of
    ``lock_a`` must be in A, of ``lock_b`` in B. Returns ``(A as bit sets, node sets
    enumerated)``: every connected non-empty A with a connected non-empty complement
    (each once), enumerating at most ``max_sets`` connected node sets holding node 0 (each
    read as A and as B; a set whose supersets are all too heavy for both readings is not
    grown)."""
    m = len(nbm)
    full = (1 << m) - 1
    tot = sum(wt)
    w_lo, w_hi = window
    out: list[int] = []
    count = 0
    # depth first over (S, weight of S, candidates, banned): connected sets holding node
    # 0, each produced once (a candidate taken is banned for its later siblings)
    stack = [(1, wt[0], nbm[0] & ~1, 1)]
    while stack and count < max_sets:
        s, ws, cand, banned = stack.pop()
        count += 1
        comp = full & ~s
        as_a = not (s & lock_b)  # a superset read as A can still meet the locks
        as_b = not (s & lock_a)
        if comp:
            if as_a and w_lo <= ws <= w_hi and not (lock_a & comp) and _connected(comp, nbm):
                out.append(s)
            wa = tot - ws
            if as_b and w_lo <= wa <= w_hi and not (lock_b & comp) and _connected(comp, nbm):
                out.append(comp)
        if not comp or not ((as_a and ws < w_hi) or (as_b and wa > w_lo)):
            continue
        children = []
        while cand:
            v = cand & -cand
            cand ^= v
            banned |= v
            vi = v.bit_length() - 1
            children.append((s | v, ws + wt[vi], cand | (nbm[vi] & ~banned & ~s), banned))
        stack.extend(reversed(children))  # depth first, in node order
    return out, count


def _window(energy: Callable[[float], float], tot: int, limit: float) -> tuple[float, float]:
    """The weights ``x`` in [0, tot] with ``energy(x) < limit`` (``energy`` convex), as
    (least, most); empty (1, 0) when there are none."""
    lo, hi = 0, tot
    while hi - lo > 2:  # ternary search for the minimum on integers
        m1 = lo + (hi - lo) // 3
        m2 = hi - (hi - lo) // 3
        if energy(m1) <= energy(m2):
            hi = m2
        else:
            lo = m1
    xm = min(range(lo, hi + 1), key=energy)
    if energy(xm) >= limit:
        return 1.0, 0.0
    a, b = 0, xm  # least x with energy < limit: in (a, b]
    if energy(0) < limit:
        left = 0
    else:
        while b - a > 1:
            c = (a + b) // 2
            a, b = (a, c) if energy(c) < limit else (c, b)
        left = b
    a, b = xm, tot  # most x with energy < limit: in [a, b)
    if energy(tot) < limit:
        right = tot
    else:
        while b - a > 1:
            c = (a + b) // 2
            a, b = (c, b) if energy(c) < limit else (a, c)
        right = a
    return float(left), float(right)


class _Energy:
    """Per-territory energy (module doc) in half-band squared units."""

    def __init__(self, st: State, cfg: RecomConfig, target: list[int]) -> None:
        self.st, self.cfg, self.target = st, cfg, target
        self.half = [max((h - lo) / 2.0, 1.0) for lo, h in zip(st.lo, st.hi, strict=True)]

    def __call__(self, d: int, x: float) -> float:
        st, cfg = self.st, self.cfg
        h = self.half[d]
        z = (x - self.target[d]) / h
        off = (x - st.hi[d]) / h if x > st.hi[d] else ((st.lo[d] - x) / h if x < st.lo[d] else 0.0)
        return cfg.centre_weight * z * z + cfg.band_penalty * off * off


def _territory_neighbours(st: State, members: list[set[int]], a: int) -> list[int]:
    out: set[int] = set()
    for u in members[a]:
        out.update(st.nb[u])
    out.discard(a)
    return sorted(out)


def _energies(st: State, en: _Energy) -> np.ndarray:
    return np.array([en(d, st.dw[d]) for d in range(st.k)], dtype=float)


def _pick(rng: np.random.Generator, e: np.ndarray) -> int:
    """A territory, likelier the higher its energy ``e`` (plus a floor so all get
    picked)."""
    c = np.cumsum(e + 0.05)
    return int(min(np.searchsorted(c, rng.random() * c[-1], side="right"), e.size - 1))


def _step(
    st: State,
    rng: np.random.Generator,
    members: list[set[int]],
    en: _Energy,
    cfg: RecomConfig,
    temp: float,
    a: int,
) -> tuple[int, int, int, int]:
    """One heat-bath re-split of territory ``a`` and a drawn neighbour. Returns (sets
    enumerated, cut change, off-band change, the neighbour or -1)."""
    nbrs = _territory_neighbours(st, members, a)
    if not nbrs:
        return 1, 0, 0, -1
    b = nbrs[int(rng.integers(len(nbrs)))]
    if len(members[a]) + len(members[b]) > cfg.max_union:
        return 1, 0, 0, -1
    pg = _pair_graph(st, a, b, members)
    tot = sum(pg.wt)
    cur = sum(1 << c for c, u in enumerate(pg.nodes) if st.lab[u] == a)
    base = en(a, st.dw[a]) + en(b, st.dw[b])
    width = 8.0 * temp + 1e-9

    def energy(wa: float) -> float:
        return en(a, wa) + en(b, tot - wa)

    window = _window(energy, tot, base + width)
    splits, count = pair_splits(
        pg.nbm, pg.wt, window, lock_a=pg.lock_a, lock_b=pg.lock_b, max_sets=cfg.max_sets
    )
    if not splits:
        return count, 0, 0, b
    cut0 = _cut_of(cur, pg.edges)
    wt = pg.wt
    vals = np.array(
        [
            energy(sum(wt[c] for c in range(len(wt)) if (s >> c) & 1))
            + cfg.cut_weight * _cut_of(s, pg.edges)
            for s in splits
        ]
    )
    p = np.exp(-(vals - vals.min()) / max(temp, 1e-12))
    c = np.cumsum(p)
    j = int(min(np.searchsorted(c, rng.random() * c[-1], side="right"), len(splits) - 1))
    new = splits[j]
    if new == cur:
        return count, 0, 0, b
    off0 = _off(st, a) + _off(st, b)
    for c_i, u in enumerate(pg.nodes):
        d = a if (new >> c_i) & 1 else b
        if st.lab[u] != d:
            members[st.lab[u]].discard(u)
            members[d].add(u)
            st.apply(u, d)
    return count, _cut_of(new, pg.edges) - cut0, _off(st, a) + _off(st, b) - off0, b


def _off(st: State, d: int) -> int:
    """Territory ``d``'s weight off its band."""
    x = st.dw[d]
    return x - st.hi[d] if x > st.hi[d] else (st.lo[d] - x if x < st.lo[d] else 0)


def _restore(st: State, members: list[set[int]], lab: list[int]) -> None:
    for i, d in enumerate(lab):
        if st.lab[i] != d:
            members[st.lab[i]].discard(i)
            members[d].add(i)
            st.apply(i, d)


def recom_balance(
    st: State,
    rng: np.random.Generator,
    *,
    target: list[int],
    work: int,
    config: RecomConfig | None = None,
    deadline: float | None = None,
    clock: Callable[[], float] | None = None,
) -> dict:
    """Anneal ``st`` by pair re-splits (module doc) until every territory is within its
    band or ``work`` node sets were enumerated; ``st`` ends in the best plan seen (least
    off-band weight, then objective). ``target`` per territory (same units as the
    weights); ``deadline`` (``clock()`` seconds) is a safety net only. Returns
    statistics (steps, sets enumerated, violation before and after, stopped by)."""
    cfg = config or RecomConfig()
    members: list[set[int]] = [set() for _ in range(st.k)]
    for i, d in enumerate(st.lab):
        members[d].add(i)
    en = _Energy(st, cfg, target)
    e = _energies(st, en)
    viol = st.violation()
    obj = st.objective()
    best = (viol, obj, list(st.lab))
    stats = {"steps": 0, "sets": 0, "violation_before": viol, "stopped_by": "work"}
    ratio = cfg.t_end / cfg.t_start
    pos = 0  # position on the cooling schedule (node sets), set back by reheats
    since = 0  # steps since the best plan last improved
    stats["reheats"] = 0
    while viol > 0:
        if stats["sets"] >= work:
            break
        if deadline is not None and clock is not None and clock() > deadline:
            stats["stopped_by"] = "time"
            break
        if since > cfg.patience * st.k:
            _restore(st, members, best[2])
            viol, obj = best[0], best[1]
            e = _energies(st, en)
            pos, since = pos // 2, 0
            stats["reheats"] += 1
        temp = cfg.t_start * ratio ** (min(pos, work) / max(work, 1))
        a = _pick(rng, e)
        count, dcut, dviol, b = _step(st, rng, members, en, cfg, temp, a)
        count += cfg.step_sets  # the step's own work (draw, union, window)
        stats["steps"] += 1
        stats["sets"] += count
        pos += count
        since += 1
        if b >= 0:
            viol += dviol
            e[a], e[b] = en(a, st.dw[a]), en(b, st.dw[b])
        obj = st.objective() if st.cost is not None else obj + st.cut_scale * dcut
        if (viol, obj) < best[:2]:
            best = (viol, obj, list(st.lab))
            since = 0
    if viol == 0:
        stats["stopped_by"] = "within bands"
    if (viol, obj) > best[:2]:
        _restore(st, members, best[2])
    stats["violation_after"] = st.violation()
    return stats
