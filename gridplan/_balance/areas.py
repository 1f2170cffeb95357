"""Second level: group territories into contiguous, balanced areas (区域), optionally
inside organisation units (``within``: areas never span two units)."""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np

from gridplan._balance.arrays import balance_arrays
from gridplan._balance.inputs import _problem
from gridplan._balance.parts import Part, apportion, induced, split_parts, territory_adjacency
from gridplan._balance.report import make_report
from gridplan._balance.results import BalanceResult
from gridplan.progress import ProgressCallback, no_progress, scaled

__all__ = ["group_into_areas"]


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
    within: np.ndarray | None = None,
) -> BalanceResult:
    """Group territories into contiguous, balanced areas (区域) led by area managers.

    ``territory_labels`` (n_units,) territory index per unit (0..T-1); ``adjacency`` the
    unit adjacency (``(indptr, indices)``, an Adjacency, or edges (m, 2));
    ``territory_weights`` (T,) workload per territory; ``n_areas`` or ``area_size``
    (territories per area, e.g. 5 → ``ceil(T / 5)`` areas). Two territories are
    neighbours when any of their units are. Returns a :class:`BalanceResult` whose
    ``labels`` give the area of each territory.

    ``within`` (T,) a unit label per territory (e.g. its branch code): areas are then
    formed inside each unit separately (see :func:`_areas_within`).
    """
    tw = np.asarray(territory_weights, dtype=float)
    T = int(tw.size)
    if n_areas is None and not area_size:
        raise _problem("give n_areas or area_size", "group_into_areas", "e.g. area_size=5")
    tip, tix = territory_adjacency(territory_labels, adjacency, T)
    if within is not None:
        return _areas_within(
            tw, tip, tix, within, n_areas, area_size, tolerance, seed, time_limit, progress,
            workers, work_limit,
        )  # fmt: skip
    if n_areas is None:
        n_areas = max(1, math.ceil(T / area_size))  # type: ignore[operator]
    return balance_arrays(
        tw, tip, tix, n_areas, tolerance=tolerance, seed=seed, time_limit=time_limit,
        progress=progress, workers=workers, work_limit=work_limit,
    )  # fmt: skip


def _areas_per_unit(
    counts: np.ndarray, n_areas: int | None, area_size: int | None, notes: list[str]
) -> np.ndarray:
    """Areas per unit: ``ceil(T_u / area_size)``, or ``n_areas`` shared in proportion
    to the territory counts (largest remainder, at least 1 and at most ``T_u`` each)."""
    if n_areas is None:
        return np.array([max(1, math.ceil(c / area_size)) for c in counts], dtype=np.int64)  # type: ignore[operator]
    k = apportion(int(n_areas), counts, np.ones_like(counts), counts)
    if int(k.sum()) != int(n_areas):
        notes.append(
            f"{n_areas} areas asked for {counts.size} units of {int(counts.sum())} territories: "
            f"{int(k.sum())} areas formed (every unit has at least one area, an area at "
            "least one territory)"
        )
    return k


def _areas_per_piece(
    parts: list[Part], k_unit: np.ndarray, tw: np.ndarray, units: list[Any], notes: list[str]
) -> list[int]:
    """Areas per connected piece of each unit: the unit's areas shared by weight (by
    territory count when the unit weighs nothing), at least one per piece."""
    out: list[int] = []
    for u, k in enumerate(k_unit):
        mine = [p for p in parts if p.unit == u]
        sizes = np.array([p.nodes.size for p in mine], dtype=np.int64)
        if len(mine) > 1:
            shares = np.array([tw[p.nodes].sum() for p in mine], dtype=float)
            shares = shares if shares.sum() > 0 else sizes.astype(float)
            got = apportion(int(k), shares, np.ones_like(sizes), sizes)
            more = f"; {int(got.sum())} areas instead of {int(k)}" if got.sum() != k else ""
            notes.append(
                f"unit {units[u]!r}: its territories form {len(mine)} disconnected parts "
                f"(sizes {sizes.tolist()}), each grouped into its own area(s){more}"
            )
            out.extend(int(g) for g in got)
        else:
            out.append(int(min(k, sizes[0])))
    return out


