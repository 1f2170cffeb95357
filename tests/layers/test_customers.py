"""Customers as operators export them: Chinese/English headers, encodings, a mapping,
tiers derived at every boundary, contradictions warned, every problem in one error."""

import codecs

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from gridplan.errors import InputError
from gridplan.layers.customers import (
    CUSTOMER_SYNONYMS,
    TYPE_NAMES,
    customers_from_table,
)
from gridplan.layers.read import load_layers, read_customers
from gridplan.layers.validate import Notice, ValidationReport

LON, LAT = 121.47, 31.23

ZH = "客户编号,经度,纬度,客户类型,月消费,手机数,行业,宽带,到期月\n"
ROWS = [
    # id, type, spend (CNY/month), handsets, expected segment
    ("C01", "VIP", "3000.01", "", "vip_diamond"),
    ("C02", "VIP", "3000", "", "vip_gold"),
    ("C03", "VIP", "2999.99", "", "vip_gold"),
    ("C04", "vip", "1500", "", "vip_gold"),
    ("C05", "VIP客户", "1499.99", "", "vip_silver"),
    ("C06", "VIP", "666", "", "vip_silver"),
    ("C07", "VIP", "665.99", "", "public"),
    ("C08", "集团", "20000", "500", "group_a"),
    ("C09", "集团客户", "9000", "499", "group_b"),
    ("C10", "group", "5000", "100", "group_b"),
    ("C11", "Group", "900", "99", "group_c"),
    ("C12", "政企", "500", "10", "group_c"),
    ("C13", "集团", "300", "9", "public"),
    ("C14", "商业", "1500", "", "business_a_plus"),
    ("C15", "商业客户", "1499.99", "", "business_a"),
    ("C16", "business", "299.99", "", "business_c"),
    ("C17", "大客户", "3000", "", "large_crystal"),
    ("C18", "大客户", "10000", "", "large_silver"),
    ("C19", "large", "2999.99", "", "public"),
    ("C20", "公众", "58", "", "public"),
    ("C21", "个人客户", "5000", "", "public"),
]


def _zh_text() -> str:
    lines = [ZH]
    for i, (cid, kind, spend, hs, _) in enumerate(ROWS):
        flag = "是" if i % 2 else "否"
        lines.append(f"{cid},{LON},{LAT},{kind},{spend},{hs},零售,{flag},2026-0{1 + i % 9}\n")
    return "".join(lines)


EXPECTED = {cid: seg for cid, _, _, _, seg in ROWS}


def _check(layer):
    got = dict(zip(layer.customers["customer_id"], layer.customers["segment"], strict=True))
    assert got == EXPECTED
    assert layer.derived == len(ROWS)
    assert dict(layer.below) == {"group": 1, "vip": 1, "large": 1, "business": 0}
    assert layer.counts.sum() == len(ROWS)
    assert layer.counts["vip_gold"] == 3 and layer.counts["public"] == 5
    assert layer.mapping["customer_id"] == "客户编号" and layer.mapping["spend"] == "月消费"
    assert layer.mapping["handsets"] == "手机数" and layer.mapping["type"] == "客户类型"
    cust = layer.customers
    assert cust.crs.to_epsg() == 4326
    assert cust.geometry.x.iloc[0] == pytest.approx(LON)
    assert cust.loc[cust["customer_id"] == "C08", "type"].item() == "group"
    assert cust["broadband"].tolist()[:2] == [False, True]
    assert cust["expiry_month"].iloc[0] == "2026-01"
    assert set(cust["industry"]) == {"零售"}


@pytest.mark.parametrize(
    ("name", "encode"),
    [
        ("utf8.csv", lambda t: t.encode("utf-8")),
        ("bom.csv", lambda t: codecs.BOM_UTF8 + t.encode("utf-8")),
        ("gbk.csv", lambda t: t.encode("gbk")),
        ("gb18030.csv", lambda t: t.encode("gb18030")),
    ],
)
def test_chinese_headers_every_encoding_every_boundary(tmp_path, name, encode):
    path = tmp_path / name
    path.write_bytes(encode(_zh_text()))
    _check(read_customers(path))


