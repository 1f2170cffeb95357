"""Reading every layer format, reprojection, load_layers and junk input (gridplan.layers.read)."""

from __future__ import annotations

import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely.geometry import box

from gridplan.errors import InputError
from gridplan.layers.model import Layers
from gridplan.layers.read import (
    LayerSource,
    ValidationReport,
    list_layers,
    load_layers,
    read_layer,
    to_wgs84,
)

NYC = (-74.05, 40.65, -73.95, 40.75)  # lon/lat box in Manhattan / Brooklyn
SEOUL = (126.9, 37.45, 127.1, 37.6)


def city(bounds=NYC, crs=4326) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"name": ["city"]}, geometry=[box(*bounds)], crs=4326).to_crs(crs)


def population(bounds=NYC) -> gpd.GeoDataFrame:
    x0, y0, x1, y1 = bounds
    xm, ym = (x0 + x1) / 2, (y0 + y1) / 2
    cells = [box(x0, y0, xm, ym), box(xm, y0, x1, ym), box(x0, ym, xm, y1), box(xm, ym, x1, y1)]
    return gpd.GeoDataFrame({"population": [100, 250, 0, 75]}, geometry=cells, crs=4326)


def sites(bounds=NYC) -> gpd.GeoDataFrame:
    x0, y0, x1, y1 = bounds
    return gpd.GeoDataFrame(
        {
            "site_id": ["S1", "S2", "S3"],
            "technology": ["4G", "5G", "4G"],
            "sectors": [3, 3, 2],
            "radius_m": [800.0, 400.0, 1200.0],
        },
        geometry=gpd.points_from_xy(
            [x0 + 0.01, (x0 + x1) / 2, x1 - 0.01], [y0 + 0.01, (y0 + y1) / 2, y1 - 0.01]
        ),
        crs=4326,
    )


def customers_frame(bounds=NYC) -> pd.DataFrame:
    x0, y0, x1, y1 = bounds
    return pd.DataFrame(
        {
            "customer_id": ["C001", "C002", "C003", "C004"],
            "segment": ["public", "vip_gold", "group_b", "business_a"],
            "spend": [58.0, 1800.0, 25000.0, 900.0],
            "lon": [x0 + 0.01, x0 + 0.02, x1 - 0.02, x1 - 0.01],
            "lat": [y0 + 0.01, y1 - 0.02, y0 + 0.03, y1 - 0.01],
        }
    )


def customers(bounds=NYC) -> gpd.GeoDataFrame:
    df = customers_frame(bounds)
    return gpd.GeoDataFrame(
        df.drop(columns=["lon", "lat"]), geometry=gpd.points_from_xy(df.lon, df.lat), crs=4326
    )


# --------------------------------------------------------------------------- formats


@pytest.mark.parametrize(
    ("ext", "driver"),
    [("gpkg", "GPKG"), ("geojson", "GeoJSON"), ("shp", "ESRI Shapefile"), ("fgb", "FlatGeobuf")],
)
def test_read_ogr_formats(tmp_path, ext, driver):
    path = tmp_path / f"sites.{ext}"
    sites().to_file(path, driver=driver)
    gdf = read_layer(path)
    assert len(gdf) == 3
    assert gdf.crs.to_epsg() == 4326
    assert set(gdf["site_id"]) == {"S1", "S2", "S3"}
    assert gdf.index.name == "fid"
    assert gdf.geometry.name == "geometry"


def test_read_kml(tmp_path):
    path = tmp_path / "sites.kml"
    sites().to_file(path, driver="KML")
    gdf = read_layer(path)
    assert len(gdf) == 3 and gdf.crs.to_epsg() == 4326
    assert set(gdf["site_id"]) == {"S1", "S2", "S3"}
    assert gdf.geometry.geom_type.eq("Point").all()


def test_read_geoparquet(tmp_path):
    path = tmp_path / "sites.parquet"
    sites().to_parquet(path)
    gdf = read_layer(path)
    assert len(gdf) == 3 and gdf.crs.to_epsg() == 4326


def test_read_plain_parquet_with_lon_lat(tmp_path):
    path = tmp_path / "customers.parquet"
    customers_frame().to_parquet(path)
    gdf = read_layer(path)
    assert len(gdf) == 4 and gdf.crs.to_epsg() == 4326
    assert gdf.geometry.geom_type.eq("Point").all()


