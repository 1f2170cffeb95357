"""The whole flow on the Seoul demo city: a real plan through every format."""

from __future__ import annotations

from dataclasses import replace

import geopandas as gpd
import matplotlib
import numpy as np
import pandas as pd
import pytest
from pypdf import PdfReader

from gridplan.cells.build import CellsConfig
from gridplan.demo.cities import load_demo
from gridplan.export.formats import export_plan
from gridplan.export.mapbook import book_pages, book_style, write_pdf
from gridplan.plan.pipeline import demo_settings, make_plan
from gridplan.plan.slices import groups

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def plan():
    settings = replace(
        demo_settings(cells=CellsConfig(target_cells=500), time_limit=3), managers_per_area=4
    )
    built, _ = make_plan(load_demo("seoul"), settings)
    return built


def test_every_data_format_round_trips_on_the_demo_city(plan, tmp_path):
    stem = plan.name
    for fmt in ("gpkg", "parquet", "csv", "html"):  # the rest: tests/export/test_formats.py
        assert export_plan(plan, fmt, tmp_path)
    want = plan.grids.set_index("grid_id").sort_index()
    readers = {
        "gpkg": lambda: gpd.read_file(tmp_path / f"{stem}.gpkg", layer="grids"),
        "parquet": lambda: gpd.read_parquet(tmp_path / f"{stem}_grids.parquet"),
    }
    for name, read in readers.items():
        got = read().to_crs(plan.crs).set_index("grid_id").sort_index()
        assert list(got.index) == list(want.index), name
        np.testing.assert_allclose(got["hours_total"], want["hours_total"], rtol=1e-9)
        assert got["manager"].tolist() == want["manager"].tolist()
        assert float(got.geometry.hausdorff_distance(want.geometry, align=True).max()) < 0.05
    att = pd.read_csv(tmp_path / f"{stem}_customers.csv", encoding="utf-8-sig")
    assert len(att) == len(plan.customers)
    assert (att["manager"].fillna("") != "").mean() > 0.99  # nearly every customer has a manager
    html = (tmp_path / f"{stem}.html").read_text(encoding="utf-8")
    assert "markerClusterGroup" in html and len(html) < 15_000_000


def test_area_book_pages_on_the_demo_city(plan, tmp_path):
    area, managers = groups(plan, "area")[0]
    with matplotlib.rc_context(book_style()):
        pages = write_pdf(book_pages(plan, scope=("area", area), language="zh"), tmp_path / "a.pdf")
    kinds = [p.kind for p in pages]
    assert kinds.count("manager") == len(managers) and kinds[0] == "area"
    assert len(PdfReader(tmp_path / "a.pdf").pages) == len(pages)
