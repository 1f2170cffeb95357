"""The Territories page's organisation section: the area teams (area manager, community
managers, marketing managers, client managers staffed), the staff editor and every
level's roll-up. Widgets and session state only; the figures come from gridplan."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from gridplan.errors import GridplanError
from gridplan.plan.organisation import (
    AREA_LEVEL_KEY,
    STAFF_ROLES,
    area_level,
    org_labels,
    org_levels,
    org_rollup,
)
from gridplan.plan.staff import StaffSettings, area_team, assign_staff, staff_areas
from ui.i18n import t
from ui.state import push, show_error

__all__ = ["area_level_picker", "organisation_section"]


def area_level_picker(plan):
    """The level whose units each get their own managers, territories and areas (a
    select box; changing it is an undoable edit). Returns the plan (changed or not)."""
    levels = org_levels(plan)
    if not levels:
        return plan
    options = [*levels, "city"]
    current = area_level(plan) or "city"
    chosen = st.selectbox(
        t("org.area_level"),
        options,
        index=options.index(current),
        format_func=lambda lv: _level_label(plan, lv),
        key="area_level",
        help=t("org.area_level_help"),
    )
    if chosen != current:
        team = plan.managers.drop(columns="unit", errors="ignore")
        g = plan.grids.assign(manager="")
        meta = {**plan.meta, AREA_LEVEL_KEY: chosen}
        plan = push(plan.with_(meta=meta, managers=team, grids=g), f"territories per {chosen}")
    return plan


def _level_label(plan, level: str) -> str:
    if level == "city":
        return t("org.city")
    if level == "area":
        return t("terr.areas")
    return org_labels(plan).get(level, level)


def _rollup(plan) -> None:
    levels = ["city", *org_levels(plan), "area"]
    level = st.selectbox(
        t("org.level"),
        levels,
        index=min(1, len(levels) - 1),
        format_func=lambda lv: _level_label(plan, lv),
        key="org_level",
    )
    table = org_rollup(plan, level)
    st.dataframe(
        table,
        hide_index=True,
        width="stretch",
        column_config={
            "code": st.column_config.TextColumn(t("org.col.code")),
            "name": st.column_config.TextColumn(t("org.col.name")),
            "parent": st.column_config.TextColumn(t("org.col.parent")),
            "n_grids": st.column_config.NumberColumn(t("org.col.grids")),
            "n_managers": st.column_config.NumberColumn(t("terr.col.n_managers")),
            "n_areas": st.column_config.NumberColumn(t("org.col.areas")),
            "population": st.column_config.NumberColumn(t("col.population"), format="%.0f"),
            "customers": st.column_config.NumberColumn(t("col.customers"), format="%.0f"),
            "spend": st.column_config.NumberColumn(t("col.spend"), format="%.0f"),
            "hours_total": st.column_config.NumberColumn(t("terr.col.hours"), format="%.1f"),
        },
    )


def _apply_staff(plan, edited: pd.DataFrame, ratio: int) -> None:
    people = edited[edited["person"].fillna("").astype(str).str.strip() != ""]
    people = people[~people["person"].astype(str).str.match(r"^(AM|MM)\d+$")]
    settings = StaffSettings(marketing_ratio=int(ratio) or None)
    try:
        push(assign_staff(plan, people, settings), "edit staff")
    except GridplanError as e:
        show_error(e)


def _staff_editor(plan) -> None:
    st.caption(t("org.staff_help"))
    staff = plan.staff
    view = (
        staff[["person", "role", "area", "unit"]].copy()
        if staff is not None and len(staff)
        else pd.DataFrame({"person": [], "role": [], "area": [], "unit": []})
    )
    edited = st.data_editor(
        view,
        num_rows="dynamic",
        width="stretch",
        key=f"staff_editor_{len(view)}",
        column_config={
            "person": st.column_config.TextColumn(t("org.col.person")),
            "role": st.column_config.SelectboxColumn(t("roles.col.role"), options=STAFF_ROLES),
            "area": st.column_config.SelectboxColumn(
                t("terr.col.area"), options=["", *staff_areas(plan)]
            ),
            "unit": st.column_config.TextColumn(t("org.col.unit")),
        },
    )
    ratio = st.number_input(
        t("org.marketing_ratio"), 0, 20, 0, 1, key="mm_ratio", help=t("org.marketing_help")
    )
    if st.button(t("org.apply_staff"), key="apply_staff"):
        _apply_staff(plan, edited, int(ratio))


def organisation_section(plan) -> None:
    """Area teams, the staff editor and, with an organisation, the roll-up per level."""
    if not staff_areas(plan):
        return
    st.subheader(t("org.teams"))
    st.dataframe(
        area_team(plan),
        hide_index=True,
        width="stretch",
        column_config={
            "area": st.column_config.TextColumn(t("terr.col.area")),
            "unit": st.column_config.TextColumn(t("org.col.unit")),
            "area_manager": st.column_config.TextColumn(t("role.area")),
            "community_managers": st.column_config.TextColumn(t("role.cm")),
            "marketing_managers": st.column_config.TextColumn(t("org.marketing")),
            "hours": st.column_config.NumberColumn(t("terr.col.hours"), format="%.1f"),
        },
    )
    with st.expander(t("org.staff"), expanded=False):
        _staff_editor(plan)
    if org_levels(plan):
        st.subheader(t("org.rollup"))
        _rollup(plan)
