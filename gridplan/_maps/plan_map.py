"""The interactive map of a whole plan (folium): cells, grids, territories, areas,
cell sites, customers and district boundaries as layers with a layer control.

- Territories get the plan's manager colours, colour-blind-safe and different between
  neighbours (:func:`gridplan._maps.palette.manager_colours`, the same colours as the
  app's map, the map book and the KML); grids and territories are drawn with the
  shared :func:`gridplan._maps.layers.polygon_layer`; territories have labels that
  hide where they would overlap a more important one (re-checked on every zoom), so
  50+ territories stay readable.
- Grids are a choropleth of any figure (workload, population, spend, coverage;
  ``deviation``/``target_h`` colour the territories) with a legend showing units.
- Customers are clustered with Leaflet.markercluster, loaded from the local copy
  installed from PyPI (``xstatic-leaflet-markercluster``) and inlined in the page;
  with ``PrivacySettings(aggregates_only=True)`` the map shows per-grid counts
  (small counts blanked) instead of customer points.
- Tooltips (hover) and popups (click) are in English or Chinese; every name and value
  is HTML-escaped, labels are set as text (``textContent``), so a district called
  ``<script>`` renders as text.

Geometry is taken in the plan's work CRS and shown in EPSG:4326.
"""

from __future__ import annotations

import html
import importlib.util
import json
from collections.abc import Iterable, Mapping
from pathlib import Path

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
from branca.element import MacroElement
from jinja2 import Template

from gridplan._maps.base import (
    NO_DATA,
    OFFLINE,
    HtmlLegend,
    MapSettings,
    _escaped_table,
    base_map,
    choropleth_colours,
    choropleth_legend,
    rounded,
)
from gridplan._maps.labels import check_language, label
from gridplan._maps.layers import PLAN_GRIDS, PLAN_TERRITORIES, polygon_layer
from gridplan._maps.org import (
    MAP_OUTLINES,
    OrgView,
    org_view,
    territory_unit_names,
    unit_outlines,
)
from gridplan._maps.palette import group_colours, manager_colours
from gridplan.errors import GridplanError
from gridplan.layers.crs import WGS84
from gridplan.plan.model import Plan
from gridplan.plan.organisation import unit_column, unit_name_column
from gridplan.plan.privacy import NO_PRIVACY, PrivacySettings
from gridplan.plan.tables import export_data
from gridplan.workload import HOURS

CLUSTER_PACKAGE = "xstatic.pkg.leaflet_markercluster"

#: Units of figures coloured on the map (legend captions).
_UNITS_EN = {HOURS: "h/month", "hours": "h/month", "target_h": "h/month"}


