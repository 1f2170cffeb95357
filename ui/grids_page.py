"""Grids page: rules, partition with progress, map + table of grids, hand edits with
live checks and one-click repairs. Actions run in button callbacks (before the page is
drawn), so the map always shows the plan after the edit."""

from __future__ import annotations

import time
from typing import Any

import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

from gridplan.balance import BalanceConfig
from gridplan.cells.sizing import estimate_grids, resolution_for_cells_per_grid
from gridplan.errors import GridplanError
from gridplan.layers.crs import WGS84
from gridplan.layers.customers import customer_meta
from gridplan.maps import MapSettings, add_draw, plan_grid_map
from gridplan.partition import PartitionConfig, partition_cells
from gridplan.plan import edits
from gridplan.plan.model import HOURS
from gridplan.plan.organisation import org_labels, org_levels
from gridplan.plan.pipeline import DEMO_FLOORS
from gridplan.plan.rules import check_plan, summary_line
from gridplan.plan.steps import (
    plan_floors,
    plan_from_partition,
    rebalance_around,
    repartition_grids,
)
from ui.i18n import lang, t
from ui.map_events import (
    cells_in_polygon,
    cells_in_rectangle,
    drawn_polygon,
    grid_at,
    new_click,
    toggle,
)
from ui.state import (
    cell_adjacency,
    cell_edges,
    current_plan,
    engine_pool,
    grid_shapes,
    progress_callback,
    push,
    show_error,
)

TABLE_COLUMNS = [
    "grid_id",
    "district",
    "grid_type",
    "population",
    "customers",
    "spend",
    "area_km2",
    "coverage",
    HOURS,
    "n_cells",
    "manager",
    "locked",
]
COLUMN_LABELS = {
    "grid_id": t("col.grid_id"),
    "district": t("col.district"),
    "grid_type": t("col.grid_type"),
    "population": t("col.population"),
    "customers": t("col.customers"),
    "spend": t("col.spend"),
    "area_km2": t("col.area_km2"),
    "coverage": t("col.coverage"),
    HOURS: t("col.hours_total"),
    "n_cells": t("col.n_cells"),
    "manager": t("col.manager"),
    "locked": t("col.locked"),
}


@st.cache_resource(show_spinner=False, max_entries=16)
def _demo_partition(source_key: tuple, config_key: str, _cellset: Any, _config: PartitionConfig):
    """Partition of a demo city's cells (deterministic, so shared between sessions; no
    progress bar: a cached function may not draw into the page)."""
    return partition_cells(_cellset.cells, _cellset.adjacency, _config, pool=engine_pool())


def _config_from_inputs() -> PartitionConfig:
    """The partition settings of the rules' inputs; an input not drawn yet has the
    :class:`PartitionConfig` default."""
    s = st.session_state
    d = PartitionConfig()
    floors = {"population": float(s.get("f_pop", DEMO_FLOORS["population"]))}
    if s.get("f_cust", DEMO_FLOORS["customers"]) > 0:
        floors["customers"] = float(s["f_cust"])
    if s.get("f_spend", 0.0) > 0:
        floors["spend"] = float(s["f_spend"])
    homog = {"coverage": float(s["h_cov"])} if s.get("h_cov", 1.0) > 0 else {}
    return PartitionConfig(
        floors=floors,
        max_population=float(s["c_pop"]) if s.get("c_pop", 0.0) > 0 else None,
        max_area_km2=float(s["c_area"]) if s.get("c_area", 0.0) > 0 else None,
        homogeneity=homog,
        respect_districts=bool(s.get("r_dist", d.respect_districts)),
        seed=int(s.get("p_seed", d.seed)),
        time_limit_s=float(s.get("p_time", d.time_limit_s)),
    )


#: Cells per grid below which the partition has little to shape (issue 14: aim ≥ 8).
MIN_CELLS_PER_GRID = 8


def expected_grids_captions(cellset: Any, config: PartitionConfig) -> list[str]:
    """Before running: the expected grids and cells per grid for the floors (an estimate,
    :mod:`gridplan.cells.sizing`), and a finer resolution when cells per grid < 8."""
    if cellset is None or not len(cellset.cells):
        return []
    cells = cellset.cells
    floors = {k: v for k, v in config.floors.items() if k in cells.columns}
    column = "district" if config.respect_districts else None
    try:
        est = estimate_grids(cells, floors, district_column=column)
    except GridplanError:
        return []
    lines = [
        t(
            "grids.expected",
            grids=f"{est.n_grids:,}",
            cells=f"{est.n_cells:,}",
            per=f"{est.cells_per_grid:.1f}",
        )
    ]
    if est.cells_per_grid >= MIN_CELLS_PER_GRID:
        return lines
    res = cellset.h3_resolution
    if res is None or res >= 15:
        return [*lines, t("grids.suggest_finer", target=MIN_CELLS_PER_GRID)]
    better, finer = resolution_for_cells_per_grid(
        cells, res, floors, MIN_CELLS_PER_GRID, lowest=res + 1, district_column=column
    )
    key = "grids.suggest_res" if better <= 9 else "grids.suggest_res_cli"
    per = f"{finer.cells_per_grid:.1f}"
    return [*lines, t(key, target=MIN_CELLS_PER_GRID, res=better, per=per)]


