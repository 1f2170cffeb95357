"""A small synthetic city with a three-level organisation, built in the test (no binary
fixtures): an 8 × 4 km rectangle in UTM 50N, 2 counties (4 × 4 km), 4 branches
(4 × 2 km), 8 sub-branches (2 × 2 km); 8 districts equal to the sub-branches; population
on 500 m squares."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

CRS = "EPSG:32650"
X0, Y0 = 500_000.0, 3_500_000.0
LEVELS = ("county", "branch", "sub_branch")


def _box(i: float, j: float, w: float, h: float) -> shapely.Polygon:
    return shapely.box(X0 + i, Y0 + j, X0 + i + w, Y0 + j + h)


def units_frames() -> dict[str, gpd.GeoDataFrame]:
    """One GeoDataFrame per level, top → bottom (code, name, parent)."""
    county = [(f"C{c}", f"County {c}", "", _box(4000 * c, 0, 4000, 4000)) for c in range(2)]
    branch = []
    sub = []
    for c in range(2):
        for r in range(2):
            b = f"B{c}{r}"
            branch.append((b, f"Branch {c}{r}", f"C{c}", _box(4000 * c, 2000 * r, 4000, 2000)))
            for k in range(2):
                geom = _box(4000 * c + 2000 * k, 2000 * r, 2000, 2000)
                sub.append((f"S{c}{r}{k}", f"Sub {c}{r}{k}", b, geom))
    out = {}
    for level, rows in zip(LEVELS, (county, branch, sub), strict=True):
        df = pd.DataFrame(rows, columns=["code", "name", "parent", "geometry"])
        out[level] = gpd.GeoDataFrame(df, geometry="geometry", crs=CRS)
    return out


def boundary() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"name": ["city"]}, geometry=[_box(0, 0, 8000, 4000)], crs=CRS)


def population(seed: int = 0) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(seed)
    geoms = [_box(500 * i, 500 * j, 500, 500) for i in range(16) for j in range(8)]
    pop = rng.integers(800, 1200, len(geoms)).astype(float)
    return gpd.GeoDataFrame({"population": pop}, geometry=geoms, crs=CRS)


def districts() -> gpd.GeoDataFrame:
    sub = units_frames()["sub_branch"]
    return gpd.GeoDataFrame(
        {"district": [f"D{c[1:]}" for c in sub["code"]]}, geometry=sub.geometry.values, crs=CRS
    )


def district_table() -> pd.DataFrame:
    """Form c: district → county, branch, sub_branch (with names)."""
    sub = units_frames()["sub_branch"]
    rows = []
    for code, name in zip(sub["code"], sub["name"], strict=True):
        c, r, k = code[1], code[2], code[3]
        rows.append(
            {
                "district": f"D{c}{r}{k}",
                "county": f"C{c}",
                "county_name": f"County {c}",
                "branch": f"B{c}{r}",
                "branch_name": f"Branch {c}{r}",
                "sub_branch": code,
                "sub_branch_name": name,
            }
        )
    return pd.DataFrame(rows)


def one_layer() -> gpd.GeoDataFrame:
    """Form b: every unit in one layer with its level."""
    parts = []
    for level, gdf in units_frames().items():
        g = gdf.copy()
        g.insert(0, "level", level)
        parts.append(g)
    return gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), crs=CRS)


def write_city(root: Path) -> dict[str, Path]:
    """The city as files: boundary, population, districts, one file per level, the one
    layer (form b) and the district table (form c, CSV)."""
    root.mkdir(parents=True, exist_ok=True)
    paths = {
        "boundary": root / "boundary.gpkg",
        "population": root / "population.gpkg",
        "districts": root / "districts.gpkg",
        "units_b": root / "units.gpkg",
        "units_c": root / "units.csv",
    }
    boundary().to_file(paths["boundary"])
    population().to_file(paths["population"])
    districts().to_file(paths["districts"])
    one_layer().to_file(paths["units_b"])
    district_table().to_csv(paths["units_c"], index=False)
    for level, gdf in units_frames().items():
        paths[level] = root / f"{level}.gpkg"
        gdf.to_file(paths[level])
    return paths
