"""Interactive folium maps of cells, grids and territories (EPSG:4326 on the map).

Every label and value shown in a tooltip is HTML-escaped, so a district called
``<script>`` renders as text. Maps work offline: with ``MapSettings(assets="local")``
(the default) Leaflet is loaded from the locally installed copy (the PyPI package
``django-js-lib-leaflet``), never from a CDN, and the legend is plain HTML (no d3).
"""

from __future__ import annotations

import base64
import html
import importlib.util
import re
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import Element, MacroElement
from jinja2 import Template

from gridplan._maps.layers import CELLS, polygon_layer
from gridplan.errors import GridplanError
from gridplan.layers.crs import WGS84

LEAFLET_PACKAGE = "js_lib_leaflet"  # from the PyPI package django-js-lib-leaflet (Leaflet 1.9.4)
LEAFLET_CDN = "https://cdn.jsdelivr.net/npm/leaflet@1.9.4/dist"


@dataclass(frozen=True)
class MapSettings:
    """Where maps take their scripts and basemap from.

    ``assets``: "local" serves Leaflet from the installed copy (no request leaves the
    machine), "cdn" loads it from jsDelivr. ``tiles``: a folium tile name
    ("OpenStreetMap"), a URL template of an internal tile server
    ("https://tiles.intra/{z}/{x}/{y}.png", give ``attribution`` too), or ``None`` for
    no basemap (boundaries only). ``static_url``: where the app serves the local
    assets (Streamlit static serving).
    """

    assets: Literal["local", "cdn"] = "local"
    tiles: str | None = "OpenStreetMap"
    attribution: str | None = None
    static_url: str = "/app/static/gridplan"


OFFLINE = MapSettings(assets="local", tiles=None)

#: Units shown in legends for well-known columns.
UNITS: dict[str, str] = {
    "population": "persons",
    "density": "persons/km²",
    "customers": "customers",
    "spend": "CNY/month",
    "coverage": "score 0–1",
    "area_km2": "km²",
    "sites": "sites",
}

#: Sequential palette (ColorBrewer YlOrRd, colour-blind safe for sequential data).
SEQUENTIAL = ("#ffffb2", "#fed976", "#feb24c", "#fd8d3c", "#f03b20", "#bd0026")
NO_DATA = "#cccccc"


def legend_caption(column: str) -> str:
    """Legend text for a column, with its unit when known."""
    unit = UNITS.get(column)
    return f"{column} ({unit})" if unit else column


def quantile_breaks(values: pd.Series | np.ndarray, classes: int = len(SEQUENTIAL)) -> np.ndarray:
    """``classes + 1`` non-decreasing class limits at the quantiles of the finite values."""
    v = np.asarray(values, dtype=float)
    finite = v[np.isfinite(v)]
    if finite.size == 0:
        finite = np.array([0.0])
    return np.quantile(finite, np.linspace(0.0, 1.0, classes + 1))


def choropleth_colours(values: pd.Series | np.ndarray) -> tuple[list[str], np.ndarray]:
    """One hex colour per value on quantile classes (keeps skewed figures readable).

    Returns the colours and the class limits; NaN gets the no-data grey.
    """
    v = np.asarray(values, dtype=float)
    breaks = quantile_breaks(v)
    cls = np.clip(np.searchsorted(breaks[1:-1], v, side="right"), 0, len(SEQUENTIAL) - 1)
    colours = [SEQUENTIAL[c] if np.isfinite(x) else NO_DATA for c, x in zip(cls, v, strict=True)]
    return colours, breaks


def _fmt(x: float) -> str:
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:,.2f}".rstrip("0").rstrip(".")


