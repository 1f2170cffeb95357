"""The city's input layers, validated and in one local metric CRS.

Canonical columns per layer (``io.validate_layer`` renames user columns to these):

- ``boundary``: polygon(s) of the city; optional ``name``.
- ``districts``: polygons with ``district`` (name or code, text) and optional ``parent``.
- ``population``: polygons *or* points with ``population`` (persons, >= 0) and
  optional ``households``.
- ``sites``: points with ``site_id``, ``technology`` ("4G" or "5G"), ``sectors``
  (integer >= 1) and ``radius_m`` (nominal coverage radius, metres).
- ``customers``: points with ``customer_id``, ``segment`` (a code from
  :mod:`gridplan.layers.segments`), ``spend`` (CNY/month, >= 0) and optional ``handsets``.
- ``barriers``: lines (rivers, highways) that cut cell adjacency; optional.
- ``home_bases``: points with ``manager``; optional.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import geopandas as gpd
import pyproj

if TYPE_CHECKING:
    from gridplan.layers.organisation import Organisation

LAYER_KINDS: tuple[str, ...] = (
    "boundary",
    "districts",
    "population",
    "sites",
    "customers",
    "barriers",
    "home_bases",
)


@dataclass(frozen=True)
class Layers:
    """Validated layers of one city, all in ``crs`` (a projected CRS in metres).

    ``districts``, ``sites``, ``customers``, ``barriers``, ``home_bases`` and
    ``organisation`` may be ``None`` when the planner has not given them.
    """

    crs: pyproj.CRS
    boundary: gpd.GeoDataFrame
    population: gpd.GeoDataFrame
    districts: gpd.GeoDataFrame | None = None
    sites: gpd.GeoDataFrame | None = None
    customers: gpd.GeoDataFrame | None = None
    barriers: gpd.GeoDataFrame | None = None
    home_bases: gpd.GeoDataFrame | None = None
    name: str = "city"
    synthetic: tuple[str, ...] = ()  # names of the layers that are synthetic (labelled in the UI)
    #: the operator's organisation units (:mod:`gridplan.layers.organisation`), optional
    organisation: Organisation | None = None

    def with_(self, **changes: object) -> Layers:
        """A copy with some fields replaced."""
        return replace(self, **changes)
