"""The whole-plan interactive map: layers, escaping, offline assets, language."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from shapely.geometry import box

from gridplan._maps.base import MapSettings, standalone_html
from gridplan._maps.palette import MUTED, colour_indices, territory_colours, touching_pairs
from gridplan._maps.plan_map import plan_map
from gridplan.export.formats import export_plan
from gridplan.plan.privacy import PrivacySettings
from tests.plans import EVIL, tiny_plan


def _remote(html: str) -> list[str]:
    scripts = re.findall(r'<script[^>]*\ssrc="(https?://[^"]+)"', html)
    sheets = re.findall(r'<link[^>]*\shref="(https?://[^"]+)"', html)
    return scripts + sheets


@pytest.fixture(scope="module")
def page():
    return standalone_html(plan_map(tiny_plan(), language="zh"))


def test_hostile_names_render_as_text(page):
    # the district, area and grid district called <script>alert(1)</script> appear only
    # escaped (&lt;script&gt;, inside JSON as \u0026lt;), never as markup
    assert EVIL not in page
    assert "<script>alert(1)" not in page
    assert "\\u0026lt;script\\u0026gt;alert(1)" in page


def test_every_layer_and_a_layer_control(page):
    for name in ("单元", "网格", "责任区", "区域", "行政区界", "基站", "客户"):
        assert name in page or json.dumps(name)[1:-1] in page, name
    assert "L.control.layers" in page
    assert "fitBounds" in page
    assert "markerClusterGroup" in page  # customers clustered
    assert "options.maxZoom" in page  # which clustering needs on a map without tiles


def test_offline_everything_inlined(page):
    assert _remote(page) == []
    assert "cdn" not in " ".join(re.findall(r'src="([^"]+)"', page))
    assert "MarkerCluster" in page  # the plugin's own code and CSS are in the page


def test_inline_script_cannot_be_closed_by_a_name():
    plan = tiny_plan()
    managers = plan.managers.assign(manager=["</script><b>x", "李四", "Bob"])
    grids = plan.grids.assign(manager=plan.grids["manager"].replace("张三", "</script><b>x"))
    html = standalone_html(plan_map(plan.with_(managers=managers, grids=grids)))
    body_scripts = html.split("<script>")
    assert all(part.count("</script>") <= 1 for part in body_scripts)
    assert "<\\/script><b>x" in html  # label data escaped for the script block


def test_english_labels_and_units():
    html = plan_map(tiny_plan(), "population", language="en").get_root().render()
    assert "Grids: Population" in html and "Territories" in html
    html = plan_map(tiny_plan(), "deviation", language="en").get_root().render()
    assert "Deviation from target" in html
    with pytest.raises(KeyError, match="no figure"):
        plan_map(tiny_plan(), "nonsense")
    with pytest.raises(ValueError, match="language"):
        plan_map(tiny_plan(), language="fr")


def test_tile_server_template_and_no_customer_points_when_private(tmp_path):
    settings = MapSettings(tiles="https://tiles.intra.example/{z}/{x}/{y}.png", attribution="IT")
    privacy = PrivacySettings(aggregates_only=True, min_count=5)
    (path,) = export_plan(tiny_plan(), "html", tmp_path, map_settings=settings, privacy=privacy)
    html = path.read_text(encoding="utf-8")
    assert "tiles.intra.example/{z}/{x}/{y}.png" in html
    assert "markerClusterGroup({" not in html  # no customer points
    assert "客户000" not in html


def test_palette_keeps_neighbours_apart_for_60_territories():
    rng = np.random.default_rng(0)
    # 60 irregular territories: a 10 x 6 lattice of jittered rectangles that touch
    xs = np.cumsum(rng.uniform(0.5, 1.5, 11))
    ys = np.cumsum(rng.uniform(0.5, 1.5, 7))
    geoms = [box(xs[i], ys[j], xs[i + 1], ys[j + 1]) for i in range(10) for j in range(6)]
    colours = territory_colours(geoms)
    pairs = touching_pairs(geoms)
    assert len(pairs) > 150  # queen contiguity of the lattice
    assert all(colours[a] != colours[b] for a, b in pairs)
    assert set(colours) <= set(MUTED) and len(set(colours)) >= 4
    assert colour_indices(3, [(0, 1), (1, 2), (0, 2)]).tolist() != [0, 0, 0]
