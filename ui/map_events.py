"""Pure functions turning st_folium events into selections (no streamlit here).

st_folium returns a dict per rerun; the keys used here are ``last_object_clicked``
(``{"lat", "lng"}`` of the last click on a feature), ``last_clicked`` (a click on the
map background) and ``last_active_drawing`` / ``all_drawings`` (GeoJSON features drawn
with the Draw tool). Geometries on the map are in EPSG:4326 (lon/lat degrees).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry import box, shape

__all__ = [
    "cells_in_polygon",
    "cells_in_rectangle",
    "clicked_point",
    "drawn_polygon",
    "grid_at",
    "new_click",
    "toggle",
]


def clicked_point(event: Mapping[str, Any] | None) -> tuple[float, float] | None:
    """``(lon, lat)`` of the last click on a feature (or on the map), else None."""
    if not event:
        return None
    for key in ("last_object_clicked", "last_clicked"):
        pt = event.get(key)
        if isinstance(pt, Mapping) and pt.get("lat") is not None and pt.get("lng") is not None:
            try:
                lon, lat = float(pt["lng"]), float(pt["lat"])
            except (TypeError, ValueError):
                continue
            if np.isfinite(lon) and np.isfinite(lat) and abs(lat) <= 90:
                return lon, lat
    return None


def new_click(
    event: Mapping[str, Any] | None, last: tuple[float, float] | None
) -> tuple[float, float] | None:
    """The clicked point if it differs from ``last`` (st_folium repeats the last click on
    every rerun; only a new one should act)."""
    pt = clicked_point(event)
    if pt is None or (last is not None and np.allclose(pt, last, atol=1e-12)):
        return None
    return pt


def grid_at(
    grids_wgs84: gpd.GeoDataFrame, lon: float, lat: float, id_col: str = "grid_id"
) -> str | None:
    """Id of the grid containing the point (EPSG:4326), or the nearest within ~50 m."""
    if grids_wgs84 is None or len(grids_wgs84) == 0:
        return None
    pt = shapely.Point(lon, lat)
    geoms = np.asarray(grids_wgs84.geometry.values, dtype=object)
    tree = shapely.STRtree(geoms)
    hit = tree.query(pt, predicate="intersects")
    if len(hit) == 0:
        hit = tree.query(pt, predicate="dwithin", distance=0.0005)
        if len(hit) == 0:
            return None
        d = shapely.distance(geoms[hit], pt)
        hit = hit[np.argsort(d)]
    return str(grids_wgs84[id_col].iloc[int(hit[0])])


def drawn_polygon(event: Mapping[str, Any] | None) -> shapely.Geometry | None:
    """The last polygon or rectangle drawn (EPSG:4326), else None."""
    if not event:
        return None
    feat = event.get("last_active_drawing")
    if not isinstance(feat, Mapping):
        drawings = event.get("all_drawings") or []
        feat = drawings[-1] if drawings else None
    if not isinstance(feat, Mapping):
        return None
    geom = feat.get("geometry", feat)
    if not isinstance(geom, Mapping) or geom.get("type") not in ("Polygon", "MultiPolygon"):
        return None
    try:
        poly = shape(geom)
    except (ValueError, TypeError, AttributeError, IndexError):
        return None
    if poly.is_empty:
        return None
    return poly if poly.is_valid else shapely.make_valid(poly)


def cells_in_polygon(
    cells_wgs84: gpd.GeoDataFrame, polygon: shapely.Geometry, id_col: str = "cell_id"
) -> list[str]:
    """Ids of the cells whose representative point lies inside ``polygon`` (EPSG:4326)."""
    if polygon is None or polygon.is_empty or len(cells_wgs84) == 0:
        return []
    pts = cells_wgs84.geometry.representative_point()
    inside = shapely.contains_xy(polygon, pts.x.to_numpy(), pts.y.to_numpy())
    return [str(c) for c in cells_wgs84[id_col].to_numpy()[inside]]


def cells_in_rectangle(
    cells_wgs84: gpd.GeoDataFrame,
    west: float,
    south: float,
    east: float,
    north: float,
    id_col: str = "cell_id",
) -> list[str]:
    """Ids of the cells whose representative point lies in the lon/lat rectangle."""
    w, e = sorted((float(west), float(east)))
    s, n = sorted((float(south), float(north)))
    return cells_in_polygon(cells_wgs84, box(w, s, e, n), id_col)


def toggle(selection: Iterable[str], item: str) -> list[str]:
    """``selection`` with ``item`` added, or removed when already in it (order kept)."""
    sel = [str(s) for s in selection]
    item = str(item)
    return [s for s in sel if s != item] if item in sel else [*sel, item]
