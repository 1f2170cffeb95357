"""Data page: customers per tier (table and chart), the column mapping used and the tier
file's assumptions not yet confirmed, for uploaded customers and the demo (AppTest)."""

from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from streamlit.testing.v1 import AppTest

from gridplan.layers.read import load_layers
from gridplan.layers.validate import ValidationReport
from tests.cli.test_cli import _tiny_city

APP = str(Path(__file__).resolve().parents[2] / "app.py")


@pytest.fixture(autouse=True)
def workspace_env(tmp_path, monkeypatch):
    monkeypatch.setenv("GRIDPLAN_WORKSPACE", str(tmp_path / "workspace.sqlite"))


def _uploaded(tmp_path):
    paths = _tiny_city(tmp_path)
    pts = gpd.GeoSeries([shapely.Point(580_500, 4_500_500)], crs=32618).to_crs(4326)
    pd.DataFrame(
        {
            "客户编号": ["C1", "C2", "C3", "C4"],
            "经度": float(pts.x[0]),
            "纬度": float(pts.y[0]),
            "客户类型": ["VIP", "VIP", "集团", "公众"],
            "月消费": [3000.01, 665.99, 20000, 58],
            "手机数": [None, None, 500, None],
        }
    ).to_csv(paths["customers"], index=False, encoding="gb18030")
    report = ValidationReport()
    layers = load_layers(**paths, report=report)
    return layers, report.customers


def _app_on_upload(tmp_path) -> AppTest:
    """The app with the uploaded tiny city (and its tiered customers) loaded, run once."""
    layers, tiered = _uploaded(tmp_path)
    at = AppTest.from_file(APP, default_timeout=240)
    at.session_state["source"] = "upload"
    at.session_state["uploaded_layers"] = layers
    at.session_state["customer_tiers"] = tiered
    at.session_state["lattice"] = "square"
    return at.run()


def test_uploaded_customers_show_tiers_and_assumptions(tmp_path):
    at = _app_on_upload(tmp_path)
    assert not at.exception, at.exception
    assert "Customers per tier" in [h.value for h in at.subheader]
    table = next(d.value for d in at.dataframe if "segment" in d.value.columns)
    counts = dict(zip(table["segment"], table["customers"], strict=True))
    assert counts["vip_diamond"] == 1 and counts["group_a"] == 1 and counts["public"] == 2
    captions = " ".join(c.value for c in at.caption)
    assert "4 customers; 4 tiers derived" in captions
    assert "1 vip customers are below every vip tier and counted as public" in captions
    assert "customer_id = 客户编号" in captions
    assert any(e.label.startswith("Assumptions not yet confirmed (14)") for e in at.expander)
    notes = next(d.value for d in at.dataframe if "text" in d.value.columns)
    assert "large.tiers.large_crown" in set(notes["key"])


def test_demo_city_shows_tiers_of_its_synthetic_customers():
    at = AppTest.from_file(APP, default_timeout=240)
    at.session_state["h3res"] = 8
    at.run()
    assert not at.exception, at.exception
    assert "Customers per tier" in [h.value for h in at.subheader]
    table = next(d.value for d in at.dataframe if "segment" in d.value.columns)
    assert table["customers"].sum() > 1000 and (table["customers"] > 0).all()


def test_the_plan_keeps_the_customer_columns_it_was_read_with(tmp_path):
    import json

    at = _app_on_upload(tmp_path)
    at.switch_page("ui/grids_page.py").run()
    at.number_input(key="f_pop").set_value(1.0)
    at.number_input(key="f_cust").set_value(0.0)
    at.button(key="run_partition").click().run()
    assert not at.exception, at.exception
    plan = at.session_state["history"].current
    assert json.loads(plan.meta["customer_columns"])["spend"] == "月消费"
    assert plan.meta["customer_tiers"].endswith("customer_tiers.yaml")
