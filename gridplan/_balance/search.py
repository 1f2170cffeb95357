"""Constructive start and fast local search for contiguous balanced territories.

Pure Python on adjacency lists (no CP-SAT): the :class:`State` keeps per-node
neighbour counts per territory so a boundary move is evaluated in O(1) and applied in
O(degree); contiguity of the territory a node leaves is checked by an interleaved
search from its same-territory neighbours that stops as soon as they meet (cost
bounded by the smaller side of a would-be split).

Objective (integers): ``cut_scale * cut_edges + sum_i cost[i, label[i]]``; balance
bands ``lo[d] <= weight(d) <= hi[d]`` with violation
``sum_d max(0, weight(d) - hi[d]) + max(0, lo[d] - weight(d))``.
"""

from __future__ import annotations

import heapq
import math
from collections import deque
from collections.abc import Callable

import numpy as np

__all__ = ["State", "anneal", "chain_repair", "construct", "descent", "fix_contiguity", "repair"]


class State:
    """A labelling of the nodes with incremental territory weights and neighbour counts."""

    def __init__(
        self,
        adj: list[list[int]],
        weight: list[int],
        lo: list[int],
        hi: list[int],
        labels: list[int],
        *,
        locked: list[bool] | None = None,
        cost: list[list[int]] | None = None,
        cut_scale: int = 1,
    ):
        self.adj = adj
        self.n = len(adj)
        self.k = len(lo)
        self.w = weight
        self.lo = lo
        self.hi = hi
        self.lab = list(labels)
        self.locked = locked if locked is not None else [False] * self.n
        self.cost = cost
        self.cut_scale = cut_scale
        self.dw = [0] * self.k
        self.size = [0] * self.k
        self.nb: list[dict[int, int]] = [dict() for _ in range(self.n)]
        for i in range(self.n):
            d = self.lab[i]
            self.dw[d] += weight[i]
            self.size[d] += 1
            nbi = self.nb[i]
            for j in adj[i]:
                e = self.lab[j]
                nbi[e] = nbi.get(e, 0) + 1

    # -- measures ---------------------------------------------------------------
    def cut_edges(self) -> int:
        s = 0
        for i in range(self.n):
            s += len(self.adj[i]) - self.nb[i].get(self.lab[i], 0)
        return s // 2

    def cost_total(self) -> int:
        if self.cost is None:
            return 0
        return sum(self.cost[i][self.lab[i]] for i in range(self.n))

    def objective(self) -> int:
        return self.cut_scale * self.cut_edges() + self.cost_total()

    def violation(self) -> int:
        v = 0
        for d in range(self.k):
            if self.dw[d] > self.hi[d]:
                v += self.dw[d] - self.hi[d]
            elif self.dw[d] < self.lo[d]:
                v += self.lo[d] - self.dw[d]
        return v

    def dviol(self, d: int, delta: int) -> int:
        """Change of territory ``d``'s violation if its weight changes by ``delta``."""
        before = self.dw[d]
        after = before + delta
        lo, hi = self.lo[d], self.hi[d]
        vb = before - hi if before > hi else (lo - before if before < lo else 0)
        va = after - hi if after > hi else (lo - after if after < lo else 0)
        return va - vb

    # -- moves --------------------------------------------------------------------
    def move_delta(self, i: int, b: int) -> int:
        """Objective change of moving node ``i`` to territory ``b``."""
        a = self.lab[i]
        nbi = self.nb[i]
        d = self.cut_scale * (nbi.get(a, 0) - nbi.get(b, 0))
        if self.cost is not None:
            d += self.cost[i][b] - self.cost[i][a]
        return d

    def apply(self, i: int, b: int) -> None:
        a = self.lab[i]
        if a == b:
            return
        wi = self.w[i]
        self.lab[i] = b
        self.dw[a] -= wi
        self.dw[b] += wi
        self.size[a] -= 1
        self.size[b] += 1
        for j in self.adj[i]:
            nbj = self.nb[j]
            c = nbj[a] - 1
            if c:
                nbj[a] = c
            else:
                del nbj[a]
            nbj[b] = nbj.get(b, 0) + 1

    def can_remove(self, i: int) -> bool:
        """Whether territory ``lab[i]`` stays connected (and non-empty) without ``i``."""
        a = self.lab[i]
        if self.size[a] <= 1:
            return False
        targets = [j for j in self.adj[i] if self.lab[j] == a]
        if len(targets) <= 1:
            return len(targets) == 1
        return connected_after(self.adj, targets, self.lab, a, i)


