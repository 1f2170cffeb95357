"""Territories page: the team, headcount, balance, map by manager, click-to-reassign,
locks, minimum-disruption re-balance, workload chart with the tolerance band, areas."""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd
import streamlit as st
from pyproj import Transformer
from streamlit_folium import st_folium

from gridplan.balance import BalanceConfig
from gridplan.errors import GridplanError
from gridplan.layers.crs import WGS84
from gridplan.maps import MapSettings, plan_grid_map
from gridplan.plan import edits
from gridplan.plan.model import HOURS, areas, manager_table, plan_headcount
from gridplan.plan.organisation import org_levels
from gridplan.plan.pipeline import APP_BALANCE_SECONDS
from gridplan.plan.rules import check_plan, summary_line
from gridplan.plan.staff import assign_staff
from gridplan.plan.steps import (
    apply_team,
    balance_plan,
    default_capacity_h,
    default_team,
    heavy_grids,
    plan_floors,
    rebalance_around,
    split_heavy_grids,
    tolerance_bound,
)
from gridplan.workload import ROLES, headcount_by_unit, suggest_headcount
from ui.i18n import lang, t
from ui.map_events import grid_at, new_click
from ui.organisation_view import area_level_picker, organisation_section
from ui.state import (
    cell_adjacency,
    cell_edges,
    current_plan,
    grid_shapes,
    progress_callback,
    push,
    show_error,
)


