"""Exports of a plan with an organisation carry every level's codes and names."""

from __future__ import annotations

import pandas as pd
import pyogrio
import pytest

from gridplan.export.formats import export_plan
from tests.plans import ORG_LEVELS, org_staffed_plan


@pytest.fixture(scope="module")
def plan():
    return org_staffed_plan()


def test_geopackage_has_units_levels_and_area_teams(plan, tmp_path):
    (path,) = export_plan(plan, "gpkg", tmp_path)
    layers = {str(r[0]) for r in pyogrio.list_layers(path)}
    assert {"units", "organisation", "area_teams", "staff"} <= layers
    units = pyogrio.read_dataframe(path, layer="units")
    assert units.groupby("level").size().to_dict() == {"branch": 4, "county": 2, "sub_branch": 8}
    grids = pyogrio.read_dataframe(path, layer="grids")
    for lv in ORG_LEVELS:
        assert grids[f"unit_{lv}"].notna().all() and grids[f"unit_{lv}_name"].notna().all()
    areas = pyogrio.read_dataframe(path, layer="areas")
    assert areas["area_manager"].str.startswith("AM").all()
    assert set(areas["unit"]) == {"WS", "WN", "ES", "EN"}
    org = pyogrio.read_dataframe(path, layer="organisation")
    assert list(dict.fromkeys(org["level"])) == ["city", *ORG_LEVELS, "area"]


def test_xlsx_has_a_sheet_per_table_with_unit_names(plan, tmp_path):
    (path,) = export_plan(plan, "xlsx", tmp_path)
    sheets = pd.read_excel(path, sheet_name=None)
    assert {"organisation", "area_teams"} <= set(sheets)
    grids = sheets["grids"]
    assert set(grids["unit_branch_name"]) == {"WS 分局", "WN 分局", "ES 分局", "EN 分局"}
    managers = sheets["managers"]
    assert set(managers["unit"]) == {"WS", "WN", "ES", "EN"}
