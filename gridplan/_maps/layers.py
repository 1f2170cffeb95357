"""The polygon layer shared by every map: the app's grid map, the exports' grids and
territories, the cells map (EPSG:4326 features, fill from each feature's ``_fill``).

A :class:`PolygonStyle` holds what differs between them (outline, opacity, hover
outline, and the thick outlines of selected / highlighted features named by their
``_line`` property), so the GeoJSON block is written once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import folium
import geopandas as gpd

__all__ = ["APP_GRIDS", "CELLS", "PLAN_GRIDS", "PLAN_TERRITORIES", "PolygonStyle", "polygon_layer"]


@dataclass(frozen=True)
class PolygonStyle:
    """Outline colour and weight (px), fill opacity, hover outline; ``outlines``:
    ``(key, colour, weight)`` for features whose ``_line`` property is ``key``."""

    line: str
    weight: float
    fill_opacity: float
    hover_weight: float
    hover_line: str = "#000000"
    outlines: tuple[tuple[str, str, float], ...] = ()

    def style_function(self) -> Callable[[dict], dict]:
        """Folium's per-feature style (fill from ``_fill``, outline from ``_line``)."""
        outlines = {key: (colour, weight) for key, colour, weight in self.outlines}
        default = (self.line, self.weight)

        def style(feature: dict) -> dict:
            props = feature["properties"]
            colour, weight = outlines.get(props.get("_line", ""), default) if outlines else default
            return {
                "fillColor": props["_fill"],
                "color": colour,
                "weight": weight,
                "fillOpacity": self.fill_opacity,
            }

        return style

    def highlight_function(self) -> Callable[[dict], dict]:
        """Folium's hover style: a thicker outline."""
        hover = {"weight": self.hover_weight, "color": self.hover_line}
        return lambda feature: dict(hover)


#: The app's grids: thin grey outlines, selected grids black, moved grids magenta.
APP_GRIDS = PolygonStyle(
    "#444444", 0.6, 0.65, 3, outlines=(("sel", "#000000", 4), ("hi", "#d4006a", 4))
)
#: The cells map's cells (a choropleth of a figure).
CELLS = PolygonStyle("#555555", 0.3, 0.7, 2)
#: The exported map's grids (a choropleth of a figure).
PLAN_GRIDS = PolygonStyle("#555555", 0.6, 0.7, 2.5)
#: The exported map's territories (coloured by manager or by a territory figure).
PLAN_TERRITORIES = PolygonStyle("#222222", 1.5, 0.55, 3)


def polygon_layer(
    layer: gpd.GeoDataFrame,
    name: str,
    style: PolygonStyle,
    *,
    tooltip: folium.GeoJsonTooltip,
    popup: folium.GeoJsonPopup | None = None,
    show: bool = True,
) -> folium.GeoJson:
    """A GeoJSON layer of ``layer`` (EPSG:4326, a ``_fill`` column; ``name`` already
    HTML-escaped) drawn with ``style``; add it to a map with ``.add_to(m)``."""
    return folium.GeoJson(
        layer,
        name=name,
        show=show,
        style_function=style.style_function(),
        highlight_function=style.highlight_function(),
        tooltip=tooltip,
        popup=popup,
    )
