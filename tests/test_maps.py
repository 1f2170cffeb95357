import geopandas as gpd
import numpy as np
import shapely

from gridplan.maps import cells_map, choropleth_colours, legend_caption


def _cells():
    return gpd.GeoDataFrame(
        {
            "cell_id": ["a", "b", "c"],
            "district": ["<script>alert(1)</script>", "武侯区", "Queens"],
            "population": [10.0, 2500.0, 90.5],
        },
        geometry=[shapely.box(i * 500, 0, (i + 1) * 500, 500) for i in range(3)],
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
    m = cells_map(_cells())
    html = m.get_root().render()
    # the cells are given in UTM 18N metres; the map must carry their lon/lat
    bounds = _cells().to_crs(4326).total_bounds
    assert f"{bounds[1]:.4f}"[:6] in html


def test_colours_increase_with_value_and_handle_constant_and_nan():
    colours, _ = choropleth_colours(np.array([1.0, 5.0, 100.0]))
    assert len(set(colours)) == 3
    colours, _ = choropleth_colours(np.array([3.0, 3.0]))
    assert len(colours) == 2
    colours, _ = choropleth_colours(np.array([np.nan, 1.0]))
    assert colours[0] == "#cccccc"
