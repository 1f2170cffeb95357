"""More regions: rebuild unions of adjacent regions into more regions (step 3),
and the ceiling repair."""

from __future__ import annotations

import random

from gridplan._partition.construction import Construction
from gridplan._partition.task import EPS, _grow_profiles


class RegionSearch(Construction):
    """Large-neighbourhood search for more regions, ceiling repair."""

    def increase_regions(self, rng: random.Random) -> int:
        """Large-neighbourhood search for more regions; returns how many were gained."""
        prm = self.task.params
        gained = 0
        kmax = max(1, prm.lns_max_regions)
        max_cells = prm.lns_max_cells
        f = self.n_floors
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
                tot = list(self.r_floors[r])
                adj = set(adjacent(r))
                attempts = 0
                while True:
                    k = len(union)
                    slack = min(tot) / (k + 1) - 1.0 if f else -1.0
                    # too little spare value practically never splits (see SolverParams)
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
                        if attempts >= prm.lns_attempts:
                            break
                    if k >= kmax or not adj or sum(self.r_size[q] for q in union) >= max_cells:
                        break
                    # add the adjacent region with the most spare value (deterministic,
                    # so an unchanged neighbourhood hits the cache of failed unions)
                    rS = self.r_floors
                    q = max(adj, key=lambda q: (min(rS[q]), -q))
                    union.append(q)
                    adj.discard(q)
                    for j in range(f):
                        tot[j] += self.r_floors[q][j]
                    adj |= {a for a in adjacent(q) if a not in union}
            gained += found
            if not found:
                break
        return gained

    def _rebuild(self, regions: list[int], rng: random.Random, tries: int) -> bool:
        """Try to cut the union of ``regions`` into more regions; keep it if it works."""
        k = len(regions)
        cells: list[int] = []
        for r in regions:
            cells.extend(self.members[r])
        cells.sort()
        # a rebuild only kills the old regions (their sums stay) and adds new ones,
        # so undoing it is giving them back their cells
        old = [set(self.members[r]) for r in regions]
        # more regions must not cost a ceiling that held before
        old_ok = (self.ceilings is not None or self.max_diam_sq is not None) and all(
            self._within_ceilings(r) for r in regions
        )
        lab = self.label
        totals = [sum(self.r_floors[r][j] for r in regions) for j in range(self.n_floors)]
        for r in regions:
            self._kill_region(r)
        degrees: dict[int, int] | None = None  # the same in every try
        for t in range(tries):
            for i in cells:
                lab[i] = -1
            if degrees is None:
                degrees = self.free_degrees(cells)
            g = _grow_profiles(rng, 1 + t)
            new = self.construct(cells, g, rng, target=k + 1, totals=totals, degrees=degrees)
            if len(new) > k:
                self.absorb(cells, allowed=set(new))
                if all(lab[i] >= 0 for i in cells) and (
                    not old_ok or all(self._within_ceilings(r) for r in new)
                ):
                    return True
            for r in new:
                self._kill_region(r)
        # undo
        for r, mem in zip(regions, old, strict=True):
            self.members[r] = set(mem)
            self.alive[r] = True
            self.n_alive += 1
            for i in mem:
                lab[i] = r
        return False

    def repair_ceilings(self) -> int:
        """Move cells out of regions over a ceiling (sum columns) into neighbours.

        For each region over a ceiling, repeatedly moves the boundary cell whose
        move costs least to an adjacent region that stays within its ceilings,
        while the region keeps its floors and stays contiguous, until the region is
        within its ceilings or no such move is left. Returns the cells moved.
        """
        if self.ceilings is None:
            return 0
        lab = self.label
        nb = self.neighbours
        moved = 0
        for r in range(len(self.alive)):
            if not self.alive[r]:
                continue
            for _ in range(self.r_size[r]):
                if all(v <= 1.0 + EPS for v in self.r_ceils[r]):
                    break
                cands = []
                for i in self.members[r]:
                    if self.r_size[r] <= 1 or not self._keeps_floors(r, i):
                        continue
                    # only cells that carry some of an exceeded column help
                    ci = self.ceilings[i]
                    if not any(
                        ci[j] > 0 and self.r_ceils[r][j] > 1.0 + EPS for j in range(self.n_ceils)
                    ):
                        continue
                    for k in nb[i]:
                        b = lab[k]
                        if b == r or b < 0 or not self._fits_ceilings(b, i):
                            continue
                        cost_a = self._cost_with(r, i, -1)
                        cost_b = self._cost_with(b, i, +1)
                        delta = cost_a - self.r_cost[r] + cost_b - self.r_cost[b]
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
