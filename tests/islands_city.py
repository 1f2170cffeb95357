"""A synthetic coastal city for the island tests: a mainland with a bay, a small
island below the floor, a larger island that meets it, and an empty clipped sliver
that touches the mainland only at a corner (UTM 48N, metres, 500 m squares)."""

from __future__ import annotations

import functools

import geopandas as gpd
import shapely

from gridplan.cells.build import CellsConfig, CellSet, build_cells
from gridplan.layers.model import Layers
from gridplan.partition import PartitionConfig, PartitionResult, partition_cells
from gridplan.plan.model import Plan
from gridplan.plan.steps import plan_from_partition

CRS = "EPSG:32648"
X0, Y0 = 400_000.0, 3_390_000.0
SIZE = 500.0
FLOOR = 2000.0


def box(x0: float, y0: float, x1: float, y1: float) -> shapely.Polygon:
    return shapely.box(X0 + x0, Y0 + y0, X0 + x1, Y0 + y1)


#: Mainland 6 × 4 km with a bay 1 km wide and 2.5 km deep cut in from the north coast.
MAINLAND = box(0, 0, 6000, 4000).difference(box(2500, 1500, 3500, 4000))
#: 1 km² island 1.5 km east of the mainland, 300 persons (below the floor).
SMALL_ISLAND = box(7500, 500, 8500, 1500)
#: 2.25 km² island 2 km south of the mainland, 5,000 persons (meets the floor).
BIG_ISLAND = box(1000, -3500, 2500, -2000)
#: 100 m square touching the mainland's north-east corner at one point, nobody there.
SLIVER = box(6000, 4000, 6100, 4100)

POPULATION = {"mainland": 24_000.0, "small": 300.0, "big": 5_000.0}


def city_layers() -> Layers:
    boundary = shapely.union_all([MAINLAND, SMALL_ISLAND, BIG_ISLAND, SLIVER])
    pop = gpd.GeoDataFrame(
        {"population": list(POPULATION.values())},
        geometry=[MAINLAND, SMALL_ISLAND, BIG_ISLAND],
        crs=CRS,
    )
    return Layers(
        crs=CRS,
        boundary=gpd.GeoDataFrame({"name": ["coast"]}, geometry=[boundary], crs=CRS),
        population=pop,
        name="coast",
    )


@functools.cache
def city_cells() -> CellSet:
    return build_cells(city_layers(), CellsConfig(lattice="square", square_size_m=SIZE))


def config(**kw: object) -> PartitionConfig:
    return PartitionConfig(floors={"population": FLOOR}, time_limit_s=20.0, **kw)


@functools.cache
def city_partition() -> PartitionResult:
    cs = city_cells()
    return partition_cells(cs.cells, cs.adjacency, config())


def city_plan() -> Plan:
    return plan_from_partition(
        city_cells(), city_partition(), city_layers(), name="coast", floors={"population": FLOOR}
    )


def cells_in(geom: shapely.Geometry) -> set[str]:
    """Cell ids of the cells whose centroid lies in ``geom``."""
    cells = city_cells().cells
    inside = shapely.contains_xy(geom, cells["x"].to_numpy(), cells["y"].to_numpy())
    return set(cells.loc[inside, "cell_id"].astype(str))