def connected_after(adj: list[list[int]], targets: list[int], arr: list, val, ex: int) -> bool:
    """Whether ``targets`` are connected within the region ``{v : arr[v] == val, v != ex}``.

    Interleaved breadth-first searches, one per target, merged with union-find when they
    meet; stops at the first exhausted group (then they are not all connected), so the
    cost is bounded by the smaller side of a split.
    """
    t = len(targets)
    if t <= 1:
        return True
    owner: dict[int, int] = {ex: -1}
    parent = list(range(t))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    queues: list[deque] = []
    for s, j in enumerate(targets):
        owner[j] = s
        queues.append(deque([j]))
    groups = t
    active = list(range(t))
    while True:
        seen: dict[int, int] = {}
        live = []
        for s in active:
            r = find(s)
            if r in seen:
                queues[seen[r]].extend(queues[s])
                queues[s].clear()
                continue
            seen[r] = s
            live.append(s)
        for s in live:
            if not queues[s]:
                return False
        active = live
        for s in active:
            q = queues[s]
            if not q:
                continue
            u = q.popleft()
            for v in adj[u]:
                if arr[v] != val:
                    continue
                o = owner.get(v)
                if o is None:
                    owner[v] = s
                    q.append(v)
                elif o >= 0:
                    r1, r2 = find(s), find(o)
                    if r1 != r2:
                        parent[r1] = r2
                        groups -= 1
                        if groups == 1:
                            return True


def _bfs_far(adj: list[list[int]], start: int, ok: list[bool]) -> tuple[int, list[int]]:
    dist = {start: 0}
    dq = deque([start])
    last = start
    while dq:
        u = dq.popleft()
        last = u
        for v in adj[u]:
            if ok[v] and v not in dist:
                dist[v] = dist[u] + 1
                dq.append(v)
    return last, [dist.get(i, -1) for i in range(len(adj))]


def _grow_seed(
    adj: list[list[int]], rem: list[int], free: list[bool], lab: list[int], step: int,
    rng: np.random.Generator,
) -> int:  # fmt: skip
    """Peripheral seed of the remainder: the far end of a double sweep, preferring nodes
    that touch an assigned territory, random among the candidates, keeping the rest
    connected when one of the first 50 allows it."""
    ok = free
    u0 = rem[int(rng.integers(len(rem)))]
    a, _ = _bfs_far(adj, u0, ok)
    _, dist = _bfs_far(adj, a, ok)
    # prefer nodes touching already assigned territory (keeps the rest compact)
    cands = [i for i in rem if any(lab[j] >= 0 for j in adj[i])] if step > 0 else []
    if not cands:
        far = max(dist[i] for i in rem)
        cands = [i for i in rem if dist[i] >= far]
    rng.shuffle(cands)
    pick = cands[0]
    for c in cands[:50]:
        free[c] = False
        ok_c = _remainder_ok(adj, free, c)
        free[c] = True
        if ok_c:
            pick = c
            break
    return pick


def _grow(
    adj: list[list[int]], weight: list[int], lo: int, hi: int, tgt: int, d: int,
    seeds: list[int], free: list[bool], lab: list[int], dw: list[int],
    rng: np.random.Generator,
) -> list[tuple[int, float, int]]:  # fmt: skip
    """Grow territory ``d`` from ``seeds`` (fewest outside edges first) until its weight
    is as close to ``tgt`` as the frontier allows within ``[lo, hi]``, keeping the
    remainder connected. Returns the frontier entries skipped at the end."""
    heap: list[tuple[int, float, int]] = []
    cnt: dict[int, int] = {}
    heappush, heappop, random = heapq.heappush, heapq.heappop, rng.random

    def push(v: int) -> None:
        # fewer outside edges first; random tie-break
        key = len(adj[v]) - 2 * cnt.get(v, 0)
        heappush(heap, (key, float(random()), v))

    for s in seeds:
        if free[s]:
            free[s] = False
            lab[s] = d
            dw[d] += weight[s]
    for s in seeds:
        for v in adj[s]:
            if free[v]:
                cnt[v] = cnt.get(v, 0) + 1
                push(v)
    skipped: list[tuple[int, float, int]] = []
    while heap:
        key, r, v = heappop(heap)
        if not free[v]:
            continue
        if key != len(adj[v]) - 2 * cnt.get(v, 0):
            continue  # stale
        wv = weight[v]
        if dw[d] + wv > hi:
            skipped.append((key, r, v))
            continue
        if dw[d] >= lo and abs(dw[d] + wv - tgt) >= abs(dw[d] - tgt):
            skipped.append((key, r, v))
            continue
        # keep the remainder connected
        free[v] = False
        if not _remainder_ok(adj, free, v):
            free[v] = True
            skipped.append((key, r, v))
            continue
        lab[v] = d
        dw[d] += wv
        for u in adj[v]:
            if free[u]:
                cnt[u] = cnt.get(u, 0) + 1
                push(u)
        if skipped and dw[d] < lo:
            for item in skipped:
                heappush(heap, item)
            skipped = []
    return skipped


