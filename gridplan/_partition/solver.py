"""The per-component max-p solver (pure Python on lists; no geometry, no I/O).

One :class:`ComponentTask` holds the arrays of one connected set of free cells in
*local* indices ``0..m-1``, already normalised by the orchestrator in
:mod:`gridplan._partition.core`:

- ``floors`` ``(m, f)``: each floor column divided by its minimum, so a region meets
  its floors when every column sums to at least ``1``;
- ``ceilings`` ``(m, c)``: each ceiling column divided by its maximum (region sum
  must stay ``<= 1``);
- ``homog`` ``(m, h)``: standardised attributes already multiplied by
  ``sqrt(weight)``, so heterogeneity is the plain sum of squared deviations;
- ``x``, ``y``, ``area``: centroid coordinates and areas in *cell units* (metres
  divided by the square root of the mean cell area, centred on the component), so
  sums stay well conditioned; ``max_diameter`` in the same unit.

Objective of a region ``r`` (lower is better)::

    cost(r) = SSD(r) + w_c * n_r * kappa(r)
    SSD(r)  = sum_i sum_h (z_ih - mean_rh)^2          (within-region heterogeneity)
    kappa(r) = 2*pi * I_r / A_r^2                     (normalised moment of inertia)
    I_r = sum_i a_i * |p_i - c_r|^2 + sum_i a_i^2 / (2*pi)

``kappa`` is 1.0 for a disc (and for a single cell: the second sum is the cell's own
moment of inertia, approximated as a disc of the same area), about 1.05 for a
square and grows with elongation. Weighting it by the region's cell count puts it
on the same per-cell scale as the heterogeneity.

Algorithm (see :func:`solve_component`):

1. **Construction** (several randomised runs). Seeds are taken from the free cells
   with the fewest free neighbours (corners, edges, cells next to finished
   regions), so the assigned area advances like a front and leaves few enclaves.
   A region grows by always taking the frontier cell that best keeps it compact
   (most edges to the region, close to its centroid, similar attributes) until one
   candidate can complete every floor with an overshoot at most ``tau`` (a fraction
   of the floor; randomised per run) — small overshoot leaves more value for other
   regions, i.e. more regions. A growth that runs out of cells marks its cells as
   an enclave (their value is below the floor anyway).
2. **Enclaves** are absorbed breadth-first into the adjacent region whose cost
   grows least (ceilings respected where possible).
3. **More regions** (large-neighbourhood search): for a region, grow a union with
   the adjacent region holding the most spare value, up to ``lns_max_regions``
   regions, until the union holds the value of ``k + 1`` regions plus 5 % (with
   less, 0 of 2,300 rebuilds on the benchmark instances succeeded; 2–3 % of
   those with 5–10 % do), and rebuild the union from
   scratch with a few randomised constructions; accept when it yields ``k + 1``
   (or more) valid regions and no ceiling that held is broken. Union growth is
   deterministic, so unions that failed and did not change are skipped in later
   passes. Repeated until a pass finds nothing or the pass budget ends.
4. **Merge and split** (lower cost at the same ``p``): two adjacent regions are
   merged, a minimum spanning tree of the union is drawn with attribute distance
   (+ noise) as edge weights, and every tree edge is tried as a cut with subtree
   sums (linear time): both sides are connected by construction; the cut that
   meets the floors and ceilings with the lowest cost replaces the pair if it is
   better. Pairs whose regions did not change since they were tried are skipped.
5. **Local search**: boundary cells move to an adjacent region when the total cost
   drops, while the donor keeps its floors and stays contiguous (search on the
   donor's own cells from one of the cell's neighbours in the donor, stopped as
   soon as all of them are reached; a cell with one such neighbour is a leaf and
   needs none) and the receiver keeps its ceilings and diameter.
   First-improvement passes (later passes only around regions that changed),
   then a short tabu phase that also takes the least-bad move among a few sampled
   boundary cells and returns to the best state seen (undo log).
6. Steps 3–5 run once more if step 3 found more regions after step 5.

The ``keep_best`` best constructions (most regions, then lowest cost) go through
step 3 (:func:`search_component`); the best outcome continues with steps 4–6
(:func:`improve`). The orchestrator may run these halves on different processes
and steps 4–6 on blocks of a component (:func:`polish_seams` then joins them).
All randomness comes from ``random.Random`` streams seeded by
``(seed, phase, construction number)``; the work is bounded by counts, never by
the clock, so the same inputs and seed give the same labels (also when the
phases run on different processes). The deadline is a safety net only: when it
is hit, the best solution so far is returned and the result carries
``hit_deadline``.
"""

from __future__ import annotations

import heapq
import math
import random
import time
from collections import deque
from dataclasses import dataclass, field

import numpy as np

EPS = 1e-9
TWO_PI = 2.0 * math.pi


@dataclass(frozen=True)
class SolverParams:
    """Work budget of one component (counts, not seconds, so results are reproducible)."""

    constructions: int = 8
    keep_best: int = 2  # constructions carried into the region-count search
    lns_passes: int = 4
    lns_tries: int = 4  # randomised rebuilds of one union
    lns_max_regions: int = 9  # largest union of regions rebuilt at once
    lns_max_cells: int = 200  # and no more cells than this (rebuild cost grows fast)
    frontier_sample: int = 16  # frontier cells scored per growth step, at most
    lns_min_slack: float = 0.05  # spare value (fraction of the floors) needed to try a union
    ls_passes: int = 12  # first-improvement passes of the local search
    tabu_moves_per_cell: float = 0.5  # tabu-phase length, moves per cell
    tabu_max_moves: int = 20_000  # and at most this many
    tabu_sample: int = 8  # boundary cells sampled per tabu move
    second_round: bool = True  # region-count search again after the local search
    recombine_sweeps: int = 8  # merge-and-split sweeps over adjacent region pairs
    recombine_max_cells: int = 400  # larger pairs are left to the cell moves
    recombine_noise: float = 0.5  # randomness of the spanning trees


