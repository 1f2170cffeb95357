"""The Leaflet.draw plugin served locally, so planners can draw a polygon on the map
without any request leaving the machine.

The files come from the installed PyPI package ``django-leaflet`` (it ships Leaflet.draw
1.0, MIT; only its static files are used, Django is never imported). When the package is
missing, :func:`add_draw` does nothing and returns False: the app then offers the
lon/lat rectangle instead.
"""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import folium
from folium.plugins import Draw

__all__ = ["DRAW_PACKAGE", "add_draw", "draw_files", "publish_draw_assets"]

DRAW_PACKAGE = "leaflet"  # top-level module of the PyPI package django-leaflet


def draw_files() -> Path | None:
    """Folder holding ``leaflet.draw.js``, ``leaflet.draw.css`` and ``images``, or None."""
    spec = importlib.util.find_spec(DRAW_PACKAGE)  # finds, never imports (no Django)
    if spec is None or not spec.submodule_search_locations:
        return None
    root = Path(next(iter(spec.submodule_search_locations))) / "static" / "leaflet" / "draw"
    ok = (root / "leaflet.draw.js").is_file() and (root / "leaflet.draw.css").is_file()
    return root if ok else None


def publish_draw_assets(static_dir: str | Path) -> Path | None:
    """Copy the plugin into ``static_dir/gridplan/draw`` (served by the app at
    ``/app/static/gridplan/draw``); None when the plugin is not installed. Idempotent."""
    src = draw_files()
    if src is None:
        return None
    target = Path(static_dir) / "gridplan" / "draw"
    (target / "images").mkdir(parents=True, exist_ok=True)
    for name in ("leaflet.draw.js", "leaflet.draw.css"):
        if (
            not (target / name).exists()
            or (target / name).stat().st_size != (src / name).stat().st_size
        ):
            shutil.copyfile(src / name, target / name)
    for img in (src / "images").iterdir():
        if not (target / "images" / img.name).exists():
            shutil.copyfile(img, target / "images" / img.name)
    return target


def add_draw(m: folium.Map, static_url: str = "/app/static/gridplan/draw") -> bool:
    """Add a polygon/rectangle drawing tool to ``m`` using the local plugin files.

    Returns False (and adds nothing) when the plugin is not installed."""
    if draw_files() is None:
        return False
    draw = Draw(
        export=False,
        draw_options={
            "polyline": False,
            "circle": False,
            "marker": False,
            "circlemarker": False,
            "polygon": {"allowIntersection": False, "showArea": False},
            "rectangle": True,
        },
        edit_options={"edit": False, "remove": True},
    )
    base = static_url.rstrip("/")
    draw.default_js = [("leaflet_draw_js", f"{base}/leaflet.draw.js")]
    draw.default_css = [("leaflet_draw_css", f"{base}/leaflet.draw.css")]
    draw.add_to(m)
    return True
