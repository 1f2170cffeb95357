"""Path moves: carry weight along a path of territories to bring one back into its band.

When every node weighs more than a band is wide (New York: grids of 0.07-0.12 of a
target, bands of +-3 %), no territory within its band can take one more node, so a chain
of single moves out of an overweight territory never ends (each territory it reaches is
pushed over in turn). What can end it is an *exchange* somewhere along the way: a border
node goes one way and another comes back, so the net weight that passes on is the
difference of two weights, which can be as small as the band needs.

:func:`path_repair` looks for such a path ``s = T0 -> T1 -> ... -> Tm``: each hop
``T(i) -> T(i+1)`` is one *transfer* across their border (a node moving forward, a node
moving back, or both), with the signed net weight ``x(i)`` it carries forward chosen so
that every territory of the path ends within its band::

    lo(T0) <= w(T0) - x(0) <= hi(T0)
    lo(Ti) <= w(Ti) + x(i-1) - x(i) <= hi(Ti)      (0 < i < m)
    lo(Tm) <= w(Tm) + x(m-1) <= hi(Tm)

The search is breadth-first on the territory graph (fewest hops first); its states are
(territory, net weight arriving) with the weight rounded to a fraction of the band, and
each state keeps the cheapest way to reach it (cut-edge change). A path found is applied
move by move, each checked to keep its territory connected; a transfer that fails the
check is banned and the search runs again. Everything is deterministic given the state.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable
from dataclasses import dataclass, field

from gridplan._balance.search import State

__all__ = ["PathConfig", "path_repair"]

#: a transfer: (net weight carried forward, cut change, moves as (node, from, to), how
#: many of the moves go forward: they come first, then those coming back)
Transfer = tuple[int, int, tuple[tuple[int, int, int], ...], int]


@dataclass(frozen=True)
class PathConfig:
    """Knobs of :func:`path_repair`.

    ``max_hops``: longest path searched (territories past the first); ``resolution``:
    states per band width (the net weight is rounded to ``band / resolution``);
    ``max_states``: states kept per breadth-first layer (the cheapest); ``max_tries``:
    searches per off-band territory (each after a path failed its contiguity check);
    ``max_border``: border nodes per side of a border pair considered for transfers
    (those with the best cut change); ``max_ends``: branches kept for pairing (two
    branches out of the off-band territory, on disjoint territories); ``max_group``:
    nodes per side of a transfer (a search with single nodes first, then, when it
    finds nothing, with a border node and its neighbour moving together: thin
    territories, e.g. along a peninsula, often cannot give up a single node);
    ``max_work``: transfers examined per :func:`path_repair` call (the deterministic
    budget) and ``search_work`` per territory and transfer size; ``max_excess``: when a
    territory is further off its band than this many times the heaviest node, the plan
    is left to the other repairs (one path carries a few nodes)."""

    max_hops: int = 10
    resolution: int = 12
    max_states: int = 6000
    max_tries: int = 6
    max_border: int = 12
    max_ends: int = 3000
    max_group: int = 2
    max_work: int = 200_000
    search_work: int = 25_000
    max_excess: float = 2.0


class _Transfers:
    """Transfers across each ordered pair of adjacent territories, built on demand for
    the current labelling and sorted by net weight. A side of a transfer is a border
    node or, for transfers out of territory ``wide`` (the one being repaired) when
    ``group`` is 2, a border node followed by one of its neighbours."""

    def __init__(self, st: State, cfg: PathConfig, group: int = 1, wide: int = -1) -> None:
        self.st = st
        self.cfg = cfg
        self.group = group
        self.wide = wide
        self.cache: dict[tuple[int, int], tuple[list[int], list[Transfer]]] = {}
        self.removable: dict[int, bool] = {}
        self.ok: dict[tuple, bool] = {}  # transfer moves -> valid alone
        self.border: dict[tuple[int, int], list[int]] = {}
        lab, nb, locked = st.lab, st.nb, st.locked
        for i in range(st.n):
            if locked[i] or len(nb[i]) < 2:
                continue
            a = lab[i]
            for b in nb[i]:
                if b != a:
                    self.border.setdefault((a, b), []).append(i)

    def can_leave(self, i: int) -> bool:
        r = self.removable.get(i)
        if r is None:
            r = self.removable[i] = self.st.can_remove(i)
        return r

    def _side(self, a: int, b: int) -> list[tuple[int, tuple[int, ...]]]:
        """(cut change, nodes in moving order) of the groups of ``a`` that may move to
        ``b``, best first within each size."""
        st, cap = self.st, self.cfg.max_border
        singles = [(st.move_delta(i, b), i) for i in self.border.get((a, b), ())]
        out = sorted((d, (i,)) for d, i in singles if self.can_leave(i))[:cap]
        if self.group < 2 or a != self.wide:
            return out
        lab, adj, locked, cs = st.lab, st.adj, st.locked, st.cut_scale
        pairs = []
        for d1, g1 in sorted(singles)[:cap]:
            for g2 in adj[g1]:
                if lab[g2] == a and not locked[g2]:
                    # the edge g1-g2 stays uncut: each move alone counts it as cut
                    pairs.append((d1 + st.move_delta(g2, b) - 2 * cs, (g1, g2)))
        pairs.sort()
        return out + pairs[: 2 * cap]

    def get(self, a: int, b: int) -> tuple[list[int], list[Transfer]]:
        """(sorted net weights, transfers) carrying weight from ``a`` to ``b``."""
        key = (a, b)
        got = self.cache.get(key)
        if got is not None:
            return got
        st = self.st
        w, adj, cs = st.w, st.adj, st.cut_scale
        fwd = self._side(a, b)
        back = self._side(b, a)
        trs: list[Transfer] = []
        for dg, gs in fwd:
            trs.append((sum(w[g] for g in gs), dg, tuple((g, a, b) for g in gs), len(gs)))
        for dh, hs in back:
            trs.append((-sum(w[h] for h in hs), dh, tuple((h, b, a) for h in hs), 0))
        for dg, gs in fwd:
            wg = sum(w[g] for g in gs)
            for dh, hs in back:
                if len(gs) + len(hs) > 3:
                    continue
                # an edge between the two sides stays cut: each side counts it as uncut
                shared = sum(1 for g in gs for h in hs if h in adj[g])
                moves = tuple((g, a, b) for g in gs) + tuple((h, b, a) for h in hs)
                trs.append((wg - sum(w[h] for h in hs), dg + dh + 2 * cs * shared, moves, len(gs)))
        trs.sort(key=lambda t: (t[0], t[1]))
        got = ([t[0] for t in trs], trs)
        self.cache[key] = got
        return got


def _territory_graph(st: State) -> list[list[int]]:
    nbrs: list[set[int]] = [set() for _ in range(st.k)]
    for i in range(st.n):
        a = st.lab[i]
        for b in st.nb[i]:
            if b != a:
                nbrs[a].add(b)
    return [sorted(s) for s in nbrs]


def _apply_moves(st: State, tr: Transfer, done: list) -> bool:
    """Apply one transfer's moves, each keeping its territory connected (an exchange
    is tried both ways: forward side first, then back side first); on failure nothing
    stays applied."""
    moves, nf = tr[2], tr[3]
    mark = len(done)
    orders = [moves]
    if 0 < nf < len(moves):
        orders.append(moves[nf:] + moves[:nf])
    for order in orders:
        if all(_try_move(st, i, a, b, done) for i, a, b in order):
            return True
        for u, src in reversed(done[mark:]):
            st.apply(u, src)
        del done[mark:]
    return False


def _try_move(st: State, i: int, a: int, b: int, done: list[tuple[int, int]]) -> bool:
    if st.lab[i] != a or st.nb[i].get(b, 0) == 0 or not st.can_remove(i):
        return False
    st.apply(i, b)
    done.append((i, a))
    return True


def _valid(st: State, trs: _Transfers, tr: Transfer) -> bool:
    """Whether ``tr`` alone keeps its two territories connected (memoised). A single
    node was checked when the transfer was built; a one-for-one exchange ``g: a -> b``,
    ``h: b -> a`` of nodes that may each leave is valid when ``g`` touches ``b`` and
    ``h`` touches ``a`` elsewhere than at each other (each joins the other side's rest)."""
    moves = tr[2]
    if len(moves) == 1:
        return True
    key = moves
    ok = trs.ok.get(key)
    if ok is not None:
        return ok
    if len(moves) == 2 and tr[3] == 1:
        (g, a, b), (h, _b, _a) = moves
        if trs.can_leave(g) and trs.can_leave(h):
            lab, adj = st.lab, st.adj
            if any(lab[v] == b and v != h for v in adj[g]) and any(
                lab[v] == a and v != g for v in adj[h]
            ):
                trs.ok[key] = True
                return True
    done: list[tuple[int, int]] = []
    ok = _apply_moves(st, tr, done)
    for u, src in reversed(done):
        st.apply(u, src)
    trs.ok[key] = ok
    return ok


#: a search state: (territory, net weight arriving, cost, parent state, transfer in)
_Node = tuple


def _on_path(node: _Node, t: int) -> bool:
    cur: _Node | None = node
    while cur is not None:
        if cur[0] == t:
            return True
        cur = cur[3]
    return False


def _transfers_of(node: _Node) -> list[Transfer]:
    out: list[Transfer] = []
    cur: _Node | None = node
    while cur is not None and cur[4] is not None:
        out.append(cur[4])
        cur = cur[3]
    out.reverse()
    return out


@dataclass
class _Search:
    """One search from the off-band territory ``s`` (its data and bans)."""

    st: State
    s: int
    tg: list[list[int]]
    trs: _Transfers
    cfg: PathConfig
    budget: list[int]  # transfers still to examine (shared by the searches of a call)
    banned: set = field(default_factory=set)
    past: Callable[[], bool] = lambda: False  # the safety deadline has passed

    def window(self, node: _Node) -> tuple[int, int]:
        """Net weight that the territory of ``node`` may pass on (the start territory:
        its own window widened by the heaviest node, for two branches)."""
        st, t = self.st, node[0]
        wt = st.dw[t] + node[1]
        if node[3] is None:
            pad = max(st.w)
            return wt - st.hi[t] - pad, wt - st.lo[t] + pad
        return wt - st.hi[t], wt - st.lo[t]

    def expand(self, layer: list[_Node], step: int) -> tuple[list[_Node], list[_Node]]:
        """One breadth-first layer: (next states, branches that end within the bands)."""
        st, trs, banned = self.st, self.trs, self.banned
        dw, lo, hi = st.dw, st.lo, st.hi
        best: dict[tuple[int, int], _Node] = {}
        done: list[_Node] = []
        work = 0
        for node in layer:
            x_lo, x_hi = self.window(node)
            for u in self.tg[node[0]]:
                if _on_path(node, u):
                    continue
                xs, lst = trs.get(node[0], u)
                q0, q1 = bisect_left(xs, x_lo), bisect_right(xs, x_hi)
                work += q1 - q0 + 1
                for q in range(q0, q1):
                    tr = lst[q]
                    if tr[2] in banned or not _valid(st, trs, tr):
                        continue
                    x = tr[0]
                    nxt: _Node = (u, x, node[2] + tr[1], node, tr)
                    if lo[u] <= dw[u] + x <= hi[u]:
                        done.append(nxt)
                        continue
                    key = (u, x // step)
                    old = best.get(key)
                    if old is None or nxt[2] < old[2]:
                        best[key] = nxt
        self.budget[0] -= work
        return list(best.values()), done

    def solutions(self, ends: list[_Node]) -> list[tuple[int, list[Transfer]]]:
        """Plans that bring ``s`` into its band: one branch whose first transfer fits
        its window, or two branches on disjoint territories whose first transfers sum
        to it; cheapest first, as (cost, transfers)."""
        st, s = self.st, self.s
        s_lo, s_hi = st.dw[s] - st.hi[s], st.dw[s] - st.lo[s]
        recs = []
        for nd in ends:
            path = _transfers_of(nd)
            terr: set[int] = set()
            cur: _Node | None = nd
            while cur is not None and cur[3] is not None:
                terr.add(cur[0])
                cur = cur[3]
            recs.append((path[0][0], nd[2], terr, path))
        recs.sort(key=lambda r: (r[0], r[1]))
        recs = recs[: self.cfg.max_ends]
        out: list[tuple[int, list[Transfer]]] = [
            (c, p) for x, c, _t, p in recs if s_lo <= x <= s_hi
        ]
        xs = [r[0] for r in recs]
        for x1, c1, t1, p1 in recs:
            lo_q = bisect_left(xs, s_lo - x1)
            for q in range(lo_q, min(bisect_right(xs, s_hi - x1), lo_q + 24)):
                x2, c2, t2, p2 = recs[q]
                if x2 >= x1 and t1.isdisjoint(t2):
                    out.append((c1 + c2, p1 + p2))
        out.sort(key=lambda sol: sol[0])
        return out[:8]

    def run(self) -> list[tuple[int, list[Transfer]]]:
        """Breadth-first layers until some plan brings ``s`` into its band."""
        st, cfg = self.st, self.cfg
        step = max(1, min(st.hi[d] - st.lo[d] for d in range(st.k)) // max(cfg.resolution, 1))
        layer: list[_Node] = [(self.s, 0, 0, None, None)]
        ends: list[_Node] = []
        for _hop in range(cfg.max_hops):
            if self.budget[0] <= 0 or self.past():
                break
            layer, done = self.expand(layer, step)
            if done:
                ends.extend(done)
                sols = self.solutions(ends)
                if sols:
                    return sols
            if not layer:
                break
            if len(layer) > cfg.max_states:
                layer.sort(key=lambda nd: (nd[2], nd[0], nd[1]))
                layer = layer[: cfg.max_states]
        return []


def _apply_path(st: State, path: list[Transfer]) -> int:
    """Apply the transfers of ``path`` in order; returns -1 when every move kept its
    territory connected, else the index of the transfer that failed (all undone)."""
    done: list[tuple[int, int]] = []
    moved: set[int] = set()
    for idx, tr in enumerate(path):
        moves = tr[2]
        if any(i in moved for i, _a, _b in moves) or not _apply_moves(st, tr, done):
            for u, src in reversed(done):
                st.apply(u, src)
            return idx
        moved.update(i for i, _a, _b in moves)
    return -1


def _fix_one(
    st: State, s: int, cfg: PathConfig, budget: list[int], past: Callable[[], bool]
) -> bool:
    """Bring territory ``s`` into its band by one path move; True on success."""
    v0 = st.violation()
    tg = _territory_graph(st)
    for group in range(1, cfg.max_group + 1):
        own = [min(budget[0], cfg.search_work)]
        search = _Search(st, s, tg, _Transfers(st, cfg, group, s), cfg, own, past=past)
        for _ in range(cfg.max_tries):
            left = own[0]
            sols = search.run()
            budget[0] -= left - own[0]
            if not sols:
                break
            for _cost, path in sols:
                bad = _apply_path(st, path)
                if bad < 0:
                    if st.violation() < v0:
                        return True
                    _undo_path(st, path)  # not expected with exact integer weights
                    return False
                search.banned.add(path[bad][2])
    return False


def _undo_path(st: State, path: list[Transfer]) -> None:
    for tr in reversed(path):
        for i, a, _b in reversed(tr[2]):
            st.apply(i, a)


def path_repair(
    st: State,
    *,
    config: PathConfig | None = None,
    deadline: float | None = None,
    clock: Callable[[], float] | None = None,
) -> int:
    """Bring off-band territories back into their bands by path moves (see the module
    doc), the most off-band first (one that fails is tried again after another
    succeeds), within ``config.max_work``; nothing when a territory is out of reach
    (``config.max_excess``). Territories already within their bands stay
    within them, so the off-band weight only goes down. ``deadline`` (``clock()`` seconds) is a
    safety limit only. Returns the off-band weight removed."""
    cfg = config or PathConfig()
    start = st.violation()
    failed: set[int] = set()
    budget = [cfg.max_work]
    reach = cfg.max_excess * max(st.w, default=0)

    def past() -> bool:
        return deadline is not None and clock is not None and clock() > deadline

    while budget[0] > 0:
        if past():
            break
        dw, lo, hi = st.dw, st.lo, st.hi
        bad = []
        for d in range(st.k):
            off = max(dw[d] - hi[d], lo[d] - dw[d])
            if off > reach:
                return start - st.violation()  # far from balanced: the other repairs
            if off > 0 and d not in failed:
                bad.append((off, d))
        if not bad:
            break
        s = max(bad)[1]
        if _fix_one(st, s, cfg, budget, past):
            failed.clear()  # the plan changed: what failed may work now
        else:
            failed.add(s)
    return start - st.violation()
