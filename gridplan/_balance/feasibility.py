"""Provable infeasibility: checks that fire before any search, with the numbers.

Each check is a necessary condition (cheap, exact when it fires) and raises
:class:`~gridplan.errors.InfeasibleError` with a message naming the unit or manager,
the weights involved (in weight units, e.g. hours/month) and what to change.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from gridplan.errors import InfeasibleError
from gridplan.graph import components, csr_rows

__all__ = ["ReachBound", "check_feasibility", "reach_note", "reach_round", "reachable_bound"]


def _unit_name(ids: Any, i: int) -> str:
    if ids is None:
        return f"unit {i}"
    return f"unit {ids[i]!r}"


@dataclass(frozen=True)
class _Locks:
    """The locks seen from the free units (weights in weight units, e.g. hours/month).

    ``free`` (n,) unit not locked; ``groups`` (n,) group of free units (-1 for locked
    units) and ``group_w`` its weight; ``src``/``dst`` every stored CSR entry;
    ``touch`` pairs (free group, manager) where a group touches a manager's locks;
    ``locked_w`` (k,) locked weight per manager; ``has_lock`` (k,) manager has locks.
    """

    w: np.ndarray
    locks: np.ndarray
    free: np.ndarray
    groups: np.ndarray
    n_groups: int
    group_w: np.ndarray
    src: np.ndarray
    dst: np.ndarray
    touch: np.ndarray
    locked_w: np.ndarray
    has_lock: np.ndarray


def _lock_view(w: np.ndarray, ip: np.ndarray, ix: np.ndarray, k: int, locks: np.ndarray) -> _Locks:
    """Free-unit groups and which managers' locks each of them touches."""
    free = locks < 0
    fc = components(ip, ix, free)  # groups of free units (-1 for locked units)
    nfc = int(fc.max()) + 1 if free.any() else 0
    fw = np.bincount(fc[free], weights=w[free], minlength=nfc)
    src = csr_rows(ip)
    dst = np.asarray(ix, dtype=np.int64)
    touch = free[src] & ~free[dst]  # a free unit next to a locked one
    pairs = np.unique(np.stack([fc[src[touch]], locks[dst[touch]]], axis=1), axis=0)
    pairs = pairs.reshape(-1, 2)
    locked_w = np.bincount(locks[~free], weights=w[~free], minlength=k)
    has_lock = np.zeros(k, dtype=bool)
    has_lock[np.unique(locks[~free])] = True
    return _Locks(w, locks, free, fc, nfc, fw, src, dst, pairs, locked_w, has_lock)


def _check_one_part(comp: np.ndarray, d: int, mine: np.ndarray, names, name) -> None:
    """A manager's locked units must lie in one connected part of the adjacency."""
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


def _check_joinable(lv: _Locks, d: int, mine: np.ndarray, lo_f, hi_f, names, name, target) -> None:
    """(1) The lightest connection of a manager's locked units through free units must
    exist and fit under that manager's upper bound."""
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import dijkstra

    n = lv.w.size
    free, locks, src, dst = lv.free, lv.locks, lv.src, lv.dst
    scale = max(float(hi_f.max()), 1.0)
    eps = 1e-12 * scale  # keeps zero-weight steps as edges; n * eps is negligible
    cost = np.where(free, lv.w, 0.0) + eps
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
    locked_w = lv.locked_w
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


def _check_room_to_grow(lv: _Locks, d: int, mine: np.ndarray, lo_f, names, target) -> None:
    """(2) A manager can only grow into the free groups touching its locks."""
    pairs, locked_w = lv.touch, lv.locked_w
    reach = float(locked_w[d]) + float(lv.group_w[pairs[pairs[:, 1] == d, 0]].sum())
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


