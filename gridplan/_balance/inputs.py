"""Input checks and conversions: weights, bands, adjacency and manager tables.

Every error is an :class:`~gridplan.errors.InputError` naming what is wrong, where
(the parameter) and how to fix it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from gridplan.errors import InputError, Problem
from gridplan.graph import check_csr, edge_array

__all__: list[str] = []


def _problem(what: str, where: str, fix: str) -> InputError:
    return InputError(Problem(what, where, fix))


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


def check_weights(weights: Any, ids: Any) -> np.ndarray:
    """(n,) float workload per unit: one-dimensional, not empty, finite and >= 0."""
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
    return w


def check_scalars(K: Any, tolerance: float, objective: str) -> int:
    """The number of managers as an int, after checking it, the tolerance and objective."""
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
    return K


def check_adjacency(n: int, indptr: Any, indices: Any) -> tuple[np.ndarray, np.ndarray]:
    """A cleaned symmetric CSR of ``n`` units (see :func:`gridplan.graph.check_csr`)."""
    try:
        return check_csr(n, indptr, indices)
    except ValueError as exc:
        raise _problem(f"bad adjacency: {exc}", "balance_arrays", "pass a CSR of n units") from exc


def manager_shares(capacities: Any, K: int) -> np.ndarray:
    """(K,) share of the total workload per manager: equal, or by capacity."""
    if capacities is None:
        return np.full(K, 1.0 / K)
    cap = np.asarray(capacities, dtype=float)
    if cap.shape != (K,) or np.any(~np.isfinite(cap)) or np.any(cap <= 0):
        raise _problem("capacities must be K positive numbers", "balance_arrays", "one per manager")
    return cap / cap.sum()


def check_labels(locks: Any, previous: Any, n: int, K: int) -> tuple[np.ndarray, np.ndarray | None]:
    """``(locks, previous)`` as int64 manager indices per unit (-1 = free / none)."""
    lk = np.full(n, -1, dtype=np.int64) if locks is None else np.asarray(locks, dtype=np.int64)
    if lk.shape != (n,) or np.any((lk < -1) | (lk >= K)):
        raise _problem("locks must be n values in -1..K-1", "balance_arrays", "fix the locks")
    prev = None
    if previous is not None:
        prev = np.asarray(previous, dtype=np.int64)
        if prev.shape != (n,) or np.any((prev < -1) | (prev >= K)):
            raise _problem("previous must be n values in -1..K-1", "balance_arrays", "fix it")
    return lk, prev


def check_home(home: Any, K: int, coords: Any, objective: str) -> np.ndarray | None:
    """(K, 2) home bases (same CRS as the unit coordinates; a NaN row = no home) or
    ``None`` (no home at all); the objectives other than ``cut_edges`` need coordinates."""
    home_a = None
    if home is not None:
        home_a = np.asarray(home, dtype=float)
        if home_a.shape != (K, 2):
            raise _problem("home must be (K, 2)", "balance_arrays", "one (x, y) per manager")
        nan = np.isnan(home_a)
        if np.any(nan[:, 0] != nan[:, 1]) or np.any(np.isinf(home_a)):
            raise _problem(
                "a home base with one coordinate missing or infinite",
                "balance_arrays",
                "give both x and y of a home (metres), or neither",
            )
        if nan.all():
            return check_home(None, K, coords, objective)
        if coords is None:
            raise _problem(
                "home bases need unit coordinates x and y", "balance_arrays", "pass x and y"
            )
    if objective != "cut_edges" and coords is None:
        raise _problem(
            f"objective {objective!r} needs unit coordinates", "balance_arrays", "pass x and y"
        )
    return home_a


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
