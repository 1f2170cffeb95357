"""Assign grids (units) to community managers: balanced, contiguous, compact territories.

Three entry points share one engine (:mod:`gridplan._balance.engine`):

- :func:`balance_arrays` — the array core: unit weights (hours/month or any workload)
  and a CSR adjacency; returns labels and a :class:`BalanceReport`;
- :func:`balance_grids` — GeoDataFrame wrapper: builds the adjacency from the
  geometry when none is given, takes managers (names, capacities, home bases), locks
  and a previous plan keyed by grid id, and dissolves the territories;
- :func:`balance_units_table` — generic units in a table (the ``gridplan balance`` CLI).

:func:`group_into_areas` reuses the engine on the territory graph to group territories
into areas (区域).

Model. Each manager ``k`` gets a target ``t_k = share_k * W`` (equal shares, or shares
of the capacities) and a band ``[t_k (1 - tol), t_k (1 + tol)]``; territories are
connected in the unit adjacency; locks fix units. Objectives: ``cut_edges`` (number of
adjacent unit pairs split between managers, the districting benchmark objective),
``compactness`` (workload-weighted squared distance to the territory's centre, or to
the manager's home base when given) or ``both`` (the two, each normalised by its value
in the start plan). With a ``previous`` plan, every unit that changes manager costs
``move_penalty`` (in cut-edge units); the default ``None`` makes disruption
lexicographically first, so a previous plan that already meets the bands and is
contiguous comes back unchanged. ``max_moved`` / ``max_moved_weight`` cap the change.

Managers without home bases or capacities are interchangeable: the engine's labels are
arbitrary for them and the exact model breaks the symmetry (orbitope ordering).

Engine (see :mod:`gridplan._balance.engine`): spectral / region-growing starts, exact
CP-SAT for small instances, simulated annealing on boundary flips and two-step chains
with a balance penalty, pair/chain repair moves for tight bands, and a CP-SAT
large-neighbourhood polish (2-3 adjacent territories, exact contiguity on their union).
``workers`` (default 2) independent searches run in forked processes with different
seeds and the best plan is kept (CP-SAT runs single-threaded inside each, or with
``interleave_search`` when the engine runs in this process with several workers).

Determinism: seeded everywhere; work is budgeted in annealing steps and CP-SAT
deterministic seconds (``work_limit``, default ``time_limit``), so the same inputs
and seed give the same plan unless the wall-clock limit stops the run first
(``report.stopped_by == "time"``).
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from gridplan._balance.engine import EngineInput, optimise_parallel
from gridplan._balance.graph import (
    check_csr,
    components,
    csr_from_edges,
    delaunay_edges,
    edge_array,
    territory_components,
)
from gridplan.errors import InfeasibleError, InputError, Problem
from gridplan.progress import ProgressCallback, no_progress, scaled

__all__ = [
    "BalanceConfig",
    "BalanceReport",
    "BalanceResult",
    "TerritoryReport",
    "balance_arrays",
    "balance_grids",
    "balance_units_table",
    "geometry_adjacency",
    "group_into_areas",
]

Objective = Literal["cut_edges", "compactness", "both"]

#: integer objective units per cut edge when a cost term is present
_UNIT = 100


# ---------------------------------------------------------------------------------------
# results


@dataclass(frozen=True)
class TerritoryReport:
    """One manager's territory: workload (weight units, e.g. hours/month) and checks."""

    manager: Any
    weight: float
    target: float
    lower: float
    upper: float
    deviation: float  # (weight - target) / target
    units: int
    pieces: int  # connected pieces (1 = contiguous)
    contiguous: bool
    compactness: float  # weight-weighted mean squared distance to the centre (coord units²)
    locked_units: int
    moved_in: int


@dataclass(frozen=True)
class BalanceReport:
    """Quality report of a plan (``to_dict()`` for JSON)."""

    n_units: int
    n_managers: int
    tolerance: float
    objective: str
    total_weight: float
    max_deviation: float  # max |weight - target| / target over managers
    within_tolerance: bool
    contiguous: bool
    cut_edges: int
    total_edges: int
    compactness: float  # sum of weight * squared distance to territory centre
    moved_units: int
    moved_weight: float
    seconds: float
    stopped_by: str
    territories: tuple[TerritoryReport, ...]
    notes: tuple[str, ...] = ()
    stats: Mapping[str, Any] = field(default_factory=dict)

    @property
    def workloads(self) -> list[float]:
        return [t.weight for t in self.territories]

    @property
    def targets(self) -> list[float]:
        return [t.target for t in self.territories]

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["territories"] = [asdict(t) for t in self.territories]
        d["workloads"] = self.workloads
        d["targets"] = self.targets
        d["notes"] = list(self.notes)
        d["stats"] = _jsonable(dict(self.stats))
        return _jsonable(d)


def _jsonable(x: Any) -> Any:
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_jsonable(v) for v in x]
    if isinstance(x, np.integer):
        return int(x)
    if isinstance(x, np.floating):
        return float(x)
    if isinstance(x, np.bool_):
        return bool(x)
    return x


@dataclass
class BalanceResult:
    """``labels`` (n,) manager index per unit, the ``report``; the GeoDataFrame wrapper
    also fills ``assignment`` (grid id -> manager name) and ``territories`` (dissolved)."""

    labels: np.ndarray
    report: BalanceReport
    assignment: pd.Series | None = None
    territories: Any = None  # GeoDataFrame


@dataclass(frozen=True)
class BalanceConfig:
    """Knobs of :func:`balance_grids` (all optional).

    ``weight_column``: grid column with the workload (hours/month);
    ``n_managers``: used when no managers table is given (default: the headcount the
    workload needs at ``capacity_h`` hours/month per manager);
    ``move_penalty``: cut-edge units per grid that changes manager (``None`` =
    disruption first); ``time_limit`` in seconds; ``workers`` parallel searches
    (default 2); ``adjacency``: "rook" (shared boundary length > 0) or "queen"
    (any touch) when it is built from the geometry; ``link_islands``: join a grid
    group that touches no other (an island) to its nearest grid so territories can
    stay whole.
    """

    tolerance: float = 0.03
    objective: Objective = "cut_edges"
    weight_column: str = "hours_total"
    n_managers: int | None = None
    capacity_h: float = 128.0
    move_penalty: float | None = None
    max_moved: int | None = None
    max_moved_weight: float | None = None
    seed: int = 0
    time_limit: float = 60.0
    workers: int | None = None
    adjacency: Literal["rook", "queen"] = "rook"
    link_islands: bool = True
    work_limit: float | None = None  # deterministic work budget (default time_limit)


# ---------------------------------------------------------------------------------------
# the array core


def _problem(what: str, where: str, fix: str) -> InputError:
    return InputError(Problem(what, where, fix))


def _int_weights(w: np.ndarray) -> tuple[np.ndarray, float]:
    """Integer weights for CP-SAT and the scale used (weights * scale, rounded)."""
    total = float(w.sum())
    if np.all(np.abs(w - np.round(w)) < 1e-9) and total < 2e12:
        return np.round(w).astype(np.int64), 1.0
    scale = 1e9 / max(total, 1e-12)
    return np.round(w * scale).astype(np.int64), scale


