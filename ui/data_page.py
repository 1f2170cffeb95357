"""Data page: the demo city or uploaded layers (validated), the base cells on a map, and
today's plan imported so managers start from the current assignment."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

from gridplan.cells.build import DEFAULT_H3_RESOLUTION, CellsConfig, build_cells
from gridplan.cells.sizing import mean_cell_area_km2
from gridplan.demo.cities import DEMO_CITIES, load_demo
from gridplan.errors import GridplanError, InputError
from gridplan.layers.customers import map_customer_columns
from gridplan.layers.model import LAYER_KINDS
from gridplan.layers.read import load_layers, read_layer, read_table
from gridplan.layers.segments import DEFAULT_SEGMENTS
from gridplan.layers.tiers import default_tiers
from gridplan.layers.uploads import UploadLimits, store_upload
from gridplan.layers.validate import ValidationReport, severity
from gridplan.maps import MapSettings, cells_map
from gridplan.plan.edits import assignment_from_territories, import_assignment
from gridplan.plan.pipeline import demo_h3_resolution
from ui.i18n import lang, t
from ui.state import current_plan, push, show_error

CITY_NAMES = {"nyc": t("city.nyc"), "seoul": t("city.seoul")}
COLOUR_BY = {
    "population": t("data.col.population"),
    "density": t("data.col.density"),
    "customers": t("data.col.customers"),
    "spend": t("data.col.spend"),
    "coverage": t("data.col.coverage"),
}
LAYER_LABELS = {
    "boundary": t("layer.boundary"),
    "districts": t("layer.districts"),
    "population": t("layer.population"),
    "sites": t("layer.sites"),
    "customers": t("layer.customers"),
    "barriers": t("layer.barriers"),
    "home_bases": t("layer.home_bases"),
}
SEVERITY = {"error": t("data.sev.error"), "warning": t("data.sev.warning")}
LIMITS = UploadLimits(max_bytes=100 * 1024 * 1024)
#: customer fields offered in the mapping step, required first
MAPPED_FIELDS = ("customer_id", "lon", "lat", "type", "spend", "handsets", "segment")
TABLE_SUFFIXES = (".csv", ".tsv", ".txt", ".xlsx", ".xlsm")
#: whether the demo city starts with its (synthetic) organisation
DEMO_ORGANISATION = True
UPLOAD_TYPES = ["gpkg", "geojson", "json", "zip", "kml", "parquet", "fgb", "csv", "xlsx", "shp"]


@st.cache_resource(show_spinner=False, max_entries=8)
def demo_cellset(
    city: str, lattice: str, resolution: int | None, size_m: float, organisation: bool = False
):
    """Layers and cells of a demo city (shared read-only between sessions), with its
    synthetic organisation when asked."""
    layers = load_demo(city, organisation=organisation)
    config = CellsConfig(
        lattice=lattice,
        h3_resolution=resolution if lattice == "h3" else None,
        square_size_m=size_m,
    )
    return layers, build_cells(layers, config)


def cells_built_caption(cellset) -> str:
    """The cells as built: count, lattice and their mean area (km², clipped cells
    included), not the global H3 mean."""
    area = mean_cell_area_km2(cellset.cells)
    if cellset.h3_resolution is not None:
        res = cellset.h3_resolution
        return t("data.cells_built_h3", n=f"{cellset.n:,}", res=res, area=f"{area:.3f}")
    return t("data.cells_built", n=f"{cellset.n:,}", area=f"{area:.3f}")


@st.cache_data(show_spinner=False, max_entries=8)
def demo_resolution(city: str) -> int:
    """The demo run's H3 resolution for a demo city (about ``DEMO_TARGET_CELLS`` cells),
    kept within the slider's 7..9."""
    layers = load_demo(city, population="tracts", synthetic=False)
    return min(9, max(7, demo_h3_resolution(float(layers.boundary.area.sum()) / 1e6)))


def _keep_cells(key: tuple, build) -> None:
    """Build (layers, cellset) with a spinner and keep them in the session under
    ``key``; a GridplanError is shown and stops the page."""
    try:
        with st.spinner(t("data.building")):
            layers, cellset = build()
    except GridplanError as err:
        show_error(err)
        st.stop()
    st.session_state["cellset"] = cellset
    st.session_state["layers"] = layers
    st.session_state["source_key"] = key


