"""Organisation units: the three input forms give the same units and the same cell
assignment; every bad input is one InputError naming all its problems (file, rows, fix)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import pytest
import shapely

from gridplan.cells.build import CellsConfig, build_cells
from gridplan.errors import InputError
from gridplan.layers.model import Organisation
from gridplan.layers.organisation import assign_units, read_organisation, units_layer
from gridplan.layers.read import load_layers
from tests import org_city

CELLS = CellsConfig(lattice="square", square_size_m=500.0)


@pytest.fixture(scope="module")
def city(tmp_path_factory):
    return org_city.write_city(tmp_path_factory.mktemp("org"))


@pytest.fixture(scope="module")
def layers(city):
    return load_layers(
        boundary=city["boundary"], population=city["population"], districts=city["districts"]
    )


def _forms(city, layers) -> dict[str, Organisation]:
    return {
        "a": read_organisation({lv: city[lv] for lv in org_city.LEVELS}, crs=layers.crs),
        "b": read_organisation(city["units_b"], crs=layers.crs),
        "c": read_organisation(
            city["units_c"], crs=layers.crs, districts=layers.districts["district"]
        ),
    }


def test_three_forms_read_the_same_units_and_assign_cells_alike(city, layers):
    forms = _forms(city, layers)
    key = ["level", "code"]
    first = forms["a"].units.sort_values(key).reset_index(drop=True)
    assert first["level"].value_counts().to_dict() == {"county": 2, "branch": 4, "sub_branch": 8}
    columns = None
    for name, org in forms.items():
        assert org.levels == org_city.LEVELS, name
        assert org.lowest == "sub_branch"
        assert org.column("branch") == "unit_branch"
        assert org.name_column("branch") == "unit_branch_name"
        got = org.units.sort_values(key).reset_index(drop=True)
        pd.testing.assert_frame_equal(got[first.columns], first, check_dtype=False)
        cells = build_cells(layers.with_(organisation=org), CELLS).cells
        unit_cols = [c for c in cells.columns if c.startswith("unit_")]
        if columns is None:
            columns = cells[unit_cols]
        else:
            pd.testing.assert_frame_equal(cells[unit_cols], columns)
    assert list(columns.columns) == [
        "unit_county",
        "unit_county_name",
        "unit_branch",
        "unit_branch_name",
        "unit_sub_branch",
        "unit_sub_branch_name",
    ]
    assert (columns != "").all().all()
    # the chain holds: every sub-branch lies in its branch and county
    units = forms["a"].units.set_index(["level", "code"])["parent"]
    for sub, branch in columns[["unit_sub_branch", "unit_branch"]].drop_duplicates().values:
        assert units[("sub_branch", sub)] == branch


def test_cells_carry_units_and_edges_across_units_are_flagged(layers, city):
    org = read_organisation({lv: city[lv] for lv in org_city.LEVELS}, crs=layers.crs)
    cs = build_cells(layers.with_(organisation=org), CELLS)
    unit = cs.cells["unit_sub_branch"].to_numpy()
    rows = cs.adjacency.rows()
    expect = unit[rows] != unit[cs.adjacency.indices]
    assert np.array_equal(cs.adjacency.crosses_unit, expect)
    assert expect.any() and not expect.all()
    # a cell's unit is the sub-branch that contains its centre
    subs = org_city.units_frames()["sub_branch"]
    x, y = cs.cells["x"].to_numpy(), cs.cells["y"].to_numpy()
    for code, geom in zip(subs["code"], subs.geometry, strict=True):
        inside = shapely.contains_xy(geom, x, y)
        assert (unit[inside] == code).all()


def test_parents_are_derived_by_overlap_when_the_column_is_missing(layers):
    frames = org_city.units_frames()
    bare = {lv: g.drop(columns="parent") for lv, g in frames.items()}
    org = read_organisation(bare, crs=layers.crs)
    want = pd.concat(frames.values())[["code", "parent"]].set_index("code")["parent"]
    got = org.units.set_index("code")["parent"]
    assert got.to_dict() == want.to_dict()


def test_polygons_in_another_crs_are_reprojected(layers):
    frames = {lv: g.to_crs(4326) for lv, g in org_city.units_frames().items()}
    org = read_organisation(frames, crs=layers.crs)
    assert pyproj.CRS(org.polygons.crs).equals(layers.crs)
    cells = build_cells(layers.with_(organisation=org), CELLS).cells
    assert set(cells["unit_sub_branch"]) == set(frames["sub_branch"]["code"])


def test_chinese_headers_and_level_words(tmp_path, layers):
    table = org_city.district_table()
    table = table.rename(
        columns={
            "district": "区县",
            "county": "county",
            "branch": "分局",
            "branch_name": "分局_name",
            "sub_branch": "支局",
            "sub_branch_name": "支局_name",
        }
    )
    path = tmp_path / "units.csv"
    table.to_csv(path, index=False, encoding="gbk")
    org = read_organisation(path, districts=layers.districts["district"])
    assert org.levels == ("county", "branch", "sub_branch")
    assert org.labels["branch"] == "分局"
    assert org.label("sub_branch") == "支局"
    frame = org_city.units_frames()["branch"].rename(
        columns={"code": "编码", "name": "名称", "parent": "上级"}
    )
    org2 = read_organisation(
        {"county": org_city.units_frames()["county"], "分局": frame}, crs=layers.crs
    )
    assert org2.levels == ("county", "branch")
    assert set(org2.level_units("branch")["parent"]) == {"C0", "C1"}


def test_units_layer_dissolves_the_cells_per_unit(layers, city):
    org = read_organisation({lv: city[lv] for lv in org_city.LEVELS}, crs=layers.crs)
    cells = build_cells(layers.with_(organisation=org), CELLS).cells
    out = units_layer(org, cells)
    assert list(out.columns) == ["level", "code", "name", "parent", "geometry"]
    assert len(out) == 14
    subs = org_city.units_frames()["sub_branch"].set_index("code")
    for _, row in out[out["level"] == "sub_branch"].iterrows():
        assert row.geometry.symmetric_difference(subs.geometry[row["code"]]).area < 1.0


def test_cells_outside_every_unit_take_the_nearest_and_lonely_units_are_noted(layers):
    frames = org_city.units_frames()
    sub = frames["sub_branch"].copy()
    sub.loc[0, "geometry"] = sub.geometry[0].buffer(-300)  # leaves a ring of cells uncovered
    extra = gpd.GeoDataFrame(
        {"code": ["S999"], "name": ["Far"], "parent": ["B00"]},
        geometry=[shapely.box(600_000, 3_600_000, 601_000, 3_601_000)],
        crs=org_city.CRS,
    )
    sub = pd.concat([sub, extra], ignore_index=True)
    org = read_organisation({**frames, "sub_branch": sub}, crs=layers.crs)
    cells = build_cells(layers.with_(organisation=org), CELLS).cells
    out = assign_units(cells, org)
    notes = " ".join(out.attrs["notes"])
    assert "overlap no cell (S999)" in notes
    assert (out["unit_sub_branch"] != "").all()
    assert "S999" not in set(out["unit_sub_branch"])


def test_a_district_missing_from_the_table_is_an_error(city, layers):
    table = org_city.district_table().iloc[1:]
    with pytest.raises(InputError) as err:
        read_organisation(table, districts=layers.districts["district"], name="units.csv")
    (p,) = err.value.problems
    assert "D000" in p.what and "in no unit" in p.what
    assert p.where == "units.csv"
    # the same through the cells: their district is in no unit
    org = read_organisation(table, name="units.csv")
    with pytest.raises(InputError, match="D000"):
        build_cells(layers.with_(organisation=org), CELLS)


def _one_layer_with(rows: list[tuple[str, str, str, str]]) -> gpd.GeoDataFrame:
    geoms = [shapely.box(org_city.X0 + i, org_city.Y0, org_city.X0 + i + 1, 1e6) for i in range(9)]
    frame = pd.DataFrame(rows, columns=["level", "code", "name", "parent"])
    return gpd.GeoDataFrame(frame, geometry=geoms[: len(rows)], crs=org_city.CRS)


def test_every_problem_of_one_layer_in_one_error(tmp_path):
    gdf = _one_layer_with(
        [
            ("county", "C0", "County 0", ""),
            ("county", "C0", "County 0 again", ""),  # duplicate code
            ("branch", "B0", "Branch 0", "C0"),
            ("branch", "B1", "Branch 1", "C9"),  # unknown parent
            ("branch", "B2", "Branch 2", ""),  # no parent at a non-top level
            ("Sub Branch!", "S0", "Sub 0", "B0"),  # bad level key
        ]
    )
    path = tmp_path / "units.gpkg"
    gdf.to_file(path)
    with pytest.raises(InputError) as err:
        read_organisation(path)
    whats = [p.what for p in err.value.problems]
    assert len(whats) == 1 and "bad level key 'Sub Branch!'" in whats[0]
    gdf = gdf.iloc[:5]
    gdf.to_file(path)
    with pytest.raises(InputError) as err:
        read_organisation(path)
    problems = err.value.problems
    text = str(err.value)
    assert len(problems) == 3, text
    assert "duplicate code within level county: C0" in text
    assert "unknown parent C9 at level branch" in text
    assert "level branch (not the top level) without a parent" in text
    for p in problems:
        assert p.where.startswith("units.gpkg, feature") and p.fix


def test_levels_in_a_cycle_are_an_error():
    gdf = _one_layer_with(
        [
            ("county", "C0", "County 0", "B0"),
            ("branch", "B0", "Branch 0", "C0"),
        ]
    )
    with pytest.raises(InputError, match="cycle"):
        read_organisation(gdf, name="units.gpkg")


def test_bad_form_a_inputs_are_all_reported(tmp_path, layers):
    frames = org_city.units_frames()
    empty = frames["county"].iloc[:0]
    no_code = frames["branch"].drop(columns="code")
    sub = frames["sub_branch"].copy()
    sub.loc[0, "parent"] = "B77"
    sub.loc[1, "parent"] = ""
    with pytest.raises(InputError) as err:
        read_organisation({"county": empty, "branch": no_code, "3rd": sub})
    text = str(err.value)
    assert "empty" in text
    assert "no code column" in text
    assert "bad level key '3rd'" in text
    with pytest.raises(InputError) as err:
        read_organisation({**frames, "sub_branch": sub}, crs=layers.crs)
    text = str(err.value)
    assert len(err.value.problems) == 2, text
    assert "unknown parent B77 at level sub_branch" in text
    assert "sub_branch (not the top level) without a parent" in text


def test_bad_table_inputs_are_all_reported(tmp_path):
    table = org_city.district_table()
    table.loc[0, "branch"] = ""  # a district without a unit
    table.loc[1, "branch"] = "B10"  # branch B10 now lies in county C0 and C1
    path = tmp_path / "units.csv"
    table.to_csv(path, index=False)
    with pytest.raises(InputError) as err:
        read_organisation(path)
    text = str(err.value)
    assert "a district without a unit at level branch" in text
    assert "units.csv, row 2 (column 'branch')" in text  # spreadsheet rows: header = 1
    assert "unit B10 at level branch has several parents (C0, C1)" in text
    assert "units.csv, rows 3, 6, 7" in text


def test_a_file_of_unknown_form_says_what_it_needs(tmp_path):
    path = tmp_path / "units.csv"
    pd.DataFrame({"code": ["a"], "name": ["b"]}).to_csv(path, index=False)
    with pytest.raises(InputError, match="'district' column"):
        read_organisation(path)


def test_units_of_another_city_are_an_error(layers):
    frames = {
        lv: g.set_geometry(g.translate(300_000, 0)) for lv, g in org_city.units_frames().items()
    }
    org = read_organisation(frames, crs=layers.crs)
    with pytest.raises(InputError, match="no cell overlaps any sub_branch unit"):
        build_cells(layers.with_(organisation=org), CELLS)