def _bands(
    w_int: np.ndarray, scale: float, targets: np.ndarray, tol: float
) -> tuple[list[int], list[int]]:
    lo = [max(0, math.ceil(t * (1 - tol) * scale - 1e-9)) for t in targets]
    hi = [math.floor(t * (1 + tol) * scale + 1e-9) for t in targets]
    return lo, hi


def _unit_name(ids: Any, i: int) -> str:
    if ids is None:
        return f"unit {i}"
    return f"unit {ids[i]!r}"


def _lock_feasibility(
    w: np.ndarray,
    ip: np.ndarray,
    ix: np.ndarray,
    comp: np.ndarray,
    lo_f: np.ndarray,
    hi_f: np.ndarray,
    k: int,
    locks: np.ndarray,
    ids: Any,
    names: list[Any],
) -> None:
    """Raise :class:`InfeasibleError` when the locks make the bands impossible.

    Necessary conditions only (cheap, exact when they fire): a manager's territory holds
    its locked units and is connected, so (1) its locked units must be joinable without
    crossing other managers' locks, and the lightest way to join them must fit under its
    upper bound; (2) it can only grow into the groups of free units that touch its
    locked units, which must hold enough to reach its lower bound; (3) when every
    manager has locks, a group of free units that touches one manager's locks only
    must go to that manager, which must stay under its upper bound.
    """
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import dijkstra

    n = w.size
    free = locks < 0
    scale = max(float(hi_f.max()), 1.0)
    eps = 1e-12 * scale  # keeps zero-weight steps as edges; n * eps is negligible
    fc = components(ip, ix, free)  # groups of free units (-1 for locked units)
    nfc = int(fc.max()) + 1 if free.any() else 0
    fw = np.bincount(fc[free], weights=w[free], minlength=nfc)
    src = np.repeat(np.arange(n), np.diff(ip))
    dst = np.asarray(ix, dtype=np.int64)
    touch = free[src] & ~free[dst]  # a free unit next to a locked one
    pairs = np.unique(np.stack([fc[src[touch]], locks[dst[touch]]], axis=1), axis=0)
    pairs = pairs.reshape(-1, 2)
    locked_w = np.bincount(locks[~free], weights=w[~free], minlength=k)
    has_lock = np.zeros(k, dtype=bool)
    has_lock[np.unique(locks[~free])] = True

    def name(i: int) -> str:
        return str(ids[i]) if ids is not None else str(i)

    def target(d: int) -> float:
        return float((lo_f[d] + hi_f[d]) / 2)

    for d in np.flatnonzero(has_lock):
        d = int(d)
        mine = np.flatnonzero(locks == d)
        parts = np.unique(comp[mine])
        if parts.size > 1:
            other = mine[comp[mine] != comp[mine[0]]][0]
            raise InfeasibleError(
                f"the units locked to manager {names[d]!r} ({name(int(mine[0]))} and "
                f"{name(int(other))}) are in {parts.size} disconnected parts of the "
                "adjacency, and a territory must be contiguous",
                suggestions=[
                    "lock that manager's units in one part only",
                    "add the adjacency (edges) that joins the parts",
                ],
            )
        if mine.size > 1:
            # (1) lightest connection of the locked units through free units
            cost = np.where(free, w, 0.0) + eps
            ok_dst = free[dst] | (locks[dst] == d)
            ok_src = free[src] | (locks[src] == d)
            keep = ok_dst & ok_src
            g = csr_matrix((cost[dst[keep]], (src[keep], dst[keep])), shape=(n, n))
            dist = dijkstra(g, directed=True, indices=int(mine[0]))
            far = mine[np.argmax(dist[mine])]
            if not np.isfinite(dist[far]):
                cut = mine[~np.isfinite(dist[mine])]
                raise InfeasibleError(
                    f"the units locked to manager {names[d]!r} ({name(int(mine[0]))} and "
                    f"{name(int(cut[0]))}) are cut apart by units locked to other managers, "
                    "and a territory must be contiguous",
                    suggestions=[
                        "unlock one of them",
                        "unlock the other managers' units between them",
                    ],
                )
            need = float(locked_w[d]) + float(dist[far]) - n * eps
            if need > hi_f[d] + 1e-9 * max(hi_f[d], 1):
                raise InfeasibleError(
                    f"joining the units locked to manager {names[d]!r} ({name(int(mine[0]))} "
                    f"to {name(int(far))}) takes at least {need:,.2f} of workload (locked "
                    f"{locked_w[d]:,.2f} + the lightest connecting path "
                    f"{need - locked_w[d]:,.2f}), above that manager's upper bound "
                    f"{hi_f[d]:,.2f} (target {target(d):,.2f})",
                    suggestions=["unlock one of those units", "raise the tolerance or capacity"],
                )
        # (2) room to grow
        reach = float(locked_w[d]) + float(fw[pairs[pairs[:, 1] == d, 0]].sum())
        if reach < lo_f[d] - 1e-9 * max(lo_f[d], 1):
            raise InfeasibleError(
                f"manager {names[d]!r} can reach at most {reach:,.2f} of workload (the "
                f"{mine.size} unit(s) locked to them weigh {locked_w[d]:,.2f}; units locked "
                "to other managers fence off the rest), below that manager's lower bound "
                f"{lo_f[d]:,.2f} (target {target(d):,.2f})",
                suggestions=[
                    "unlock the other managers' units around them",
                    "raise the tolerance or lower that manager's capacity",
                ],
            )
    if has_lock.all() and nfc:
        # (3) groups of free units that only one manager can take
        bordering = np.bincount(pairs[:, 0], minlength=nfc)
        only = pairs[bordering[pairs[:, 0]] == 1]
        forced = locked_w + np.bincount(only[:, 1], weights=fw[only[:, 0]], minlength=k)
        over = np.flatnonzero(forced > hi_f + 1e-9 * np.maximum(hi_f, 1))
        if over.size:
            d = int(over[0])
            raise InfeasibleError(
                f"manager {names[d]!r} must take at least {forced[d]:,.2f} of workload (the "
                f"units locked to them, {locked_w[d]:,.2f}, and the free units that only "
                "they can reach), above that manager's upper bound "
                f"{hi_f[d]:,.2f} (target {target(d):,.2f}): every manager has locked units, "
                "so units fenced in by one manager's locks go to that manager",
                suggestions=[
                    "unlock some of that manager's units",
                    "raise the tolerance or that manager's capacity",
                ],
            )


