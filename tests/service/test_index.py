"""The owner index without HTTP: the lookup raster agrees with the exact STRtree test."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry import Polygon, box

from gridplan.plan import Plan
from gridplan.service import OwnerIndex
from tests import plans


def random_lonlat(plan, n, margin=0.1, seed=1):
    minx, miny, maxx, maxy = plan.cells.total_bounds
    mx, my = margin * (maxx - minx), margin * (maxy - miny)
    rng = np.random.default_rng(seed)
    pts = gpd.GeoSeries(
        gpd.points_from_xy(
            rng.uniform(minx - mx, maxx + mx, n), rng.uniform(miny - my, maxy + my, n)
        ),
        crs=plan.crs,
    ).to_crs("EPSG:4326")
    return pts.x.to_numpy(), pts.y.to_numpy()


def assert_raster_agrees(plan, n=20_000):
    index = OwnerIndex(plan)
    lon, lat = random_lonlat(plan, n)
    fast, exact = index.locate(lon, lat), index.locate(lon, lat, exact=True)
    assert (fast.cell == exact.cell).all()
    assert (fast.grid == exact.grid).all()
    assert np.allclose(fast.distance_m, exact.distance_m)
    return index


def test_the_raster_agrees_with_the_exact_test_on_the_tiny_plan():
    index = assert_raster_agrees(plans.tiny_plan())
    assert index._raster.pure_fraction > 0.5


def test_a_non_convex_cell_is_left_to_the_exact_test():
    x0, y0 = plans.X0, plans.Y0
    ell = Polygon(
        [
            (x0, y0),
            (x0 + 2000, y0),
            (x0 + 2000, y0 + 1000),
            (x0 + 1000, y0 + 1000),
            (x0 + 1000, y0 + 2000),
            (x0, y0 + 2000),
        ]
    )  # an L: its notch is cell b
    notch = box(x0 + 1000, y0 + 1000, x0 + 2000, y0 + 2000)
    cells = gpd.GeoDataFrame(
        {"cell_id": ["a", "b"], "grid_id": ["G1", "G2"]}, geometry=[ell, notch], crs=plans.CRS
    )
    grids = gpd.GeoDataFrame(
        {"grid_id": ["G1", "G2"], "manager": ["甲", "乙"]}, geometry=[ell, notch], crs=plans.CRS
    )
    plan = Plan("L", cells, grids, pd.DataFrame({"manager": ["甲", "乙"], "area": ["", ""]}))
    index = assert_raster_agrees(plan)
    assert not (index._raster.table == 0).any()  # the L never answers from the table
    lon, lat = (
        gpd.GeoSeries(gpd.points_from_xy([x0 + 1500], [y0 + 1500]), crs=plans.CRS)
        .to_crs(4326)
        .pipe(lambda s: (s.x.to_numpy(), s.y.to_numpy()))
    )
    assert index.locate(lon, lat).cell.tolist() == [1]


def test_the_raster_agrees_on_the_seoul_hexagons():
    plan, _ = plans.seoul_plan()
    index = assert_raster_agrees(plan, n=50_000)
    assert index._raster.pure_fraction > 0.3