def _fail(err: GridplanError) -> None:
    st.session_state["grids_error"] = err


def _run_partition(bar: Any) -> None:
    cellset = st.session_state.get("cellset")
    layers = st.session_state.get("layers")
    if cellset is None:
        st.warning(t("grids.need_data"))
        return
    t0 = time.perf_counter()
    try:
        config = _config_from_inputs()
        key = st.session_state.get("source_key", ())
        if key and key[0] == "demo":
            bar.progress(0.05, text=t("grids.partitioning"))
            part = _demo_partition(key, repr(config), cellset, config)
        else:
            part = partition_cells(
                cellset.cells,
                cellset.adjacency,
                config,
                progress=progress_callback(bar),
                pool=engine_pool(),
            )
        plan = plan_from_partition(
            cellset, part, layers, name=f"{layers.name} plan", floors=dict(config.floors)
        )
        tiers = st.session_state.get("customer_tiers")
        if tiers is not None and key and key[0] != "demo":  # the CRM columns used, kept
            plan = plan.with_(meta={**plan.meta, **customer_meta(tiers)})
    except GridplanError as err:
        show_error(err)
        return
    bar.progress(1.0, text=t("grids.n_grids", n=f"{len(plan.grids):,}"))
    st.session_state["partition_timing"] = t(
        "grids.timing",
        total=f"{time.perf_counter() - t0:.1f}",
        engine=f"{float(part.summary.get('seconds', 0.0)):.1f}",
    )
    st.session_state["grid_sel"] = []
    st.session_state["partition_notes"] = list(part.notes)
    pending = st.session_state.pop("pending_import", None)
    from ui.state import history

    history().reset(plan, "partition")
    if pending is not None:
        try:
            plan, notes = edits.import_assignment(plan, pending)
            push(plan, "import today's plan")
            st.session_state["partition_notes"] += notes
        except GridplanError as err:
            show_error(err)


# ------------------------------------------------------------------ callbacks


def _edit(fn, label: str) -> None:
    plan = current_plan()
    if plan is None:
        return
    try:
        push(fn(plan), label)
    except GridplanError as err:
        _fail(err)


def _merge() -> None:
    sel = st.session_state.get("grid_sel", [])
    _edit(lambda p: edits.merge_grids(p, sel), f"merge {', '.join(sel[:3])}")
    st.session_state["grid_sel"] = sel[:1]


def _split() -> None:
    sel = st.session_state.get("grid_sel", [])
    if len(sel) != 1:
        st.session_state["grids_error"] = GridplanError(t("grids.split_one"))
        return
    _edit(lambda p: edits.split_grid(p, sel[0], cell_edges(p)), f"split {sel[0]}")


def _lock(flag: bool) -> None:
    sel = st.session_state.get("grid_sel", [])
    _edit(lambda p: edits.set_locked(p, sel, flag), ("lock " if flag else "unlock ") + str(sel[:3]))


def _rerun_selection() -> None:
    sel = list(st.session_state.get("grid_sel", []))
    plan = current_plan()
    if plan is None or not sel:
        return
    _edit(
        lambda p: repartition_grids(p, cell_adjacency(p), sel, _config_from_inputs()),
        f"re-partition {len(set(sel))} grids",
    )


def _cell_selection() -> list[str]:
    """Cells inside the drawn polygon, else inside the lon/lat rectangle."""
    plan = current_plan()
    s = st.session_state
    cells = plan.cells[["cell_id", "geometry"]].to_crs(WGS84)
    drawn = s.get("drawn_polygon")
    if drawn is not None:
        return cells_in_polygon(cells, drawn)
    return cells_in_rectangle(cells, s["rx0"], s["ry0"], s["rx1"], s["ry1"])


def _clear_drawing() -> None:
    st.session_state["drawn_polygon"] = None


def _new_grid_from_cells() -> None:
    ids = _cell_selection()
    _edit(lambda p: edits.move_cells(p, ids, None), f"new grid of {len(ids)} cells")


def _move_cells_into() -> None:
    ids = _cell_selection()
    target = st.session_state.get("move_target")
    _edit(lambda p: edits.move_cells(p, ids, target), f"{len(ids)} cells into {target}")


def _level_columns(plan) -> list[str]:
    """The grids' unit columns of every organisation level (colour by a level)."""
    return [f"unit_{lv}" for lv in org_levels(plan)]


