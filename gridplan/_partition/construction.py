"""Construction: regions grown from seed cells, enclaves absorbed (steps 1-2)."""

from __future__ import annotations

import heapq
import math
import random
from collections import deque
from collections.abc import Callable, Iterable, Sequence

from gridplan._partition.state import SolverState
from gridplan._partition.task import EPS, _Grow

#: Scores of a frontier sample: (best completing cell, its score, best other cell, cells over
#: a ceiling).
Scores = tuple[int, float, int, list[int]]
#: The same without ceilings: (best completing cell, its score, best other cell).
OpenScores = tuple[int, float, int]
#: Label of the cells of a region grown by :meth:`Construction.construct` until the
#: regions are created at its end (taken, like a region's cells, for later growths).
TAKEN = -4


class Construction(SolverState):
    """Region growing (:meth:`construct`) and enclave absorption (:meth:`absorb`)."""

    def construct(
        self,
        cells: list[int],
        g: _Grow,
        rng: random.Random,
        target: int = 0,
        totals: list[float] | None = None,
        degrees: dict[int, int] | None = None,
    ) -> list[int]:
        """Grow regions over ``cells`` (all with label -1); return the new region ids.

        Cells of failed growths get label -2 (enclave); call :meth:`absorb` after.
        ``target`` > 0: stop as soon as ``target`` regions are out of reach (the
        regions grown so far plus the floor value of the cells not grown yet, every
        new region taking at least 1 of each floor column) and return no region;
        the cells of ``cells`` are then left with labels < 0 (the caller restores them).
        ``totals``: the floor sums of ``cells`` when the caller knows them;
        ``degrees``: their free neighbours (:meth:`free_degrees`), likewise.
        """
        lab = self.label
        nb = self.neighbours
        if not self.n_floors:
            target = 0
        left: list[float] = []
        if target > 0:
            left = list(totals) if totals is not None else self._floor_totals(cells)
        rem = dict(degrees) if degrees is not None else self.free_degrees(cells)
        rnd = rng.random
        jit = g.jitter
        heap = [(d + jit * rnd(), d, i) for i, d in rem.items()]
        heapq.heapify(heap)
        hpop = heapq.heappop
        hpush = heapq.heappush
        grow = self._grow_scalar if self.scalar else self._grow
        # regions are created at the end (a rebuild that falls short creates none)
        grown_regions: list[list[int]] = []
        while heap:
            _, d, s = hpop(heap)
            if lab[s] != -1 or rem[s] != d:
                continue
            grown, ok, blocked = grow(s, g, rng)
            if not ok and blocked:
                # the floors cannot be met within the ceilings here: floors are hard,
                # ceilings soft -> a region a little over a ceiling (reported, then
                # repaired where possible) rather than enclaves swallowed by a neighbour
                grown, ok, _ = self._grow(s, g, rng, soft=True)
            if ok:
                grown_regions.append(grown)
            tag = TAKEN if ok else -2
            for i in grown:
                lab[i] = tag
            for i in grown:
                for k in nb[i]:
                    if lab[k] == -1:
                        dk = rem[k] - 1
                        rem[k] = dk
                        hpush(heap, (dk + jit * rnd(), dk, k))
            if target > 0 and self._out_of_reach(left, grown, len(grown_regions), target):
                return []  # the rest of the construction cannot change that
        if len(grown_regions) < target:
            return []
        return [self._new_region(grown) for grown in grown_regions]

    def free_degrees(self, cells: list[int]) -> dict[int, int]:
        """Free neighbours (label -1) of every cell of ``cells``, in their order."""
        lab = self.label
        nb = self.neighbours
        rem = {}
        for i in cells:
            d = 0
            for k in nb[i]:
                if lab[k] == -1:
                    d += 1
            rem[i] = d
        return rem

    def _floor_totals(self, cells: list[int]) -> list[float]:
        """Sum of every floor column over ``cells``."""
        U = self.floors
        f = self.n_floors
        tot = [0.0] * f
        for i in cells:
            ui = U[i]
            for j in range(f):
                tot[j] += ui[j]
        return tot

    def _out_of_reach(self, left: list[float], grown: list[int], n_new: int, target: int) -> bool:
        """Take ``grown`` off the floor value ``left`` (updated in place); True when
        ``n_new`` regions plus one per whole floor still left are below ``target``."""
        U = self.floors
        f = self.n_floors
        for i in grown:
            ui = U[i]
            for j in range(f):
                left[j] -= ui[j]
        return n_new + math.floor(min(left) + EPS) < target

    def _start_frontier(self, s: int) -> dict[int, int]:
        """Frontier of a growth from ``s``: free neighbour → edges to the region."""
        lab = self.label
        frontier: dict[int, int] = {}
        for k in self.neighbours[s]:
            if lab[k] == -1:
                frontier[k] = frontier.get(k, 0) + 1
        return frontier

    def _grow(
        self, s: int, g: _Grow, rng: random.Random, soft: bool = False
    ) -> tuple[list[int], bool, bool]:
        """Grow one region from ``s``: (cells, floors met, blocked by a ceiling).

        ``soft`` ignores the ceilings and the diameter. A seed that meets every
        floor alone is a region at once (often the case with small floors: no
        frontier and no scorer made for it); else :meth:`_grow_from`.
        """
        if _open_need([1.0 - v for v in self.floors[s]]) <= 0.0:
            return [s], True, False
        if self.n_homog <= 1 and (soft or self.ceilings is None):
            return self._grow_open(s, g, rng, None if soft else self.max_diam_sq)
        return self._grow_from(s, g, rng, soft)

    def _grow_from(
        self, s: int, g: _Grow, rng: random.Random, soft: bool
    ) -> tuple[list[int], bool, bool]:
        """:meth:`_grow` of a seed that does not meet its floors alone.

        Each step scores a sample of the frontier (:meth:`_frontier_scorer`), takes
        the completing cell with the least overshoot when it is within ``tau``,
        else the best-scored one.
        """
        lab = self.label
        nb = self.neighbours
        U, C, Z, X, Y, AR = self.floors, self.ceilings, self.homog, self.xs, self.ys, self.areas
        f, c, h = self.n_floors, self.n_ceils, self.n_homog
        D2 = self.max_diam_sq
        if soft:
            C = None
            D2 = None
        TAG = -3  # being grown
        lab[s] = TAG
        R = [s]
        need = [1.0 - v for v in U[s]]
        Cs = list(C[s]) if C is not None else []
        zs = list(Z[s]) if Z is not None else []
        a0 = AR[s]
        A = a0
        ax = a0 * X[s]
        ay = a0 * Y[s]
        box = [X[s], X[s], Y[s], Y[s]]  # min x, max x, min y, max y (diameter test)
        frontier = self._start_frontier(s)
        banned: set[int] = set()
        tau = g.tau
        sample = self.task.params.frontier_sample
        score = self._frontier_scorer(need, Cs, zs, g, rng, C)
        while True:
            open_need = _open_need(need)
            if open_need <= 0.0:
                break
            if len(frontier) > sample:
                # large frontier: a random sample keeps a step O(1) (deterministic rng)
                keys = rng.sample(list(frontier), sample)
                items = [(k, frontier[k]) for k in keys]
            else:
                items = list(frontier.items())
            best_c, best_w, best_n, over = score(
                items, open_need, len(R), ax / A, ay / A, A / math.pi + 1.0
            )
            for k in over:
                del frontier[k]
                banned.add(k)
            if best_c >= 0 and (best_n < 0 or best_w <= tau):
                pick = best_c
            elif best_n >= 0:
                pick = best_n
            elif frontier:
                continue  # the sample held only cells over a ceiling: sample again
            else:
                # nothing left to grow into
                for i in R:
                    lab[i] = -1
                return R, False, bool(banned)
            del frontier[pick]
            if (C is not None or D2 is not None) and not self._pick_fits(pick, R, Cs, C, D2, box):
                banned.add(pick)
                continue
            lab[pick] = TAG
            R.append(pick)
            up = U[pick]
            for j in range(f):
                need[j] -= up[j]
            if C is not None:
                cp = C[pick]
                for j in range(c):
                    Cs[j] += cp[j]
            if Z is not None:
                zp = Z[pick]
                for j in range(h):
                    zs[j] += zp[j]
            ap = AR[pick]
            A += ap
            ax += ap * X[pick]
            ay += ap * Y[pick]
            if D2 is not None:
                _extend_box(box, X[pick], Y[pick])
            for k in nb[pick]:
                if lab[k] == -1 and k not in banned:
                    frontier[k] = frontier.get(k, 0) + 1
        for i in R:
            lab[i] = -1
        return R, True, bool(banned)

    def _grow_open(
        self, s: int, g: _Grow, rng: random.Random, D2: float | None
    ) -> tuple[list[int], bool, bool]:
        """:meth:`_grow_from` without sum ceilings (none, or ``soft``) and with at most
        one attribute (e.g. the demo cities: two floors, one attribute): the same
        cells and random draws, with the scoring of :meth:`_open_scorer`."""
        lab = self.label
        nb = self.neighbours
        U, X, Y, AR, Z1 = self.floors, self.xs, self.ys, self.areas, self.homog1
        f = self.n_floors
        TAG = -3  # being grown
        lab[s] = TAG
        R = [s]
        need = [1.0 - v for v in U[s]]
        zs = Z1[s] if Z1 is not None else 0.0
        A = AR[s]
        ax = A * X[s]
        ay = A * Y[s]
        box = [X[s], X[s], Y[s], Y[s]]  # min x, max x, min y, max y (diameter test)
        frontier = self._start_frontier(s)
        banned: set[int] = set()
        tau = g.tau
        sample = self.task.params.frontier_sample
        sample_k = rng.sample
        score = self._open_scorer(need, g, rng)
        pi = math.pi
        while True:
            open_need = 0.0
            for v in need:
                if v > EPS:
                    open_need += v
            if open_need <= 0.0:
                break
            if len(frontier) > sample:
                # large frontier: a random sample keeps a step O(1) (deterministic rng)
                items = [(k, frontier[k]) for k in sample_k(list(frontier), sample)]
            else:
                items = frontier.items()
            best_c, best_w, best_n = score(
                items, open_need, zs / len(R), ax / A, ay / A, A / pi + 1.0
            )
            if best_c >= 0 and (best_n < 0 or best_w <= tau):
                pick = best_c
            elif best_n >= 0:
                pick = best_n
            else:  # nothing left to grow into
                for i in R:
                    lab[i] = -1
                return R, False, bool(banned)
            del frontier[pick]
            if D2 is not None and not self._pick_fits(pick, R, [], None, D2, box):
                banned.add(pick)
                continue
            lab[pick] = TAG
            R.append(pick)
            up = U[pick]
            for j in range(f):
                need[j] -= up[j]
            if Z1 is not None:
                zs += Z1[pick]
            ap = AR[pick]
            A += ap
            ax += ap * X[pick]
            ay += ap * Y[pick]
            if D2 is not None:
                _extend_box(box, X[pick], Y[pick])
            for k in nb[pick]:
                if lab[k] == -1 and k not in banned:
                    frontier[k] = frontier.get(k, 0) + 1
        for i in R:
            lab[i] = -1
        return R, True, bool(banned)

    def _open_scorer(
        self, need: list[float], g: _Grow, rng: random.Random
    ) -> Callable[[Iterable[tuple[int, int]], float, float, float, float, float], OpenScores]:
        """The scoring of :meth:`_frontier_scorer` for :meth:`_grow_open` (no sum
        ceiling, at most one attribute), as a closure made once per growth.

        ``need`` is the growth's own list (floor fractions still missing, updated in
        place). The closure takes ``(items, open need, attribute mean of the region,
        centroid x, y, squared radius + 1)`` (cell units) and returns ``(best
        completing cell, its overshoot score, best other cell)``, -1 for none; it
        draws one random number per non-completing cell, like :meth:`_frontier_scorer`.
        """
        if self.n_floors == 2:
            return self._two_floor_scorer(need, g, rng)
        U, X, Y, Z1 = self.floors, self.xs, self.ys, self.homog1
        has_xy = self.has_xy
        rnd = rng.random
        noise, dist_w, gain_w = g.noise, g.dist_w, g.gain_w
        homog_w = g.homog_w if Z1 is not None else 0.0
        inf = math.inf

        def score(
            items: Iterable[tuple[int, int]],
            open_need: float,
            zmean: float,
            cx: float,
            cy: float,
            rad2: float,
        ) -> OpenScores:
            # the closure's cells as fast locals for the loop below
            U_, X_, Y_, Z_, has_xy_, rnd_, homog_w_ = U, X, Y, Z1, has_xy, rnd, homog_w
            noise_, dist_w_, gain_w_ = noise, dist_w, gain_w
            opn = [(j, v) for j, v in enumerate(need) if v > EPS]
            best_c = -1
            best_w = inf
            best_n = -1
            best_s = -inf
            for k, conn in items:
                uk = U_[k]
                compl = True
                waste = 0.0
                gain = 0.0
                for j, nj in opn:
                    v = uk[j]
                    if v + EPS < nj:
                        compl = False
                        gain += v
                    else:
                        waste += v - nj
                        gain += nj
                if has_xy_:
                    dx = X_[k] - cx
                    dy = Y_[k] - cy
                    d2 = (dx * dx + dy * dy) / rad2
                else:
                    d2 = 0.0
                if compl:
                    w = waste - 0.02 * conn + 0.02 * d2
                    if w < best_w:
                        best_w = w
                        best_c = k
                else:
                    sc = conn + gain_w_ * gain / open_need - dist_w_ * d2 + noise_ * rnd_()
                    if homog_w_:
                        t = Z_[k] - zmean  # type: ignore[index]
                        sc -= homog_w_ * (t * t)
                    if sc > best_s:
                        best_s = sc
                        best_n = k
            return best_c, best_w, best_n

        return score

    def _two_floor_scorer(
        self, need: list[float], g: _Grow, rng: random.Random
    ) -> Callable[[Iterable[tuple[int, int]], float, float, float, float, float], OpenScores]:
        """:meth:`_open_scorer` for two floors (the demo cities' population and
        customers), the floor tests written out: the same scores."""
        U, X, Y, Z1 = self.floors, self.xs, self.ys, self.homog1
        has_xy = self.has_xy
        rnd = rng.random
        noise, dist_w, gain_w = g.noise, g.dist_w, g.gain_w
        homog_w = g.homog_w if Z1 is not None else 0.0
        inf = math.inf

        def score(
            items: Iterable[tuple[int, int]],
            open_need: float,
            zmean: float,
            cx: float,
            cy: float,
            rad2: float,
        ) -> OpenScores:
            # the closure's cells as fast locals for the loop below
            U_, X_, Y_, Z_, has_xy_, rnd_, homog_w_ = U, X, Y, Z1, has_xy, rnd, homog_w
            noise_, dist_w_, gain_w_ = noise, dist_w, gain_w
            n0 = need[0]
            n1 = need[1]
            o0 = n0 > EPS
            o1 = n1 > EPS
            best_c = -1
            best_w = inf
            best_n = -1
            best_s = -inf
            for k, conn in items:
                uk = U_[k]
                compl = True
                waste = 0.0
                gain = 0.0
                if o0:
                    v = uk[0]
                    if v + EPS < n0:
                        compl = False
                        gain += v
                    else:
                        waste += v - n0
                        gain += n0
                if o1:
                    v = uk[1]
                    if v + EPS < n1:
                        compl = False
                        gain += v
                    else:
                        waste += v - n1
                        gain += n1
                if has_xy_:
                    dx = X_[k] - cx
                    dy = Y_[k] - cy
                    d2 = (dx * dx + dy * dy) / rad2
                else:
                    d2 = 0.0
                if compl:
                    w = waste - 0.02 * conn + 0.02 * d2
                    if w < best_w:
                        best_w = w
                        best_c = k
                else:
                    sc = conn + gain_w_ * gain / open_need - dist_w_ * d2 + noise_ * rnd_()
                    if homog_w_:
                        t = Z_[k] - zmean  # type: ignore[index]
                        sc -= homog_w_ * (t * t)
                    if sc > best_s:
                        best_s = sc
                        best_n = k
            return best_c, best_w, best_n

        return score

    def _frontier_scorer(
        self,
        need: list[float],
        Cs: list[float],
        zs: list[float],
        g: _Grow,
        rng: random.Random,
        C: list[tuple[float, ...]] | None,
    ) -> Callable[[Sequence[tuple[int, int]], float, int, float, float, float], Scores]:
        """The scoring of one growth's frontier samples, as a closure made once per
        growth (the growth loop is hot: the constants stay bound, no attribute lookups).

        ``need`` (floor fractions still missing), ``Cs`` and ``zs`` (the region's
        ceiling and attribute sums) are the growth's own lists, updated in place.
        The closure takes ``(items, open need, region cells, centroid x, y, squared
        radius + 1)`` (cell units) and returns ``(best completing cell, its overshoot
        score, best other cell, cells over a ceiling)``, -1 for none; it draws one
        random number per non-completing cell.
        """
        U, Z, X, Y = self.floors, self.homog, self.xs, self.ys
        f, c, h = self.n_floors, self.n_ceils, self.n_homog
        has_xy = self.has_xy
        rnd = rng.random
        noise, dist_w, gain_w = g.noise, g.dist_w, g.gain_w
        homog_w = g.homog_w if h else 0.0
        inf = math.inf

        def score(
            items: Sequence[tuple[int, int]],
            open_need: float,
            nR: int,
            cx: float,
            cy: float,
            rad2: float,
        ) -> Scores:
            # the closure's cells as fast locals for the loop below
            U_, Z_, X_, Y_, C_, need_, Cs_, zs_ = U, Z, X, Y, C, need, Cs, zs
            f_, c_, h_, has_xy_, rnd_, homog_w_ = f, c, h, has_xy, rnd, homog_w
            noise_, dist_w_, gain_w_ = noise, dist_w, gain_w
            best_c = -1
            best_w = inf
            best_n = -1
            best_s = -inf
            over: list[int] = []
            for k, conn in items:
                if C_ is not None:
                    # ceilings only grow with the region: a cell over one now stays over
                    ck = C_[k]
                    if any(Cs_[j] + ck[j] > 1.0 + EPS for j in range(c_)):
                        over.append(k)
                        continue
                uk = U_[k]
                compl = True
                waste = 0.0
                gain = 0.0
                for j in range(f_):
                    nj = need_[j]
                    if nj > EPS:
                        v = uk[j]
                        if v + EPS < nj:
                            compl = False
                            gain += v
                        else:
                            waste += v - nj
                            gain += nj
                if has_xy_:
                    dx = X_[k] - cx
                    dy = Y_[k] - cy
                    d2 = (dx * dx + dy * dy) / rad2
                else:
                    d2 = 0.0
                if compl:
                    w = waste - 0.02 * conn + 0.02 * d2
                    if w < best_w:
                        best_w = w
                        best_c = k
                else:
                    sc = conn + gain_w_ * gain / open_need - dist_w_ * d2 + noise_ * rnd_()
                    if homog_w_:
                        zk = Z_[k]
                        e = 0.0
                        for j in range(h_):
                            t = zk[j] - zs_[j] / nR
                            e += t * t
                        sc -= homog_w_ * e
                    if sc > best_s:
                        best_s = sc
                        best_n = k
            return best_c, best_w, best_n, over

        return score

    def _pick_fits(
        self,
        pick: int,
        R: list[int],
        Cs: list[float],
        C: list[tuple[float, ...]] | None,
        D2: float | None,
        box: list[float],
    ) -> bool:
        """Can ``pick`` join the growing region ``R`` (ceiling sums ``Cs``, bounding
        ``box``) within the ceilings ``C`` and the squared diameter ``D2``?"""
        if C is not None:
            cp = C[pick]
            for j in range(self.n_ceils):
                if Cs[j] + cp[j] > 1.0 + EPS:
                    return False
        if D2 is not None:
            X, Y = self.xs, self.ys
            xp = X[pick]
            yp = Y[pick]
            bx = max(box[1], xp) - min(box[0], xp)
            by = max(box[3], yp) - min(box[2], yp)
            if bx * bx + by * by > D2:
                for q in R:
                    dx = X[q] - xp
                    dy = Y[q] - yp
                    if dx * dx + dy * dy > D2 * (1.0 + EPS):
                        return False
        return True

    def _grow_scalar(self, s: int, g: _Grow, rng: random.Random) -> tuple[list[int], bool, bool]:
        """:meth:`_grow` for one floor, no sum ceiling and at most one attribute.

        The common case, on scalars instead of tuples (constructions about 30 %
        faster, measured on the NYC tracts); it draws the same random numbers and
        picks the same cells as :meth:`_grow` (up to rounding in the scores).
        """
        U1 = self.floor1
        if 1.0 - U1[s] <= EPS:  # the seed alone meets the floor: a region at once
            return [s], True, False
        lab = self.label
        nb = self.neighbours
        Z1, X, Y, AR = self.homog1, self.xs, self.ys, self.areas
        D2 = self.max_diam_sq
        has_xy = self.has_xy
        rnd = rng.random
        sample_k = rng.sample
        TAG = -3  # being grown
        lab[s] = TAG
        R = [s]
        need = 1.0 - U1[s]
        zs = Z1[s] if Z1 is not None else 0.0
        a0 = AR[s]
        A = a0
        ax = a0 * X[s]
        ay = a0 * Y[s]
        minx = maxx = X[s]
        miny = maxy = Y[s]
        frontier = self._start_frontier(s)
        banned: set[int] = set()
        tau, noise, dist_w, gain_w = g.tau, g.noise, g.dist_w, g.gain_w
        sample = self.task.params.frontier_sample
        homog_w = g.homog_w if Z1 is not None else 0.0
        inf = math.inf
        pi = math.pi
        while need > EPS:
            best_c = -1
            best_w = inf
            best_n = -1
            best_s = -inf
            cx = ax / A
            cy = ay / A
            inv_rad2 = 1.0 / (A / pi + 1.0)
            zmean = zs / len(R)
            g_need = gain_w / need
            if len(frontier) > sample:
                keys = sample_k(list(frontier), sample)
                items = [(k, frontier[k]) for k in keys]
            else:
                items = frontier.items()
            for k, conn in items:
                v = U1[k]
                if has_xy:
                    dx = X[k] - cx
                    dy = Y[k] - cy
                    d2 = (dx * dx + dy * dy) * inv_rad2
                else:
                    d2 = 0.0
                if v + EPS >= need:
                    w = v - need - 0.02 * conn + 0.02 * d2
                    if w < best_w:
                        best_w = w
                        best_c = k
                else:
                    sc = conn + g_need * v - dist_w * d2 + noise * rnd()
                    if homog_w:
                        t = Z1[k] - zmean
                        sc -= homog_w * t * t
                    if sc > best_s:
                        best_s = sc
                        best_n = k
            if best_c >= 0 and (best_n < 0 or best_w <= tau):
                pick = best_c
            elif best_n >= 0:
                pick = best_n
            else:
                # nothing left to grow into
                for i in R:
                    lab[i] = -1
                return R, False, bool(banned)
            del frontier[pick]
            xp = X[pick]
            yp = Y[pick]
            if D2 is not None:
                if not _within_diameter(R, X, Y, xp, yp, D2, minx, maxx, miny, maxy):
                    banned.add(pick)
                    continue
                minx = min(minx, xp)
                maxx = max(maxx, xp)
                miny = min(miny, yp)
                maxy = max(maxy, yp)
            lab[pick] = TAG
            R.append(pick)
            need -= U1[pick]
            if Z1 is not None:
                zs += Z1[pick]
            ap = AR[pick]
            A += ap
            ax += ap * xp
            ay += ap * yp
            for k in nb[pick]:
                if lab[k] == -1 and k not in banned:
                    frontier[k] = frontier.get(k, 0) + 1
        for i in R:
            lab[i] = -1
        return R, True, bool(banned)

    def absorb(self, cells: list[int], allowed: set[int] | None = None) -> bool:
        """Join every cell of ``cells`` with a negative label to an adjacent region.

        Breadth-first from the regions; each cell goes to the adjacent region whose
        cost grows least, preferring regions whose ceilings still hold. Returns
        False when some cell could not be reached (no region in its part).
        """
        lab = self.label
        nb = self.neighbours
        queue: deque[int] = deque()
        for i in cells:
            if lab[i] < 0:
                for k in nb[i]:
                    r = lab[k]
                    if r >= 0 and (allowed is None or r in allowed):
                        queue.append(i)
                        break
        queued = set(queue)
        while queue:
            i = queue.popleft()
            if lab[i] >= 0:
                continue
            best = -1
            best_key = (True, math.inf)
            best_cost = 0.0
            for k in nb[i]:
                r = lab[k]
                if r < 0 or (allowed is not None and r not in allowed):
                    continue
                nc = self._cost_with(r, i, +1)
                key = (not self._fits_ceilings(r, i), nc - self.r_cost[r])
                if key < best_key:
                    best_key = key
                    best = r
                    best_cost = nc
            if best < 0:
                continue
            self._attach(i, best, best_cost)
            for k in nb[i]:
                if lab[k] < 0 and k not in queued:
                    queued.add(k)
                    queue.append(k)
        return all(lab[i] >= 0 for i in cells)