def test_read_zipped_shapefile(tmp_path):
    sites().to_file(tmp_path / "sites.shp")
    zpath = tmp_path / "sites.zip"
    with zipfile.ZipFile(zpath, "w") as z:
        for part in tmp_path.glob("sites.*"):
            if part.suffix != ".zip":
                z.write(part, f"export/{part.name}")
    gdf = read_layer(zpath)
    assert len(gdf) == 3 and gdf.crs.to_epsg() == 4326


def test_zip_with_several_shapefiles_needs_a_layer(tmp_path):
    sites().to_file(tmp_path / "sites.shp")
    customers().to_file(tmp_path / "customers.shp")
    zpath = tmp_path / "layers.zip"
    with zipfile.ZipFile(zpath, "w") as z:
        for part in tmp_path.iterdir():
            if part.suffix != ".zip":
                z.write(part, part.name)
    with pytest.raises(InputError) as err:
        read_layer(zpath)
    msg = str(err.value)
    assert "layers.zip" in msg and "2 Shapefiles" in msg and "customers" in msg and "sites" in msg
    assert len(read_layer(zpath, layer="customers")) == 4
    assert sorted(list_layers(zpath)) == ["customers", "sites"]


def test_zip_without_shapefile(tmp_path):
    zpath = tmp_path / "sites.zip"
    with zipfile.ZipFile(zpath, "w") as z:
        z.writestr("readme.txt", "no shapes here")
        z.writestr("sites.dbf", b"\x03")
    with pytest.raises(InputError) as err:
        read_layer(zpath)
    msg = str(err.value)
    assert "sites.zip" in msg and "no Shapefile" in msg and "readme.txt" in msg


def test_shapefile_without_dbf(tmp_path):
    sites().to_file(tmp_path / "sites.shp")
    (tmp_path / "sites.dbf").unlink()
    with pytest.raises(InputError) as err:
        read_layer(tmp_path / "sites.shp")
    assert "sites.shp" in str(err.value) and ".dbf" in str(err.value)


def test_gpkg_choose_layer_and_list_layers(tmp_path):
    path = tmp_path / "city.gpkg"
    city().to_file(path, layer="boundary")
    sites().to_file(path, layer="sites")
    assert list_layers(path) == ["boundary", "sites"]
    assert len(read_layer(path, layer="sites")) == 3
    assert len(read_layer(path, layer="SITES")) == 3  # case-insensitive


def test_gpkg_several_layers_none_given_says_which_exist(tmp_path):
    path = tmp_path / "city.gpkg"
    city().to_file(path, layer="boundary")
    sites().to_file(path, layer="sites")
    with pytest.raises(InputError) as err:
        read_layer(path)
    msg = str(err.value)
    assert "city.gpkg" in msg and "2 layers" in msg and "boundary, sites" in msg
    assert "layer=" in msg


def test_gpkg_unknown_layer_suggests_closest(tmp_path):
    path = tmp_path / "city.gpkg"
    city().to_file(path, layer="boundary")
    sites().to_file(path, layer="sites")
    with pytest.raises(InputError) as err:
        read_layer(path, layer="site")
    assert "no layer 'site'" in str(err.value) and "did you mean 'sites'" in str(err.value)


@pytest.mark.parametrize(
    ("lon", "lat"),
    [("lon", "lat"), ("LNG", "LAT"), ("Longitude", "Latitude"), ("x", "y"), ("经度", "纬度")],
)
def test_read_csv_detects_lon_lat(tmp_path, lon, lat):
    path = tmp_path / "customers.csv"
    customers_frame().rename(columns={"lon": lon, "lat": lat}).to_csv(path, index=False)
    gdf = read_layer(path)
    assert len(gdf) == 4 and gdf.crs.to_epsg() == 4326
    assert gdf.index.name == "row" and list(gdf.index) == [2, 3, 4, 5]
    assert gdf.geometry.x.iloc[0] == pytest.approx(NYC[0] + 0.01)


def test_read_csv_explicit_columns_and_crs(tmp_path):
    df = customers_frame()
    pts = gpd.GeoSeries(gpd.points_from_xy(df.lon, df.lat), crs=4326).to_crs(32618)
    df = df.drop(columns=["lon", "lat"]).assign(E=pts.x, N=pts.y)
    path = tmp_path / "customers.csv"
    df.to_csv(path, index=False)
    gdf = read_layer(path, lon="E", lat="N", crs="EPSG:32618")
    assert gdf.crs.to_epsg() == 32618
    assert to_wgs84(gdf).geometry.x.iloc[0] == pytest.approx(NYC[0] + 0.01)


