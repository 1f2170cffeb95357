"""A large city's partition split by district: one independent problem (a Dask task
inside a batch) per district, merged into the city's grids.

When grids must not cross districts (``respect_districts``, the default), the
partition of a city is a set of independent problems, one per district: no edge is
kept across a district boundary, a piece too small for the floors only ever joins a
grid of its own district, and the grid ids are numbered per district
(``<district>-G001`` …). :func:`partition_split` therefore cuts the cells into
districts (in the order of each district's first cell), partitions each alone with
:func:`~gridplan.partition.partition_cells` and the city's config and seed, and merges
the grid ids, which are already unique across districts. A last pass of
:func:`~gridplan.partition.partition_cells` with every cell locked to its grid builds
the city's grids table, figures and summary as the engine does for one run (grids
ordered by their first cell, figures and heterogeneity over the whole city).

Same labels as the unsplit run? No, in general: the split is valid and deterministic
(the same labels for a seed with 1 or many Dask workers, and when run alone), but the
engine's search depends on the whole run, not only on each component:

- each component's seed is ``seed × 1,000,003 + k`` with ``k`` its position among the
  run's solvable components, which counts the components of every district;
- the search budget shrinks above 25,000 free cells in the run
  (:func:`gridplan._partition.core.solver_params`), and a component holding a quarter
  of the run's cells gets the portfolio search (``PORTFOLIO_SHARE``);
- the homogeneity columns are z-scores over the run's cells and the coordinates are
  in units of the run's mean cell size;
- the time limit (``partition_time_limit``) applies to each district run.

So a split city has as many or a few more or fewer grids than the unsplit run (Seoul
at 59,414 H3 cells: 1,288 against 1,278; the demo cities at about 8,500 cells: within
±0.3 %); every grid still holds the floors where the district can, is contiguous
(islands joined by the engine's rule excepted) and lies inside one district. The
districts' full search budget costs about 1.5–2× the CPU of one run above 25,000 cells,
so the split pays off in wall time with three or more free workers.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from gridplan.progress import ProgressCallback, no_progress

__all__ = [
    "DEFAULT_SPLIT",
    "DistrictProblem",
    "DistrictResult",
    "SplitConfig",
    "district_problems",
    "partition_district",
    "partition_split",
    "should_split",
]

#: ``map(function, items) -> results`` in the items' order (serial, or Dask tasks).
Mapper = Callable[[Callable[[Any], Any], Sequence[Any]], list[Any]]


@dataclass(frozen=True)
class SplitConfig:
    """When a city's partition is split by district.

    ``min_cells``: cells of the city above which its partition runs one problem per
    district (0 = never split); a city with one district, or whose grids may cross
    districts, is never split. 20,000 cells is where the engine itself starts using
    several processes for one run (``PARALLEL_MIN_CELLS``), about 2.5 demo cities.
    """

    min_cells: int = 20_000


DEFAULT_SPLIT = SplitConfig()


@dataclass(frozen=True)
class DistrictProblem:
    """One district's cells (rows ``0..m-1``, their city rows in ``rows``), their
    adjacency (entries to other districts removed) and the city's partition config."""

    district: str
    rows: np.ndarray
    cells: Any  # GeoDataFrame
    adjacency: Any  # gridplan.graph.Adjacency
    config: Any  # PartitionConfig


@dataclass(frozen=True)
class DistrictResult:
    """A district's partition, light enough to send back from a worker: the grid id
    of each of its cells, the engine's island joins (district rows), notes, whether
    the time limit cut it short, and its seconds."""

    district: str
    grid_ids: np.ndarray
    island_joins: tuple[Any, ...]
    notes: tuple[str, ...]
    hit_time_limit: bool
    seconds: float


def _districts(cells: pd.DataFrame) -> np.ndarray | None:
    if "district" not in cells.columns:
        return None
    return cells["district"].astype(str).to_numpy(dtype=object)


def should_split(cells: pd.DataFrame, config: Any, split: SplitConfig = DEFAULT_SPLIT) -> bool:
    """Is the city's partition split by district? Above ``split.min_cells`` cells, with
    districts respected and at least two of them."""
    if split.min_cells <= 0 or len(cells) <= split.min_cells:
        return False
    district = _districts(cells)
    return bool(config.respect_districts and district is not None and len(set(district)) > 1)


