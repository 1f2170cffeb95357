"""Every output format of a plan, for area teams and their GIS, office and print.

``export_plan(plan, fmt, out)`` writes one format; ``export_all`` every format;
``team_zips`` one zip per area team with its own slice of every format;
``handover(previous, plan)`` the hand-over lists (see :mod:`gridplan.plan.handover`).

Files and names (``STEM`` is the plan's name, or ``area-<name>``/``manager-<name>``
with ``by``):

- ``gpkg``: ``STEM.gpkg``, layers cells, grids, territories, areas, districts, sites,
  customers (work CRS, metres) and tables managers, headcount (+ handover_grids/_customers).
- ``geojson``: ``STEM_<layer>.geojson`` per layer, EPSG:4326.
- ``shp``: ``STEM_shapefile.zip`` (see :mod:`gridplan.export.shapefile`; work CRS).
- ``kml``: ``STEM.kml``, EPSG:4326 (see :mod:`gridplan.export.kml`; no customer points).
- ``parquet``: ``STEM_<layer>.parquet`` per layer, GeoParquet in the work CRS.
- ``csv``: ``STEM_grids.csv``, ``STEM_managers.csv``, ``STEM_headcount.csv`` (per role
  for the city, each district and area: by hours, by ratio, recommended, which binds),
  ``STEM_customers.csv`` (attribution customer → cell → grid → manager → area),
  ``STEM_handover_*.csv``;
  UTF-8 with a byte-order mark so Excel shows Chinese.
- ``xlsx``: ``STEM.xlsx`` with the same tables as sheets.
- ``html``: ``STEM.html``, the interactive map, standalone (works offline).
- ``pdf``: ``STEM.pdf``, the map book; ``png``: ``STEM_<page>.png`` per page.

``out`` is a file path when it ends in the format's extension, the format writes one
file and ``by`` is None; otherwise it is a folder (created). Every write is atomic,
and the files of one call are replaced all together or not at all.
Map labels follow ``language``; table columns keep their machine names.
"""

from __future__ import annotations

import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from gridplan.atomic import atomic_path, atomic_paths
from gridplan.errors import InputError, Problem
from gridplan.layers.crs import WGS84
from gridplan.maps import LANGUAGES, OFFLINE, MapSettings
from gridplan.plan.handover import HandOver, handover
from gridplan.plan.model import Plan
from gridplan.plan.privacy import NO_PRIVACY, PrivacySettings
from gridplan.plan.slices import groups, plan_slice, safe_filename, unique_names
from gridplan.plan.tables import ExportData, export_data
from gridplan.progress import ProgressCallback, no_progress, scaled

__all__ = [
    "FORMATS",
    "HandOver",
    "PrivacySettings",
    "export_all",
    "export_plan",
    "handover",
    "team_zips",
]

FORMATS: tuple[str, ...] = (
    "gpkg", "geojson", "shp", "kml", "parquet", "csv", "xlsx", "html", "pdf", "png",
)  # fmt: skip

#: Extension of the file a format writes when ``out`` names a file.
EXTENSIONS: dict[str, str] = {
    "gpkg": ".gpkg",
    "geojson": ".geojson",
    "shp": ".zip",
    "kml": ".kml",
    "parquet": ".parquet",
    "csv": ".csv",
    "xlsx": ".xlsx",
    "html": ".html",
    "pdf": ".pdf",
    "png": ".png",
}
SINGLE_FILE = frozenset({"gpkg", "shp", "kml", "xlsx", "html", "pdf"})
EXCEL_MAX_ROWS = 1_048_575  # data rows per sheet (one header row)


@dataclass(frozen=True, eq=False)
class _Job:
    """What one writer needs: the (sliced) plan, its tables, and for the map book the
    whole plan and the page scope."""

    plan: Plan
    data: ExportData
    moves: HandOver | None
    stem: str
    whole: Plan
    scope: tuple[str, str] | None
    previous: Plan | None
    privacy: PrivacySettings
    language: str
    map_settings: MapSettings
    progress: ProgressCallback = no_progress


TempFor = Callable[[Path], Path]


# ------------------------------------------------------------------ writers


def _layers_4326(data: ExportData) -> dict[str, Any]:
    return {k: v.to_crs(WGS84) for k, v in data.layers.items()}


