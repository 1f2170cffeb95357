"""Folium maps of a plan's grids for the app: coloured by manager (the plan's one
palette, :func:`gridplan._maps.palette.manager_colours`, as in the exports), by grid
type or by a figure, with selected and moved grids outlined (the grids layer is
:func:`gridplan._maps.layers.polygon_layer`, as in the exports' map). Every label is
HTML-escaped; Leaflet comes from :class:`gridplan.maps.MapSettings` (local by default, offline).
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd

from gridplan._maps.base import (
    HtmlLegend,
    MapSettings,
    base_map,
    choropleth_colours,
    choropleth_legend,
    rounded,
)
from gridplan._maps.layers import APP_GRIDS, polygon_layer
from gridplan._maps.palette import group_colours, manager_colours
from gridplan.layers.crs import WGS84
from gridplan.workload import HOURS

__all__ = ["CATEGORICAL", "category_colours", "grids_wgs84", "plan_grid_map"]

#: 12 distinguishable colours (ColorBrewer Paired), cycled for more categories: text
#: columns other than ``manager`` (grid types); managers take :func:`manager_colours`.
CATEGORICAL = (
    "#1f78b4",
    "#33a02c",
    "#e31a1c",
    "#ff7f00",
    "#6a3d9a",
    "#b15928",
    "#a6cee3",
    "#b2df8a",
    "#fb9a99",
    "#fdbf6f",
    "#cab2d6",
    "#ffff99",
)

#: Grids without a manager (or without a value).
UNASSIGNED = "#cccccc"


def category_colours(values: Sequence[str]) -> dict[str, str]:
    """A colour per distinct value (in sorted order), ``""`` (unassigned) grey."""
    out = {}
    for i, v in enumerate(sorted({str(x) for x in values} - {""})):
        out[v] = CATEGORICAL[i % len(CATEGORICAL)]
    out[""] = UNASSIGNED
    return out


def grids_wgs84(
    grids: gpd.GeoDataFrame, simplify_m: float = 10.0, digits: int | None = 6
) -> gpd.GeoDataFrame:
    """``grid_id`` and geometry in EPSG:4326, simplified by ``simplify_m`` metres first
    (the work CRS is metric) and rounded to ``digits`` decimals of a degree (6: about
    0.1 m) to keep the map light (Seoul's demo grids: 1.3 → 0.9 MB of map page)."""
    g = grids[["grid_id", "geometry"]].copy()
    if simplify_m > 0 and g.crs is not None and g.crs.is_projected:
        g["geometry"] = g.geometry.simplify(simplify_m, preserve_topology=True)
    out = g.to_crs(WGS84)
    out["grid_id"] = out["grid_id"].astype(str)
    return out if digits is None else rounded(out, digits)


def _fill(
    grids: gpd.GeoDataFrame, values: pd.Series, colour_by: str
) -> tuple[list[str], HtmlLegend | None]:
    """A fill colour per grid and the legend: ``manager`` from the plan's one palette
    (:func:`manager_colours`, neighbours differ, the exports' colours), an organisation
    level's ``unit_<level>`` / ``unit_<level>_name`` from the same palette
    (:func:`group_colours`), another text column one colour per value, a numeric column
    quantile classes."""
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        colours, breaks = choropleth_colours(values.to_numpy(dtype=float))
        return colours, choropleth_legend(colour_by, breaks)
    text = values.fillna("").astype(str)
    if colour_by == "manager" and "manager" in grids.columns:
        cmap = {**manager_colours(grids), "": UNASSIGNED}
    elif colour_by.startswith("unit_") and colour_by in grids.columns:
        # an organisation level's units: the one palette, touching units differ
        units = grids.assign(_unit=grids[colour_by].fillna("").astype(str))
        cmap = {**group_colours(units, "_unit"), "": UNASSIGNED}
    else:
        cmap = category_colours(text)
    legend = None
    if len(cmap) <= 13:
        legend = HtmlLegend(colour_by, [(c, k or "—") for k, c in cmap.items()])
    return [cmap.get(v, UNASSIGNED) for v in text], legend


def _home_markers(m: folium.Map, homes: pd.DataFrame) -> None:
    """White circles at the managers' homes (``manager``, ``lon``, ``lat``)."""
    for row in homes.itertuples():
        if np.isfinite(row.lon) and np.isfinite(row.lat):
            folium.CircleMarker(
                [row.lat, row.lon],
                radius=5,
                color="#000000",
                fill=True,
                fill_color="#ffffff",
                tooltip=html.escape(f"home of {row.manager}"),
            ).add_to(m)


def plan_grid_map(
    grids: gpd.GeoDataFrame,
    shapes: gpd.GeoDataFrame,
    colour_by: str = "manager",
    *,
    selected: Iterable[str] = (),
    highlight: Iterable[str] = (),
    tooltip: Sequence[str] = ("grid_id", "manager", HOURS),
    settings: MapSettings | None = None,
    homes: pd.DataFrame | None = None,
    plan: Any = None,
    language: str = "en",
) -> folium.Map:
    """A map of the grids coloured by ``colour_by`` (``manager``: the plan's territory
    colours, the same as in the exports; another text column: one colour per value;
    a numeric column: quantile classes). ``grids``: the plan's grids (work CRS; the
    manager colours come from their geometry); ``shapes``: :func:`grids_wgs84` of the
    same grids (cached by the caller; geometry changes less often than managers).
    ``selected`` grids get a thick black outline, ``highlight`` (e.g. moved grids) a
    thick magenta one. ``homes``: ``manager``, ``lon``, ``lat`` markers. ``plan``: with
    an organisation, one outline layer per level (``language`` for its labels) and the
    layer control to pick them."""
    g = grids.set_index(grids["grid_id"].astype(str))
    ids = shapes["grid_id"].astype(str)
    data = pd.DataFrame({"grid_id": ids.to_numpy()})
    fields = [f for f in tooltip if f in g.columns]
    for f in fields:
        col = g[f].reindex(ids)
        if pd.api.types.is_float_dtype(col):
            data[f] = [f"{x:,.1f}" if pd.notna(x) else "" for x in col]
        else:
            data[f] = col.fillna("").astype(str).map(html.escape).to_numpy()
    values = g[colour_by].reindex(ids) if colour_by in g.columns else pd.Series("", index=ids)
    data["_fill"], legend = _fill(grids, values, colour_by)
    sel, hi = {str(s) for s in selected}, {str(s) for s in highlight}
    data["_line"] = ["sel" if i in sel else "hi" if i in hi else "" for i in data["grid_id"]]
    layer = gpd.GeoDataFrame(data, geometry=shapes.geometry.values, crs=WGS84)
    m = base_map(layer, settings or MapSettings())
    tip_fields = ["grid_id", *[f for f in fields if f != "grid_id"]]
    tip = folium.GeoJsonTooltip(fields=tip_fields, aliases=[html.escape(f) for f in tip_fields])
    polygon_layer(layer, "Grids", APP_GRIDS, tooltip=tip).add_to(m)
    if homes is not None and len(homes):
        _home_markers(m, homes)
    if legend is not None:
        legend.add_to(m)
    if plan is not None:
        from gridplan._maps.plan_map import level_outlines

        if level_outlines(m, plan, language):
            folium.LayerControl(collapsed=True).add_to(m)
    return m