def _open_need(need: list[float]) -> float:
    """Sum of the floor fractions still missing (left to right, like the growth always
    did; not ``sum()``, whose float summation differs from Python 3.12 on)."""
    open_need = 0.0
    for v in need:
        if v > EPS:
            open_need += v
    return open_need


def _extend_box(box: list[float], x: float, y: float) -> None:
    """Widen the bounding ``box`` ``[min x, max x, min y, max y]`` to hold ``(x, y)``."""
    box[0] = min(box[0], x)
    box[1] = max(box[1], x)
    box[2] = min(box[2], y)
    box[3] = max(box[3], y)


def _within_diameter(
    R: list[int],
    X: list[float],
    Y: list[float],
    xp: float,
    yp: float,
    D2: float,
    minx: float,
    maxx: float,
    miny: float,
    maxy: float,
) -> bool:
    """Is every cell of ``R`` within ``sqrt(D2)`` of ``(xp, yp)``? The bounding box
    ``minx..maxy`` of ``R`` answers without the loop when it is small enough."""
    bx = max(maxx, xp) - min(minx, xp)
    by = max(maxy, yp) - min(miny, yp)
    if bx * bx + by * by > D2:
        lim = D2 * (1.0 + EPS)
        if any((X[q] - xp) ** 2 + (Y[q] - yp) ** 2 > lim for q in R):
            return False
    return True