def _feasibility(
    w: np.ndarray,
    ip: np.ndarray,
    ix: np.ndarray,
    comp: np.ndarray,
    lo_f: np.ndarray,
    hi_f: np.ndarray,
    k: int,
    locks: np.ndarray,
    ids: Any,
    names: list[Any],
) -> np.ndarray:
    """Raise :class:`InfeasibleError` for the provable cases; return managers per component."""
    n = w.size
    if k > n:
        raise InfeasibleError(
            f"{k} managers but only {n} units: every manager needs at least one unit",
            suggestions=[f"use at most {n} managers", "split the grids into smaller units"],
        )
    dmax = int(np.argmax(hi_f))
    hmax = float(hi_f[dmax])
    tmax = float((lo_f[dmax] + hi_f[dmax]) / 2)
    heavy = np.flatnonzero(w > hmax + 1e-9 * max(hmax, 1))
    if heavy.size:
        i = int(heavy[np.argmax(w[heavy])])
        raise InfeasibleError(
            f"{_unit_name(ids, i)} weighs {w[i]:,.2f}, above the largest upper bound "
            f"{hmax:,.2f} (target {tmax:,.2f} + tolerance {hmax / tmax - 1:.1%}); "
            f"{heavy.size} unit(s) are too heavy for any single manager",
            suggestions=[
                "split that grid into smaller grids",
                "raise the tolerance",
                "use fewer managers",
            ],
        )
    for d in range(k):
        lw = float(w[locks == d].sum())
        if lw > hi_f[d] + 1e-9 * max(hi_f[d], 1):
            raise InfeasibleError(
                f"the units locked to manager {names[d]!r} weigh {lw:,.2f}, above that "
                f"manager's upper bound {hi_f[d]:,.2f} (target {(lo_f[d] + hi_f[d]) / 2:,.2f})",
                suggestions=["unlock some of those units", "raise the tolerance or the capacity"],
            )
    if np.any(locks >= 0):
        _lock_feasibility(w, ip, ix, comp, lo_f, hi_f, k, locks, ids, names)
    ncomp = int(comp.max()) + 1 if n else 0
    m_per = np.zeros(ncomp, dtype=np.int64)
    if ncomp <= 1:
        m_per[:] = k
        return m_per
    lo_min, hi_max = float(lo_f.min()), float(hi_f.max())
    tgt = float(np.mean((lo_f + hi_f) / 2))
    ranges = []
    for c in range(ncomp):
        wc = float(w[comp == c].sum())
        m_lo = max(1, math.ceil(wc / hi_max - 1e-9))
        m_hi = min(k, math.floor(wc / lo_min + 1e-9)) if lo_min > 0 else k
        nodes = np.flatnonzero(comp == c)
        if m_lo > m_hi:
            shown = ", ".join(str(ids[i] if ids is not None else i) for i in nodes[:5])
            more = "…" if nodes.size > 5 else ""
            raise InfeasibleError(
                f"a disconnected group of {nodes.size} unit(s) ({shown}{more}) weighs "
                f"{wc:,.2f}: not within [m x {lo_min:,.2f}, m x {hi_max:,.2f}] for any whole "
                f"number m of managers, and territories must be contiguous",
                suggestions=[
                    "add the missing adjacency (edges) that joins it to the rest",
                    "raise the tolerance",
                    "change the number of managers",
                ],
            )
        ranges.append((m_lo, m_hi, wc))
    smin = sum(r[0] for r in ranges)
    smax = sum(r[1] for r in ranges)
    if not smin <= k <= smax:
        raise InfeasibleError(
            f"the graph has {ncomp} disconnected parts that need between {smin} and {smax} "
            f"managers in total, but there are {k}",
            suggestions=["join the parts with adjacency edges", "change the number of managers"],
        )
    # managers per component: closest to weight / target, then fix the sum greedily
    m = [min(max(round(r[2] / tgt), r[0]), r[1]) for r in ranges]
    while sum(m) != k:
        step = 1 if sum(m) < k else -1
        best = None
        for c, (a, b, wc) in enumerate(ranges):
            nm = m[c] + step
            if a <= nm <= b:
                cost = abs(wc / nm - tgt) - abs(wc / m[c] - tgt)
                if best is None or cost < best[0]:
                    best = (cost, c)
        assert best is not None
        m[best[1]] += step
    m_per[:] = m
    return m_per


def _coords_ok(x: Any, y: Any, n: int) -> tuple[np.ndarray, np.ndarray] | None:
    if x is None or y is None:
        return None
    xa = np.asarray(x, dtype=float)
    ya = np.asarray(y, dtype=float)
    if xa.shape != (n,) or ya.shape != (n,):
        raise _problem(f"x and y must have {n} values", "balance_arrays", "pass one per unit")
    if not (np.all(np.isfinite(xa)) and np.all(np.isfinite(ya))):
        raise _problem("x / y contain NaN or infinite values", "balance_arrays", "fix coordinates")
    return xa, ya


def balance_arrays(
    weights: np.ndarray,
    indptr: np.ndarray,
    indices: np.ndarray,
    K: int,
    *,
    tolerance: float = 0.03,
    capacities: np.ndarray | None = None,
    x: np.ndarray | None = None,
    y: np.ndarray | None = None,
    home: np.ndarray | None = None,
    objective: Objective = "cut_edges",
    locks: np.ndarray | None = None,
    previous: np.ndarray | None = None,
    move_penalty: float | None = None,
    max_moved: int | None = None,
    max_moved_weight: float | None = None,
    seed: int = 0,
    time_limit: float = 60.0,
    workers: int | None = None,
    progress: ProgressCallback = no_progress,
    ids: Any = None,
    names: list[Any] | None = None,
    work_limit: float | None = None,
) -> BalanceResult:
    """Assign ``n`` units to ``K`` managers (see the module docstring for the model).

    ``weights`` (n,) workload per unit (e.g. hours/month, >= 0); ``indptr``/``indices``
    a symmetric CSR adjacency; ``capacities`` (K,) relative shares or hours/month
    (target_k = capacity_k / sum(capacity) * total weight); ``x``/``y`` unit coordinates
    (any metric CRS) and ``home`` (K, 2) home bases for compactness; ``locks`` (n,) -1
    for free else the manager index; ``previous`` (n,) manager index or -1;
    ``move_penalty`` in cut-edge units per moved unit (``None``: disruption first);
    ``time_limit`` seconds; ``workers`` parallel searches (default 2). ``ids``/``names``
    only label units and managers in messages. ``work_limit`` is the deterministic work
    budget in reference seconds (default: ``time_limit``); a run that ends by its work
    budget (not by the clock) is reproducible for a seed.

    Raises :class:`InfeasibleError` (with the numbers) when a unit is heavier than every
    upper bound, locks overload a manager, a disconnected part cannot hold a whole
    number of territories, or ``K`` exceeds the number of units.
    """
    t_start = time.monotonic()
    w = np.asarray(weights, dtype=float)
    n = int(w.size)
    if w.ndim != 1:
        raise _problem("weights must be one-dimensional", "balance_arrays", "pass one per unit")
    if n == 0:
        raise _problem("no units to assign", "balance_arrays", "pass at least one unit")
    if not np.all(np.isfinite(w)) or np.any(w < 0):
        bad = np.flatnonzero(~np.isfinite(w) | (w < 0))[:5].tolist()
        raise _problem(
            "weights must be finite and zero or more",
            f"units {[ids[i] for i in bad] if ids is not None else bad}",
            "fix the workload of those units",
        )
    if int(K) != K or K < 1:
        raise _problem(f"K = {K} managers", "balance_arrays", "use a whole number >= 1")
    K = int(K)
    if not 0 <= tolerance < 1:
        raise _problem(
            f"tolerance {tolerance}", "balance_arrays", "use a share in [0, 1), e.g. 0.03"
        )
    if objective not in ("cut_edges", "compactness", "both"):
        raise _problem(
            f"unknown objective {objective!r}",
            "balance_arrays",
            "use cut_edges, compactness or both",
        )
    names = list(names) if names is not None else list(range(K))
    try:
        ip, ix = check_csr(n, indptr, indices)
    except ValueError as exc:
        raise _problem(f"bad adjacency: {exc}", "balance_arrays", "pass a CSR of n units") from exc
    coords = _coords_ok(x, y, n)
    if capacities is None:
        share = np.full(K, 1.0 / K)
    else:
        cap = np.asarray(capacities, dtype=float)
        if cap.shape != (K,) or np.any(~np.isfinite(cap)) or np.any(cap <= 0):
            raise _problem(
                "capacities must be K positive numbers", "balance_arrays", "one per manager"
            )
        share = cap / cap.sum()
    total = float(w.sum())
    targets = share * total
    lo_f = targets * (1 - tolerance)
    hi_f = targets * (1 + tolerance)
    lk = np.full(n, -1, dtype=np.int64) if locks is None else np.asarray(locks, dtype=np.int64)
    if lk.shape != (n,) or np.any((lk < -1) | (lk >= K)):
        raise _problem("locks must be n values in -1..K-1", "balance_arrays", "fix the locks")
    prev = None
    if previous is not None:
        prev = np.asarray(previous, dtype=np.int64)
        if prev.shape != (n,) or np.any((prev < -1) | (prev >= K)):
            raise _problem("previous must be n values in -1..K-1", "balance_arrays", "fix it")
    home_a = None
    if home is not None:
        home_a = np.asarray(home, dtype=float)
        if home_a.shape != (K, 2):
            raise _problem("home must be (K, 2)", "balance_arrays", "one (x, y) per manager")
        if coords is None:
            raise _problem(
                "home bases need unit coordinates x and y", "balance_arrays", "pass x and y"
            )
    if objective != "cut_edges" and coords is None:
        raise _problem(
            f"objective {objective!r} needs unit coordinates", "balance_arrays", "pass x and y"
        )

    comp = components(ip, ix)
    m_per = _feasibility(w, ip, ix, comp, lo_f, hi_f, K, lk, ids, names)
    workers = 2 if workers is None else max(1, int(workers))
    notes: list[str] = []

    ncomp = int(comp.max()) + 1
    if ncomp == 1:
        labels, stats = _solve_component(
            w, ip, ix, np.arange(n), list(range(K)), targets, tolerance, coords, home_a,
            objective, lk, prev, move_penalty, max_moved, max_moved_weight, seed,
            time_limit - (time.monotonic() - t_start), workers, progress,
            interchangeable=capacities is None and home_a is None, work=work_limit,
        )  # fmt: skip
    else:
        labels, stats = _solve_components(
            w, ip, ix, comp, m_per, targets, tolerance, coords, home_a, objective, lk, prev,
            move_penalty, max_moved, max_moved_weight, seed,
            time_limit - (time.monotonic() - t_start), workers, progress, capacities, notes,
            work=work_limit,
        )  # fmt: skip
    report = make_report(
        w, ip, ix, labels, K, targets, tolerance, objective, coords, home_a, lk, prev,
        time.monotonic() - t_start, stats, notes, names,
    )  # fmt: skip
    return BalanceResult(labels=labels, report=report)