def _upload_folder() -> Path:
    if "upload_dir" not in st.session_state:
        st.session_state["upload_dir"] = tempfile.mkdtemp(prefix="gridplan-upload-")
    return Path(st.session_state["upload_dir"])


def _uploaded_layers() -> None:
    st.caption(t("data.formats", mb=LIMITS.max_bytes // 1024 // 1024))
    files = {}
    cols = st.columns(2)
    for i, kind in enumerate(LAYER_KINDS):
        need = " *" if kind in ("boundary", "population") else ""
        files[kind] = cols[i % 2].file_uploader(
            f"{LAYER_LABELS.get(kind, kind)}{need}", type=UPLOAD_TYPES, key=f"up_{kind}"
        )
    org_file = st.file_uploader(
        t("data.units"), type=["csv", "xlsx", "gpkg", "geojson", "zip", "parquet"],
        key="up_units", help=t("data.units_help"),
    )  # fmt: skip
    mapping = _customer_mapping_step(files["customers"])
    if not st.button(t("data.validate"), key="validate"):
        return
    report = ValidationReport()
    try:
        paths = {
            kind: store_upload(f.name, f.getvalue(), _upload_folder() / kind, LIMITS)
            for kind, f in files.items()
            if f is not None
        }
        columns = {"customers": mapping} if mapping else None
        layers = load_layers(
            name="uploaded city",
            report=report,
            columns=columns,
            **paths,  # type: ignore[arg-type]
        )
        if org_file is not None:
            folder = _upload_folder() / "units"
            path = store_upload(org_file.name, org_file.getvalue(), folder, LIMITS)
            layers = _with_organisation(layers, path, org_file.name)
    except GridplanError as err:
        show_error(err)
        _show_report(report)
        return
    st.session_state["uploaded_layers"] = layers
    st.session_state["customer_tiers"] = report.customers
    _show_report(report)


def _with_organisation(layers, path: Path, name: str):
    """The layers with the organisation read from an uploaded table or layer."""
    from gridplan.layers.organisation import read_organisation

    districts = None
    if layers.districts is not None and "district" in layers.districts.columns:
        districts = layers.districts["district"].astype(str).tolist()
    org = read_organisation(path, crs=layers.crs, districts=districts, name=name)
    return layers.with_(organisation=org)


def _headers(f) -> list[str] | None:
    """The headers of an uploaded customer table (read once per upload), or None."""
    if f is None or not f.name.lower().endswith(TABLE_SUFFIXES):
        return None
    kept = st.session_state.get("customer_headers")
    if kept is not None and kept[0] == f.file_id:
        return kept[1]
    try:
        headers = [str(c) for c in read_table(f.getvalue(), name=f.name, text=True).columns]
    except GridplanError:
        headers = None
    st.session_state["customer_headers"] = (f.file_id, headers)
    return headers


def _customer_mapping_step(f) -> dict[str, str]:
    """When the headers of the uploaded customer table are not all recognised, one
    selectbox per customer field; returns the mapping chosen ({} when not needed)."""
    headers = _headers(f)
    if not headers:
        return {}
    found, problems = map_customer_columns(headers, None, f.name)
    need = ["customer_id", "lon", "lat", "spend"]
    need += [] if "type" in found or "segment" in found else ["type"]
    if not problems and all(fld in found for fld in need):
        return {}
    options = ["", *headers]
    chosen: dict[str, str] = {}
    with st.expander(t("data.mapping"), expanded=True):
        st.caption(t("data.mapping_help"))
        cols = st.columns(4)
        for i, fld in enumerate(MAPPED_FIELDS):
            pick = cols[i % 4].selectbox(
                fld,
                options,
                index=options.index(found.get(fld, "")),
                format_func=lambda c: c or t("data.mapping.none"),
                key=f"map_{fld}",
            )
            if pick:
                chosen[fld] = pick
    return chosen


def _tier_section(layers, tiered) -> None:
    """Customers per tier (table and bar chart), the fallbacks, the column mapping
    used and the tier file's assumptions not yet confirmed."""
    if layers.customers is None or "segment" not in layers.customers.columns:
        return
    codes = [s.code for s in DEFAULT_SEGMENTS]
    if tiered is not None:
        counts, tiers = tiered.counts, tiered.tiers
    else:
        counts = layers.customers["segment"].value_counts().reindex(codes, fill_value=0)
        tiers = default_tiers()
    zh = lang() == "zh"
    table = pd.DataFrame(
        {
            "segment": codes,
            "label": [s.label_zh if zh else s.label_en for s in DEFAULT_SEGMENTS],
            "customers": [int(counts.get(c, 0)) for c in codes],
        }
    )
    st.subheader(t("data.tiers"))
    if tiered is not None:
        st.caption(
            t(
                "data.tiers_caption",
                n=f"{len(tiered.customers):,}",
                derived=f"{tiered.derived:,}",
                file=Path(tiers.source).name,
            )
        )
        for family, n in tiered.below.items():
            if n:
                below = tiers.family(family).below
                st.caption(t("data.tiers_below", n=f"{n:,}", family=family, below=below))
    left, right = st.columns([2, 3])
    left.dataframe(
        table,
        hide_index=True,
        width="stretch",
        column_config={
            "segment": st.column_config.TextColumn(t("data.tiers.segment")),
            "label": st.column_config.TextColumn(t("data.tiers.label")),
            "customers": st.column_config.NumberColumn(t("data.tiers.customers"), format="%d"),
        },
    )
    right.bar_chart(table.set_index("segment")["customers"], horizontal=True)
    if tiered is not None:
        cols = ", ".join(f"{k} = {v}" for k, v in tiered.mapping.items())
        st.caption(t("data.mapping_used", cols=cols))
    notes = tiers.assumptions()
    with st.expander(t("data.assumptions", n=len(notes))):
        st.dataframe(
            pd.DataFrame(
                {
                    "key": [a.key for a in notes],
                    "text": [a.text for a in notes],
                    "line": [a.line for a in notes],
                }
            ),
            hide_index=True,
            width="stretch",
            column_config={
                "key": st.column_config.TextColumn(t("data.assumptions.key")),
                "text": st.column_config.TextColumn(t("data.assumptions.text")),
                "line": st.column_config.NumberColumn(t("data.assumptions.line")),
            },
        )


def _show_report(report: ValidationReport) -> None:
    if not report.problems:
        st.success(t("data.report_ok"))
        return
    rows = [
        {
            "severity": SEVERITY.get(severity(p), severity(p)),
            "what": p.what,
            "where": p.where,
            "fix": p.fix,
        }
        for p in report.problems
    ]
    st.dataframe(
        pd.DataFrame(rows),
        width="stretch",
        hide_index=True,
        column_config={
            "severity": st.column_config.TextColumn(t("data.report.severity")),
            "what": st.column_config.TextColumn(t("data.report.what")),
            "where": st.column_config.TextColumn(t("data.report.where")),
            "fix": st.column_config.TextColumn(t("data.report.fix")),
        },
    )


def _read_today(f) -> pd.DataFrame | None:
    """The uploaded plan as a ``cell_id/grid_id, manager`` table (CSV as it is;
    territory polygons turned into one by the plan's grids)."""
    if f.name.lower().endswith(".csv"):
        try:
            return read_table(f.getvalue(), text=True, name=f.name)
        except InputError as exc:
            st.error(t("data.bad_csv", name=f.name, exc=exc.__cause__ or exc.problems[0].what))
            return None
    plan = current_plan()
    if plan is None:
        st.info(t("data.partition_first"))
        return None
    path = store_upload(f.name, f.getvalue(), _upload_folder() / "today", LIMITS)
    return assignment_from_territories(plan, read_layer(path))


def _import_today() -> None:
    st.subheader(t("data.import"))
    f = st.file_uploader(
        t("data.import_help"), type=["csv", "gpkg", "geojson", "zip", "kml"], key="import_csv"
    )
    if f is None or st.session_state.get("import_done") == f.file_id:
        pending = st.session_state.get("pending_import")
        if pending is not None:
            st.caption(t("data.import_pending"))
        return
    if f.size > LIMITS.max_bytes:
        st.error(t("data.too_big", name=f.name, mb=LIMITS.max_bytes // 1024 // 1024))
        return
    try:
        table = _read_today(f)
    except GridplanError as err:
        show_error(err)
        return
    if table is None:
        return
    st.session_state["import_done"] = f.file_id
    plan = current_plan()
    if plan is None:
        st.session_state["pending_import"] = table
        st.info(t("data.import_pending"))
        return
    try:
        new, notes = import_assignment(plan, table)
    except InputError as err:
        show_error(err)
        return
    push(new, "import today's plan")
    n = int((new.grids["manager"] != "").sum())
    st.success(t("data.import_applied", n=n))
    for note in notes:
        st.caption(note)


st.title(t("data.title"))
source = st.radio(
    t("data.source"),
    ["demo", "upload"],
    format_func={"demo": t("data.demo"), "upload": t("data.upload")}.get,
    horizontal=True,
    key="source",
)
with st.expander(t("data.setup"), expanded=True):
    city = st.selectbox(
        t("data.demo"),
        DEMO_CITIES,
        format_func=lambda c: CITY_NAMES.get(c, c),
        key="city",
        disabled=source != "demo",
    )
    lattice = st.radio(
        t("data.lattice"),
        ["h3", "square", "polygons"],
        format_func={
            "h3": t("data.lattice.h3"),
            "square": t("data.lattice.square"),
            "polygons": t("data.lattice.polygons"),
        }.get,
        key="lattice",
    )
    resolution = None
    size_m = 500.0
    if lattice == "h3":
        default = demo_resolution(city) if source == "demo" else DEFAULT_H3_RESOLUTION
        resolution = st.slider(
            t("data.h3res"), 7, 9, default, help=t("data.h3res_help"), key="h3res"
        )
    elif lattice == "square":
        size_m = float(
            st.select_slider(t("data.sq_size"), [250, 500, 750, 1000, 2000], 1000, key="sq")
        )
    use_org = st.checkbox(
        t("data.demo_org"), value=DEMO_ORGANISATION, key="demo_org",
        disabled=source != "demo", help=t("data.demo_org_help"),
    )  # fmt: skip
    colour_by = st.selectbox(
        t("data.colour_by"), list(COLOUR_BY), format_func=COLOUR_BY.get, key="colour_by"
    )
    basemap = st.selectbox(
        t("data.basemap"),
        ["OpenStreetMap", "none", "internal"],
        format_func={
            "OpenStreetMap": t("data.basemap.osm"),
            "none": t("data.basemap.none"),
            "internal": t("data.basemap.internal"),
        }.get,
        key="basemap",
    )
    tiles: str | None = None if basemap == "none" else basemap
    if basemap == "internal":
        tiles = st.text_input(
            t("data.tile_url"),
            placeholder="https://tiles.example.intra/{z}/{x}/{y}.png",
            key="tile_url",
        ).strip()
        if "{z}" not in tiles:
            st.caption(t("data.tile_url_help"))
            tiles = None
    st.session_state["tiles"] = tiles

if source == "upload":
    _uploaded_layers()
    layers = st.session_state.get("uploaded_layers")
    if layers is None:
        _import_today()
        st.stop()
    config = CellsConfig(
        lattice=lattice, h3_resolution=resolution if lattice == "h3" else None, square_size_m=size_m
    )
    key = ("upload", id(layers), lattice, resolution, size_m)
    if st.session_state.get("source_key") != key:
        _keep_cells(key, lambda: (layers, build_cells(layers, config)))
else:
    key = ("demo", city, lattice, resolution, size_m, bool(use_org))
    _keep_cells(key, lambda: demo_cellset(city, lattice, resolution, size_m, bool(use_org)))

cellset = st.session_state["cellset"]
layers = st.session_state["layers"]
cells = cellset.cells
if layers.synthetic:
    sep = "、" if lang() == "zh" else ", "
    names = sep.join(LAYER_LABELS.get(k, k) for k in layers.synthetic)
    st.info(t("data.synthetic", layers=names))
c1, c2, c3, c4 = st.columns(4)
c1.metric(t("data.cells"), f"{len(cells):,}")
c2.metric(t("data.population"), f"{cells['population'].sum():,.0f}")
if "customers" in cells.columns:
    c3.metric(t("data.customers"), f"{cells['customers'].sum():,.0f}")
if "district" in cells.columns:
    c4.metric(t("data.districts"), f"{cells['district'].nunique():,}")
if layers.organisation is not None:
    st.caption(t("data.org_summary", levels="; ".join(layers.organisation.summary())))
st.caption(cells_built_caption(cellset))

column = colour_by if colour_by in cells.columns else "population"
m = cells_map(
    cells,
    column,
    tooltip_fields=[
        c for c in ("district", "population", "customers", "spend", "coverage") if c in cells
    ],
    districts=layers.districts,
    settings=MapSettings(tiles=tiles),
)
st_folium(m, height=560, use_container_width=True, returned_objects=[], key=f"map-{key}")
for note in cellset.notes:
    st.caption(note)
_tier_section(layers, st.session_state.get("customer_tiers") if source == "upload" else None)
_import_today()
