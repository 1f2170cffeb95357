"""Export page: the plan for the area teams, whole city or one area: the plan
GeoPackage, CSV tables (grids, managers, customers attributed) and an offline HTML map."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd
import streamlit as st

from gridplan.maps import OFFLINE, standalone_html
from gridplan.plan import Plan, customer_attribution, manager_table, save_plan
from gridplan.plan_maps import grids_wgs84, plan_grid_map
from ui.i18n import t
from ui.state import current_plan

ALL = "__all__"


def plan_for_area(plan: Plan, area: str) -> Plan:
    """The part of the plan of one area (its managers, their grids and cells)."""
    if area == ALL:
        return plan
    team = plan.managers[plan.managers["area"].astype(str) == area]
    grids = plan.grids[plan.grids["manager"].isin(set(team["manager"]))]
    cells = plan.cells[plan.cells["grid_id"].isin(set(grids["grid_id"]))]
    customers = plan.customers
    if customers is not None and "cell_id" in customers.columns:
        customers = customers[customers["cell_id"].isin(set(cells["cell_id"]))]
    return plan.with_(
        name=f"{plan.name} {area}", managers=team, grids=grids, cells=cells, customers=customers
    )


def _gpkg_bytes(plan: Plan) -> bytes:
    with tempfile.TemporaryDirectory(prefix="gridplan-export-") as tmp:
        return save_plan(plan, Path(tmp) / "plan.gpkg").read_bytes()


def _csv(df: pd.DataFrame) -> bytes:
    return df.to_csv(index=False).encode("utf-8-sig")  # BOM: Excel opens Chinese text right


st.title(t("exp.title"))
plan = current_plan()
if plan is None:
    st.info(t("no_plan"))
    st.stop()
areas = sorted(a for a in plan.managers.get("area", pd.Series(dtype=str)).astype(str).unique() if a)
scope = st.selectbox(
    t("exp.scope"),
    [ALL, *areas],
    format_func=lambda a: t("exp.city") if a == ALL else a,
    key="exp_scope",
)
part = plan_for_area(plan, scope)
stem = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in part.name) or "plan"
st.caption(f"{len(part.grids):,} grids · {len(part.managers):,} managers")
st.caption(
    "The full set of formats (map book PDF/PNG, Shapefile, KML, Excel) comes with the "
    "export module; until it lands, these downloads are available."
)
c1, c2 = st.columns(2)
if c1.button("Prepare GeoPackage", key="prep_gpkg"):
    st.session_state["gpkg_bytes"] = (scope, _gpkg_bytes(part))
ready = st.session_state.get("gpkg_bytes")
if ready is not None and ready[0] == scope:
    c1.download_button(
        "Plan GeoPackage (.gpkg)",
        ready[1],
        f"{stem}.gpkg",
        "application/geopackage+sqlite3",
        key="dl_gpkg",
    )
grid_cols = [c for c in part.grids.columns if c != "geometry"]
c2.download_button(
    "Grids (CSV)",
    _csv(pd.DataFrame(part.grids[grid_cols])),
    f"{stem}_grids.csv",
    "text/csv",
    key="dl_grids",
)
c2.download_button(
    "Managers (CSV)",
    _csv(manager_table(part)),
    f"{stem}_managers.csv",
    "text/csv",
    key="dl_managers",
)
c2.download_button(
    "Customers attributed (CSV)",
    _csv(customer_attribution(part)),
    f"{stem}_customers.csv",
    "text/csv",
    key="dl_customers",
)
if c1.button("Prepare offline HTML map", key="prep_html"):
    m = plan_grid_map(part.grids, grids_wgs84(part.grids), "manager", settings=OFFLINE)
    st.session_state["html_bytes"] = (scope, standalone_html(m).encode("utf-8"))
ready = st.session_state.get("html_bytes")
if ready is not None and ready[0] == scope:
    c1.download_button(
        "Map (HTML, offline)", ready[1], f"{stem}_map.html", "text/html", key="dl_html"
    )
