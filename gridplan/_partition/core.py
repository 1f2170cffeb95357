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
   workers. Components below :data:`PORTFOLIO_CELLS` cells, or holding less than
   :data:`PORTFOLIO_SHARE` of the free cells, are one job each;
   from there on (a city in one piece) two searches over disjoint sets of
   constructions run as separate jobs, the better one is cut into two blocks of
   whole regions whose local search runs as two jobs, and the seams between the
   blocks are polished at the end; from :data:`BIG_COMPONENT` cells on every
   construction is a job and the blocks are about :data:`BLOCK_CELLS` cells. The
   split depends only on the data, never on the workers.
3. A component whose total is below a floor cannot hold a region of its own:

   - if it touches a locked region, it joins that region (contiguously);
   - else, if it shares a boundary the caller removed (a barrier) with a region,
     or it is empty and lies near one (``proximity``), it joins that region;
   - else, with ``join_islands`` (default), it joins the region of its group
     (district) with the nearest cell: the documented case where a region is not
     contiguous (the shared rule of :mod:`gridplan.cells.detached`), listed in
     ``ArrayPartition.island_joins`` with its kind and summed up in the notes;
   - else (no region in its group, or ``join_islands=False``) the run fails with
     :class:`~gridplan.errors.InfeasibleError` naming the component, its group,
     its total, the floor and the choices.

Every cell ends in exactly one region or the run fails with the reason.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import replace
from typing import Any

import numpy as np

from gridplan._partition.checks import Inputs, check_inputs
from gridplan._partition.components import build_tasks, free_components, normalise, symmetric_csr
from gridplan._partition.islands import (
    MAX_ISLAND_NOTES,
    DetachedInputs,
    island_notes,
    join_small_components,
)
from gridplan._partition.pool import POOL_FAILURES, EnginePool, default_workers, mp_context
from gridplan._partition.results import ArrayPartition, FrozenMap, IslandJoin, empty_result
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
from gridplan._partition.stats import (
    partition_stats,
    region_contiguity,
    region_diameters,
    region_stats,
)
from gridplan.cells.detached import DEFAULT_DETACHED, DetachedConfig, Proximity
from gridplan.errors import InputError, Problem
from gridplan.progress import ProgressCallback, no_progress

__all__ = [
    "BIG_COMPONENT",
    "BLOCK_CELLS",
    "BLOCK_PARAMS",
    "FORKSERVER_MIN_CELLS",
    "FULL_BUDGET_CELLS",
    "MAX_ISLAND_NOTES",
    "PARALLEL_MIN_CELLS",
    "PORTFOLIO_CELLS",
    "PORTFOLIO_PARAMS",
    "PORTFOLIO_PARTS",
    "PORTFOLIO_SHARE",
    "ArrayPartition",
    "EnginePool",
    "FrozenMap",
    "IslandJoin",
    "default_workers",
    "partition_arrays",
    "region_contiguity",
    "region_diameters",
    "region_stats",
    "solver_params",
    "symmetric_csr",
]


#: Free cells from which the automatic mode (``workers=None``) uses a process pool
#: (from :data:`PORTFOLIO_CELLS` on where processes start by ``fork``, from
#: :data:`FORKSERVER_MIN_CELLS` on where they start from a fork server).
PARALLEL_MIN_CELLS = 20_000
#: A pool started for one run from a fork server (threads running, e.g. the app)
#: pays for its workers every run: measured in a threaded process on the Seoul demo
#: (8,719 cells), 5.0–6.1 s against 2.9 s serial, so below :data:`PARALLEL_MIN_CELLS`
#: the automatic mode stays serial there. A kept :class:`EnginePool` (warm workers)
#: took 1.5 s on the same run.
FORKSERVER_MIN_CELLS = PARALLEL_MIN_CELLS
#: Components with at least this many free cells (and fewer than ``BIG_COMPONENT``)
#: are solved in two waves so that both cores work on one city-sized component:
#: :data:`PORTFOLIO_PARTS` independent searches (constructions and the region-count
#: search) over disjoint sets of constructions, then the best one is cut into as
#: many blocks of whole regions whose local search runs independently.
PORTFOLIO_CELLS = 500
PORTFOLIO_PARTS = 2
#: ... and hold at least this share of the run's free cells: with many components
#: (a city cut by its districts) the cores already share whole components, and
#: one search per component (instead of one per part) halves its search work.
PORTFOLIO_SHARE = 0.25
#: Region-count search of those components (a city in one piece, e.g. the 40×40
#: lattice: 0.5 % more grids than the lighter default that suits many districts).
PORTFOLIO_PARAMS: dict[str, Any] = {"lns_min_slack": 0.05, "lns_attempts": 2}


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
    "lns_attempts": 2,
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
        lns_attempts=2,
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


