"""The plan map of a plan with an organisation: an outline layer per level (the level
selector), grids coloured by a level's units, unit names in every tooltip."""

from __future__ import annotations

import html
import json

import folium
import pytest

from gridplan._maps.base import standalone_html
from gridplan._maps.org import MAP_OUTLINES, LevelOutlines, org_view, unit_outlines
from gridplan._maps.palette import group_colours, manager_colours, touching_pairs
from gridplan._maps.plan_map import plan_map
from tests.plans import ORG_LEVELS, org_staffed_plan, tiny_plan

LABELS = {"county": "县", "branch": "分局", "sub_branch": "支局"}
N_UNITS = {"county": 2, "branch": 4, "sub_branch": 8}


@pytest.fixture(scope="module")
def plan():
    return org_staffed_plan()


def _layers(m: folium.Map) -> dict[str, folium.GeoJson]:
    return {c.layer_name: c for c in m._children.values() if isinstance(c, folium.GeoJson)}


def _props(layer: folium.GeoJson) -> list[dict]:
    return [f["properties"] for f in layer.data["features"]]


def test_one_outline_layer_per_level_labelled_thicker_above(plan):
    m = plan_map(plan, language="zh")
    layers = _layers(m)
    names = [n for n in layers if n.startswith("边界: ")]
    assert names == [f"边界: {LABELS[lv]}" for lv in ORG_LEVELS]  # top → bottom
    weights = []
    for lv, name in zip(ORG_LEVELS, names, strict=True):
        layer = layers[name]
        props = _props(layer)
        assert len(props) == N_UNITS[lv]
        # the unit's name under the level's label, and its code, in the tooltip
        codes = {p["代码"] for p in props}
        assert codes == set(plan.units.loc[plan.units["level"] == lv, "code"])
        assert all(p[LABELS[lv]].startswith(p["代码"]) or lv == "county" for p in props)
        style = layer.style_function(layer.data["features"][0])
        assert style["fill"] is False and style["color"] == MAP_OUTLINES.colour
        weights.append(style["weight"])
        # only the area level (branch) shows at first; the others are a click away
        assert layer.show == (lv == "branch")
    assert weights == sorted(weights, reverse=True) and weights[0] > weights[-1]
    assert {p["县"] for p in _props(layers["边界: 县"])} == {"西县", "东县"}


def test_the_layer_control_lists_every_level(plan):
    page = standalone_html(plan_map(plan, language="en"))
    assert "L.control.layers" in page
    for lv in ORG_LEVELS:
        assert json.dumps(f"Outlines: {LABELS[lv]}")[1:-1] in page or (
            f"Outlines: {LABELS[lv]}" in page
        )


def test_tooltips_name_the_units_of_every_level(plan):
    layers = _layers(plan_map(plan, language="en"))
    grids = {p["Grid"]: p for p in _props(layers["Grids: Community manager workload (h/month)"])}
    g = plan.grids.set_index("grid_id")
    for gid, p in grids.items():
        for lv in ORG_LEVELS:
            assert html.unescape(p[LABELS[lv]]) == g.loc[gid, f"unit_{lv}_name"]
    terr = {p["Manager"]: p for p in _props(layers["Territories"])}
    unit_of = dict(zip(plan.managers["manager"], plan.managers["unit"], strict=True))
    for man, p in terr.items():
        assert p["分局"] == f"{unit_of[man]} 分局"  # a territory lies in its manager's branch
    areas = _props(layers["Areas"])
    assert all(p["Area manager"].startswith("AM") for p in areas)
    assert all(p["Area"].startswith(p["分局"]) for p in areas)


@pytest.mark.parametrize("column", ["branch", "unit_branch"])
def test_grids_coloured_by_a_level_from_the_one_palette(plan, column):
    m = plan_map(plan, column, language="zh")
    layers = _layers(m)
    (name,) = [n for n in layers if n.startswith("网格")]
    assert name == "网格: 分局"
    fill = {p["网格"]: p["_fill"] for p in _props(layers[name])}
    g = plan.grids
    want = group_colours(g, "unit_branch")
    assert all(fill[gid] == want[u] for gid, u in zip(g["grid_id"], g["unit_branch"], strict=True))
    units = unit_outlines(plan, "branch")
    for a, b in touching_pairs(list(units.geometry)):  # touching branches differ
        assert want[units["code"].iloc[a]] != want[units["code"].iloc[b]]
    legend = [c for c in m._children.values() if type(c).__name__ == "HtmlLegend"]
    assert len(legend) == 1 and all(f"{c} 分局" in legend[0].body for c in want)


def test_a_plan_without_an_organisation_has_no_level_layers():
    plan = tiny_plan()
    assert org_view(plan) is None
    layers = _layers(plan_map(plan, language="en"))
    assert list(layers) == [
        "Cells", "Grids: Community manager workload (h/month)", "Territories", "Areas",
        "District boundaries", "Cell sites",
    ]  # fmt: skip
    with pytest.raises(KeyError, match="no figure"):
        plan_map(plan, "branch")


def test_group_colours_of_managers_are_the_manager_colours(plan):
    assert group_colours(plan.grids, "manager") == manager_colours(plan)


def test_level_weights_are_even_and_decreasing():
    assert LevelOutlines(top_weight=5, bottom_weight=1).weights(3) == [5, 3, 1]
    assert LevelOutlines(top_weight=5, bottom_weight=1).weights(1) == [5]
    assert LevelOutlines().weights(0) == []


def test_the_apps_map_colours_a_level_from_the_one_palette_and_takes_outlines(plan):
    from gridplan.maps import grids_wgs84, level_outlines, plan_grid_map

    g = plan.grids
    shapes = grids_wgs84(g).iloc[::-1]  # the app's shapes need not be in the grids' order
    m = plan_grid_map(g, shapes, "unit_branch", tooltip=("grid_id", "unit_branch"))
    want = group_colours(g, "unit_branch")
    for p in _props(_layers(m)["Grids"]):
        assert p["_fill"] == want[p["unit_branch"]]
    added = level_outlines(m, plan, "zh", shown=["county"])
    assert added == [f"边界: {LABELS[lv]}" for lv in ORG_LEVELS]
    layers = _layers(m)
    assert [layers[n].show for n in added] == [True, False, False]
    assert level_outlines(m, tiny_plan()) == []


def test_the_apps_grid_map_has_the_level_outlines_and_their_selector(plan):
    from gridplan._maps.app_map import grids_wgs84, plan_grid_map

    shapes = grids_wgs84(plan.grids)
    m = plan_grid_map(plan.grids, shapes, "unit_branch", plan=plan, language="zh")
    names = [lay.layer_name for lay in _layers(m).values()]
    assert [n for n in names if n.startswith("边界")] == ["边界: 县", "边界: 分局", "边界: 支局"]
    assert any(isinstance(c, folium.LayerControl) for c in m._children.values())
    plain = plan_grid_map(plan.grids, shapes, "manager")
    assert not any(isinstance(c, folium.LayerControl) for c in plain._children.values())
