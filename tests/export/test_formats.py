"""Every export format: files reread with geopandas/pyogrio equal what was written."""

from __future__ import annotations

import xml.etree.ElementTree as ET
import zipfile

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest

from gridplan.errors import InputError
from gridplan.export.formats import FORMATS, export_all, export_plan, handover, team_zips
from gridplan.export.shapefile import MAX_FIELD, field_names
from gridplan.plan.privacy import PrivacySettings
from gridplan.plan.slices import plan_slice
from tests.plans import EVIL, rebalanced, tiny_plan

FIGURES = ["population", "customers", "spend", "hours_total"]


@pytest.fixture(scope="module")
def plan():
    return tiny_plan()


def _same_grids(read: gpd.GeoDataFrame, plan, tol_m: float = 0.01) -> None:
    """ids, figures and geometry (within tol_m metres) equal the plan's grids."""
    read = read.to_crs(plan.crs).set_index("grid_id").sort_index()
    want = plan.grids.set_index("grid_id").sort_index()
    assert list(read.index) == list(want.index)
    for col in FIGURES:
        np.testing.assert_allclose(read[col].astype(float), want[col].astype(float), rtol=1e-9)
    assert read["manager"].tolist() == want["manager"].tolist()
    assert read["district"].tolist() == want["district"].tolist()  # Chinese and <script> intact
    dist = read.geometry.hausdorff_distance(want.geometry, align=True)
    assert float(dist.max()) < tol_m


def test_gpkg_has_every_layer_and_round_trips(plan, tmp_path):
    (path,) = export_plan(plan, "gpkg", tmp_path / "out.gpkg")
    assert path == tmp_path / "out.gpkg"
    layers = {row[0] for row in pyogrio.list_layers(path)}
    assert {"cells", "grids", "territories", "areas", "sites", "customers", "managers"} <= layers
    assert "headcount" in layers
    head = pyogrio.read_dataframe(path, layer="headcount")
    assert len(head) == 25 and head["managers_by_ratio"].isna().sum() == 5  # cm: no ratio
    _same_grids(gpd.read_file(path, layer="grids"), plan, tol_m=1e-6)
    cust = gpd.read_file(path, layer="customers").set_index("customer_id")
    assert cust.loc["客户000", "manager"] in {"张三", "李四", "Bob"}
    terr = gpd.read_file(path, layer="territories").set_index("manager")
    assert terr.loc["张三", "hours"] == pytest.approx(45.0)


def test_geojson_is_wgs84_and_round_trips(plan, tmp_path):
    paths = export_plan(plan, "geojson", tmp_path)
    names = {p.name for p in paths}
    assert "测试方案_grids.geojson" in names and "测试方案_customers.geojson" in names
    grids = gpd.read_file(tmp_path / "测试方案_grids.geojson")
    assert grids.crs.to_epsg() == 4326
    lon, lat = grids.geometry.iloc[0].centroid.coords[0]
    assert 100 < lon < 106 and 28 < lat < 32  # Chengdu-ish, not metres
    _same_grids(grids, plan, tol_m=0.05)  # RFC 7946 keeps 7 decimals (~1 cm)


def test_shapefile_zip_short_fields_mapping_and_utf8(plan, tmp_path):
    (path,) = export_plan(plan, "shp", tmp_path / "team.zip")
    with zipfile.ZipFile(path) as zf:
        names = set(zf.namelist())
        assert {"grids.shp", "grids.dbf", "grids.shx", "grids.prj", "grids.cpg"} <= names
        assert {"fields.csv", "README.txt"} <= names
        assert zf.read("grids.cpg").decode().strip().upper().replace("-", "") == "UTF8"
        mapping = pd.read_csv(zf.open("fields.csv"), encoding="utf-8-sig")
    grids = gpd.read_file(f"zip://{path}!grids.shp")
    assert all(len(c) <= MAX_FIELD for c in grids.columns)
    back = mapping[mapping["layer"] == "grids"].set_index("field")["column"].to_dict()
    _same_grids(grids.rename(columns=back), plan, tol_m=1e-6)