def _best_overshoot(
    adj: list[list[int]], weight: list[int], tgt: int, d: int,
    skipped: list[tuple[int, float, int]], free: list[bool], lab: list[int], dw: list[int],
) -> None:  # fmt: skip
    """Below the band without a fitting node: take the skipped node that brings the
    weight closest to ``tgt`` (when it is closer than now), keeping the rest connected."""
    best = None
    for _key, _r, v in skipped:
        if not free[v]:
            continue
        free[v] = False
        okr = _remainder_ok(adj, free, v)
        free[v] = True
        if not okr:
            continue
        dev = abs(dw[d] + weight[v] - tgt)
        if best is None or dev < best[0]:
            best = (dev, v)
    if best is not None and best[0] < abs(dw[d] - tgt):
        v = best[1]
        free[v] = False
        lab[v] = d
        dw[d] += weight[v]


def _fill_pockets(
    adj: list[list[int]], weight: list[int], target: list[int], lab: list[int], dw: list[int],
    last: int,
) -> None:  # fmt: skip
    """Give what is left (isolated pockets) to the neighbouring territory furthest below
    its target; nodes with no assigned neighbour go to ``last``."""
    n = len(adj)
    changed = True
    while changed:
        changed = False
        for i in range(n):
            if lab[i] < 0:
                ds = [lab[j] for j in adj[i] if lab[j] >= 0]
                if ds:
                    lab[i] = min(ds, key=lambda e: dw[e] - target[e])
                    dw[lab[i]] += weight[i]
                    changed = True
    for i in range(n):
        if lab[i] < 0:
            lab[i] = last


def construct(
    adj: list[list[int]],
    weight: list[int],
    lo: list[int],
    hi: list[int],
    target: list[int],
    *,
    fixed: list[int] | None = None,
    rng: np.random.Generator,
    allowed_order: list[int] | None = None,
) -> list[int]:
    """Sequential region growing: one territory at a time, each grown from a peripheral
    seed of what is left, preferring frontier nodes that add the fewest cut edges, until
    its weight is as close to its target as the frontier allows; the remainder is kept
    connected (a node whose removal would split it is skipped). The last territory takes
    what is left. Locked nodes (``fixed[i] >= 0``) are pre-assigned and never taken by
    another territory. Returns labels (may be unbalanced: :func:`repair` follows).
    """
    n = len(adj)
    k = len(lo)
    lab = [-1] * n
    fixed = fixed if fixed is not None else [-1] * n
    for i in range(n):
        if fixed[i] >= 0:
            lab[i] = fixed[i]
    order = allowed_order if allowed_order is not None else list(range(k))
    free = [lab[i] < 0 for i in range(n)]
    dw = [0] * k
    for i in range(n):
        if lab[i] >= 0:
            dw[lab[i]] += weight[i]

    for step, d in enumerate(order):
        rem = [i for i in range(n) if free[i]]
        if not rem:
            break
        if step == k - 1:
            for i in rem:
                lab[i] = d
                free[i] = False
                dw[d] += weight[i]
            break
        locked_d = [i for i in range(n) if fixed[i] == d]
        if locked_d:
            seeds = [s for s in locked_d if not free[s]]
        else:
            seeds = [_grow_seed(adj, rem, free, lab, step, rng)]
        skipped = _grow(adj, weight, lo[d], hi[d], target[d], d, seeds, free, lab, dw, rng)
        if dw[d] < lo[d] and skipped:
            # could not reach the band without overshooting: take the best overshoot
            _best_overshoot(adj, weight, target[d], d, skipped, free, lab, dw)
    _fill_pockets(adj, weight, target, lab, dw, order[-1])
    return lab


def _remainder_ok(adj: list[list[int]], free: list[bool], v: int) -> bool:
    """After taking ``v`` (already marked not free), are its free neighbours still
    connected among the free nodes?"""
    targets = [u for u in adj[v] if free[u]]
    return connected_after(adj, targets, free, True, v)


def fix_contiguity(
    adj: list[list[int]], labels: list[int], weight: list[int], k: int, locked: list[bool]
) -> list[int]:
    """Keep each territory's heaviest connected piece (or the piece holding its locked
    nodes) and hand every other piece, whole, to the neighbouring territory it shares
    most edges with. Repeats until every territory is one piece (or nothing changes)."""
    lab = list(labels)
    n = len(adj)
    for _ in range(4 * k + 4):
        comp = [-1] * n
        pieces: list[tuple[int, int, list[int]]] = []  # (territory, weight, nodes)
        for s in range(n):
            if comp[s] >= 0:
                continue
            d = lab[s]
            cid = len(pieces)
            comp[s] = cid
            nodes = [s]
            q = deque([s])
            while q:
                u = q.popleft()
                for v in adj[u]:
                    if comp[v] < 0 and lab[v] == d:
                        comp[v] = cid
                        nodes.append(v)
                        q.append(v)
            pieces.append((d, sum(weight[u] for u in nodes), nodes))
        by_d: dict[int, list[int]] = {}
        for cid, (d, _wt, _nodes) in enumerate(pieces):
            by_d.setdefault(d, []).append(cid)
        changed = False
        for _d, cids in by_d.items():
            if len(cids) <= 1:
                continue

            def keep_key(c: int, pieces: list = pieces) -> tuple[int, int]:
                return (int(any(locked[u] for u in pieces[c][2])), pieces[c][1])

            keep = max(cids, key=keep_key)
            for c in cids:
                if c == keep:
                    continue
                nodes = pieces[c][2]
                if any(locked[u] for u in nodes):
                    continue
                cnt: dict[int, int] = {}
                for u in nodes:
                    for v in adj[u]:
                        if lab[v] != lab[u]:
                            cnt[lab[v]] = cnt.get(lab[v], 0) + 1
                if not cnt:
                    continue
                tgt = max(sorted(cnt), key=lambda e: cnt[e])
                for u in nodes:
                    lab[u] = tgt
                changed = True
        if not changed:
            break
    return lab


