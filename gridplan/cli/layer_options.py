"""How the command line says which layer, CRS and columns of a file to read.

``--layer KIND=NAME`` (the layer, sheet or .shp inside a multi-layer file),
``--crs KIND=CRS`` (the CRS of a file that carries none) and ``--columns mapping.yaml``
(``{kind: {field: your_column}}``, ``lon``/``lat`` included) turn into the engine's
:class:`~gridplan.layers.read.LayerSource` and ``columns`` arguments; and the engine's
fixes, which name those parameters (``layer='NAME'``, ``crs=...``, ``columns={...}``,
``lon='...'``), are reworded into these options.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path
from typing import Any

from gridplan.errors import GridplanError, InputError, Problem

__all__ = [
    "KINDS",
    "add_cross_units_option",
    "add_layer_options",
    "add_units_option",
    "cli_words",
    "layer_columns",
    "layer_sources",
    "units_source",
    "with_units",
]

#: The layer kinds a command reads, in the order of its options.
KINDS = ("boundary", "population", "districts", "sites", "customers", "barriers")


def add_layer_options(p: argparse.ArgumentParser) -> None:
    """``--layer``, ``--crs`` and ``--columns`` (see the module docstring)."""
    g = p.add_argument_group("reading the layers")
    g.add_argument(
        "--layer",
        action="append",
        default=[],
        metavar="KIND=NAME",
        help="the layer (GeoPackage layer, KML folder, XLSX sheet, .shp in a zip) to read "
        "for KIND, repeatable: --layer boundary=city --layer population=tracts",
    )
    g.add_argument(
        "--crs",
        action="append",
        default=[],
        metavar="KIND=CRS",
        help="the CRS of a KIND file that carries none (CSV/XLSX default EPSG:4326), e.g. "
        "--crs sites=EPSG:32650",
    )
    g.add_argument(
        "--columns",
        metavar="MAPPING.yaml",
        help="YAML mapping of your column names per KIND, e.g. "
        "'population: {population: POP2020}' or 'customers: {lon: 经度, lat: 纬度}'",
    )


def _pairs(items: list[str], option: str) -> dict[str, str]:
    out: dict[str, str] = {}
    problems = []
    for item in items:
        kind, sep, value = item.partition("=")
        if not sep or kind.strip() not in KINDS or not value.strip():
            problems.append(
                Problem(
                    f"cannot read {item!r}",
                    option,
                    f"write KIND=VALUE with KIND one of {', '.join(KINDS)}",
                )
            )
        else:
            out[kind.strip()] = value.strip()
    if problems:
        raise InputError(problems)
    return out


def layer_columns(args: argparse.Namespace) -> dict[str, dict[str, str]]:
    """``--columns`` as ``{kind: {field: column}}`` (lon/lat stay in the mapping)."""
    if not getattr(args, "columns", None):
        return {}
    import yaml

    path = Path(args.columns)
    where = f"--columns {path}"
    if not path.is_file():
        raise InputError(Problem("file not found", where, "give the path of a YAML file"))
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8-sig")) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise InputError(Problem(f"not readable as YAML ({exc})", where, "fix the file")) from None
    ok = isinstance(data, dict) and all(
        k in KINDS and isinstance(v, dict) and all(isinstance(x, str) for x in v.values())
        for k, v in data.items()
    )
    if not ok:
        raise InputError(
            Problem(
                "the mapping must be KIND: {field: your_column}",
                where,
                f"use KIND among {', '.join(KINDS)}, e.g. 'population: {{population: POP}}'",
            )
        )
    return {k: {str(f): str(c) for f, c in v.items()} for k, v in data.items()}


def layer_sources(args: argparse.Namespace) -> tuple[dict[str, Any], dict[str, dict[str, str]]]:
    """The ``load_layers`` keyword arguments of the layer options: one source per kind
    given (a path, or a LayerSource when a layer, CRS or lon/lat columns are named) and
    the column mapping without lon/lat."""
    from gridplan.layers.read import LayerSource

    layers = _pairs(args.layer, "--layer")
    crs = _pairs(args.crs, "--crs")
    columns = layer_columns(args)
    sources: dict[str, Any] = {}
    for kind in KINDS:
        path = getattr(args, kind, None)
        if path is None:
            continue
        lon = columns.get(kind, {}).pop("lon", None)
        lat = columns.get(kind, {}).pop("lat", None)
        if kind in layers or kind in crs or lon or lat:
            path = LayerSource(path, layer=layers.get(kind), lon=lon, lat=lat, crs=crs.get(kind))
        sources[kind] = path
    return sources, {k: v for k, v in columns.items() if v}


_COLUMNS = "map it in --columns: '{kind}: {{\\1: \\2}}'"
_LONLAT = "map them in --columns: '{kind}: {{lon: …, lat: …}}'"
_REWORDS = (
    (re.compile(r"layer='[^']*'(?: \(the \.shp name\))?"), "--layer {kind}=NAME"),
    (re.compile(r"\(?or pass crs=\.\.\., e\.g\. crs='([^']+)'"), "or give --crs {kind}=\\1"),
    (re.compile(r"crs='([^']+)'"), "--crs {kind}=\\1"),
    (re.compile(r"pass columns=\{'([^']+)': '([^']+)'\}"), _COLUMNS),
    (re.compile(r"pass lon='[^']*', lat='[^']*'"), _LONLAT),
    (re.compile(r"pass lon=\.\.\., lat=\.\.\."), _LONLAT),
)


def _kind_of(where: str, args: argparse.Namespace) -> str:
    for kind in KINDS:
        path = getattr(args, kind, None)
        if path and Path(path).name in where:
            return kind
    return "KIND"


def cli_words(err: GridplanError, args: argparse.Namespace) -> GridplanError:
    """The error with the engine's reading parameters reworded into the options above."""
    if not isinstance(err, InputError):
        return err
    problems = []
    for p in err.problems:
        kind = _kind_of(p.where, args)
        fix = p.fix
        for pattern, words in _REWORDS:
            template = words.format(kind=kind)
            fix = pattern.sub(lambda m, w=template: m.expand(w), fix)
        problems.append(Problem(p.what, p.where, fix) if fix != p.fix else p)
    return InputError(problems) if problems != list(err.problems) else err


