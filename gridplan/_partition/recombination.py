"""Merge-and-split of adjacent region pairs along random spanning trees (step 4)."""

from __future__ import annotations

import heapq
import math
import random
from collections.abc import Callable

from gridplan._partition.state import SolverState
from gridplan._partition.task import EPS, TWO_PI


class Recombination(SolverState):
    """Merge two adjacent regions and cut the union along its best spanning-tree edge."""

    def recombine(self, rng: random.Random, side_of: list[int] | None = None) -> int:
        """Merge-and-split of adjacent region pairs along spanning trees (see module doc).

        Accepts a new split when it lowers the pair's cost. Pairs whose regions did
        not change since they were last tried are skipped. ``side_of`` (a label
        per region id) limits the search to pairs with different labels. Returns
        the number of accepted splits.
        """
        if not self.n_homog and not self.compact_w:
            return 0
        prm = self.task.params
        version = [0] * len(self.alive)
        tried: dict[tuple[int, int], tuple[int, int]] = {}
        accepted = 0
        for _ in range(prm.recombine_sweeps):
            if self._time_up():
                break
            found = 0
            regions = [r for r in range(len(self.alive)) if self.alive[r]]
            rng.shuffle(regions)
            for a in regions:
                if self._time_up():
                    break
                for b in sorted(self._adjacent_regions(a)):
                    if b < a or (side_of is not None and side_of[a] == side_of[b]):
                        continue
                    key = (a, b)
                    ver = (version[a], version[b])
                    if tried.get(key) == ver:
                        continue
                    tried[key] = ver
                    cells = list(self.members[a]) + list(self.members[b])
                    if len(cells) > prm.recombine_max_cells:
                        continue
                    before = self.r_cost[a] + self.r_cost[b]
                    side = self._best_tree_split(cells, rng, prm.recombine_noise, before - 1e-9)
                    if side is None:
                        continue
                    rest = list(set(cells) - set(side))
                    if self.max_diam_sq is not None:
                        snap_a = self._region_state(a)
                        snap_b = self._region_state(b)
                        self._reset_region(a, side)
                        self._reset_region(b, rest)
                        if not (self._within_ceilings(a) and self._within_ceilings(b)):
                            self._set_region_state(a, snap_a)
                            self._set_region_state(b, snap_b)
                            for i in snap_a[0]:
                                self.label[i] = a
                            for i in snap_b[0]:
                                self.label[i] = b
                            continue
                    else:
                        self._reset_region(a, side)
                        self._reset_region(b, rest)
                    version[a] += 1
                    version[b] += 1
                    found += 1
            accepted += found
            if not found:
                break
        return accepted

    def _best_tree_split(
        self, cells: list[int], rng: random.Random, noise: float, below: float
    ) -> list[int] | None:
        """Best cut of a spanning tree of ``cells`` into two parts meeting the floors.

        The tree is a minimum spanning tree for attribute distance plus ``noise`` ×
        a random term, so cuts follow attribute edges. Every tree edge is tried
        with subtree sums (linear time). Returns one side of the best cut when its
        cost is below ``below``, else None.
        """
        tree = self._spanning_tree(cells, rng, noise)
        if tree is None:
            return None
        order, par = tree
        best_cost, best_t = self._best_cut(par, self._subtree_sums(order, par))
        if best_t < 0 or best_cost >= below:
            return None
        return _subtree(order, par, best_t)

    def _spanning_tree(
        self, cells: list[int], rng: random.Random, noise: float
    ) -> tuple[list[int], list[int]] | None:
        """Prim's minimum spanning tree of ``cells`` from a random root: ``(cells in
        the order they joined, position in that order of every cell's parent (root:
        -1))``; None when ``cells`` are not connected. Edge weight: squared attribute
        distance + ``noise`` × U(0, 1)."""
        nb = self.neighbours
        free = set(cells)  # the cells not in the tree yet
        h = self.n_homog
        Z1 = self.homog1 if h == 1 else None
        Z = self.homog
        rnd = rng.random
        hpush = heapq.heappush
        hpop = heapq.heappop
        root = cells[rng.randrange(len(cells))]
        free.discard(root)
        pos = {root: 0}  # cell -> position in order (the cells in the tree)
        order = [root]
        par = [-1]
        heap: list[tuple[float, int, int]] = []
        u = root
        while True:
            # the edges from u to the cells not in the tree (one random draw each)
            if Z1 is not None:
                zu = Z1[u]
                for v in nb[u]:
                    if v in free:
                        d = zu - Z1[v]
                        hpush(heap, (noise * rnd() + d * d, v, u))
            elif h:
                _push_edges(heap, u, nb[u], free, Z, h, noise, rnd)  # type: ignore[arg-type]
            else:
                for v in nb[u]:
                    if v in free:
                        hpush(heap, (noise * rnd(), v, u))
            while heap:
                _, v, w = hpop(heap)
                if v in free:
                    break
            else:
                break
            free.discard(v)
            pos[v] = len(order)
            order.append(v)
            par.append(pos[w])
            u = v
        if len(order) != len(cells):
            return None
        return order, par

    def _cell_rows(self) -> list[tuple[float, ...]]:
        """Every cell's ``(a, a·x, a·y, a·(x²+y²), a², Σ z², floors…, ceilings…,
        attributes…)``, the terms of the subtree sums."""
        AR, X, Y, ZZ, U, C, Z = (
            self.areas,
            self.xs,
            self.ys,
            self.homog_sq,
            self.floors,
            self.ceilings,
            self.homog,
        )
        rows = []
        for v in range(self.n_cells):
            a = AR[v]
            x = X[v]
            y = Y[v]
            row = (a, a * x, a * y, a * (x * x + y * y), a * a, ZZ[v], *U[v])
            if C is not None:
                row += C[v]
            if Z is not None:
                row += Z[v]
            rows.append(row)
        return rows

    def _subtree_sums(self, order: list[int], par: list[int]) -> list[list]:
        """Sums of every subtree, by position in ``order`` (children after their
        parent; ``par``: parent positions): ``[cells, Σ a, Σ a·x, Σ a·y, Σ a·(x²+y²),
        Σ a², Σ z², then one list per floor, ceiling and attribute column]``."""
        rows = self._tree_rows
        if rows is None:
            rows = self._tree_rows = self._cell_rows()
        n = len(order)
        cnt = [1] * n
        cols = [cnt, *(list(col) for col in zip(*[rows[v] for v in order], strict=True))]
        A, ax, ay, axx, aa, zz = cols[1:7]
        for t in range(n - 1, 0, -1):
            p = par[t]
            cnt[p] += cnt[t]
            A[p] += A[t]
            ax[p] += ax[t]
            ay[p] += ay[t]
            axx[p] += axx[t]
            aa[p] += aa[t]
            zz[p] += zz[t]
        for col in cols[7:]:
            for t in range(n - 1, 0, -1):
                col[par[t]] += col[t]
        return cols

    def _best_cut(self, par: list[int], cols: list[list]) -> tuple[float, int]:
        """The tree edge (given by its child's position) whose cut leaves two sides
        meeting the floors and ceilings at the lowest total cost: ``(cost,
        position)``, position -1 for none. ``cols``: :meth:`_subtree_sums`."""
        f, c, h = self.n_floors, self.n_ceils, self.n_homog
        cnt, A, ax, ay, axx, aa, zz = cols[:7]
        n = len(par)
        lo = 1.0 - EPS
        hi = 1.0 + EPS
        cand: list[int] = list(range(1, n))
        for col in cols[7 : 7 + f]:
            T = col[0]
            cand = [t for t in cand if col[t] >= lo and T - col[t] >= lo]
        for col in cols[7 + f : 7 + f + c]:
            T = col[0]
            cand = [t for t in cand if col[t] <= hi and T - col[t] <= hi]
        if not cand:
            return math.inf, -1
        zcols = [(col, col[0]) for col in cols[7 + f + c : 7 + f + c + h]]
        cw = self.compact_w
        N, TA, Tax, Tay, Taxx, Taa, Tzz = cnt[0], A[0], ax[0], ay[0], axx[0], aa[0], zz[0]
        best_cost = math.inf
        best_t = -1
        for t in cand:
            n1 = cnt[t]
            n2 = N - n1
            c1 = c2 = 0.0
            if h:
                s1 = s2 = 0.0
                for col, T in zcols:
                    v = col[t]
                    s1 += v * v
                    w = T - v
                    s2 += w * w
                c1 = zz[t] - s1 / n1
                if c1 < 0.0:
                    c1 = 0.0
                c2 = (Tzz - zz[t]) - s2 / n2
                if c2 < 0.0:
                    c2 = 0.0
            if cw:
                a1 = A[t]
                if a1 > 0.0:
                    x1 = ax[t]
                    y1 = ay[t]
                    inertia = axx[t] - (x1 * x1 + y1 * y1) / a1 + aa[t] / TWO_PI
                    c1 += cw * n1 * TWO_PI * inertia / (a1 * a1)
                a2 = TA - a1
                if a2 > 0.0:
                    x2 = Tax - ax[t]
                    y2 = Tay - ay[t]
                    inertia = (Taxx - axx[t]) - (x2 * x2 + y2 * y2) / a2 + (Taa - aa[t]) / TWO_PI
                    c2 += cw * n2 * TWO_PI * inertia / (a2 * a2)
            if c1 + c2 < best_cost:
                best_cost = c1 + c2
                best_t = t
        return best_cost, best_t


def _push_edges(
    heap: list[tuple[float, int, int]],
    u: int,
    nbu: list[int],
    free: set[int],
    Z: list[tuple[float, ...]],
    h: int,
    noise: float,
    rnd: Callable[[], float],
) -> None:
    """Push the edges from ``u`` to the cells of ``free`` (not in the tree yet),
    weighted by the squared distance of their ``h`` attributes + ``noise`` × U(0, 1)."""
    zu = Z[u]
    for v in nbu:
        if v in free:
            w = noise * rnd()
            zv = Z[v]
            for j in range(h):
                d = zu[j] - zv[j]
                w += d * d
            heapq.heappush(heap, (w, v, u))


def _subtree(order: list[int], par: list[int], top: int) -> list[int]:
    """Cells of the subtree under position ``top`` (depth first, children in tree order)."""
    children: dict[int, list[int]] = {}
    for t in range(top + 1, len(par)):
        children.setdefault(par[t], []).append(t)
    side = []
    stack = [top]
    while stack:
        u = stack.pop()
        side.append(order[u])
        stack.extend(children.get(u, ()))
    return side