def test_field_names_are_short_unique_and_readable():
    cols = [
        "cust_business_a", "cust_business_a_plus", "cust_large_diamond", "cust_vip_diamond",
        "hours_total", "hours_travel", "hours_maintenance", "managers_by_group_ratio",
        "managers_by_vip_ratio", "abcdefghijklmn", "abcdefghijklmnop", "ABCDEFGHIJKL",
    ]  # fmt: skip
    names = field_names(cols)
    assert all(len(v) <= MAX_FIELD for v in names.values())
    assert len({v.lower() for v in names.values()}) == len(cols)
    assert names["hours_total"] == "hours"
    assert names["cust_vip_diamond"] == "c_vip_dia"


def test_kml_parses_styled_by_manager_with_names(plan, tmp_path):
    (path,) = export_plan(plan, "kml", tmp_path / "plan.kml")
    root = ET.parse(path).getroot()
    ns = {"k": "http://www.opengis.net/kml/2.2"}
    folders = {f.findtext("k:name", namespaces=ns): f for f in root.iter(f"{{{ns['k']}}}Folder")}
    assert set(folders) == {"areas", "territories", "grids", "sites"}
    grid_names = [p.findtext("k:name", namespaces=ns) for p in folders["grids"]]
    assert sorted(n for n in grid_names if n) == ["G1", "G2", "G3", "G4", "G5", "G6"]
    terr = {p.findtext("k:name", namespaces=ns): p.findtext("k:styleUrl", namespaces=ns)
            for p in folders["territories"].iter(f"{{{ns['k']}}}Placemark")}  # fmt: skip
    assert set(terr) == {"张三", "李四", "Bob"}
    assert len(set(terr.values())) == 3  # each manager its own style
    text = path.read_text(encoding="utf-8")
    assert EVIL not in text  # escaped, never raw markup
    read = gpd.read_file(path, layer="grids")
    assert sorted(read["Name"]) == ["G1", "G2", "G3", "G4", "G5", "G6"]


def test_parquet_round_trips_in_work_crs(plan, tmp_path):
    export_plan(plan, "parquet", tmp_path)
    grids = gpd.read_parquet(tmp_path / "测试方案_grids.parquet")
    assert grids.crs == plan.crs
    _same_grids(grids, plan, tol_m=1e-9)


def test_csv_tables_and_customer_attribution(plan, tmp_path):
    paths = export_plan(plan, "csv", tmp_path)
    assert {p.name for p in paths} == {
        "测试方案_grids.csv", "测试方案_managers.csv", "测试方案_customers.csv",
        "测试方案_headcount.csv", "测试方案_area_teams.csv",
    }  # fmt: skip
    assert (tmp_path / "测试方案_grids.csv").read_bytes()[:3] == b"\xef\xbb\xbf"  # Excel-friendly
    grids = pd.read_csv(tmp_path / "测试方案_grids.csv", encoding="utf-8-sig")
    assert grids.set_index("grid_id").loc["G1", "area"] == "东区"
    att = pd.read_csv(tmp_path / "测试方案_customers.csv", encoding="utf-8-sig")
    assert len(att) == 40
    row = att.set_index("customer_id").loc["客户000"]
    cell = plan.customers.set_index("customer_id").loc["客户000", "cell_id"]
    grid = plan.cells.set_index("cell_id").loc[cell, "grid_id"]
    manager = plan.grids.set_index("grid_id").loc[grid, "manager"]
    assert (row["cell_id"], row["grid_id"], row["manager"]) == (cell, grid, manager)
    managers = pd.read_csv(tmp_path / "测试方案_managers.csv", encoding="utf-8-sig")
    assert managers.set_index("manager").loc["Bob", "hours"] == pytest.approx(53.0)
    assert managers.set_index("manager").loc["Bob", "grids"] == "G5,G6"
    # headcount per role: city, both districts, both areas; five roles each
    head = pd.read_csv(tmp_path / "测试方案_headcount.csv", encoding="utf-8-sig")
    assert head["level"].value_counts().to_dict() == {"city": 5, "district": 10, "area": 10}
    cm = head[(head["level"] == "city") & (head["role"] == "cm")].iloc[0]
    assert cm["hours"] == pytest.approx(150.0) and cm["recommended"] == 2  # 150 h / 128 h
    assert (
        head["recommended"] >= head[["managers_by_hours", "managers_by_ratio"]].max(axis=1)
    ).all()