@dataclass
class ComponentTask:
    """One component's arrays in local indices (picklable; see the module docstring)."""

    index: int
    indptr: np.ndarray
    indices: np.ndarray
    floors: np.ndarray  # (m, f)
    ceilings: np.ndarray | None  # (m, c)
    homog: np.ndarray | None  # (m, h)
    x: np.ndarray | None
    y: np.ndarray | None
    area: np.ndarray
    max_diameter: float | None
    compactness_weight: float
    seed: int
    deadline: float  # time.monotonic() value
    params: SolverParams = field(default_factory=SolverParams)


@dataclass
class ComponentResult:
    """Labels ``0..p-1`` in local indices plus what happened."""

    index: int
    labels: np.ndarray
    p: int
    objective: float
    hit_deadline: bool
    timing: dict[str, float]
    construction_p: list[int]


@dataclass(frozen=True)
class _Grow:
    """Randomised knobs of one construction."""

    tau: float  # accepted overshoot when completing a region (fraction of the floor)
    jitter: float  # randomness of the seed order (in units of free neighbours)
    noise: float  # randomness of the growth choice
    dist_w: float  # weight of the distance to the region's centroid
    gain_w: float  # preference for cells that cover much of the remaining need
    homog_w: float  # weight of attribute similarity


def _grow_profiles(rng: random.Random, k: int) -> _Grow:
    if k == 0:
        return _Grow(tau=0.25, jitter=0.3, noise=0.2, dist_w=0.5, gain_w=0.3, homog_w=0.3)
    return _Grow(
        tau=rng.choice((0.05, 0.1, 0.2, 0.3, 0.5, 0.8)),
        jitter=rng.uniform(0.0, 1.5),
        noise=rng.uniform(0.0, 0.8),
        dist_w=rng.uniform(0.0, 1.0),
        gain_w=rng.uniform(-0.5, 1.0),
        homog_w=rng.uniform(0.0, 0.6),
    )