def _check_fenced_groups(lv: _Locks, hi_f: np.ndarray, k: int, names, target) -> None:
    """(3) With locks on every manager, a free group touching one manager's locks only
    goes to that manager, which must stay under its upper bound."""
    pairs, locked_w = lv.touch, lv.locked_w
    bordering = np.bincount(pairs[:, 0], minlength=lv.n_groups)
    only = pairs[bordering[pairs[:, 0]] == 1]
    forced = locked_w + np.bincount(only[:, 1], weights=lv.group_w[only[:, 0]], minlength=k)
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
    lv = _lock_view(w, ip, ix, k, locks)

    def name(i: int) -> str:
        return str(ids[i]) if ids is not None else str(i)

    def target(d: int) -> float:
        return float((lo_f[d] + hi_f[d]) / 2)

    for d in np.flatnonzero(lv.has_lock):
        d = int(d)
        mine = np.flatnonzero(locks == d)
        _check_one_part(comp, d, mine, names, name)
        if mine.size > 1:
            _check_joinable(lv, d, mine, lo_f, hi_f, names, name, target)
        _check_room_to_grow(lv, d, mine, lo_f, names, target)
    if lv.has_lock.all() and lv.n_groups:
        _check_fenced_groups(lv, hi_f, k, names, target)


@dataclass(frozen=True)
class ReachBound:
    """What the units allow, before any search: ``tolerance`` is a lower bound on the
    max deviation any plan can reach (share of the target, e.g. 0.05 = ±5 %; 0 when no
    bound bites); ``reasons`` say which units or parts set it, with the numbers
    (weights in weight units, e.g. hours/month); ``heavy`` the units heavier than the
    largest target."""

    tolerance: float
    reasons: tuple[str, ...] = ()
    heavy: tuple[int, ...] = ()


def _fmt_tol(t: float) -> str:
    return f"±{reach_round(t):.1%}"


def reach_round(t: float) -> float:
    """A reachable-tolerance bound rounded up to the next 0.1 % (what a planner types)."""
    return math.ceil(t * 1000 - 1e-6) / 1000


def _part_bound(wc: float, t_min: float, t_max: float, k: int) -> tuple[float, int]:
    """Smallest tolerance at which a part of weight ``wc`` holds a whole number of
    territories, and that number (targets between ``t_min`` and ``t_max``)."""
    best = (math.inf, 1)
    m0 = max(1, int(wc / t_max))
    for m in range(max(1, m0 - 1), min(k, m0 + 2) + 1):
        over = wc / (m * t_max) - 1.0
        under = 1.0 - wc / (m * t_min) if t_min > 0 else 0.0
        best = min(best, (max(0.0, over, under), m))
    return best


def reachable_bound(
    w: np.ndarray,
    comp: np.ndarray,
    targets: np.ndarray,
    locks: np.ndarray | None = None,
    ids: Any = None,
    names: list[Any] | None = None,
    noun: str = "unit",
) -> ReachBound:
    """Cheap valid lower bounds on the max deviation (see :class:`ReachBound`): the
    heaviest unit against the largest target (a unit goes whole to one manager), each
    manager's locked units against its target, and each connected part of the adjacency
    against whole numbers of targets (territories are contiguous). Exact when it bites;
    the granularity of many small units is not bounded (that would be a subset-sum).
    ``noun`` names the units in the reasons (e.g. "grid")."""
    w = np.asarray(w, dtype=float)
    targets = np.asarray(targets, dtype=float)
    k = targets.size
    if w.size == 0 or k == 0 or float(targets.max()) <= 0:
        return ReachBound(0.0)
    t_max, t_min = float(targets.max()), float(targets.min())
    bounds: list[tuple[float, str]] = []
    i = int(np.argmax(w))
    tb = max(0.0, float(w[i]) / t_max - 1.0)
    heavy = tuple(int(j) for j in np.argsort(-w) if w[j] > t_max * (1 + 1e-12))
    if tb > 0:
        bounds.append(
            (
                tb,
                f"{_unit_name(ids, i).replace('unit', noun, 1)} weighs {w[i]:,.2f}, "
                f"{tb:.1%} above the largest target {t_max:,.2f} ({len(heavy)} {noun}(s) "
                "heavier than a whole target)",
            )
        )
    if locks is not None and np.any(locks >= 0):
        lw = np.bincount(locks[locks >= 0], weights=w[locks >= 0], minlength=k)
        dev = np.where(targets > 0, lw / np.maximum(targets, 1e-300) - 1.0, 0.0)
        d = int(np.argmax(dev))
        if dev[d] > 0:
            nm = names[d] if names is not None else d
            bounds.append(
                (
                    float(dev[d]),
                    f"the {noun}s locked to manager {nm!r} weigh {lw[d]:,.2f}, "
                    f"{dev[d]:.1%} above that manager's target {targets[d]:,.2f}",
                )
            )
    ncomp = int(comp.max()) + 1 if comp.size else 0
    if ncomp > 1:
        for c in range(ncomp):
            nodes = np.flatnonzero(comp == c)
            wc = float(w[nodes].sum())
            tc, m = _part_bound(wc, t_min, t_max, k)
            if tc > 0 and math.isfinite(tc):
                shown = ", ".join(str(ids[j] if ids is not None else j) for j in nodes[:3])
                more = "…" if nodes.size > 3 else ""
                bounds.append(
                    (
                        tc,
                        f"a part of {nodes.size} {noun}(s) with no neighbour outside it "
                        f"({shown}{more}) weighs {wc:,.2f} = {wc / t_max:.2f} targets: "
                        f"{m} whole territories there are {tc:.1%} off",
                    )
                )
    if not bounds:
        return ReachBound(0.0, (), heavy)
    top = max(b[0] for b in bounds)
    reasons = tuple(r for t, r in sorted(bounds, key=lambda b: -b[0]))
    return ReachBound(float(top), reasons, heavy)