def test_read_csv_missing_coordinate_columns(tmp_path):
    path = tmp_path / "customers.csv"
    customers_frame().rename(columns={"lon": "east", "lat": "north"}).to_csv(path, index=False)
    with pytest.raises(InputError) as err:
        read_layer(path)
    msg = str(err.value)
    assert "customers.csv" in msg and "no longitude and latitude column" in msg
    assert "east" in msg and "lon=" in msg


def test_read_csv_given_column_not_there(tmp_path):
    path = tmp_path / "customers.csv"
    customers_frame().to_csv(path, index=False)
    with pytest.raises(InputError) as err:
        read_layer(path, lon="long_", lat="lat")
    assert "'long_'" in str(err.value) and "did you mean 'lon'" in str(err.value)


def test_read_csv_keeps_leading_zero_ids_and_reads_gbk_semicolons(tmp_path):
    path = tmp_path / "客户.csv"
    text = (
        "customer_id;segment;spend;经度;纬度\n"
        "007;公众客户;58;-74.0;40.7\n"
        "010;金卡VIP;1800;-74.01;40.71\n"
    )
    path.write_bytes(text.encode("gb18030"))
    gdf = read_layer(path)
    assert list(gdf["customer_id"]) == ["007", "010"]
    assert list(gdf["segment"]) == ["公众客户", "金卡VIP"]
    assert gdf["spend"].dtype.kind in "if"


def test_read_csv_with_wkt_geometry(tmp_path):
    path = tmp_path / "districts.csv"
    pd.DataFrame({"district": ["A"], "WKT": [box(*NYC).wkt]}).to_csv(path, index=False)
    gdf = read_layer(path)
    assert gdf.geometry.iloc[0].geom_type == "Polygon" and gdf.crs.to_epsg() == 4326


def test_read_xlsx_with_lon_lat(tmp_path):
    path = tmp_path / "customers.xlsx"
    customers_frame().to_excel(path, index=False)
    gdf = read_layer(path)
    assert len(gdf) == 4 and gdf.crs.to_epsg() == 4326
    assert list(gdf.index) == [2, 3, 4, 5]  # Excel row numbers


def test_read_xlsx_several_sheets(tmp_path):
    path = tmp_path / "book.xlsx"
    with pd.ExcelWriter(path) as xw:
        customers_frame().to_excel(xw, sheet_name="customers", index=False)
        customers_frame().head(2).to_excel(xw, sheet_name="vip", index=False)
    with pytest.raises(InputError) as err:
        read_layer(path)
    assert "2 sheets" in str(err.value) and "customers, vip" in str(err.value)
    assert len(read_layer(path, layer="vip")) == 2
    assert list_layers(path) == ["customers", "vip"]


def test_read_xlsx_ignores_empty_extra_sheets(tmp_path):
    path = tmp_path / "book.xlsx"
    with pd.ExcelWriter(path) as xw:
        customers_frame().to_excel(xw, sheet_name="Sheet1", index=False)
        pd.DataFrame().to_excel(xw, sheet_name="Sheet2", index=False)
    assert len(read_layer(path)) == 4


# --------------------------------------------------------------------------- reading failures


def test_file_not_found_suggests_close_name(tmp_path):
    sites().to_file(tmp_path / "sites.gpkg")
    with pytest.raises(InputError) as err:
        read_layer(tmp_path / "site.gpkg")
    msg = str(err.value)
    assert "file not found" in msg and "site.gpkg" in msg and "did you mean 'sites.gpkg'" in msg


def test_file_not_found_missing_folder(tmp_path):
    with pytest.raises(InputError) as err:
        read_layer(tmp_path / "nowhere" / "sites.gpkg")
    assert "does not exist" in str(err.value)


def test_text_file_named_gpkg(tmp_path):
    path = tmp_path / "districts.gpkg"
    path.write_text("district,population\nA,100\n")
    with pytest.raises(InputError) as err:
        read_layer(path)
    msg = str(err.value)
    assert "districts.gpkg" in msg and "cannot be read as GeoPackage" in msg
    assert "plain text" in msg


