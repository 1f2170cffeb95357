"""st_folium events → selections (pure functions of ui.map_events)."""

import geopandas as gpd
from shapely.geometry import box

from ui.map_events import (
    cells_in_polygon,
    cells_in_rectangle,
    clicked_point,
    drawn_polygon,
    grid_at,
    new_click,
    toggle,
)

GRIDS = gpd.GeoDataFrame(
    {"grid_id": ["A", "B"]}, geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1)], crs="EPSG:4326"
)
CELLS = gpd.GeoDataFrame(
    {"cell_id": ["c1", "c2", "c3"]},
    geometry=[box(0, 0, 0.5, 0.5), box(0.5, 0, 1, 0.5), box(1.5, 0.5, 2, 1)],
    crs="EPSG:4326",
)


def test_clicked_point_prefers_feature_clicks_and_ignores_junk():
    assert clicked_point(None) is None
    assert clicked_point({"last_clicked": None}) is None
    assert clicked_point({"last_clicked": {"lat": 0.5, "lng": 1.5}}) == (1.5, 0.5)
    both = {"last_object_clicked": {"lat": 1, "lng": 2}, "last_clicked": {"lat": 3, "lng": 4}}
    assert clicked_point(both) == (2.0, 1.0)
    assert clicked_point({"last_clicked": {"lat": "x", "lng": 1}}) is None
    assert clicked_point({"last_clicked": {"lat": 95, "lng": 1}}) is None


def test_new_click_only_once():
    ev = {"last_clicked": {"lat": 0.5, "lng": 0.5}}
    assert new_click(ev, None) == (0.5, 0.5)
    assert new_click(ev, (0.5, 0.5)) is None  # st_folium repeats the last click
    assert new_click({"last_clicked": {"lat": 0.5, "lng": 1.5}}, (0.5, 0.5)) == (1.5, 0.5)


def test_grid_at_point_and_near_miss():
    assert grid_at(GRIDS, 0.2, 0.2) == "A"
    assert grid_at(GRIDS, 1.7, 0.9) == "B"
    assert grid_at(GRIDS, 2.0002, 0.5) == "B"  # a click just outside the edge
    assert grid_at(GRIDS, 5, 5) is None


def test_drawn_polygon_and_cells_inside():
    feat = {"type": "Feature", "geometry": box(0, 0, 1.2, 1).__geo_interface__}
    poly = drawn_polygon({"last_active_drawing": feat})
    assert sorted(cells_in_polygon(CELLS, poly)) == ["c1", "c2"]
    assert drawn_polygon({"all_drawings": [feat]}).equals(poly)
    point = {"geometry": {"type": "Point", "coordinates": [0, 0]}}
    assert drawn_polygon({"last_active_drawing": point}) is None
    bad = {"geometry": {"type": "Polygon", "coordinates": "nope"}}
    assert drawn_polygon({"last_active_drawing": bad}) is None


def test_rectangle_in_any_corner_order():
    assert cells_in_rectangle(CELLS, 2, 1, 1.2, 0) == ["c3"]
    assert cells_in_rectangle(CELLS, 10, 10, 11, 11) == []


def test_toggle_keeps_order():
    assert toggle(["A", "B"], "C") == ["A", "B", "C"]
    assert toggle(["A", "B", "C"], "B") == ["A", "C"]
