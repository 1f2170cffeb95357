"""One test per validation case of gridplan.validate.validate_layer."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import Point, Polygon, box

from gridplan.errors import InputError, Problem
from gridplan.layers.read import read_layer
from gridplan.layers.validate import (
    Notice,
    ValidationReport,
    closest_column,
    format_rows,
    severity,
    validate_layer,
)

BOX = (-74.05, 40.65, -73.95, 40.75)  # New York, lon/lat


def boundary() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"name": ["nyc"]}, geometry=[box(*BOX)], crs=4326)


def pts(n: int, x0: float = -74.0, y0: float = 40.7) -> list[Point]:
    return [Point(x0 + 0.001 * i, y0 + 0.001 * i) for i in range(n)]


def customers(n: int = 6, **cols) -> gpd.GeoDataFrame:
    data = {
        "customer_id": [f"C{i}" for i in range(n)],
        "segment": ["public"] * n,
        "spend": [50.0] * n,
    }
    data.update(cols)
    return gpd.GeoDataFrame(data, geometry=pts(n), crs=4326)


def sites(n: int = 4, **cols) -> gpd.GeoDataFrame:
    data = {
        "site_id": [f"S{i}" for i in range(n)],
        "technology": ["4G"] * n,
        "sectors": [3] * n,
        "radius_m": [500.0] * n,
    }
    data.update(cols)
    return gpd.GeoDataFrame(data, geometry=pts(n), crs=4326)


def districts(names=("A", "B")) -> gpd.GeoDataFrame:
    x0, y0, x1, y1 = BOX
    step = (x1 - x0) / len(names)
    polys = [box(x0 + i * step, y0, x0 + (i + 1) * step, y1) for i in range(len(names))]
    return gpd.GeoDataFrame({"district": list(names)}, geometry=polys, crs=4326)


def errors(problems: list[Problem]) -> list[Problem]:
    return [p for p in problems if severity(p) == "error"]


def only(problems: list[Problem], word: str) -> Problem:
    hits = [p for p in problems if word in p.what]
    assert len(hits) == 1, [str(p) for p in problems]
    return hits[0]


def test_clean_layer_has_no_problems():
    gdf, problems = validate_layer(customers(), "customers", source="c.gpkg", boundary=boundary())
    assert problems == []
    assert len(gdf) == 6


# --------------------------------------------------------------------------- CRS


def test_missing_crs():
    gdf = customers().set_crs(None, allow_override=True)
    _, problems = validate_layer(gdf, "customers", source="customers.shp")
    p = only(problems, "no coordinate reference system")
    assert p.where == "customers.shp" and ".prj" in p.fix and "crs=" in p.fix
    assert severity(p) == "error"


def test_missing_prj_shapefile_reported_with_file_name(tmp_path):
    customers().to_file(tmp_path / "customers.shp")
    (tmp_path / "customers.prj").unlink()
    gdf = read_layer(tmp_path / "customers.shp")
    _, problems = validate_layer(gdf, "customers", source="customers.shp")
    assert "customers.shp" in str(only(problems, "no coordinate reference system"))


def test_projected_coordinates_declared_as_lon_lat(tmp_path):
    gdf = customers().to_crs(32618).set_crs(4326, allow_override=True)
    _, problems = validate_layer(gdf, "customers", source="customers.csv")
    p = only(problems, "coordinates out of range")
    assert "look projected" in p.what and "rows 0, 1, 2, 3, 4 (and 1 more)" in p.where


def test_swapped_lon_lat():
    gdf = customers()
    gdf.geometry = gpd.points_from_xy(gdf.geometry.y, gdf.geometry.x, crs=4326)
    gdf.loc[0, "geometry"] = Point(40.7, -100.0)
    _, problems = validate_layer(gdf, "customers", source="c.csv")
    assert "swapped" in only(problems, "coordinates out of range").what


def test_degrees_in_projected_crs():
    gdf = customers().set_crs(32618, allow_override=True)
    _, problems = validate_layer(gdf, "customers", source="c.gpkg")
    p = only(problems, "look like longitude/latitude degrees")
    assert "EPSG:4326" in p.fix


# --------------------------------------------------------------------------- columns


def test_missing_required_column_suggests_closest():
    gdf = gpd.GeoDataFrame(
        {"POP2020": [1, 2], "NAME": ["a", "b"]}, geometry=list(districts().geometry), crs=4326
    )
    _, problems = validate_layer(gdf, "population", source="pop.gpkg")
    p = only(problems, "missing column 'population'")
    assert p.where == "pop.gpkg"
    assert "POP2020" in p.fix and "NAME" in p.fix  # the columns that exist
    assert "columns={'population': 'POP2020'}" in p.fix


def test_missing_columns_each_reported():
    gdf = gpd.GeoDataFrame({"tech": ["4G"]}, geometry=pts(1), crs=4326)
    _, problems = validate_layer(gdf, "sites", source="sites.gpkg")
    missing = [p for p in problems if p.what.startswith("missing column")]
    assert {p.what.split("'")[1] for p in missing} == {
        "site_id",
        "technology",
        "sectors",
        "radius_m",
    }
    assert "'tech' looks like technology" in only(problems, "'technology'").fix


def test_columns_found_case_insensitively_and_mapped_both_ways():
    gdf = customers().rename(columns={"customer_id": "Customer ID", "spend": "ARPU"})
    out, problems = validate_layer(gdf, "customers", source="c.xlsx", columns={"spend": "ARPU"})
    assert problems == [] and {"customer_id", "spend"} <= set(out.columns)
    out, problems = validate_layer(gdf, "customers", source="c.xlsx", columns={"ARPU": "spend"})
    assert problems == [] and "spend" in out.columns


def test_mapped_column_not_in_file():
    _, problems = validate_layer(
        customers(), "customers", source="c.gpkg", columns={"spend": "arpu_2024"}
    )
    p = only(problems, "'arpu_2024' given for spend is not in the file")
    assert "customer_id" in p.fix


def test_mapping_to_unknown_canonical_column():
    _, problems = validate_layer(customers(), "customers", source="c.gpkg", columns={"foo": "bar"})
    assert "names no column of the customers layer" in only(problems, "'foo'").what


def test_closest_column_helpers():
    assert closest_column("population", ["POP2020", "NAME"]) == "POP2020"
    assert closest_column("spend", ["id", "月消费"]) == "月消费"
    assert closest_column("segment", ["abc"]) is None


# --------------------------------------------------------------------------- numbers


def test_non_numeric_population():
    gdf = districts(("a", "b", "c")).rename(columns={"district": "name"})
    gdf["population"] = ["120", "n/a", "1,200"]
    out, problems = validate_layer(gdf, "population", source="pop.csv")
    p = only(problems, "population is not a number")
    assert "'n/a'" in p.what and "'1,200'" in p.what and "rows 1, 2" in p.where
    assert out["population"].iloc[0] == 120.0


def test_missing_population_value():
    gdf = districts(("a", "b"))
    gdf["population"] = [np.nan, 5.0]
    _, problems = validate_layer(gdf, "population", source="pop.gpkg")
    assert "row 0" in only(problems, "population is missing").where


def test_negative_spend():
    gdf = customers(spend=[50.0, -3.0, 10.0, -8.0, 1.0, 2.0])
    _, problems = validate_layer(gdf, "customers", source="customers.csv")
    p = only(problems, "spend is negative")
    assert "-3" in p.what and "-8" in p.what
    assert "rows 1, 3" in p.where and "customer_id C1, C3" in p.where


def test_sectors_must_be_whole_and_at_least_one():
    gdf = sites(sectors=[3, 0, 2.5, "three"])
    _, problems = validate_layer(gdf, "sites", source="sites.csv")
    assert "row 1" in only(problems, "sectors is too small").where
    assert "row 2" in only(problems, "sectors is not a whole number").where
    assert "'three'" in only(problems, "sectors is not a number").what


def test_radius_must_be_positive():
    gdf = sites(radius_m=[500.0, -10.0, 0.0, 300.0])
    _, problems = validate_layer(gdf, "sites", source="sites.csv")
    p = only(problems, "radius_m is too small")
    assert "rows 1, 2" in p.where and "> 0 metres" in p.fix


def test_optional_numbers_may_be_missing_but_not_negative():
    gdf = customers(handsets=[np.nan, 120, np.nan, -1, 3, 4])
    _, problems = validate_layer(gdf, "customers", source="c.csv")
    assert [p.what for p in problems] == ["handsets is negative (-1)"]


# --------------------------------------------------------------------------- geometry


def test_invalid_geometry_repaired_with_warning():
    bowtie = Polygon([(-74.0, 40.7), (-73.99, 40.71), (-73.99, 40.7), (-74.0, 40.71)])
    gdf = districts(("a", "b", "c"))
    gdf.loc[2, "geometry"] = bowtie
    out, problems = validate_layer(gdf, "districts", source="districts.gpkg")
    p = only(problems, "repaired with make_valid")
    assert isinstance(p, Notice) and severity(p) == "warning"
    assert "Self-intersection" in p.what and "districts.gpkg, row 2" in p.where
    assert out.geometry.is_valid.all()
    assert out.geometry.iloc[2].geom_type in ("Polygon", "MultiPolygon")
    assert out.geometry.iloc[2].area == pytest.approx(bowtie.buffer(0).area, rel=0.01) or (
        out.geometry.iloc[2].area > 0
    )


def test_degenerate_geometry_is_an_error():
    gdf = districts(("a", "b"))
    gdf.loc[1, "geometry"] = Polygon([(0, 0), (1, 1), (2, 2), (0, 0)])
    _, problems = validate_layer(gdf, "districts", source="d.gpkg")
    assert "row 1" in only(problems, "degenerate").where


def test_empty_layer():
    gdf = customers().iloc[:0]
    _, problems = validate_layer(gdf, "customers", source="customers.gpkg")
    p = only(problems, "empty")
    assert p.where == "customers.gpkg" and severity(p) == "error"


def test_missing_geometry_rows():
    gdf = customers()
    gdf.loc[[1, 4], "geometry"] = None
    _, problems = validate_layer(gdf, "customers", source="c.csv")
    p = only(problems, "without geometry")
    assert "2 features" in p.what and "rows 1, 4" in p.where


def test_csv_rows_without_coordinates_named_by_spreadsheet_row(tmp_path):
    path = tmp_path / "customers.csv"
    pd.DataFrame(
        {
            "customer_id": ["a", "b", "c"],
            "segment": ["public"] * 3,
            "spend": [1, 2, 3],
            "lon": [-74.0, None, -74.01],
            "lat": [40.7, 40.7, "north"],
        }
    ).to_csv(path, index=False)
    _, problems = validate_layer(read_layer(path), "customers", source="customers.csv")
    p = only(problems, "without geometry")
    assert "customers.csv, rows 3, 4" in p.where and "customer_id b, c" in p.where


def test_mixed_geometry_types_points_in_polygon_layer():
    gdf = districts(("a", "b", "c", "d"))
    gdf.loc[3, "geometry"] = Point(-74.0, 40.7)
    _, problems = validate_layer(gdf, "districts", source="districts.geojson")
    p = only(problems, "mixed geometry types")
    assert "3 polygons and 1 point" in p.what and "needs polygons" in p.what
    assert "districts.geojson, row 3" in p.where


def test_mixed_points_and_polygons_in_population():
    gdf = districts(("a", "b", "c")).rename(columns={"district": "name"})
    gdf["population"] = [1, 2, 3]
    gdf.loc[0, "geometry"] = Point(-74.0, 40.7)
    _, problems = validate_layer(gdf, "population", source="pop.gpkg")
    p = only(problems, "mixed geometry types")
    assert "all of one kind" in p.what and "row 0" in p.where


def test_wrong_geometry_kind_points_as_districts():
    gdf = gpd.GeoDataFrame({"district": ["a", "b"]}, geometry=pts(2), crs=4326)
    _, problems = validate_layer(gdf, "districts", source="districts.csv")
    p = only(problems, "wrong geometry type")
    assert "needs polygons but has points" in p.what and "rows 0, 1" in p.where


def test_wrong_geometry_kind_polygons_as_customers():
    gdf = customers(2)
    gdf.geometry = list(districts().geometry)
    _, problems = validate_layer(gdf, "customers", source="c.gpkg")
    assert "Centroids" in only(problems, "wrong geometry type").fix


def test_single_part_multipoints_become_points_and_z_is_dropped():
    gdf = customers(2)
    gdf.geometry = [shapely.MultiPoint([(-74.0, 40.7)]), Point(-74.0, 40.71, 12.0)]
    out, problems = validate_layer(gdf, "customers", source="c.kml")
    assert problems == []
    assert list(out.geometry.geom_type) == ["Point", "Point"] and not out.has_z.any()


def test_multipoints_with_several_points():
    gdf = customers(2)
    gdf.loc[1, "geometry"] = shapely.MultiPoint([(-74.0, 40.7), (-74.01, 40.7)])
    _, problems = validate_layer(gdf, "customers", source="c.gpkg")
    assert "row 1" in only(problems, "several points").where


def test_barriers_need_lines():
    gdf = gpd.GeoDataFrame(geometry=[shapely.LineString([(0, 0), (1, 1)])], crs=4326)
    assert validate_layer(gdf, "barriers", source="b.gpkg")[1] == []
    _, problems = validate_layer(districts(), "barriers", source="b.gpkg")
    assert "needs lines but has polygons" in only(problems, "wrong geometry").what


# --------------------------------------------------------------------------- ids and codes


def test_duplicate_site_ids():
    gdf = sites(site_id=["S1", "S2", "S1", "S3"])
    _, problems = validate_layer(gdf, "sites", source="sites.gpkg")
    p = only(problems, "duplicate site_id")
    assert "'S1'" in p.what and "rows 0, 2" in p.where


def test_duplicate_customer_ids_and_missing_ids():
    gdf = customers(customer_id=["a", "b", "a", None, "b", " "])
    _, problems = validate_layer(gdf, "customers", source="c.csv")
    p = only(problems, "duplicate customer_id")
    assert "'a', 'b'" in p.what and "rows 0, 1, 2, 4" in p.where
    assert "rows 3, 5" in only(problems, "customer_id is missing").where


def test_duplicate_district_names():
    gdf = districts(("West", "East", "West"))
    _, problems = validate_layer(gdf, "districts", source="districts.gpkg")
    p = only(problems, "duplicate district")
    assert "'West'" in p.what and "rows 0, 2" in p.where and "dissolve" in p.fix


def test_district_codes_become_text():
    gdf = districts(("a", "b"))
    gdf["district"] = [110101.0, 110102.0]
    out, problems = validate_layer(gdf, "districts", source="d.gpkg")
    assert problems == [] and list(out["district"]) == ["110101", "110102"]


def test_unknown_segments_list_values_and_allowed_codes():
    gdf = customers(segment=["public", "gold", "vip_gold", "金卡VIP", "platinum", "gold"])
    out, problems = validate_layer(gdf, "customers", source="customers.csv")
    p = only(problems, "unknown customer segment")
    assert "'gold', 'platinum'" in p.what
    assert "rows 1, 4, 5" in p.where
    assert "vip_diamond" in p.fix and "public" in p.fix and "'gold' → vip_gold" in p.fix
    assert out["segment"].iloc[3] == "vip_gold"  # the Chinese label is understood


def test_sites_technology_not_4g_5g():
    gdf = sites(technology=["4G", "3G", "lte", "NR"])
    out, problems = validate_layer(gdf, "sites", source="sites.csv")
    p = only(problems, "technology is not 4G or 5G")
    assert "'3G'" in p.what and "row 1" in p.where and "site_id S1" in p.where
    assert list(out["technology"])[2:] == ["4G", "5G"]


# --------------------------------------------------------------------------- boundary


def test_points_outside_boundary_dropped_with_warning():
    gdf = customers(5)
    gdf.loc[[1, 3], "geometry"] = [Point(-75.0, 40.7), Point(-73.0, 41.0)]
    out, problems = validate_layer(gdf, "customers", source="customers.csv", boundary=boundary())
    p = only(problems, "outside the city boundary")
    assert severity(p) == "warning" and "2 of 5 points" in p.what and "dropped" in p.what
    assert "rows 1, 3" in p.where
    assert list(out.index) == [0, 2, 4]


def test_boundary_in_another_crs():
    out, problems = validate_layer(
        customers(), "customers", source="c", boundary=boundary().to_crs(32618)
    )
    assert problems == [] and len(out) == 6


def test_polygons_outside_boundary_dropped():
    gdf = districts(("a", "b"))
    gdf.loc[1, "geometry"] = box(-80, 30, -79, 31)
    out, problems = validate_layer(gdf, "districts", source="d.gpkg", boundary=boundary())
    assert "1 of 2 polygons" in only(problems, "outside the city boundary").what
    assert len(out) == 1


def test_sites_just_outside_kept_when_their_radius_reaches_the_city():
    gdf = sites(3, radius_m=[2000.0, 500.0, 500.0])
    # ~840 m west of the boundary (at 40.7 N, 0.01 degrees of longitude is ~843 m).
    gdf.loc[0, "geometry"] = Point(BOX[0] - 0.01, 40.7)
    gdf.loc[1, "geometry"] = Point(BOX[0] - 0.01, 40.71)
    out, problems = validate_layer(gdf, "sites", source="sites.gpkg", boundary=boundary())
    p = only(problems, "outside the city boundary")
    assert "1 site" in p.what and "row 1" in p.where
    assert list(out["site_id"]) == ["S0", "S2"]


def test_home_bases_outside_are_kept_with_warning():
    gdf = gpd.GeoDataFrame(
        {"manager": ["Li", "Wang"]}, geometry=[Point(-74.0, 40.7), Point(-75, 40)], crs=4326
    )
    out, problems = validate_layer(gdf, "home_bases", source="homes.csv", boundary=boundary())
    p = only(problems, "outside the city boundary")
    assert severity(p) == "warning" and "kept" in p.what and "manager Wang" in p.where
    assert len(out) == 2


def test_duplicate_managers():
    gdf = gpd.GeoDataFrame({"manager": ["Li", "Li"]}, geometry=pts(2), crs=4326)
    _, problems = validate_layer(gdf, "home_bases", source="homes.csv")
    assert "'Li'" in only(problems, "duplicate manager").what


# --------------------------------------------------------------------------- reporting


def test_all_problems_of_one_layer_at_once():
    gdf = customers(
        customer_id=["a", "a", "b", "c", "d", "e"],
        segment=["public", "??", "public", "public", "public", "public"],
        spend=[1, 2, -3, "x", 5, 6],
    )
    gdf.loc[5, "geometry"] = box(-74.0, 40.7, -73.99, 40.71)
    _, problems = validate_layer(gdf, "customers", source="c.gpkg")
    whats = " | ".join(p.what for p in problems)
    for word in ("duplicate", "unknown customer segment", "negative", "not a number", "mixed"):
        assert word in whats


def test_format_rows_lists_first_ids_and_count():
    idx = pd.RangeIndex(2, 22, name="row")
    mask = np.zeros(20, dtype=bool)
    mask[[1, 15, 40 - 22, 3, 5, 7, 9, 11]] = True
    assert format_rows(idx, mask) == "rows 3, 5, 7, 9, 11 (and 3 more)"
    fid = pd.Index([7], name="fid")
    assert format_rows(fid) == "feature with fid 7"


def test_validation_report_sorts_by_severity():
    rep = ValidationReport()
    rep.add([Problem("a", "f", "x"), Notice("b", "f", "y")])
    assert rep.ok is False and len(rep.errors) == 1 and len(rep.warnings) == 1
    assert "warning: b" in str(rep)
    with pytest.raises(InputError) as err:
        rep.raise_if_errors()
    assert len(err.value.problems) == 2
    only_warn = ValidationReport()
    only_warn.add(Notice("b", "f", "y"))
    only_warn.raise_if_errors()  # warnings alone do not raise


def test_unknown_kind_is_a_programming_error():
    with pytest.raises(ValueError):
        validate_layer(customers(), "customer", source="c")


def test_validate_does_not_mutate_input():
    gdf = sites(technology=["lte", "4G", "5G", "nr"])
    before = gdf.copy()
    validate_layer(gdf, "sites", source="s")
    pd.testing.assert_frame_equal(gdf, before)


# --------------------------------------------------------------------------- property

_values_st = st.one_of(
    st.none(),
    st.integers(-5, 5),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(["", " ", "4G", "lte", "public", "金卡VIP", "x", "007"]),
)
_geoms_st = st.one_of(
    st.none(),
    st.builds(Point, st.floats(-200, 200), st.floats(-100, 100)),
    st.just(Point()),
    st.just(Polygon([(0, 0), (1, 1), (1, 0), (0, 1)])),
    st.just(box(-74.0, 40.7, -73.99, 40.71)),
    st.just(shapely.LineString([(0, 0), (1, 1)])),
    st.just(shapely.GeometryCollection([Point(0, 0), box(0, 0, 1, 1)])),
    st.just(shapely.MultiPoint([(0, 0), (1, 1)])),
)


@settings(max_examples=150, deadline=None)
@given(
    kind=st.sampled_from(
        ["boundary", "districts", "population", "sites", "customers", "barriers", "home_bases"]
    ),
    rows=st.lists(
        st.tuples(_geoms_st, *[_values_st] * 4),
        max_size=8,
    ),
    crs=st.sampled_from([None, 4326, 32618]),
    with_boundary=st.booleans(),
)
def test_validate_never_raises(kind, rows, crs, with_boundary):
    names = {
        "boundary": ["name", "a", "b", "c"],
        "districts": ["district", "parent", "a", "b"],
        "population": ["population", "households", "a", "b"],
        "sites": ["site_id", "technology", "sectors", "radius_m"],
        "customers": ["customer_id", "segment", "spend", "handsets"],
        "barriers": ["a", "b", "c", "d"],
        "home_bases": ["manager", "a", "b", "c"],
    }[kind]
    data = {n: pd.Series([r[i + 1] for r in rows], dtype=object) for i, n in enumerate(names)}
    gdf = gpd.GeoDataFrame(data, geometry=[r[0] for r in rows], crs=crs)
    out, problems = validate_layer(
        gdf, kind, source="f.gpkg", boundary=boundary() if with_boundary else None
    )
    assert isinstance(out, gpd.GeoDataFrame)
    assert all(isinstance(p, Problem) for p in problems)
    if not rows:
        assert any("empty" in p.what for p in problems)