class HtmlLegend(MacroElement):
    """A legend drawn as a Leaflet control of plain HTML (no d3, works offline)."""

    _template = Template(
        """
        {% macro header(this, kwargs) %}
        <style>
        .gridplan-legend {background: rgba(255,255,255,0.9); padding: 6px 8px;
            font: 12px/1.4 sans-serif; border-radius: 4px; box-shadow: 0 0 4px #888;}
        .gridplan-legend i {display: inline-block; width: 14px; height: 12px;
            margin-right: 6px; vertical-align: middle; border: 1px solid #999;}
        </style>
        {% endmacro %}
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = L.control({position: "bottomright"});
        {{ this.get_name() }}.onAdd = function () {
            var div = L.DomUtil.create("div", "gridplan-legend");
            div.innerHTML = {{ this.body|tojson }};
            return div;
        };
        {{ this.get_name() }}.addTo({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self, title: str, entries: Sequence[tuple[str, str]]):
        super().__init__()
        self._name = "HtmlLegend"
        rows = "".join(
            f'<div><i style="background:{html.escape(c)}"></i>{html.escape(label)}</div>'
            for c, label in entries
        )
        self.body = f"<b>{html.escape(title)}</b>{rows}"


def choropleth_legend(title: str, breaks: np.ndarray) -> HtmlLegend:
    """A legend of the quantile classes of :func:`choropleth_colours`."""
    entries = [
        (SEQUENTIAL[i], f"{_fmt(breaks[i])} – {_fmt(breaks[i + 1])}")
        for i in range(len(SEQUENTIAL))
    ]
    return HtmlLegend(title, entries)


def _escaped_table(gdf: gpd.GeoDataFrame, fields: Sequence[str]) -> pd.DataFrame:
    """Display values as HTML-escaped text, numbers rounded for reading."""
    out = pd.DataFrame(index=gdf.index)
    for f in fields:
        col = gdf[f]
        if pd.api.types.is_float_dtype(col):
            text = col.map(lambda x: "" if pd.isna(x) else f"{x:,.2f}".rstrip("0").rstrip("."))
        elif pd.api.types.is_integer_dtype(col):
            text = col.map(lambda x: f"{x:,}")
        else:
            text = col.astype(str)
        out[f] = text.map(html.escape)
    return out


def leaflet_files() -> dict[str, Path]:
    """Paths of the local Leaflet copy: ``leaflet.js``, ``leaflet.css`` and ``images``."""
    spec = importlib.util.find_spec(LEAFLET_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise GridplanError(
            "the local copy of Leaflet is missing (Python package django-js-lib-leaflet): "
            "run scripts/setup.sh, or `pip install django-js-lib-leaflet`, or use "
            'MapSettings(assets="cdn") where the internet is reachable'
        )
    root = Path(next(iter(spec.submodule_search_locations))) / "static" / LEAFLET_PACKAGE
    return {
        "leaflet.js": root / "leaflet.js",
        "leaflet.css": root / "leaflet.css",
        "images": root / "images",
    }


def publish_assets(static_dir: str | Path) -> Path:
    """Copy the local Leaflet files into ``static_dir/gridplan`` (served by the app).

    Idempotent; returns the folder. Streamlit serves ``<app>/static`` at ``/app/static``.
    """
    target = Path(static_dir) / "gridplan"
    files = leaflet_files()
    (target / "images").mkdir(parents=True, exist_ok=True)
    for name in ("leaflet.js", "leaflet.css"):
        if (
            not (target / name).exists()
            or (target / name).stat().st_size != files[name].stat().st_size
        ):
            shutil.copyfile(files[name], target / name)
    for img in files["images"].iterdir():
        if not (target / "images" / img.name).exists():
            shutil.copyfile(img, target / "images" / img.name)
    return target


def apply_settings(m: folium.Map, settings: MapSettings) -> folium.Map:
    """Point the map's scripts at the local or CDN Leaflet (and nothing else)."""
    base = settings.static_url.rstrip("/") if settings.assets == "local" else LEAFLET_CDN
    m.default_js = [("leaflet", f"{base}/leaflet.js")]
    m.default_css = [("leaflet_css", f"{base}/leaflet.css")]
    return m


def standalone_html(m: folium.Map) -> str:
    """The map as one self-contained HTML file: Leaflet inlined, no request for scripts.

    (Tiles, if the map has any, are still fetched by the browser from their server.)
    """
    files = leaflet_files()
    css = files["leaflet.css"].read_text(encoding="utf-8")

    def inline_image(match: re.Match[str]) -> str:
        img = files["images"] / match.group(1)
        if not img.exists():
            return match.group(0)
        data = base64.b64encode(img.read_bytes()).decode("ascii")
        return f"url(data:image/png;base64,{data})"

    css = re.sub(r"url\(images/([\w.-]+)\)", inline_image, css)
    js = files["leaflet.js"].read_text(encoding="utf-8")
    saved = (m.default_js, m.default_css)
    m.default_js, m.default_css = [], []
    try:
        root = m.get_root()
        root.header.add_child(Element(f"<style>{css}</style>"), name="leaflet_css_inline")
        root.header.add_child(Element(f"<script>{js}</script>"), name="leaflet_js_inline")
        return root.render()
    finally:
        m.default_js, m.default_css = saved


def rounded(gdf: gpd.GeoDataFrame, digits: int = 6) -> gpd.GeoDataFrame:
    """``gdf`` (EPSG:4326) with its coordinates rounded to ``digits`` decimals of a
    degree (6: about 0.1 m), to keep the maps' GeoJSON light."""
    geoms = shapely.transform(gdf.geometry.values, lambda c: np.round(c, digits))
    return gdf.set_geometry(gpd.GeoSeries(geoms, index=gdf.index, crs=gdf.crs))


def base_map(gdf: gpd.GeoDataFrame, settings: MapSettings = MapSettings()) -> folium.Map:
    """An empty map fitted to the layer's bounds, with the settings' assets and tiles."""
    minx, miny, maxx, maxy = gdf.to_crs(WGS84).total_bounds
    tiles = settings.tiles
    custom = bool(tiles) and "{" in tiles  # a URL template needs an attribution
    kwargs = {"attr": settings.attribution or "internal tile server"} if custom else {}
    m = folium.Map(tiles=tiles, control_scale=True, prefer_canvas=True, **kwargs)
    m.fit_bounds([[miny, minx], [maxy, maxx]])
    return apply_settings(m, settings)


def cells_map(
    cells: gpd.GeoDataFrame,
    column: str = "population",
    *,
    tooltip_fields: Sequence[str] | None = None,
    settings: MapSettings = MapSettings(),
    districts: gpd.GeoDataFrame | None = None,
    name: str = "Cells",
) -> folium.Map:
    """A map of ``cells`` coloured by ``column`` with a legend and tooltips.

    ``cells`` may be in any CRS; it is shown in EPSG:4326. ``districts`` (optional)
    is drawn as outlines on top.
    """
    if column not in cells.columns:
        raise KeyError(f"column {column!r} is not in the cells; have {list(cells.columns)}")
    fields = list(tooltip_fields) if tooltip_fields else [column]
    fields = [f for f in dict.fromkeys(["cell_id", *fields]) if f in cells.columns]
    shown = _escaped_table(cells, fields)
    colours, breaks = choropleth_colours(cells[column])
    shown["_fill"] = colours
    layer = gpd.GeoDataFrame(shown, geometry=cells.geometry.to_crs(WGS84).values, crs=WGS84)

    m = base_map(layer, settings)
    tip = folium.GeoJsonTooltip(fields=fields, aliases=[html.escape(f) for f in fields])
    polygon_layer(layer, html.escape(name), CELLS, tooltip=tip).add_to(m)
    if districts is not None and len(districts):
        outline = gpd.GeoDataFrame(
            _escaped_table(districts, [c for c in ("district", "name") if c in districts]),
            geometry=districts.geometry.to_crs(WGS84).values,
            crs=WGS84,
        )
        folium.GeoJson(
            outline,
            name="Districts",
            style_function=lambda f: {"fill": False, "color": "#1f3b73", "weight": 1.5},
        ).add_to(m)
    choropleth_legend(legend_caption(column), breaks).add_to(m)
    folium.LayerControl(collapsed=True).add_to(m)
    return m
