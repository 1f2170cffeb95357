"""Input checks of :func:`gridplan._partition.core.partition_arrays`: every problem of
the arrays and options at once (:class:`InputError`), then the validated inputs as one
frozen :class:`Inputs`."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from gridplan.errors import InputError, Problem


@dataclass(frozen=True)
class Inputs:
    """Validated inputs of one partition (``n`` cells; see ``partition_arrays``).

    Arrays are float64 unless noted: ``indptr``, ``indices`` (int64 CSR),
    ``floor_values`` ``(n, f)``, ``floor_min`` ``(f,)``, ``ceil_values`` ``(n, c)`` and
    ``ceil_max`` ``(c,)`` or None, ``homog`` ``(n, h)`` and ``homog_weights`` ``(h,)`` or
    None, ``x``, ``y`` (metres), ``area`` (m²) ``(n,)`` or None, ``locked``
    ``(n,)`` int64 (``-1`` = free), ``group`` ``(n,)`` object or None; the options as
    given (``max_diameter`` metres, ``time_limit`` seconds).
    """

    n: int
    indptr: np.ndarray
    indices: np.ndarray
    floor_values: np.ndarray
    floor_min: np.ndarray
    ceil_values: np.ndarray | None
    ceil_max: np.ndarray | None
    homog: np.ndarray | None
    homog_weights: np.ndarray | None
    x: np.ndarray | None
    y: np.ndarray | None
    area: np.ndarray | None
    locked: np.ndarray
    group: np.ndarray | None
    floor_names: list[str]
    ceil_names: list[str]
    max_diameter: float | None
    compactness_weight: float
    join_islands: bool
    seed: int
    time_limit: float
    constructions: int
    workers: int | None

    @property
    def n_floors(self) -> int:
        """Floor columns ``f``."""
        return self.floor_values.shape[1]

    @property
    def n_ceils(self) -> int:
        """Ceiling columns ``c`` (0 without ceilings)."""
        return 0 if self.ceil_values is None else self.ceil_values.shape[1]


def check_inputs(
    indptr: np.ndarray,
    indices: np.ndarray,
    floor_values: np.ndarray,
    floor_min: np.ndarray,
    *,
    ceil_values: np.ndarray | None,
    ceil_max: np.ndarray | None,
    homog: np.ndarray | None,
    homog_weights: np.ndarray | None,
    x: np.ndarray | None,
    y: np.ndarray | None,
    area: np.ndarray | None,
    max_diameter: float | None,
    compactness_weight: float,
    locked: np.ndarray | None,
    group: np.ndarray | Sequence[Any] | None,
    floor_names: Sequence[str] | None,
    ceil_names: Sequence[str] | None,
    join_islands: bool,
    seed: int,
    time_limit: float,
    constructions: int,
    workers: int | None,
) -> Inputs:
    """Check every input (the arguments of ``partition_arrays``) and return them
    validated; raises :class:`InputError` with all problems found, in argument order."""
    problems: list[Problem] = []
    indptr, indices, n = _check_adjacency(indptr, indices, problems)
    fv, fmin = _check_floors(floor_values, floor_min, n, problems)
    cv, cmax = _check_ceilings(ceil_values, ceil_max, n, problems)
    hz, hw = _check_homog(homog, homog_weights, n, problems)
    xs, ys, ar = _check_geometry(x, y, area, max_diameter, n, problems)
    if not (compactness_weight >= 0) or not math.isfinite(compactness_weight):
        problems.append(
            Problem(
                f"compactness_weight must be >= 0, got {compactness_weight}",
                "partition_arrays(compactness_weight)",
                "give a finite weight >= 0",
            )
        )
    lk = _check_locked(locked, n, problems)
    grp = _check_group(group, n, problems)
    if time_limit is None or not (time_limit > 0):
        problems.append(
            Problem(
                f"time_limit must be > 0 seconds, got {time_limit}",
                "partition_arrays(time_limit)",
                "give a positive number of seconds",
            )
        )
    if problems:
        raise InputError(problems)
    assert fv is not None
    f = fv.shape[1]
    c = 0 if cv is None else cv.shape[1]
    return Inputs(
        n=n,
        indptr=indptr,
        indices=indices,
        floor_values=fv,
        floor_min=fmin,
        ceil_values=cv,
        ceil_max=cmax,
        homog=hz,
        homog_weights=hw,
        x=xs,
        y=ys,
        area=ar,
        locked=np.full(n, -1, dtype=np.int64) if lk is None else lk,
        group=grp,
        floor_names=(
            list(floor_names) if floor_names is not None else [f"floor {j}" for j in range(f)]
        ),
        ceil_names=(
            list(ceil_names) if ceil_names is not None else [f"ceiling {j}" for j in range(c)]
        ),
        max_diameter=max_diameter,
        compactness_weight=compactness_weight,
        join_islands=join_islands,
        seed=seed,
        time_limit=time_limit,
        constructions=constructions,
        workers=workers,
    )


def _check_adjacency(
    indptr: Any, indices: Any, problems: list[Problem]
) -> tuple[np.ndarray, np.ndarray, int]:
    """CSR ``(indptr, indices, n)`` as int64; a broken structure raises at once."""
    indptr = np.asarray(indptr, dtype=np.int64).ravel()
    indices = np.asarray(indices, dtype=np.int64).ravel()
    n = len(indptr) - 1
    if n < 0 or (n >= 0 and len(indptr) and (indptr[0] != 0 or indptr[-1] != len(indices))):
        raise InputError(
            Problem(
                "the adjacency is not a CSR structure (indptr must start at 0 and end at "
                "len(indices))",
                "partition_arrays(indptr, indices)",
                "build it with gridplan.adjacency.Adjacency",
            )
        )
    if len(indices) and (indices.min() < 0 or indices.max() >= n):
        problems.append(
            Problem(
                "adjacency indices out of range 0..n-1",
                "partition_arrays(indices)",
                "rebuild the adjacency for these cells",
            )
        )
    return indptr, indices, n


def _check_floors(
    floor_values: Any, floor_min: Any, n: int, problems: list[Problem]
) -> tuple[np.ndarray | None, np.ndarray]:
    """Floor values ``(n, f)`` (>= 0) and one finite minimum >= 0 per column."""
    fv = _as_2d(floor_values, n, "floor_values", problems)
    fmin = np.atleast_1d(np.asarray(floor_min, dtype=np.float64)).ravel()
    if fv is not None and fmin.shape != (fv.shape[1],):
        problems.append(
            Problem(
                f"{fmin.size} floor minima for {fv.shape[1]} floor columns",
                "partition_arrays(floor_min)",
                "give one minimum per floor column",
            )
        )
    elif not np.all(np.isfinite(fmin)) or np.any(fmin < 0):
        problems.append(
            Problem(
                "floor minima must be finite and >= 0",
                f"floor_min = {fmin.tolist()}",
                "set every floor to 0 or more",
            )
        )
    if fv is not None and np.any(fv < 0):
        bad = np.flatnonzero(np.any(fv < 0, axis=1))
        problems.append(
            Problem(
                "floor attributes must be >= 0",
                f"floor_values, cells {_few(bad)}",
                "fix the negative values",
            )
        )
    return fv, fmin


def _check_ceilings(
    ceil_values: Any, ceil_max: Any, n: int, problems: list[Problem]
) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Ceiling values ``(n, c)`` and one positive maximum per column (None, None without)."""
    cv = _as_2d(ceil_values, n, "ceil_values", problems)
    cmax = None
    if cv is not None:
        cmax = np.atleast_1d(np.asarray(ceil_max, dtype=np.float64)).ravel()
        if cmax.shape != (cv.shape[1],) or not np.all(cmax > 0):
            problems.append(
                Problem(
                    "ceil_max needs one positive maximum per ceiling column",
                    f"ceil_max = {None if ceil_max is None else cmax.tolist()}",
                    "give a maximum > 0 for every ceiling column",
                )
            )
    return cv, cmax