def repair(
    st: State,
    rng: np.random.Generator,
    max_rounds: int = 200,
    *,
    deadline: float | None = None,
    clock=None,
) -> None:
    """Reduce the balance violation by boundary moves that keep contiguity; among moves
    that reduce the violation most, take the one with the best objective change."""
    for _ in range(max_rounds):
        if deadline is not None and clock is not None and clock() > deadline:
            return
        if st.violation() == 0:
            return
        improved = False
        order = list(range(st.n))
        rng.shuffle(order)
        for i in order:
            if st.locked[i]:
                continue
            a = st.lab[i]
            nbi = st.nb[i]
            if len(nbi) == 1 and a in nbi:
                continue
            wi = st.w[i]
            da = st.dviol(a, -wi)
            if da >= 0 and st.dw[a] <= st.hi[a]:
                # moving out of a does not help a; only useful to fill an underweight b
                pass
            best = None
            for b in nbi:
                if b == a:
                    continue
                dv = da + st.dviol(b, wi)
                if dv >= 0:
                    continue
                key = (dv, st.move_delta(i, b))
                if best is None or key < best[0]:
                    best = (key, b)
            if best is not None and st.can_remove(i):
                st.apply(i, best[1])
                improved = True
        if not improved and not _pair_repair(st):
            return


def _best_push(st: State, members, cur: int, visited: set[int], banned: set[int], vio):
    """Best hop out of ``cur``: ``(key, node of cur, neighbouring territory)`` or None."""
    lab, w, dw, nb, move_delta = st.lab, st.w, st.dw, st.nb, st.move_delta
    best = None
    for u in members[cur]:
        if lab[u] != cur or u in banned:
            continue
        wu = w[u]
        for t in nb[u]:
            if t == cur or t in visited:
                continue
            key = (
                vio(cur, dw[cur] - wu) + vio(t, dw[t] + wu) - vio(t, dw[t]),
                move_delta(u, t),
            )
            if best is None or key < best[0]:
                best = (key, u, t)
    return best


def _best_pull(st: State, members, cur: int, visited: set[int], banned: set[int], vio):
    """Best hop into ``cur``: ``(key, node of a neighbour territory, its territory)``."""
    lab, w, dw, adj, locked, move_delta = st.lab, st.w, st.dw, st.adj, st.locked, st.move_delta
    best = None
    seen: set[int] = set()
    for x in members[cur]:
        if lab[x] != cur:
            continue
        for u in adj[x]:
            t = lab[u]
            if t == cur or t in visited or u in seen or locked[u] or u in banned:
                continue
            seen.add(u)
            wu = w[u]
            key = (
                vio(cur, dw[cur] + wu) + vio(t, dw[t] - wu) - vio(t, dw[t]),
                move_delta(u, cur),
            )
            if best is None or key < best[0]:
                best = (key, u, t)
    return best


def _chain(st: State, s: int, max_len: int, vio) -> list[tuple[int, int]]:
    """One ejection chain from the off-band territory ``s``; returns the moves made as
    (node, territory it came from)."""
    k, lab, dw, lo, hi = st.k, st.lab, st.dw, st.lo, st.hi
    push = dw[s] > hi[s]
    members: list[list[int]] = [[] for _ in range(k)]
    for i in range(st.n):
        if not st.locked[i] and len(st.nb[i]) > 1:
            members[lab[i]].append(i)
    done: list[tuple[int, int]] = []  # (node, territory it came from)
    banned: set[int] = set()
    visited = {s}
    cur = s
    for _hop in range(3 * max_len):
        if len(done) >= max_len:
            break
        if push and dw[cur] <= hi[cur]:
            break
        if not push and dw[cur] >= lo[cur]:
            break
        if push:
            # a node of cur moves to a neighbouring territory t
            best = _best_push(st, members, cur, visited, banned, vio)
        else:
            # a node of a neighbouring territory t moves into cur
            best = _best_pull(st, members, cur, visited, banned, vio)
        if best is None:
            break
        _key, u, t = best
        src = lab[u]
        if not st.can_remove(u):
            banned.add(u)  # would split its territory: look again without it
            continue
        st.apply(u, t if push else cur)
        done.append((u, src))
        visited.add(t)
        cur = t
    return done


