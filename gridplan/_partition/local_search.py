"""Local search: boundary-cell moves, first improvement then tabu (step 5)."""

from __future__ import annotations

import math
import random

from gridplan._partition.state import SolverState


class LocalSearch(SolverState):
    """Cell moves between adjacent regions."""

    def _best_move(self, i: int) -> tuple[float, int, float, float]:
        """Best move of cell ``i`` to an adjacent region: (delta, region, cost_a, cost_b)."""
        lab = self.label
        a = lab[i]
        best = (math.inf, -1, 0.0, 0.0)
        if self.r_size[a] <= 1 or not self._keeps_floors(a, i):
            return best
        cost_a = None
        seen = []
        for k in self.neighbours[i]:
            b = lab[k]
            if b == a or b < 0 or b in seen:
                continue
            seen.append(b)
            if not self._fits_ceilings(b, i):
                continue
            if cost_a is None:
                cost_a = self._cost_with(a, i, -1)
            cost_b = self._cost_with(b, i, +1)
            delta = cost_a - self.r_cost[a] + cost_b - self.r_cost[b]
            if delta < best[0]:
                best = (delta, b, cost_a, cost_b)
        return best

    def local_search(
        self, rng: random.Random, around: set[int] | None = None, tabu: bool = True
    ) -> None:
        """First-improvement boundary moves, then a short tabu phase (``tabu``).

        ``around``: start with the boundary cells of these regions only (default all).
        """
        if not self.n_homog and not self.compact_w:
            return
        prm = self.task.params
        lab = self.label
        nb = self.neighbours
        m = self.n_cells
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
        steps = min(int(prm.tabu_moves_per_cell * self.n_cells), prm.tabu_max_moves)
        if steps <= 0:
            return
        lab = self.label
        nb = self.neighbours
        tenure = 10 + int(math.sqrt(self.n_cells))
        tabu: dict[int, int] = {}  # cell -> last step at which it may not move
        best_cost = self.total_cost()
        cur = best_cost
        log: list[tuple[int, int, int]] = []  # moves made since the best state
        patience = max(50, steps // 4)
        boundary = [i for i in range(self.n_cells) if any(lab[k] != lab[i] for k in nb[i])]
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
            if len(boundary) > 4 * self.n_cells:
                boundary = [j for j in range(self.n_cells) if any(lab[k] != lab[j] for k in nb[j])]
            if cur < best_cost - 1e-9:
                best_cost = cur
                log.clear()
        for i, a, b in reversed(log):
            self._move(i, b, a, self._cost_with(b, i, -1), self._cost_with(a, i, +1))