def _check_homog(
    homog: Any, homog_weights: Any, n: int, problems: list[Problem]
) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Attributes ``(n, h)`` and one finite weight >= 0 per column (1 each by default)."""
    hz = _as_2d(homog, n, "homog", problems)
    hw = None
    if hz is not None:
        hw = (
            np.ones(hz.shape[1])
            if homog_weights is None
            else np.atleast_1d(np.asarray(homog_weights, dtype=np.float64)).ravel()
        )
        if hw.shape != (hz.shape[1],) or np.any(hw < 0) or not np.all(np.isfinite(hw)):
            problems.append(
                Problem(
                    "homog_weights needs one weight >= 0 per homogeneity column",
                    f"homog_weights = {hw.tolist()}",
                    "give a finite weight >= 0 per column",
                )
            )
    return hz, hw


def _check_geometry(
    x: Any, y: Any, area: Any, max_diameter: float | None, n: int, problems: list[Problem]
) -> tuple[np.ndarray | None, np.ndarray | None, np.ndarray | None]:
    """Centroids ``x``, ``y`` (metres, both or neither), areas >= 0, and a positive
    ``max_diameter`` (metres) that needs the coordinates."""
    xs = _as_1d(x, n, "x", problems)
    ys = _as_1d(y, n, "y", problems)
    if (xs is None) != (ys is None) and not problems:
        problems.append(
            Problem("x and y must be given together", "partition_arrays(x, y)", "give both")
        )
    ar = _as_1d(area, n, "area", problems)
    if ar is not None and np.any(ar < 0):
        problems.append(
            Problem("cell areas must be >= 0", "partition_arrays(area)", "fix the areas")
        )
    if max_diameter is not None:
        if not (max_diameter > 0):
            problems.append(
                Problem(
                    f"max_diameter must be > 0 metres, got {max_diameter}",
                    "partition_arrays(max_diameter)",
                    "give a positive distance or None",
                )
            )
        if x is None or y is None:
            problems.append(
                Problem(
                    "max_diameter needs cell coordinates",
                    "partition_arrays(x, y)",
                    "give x and y in metres",
                )
            )
    return xs, ys, ar


def _check_locked(locked: Any, n: int, problems: list[Problem]) -> np.ndarray | None:
    """Locked labels ``(n,)`` int64 >= -1, or None (none given or malformed)."""
    if locked is None:
        return None
    lk = np.asarray(locked)
    if lk.shape != (n,) or not np.issubdtype(lk.dtype, np.integer):
        problems.append(
            Problem(
                "locked must hold one integer label per cell (-1 = free)",
                "partition_arrays(locked)",
                "give int labels",
            )
        )
        return None
    lk = lk.astype(np.int64)
    if np.any(lk < -1):
        problems.append(
            Problem(
                "locked labels must be >= -1",
                f"locked, cells {_few(np.flatnonzero(lk < -1))}",
                "use -1 for free cells",
            )
        )
    return lk


def _check_group(group: Any, n: int, problems: list[Problem]) -> np.ndarray | None:
    """District label per cell as an object array, or None."""
    if group is None:
        return None
    g = np.asarray(group, dtype=object)
    if g.shape != (n,):
        problems.append(
            Problem(
                f"group has {g.size} values, expected {n}",
                "partition_arrays(group)",
                "give one district label per cell",
            )
        )
        return None
    return g


def _as_2d(a: Any, n: int, name: str, problems: list[Problem]) -> np.ndarray | None:
    if a is None:
        return None
    arr = np.asarray(a, dtype=np.float64)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2 or arr.shape[0] != n:
        problems.append(
            Problem(
                f"{name} has shape {arr.shape}, expected ({n}, k)",
                f"partition_arrays({name}=...)",
                "give one row per cell",
            )
        )
        return None
    if not np.all(np.isfinite(arr)):
        bad = np.flatnonzero(~np.all(np.isfinite(arr), axis=1))
        problems.append(
            Problem(
                f"{name} has missing or infinite values in {len(bad)} cells",
                f"{name}, cells {_few(bad)}",
                "fill the missing values (0 where nothing is there)",
            )
        )
        return None
    return arr


def _as_1d(a: Any, n: int, name: str, problems: list[Problem]) -> np.ndarray | None:
    if a is None:
        return None
    arr = np.asarray(a, dtype=np.float64).ravel()
    if arr.shape != (n,):
        problems.append(
            Problem(
                f"{name} has {arr.size} values, expected {n}",
                f"partition_arrays({name}=...)",
                "give one value per cell",
            )
        )
        return None
    if not np.all(np.isfinite(arr)):
        bad = np.flatnonzero(~np.isfinite(arr))
        problems.append(
            Problem(
                f"{name} has missing or infinite values",
                f"{name}, cells {_few(bad)}",
                "fill the missing values",
            )
        )
        return None
    return arr


def _few(idx: np.ndarray | Sequence[int], k: int = 5) -> str:
    idx = list(idx)
    s = ", ".join(str(int(i)) for i in idx[:k])
    return s + (f" … ({len(idx)} in all)" if len(idx) > k else "")


def _fmt(v: float) -> str:
    return f"{v:,.0f}" if abs(v) >= 100 else f"{v:,.2f}".rstrip("0").rstrip(".")


def check_within_units(
    labels: np.ndarray,
    unit: np.ndarray | None,
    cell_ids: np.ndarray,
    grid_ids: Sequence[str],
    kept: Sequence[int] = (),
) -> None:
    """The partition's validity check of the organisation units: no grid spans two
    lowest units (``unit``: one label per cell joining its unit codes, None without
    units); the grids ``kept`` (locked, or outside a partial re-partition) are as they
    were and not checked. Raises :class:`RuntimeError` naming a grid and its units
    otherwise: the solver never joins cells across a dropped edge, so this guards the
    engine, it is not a rule of the input."""
    if unit is None or len(labels) == 0:
        return
    codes = np.unique(np.asarray(unit, dtype=object).astype(str), return_inverse=True)[1]
    p = int(labels.max()) + 1
    lo = np.full(p, np.iinfo(np.int64).max, dtype=np.int64)
    hi = np.full(p, -1, dtype=np.int64)
    np.minimum.at(lo, labels, codes)
    np.maximum.at(hi, labels, codes)
    spans = (hi >= 0) & (lo != hi)
    spans[np.asarray(list(kept), dtype=np.int64)] = False
    bad = np.flatnonzero(spans)
    if len(bad):
        r = int(bad[0])
        cells = np.flatnonzero(labels == r)
        units = sorted({str(unit[c]) for c in cells})
        shown = ", ".join(str(cell_ids[c]) for c in cells[:5])
        raise RuntimeError(
            f"{len(bad)} grid(s) span two organisation units, e.g. grid {grid_ids[r]} "
            f"(units {', '.join(units[:3])}; cells {shown})"
        )
