"""The one table reader: CSV in UTF-8 (with or without BOM) or GB18030/GBK, and XLSX,
from a path or from an upload's bytes, with spreadsheet row numbers as the index."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from gridplan.errors import InputError
from gridplan.layers import read_polygon_cells, read_table

ROWS = "网格编号,经理,人口\n007,张伟,1200\n008,李娜 ,900\n"


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    p = tmp_path / name
    p.write_bytes(data)
    return p


@pytest.mark.parametrize(
    "encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"], ids=["utf8", "bom", "gbk", "gb18030"]
)
def test_csv_encodings_read_the_same_table(tmp_path, encoding):
    df = read_table(write(tmp_path, "t.csv", ROWS.encode(encoding)))
    assert df.columns.tolist() == ["网格编号", "经理", "人口"]  # no BOM left in the header
    assert df["网格编号"].tolist() == ["007", "008"]  # ids with leading zeros stay text
    assert df["经理"].tolist() == ["张伟", "李娜 "]
    assert df["人口"].tolist() == [1200, 900]
    assert df.index.name == "row" and df.index.tolist() == [2, 3]


def test_gbk_bytes_of_an_upload_and_text_mode(tmp_path):
    data = ROWS.replace(",", ";").encode("gbk")
    df = read_table(data, text=True, name="today.csv")
    assert df["经理"].tolist() == ["张伟", "李娜"]  # text mode strips
    assert df["人口"].tolist() == ["1200", "900"]


def test_row_numbers_count_blank_lines_and_empty_cells_are_missing(tmp_path):
    p = write(tmp_path, "t.csv", b"grid_id,manager\n\nG1,  \nG2,Ann\n")
    df = read_table(p, text=True)
    assert df.index.tolist() == [3, 4]
    assert df["manager"].isna().tolist() == [True, False]


def test_xlsx_from_path_and_bytes(tmp_path):
    p = tmp_path / "t.xlsx"
    table = pd.DataFrame(
        {"网格编号": ["007", "008"], "经理": ["张伟", "李娜"], "人口": [1200, 900]}
    )
    with pd.ExcelWriter(p, engine="openpyxl") as xw:
        table.to_excel(xw, sheet_name="plan", index=False)
        pd.DataFrame().to_excel(xw, sheet_name="empty", index=False)
    df = read_table(p)
    assert df["经理"].tolist() == ["张伟", "李娜"]
    assert df["人口"].tolist() == [1200, 900]
    assert df.index.tolist() == [2, 3]
    text = read_table(p.read_bytes(), text=True, name="t.xlsx")
    assert text["网格编号"].tolist() == ["007", "008"]
    assert text["人口"].tolist() == ["1200", "900"]
    assert read_table(p, sheet="PLAN")["经理"].tolist() == ["张伟", "李娜"]
    with pytest.raises(InputError, match="no sheet 'nope'"):
        read_table(p, sheet="nope")


def test_reading_problems_are_input_errors(tmp_path):
    with pytest.raises(InputError, match="file not found"):
        read_table(tmp_path / "missing.csv")
    with pytest.raises(InputError, match="this is a folder"):
        read_table(tmp_path)
    with pytest.raises(InputError, match="cannot be read as a CSV table"):
        read_table(write(tmp_path, "e.csv", b""))
    with pytest.raises(InputError, match="cannot be read as an XLSX workbook"):
        read_table(write(tmp_path, "bad.xlsx", b"PK\x03\x04 not really a workbook"))


def test_read_polygon_cells_lives_in_layers(tmp_path):
    p = tmp_path / "cells.gpkg"
    gdf = gpd.GeoDataFrame(
        {"cid": ["a", "b"]},
        geometry=[
            shapely.box(126.9, 37.5, 126.91, 37.51),
            shapely.box(126.91, 37.5, 126.92, 37.51),
        ],
        crs="EPSG:4326",
    )
    gdf.to_file(p, driver="GPKG")
    cells = read_polygon_cells(p, "cid")
    assert cells.crs.is_projected
    assert {"area_km2", "x", "y", "district"} <= set(cells.columns)
    assert cells["district"].tolist() == ["cells", "cells"]
    with pytest.raises(InputError, match="no id column 'nope'"):
        read_polygon_cells(p, "nope")