def _first_seen(labels: np.ndarray) -> np.ndarray:
    """Relabel ``0..k-1`` in the order of each label's smallest index (stable)."""
    _, first = np.unique(labels, return_index=True)
    order = np.argsort(first, kind="stable")
    remap = np.empty(order.size, dtype=np.int64)
    remap[np.unique(labels)[order]] = np.arange(order.size)
    return remap[labels]


def _areas_within(
    tw, tip, tix, within, n_areas, area_size, tolerance, seed, time_limit, progress, workers,
    work_limit,
) -> BalanceResult:  # fmt: skip
    """Areas formed separately in each unit (and each connected piece of a unit): the
    pieces are independent problems; the time and work budgets are split among them in
    proportion to their territory counts (the work split is fixed, so with
    ``work_limit`` the result depends on the seed and the budget, not the clock). Areas
    are numbered in unit order (sorted unit labels), then piece, then by their smallest
    territory index; each area's target is its piece's weight / its areas."""
    t_start = time.monotonic()
    T = int(tw.size)
    units, parts, (sip, six) = split_parts(tip, tix, within, T, "group_into_areas")
    notes: list[str] = []
    counts = np.array([sum(p.nodes.size for p in parts if p.unit == u) for u in range(len(units))])
    k_part = _areas_per_piece(parts, _areas_per_unit(counts, n_areas, area_size, notes), tw,
                              units, notes)  # fmt: skip
    searched = sum(p.nodes.size for p, k in zip(parts, k_part, strict=True) if 1 < k < p.nodes.size)
    labels = np.empty(T, dtype=np.int64)
    targets: list[float] = []
    part_stats: list[dict[str, Any]] = []
    done = 0
    for p, k in zip(parts, k_part, strict=True):
        sub_w = tw[p.nodes]
        if 1 < k < p.nodes.size:
            share = p.nodes.size / max(1, searched - done)
            left = max(0.1, time_limit - (time.monotonic() - t_start))
            wl = None if work_limit is None else float(work_limit) * p.nodes.size / searched
            sub_ip, sub_ix = induced(sip, six, p.nodes)
            res = balance_arrays(
                sub_w, sub_ip, sub_ix, k, tolerance=tolerance, seed=seed,
                time_limit=max(0.1, left * share), workers=workers, work_limit=wl,
                progress=scaled(progress, done / max(1, searched),
                                (done + p.nodes.size) / max(1, searched)),
            )  # fmt: skip
            done += p.nodes.size
            local = _first_seen(res.labels)
            stopped = res.report.stopped_by
            notes.extend(f"unit {units[p.unit]!r}: {n}" for n in res.report.notes)
        else:
            local = np.zeros(p.nodes.size, dtype=np.int64) if k == 1 else np.arange(k)
            stopped = "trivial"
        labels[p.nodes] = local + len(targets)
        targets.extend([float(sub_w.sum()) / k] * k)
        part_stats.append({"unit": units[p.unit], "piece": p.piece, "areas": k,
                           "territories": int(p.nodes.size), "stopped_by": stopped})  # fmt: skip
    stops = [s["stopped_by"] for s in part_stats]
    stats = {"stopped_by": next((s for s in ("time", "work") if s in stops), stops[0]),
             "parts": part_stats}  # fmt: skip
    K = len(targets)
    report = make_report(
        tw, sip, six, labels, K, np.array(targets), tolerance, "cut_edges", None, None, None,
        None, time.monotonic() - t_start, stats, notes, list(range(K)),
    )  # fmt: skip
    progress(1.0, f"{K} areas in {len(units)} units")
    return BalanceResult(labels=labels, report=report)
