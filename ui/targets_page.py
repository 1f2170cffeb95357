"""Targets page: KPI targets for the city and any unit, pushed down to districts, areas,
managers and grids (gridplan.plan.targets); actuals from a CSV; the table per level
with the attainment and a map of the grids coloured by it. The targets are part of the
plan: Apply records an undoable edit, Save (sidebar) a new version listing them."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

from gridplan.errors import GridplanError
from gridplan.maps import MapSettings, plan_grid_map
from gridplan.plan.targets import (
    KINDS,
    level_names,
    level_tables,
    plan_levels,
    plan_targets,
    read_actuals,
    read_targets,
    with_targets,
)
from ui.i18n import t
from ui.state import current_plan, grid_shapes, push, show_error

EDITOR_COLUMNS = ["measure", "level", "unit", "target", "kind", "key"]
#: what the editor shows for a plan without targets (one city target to start from)
EXAMPLE = pd.DataFrame(
    [
        ("revenue", "city", "", "1000000", "sum", "spend"),
        ("new_lines", "city", "", "200", "count", "customers"),
        ("retention", "city", "", "95%", "rate", ""),
    ],
    columns=EDITOR_COLUMNS,
)


def _editor_rows(plan) -> pd.DataFrame:
    targets, _ = plan_targets(plan)
    if targets is None:
        return EXAMPLE.copy()
    rows = targets[EDITOR_COLUMNS].copy()
    rows["target"] = targets["target"].map(lambda x: f"{x:g}")
    return rows.reset_index(drop=True)


def _apply(plan, rows: pd.DataFrame, upload) -> None:
    """Check the edited targets (and the uploaded actuals) and record them in the plan."""
    rows = rows.dropna(how="all").reset_index(drop=True)
    rows.index = pd.RangeIndex(1, len(rows) + 1, name="row")
    try:
        targets = read_targets(rows, where=t("tgt.table_name"))
        _, actuals = plan_targets(plan)
        if upload is not None:
            kinds = {
                str(m): KINDS.get(str(k), "sum")
                for m, k in zip(targets["measure"], targets["kind"], strict=True)
            }
            actuals = read_actuals(upload.getvalue(), plan, kinds, upload.name)
        push(with_targets(plan, targets, actuals), "targets")
        st.session_state["tgt_flash"] = t("tgt.applied", n=len(targets))
    except GridplanError as err:
        show_error(err)


def _map(plan, table: pd.DataFrame, level: str, colour: str) -> None:
    """The grids coloured by their unit's ``colour`` (attainment or target) at ``level``."""
    unit_of = plan_levels(plan)[level].to_numpy()
    by_unit = table.set_index("unit")
    g = plan.grids.copy()
    for col in ("target", "actual", "attainment"):
        g[col] = pd.Series(unit_of).map(by_unit[col]).to_numpy(float)
    g["unit"] = unit_of
    m = plan_grid_map(
        g,
        grid_shapes(plan),
        colour,
        tooltip=("grid_id", "unit", "manager", "target", "actual", "attainment"),
        settings=MapSettings(tiles=st.session_state.get("tiles", "OpenStreetMap")),
    )
    st_folium(m, height=520, use_container_width=True, returned_objects=[], key="tgt_map")


st.title(t("tgt.title"))
plan = current_plan()
if plan is None:
    st.info(t("no_plan"))
    st.stop()

levels = level_names(plan)
with st.expander(t("tgt.enter"), expanded=plan_targets(plan)[0] is None):
    st.caption(t("tgt.help"))
    edited = st.data_editor(
        _editor_rows(plan),
        num_rows="dynamic",
        width="stretch",
        hide_index=True,
        key=f"tgt_editor_{hash(plan.meta.get('targets', ''))}",
        column_config={
            "measure": st.column_config.TextColumn(t("tgt.col.measure")),
            "level": st.column_config.SelectboxColumn(t("tgt.col.level"), options=levels),
            "unit": st.column_config.TextColumn(t("tgt.col.unit")),
            "target": st.column_config.TextColumn(t("tgt.col.target")),
            "kind": st.column_config.SelectboxColumn(
                t("tgt.col.kind"), options=["sum", "count", "rate"]
            ),
            "key": st.column_config.TextColumn(t("tgt.col.key")),
        },
    )
    upload = st.file_uploader(t("tgt.actuals"), type=["csv", "txt", "xlsx"], key="tgt_actuals")
    if st.button(t("tgt.apply"), type="primary", key="tgt_apply"):
        _apply(plan, edited, upload)
        plan = current_plan()
flash = st.session_state.pop("tgt_flash", None)
if flash:
    st.success(flash)

try:
    tables = level_tables(plan)
except GridplanError as err:  # targets saved with an older team or grids
    show_error(err)
    st.stop()
if not tables:
    st.info(t("tgt.none"))
    st.stop()

c1, c2 = st.columns(2)
level = c1.selectbox(t("tgt.level"), levels, index=min(3, len(levels) - 1), key="tgt_level")
measures = sorted(set(tables["city"]["measure"]))
measure = c2.selectbox(t("tgt.measure"), measures, key="tgt_measure")
table = tables[level][tables[level]["measure"] == measure]
city = tables["city"][tables["city"]["measure"] == measure].iloc[0]
m1, m2, m3 = st.columns(3)
rate = city["kind"] == "rate"
m1.metric(t("tgt.city_target"), f"{city['target']:.1%}" if rate else f"{city['target']:,.0f}")
has_actual = bool(np.isfinite(city["actual"]))
m2.metric(
    t("tgt.city_actual"),
    "—" if not has_actual else f"{city['actual']:.1%}" if rate else f"{city['actual']:,.0f}",
)
m3.metric(t("tgt.attainment"), "—" if not has_actual else f"{city['attainment']:.1%}")
left, right = st.columns([3, 2])
with left:
    colour = "attainment" if table["attainment"].notna().any() else "target"
    st.caption(t("tgt.map_by", what=t(f"tgt.col.{colour}")))
    _map(plan, table, level, colour)
with right:
    st.dataframe(
        table.drop(columns=["level", "measure", "kind"]),
        width="stretch",
        hide_index=True,
        column_config={
            "unit": st.column_config.TextColumn(t("tgt.col.unit")),
            "target": st.column_config.NumberColumn(t("tgt.col.target"), format="%.2f"),
            "given": st.column_config.NumberColumn(t("tgt.col.given"), format="%.2f"),
            "actual": st.column_config.NumberColumn(t("tgt.col.actual"), format="%.2f"),
            "attainment": st.column_config.NumberColumn(t("tgt.col.attainment"), format="percent"),
            "n_grids": st.column_config.NumberColumn(t("terr.col.n_grids")),
        },
    )
