"""The layers and tables every export format writes, built once from a plan.

Derived tables (territories, areas, manager workloads, customer attribution) are
computed on the whole plan first and only then blanked by the privacy settings,
so that blanking a small grid never changes a territory's total. Geometry stays in
the plan's work CRS (metres); each writer reprojects as its format wants.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import pandas as pd

from gridplan.plan.model import (
    PLAN_LAYERS,
    Plan,
    areas,
    customer_attribution,
    manager_table,
    plan_headcount,
    territories,
)
from gridplan.plan.organisation import org_levels, org_rollup
from gridplan.plan.privacy import NO_PRIVACY, PrivacySettings, suppress_small_counts
from gridplan.plan.slices import area_of_manager
from gridplan.plan.staff import area_team, staff_areas

#: GIS layers in writing order (the same as a saved plan's).
LAYERS: tuple[str, ...] = PLAN_LAYERS

_FIRST = ("grid_id", "district", "grid_type", "manager", "area")


@dataclass(frozen=True, eq=False)
class ExportData:
    """Everything an export writes: ``layers`` (GeoDataFrames in the work CRS, only those
    present) and ``tables`` (``grids``, ``managers``, ``headcount`` per role for the
    city, districts, organisation units and areas, ``organisation`` (every level's
    roll-up), ``area_teams``, ``staff``, ``customers`` attribution when allowed)."""

    layers: dict[str, gpd.GeoDataFrame]
    tables: dict[str, pd.DataFrame]


def _grids_with_area(plan: Plan) -> gpd.GeoDataFrame:
    g = plan.grids.copy()
    g["manager"] = g["manager"].fillna("").astype(str)
    g["area"] = g["manager"].map(area_of_manager(plan)).fillna("")
    first = [c for c in _FIRST if c in g.columns]
    rest = [c for c in g.columns if c not in first and c != "geometry"]
    return g[[*first, *rest, "geometry"]]


def _customers_layer(plan: Plan) -> gpd.GeoDataFrame | None:
    if plan.customers is None or plan.customers.empty:
        return None
    att = customer_attribution(plan)
    return gpd.GeoDataFrame(att, geometry=plan.customers.geometry.to_numpy(), crs=plan.crs)


def _organisation_table(plan: Plan) -> pd.DataFrame | None:
    """Every organisation level's roll-up (:func:`org_rollup`) in one table, top → bottom,
    with its ``level`` first; ``None`` without an organisation."""
    levels = org_levels(plan)
    if not levels:
        return None
    parts = [org_rollup(plan, lv).assign(level=lv) for lv in ["city", *levels, "area"]]
    out = pd.concat(parts, ignore_index=True)
    return out[["level", *[c for c in out.columns if c != "level"]]]


def export_data(plan: Plan, privacy: PrivacySettings | None = None) -> ExportData:
    """The plan's layers and tables, with the privacy settings applied."""
    privacy = privacy or NO_PRIVACY
    grids = _grids_with_area(plan)
    layers: dict[str, gpd.GeoDataFrame | None] = {
        "cells": plan.cells,
        "grids": grids,
        "territories": territories(plan),
        "areas": areas(plan),
        "districts": plan.districts,
        "units": plan.units,
        "sites": plan.sites,
        "customers": _customers_layer(plan) if privacy.customer_rows else None,
    }
    tables: dict[str, pd.DataFrame | None] = {
        "grids": pd.DataFrame(grids.drop(columns="geometry")),
        "managers": manager_table(plan),
        "headcount": plan_headcount(plan),
        "organisation": _organisation_table(plan),
        "area_teams": area_team(plan) if len(staff_areas(plan)) else None,
        "staff": plan.staff if plan.staff is not None and len(plan.staff) else None,
        "customers": customer_attribution(plan) if privacy.customer_rows else None,
    }
    out_layers: dict[str, gpd.GeoDataFrame] = {}
    for name, frame in layers.items():
        if frame is None or len(frame) == 0:
            continue
        if name not in ("customers", "districts", "sites", "units"):
            frame = suppress_small_counts(frame, privacy.min_count)
        out_layers[name] = frame.reset_index(drop=True)
    out_tables: dict[str, pd.DataFrame] = {}
    for name, table in tables.items():
        if table is None:
            continue
        if name not in ("customers", "staff", "area_teams"):
            table = suppress_small_counts(table, privacy.min_count)
        out_tables[name] = table.reset_index(drop=True)
    return ExportData(out_layers, out_tables)