def test_html_page_named_geojson(tmp_path):
    path = tmp_path / "sites.geojson"
    path.write_text("<!DOCTYPE html><html><body>Please log in</body></html>")
    with pytest.raises(InputError) as err:
        read_layer(path)
    msg = str(err.value)
    assert "sites.geojson" in msg and "cannot be read as GeoJSON" in msg
    assert "HTML web page" in msg and "download" in msg


def test_gpkg_named_geojson_suggests_rename(tmp_path):
    sites().to_file(tmp_path / "real.gpkg")
    path = tmp_path / "sites.geojson"
    path.write_bytes((tmp_path / "real.gpkg").read_bytes())
    try:
        gdf = read_layer(path)  # GDAL may sniff the content and read it anyway: fine
        assert len(gdf) == 3
    except InputError as err:
        assert ".gpkg" in str(err.value)


def test_empty_file(tmp_path):
    path = tmp_path / "sites.fgb"
    path.write_bytes(b"")
    with pytest.raises(InputError) as err:
        read_layer(path)
    assert "empty file" in str(err.value) and "sites.fgb" in str(err.value)


def test_not_a_zip(tmp_path):
    path = tmp_path / "sites.zip"
    path.write_text("hello")
    with pytest.raises(InputError) as err:
        read_layer(path)
    assert "cannot be read as zipped Shapefile" in str(err.value)


def test_unsupported_extension(tmp_path):
    path = tmp_path / "sites.docx"
    path.write_bytes(b"PK\x03\x04 not really")
    with pytest.raises(InputError) as err:
        read_layer(path)
    assert "unsupported file type '.docx'" in str(err.value) and "GeoPackage (.gpkg)" in str(
        err.value
    )


def test_folder_instead_of_file(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError) as err:
        read_layer(tmp_path / "empty")
    assert "folder" in str(err.value) and "empty" in str(err.value)


def test_folder_with_one_shapefile_is_read(tmp_path):
    (tmp_path / "export").mkdir()
    sites().to_file(tmp_path / "export" / "sites.shp")
    assert len(read_layer(tmp_path / "export")) == 3


def test_unknown_crs(tmp_path):
    path = tmp_path / "customers.csv"
    customers_frame().to_csv(path, index=False)
    with pytest.raises(InputError) as err:
        read_layer(path, crs="EPSG:999999")
    assert "unknown CRS" in str(err.value)


def test_non_spatial_gpkg_table(tmp_path):
    path = tmp_path / "table.gpkg"
    import pyogrio

    pyogrio.write_dataframe(pd.DataFrame({"a": [1, 2]}), path, layer="t", driver="GPKG")
    with pytest.raises(InputError) as err:
        read_layer(path)
    assert "no geometry" in str(err.value)


GEO_EXTENSIONS = [
    ".gpkg",
    ".geojson",
    ".json",
    ".shp",
    ".zip",
    ".kml",
    ".kmz",
    ".parquet",
    ".fgb",
    ".csv",
    ".xlsx",
]


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(data=st.binary(max_size=600), ext=st.sampled_from(GEO_EXTENSIONS))
def test_junk_bytes_give_input_error(tmp_path, data, ext):
    path = tmp_path / f"junk{ext}"
    path.write_bytes(data)
    try:
        read_layer(path)
    except InputError as err:
        assert "junk" in str(err)
    with pytest.raises(InputError):
        load_layers(boundary=path, population=path)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    prefix=st.sampled_from(
        [b"SQLite format 3\x00", b"PK\x03\x04", b"PAR1", b"fgb\x03fgb\x00", b'{"type":', b"<kml"]
    ),
    data=st.binary(max_size=300),
    ext=st.sampled_from(GEO_EXTENSIONS),
)
def test_junk_with_magic_bytes_give_input_error(tmp_path, prefix, data, ext):
    path = tmp_path / f"junk{ext}"
    path.write_bytes(prefix + data)
    with pytest.raises(InputError):
        load_layers(boundary=path, population=path)


# --------------------------------------------------------------------------- CRS


