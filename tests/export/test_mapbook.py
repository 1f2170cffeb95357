"""The printable map book: the expected pages, rendered, with Chinese text."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
from pypdf import PdfReader

from gridplan.export.fonts import cjk_family
from gridplan.export.formats import export_plan
from gridplan.export.mapbook import book_grid_table, nice_length
from gridplan.plan.privacy import PrivacySettings
from tests.plans import rebalanced, tiny_plan


@pytest.fixture(scope="module")
def book(tmp_path_factory):
    out = tmp_path_factory.mktemp("book")
    plan = tiny_plan()
    (path,) = export_plan(plan, "pdf", out / "book.pdf", previous=rebalanced(plan), language="zh")
    return path


def _texts(path):
    return [page.extract_text() for page in PdfReader(path).pages]


def test_a_cjk_font_is_installed():
    assert cjk_family() is not None, "no CJK font: run scripts/setup.sh (fonts-noto-cjk)"


def test_book_has_overview_areas_managers_and_handover(book):
    texts = _texts(book)
    # overview, area 东区 + 张三 + 李四, area <script>… + Bob, hand-over
    assert len(texts) == 7
    assert "全市总览" in texts[0] and "成都" in texts[0]
    assert "区域 东区" in texts[1]
    assert "社区经理 张三" in texts[2] and "社区经理 李四" in texts[3]
    assert "<script>alert(1)</script>" in texts[4]  # printed as text on the page
    assert "社区经理 Bob" in texts[5]
    assert "交接清单" in texts[6] and "G2" in texts[6] and "G5" in texts[6]
    for t in texts[:6]:
        assert "方案: 测试方案" in t and "日期:" in t
    for t in texts[1:6]:
        assert re.search(r"\n\d+ k?m\n", t) and "\nN\n" in t  # scale bar and north arrow
    # the grid table of 张三 lists its grids and their figures
    assert "G1" in texts[2] and "G2" in texts[2] and "800" in texts[2]


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="poppler-utils not installed")
def test_pdftoppm_renders_every_page(book, tmp_path):
    subprocess.run(["pdftoppm", "-r", "30", "-png", str(book), str(tmp_path / "p")], check=True)
    assert len(list(tmp_path.glob("p-*.png"))) == 7


def test_png_pages_by_manager(tmp_path):
    paths = export_plan(tiny_plan(), "png", tmp_path, by="manager")
    names = sorted(p.name for p in paths)
    assert names == ["manager-Bob_manager-Bob.png", "manager-张三_manager-张三.png",
                     "manager-李四_manager-李四.png"]  # fmt: skip
    assert all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in paths)


def test_pdf_by_area_one_book_each(tmp_path):
    paths = export_plan(tiny_plan(), "pdf", tmp_path, by="area")
    pages = {p.name: len(PdfReader(p).pages) for p in paths}
    assert pages["area-东区.pdf"] == 3  # the area page and its two managers


def test_book_table_groups_segments_and_blanks_small_counts():
    plan = tiny_plan()
    table = book_grid_table(plan).set_index("grid_id")
    fams = [c for c in table.columns if c.startswith("cust_f_")]
    assert (table[fams].sum(axis=1) == table["customers"]).all()
    private = book_grid_table(plan, PrivacySettings(min_count=8)).set_index("grid_id")
    small = table["customers"] < 8
    assert private.loc[small, "customers"].isna().all()
    assert private.loc[~small, "customers"].notna().all()


def test_nice_scale_bar_lengths():
    assert nice_length(10_000) == 2000
    assert nice_length(4_000) == 500
    assert nice_length(60_000) == 10_000
