"""The map book and the KML of a plan with an organisation: a section per branch (its
title map with the areas named and their area managers, then its areas in order), every
level's outlines on the overview; the KML's units folder."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import matplotlib
import pytest
from matplotlib.text import Text

from gridplan.export.kml import kml_document
from gridplan.export.mapbook import book_pages, book_style
from gridplan.plan.model import areas
from gridplan.plan.tables import export_data
from tests.plans import ORG_LEVELS, org_staffed_plan, tiny_plan

KML = "{http://www.opengis.net/kml/2.2}"
BRANCHES = ["EN", "ES", "WN", "WS"]  # the order of the plan's units layer


@pytest.fixture(scope="module")
def plan():
    return org_staffed_plan()


def _texts(fig) -> str:
    return "\n".join(t.get_text() for t in fig.findobj(Text))


@pytest.fixture(scope="module")
def book(plan):
    with matplotlib.rc_context(book_style()):
        return [(page, _texts(fig)) for page, fig in book_pages(plan, language="zh")]


def test_a_section_per_branch_with_its_areas_in_order(plan, book):
    pages = [p for p, _ in book]
    assert pages[0].kind == "overview" and pages[0].section == ""
    sections = [p.section for p in pages if p.kind == "unit"]
    assert sections == BRANCHES
    unit_of = dict(zip(plan.managers["manager"], plan.managers["unit"], strict=True))
    area_of = dict(zip(plan.managers["manager"], plan.managers["area"], strict=True))
    for code in BRANCHES:
        part = [p for p in pages if p.section == code]
        assert part[0].kind == "unit" and part[0].title == f"{code} 分局"
        # then its areas by name, each followed by its managers' pages
        area_pages = [p.title for p in part if p.kind == "area"]
        assert area_pages == [f"区域 {code} 分局 A1", f"区域 {code} 分局 A2"]
        current = None
        for p in part[1:]:
            if p.kind == "area":
                current = p.title.removeprefix("区域 ")
            elif p.kind == "manager":
                man = p.title.split()[1]
                assert unit_of[man] == code and area_of[man] == current
    # every manager has his page, once
    men = [p.title.split()[1] for p in pages if p.kind == "manager"]
    assert sorted(men) == sorted(plan.managers["manager"])


def test_the_section_page_names_its_areas_and_area_managers(plan, book):
    ar = areas(plan)
    for page, text in book:
        if page.kind != "unit":
            continue
        mine = ar[ar["unit"] == page.section]
        assert len(mine) == 2
        for area, lead in zip(mine["area"], mine["area_manager"], strict=True):
            assert area in text and lead in text  # on the map and in the table
            assert f"{area}\n区域经理 {lead}" in text  # the area's label names its lead
        others = ar[ar["unit"] != page.section]
        assert not any(a in text for a in others["area"])


def test_the_overview_shows_every_level_and_lists_areas_by_branch(book):
    _page, text = book[0]
    for label in ("县", "分局", "支局"):
        assert f"\n{label}\n" in f"\n{text}\n"  # the legend's outline per level
    order = [f"{c} 分局 A{i}" for c in BRANCHES for i in (1, 2)]
    positions = [text.find(a) for a in order]
    assert all(p >= 0 for p in positions) and positions == sorted(positions)


def test_a_units_book_and_an_areas_book(plan):
    with matplotlib.rc_context(book_style()):
        unit = [p for p, _ in book_pages(plan, scope=("unit", "WS"))]
        area = [p for p, _ in book_pages(plan, scope=("area", "WS 分局 A2"))]
        with pytest.raises(ValueError, match="scope"):
            next(book_pages(tiny_plan(), scope=("unit", "WS")))
    assert [p.kind for p in unit][:2] == ["unit", "area"] and {p.section for p in unit} == {"WS"}
    assert [p.kind for p in area] == ["area", "manager", "manager"]


def test_a_book_without_an_organisation_has_no_sections():
    with matplotlib.rc_context(book_style()):
        pages = [p for p, _ in book_pages(tiny_plan())]
    assert [p.kind for p in pages] == ["overview", "area", "manager", "manager", "area",
                                       "manager"]  # fmt: skip
    assert {p.section for p in pages} == {""}


def test_kml_has_a_folder_per_level_and_unit_columns_on_grids(plan):
    tree = kml_document(export_data(plan).layers, "org")
    root = ET.fromstring(ET.tostring(tree.getroot()))  # parsed as a reader sees it
    doc = root.find(f"{KML}Document")
    top = [f.findtext(f"{KML}name") for f in doc.findall(f"{KML}Folder")]
    assert top == ["units", "areas", "territories", "grids"]
    units = doc.find(f"{KML}Folder")
    levels = {
        f.findtext(f"{KML}name"): [p.findtext(f"{KML}name") for p in f.findall(f"{KML}Placemark")]
        for f in units.findall(f"{KML}Folder")
    }
    assert list(levels) == list(ORG_LEVELS)
    assert sorted(levels["branch"]) == [f"{c} 分局" for c in BRANCHES]
    assert sorted(levels["county"]) == ["东县", "西县"]
    grid = doc.findall(f"{KML}Folder")[3].find(f"{KML}Placemark")
    data = {d.get("name"): d.findtext(f"{KML}value") for d in grid.iter(f"{KML}Data")}
    for lv in ORG_LEVELS:
        assert data[f"unit_{lv}"] and data[f"unit_{lv}_name"]