def _handover_tables(moves: HandOver | None) -> dict[str, pd.DataFrame]:
    if moves is None:
        return {}
    out = {"handover_grids": moves.grids, "handover_summary": moves.summary}
    if len(moves.customers.columns) and not moves.customers.empty:
        out["handover_customers"] = moves.customers
    return out


def _write_gpkg(job: _Job, target: Path, temp_for: TempFor) -> list[Path]:
    import pyogrio

    tmp = temp_for(target)
    for name, frame in job.data.layers.items():
        pyogrio.write_dataframe(frame, tmp, layer=name, driver="GPKG")
    tables = {
        name: job.data.tables[name]
        for name in ("managers", "headcount", "organisation", "area_teams", "staff")
        if name in job.data.tables
    }
    tables.update(_handover_tables(job.moves))
    for name, table in tables.items():
        pyogrio.write_dataframe(pd.DataFrame(table), tmp, layer=name, driver="GPKG")
    return [target]


def _write_geojson(job: _Job, folder: Path, temp_for: TempFor) -> list[Path]:
    import pyogrio

    written = []
    for name, frame in _layers_4326(job.data).items():
        target = folder / f"{job.stem}_{name}.geojson"
        pyogrio.write_dataframe(
            frame, temp_for(target), driver="GeoJSON", layer_options={"RFC7946": "YES"}
        )
        written.append(target)
    return written


def _write_parquet(job: _Job, folder: Path, temp_for: TempFor) -> list[Path]:
    written = []
    for name, frame in job.data.layers.items():
        target = folder / f"{job.stem}_{name}.parquet"
        frame.to_parquet(temp_for(target), index=False)
        written.append(target)
    return written


def _write_shp(job: _Job, target: Path, temp_for: TempFor) -> list[Path]:
    from gridplan.export.shapefile import write_shapefile_zip

    write_shapefile_zip(job.data.layers, temp_for(target), plan_name=job.plan.name)
    return [target]


def _write_kml(job: _Job, target: Path, temp_for: TempFor) -> list[Path]:
    from gridplan.export.kml import write_kml

    write_kml(job.data.layers, temp_for(target), plan_name=job.plan.name)
    return [target]


def _all_tables(job: _Job) -> dict[str, pd.DataFrame]:
    return {**job.data.tables, **_handover_tables(job.moves)}


def _write_csv(job: _Job, folder: Path, temp_for: TempFor) -> list[Path]:
    written = []
    for name, table in _all_tables(job).items():
        target = folder / f"{job.stem}_{name}.csv"
        table.to_csv(temp_for(target), index=False, encoding="utf-8-sig")
        written.append(target)
    return written


def _write_xlsx(job: _Job, target: Path, temp_for: TempFor) -> list[Path]:
    tmp = temp_for(target)
    with pd.ExcelWriter(tmp, engine="openpyxl") as xl:
        for name, table in _all_tables(job).items():
            parts = range(0, max(len(table), 1), EXCEL_MAX_ROWS)
            for k, start in enumerate(parts):
                sheet = name if k == 0 else f"{name}_{k + 1}"
                table.iloc[start : start + EXCEL_MAX_ROWS].to_excel(
                    xl, sheet_name=sheet[:31], index=False
                )
            xl.sheets[name[:31]].freeze_panes = "A2"
    return [target]


def _write_html(job: _Job, target: Path, temp_for: TempFor) -> list[Path]:
    from gridplan.maps import plan_map, standalone_html

    m = plan_map(job.plan, language=job.language, settings=job.map_settings, privacy=job.privacy)
    temp_for(target).write_text(standalone_html(m), encoding="utf-8")
    return [target]


def _pages(job: _Job):
    from gridplan.export.mapbook import book_pages

    return book_pages(
        job.whole,
        scope=job.scope,
        previous=job.previous,
        language=job.language,
        privacy=job.privacy,
    )


def _write_pdf(job: _Job, target: Path, temp_for: TempFor) -> list[Path]:
    import matplotlib

    from gridplan.export.mapbook import book_style, write_pdf

    def on_page(page: Any) -> None:
        job.progress(0.0, f"map book page {page.stem} ({target.name})")

    with matplotlib.rc_context(book_style()):
        write_pdf(_pages(job), temp_for(target), on_page)
    return [target]