def _solve_components(
    w, ip, ix, comp, m_per, targets, tolerance, coords, home_a, objective, lk, prev,
    move_penalty, max_moved, max_moved_weight, seed, time_left, workers, progress,
    capacities, notes, *, work=None,
):  # fmt: skip
    """Disconnected graph: give each part a whole number of managers and solve apart."""
    n = w.size
    K = targets.size
    ncomp = m_per.size
    labels = np.full(n, -1, dtype=np.int64)
    # which managers go to which part: locked managers first, then by home base / order
    owner = np.full(K, -1, dtype=np.int64)
    for d in range(K):
        parts = np.unique(comp[lk == d])
        if parts.size > 1:
            raise InfeasibleError(
                f"manager {d} has locked units in {parts.size} disconnected parts; a "
                "territory must be contiguous",
                suggestions=["lock that manager's units in one part only"],
            )
        if parts.size == 1:
            owner[d] = parts[0]
    need = m_per.copy()
    for d in range(K):
        if owner[d] >= 0:
            need[owner[d]] -= 1
    if np.any(need < 0):
        c = int(np.flatnonzero(need < 0)[0])
        raise InfeasibleError(
            f"a disconnected part can hold {m_per[c]} territories but more managers have "
            "units locked in it",
            suggestions=["unlock units", "change the number of managers"],
        )
    free_mgr = [d for d in range(K) if owner[d] < 0]
    if home_a is not None and coords is not None:
        cx = np.array([coords[0][comp == c].mean() for c in range(ncomp)])
        cy = np.array([coords[1][comp == c].mean() for c in range(ncomp)])
        for d in list(free_mgr):
            order = np.argsort((cx - home_a[d, 0]) ** 2 + (cy - home_a[d, 1]) ** 2)
            for c in order:
                if need[c] > 0:
                    owner[d] = c
                    need[c] -= 1
                    break
    else:
        for d in free_mgr:
            c = int(np.argmax(need))
            owner[d] = c
            need[c] -= 1
    stats_all: dict[str, Any] = {"parts": []}
    sizes = np.bincount(comp, minlength=ncomp).astype(float)
    t0 = time.monotonic()
    done = 0.0
    for c in range(ncomp):
        nodes = np.flatnonzero(comp == c)
        mgrs = [d for d in range(K) if owner[d] == c]
        frac = sizes[c] / sizes.sum()
        budget = max(0.05, (time_left - (time.monotonic() - t0)) * frac / max(1e-9, 1 - done))
        if len(mgrs) == 1:
            labels[nodes] = mgrs[0]
            stats_all["parts"].append({"units": int(nodes.size), "managers": 1})
        else:
            pos = -np.ones(n, dtype=np.int64)
            pos[nodes] = np.arange(nodes.size)
            sub_edges = edge_array(ip, ix)
            keep = (pos[sub_edges[:, 0]] >= 0) & (pos[sub_edges[:, 1]] >= 0)
            sip, six = csr_from_edges(nodes.size, pos[sub_edges[keep]])
            # targets of this part: its weight shared by its managers' capacities
            tg = targets[mgrs] / targets[mgrs].sum() * w[nodes].sum()
            sub_lk = np.where(lk[nodes] >= 0, lk[nodes], -1)
            remap = {d: t for t, d in enumerate(mgrs)}
            sub_lk = np.array([remap.get(int(v), -1) if v >= 0 else -1 for v in sub_lk])
            sub_prev = None
            if prev is not None:
                sub_prev = np.array([remap.get(int(v), -1) for v in prev[nodes]])
            sub_coords = None if coords is None else (coords[0][nodes], coords[1][nodes])
            sub_home = None if home_a is None else home_a[mgrs]
            lab, st = _solve_component(
                w[nodes], sip, six, nodes, list(range(len(mgrs))), tg, tolerance, sub_coords,
                sub_home, objective, sub_lk, sub_prev, move_penalty, max_moved,
                max_moved_weight, seed + c, budget, workers,
                scaled(progress, done, done + frac),
                interchangeable=capacities is None and home_a is None,
                work=None if work is None else max(0.05, work * frac),
            )  # fmt: skip
            labels[nodes] = np.asarray(mgrs)[lab]
            stats_all["parts"].append({"units": int(nodes.size), "managers": len(mgrs), **st})
        done += frac
    notes.append(f"the adjacency has {ncomp} disconnected parts, balanced one by one")
    return labels, stats_all


