"""Interactive folium maps of cells, grids and territories (EPSG:4326 on the map).

Every label and value shown in a tooltip is HTML-escaped, so a district called
``<script>`` renders as text.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

import branca.colormap as cm
import folium
import geopandas as gpd
import numpy as np
import pandas as pd

from gridplan.crs import WGS84

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


def legend_caption(column: str) -> str:
    """Legend text for a column, with its unit when known."""
    unit = UNITS.get(column)
    return f"{column} ({unit})" if unit else column


def choropleth_colours(values: pd.Series | np.ndarray) -> tuple[list[str], cm.LinearColormap]:
    """Hex colours for ``values`` on a quantile-stretched sequential scale, and its colour map.

    Quantile breaks keep skewed figures (population, spend) readable.
    """
    v = np.asarray(values, dtype=float)
    finite = v[np.isfinite(v)]
    if finite.size == 0:
        finite = np.array([0.0])
    qs = np.quantile(finite, np.linspace(0, 1, len(SEQUENTIAL)))
    qs = np.maximum.accumulate(qs)
    if qs[-1] <= qs[0]:
        qs = qs[0] + np.arange(len(SEQUENTIAL), dtype=float)
    else:  # strictly increasing, as branca requires
        qs = qs + np.arange(len(qs)) * (qs[-1] - qs[0]) * 1e-9
    cmap = cm.LinearColormap(list(SEQUENTIAL), index=list(qs), vmin=qs[0], vmax=qs[-1])
    colours = [cmap(x) if np.isfinite(x) else "#cccccc" for x in v]
    return colours, cmap


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


def base_map(gdf: gpd.GeoDataFrame, *, tiles: str | None = "OpenStreetMap") -> folium.Map:
    """An empty map fitted to the layer's bounds; ``tiles=None`` draws no basemap."""
    minx, miny, maxx, maxy = gdf.to_crs(WGS84).total_bounds
    m = folium.Map(tiles=tiles, control_scale=True, prefer_canvas=True)
    m.fit_bounds([[miny, minx], [maxy, maxx]])
    return m


def cells_map(
    cells: gpd.GeoDataFrame,
    column: str = "population",
    *,
    tooltip_fields: Sequence[str] | None = None,
    tiles: str | None = "OpenStreetMap",
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
    colours, cmap = choropleth_colours(cells[column])
    shown["_fill"] = colours
    layer = gpd.GeoDataFrame(shown, geometry=cells.geometry.to_crs(WGS84).values, crs=WGS84)

    m = base_map(layer, tiles=tiles)
    folium.GeoJson(
        layer,
        name=html.escape(name),
        style_function=lambda f: {
            "fillColor": f["properties"]["_fill"],
            "color": "#555555",
            "weight": 0.3,
            "fillOpacity": 0.7,
        },
        highlight_function=lambda f: {"weight": 2, "color": "#000000"},
        tooltip=folium.GeoJsonTooltip(fields=fields, aliases=[html.escape(f) for f in fields]),
    ).add_to(m)
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
    cmap.caption = legend_caption(column)
    cmap.add_to(m)
    folium.LayerControl(collapsed=True).add_to(m)
    return m