# ------------------------------------------------------------------ organisation units

_UNITS_FIX = (
    "give --units LEVEL=FILE once per level, top → bottom (e.g. --units county=counties.gpkg "
    "--units branch=branches.gpkg), or one --units FILE (a polygon layer with level, code, "
    "name, parent, or a CSV/XLSX table with district and one column per level)"
)


def add_units_option(p: argparse.ArgumentParser) -> None:
    """``--units`` (see :func:`units_source`)."""
    p.add_argument(
        "--units",
        action="append",
        default=[],
        metavar="LEVEL=FILE|FILE",
        help="the organisation units (e.g. county → branch 分局 → sub-branch 支局): "
        "--units LEVEL=FILE per level, top → bottom (polygons with code, name, optional "
        "parent), or one --units FILE (one polygon layer with level, code, name, parent; or "
        "a CSV/XLSX table with district + one code column per level). Grids never cross "
        "the lowest units (unless --cross-units). See data/README.md",
    )


def add_cross_units_option(p: argparse.ArgumentParser) -> None:
    """``--cross-units``: ``PartitionConfig(respect_units=False)``."""
    p.add_argument(
        "--cross-units",
        action="store_true",
        help="let grids cross the lowest organisation units (default: never)",
    )


def units_source(args: argparse.Namespace) -> Any:
    """The ``--units`` items as a source of
    :func:`~gridplan.layers.organisation.read_organisation`: a path, or level → path
    (top → bottom); ``None`` without ``--units``. Checked before any layer is read."""
    items = list(getattr(args, "units", None) or [])
    if not items:
        return None
    pairs: dict[str, str] = {}
    paths: list[str] = []
    problems: list[Problem] = []
    for item in items:
        level, sep, path = item.partition("=")
        if sep and level.strip() and not re.search(r"[/\\.]", level):
            if level.strip() in pairs:
                problems.append(
                    Problem(f"level {level.strip()!r} given twice", "--units", _UNITS_FIX)
                )
            pairs[level.strip()] = path.strip()
        else:
            paths.append(item)
    if (pairs and paths) or len(paths) > 1:
        problems.append(Problem(f"cannot combine {', '.join(items)}", "--units", _UNITS_FIX))
    for path in [*pairs.values(), *paths]:
        if not path or not Path(path).exists():
            problems.append(
                Problem(f"file not found: {path!r}", f"--units {path}", "give the path of the file")
            )
    if problems:
        raise InputError(problems)
    return pairs if pairs else paths[0]


def with_units(layers: Any, source: Any) -> Any:
    """The layers with their organisation read from ``source`` (:func:`units_source`) in
    the layers' work CRS; its problems said under ``--units``."""
    from gridplan.layers.organisation import read_organisation

    if source is None:
        return layers
    districts = None
    if layers.districts is not None and "district" in layers.districts.columns:
        districts = layers.districts["district"].astype(str).tolist()
    try:
        org = read_organisation(source, crs=layers.crs, districts=districts)
    except InputError as err:
        raise InputError(
            [
                p if p.where.startswith("--units") else Problem(p.what, f"--units {p.where}", p.fix)
                for p in err.problems
            ]
        ) from None
    if org.district_map is not None and districts is None:
        raise InputError(
            Problem(
                "a district table of units needs the districts layer",
                f"--units {source}",
                "give --districts too, or the units as polygons (--units LEVEL=FILE)",
            )
        )
    return layers.with_(organisation=org)
