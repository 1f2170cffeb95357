"""Quality report of a labelling: workloads, deviations, pieces, compactness, moves."""

from __future__ import annotations

import numpy as np

from gridplan._balance.feasibility import _fmt_tol, reach_note, reachable_bound
from gridplan._balance.graph import territory_components
from gridplan._balance.results import BalanceReport, TerritoryReport
from gridplan.graph import components, edge_array

__all__ = ["make_report"]


def make_report(
    w, ip, ix, labels, K, targets, tolerance, objective, coords, home_a, lk, prev, seconds,
    stats, notes, names, ids=None,
) -> BalanceReport:  # fmt: skip
    """Quality report of a labelling (also used to score baselines in the benchmarks);
    ``ids`` name the units in the notes."""
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
    bound = reachable_bound(w, components(ip, ix), np.asarray(targets, float), lk, ids, names)
    note = reach_note(bound, tolerance)
    if note is not None and note not in notes:
        notes.append(note)
    within = all(
        t.lower - eps * max(t.target, 1) <= t.weight <= t.upper + eps * max(t.target, 1)
        for t in terr
    )
    if not within:
        if bound.tolerance > tolerance:
            why = f"the units allow no better than {_fmt_tol(bound.tolerance)}"
        else:
            why = "the tolerance is within reach: give it more time"
        notes.append(
            f"the plan misses the tolerance: max deviation {max_dev:.2%} > {tolerance:.2%}; "
            f"{why}, raise the tolerance, or split the heaviest grids"
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
        reachable_tolerance=float(bound.tolerance),
    )