@pytest.mark.parametrize(("bounds", "epsg"), [(NYC, 32618), (SEOUL, 32652)])
def test_load_layers_reprojects_to_utm(tmp_path, bounds, epsg):
    b, p = tmp_path / "boundary.geojson", tmp_path / "population.gpkg"
    city(bounds, crs=3857).to_file(b)  # any CRS in
    population(bounds).to_file(p)
    layers = load_layers(boundary=b, population=p)
    assert isinstance(layers, Layers)
    assert layers.crs.to_epsg() == epsg
    assert layers.boundary.crs.to_epsg() == epsg
    assert layers.population.crs.to_epsg() == epsg
    assert layers.population["population"].sum() == 425
    back = to_wgs84(layers.boundary)
    assert back.crs.to_epsg() == 4326
    np.testing.assert_allclose(back.total_bounds, bounds, atol=1e-6)


def test_to_wgs84_without_crs():
    with pytest.raises(InputError):
        to_wgs84(gpd.GeoDataFrame(geometry=[box(0, 0, 1, 1)]))


def test_missing_prj_filled_by_crs_argument(tmp_path):
    sites().to_file(tmp_path / "sites.shp")
    (tmp_path / "sites.prj").unlink()
    assert read_layer(tmp_path / "sites.shp").crs is None
    assert read_layer(tmp_path / "sites.shp", crs=4326).crs.to_epsg() == 4326


# --------------------------------------------------------------------------- load_layers


def write_city(tmp_path: Path) -> dict[str, Path]:
    paths = {
        "boundary": tmp_path / "boundary.geojson",
        "population": tmp_path / "population.gpkg",
        "sites": tmp_path / "sites.fgb",
        "customers": tmp_path / "customers.csv",
    }
    city().to_file(paths["boundary"])
    population().to_file(paths["population"])
    sites().to_file(paths["sites"])
    customers_frame().to_csv(paths["customers"], index=False)
    return paths


def test_load_layers_all_formats_together(tmp_path):
    paths = write_city(tmp_path)
    districts = tmp_path / "districts.zip"
    gpd.GeoDataFrame(
        {"NAME": ["west", "east"]},
        geometry=[box(NYC[0], NYC[1], -74.0, NYC[3]), box(-74.0, NYC[1], NYC[2], NYC[3])],
        crs=4326,
    ).to_file(tmp_path / "districts.shp")
    with zipfile.ZipFile(districts, "w") as z:
        for part in tmp_path.glob("districts.*"):
            if part.suffix != ".zip":
                z.write(part, part.name)
    homes = tmp_path / "homes.xlsx"
    pd.DataFrame(
        {"manager": ["Li", "Wang"], "lng": [-74.0, -73.99], "lat": [40.7, 40.71]}
    ).to_excel(homes, index=False)
    barriers = tmp_path / "river.kml"
    gpd.GeoDataFrame(
        geometry=[shapely.LineString([(-74.05, 40.7), (-73.95, 40.7)])], crs=4326
    ).to_file(barriers, driver="KML")
    report = ValidationReport()
    layers = load_layers(
        **paths,
        districts=districts,
        home_bases=homes,
        barriers=barriers,
        columns={"districts": {"district": "NAME"}},
        name="nyc",
        report=report,
    )
    assert report.errors == [] and report.warnings == []
    assert layers.name == "nyc" and layers.crs.to_epsg() == 32618
    for kind in (
        "boundary",
        "population",
        "districts",
        "sites",
        "customers",
        "barriers",
        "home_bases",
    ):
        gdf = getattr(layers, kind)
        assert gdf.crs.to_epsg() == 32618, kind
        assert list(gdf.index) == list(range(len(gdf))), kind
    assert list(layers.districts["district"]) == ["west", "east"]
    assert list(layers.sites["technology"]) == ["4G", "5G", "4G"]
    assert layers.sites["sectors"].dtype.kind == "i"
    assert set(layers.customers["segment"]) == {"public", "vip_gold", "group_b", "business_a"}
    assert list(layers.home_bases["manager"]) == ["Li", "Wang"]


def test_load_layers_picks_layer_named_like_kind(tmp_path):
    path = tmp_path / "city.gpkg"
    city().to_file(path, layer="boundary")
    population().to_file(path, layer="Population")
    sites().to_file(path, layer="sites")
    layers = load_layers(boundary=path, population=path, sites=path)
    assert len(layers.population) == 4 and len(layers.sites) == 3