def _sub_adjacency(adjacency: Any, rows: np.ndarray, n: int) -> Any:
    """The adjacency among ``rows`` (sorted city rows), renumbered ``0..len(rows)-1``,
    with its flags."""
    from gridplan.graph import Adjacency

    ip = np.asarray(adjacency.indptr, dtype=np.int64)
    ix = np.asarray(adjacency.indices, dtype=np.int64)
    new = np.full(n, -1, dtype=np.int64)
    new[rows] = np.arange(len(rows))
    row_of = np.repeat(np.arange(n), np.diff(ip))
    entries = np.flatnonzero((new[row_of] >= 0) & (new[ix] >= 0))  # CSR order: by row
    counts = np.bincount(new[row_of[entries]], minlength=len(rows))
    return Adjacency(
        np.concatenate([[0], np.cumsum(counts)]).astype(np.int64),
        new[ix[entries]],
        np.asarray(adjacency.crosses_district, dtype=bool)[entries],
        np.asarray(adjacency.cut_by_barrier, dtype=bool)[entries],
    )


def district_problems(cells: Any, adjacency: Any, config: Any) -> list[DistrictProblem]:
    """One problem per district, in the order of each district's first cell."""
    district = _districts(cells)
    if district is None:
        raise ValueError("the cells have no district column")
    names, first = np.unique(district, return_index=True)
    out = []
    for name in names[np.argsort(first, kind="stable")]:
        rows = np.flatnonzero(district == name)
        sub = cells.iloc[rows].reset_index(drop=True)
        out.append(
            DistrictProblem(
                str(name), rows, sub, _sub_adjacency(adjacency, rows, len(cells)), config
            )
        )
    return out


def partition_district(problem: DistrictProblem) -> DistrictResult:
    """Partition one district alone (the Dask task of a split city)."""
    from gridplan.partition import partition_cells

    t0 = time.monotonic()
    res = partition_cells(problem.cells, problem.adjacency, problem.config)
    return DistrictResult(
        problem.district,
        res.assignment.to_numpy(dtype=object),
        res.arrays.island_joins,
        res.notes,
        bool(res.arrays.hit_time_limit),
        time.monotonic() - t0,
    )


def _serial(fn: Callable[[Any], Any], items: Sequence[Any]) -> list[Any]:
    return [fn(item) for item in items]


def _merged_joins(problems: Sequence[DistrictProblem], results: Sequence[DistrictResult]):
    """The districts' island joins in city rows (region filled in by the caller)."""
    out = []
    for prob, res in zip(problems, results, strict=True):
        for j in res.island_joins:
            out.append(replace(j, cells=tuple(int(prob.rows[c]) for c in j.cells)))
    return out


def _unique(notes: Sequence[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(notes))


def partition_split(
    cells: Any,
    adjacency: Any,
    config: Any,
    *,
    mapper: Mapper | None = None,
    progress: ProgressCallback = no_progress,
) -> Any:
    """Partition a city one district at a time (see the module doc) and return its
    :class:`~gridplan.partition.PartitionResult` as one run would: ``assignment``
    (grid id of every cell, ``<district>-G001`` …), the grids table, the summary
    (``n_districts`` and ``split_by_district`` added) and the districts' notes.

    ``mapper(function, problems)`` runs the district problems (default: one after
    the other here; the batch passes Dask tasks); results must come back in order.
    """
    from gridplan.partition import partition_cells

    t0 = time.monotonic()
    problems = district_problems(cells, adjacency, config)
    progress(0.0, f"partition split into {len(problems)} districts")
    results = (mapper or _serial)(partition_district, problems)
    progress(0.8, f"{len(problems)} districts partitioned; merging")
    grid_of = np.empty(len(cells), dtype=object)
    for prob, res in zip(problems, results, strict=True):
        grid_of[prob.rows] = res.grid_ids
    if len(set(grid_of)) != sum(len(set(r.grid_ids)) for r in results):  # pragma: no cover
        # ids are "<district>-G001": a shared id would merge two districts' grids
        raise RuntimeError("internal error: two districts gave the same grid id")
    locked = pd.Series(grid_of, index=cells.index, name="grid_id", dtype=object)
    final = partition_cells(cells, adjacency, replace(config, workers=1), locked_grids=locked)
    arr = final.arrays
    joins = tuple(
        replace(j, region=int(arr.labels[j.cells[0]])) for j in _merged_joins(problems, results)
    )
    hit = any(r.hit_time_limit for r in results)
    notes = _unique([n for r in results for n in r.notes] + list(final.notes))
    arr = replace(arr, island_joins=joins, notes=notes, hit_time_limit=hit)
    summary = {
        **dict(final.summary),
        "n_locked": 0,
        "n_island_joins": len(joins),
        "n_accepted_exceptions": len(arr.exceptions),
        "hit_time_limit": hit,
        "seconds": time.monotonic() - t0,
        "n_districts": len(problems),
        "split_by_district": True,
    }
    progress(1.0, f"{arr.p:,} grids in {len(problems)} districts")
    return replace(final, summary=summary, notes=notes, arrays=arr)