def _to_lonlat(plan, x: pd.Series, y: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    tr = Transformer.from_crs(plan.crs, WGS84, always_xy=True)
    return tr.transform(x.to_numpy(float), y.to_numpy(float))


def _from_lonlat(plan, lon: pd.Series, lat: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    tr = Transformer.from_crs(WGS84, plan.crs, always_xy=True)
    return tr.transform(lon.to_numpy(float), lat.to_numpy(float))


def _team_view(plan) -> pd.DataFrame:
    team = plan.managers.copy()
    out = pd.DataFrame(
        {
            "manager": team["manager"].astype(str),
            "capacity_h": pd.to_numeric(team["capacity_h"], errors="coerce"),
            "area": team["area"].astype(str) if "area" in team else "",
        }
    )
    if org_levels(plan):  # the organisation unit each manager works in (blank: by hours)
        out["unit"] = team["unit"].fillna("").astype(str) if "unit" in team else ""
    if {"home_x", "home_y"} <= set(team.columns):
        lon, lat = _to_lonlat(plan, team["home_x"], team["home_y"])
        out["home_lon"], out["home_lat"] = lon, lat
    else:
        out["home_lon"], out["home_lat"] = np.nan, np.nan
    return out


def _reassign() -> None:
    plan = current_plan()
    gid = st.session_state.get("re_grid")
    man = st.session_state.get("re_manager")
    if plan is None or not gid or not man:
        return
    before = str(plan.grids.loc[plan.grids["grid_id"].astype(str) == gid, "manager"].iloc[0])
    try:
        new = edits.reassign(plan, [gid], man)
        if st.session_state.get("re_lock"):
            new = edits.set_locked(new, [gid], True)
        push(new, f"{gid}: {before or '—'} → {man}")
        st.session_state["last_move"] = (gid, before, man)
    except GridplanError as err:
        st.session_state["terr_error"] = err


def _toggle_lock() -> None:
    plan = current_plan()
    gid = st.session_state.get("re_grid")
    if plan is None or not gid:
        return
    locked = edits.locked_grids(plan)
    push(edits.set_locked(plan, [gid], gid not in locked), f"lock {gid}")


def _repair(ids: tuple[str, ...]) -> None:
    plan = current_plan()
    if plan is None:
        return
    cfg = BalanceConfig(tolerance=plan.tolerance, time_limit=5.0)
    try:
        new, _ = rebalance_around(plan, cell_edges(plan), ids, cfg)
        push(new, f"re-balance around {ids[0]}")
    except GridplanError as err:
        st.session_state["terr_error"] = err


#: the tolerance slider's upper end (± % of the target workload)
_MAX_TOL_PCT = 50


def _split_heavy(tol: float) -> None:
    """One click: re-partition the grids too heavy for ``tol`` with a lower floor."""
    plan = current_plan()
    if plan is None:
        return
    try:
        n0 = len(plan.grids)
        new, notes = split_heavy_grids(plan, cell_adjacency(plan), tol)
        n = len(heavy_grids(plan, tol))
        push(new, f"split the {n} heaviest grids")
        st.session_state["split_notes"] = [
            t("terr.split_done", n=n, grids=f"{len(new.grids):,} (+{len(new.grids) - n0})"),
            *notes,
        ]
    except GridplanError as err:
        st.session_state["terr_error"] = err


def _use_tolerance(pct: int) -> None:
    st.session_state["tol"] = pct


def _reach_warning(plan, tol: float) -> None:
    """Before any search: say when the grids cannot reach ``tol``, with the numbers, and
    offer the two repairs (split the heaviest grids, use the reachable tolerance)."""
    bound = tolerance_bound(plan)
    for note in st.session_state.pop("split_notes", []):
        st.caption(note)
    if bound.tolerance <= tol + 1e-12:
        return
    reach_pct = int(np.ceil(bound.tolerance * 100 - 1e-9))
    st.warning(
        t(
            "terr.out_of_reach",
            tol=f"{tol:.0%}",
            why="; ".join(bound.reasons[:2]),
            reach=f"{bound.tolerance:.1%}",
        )
    )
    b1, b2 = st.columns(2)
    n = len(heavy_grids(plan, tol))
    if n:
        b1.button(
            t("terr.split_heavy", n=n),
            on_click=_split_heavy,
            args=(tol,),
            help=t("terr.split_heavy_help"),
            key="split_heavy",
        )
    if reach_pct <= _MAX_TOL_PCT:
        b2.button(
            t("terr.use_reachable", reach=f"{reach_pct}%"),
            on_click=_use_tolerance,
            args=(reach_pct,),
            key="use_reachable",
        )


def _workload_chart(table: pd.DataFrame, tol: float) -> alt.LayerChart:
    df = table[["manager", "hours", "target_h", "within"]].copy()
    df["lower"] = df["target_h"] * (1 - tol)
    df["upper"] = df["target_h"] * (1 + tol)
    base = alt.Chart(df).encode(x=alt.X("manager:N", sort=None, title=t("terr.manager")))
    band = base.mark_bar(color="#2ca02c", opacity=0.25, size=14).encode(
        y=alt.Y("lower:Q", title=t("terr.h_month")), y2="upper:Q"
    )
    bars = base.mark_bar(size=6).encode(
        y="hours:Q",
        color=alt.condition("datum.within", alt.value("#1f78b4"), alt.value("#e31a1c")),
        tooltip=[
            alt.Tooltip("manager:N", title=t("terr.manager")),
            alt.Tooltip("hours:Q", format=",.1f", title=t("terr.col.hours")),
            alt.Tooltip("target_h:Q", format=",.1f", title=t("terr.col.target")),
        ],
    )
    return (band + bars).properties(height=260)


def _role_names() -> dict[str, str]:
    """Role code -> its name in the interface language."""
    return {
        "cm": t("role.cm"),
        "group": t("role.group"),
        "vip": t("role.vip"),
        "phone": t("role.phone"),
        "area": t("role.area"),
    }


def _role_headcount(plan, cap: float) -> None:
    """The headcount per role (city, districts, areas) at ``cap`` h/month per community
    manager: by hours, by ratio, recommended and the rule that binds."""
    st.caption(t("terr.roles_help"))
    names = _role_names()
    binds = {
        "hours": t("roles.binds.hours"),
        "ratio": t("roles.binds.ratio"),
        "both": t("roles.binds.both"),
    }
    roles = plan_headcount(plan, cm_capacity_h=cap)
    roles["binds"] = roles["binds"].map(binds).fillna("")
    city = roles[roles["level"] == "city"].assign(role_label=lambda d: d["role"].map(names))
    st.caption(t("terr.roles_city"))
    st.dataframe(
        city.drop(columns=["level", "unit", "role"]),
        hide_index=True,
        width="stretch",
        column_config={
            "role_label": st.column_config.TextColumn(t("roles.col.role")),
            "hours": st.column_config.NumberColumn(t("roles.col.hours"), format="%.1f"),
            "capacity_h": st.column_config.NumberColumn(t("roles.col.capacity"), format="%.0f"),
            "by_hours": st.column_config.NumberColumn(t("roles.col.by_hours"), format="%.2f"),
            "units": st.column_config.NumberColumn(t("roles.col.units"), format="%.0f"),
            "ratio_of": st.column_config.TextColumn(t("roles.col.ratio_of")),
            "per_manager": st.column_config.NumberColumn(t("roles.col.per_manager"), format="%g"),
            "by_ratio": st.column_config.NumberColumn(t("roles.col.by_ratio"), format="%.2f"),
            "managers_by_hours": st.column_config.NumberColumn(t("roles.col.managers_by_hours")),
            "managers_by_ratio": st.column_config.NumberColumn(t("roles.col.managers_by_ratio")),
            "recommended": st.column_config.NumberColumn(t("roles.col.recommended")),
            "binds": st.column_config.TextColumn(t("roles.col.binds")),
        },
    )
    st.caption(t("terr.roles_units"))
    wide = headcount_by_unit(roles)
    role_cols = {r.code: st.column_config.NumberColumn(names[r.code]) for r in ROLES}
    binds_word = t("roles.col.binds")
    bind_cols = {
        f"{r.code}_binds": st.column_config.TextColumn(f"{names[r.code]} · {binds_word}")
        for r in ROLES
    }
    st.dataframe(
        wide,
        hide_index=True,
        width="stretch",
        column_config={
            "level": st.column_config.TextColumn(t("roles.col.level")),
            "unit": st.column_config.TextColumn(t("roles.col.unit")),
            **role_cols,
            **bind_cols,
        },
    )


st.title(t("terr.title"))
plan = current_plan()
err = st.session_state.pop("terr_error", None)
if err is not None:
    show_error(err)
if plan is None:
    st.info(t("no_plan"))
    st.stop()

# ---------------------------------------------------------------- team + headcount
with st.expander(t("terr.team"), expanded=not (plan.grids["manager"] != "").any()):
    hours = pd.to_numeric(plan.grids[HOURS], errors="coerce").fillna(0)
    cap = st.number_input(t("terr.capacity"), 10.0, 400.0, default_capacity_h(), 8.0, key="cap_h")
    head = suggest_headcount(hours, cap)
    n_sug = int(head.loc["city", "managers"])
    c1, c2 = st.columns([1, 2])
    c1.metric(
        t("terr.headcount"),
        n_sug,
        help=t("terr.headcount_help", total=f"{hours.sum():,.0f}", cap=f"{cap:g}"),
    )
    n_team = c2.number_input(t("terr.team_size"), 1, 2000, n_sug, key="team_n")
    if c2.button(t("terr.use_headcount", n=int(n_team)), key="use_headcount"):
        team = default_team(float(hours.sum()), cap, int(n_team))
        g = plan.grids.copy()
        g["manager"] = ""
        plan = push(plan.with_(managers=team, grids=g), f"team of {int(n_team)}")
    edited = st.data_editor(
        _team_view(plan),
        num_rows="dynamic",
        width="stretch",
        key=f"team_editor_{len(plan.managers)}",
        column_config={
            "manager": st.column_config.TextColumn(t("terr.manager")),
            "capacity_h": st.column_config.NumberColumn(t("terr.col.capacity")),
            "area": st.column_config.TextColumn(t("terr.col.area")),
            "home_lon": st.column_config.NumberColumn(t("terr.col.home_lon"), format="%.5f"),
            "home_lat": st.column_config.NumberColumn(t("terr.col.home_lat"), format="%.5f"),
            "unit": st.column_config.TextColumn(t("org.col.unit")),
        },
    )
    if st.button(t("terr.apply_team"), key="apply_team"):
        try:
            plan = push(apply_team(plan, edited), "edit team")
        except GridplanError as e:
            show_error(e)
    home_for = st.selectbox(
        t("terr.home_for"), ["—", *plan.managers["manager"].astype(str)], key="home_for"
    )

# ---------------------------------------------------------------- balance
plan = area_level_picker(plan)
c1, c2, c3, c4 = st.columns([2, 1, 1, 1])
tol_pct = c1.slider(t("terr.tolerance"), 1, _MAX_TOL_PCT, 3, key="tol")
tlim = c2.number_input(t("terr.time"), 1.0, 600.0, APP_BALANCE_SECONDS, 1.0, key="bal_time")
do_balance = c3.button(t("terr.balance"), type="primary", key="balance")
do_rebalance = c4.button(t("terr.rebalance"), key="rebalance")
# the re-balance's disruption caps (0 = no cap)
cap_moved = c4.number_input(
    t("terr.max_moved"), 0, 100_000, 0, 1, key="rb_max_moved", help=t("terr.max_moved_help")
)
cap_hours = c4.number_input(
    t("terr.max_moved_h"), 0.0, 1e7, 0.0, 10.0, key="rb_max_hours", help=t("terr.max_moved_help")
)
_reach_warning(plan, tol_pct / 100.0)
if do_balance or do_rebalance:
    bar = st.progress(0.0, text=t("terr.balancing"))
    cfg = BalanceConfig(tolerance=tol_pct / 100.0, time_limit=float(tlim))
    locks = edits.locked_grids(plan)
    previous = None
    if do_rebalance:
        previous = dict(zip(plan.grids["grid_id"].astype(str), plan.grids["manager"], strict=True))
    try:
        plan, rep = balance_plan(
            plan,
            cell_edges(plan),
            cfg,
            locks=locks,
            previous=previous,
            managers_per_area=0 if do_rebalance else 5,
            progress=progress_callback(bar),
            max_moved=int(cap_moved or 0) or None if do_rebalance else None,
            max_moved_hours=float(cap_hours or 0) or None if do_rebalance else None,
        )
        if do_balance:  # new areas: every area its leader again
            plan = assign_staff(plan)
        push(plan, "re-balance (minimum disruption)" if do_rebalance else "balance")
        bar.progress(
            1.0,
            text=t("terr.bal_done", dev=f"{rep.max_deviation:.1%}", moved=rep.moved_units),
        )
        for note in rep.notes[:5]:
            st.caption(note)
    except GridplanError as e:
        show_error(e)

# after the balance, so that it counts the areas of this run's plan
with st.expander(t("terr.roles"), expanded=False):
    _role_headcount(plan, cap)

if not (plan.grids["manager"].astype(str) != "").any():
    st.info(t("terr.no_manager"))
    st.stop()

table = manager_table(plan)
edges = cell_edges(plan)
report = check_plan(plan, edges, floors=plan_floors(plan))
m1, m2, m3, m4 = st.columns(4)
m1.metric(t("terr.managers"), len(table))
m2.metric(t("terr.max_dev"), f"{table['deviation'].abs().max():.1%}")
m3.metric(t("terr.within"), f"{int(table['within'].sum())}/{len(table)}")
m4.metric(t("terr.locked"), len(edits.locked_grids(plan)))

# ---------------------------------------------------------------- map + reassign
left, right = st.columns([3, 2])
shapes = grid_shapes(plan)
with left:
    homes = None
    if {"home_x", "home_y"} <= set(plan.managers.columns):
        lon, lat = _to_lonlat(plan, plan.managers["home_x"], plan.managers["home_y"])
        homes = pd.DataFrame({"manager": plan.managers["manager"], "lon": lon, "lat": lat})
    m = plan_grid_map(
        plan.grids,
        shapes,
        "manager",
        selected=[st.session_state.get("re_grid", "")],
        settings=MapSettings(tiles=st.session_state.get("tiles", "OpenStreetMap")),
        plan=plan,
        language=lang(),
        homes=homes,
    )
    event = st_folium(
        m,
        height=560,
        use_container_width=True,
        returned_objects=["last_clicked"],
        key="terr_map",
    )
    pt = new_click(event, st.session_state.get("terr_last_click"))
    if pt is not None:
        st.session_state["terr_last_click"] = pt
        if home_for != "—":
            x, y = _from_lonlat(plan, pd.Series([pt[0]]), pd.Series([pt[1]]))
            team = plan.managers.copy()
            for c in ("home_x", "home_y"):
                if c not in team:
                    team[c] = np.nan
            team.loc[team["manager"] == home_for, ["home_x", "home_y"]] = [x[0], y[0]]
            plan = push(plan.with_(managers=team), f"home of {home_for}")
        else:
            hit = grid_at(shapes, *pt)
            if hit is not None:
                st.session_state["re_grid"] = hit

with right:
    ids = list(plan.grids["grid_id"].astype(str))
    if st.session_state.get("re_grid") not in ids:
        st.session_state["re_grid"] = ids[0]
    gid = st.selectbox(t("terr.grid"), ids, key="re_grid")
    row = plan.grids[plan.grids["grid_id"].astype(str) == gid].iloc[0]
    managers = list(plan.managers["manager"].astype(str))
    st.caption(
        t(
            "terr.grid_line",
            gid=gid,
            manager=row["manager"] or "—",
            hours=f"{row[HOURS]:,.1f}",
            state=t("terr.state_locked")
            if gid in edits.locked_grids(plan)
            else t("terr.state_free"),
        )
    )
    if st.session_state.get("re_manager") not in managers:
        st.session_state["re_manager"] = managers[0]
    st.selectbox(t("terr.manager"), managers, key="re_manager")
    st.checkbox(t("terr.lock_there"), key="re_lock")
    b1, b2 = st.columns(2)
    b1.button(t("terr.reassign"), on_click=_reassign, type="primary", key="reassign")
    b2.button(
        t("terr.unlock_grid") if gid in edits.locked_grids(plan) else t("terr.lock_grid"),
        on_click=_toggle_lock,
        key="lock_grid",
    )
    last = st.session_state.get("last_move")
    involved = [last[1], last[2]] if last else [str(row["manager"]), st.session_state["re_manager"]]
    st.markdown(f"**{t('terr.involved')}**")
    inv = table[table["manager"].isin(involved)][["manager", "hours", "target_h", "deviation"]]
    inv = inv.assign(
        hours=inv["hours"].map("{:,.1f}".format),
        target_h=inv["target_h"].map("{:,.1f}".format),
        deviation=inv["deviation"].map("{:+.1%}".format),
    )
    inv = inv.rename(
        columns={
            "hours": t("terr.col.hours"),
            "target_h": t("terr.col.target"),
            "deviation": t("terr.col.deviation"),
        }
    )
    st.table(inv.set_index("manager").rename_axis(t("terr.manager")))
    st.subheader(t("grids.checks"))
    if report.ok:
        st.success(t("grids.all_ok"))
    else:
        st.warning(summary_line(report))
        for i, v in enumerate(report.violations[:8]):
            if v.repair == "rebalance":
                st.button(
                    f"{t('repair')}: {v.message}", on_click=_repair, args=(v.ids,), key=f"tr_{i}"
                )
            else:
                st.caption(v.message)
    if report.exceptions:
        with st.expander(t("checks.exceptions", n=len(report.exceptions))):
            st.caption(t("checks.exceptions_help"))
            for x in report.exceptions:
                st.caption(x.message)

st.subheader(t("terr.workload"))
st.altair_chart(_workload_chart(table, plan.tolerance), width="stretch")
st.dataframe(
    table.drop(columns=["grids"]),
    width="stretch",
    hide_index=True,
    column_config={
        "manager": st.column_config.TextColumn(t("terr.manager")),
        "area": st.column_config.TextColumn(t("terr.col.area")),
        "capacity_h": st.column_config.NumberColumn(t("terr.col.capacity"), format="%.1f"),
        "hours": st.column_config.NumberColumn(t("terr.col.hours"), format="%.1f"),
        "target_h": st.column_config.NumberColumn(t("terr.col.target"), format="%.1f"),
        "deviation": st.column_config.NumberColumn(t("terr.col.deviation"), format="%.3f"),
        "within": st.column_config.CheckboxColumn(t("terr.within")),
        "n_grids": st.column_config.NumberColumn(t("terr.col.n_grids")),
        "population": st.column_config.NumberColumn(t("col.population"), format="%.0f"),
        "customers": st.column_config.NumberColumn(t("col.customers"), format="%.0f"),
        "spend": st.column_config.NumberColumn(t("col.spend"), format="%.0f"),
    },
)
ar = areas(plan)
if len(ar):
    st.subheader(t("terr.areas"))
    st.dataframe(
        pd.DataFrame(ar.drop(columns="geometry")),
        hide_index=True,
        column_config={
            "area": st.column_config.TextColumn(t("terr.col.area")),
            "hours": st.column_config.NumberColumn(t("terr.col.hours"), format="%.1f"),
            "population": st.column_config.NumberColumn(t("col.population"), format="%.0f"),
            "customers": st.column_config.NumberColumn(t("col.customers"), format="%.0f"),
            "spend": st.column_config.NumberColumn(t("col.spend"), format="%.0f"),
            "n_managers": st.column_config.NumberColumn(t("terr.col.n_managers")),
        },
    )
organisation_section(plan)
