"""The partition state of one component: cell arrays, region sums and their costs."""

from __future__ import annotations

import time

import numpy as np

from gridplan._partition.task import EPS, TWO_PI, ComponentTask


class SolverState:
    """Mutable partition state of one component (``m`` cells, local indices ``0..m-1``).

    Units: floor and ceiling values are fractions of the limit (a region meets a
    floor when its column sums to >= 1, a ceiling while its sum stays <= 1);
    coordinates, areas and the diameter are in *cell units* (metres divided by the
    square root of the mean cell area, centred on the component).

    Cell arrays (read only, Python lists because the search loops are pure Python):

    - ``neighbours``: ``m`` lists of adjacent cells;
    - ``floors``: ``m`` tuples of ``n_floors`` floor values;
      ``floor1``: their first column as floats (the scalar growth path);
    - ``ceilings``: ``m`` tuples of ``n_ceils`` ceiling values, or None;
    - ``homog``: ``m`` tuples of ``n_homog`` attributes (standardised × sqrt(weight)),
      or None; ``homog1``: the single attribute as floats when ``n_homog == 1``;
      ``homog_sq``: ``m`` sums of squared attributes (0 without attributes);
    - ``xs``, ``ys``: ``m`` centroid coordinates (0 without coordinates,
      ``has_xy`` False); ``areas``: ``m`` cell areas;
    - ``compact_w``: weight of the compactness term (0 without coordinates);
      ``max_diam_sq``: squared maximum diameter, or None;
    - ``scalar``: one floor, no sum ceiling, at most one attribute (fast growth).

    Partition state:

    - ``label``: region id of every cell (``-1`` free, ``-2`` enclave, ``-3`` being
      grown);
    - per region id (ids are never reused until :meth:`clear`): ``alive``,
      ``members`` (set of cells), ``r_size`` (cells), ``r_floors`` (``n_floors``
      sums), ``r_ceils`` (``n_ceils`` sums), ``r_homog`` (``n_homog`` attribute
      sums), ``r_homog_sq`` (sum of squared attributes), ``r_area`` (Σ a),
      ``r_ax``, ``r_ay`` (Σ a·x, Σ a·y), ``r_axx`` (Σ a·(x² + y²)), ``r_aa`` (Σ a²),
      ``r_cost`` (the region's cost, see :meth:`_cost`); ``n_alive`` regions alive.
    """

    def __init__(self, task: ComponentTask):
        self.task = task
        m = len(task.indptr) - 1
        self.n_cells = m
        ip = task.indptr.tolist()
        ix = task.indices.tolist()
        self.neighbours: list[list[int]] = [ix[ip[i] : ip[i + 1]] for i in range(m)]
        self.n_floors = task.floors.shape[1]
        self.floors: list[tuple[float, ...]] = [tuple(r) for r in task.floors.tolist()]
        self.n_ceils = 0 if task.ceilings is None else task.ceilings.shape[1]
        self.ceilings: list[tuple[float, ...]] | None = (
            None if task.ceilings is None else [tuple(r) for r in task.ceilings.tolist()]
        )
        self.n_homog = 0 if task.homog is None else task.homog.shape[1]
        self.homog: list[tuple[float, ...]] | None = (
            None if task.homog is None else [tuple(r) for r in task.homog.tolist()]
        )
        self.homog_sq: list[float] = (
            [0.0] * m if task.homog is None else (task.homog**2).sum(axis=1).tolist()
        )
        self.has_xy = task.x is not None and task.y is not None
        # scalar copies for the fast growth path (one floor, no sum ceiling, <= 1 attribute)
        self.scalar = self.n_floors == 1 and self.ceilings is None and self.n_homog <= 1
        self.floor1: list[float] = task.floors[:, 0].tolist() if self.n_floors else []
        self.homog1: list[float] | None = task.homog[:, 0].tolist() if self.n_homog == 1 else None
        self.xs: list[float] = task.x.tolist() if self.has_xy else [0.0] * m
        self.ys: list[float] = task.y.tolist() if self.has_xy else [0.0] * m
        self.areas: list[float] = task.area.tolist()
        self.compact_w = float(task.compactness_weight) if self.has_xy else 0.0
        d = task.max_diameter
        self.max_diam_sq: float | None = None if d is None or not self.has_xy else float(d) ** 2
        self.deadline = task.deadline
        self.hit_deadline = False
        self._tree_rows: list[tuple[float, ...]] | None = None  # see Recombination
        # partition state
        self.label: list[int] = [-1] * m
        self._reset_regions()

    def _reset_regions(self) -> None:
        self.alive: list[bool] = []
        self.members: list[set[int]] = []
        self.r_size: list[int] = []
        self.r_floors: list[list[float]] = []
        self.r_ceils: list[list[float]] = []
        self.r_homog: list[list[float]] = []
        self.r_homog_sq: list[float] = []
        self.r_area: list[float] = []
        self.r_ax: list[float] = []
        self.r_ay: list[float] = []
        self.r_axx: list[float] = []
        self.r_aa: list[float] = []
        self.r_cost: list[float] = []
        self.n_alive = 0
        self._failed: set[frozenset[int]] = set()  # unions that could not be cut further

    def _region_sums(self, cells: list[int]) -> tuple:
        """``(floor sums, ceiling sums, attribute sums, Σ z², Σ a, Σ a·x, Σ a·y,
        Σ a·(x²+y²), Σ a², cost)`` of ``cells``."""
        f, c, h = self.n_floors, self.n_ceils, self.n_homog
        S = [0.0] * f
        Cs = [0.0] * c
        z = [0.0] * h
        zz = A = ax = ay = axx = aa = 0.0
        U, C, Z, X, Y, AR, ZZ = (
            self.floors,
            self.ceilings,
            self.homog,
            self.xs,
            self.ys,
            self.areas,
            self.homog_sq,
        )
        for i in cells:
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
        return S, Cs, z, zz, A, ax, ay, axx, aa, self._cost(len(cells), z, zz, A, ax, ay, axx, aa)

    def _new_region(self, cells: list[int]) -> int:
        r = len(self.alive)
        self.alive.append(True)
        self.members.append(set(cells))
        self.r_size.append(len(cells))
        S, Cs, z, zz, A, ax, ay, axx, aa, cost = self._region_sums(cells)
        lab = self.label
        for i in cells:
            lab[i] = r
        self.r_floors.append(S)
        self.r_ceils.append(Cs)
        self.r_homog.append(z)
        self.r_homog_sq.append(zz)
        self.r_area.append(A)
        self.r_ax.append(ax)
        self.r_ay.append(ay)
        self.r_axx.append(axx)
        self.r_aa.append(aa)
        self.r_cost.append(cost)
        self.n_alive += 1
        return r

    def _kill_region(self, r: int) -> None:
        if self.alive[r]:
            self.alive[r] = False
            self.n_alive -= 1
            self.members[r] = set()

    def _reset_region(self, r: int, cells: list[int]) -> None:
        """Make ``cells`` the members of region ``r`` (sums recomputed)."""
        self.members[r] = set(cells)
        self.r_size[r] = len(cells)
        (
            self.r_floors[r],
            self.r_ceils[r],
            self.r_homog[r],
            self.r_homog_sq[r],
            self.r_area[r],
            self.r_ax[r],
            self.r_ay[r],
            self.r_axx[r],
            self.r_aa[r],
            self.r_cost[r],
        ) = self._region_sums(cells)
        lab = self.label
        for i in cells:
            lab[i] = r

    def _region_state(self, r: int) -> tuple:
        return (
            set(self.members[r]),
            self.r_size[r],
            list(self.r_floors[r]),
            list(self.r_ceils[r]),
            list(self.r_homog[r]),
            self.r_homog_sq[r],
            self.r_area[r],
            self.r_ax[r],
            self.r_ay[r],
            self.r_axx[r],
            self.r_aa[r],
            self.r_cost[r],
        )

    def _set_region_state(self, r: int, st: tuple) -> None:
        (
            mem,
            self.r_size[r],
            rS,
            rC,
            rz,
            self.r_homog_sq[r],
            self.r_area[r],
            self.r_ax[r],
            self.r_ay[r],
            self.r_axx[r],
            self.r_aa[r],
            self.r_cost[r],
        ) = st
        self.members[r] = set(mem)
        self.r_floors[r] = list(rS)
        self.r_ceils[r] = list(rC)
        self.r_homog[r] = list(rz)
        if not self.alive[r]:
            self.alive[r] = True
            self.n_alive += 1

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
        if self.n_homog:
            s = 0.0
            for v in z:
                s += v * v
            cost = zz - s / n
            if cost < 0.0:
                cost = 0.0
        if self.compact_w and A > 0.0:
            inertia = axx - (ax * ax + ay * ay) / A + aa / TWO_PI
            cost += self.compact_w * n * TWO_PI * inertia / (A * A)
        return cost

    def _cost_with(self, r: int, i: int, sign: int) -> float:
        """Cost of region ``r`` after adding (sign=+1) or removing (sign=-1) cell ``i``."""
        a = self.areas[i]
        x = self.xs[i]
        y = self.ys[i]
        if self.n_homog:
            zi = self.homog[i]
            z = [v + sign * w for v, w in zip(self.r_homog[r], zi, strict=True)]
        else:
            z = self.r_homog[r]
        return self._cost(
            self.r_size[r] + sign,
            z,
            self.r_homog_sq[r] + sign * self.homog_sq[i],
            self.r_area[r] + sign * a,
            self.r_ax[r] + sign * a * x,
            self.r_ay[r] + sign * a * y,
            self.r_axx[r] + sign * a * (x * x + y * y),
            self.r_aa[r] + sign * a * a,
        )

    def _move(self, i: int, a: int, b: int, cost_a: float, cost_b: float) -> None:
        """Move cell ``i`` from region ``a`` to ``b`` (new costs given)."""
        self._detach(i, a, cost_a)
        self._attach(i, b, cost_b)

    def _detach(self, i: int, a: int, cost_a: float) -> None:
        ar = self.areas[i]
        x = self.xs[i]
        y = self.ys[i]
        self.members[a].discard(i)
        self.r_size[a] -= 1
        S = self.r_floors[a]
        for j, v in enumerate(self.floors[i]):
            S[j] -= v
        if self.ceilings is not None:
            Cs = self.r_ceils[a]
            for j, v in enumerate(self.ceilings[i]):
                Cs[j] -= v
        if self.n_homog:
            z = self.r_homog[a]
            for j, v in enumerate(self.homog[i]):
                z[j] -= v
            self.r_homog_sq[a] -= self.homog_sq[i]
        self.r_area[a] -= ar
        self.r_ax[a] -= ar * x
        self.r_ay[a] -= ar * y
        self.r_axx[a] -= ar * (x * x + y * y)
        self.r_aa[a] -= ar * ar
        self.r_cost[a] = cost_a

    def _attach(self, i: int, b: int, cost_b: float) -> None:
        ar = self.areas[i]
        x = self.xs[i]
        y = self.ys[i]
        self.label[i] = b
        self.members[b].add(i)
        self.r_size[b] += 1
        S = self.r_floors[b]
        for j, v in enumerate(self.floors[i]):
            S[j] += v
        if self.ceilings is not None:
            Cs = self.r_ceils[b]
            for j, v in enumerate(self.ceilings[i]):
                Cs[j] += v
        if self.n_homog:
            z = self.r_homog[b]
            for j, v in enumerate(self.homog[i]):
                z[j] += v
            self.r_homog_sq[b] += self.homog_sq[i]
        self.r_area[b] += ar
        self.r_ax[b] += ar * x
        self.r_ay[b] += ar * y
        self.r_axx[b] += ar * (x * x + y * y)
        self.r_aa[b] += ar * ar
        self.r_cost[b] = cost_b

    def _fits_ceilings(self, r: int, i: int) -> bool:
        if self.ceilings is not None:
            for s, v in zip(self.r_ceils[r], self.ceilings[i], strict=True):
                if s + v > 1.0 + EPS:
                    return False
        if self.max_diam_sq is not None:
            xi = self.xs[i]
            yi = self.ys[i]
            X, Y, D2 = self.xs, self.ys, self.max_diam_sq
            for k in self.members[r]:
                dx = X[k] - xi
                dy = Y[k] - yi
                if dx * dx + dy * dy > D2 * (1.0 + EPS):
                    return False
        return True

    def _within_ceilings(self, r: int) -> bool:
        """Does region ``r`` respect every ceiling and the diameter?"""
        if self.ceilings is not None and any(v > 1.0 + EPS for v in self.r_ceils[r]):
            return False
        if self.max_diam_sq is not None:
            X, Y, D2 = self.xs, self.ys, self.max_diam_sq * (1.0 + EPS)
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
        return all(
            s - v >= 1.0 - EPS for s, v in zip(self.r_floors[r], self.floors[i], strict=True)
        )

    def total_cost(self) -> float:
        return sum(c for c, al in zip(self.r_cost, self.alive, strict=True) if al)

    def _time_up(self) -> bool:
        if time.monotonic() > self.deadline:
            self.hit_deadline = True
            return True
        return False

    def _still_connected(self, i: int, a: int) -> bool:
        """Would region ``a`` stay connected without cell ``i``?"""
        lab = self.label
        nb = self.neighbours
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

    def _adjacent_regions(self, r: int) -> set[int]:
        lab = self.label
        nb = self.neighbours
        out: set[int] = set()
        for i in self.members[r]:
            for k in nb[i]:
                q = lab[k]
                if q != r and q >= 0:
                    out.add(q)
        return out

    def load_labels(self, labels: list[int]) -> None:
        """Replace the state by the partition ``labels`` (every cell >= 0)."""
        self.label = [-1] * self.n_cells
        self._reset_regions()
        groups: dict[int, list[int]] = {}
        for i, r in enumerate(labels):
            groups.setdefault(r, []).append(i)
        for cells in groups.values():
            self._new_region(cells)

    def clear(self) -> None:
        """Forget every region (all cells free again)."""
        self.label = [-1] * self.n_cells
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