def _write_png(job: _Job, folder: Path, temp_for: TempFor) -> list[Path]:
    import matplotlib

    from gridplan.export.mapbook import book_style, render_png

    written = []
    with matplotlib.rc_context(book_style()):
        for page, fig in _pages(job):
            target = folder / f"{job.stem}_{safe_filename(page.stem)}.png"
            render_png(fig, temp_for(target))
            written.append(target)
            job.progress(0.0, f"map book page {target.name}")
    return written


WRITERS: dict[str, Callable[[_Job, Path, TempFor], list[Path]]] = {
    "gpkg": _write_gpkg,
    "geojson": _write_geojson,
    "shp": _write_shp,
    "kml": _write_kml,
    "parquet": _write_parquet,
    "csv": _write_csv,
    "xlsx": _write_xlsx,
    "html": _write_html,
    "pdf": _write_pdf,
    "png": _write_png,
}


# ------------------------------------------------------------------ checks


def _check_options(fmt: str, by: str | None, language: str) -> None:
    problems = []
    if fmt not in FORMATS:
        problems.append(
            Problem(f"unknown format {fmt!r}", "format", f"use one of {', '.join(FORMATS)}")
        )
    if by not in (None, "area", "manager"):
        problems.append(Problem(f"cannot split by {by!r}", "by", "use area or manager"))
    if language not in LANGUAGES:
        problems.append(Problem(f"unknown language {language!r}", "language", "use en or zh"))
    if problems:
        raise InputError(problems)


def _resolve_out(fmt: str, out: Path, by: str | None) -> tuple[Path, bool]:
    """``(path, is_file)`` for the output, or InputError when it cannot be used."""
    ext = EXTENSIONS[fmt]
    suffix = out.suffix.lower()
    looks_like_file = suffix in set(EXTENSIONS.values()) | {".shp", ".json", ".xls"}
    if looks_like_file and not out.is_dir():
        if fmt in SINGLE_FILE and by is None and suffix == ext:
            if out.parent.exists() and not out.parent.is_dir():
                raise InputError(
                    Problem(f"{out.parent} is not a folder", f"out {out}", "give a folder")
                )
            return out, True
        why = (
            f"by={by!r} writes one file per {by}"
            if by
            else f"{fmt} writes several files"
            if fmt not in SINGLE_FILE
            else f"a {fmt} file ends in {ext}"
        )
        fix = (
            f"give a path ending in {ext}, or a folder"
            if fmt in SINGLE_FILE and not by
            else "give a folder (created if missing)"
        )
        raise InputError(Problem(f"cannot write {fmt} to {out.name!r}: {why}", f"out {out}", fix))
    if out.exists() and not out.is_dir():
        raise InputError(
            Problem(f"{out} exists and is not a folder", f"out {out}", "give a folder")
        )
    for parent in out.parents:
        if parent.exists():
            if not parent.is_dir():
                raise InputError(
                    Problem(f"{parent} is a file, not a folder", f"out {out}", "give a folder")
                )
            break
    return out, False


# ------------------------------------------------------------------ public


Unit = tuple[str, Plan, "tuple[str, str] | None", "set[str] | None"]


def _units(plan: Plan, by: str | None) -> list[Unit]:
    """``(stem, plan slice, book scope, managers)`` per file set."""
    if by is None:
        return [(safe_filename(plan.name, "plan"), plan, None, None)]
    found = groups(plan, by)
    if not found:
        raise InputError(
            Problem(
                f"no {by} has any grid, nothing to split",
                f"by {by}",
                "assign grids to managers (and managers to areas) first, or drop --by",
            )
        )
    stems = unique_names([f"{by}-{key}" for key, _ in found], by)
    return [
        (stem, plan_slice(plan, managers, f"{plan.name} · {key}"), (by, key), set(managers))
        for stem, (key, managers) in zip(stems, found, strict=True)
    ]