def test_load_layers_layer_source_and_geodataframe(tmp_path):
    path = tmp_path / "pts.csv"
    customers_frame().rename(columns={"lon": "E", "lat": "N"}).to_csv(path, index=False)
    layers = load_layers(
        boundary=city(),
        population=population(),
        customers=LayerSource(path, lon="E", lat="N", crs=4326),
    )
    assert len(layers.customers) == 4


def test_load_layers_lon_lat_in_columns_mapping(tmp_path):
    path = tmp_path / "pts.csv"
    customers_frame().rename(columns={"lon": "E", "lat": "N", "spend": "arpu"}).to_csv(
        path, index=False
    )
    layers = load_layers(
        boundary=city(),
        population=population(),
        customers=path,
        columns={"customers": {"lon": "E", "lat": "N", "arpu": "spend"}},  # rename direction too
    )
    assert layers.customers["spend"].sum() == pytest.approx(27758.0)


def test_load_layers_warnings_do_not_stop_and_reach_the_report(tmp_path):
    cust = customers()
    cust.loc[len(cust)] = ["C999", "public", 10.0, shapely.Point(-80.0, 35.0)]
    report = ValidationReport()
    layers = load_layers(boundary=city(), population=population(), customers=cust, report=report)
    assert report.ok and report.errors == []
    assert len(report.warnings) == 1
    assert "1 of 5 points outside the city boundary, dropped" in str(report.warnings[0])
    assert len(layers.customers) == 4


def test_several_problems_in_several_layers_come_out_together(tmp_path):
    paths = write_city(tmp_path)
    df = customers_frame()
    df.loc[1, "spend"] = -5
    df.loc[2, "segment"] = "platinum"
    df.to_csv(paths["customers"], index=False)
    s = sites()
    s.loc[0, "technology"] = "3G"
    s.to_file(paths["sites"])
    p = population()
    p.loc[2, "population"] = -1
    p.to_file(paths["population"])
    missing = tmp_path / "districts.gpkg"
    with pytest.raises(InputError) as err:
        load_layers(**paths, districts=missing)
    msg = str(err.value)
    problems = err.value.problems
    assert len(problems) >= 5, msg
    assert "spend is negative" in msg and "customers.csv, row 3" in msg
    assert "unknown customer segment ('platinum')" in msg and "customers.csv, row 4" in msg
    assert "technology is not 4G or 5G ('3G')" in msg and "sites.fgb" in msg
    assert "population is negative" in msg and "population.gpkg" in msg
    assert "file not found" in msg and "districts.gpkg" in msg


def test_load_layers_requires_boundary_and_population():
    with pytest.raises(InputError) as err:
        load_layers(boundary=None, population=None)
    assert "no boundary layer given" in str(err.value)
    assert "no population layer given" in str(err.value)


def test_load_layers_unknown_layer_in_columns(tmp_path):
    with pytest.raises(InputError) as err:
        load_layers(boundary=city(), population=population(), columns={"customer": {}})
    assert "unknown layer 'customer'" in str(err.value) and "'customers'" in str(err.value)


def test_kml_folders_are_layers(tmp_path):
    path = tmp_path / "city.kml"
    gpd.GeoDataFrame({"Name": ["x"]}, geometry=[box(*NYC)], crs=4326).to_file(
        path, driver="LIBKML", layer="districts"
    )
    sites().to_file(path, driver="LIBKML", layer="sites", mode="a")
    with pytest.raises(InputError) as err:
        read_layer(path)
    assert "2 layers: districts, sites" in str(err.value)
    assert len(read_layer(path, layer="sites")) == 3


def test_load_layers_plain_dataframe_is_a_problem_not_a_crash():
    with pytest.raises(InputError) as err:
        load_layers(boundary=city(), population=pd.DataFrame({"population": [1]}))
    assert "population layer has no geometry" in str(err.value)


def test_a_zip_bomb_and_a_traversal_zip_are_refused_by_the_reader(tmp_path):
    import zipfile

    from gridplan.errors import InputError
    from gridplan.layers.read import list_layers, read_layer

    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("roads.shp", b"\0" * (64 * 1024 * 1024))  # 64 MiB of zeros, ~1000:1
    traversal = tmp_path / "evil.zip"
    with zipfile.ZipFile(traversal, "w") as z:
        z.writestr("../../etc/roads.shp", b"x")
    for path, message in ((bomb, "zip bomb"), (traversal, "outside the archive")):
        for call in (read_layer, list_layers):
            with pytest.raises(InputError, match=message):
                call(path)
