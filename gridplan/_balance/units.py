"""Generic units in a table (the ``gridplan balance --units`` CLI)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import pandas as pd

from gridplan._balance.arrays import balance_arrays
from gridplan._balance.config import Objective
from gridplan._balance.graph import delaunay_edges
from gridplan._balance.inputs import _adjacency_edges, _by_id, _problem
from gridplan.graph import csr_from_edges
from gridplan.progress import ProgressCallback, no_progress

__all__ = ["balance_units_table"]


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
    max_moved: int | None = None,
    max_moved_weight: float | None = None,
    work_limit: float | None = None,
) -> pd.DataFrame:
    """Balance generic units; returns a table ``unit_id, manager``.

    ``edges``: table with columns ``a, b`` (unit ids); when ``None`` the adjacency is the
    Delaunay triangulation of the coordinates (said through ``progress`` and in
    ``result.attrs['notes']``). ``previous`` / ``locks``: tables ``unit_id, manager`` (or
    mappings). Managers are named by the labels found in previous/locks, the others
    0, 1, 2 … (the lowest unused whole numbers). ``max_moved`` / ``max_moved_weight`` cap
    the units (and their weight) that change manager from ``previous``. The report is in
    ``result.attrs['report']``.
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
        ids=list(ids), names=names, max_moved=max_moved, max_moved_weight=max_moved_weight,
        work_limit=work_limit,
    )  # fmt: skip
    out = pd.DataFrame(
        {"unit_id": units[id_col].to_numpy(), "manager": [names[d] for d in res.labels]}
    )
    out.attrs["notes"] = notes + list(res.report.notes)
    out.attrs["report"] = res.report.to_dict()
    return out