def _solve_component(
    w, ip, ix, nodes, mgr_idx, targets, tolerance, coords, home_a, objective, lk, prev,
    move_penalty, max_moved, max_moved_weight, seed, time_left, workers, progress,
    *, interchangeable, work=None,
):  # fmt: skip
    """One connected graph: integerise, build costs and run the engine."""
    n = w.size
    K = len(mgr_idx)
    if K == 1:
        return np.zeros(n, dtype=np.int64), {"stopped_by": "trivial"}
    w_int, scale = _int_weights(w)
    lo, hi = _bands(w_int, scale, targets, tolerance)
    tgt_int = [round(t * scale) for t in targets]
    edges = edge_array(ip, ix)
    adj = [ix[ip[i] : ip[i + 1]].tolist() for i in range(n)]
    cost = None
    cut_scale = 1
    refresh = None
    if objective != "cut_edges" or prev is not None:
        cut_scale = _UNIT if objective != "compactness" else 0
    comp_cost = None
    if objective in ("compactness", "both"):
        assert coords is not None
        xs, ys = coords
        ell = _median_edge_length(xs, ys, edges)
        wbar = max(float(w.mean()), 1e-12)
        norm = wbar * ell * ell

        def comp_costs(centres: np.ndarray) -> np.ndarray:
            d2 = (xs[:, None] - centres[None, :, 0]) ** 2 + (ys[:, None] - centres[None, :, 1]) ** 2
            return w[:, None] * d2 / norm

        base = comp_costs(home_a) if home_a is not None else None
        comp_cost = (comp_costs, base)
    # "both": compactness is scaled so that it equals the cut edges in the start plan
    pen = None
    if prev is not None:
        pen = "lex" if move_penalty is None else float(move_penalty)

    def build_cost(labels: list[int] | None) -> list[list[int]] | None:
        c = np.zeros((n, K), dtype=float)
        used = False
        if comp_cost is not None:
            fn, base = comp_cost
            if base is not None:
                cc = base
            else:
                lab = np.asarray(labels) if labels is not None else np.full(n, -1)
                cc = fn(_centres(coords, w, lab, K))
            if objective == "both":
                cc = cc * both_scale[0]
            c += cc * _UNIT
            used = True
        if pen is not None:
            p = lex_pen if pen == "lex" else pen * _UNIT
            moved = (prev[:, None] >= 0) & (np.arange(K)[None, :] != prev[:, None])
            c += moved * p
            used = True
        if not used:
            return None
        return np.round(c).astype(np.int64).tolist()

    both_scale = [1.0]
    lex_pen = float(_UNIT * (len(edges) + 1))
    dynamic = comp_cost is not None and comp_cost[1] is None
    if comp_cost is not None:
        # a start plan for centres / normalisation: region growing is done in the engine;
        # use coordinates k-means-like seeds here (cheap) when no previous plan exists
        start = prev.tolist() if prev is not None and np.all(prev >= 0) else None
        if start is None:
            start = _kmeans_labels(coords, w, K, seed)
        if objective == "both":
            cc = comp_cost[0](
                home_a if home_a is not None else _centres(coords, w, np.asarray(start), K)
            )
            inertia = float(cc[np.arange(n), np.asarray(start)].sum())
            cut0 = int(
                np.count_nonzero(np.asarray(start)[edges[:, 0]] != np.asarray(start)[edges[:, 1]])
            )
            both_scale[0] = max(cut0, 1) / max(inertia, 1e-12)
        if pen == "lex":
            span = 0.0
            probe = _cost_no_penalty(comp_cost, start, coords, w, K, objective, both_scale)
            span = (
                float(probe.max(axis=1).sum() - probe.min(axis=1).sum())
                if probe is not None
                else 0.0
            )
            lex_pen = float(_UNIT * (len(edges) + 1) + span * _UNIT + 1)
        cost = build_cost(start)
    elif pen is not None:
        cost = build_cost(None)
    if dynamic:

        def refresh(labels: list[int]) -> list[list[int]] | None:
            return build_cost(labels)

    inp = EngineInput(
        adj=adj,
        edges=edges,
        weight=w_int.tolist(),
        lo=lo,
        hi=hi,
        target=tgt_int,
        locked=[int(v) for v in lk],
        cut_scale=cut_scale,
        cost=cost,
        previous=None if prev is None else [int(v) for v in prev],
        max_moved=max_moved,
        max_moved_weight=None
        if max_moved_weight is None
        else math.floor(max_moved_weight * scale + 1e-9),
        interchangeable=interchangeable,
        refresh_costs=refresh,
        lexicographic_moves=pen == "lex",
        temp_unit=int(lex_pen) if pen == "lex" else (_UNIT if cut_scale == 0 else 0),
    )
    res = optimise_parallel(
        inp,
        seed=seed,
        time_limit=max(0.05, time_left),
        workers=workers,
        progress=progress,
        work_limit=work,
    )
    stats = dict(res.stats)
    stats.pop("exact_labels", None)
    return np.asarray(res.labels, dtype=np.int64), stats


def _cost_no_penalty(comp_cost, start, coords, w, K, objective, both_scale):
    fn, base = comp_cost
    cc = base if base is not None else fn(_centres(coords, w, np.asarray(start), K))
    if objective == "both":
        cc = cc * both_scale[0]
    return cc


def _centres(coords, w, lab: np.ndarray, K: int) -> np.ndarray:
    xs, ys = coords
    out = np.zeros((K, 2))
    for d in range(K):
        m = lab == d
        if not m.any():
            out[d] = (xs.mean(), ys.mean())
            continue
        ww = w[m]
        if ww.sum() <= 0:
            out[d] = (xs[m].mean(), ys[m].mean())
        else:
            out[d] = ((xs[m] * ww).sum() / ww.sum(), (ys[m] * ww).sum() / ww.sum())
    return out


def _median_edge_length(xs: np.ndarray, ys: np.ndarray, edges: np.ndarray) -> float:
    if edges.size == 0:
        span = max(float(np.ptp(xs)), float(np.ptp(ys)), 1.0)
        return span / max(math.sqrt(xs.size), 1.0)
    d = np.hypot(xs[edges[:, 0]] - xs[edges[:, 1]], ys[edges[:, 0]] - ys[edges[:, 1]])
    med = float(np.median(d))
    return med if med > 0 else max(float(d.mean()), 1.0)


def _kmeans_labels(coords, w: np.ndarray, K: int, seed: int, iters: int = 20) -> list[int]:
    """Weighted k-means on coordinates (k-means++ seeding); used for start centres and as
    the naive baseline of the benchmarks."""
    xs, ys = coords
    pts = np.column_stack([xs, ys])
    n = pts.shape[0]
    rng = np.random.default_rng(seed)
    ww = np.where(w > 0, w, 1e-9)
    cent = [pts[int(rng.integers(n))]]
    for _ in range(1, K):
        d2 = np.min(((pts[:, None, :] - np.array(cent)[None]) ** 2).sum(-1), axis=1)
        p = d2 * ww
        p = p / p.sum() if p.sum() > 0 else np.full(n, 1 / n)
        cent.append(pts[int(rng.choice(n, p=p))])
    c = np.array(cent)
    lab = np.zeros(n, dtype=np.int64)
    for _ in range(iters):
        d2 = ((pts[:, None, :] - c[None]) ** 2).sum(-1)
        lab = d2.argmin(axis=1)
        for d in range(K):
            m = lab == d
            if m.any():
                c[d] = (pts[m] * ww[m, None]).sum(0) / ww[m].sum()
    return lab.tolist()


