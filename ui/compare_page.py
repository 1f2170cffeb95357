"""Compare page: two saved versions (or the current plan) side by side — maps with the
moved grids outlined, workload spread, the moved grids and the headline figures."""

from __future__ import annotations

import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

from gridplan.errors import GridplanError
from gridplan.maps import MapSettings, grids_wgs84, plan_grid_map
from gridplan.plan.model import manager_table, plan_summary
from gridplan.plan.workspace import describe_changes, plan_changes
from ui.i18n import t
from ui.state import current_plan, show_error, workspace

CURRENT = "__current__"


def _choices() -> list[tuple[str, int | None]]:
    ws = workspace()
    out: list[tuple[str, int | None]] = []
    if current_plan() is not None:
        out.append((CURRENT, None))
    versions = ws.versions()
    out += [(str(r.plan), int(r.version)) for r in versions.itertuples()]
    return out


def _label(choice: tuple[str, int | None]) -> str:
    return t("cmp.current") if choice[0] == CURRENT else f"{choice[0]} · v{choice[1]}"


def _load(choice: tuple[str, int | None]):
    if choice[0] == CURRENT:
        return current_plan()
    key = ("cmp_plan", choice)
    if key not in st.session_state:
        st.session_state[key] = workspace().load(choice[0], choice[1])
    return st.session_state[key]


def _spread(plan) -> dict[str, float]:
    tab = manager_table(plan)
    return {
        t("cmp.max_dev"): float(tab["deviation"].abs().max()) if len(tab) else 0.0,
        t("cmp.std_hours"): float(tab["hours"].std(ddof=0)) if len(tab) else 0.0,
        t("cmp.min_hours"): float(tab["hours"].min()) if len(tab) else 0.0,
        t("cmp.max_hours"): float(tab["hours"].max()) if len(tab) else 0.0,
    }


st.title(t("cmp.title"))
choices = _choices()
if len(choices) < 2:
    st.info(t("cmp.need_version"))
    st.stop()
c1, c2 = st.columns(2)
a_choice = c1.selectbox(t("cmp.left"), choices, index=min(1, len(choices) - 1), format_func=_label)
b_choice = c2.selectbox(t("cmp.right"), choices, index=0, format_func=_label)
try:
    a, b = _load(a_choice), _load(b_choice)
except GridplanError as err:
    show_error(err)
    st.stop()
changes = plan_changes(a, b)
st.write(describe_changes(changes))
moved = [m["grid_id"] for m in changes["moved"]]
tiles = st.session_state.get("tiles", "OpenStreetMap")
for col, plan, key in ((c1, a, "cmp_a"), (c2, b, "cmp_b")):
    with col:
        m = plan_grid_map(
            plan.grids,
            grids_wgs84(plan.grids),
            "manager",
            highlight=moved,
            settings=MapSettings(tiles=tiles),
        )
        st_folium(m, height=420, use_container_width=True, returned_objects=[], key=key)
        st.json(_spread(plan))
st.subheader(t("cmp.moved"))
st.dataframe(
    pd.DataFrame(changes["moved"], columns=["grid_id", "from", "to"]),
    hide_index=True,
    column_config={
        "grid_id": st.column_config.TextColumn(t("col.grid_id")),
        "from": st.column_config.TextColumn(t("cmp.from")),
        "to": st.column_config.TextColumn(t("cmp.to")),
    },
)
sa, sb = plan_summary(a), plan_summary(b)
keys = [k for k in sa if k != "meta"]
st.dataframe(
    pd.DataFrame(
        {
            t("cmp.figure"): keys,
            _label(a_choice): [str(sa[k]) for k in keys],
            _label(b_choice): [str(sb[k]) for k in keys],
        }
    ),
    hide_index=True,
)
st.subheader(t("cmp.audit"))
st.dataframe(
    workspace().versions(),
    hide_index=True,
    width="stretch",
    column_config={
        "plan": st.column_config.TextColumn(t("cmp.col.plan")),
        "version": st.column_config.NumberColumn(t("cmp.col.version")),
        "author": st.column_config.TextColumn(t("cmp.col.author")),
        "saved_at": st.column_config.TextColumn(t("cmp.col.saved_at")),
        "comment": st.column_config.TextColumn(t("cmp.col.comment")),
        "changes": st.column_config.TextColumn(t("cmp.col.changes")),
        "n_grids": st.column_config.NumberColumn(t("cmp.col.n_grids")),
        "n_managers": st.column_config.NumberColumn(t("cmp.col.n_managers")),
    },
)
