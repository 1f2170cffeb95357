"""The balance engine on integer arrays: construct, anneal, polish with CP-SAT.

Pipeline (all steps seeded, see :func:`optimise`):

1. **Start.** The previous plan when it is given (minimum disruption), else several
   randomised sequential region-growing constructions
   (:func:`gridplan.balance_search.construct`), each made contiguous and repaired
   towards the balance bands; the best (least off-band weight, then objective) is kept.
2. **Exact solve of small instances.** When ``n`` is small the whole problem goes to the
   CP-SAT model of :mod:`gridplan._balance.model` with the best plan as hint; a proof of
   optimality ends the run early.
3. **Search.** Rounds of simulated annealing on boundary flips with a balance penalty
   (:func:`gridplan.balance_search.anneal`), alternating restarts from the best plan
   (intensify) and from fresh constructions (diversify), each followed by a repair
   (single moves, then ejection chains that carry weight across territories,
   :func:`gridplan.balance_search.chain_repair`) and a descent. For the plain cut-edge
   objective each round's plan is then made optimal for every pair of adjacent
   territories (and, every few rounds, every three) by the CP-SAT cut model of
   :mod:`gridplan._balance.cut`. The last moments of the time limit are kept to bring
   an off-band plan back into the bands.
4. **Polish.** Large-neighbourhood search with CP-SAT on two or three adjacent
   territories at a time (:mod:`gridplan._balance.lns`).

Work is counted in annealing steps and CP-SAT deterministic seconds, so for a given seed
the result does not depend on the machine as long as the wall-clock limit is not what
stops the run (the report says which limit stopped it). :func:`optimise_parallel` runs
several such searches with different seeds in forked processes and keeps the best
(ties to the lowest index), which keeps that property.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from gridplan._balance.cut import polish
from gridplan._balance.lns import LnsContext, run_lns
from gridplan._balance.model import SubProblem, solve_subproblem
from gridplan._balance.search import (
    State,
    anneal,
    chain_repair,
    construct,
    descent,
    fix_contiguity,
    repair,
    spectral_construct,
)

__all__ = ["EngineInput", "EngineResult", "optimise", "optimise_parallel"]

#: annealing steps granted per second of time limit (the deterministic work budget)
STEPS_PER_SECOND = 150_000
#: largest instance (nodes x territories) handed whole to CP-SAT
EXACT_MAX_NK = 80


@dataclass
class EngineInput:
    """Integer data of one run. ``cost`` (n, k) are per-assignment costs in objective
    units (compactness / home base / disruption), ``cut_scale`` the cost of one cut edge."""

    adj: list[list[int]]
    edges: np.ndarray
    weight: list[int]
    lo: list[int]
    hi: list[int]
    target: list[int]
    locked: list[int]  # -1 free, else territory
    cut_scale: int = 1
    cost: list[list[int]] | None = None
    previous: list[int] | None = None
    max_moved: int | None = None
    max_moved_weight: int | None = None
    interchangeable: bool = True
    refresh_costs: Callable[[list[int]], list[list[int]] | None] | None = None
    lexicographic_moves: bool = False  # disruption first: no annealing, CP-SAT polish only
    temp_unit: int = 0  # annealing temperature unit (objective units); 0 = cut_scale


@dataclass
class EngineResult:
    labels: list[int]
    objective: int
    violation: int
    stats: dict = field(default_factory=dict)


def _moved(prev: list[int] | None, lab: list[int], w: list[int]) -> tuple[int, int]:
    if prev is None:
        return 0, 0
    c = s = 0
    for i, p in enumerate(prev):
        if p >= 0 and lab[i] != p:
            c += 1
            s += w[i]
    return c, s


def _caps_ok(inp: EngineInput, lab: list[int]) -> bool:
    c, s = _moved(inp.previous, lab, inp.weight)
    if inp.max_moved is not None and c > inp.max_moved:
        return False
    return not (inp.max_moved_weight is not None and s > inp.max_moved_weight)


def _key(st: State) -> tuple[int, int]:
    return (st.violation(), st.objective())


def optimise(
    inp: EngineInput,
    *,
    seed: int = 0,
    time_limit: float = 60.0,
    workers: int = 1,
    progress: Callable[[float, str], None] | None = None,
    clock: Callable[[], float] = time.monotonic,
    work_limit: float | None = None,
) -> EngineResult:
    """Run the whole pipeline and return the best plan found (see the module doc)."""
    t0 = clock()
    # finish a little early: the caller still builds the report and writes files
    deadline = t0 + max(0.05, float(time_limit) - min(0.5, 0.03 * float(time_limit)))
    rng = np.random.default_rng(seed)
    n = len(inp.adj)
    k = len(inp.lo)
    adj, w = inp.adj, inp.weight
    locked_b = [x >= 0 for x in inp.locked]
    work = max(float(time_limit if work_limit is None else work_limit), 0.05)
    budget = int(STEPS_PER_SECOND * work * 0.8)
    stats: dict = {"stopped_by": "convergence", "anneal_steps": 0, "exact": None}

    def report(frac: float, msg: str) -> None:
        if progress is not None:
            progress(min(max(frac, 0.0), 1.0), msg)

    def new_state(lab: list[int]) -> State:
        return State(
            adj, w, inp.lo, inp.hi, lab, locked=locked_b, cost=inp.cost, cut_scale=inp.cut_scale
        )

    can_spectral = all(x < 0 for x in inp.locked) and n <= 50_000

    def fresh(r: np.random.Generator, kind: str = "grow", jitter: float = 1.0) -> State:
        if kind == "spectral" and can_spectral:
            lab = spectral_construct(adj, w, inp.target, r, jitter=jitter)
        else:
            lab = construct(adj, w, inp.lo, inp.hi, inp.target, fixed=inp.locked, rng=r)
        lab = fix_contiguity(adj, lab, w, k, locked_b)
        st = new_state(lab)
        repair(st, r, deadline=deadline, clock=clock)
        if st.violation() > 0:
            chain_repair(st, r, deadline=deadline, clock=clock)
        return st

    # 1. start
    report(0.0, "building a start plan")
    best_st: State | None = None
    if inp.previous is not None and all(p >= 0 for p in inp.previous):
        lab = list(inp.previous)
        for i, lk in enumerate(inp.locked):
            if lk >= 0:
                lab[i] = lk
        lab = fix_contiguity(adj, lab, w, k, locked_b)
        best_st = new_state(lab)
        if best_st.violation() > 0:
            repair(best_st, rng)
            if best_st.violation() > 0:
                chain_repair(best_st, rng, deadline=deadline, clock=clock)
    else:
        kinds = [("spectral", 0.0), ("grow", 1.0), ("spectral", 1.0), ("grow", 1.0)]
        if n * k > 200_000:
            kinds = kinds[:2]
        for kind, jit in kinds:
            st = fresh(rng, kind, jit)
            if st.violation() == 0:
                descent(st, rng, max_passes=3)
            if best_st is None or _key(st) < _key(best_st):
                best_st = st
            if clock() > t0 + 0.25 * time_limit:
                break
    assert best_st is not None
    if best_st.violation() == 0:
        descent(best_st, rng, max_passes=5)
    best_lab = list(best_st.lab)
    best_key = _key(best_st)
    report(0.05, f"start plan: cut edges {best_st.cut_edges()}")

    def consider(st: State) -> bool:
        nonlocal best_lab, best_key
        key = _key(st)
        if key < best_key and _caps_ok(inp, st.lab):
            best_lab, best_key = list(st.lab), key
            return True
        return False

    disruption = inp.previous is not None and inp.lexicographic_moves
    unit = inp.temp_unit or max(inp.cut_scale, 1)
    proven = False

    # 2. exact CP-SAT on small instances
    exact_ok = (
        n * k <= EXACT_MAX_NK
        and inp.refresh_costs is None
        and not (inp.max_moved is not None or inp.max_moved_weight is not None)
    )
    if exact_ok:
        proven = _exact(
            inp, best_lab if best_key[0] == 0 else None, rng, deadline, t0, workers, stats, clock
        )
        if stats.get("exact_labels") is not None:
            st = new_state(stats.pop("exact_labels"))
            consider(st)
        if proven:
            report(1.0, "optimal plan proven")
            return EngineResult(best_lab, best_key[1], best_key[0], stats)

    # 3. annealing rounds. Minimising disruption first: a start plan that already
    #    meets the bands is the answer (any move costs more than any gain); otherwise
    #    anneal from it with the temperature in units of one move (no fresh restarts).
    if disruption and best_key[0] == 0:
        stats["stopped_by"] = "convergence"
        report(1.0, "the previous plan meets the tolerance: nothing to move")
        return EngineResult(best_lab, best_key[1], best_key[0], stats)
    # exact re-solves of 2-3 adjacent territories (plain cut-edge objective)
    cut_exact = (
        inp.cost is None
        and inp.refresh_costs is None
        and inp.previous is None
        and inp.cut_scale > 0
        and 2 <= k <= 8  # districting-like: few territories (large k: the LNS of step 4)
    )
    edges_np = np.asarray(inp.edges, dtype=np.int64).reshape(-1, 2)
    stats["exact_lns"] = {"calls": 0, "improvements": 0, "dtime": 0.0}

    def exact_polish(lab: list[int], size: int, dt: float) -> list[int]:
        if not cut_exact or size >= k or clock() > deadline - 0.1:
            return lab
        out, info = polish(
            adj, edges_np, w, inp.lo, inp.hi, lab, locked=locked_b, size=size,
            dtime=dt, call_dtime=max(0.2, dt / 2), seed=int(rng.integers(1 << 30)),
            deadline=deadline, clock=clock,
        )  # fmt: skip
        es = stats["exact_lns"]
        es["calls"] += info["calls"]
        es["improvements"] += info["improvements"]
        es["dtime"] += info.get("dtime", 0.0)
        return out

    if True:
        steps_per_round = max(20_000, min(400 * n, 600_000))
        wbar = max(sum(w) / max(n, 1), 1.0)
        mu0 = unit / wbar
        mu = mu0
        cur = new_state(best_lab)
        rnd = 0
        # keep a little time to bring an off-band plan back into the bands at the end
        anneal_deadline = deadline - min(0.08 * time_limit, 2.0)
        while stats["anneal_steps"] < budget:
            now = clock()
            # the reserve is only needed while no plan within the bands is known
            round_deadline = deadline if best_key[0] == 0 else anneal_deadline
            if now >= round_deadline - 0.02 * time_limit:
                stats["stopped_by"] = "time"
                break
            rnd += 1
            if rnd % 3 == 0 and inp.previous is None:
                cur = fresh(rng, "spectral" if (rnd // 3) % 2 else "grow")
                t_start = 0.8 * unit
            else:
                cur = new_state(best_lab)
                t_start = (0.6 if rnd % 3 == 1 else 1.0) * unit
            steps = min(steps_per_round, budget - stats["anneal_steps"])
            res, _mu = anneal(
                cur,
                rng,
                iterations=steps,
                t_start=t_start,
                t_end=0.05 * unit,
                mu=mu,
                deadline=round_deadline,
                clock=clock,
            )
            mu = mu0
            stats["anneal_steps"] += steps
            if res is not None:
                st = new_state(res[1])
                if st.violation() > 0:
                    repair(st, rng, deadline=deadline, clock=clock)
                if st.violation() > 0:
                    chain_repair(st, rng, deadline=deadline, clock=clock)
                descent(st, rng, max_passes=5, deadline=deadline, clock=clock)
                if cut_exact and st.violation() == 0:
                    st = new_state(exact_polish(st.lab, 2, 0.02 * work))
                consider(st)
            if cut_exact and rnd % 5 == 0 and best_key[0] == 0 and k >= 4:
                consider(new_state(exact_polish(best_lab, 3, 0.05 * work)))
            if inp.refresh_costs is not None:
                # moving centres: re-centre on the best plan (never worse for it)
                new_cost = inp.refresh_costs(best_lab)
                if new_cost is not None:
                    inp.cost = new_cost
                    best_key = _key(new_state(best_lab))
            report(
                0.05 + 0.75 * stats["anneal_steps"] / budget,
                f"annealing round {rnd}: best cut edges {new_state(best_lab).cut_edges()}",
            )
        else:
            stats["stopped_by"] = "work"
        stats["anneal_rounds"] = rnd
        if best_key[0] > 0:
            st = new_state(best_lab)
            repair(st, rng, deadline=deadline, clock=clock)
            if st.violation() > 0:
                chain_repair(st, rng, deadline=deadline, clock=clock)
            if st.violation() == 0:
                descent(st, rng, max_passes=3, deadline=deadline, clock=clock)
            consider(st)

    # 4. CP-SAT polish
    if clock() < deadline:
        st = new_state(best_lab)
        ctx = LnsContext(
            adj=adj,
            weight=w,
            lo=inp.lo,
            hi=inp.hi,
            locked=locked_b,
            seed=seed,
            workers=workers,
            prev=inp.previous,
            max_moved=inp.max_moved,
            max_moved_weight=inp.max_moved_weight,
            clock=clock,
            deadline=deadline,
            max_iterations=None,
            dtime_budget=0.25 * work if not disruption else 0.9 * work,
            progress=None,
        )
        soft_penalty = inp.cut_scale * (len(inp.edges) + 1) + _cost_span(inp) + 1
        lns_stats = run_lns(ctx, st, rng, soft_penalty=soft_penalty)
        stats["lns"] = lns_stats
        consider(st)
        if lns_stats.get("stopped_by") == "time" or clock() >= deadline:
            stats["stopped_by"] = "time"
    elif stats["stopped_by"] != "time":
        stats["stopped_by"] = "time"
    report(1.0, "done")
    return EngineResult(best_lab, best_key[1], best_key[0], stats)


def _cost_span(inp: EngineInput) -> int:
    if inp.cost is None:
        return 0
    return int(sum(max(row) - min(row) for row in inp.cost))


def _exact(
    inp: EngineInput,
    hint: list[int] | None,
    rng: np.random.Generator,
    deadline: float,
    work: float,
    workers: int,
    stats: dict,
    clock: Callable[[], float],
) -> bool:
    """Whole-problem CP-SAT solve for small instances; True when proven optimal."""
    n = len(inp.adj)
    k = len(inp.lo)
    remaining = deadline - clock()
    if remaining <= 0.05:
        return False
    symmetric = inp.interchangeable and inp.cost is None and all(x < 0 for x in inp.locked)
    sp = SubProblem(
        weight=np.asarray(inp.weight, dtype=np.int64),
        edges=np.asarray(inp.edges, dtype=np.int64),
        edge_w=np.ones(len(inp.edges), dtype=np.int64),
        lo=np.asarray(inp.lo, dtype=np.int64),
        hi=np.asarray(inp.hi, dtype=np.int64),
        fixed=np.asarray(inp.locked, dtype=np.int64),
        cut_scale=inp.cut_scale,
        cost=None if inp.cost is None else np.asarray(inp.cost, dtype=np.int64),
        symmetric=symmetric,
    )
    h = None
    if hint is not None:
        h = np.asarray(hint, dtype=np.int64)
        if symmetric:
            # relabel so that territories appear in order of their first node
            order: dict[int, int] = {}
            for d in h.tolist():
                if d not in order:
                    order[d] = len(order)
            h = np.array([order[d] for d in h.tolist()], dtype=np.int64)
    dtime = min(0.3 * work, 1.0 + 0.05 * n * k)
    res = solve_subproblem(
        sp,
        hint=h,
        time_limit=max(0.05, remaining * 0.5),
        dtime=dtime,
        seed=int(rng.integers(1 << 30)),
        workers=workers,
    )
    stats["exact"] = {"status": res.status, "objective": res.objective, "bound": res.bound}
    if res.labels is not None:
        stats["exact_labels"] = res.labels.tolist()
    return bool(res.optimal)


def _run_one(args: tuple) -> tuple[tuple[int, int], list[int], dict]:
    inp, seed, time_limit, work_limit = args
    res = optimise(inp, seed=seed, time_limit=time_limit, workers=1, work_limit=work_limit)
    stats = dict(res.stats)
    stats.pop("exact_labels", None)
    return (res.violation, res.objective), res.labels, stats


#: jobs of :func:`optimise_parallel`, set just before its worker processes are forked
_FORK_JOBS: list[tuple] = []


def _run_forked(j: int) -> tuple[tuple[int, int], list[int], dict]:
    return _run_one(_FORK_JOBS[j])


def optimise_parallel(
    inp: EngineInput,
    *,
    seed: int = 0,
    time_limit: float = 60.0,
    workers: int = 2,
    progress: Callable[[float, str], None] | None = None,
    work_limit: float | None = None,
) -> EngineResult:
    """Run independent searches (different seeds) in ``workers`` processes and keep the
    best plan (least off-band weight, then objective, then lowest search index, so the
    choice is reproducible). The annealing is pure Python, so processes are how it uses
    more than one core. Falls back to :func:`optimise` in this process when only one
    worker is asked for, the limit is short, or forking is not safe (other threads
    running, no ``fork`` start method)."""
    import multiprocessing as mp
    import threading

    can_fork = "fork" in mp.get_all_start_methods() and threading.active_count() == 1
    if workers < 2 or time_limit < 2.0 or not can_fork or inp.previous is not None:
        return optimise(
            inp,
            seed=seed,
            time_limit=time_limit,
            workers=workers,
            progress=progress,
            work_limit=work_limit,
        )
    if progress is not None:
        progress(0.0, f"searching in {workers} processes")
    t0 = time.monotonic()
    limit = max(0.5, time_limit - max(0.3, 0.02 * time_limit))  # process start, hand-back
    global _FORK_JOBS
    # the forked workers inherit the jobs: nothing is pickled on the way in (the input
    # may hold closures, e.g. the compactness cost refresh, and is large anyway)
    _FORK_JOBS = [(inp, seed + 1_000_003 * j, limit, work_limit) for j in range(workers)]
    ctx = mp.get_context("fork")
    try:
        pool = ctx.Pool(processes=workers)
        try:
            pending = pool.map_async(_run_forked, range(workers))
            outs = pending.get(timeout=time_limit + 10.0)
        finally:
            pool.terminate()
            pool.join()
    finally:
        _FORK_JOBS = []
    best_j = min(range(len(outs)), key=lambda j: (outs[j][0], j))
    key, labels, stats = outs[best_j]
    stats = dict(stats)
    stats["processes"] = workers
    stats["process_results"] = [list(o[0]) for o in outs]
    stats["seconds_parallel"] = round(time.monotonic() - t0, 3)
    if progress is not None:
        progress(1.0, "done")
    return EngineResult(labels, key[1], key[0], stats)