def make_report(
    w, ip, ix, labels, K, targets, tolerance, objective, coords, home_a, lk, prev, seconds,
    stats, notes, names,
) -> BalanceReport:  # fmt: skip
    """Quality report of a labelling (also used to score baselines in the benchmarks)."""
    labels = np.asarray(labels, dtype=np.int64)
    edges = edge_array(ip, ix)
    cut = int(np.count_nonzero(labels[edges[:, 0]] != labels[edges[:, 1]])) if edges.size else 0
    pieces = territory_components(ip, ix, labels, K)
    terr = []
    total_comp = 0.0
    max_dev = 0.0
    moved_units = 0
    moved_weight = 0.0
    if prev is not None:
        mv = (prev >= 0) & (labels != prev)
        moved_units = int(mv.sum())
        moved_weight = float(w[mv].sum())
    for d in range(K):
        m = labels == d
        wt = float(w[m].sum())
        t = float(targets[d])
        dev = (wt - t) / t if t > 0 else 0.0
        max_dev = max(max_dev, abs(dev))
        comp = 0.0
        if coords is not None and m.any():
            if home_a is not None:
                cx, cy = home_a[d]
            elif w[m].sum() > 0:
                cx = float((coords[0][m] * w[m]).sum() / w[m].sum())
                cy = float((coords[1][m] * w[m]).sum() / w[m].sum())
            else:
                cx, cy = float(coords[0][m].mean()), float(coords[1][m].mean())
            comp = float((w[m] * ((coords[0][m] - cx) ** 2 + (coords[1][m] - cy) ** 2)).sum())
        total_comp += comp
        terr.append(
            TerritoryReport(
                manager=names[d],
                weight=wt,
                target=t,
                lower=t * (1 - tolerance),
                upper=t * (1 + tolerance),
                deviation=dev,
                units=int(m.sum()),
                pieces=int(pieces[d]),
                contiguous=pieces[d] == 1,
                compactness=comp / wt if wt > 0 else 0.0,
                locked_units=int(((lk == d) & m).sum()) if lk is not None else 0,
                moved_in=int(((prev != d) & (prev >= 0) & m).sum()) if prev is not None else 0,
            )
        )
    eps = 1e-9
    notes = list(notes)
    within = all(
        t.lower - eps * max(t.target, 1) <= t.weight <= t.upper + eps * max(t.target, 1)
        for t in terr
    )
    if not within:
        notes.append(
            f"the plan misses the tolerance: max deviation {max_dev:.2%} > {tolerance:.2%}; "
            "give it more time, raise the tolerance, or split the heaviest grids"
        )
    if not all(t.contiguous for t in terr):
        notes.append("some territories are in several pieces (see territories[].pieces)")
    return BalanceReport(
        n_units=int(w.size),
        n_managers=K,
        tolerance=float(tolerance),
        objective=str(objective),
        total_weight=float(w.sum()),
        max_deviation=float(max_dev),
        within_tolerance=bool(within),
        contiguous=all(t.contiguous for t in terr),
        cut_edges=cut,
        total_edges=int(edges.shape[0]),
        compactness=float(total_comp),
        moved_units=moved_units,
        moved_weight=moved_weight,
        seconds=float(seconds),
        stopped_by=str(stats.get("stopped_by", "")),
        territories=tuple(terr),
        notes=tuple(notes),
        stats=stats,
    )


# ---------------------------------------------------------------------------------------
# adjacency helpers


def geometry_adjacency(geoms: Any, kind: Literal["rook", "queen"] = "rook") -> np.ndarray:
    """Undirected edges (m, 2) between polygons that share boundary (rook: a shared
    boundary of positive length; queen: any touch), found with a shapely STRtree."""
    import shapely
    from shapely import STRtree

    g = np.asarray(getattr(geoms, "values", geoms), dtype=object)
    n = g.size
    if n == 0:
        return np.zeros((0, 2), dtype=np.int64)
    tree = STRtree(g)
    left, right = tree.query(g, predicate="intersects")
    keep = left < right
    left, right = left[keep], right[keep]
    if kind == "rook" and left.size:
        inter = shapely.intersection(g[left], g[right])
        bl = shapely.length(inter)
        # a shared edge has positive length; overlapping polygons share area
        area = shapely.area(inter)
        ok = (bl > 0) | (area > 0)
        left, right = left[ok], right[ok]
    return np.stack([left, right], axis=1).astype(np.int64)


def _link_islands(
    n: int, edges: np.ndarray, xs: np.ndarray, ys: np.ndarray
) -> tuple[np.ndarray, list[str]]:
    """Join every smaller connected part to its nearest unit in another part."""
    notes: list[str] = []
    edges = edges.reshape(-1, 2)
    for _ in range(n):
        ip, ix = csr_from_edges(n, edges)
        comp = components(ip, ix)
        ncomp = int(comp.max()) + 1
        if ncomp <= 1:
            break
        sizes = np.bincount(comp)
        c = int(np.argmin(sizes))
        inside = np.flatnonzero(comp == c)
        outside = np.flatnonzero(comp != c)
        d2 = (xs[inside, None] - xs[None, outside]) ** 2 + (
            ys[inside, None] - ys[None, outside]
        ) ** 2
        a, b = np.unravel_index(int(np.argmin(d2)), d2.shape)
        edges = np.vstack([edges, [[inside[a], outside[b]]]])
        notes.append(
            f"linked a part of {inside.size} unit(s) with no neighbour to the nearest unit "
            f"({math.sqrt(float(d2[a, b])):,.0f} coordinate units away)"
        )
    return edges, notes


def _adjacency_edges(adjacency: Any, n: int, ids: pd.Index) -> np.ndarray:
    """Edges (m, 2) from an Adjacency-like object, a (indptr, indices) pair, a sparse
    matrix or a table with columns a, b (unit ids)."""
    if hasattr(adjacency, "indptr") and hasattr(adjacency, "indices"):
        ip, ix = check_csr(n, np.asarray(adjacency.indptr), np.asarray(adjacency.indices))
        return edge_array(ip, ix)
    if isinstance(adjacency, tuple) and len(adjacency) == 2:
        ip, ix = check_csr(n, np.asarray(adjacency[0]), np.asarray(adjacency[1]))
        return edge_array(ip, ix)
    if isinstance(adjacency, pd.DataFrame):
        cols = [c for c in ("a", "b") if c in adjacency.columns]
        if len(cols) != 2:
            raise _problem(
                f"adjacency table has columns {list(adjacency.columns)}",
                "adjacency",
                "give columns a and b with unit ids",
            )
        pos = {v: i for i, v in enumerate(ids)}
        spos = {str(v): i for i, v in enumerate(ids)}

        def look(v: Any) -> float:
            i = pos.get(v)
            if i is None:
                i = spos.get(str(v))
            return np.nan if i is None else i

        a = adjacency["a"].map(look)
        b = adjacency["b"].map(look)
        bad = adjacency[a.isna() | b.isna()]
        if len(bad):
            raise _problem(
                f"{len(bad)} edge(s) name unknown units, e.g. {bad.iloc[0].tolist()}",
                "adjacency",
                "use ids that exist in the units table",
            )
        return np.stack([a.to_numpy(np.int64), b.to_numpy(np.int64)], axis=1)
    raise _problem(
        f"unsupported adjacency of type {type(adjacency).__name__}",
        "adjacency",
        "pass an Adjacency, (indptr, indices), or a table with columns a, b",
    )