def _level_labels(plan) -> dict[str, str]:
    return {f"unit_{lv}": label for lv, label in org_labels(plan).items()}


def _repair(rule: str, ids: tuple[str, ...]) -> None:
    plan = current_plan()
    if plan is None:
        return
    edges = cell_edges(plan)
    if rule == "grid_contiguity":
        _edit(lambda p: edits.reconnect_islands(p, edges, ids), f"reconnect {ids[0]}")
    elif rule == "floor":
        _edit(lambda p: edits.merge_into_neighbour(p, ids[0], edges), f"merge {ids[0]}")
    elif rule in ("tolerance", "territory_contiguity", "unit"):
        cfg = BalanceConfig(tolerance=plan.tolerance, time_limit=5.0)
        _edit(lambda p: rebalance_around(p, edges, ids, cfg)[0], f"re-balance around {ids[0]}")


# ------------------------------------------------------------------ page

st.title(t("grids.title"))
plan = current_plan()
with st.expander(t("grids.rules"), expanded=plan is None):
    c1, c2, c3 = st.columns(3)
    pop_floor, cust_floor = DEMO_FLOORS["population"], DEMO_FLOORS["customers"]
    c1.number_input(t("grids.floor_pop"), 0.0, 1e7, pop_floor, 500.0, key="f_pop")
    c1.number_input(t("grids.floor_cust"), 0.0, 1e6, cust_floor, 5.0, key="f_cust")
    c1.number_input(t("grids.floor_spend"), 0.0, 1e9, 0.0, 1000.0, key="f_spend")
    c2.number_input(t("grids.max_pop"), 0.0, 1e8, 0.0, 1000.0, key="c_pop")
    c2.number_input(t("grids.max_area"), 0.0, 1e5, 0.0, 1.0, key="c_area")
    c2.number_input(t("grids.homog"), 0.0, 10.0, 1.0, 0.5, key="h_cov")
    c3.checkbox(t("grids.districts"), True, key="r_dist")
    c3.number_input(t("grids.seed"), 0, 10_000, 0, key="p_seed")
    c3.number_input(t("terr.time"), 1.0, 600.0, 30.0, 5.0, key="p_time")
    for line in expected_grids_captions(st.session_state.get("cellset"), _config_from_inputs()):
        st.caption(line)
    run = st.button(t("grids.run"), type="primary", key="run_partition")
    bar = st.empty()
    if run:
        _run_partition(bar.progress(0.0, text=t("grids.starting")))
        plan = current_plan()

err = st.session_state.pop("grids_error", None)
if err is not None:
    show_error(err)
if plan is None:
    st.info(t("no_plan"))
    st.stop()
if st.session_state.get("partition_timing"):
    st.caption(st.session_state["partition_timing"])
for note in st.session_state.get("partition_notes", [])[:8]:
    st.caption(note)

edges = cell_edges(plan)
assigned = bool((plan.grids["manager"].astype(str) != "").any())
report = check_plan(plan, edges, floors=plan_floors(plan), territories=assigned)
g = plan.grids
c1, c2, c3, c4 = st.columns(4)
c1.metric(t("grids.count"), f"{len(g):,}")
c2.metric(t("data.cells"), f"{len(plan.cells):,}")
c3.metric(t("grids.hours"), f"{g[HOURS].sum():,.0f}")
c4.metric(
    t("grids.locked"), f"{int(g.get('locked', pd.Series(False)).fillna(False).astype(bool).sum())}"
)

left, right = st.columns([3, 2])
shapes = grid_shapes(plan)
with left:
    colour = st.selectbox(
        t("grids.colour"),
        ["grid_type", "population", "customers", "spend", HOURS, "manager", *_level_columns(plan)],
        format_func=lambda c: COLUMN_LABELS.get(c, _level_labels(plan).get(c, c)),
        key="grids_colour",
    )
    sel = [s for s in st.session_state.get("grid_sel", []) if s in set(g["grid_id"].astype(str))]
    m = plan_grid_map(
        g,
        shapes,
        colour,
        selected=sel,
        tooltip=("grid_id", "grid_type", "population", "customers", HOURS, "manager"),
        settings=MapSettings(tiles=st.session_state.get("tiles", "OpenStreetMap")),
        plan=plan,
        language=lang(),
    )
    can_draw = add_draw(m)
    event = st_folium(
        m,
        height=560,
        use_container_width=True,
        returned_objects=["last_clicked", "last_active_drawing"],
        key="grids_map",
    )
    poly = drawn_polygon(event)
    pt = new_click(event, st.session_state.get("grids_last_click"))
    if poly is not None and poly.wkt != st.session_state.get("drawn_wkt"):
        st.session_state["drawn_wkt"] = poly.wkt  # a new drawing selects its cells
        st.session_state["drawn_polygon"] = poly
        if pt is not None:  # the click that ended the drawing selects no grid
            st.session_state["grids_last_click"] = pt
            pt = None
    if pt is not None:
        st.session_state["grids_last_click"] = pt
        hit = grid_at(shapes, *pt)
        if hit is not None:
            sel = toggle(sel, hit)
    st.session_state["grid_sel"] = sel
    st.caption(t("grids.draw_help") if can_draw else t("grids.click_help"))

