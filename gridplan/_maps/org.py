"""The operator's organisation on the maps and in the map book (issue 16): its levels
and their display labels, the outline of every unit of a level, the unit names of every
grid and territory, and the line weights of the level outlines (higher levels thicker).

Read from the plan as :mod:`gridplan.plan.organisation` records it (``meta['org_levels']``,
``meta['org_labels']``, ``meta['area_level']``, the grids' ``unit_<level>`` and
``unit_<level>_name``, the ``units`` layer); geometry stays in the plan's work CRS.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import geopandas as gpd
import pandas as pd

from gridplan.plan.model import Plan
from gridplan.plan.organisation import (
    area_level,
    org_labels,
    org_levels,
    unit_column,
    unit_name_column,
    unit_names,
)

__all__ = [
    "BOOK_OUTLINES",
    "MAP_OUTLINES",
    "LevelOutlines",
    "OrgView",
    "natural_key",
    "ordered_codes",
    "org_view",
    "territory_unit_names",
    "unit_outlines",
]


@dataclass(frozen=True)
class LevelOutlines:
    """How the outlines of the organisation's levels are drawn: one ``colour``, the top
    level ``top_weight`` wide and the lowest ``bottom_weight`` (px on the web map, points
    in the map book), the levels between evenly in between; ``opacity`` 0-1."""

    colour: str = "#7b3294"
    top_weight: float = 5.0
    bottom_weight: float = 1.5
    opacity: float = 0.9

    def weights(self, n: int) -> list[float]:
        """Line weight of each of ``n`` levels, top → bottom (non-increasing)."""
        if n <= 1:
            return [self.top_weight] * n
        step = (self.top_weight - self.bottom_weight) / (n - 1)
        return [round(self.top_weight - i * step, 3) for i in range(n)]


#: The web map's level outlines (px).
MAP_OUTLINES = LevelOutlines()
#: The map book's level outlines (points).
BOOK_OUTLINES = LevelOutlines(top_weight=2.6, bottom_weight=0.7, opacity=0.85)


@dataclass(frozen=True)
class OrgView:
    """A plan's organisation as the maps show it: ``levels`` top → bottom, ``labels``
    (level → display label), ``area_level`` (the level areas are formed in, or None),
    ``names`` (level → unit code → unit name)."""

    levels: tuple[str, ...]
    labels: dict[str, str]
    area_level: str | None
    names: dict[str, dict[str, str]]

    def level_of(self, column: str) -> str | None:
        """The level a column names: the level key itself, ``unit_<level>`` or
        ``unit_<level>_name``; None for any other column."""
        for lv in self.levels:
            if column in (lv, unit_column(lv), unit_name_column(lv)):
                return lv
        return None

    def name_labels(self) -> dict[str, str]:
        """``unit_<level>_name`` → the level's display label (tooltip headers)."""
        return {unit_name_column(lv): self.labels[lv] for lv in self.levels}


def org_view(plan: Plan) -> OrgView | None:
    """The plan's organisation, or None when the plan has none (no levels)."""
    levels = org_levels(plan)
    if not levels:
        return None
    names = {lv: unit_names(plan, lv) for lv in levels}
    return OrgView(levels, org_labels(plan), area_level(plan), names)


def unit_outlines(plan: Plan, level: str) -> gpd.GeoDataFrame:
    """One polygon per unit of ``level``: ``code``, ``name``, ``geometry`` (work CRS), in
    the order of the plan's ``units`` layer; from the grids dissolved by
    ``unit_<level>`` (codes sorted) where the plan has no units of that level."""
    names = unit_names(plan, level)
    units = plan.units
    if units is not None and len(units) and "level" in units.columns:
        rows = units[units["level"].astype(str) == level]
        rows = rows[~(rows.geometry.isna() | rows.geometry.is_empty)]
        if len(rows):
            code = rows["code"].astype(str).to_numpy()
            frame = {"code": code, "name": [names.get(c, c) for c in code]}
            return gpd.GeoDataFrame(frame, geometry=rows.geometry.values, crs=units.crs).to_crs(
                plan.crs
            )
    col = unit_column(level)
    g = plan.grids[[col, "geometry"]].copy()
    g[col] = g[col].fillna("").astype(str)
    g = g[g[col] != ""]
    if g.empty:
        return gpd.GeoDataFrame({"code": [], "name": []}, geometry=[], crs=plan.crs)
    out = g.dissolve(by=col, as_index=False).rename(columns={col: "code"})
    out["name"] = out["code"].map(lambda c: names.get(c, c))
    return out[["code", "name", "geometry"]]


def territory_unit_names(grids: pd.DataFrame, levels: Sequence[str]) -> pd.DataFrame:
    """Per manager (index, sorted): ``unit_<level>_name`` of every level, the distinct
    unit names of his grids joined by ", " (one name when his territory lies in one
    unit)."""
    man = grids["manager"].fillna("").astype(str)
    out = pd.DataFrame(index=pd.Index(sorted(set(man) - {""}), name="manager"))
    for lv in levels:
        col = unit_name_column(lv)
        if col not in grids.columns:
            continue
        names = grids[col].fillna("").astype(str)
        joined = names.groupby(man.to_numpy()).agg(lambda s: ", ".join(sorted(set(s) - {""})))
        out[col] = joined.reindex(out.index).fillna("").to_numpy(dtype=object)
    return out


def natural_key(text: str) -> tuple:
    """A sort key that orders the numbers inside ``text`` by value ("A2" before "A10")."""
    import re

    parts = re.split(r"(\d+)", str(text))
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in parts if p != "")


def ordered_codes(plan: Plan, level: str) -> list[str]:
    """Unit codes of ``level``: the order of the plan's ``units`` layer, then any other
    code found on the grids (sorted)."""
    seen: dict[str, None] = {}
    units = plan.units
    if units is not None and len(units) and "level" in units.columns:
        rows = units[units["level"].astype(str) == level]
        seen.update(dict.fromkeys(rows["code"].astype(str)))
    col = unit_column(level)
    if col in plan.grids.columns:
        found = plan.grids[col].fillna("").astype(str)
        seen.update(dict.fromkeys(sorted(set(found) - {""} - set(seen))))
    return [c for c in seen if c != ""]
