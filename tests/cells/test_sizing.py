"""Expected grids for floors, resolution for cells per grid, mean area of the cells built.

Tiny synthetic layers in UTM zone 48N (metres).
"""

from __future__ import annotations

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import pyproj
import pytest
import shapely

from gridplan.cells.build import CellsConfig, build_cells
from gridplan.cells.sizing import (
    estimate_grids,
    mean_cell_area_km2,
    resolution_for_cells_per_grid,
)
from gridplan.errors import InputError
from gridplan.layers.model import Layers

CRS = pyproj.CRS.from_epsg(32648)
X0, Y0 = 400_000.0, 3_390_000.0


def _cells(district: list[str], population: list[float], customers: list[float]) -> pd.DataFrame:
    return pd.DataFrame({"district": district, "population": population, "customers": customers})


def test_estimate_per_district_floor_plus_half_a_cell_smallest_over_floors():
    # district A: 20 cells x 1,000 persons, 20 x 5 customers; B: 4 cells x 500 persons
    cells = _cells(["A"] * 20 + ["B"] * 4, [1_000.0] * 20 + [500.0] * 4, [5.0] * 24)
    est = estimate_grids(cells, {"population": 4_000.0, "customers": 30.0})
    # A: population 20,000 / (4,000 + 500) = 4.4 -> 4; customers 100 / (30 + 2.5) = 3.1
    # -> 3; the smaller: 3.  B: population 2,000 < floor -> stays one grid
    assert est.n_grids == 4
    assert est.n_cells == 24 and est.cells_per_grid == pytest.approx(6.0)
    assert dict(est.by_floor) == {"population": 5, "customers": 4}  # B counts one
    # without the district column the city is one district
    whole = estimate_grids(cells, {"population": 4_000.0}, district_column=None)
    assert whole.n_grids == int(22_000 // (4_000 + 0.5 * 22_000 / 24))


def test_estimate_never_more_grids_than_cells_and_scales_with_finer_cells():
    cells = _cells(["A"] * 10, [10_000.0] * 10, [0.0] * 10)
    tiny_floor = estimate_grids(cells, {"population": 1.0})
    assert tiny_floor.n_grids <= 10  # at most one grid per cell
    finer = estimate_grids(cells, {"population": 1.0}, scale=49.0)  # two resolutions finer
    assert finer.n_cells == 490 and 10 < finer.n_grids <= 490
    no_floor = estimate_grids(cells, {})
    assert no_floor.n_grids == 10  # without a floor every cell is a grid


def test_a_floor_on_a_missing_column_names_the_column_and_the_option():
    cells = _cells(["A"], [1.0], [1.0])
    with pytest.raises(InputError) as err:
        estimate_grids(cells, {"spend": 100.0}, where="--floor")
    assert "'spend'" in str(err.value) and "--floor" in str(err.value)
    assert estimate_grids(cells, {"spend": 0.0}).n_grids == 1  # a floor of 0 is no floor


def test_resolution_for_cells_per_grid_is_the_coarsest_that_reaches_it():
    cells = _cells(["A"] * 100, [1_000.0] * 100, [0.0] * 100)  # built at resolution 8
    floors = {"population": 5_000.0}
    res, est = resolution_for_cells_per_grid(cells, 8, floors, 8.0)
    assert est.cells_per_grid >= 8.0
    coarser = estimate_grids(cells, floors, scale=7.0 ** (res - 1 - 8))
    assert coarser.cells_per_grid < 8.0  # one resolution coarser does not
    # the estimate at the resolution picked is the one extrapolated from the cells
    assert est.n_cells == round(100 * 7.0 ** (res - 8))
    with pytest.raises(InputError, match="cells per grid"):
        resolution_for_cells_per_grid(cells, 8, floors, 0.0)


def test_mean_area_is_the_area_of_the_cells_built_not_the_global_h3_mean():
    city = shapely.box(X0, Y0, X0 + 2_300, Y0 + 1_700)  # clipped cells along every edge
    layers = Layers(
        crs=CRS,
        boundary=gpd.GeoDataFrame({"name": ["t"]}, geometry=[city], crs=CRS),
        population=gpd.GeoDataFrame({"population": [100.0]}, geometry=[city], crs=CRS),
    )
    cs = build_cells(layers, CellsConfig(h3_resolution=9))
    built = mean_cell_area_km2(cs.cells)
    assert built == pytest.approx(city.area / 1e6 / cs.n, rel=1e-6)  # cells tile the city
    assert built < 0.9 * h3.average_hexagon_area(9, unit="km^2")  # clipped cells count
    no_column = cs.cells.drop(columns="area_km2")
    assert mean_cell_area_km2(no_column) == pytest.approx(built, rel=1e-6)
    assert mean_cell_area_km2(cs.cells.iloc[:0]) == 0.0
    assert np.isfinite(built)
