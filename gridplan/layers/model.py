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

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

import geopandas as gpd
import pandas as pd
import pyproj

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
class Organisation:
    """The organisation units of one city (read by
    :func:`gridplan.layers.organisation.read_organisation`).

    ``levels``: level keys top → bottom; ``units``: one row per unit, columns ``level``,
    ``code``, ``name``, ``parent`` (text; ``''`` at the top level; codes unique within a
    level, ``parent`` a code of the level above); ``labels``: level key → display label;
    ``polygons``: ``level``, ``code``, geometry (work CRS) when given as polygons;
    ``district_map``: column ``district`` plus one code column per level (named by the
    level key) when given as a table.
    """

    levels: tuple[str, ...]
    units: pd.DataFrame
    labels: Mapping[str, str] = field(default_factory=dict)
    polygons: gpd.GeoDataFrame | None = None
    district_map: pd.DataFrame | None = None

    def column(self, level: str) -> str:
        """The code column of ``level`` in cells and grids."""
        return f"unit_{level}"

    def name_column(self, level: str) -> str:
        """The name column of ``level`` in cells and grids."""
        return f"unit_{level}_name"

    @property
    def lowest(self) -> str:
        """The bottom level (grids never cross its units)."""
        return self.levels[-1]

    def code_columns(self) -> list[str]:
        """``unit_<L>`` of every level, top → bottom."""
        return [self.column(lv) for lv in self.levels]

    def label(self, level: str) -> str:
        """The display label of ``level`` (the key when none)."""
        return str(self.labels.get(level, level))

    def level_units(self, level: str) -> pd.DataFrame:
        """The units of one level (rows of :attr:`units`)."""
        return self.units[self.units["level"] == level]

    def summary(self) -> list[str]:
        """One line per level: ``county (县): 2 units``."""
        out = []
        for lv in self.levels:
            n = int((self.units["level"] == lv).sum())
            label = self.label(lv)
            shown = lv if label == lv else f"{lv} ({label})"
            out.append(f"{shown}: {n:,} unit{'s' if n != 1 else ''}")
        return out


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
