"""The balance engine on integer arrays: construct, anneal, polish with CP-SAT.

Pipeline (all steps seeded, see :func:`optimise`):

1. **Start.** The previous plan when it is given (minimum disruption), else several
   randomised sequential region-growing constructions
   (:func:`gridplan.balance_search.construct`), each made contiguous and repaired
   towards the balance bands; the best (least off-band weight, then objective) is kept.
   An island held by one edge whose weight is no whole number of targets (e.g. Staten
   Island linked to its nearest grid) is built side by side with the one crossing
   territory grown around both ends of the link (:mod:`gridplan._balance.bridges`).
   A start plan still off its bands goes through a CP-SAT balance phase first: sets
   of adjacent territories whose total fits their bands are re-solved whole
   (:func:`gridplan._balance.lns.balance_lns`), so the search starts within the bands.
2. **Exact solve of small instances.** When ``n`` is small the whole problem goes to the
   CP-SAT model of :mod:`gridplan._balance.model` with the best plan as hint; a proof of
   optimality ends the run early.
3. **Search.** Rounds of simulated annealing on boundary flips with a balance penalty
   (:func:`gridplan.balance_search.anneal`), alternating restarts from the best plan
   (intensify) and from fresh constructions (diversify), each followed by a repair
   (single moves, then path moves that carry weight along a path of territories with
   exchanges, :func:`gridplan._balance.paths.path_repair`, then random ejection chains,
   :func:`gridplan.balance_search.chain_repair`) and a descent; the last plan the
   annealing visited, when cheaper than its best plan within the bands, is repaired
   the same way (path moves make a cheap off-band plan feasible at a small cost). For
   the plain cut-edge objective each round's plan is then made optimal for every pair of adjacent
   territories (and, every few rounds, every three) by the CP-SAT cut model of
   :mod:`gridplan._balance.cut`; with only two or three territories (no proper pair or
   triple) all borders are re-solved at once instead (nodes within two hops of a cut
   edge free, :func:`gridplan._balance.cut.band_polish`). The last moments of the time
   limit are kept to bring an off-band plan back into the bands.
   **Few nodes per territory** (at most ``RecomConfig.max_mean_size`` on average, e.g.
   6-9 grids per manager; no move caps): a best plan still off its bands half-way
   through the annealing (``RECOM_PAUSE`` of its steps, or of the time without a work
   budget) is annealed by re-splits of adjacent territories (every connected
   bipartition of their union enumerated, :func:`gridplan._balance.recom.recom_balance`,
   work counted in node sets and lent from the annealing), then the annealing rounds go
   on; a plan within the bands by then is searched exactly as without this step.
4. **Polish.** Large-neighbourhood search with CP-SAT on two or three adjacent
   territories at a time (:mod:`gridplan._balance.lns`).

Work is counted in annealing steps, CP-SAT deterministic seconds and enumerated node
sets, so for a given seed the result does not depend on the machine as long as the
wall-clock limit is not what stops the run (the report says which limit stopped it).
With an explicit ``work_limit`` no phase looks at the clock except as that safety net
(the number of start plans, the reserve kept at the end of the annealing, the balance
phases' share of the time and the single-process fallback for short runs all follow the
work budget instead).
:func:`optimise_parallel` runs several such searches with different seeds in forked
processes and keeps the best (ties to the lowest index), which keeps that property.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from gridplan._balance.bridges import bridge_start, heavy_bridge
from gridplan._balance.costs import _best_relabel
from gridplan._balance.cut import band_polish, polish
from gridplan._balance.lns import LnsContext, balance_lns, run_lns
from gridplan._balance.model import SubProblem, solve_subproblem
from gridplan._balance.paths import path_repair
from gridplan._balance.recom import recom_applies, recom_balance
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
#: node sets the recombination enumerates in the work of one annealing step
RECOM_SETS_PER_STEP = 7.5
#: with few nodes per territory: share of the annealing steps after which an off-band
#: best plan goes to the recombination, and share of the steps (and, without a work
#: budget, of the time) left that the recombination may use (lent from the annealing)
RECOM_PAUSE = 0.5
RECOM_SHARE = 1.0


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


class _Run:
    """State of one :func:`optimise` run: the input, the clock and work budgets, the
    random stream and the best plan so far (``best_lab``, ``best_key`` = (off-band
    weight, objective)). Phases are methods called in order by :func:`optimise`."""

    def __init__(
        self,
        inp: EngineInput,
        seed: int,
        time_limit: float,
        workers: int,
        progress: Callable[[float, str], None] | None,
        clock: Callable[[], float],
        work_limit: float | None,
    ) -> None:
        self.inp = inp
        self.clock = clock
        self.t0 = clock()
        self.time_limit = time_limit
        # finish a little early: the caller still builds the report and writes files
        self.deadline = self.t0 + max(0.05, float(time_limit) - min(0.5, 0.03 * float(time_limit)))
        self.rng = np.random.default_rng(seed)
        self.seed = seed
        self.workers = workers
        self.progress = progress
        self.n = len(inp.adj)
        self.k = len(inp.lo)
        self.adj, self.w = inp.adj, inp.weight
        self.locked_b = [x >= 0 for x in inp.locked]
        self.work = max(float(time_limit if work_limit is None else work_limit), 0.05)
        # an explicit work budget: every decision follows the work done, and the clock
        # (``deadline``) is only a safety net; else the clock also shapes the phases
        self.by_work = work_limit is not None
        self.budget = int(STEPS_PER_SECOND * self.work * 0.8)
        self.stats: dict = {"stopped_by": "convergence", "anneal_steps": 0, "exact": None}
        self.lent_steps = 0  # annealing steps lent to the recombination (its work)
        self.can_spectral = all(x < 0 for x in inp.locked) and self.n <= 50_000
        self.best_lab: list[int] = []
        self.best_key: tuple[int, int] = (0, 0)
        self.disruption = inp.previous is not None and inp.lexicographic_moves
        self.unit = inp.temp_unit or max(inp.cut_scale, 1)
        self.cut_exact = False
        self.edges_np = np.zeros((0, 2), dtype=np.int64)
        # an island held by one edge that holds no whole number of territories
        self.bridge = (
            heavy_bridge(self.adj, self.w, inp.lo, inp.hi)
            if inp.previous is None and not any(self.locked_b) and self.k >= 2
            else None
        )

    # ------------------------------------------------------------------ helpers
    def report(self, frac: float, msg: str) -> None:
        if self.progress is not None:
            self.progress(min(max(frac, 0.0), 1.0), msg)

    def new_state(self, lab: list[int]) -> State:
        inp = self.inp
        return State(
            self.adj, self.w, inp.lo, inp.hi, lab, locked=self.locked_b, cost=inp.cost,
            cut_scale=inp.cut_scale,
        )  # fmt: skip

    def result(self) -> EngineResult:
        return EngineResult(self.best_lab, self.best_key[1], self.best_key[0], self.stats)

    def fresh(self, r: np.random.Generator, kind: str = "grow", jitter: float = 1.0) -> State:
        """A new start plan (spectral or region growing), contiguous and repaired."""
        inp, adj, w = self.inp, self.adj, self.w
        if self.bridge is not None:
            lab = bridge_start(adj, w, inp.target, self.bridge, r, jitter=jitter)
        elif kind == "spectral" and self.can_spectral:
            lab = spectral_construct(adj, w, inp.target, r, jitter=jitter)
        else:
            lab = construct(adj, w, inp.lo, inp.hi, inp.target, fixed=inp.locked, rng=r)
        lab = fix_contiguity(adj, lab, w, self.k, self.locked_b)
        if inp.cost is not None and inp.previous is None and inp.refresh_costs is None:
            lab = _best_relabel(lab, inp.cost, w, inp.lo, inp.hi, inp.locked)  # home bases
        st = self.new_state(lab)
        self.fix_bands(st, r)
        return st

    def consider(self, st: State) -> bool:
        """Keep ``st`` when it beats the best plan and respects the move caps."""
        key = _key(st)
        if key < self.best_key and _caps_ok(self.inp, st.lab):
            self.best_lab, self.best_key = list(st.lab), key
            return True
        return False

    def fix_bands(self, st: State, rng: np.random.Generator, single: bool = True) -> None:
        """Bring ``st`` into the bands: single moves (``single``), then path moves
        that carry weight through several territories
        (:func:`gridplan._balance.paths.path_repair`), then random ejection chains."""
        deadline, clock = self.deadline, self.clock
        if single and st.violation() > 0:
            repair(st, rng, deadline=deadline, clock=clock)
        if st.violation() > 0:
            path_repair(st, deadline=deadline, clock=clock)
        if st.violation() > 0:
            chain_repair(st, rng, deadline=deadline, clock=clock)

    def settle(self, st: State, passes: int) -> None:
        """Repair (single moves, then paths and chains) and descend when within the
        bands."""
        rng, deadline, clock = self.rng, self.deadline, self.clock
        self.fix_bands(st, rng)
        if st.violation() == 0:
            descent(st, rng, max_passes=passes, deadline=deadline, clock=clock)

    def exact_polish(self, lab: list[int], size: int, dt: float) -> list[int]:
        """Make ``lab`` optimal on every ``size`` adjacent territories (cut model)."""
        if not self.cut_exact or self.clock() > self.deadline - 0.1:
            return lab
        if size >= self.k:
            return self.band_polish(lab, dt)
        inp = self.inp
        out, info = polish(
            self.adj, self.edges_np, self.w, inp.lo, inp.hi, lab, locked=self.locked_b,
            size=size, dtime=dt, call_dtime=max(0.2, dt / 2),
            seed=int(self.rng.integers(1 << 30)), deadline=self.deadline, clock=self.clock,
            cost=inp.cost, cut_scale=inp.cut_scale,
        )  # fmt: skip
        es = self.stats["exact_lns"]
        es["calls"] += info["calls"]
        es["improvements"] += info["improvements"]
        es["dtime"] += info.get("dtime", 0.0)
        return out

    def band_polish(self, lab: list[int], dt: float) -> list[int]:
        """Re-solve all borders of ``lab`` at once (nodes a few hops from a cut edge
        free, :func:`gridplan._balance.cut.band_polish`) within ``dt`` deterministic
        seconds: the neighbourhood of all territories together."""
        if not self.cut_exact or self.clock() > self.deadline - 0.1:
            return lab
        inp = self.inp
        out, info = band_polish(
            self.adj, self.edges_np, self.w, inp.lo, inp.hi, lab, locked=self.locked_b,
            dtime=dt, seed=int(self.rng.integers(1 << 30)), deadline=self.deadline,
            clock=self.clock, cost=inp.cost, cut_scale=inp.cut_scale,
        )  # fmt: skip
        es = self.stats["exact_lns"]
        es["band_calls"] = es.get("band_calls", 0) + info["calls"]
        es["band_improvements"] = es.get("band_improvements", 0) + info["improvements"]
        es["dtime"] += info.get("dtime", 0.0)
        return out

    def start_end(self) -> float:
        """Clock time after which no further start plan is built: a quarter of the time
        limit, or only the safety deadline under a work budget (all starts are built)."""
        return self.deadline if self.by_work else self.t0 + 0.25 * self.time_limit

    # ------------------------------------------------------------------ phases
    def start(self) -> None:
        """1. The previous plan (made contiguous, repaired), else the best of a few
        constructions; then a descent."""
        inp, adj, w, k, rng = self.inp, self.adj, self.w, self.k, self.rng
        self.report(0.0, "building a start plan")
        best_st: State | None = None
        if inp.previous is not None and all(p >= 0 for p in inp.previous):
            lab = list(inp.previous)
            for i, lk in enumerate(inp.locked):
                if lk >= 0:
                    lab[i] = lk
            lab = fix_contiguity(adj, lab, w, k, self.locked_b)
            best_st = self.new_state(lab)
            if best_st.violation() > 0:
                repair(best_st, rng)
                self.fix_bands(best_st, rng, single=False)
            if not _caps_ok(inp, best_st.lab):  # the caps are hard: start within them
                best_st = self.new_state(lab if _caps_ok(inp, lab) else list(inp.previous))
        else:
            kinds = [("spectral", 0.0), ("grow", 1.0), ("spectral", 1.0), ("grow", 1.0)]
            if self.n * k > 200_000:
                kinds = kinds[:2]
            last = 0.0
            for kind, jit in kinds:
                t_kind = self.clock()
                if best_st is not None and t_kind + last > self.start_end():
                    break  # another start would not fit in a quarter of the time
                st = self.fresh(rng, kind, jit)
                if st.violation() == 0:
                    descent(st, rng, max_passes=3)
                if best_st is None or _key(st) < _key(best_st):
                    best_st = st
                last = self.clock() - t_kind
                if self.clock() > self.start_end():
                    break
        assert best_st is not None
        before = list(best_st.lab)
        if best_st.violation() == 0:
            descent(best_st, rng, max_passes=5)
            if not _caps_ok(inp, best_st.lab):
                best_st = self.new_state(before)
        self.best_lab = list(best_st.lab)
        self.best_key = _key(best_st)
        self.report(0.05, f"start plan: cut edges {best_st.cut_edges()}")

    def exact(self) -> bool:
        """2. Whole-instance CP-SAT on small instances; True when optimality is proven."""
        inp = self.inp
        exact_ok = (
            self.n * self.k <= EXACT_MAX_NK
            and inp.refresh_costs is None
            and not (inp.max_moved is not None or inp.max_moved_weight is not None)
        )
        if not exact_ok:
            return False
        stats = self.stats
        proven = _exact(
            inp, self.best_lab if self.best_key[0] == 0 else None, self.rng, self.deadline,
            self.t0, self.workers, stats, self.clock,
        )  # fmt: skip
        if stats.get("exact_labels") is not None:
            self.consider(self.new_state(stats.pop("exact_labels")))
        return proven

    def anneal_round(self, rnd: int, mu: float, round_deadline: float, steps: int) -> None:
        """One annealing round from the best plan (or a fresh one every third round),
        then repair, descent and the exact pair polish."""
        inp, rng, unit = self.inp, self.rng, self.unit
        if rnd % 3 == 0 and inp.previous is None:
            cur = self.fresh(rng, "spectral" if (rnd // 3) % 2 else "grow")
            t_start = 0.8 * unit
        else:
            cur = self.new_state(self.best_lab)
            t_start = (0.6 if rnd % 3 == 1 else 1.0) * unit
        res, _mu = anneal(
            cur,
            rng,
            iterations=steps,
            t_start=t_start,
            t_end=0.05 * unit,
            mu=mu,
            deadline=round_deadline,
            clock=self.clock,
        )
        self.stats["anneal_steps"] += steps
        cands = [] if res is None else [res[1]]
        if cur.violation() > 0 and (res is None or cur.objective() < res[0][1]):
            # the last plan visited: off its bands, but often cheaper than any plan
            # within them that the walk saw; path moves bring it back
            cands.append(list(cur.lab))
        for lab in cands:
            st = self.new_state(lab)
            self.fix_bands(st, rng)
            descent(st, rng, max_passes=5, deadline=self.deadline, clock=self.clock)
            if self.cut_exact and st.violation() == 0:
                st = self.new_state(self.exact_polish(st.lab, 2, 0.02 * self.work))
            self.consider(st)
        if self.cut_exact and rnd % 5 == 0 and self.best_key[0] == 0 and self.k >= 3:
            self.consider(self.new_state(self.exact_polish(self.best_lab, 3, 0.05 * self.work)))
        if self.cut_exact and rnd % 2 == 0 and self.best_key[0] == 0 and self.k == 3:
            # no pair or triple re-solve sees all three territories' borders at once
            self.consider(self.new_state(self.band_polish(self.best_lab, 0.03 * self.work)))
        if inp.refresh_costs is not None:
            # moving centres: re-centre on the best plan (never worse for it)
            new_cost = inp.refresh_costs(self.best_lab)
            if new_cost is not None:
                inp.cost = new_cost
                self.best_key = _key(self.new_state(self.best_lab))

    def search(self, pause: float | None = None) -> bool:
        """3. Annealing rounds within the step budget, then bring an off-band best plan
        back into the bands. ``pause`` (a share of the step budget, and without a work
        budget also of the time): at the first round that starts past it, stop there
        when the best plan is still off its bands and return True (the rounds go on with
        the next call); a plan within the bands by then is searched exactly as without
        ``pause``."""
        stats, n, w, time_limit = self.stats, self.n, self.w, self.time_limit
        steps_per_round = max(20_000, min(400 * n, 600_000))
        wbar = max(sum(w) / max(n, 1), 1.0)
        mu0 = self.unit / wbar
        rnd = stats.get("anneal_rounds", 0)
        # keep a little time to bring an off-band plan back into the bands at the end
        # (under a work budget the clock is only a safety net: no reserve, no margin)
        reserve = 0.0 if self.by_work else min(0.08 * time_limit, 2.0)
        margin = 0.0 if self.by_work else 0.02 * time_limit
        anneal_deadline = self.deadline - reserve
        budget = self.budget - self.lent_steps  # steps lent to the recombination
        while stats["anneal_steps"] < budget:
            now = self.clock()
            # the reserve is only needed while no plan within the bands is known
            round_deadline = self.deadline if self.best_key[0] == 0 else anneal_deadline
            if now >= round_deadline - margin:
                stats["stopped_by"] = "time"
                break
            half_way = stats["anneal_steps"] >= pause * self.budget if pause is not None else False
            if pause is not None and not self.by_work:  # the clock shapes the phases
                half_way = half_way or now >= self.t0 + pause * (self.deadline - self.t0)
            if half_way:
                if self.best_key[0] > 0:
                    stats["anneal_rounds"] = rnd
                    return True
                pause = None  # within the bands: the rounds go on as without a pause
            rnd += 1
            steps = min(steps_per_round, budget - stats["anneal_steps"])
            self.anneal_round(rnd, mu0, round_deadline, steps)
            best_cut = self.new_state(self.best_lab).cut_edges()
            self.report(
                0.05 + 0.75 * stats["anneal_steps"] / self.budget,
                f"annealing round {rnd}: best cut edges {best_cut}",
            )
        else:
            stats["stopped_by"] = "work"
        stats["anneal_rounds"] = rnd
        if self.best_key[0] > 0:
            st = self.new_state(self.best_lab)
            self.settle(st, 3)
            self.consider(st)
        return False

    def few_nodes(self) -> bool:
        """Few nodes per territory (:func:`gridplan._balance.recom.recom_applies`), no
        move caps and no disruption-first run: the regime of the recombination."""
        inp = self.inp
        capped = inp.max_moved is not None or inp.max_moved_weight is not None
        return recom_applies(self.n, self.k) and not (self.disruption or capped)

    def recombine(self) -> None:
        """3b. Few nodes per territory and an off-band best plan: anneal by re-splits of
        adjacent pairs (:func:`gridplan._balance.recom.recom_balance`) with
        ``RECOM_SHARE`` of the annealing steps left (node sets enumerated, lent from the
        annealing) and, without a work budget, of the time left."""
        if self.best_key[0] == 0 or not self.few_nodes():
            return
        st = self.new_state(self.best_lab)
        left = max(0, self.budget - self.lent_steps - self.stats["anneal_steps"])
        work = int(RECOM_SETS_PER_STEP * RECOM_SHARE * left)
        deadline = (
            self.deadline
            if self.by_work
            else self.clock() + RECOM_SHARE * max(0.0, self.deadline - self.clock())
        )
        info = recom_balance(
            st, self.rng, target=self.inp.target, work=work, deadline=deadline, clock=self.clock
        )
        self.lent_steps += int(info["sets"] / RECOM_SETS_PER_STEP)
        self.consider(st)
        info["violation_best"] = self.best_key[0]
        self.stats["recom"] = info

    def lns_context(self, dtime_budget: float) -> LnsContext:
        inp = self.inp
        return LnsContext(
            adj=self.adj, weight=self.w, lo=inp.lo, hi=inp.hi, locked=self.locked_b,
            seed=self.seed, workers=self.workers, prev=inp.previous, max_moved=inp.max_moved,
            max_moved_weight=inp.max_moved_weight, clock=self.clock, deadline=self.deadline,
            max_iterations=None, dtime_budget=dtime_budget, progress=None,
        )  # fmt: skip

    def balance(self, share: float) -> None:
        """3a. An off-band best plan: re-solve sets of adjacent territories whose total
        fits their bands with CP-SAT (off-band weight first) within ``share`` of the
        time left, so the annealing starts from a plan within the bands."""
        if self.best_key[0] == 0 or self.k < 2:
            return
        inp = self.inp
        st = self.new_state(self.best_lab)
        soft_penalty = inp.cut_scale * (len(inp.edges) + 1) + _cost_span(inp) + 1
        deadline = (
            self.deadline
            if self.by_work  # bounded by the work budget, the clock as safety net only
            else self.clock() + share * max(0.0, self.deadline - self.clock())
        )
        ctx = self.lns_context(0.5 * self.work)
        info = balance_lns(ctx, st, self.rng, soft_penalty=soft_penalty, deadline=deadline)
        info["violation_before"] = self.best_key[0]
        if st.violation() > 0:
            self.settle(st, 3)
        elif st.violation() == 0:
            descent(st, self.rng, max_passes=3, deadline=self.deadline, clock=self.clock)
        self.consider(st)
        info["violation_after"] = self.best_key[0]
        self.stats["balance_lns"] = info

    def lns(self) -> None:
        """4. CP-SAT large-neighbourhood polish of 2-3 adjacent territories."""
        inp, stats = self.inp, self.stats
        if self.clock() >= self.deadline:
            if stats["stopped_by"] != "time":
                stats["stopped_by"] = "time"
            return
        st = self.new_state(self.best_lab)
        ctx = LnsContext(
            adj=self.adj,
            weight=self.w,
            lo=inp.lo,
            hi=inp.hi,
            locked=self.locked_b,
            seed=self.seed,
            workers=self.workers,
            prev=inp.previous,
            max_moved=inp.max_moved,
            max_moved_weight=inp.max_moved_weight,
            clock=self.clock,
            deadline=self.deadline,
            max_iterations=None,
            dtime_budget=0.25 * self.work if not self.disruption else 0.9 * self.work,
            progress=None,
        )
        soft_penalty = inp.cut_scale * (len(inp.edges) + 1) + _cost_span(inp) + 1
        lns_stats = run_lns(ctx, st, self.rng, soft_penalty=soft_penalty)
        stats["lns"] = lns_stats
        self.consider(st)
        if lns_stats.get("stopped_by") == "time" or self.clock() >= self.deadline:
            stats["stopped_by"] = "time"


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
    run = _Run(inp, seed, time_limit, workers, progress, clock, work_limit)
    run.start()
    if run.exact():
        run.report(1.0, "optimal plan proven")
        return run.result()
    # Minimising disruption first: a start plan that already meets the bands is the
    # answer (any move costs more than any gain); otherwise anneal from it with the
    # temperature in units of one move (no fresh restarts).
    if run.disruption and run.best_key[0] == 0:
        run.stats["stopped_by"] = "convergence"
        run.report(1.0, "the previous plan meets the tolerance: nothing to move")
        return run.result()
    # exact re-solves of 2-3 adjacent territories (cut edges, + fixed costs: home bases)
    run.cut_exact = (
        inp.refresh_costs is None
        and inp.previous is None
        and inp.cut_scale > 0
        and 2 <= run.k <= 8  # districting-like: few territories (large k: the LNS of step 4)
    )
    run.edges_np = np.asarray(inp.edges, dtype=np.int64).reshape(-1, 2)
    run.stats["exact_lns"] = {"calls": 0, "improvements": 0, "dtime": 0.0}
    run.balance(0.6)
    # few nodes per territory (no move caps): a best plan still off its bands half-way
    # through the annealing goes to the pair re-splits, then the rounds go on
    if run.search(RECOM_PAUSE if run.few_nodes() else None):
        run.recombine()
        run.search()
    run.balance(0.8)
    run.lns()
    run.report(1.0, "done")
    return run.result()


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
    # the short-run test follows the work budget when there is one (not the clock)
    short = (time_limit if work_limit is None else work_limit) < 2.0
    if workers < 2 or short or not can_fork or inp.previous is not None:
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