class Solver:
    """Mutable partition state of one component plus the search operators."""

    def __init__(self, task: ComponentTask):
        self.task = task
        m = len(task.indptr) - 1
        self.m = m
        ip = task.indptr.tolist()
        ix = task.indices.tolist()
        self.nb: list[list[int]] = [ix[ip[i] : ip[i + 1]] for i in range(m)]
        self.f = task.floors.shape[1]
        self.U: list[tuple[float, ...]] = [tuple(r) for r in task.floors.tolist()]
        self.c = 0 if task.ceilings is None else task.ceilings.shape[1]
        self.C: list[tuple[float, ...]] | None = (
            None if task.ceilings is None else [tuple(r) for r in task.ceilings.tolist()]
        )
        self.h = 0 if task.homog is None else task.homog.shape[1]
        self.Z: list[tuple[float, ...]] | None = (
            None if task.homog is None else [tuple(r) for r in task.homog.tolist()]
        )
        self.ZZ: list[float] = (
            [0.0] * m if task.homog is None else (task.homog**2).sum(axis=1).tolist()
        )
        self.has_xy = task.x is not None and task.y is not None
        # scalar copies for the fast growth path (one floor, no sum ceiling, <= 1 attribute)
        self.scalar = self.f == 1 and self.C is None and self.h <= 1
        self.U1: list[float] = task.floors[:, 0].tolist() if self.f else []
        self.Z1: list[float] | None = task.homog[:, 0].tolist() if self.h == 1 else None
        self.X: list[float] = task.x.tolist() if self.has_xy else [0.0] * m
        self.Y: list[float] = task.y.tolist() if self.has_xy else [0.0] * m
        self.A: list[float] = task.area.tolist()
        self.cw = float(task.compactness_weight) if self.has_xy else 0.0
        d = task.max_diameter
        self.D2: float | None = None if d is None or not self.has_xy else float(d) ** 2
        self.deadline = task.deadline
        self.hit_deadline = False
        # partition state
        self.label: list[int] = [-1] * m
        self._reset_regions()

    # ------------------------------------------------------------------ regions
    def _reset_regions(self) -> None:
        self.alive: list[bool] = []
        self.members: list[set[int]] = []
        self.rn: list[int] = []
        self.rS: list[list[float]] = []
        self.rC: list[list[float]] = []
        self.rz: list[list[float]] = []
        self.rzz: list[float] = []
        self.rA: list[float] = []
        self.rax: list[float] = []
        self.ray: list[float] = []
        self.raxx: list[float] = []
        self.raa: list[float] = []
        self.rcost: list[float] = []
        self.n_alive = 0
        self._failed: set[frozenset[int]] = set()  # unions that could not be cut further

    def _new_region(self, cells: list[int]) -> int:
        r = len(self.alive)
        self.alive.append(True)
        self.members.append(set(cells))
        self.rn.append(len(cells))
        f, c, h = self.f, self.c, self.h
        S = [0.0] * f
        Cs = [0.0] * c
        z = [0.0] * h
        zz = A = ax = ay = axx = aa = 0.0
        U, C, Z, X, Y, AR, ZZ = self.U, self.C, self.Z, self.X, self.Y, self.A, self.ZZ
        lab = self.label
        for i in cells:
            lab[i] = r
            ui = U[i]
            for j in range(f):
                S[j] += ui[j]
            if C is not None:
                ci = C[i]
                for j in range(c):
                    Cs[j] += ci[j]
            if Z is not None:
                zi = Z[i]
                for j in range(h):
                    z[j] += zi[j]
                zz += ZZ[i]
            a = AR[i]
            A += a
            ax += a * X[i]
            ay += a * Y[i]
            axx += a * (X[i] * X[i] + Y[i] * Y[i])
            aa += a * a
        self.rS.append(S)
        self.rC.append(Cs)
        self.rz.append(z)
        self.rzz.append(zz)
        self.rA.append(A)
        self.rax.append(ax)
        self.ray.append(ay)
        self.raxx.append(axx)
        self.raa.append(aa)
        self.rcost.append(self._cost(len(cells), z, zz, A, ax, ay, axx, aa))
        self.n_alive += 1
        return r

    def _kill_region(self, r: int) -> None:
        if self.alive[r]:
            self.alive[r] = False
            self.n_alive -= 1
            self.members[r] = set()

    def _cost(
        self,
        n: int,
        z: list[float],
        zz: float,
        A: float,
        ax: float,
        ay: float,
        axx: float,
        aa: float,
    ) -> float:
        if n <= 0:
            return 0.0
        cost = 0.0
        if self.h:
            s = 0.0
            for v in z:
                s += v * v
            cost = zz - s / n
            if cost < 0.0:
                cost = 0.0
        if self.cw and A > 0.0:
            inertia = axx - (ax * ax + ay * ay) / A + aa / TWO_PI
            cost += self.cw * n * TWO_PI * inertia / (A * A)
        return cost

    def _cost_with(self, r: int, i: int, sign: int) -> float:
        """Cost of region ``r`` after adding (sign=+1) or removing (sign=-1) cell ``i``."""
        a = self.A[i]
        x = self.X[i]
        y = self.Y[i]
        if self.h:
            zi = self.Z[i]
            z = [v + sign * w for v, w in zip(self.rz[r], zi, strict=True)]
        else:
            z = self.rz[r]
        return self._cost(
            self.rn[r] + sign,
            z,
            self.rzz[r] + sign * self.ZZ[i],
            self.rA[r] + sign * a,
            self.rax[r] + sign * a * x,
            self.ray[r] + sign * a * y,
            self.raxx[r] + sign * a * (x * x + y * y),
            self.raa[r] + sign * a * a,
        )

    def _move(self, i: int, a: int, b: int, cost_a: float, cost_b: float) -> None:
        """Move cell ``i`` from region ``a`` to ``b`` (new costs given)."""
        self._detach(i, a, cost_a)
        self._attach(i, b, cost_b)

    def _detach(self, i: int, a: int, cost_a: float) -> None:
        ar = self.A[i]
        x = self.X[i]
        y = self.Y[i]
        self.members[a].discard(i)
        self.rn[a] -= 1
        S = self.rS[a]
        for j, v in enumerate(self.U[i]):
            S[j] -= v
        if self.C is not None:
            Cs = self.rC[a]
            for j, v in enumerate(self.C[i]):
                Cs[j] -= v
        if self.h:
            z = self.rz[a]
            for j, v in enumerate(self.Z[i]):
                z[j] -= v
            self.rzz[a] -= self.ZZ[i]
        self.rA[a] -= ar
        self.rax[a] -= ar * x
        self.ray[a] -= ar * y
        self.raxx[a] -= ar * (x * x + y * y)
        self.raa[a] -= ar * ar
        self.rcost[a] = cost_a

    def _attach(self, i: int, b: int, cost_b: float) -> None:
        ar = self.A[i]
        x = self.X[i]
        y = self.Y[i]
        self.label[i] = b
        self.members[b].add(i)
        self.rn[b] += 1
        S = self.rS[b]
        for j, v in enumerate(self.U[i]):
            S[j] += v
        if self.C is not None:
            Cs = self.rC[b]
            for j, v in enumerate(self.C[i]):
                Cs[j] += v
        if self.h:
            z = self.rz[b]
            for j, v in enumerate(self.Z[i]):
                z[j] += v
            self.rzz[b] += self.ZZ[i]
        self.rA[b] += ar
        self.rax[b] += ar * x
        self.ray[b] += ar * y
        self.raxx[b] += ar * (x * x + y * y)
        self.raa[b] += ar * ar
        self.rcost[b] = cost_b

    def _fits_ceilings(self, r: int, i: int) -> bool:
        if self.C is not None:
            for s, v in zip(self.rC[r], self.C[i], strict=True):
                if s + v > 1.0 + EPS:
                    return False
        if self.D2 is not None:
            xi = self.X[i]
            yi = self.Y[i]
            X, Y, D2 = self.X, self.Y, self.D2
            for k in self.members[r]:
                dx = X[k] - xi
                dy = Y[k] - yi
                if dx * dx + dy * dy > D2 * (1.0 + EPS):
                    return False
        return True

    def _within_ceilings(self, r: int) -> bool:
        """Does region ``r`` respect every ceiling and the diameter?"""
        if self.C is not None and any(v > 1.0 + EPS for v in self.rC[r]):
            return False
        if self.D2 is not None:
            X, Y, D2 = self.X, self.Y, self.D2 * (1.0 + EPS)
            mem = list(self.members[r])
            for a_i, i in enumerate(mem):
                xi, yi = X[i], Y[i]
                for j in mem[a_i + 1 :]:
                    dx = X[j] - xi
                    dy = Y[j] - yi
                    if dx * dx + dy * dy > D2:
                        return False
        return True

    def _keeps_floors(self, r: int, i: int) -> bool:
        return all(s - v >= 1.0 - EPS for s, v in zip(self.rS[r], self.U[i], strict=True))

    def total_cost(self) -> float:
        return sum(c for c, al in zip(self.rcost, self.alive, strict=True) if al)

    def _time_up(self) -> bool:
        if time.monotonic() > self.deadline:
            self.hit_deadline = True
            return True
        return False

    # ------------------------------------------------------------ construction
    def construct(self, cells: list[int], g: _Grow, rng: random.Random) -> list[int]:
        """Grow regions over ``cells`` (all with label -1); return the new region ids.

        Cells of failed growths get label -2 (enclave); call :meth:`absorb` after.
        """
        lab = self.label
        nb = self.nb
        rem = {}
        for i in cells:
            d = 0
            for k in nb[i]:
                if lab[k] == -1:
                    d += 1
            rem[i] = d
        rnd = rng.random
        jit = g.jitter
        heap = [(d + jit * rnd(), d, i) for i, d in rem.items()]
        heapq.heapify(heap)
        new: list[int] = []
        while heap:
            _, d, s = heapq.heappop(heap)
            if lab[s] != -1 or rem[s] != d:
                continue
            if self.scalar:
                grown, ok, blocked = self._grow_scalar(s, g, rng)
            else:
                grown, ok, blocked = self._grow(s, g, rng)
            if not ok and blocked:
                # the floors cannot be met within the ceilings here: floors are hard,
                # ceilings soft -> a region a little over a ceiling (reported, then
                # repaired where possible) rather than enclaves swallowed by a neighbour
                grown, ok, _ = self._grow(s, g, rng, soft=True)
            if ok:
                new.append(self._new_region(grown))
            else:
                for i in grown:
                    lab[i] = -2
            for i in grown:
                for k in nb[i]:
                    if lab[k] == -1:
                        dk = rem[k] - 1
                        rem[k] = dk
                        heapq.heappush(heap, (dk + jit * rnd(), dk, k))
        return new

    def _grow(
        self, s: int, g: _Grow, rng: random.Random, soft: bool = False
    ) -> tuple[list[int], bool, bool]:
        """Grow one region from ``s``: (cells, floors met, blocked by a ceiling).

        ``soft`` ignores the ceilings and the diameter.
        """
        lab = self.label
        nb = self.nb
        U, C, Z, X, Y, AR = self.U, self.C, self.Z, self.X, self.Y, self.A
        f, c, h = self.f, self.c, self.h
        D2 = self.D2
        if soft:
            C = None
            D2 = None
        has_xy = self.has_xy
        rnd = rng.random
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
        minx = maxx = X[s]
        miny = maxy = Y[s]
        frontier: dict[int, int] = {}
        banned: set[int] = set()
        for k in nb[s]:
            if lab[k] == -1:
                frontier[k] = frontier.get(k, 0) + 1
        tau, noise, dist_w, gain_w = g.tau, g.noise, g.dist_w, g.gain_w
        sample = self.task.params.frontier_sample
        homog_w = g.homog_w if h else 0.0
        while True:
            open_need = 0.0
            for v in need:
                if v > EPS:
                    open_need += v
            if open_need <= 0.0:
                break
            best_c = -1
            best_w = math.inf
            best_n = -1
            best_s = -math.inf
            cx = ax / A
            cy = ay / A
            rad2 = A / math.pi + 1.0
            nR = len(R)
            if len(frontier) > sample:
                # large frontier: a random sample keeps a step O(1) (deterministic rng)
                keys = rng.sample(list(frontier), sample)
                items = [(k, frontier[k]) for k in keys]
            else:
                items = list(frontier.items())
            over: list[int] = []
            for k, conn in items:
                if C is not None:
                    # ceilings only grow with the region: a cell over one now stays over
                    ck = C[k]
                    if any(Cs[j] + ck[j] > 1.0 + EPS for j in range(c)):
                        over.append(k)
                        continue
                uk = U[k]
                compl = True
                waste = 0.0
                gain = 0.0
                for j in range(f):
                    nj = need[j]
                    if nj > EPS:
                        v = uk[j]
                        if v + EPS < nj:
                            compl = False
                            gain += v
                        else:
                            waste += v - nj
                            gain += nj
                if has_xy:
                    dx = X[k] - cx
                    dy = Y[k] - cy
                    d2 = (dx * dx + dy * dy) / rad2
                else:
                    d2 = 0.0
                if compl:
                    w = waste - 0.02 * conn + 0.02 * d2
                    if w < best_w:
                        best_w = w
                        best_c = k
                else:
                    sc = conn + gain_w * gain / open_need - dist_w * d2 + noise * rnd()
                    if homog_w:
                        zk = Z[k]
                        e = 0.0
                        for j in range(h):
                            t = zk[j] - zs[j] / nR
                            e += t * t
                        sc -= homog_w * e
                    if sc > best_s:
                        best_s = sc
                        best_n = k
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
            # ceilings and diameter
            ok = True
            if C is not None:
                cp = C[pick]
                for j in range(c):
                    if Cs[j] + cp[j] > 1.0 + EPS:
                        ok = False
                        break
            if ok and D2 is not None:
                xp = X[pick]
                yp = Y[pick]
                bx = max(maxx, xp) - min(minx, xp)
                by = max(maxy, yp) - min(miny, yp)
                if bx * bx + by * by > D2:
                    for q in R:
                        dx = X[q] - xp
                        dy = Y[q] - yp
                        if dx * dx + dy * dy > D2 * (1.0 + EPS):
                            ok = False
                            break
            del frontier[pick]
            if not ok:
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
                minx = min(minx, X[pick])
                maxx = max(maxx, X[pick])
                miny = min(miny, Y[pick])
                maxy = max(maxy, Y[pick])
            for k in nb[pick]:
                if lab[k] == -1 and k not in banned:
                    frontier[k] = frontier.get(k, 0) + 1
        for i in R:
            lab[i] = -1
        return R, True, bool(banned)

    def _grow_scalar(self, s: int, g: _Grow, rng: random.Random) -> tuple[list[int], bool, bool]:
        """:meth:`_grow` for one floor, no sum ceiling and at most one attribute.

        The common case, on scalars instead of tuples (constructions about 30 %
        faster, measured on the NYC tracts); it draws the same random numbers and
        picks the same cells as :meth:`_grow` (up to rounding in the scores).
        """
        lab = self.label
        nb = self.nb
        U1, Z1, X, Y, AR = self.U1, self.Z1, self.X, self.Y, self.A
        D2 = self.D2
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
        frontier: dict[int, int] = {}
        banned: set[int] = set()
        for k in nb[s]:
            if lab[k] == -1:
                frontier[k] = frontier.get(k, 0) + 1
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
                bx = max(maxx, xp) - min(minx, xp)
                by = max(maxy, yp) - min(miny, yp)
                if bx * bx + by * by > D2:
                    lim = D2 * (1.0 + EPS)
                    if any((X[q] - xp) ** 2 + (Y[q] - yp) ** 2 > lim for q in R):
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
        nb = self.nb
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
                key = (not self._fits_ceilings(r, i), nc - self.rcost[r])
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

    # ---------------------------------------------------------- contiguity
    def _still_connected(self, i: int, a: int) -> bool:
        """Would region ``a`` stay connected without cell ``i``?"""
        lab = self.label
        nb = self.nb
        targets = [k for k in nb[i] if lab[k] == a]
        if len(targets) <= 1:
            return True
        want = set(targets)
        start = targets[0]
        want.discard(start)
        seen = {start, i}
        stack = [start]
        while stack:
            u = stack.pop()
            for k in nb[u]:
                if k not in seen and lab[k] == a:
                    if k in want:
                        want.discard(k)
                        if not want:
                            return True
                    seen.add(k)
                    stack.append(k)
        return False

    # ------------------------------------------------------------ labels
    def load_labels(self, labels: list[int]) -> None:
        """Replace the state by the partition ``labels`` (every cell >= 0)."""
        self.label = [-1] * self.m
        self._reset_regions()
        groups: dict[int, list[int]] = {}
        for i, r in enumerate(labels):
            groups.setdefault(r, []).append(i)
        for cells in groups.values():
            self._new_region(cells)

    def clear(self) -> None:
        """Forget every region (all cells free again)."""
        self.label = [-1] * self.m
        self._reset_regions()

    def compact_labels(self) -> np.ndarray:
        """Labels renumbered ``0..p-1`` by each region's smallest cell."""
        lab = np.asarray(self.label, dtype=np.int64)
        if len(lab) == 0:
            return lab
        order: dict[int, int] = {}
        out = np.empty_like(lab)
        for i, r in enumerate(self.label):
            if r not in order:
                order[r] = len(order)
            out[i] = order[r]
        return out

    # ------------------------------------------------------------- region count
    def _adjacent_regions(self, r: int) -> set[int]:
        lab = self.label
        nb = self.nb
        out: set[int] = set()
        for i in self.members[r]:
            for k in nb[i]:
                q = lab[k]
                if q != r and q >= 0:
                    out.add(q)
        return out

    def _rebuild(self, regions: list[int], rng: random.Random, tries: int) -> bool:
        """Try to cut the union of ``regions`` into more regions; keep it if it works."""
        k = len(regions)
        cells: list[int] = []
        for r in regions:
            cells.extend(self.members[r])
        cells.sort()
        old = {r: self._region_state(r) for r in regions}
        # more regions must not cost a ceiling that held before
        old_ok = (self.C is not None or self.D2 is not None) and all(
            self._within_ceilings(r) for r in regions
        )
        lab = self.label
        for t in range(tries):
            for r in regions:
                self._kill_region(r)
            for i in cells:
                lab[i] = -1
            g = _grow_profiles(rng, 1 + t)
            new = self.construct(cells, g, rng)
            if len(new) > k:
                self.absorb(cells, allowed=set(new))
                if all(lab[i] >= 0 for i in cells) and (
                    not old_ok or all(self._within_ceilings(r) for r in new)
                ):
                    return True
            # undo
            for r in new:
                self._kill_region(r)
            for r, st in old.items():
                self._set_region_state(r, st)
            for r in regions:
                for i in self.members[r]:
                    lab[i] = r
        return False

    def _region_state(self, r: int) -> tuple:
        return (
            set(self.members[r]),
            self.rn[r],
            list(self.rS[r]),
            list(self.rC[r]),
            list(self.rz[r]),
            self.rzz[r],
            self.rA[r],
            self.rax[r],
            self.ray[r],
            self.raxx[r],
            self.raa[r],
            self.rcost[r],
        )

    def _set_region_state(self, r: int, st: tuple) -> None:
        (
            mem,
            self.rn[r],
            rS,
            rC,
            rz,
            self.rzz[r],
            self.rA[r],
            self.rax[r],
            self.ray[r],
            self.raxx[r],
            self.raa[r],
            self.rcost[r],
        ) = st
        self.members[r] = set(mem)
        self.rS[r] = list(rS)
        self.rC[r] = list(rC)
        self.rz[r] = list(rz)
        if not self.alive[r]:
            self.alive[r] = True
            self.n_alive += 1

    def increase_regions(self, rng: random.Random) -> int:
        """Large-neighbourhood search for more regions; returns how many were gained."""
        prm = self.task.params
        gained = 0
        kmax = max(1, prm.lns_max_regions)
        max_cells = prm.lns_max_cells
        f = self.f
        if not f:  # no floor: every cell is already a region of its own
            return 0
        failed = self._failed
        # region adjacency, valid while no rebuild succeeds (a failed one restores
        # the regions under the same ids)
        adj_of: dict[int, set[int]] = {}

        def adjacent(q: int) -> set[int]:
            got = adj_of.get(q)
            if got is None:
                got = adj_of[q] = self._adjacent_regions(q)
            return got

        for _ in range(prm.lns_passes):
            found = 0
            order = [r for r in range(len(self.alive)) if self.alive[r]]
            rng.shuffle(order)
            for r in order:
                if not self.alive[r]:
                    continue
                if self._time_up():
                    return gained
                union = [r]
                tot = list(self.rS[r])
                adj = set(adjacent(r))
                attempts = 0
                while True:
                    k = len(union)
                    slack = min(tot) / (k + 1) - 1.0 if f else -1.0
                    # measured: unions with < 5 % spare value practically never split
                    if slack >= prm.lns_min_slack:
                        key = frozenset(union)
                        if key not in failed:
                            # success is rare with little spare value: fewer tries
                            tries = 1 if slack < 0.05 else 2 if slack < 0.1 else prm.lns_tries
                            attempts += 1
                            if self._rebuild(union, rng, tries):
                                found += 1
                                adj_of.clear()
                                break
                            failed.add(key)
                        if attempts >= 2:
                            break
                    if k >= kmax or not adj or sum(self.rn[q] for q in union) >= max_cells:
                        break
                    # add the adjacent region with the most spare value (deterministic,
                    # so an unchanged neighbourhood hits the cache of failed unions)
                    rS = self.rS
                    q = max(adj, key=lambda q: (min(rS[q]), -q))
                    union.append(q)
                    adj.discard(q)
                    for j in range(f):
                        tot[j] += self.rS[q][j]
                    adj |= {a for a in adjacent(q) if a not in union}
            gained += found
            if not found:
                break
        return gained

    # ------------------------------------------------------------ ceiling repair
    def repair_ceilings(self) -> int:
        """Move cells out of regions over a ceiling (sum columns) into neighbours.

        For each region over a ceiling, repeatedly moves the boundary cell whose
        move costs least to an adjacent region that stays within its ceilings,
        while the region keeps its floors and stays contiguous, until the region is
        within its ceilings or no such move is left. Returns the cells moved.
        """
        if self.C is None:
            return 0
        lab = self.label
        nb = self.nb
        moved = 0
        for r in range(len(self.alive)):
            if not self.alive[r]:
                continue
            for _ in range(self.rn[r]):
                if all(v <= 1.0 + EPS for v in self.rC[r]):
                    break
                cands = []
                for i in self.members[r]:
                    if self.rn[r] <= 1 or not self._keeps_floors(r, i):
                        continue
                    # only cells that carry some of an exceeded column help
                    ci = self.C[i]
                    if not any(ci[j] > 0 and self.rC[r][j] > 1.0 + EPS for j in range(self.c)):
                        continue
                    for k in nb[i]:
                        b = lab[k]
                        if b == r or b < 0 or not self._fits_ceilings(b, i):
                            continue
                        cost_a = self._cost_with(r, i, -1)
                        cost_b = self._cost_with(b, i, +1)
                        delta = cost_a - self.rcost[r] + cost_b - self.rcost[b]
                        cands.append((delta, i, b, cost_a, cost_b))
                cands.sort()
                for _delta, i, b, cost_a, cost_b in cands:
                    if self._still_connected(i, r):
                        self._move(i, r, b, cost_a, cost_b)
                        moved += 1
                        break
                else:
                    break
        return moved

    # ------------------------------------------------------------ recombination
    def _reset_region(self, r: int, cells: list[int]) -> None:
        """Make ``cells`` the members of region ``r`` (sums recomputed)."""
        saved_alive = self.alive[r]
        n_before = len(self.alive)
        tmp = self._new_region(cells)  # computes the sums and sets the labels to tmp
        assert tmp == n_before
        for name in ("rn", "rS", "rC", "rz", "rzz", "rA", "rax", "ray", "raxx", "raa", "rcost"):
            lst = getattr(self, name)
            lst[r] = lst.pop()
        self.members[r] = self.members.pop()
        self.alive.pop()
        self.n_alive -= 1
        self.alive[r] = saved_alive
        lab = self.label
        for i in cells:
            lab[i] = r

    def _best_tree_split(
        self, cells: list[int], rng: random.Random, noise: float
    ) -> tuple[float, list[int]] | None:
        """Best cut of a spanning tree of ``cells`` into two parts meeting the floors.

        The tree is a minimum spanning tree for attribute distance plus ``noise`` ×
        a random term, so cuts follow attribute edges. Every tree edge is tried
        with subtree sums (linear time). Returns ``(cost, one side)`` or None.
        """
        lab = self.label
        nb = self.nb
        inU = set(cells)
        Z = self.Z
        h = self.h
        f, c = self.f, self.c
        rnd = rng.random
        # Prim's algorithm
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
        del lab
        U, C, ZZ, X, Y, AR = self.U, self.C, self.ZZ, self.X, self.Y, self.A
        # subtree sums, children before parents
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
        tot = sub[root]
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
        if best_v < 0:
            return None
        # collect the subtree of best_v
        children: dict[int, list[int]] = {}
        for v in order[1:]:
            children.setdefault(parent[v], []).append(v)
        side = []
        stack = [best_v]
        while stack:
            u = stack.pop()
            side.append(u)
            stack.extend(children.get(u, ()))
        return best_cost, side

    def recombine(self, rng: random.Random, side_of: list[int] | None = None) -> int:
        """Merge-and-split of adjacent region pairs along spanning trees (see module doc).

        Accepts a new split when it lowers the pair's cost. Pairs whose regions did
        not change since they were last tried are skipped. ``side_of`` (a label
        per region id) limits the search to pairs with different labels. Returns
        the number of accepted splits.
        """
        if not self.h and not self.cw:
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
                    before = self.rcost[a] + self.rcost[b]
                    got = self._best_tree_split(cells, rng, prm.recombine_noise)
                    if got is None or got[0] >= before - 1e-9:
                        continue
                    side = got[1]
                    rest = list(set(cells) - set(side))
                    if self.D2 is not None:
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

    # ------------------------------------------------------------ local search
    def _best_move(self, i: int) -> tuple[float, int, float, float]:
        """Best move of cell ``i`` to an adjacent region: (delta, region, cost_a, cost_b)."""
        lab = self.label
        a = lab[i]
        best = (math.inf, -1, 0.0, 0.0)
        if self.rn[a] <= 1 or not self._keeps_floors(a, i):
            return best
        cost_a = None
        seen = []
        for k in self.nb[i]:
            b = lab[k]
            if b == a or b < 0 or b in seen:
                continue
            seen.append(b)
            if not self._fits_ceilings(b, i):
                continue
            if cost_a is None:
                cost_a = self._cost_with(a, i, -1)
            cost_b = self._cost_with(b, i, +1)
            delta = cost_a - self.rcost[a] + cost_b - self.rcost[b]
            if delta < best[0]:
                best = (delta, b, cost_a, cost_b)
        return best

    def local_search(
        self, rng: random.Random, around: set[int] | None = None, tabu: bool = True
    ) -> None:
        """First-improvement boundary moves, then a short tabu phase (``tabu``).

        ``around``: start with the boundary cells of these regions only (default all).
        """
        if not self.h and not self.cw:
            return
        prm = self.task.params
        lab = self.label
        nb = self.nb
        m = self.m
        dirty: set[int] | None = around  # regions changed in the previous pass
        for _ in range(prm.ls_passes):
            if self._time_up():
                return
            if dirty is None:
                order = [i for i in range(m) if any(lab[k] != lab[i] for k in nb[i])]
            else:
                order = []
                for r in dirty:
                    if self.alive[r]:
                        for i in self.members[r]:
                            if any(lab[k] != r for k in nb[i]):
                                order.append(i)
                                order.extend(k for k in nb[i] if lab[k] != r)
                order = sorted(set(order))
            rng.shuffle(order)
            moved = 0
            dirty = set()
            for i in order:
                delta, b, cost_a, cost_b = self._best_move(i)
                if b >= 0 and delta < -1e-9 and self._still_connected(i, lab[i]):
                    dirty.add(lab[i])
                    dirty.add(b)
                    self._move(i, lab[i], b, cost_a, cost_b)
                    moved += 1
            if not moved:
                break
        if tabu:
            self._tabu(rng)

    def _tabu(self, rng: random.Random) -> None:
        """Tabu phase: always take the best admissible move among a few sampled
        boundary cells (even uphill), forbid moving a cell again for ``tenure``
        steps, and return to the best state seen by undoing the moves made since."""
        prm = self.task.params
        steps = min(int(prm.tabu_moves_per_cell * self.m), prm.tabu_max_moves)
        if steps <= 0:
            return
        lab = self.label
        nb = self.nb
        tenure = 10 + int(math.sqrt(self.m))
        tabu: dict[int, int] = {}  # cell -> last step at which it may not move
        best_cost = self.total_cost()
        cur = best_cost
        log: list[tuple[int, int, int]] = []  # moves made since the best state
        patience = max(50, steps // 4)
        boundary = [i for i in range(self.m) if any(lab[k] != lab[i] for k in nb[i])]
        for step in range(steps):
            if step % 256 == 0 and self._time_up():
                break
            if not boundary or len(log) > patience:
                break
            cand = None
            for _ in range(prm.tabu_sample):
                i = boundary[rng.randrange(len(boundary))]
                if tabu.get(i, -1) >= step:
                    continue
                delta, b, cost_a, cost_b = self._best_move(i)
                if b < 0:
                    continue
                if (cand is None or delta < cand[0]) and self._still_connected(i, lab[i]):
                    cand = (delta, i, b, cost_a, cost_b)
            if cand is None:
                continue
            delta, i, b, cost_a, cost_b = cand
            a = lab[i]
            self._move(i, a, b, cost_a, cost_b)
            tabu[i] = step + tenure
            cur += delta
            log.append((i, a, b))
            boundary.extend(k for k in nb[i] if lab[k] != lab[i])
            if len(boundary) > 4 * self.m:
                boundary = [j for j in range(self.m) if any(lab[k] != lab[j] for k in nb[j])]
            if cur < best_cost - 1e-9:
                best_cost = cur
                log.clear()
        for i, a, b in reversed(log):
            self._move(i, b, a, self._cost_with(b, i, -1), self._cost_with(a, i, +1))


def construct_runs(task: ComponentTask, ks: list[int]) -> list[tuple[int, float, int, np.ndarray]]:
    """Run the constructions numbered ``ks`` (each with its own seed ``(seed, k)``).

    Returns ``(p, cost, k, labels)`` per successful construction (enclaves absorbed).
    """
    solver = Solver(task)
    cells = list(range(solver.m))
    out = []
    for n_done, k in enumerate(ks):
        if n_done > 0 and solver._time_up():
            break
        rng = random.Random(f"{task.seed}:construct:{k}")
        solver.clear()
        g = _grow_profiles(rng, k)
        if not solver.construct(cells, g, rng):
            out.append((0, math.inf, k, np.zeros(0, dtype=np.int64)))
            continue
        solver.absorb(cells)
        out.append((solver.n_alive, solver.total_cost(), k, np.asarray(solver.label)))
    return out


def _search_starts(
    solver: Solver, task: ComponentTask, starts: list[tuple[int, np.ndarray]]
) -> tuple[int, float, int, list[int]]:
    """The region-count search from each start ``(k, labels)``; the best outcome as
    ``(-p, cost, k, labels)``."""
    best: tuple[int, float, int, list[int]] | None = None
    for rank, (k, labels) in enumerate(starts):
        if rank > 0 and solver._time_up():
            break
        rng = random.Random(f"{task.seed}:lns:{k}")
        solver.load_labels(labels.tolist())
        solver.increase_regions(rng)
        cand = (-solver.n_alive, solver.total_cost(), k, list(solver.label))
        if best is None or cand[:3] < best[:3]:
            best = cand
    assert best is not None
    return best


def improve(
    task: ComponentTask, starts: list[tuple[int, np.ndarray]], search: bool = True
) -> tuple[np.ndarray, int, float, bool]:
    """More regions (LNS) from each start ``(k, labels)``, then local search on the best.

    ``search=False`` skips the first region-count search (the start comes from
    :func:`search_component`; only the first start is used).
    Returns ``(labels 0..p-1, p, cost, hit_deadline)``.
    """
    solver = Solver(task)
    prm = task.params
    if search:
        _, _, k, labels = _search_starts(solver, task, starts)
    else:
        k, labels = starts[0][0], starts[0][1].tolist()
    rng = random.Random(f"{task.seed}:local:{k}")
    solver.load_labels(labels)
    solver.repair_ceilings()
    solver.recombine(rng)
    solver.local_search(rng)
    if prm.second_round and not solver._time_up() and solver.increase_regions(rng):
        solver.recombine(rng)
        solver.local_search(rng)
    return solver.compact_labels(), solver.n_alive, solver.total_cost(), solver.hit_deadline


@dataclass
class SearchResult:
    """Outcome of :func:`search_component`: the best labels after the region-count
    search (``p == 0`` when no construction succeeded)."""

    p: int
    cost: float
    k: int  # construction number of the start
    labels: np.ndarray
    construction_p: list[int]
    hit_deadline: bool
    construct_s: float  # seconds in the constructions
    search_s: float  # seconds in the region-count search


def search_component(task: ComponentTask, ks: list[int], keep: int) -> SearchResult:
    """Constructions ``ks``, then the region-count search from the best ``keep``.

    The first half of :func:`solve_component`, for components whose finishing
    steps run in blocks (see :mod:`gridplan._partition.core`).
    """
    t0 = time.monotonic()
    runs = construct_runs(task, ks)
    construction_p = [r[0] for r in runs]
    ok = sorted((r for r in runs if r[0] > 0), key=lambda r: (-r[0], r[1], r[2]))
    t1 = time.monotonic()
    if not ok:
        return SearchResult(
            0, math.inf, -1, np.zeros(0, np.int64), construction_p, False, t1 - t0, 0.0
        )
    solver = Solver(task)
    neg_p, cost, k, labels = _search_starts(solver, task, [(r[2], r[3]) for r in ok[:keep]])
    _, compact = np.unique(np.asarray(labels, dtype=np.int64), return_inverse=True)
    return SearchResult(
        -neg_p,
        cost,
        k,
        compact.astype(np.int64),
        construction_p,
        solver.hit_deadline,
        t1 - t0,
        time.monotonic() - t1,
    )


def solve_component(task: ComponentTask) -> ComponentResult:
    """Solve one component: constructions, more regions, local search (see module doc)."""
    prm = task.params
    m = len(task.indptr) - 1
    found = search_component(task, list(range(max(1, prm.constructions))), prm.keep_best)
    timing = {"construct_s": found.construct_s, "search_s": found.search_s}
    if found.p == 0:
        # no region could be grown (ceilings or diameter too tight): one region
        return ComponentResult(
            task.index,
            np.zeros(m, dtype=np.int64),
            1,
            0.0,
            time.monotonic() > task.deadline,
            timing,
            found.construction_p,
        )
    t1 = time.monotonic()
    labels, p, cost, hit = improve(task, [(found.k, found.labels)], search=False)
    timing["improve_s"] = time.monotonic() - t1
    return ComponentResult(
        task.index, labels, p, cost, hit or found.hit_deadline, timing, found.construction_p
    )


def polish_seams(
    task: ComponentTask, labels: np.ndarray, block: np.ndarray
) -> tuple[np.ndarray, int, float]:
    """Merge-and-split and cell moves across the seams of blocks improved apart.

    ``labels`` (``0..p-1``) stitched from blocks; ``block`` the block of every
    cell. Only pairs of regions from different blocks are recombined, and the
    cell moves start from the regions along a seam. Returns ``(labels, p, cost)``.
    """
    solver = Solver(task)
    solver.load_labels(labels.tolist())
    side_of = [-1] * len(solver.alive)
    for r, cells in enumerate(solver.members):
        side_of[r] = int(block[next(iter(cells))])
    seam = {
        r
        for r in range(len(side_of))
        if any(side_of[q] != side_of[r] for q in solver._adjacent_regions(r))
    }
    rng = random.Random(f"{task.seed}:seams")
    solver.recombine(rng, side_of)
    solver.local_search(rng, around=seam, tabu=False)
    return solver.compact_labels(), solver.n_alive, solver.total_cost()


def region_blocks(task: ComponentTask, labels: np.ndarray, block_cells: int) -> list[np.ndarray]:
    """Cut a partition into blocks of whole regions of about ``block_cells`` cells.

    Regions are taken in breadth-first order over the region adjacency graph (from
    the region of cell 0, neighbours in ascending order), so consecutive regions
    are near each other and the blocks are bands across the component. Returns the
    local cell indices of every block (deterministic).
    """
    m = len(labels)
    p = int(labels.max()) + 1 if m else 0
    rows = np.repeat(np.arange(m), np.diff(task.indptr))
    a, b = labels[rows], labels[task.indices]
    keep = a != b
    import scipy.sparse

    radj = scipy.sparse.csr_array(
        (np.ones(int(keep.sum()), dtype=np.int8), (a[keep], b[keep])), shape=(p, p)
    )
    radj.sum_duplicates()
    radj.sort_indices()
    ip = radj.indptr.tolist()
    ix = radj.indices.tolist()
    size = np.bincount(labels, minlength=p).tolist()
    seen = [False] * p
    order: list[int] = []
    for start in range(p):
        if seen[start]:
            continue
        seen[start] = True
        queue = deque([start])
        while queue:
            r = queue.popleft()
            order.append(r)
            for q in ix[ip[r] : ip[r + 1]]:
                if not seen[q]:
                    seen[q] = True
                    queue.append(q)
    block_of = np.zeros(p, dtype=np.int64)
    blk = acc = 0
    for r in order:
        if acc >= block_cells:
            blk += 1
            acc = 0
        block_of[r] = blk
        acc += size[r]
    # a small last block joins the previous one
    if blk > 0 and acc < block_cells // 2:
        block_of[block_of == blk] = blk - 1
        blk -= 1
    cell_block = block_of[labels]
    order_c = np.argsort(cell_block, kind="stable")
    bounds = np.searchsorted(cell_block[order_c], np.arange(blk + 2))
    return [order_c[bounds[j] : bounds[j + 1]] for j in range(blk + 1)]


def sub_task(task: ComponentTask, cells: np.ndarray, index: int, seed: int) -> ComponentTask:
    """The task restricted to ``cells`` (local indices, ascending), renumbered."""
    import scipy.sparse

    m = len(task.indptr) - 1
    a = scipy.sparse.csr_array(
        (np.ones(len(task.indices), dtype=np.int8), task.indices, task.indptr), shape=(m, m)
    )
    sub = scipy.sparse.csr_array(a[cells][:, cells])
    sub.sort_indices()

    def pick(v: np.ndarray | None) -> np.ndarray | None:
        return None if v is None else np.ascontiguousarray(v[cells])

    return ComponentTask(
        index=index,
        indptr=sub.indptr.astype(np.int64),
        indices=sub.indices.astype(np.int64),
        floors=np.ascontiguousarray(task.floors[cells]),
        ceilings=pick(task.ceilings),
        homog=pick(task.homog),
        x=pick(task.x),
        y=pick(task.y),
        area=np.ascontiguousarray(task.area[cells]),
        max_diameter=task.max_diameter,
        compactness_weight=task.compactness_weight,
        seed=seed,
        deadline=task.deadline,
        params=task.params,
    )
