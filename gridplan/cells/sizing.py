"""How many grids the floors allow, and the H3 resolution for a number of cells per grid.

A cheap *estimate*, made before the partition runs:

- a district ``d`` of ``n_d`` cells holding ``total_d`` of a floored column (e.g.
  population) makes about ``⌊total_d / (floor + ½ · total_d / n_d)⌋`` grids for that
  floor: each grid reaches its floor and overshoots it by about half a mean cell (the
  grower adds whole cells; :data:`OVERSHOOT_CELLS`). With many cells per grid this is
  ``⌊total_d / floor⌋``; it is always below ``n_d`` (one grid per cell at most); a
  district makes at least one grid (below a floor it stays one grid). The district's estimate is the
  smallest over the floors;
- the city's estimate is the sum over districts (the whole city is one district when
  the cells have no ``district`` column).

Measured on the demo cities (H3 resolution 9, floors population 8,500 and customers
30): estimate 914 grids for NYC (the partition makes 928), 1,044 for Seoul (1,033).
Good to about ±10 %.

Cells per grid = cells / estimated grids. H3 hexagons are 7× smaller at each finer
resolution, so :func:`resolution_for_cells_per_grid` extrapolates the cells already
built to the other resolutions and picks the coarsest that gives the wanted cells
per grid.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from gridplan.errors import InputError, Problem

__all__ = [
    "GridEstimate",
    "estimate_grids",
    "mean_cell_area_km2",
    "resolution_for_cells_per_grid",
]


#: Mean cells by which a grid overshoots its floor (measured on the demo cities: the
#: grower stops about half a cell past the floor).
OVERSHOOT_CELLS = 0.5


@dataclass(frozen=True)
class GridEstimate:
    """Expected grids for some floors: ``n_grids`` (sum over districts), ``n_cells``,
    ``cells_per_grid`` (``n_cells / n_grids``) and, per floor, the grids it alone
    would allow (``by_floor``, so the binding floor can be named)."""

    n_grids: int
    n_cells: int
    cells_per_grid: float
    by_floor: tuple[tuple[str, int], ...]


def estimate_grids(
    cells: pd.DataFrame,
    floors: Mapping[str, float],
    *,
    district_column: str | None = "district",
    scale: float = 1.0,
    where: str = "floors",
) -> GridEstimate:
    """Estimated grids of a partition of ``cells`` with these ``floors`` (see the module
    docstring). ``scale``: the partition's cells are ``scale`` times as many as
    ``cells`` (e.g. 7 for the next finer H3 resolution); the totals stay. A floor on a
    column the cells do not have is an :class:`InputError` (at ``where``); floors ≤ 0
    are ignored; without a floor every cell is a grid; ``district_column=None``: the
    city is one district."""
    missing = sorted(c for c, v in floors.items() if v > 0 and c not in cells.columns)
    if missing:
        have = ", ".join(str(c) for c in cells.columns if c != "geometry")
        raise InputError(
            Problem(
                f"no column {', '.join(map(repr, missing))} in the cells",
                where,
                f"set floors on columns the cells have ({have[:200]})",
            )
        )
    n = len(cells)
    if n == 0:
        return GridEstimate(0, 0, 0.0, tuple((c, 0) for c, v in floors.items() if v > 0))
    if district_column is not None and district_column in cells.columns:
        key = cells[district_column].astype(str).to_numpy()
    else:
        key = np.zeros(n, dtype=np.int64)
    n_cells = pd.Series(np.ones(n)).groupby(key).sum().to_numpy() * float(scale)
    upper = np.maximum(n_cells, 1.0)
    by_floor = []
    for column, floor in floors.items():
        if floor <= 0:
            continue
        total = pd.Series(cells[column].to_numpy(dtype=float)).groupby(key).sum().to_numpy()
        total = np.maximum(np.nan_to_num(total), 0.0)
        allowed = np.maximum(
            np.floor(total / (float(floor) + OVERSHOOT_CELLS * total / n_cells)), 1.0
        )
        by_floor.append((str(column), int(allowed.sum())))
        upper = np.minimum(upper, allowed)
    grids = int(np.maximum(np.floor(upper), 1).sum())
    n_scaled = round(n * float(scale))
    return GridEstimate(grids, n_scaled, n_scaled / grids, tuple(by_floor))


def mean_cell_area_km2(cells: pd.DataFrame) -> float:
    """Mean area (km²) of the cells built (clipped cells included): the ``area_km2``
    column, else the geometry's area (metres, work CRS)."""
    if len(cells) == 0:
        return 0.0
    if "area_km2" in cells.columns:
        return float(np.mean(cells["area_km2"].to_numpy(dtype=float)))
    return float(np.mean(cells.geometry.area.to_numpy()) / 1e6)


def resolution_for_cells_per_grid(
    cells: pd.DataFrame,
    resolution: int,
    floors: Mapping[str, float],
    cells_per_grid: float,
    *,
    lowest: int = 0,
    district_column: str | None = "district",
    where: str = "floors",
) -> tuple[int, GridEstimate]:
    """The coarsest H3 resolution (``lowest``..15) expected to give at least
    ``cells_per_grid`` cells per grid with ``floors``, and its estimate; ``cells`` were
    built at ``resolution`` and are extrapolated (×7 per finer resolution). Returns 15
    and its estimate when no resolution does."""
    if not (cells_per_grid > 0 and math.isfinite(cells_per_grid)):
        raise InputError(
            Problem(f"cells per grid {cells_per_grid}", "--cells-per-grid", "give a number > 0")
        )
    est = estimate_grids(cells, floors, district_column=district_column, where=where)
    for res in range(max(0, lowest), 16):
        scale = 7.0 ** (res - resolution)
        est = estimate_grids(
            cells, floors, district_column=district_column, scale=scale, where=where
        )
        if est.cells_per_grid >= cells_per_grid:
            return res, est
    return 15, est