def test_xlsx_and_english_headers(tmp_path):
    table = pd.DataFrame(
        [(cid, LON, LAT, kind, float(spend), hs) for cid, kind, spend, hs, _ in ROWS],
        columns=["Customer ID", "Longitude", "Latitude", "Customer Type", "ARPU", "Handsets"],
    )
    table["Handsets"] = pd.to_numeric(table["Handsets"])
    path = tmp_path / "crm.xlsx"
    table.to_excel(path, index=False)
    layer = read_customers(path)
    got = dict(zip(layer.customers["customer_id"], layer.customers["segment"], strict=True))
    assert got == EXPECTED
    assert layer.mapping["spend"] == "ARPU" and layer.mapping["lon"] == "Longitude"


def test_explicit_mapping_for_unrecognised_headers(tmp_path):
    text = _zh_text().replace("客户编号", "编号", 1).replace("月消费", "本月出账", 1)
    path = tmp_path / "crm.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as exc:
        read_customers(path)
    msg = str(exc.value)
    assert "no customer_id column" in msg and "no spend column" in msg
    layer = read_customers(path, columns={"customer_id": "编号", "本月出账": "spend"})
    assert layer.mapping["customer_id"] == "编号" and layer.mapping["spend"] == "本月出账"
    assert len(layer.customers) == len(ROWS)


def test_contradicting_segment_is_warned_naming_rows(tmp_path):
    lines = ["customer_id,lon,lat,type,segment,spend\n"]
    for i in range(14):  # 12 VIP gold coded with a silver spend, 2 right
        spend = 900 if i < 12 else 2000
        lines.append(f"c{i},{LON},{LAT},VIP,vip_gold,{spend}\n")
    lines.append(f"p1,{LON},{LAT},,公众客户,58\n")  # a label, no type: kept
    lines.append(f"d1,{LON},{LAT},VIP,,3500\n")  # blank segment: derived
    path = tmp_path / "crm.csv"
    path.write_text("".join(lines), encoding="utf-8")
    layer = read_customers(path)
    assert layer.derived == 1
    assert list(layer.customers["segment"])[-3:] == ["vip_gold", "public", "vip_diamond"]
    assert (layer.customers["segment"].iloc[:14] == "vip_gold").all()  # the given code is kept
    (warning,) = layer.warnings
    assert isinstance(warning, Notice)
    assert warning.what.startswith("12 customers carry a segment that contradicts")
    assert "vip_gold (derived vip_silver)" in warning.what
    assert warning.where == "crm.csv, rows 2, 3, 4, 5, 6, 7, 8, 9, 10, 11 (and 2 more)"


def test_segment_without_type_checks_spend_in_its_family():
    table = pd.DataFrame(
        {
            "customer_id": ["a", "b", "c"],
            "segment": ["large_crystal", "group_b", "vip_silver"],
            "spend": [50000.0, 100.0, 700.0],
            "lon": LON,
            "lat": LAT,
        }
    )
    layer, problems = customers_from_table(table, "t.csv")
    assert layer is not None
    (warning,) = problems
    assert "large_crystal (derived large_platinum)" in warning.what
    assert warning.where == "t.csv, row 0"  # group_b: no handsets, not checked


def test_bad_input_lists_every_problem(tmp_path):
    text = (
        "客户编号,经度,纬度,客户类型,月消费,手机数\n"
        "C1,,31.2,VIP,abc,\n"  # row 2: spend not a number, no lon
        "C2,121.4,31.2,星级,100,-3\n"  # row 3: unknown type, negative handsets
        "C3,121.4,31.2,集团,100,\n"  # row 4: a group without handsets
        "C3,121.4,31.2,公众,1.5e1,2.5\n"  # row 5: duplicate id, fractional handsets
    )
    path = tmp_path / "bad.csv"
    path.write_bytes(text.encode("gbk"))
    with pytest.raises(InputError) as exc:
        read_customers(path)
    got = {(p.what, p.where) for p in exc.value.problems}
    assert got == {
        ("duplicate customer_id", "bad.csv, rows 4, 5"),
        ("spend is not a number ('abc')", "bad.csv, row 2"),
        ("handsets is negative", "bad.csv, row 3"),
        ("handsets is not a whole number", "bad.csv, row 5"),
        ("customer type that maps to nothing ('星级')", "bad.csv, row 3"),
        ("handsets missing for group clients (tiered by handsets)", "bad.csv, row 4"),
        ("longitude/latitude missing", "bad.csv, row 2"),
    }
    assert all(p.fix for p in exc.value.problems)


