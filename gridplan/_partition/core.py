"""Array core of the partition: cells + CSR adjacency → regions ("grids").

:func:`partition_arrays` is the whole engine on plain numpy arrays; the
GeoDataFrame wrapper in :mod:`gridplan.partition` sits on top of it.

The problem is *max-p regions with extras*: cut the cells into the largest number
``p`` of contiguous regions such that every region reaches every floor (e.g.
population ≥ 8,000 persons, customers ≥ 300), stays under the optional ceilings
(any column sum, e.g. population ≤ 20,000 or area ≤ 4 km²; diameter between cell
centroids ≤ ``max_diameter`` metres), and, among solutions with that ``p``, has the
lowest ``heterogeneity + compactness_weight × compactness`` (see
:mod:`gridplan._partition.solver` for both formulas and the search itself).

How the work is split:

1. Locked cells (``locked >= 0``) keep their label: every locked label is one
   region as it is, and locked cells never move.
2. The free cells are cut into connected components of the adjacency (the caller
   has removed the edges across districts or barriers when those must be
   respected, so each district is a union of components). Each component whose
   totals reach every floor is an independent problem, solved with its own seed
   ``(seed, component index)`` — serially or on a process pool; the results are
   merged in component order, so the output does not depend on the number of
   workers. Components below :data:`PORTFOLIO_CELLS` cells are one job each;
   from there on (a city in one piece) two searches over disjoint sets of
   constructions run as separate jobs, the better one is cut into two blocks of
   whole regions whose local search runs as two jobs, and the seams between the
   blocks are polished at the end; from :data:`BIG_COMPONENT` cells on every
   construction is a job and the blocks are about :data:`BLOCK_CELLS` cells. The
   split depends only on the data, never on the workers.
3. A component whose total is below a floor cannot hold a region of its own:

   - if it touches a locked region, it joins that region (contiguously);
   - else, with ``join_islands`` (default), it joins the region whose centroid is
     nearest to its own centroid *within the same group* (district): the one
     documented case where a region is not contiguous, listed in
     ``ArrayPartition.island_joins`` and the notes;
   - else (no region in its group, or ``join_islands=False``) the run fails with
     :class:`~gridplan.errors.InfeasibleError` naming the component, its group,
     its total, the floor and the choices.

Every cell ends in exactly one region or the run fails with the reason.
"""

from __future__ import annotations

import math
import multiprocessing
import os
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import scipy.sparse
import scipy.sparse.csgraph

from gridplan._partition.solver import (
    ComponentResult,
    ComponentTask,
    SearchResult,
    SolverParams,
    construct_runs,
    improve,
    polish_seams,
    region_blocks,
    search_component,
    solve_component,
    sub_task,
)
from gridplan.errors import InfeasibleError, InputError, Problem
from gridplan.progress import ProgressCallback, no_progress

#: Island joins described one by one in the notes; the rest are summed up in one note.
MAX_ISLAND_NOTES = 8

#: Free cells from which the automatic mode (``workers=None``) uses a process pool
#: (from :data:`PORTFOLIO_CELLS` on where processes start by ``fork``).
PARALLEL_MIN_CELLS = 20_000
#: Components with at least this many free cells (and fewer than ``BIG_COMPONENT``)
#: are solved in two waves so that both cores work on one city-sized component:
#: :data:`PORTFOLIO_PARTS` independent searches (constructions and the region-count
#: search) over disjoint sets of constructions, then the best one is cut into as
#: many blocks of whole regions whose local search runs independently.
PORTFOLIO_CELLS = 500
PORTFOLIO_PARTS = 2


class FrozenMap(dict):
    """A read-only dict that pickles (for process pools and Dask) and hashes."""

    def _read_only(self, *args: Any, **kwargs: Any) -> Any:
        raise TypeError("this mapping is read-only")

    __setitem__ = __delitem__ = clear = pop = popitem = setdefault = update = _read_only
    __ior__ = _read_only

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(tuple(sorted(self.items(), key=repr)))

    def __reduce__(self) -> tuple:
        return (FrozenMap, (dict(self),))

    def __repr__(self) -> str:
        return f"FrozenMap({dict.__repr__(self)})"


@dataclass(frozen=True)
class IslandJoin:
    """A free component too small for any floor, joined to an existing region.

    ``cells`` are input cell indices, ``region`` the output label it joined,
    ``distance_m`` the centroid distance in metres (``None`` when it joined an
    adjacent locked region or no coordinates were given), ``reason`` a sentence.
    """

    cells: tuple[int, ...]
    region: int
    distance_m: float | None
    reason: str


@dataclass(frozen=True)
class ArrayPartition:
    """Result of :func:`partition_arrays`.

    - ``labels``: region of every cell, ``0..p-1`` (int64), numbered by each
      region's smallest cell index;
    - ``p``: number of regions;
    - ``objective``: ``heterogeneity + compactness_weight × compactness``;
    - ``heterogeneity``: weighted within-region sum of squared deviations of the
      homogeneity attributes from their region mean (0 without attributes);
    - ``compactness``: ``Σ_r n_r × kappa_r`` with ``kappa_r`` the region's
      normalised moment of inertia (1.0 for a disc; 0 without coordinates);
    - ``region_heterogeneity``, ``region_compactness`` (``kappa``),
      ``region_floor_sums`` ``(p, f)``, ``region_ceil_sums`` ``(p, c)``,
      ``meets_floors``, ``meets_ceilings``, ``contiguous``: per region;
    - ``island_joins``: the components joined under the island rule;
    - ``locked_labels``: input locked label → output label;
    - ``notes``: sentences for the planner (island joins, regions that miss a
      floor or a ceiling and why, time limit reached …);
    - ``timing``: seconds per phase; ``hit_time_limit``: the time limit cut the
      search short (the result is valid but may differ between runs).
    """

    labels: np.ndarray
    p: int
    objective: float
    heterogeneity: float
    compactness: float
    region_heterogeneity: np.ndarray
    region_compactness: np.ndarray
    region_floor_sums: np.ndarray
    region_ceil_sums: np.ndarray
    meets_floors: np.ndarray
    meets_ceilings: np.ndarray
    contiguous: np.ndarray
    island_joins: tuple[IslandJoin, ...]
    locked_labels: FrozenMap
    notes: tuple[str, ...]
    timing: FrozenMap
    hit_time_limit: bool
    seed: int = 0
    construction_p: tuple[tuple[int, ...], ...] = field(default=())


