"""Service + marketing pairing (一主一辅): group the territories of community (service)
managers into contiguous groups of ``ratio ± 1`` territories, one marketing manager
per group, never across two units (e.g. areas or branches), balanced on the marketing
workload (e.g. group / business customer potential).

Each unit, and each connected piece of a unit, is an independent part. A part of ``n``
territories gets ``G`` groups: ``round(n / ratio)`` (at least 1), moved to the nearest
count whose sizes can all lie in ``[ratio - 1, ratio + 1]``; a part with fewer than
``ratio - 1`` territories is one group (noted). Objective per part: the max deviation of
a group's weight from the part's mean group weight, then the sum of squared
deviations. Algorithm per part: a heuristic first (region growing + moves/swaps that
keep contiguity, :mod:`gridplan._balance.pairing_search`); then, for parts of at most
``exact_max`` territories, the exact CP-SAT model started from it — set partitioning
over every connected group of ``lo..hi`` territories
(:mod:`gridplan._balance.pairing_columns`), or a flow model of contiguity when there
are too many such groups (:mod:`gridplan._balance.pairing_exact`); bigger parts get an
exact polish of a few adjacent groups at a time (:mod:`gridplan._balance.pairing_lns`).
The best plan is kept, so the output is valid (contiguous) even when CP-SAT runs out of
time. Deterministic for a seed: the heuristic counts its steps and CP-SAT its
deterministic seconds (``work_limit``); the clock is only a safety net (noted).
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from gridplan._balance.inputs import _problem, check_weights
from gridplan._balance.pairing_columns import solve_columns
from gridplan._balance.pairing_exact import solve_exact
from gridplan._balance.pairing_lns import polish
from gridplan._balance.pairing_search import better, canonical, score, search_part
from gridplan._balance.parts import Part, as_csr, induced, split_parts
from gridplan.progress import ProgressCallback, no_progress

__all__ = ["PairingConfig", "PairingResult", "group_count", "pair_marketing"]


@dataclass(frozen=True)
class PairingConfig:
    """Knobs of :func:`pair_marketing` (all optional).

    ``ratio``: territories (community managers) per marketing manager; ``exact_max``:
    parts of up to this many territories are solved exactly with CP-SAT; ``time_limit``
    wall-clock seconds for the whole run (a safety net: a run it stops is noted and
    may not repeat); ``work_limit`` the deterministic work budget in reference seconds
    (default ``work_share * time_limit``, small enough that the clock rarely binds),
    shared among the parts by territory count; in an exact part ``exact_work`` of it
    goes to CP-SAT (deterministic seconds) and the rest to the heuristic; the heuristic
    spends ``steps_per_second`` move evaluations per reference second, at least
    ``min_steps_per_territory`` per territory; ``starts`` / ``kicks`` heuristic starts
    per part and perturbations per start (caps: the steps bind first on big parts);
    ``workers`` CP-SAT workers (interleaved when > 1, still deterministic);
    ``weight_resolution`` integer units a part's total weight maps to in the exact
    model when the weights are not small whole numbers; ``max_columns`` the most
    connected groups the set-partitioning model lists; past it, the flow model runs on
    parts of at most ``flow_max`` territories; bigger parts (and parts past the limit)
    get the heuristic then an exact polish of ``lns_groups`` adjacent groups at a time
    (the set-partitioning model on their union) with ``lns_work`` of the work.
    """

    ratio: int = 4
    exact_max: int = 40
    time_limit: float = 10.0
    work_limit: float | None = None  # default: work_share * time_limit
    work_share: float = 0.4
    exact_work: float = 0.6
    steps_per_second: int = 50_000
    min_steps_per_territory: int = 400
    starts: int = 4
    kicks: int = 30
    workers: int = 1
    weight_resolution: int = 1_000_000
    max_columns: int = 50_000
    flow_max: int = 24
    lns_groups: int = 6
    lns_work: float = 0.4


@dataclass(frozen=True)
class PairingResult:
    """``labels`` (T,) group per territory (groups numbered unit by unit in sorted unit
    order, then by piece, then by smallest territory index); per group (G,): ``sizes``
    (territories), ``weights`` (marketing workload), ``targets`` (the mean group weight
    of its part), ``deviation`` ((weight - target) / target, 0 when the target is 0),
    ``units`` (the ``within`` label, ``None`` without units); ``max_deviation`` the max
    |deviation|; ``notes`` for the planner; ``stats`` per part (method, status, work)."""

    labels: np.ndarray
    sizes: np.ndarray
    weights: np.ndarray
    targets: np.ndarray
    deviation: np.ndarray
    units: tuple[Any, ...]
    max_deviation: float
    notes: tuple[str, ...] = ()
    stats: Mapping[str, Any] = field(default_factory=dict)

    @property
    def n_groups(self) -> int:
        return int(self.sizes.size)


def group_count(n: int, ratio: int) -> tuple[int, int, int, str | None]:
    """``(groups, lo, hi, note)`` for a part of ``n`` territories: the count nearest
    ``round(n / ratio)`` (at least 1) whose sizes fit ``[max(1, ratio - 1), ratio + 1]``
    (ties: the sizes nearer ``ratio``, then fewer groups); a part below ``ratio - 1`` is
    one group, and when no count fits the sizes are widened (both noted)."""
    lo_r, hi_r = max(1, ratio - 1), ratio + 1
    if n < lo_r:
        many = f"{n} territory" if n == 1 else f"{n} territories"
        return 1, n, n, f"only {many} (fewer than {lo_r}): one group of {n}"
    g0 = max(1, math.floor(n / ratio + 0.5))
    fits = [g for g in range(1, n + 1) if g * lo_r <= n <= g * hi_r]
    if fits:
        g = min(fits, key=lambda k: (abs(k - g0), abs(n / k - ratio), k))
        return g, lo_r, hi_r, None
    lo, hi = min(lo_r, n // g0), max(hi_r, -(-n // g0))
    return (
        g0,
        lo,
        hi,
        (f"{n} territories cannot form groups of {lo_r}..{hi_r}: {g0} groups of {lo}..{hi}"),
    )


def _int_weights(w: np.ndarray, resolution: int) -> np.ndarray:
    """Whole-number weights for CP-SAT: the weights themselves when they are whole and
    their sum is at most ``resolution``, else scaled so the sum is ``resolution``."""
    r = np.rint(w)
    if np.allclose(w, r, rtol=0, atol=1e-9) and r.sum() <= resolution:
        return r.astype(np.int64)
    total = float(w.sum())
    return (
        np.rint(w * (resolution / total)).astype(np.int64)
        if total > 0
        else np.zeros(w.size, np.int64)
    )


def _where(units: list[Any], p: Part, pieces: int) -> str:
    name = "the territories" if units[p.unit] is None else f"unit {units[p.unit]!r}"
    return f"{name} (part {p.piece + 1} of {pieces})" if pieces > 1 else name


def _solve_part(
    ip, ix, w, G, lo, hi, cfg: PairingConfig, seed: int, deadline: float, work: float,
    exact: bool,
) -> tuple[np.ndarray, dict[str, Any]]:  # fmt: skip
    """The heuristic, then the exact model (small parts) or the exact large-neighbourhood
    polish (bigger parts, or when the exact model cannot be built); the best plan.
    ``work`` reference seconds: ``exact_work`` (or ``lns_work``) of it to CP-SAT, the
    rest to the heuristic."""
    n = w.size
    share = cfg.exact_work if exact else cfg.lns_work
    budget = max(cfg.min_steps_per_territory * n, int(work * (1 - share) * cfg.steps_per_second))
    h = search_part(
        ip, ix, w, G, lo, hi, seed=seed, starts=cfg.starts, kicks=cfg.kicks, budget=budget,
        deadline=deadline,
    )  # fmt: skip
    st: dict[str, Any] = {"method": "heuristic", "steps": h.steps, "timed_out": h.timed_out}
    wi = _int_weights(w, cfg.weight_resolution)
    nbrs = [ix[ip[u] : ip[u + 1]].tolist() for u in range(n)]
    dtime = work * share
    lab, sc = h.labels, h.score
    ex = None
    if exact:
        kw = dict(hint=lab, seed=seed, time_limit=max(0.05, deadline - time.monotonic()),
                  dtime=dtime, workers=cfg.workers)  # fmt: skip
        ex = solve_columns(nbrs, wi, G, lo, hi, max_columns=cfg.max_columns, **kw)
        st["model"] = "columns" if ex is not None else "flow"
        if ex is None and n <= cfg.flow_max:
            ex = solve_exact(ip, ix, wi, G, lo, hi, **kw)
    if ex is not None:
        st.update(exact=ex.status, dtime=round(ex.dtime, 3))
        st["timed_out"] = st["timed_out"] or ex.clock_stopped
        if ex.labels is not None:
            es = _score(ex.labels, w, G, lo, hi)
            if not better(sc, es):
                lab, sc = ex.labels, es
                st["method"] = "exact" if ex.status == "OPTIMAL" else "exact (not proven)"
    elif G > 2 and cfg.lns_groups >= 2:
        if exact:  # the exact model could not be built: the polish gets its work
            dtime = work * cfg.lns_work
        lab, ls = polish(
            nbrs, w, wi, lab, lo, hi, seed=seed, dtime=dtime, deadline=deadline,
            groups=cfg.lns_groups, workers=cfg.workers, max_columns=cfg.max_columns,
        )  # fmt: skip
        sc = _score(lab, w, G, lo, hi)
        st.update(model="lns", lns_solved=ls.solved, lns_kept=ls.kept, dtime=round(ls.dtime, 3))
        st["timed_out"] = st["timed_out"] or ls.timed_out
        if ls.kept:
            st["method"] = "heuristic + exact polish"
    st["size_violation"] = sc[0]
    return lab, st


def _score(lab: np.ndarray, w: np.ndarray, G: int, lo: int, hi: int) -> tuple[float, float, float]:
    sizes = np.bincount(lab, minlength=G)
    return score(sizes, np.bincount(lab, weights=w, minlength=G), lo, hi, float(w.sum()))


def _part_notes(where: str, st: dict[str, Any], sizes: np.ndarray, lo: int, hi: int) -> list[str]:
    out = []
    if st.get("exact") == "INFEASIBLE":
        out.append(
            f"{where}: no contiguous grouping has every group of {lo}..{hi} territories "
            "(the graph's shape forbids it)"
        )
    if st.get("size_violation", 0) > 0:
        out.append(
            f"{where}: group sizes {sorted(sizes.tolist())} miss {lo}..{hi} (kept contiguous)"
        )
    if st.get("timed_out"):
        out.append(
            f"{where}: the time limit stopped the search (the plan is valid, maybe not best)"
        )
    return out


def pair_marketing(
    adjacency: Any,
    marketing_weights: np.ndarray,
    ratio: int | None = None,
    *,
    within: np.ndarray | None = None,
    seed: int = 0,
    time_limit: float | None = None,
    work_limit: float | None = None,
    config: PairingConfig | None = None,
    progress: ProgressCallback = no_progress,
) -> PairingResult:
    """Pair community (service) managers' territories with marketing managers (一主一辅).

    ``adjacency`` the territory graph over T territories (``(indptr, indices)``, an
    Adjacency or edges (m, 2); see :func:`territory_adjacency` to build it from units);
    ``marketing_weights`` (T,) marketing workload per territory (e.g. group / business
    customer potential, >= 0); ``ratio`` territories per marketing manager (default
    :class:`PairingConfig`'s 4); ``within`` (T,) unit label per territory: groups never
    span two units; ``time_limit`` seconds (wall clock, safety), ``work_limit`` the
    deterministic work budget in reference seconds (see :class:`PairingConfig`). The
    model is in the module docstring. Always returns a plan of contiguous groups; size
    or budget shortfalls are in ``notes``.
    """
    t0 = time.monotonic()
    cfg = config or PairingConfig()
    ratio = cfg.ratio if ratio is None else ratio
    if int(ratio) != ratio or ratio < 1:
        raise _problem(f"ratio = {ratio}", "pair_marketing", "use a whole number >= 1, e.g. 4")
    ratio = int(ratio)
    tl = cfg.time_limit if time_limit is None else float(time_limit)
    wl_cfg = cfg.work_limit if work_limit is None else work_limit
    wl = cfg.work_share * tl if wl_cfg is None else float(wl_cfg)
    w = check_weights(marketing_weights, None)
    T = int(w.size)
    ip, ix = as_csr(adjacency, T, "pair_marketing")
    units, parts, (sip, six) = split_parts(ip, ix, within, T, "pair_marketing")
    plans = [(p, *group_count(p.nodes.size, ratio)) for p in parts]
    searched = sum(p.nodes.size for p, g, *_ in plans if 1 < g < p.nodes.size)
    pieces = {u: sum(1 for p in parts if p.unit == u) for u in range(len(units))}
    labels = np.empty(T, dtype=np.int64)
    g_units: list[Any] = []
    targets: list[float] = []
    notes: list[str] = _split_notes(units, parts, pieces)
    part_stats: list[dict[str, Any]] = []
    remaining = sum(p.nodes.size for p in parts)
    for p, G, lo, hi, note in plans:
        where = _where(units, p, pieces[p.unit])
        if note:
            notes.append(f"{where}: {note}")
        sw = w[p.nodes]
        if G in (1, p.nodes.size):
            lab = np.zeros(p.nodes.size, np.int64) if G == 1 else np.arange(G)
            st: dict[str, Any] = {"method": "trivial"}
        else:
            left = tl - (time.monotonic() - t0)
            deadline = time.monotonic() + max(0.05, left * p.nodes.size / remaining)
            work = wl * p.nodes.size / searched
            pip, pix = induced(sip, six, p.nodes)
            lab, st = _solve_part(pip, pix, sw, G, lo, hi, cfg, seed, deadline, work,
                                  p.nodes.size <= cfg.exact_max)  # fmt: skip
        remaining -= p.nodes.size
        sizes = np.bincount(lab, minlength=G)
        notes.extend(_part_notes(where, st, sizes, lo, hi))
        labels[p.nodes] = canonical(lab) + len(targets)
        targets.extend([float(sw.sum()) / G] * G)
        g_units.extend([units[p.unit]] * G)
        part_stats.append(
            {"unit": units[p.unit], "piece": p.piece, "territories": int(p.nodes.size),
             "groups": G, "lo": lo, "hi": hi, **st}
        )  # fmt: skip
        progress(1.0 - remaining / max(1, T), f"paired {where}: {G} group(s)")
    return _result(w, labels, targets, g_units, notes, part_stats, time.monotonic() - t0)


def _split_notes(units: list[Any], parts: list[Part], pieces: dict[int, int]) -> list[str]:
    out = []
    for u, k in pieces.items():
        if k > 1:
            sizes = [int(p.nodes.size) for p in parts if p.unit == u]
            name = "the territories" if units[u] is None else f"unit {units[u]!r}"
            out.append(
                f"{name}: the territory graph is in {k} disconnected parts (sizes {sizes}); "
                "each part is grouped on its own (groups must be contiguous)"
            )
    return out


def _result(w, labels, targets, g_units, notes, part_stats, seconds) -> PairingResult:
    G = len(targets)
    tg = np.array(targets, dtype=float)
    wt = np.bincount(labels, weights=w, minlength=G)
    dev = np.divide(wt - tg, tg, out=np.zeros(G), where=tg > 0)
    stats = {
        "parts": part_stats,
        "seconds": round(seconds, 3),
        "stopped_by": "time" if any(s.get("timed_out") for s in part_stats) else "work",
    }
    return PairingResult(
        labels=labels,
        sizes=np.bincount(labels, minlength=G),
        weights=wt,
        targets=tg,
        deviation=dev,
        units=tuple(g_units),
        max_deviation=float(np.abs(dev).max()) if G else 0.0,
        notes=tuple(notes),
        stats=stats,
    )
