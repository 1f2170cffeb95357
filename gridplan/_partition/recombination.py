"""Merge-and-split of adjacent region pairs along random spanning trees (step 4)."""

from __future__ import annotations

import heapq
import math
import random

from gridplan._partition.state import SolverState
from gridplan._partition.task import EPS


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
                    got = self._best_tree_split(cells, rng, prm.recombine_noise)
                    if got is None or got[0] >= before - 1e-9:
                        continue
                    side = got[1]
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
        self, cells: list[int], rng: random.Random, noise: float
    ) -> tuple[float, list[int]] | None:
        """Best cut of a spanning tree of ``cells`` into two parts meeting the floors.

        The tree is a minimum spanning tree for attribute distance plus ``noise`` ×
        a random term, so cuts follow attribute edges. Every tree edge is tried
        with subtree sums (linear time). Returns ``(cost, one side)`` or None.
        """
        tree = self._spanning_tree(cells, rng, noise)
        if tree is None:
            return None
        parent, order = tree
        sub = self._subtree_sums(order, parent)
        best_cost, best_v = self._best_cut(order, sub)
        if best_v < 0:
            return None
        return best_cost, _subtree(order, parent, best_v)

    def _spanning_tree(
        self, cells: list[int], rng: random.Random, noise: float
    ) -> tuple[dict[int, int], list[int]] | None:
        """Prim's minimum spanning tree of ``cells`` from a random root: ``(parent of
        every cell (root: -1), cells in the order they joined)``; None when ``cells``
        are not connected. Edge weight: squared attribute distance + ``noise`` × U(0, 1)."""
        nb = self.neighbours
        inU = set(cells)
        Z = self.homog
        h = self.n_homog
        rnd = rng.random
        root = cells[rng.randrange(len(cells))]
        parent = {root: -1}
        order = [root]
        heap: list[tuple[float, int, int]] = []

        def push(u: int) -> None:
            zu = Z[u] if h else None
            for v in nb[u]:
                if v in inU and v not in parent:
                    w = noise * rnd()
                    if zu is not None:
                        zv = Z[v]
                        for j in range(h):
                            d = zu[j] - zv[j]
                            w += d * d
                    heapq.heappush(heap, (w, v, u))

        push(root)
        while heap:
            _, v, u = heapq.heappop(heap)
            if v in parent:
                continue
            parent[v] = u
            order.append(v)
            push(v)
        if len(order) != len(cells):
            return None
        return parent, order

    def _subtree_sums(self, order: list[int], parent: dict[int, int]) -> dict[int, list]:
        """Sums of every subtree (children before parents): ``[cells, floor sums,
        ceiling sums, attribute sums, Σ z², Σ a, Σ a·x, Σ a·y, Σ a·(x²+y²), Σ a²]``."""
        U, C, Z, ZZ, X, Y, AR = (
            self.floors,
            self.ceilings,
            self.homog,
            self.homog_sq,
            self.xs,
            self.ys,
            self.areas,
        )
        f, c, h = self.n_floors, self.n_ceils, self.n_homog
        sub: dict[int, list] = {}
        for v in order:
            a = AR[v]
            x = X[v]
            y = Y[v]
            sub[v] = [
                1,
                list(U[v]),
                list(C[v]) if C is not None else [],
                list(Z[v]) if h else [],
                ZZ[v],
                a,
                a * x,
                a * y,
                a * (x * x + y * y),
                a * a,
            ]
        for v in reversed(order[1:]):
            sv = sub[v]
            sp = sub[parent[v]]
            sp[0] += sv[0]
            for j in range(f):
                sp[1][j] += sv[1][j]
            for j in range(c):
                sp[2][j] += sv[2][j]
            for j in range(h):
                sp[3][j] += sv[3][j]
            for j in range(4, 10):
                sp[j] += sv[j]
        return sub

    def _best_cut(self, order: list[int], sub: dict[int, list]) -> tuple[float, int]:
        """The tree edge (given by its child cell) whose cut leaves two sides meeting
        the floors and ceilings at the lowest total cost: ``(cost, cell)``, cell -1
        for none."""
        f, c = self.n_floors, self.n_ceils
        tot = sub[order[0]]
        best_cost = math.inf
        best_v = -1
        lo = 1.0 - EPS
        hi = 1.0 + EPS
        cost = self._cost
        for v in order[1:]:
            sv = sub[v]
            ok = True
            for j in range(f):
                if sv[1][j] < lo or tot[1][j] - sv[1][j] < lo:
                    ok = False
                    break
            if not ok:
                continue
            for j in range(c):
                if sv[2][j] > hi or tot[2][j] - sv[2][j] > hi:
                    ok = False
                    break
            if not ok:
                continue
            c1 = cost(sv[0], sv[3], sv[4], sv[5], sv[6], sv[7], sv[8], sv[9])
            z2 = [t - q for t, q in zip(tot[3], sv[3], strict=True)]
            c2 = cost(
                tot[0] - sv[0],
                z2,
                tot[4] - sv[4],
                tot[5] - sv[5],
                tot[6] - sv[6],
                tot[7] - sv[7],
                tot[8] - sv[8],
                tot[9] - sv[9],
            )
            if c1 + c2 < best_cost:
                best_cost = c1 + c2
                best_v = v
        return best_cost, best_v


def _subtree(order: list[int], parent: dict[int, int], top: int) -> list[int]:
    """Cells of the subtree under ``top`` (depth first, children in tree order)."""
    children: dict[int, list[int]] = {}
    for v in order[1:]:
        children.setdefault(parent[v], []).append(v)
    side = []
    stack = [top]
    while stack:
        u = stack.pop()
        side.append(u)
        stack.extend(children.get(u, ()))
    return side