# --------------------------------------------------------------------- inputs
def _as_2d(a: Any, n: int, name: str, problems: list[Problem]) -> np.ndarray | None:
    if a is None:
        return None
    arr = np.asarray(a, dtype=np.float64)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2 or arr.shape[0] != n:
        problems.append(
            Problem(
                f"{name} has shape {arr.shape}, expected ({n}, k)",
                f"partition_arrays({name}=...)",
                "give one row per cell",
            )
        )
        return None
    if not np.all(np.isfinite(arr)):
        bad = np.flatnonzero(~np.all(np.isfinite(arr), axis=1))
        problems.append(
            Problem(
                f"{name} has missing or infinite values in {len(bad)} cells",
                f"{name}, cells {_few(bad)}",
                "fill the missing values (0 where nothing is there)",
            )
        )
        return None
    return arr


def _as_1d(a: Any, n: int, name: str, problems: list[Problem]) -> np.ndarray | None:
    if a is None:
        return None
    arr = np.asarray(a, dtype=np.float64).ravel()
    if arr.shape != (n,):
        problems.append(
            Problem(
                f"{name} has {arr.size} values, expected {n}",
                f"partition_arrays({name}=...)",
                "give one value per cell",
            )
        )
        return None
    if not np.all(np.isfinite(arr)):
        bad = np.flatnonzero(~np.isfinite(arr))
        problems.append(
            Problem(
                f"{name} has missing or infinite values",
                f"{name}, cells {_few(bad)}",
                "fill the missing values",
            )
        )
        return None
    return arr


def _few(idx: np.ndarray | Sequence[int], k: int = 5) -> str:
    idx = list(idx)
    s = ", ".join(str(int(i)) for i in idx[:k])
    return s + (f" … ({len(idx)} in all)" if len(idx) > k else "")


def _fmt(v: float) -> str:
    return f"{v:,.0f}" if abs(v) >= 100 else f"{v:,.2f}".rstrip("0").rstrip(".")


def symmetric_csr(indptr: np.ndarray, indices: np.ndarray, n: int) -> scipy.sparse.csr_array:
    """The adjacency as a symmetric 0/1 CSR matrix without self loops (sorted indices)."""
    data = np.ones(len(indices), dtype=np.int8)
    a = scipy.sparse.csr_array((data, indices, indptr), shape=(n, n))
    a = ((a + a.T) > 0).astype(np.int8)
    a.setdiag(0)
    a.eliminate_zeros()
    a.sort_indices()
    return scipy.sparse.csr_array(a)


# ---------------------------------------------------------------- statistics
def region_stats(
    labels: np.ndarray,
    p: int,
    *,
    homog: np.ndarray | None,
    x: np.ndarray | None,
    y: np.ndarray | None,
    area: np.ndarray | None,
) -> tuple[np.ndarray, np.ndarray]:
    """Per-region heterogeneity (weighted SSD, homog already × sqrt(weight)) and kappa.

    ``kappa = 2π I / A²`` with ``I = Σ a_i |p_i − c|² + Σ a_i² / 2π`` (metres, m²);
    0 when no coordinates are given. Computed exactly (two passes), not incrementally.
    """
    het = np.zeros(p)
    if homog is not None and homog.shape[1]:
        cnt = np.bincount(labels, minlength=p).astype(float)
        for j in range(homog.shape[1]):
            z = homog[:, j]
            mean = np.bincount(labels, z, minlength=p) / np.maximum(cnt, 1)
            het += np.bincount(labels, (z - mean[labels]) ** 2, minlength=p)
    kappa = np.zeros(p)
    if x is not None and y is not None:
        a = np.ones(len(labels)) if area is None else area
        A = np.bincount(labels, a, minlength=p)
        safe = np.where(A > 0, A, 1.0)
        cx = np.bincount(labels, a * x, minlength=p) / safe
        cy = np.bincount(labels, a * y, minlength=p) / safe
        d2 = (x - cx[labels]) ** 2 + (y - cy[labels]) ** 2
        inertia = np.bincount(labels, a * d2 + a * a / (2 * math.pi), minlength=p)
        kappa = np.where(A > 0, 2 * math.pi * inertia / safe**2, 0.0)
    return het, kappa


def region_contiguity(adj: scipy.sparse.csr_array, labels: np.ndarray, p: int) -> np.ndarray:
    """True for every region whose cells form one connected piece of ``adj``."""
    coo = adj.tocoo()
    keep = labels[coo.row] == labels[coo.col]
    n = len(labels)
    sub = scipy.sparse.csr_array(
        (np.ones(int(keep.sum()), dtype=np.int8), (coo.row[keep], coo.col[keep])), shape=(n, n)
    )
    _, comp = scipy.sparse.csgraph.connected_components(sub, directed=False)
    pairs = np.unique(np.column_stack([labels, comp]), axis=0)
    pieces = np.bincount(pairs[:, 0], minlength=p)
    return pieces == 1


