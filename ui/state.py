"""Per-session state of the app (only in ``st.session_state``), shared helpers of the
pages: the plan history, the cells' graph, the workspace, error display."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import streamlit as st

from gridplan.errors import GridplanError, InfeasibleError, InputError
from gridplan.maps import grids_wgs84
from gridplan.partition import EnginePool
from gridplan.plan.edits import History
from gridplan.plan.model import Plan
from gridplan.plan.rules import edges_from_adjacency
from gridplan.plan.workspace import Workspace, default_workspace_path
from ui.i18n import t


@st.cache_resource(show_spinner=False)
def engine_pool() -> EnginePool:
    """The partition engine's worker processes, one set for every session of this
    server: started (in the background) the first time the app runs, so a partition
    pays nothing to start them; same grids as the serial engine."""
    pool = EnginePool()
    pool.warm_up()
    return pool


def history() -> History:
    """This session's undo/redo history of plans."""
    if "history" not in st.session_state:
        st.session_state["history"] = History()
    return st.session_state["history"]


def current_plan() -> Plan | None:
    """The plan being edited in this session, if any."""
    return history().current


def push(plan: Plan, label: str) -> Plan:
    """Record an edit (undoable)."""
    return history().push(plan, label)


def cells_key(plan: Plan) -> tuple[Any, ...]:
    """A key of the plan's cell layout (cells never change shape within a plan)."""
    ids = plan.cells["cell_id"].astype(str)
    return (len(ids), ids.iloc[0] if len(ids) else "", ids.iloc[-1] if len(ids) else "")


def cell_adjacency(plan: Plan) -> Any:
    """The cells' CSR adjacency: the session's cell set when it matches, else built from
    the cell polygons (a plan opened from the workspace)."""
    key = cells_key(plan)
    cached = st.session_state.get("adjacency")
    if cached is not None and cached[0] == key:
        return cached[1]
    cellset = st.session_state.get("cellset")
    same = (
        cellset is not None
        and len(cellset.cells) == key[0]
        and np.array_equal(
            cellset.cells["cell_id"].astype(str).to_numpy(),
            plan.cells["cell_id"].astype(str).to_numpy(),
        )
    )
    if same:
        adj = cellset.adjacency
    else:
        from gridplan.cells.polygon_graph import polygon_adjacency

        district = (
            plan.cells["district"].astype(str).to_numpy() if "district" in plan.cells else None
        )
        adj = polygon_adjacency(
            np.asarray(plan.cells.geometry.values, dtype=object), district=district
        )
    st.session_state["adjacency"] = (key, adj)
    return adj


def cell_edges(plan: Plan) -> np.ndarray:
    """The cells' adjacency as ``(a, b)`` row pairs (cached per session and layout)."""
    key = cells_key(plan)
    cached = st.session_state.get("edges")
    if cached is not None and cached[0] == key:
        return cached[1]
    edges = edges_from_adjacency(cell_adjacency(plan))
    st.session_state["edges"] = (key, edges)
    return edges


def grid_shapes(plan: Plan):
    """The plan's grid outlines in EPSG:4326, cached until the grids' geometry changes."""
    g = plan.grids
    key = (len(g), _geom_key(plan))
    cached = st.session_state.get("shapes")
    if cached is not None and cached[0] == key:
        return cached[1]
    shapes = grids_wgs84(g)
    st.session_state["shapes"] = (key, shapes)
    return shapes


def _geom_key(plan: Plan) -> int:
    # cells' grid ids determine the grid geometry
    return hash(tuple(plan.cells["grid_id"].astype(str)))


def workspace() -> Workspace:
    """The workspace (path from GRIDPLAN_WORKSPACE or the user's data directory)."""
    path = default_workspace_path()
    ws = st.session_state.get("workspace")
    if ws is None or ws.path != path:
        ws = Workspace(path)
        st.session_state["workspace"] = ws
    return ws


#: engine parameter → the app's field label (i18n key) that sets it
_FIELDS = {
    "respect_districts": "grids.districts",
    "max_population": "grids.max_pop",
    "max_area_km2": "grids.max_area",
    "homogeneity": "grids.homog",
    "seed": "grids.seed",
    "tolerance": "terr.tolerance",
    "time_limit": "terr.time",
    "capacity_h": "terr.capacity",
    "n_managers": "terr.team_size",
    "lattice": "data.lattice",
}


def in_app_words(text: str) -> str:
    """The engine's parameter names (``respect_districts=False``, ``time_limit`` …) as
    the app's field labels, in the interface language ("“Grids stay inside districts”")."""
    import re

    names = "|".join(map(re.escape, _FIELDS))

    def label(m: re.Match[str]) -> str:
        return f"“{t(_FIELDS[m.group(1)])}”"

    return re.sub(rf"\b({names})\b(?:=(?:'[^']*'|[\w.]+))?", label, text)


def show_error(err: BaseException) -> None:
    """An error a planner can act on: every problem with where and the fix, or the
    engine's explanation with its numbers and choices — never a traceback. Parameter
    names become the app's field labels; the frame words follow the interface language."""
    if isinstance(err, InputError):
        fix = t("error.fix")
        lines = [
            f"- **{in_app_words(p.what)}** — {in_app_words(p.where)}. {fix}: {in_app_words(p.fix)}"
            for p in err.problems
        ]
        st.error("\n".join(lines))
    elif isinstance(err, InfeasibleError):
        first = str(err).split("\nChoices:")[0]
        st.error(in_app_words(first))
        if err.suggestions:
            st.info("\n".join(f"- {in_app_words(s)}" for s in err.suggestions))
    else:
        st.error(in_app_words(str(err)))