def chain_repair(
    st: State,
    rng: np.random.Generator,
    *,
    tries: int = 400,
    max_len: int = 16,
    deadline: float | None = None,
    clock=None,
) -> int:
    """Ejection chains that carry weight across territories to an off-band one.

    From an overweight territory, a border node moves to a neighbour; if that pushes
    the neighbour over its band, one of its border nodes moves on to another territory
    not yet in the chain, and so on (up to ``max_len`` hops); an underweight territory
    pulls nodes the same way. Each hop takes the move that leaves the two territories
    it touches least off-band (then the best objective change). A chain is kept when
    the total violation went down, else undone. Returns the violation removed."""
    k = st.k
    dw, lo, hi = st.dw, st.lo, st.hi

    def vio(d: int, x: int) -> int:
        return x - hi[d] if x > hi[d] else (lo[d] - x if x < lo[d] else 0)

    start = st.violation()
    for _ in range(tries):
        if deadline is not None and clock is not None and clock() > deadline:
            break
        v0 = st.violation()
        if v0 == 0:
            break
        bad = [d for d in range(k) if dw[d] > hi[d] or dw[d] < lo[d]]
        s = bad[int(rng.integers(len(bad)))]
        done = _chain(st, s, max_len, vio)
        if st.violation() < v0:
            continue
        for u, src in reversed(done):
            st.apply(u, src)
    return start - st.violation()


def _pair_repair(st: State) -> bool:
    """One compound move that lowers the balance violation when no single move does:
    a swap across the border of an off-band territory ``a`` and a neighbour ``b``
    (``u: a->b, v: b->a``) or a chain through ``b`` (``u: a->b, v: b->c``). The best
    by (violation change, objective change) among all border pairs is applied."""
    k = st.k
    lab, w = st.lab, st.w
    border: dict[tuple[int, int], list[int]] = {}
    for i in range(st.n):
        if st.locked[i]:
            continue
        a = lab[i]
        for b in st.nb[i]:
            if b != a:
                border.setdefault((a, b), []).append(i)
    bad = [d for d in range(k) if st.dw[d] > st.hi[d] or st.dw[d] < st.lo[d]]
    cands: list[tuple[tuple[int, int], int, int, int, int]] = []
    for a in bad:
        for b in sorted({bb for (aa, bb) in border if aa == a}):
            us = border.get((a, b), [])
            for c in sorted({cc for (bb, cc) in border if bb == b}):
                vs = border.get((b, c), [])
                for u in us:
                    wu = w[u]
                    du = st.move_delta(u, b)
                    for v in vs:
                        if v == u:
                            continue
                        wv = w[v]
                        if c == a:
                            dv = st.dviol(a, wv - wu) + st.dviol(b, wu - wv)
                        else:
                            dv = st.dviol(a, -wu) + st.dviol(b, wu - wv) + st.dviol(c, wv)
                        if dv < 0:
                            cands.append(((dv, du + st.move_delta(v, c)), u, b, v, c))
    cands.sort()
    for _key, u, b, v, c in cands[:50]:
        if lab[v] != b or lab[u] == b or not st.can_remove(u):
            continue
        a = lab[u]
        st.apply(u, b)
        if lab[v] != b or not any(lab[x] == c for x in st.adj[v]) or not st.can_remove(v):
            st.apply(u, a)
            continue
        st.apply(v, c)
        return True
    return False


def descent(
    st: State,
    rng: np.random.Generator,
    *,
    max_passes: int = 20,
    plateau: bool = True,
    swaps: bool = True,
    deadline: float | None = None,
    clock=None,
) -> int:
    """Boundary moves (and swaps across a border) that keep balance and contiguity and
    lower the objective; with ``plateau`` also take equal-objective moves once per node
    per pass. Returns the number of moves applied."""
    moves = 0
    n = st.n
    for _ in range(max_passes):
        if deadline is not None and clock is not None and clock() > deadline:
            break
        improved = False
        order = list(range(n))
        rng.shuffle(order)
        for cnt, i in enumerate(order):
            late = (cnt & 511) == 511 and deadline is not None and clock is not None
            if late and clock() > deadline:
                return moves
            if st.locked[i]:
                continue
            a = st.lab[i]
            nbi = st.nb[i]
            if len(nbi) == 1:
                continue
            wi = st.w[i]
            if st.dw[a] - wi < st.lo[a]:
                continue
            best = None
            for b in nbi:
                if b == a or st.dw[b] + wi > st.hi[b]:
                    continue
                dlt = st.move_delta(i, b)
                take = dlt < 0 or (plateau and dlt == 0 and rng.random() < 0.5)
                if take and (best is None or dlt < best[0]):
                    best = (dlt, b)
            if best is not None and st.can_remove(i):
                st.apply(i, best[1])
                moves += 1
                if best[0] < 0:
                    improved = True
        if swaps:
            got = _swap_pass(st, rng)
            moves += got
            improved = improved or got > 0
        if not improved:
            break
    return moves


