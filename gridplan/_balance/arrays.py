"""The array core :func:`balance_arrays`: checks, feasibility, engine, report."""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from gridplan._balance.components import solve_component, solve_components
from gridplan._balance.config import BalanceConfig, Objective
from gridplan._balance.feasibility import check_feasibility, reach_note, reachable_bound
from gridplan._balance.inputs import (
    _coords_ok,
    check_adjacency,
    check_home,
    check_labels,
    check_scalars,
    check_weights,
    manager_shares,
)
from gridplan._balance.report import make_report
from gridplan._balance.results import BalanceResult
from gridplan.graph import components
from gridplan.progress import ProgressCallback, no_progress

__all__ = ["balance_arrays"]


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
    home_weight: float | None = None,
) -> BalanceResult:
    """Assign ``n`` units to ``K`` managers (see the module docstring for the model).

    ``weights`` (n,) workload per unit (e.g. hours/month, >= 0); ``indptr``/``indices``
    a symmetric CSR adjacency; ``capacities`` (K,) relative shares or hours/month
    (target_k = capacity_k / sum(capacity) * total weight); ``x``/``y`` unit coordinates
    (any metric CRS) and ``home`` (K, 2) home bases (NaN rows: no home), weighted by
    ``home_weight`` under ``cut_edges`` (default :class:`BalanceConfig`'s); ``locks`` (n,) -1
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
    w = check_weights(weights, ids)
    n = int(w.size)
    K = check_scalars(K, tolerance, objective)
    names = list(names) if names is not None else list(range(K))
    ip, ix = check_adjacency(n, indptr, indices)
    coords = _coords_ok(x, y, n)
    targets = manager_shares(capacities, K) * float(w.sum())
    lo_f = targets * (1 - tolerance)
    hi_f = targets * (1 + tolerance)
    lk, prev = check_labels(locks, previous, n, K)
    home_a = check_home(home, K, coords, objective)
    hw = BalanceConfig().home_weight if home_weight is None else float(home_weight)

    comp = components(ip, ix)
    m_per = check_feasibility(w, ip, ix, comp, lo_f, hi_f, K, lk, ids, names)
    reach = reach_note(reachable_bound(w, comp, targets, lk, ids, names), tolerance)
    if reach is not None:
        progress(0.0, reach)  # said at once, before the search
    workers = 2 if workers is None else max(1, int(workers))
    notes: list[str] = []

    ncomp = int(comp.max()) + 1
    if ncomp == 1:
        labels, stats = solve_component(
            w, ip, ix, np.arange(n), list(range(K)), targets, tolerance, coords, home_a,
            objective, lk, prev, move_penalty, max_moved, max_moved_weight, seed,
            time_limit - (time.monotonic() - t_start), workers, progress,
            interchangeable=capacities is None and home_a is None, work=work_limit,
            home_weight=hw,
        )  # fmt: skip
    else:
        labels, stats = solve_components(
            w, ip, ix, comp, m_per, targets, tolerance, coords, home_a, objective, lk, prev,
            move_penalty, max_moved, max_moved_weight, seed,
            time_limit - (time.monotonic() - t_start), workers, progress, capacities, notes,
            work=work_limit, home_weight=hw,
        )  # fmt: skip
    full_home = home_a if home_a is not None and np.isfinite(home_a).all() else None
    report = make_report(
        w, ip, ix, labels, K, targets, tolerance, objective, coords, full_home, lk, prev,
        time.monotonic() - t_start, stats, notes, names, ids=ids,
    )  # fmt: skip
    return BalanceResult(labels=labels, report=report)
