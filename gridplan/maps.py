"""Every folium map of the plan, for the app and the exports (EPSG:4326 on the map).

The façade over :mod:`gridplan._maps`:

- ``base``: map settings (offline assets, tiles), choropleths and legends, ``cells_map``;
- ``plan_map``: the whole-plan map (grids, territories, areas, sites, customers, labels;
  with an organisation an outline layer per level, ``level_outlines``, and the grids
  coloured by a level's units);
- ``app_map``: the app's grid map (by manager, grid type or a figure);
- ``layers``: the polygon layer both plan maps draw their grids / territories with;
- ``palette``: the one neighbour-distinct, colour-blind-safe palette of territories,
  and ``manager_colours``, a manager's one colour in the app, the HTML, the map book
  and the KML (``group_colours``: the same for any grouping, e.g. a level's units);
- ``org``: the operator's organisation on the maps (levels, labels, unit outlines,
  the outline weights per level);
- ``draw``: Leaflet.draw served locally; ``labels``: English / Chinese labels.

Every label and value is HTML-escaped; nothing is loaded from the internet unless the
settings ask for a CDN.
"""

from gridplan._maps.app_map import CATEGORICAL, category_colours, grids_wgs84, plan_grid_map
from gridplan._maps.base import (
    LEAFLET_CDN,
    LEAFLET_PACKAGE,
    NO_DATA,
    OFFLINE,
    SEQUENTIAL,
    UNITS,
    HtmlLegend,
    MapSettings,
    apply_settings,
    base_map,
    cells_map,
    choropleth_colours,
    choropleth_legend,
    leaflet_files,
    legend_caption,
    publish_assets,
    quantile_breaks,
    standalone_html,
)
from gridplan._maps.draw import DRAW_PACKAGE, add_draw, draw_files, publish_draw_assets
from gridplan._maps.labels import LANGUAGES, Language, check_language, label
from gridplan._maps.layers import PolygonStyle, polygon_layer
from gridplan._maps.org import (
    BOOK_OUTLINES,
    MAP_OUTLINES,
    LevelOutlines,
    OrgView,
    natural_key,
    ordered_codes,
    org_view,
    territory_unit_names,
    unit_outlines,
)
from gridplan._maps.palette import (
    MUTED,
    colour_indices,
    group_colours,
    manager_colours,
    territory_colours,
    touching_pairs,
)
from gridplan._maps.plan_map import (
    CLUSTER_PACKAGE,
    ClusteredPoints,
    DeclutteredLabels,
    level_outlines,
    markercluster_files,
    plan_map,
)

__all__ = [
    "BOOK_OUTLINES",
    "CATEGORICAL",
    "CLUSTER_PACKAGE",
    "DRAW_PACKAGE",
    "LANGUAGES",
    "LEAFLET_CDN",
    "LEAFLET_PACKAGE",
    "MAP_OUTLINES",
    "MUTED",
    "NO_DATA",
    "OFFLINE",
    "SEQUENTIAL",
    "UNITS",
    "ClusteredPoints",
    "DeclutteredLabels",
    "HtmlLegend",
    "Language",
    "LevelOutlines",
    "MapSettings",
    "OrgView",
    "PolygonStyle",
    "add_draw",
    "apply_settings",
    "base_map",
    "category_colours",
    "cells_map",
    "check_language",
    "choropleth_colours",
    "choropleth_legend",
    "colour_indices",
    "draw_files",
    "grids_wgs84",
    "group_colours",
    "label",
    "leaflet_files",
    "legend_caption",
    "level_outlines",
    "manager_colours",
    "markercluster_files",
    "natural_key",
    "ordered_codes",
    "org_view",
    "plan_grid_map",
    "plan_map",
    "polygon_layer",
    "publish_assets",
    "publish_draw_assets",
    "quantile_breaks",
    "standalone_html",
    "territory_colours",
    "territory_unit_names",
    "touching_pairs",
    "unit_outlines",
]
