"""Small synthetic cities for the batch tests: a square boundary and square population
polygons (persons), written as GeoPackages named like the layer kinds."""

from __future__ import annotations

import itertools
from pathlib import Path

import geopandas as gpd
import numpy as np
import yaml
from shapely.geometry import box

#: Settings of the test province: square cells, small grids, 3 managers, a short
#: deterministic balance budget (work_limit) under a generous wall-clock limit.
SETTINGS = {
    "seed": 0,
    "floors": {"population": 8000},
    "lattice": "square",
    "size": 500,
    "tolerance": 0.10,
    "managers": 3,
    "managers_per_area": 2,
    "time_limit": 60,
    "work_limit": 0.5,
    "partition_time_limit": 30,
}


def write_city(
    folder: Path,
    *,
    seed: int,
    n: int = 10,
    origin: tuple[float, float] = (500_000.0, 3_500_000.0),
    epsg: int = 32650,
    shift_population_m: float = 0.0,
    districts: int = 0,
) -> Path:
    """An ``n`` × ``n`` city of 500 m squares; ``shift_population_m`` moves the population
    away (outside the boundary when large); ``districts`` > 0 adds a district layer of
    as many vertical strips (``D1``, ``D2`` … from west to east, whole columns)."""
    rng = np.random.default_rng(seed)
    x0, y0 = origin
    s = 500.0
    squares = [
        box(x0 + i * s, y0 + j * s, x0 + (i + 1) * s, y0 + (j + 1) * s)
        for i in range(n)
        for j in range(n)
    ]
    folder.mkdir(parents=True, exist_ok=True)
    boundary = gpd.GeoDataFrame(geometry=[box(x0, y0, x0 + n * s, y0 + n * s)], crs=epsg)
    boundary.to_file(folder / "boundary.gpkg", driver="GPKG")
    pop = gpd.GeoDataFrame(
        {"population": rng.integers(300, 3000, len(squares))},
        geometry=gpd.GeoSeries(squares, crs=epsg).translate(shift_population_m, 0.0),
        crs=epsg,
    )
    pop.to_file(folder / "population.gpkg", driver="GPKG")
    if districts:
        edges = np.linspace(0, n, districts + 1).round().astype(int) * s
        strips = gpd.GeoDataFrame(
            {"district": [f"D{k + 1}" for k in range(districts)]},
            geometry=[box(x0 + a, y0, x0 + b, y0 + n * s) for a, b in itertools.pairwise(edges)],
            crs=epsg,
        )
        strips.to_file(folder / "districts.gpkg", driver="GPKG")
    return folder


def write_manifest(root: Path, cities: list[dict], settings: dict | None = None) -> Path:
    """``root/province.yaml`` with ``cities`` and the test settings."""
    path = root / "province.yaml"
    data = {"settings": {**SETTINGS, **(settings or {})}, "cities": cities}
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path