with right:
    st.subheader(t("grids.edit"))
    st.multiselect(t("grids.selected"), list(g["grid_id"].astype(str)), key="grid_sel")
    b1, b2, b3, b4 = st.columns(4)
    b1.button(t("grids.merge"), on_click=_merge, disabled=len(sel) < 2, key="merge")
    b2.button(t("grids.split"), on_click=_split, disabled=len(sel) != 1, key="split")
    b3.button(t("grids.lock"), on_click=_lock, args=(True,), disabled=not sel, key="lock")
    b4.button(t("grids.unlock"), on_click=_lock, args=(False,), disabled=not sel, key="unlock")
    st.button(t("grids.rerun"), on_click=_rerun_selection, disabled=not sel, key="rerun_sel")

    st.markdown(f"**{t('grids.cells_sel')}** {t('grids.lonlat')}")
    if sel and st.session_state.get("rect_for") != tuple(sel):
        b = shapes[shapes["grid_id"].isin(sel)].total_bounds
        for k, v in zip(("rx0", "ry0", "rx1", "ry1"), b, strict=True):
            st.session_state[k] = float(v)
        st.session_state["rect_for"] = tuple(sel)
    if "rx0" not in st.session_state:
        b = shapes.total_bounds
        cx, cy = (b[0] + b[2]) / 2, (b[1] + b[3]) / 2
        for k, v in zip(("rx0", "ry0", "rx1", "ry1"), (cx, cy, cx + 0.01, cy + 0.01), strict=True):
            st.session_state[k] = float(v)
    r1, r2 = st.columns(2)
    r1.number_input(t("west"), key="rx0", format="%.5f", step=0.001)
    r2.number_input(t("east"), key="rx1", format="%.5f", step=0.001)
    r1.number_input(t("south"), key="ry0", format="%.5f", step=0.001)
    r2.number_input(t("north"), key="ry1", format="%.5f", step=0.001)
    if st.session_state.get("drawn_polygon") is not None:
        st.caption(t("grids.n_in_polygon", n=len(_cell_selection())))
        st.button(t("grids.clear_draw"), on_click=_clear_drawing, key="clear_draw")
    else:
        st.caption(t("grids.n_in_rect", n=len(_cell_selection())))
    st.button(t("grids.new_grid"), on_click=_new_grid_from_cells, key="new_grid")
    st.selectbox(t("grids.move_into"), list(g["grid_id"].astype(str)), key="move_target")
    st.button(t("grids.move_into"), on_click=_move_cells_into, key="move_cells")

    st.subheader(t("grids.checks"))
    if report.ok:
        st.success(t("grids.all_ok"))
    else:
        st.warning(summary_line(report))
        for i, v in enumerate(report.violations[:10]):
            st.button(
                f"{t('repair')}: {v.message}",
                on_click=_repair,
                args=(v.rule, v.ids),
                key=f"repair_{i}",
                disabled=not v.repair,
            )
    if report.exceptions:
        with st.expander(t("checks.exceptions", n=len(report.exceptions))):
            st.caption(t("checks.exceptions_help"))
            st.dataframe(
                pd.DataFrame(
                    {
                        t("checks.exc.grid"): [x.id for x in report.exceptions],
                        t("checks.exc.kind"): [
                            t(f"checks.kind.{x.kind}") for x in report.exceptions
                        ],
                        t("checks.exc.cells"): [", ".join(x.cells) for x in report.exceptions],
                        t("checks.exc.distance"): [round(x.distance_m) for x in report.exceptions],
                    }
                ),
                hide_index=True,
                width="stretch",
            )

cols = [c for c in TABLE_COLUMNS if c in g.columns]
st.dataframe(
    pd.DataFrame(g[cols]),
    width="stretch",
    hide_index=True,
    column_config={
        **{c: st.column_config.Column(COLUMN_LABELS[c]) for c in cols if c in COLUMN_LABELS},
        "population": st.column_config.NumberColumn(COLUMN_LABELS["population"], format="%.0f"),
        "spend": st.column_config.NumberColumn(COLUMN_LABELS["spend"], format="%.0f"),
        "area_km2": st.column_config.NumberColumn(COLUMN_LABELS["area_km2"], format="%.2f"),
        HOURS: st.column_config.NumberColumn(COLUMN_LABELS[HOURS], format="%.1f"),
        "coverage": st.column_config.NumberColumn(COLUMN_LABELS["coverage"], format="%.2f"),
    },
)
