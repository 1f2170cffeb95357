"""One palette: a manager has the same colour in the app's map, the HTML map, the map
book and the KML, and touching territories never share one, past 12 managers too."""

from __future__ import annotations

import html
import xml.etree.ElementTree as ET

import folium
import geopandas as gpd
import pytest
from shapely.geometry import box

from gridplan._maps.palette import MUTED, manager_colours, touching_pairs
from gridplan.export.formats import export_plan
from gridplan.export.kml import kml_document
from gridplan.export.mapbook import _context, _page_colours
from gridplan.maps import grids_wgs84, label, plan_grid_map, plan_map
from gridplan.plan.model import territories
from gridplan.plan.privacy import NO_PRIVACY
from tests.plans import CRS, rebalanced, tiny_plan

KML = "{http://www.opengis.net/kml/2.2}"


def _geojson(m: folium.Map, name: str) -> dict:
    """The features of the map's GeoJSON layer called ``name``."""
    (layer,) = [
        c for c in m._children.values() if isinstance(c, folium.GeoJson) and c.layer_name == name
    ]
    return layer.data["features"]


def _app_colours(grids: gpd.GeoDataFrame) -> dict[str, str]:
    """Manager → fill of its grids on the app's by-manager map (one fill per manager)."""
    m = plan_grid_map(grids, grids_wgs84(grids), "manager")
    out: dict[str, set[str]] = {}
    for f in _geojson(m, "Grids"):
        p = f["properties"]
        out.setdefault(html.unescape(p["manager"]), set()).add(p["_fill"])
    assert all(len(fills) == 1 for fills in out.values()), out
    return {man: fills.pop() for man, fills in out.items() if man}


def _html_colours(plan) -> dict[str, str]:
    """Manager → fill of its territory on the exported HTML map."""
    m = plan_map(plan, language="en")
    key = html.escape(label("manager", "en"))
    feats = _geojson(m, html.escape(label("territories", "en")))
    return {html.unescape(f["properties"][key]): f["properties"]["_fill"] for f in feats}


def _kml_colours(root: ET.Element, folder: str = "territories") -> dict[str, str]:
    """Manager → ``#RRGGBB`` of the style of its placemarks in ``folder``."""
    styles = {}
    for st in root.iter(f"{KML}Style"):
        poly = st.find(f"{KML}PolyStyle/{KML}color")
        if poly is None:  # the cell sites' point style
            continue
        abgr = poly.text
        styles[st.get("id")] = f"#{abgr[6:8]}{abgr[4:6]}{abgr[2:4]}"
    for f in root.iter(f"{KML}Folder"):
        if f.find(f"{KML}name").text == folder:
            return {
                pm.find(f"{KML}name").text: styles[pm.find(f"{KML}styleUrl").text[1:]]
                for pm in f.iter(f"{KML}Placemark")
            }
    raise AssertionError(f"no {folder} folder")


def _lower(colours: dict[str, str]) -> dict[str, str]:
    return {k: v.lower() for k, v in colours.items()}


@pytest.mark.parametrize("make", [tiny_plan, lambda: rebalanced(tiny_plan())])
def test_a_manager_has_one_colour_in_the_app_html_book_and_kml(make, tmp_path):
    plan = make()
    want = manager_colours(plan)
    assert set(want) == set(territories(plan)["manager"].astype(str))
    assert manager_colours(territories(plan)) == want  # from territories or grids alike
    assert _app_colours(plan.grids) == want
    assert _html_colours(plan) == want
    (path,) = export_plan(plan, "kml", tmp_path)
    assert _kml_colours(ET.parse(path).getroot()) == _lower(want)
    ctx = _context(plan, "en", NO_PRIVACY)
    assert ctx.colours == want  # the map book's city-wide pages
    for man, colour in want.items():  # and each manager's own page
        assert _page_colours(ctx, [man])[man] == colour
    # an area's page keeps its managers apart (all different colours)
    assert len(set(_page_colours(ctx, list(want)).values())) == len(want)


def _lattice(n_managers: int = 20, cols: int = 12) -> gpd.GeoDataFrame:
    """Grids of 200 m on a lattice; each manager a 2 x 2 block of grids, ``cols`` blocks a
    row (queen contiguity: up to 8 neighbouring territories). With 12 a row, manager
    ``k`` lies above ``k + 12``: a palette cycled every 12 colours gives them one."""
    rows = []
    for k in range(n_managers):
        bx, by = k % cols, k // cols
        for dx in range(2):
            for dy in range(2):
                x, y = 400 * bx + 200 * dx, 400 * by + 200 * dy
                rows.append((f"G{k:02d}{dx}{dy}", f"M{k:02d}", box(x, y, x + 200, y + 200)))
    gid, man, geom = zip(*rows, strict=True)
    return gpd.GeoDataFrame(
        {"grid_id": gid, "manager": man, "hours_total": 1.0}, geometry=list(geom), crs=CRS
    )


def test_touching_territories_never_share_a_colour_past_12_managers():
    grids = _lattice(20)
    terr = grids.dissolve(by="manager", as_index=False)
    pairs = touching_pairs(terr.geometry.values)
    assert len(terr) == 20 and len(pairs) > 30 and (0, 12) in pairs
    app = _app_colours(grids)
    assert set(app) == set(terr["manager"])
    assert set(app.values()) <= set(MUTED)
    names = terr["manager"].tolist()
    assert all(app[names[a]] != app[names[b]] for a, b in pairs)
    # the KML (territories and grids) takes the same colours
    tree = kml_document({"territories": terr, "grids": grids}, "lattice")
    root = ET.fromstring(ET.tostring(tree.getroot()))  # as written: namespaced
    assert _kml_colours(root) == _lower(app)
    by_grid = _kml_colours(root, "grids")
    man_of = dict(zip(grids["grid_id"], grids["manager"], strict=True))
    assert all(colour == app[man_of[g]].lower() for g, colour in by_grid.items())
