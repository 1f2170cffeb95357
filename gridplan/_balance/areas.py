"""Second level: group territories into contiguous, balanced areas (区域)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from gridplan._balance.arrays import balance_arrays
from gridplan._balance.inputs import _problem
from gridplan._balance.results import BalanceResult
from gridplan.graph import check_csr, csr_from_edges, edge_array
from gridplan.progress import ProgressCallback, no_progress

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