def markercluster_files() -> dict[str, Path]:
    """Paths of the local Leaflet.markercluster copy (``js``, ``css``, ``css_default``)."""
    spec = importlib.util.find_spec(CLUSTER_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise GridplanError(
            "the local copy of Leaflet.markercluster is missing (Python package "
            "xstatic-leaflet-markercluster): run scripts/setup.sh or "
            "`pip install xstatic-leaflet-markercluster`"
        )
    root = Path(next(iter(spec.submodule_search_locations))) / "data"
    return {
        "js": root / "leaflet.markercluster.js",
        "css": root / "MarkerCluster.css",
        "css_default": root / "MarkerCluster.Default.css",
    }


def _script_safe(text: str) -> str:
    """Text safe inside an inline <script> (no ``</script>`` can close it early)."""
    return text.replace("</", "<\\/")


class ClusteredPoints(MacroElement):
    """Points clustered with the local Leaflet.markercluster (library inlined, so the page
    fetches nothing); each point a small circle with an escaped text tooltip."""

    _template = Template(
        """
        {% macro header(this, kwargs) %}<style>{{ this.css }}</style>{% endmacro %}
        {% macro script(this, kwargs) %}
        if (typeof L.markerClusterGroup === "undefined") {
{{ this.library }}
}
        // clustering needs a maximum zoom, which a map without tiles does not have
        {{ this.map_name }}.options.maxZoom = {{ this.map_name }}.options.maxZoom || 19;
        var {{ this.get_name() }} = L.markerClusterGroup({chunkedLoading: true});
        (function () {
            var pts = {{ this.points }};
            for (var i = 0; i < pts.length; i++) {
                var m = L.circleMarker([pts[i][0], pts[i][1]],
                    {radius: 4, color: "#333", weight: 1, fillColor: "#e69f00", fillOpacity: 0.9});
                var t = document.createElement("span");
                t.textContent = pts[i][2];
                m.bindTooltip(t);
                {{ this.get_name() }}.addLayer(m);
            }
        })();
        {{ this.get_name() }}.addTo({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self, lat: np.ndarray, lon: np.ndarray, text: list[str], name: str):
        super().__init__()
        self._name = "ClusteredPoints"
        files = markercluster_files()
        self.library = _script_safe(files["js"].read_text(encoding="utf-8"))
        self.css = (
            files["css"].read_text(encoding="utf-8")
            + files["css_default"].read_text(encoding="utf-8")
        ).replace("</", "<\\/")
        pts = [
            [round(float(a), 6), round(float(b), 6), t]
            for a, b, t in zip(lat, lon, text, strict=True)
        ]
        self.points = _script_safe(json.dumps(pts, ensure_ascii=False))
        self.layer_name = name


class DeclutteredLabels(MacroElement):
    """Text labels at points; on every zoom/move a label is hidden when it would overlap
    a label of higher priority already shown (so labels never pile up). Text is set as
    ``textContent`` (never parsed as HTML)."""

    _template = Template(
        """
        {% macro header(this, kwargs) %}
        <style>.gridplan-label {font: bold 11px sans-serif; color: #111; white-space: nowrap;
          text-shadow: 0 0 3px #fff, 0 0 3px #fff, 0 0 3px #fff; pointer-events: none;}</style>
        {% endmacro %}
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = L.layerGroup();
        (function () {
            var map = {{ this.map_name }};
            var group = {{ this.get_name() }};
            var items = {{ this.items }};
            var markers = items.map(function (it) {
                var mk = L.marker([it[0], it[1]], {interactive: false, keyboard: false,
                    icon: L.divIcon({className: "gridplan-label", html: "", iconSize: null})});
                mk.on("add", function () {
                    var el = mk.getElement();
                    el.textContent = it[2];
                    el.style.marginLeft = (-el.offsetWidth / 2) + "px";
                    el.style.marginTop = "-7px";
                });
                mk.priority = it[3];
                group.addLayer(mk);
                return mk;
            });
            markers.sort(function (a, b) { return b.priority - a.priority; });
            function declutter() {
                if (!map.hasLayer(group)) { return; }
                var shown = [];
                markers.forEach(function (mk) {
                    var el = mk.getElement();
                    if (!el) { return; }
                    el.style.display = "";
                    var r = el.getBoundingClientRect();
                    var clash = shown.some(function (s) {
                        return r.left < s.right + 2 && r.right + 2 > s.left &&
                               r.top < s.bottom + 1 && r.bottom + 1 > s.top;
                    });
                    if (clash) { el.style.display = "none"; } else { shown.push(r); }
                });
            }
            map.on("zoomend moveend overlayadd", declutter);
            group.on("add", function () { setTimeout(declutter, 0); });
        })();
        {{ this.get_name() }}.addTo({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self, lat: np.ndarray, lon: np.ndarray, text: list[str], priority: np.ndarray):
        super().__init__()
        self._name = "DeclutteredLabels"
        items = [
            [round(float(a), 6), round(float(b), 6), t, float(p)]
            for a, b, t, p in zip(lat, lon, text, priority, strict=True)
        ]
        self.items = _script_safe(json.dumps(items, ensure_ascii=False))


def _overlay(m: folium.Map, element: MacroElement, name: str, show: bool) -> None:
    """Put a MacroElement that builds its own Leaflet layer under the layer control."""
    fg = folium.FeatureGroup(name=html.escape(name), show=show)
    element.map_name = m.get_name()
    fg.add_child(element)
    fg.add_to(m)


def _layer(
    frame: gpd.GeoDataFrame,
    fields: list[str],
    language: str,
    fill: list[str] | str | None,
    headers: Mapping[str, str] | None = None,
) -> gpd.GeoDataFrame:
    """``fields`` of ``frame`` as escaped text under their labels (``headers`` overrides
    a field's label, e.g. ``unit_branch_name`` → "分局"), ``_fill``, geometry in EPSG:4326."""
    fields = list(dict.fromkeys(f for f in fields if f in frame.columns))
    headers = headers or {}
    shown = _escaped_table(frame, fields)
    names: list[str] = []
    for f in fields:
        name = html.escape(headers.get(f) or label(f, language))
        while name in names:  # a level labelled like a column ("Area"): keep both
            name += "\u2032"
        names.append(name)
    shown.columns = names
    if fill is not None:
        shown["_fill"] = fill
    return gpd.GeoDataFrame(shown, geometry=frame.geometry.to_crs(WGS84).values, crs=WGS84)


def _tooltip(layer: gpd.GeoDataFrame) -> folium.GeoJsonTooltip:
    cols = [c for c in layer.columns if c not in ("geometry", "_fill")]
    return folium.GeoJsonTooltip(fields=cols, aliases=cols, sticky=True)


def _popup(layer: gpd.GeoDataFrame) -> folium.GeoJsonPopup:
    cols = [c for c in layer.columns if c not in ("geometry", "_fill")]
    return folium.GeoJsonPopup(fields=cols, aliases=cols)


def _caption(column: str, language: str) -> str:
    text = label(column, language)
    unit = _UNITS_EN.get(column)
    if unit and "(" not in text:
        text = f"{text} ({unit})"
    if text == column:
        from gridplan._maps.base import legend_caption

        text = legend_caption(column)
    return text


#: Grid columns shown in the grids' tooltips and popups.
_GRID_FIELDS = [
    "grid_id", "district", "grid_type", "manager", "area", "population", "customers",
    "spend", "coverage", "area_km2", HOURS,
]  # fmt: skip
_TERRITORY_FIELDS = ["manager", "area", "hours", "target_h", "deviation", "n_grids", "customers"]


def _colours_territories(layers: dict[str, gpd.GeoDataFrame], column: str) -> bool:
    """Whether ``column`` is a territory figure (else a grid one); KeyError if neither."""
    grids, terr = layers["grids"], layers.get("territories")
    colour_terr = terr is not None and column in terr.columns and column not in grids.columns
    if column not in grids.columns and not colour_terr:
        have = [c for c in grids.columns if pd.api.types.is_numeric_dtype(grids[c])]
        raise KeyError(f"no figure {column!r} on the grids or territories; have {have}")
    return colour_terr


def _cells_layer(m: folium.Map, cells: gpd.GeoDataFrame, language: str) -> None:
    """The cells as thin grey outlines (hidden at first)."""
    cell_fields = ["cell_id", "grid_id", "district", "population", "customers", "spend"]
    layer = _layer(cells, cell_fields, language, "#ffffff")
    folium.GeoJson(
        layer,
        name=html.escape(label("cells", language)),
        show=False,
        style_function=lambda f: {"fillOpacity": 0.0, "color": "#888888", "weight": 0.3},
        tooltip=_tooltip(layer),
    ).add_to(m)


def _territories_layer(
    m: folium.Map,
    layers: dict[str, gpd.GeoDataFrame],
    language: str,
    figure: list[str] | None,
    org: OrgView | None = None,
) -> None:
    """The territories filled with ``figure`` (a territory figure's classes; the layer
    shown at first) or, when None, the plan's manager colours (computed from the grids,
    as the app does); and their managers' decluttered labels. With an organisation the
    tooltips name the units of every level."""
    terr = layers["territories"]
    fill = figure
    if fill is None:
        colour_of = manager_colours(layers["grids"])
        fill = [colour_of[str(man)] for man in terr["manager"]]
    fields, headers = list(_TERRITORY_FIELDS), {}
    if org is not None:
        names = territory_unit_names(layers["grids"], org.levels)
        terr = terr.join(names, on="manager")
        fields[2:2] = list(names.columns)
        headers = org.name_labels()
    layer = _layer(terr, fields, language, fill, headers)
    name = html.escape(label("territories", language))
    polygon_layer(
        layer,
        name,
        PLAN_TERRITORIES,
        tooltip=_tooltip(layer),
        popup=_popup(layer),
        show=figure is not None,
    ).add_to(m)
    pts = terr.geometry.representative_point().to_crs(WGS84)
    names = terr["manager"].astype(str).tolist()
    prio = terr.geometry.area.to_numpy()
    labels = DeclutteredLabels(pts.y.to_numpy(), pts.x.to_numpy(), names, prio)
    _overlay(m, labels, f"{label('territories', language)}: {label('manager', language)}", True)


def level_outlines(
    m: folium.Map,
    plan: Plan,
    language: str = "en",
    *,
    shown: Iterable[str] | None = None,
) -> list[str]:
    """Add one toggleable outline layer per organisation level of ``plan`` to ``m`` (the
    level selector of the layer control), top → bottom, named "Outlines: <label>" by the
    level's display label, higher levels thicker (:data:`MAP_OUTLINES`), the unit's name
    and code in the tooltip. ``shown``: the levels visible at first (default: the area
    level, or the top level when areas span the city). Returns the layer names added
    (none without an organisation); the caller adds the ``folium.LayerControl``."""
    org = org_view(plan)
    if org is None:
        return []
    visible = set(shown) if shown is not None else {org.area_level or org.levels[0]}
    style, added = MAP_OUTLINES, []
    for lv, weight in zip(org.levels, style.weights(len(org.levels)), strict=True):
        units = unit_outlines(plan, lv)
        if units.empty:
            continue
        # rounded like the grids: hexagon-cell outlines at full precision made Seoul's
        # two outline levels 340 kB
        layer = rounded(_layer(units, ["name", "code"], language, None, {"name": org.labels[lv]}))
        name = html.escape(f"{label('outlines', language)}: {org.labels[lv]}")
        folium.GeoJson(
            layer,
            name=name,
            show=lv in visible,
            style_function=lambda f, w=weight: {
                "fill": False,
                "color": style.colour,
                "weight": w,
                "opacity": style.opacity,
            },
            tooltip=_tooltip(layer),
        ).add_to(m)
        added.append(name)
    return added


def _outline_layers(
    m: folium.Map,
    layers: dict[str, gpd.GeoDataFrame],
    language: str,
    org: OrgView | None = None,
    plan: Plan | None = None,
) -> None:
    """Areas (thick black; with an organisation their unit and area manager in the
    tooltip), the organisation's levels over them (:func:`level_outlines` of ``plan``),
    districts (dashed blue) and cell sites (small circles)."""
    if "areas" in layers:
        fields, headers = ["area", "area_manager", "n_managers", "hours", "population"], {}
        ar = layers["areas"]
        if org is not None and org.area_level and "unit" in ar.columns:
            lv = org.area_level
            codes = ar["unit"].fillna("").astype(str)
            ar = ar.assign(_unit_name=codes.map(lambda c: org.names[lv].get(c, c)))
            fields.insert(1, "_unit_name")
            headers = {"_unit_name": org.labels[lv]}
        layer = _layer(ar, fields, language, None, headers)
        folium.GeoJson(
            layer,
            name=html.escape(label("areas", language)),
            style_function=lambda f: {"fill": False, "color": "#000000", "weight": 3},
            tooltip=_tooltip(layer),
        ).add_to(m)
    if plan is not None and org is not None:
        level_outlines(m, plan, language)
    if "districts" in layers:
        d = layers["districts"]
        layer = _layer(d, [c for c in ("district", "name") if c in d.columns], language, None)
        folium.GeoJson(
            layer,
            name=html.escape(label("districts", language)),
            style_function=lambda f: {
                "fill": False,
                "color": "#1f3b73",
                "weight": 1.5,
                "dashArray": "6 4",
            },
            tooltip=_tooltip(layer),
        ).add_to(m)
    if "sites" in layers:
        layer = _layer(layers["sites"], ["site_id", "technology", "sectors"], language, None)
        folium.GeoJson(
            layer,
            name=html.escape(label("sites", language)),
            show=False,
            marker=folium.CircleMarker(radius=3, color="#000000", weight=1, fill_opacity=0.8),
            tooltip=_tooltip(layer),
        ).add_to(m)


def _grid_colours(
    layers: dict[str, gpd.GeoDataFrame],
    column: str,
    language: str,
    org: OrgView | None,
    colour_terr: bool,
) -> tuple[list[str], MacroElement, str]:
    """Fill of the grids (or of the territories when ``colour_terr``), the legend and the
    caption: a level's units from the one palette (:func:`group_colours`, touching units
    differ, the legend naming each unit), else the figure's quantile classes."""
    level = org.level_of(column) if org is not None else None
    if level is not None:
        grids = layers["grids"]
        code = grids[unit_column(level)].fillna("").astype(str)
        colour_of = group_colours(grids.assign(_unit=code), "_unit")
        caption = org.labels[level]
        names = org.names[level]
        entries = [(c, names.get(k, k)) for k, c in colour_of.items()]
        return [colour_of.get(k, NO_DATA) for k in code], HtmlLegend(caption, entries), caption
    frame = layers["territories"] if colour_terr else layers["grids"]
    colours, breaks = choropleth_colours(pd.to_numeric(frame[column], errors="coerce"))
    caption = _caption(column, language)
    return colours, choropleth_legend(caption, breaks), caption


def plan_map(
    plan: Plan,
    column: str = HOURS,
    *,
    language: str = "en",
    settings: MapSettings = OFFLINE,
    privacy: PrivacySettings | None = None,
) -> folium.Map:
    """The plan's interactive map; ``column`` is the figure coloured (a grid column, or
    ``deviation``/``target_h``/``hours`` of the territories) or, with an organisation,
    a level (its key, e.g. ``"branch"``, or ``unit_<level>``): the grids coloured by
    their unit at that level. Territories not coloured by a figure take the plan's
    manager colours (:func:`manager_colours`, as in the app, the map book and the KML).
    With an organisation every level has a toggleable outline layer (labelled with the
    level's display label, higher levels thicker) and the grids', territories' and
    areas' tooltips name their units. Save with :func:`gridplan.maps.standalone_html`."""
    check_language(language)
    layers = export_data(plan, privacy or NO_PRIVACY).layers
    grids, terr = layers["grids"], layers.get("territories")
    m = base_map(grids, settings)
    org = org_view(plan)
    if org is not None and org.level_of(column) is not None:
        column = unit_column(org.level_of(column))
    colour_terr = _colours_territories(layers, column)
    if "cells" in layers:
        _cells_layer(m, layers["cells"], language)
    colours, legend, caption = _grid_colours(layers, column, language, org, colour_terr)
    if not colour_terr:
        fields, headers = list(_GRID_FIELDS), {}
        if org is not None:
            fields[2:2] = [unit_name_column(lv) for lv in org.levels]
            headers = org.name_labels()
        layer = _layer(grids, fields, language, colours, headers)
        name = html.escape(f"{label('grids', language)}: {caption}")
        tips = {"tooltip": _tooltip(layer), "popup": _popup(layer)}
        polygon_layer(layer, name, PLAN_GRIDS, **tips).add_to(m)
    if terr is not None and len(terr):
        _territories_layer(m, layers, language, colours if colour_terr else None, org)
    _outline_layers(m, layers, language, org, plan)
    _customers(m, plan, layers, language, privacy or NO_PRIVACY)
    legend.add_to(m)
    folium.LayerControl(collapsed=False).add_to(m)
    return m


def _customers(
    m: folium.Map,
    plan: Plan,
    layers: dict[str, gpd.GeoDataFrame],
    language: str,
    privacy: PrivacySettings,
) -> None:
    name = label("customers_layer", language)
    if "customers" in layers:
        c = layers["customers"]
        pts = c.geometry.to_crs(WGS84)
        seg = c["segment"].astype(str).map(lambda s: label(f"cust_{s}", language))
        text = c["customer_id"].astype(str) + " · " + seg + " · " + c["grid_id"].astype(str)
        cluster = ClusteredPoints(pts.y.to_numpy(), pts.x.to_numpy(), text.tolist(), name)
        _overlay(m, cluster, name, False)
        return
    grids = layers["grids"]
    if "customers" not in grids.columns:
        return
    counts = pd.to_numeric(grids["customers"], errors="coerce")
    pts = grids.geometry.representative_point().to_crs(WGS84)
    fg = folium.FeatureGroup(name=html.escape(f"{name} ({label('grids', language)})"), show=False)
    for y, x, gid, n in zip(pts.y, pts.x, grids["grid_id"].astype(str), counts, strict=True):
        shown = label("suppressed", language) if pd.isna(n) else f"{int(n):,}"
        folium.CircleMarker(
            [y, x],
            radius=3 + 2 * np.log1p(0 if pd.isna(n) else n) ** 0.8,
            color="#8a5a00",
            weight=1,
            fill_color="#e69f00",
            fill_opacity=0.6,
            tooltip=html.escape(f"{gid}: {shown}"),
        ).add_to(fg)
    fg.add_to(m)