def _job_size(kind: str, payload: Any) -> int:
    task = payload if kind == "solve" else payload[0]
    return len(task.indptr) - 1


def _run_wave(
    jobs: list[tuple[str, Any]],
    pool: Executor | None,
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
    pool: EnginePool | None = None,
) -> list[ComponentResult]:
    """Solve the tasks serially or on a process pool (``pool``, a kept one, or one
    started for this run); results in task order.

    The split into jobs depends only on the data (never on the number of
    workers), and every job has its own seed, so the result is the same either way.
    """
    if pool is not None and workers is None:
        workers = pool.workers
    n_workers = default_workers() if workers is None else max(1, int(workers))
    tasks = _mark_portfolio(tasks)
    big = [t for t in tasks if len(t.indptr) - 1 >= BIG_COMPONENT]
    small = [t for t in tasks if len(t.indptr) - 1 < BIG_COMPONENT]
    n_jobs = (
        sum(len(_parts(t)) for t in small)
        + sum(_k_eff(t) for t in big)
        + sum(max(1, (len(t.indptr) - 1) // BLOCK_CELLS) for t in big)
    )
    use_pool = n_workers > 1 and n_jobs > 1
    if pool is None and workers is None and n_free < PARALLEL_MIN_CELLS:
        # a pool started for this run pays off this early only where starting it is
        # cheap (fork); a kept pool (``pool``) costs nothing to start
        method = mp_context().get_start_method()
        least = {"fork": PORTFOLIO_CELLS, "forkserver": FORKSERVER_MIN_CELLS}
        use_pool = use_pool and n_free >= least.get(method, PARALLEL_MIN_CELLS)
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
            return _execute_waves(tasks, small, big, n_workers, pool or True, report)
        except POOL_FAILURES:
            if pool is not None:
                pool.mark_broken()
            # a pool that cannot start (e.g. a script without a __main__ guard under
            # spawn): the serial run gives the same result, only slower
            done[0] = 0.0
    return _execute_waves(tasks, small, big, n_workers, False, report)


def _mark_portfolio(tasks: list[ComponentTask]) -> list[ComponentTask]:
    """The tasks with ``portfolio`` set where a component holds
    :data:`PORTFOLIO_SHARE` of the run's cells (with :data:`PORTFOLIO_PARAMS` when
    it gets the portfolio and the full budget)."""
    n_task_cells = sum(len(t.indptr) - 1 for t in tasks)
    out = []
    for t in tasks:
        m = len(t.indptr) - 1
        share = m >= PORTFOLIO_SHARE * n_task_cells
        t = replace(t, portfolio=share)
        if share and PORTFOLIO_CELLS <= m < BIG_COMPONENT and n_task_cells <= FULL_BUDGET_CELLS:
            t = replace(t, params=replace(t.params, **PORTFOLIO_PARAMS))
        out.append(t)
    return out


def _parts(t: ComponentTask) -> list[list[int]]:
    """Construction numbers of each independent run of a component below
    :data:`BIG_COMPONENT`: one run with all of them, or :data:`PORTFOLIO_PARTS`
    runs over interleaved subsets from :data:`PORTFOLIO_CELLS` cells on when the
    component holds :data:`PORTFOLIO_SHARE` of the run's free cells."""
    ks = list(range(max(1, t.params.constructions)))
    if len(t.indptr) - 1 < PORTFOLIO_CELLS or len(ks) < 2 or not t.portfolio:
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
    use_pool: bool | EnginePool,
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
    kept = use_pool if isinstance(use_pool, EnginePool) else None
    pool: Executor | None = None
    if kept is not None:
        pool = kept.executor()
    elif use_pool:
        pool = ProcessPoolExecutor(max_workers=n_workers, mp_context=mp_context())
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
        if pool is not None and kept is None:
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
    population: np.ndarray | None = None,
    proximity: Proximity | None = None,
    detached: DetachedConfig = DEFAULT_DETACHED,
    cell_ids: Sequence[Any] | np.ndarray | None = None,
    seed: int = 0,
    time_limit: float = 30.0,
    constructions: int = 8,
    workers: int | None = None,
    progress: ProgressCallback = no_progress,
    pool: EnginePool | None = None,
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
      areas in the square of the coordinates' unit (m²; the compactness term adds
      the cells' own moment a²/2π to Σ a·|p − c|², so km² with metres would weigh
      it 10⁶ times too much); 1 each when omitted (then x, y in cell spacings);
    - ``max_diameter``: metres between the two farthest cell centroids of a region;
    - ``compactness_weight``: weight of the compactness term (0 = ignore shape);
    - ``locked``: int label per cell, ``-1`` = free; cells with the same label form
      one region that is kept as it is;
    - ``group``: district label per cell (messages and the island rule);
    - ``floor_names``, ``ceil_names``: column names for messages;
    - ``join_islands``: join components below a floor to the nearest region of
      their group (True) or fail (False);
    - ``population`` ``(n,)``: persons per cell (empty slivers, ``detached``
      thresholds); ``proximity``: cells within ``detached.max_gap_m`` metres of each
      other and the edges removed for barriers (:class:`~gridplan.cells.detached.Proximity`);
    - ``cell_ids``: cell names for messages (default: row positions);
    - ``seed``: same inputs + seed → same labels (also with several workers);
    - ``time_limit``: seconds; a safety net — the search stops early and the
      result says so (``hit_time_limit``);
    - ``constructions``: randomised constructions per component;
    - ``workers``: processes for independent components (``None`` = ``min(2,
      cpu)`` for large inputs, 1 = serial);
    - ``progress``: callback ``(fraction, message)``;
    - ``pool``: an :class:`~gridplan._partition.pool.EnginePool` kept by the caller
      (e.g. a web server) to run on instead of starting processes for this run; its
      size is the number of workers unless ``workers`` is given (1 = serial). The
      labels are the same with and without it.

    Raises :class:`InputError` for malformed input (all problems at once) and
    :class:`InfeasibleError` when a component cannot reach a floor and cannot be
    joined to a region.
    """
    t_start = time.monotonic()
    inp = check_inputs(
        indptr,
        indices,
        floor_values,
        floor_min,
        ceil_values=ceil_values,
        ceil_max=ceil_max,
        homog=homog,
        homog_weights=homog_weights,
        x=x,
        y=y,
        area=area,
        max_diameter=max_diameter,
        compactness_weight=compactness_weight,
        locked=locked,
        group=group,
        floor_names=floor_names,
        ceil_names=ceil_names,
        join_islands=join_islands,
        seed=seed,
        time_limit=time_limit,
        constructions=constructions,
        workers=workers,
    )
    if inp.n == 0:
        return empty_result(inp.n_floors, inp.n_ceils, seed)
    det = DetachedInputs(
        None if population is None else _per_cell(population, inp.n, "population"),
        proximity,
        detached,
        None if cell_ids is None else np.asarray(cell_ids, dtype=object),
    )
    if det.cell_ids is not None and len(det.cell_ids) != inp.n:
        raise InputError(Problem(f"cell_ids needs {inp.n} values", "cell_ids", "one per cell"))
    return _partition(inp, t_start, progress, det, pool)


def _per_cell(v: Any, n: int, what: str) -> np.ndarray:
    a = np.asarray(v, dtype=float).reshape(-1)
    if len(a) != n:
        raise InputError(Problem(f"{what} needs {n} values, got {len(a)}", what, "one per cell"))
    return a


def _partition(
    inp: Inputs,
    t_start: float,
    progress: ProgressCallback,
    det: DetachedInputs | None = None,
    pool: EnginePool | None = None,
) -> ArrayPartition:
    """The phases of :func:`partition_arrays` on checked inputs (``inp.n > 0``)."""
    n = inp.n
    deadline = t_start + float(inp.time_limit)
    progress(0.0, f"partition: {n:,} cells")
    adj = symmetric_csr(inp.indptr, inp.indices, n)
    comps = free_components(adj, inp.locked)
    norm = normalise(inp)
    params = solver_params(len(comps.free_idx), inp.constructions)
    tasks, task_cells, small_comps = build_tasks(inp, norm, comps, params, deadline)
    progress(0.05, f"{len(tasks)} components to solve, {len(small_comps)} below the floors")
    t_solve = time.monotonic()
    results = _execute(tasks, inp.workers, len(comps.free_idx), progress, pool)
    solve_s = time.monotonic() - t_solve
    labels, n_regions, locked_tmp = _merge(n, task_cells, results, inp.locked)
    joins = join_small_components(
        inp, adj, labels, n_regions, set(locked_tmp.values()), small_comps, norm.area, det
    )
    if np.any(labels < 0):  # pragma: no cover - guarded by the logic above
        raise RuntimeError("internal error: a cell was left without a region")
    p = n_regions
    labels, rank = _renumber(labels, p)
    locked_map = {k: int(rank[v]) for k, v in locked_tmp.items()}
    pop = None if det is None else det.population
    island_joins = tuple(
        IslandJoin(
            tuple(int(i) for i in cells),
            int(rank[r]),
            d,
            reason,
            kind,
            None if pop is None else float(pop[cells].sum()),
        )
        for cells, r, d, reason, kind in joins
    )
    notes = island_notes(island_joins, None if det is None else det.cell_ids)
    st = partition_stats(inp, adj, labels, p, norm.homog, norm.area, locked_map, notes)
    hit = any(r.hit_deadline for r in results)
    if hit:
        notes.append(
            f"the time limit of {inp.time_limit:g} s cut the search short: the grids are valid "
            "but another run may differ; raise the time limit for reproducible results"
        )
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
        objective=st.heterogeneity + float(inp.compactness_weight) * st.compactness,
        heterogeneity=st.heterogeneity,
        compactness=st.compactness,
        region_heterogeneity=st.region_heterogeneity,
        region_compactness=st.region_compactness,
        region_floor_sums=st.region_floor_sums,
        region_ceil_sums=st.region_ceil_sums,
        meets_floors=st.meets_floors,
        meets_ceilings=st.meets_ceilings,
        contiguous=st.contiguous,
        island_joins=island_joins,
        locked_labels=FrozenMap(locked_map),
        notes=tuple(notes),
        timing=FrozenMap(timing),
        hit_time_limit=hit,
        seed=int(inp.seed),
        construction_p=tuple(tuple(r.construction_p) for r in results),
    )


def _merge(
    n: int, task_cells: list[np.ndarray], results: list[ComponentResult], locked: np.ndarray
) -> tuple[np.ndarray, int, dict[int, int]]:
    """Labels of the solved components in component order, then one region per
    locked label: ``(labels (-1 for cells of no region yet), regions, locked label →
    region)``."""
    labels = np.full(n, -1, dtype=np.int64)
    nxt = 0
    for cells, res in zip(task_cells, results, strict=True):
        labels[cells] = res.labels + nxt
        nxt += res.p
    locked_map: dict[int, int] = {}
    for v in np.unique(locked[locked >= 0]).tolist():
        labels[locked == v] = nxt
        locked_map[int(v)] = nxt
        nxt += 1
    return labels, nxt, locked_map


def _renumber(labels: np.ndarray, p: int) -> tuple[np.ndarray, np.ndarray]:
    """Regions renumbered by their smallest cell: ``(new labels, new id of every old id)``."""
    firsts = np.full(p, len(labels), dtype=np.int64)
    np.minimum.at(firsts, labels, np.arange(len(labels)))
    rank = np.empty(p, dtype=np.int64)
    rank[np.argsort(firsts, kind="stable")] = np.arange(p)
    return rank[labels], rank
