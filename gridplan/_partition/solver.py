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
   regions, until the union holds the value of ``k + 1`` regions plus
   ``lns_min_slack`` (10 %; with less, 0 of 2,300 rebuilds on the benchmark
   instances succeeded, and 1 in 600 with 5–7.5 % on the demo cities), and
   rebuild the union from scratch with a few randomised constructions (each
   stopped as soon as ``k + 1`` regions are out of reach: regions grown plus
   the floor value left); accept when it yields ``k + 1``
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

import math
import random
import time
from collections import deque
from dataclasses import dataclass

import numpy as np

from gridplan._partition.local_search import LocalSearch
from gridplan._partition.recombination import Recombination
from gridplan._partition.regions import RegionSearch
from gridplan._partition.task import (
    EPS,
    TWO_PI,
    ComponentResult,
    ComponentTask,
    SolverParams,
    _Grow,
    _grow_profiles,
)

__all__ = [
    "EPS",
    "TWO_PI",
    "ComponentResult",
    "ComponentTask",
    "SearchResult",
    "Solver",
    "SolverParams",
    "_Grow",
    "_grow_profiles",
    "construct_runs",
    "improve",
    "polish_seams",
    "region_blocks",
    "search_component",
    "solve_component",
    "sub_task",
]


class Solver(LocalSearch, Recombination, RegionSearch):
    """Mutable partition state of one component plus the search operators.

    The state and its arrays are documented on :class:`~gridplan._partition.state.SolverState`;
    the operators live in :mod:`~gridplan._partition.construction`,
    :mod:`~gridplan._partition.regions`, :mod:`~gridplan._partition.recombination`
    and :mod:`~gridplan._partition.local_search`.
    """


def construct_runs(task: ComponentTask, ks: list[int]) -> list[tuple[int, float, int, np.ndarray]]:
    """Run the constructions numbered ``ks`` (each with its own seed ``(seed, k)``).

    Returns ``(p, cost, k, labels)`` per successful construction (enclaves absorbed).
    """
    solver = Solver(task)
    cells = list(range(solver.n_cells))
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