def run_safely(fn: Callable[[], Any]) -> Any:
    """Run ``fn``; a :class:`GridplanError` is shown with :func:`show_error`, None returned."""
    try:
        return fn()
    except GridplanError as err:
        show_error(err)
        return None


def progress_callback(bar: Any) -> Callable[[float, str], None]:
    """A progress callback drawing on ``st.progress``."""

    def report(fraction: float, message: str) -> None:
        bar.progress(min(max(float(fraction), 0.0), 1.0), text=message)

    return report


def undo_redo() -> None:
    """Undo / redo buttons (sidebar)."""
    h = history()
    c1, c2 = st.sidebar.columns(2)
    if c1.button(t("undo"), disabled=not h.can_undo, key="undo", width="stretch"):
        h.undo()
        st.rerun()
    if c2.button(t("redo"), disabled=not h.can_redo, key="redo", width="stretch"):
        h.redo()
        st.rerun()
    if h.current is not None:
        st.sidebar.caption(f"{len(h.labels())} · {h.label}")


def _save_version(ws: Workspace, plan: Any, name: str, author: str, comment: str) -> None:
    """Save a version; tell the planner when someone saved meanwhile, and explain a
    failed save (disk full, read-only workspace) without losing the open plan."""
    from gridplan.plan.workspace import (
        BASE_PLAN_KEY,
        BASE_VERSION_KEY,
        WorkspaceError,
        describe_changes,
    )

    try:
        v = ws.save(plan, name=name, author=author, comment=comment)
    except WorkspaceError as err:
        reason = str(err).split(". Nothing was lost")[0]
        st.session_state["flash_error"] = t("ws.save_failed", reason=reason)
        return
    except GridplanError as err:
        show_error(err)
        return
    meta = {**dict(plan.meta), BASE_PLAN_KEY: v.plan, BASE_VERSION_KEY: str(v.version)}
    push(plan.with_(name=v.plan, meta=meta), f"saved v{v.version}")
    st.session_state["flash"] = t(
        "ws.saved", plan=v.plan, version=v.version, changes=describe_changes(v.changes)
    )
    if v.notice:
        latest = ws.version(v.plan, v.version - 1)
        st.session_state["flash_warning"] = t(
            "ws.meanwhile",
            version=v.version,
            others=latest.author,
            latest=latest.version,
            when=latest.saved_at,
        )


def _tidy_versions(ws: Workspace, plan: str, versions: list[int]) -> None:
    """Name a version (named versions are always kept) and keep only the last N."""
    with st.sidebar.expander(t("ws.tidy")):
        ver = st.selectbox(t("ws.tag_version"), versions, key="ws_tag_version")
        tag = st.text_input(t("ws.tag"), key="ws_tag")
        tagged = st.button(t("ws.tag_save"), key="ws_tag_save") and run_safely(
            lambda: ws.tag(plan, int(ver), tag) or True
        )
        if tagged:
            st.session_state["flash"] = t("ws.tagged", plan=plan, version=ver, tag=tag)
            st.rerun()
        keep = st.number_input(t("ws.keep_last"), 1, 10_000, 20, key="ws_keep_last")
        if st.button(t("ws.prune"), key="ws_prune"):
            removed = run_safely(lambda: ws.prune(plan, int(keep)))
            if removed is not None:
                st.session_state["flash"] = t("ws.pruned", n=removed, plan=plan, keep=keep)
                st.rerun()


def workspace_panel() -> None:
    """Save the current plan as a new version; open a saved plan (sidebar)."""
    ws = workspace()
    st.sidebar.subheader(t("ws.title"))
    plan = current_plan()
    if plan is not None and st.session_state.get("ws_name_of") != plan.name:
        st.session_state["ws_name"] = plan.name  # follow the plan's name until typed over
        st.session_state["ws_name_of"] = plan.name
    with st.sidebar.form("save_form", clear_on_submit=False):
        name = st.text_input(t("ws.plan_name"), key="ws_name")
        author = st.text_input(t("ws.author"), key="ws_author")
        comment = st.text_input(t("ws.comment"), key="ws_comment")
        save = st.form_submit_button(t("ws.save"), disabled=plan is None)
    if save and plan is not None:
        _save_version(ws, plan, name, author, comment)
    names = ws.plans()
    if names:
        pick = st.sidebar.selectbox(t("ws.open_select"), names, key="ws_pick")
        versions = ws.versions(pick)["version"].tolist()
        ver = st.sidebar.selectbox("v", versions, key="ws_version", label_visibility="collapsed")
        if st.sidebar.button(t("ws.open"), key="ws_open"):
            loaded = run_safely(lambda: ws.load(pick, int(ver)))
            if loaded is not None:
                history().reset(loaded, f"opened {pick} v{ver}")
                st.session_state["flash"] = t("ws.opened", plan=pick, version=ver)
                st.rerun()
        _tidy_versions(ws, pick, versions)
    else:
        st.sidebar.caption(t("ws.none"))
    st.sidebar.caption(t("ws.path", path=str(ws.path)))
    msg = st.session_state.pop("flash", None)
    if msg:
        st.sidebar.success(msg)
    for key, show in (("flash_warning", st.sidebar.warning), ("flash_error", st.sidebar.error)):
        text = st.session_state.pop(key, None)
        if text:
            show(text)
