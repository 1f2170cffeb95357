"""Coordinate reference systems: a local metric CRS for work, EPSG:4326 for maps.

Work happens in the UTM zone of the city's centre (metres); maps and GeoJSON use
WGS 84 longitude/latitude (EPSG:4326).
"""

from __future__ import annotations

import geopandas as gpd
import pyproj

WGS84 = pyproj.CRS.from_epsg(4326)


def utm_crs_for(lon: float, lat: float) -> pyproj.CRS:
    """The WGS 84 / UTM zone CRS (EPSG:326xx north, 327xx south) containing a lon/lat point."""
    if not (-180.0 <= lon <= 180.0 and -90.0 <= lat <= 90.0):
        raise ValueError(f"not a longitude/latitude pair: ({lon}, {lat})")
    zone = min(int((lon + 180.0) // 6.0) + 1, 60)
    return pyproj.CRS.from_epsg((32600 if lat >= 0 else 32700) + zone)


def local_metric_crs(gdf: gpd.GeoDataFrame) -> pyproj.CRS:
    """The UTM CRS of the layer's centre; the layer must carry a CRS."""
    if gdf.crs is None:
        raise ValueError("layer has no CRS")
    minx, miny, maxx, maxy = gdf.to_crs(WGS84).total_bounds
    return utm_crs_for((minx + maxx) / 2.0, (miny + maxy) / 2.0)


def is_metric(crs: pyproj.CRS | None) -> bool:
    """True when the CRS is projected with metre units."""
    if crs is None:
        return False
    crs = pyproj.CRS.from_user_input(crs)
    return crs.is_projected and all(
        (a.unit_name or "").lower() in {"metre", "meter", "m"} for a in crs.axis_info
    )
