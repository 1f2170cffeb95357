"""Export page: every format of :mod:`gridplan.export.formats` for the whole city or one area,
per area team or manager, with hand-over lists against a saved version and the
privacy switch; quick CSV tables beside it."""

from __future__ import annotations

import io
import tempfile
import zipfile
from pathlib import Path

import pandas as pd
import streamlit as st

from gridplan.export.formats import FORMATS, export_plan, team_zips
from gridplan.plan.model import Plan, customer_attribution, manager_table
from gridplan.plan.privacy import PrivacySettings
from gridplan.plan.slices import plan_slice, safe_filename
from ui.i18n import lang, t
from ui.state import current_plan, progress_callback, run_safely, workspace

ALL = "__all__"
NONE = "__none__"
MIME = {
    "gpkg": "application/geopackage+sqlite3",
    "kml": "application/vnd.google-earth.kml+xml",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "html": "text/html",
    "pdf": "application/pdf",
    "zip": "application/zip",
}


def plan_for_area(plan: Plan, area: str) -> Plan:
    """The part of the plan of one area (its managers, their grids, cells, customers)."""
    if area == ALL:
        return plan
    team = plan.managers.loc[plan.managers["area"].astype(str) == area, "manager"]
    return plan_slice(plan, set(map(str, team)), f"{plan.name} {area}")


def files_to_download(paths: list[Path], root: Path, stem: str) -> tuple[bytes, str]:
    """One file as it is, several as one zip (paths relative to ``root``)."""
    if len(paths) == 1:
        return paths[0].read_bytes(), paths[0].name
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for p in paths:
            zf.write(p, p.relative_to(root).as_posix())
    return buf.getvalue(), f"{stem}.zip"


def _csv(df: pd.DataFrame) -> bytes:
    return df.to_csv(index=False).encode("utf-8-sig")  # BOM: Excel opens Chinese text right


def _previous_choice() -> Plan | None:
    """The saved version picked for hand-over lists, or None."""
    versions = [(str(r.plan), int(r.version)) for r in workspace().versions().itertuples()]
    pick = st.selectbox(
        t("exp.previous"),
        range(len(versions) + 1),
        format_func=lambda i: (
            t("exp.none") if i == 0 else f"{versions[i - 1][0]} · v{versions[i - 1][1]}"
        ),
        key="exp_prev",
    )
    if not pick:
        return None
    name, version = versions[pick - 1]
    return run_safely(lambda: workspace().load(name, version))


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
stem = safe_filename(part.name, "plan")
st.caption(f"{len(part.grids):,} grids · {len(part.managers):,} managers")

c1, c2, c3 = st.columns(3)
fmt = c1.selectbox(t("exp.format"), [*FORMATS, "all"], key="exp_fmt")
by = c2.selectbox(
    t("exp.by"),
    [NONE, "area", "manager"],
    format_func=lambda b: t("exp.whole") if b == NONE else t(f"exp.{b}"),
    key="exp_by",
)
aggregates_only = c3.checkbox(t("exp.aggregates"), key="exp_agg")
min_count = c3.number_input(t("exp.min_count"), min_value=0, max_value=1000, value=0, key="exp_min")
previous = _previous_choice()
privacy = PrivacySettings(aggregates_only=aggregates_only, min_count=int(min_count))

if st.button(t("exp.prepare"), key="prep_export", type="primary"):
    bar = st.progress(0.0)

    def _run() -> tuple[bytes, str]:
        with tempfile.TemporaryDirectory(prefix="gridplan-export-") as tmp:
            root = Path(tmp)
            formats = FORMATS if fmt == "all" else (fmt,)
            written: list[Path] = []
            for i, f in enumerate(formats):
                written += export_plan(
                    part,
                    f,
                    root / f,
                    by=None if by == NONE else by,
                    previous=previous,
                    privacy=privacy,
                    language=lang(),
                    progress=progress_callback(bar) if len(formats) == 1 else lambda *_: None,
                )
                bar.progress((i + 1) / len(formats), text=t("exp.written", fmt=f))
            return files_to_download(written, root, f"{stem}_{fmt}")

    result = run_safely(_run)
    if result is not None:
        st.session_state["exp_ready"] = (scope, fmt, by, *result)
ready = st.session_state.get("exp_ready")
if ready is not None and ready[:3] == (scope, fmt, by):
    data, name = ready[3], ready[4]
    st.download_button(
        t("exp.download", name=name),
        data,
        name,
        MIME.get(Path(name).suffix.lstrip("."), "application/octet-stream"),
        key="dl_export",
    )

if scope == ALL and st.button(t("exp.teams"), key="prep_teams"):

    def _teams() -> tuple[bytes, str]:
        with tempfile.TemporaryDirectory(prefix="gridplan-teams-") as tmp:
            paths = team_zips(plan, Path(tmp), previous=previous, privacy=privacy)
            return files_to_download(paths, Path(tmp), f"{stem}_teams")

    result = run_safely(_teams)
    if result is not None:
        st.session_state["exp_teams"] = result
teams = st.session_state.get("exp_teams")
if scope == ALL and teams is not None:
    st.download_button(
        t("exp.download", name=teams[1]), teams[0], teams[1], MIME["zip"], key="dl_teams"
    )

st.subheader(t("exp.quick"))
q1, q2, q3 = st.columns(3)
grid_cols = [c for c in part.grids.columns if c != "geometry"]
q1.download_button(
    t("exp.grids_csv"),
    _csv(pd.DataFrame(part.grids[grid_cols])),
    f"{stem}_grids.csv",
    "text/csv",
    key="dl_grids",
)
q2.download_button(
    t("exp.managers_csv"),
    _csv(manager_table(part)),
    f"{stem}_managers.csv",
    "text/csv",
    key="dl_man",
)
if not aggregates_only:
    q3.download_button(
        t("exp.customers_csv"),
        _csv(customer_attribution(part)),
        f"{stem}_customers.csv",
        "text/csv",
        key="dl_customers",
    )
