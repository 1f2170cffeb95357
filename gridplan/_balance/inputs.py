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