def _swap_pass(st: State, rng: np.random.Generator) -> int:
    """Swap a node of territory a with a node of b across their border when that lowers
    the objective and both weights stay in their bands."""
    borders: dict[tuple[int, int], list[int]] = {}
    for i in range(st.n):
        if st.locked[i]:
            continue
        a = st.lab[i]
        for b in st.nb[i]:
            if b != a:
                borders.setdefault((a, b), []).append(i)
    applied = 0
    keys = sorted(k for k in borders if k[0] < k[1])
    rng.shuffle(keys)
    for a, b in keys:
        ia = [i for i in borders.get((a, b), []) if st.lab[i] == a]
        jb = [j for j in borders.get((b, a), []) if st.lab[j] == b]
        if not ia or not jb:
            continue
        cand = []
        for i in ia:
            di = st.move_delta(i, b)
            if di > st.cut_scale * 2:
                continue
            for j in jb:
                dj = st.move_delta(j, a)
                tot = di + dj
                if j in st.adj[i]:
                    tot += 2 * st.cut_scale
                if tot < 0:
                    cand.append((tot, i, j))
        cand.sort()
        for _tot, i, j in cand[:20]:
            if st.lab[i] != a or st.lab[j] != b:
                continue
            wa = st.dw[a] - st.w[i] + st.w[j]
            wb = st.dw[b] - st.w[j] + st.w[i]
            if not (st.lo[a] <= wa <= st.hi[a] and st.lo[b] <= wb <= st.hi[b]):
                continue
            # recompute with current state
            tot = st.move_delta(i, b) + st.move_delta(j, a)
            if j in st.adj[i]:
                tot += 2 * st.cut_scale
            if tot >= 0:
                continue
            # earlier swaps may have changed the border: i must still touch b
            if st.nb[i].get(b, 0) == 0 or not st.can_remove(i):
                continue
            st.apply(i, b)
            if not any(st.lab[u] == a for u in st.adj[j]) or not st.can_remove(j):
                st.apply(i, a)
                continue
            st.apply(j, a)
            applied += 1
            break
    return applied


def _boundary(st: State) -> tuple[list[int], Callable[[int, int], None]]:
    """The movable boundary nodes of ``st`` (unlocked, touching another territory) and
    ``move(i, b)``, which applies a move and keeps that list up to date (closures: this
    is the annealing's hot path)."""
    nb, locked, adj, apply = st.nb, st.locked, st.adj, st.apply
    bpos = [-1] * st.n
    blist: list[int] = []
    for i in range(st.n):
        if len(nb[i]) > 1 and not locked[i]:
            bpos[i] = len(blist)
            blist.append(i)

    def set_boundary(i: int) -> None:
        isb = len(nb[i]) > 1 and not locked[i]
        p = bpos[i]
        if isb and p < 0:
            bpos[i] = len(blist)
            blist.append(i)
        elif not isb and p >= 0:
            last = blist.pop()
            if last != i:
                blist[p] = last
                bpos[last] = p
            bpos[i] = -1

    def move(i: int, b: int) -> None:
        apply(i, b)
        set_boundary(i)
        for j in adj[i]:
            set_boundary(j)

    return blist, move


def _band_violation(lo: list[int], hi: list[int]) -> Callable[[int, int], int]:
    """``vio(d, x)``: how far weight ``x`` is outside territory ``d``'s band."""

    def vio(d: int, x: int) -> int:
        h = hi[d]
        if x > h:
            return x - h
        lw = lo[d]
        return lw - x if x < lw else 0

    return vio


def _past(deadline: float | None, clock) -> bool:
    return deadline is not None and clock is not None and clock() > deadline


def _best_completion(st: State, i: int, a: int, b: int, mu: float, vio):
    """Best compensating flip after ``i: a -> b``: a neighbour ``j`` of ``i`` in ``b``
    moves on to ``c``, evaluated as if ``i`` had moved (``j``'s count towards ``a`` drops
    by one, towards ``b`` rises by one). Returns ``(score, j, c, dv2, dobj2)`` or None."""
    lab, nb, w, dw, locked, cost, cs = st.lab, st.nb, st.w, st.dw, st.locked, st.cost, st.cut_scale
    wi = w[i]
    wb1 = dw[b] + wi
    wa1 = dw[a] - wi
    bestj = None
    for j in st.adj[i]:
        if lab[j] != b or locked[j]:
            continue
        nbj = nb[j]
        wj = w[j]
        nb_b = nbj.get(b, 0) + 1
        for c in nbj:
            if c == b:
                continue
            nb_c = nbj[c] - (1 if c == a else 0)
            if nb_c <= 0:
                continue  # j touched c only through i: it would be cut off
            if c == a:
                dvc = vio(a, wa1 + wj) - vio(a, wa1)
            else:
                wc0 = dw[c]
                dvc = vio(c, wc0 + wj) - vio(c, wc0)
            dv2 = vio(b, wb1 - wj) - vio(b, wb1) + dvc
            do2 = cs * (nb_b - nb_c)
            if cost is not None:
                do2 += cost[j][c] - cost[j][b]
            sc = do2 + mu * dv2
            if bestj is None or sc < bestj[0]:
                bestj = (sc, j, c, dv2, do2)
    return bestj


