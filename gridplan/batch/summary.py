"""The province summary (CSV, XLSX) and overview map (offline folium HTML) of a batch."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from gridplan.atomic import atomic_path, write_text_atomic

__all__ = ["SUMMARY_COLUMNS", "overview_map", "summary_table", "write_summary"]

#: Columns of the province summary, one row per city.
SUMMARY_COLUMNS: tuple[str, ...] = (
    "city",
    "status",
    "cells",
    "grids",
    "managers",
    "area_managers",
    "max_deviation",
    "within_tolerance",
    "stopped_by",
    "seconds",
    "error",
    "out",
)


def summary_table(rows: Sequence[dict[str, Any]]) -> pd.DataFrame:
    """One row per city with :data:`SUMMARY_COLUMNS` (empty figures for a failed city)."""
    table = pd.DataFrame([{c: r.get(c) for c in SUMMARY_COLUMNS} for r in rows])
    return table.reindex(columns=list(SUMMARY_COLUMNS))


def _territories(rows: Sequence[dict[str, Any]]):
    """Every complete city's territories in EPSG:4326, simplified to 20 m, with ``city``."""
    import geopandas as gpd

    parts = []
    for r in rows:
        path = Path(str(r.get("out", ""))) / "territories.gpkg"
        if r["status"] == "failed" or not path.is_file():
            continue
        t = gpd.read_file(path, layer="territories", engine="pyogrio")
        t["geometry"] = t.geometry.simplify(20.0, preserve_topology=True)
        t = t.to_crs(4326)
        t.insert(0, "city", r["city"])
        parts.append(t)
    return parts


def overview_map(rows: Sequence[dict[str, Any]]) -> str | None:
    """The province map: one layer of territories per city (offline assets, no tiles);
    ``None`` when no city is complete."""
    import folium
    import geopandas as gpd

    from gridplan.maps import OFFLINE, base_map, standalone_html, territory_colours

    parts = _territories(rows)
    if not parts:
        return None
    everything = gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), crs=4326)
    m = base_map(everything, OFFLINE)
    fields = ["city", "manager", "area", "hours", "deviation", "n_grids"]
    for part in parts:
        shown = part[[c for c in fields if c in part.columns] + ["geometry"]].copy()
        shown["_fill"] = territory_colours(list(shown.geometry))
        tips = [c for c in fields if c in shown.columns]
        folium.GeoJson(
            shown,
            name=str(part["city"].iloc[0]),
            style_function=lambda f: {
                "fillColor": f["properties"]["_fill"],
                "color": "#333333",
                "weight": 0.6,
                "fillOpacity": 0.6,
            },
            tooltip=folium.GeoJsonTooltip(fields=tips),
        ).add_to(m)
    folium.LayerControl(collapsed=False).add_to(m)
    return standalone_html(m)


def write_summary(rows: Sequence[dict[str, Any]], out: str | Path) -> list[Path]:
    """``province_summary.csv``/``.xlsx`` and ``province_map.html`` into ``out``
    (atomically); returns the paths written."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    table = summary_table(rows)
    written = []
    with atomic_path(out / "province_summary.csv") as tmp:
        table.to_csv(tmp, index=False)
    written.append(out / "province_summary.csv")
    with atomic_path(out / "province_summary.xlsx") as tmp:
        table.to_excel(tmp, index=False, sheet_name="cities")
    written.append(out / "province_summary.xlsx")
    html = overview_map(rows)
    if html is not None:
        written.append(write_text_atomic(out / "province_map.html", html))
    return written