def _export_units(
    plan: Plan,
    fmt: str,
    target: Path,
    is_file: bool,
    units: list[Unit],
    *,
    previous: Plan | None,
    privacy: PrivacySettings,
    language: str,
    map_settings: MapSettings,
    progress: ProgressCallback,
) -> list[Path]:
    moves_all = handover(previous, plan).private(privacy) if previous is not None else None
    writer = WRITERS[fmt]
    written: list[Path] = []
    with atomic_paths() as temp_for:
        for i, (stem, part, scope, managers) in enumerate(units):
            progress(i / len(units), f"writing {fmt} for {stem}")
            moves = moves_all
            if moves is not None and managers is not None:
                moves = moves.for_managers(managers)
            job = _Job(
                plan=part,
                data=export_data(part, privacy),
                moves=moves,
                stem=stem,
                whole=plan,
                scope=scope,
                previous=previous,
                privacy=privacy,
                language=language,
                map_settings=map_settings,
                progress=lambda _f, msg, i=i: progress(i / len(units), msg),
            )
            if fmt in SINGLE_FILE and not is_file:
                name = f"{stem}_shapefile.zip" if fmt == "shp" else f"{stem}{EXTENSIONS[fmt]}"
                written += writer(job, target / name, temp_for)
            else:
                written += writer(job, target, temp_for)
    progress(1.0, f"wrote {len(written)} {fmt} file(s)")
    return written


def export_plan(
    plan: Plan,
    fmt: str,
    out: str | Path,
    *,
    by: str | None = None,
    previous: Plan | None = None,
    privacy: PrivacySettings | None = None,
    language: str = "en",
    map_settings: MapSettings = OFFLINE,
    progress: ProgressCallback = no_progress,
) -> list[Path]:
    """Write ``plan`` in format ``fmt`` (one of :data:`FORMATS`) to ``out``; returns the
    paths written. ``by``: ``None``, ``"area"`` or ``"manager"`` (one file set per area
    team or manager); ``previous``: an earlier plan, adds hand-over lists/pages;
    ``privacy``: see :class:`PrivacySettings`; ``language``: "en" or "zh" for maps."""
    _check_options(fmt, by, language)
    target, is_file = _resolve_out(fmt, Path(out), by)
    return _export_units(
        plan,
        fmt,
        target,
        is_file,
        _units(plan, by),
        previous=previous,
        privacy=privacy or NO_PRIVACY,
        language=language,
        map_settings=map_settings,
        progress=progress,
    )


def export_all(plan: Plan, out_dir: str | Path, **options: Any) -> list[Path]:
    """Every format of :data:`FORMATS` into the folder ``out_dir``; options as
    :func:`export_plan`."""
    progress: ProgressCallback = options.pop("progress", no_progress)
    out_dir = Path(out_dir)
    _resolve_out("csv", out_dir, "area")  # a folder, never a file
    written: list[Path] = []
    for i, fmt in enumerate(FORMATS):
        step = scaled(progress, i / len(FORMATS), (i + 1) / len(FORMATS))
        written += export_plan(plan, fmt, out_dir, progress=step, **options)
    return written


def team_zips(
    plan: Plan,
    out_dir: str | Path,
    *,
    previous: Plan | None = None,
    privacy: PrivacySettings | None = None,
    language: str = "en",
    map_settings: MapSettings = OFFLINE,
    progress: ProgressCallback = no_progress,
) -> list[Path]:
    """One zip per area team (``<area>.zip`` in ``out_dir``) holding that area's slice
    in every format (its map book pages show the rest of the city in grey; its
    hand-over lists only its own managers); managers without an area share
    ``no-area.zip``. Options as :func:`export_plan`."""
    _check_options("csv", None, language)
    out_dir = Path(out_dir)
    _resolve_out("csv", out_dir, "area")
    units = _units(plan, "area")
    stems = unique_names([scope[1] or "no-area" for _, _, scope, _ in units], "area")
    written: list[Path] = []
    for i, (unit, stem) in enumerate(zip(units, stems, strict=True)):
        step = scaled(progress, i / len(units), (i + 1) / len(units))
        files: list[Path] = []
        with tempfile.TemporaryDirectory() as tmp:
            for fmt in FORMATS:
                files += _export_units(
                    plan,
                    fmt,
                    Path(tmp),
                    False,
                    [unit],
                    previous=previous,
                    privacy=privacy or NO_PRIVACY,
                    language=language,
                    map_settings=map_settings,
                    progress=step,
                )
            target = out_dir / f"{stem}.zip"
            with (
                atomic_path(target) as zpath,
                zipfile.ZipFile(zpath, "w", compression=zipfile.ZIP_DEFLATED) as zf,
            ):
                for f in sorted(files):
                    zf.write(f, f.name)
        written.append(target)
    progress(1.0, f"wrote {len(written)} team zip(s)")
    return written