def _chain_move(
    st: State, move: Callable[[int, int], None], i: int, a: int, b: int, dobj: int,
    dv: int, mu: float, temp: float, r3: float, vio,
) -> tuple[int, int] | None:  # fmt: skip
    """A flip ``i: a -> b`` that pushes a weight off its band: completed by the best
    compensating flip when that beats the plain flip, accepted by the Metropolis rule
    with the uniform draw ``r3``. Returns the (objective, violation) change applied, or
    ``None`` when nothing moved."""
    exp = math.exp
    bestj = _best_completion(st, i, a, b, mu, vio)
    if bestj is None or bestj[0] >= mu * dv:
        # the plain flip is at least as good as any completion
        df1 = dobj + mu * dv
        if df1 > 0 and (temp <= 0 or r3 >= exp(-df1 / temp)):
            return None
        if not st.can_remove(i):
            return None
        move(i, b)
        return dobj, dv
    _sc, j, c, dv2, do2 = bestj
    df = dobj + do2 + mu * (dv + dv2)
    if df > 0 and (temp <= 0 or r3 >= exp(-df / temp)):
        return None
    if not st.can_remove(i):
        return None
    move(i, b)
    if st.lab[j] != b or not st.can_remove(j):
        move(i, a)
        return None
    move(j, c)
    return dobj + do2, dv + dv2


def anneal(
    st: State,
    rng: np.random.Generator,
    *,
    iterations: int,
    t_start: float,
    t_end: float,
    mu: float,
    deadline: float | None = None,
    clock=None,
    best: tuple[int, list[int]] | None = None,
    mu_cap: float = 1000.0,
) -> tuple[tuple[tuple[int, int], list[int]] | None, float]:
    """Simulated annealing on boundary flips that keep every territory connected.

    A move flips boundary node ``i`` from its territory ``a`` to a neighbouring
    territory ``b``; when that pushes a weight off its band, the move is completed by a
    compensating flip of a node ``j`` near ``i`` out of ``b`` (an ejection chain of
    length two, which is what keeps exact-balance instances moving). Minimises
    ``objective + mu * violation`` (``mu`` in objective units per unit of weight) with a
    geometric temperature schedule from ``t_start`` to ``t_end``; ``mu`` adapts (up while
    off-band, down while on-band, within [mu/4, mu_cap * mu]). Returns the best plan
    seen, least off-band weight first, as ``((violation, objective), labels)`` (or the
    ``best`` passed in if nothing better), and the penalty weight reached.
    ``st`` ends in the last state visited.
    """
    lab, nb, w, cost, cs, dw = st.lab, st.nb, st.w, st.cost, st.cut_scale, st.dw
    mu_lo, mu_hi = mu / 4.0, mu * mu_cap
    blist, do = _boundary(st)
    vio = _band_violation(st.lo, st.hi)
    can_remove = st.can_remove
    obj = st.objective()
    viol = st.violation()
    if best is None or (viol, obj) < best[0]:
        best = ((viol, obj), list(lab))
    if not blist or iterations <= 0:
        return best, mu
    ratio = (t_end / t_start) ** (1.0 / max(iterations, 1)) if t_start > 0 else 1.0
    temp = t_start
    chunk = 1024
    rnd = rng.random(3 * chunk)
    ri = 0
    exp = math.exp
    for it in range(iterations):
        if ri >= 3 * chunk:  # every ``chunk`` iterations (it > 0)
            rnd = rng.random(3 * chunk)
            ri = 0
            if _past(deadline, clock):
                break
            if (it & 2047) == 0:
                mu = min(mu * 1.15, mu_hi) if viol > 0 else max(mu * 0.99, mu_lo)
        r1, r2, r3 = rnd[ri], rnd[ri + 1], rnd[ri + 2]
        ri += 3
        temp *= ratio
        if not blist:
            break
        i = blist[int(r1 * len(blist))]
        a = lab[i]
        nbi = nb[i]
        keys = [d for d in nbi if d != a]
        if not keys:
            continue
        b = keys[int(r2 * len(keys))]
        wi = w[i]
        wa, wb = dw[a], dw[b]
        dv = vio(a, wa - wi) - vio(a, wa) + vio(b, wb + wi) - vio(b, wb)
        dobj = cs * (nbi.get(a, 0) - nbi[b])
        if cost is not None:
            ci = cost[i]
            dobj += ci[b] - ci[a]
        if dv <= 0:
            df = dobj + mu * dv
            if df > 0 and (temp <= 0 or r3 >= exp(-df / temp)):
                continue
            if not can_remove(i):
                continue
            do(i, b)
            obj += dobj
            viol += dv
        else:
            moved = _chain_move(st, do, i, a, b, dobj, dv, mu, temp, r3, vio)
            if moved is None:
                continue
            obj += moved[0]
            viol += moved[1]
        if viol <= best[0][0] and (viol, obj) < best[0]:
            best = ((viol, obj), list(lab))
    return best, mu