def _manager_index(values: Any, names: list[Any], what: str) -> dict[Any, int]:
    pos = {nm: i for i, nm in enumerate(names)}
    spos = {str(nm): i for i, nm in enumerate(names)}
    out: dict[Any, int] = {}
    unknown = []
    for v in values:
        if v in pos:
            out[v] = pos[v]
        elif str(v) in spos:
            out[v] = spos[str(v)]
        else:
            unknown.append(v)
    if unknown:
        raise _problem(
            f"unknown manager(s) {sorted({str(u) for u in unknown})[:5]}",
            what,
            f"use one of {[str(x) for x in names][:10]}",
        )
    return out


def _by_id(mapping: Any, ids: pd.Index, names: list[Any], what: str) -> np.ndarray:
    """(n,) manager index per unit (-1 where absent) from a Mapping / Series id -> manager."""
    n = len(ids)
    out = np.full(n, -1, dtype=np.int64)
    if mapping is None:
        return out
    s = pd.Series(mapping) if not isinstance(mapping, pd.Series) else mapping
    s = s.dropna()
    pos = {v: i for i, v in enumerate(ids)}
    spos = {str(v): i for i, v in enumerate(ids)}
    idx = [pos.get(key, spos.get(str(key), -1)) for key in s.index]
    missing = [key for key, i in zip(s.index, idx, strict=True) if i < 0]
    if missing:
        raise _problem(
            f"{len(missing)} unknown unit id(s), e.g. {missing[:3]}",
            what,
            "use ids that exist in the units table",
        )
    mi = _manager_index(s.tolist(), names, what)
    out[np.asarray(idx, dtype=np.int64)] = [mi[v] for v in s.tolist()]
    return out


# ---------------------------------------------------------------------------------------
# GeoDataFrame wrapper


def balance_grids(
    grids: Any,
    adjacency: Any = None,
    config: BalanceConfig | None = None,
    managers: pd.DataFrame | None = None,
    locks: Mapping[Any, Any] | None = None,
    previous: Mapping[Any, Any] | pd.Series | None = None,
    progress: ProgressCallback = no_progress,
) -> BalanceResult:
    """Assign grids to managers (see the module docstring).

    ``grids``: GeoDataFrame with the workload column ``config.weight_column`` (hours per
    month; compute it with :func:`gridplan.workload.grid_workload`), ids in ``grid_id``
    (else the index), polygons in a projected CRS (metres). ``adjacency``: an
    :class:`~gridplan.adjacency.Adjacency`, ``(indptr, indices)``, a table of ``a, b``
    grid ids, or ``None`` to build rook/queen adjacency from the geometry.
    ``managers``: table with ``name`` and optional ``capacity_h`` (hours/month) and
    ``home_x``/``home_y`` (same CRS); without it ``config.n_managers`` managers named
    M01, M02, … (default: the headcount the workload needs at ``config.capacity_h``).
    ``locks``: grid id -> manager name; ``previous``: grid id -> manager name.
    Returns ``assignment`` (grid id -> manager), ``territories`` (dissolved, with
    workload, target, deviation, number of grids) and ``report``.
    """
    cfg = config or BalanceConfig()
    if cfg.weight_column not in grids.columns:
        raise _problem(
            f"no workload column {cfg.weight_column!r} (columns: {list(grids.columns)[:12]})",
            "grids",
            "compute hours with gridplan.workload.grid_workload or set weight_column",
        )
    ids = pd.Index(grids["grid_id"] if "grid_id" in grids.columns else grids.index)
    if ids.has_duplicates:
        raise _problem("duplicate grid ids", "grids", "give every grid its own id")
    n = len(grids)
    w = pd.to_numeric(grids[cfg.weight_column], errors="coerce").to_numpy(dtype=float)
    notes: list[str] = []
    geom = grids.geometry if hasattr(grids, "geometry") else None
    xs = ys = None
    if geom is not None:
        pts = geom.representative_point()
        xs, ys = pts.x.to_numpy(float), pts.y.to_numpy(float)
    if adjacency is None:
        if geom is None:
            raise _problem("no adjacency and no geometry", "grids", "pass an adjacency")
        edges = geometry_adjacency(geom, cfg.adjacency)
        notes.append(f"built {cfg.adjacency} adjacency from the grid polygons")
    else:
        edges = _adjacency_edges(adjacency, n, ids)
    if cfg.link_islands and xs is not None and n > 1:
        edges, more = _link_islands(n, edges, xs, ys)
        notes += more
    ip, ix = csr_from_edges(n, edges)
    # managers
    if managers is None:
        k = cfg.n_managers
        if k is None:
            k = max(1, math.ceil(float(np.nansum(w)) / cfg.capacity_h - 1e-9))
            notes.append(
                f"{k} managers: the workload {np.nansum(w):,.1f} h/month at "
                f"{cfg.capacity_h:g} h per manager"
            )
        names = [f"M{i + 1:02d}" for i in range(k)]
        capacities = None
        home = None
    else:
        if "name" not in managers.columns:
            raise _problem("managers table has no 'name' column", "managers", "add names")
        names = managers["name"].tolist()
        if len(set(map(str, names))) != len(names):
            raise _problem("duplicate manager names", "managers", "give unique names")
        k = len(names)
        capacities = None
        if "capacity_h" in managers.columns and managers["capacity_h"].notna().any():
            capacities = (
                pd.to_numeric(managers["capacity_h"], errors="coerce")
                .fillna(managers["capacity_h"].median())
                .to_numpy(float)
            )
        home = None
        if {"home_x", "home_y"} <= set(managers.columns) and managers["home_x"].notna().all():
            home = managers[["home_x", "home_y"]].to_numpy(float)
    lk = _by_id(locks, ids, names, "locks")
    prev = _by_id(previous, ids, names, "previous") if previous is not None else None
    res = balance_arrays(
        w,
        ip,
        ix,
        k,
        tolerance=cfg.tolerance,
        capacities=capacities,
        x=xs,
        y=ys,
        home=home,
        objective=cfg.objective,
        locks=lk,
        previous=prev,
        move_penalty=cfg.move_penalty,
        max_moved=cfg.max_moved,
        max_moved_weight=cfg.max_moved_weight,
        seed=cfg.seed,
        time_limit=cfg.time_limit,
        workers=cfg.workers,
        progress=progress,
        ids=list(ids),
        names=names,
        work_limit=cfg.work_limit,
    )
    rep = res.report
    if notes:
        from dataclasses import replace

        rep = replace(rep, notes=tuple(notes) + rep.notes)
        res.report = rep
    res.assignment = pd.Series([names[d] for d in res.labels], index=ids, name="manager")
    if geom is not None:
        import geopandas as gpd

        g = gpd.GeoDataFrame(
            {"manager": res.assignment.to_numpy()}, geometry=geom.values, crs=grids.crs
        )
        diss = g.dissolve(by="manager", as_index=False)
        tr = {t.manager: t for t in rep.territories}
        diss["workload"] = [tr[m].weight for m in diss["manager"]]
        diss["target"] = [tr[m].target for m in diss["manager"]]
        diss["deviation"] = [tr[m].deviation for m in diss["manager"]]
        diss["n_grids"] = [tr[m].units for m in diss["manager"]]
        diss["contiguous"] = [tr[m].contiguous for m in diss["manager"]]
        res.territories = diss
    return res


