"""Leaflet.draw served from the installed package, never from a CDN."""

import re

import folium

from gridplan._maps.draw import add_draw, draw_files, publish_draw_assets


def test_draw_plugin_is_local(tmp_path):
    assert draw_files() is not None, "django-leaflet (Leaflet.draw files) is installed"
    target = publish_draw_assets(tmp_path)
    assert (target / "leaflet.draw.js").stat().st_size > 10_000
    assert (target / "images" / "spritesheet.png").is_file()
    m = folium.Map(tiles=None)
    assert add_draw(m)
    html = m.get_root().render()
    draw_src = [s for s in re.findall(r'src="([^"]+)"', html) if "draw" in s]
    assert draw_src == ["/app/static/gridplan/draw/leaflet.draw.js"]
    assert "L.Control.Draw" in html and '"circle": false' in html


def test_without_the_package_nothing_is_added(monkeypatch, tmp_path):
    import gridplan._maps.draw as da

    monkeypatch.setattr(da, "draw_files", lambda: None)
    m = folium.Map(tiles=None)
    assert not da.add_draw(m)
    assert da.publish_draw_assets(tmp_path) is None
    assert "L.Control.Draw" not in m.get_root().render()