def test_xlsx_sheets(plan, tmp_path):
    (path,) = export_plan(plan, "xlsx", tmp_path / "lists.xlsx", previous=rebalanced(plan))
    sheets = pd.read_excel(path, sheet_name=None)
    assert {"grids", "managers", "headcount", "customers", "handover_grids"} <= set(sheets)
    assert "handover_summary" in sheets
    assert set(sheets["headcount"]["role"]) == {"cm", "group", "vip", "phone", "area"}
    assert sheets["grids"]["district"].tolist() == plan.grids["district"].tolist()
    assert len(sheets["customers"]) == 40


def test_handover_lists_moves_both_ways(plan):
    new = rebalanced(plan)
    moves = handover(plan, new)
    g = moves.grids.set_index(["manager", "direction", "grid_id"])
    assert set(g.index) == {
        ("张三", "out", "G2"), ("李四", "in", "G2"), ("Bob", "out", "G5"), ("张三", "in", "G5"),
    }  # fmt: skip
    assert g.loc[("李四", "in", "G2"), "from_manager"] == "张三"
    assert g.loc[("李四", "in", "G2"), "hours_total"] == pytest.approx(25.0)
    moved_cells = set(plan.cells.loc[plan.cells["grid_id"].isin(["G2", "G5"]), "cell_id"])
    expected = set(plan.customers.loc[plan.customers["cell_id"].isin(moved_cells), "customer_id"])
    outs = moves.customers[moves.customers["direction"] == "out"]
    assert set(outs["customer_id"]) == expected
    s = moves.summary.set_index("manager")
    assert s.loc["张三", "grids_in"] == 1 and s.loc["张三", "grids_out"] == 1
    assert s.loc["张三", "hours_in"] == pytest.approx(18.0)
    assert handover(plan, plan).grids.empty


def test_handover_csv_written_with_previous(plan, tmp_path):
    paths = export_plan(plan, "csv", tmp_path, previous=rebalanced(plan))
    names = {p.name for p in paths}
    assert {"测试方案_handover_grids.csv", "测试方案_handover_customers.csv"} <= names
    table = pd.read_csv(tmp_path / "测试方案_handover_grids.csv", encoding="utf-8-sig")
    assert set(table["grid_id"]) == {"G2", "G5"}


def test_privacy_aggregates_only_and_small_counts(plan, tmp_path):
    privacy = PrivacySettings(aggregates_only=True, min_count=8)
    export_plan(plan, "csv", tmp_path, privacy=privacy)
    export_plan(plan, "gpkg", tmp_path, privacy=privacy)
    export_plan(plan, "html", tmp_path, privacy=privacy)
    assert not (tmp_path / "测试方案_customers.csv").exists()
    assert "customers" not in {row[0] for row in pyogrio.list_layers(tmp_path / "测试方案.gpkg")}
    grids = pd.read_csv(tmp_path / "测试方案_grids.csv", encoding="utf-8-sig").set_index("grid_id")
    raw = plan.grids.set_index("grid_id")["customers"]
    for gid, n in raw.items():
        if 0 < n < 8:
            assert pd.isna(grids.loc[gid, "customers"]) and pd.isna(grids.loc[gid, "spend"])
            assert bool(grids.loc[gid, "suppressed"])
        else:
            assert grids.loc[gid, "customers"] == n
    assert grids["population"].notna().all()
    html = (tmp_path / "测试方案.html").read_text(encoding="utf-8")
    assert "客户000" not in html and "\\u5ba2\\u6237000" not in html


def test_by_area_and_manager_write_one_set_each(plan, tmp_path):
    paths = export_plan(plan, "gpkg", tmp_path, by="area")
    assert len(paths) == 2 and (tmp_path / "area-东区.gpkg").exists()
    east = gpd.read_file(tmp_path / "area-东区.gpkg", layer="grids")
    assert sorted(east["grid_id"]) == ["G1", "G2", "G3", "G4"]
    cust = gpd.read_file(tmp_path / "area-东区.gpkg", layer="customers")
    assert set(cust["manager"]) <= {"张三", "李四"}
    evil = next(p for p in paths if p.name != "area-东区.gpkg")
    assert evil.parent == tmp_path and "<" not in evil.name and "/" not in evil.name
    paths = export_plan(plan, "kml", tmp_path / "m", by="manager")
    assert sorted(p.name for p in paths) == [
        "manager-Bob.kml",
        "manager-张三.kml",
        "manager-李四.kml",
    ]