def test_ambiguous_headers_and_a_header_mapped_twice(tmp_path):
    path = tmp_path / "two.csv"
    path.write_text(f"id,lon,lat,type,ARPU,月消费\n1,{LON},{LAT},VIP,700,700\n", encoding="utf-8")
    with pytest.raises(InputError) as exc:
        read_customers(path)
    (problem,) = exc.value.problems
    assert problem.what == "2 headers match the field spend: 'ARPU', '月消费'"
    assert "customers: {spend: ARPU}" in problem.fix
    with pytest.raises(InputError) as exc:
        read_customers(path, columns={"spend": "ARPU", "handsets": "ARPU"})
    assert "the header 'ARPU' is mapped to 2 fields (spend, handsets)" in str(exc.value)
    layer = read_customers(path, columns={"spend": "月消费"})
    assert layer.customers["segment"].tolist() == ["vip_silver"]


def test_field_named_header_wins_over_a_synonym(tmp_path):
    path = tmp_path / "ids.csv"
    path.write_text(f"id,customer_id,lon,lat,type,spend\n7,c7,{LON},{LAT},公众,5\n", "utf-8")
    layer = read_customers(path)
    assert layer.mapping["customer_id"] == "customer_id"
    assert "id" in layer.customers.columns  # other columns are kept


def test_synonyms_are_disjoint_and_types_too():
    seen: dict[str, str] = {}
    for field, names in CUSTOMER_SYNONYMS.items():
        for n in names:
            assert seen.setdefault(n.casefold(), field) == field, n
    types: dict[str, str] = {}
    for fam, names in TYPE_NAMES.items():
        for n in names:
            assert types.setdefault(n.casefold(), fam) == fam, n


def test_load_layers_derives_tiers_and_reports_them(tmp_path):
    box = shapely.box(LON - 0.05, LAT - 0.05, LON + 0.05, LAT + 0.05)
    gpd.GeoDataFrame({"name": ["c"]}, geometry=[box], crs=4326).to_file(tmp_path / "b.gpkg")
    gpd.GeoDataFrame({"population": [100.0]}, geometry=[box], crs=4326).to_file(tmp_path / "p.gpkg")
    (tmp_path / "crm.csv").write_bytes(codecs.BOM_UTF8 + _zh_text().encode("utf-8"))
    report = ValidationReport()
    layers = load_layers(
        boundary=tmp_path / "b.gpkg",
        population=tmp_path / "p.gpkg",
        customers=tmp_path / "crm.csv",
        report=report,
    )
    cust = layers.customers
    assert dict(zip(cust["customer_id"], cust["segment"], strict=True)) == EXPECTED
    assert report.customers.counts["vip_gold"] == 3
    assert report.customers.mapping["lat"] == "纬度"
    assert layers.customers.crs.is_projected  # in the city's UTM zone like every layer


def test_load_layers_collects_customer_and_other_problems(tmp_path):
    box = shapely.box(LON - 0.05, LAT - 0.05, LON + 0.05, LAT + 0.05)
    gpd.GeoDataFrame({"name": ["c"]}, geometry=[box], crs=4326).to_file(tmp_path / "b.gpkg")
    (tmp_path / "crm.csv").write_text(f"id,lon,lat,type,spend\n1,{LON},{LAT},xx,5\n", "utf-8")
    with pytest.raises(InputError) as exc:
        load_layers(boundary=tmp_path / "b.gpkg", population=None, customers=tmp_path / "crm.csv")
    whats = [p.what for p in exc.value.problems]
    assert "customer type that maps to nothing ('xx')" in whats
    assert "no population layer given" in whats


def test_geodataframe_with_segments_is_left_to_the_validator():
    gdf = gpd.GeoDataFrame(
        {"customer_id": ["a"], "segment": ["public"], "spend": [5.0]},
        geometry=[shapely.Point(LON, LAT)],
        crs=4326,
    )
    box = shapely.box(LON - 0.05, LAT - 0.05, LON + 0.05, LAT + 0.05)
    report = ValidationReport()
    layers = load_layers(
        boundary=gpd.GeoDataFrame(geometry=[box], crs=4326),
        population=gpd.GeoDataFrame({"population": [1.0]}, geometry=[box], crs=4326),
        customers=gdf,
        report=report,
    )
    assert report.customers is None and len(layers.customers) == 1


def test_synonym_tables_are_documented():
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "data" / "README.md").read_text("utf-8")
    for field, names in CUSTOMER_SYNONYMS.items():
        assert f"| `{field}` | {', '.join(names)} |" in text, field
    for fam, names in TYPE_NAMES.items():
        assert f"| {fam} | {', '.join(names)} |" in text, fam
