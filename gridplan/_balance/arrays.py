"""The array core :func:`balance_arrays`: checks, feasibility, engine, report."""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from gridplan._balance.components import solve_component, solve_components
from gridplan._balance.config import Objective
from gridplan._balance.feasibility import check_feasibility
from gridplan._balance.inputs import _coords_ok, _problem
from gridplan._balance.report import make_report
from gridplan._balance.results import BalanceResult
from gridplan.graph import check_csr, components
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
    m_per = check_feasibility(w, ip, ix, comp, lo_f, hi_f, K, lk, ids, names)
    workers = 2 if workers is None else max(1, int(workers))
    notes: list[str] = []

    ncomp = int(comp.max()) + 1
    if ncomp == 1:
        labels, stats = solve_component(
            w, ip, ix, np.arange(n), list(range(K)), targets, tolerance, coords, home_a,
            objective, lk, prev, move_penalty, max_moved, max_moved_weight, seed,
            time_limit - (time.monotonic() - t_start), workers, progress,
            interchangeable=capacities is None and home_a is None, work=work_limit,
        )  # fmt: skip
    else:
        labels, stats = solve_components(
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