def test_bad_output_paths_and_options(plan, tmp_path):
    with pytest.raises(InputError, match="unknown format 'kmz'"):
        export_plan(plan, "kmz", tmp_path)
    with pytest.raises(InputError, match=r"ends in \.kml"):
        export_plan(plan, "kml", tmp_path / "x.gpkg")
    with pytest.raises(InputError, match="one file per area"):
        export_plan(plan, "gpkg", tmp_path / "x.gpkg", by="area")
    (tmp_path / "file").write_text("x")
    with pytest.raises(InputError, match="not a folder"):
        export_plan(plan, "csv", tmp_path / "file")
    with pytest.raises(InputError, match="is a file"):
        export_plan(plan, "csv", tmp_path / "file" / "sub")


def test_failed_export_leaves_no_file(plan, tmp_path, monkeypatch):
    import gridplan.export.formats as ex

    target = tmp_path / "out"
    export_plan(plan, "csv", target)
    before = {p.name: p.read_bytes() for p in target.iterdir()}

    def broken(frame, *args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(ex.pd.DataFrame, "to_csv", broken)
    with pytest.raises(OSError, match="disk full"):
        export_plan(plan.with_(name="测试方案"), "csv", target)
    assert {p.name: p.read_bytes() for p in target.iterdir()} == before  # old set untouched
    monkeypatch.undo()

    calls = []
    real = ex._write_gpkg

    def fail_after_first(job, dest, temp_for):
        calls.append(job.stem)
        if len(calls) == 2:
            raise RuntimeError("crash in the second area")
        return real(job, dest, temp_for)

    monkeypatch.setitem(ex.WRITERS, "gpkg", fail_after_first)
    with pytest.raises(RuntimeError):
        export_plan(plan, "gpkg", tmp_path / "areas", by="area")
    assert list((tmp_path / "areas").iterdir()) == []  # neither area's file, no temp file


@pytest.mark.slow
def test_export_all_and_team_zips(plan, tmp_path):
    bob = plan_slice(plan, ["Bob"], "Bob")  # one manager: a 3-page book keeps this quick
    paths = export_all(bob, tmp_path / "all", language="zh")
    suffixes = {p.suffix for p in paths}
    assert suffixes == {".gpkg", ".geojson", ".zip", ".kml", ".parquet", ".csv", ".xlsx",
                        ".html", ".pdf", ".png"}  # fmt: skip
    assert all(p.exists() for p in paths)
    zips = team_zips(plan, tmp_path / "zips", previous=rebalanced(plan))
    assert sorted(z.name for z in zips)[0] != ""
    east = tmp_path / "zips" / "东区.zip"
    assert east in zips
    with zipfile.ZipFile(east) as zf:
        names = zf.namelist()
        gpkg = next(n for n in names if n.endswith(".gpkg"))
        zf.extract(gpkg, tmp_path / "x")
        hand = pd.read_csv(
            zf.open(next(n for n in names if n.endswith("_handover_grids.csv"))),
            encoding="utf-8-sig",
        )
    assert {n.rsplit(".", 1)[-1] for n in names} >= {fmt for fmt in FORMATS if fmt != "shp"}
    grids = gpd.read_file(tmp_path / "x" / gpkg, layer="grids")
    assert sorted(grids["grid_id"]) == ["G1", "G2", "G3", "G4"]
    assert set(hand["manager"]) <= {"张三", "李四"}  # only this team's moves
    assert "G2" in set(hand["grid_id"])


def test_a_bare_plan_exports_in_every_format(tmp_path):
    """No customers, sites, districts or areas: every format still writes."""
    full = tiny_plan()
    bare = full.with_(
        customers=None,
        sites=None,
        districts=None,
        managers=full.managers.drop(columns="area"),
        grids=full.grids.drop(columns=["grid_type"]),
    )
    for fmt in FORMATS:
        if fmt in ("png",):
            continue  # same pages as pdf
        paths = export_plan(bare, fmt, tmp_path, previous=rebalanced(full))
        assert paths and all(p.stat().st_size > 0 for p in paths), fmt
    layers = {row[0] for row in pyogrio.list_layers(tmp_path / "测试方案.gpkg")}
    assert "customers" not in layers and "grids" in layers


def test_private_handover_withholds_customers(plan):
    moves = handover(plan, rebalanced(plan)).private(PrivacySettings(aggregates_only=True))
    assert moves.customers.empty and moves.customers_withheld
    summary = moves.summary.set_index("manager")
    assert summary["customers_in"].isna().all()  # unknown, not zero
    assert summary.loc["张三", "grids_in"] == 1