def reach_note(bound: ReachBound, tolerance: float) -> str | None:
    """The planner's note when ``tolerance`` is out of reach (``None`` when it is not)."""
    if bound.tolerance <= tolerance + 1e-12:
        return None
    return (
        f"the tolerance ±{tolerance:.1%} is out of reach: "
        + "; ".join(bound.reasons[:3])
        + f". No plan can do better than {_fmt_tol(bound.tolerance)}; balanced with "
        f"±{tolerance:.1%} as the goal anyway. Split the heaviest grids (re-partition them "
        f"with a lower floor) or use a tolerance of {_fmt_tol(bound.tolerance)}"
    )


def _check_weights(
    w: np.ndarray, lo_f: np.ndarray, hi_f: np.ndarray, k: int, locks: np.ndarray, ids, names
) -> None:
    """Enough units for the managers, no unit above every upper bound, no manager's
    locked units above its upper bound (the bands given here already include the
    reachable bound: see :func:`check_feasibility`)."""
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


def _part_ranges(
    w: np.ndarray, comp: np.ndarray, ncomp: int, lo_f, hi_f, k: int, ids
) -> list[tuple[int, int, float]]:
    """``(fewest, most managers, weight)`` each connected part can hold; raise when a
    part can hold no whole number of territories or the parts cannot hold ``k``."""
    lo_min, hi_max = float(lo_f.min()), float(hi_f.max())
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
    return ranges


def _managers_per_part(ranges: list[tuple[int, int, float]], k: int, tgt: float) -> list[int]:
    """Managers per part: closest to weight / target, then fix the sum greedily."""
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
    return m


def check_feasibility(
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
    """Raise :class:`InfeasibleError` for the provable cases; return managers per component.

    A tolerance out of reach by :func:`reachable_bound` (a too-heavy unit, overloaded
    locks, a part that holds no whole number of territories) is not an error: the checks
    then use the reachable tolerance (the search keeps the asked one as its goal and the
    report says so)."""
    n = w.size
    targets = (lo_f + hi_f) / 2
    tol = float(np.max(np.where(targets > 0, hi_f / np.maximum(targets, 1e-300) - 1, 0.0)))
    bound = reachable_bound(w, comp, targets, locks)
    if bound.tolerance > tol:
        t_eff = bound.tolerance * (1 + 1e-9) + 1e-12
        lo_f = targets * max(0.0, 1 - t_eff)
        hi_f = targets * (1 + t_eff)
    _check_weights(w, lo_f, hi_f, k, locks, ids, names)
    if np.any(locks >= 0):
        _lock_feasibility(w, ip, ix, comp, lo_f, hi_f, k, locks, ids, names)
    ncomp = int(comp.max()) + 1 if n else 0
    m_per = np.zeros(ncomp, dtype=np.int64)
    if ncomp <= 1:
        m_per[:] = k
        return m_per
    ranges = _part_ranges(w, comp, ncomp, lo_f, hi_f, k, ids)
    tgt = float(np.mean((lo_f + hi_f) / 2))
    m_per[:] = _managers_per_part(ranges, k, tgt)
    return m_per