def spectral_construct(
    adj: list[list[int]],
    weight: list[int],
    target: list[int],
    rng: np.random.Generator,
    *,
    jitter: float = 0.0,
) -> list[int]:
    """Recursive spectral bisection: split the node set along its Fiedler vector (the
    second eigenvector of the graph Laplacian) at the weight share of the territories
    on each side, then recurse on both sides. Gives straight, short borders (on a
    lattice: blocks). ``jitter`` (0..1) randomises the side sizes and the sweep a little
    for multi-start. Returns labels (contiguity and balance are repaired afterwards).
    """
    from scipy.sparse import csr_matrix, diags
    from scipy.sparse.linalg import eigsh

    n = len(adj)
    k = len(target)
    lab = [0] * n
    stack: list[tuple[np.ndarray, list[int]]] = [(np.arange(n), list(range(k)))]
    w = np.asarray(weight, dtype=float)
    while stack:
        nodes, ds = stack.pop()
        if len(ds) == 1 or nodes.size == 0:
            for i in nodes.tolist():
                lab[i] = ds[0]
            continue
        half = len(ds) // 2
        if jitter > 0 and len(ds) % 2 == 1 and rng.random() < 0.5:
            half = len(ds) - half
        left, right = ds[:half], ds[half:]
        m = nodes.size
        pos = {int(v): t for t, v in enumerate(nodes.tolist())}
        rows, cols = [], []
        for t, v in enumerate(nodes.tolist()):
            for u in adj[v]:
                s = pos.get(u)
                if s is not None:
                    rows.append(t)
                    cols.append(s)
        a = csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(m, m))
        deg = np.asarray(a.sum(axis=1)).ravel()
        lap = diags(deg) - a
        share = sum(target[d] for d in left) / max(sum(target[d] for d in ds), 1)
        if m <= 2:
            vecs = np.arange(m, dtype=float).reshape(-1, 1)
        elif m <= 40:
            _vals, allv = np.linalg.eigh(lap.toarray())
            vecs = allv[:, 1 : min(3, m)]
        else:
            try:
                v0 = rng.random(m) + 0.5  # seeded start: ARPACK would use its own state
                vals, allv = eigsh(lap.tocsc(), k=3, sigma=-1e-3, which="LM", v0=v0)
                vecs = allv[:, np.argsort(vals)[1:3]]
            except Exception:  # pragma: no cover - numerical fallback
                vecs = rng.random((m, 1))
        # sweep directions in the plane of the 2nd and 3rd eigenvectors (a square
        # lattice has two equal ones); keep the split with the fewest cut edges
        src_l = np.asarray(rows, dtype=np.int64)
        dst_l = np.asarray(cols, dtype=np.int64)
        wn = w[nodes]
        cands = []
        n_ang = 48 if m <= 5000 else 12
        angles = [0.0] if vecs.shape[1] == 1 else [np.pi * t / n_ang for t in range(n_ang)]
        for ang in angles:
            vec = vecs[:, 0] * np.cos(ang)
            if vecs.shape[1] > 1:
                vec = vec + vecs[:, 1] * np.sin(ang)
            order = np.argsort(vec, kind="stable")
            cw = np.cumsum(wn[order])
            goal = share * cw[-1]
            cut = int(np.searchsorted(cw, goal))
            if 0 < cut < m and abs(cw[cut - 1] - goal) <= abs(cw[cut] - goal):
                cut -= 1
            cut = min(max(cut + 1, 1), m - 1) if m > 1 else 1
            side = np.zeros(m, dtype=bool)
            side[order[:cut]] = True
            ncut = int(np.count_nonzero(side[src_l] != side[dst_l])) // 2
            cands.append((ncut, float(abs(cw[cut - 1] - goal)), order, cut))
        cands.sort(key=lambda c: (c[0], c[1]))
        pick = 0
        if jitter > 0 and len(cands) > 1:
            pick = int(rng.integers(min(3, len(cands))))
        _ncut, _dev, order, cut = cands[pick]
        stack.append((nodes[order[:cut]], left))
        stack.append((nodes[order[cut:]], right))
    return lab
