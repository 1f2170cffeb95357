import re

import geopandas as gpd
import numpy as np
import pytest
import shapely

from gridplan._maps.base import (
    OFFLINE,
    MapSettings,
    cells_map,
    choropleth_colours,
    legend_caption,
    publish_assets,
    standalone_html,
)


def _cells():
    return gpd.GeoDataFrame(
        {
            "cell_id": ["a", "b", "c"],
            "district": ["<script>alert(1)</script>", "武侯区", "Queens"],
            "population": [10.0, 2500.0, 90.5],
        },
        geometry=[
            shapely.box(580_000 + i * 500, 4.5e6, 580_500 + i * 500, 4.5e6 + 500) for i in range(3)
        ],
        crs=32618,
    )


def test_names_are_html_escaped():
    html = cells_map(_cells(), tooltip_fields=["district"]).get_root().render()
    assert "<script>alert(1)</script>" not in html
    assert "\\u0026lt;script\\u0026gt;" in html  # escaped text inside the GeoJSON


def test_chinese_names_survive():
    html = cells_map(_cells(), tooltip_fields=["district"]).get_root().render()
    assert "武侯区" in html or "\\u6b66\\u4faf\\u533a" in html


def test_legend_shows_units():
    html = cells_map(_cells(), "population").get_root().render()
    assert "population (persons)" in html
    assert legend_caption("spend") == "spend (CNY/month)"


def test_map_is_in_wgs84_and_fitted_to_city():
    html = cells_map(_cells()).get_root().render()
    # the cells are given in UTM 18N metres; the map must be fitted to their lon/lat
    numbers = re.search(r"fitBounds\(\s*\[\[([-\d.]+), ([-\d.]+)\], \[([-\d.]+), ([-\d.]+)\]", html)
    south, west, north, east = map(float, numbers.groups())
    minx, miny, maxx, maxy = _cells().to_crs(4326).total_bounds
    assert (south, west, north, east) == pytest.approx((miny, minx, maxy, maxx))
    assert 40 < south < 41 and -75 < west < -73  # New York


def test_colours_increase_with_value_and_handle_constant_and_nan():
    colours, breaks = choropleth_colours(np.array([1.0, 5.0, 100.0]))
    assert len(set(colours)) == 3
    assert colours[0] < colours[2] or colours[0] != colours[2]
    assert breaks[0] == 1.0 and breaks[-1] == 100.0
    colours, _ = choropleth_colours(np.array([3.0, 3.0]))
    assert len(colours) == 2
    colours, _ = choropleth_colours(np.array([np.nan, 1.0]))
    assert colours[0] == "#cccccc"


def _remote_urls(html):
    """URLs of scripts and stylesheets the page would fetch from another host."""
    scripts = re.findall(r'<script[^>]*\ssrc="(https?://[^"]+)"', html)
    sheets = re.findall(r'<link[^>]*\shref="(https?://[^"]+)"', html)
    return scripts + sheets


def test_offline_standalone_html_fetches_nothing():
    html = standalone_html(cells_map(_cells(), settings=OFFLINE))
    assert _remote_urls(html) == []
    assert "L.map(" in html and "Leaflet" in html  # Leaflet itself is inlined
    assert "d3" not in html.lower().split("leaflet")[0]  # no d3 legend either


def test_local_assets_point_at_the_app_static_folder():
    html = cells_map(_cells(), settings=MapSettings(tiles=None)).get_root().render()
    assert _remote_urls(html) == []
    assert 'src="/app/static/gridplan/leaflet.js"' in html


def test_internal_tile_server_template_is_used():
    settings = MapSettings(tiles="https://tiles.intra.example/{z}/{x}/{y}.png", attribution="IT")
    html = cells_map(_cells(), settings=settings).get_root().render()
    assert "tiles.intra.example/{z}/{x}/{y}.png" in html
    assert [u for u in _remote_urls(html) if "tiles.intra" not in u] == []


def test_publish_assets_copies_leaflet(tmp_path):
    folder = publish_assets(tmp_path)
    assert (folder / "leaflet.js").stat().st_size > 100_000
    assert (folder / "leaflet.css").exists()
    assert (folder / "images" / "layers.png").exists()
    assert publish_assets(tmp_path) == folder  # idempotent