# ---------------------------------------------------------------------------------------
# generic units table (CLI)


def balance_units_table(
    units: pd.DataFrame,
    id_col: str,
    x_col: str | None,
    y_col: str | None,
    weight_col: str,
    K: int,
    tolerance: float = 0.03,
    edges: pd.DataFrame | None = None,
    previous: pd.DataFrame | Mapping[Any, Any] | None = None,
    locks: pd.DataFrame | Mapping[Any, Any] | None = None,
    seed: int = 0,
    time_limit: float = 60.0,
    progress: ProgressCallback = no_progress,
    *,
    objective: Objective = "cut_edges",
    workers: int | None = None,
) -> pd.DataFrame:
    """Balance generic units; returns a table ``unit_id, manager``.

    ``edges``: table with columns ``a, b`` (unit ids); when ``None`` the adjacency is the
    Delaunay triangulation of the coordinates (said through ``progress`` and in
    ``result.attrs['notes']``). ``previous`` / ``locks``: tables ``unit_id, manager`` (or
    mappings). Managers are named by the labels found in previous/locks, the others
    0, 1, 2 … (the lowest unused whole numbers). The report is in ``result.attrs['report']``.
    """
    for col in [id_col, weight_col]:
        if col not in units.columns:
            raise _problem(f"no column {col!r}", "units", f"columns are {list(units.columns)}")
    ids = pd.Index(units[id_col])
    if ids.has_duplicates:
        raise _problem("duplicate unit ids", f"units.{id_col}", "make ids unique")
    n = len(units)
    w = pd.to_numeric(units[weight_col], errors="coerce").to_numpy(float)
    xs = ys = None
    if x_col and y_col and x_col in units.columns and y_col in units.columns:
        xs = pd.to_numeric(units[x_col], errors="coerce").to_numpy(float)
        ys = pd.to_numeric(units[y_col], errors="coerce").to_numpy(float)
    notes: list[str] = []
    if edges is None:
        if xs is None:
            raise _problem("no edges and no coordinates", "units", "pass --edges or --x/--y")
        e = delaunay_edges(xs, ys)
        msg = f"no edges given: built a Delaunay adjacency of the {n} unit coordinates"
        notes.append(msg)
        progress(0.0, msg)
    else:
        if not {"a", "b"} <= set(edges.columns):
            edges = edges.rename(columns={edges.columns[0]: "a", edges.columns[1]: "b"})
        e = _adjacency_edges(edges, n, ids)

    def as_map(t: Any) -> Mapping[Any, Any] | None:
        if t is None:
            return None
        if isinstance(t, pd.DataFrame):
            cols = (
                ["unit_id", "manager"]
                if {"unit_id", "manager"} <= set(t.columns)
                else list(t.columns[:2])
            )
            return dict(zip(t[cols[0]], t[cols[1]], strict=True))
        return dict(t)

    prev_m, lock_m = as_map(previous), as_map(locks)
    labels_seen: list[Any] = []
    for m in (prev_m, lock_m):
        if m:
            for v in m.values():
                if not (isinstance(v, float) and math.isnan(v)) and v not in labels_seen:
                    labels_seen.append(v)
    if len(labels_seen) > K:
        raise _problem(
            f"{len(labels_seen)} manager labels in previous/locks but K = {K}",
            "previous/locks",
            "raise K or use fewer labels",
        )
    names = list(labels_seen)
    used = {str(v) for v in names}
    nxt = 0
    while len(names) < K:
        while str(nxt) in used:
            nxt += 1
        names.append(nxt)
        used.add(str(nxt))
        nxt += 1
    lk = _by_id(lock_m, ids, names, "locks")
    prev = _by_id(prev_m, ids, names, "previous") if prev_m is not None else None
    ip, ix = csr_from_edges(n, e)
    res = balance_arrays(
        w, ip, ix, K, tolerance=tolerance, x=xs, y=ys, objective=objective, locks=lk,
        previous=prev, seed=seed, time_limit=time_limit, workers=workers, progress=progress,
        ids=list(ids), names=names,
    )  # fmt: skip
    out = pd.DataFrame(
        {"unit_id": units[id_col].to_numpy(), "manager": [names[d] for d in res.labels]}
    )
    out.attrs["notes"] = notes + list(res.report.notes)
    out.attrs["report"] = res.report.to_dict()
    return out


# ---------------------------------------------------------------------------------------
# second level: territories -> areas


def group_into_areas(
    territory_labels: np.ndarray,
    adjacency: Any,
    territory_weights: np.ndarray,
    n_areas: int | None = None,
    area_size: int | None = None,
    tolerance: float = 0.1,
    *,
    seed: int = 0,
    time_limit: float = 20.0,
    progress: ProgressCallback = no_progress,
    workers: int | None = None,
    work_limit: float | None = None,
) -> BalanceResult:
    """Group territories into contiguous, balanced areas (区域) led by area managers.

    ``territory_labels`` (n_units,) territory index per unit (0..T-1); ``adjacency`` the
    unit adjacency (``(indptr, indices)``, an Adjacency, or edges (m, 2));
    ``territory_weights`` (T,) workload per territory; ``n_areas`` or ``area_size``
    (territories per area, e.g. 5 → ``ceil(T / 5)`` areas). Two territories are
    neighbours when any of their units are. Returns a :class:`BalanceResult` whose
    ``labels`` give the area of each territory.
    """
    lab = np.asarray(territory_labels, dtype=np.int64)
    tw = np.asarray(territory_weights, dtype=float)
    T = int(tw.size)
    if lab.size and (lab.min() < 0 or lab.max() >= T):
        raise _problem("territory labels must be in 0..T-1", "group_into_areas", "relabel")
    if n_areas is None:
        if not area_size:
            raise _problem("give n_areas or area_size", "group_into_areas", "e.g. area_size=5")
        n_areas = max(1, math.ceil(T / area_size))
    if hasattr(adjacency, "indptr") or (isinstance(adjacency, tuple) and len(adjacency) == 2):
        src = adjacency if not isinstance(adjacency, tuple) else None
        ip = np.asarray(src.indptr if src is not None else adjacency[0])
        ix = np.asarray(src.indices if src is not None else adjacency[1])
        e = edge_array(*check_csr(lab.size, ip, ix))
    else:
        e = np.asarray(adjacency, dtype=np.int64).reshape(-1, 2)
    te = np.stack([lab[e[:, 0]], lab[e[:, 1]]], axis=1)
    te = te[te[:, 0] != te[:, 1]]
    tip, tix = csr_from_edges(T, te)
    return balance_arrays(
        tw, tip, tix, n_areas, tolerance=tolerance, seed=seed, time_limit=time_limit,
        progress=progress, workers=workers, work_limit=work_limit,
    )  # fmt: skip