def region_diameters(labels: np.ndarray, p: int, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Largest distance between two cell centroids of each region (metres)."""
    order = np.argsort(labels, kind="stable")
    bounds = np.searchsorted(labels[order], np.arange(p + 1))
    out = np.zeros(p)
    for r in range(p):
        idx = order[bounds[r] : bounds[r + 1]]
        pts = np.column_stack([x[idx], y[idx]])
        if len(pts) > 64:
            try:
                from scipy.spatial import ConvexHull

                pts = pts[ConvexHull(pts).vertices]
            except Exception:  # degenerate (collinear) sets: use all points
                pass
        if len(pts) > 1:
            d = pts[:, None, :] - pts[None, :, :]
            out[r] = float(np.sqrt((d**2).sum(axis=2).max()))
    return out


# ---------------------------------------------------------------- execution
#: Components with at least this many free cells are solved in two waves: their
#: constructions run as separate jobs, then the best one is cut into blocks of
#: about :data:`BLOCK_CELLS` cells (whole regions) improved independently.
BIG_COMPONENT = 15_000
BLOCK_CELLS = 10_000
#: Lighter search budget of those blocks, so 100,000 cells take about 11 s on 2 free cores
#: (21 CPU-seconds; 0.2 % fewer grids than the full budget).
BLOCK_PARAMS: dict[str, Any] = {
    "lns_max_regions": 6,
    "lns_min_slack": 0.07,
    "second_round": False,
    "lns_passes": 2,
    "recombine_sweeps": 2,
    "ls_passes": 6,
    "tabu_max_moves": 3_000,
}


#: Free cells up to which every component gets the full search budget.
FULL_BUDGET_CELLS = 25_000


def solver_params(n_free: int, constructions: int) -> SolverParams:
    """Search budget for a run with ``n_free`` free cells (deterministic).

    Up to :data:`FULL_BUDGET_CELLS` the full budget; above it (a whole province
    in one run) fewer constructions and shorter searches, so that 100,000 cells
    take about 0.2–0.3 CPU-ms per cell (20–30 CPU-seconds, 10–15 s on two free cores).
    """
    k = max(1, int(constructions))
    if n_free <= FULL_BUDGET_CELLS:
        return SolverParams(constructions=k)
    return SolverParams(
        constructions=max(2, math.ceil(k * FULL_BUDGET_CELLS / n_free)),
        keep_best=1,
        lns_passes=2,
        lns_max_regions=6,
        lns_min_slack=0.07,
        second_round=False,
        recombine_sweeps=2,
        ls_passes=6,
        tabu_max_moves=3_000,
        tabu_moves_per_cell=0.25,
    )


def _run_jobs(jobs: list[tuple[str, Any]]) -> list[Any]:
    out: list[Any] = []
    for kind, payload in jobs:
        if kind == "solve":
            out.append(solve_component(payload))
        elif kind == "search":
            task, ks, keep = payload
            out.append(search_component(task, ks, keep))
        elif kind == "construct":
            task, ks = payload
            out.append(construct_runs(task, ks))
        elif kind == "finish":
            task, starts = payload
            out.append(improve(task, starts, search=False))
        else:  # improve
            task, starts = payload
            out.append(improve(task, starts))
    return out


def _mp_context() -> multiprocessing.context.BaseContext:
    """``fork`` in a single-threaded process (fast, no re-import of ``__main__``);
    ``forkserver`` or ``spawn`` when threads run (e.g. inside a web server)."""
    methods = multiprocessing.get_all_start_methods()
    if "fork" in methods and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")


def default_workers() -> int:
    """Workers used when none are given: ``min(2, cpu count)``."""
    return max(1, min(2, os.cpu_count() or 1))


def _job_size(kind: str, payload: Any) -> int:
    task = payload if kind == "solve" else payload[0]
    return len(task.indptr) - 1


def _run_wave(
    jobs: list[tuple[str, Any]],
    pool: ProcessPoolExecutor | None,
    n_workers: int,
    report: Any,
) -> list[Any]:
    """Run jobs serially or on the pool; results in job order."""
    if pool is None:
        out = []
        for job in jobs:
            out.extend(_run_jobs([job]))
            report(_job_size(*job))
        return out
    total = sum(_job_size(*j) for j in jobs) or 1
    target = max(500, total // (8 * n_workers))
    batches: list[list[int]] = []
    cur: list[int] = []
    cur_cells = 0
    for i in sorted(range(len(jobs)), key=lambda i: -_job_size(*jobs[i])):
        size = _job_size(*jobs[i])
        if size >= target:
            batches.append([i])
            continue
        cur.append(i)
        cur_cells += size
        if cur_cells >= target:
            batches.append(cur)
            cur, cur_cells = [], 0
    if cur:
        batches.append(cur)
    futures = [(pool.submit(_run_jobs, [jobs[i] for i in b]), b) for b in batches]
    results: list[Any] = [None] * len(jobs)
    for fut, b in futures:
        for i, r in zip(b, fut.result(), strict=True):
            results[i] = r
            report(_job_size(*jobs[i]))
    return results


def _execute(
    tasks: list[ComponentTask],
    workers: int | None,
    n_free: int,
    progress: ProgressCallback,
) -> list[ComponentResult]:
    """Solve the tasks serially or on a process pool; results in task order.

    The split into jobs depends only on the data (never on the number of
    workers), and every job has its own seed, so the result is the same either way.
    """
    n_workers = default_workers() if workers is None else max(1, int(workers))
    big = [t for t in tasks if len(t.indptr) - 1 >= BIG_COMPONENT]
    small = [t for t in tasks if len(t.indptr) - 1 < BIG_COMPONENT]
    n_jobs = (
        sum(len(_parts(t)) for t in small)
        + sum(_k_eff(t) for t in big)
        + sum(max(1, (len(t.indptr) - 1) // BLOCK_CELLS) for t in big)
    )
    use_pool = n_workers > 1 and n_jobs > 1
    if workers is None and n_free < PARALLEL_MIN_CELLS:
        # a pool pays off this early only where starting it is cheap (fork)
        use_pool = (
            use_pool and n_free >= PORTFOLIO_CELLS and _mp_context().get_start_method() == "fork"
        )
    # mid-sized and big components report twice (after each wave)
    total = float(
        sum((1 if len(_parts(t)) == 1 else 2) * (len(t.indptr) - 1) for t in small)
        + 2 * sum(len(t.indptr) - 1 for t in big)
    )
    done = [0.0]

    def report(cells: int) -> None:
        done[0] += cells
        progress(0.05 + 0.85 * min(1.0, done[0] / max(total, 1.0)), "solving components")

    if use_pool:
        try:
            return _execute_waves(tasks, small, big, n_workers, True, report)
        except (BrokenProcessPool, RuntimeError, OSError):
            # a pool that cannot start (e.g. a script without a __main__ guard under
            # spawn): the serial run gives the same result, only slower
            done[0] = 0.0
    return _execute_waves(tasks, small, big, n_workers, False, report)


def _parts(t: ComponentTask) -> list[list[int]]:
    """Construction numbers of each independent run of a component below
    :data:`BIG_COMPONENT`: one run with all of them, or :data:`PORTFOLIO_PARTS`
    runs over interleaved subsets from :data:`PORTFOLIO_CELLS` cells on."""
    ks = list(range(max(1, t.params.constructions)))
    if len(t.indptr) - 1 < PORTFOLIO_CELLS or len(ks) < 2:
        return [ks]
    n = min(PORTFOLIO_PARTS, len(ks))
    return [ks[j::n] for j in range(n)]


def _k_eff(t: ComponentTask) -> int:
    m = len(t.indptr) - 1
    k = t.params.constructions
    # at least two (one per core), fewer per cell as the component grows
    return min(k, max(2, math.ceil(k * BIG_COMPONENT / m)))


def _execute_waves(
    tasks: list[ComponentTask],
    small: list[ComponentTask],
    big: list[ComponentTask],
    n_workers: int,
    use_pool: bool,
    report: Any,
) -> list[ComponentResult]:
    """Wave 1: small components whole, the searches of mid-sized ones, the
    constructions of big ones; wave 2: the blocks of mid-sized and big ones."""
    mid = [t for t in small if len(_parts(t)) > 1]
    whole = [t for t in small if len(_parts(t)) == 1]
    wave1: list[tuple[str, Any]] = [("solve", t) for t in whole]
    for t in mid:
        parts = _parts(t)
        keep = max(1, t.params.keep_best // len(parts))
        wave1 += [("search", (t, ks, keep)) for ks in parts]
    for t in big:
        wave1 += [("construct", (t, [k])) for k in range(_k_eff(t))]
    pool = (
        ProcessPoolExecutor(max_workers=n_workers, mp_context=_mp_context()) if use_pool else None
    )
    try:
        res1 = _run_wave(wave1, pool, n_workers, lambda c: None)
        out: dict[int, ComponentResult] = {}
        for t, r in zip(whole, res1[: len(whole)], strict=True):
            out[t.index] = r
            report(len(t.indptr) - 1)
        pos = len(whole)
        wave2: list[tuple[str, Any]] = []
        plan: list[tuple[ComponentTask, list[np.ndarray], list[int], str]] = []

        def add_blocks(
            t: ComponentTask, k: int, labels: np.ndarray, cps: list[int], kind: str, cells_: int
        ) -> None:
            blocks = region_blocks(t, labels, cells_)
            prm = replace(t.params, **BLOCK_PARAMS) if kind == "improve" else t.params
            for j, cells in enumerate(blocks):
                _, init = np.unique(labels[cells], return_inverse=True)
                st = replace(sub_task(t, cells, j, seed=(t.seed * 7_919 + j) % (2**63)), params=prm)
                wave2.append((kind, (st, [(k, init.astype(np.int64))])))
            plan.append((t, blocks, cps, kind))

        for t in mid:
            m = len(t.indptr) - 1
            n_parts = len(_parts(t))
            found: list[SearchResult] = res1[pos : pos + n_parts]
            pos += n_parts
            report(m)
            cps = [c for r in found for c in r.construction_p]
            j = min(range(n_parts), key=lambda j: (-found[j].p, found[j].cost, j))
            best = found[j]
            if best.p == 0:
                out[t.index] = _one_region(t, cps)
                continue
            _, labels = np.unique(best.labels, return_inverse=True)
            add_blocks(t, best.k, labels, cps, "finish", math.ceil(m / n_parts))
        for t in big:
            m = len(t.indptr) - 1
            k_eff = _k_eff(t)
            runs = [r for job in res1[pos : pos + k_eff] for r in job]
            pos += k_eff
            report(m)
            cps = [r[0] for r in runs]
            ok = sorted((r for r in runs if r[0] > 0), key=lambda r: (-r[0], r[1], r[2]))
            if not ok:
                out[t.index] = _one_region(t, cps)
                continue
            _, _, k, labels = ok[0]
            add_blocks(t, k, labels, cps, "improve", BLOCK_CELLS)
        res2 = _run_wave(wave2, pool, n_workers, lambda c: report(c))
    finally:
        if pool is not None:
            pool.shutdown()
    pos = 0
    for t, blocks, cps, kind in plan:
        m = len(t.indptr) - 1
        labels = np.empty(m, dtype=np.int64)
        p = 0
        cost = 0.0
        hit = False
        for cells in blocks:
            lab_b, p_b, cost_b, hit_b = res2[pos]
            pos += 1
            labels[cells] = lab_b + p
            p += p_b
            cost += cost_b
            hit = hit or hit_b
        # renumber by smallest cell
        _, first = np.unique(labels, return_index=True)
        rank = np.empty(p, dtype=np.int64)
        rank[np.argsort(first, kind="stable")] = np.arange(p)
        labels = rank[labels]
        if kind == "finish" and len(blocks) > 1:
            # a mid-sized component: its few seams are worth a serial polish
            block = np.empty(m, dtype=np.int64)
            for j, cells in enumerate(blocks):
                block[cells] = j
            labels, p, cost = polish_seams(t, labels, block)
        out[t.index] = ComponentResult(
            t.index, labels, p, cost, hit, {"blocks": float(len(blocks))}, cps
        )
    return [out[t.index] for t in tasks]


def _one_region(t: ComponentTask, cps: list[int]) -> ComponentResult:
    """No construction could grow a region (ceilings or diameter too tight)."""
    m = len(t.indptr) - 1
    return ComponentResult(t.index, np.zeros(m, dtype=np.int64), 1, 0.0, False, {}, cps)


# ---------------------------------------------------------------- the engine
def partition_arrays(
    indptr: np.ndarray,
    indices: np.ndarray,
    floor_values: np.ndarray,
    floor_min: np.ndarray,
    *,
    ceil_values: np.ndarray | None = None,
    ceil_max: np.ndarray | None = None,
    homog: np.ndarray | None = None,
    homog_weights: np.ndarray | None = None,
    x: np.ndarray | None = None,
    y: np.ndarray | None = None,
    area: np.ndarray | None = None,
    max_diameter: float | None = None,
    compactness_weight: float = 1.0,
    locked: np.ndarray | None = None,
    group: np.ndarray | Sequence[Any] | None = None,
    floor_names: Sequence[str] | None = None,
    ceil_names: Sequence[str] | None = None,
    join_islands: bool = True,
    seed: int = 0,
    time_limit: float = 30.0,
    constructions: int = 8,
    workers: int | None = None,
    progress: ProgressCallback = no_progress,
) -> ArrayPartition:
    """Partition cells into the most regions meeting the floors (see the module doc).

    Parameters (``n`` cells, units as given by the caller, typically):

    - ``indptr``, ``indices``: CSR adjacency of the cells (made symmetric here; edges
      that must not be used — across districts or barriers — already removed);
    - ``floor_values`` ``(n, f)`` and ``floor_min`` ``(f,)``: every region's column
      sums must reach ``floor_min`` (e.g. persons, customers, CNY/month); a floor
      of 0 is no constraint;
    - ``ceil_values`` ``(n, c)`` and ``ceil_max`` ``(c,)``: column sums a region
      should not exceed (e.g. persons, km²);
    - ``homog`` ``(n, h)`` standardised attributes and ``homog_weights`` ``(h,)``:
      heterogeneity = Σ_r Σ_i Σ_h w_h (z_ih − mean_rh)²;
    - ``x``, ``y``: cell centroids in metres (a projected CRS); ``area``: cell
      areas (any unit, used as weights; 1 each when omitted);
    - ``max_diameter``: metres between the two farthest cell centroids of a region;
    - ``compactness_weight``: weight of the compactness term (0 = ignore shape);
    - ``locked``: int label per cell, ``-1`` = free; cells with the same label form
      one region that is kept as it is;
    - ``group``: district label per cell (messages and the island rule);
    - ``floor_names``, ``ceil_names``: column names for messages;
    - ``join_islands``: join components below a floor to the nearest region of
      their group (True) or fail (False);
    - ``seed``: same inputs + seed → same labels (also with several workers);
    - ``time_limit``: seconds; a safety net — the search stops early and the
      result says so (``hit_time_limit``);
    - ``constructions``: randomised constructions per component;
    - ``workers``: processes for independent components (``None`` = ``min(2,
      cpu)`` for large inputs, 1 = serial);
    - ``progress``: callback ``(fraction, message)``.

    Raises :class:`InputError` for malformed input (all problems at once) and
    :class:`InfeasibleError` when a component cannot reach a floor and cannot be
    joined to a region.
    """
    t_start = time.monotonic()
    deadline = t_start + float(time_limit)
    problems: list[Problem] = []
    indptr = np.asarray(indptr, dtype=np.int64).ravel()
    indices = np.asarray(indices, dtype=np.int64).ravel()
    n = len(indptr) - 1
    if n < 0 or (n >= 0 and len(indptr) and (indptr[0] != 0 or indptr[-1] != len(indices))):
        raise InputError(
            Problem(
                "the adjacency is not a CSR structure (indptr must start at 0 and end at "
                "len(indices))",
                "partition_arrays(indptr, indices)",
                "build it with gridplan.adjacency.Adjacency",
            )
        )
    if len(indices) and (indices.min() < 0 or indices.max() >= n):
        problems.append(
            Problem(
                "adjacency indices out of range 0..n-1",
                "partition_arrays(indices)",
                "rebuild the adjacency for these cells",
            )
        )
    fv = _as_2d(floor_values, n, "floor_values", problems)
    fmin = np.atleast_1d(np.asarray(floor_min, dtype=np.float64)).ravel()
    if fv is not None and fmin.shape != (fv.shape[1],):
        problems.append(
            Problem(
                f"{fmin.size} floor minima for {fv.shape[1]} floor columns",
                "partition_arrays(floor_min)",
                "give one minimum per floor column",
            )
        )
    elif not np.all(np.isfinite(fmin)) or np.any(fmin < 0):
        problems.append(
            Problem(
                "floor minima must be finite and >= 0",
                f"floor_min = {fmin.tolist()}",
                "set every floor to 0 or more",
            )
        )
    if fv is not None and np.any(fv < 0):
        bad = np.flatnonzero(np.any(fv < 0, axis=1))
        problems.append(
            Problem(
                "floor attributes must be >= 0",
                f"floor_values, cells {_few(bad)}",
                "fix the negative values",
            )
        )
    cv = _as_2d(ceil_values, n, "ceil_values", problems)
    cmax = None
    if cv is not None:
        cmax = np.atleast_1d(np.asarray(ceil_max, dtype=np.float64)).ravel()
        if cmax.shape != (cv.shape[1],) or not np.all(cmax > 0):
            problems.append(
                Problem(
                    "ceil_max needs one positive maximum per ceiling column",
                    f"ceil_max = {None if ceil_max is None else cmax.tolist()}",
                    "give a maximum > 0 for every ceiling column",
                )
            )
    hz = _as_2d(homog, n, "homog", problems)
    hw = None
    if hz is not None:
        hw = (
            np.ones(hz.shape[1])
            if homog_weights is None
            else np.atleast_1d(np.asarray(homog_weights, dtype=np.float64)).ravel()
        )
        if hw.shape != (hz.shape[1],) or np.any(hw < 0) or not np.all(np.isfinite(hw)):
            problems.append(
                Problem(
                    "homog_weights needs one weight >= 0 per homogeneity column",
                    f"homog_weights = {hw.tolist()}",
                    "give a finite weight >= 0 per column",
                )
            )
    xs = _as_1d(x, n, "x", problems)
    ys = _as_1d(y, n, "y", problems)
    if (xs is None) != (ys is None) and not problems:
        problems.append(
            Problem("x and y must be given together", "partition_arrays(x, y)", "give both")
        )
    ar = _as_1d(area, n, "area", problems)
    if ar is not None and np.any(ar < 0):
        problems.append(
            Problem("cell areas must be >= 0", "partition_arrays(area)", "fix the areas")
        )
    if max_diameter is not None:
        if not (max_diameter > 0):
            problems.append(
                Problem(
                    f"max_diameter must be > 0 metres, got {max_diameter}",
                    "partition_arrays(max_diameter)",
                    "give a positive distance or None",
                )
            )
        if x is None or y is None:
            problems.append(
                Problem(
                    "max_diameter needs cell coordinates",
                    "partition_arrays(x, y)",
                    "give x and y in metres",
                )
            )
    if not (compactness_weight >= 0) or not math.isfinite(compactness_weight):
        problems.append(
            Problem(
                f"compactness_weight must be >= 0, got {compactness_weight}",
                "partition_arrays(compactness_weight)",
                "give a finite weight >= 0",
            )
        )
    lk = None
    if locked is not None:
        lk = np.asarray(locked)
        if lk.shape != (n,) or not np.issubdtype(lk.dtype, np.integer):
            problems.append(
                Problem(
                    "locked must hold one integer label per cell (-1 = free)",
                    "partition_arrays(locked)",
                    "give int labels",
                )
            )
            lk = None
        else:
            lk = lk.astype(np.int64)
            if np.any(lk < -1):
                problems.append(
                    Problem(
                        "locked labels must be >= -1",
                        f"locked, cells {_few(np.flatnonzero(lk < -1))}",
                        "use -1 for free cells",
                    )
                )
    grp = None
    if group is not None:
        g = np.asarray(group, dtype=object)
        if g.shape != (n,):
            problems.append(
                Problem(
                    f"group has {g.size} values, expected {n}",
                    "partition_arrays(group)",
                    "give one district label per cell",
                )
            )
        else:
            grp = g
    if time_limit is None or not (time_limit > 0):
        problems.append(
            Problem(
                f"time_limit must be > 0 seconds, got {time_limit}",
                "partition_arrays(time_limit)",
                "give a positive number of seconds",
            )
        )
    if problems:
        raise InputError(problems)
    assert fv is not None
    f = fv.shape[1]
    fnames = list(floor_names) if floor_names is not None else [f"floor {j}" for j in range(f)]
    c = 0 if cv is None else cv.shape[1]
    cnames = list(ceil_names) if ceil_names is not None else [f"ceiling {j}" for j in range(c)]
    if n == 0:
        return _empty_result(f, c, seed)

    progress(0.0, f"partition: {n:,} cells")
    adj = symmetric_csr(indptr, indices, n)
    if lk is None:
        lk = np.full(n, -1, dtype=np.int64)
    free = lk < 0
    free_idx = np.flatnonzero(free)
    # components of the free subgraph
    sub = adj[free_idx][:, free_idx]
    n_comp, comp_local = scipy.sparse.csgraph.connected_components(sub, directed=False)
    # renumber components by their smallest cell (deterministic order)
    first = np.full(n_comp, len(free_idx), dtype=np.int64)
    np.minimum.at(first, comp_local, np.arange(len(free_idx)))
    rank = np.empty(n_comp, dtype=np.int64)
    rank[np.argsort(first, kind="stable")] = np.arange(n_comp)
    comp_local = rank[comp_local]
    order = np.argsort(comp_local, kind="stable")
    bounds = np.searchsorted(comp_local[order], np.arange(n_comp + 1))

    # normalised arrays
    active = fmin > 0
    U_all = fv[:, active] / fmin[active]
    C_all = None if cv is None or cmax is None else cv / cmax
    Z_all = None if hz is None or hw is None else hz * np.sqrt(hw)
    a_all = np.ones(n) if ar is None else ar
    scale = math.sqrt(float(a_all.mean())) if a_all.mean() > 0 else 1.0
    if ar is not None and a_all.mean() <= 0:
        a_all = np.ones(n)
    params = solver_params(len(free_idx), constructions)
    tasks: list[ComponentTask] = []
    task_cells: list[np.ndarray] = []
    small_comps: list[np.ndarray] = []
    for k in range(n_comp):
        cells = free_idx[order[bounds[k] : bounds[k + 1]]]
        tot = U_all[cells].sum(axis=0)
        if np.any(tot < 1.0 - 1e-9):
            small_comps.append(cells)
            continue
        local = sub[order[bounds[k] : bounds[k + 1]]][:, order[bounds[k] : bounds[k + 1]]]
        local = scipy.sparse.csr_array(local)
        local.sort_indices()
        cx = cy = None
        if xs is not None and ys is not None:
            cx = (xs[cells] - xs[cells].mean()) / scale
            cy = (ys[cells] - ys[cells].mean()) / scale
        tasks.append(
            ComponentTask(
                index=len(tasks),
                indptr=local.indptr.astype(np.int64),
                indices=local.indices.astype(np.int64),
                floors=np.ascontiguousarray(U_all[cells]),
                ceilings=None if C_all is None else np.ascontiguousarray(C_all[cells]),
                homog=None if Z_all is None else np.ascontiguousarray(Z_all[cells]),
                x=cx,
                y=cy,
                area=a_all[cells] / (scale * scale),
                max_diameter=None if max_diameter is None else float(max_diameter) / scale,
                compactness_weight=float(compactness_weight),
                seed=(int(seed) * 1_000_003 + len(tasks)) % (2**63),
                deadline=deadline,
                params=params,
            )
        )
        task_cells.append(cells)
    progress(0.05, f"{len(tasks)} components to solve, {len(small_comps)} below the floors")
    t_solve = time.monotonic()
    results = _execute(tasks, workers, len(free_idx), progress)
    solve_s = time.monotonic() - t_solve

    # merge: solved components in order, then locked regions
    labels = np.full(n, -1, dtype=np.int64)
    nxt = 0
    for cells, res in zip(task_cells, results, strict=True):
        labels[cells] = res.labels + nxt
        nxt += res.p
    locked_vals = np.unique(lk[~free])
    locked_map_tmp: dict[int, int] = {}
    for v in locked_vals.tolist():
        labels[lk == v] = nxt
        locked_map_tmp[int(v)] = nxt
        nxt += 1
    locked_region_ids = set(locked_map_tmp.values())
    notes: list[str] = []
    joins: list[tuple[np.ndarray, int, float | None, str]] = []
    infeasible: list[str] = []

    # components below a floor
    gcodes = None
    if grp is not None:
        _, gcodes = np.unique(grp.astype(str), return_inverse=True)
    if small_comps:
        fv_tot_name = [
            (fnames[j], fmin[j]) for j in range(f) if fmin[j] > 0
        ]  # names of active floors
        region_cells = labels >= 0
        cent = None
        if xs is not None and ys is not None and nxt > 0:
            lab_r = labels[region_cells]
            w = a_all[region_cells]
            wsum = np.bincount(lab_r, w, minlength=nxt)
            wsum = np.where(wsum > 0, wsum, 1.0)
            cent = np.column_stack(
                [
                    np.bincount(lab_r, w * xs[region_cells], minlength=nxt) / wsum,
                    np.bincount(lab_r, w * ys[region_cells], minlength=nxt) / wsum,
                ]
            )
        region_group = np.full(nxt, -1, dtype=np.int64)
        if gcodes is not None and nxt > 0:
            idx = np.flatnonzero(region_cells)
            region_group[labels[idx]] = gcodes[idx]
        for cells in small_comps:
            tot = fv[cells].sum(axis=0)
            short = [
                (name, float(tot[j]), float(fmin[j]))
                for j, (name, _) in zip(np.flatnonzero(active), fv_tot_name, strict=True)
                if tot[j] < fmin[j] - 1e-9 * max(1.0, fmin[j])
            ]
            gname = None
            if grp is not None:
                vals, cnts = np.unique(grp[cells].astype(str), return_counts=True)
                gname = str(vals[np.argmax(cnts)])
            what = ", ".join(
                f"{nm} total {_fmt(t)} is below the floor {_fmt(m)}" for nm, t, m in short
            )
            where = f"{len(cells)} cell{'s' if len(cells) != 1 else ''} (cells {_few(cells)})" + (
                f" in district {gname}" if gname is not None else ""
            )
            # 1) adjacent locked region
            nbr = adj[cells].indices
            nbr_lab = labels[nbr]
            cand = nbr_lab[np.isin(nbr_lab, list(locked_region_ids))] if locked_region_ids else []
            if len(cand):
                vals, cnts = np.unique(cand, return_counts=True)
                r = int(vals[np.argmax(cnts)])
                labels[cells] = r
                reason = f"part of {where}: {what}; joined the adjacent locked grid"
                joins.append((cells, r, None, reason))
                continue
            if join_islands and nxt > 0:
                if gcodes is not None:
                    g0 = np.bincount(gcodes[cells]).argmax()
                    ok = np.flatnonzero(region_group == g0)
                else:
                    ok = np.arange(nxt)
                if len(ok):
                    dist = None
                    if cent is not None:
                        w = a_all[cells]
                        ws = w.sum() if w.sum() > 0 else 1.0
                        px = float((w * xs[cells]).sum() / ws)
                        py = float((w * ys[cells]).sum() / ws)
                        d = np.hypot(cent[ok, 0] - px, cent[ok, 1] - py)
                        r = int(ok[np.argmin(d)])
                        dist = float(d.min())
                    else:
                        r = int(ok[0])
                    labels[cells] = r
                    reason = (
                        f"island of {where}: {what}; joined the nearest grid"
                        + (f" ({dist:,.0f} m between centroids)" if dist is not None else "")
                        + " — that grid is not contiguous"
                    )
                    joins.append((cells, r, dist, reason))
                    continue
            infeasible.append(f"{where}: {what}")
    if infeasible:
        fixes = ["lower the floor"]
        if grp is not None:
            fixes.append("allow crossing districts (respect_districts=False)")
        fixes.append("merge components (join the pieces or connect them across the barrier)")
        head = (
            "no grid can reach the floors in "
            + ("this part" if len(infeasible) == 1 else f"{len(infeasible)} parts")
            + " of the city"
        )
        raise InfeasibleError(head + ":\n  " + "\n  ".join(infeasible), suggestions=fixes)
    if np.any(labels < 0):  # pragma: no cover - guarded by the logic above
        raise RuntimeError("internal error: a cell was left without a region")

    # final numbering by smallest cell
    p = nxt
    firsts = np.full(p, n, dtype=np.int64)
    np.minimum.at(firsts, labels, np.arange(n))
    rank = np.empty(p, dtype=np.int64)
    rank[np.argsort(firsts, kind="stable")] = np.arange(p)
    labels = rank[labels]
    locked_map = {k: int(rank[v]) for k, v in locked_map_tmp.items()}
    island_joins = tuple(
        IslandJoin(tuple(int(i) for i in cells), int(rank[r]), d, reason)
        for cells, r, d, reason in joins
    )
    for j in island_joins[:MAX_ISLAND_NOTES]:
        notes.append(f"grid {j.region}: {j.reason}")
    if len(island_joins) > MAX_ISLAND_NOTES:
        rest = island_joins[MAX_ISLAND_NOTES:]
        n_cells = sum(len(j.cells) for j in rest)
        notes.append(
            f"{len(rest)} more pieces ({n_cells:,} cells) too small for the floors joined "
            f"their nearest grid (all listed in island_joins)"
        )

    # statistics (exact, from scratch)
    het, kappa = region_stats(labels, p, homog=Z_all, x=xs, y=ys, area=a_all)
    cnt = np.bincount(labels, minlength=p)
    fsum = np.column_stack([np.bincount(labels, fv[:, j], minlength=p) for j in range(f)]).reshape(
        p, f
    )
    meets_floors = np.all(fsum >= fmin * (1 - 1e-9), axis=1)
    if cv is not None and cmax is not None:
        csum = np.column_stack(
            [np.bincount(labels, cv[:, j], minlength=p) for j in range(c)]
        ).reshape(p, c)
        meets_ceil = np.all(csum <= cmax * (1 + 1e-9), axis=1)
    else:
        csum = np.zeros((p, 0))
        meets_ceil = np.ones(p, dtype=bool)
    if max_diameter is not None and xs is not None and ys is not None:
        diam = region_diameters(labels, p, xs, ys)
        too_wide = diam > float(max_diameter) * (1 + 1e-9)
        meets_ceil = meets_ceil & ~too_wide
    else:
        diam = None
    contiguous = region_contiguity(adj, labels, p)
    for v, r in locked_map.items():
        if not meets_floors[r]:
            notes.append(f"grid {r} (locked label {v}) is below a floor; it is kept as locked")
        if not contiguous[r]:
            notes.append(f"grid {r} (locked label {v}) is not contiguous; it is kept as locked")
    for r in np.flatnonzero(~meets_ceil):
        parts = [
            f"{cnames[j]} {_fmt(csum[r, j])} > {_fmt(cmax[j])}"
            for j in range(c)
            if cmax is not None and csum[r, j] > cmax[j] * (1 + 1e-9)
        ]
        if diam is not None and diam[r] > float(max_diameter) * (1 + 1e-9):
            parts.append(f"diameter {diam[r]:,.0f} m > {float(max_diameter):,.0f} m")
        notes.append(
            f"grid {int(r)} exceeds a ceiling ({'; '.join(parts)}): the search found no "
            "smaller grid meeting the floors here; raise the ceiling or lower the floor"
        )
    hit = any(r.hit_deadline for r in results)
    if hit:
        notes.append(
            f"the time limit of {time_limit:g} s cut the search short: the grids are valid "
            "but another run may differ; raise the time limit for reproducible results"
        )
    heterogeneity = float(het.sum())
    compactness = float((cnt * kappa).sum()) if xs is not None else 0.0
    objective = heterogeneity + float(compactness_weight) * compactness
    timing = {
        "solve_s": solve_s,
        "total_s": time.monotonic() - t_start,
        "construct_s": sum(r.timing.get("construct_s", 0.0) for r in results),
        "search_s": sum(r.timing.get("search_s", 0.0) for r in results),
        "improve_s": sum(r.timing.get("improve_s", 0.0) for r in results),
    }
    progress(1.0, f"{p:,} grids")
    return ArrayPartition(
        labels=labels,
        p=p,
        objective=objective,
        heterogeneity=heterogeneity,
        compactness=compactness,
        region_heterogeneity=het,
        region_compactness=kappa,
        region_floor_sums=fsum,
        region_ceil_sums=csum,
        meets_floors=meets_floors,
        meets_ceilings=meets_ceil,
        contiguous=contiguous,
        island_joins=island_joins,
        locked_labels=FrozenMap(locked_map),
        notes=tuple(notes),
        timing=FrozenMap(timing),
        hit_time_limit=hit,
        seed=int(seed),
        construction_p=tuple(tuple(r.construction_p) for r in results),
    )


def _empty_result(f: int, c: int, seed: int) -> ArrayPartition:
    return ArrayPartition(
        labels=np.zeros(0, dtype=np.int64),
        p=0,
        objective=0.0,
        heterogeneity=0.0,
        compactness=0.0,
        region_heterogeneity=np.zeros(0),
        region_compactness=np.zeros(0),
        region_floor_sums=np.zeros((0, f)),
        region_ceil_sums=np.zeros((0, c)),
        meets_floors=np.zeros(0, dtype=bool),
        meets_ceilings=np.zeros(0, dtype=bool),
        contiguous=np.zeros(0, dtype=bool),
        island_joins=(),
        locked_labels=FrozenMap({}),
        notes=(),
        timing=FrozenMap({"total_s": 0.0}),
        hit_time_limit=False,
        seed=int(seed),
    )
