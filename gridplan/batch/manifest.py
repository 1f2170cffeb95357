"""The province manifest (YAML): the cities to plan and the settings, validated in one go.

Format::

    settings:                 # for every city (all optional)
      seed: 0
      floors: {population: 5000, customers: 30}
      lattice: h3             # h3 | square | polygons
      target_cells: 2000      # or resolution: 9 (H3), or size: 500 (square, metres)
      tolerance: 0.03         # managers' workload within ±3 %
      managers: 12            # team rule: a fixed headcount, or
      capacity_h: 128         # hours/month per manager (headcount from the workload)
      managers_per_area: 5
      time_limit: 20          # balance, seconds (wall-clock safety net)
      work_limit: 5           # balance, deterministic work budget (default time_limit / 4)
      partition_time_limit: 30
      split_cells: 20000      # partition per district (a Dask task each) above this many cells
    cities:
      - demo: seoul           # a bundled demo city (name defaults to the demo key)
      - name: wuxi
        folder: wuxi/         # files named like the layer kinds: boundary.gpkg, population.shp …
      - name: suzhou
        boundary: suzhou/boundary.gpkg      # paths relative to the manifest file
        population: suzhou/population.parquet
        districts: suzhou/districts.gpkg
        sites: suzhou/sites.csv
        customers: suzhou/customers.csv
        settings: {target_cells: 4000}      # per-city overrides
        units:                              # optional organisation units, top → bottom
          county: suzhou/counties.gpkg      # (or one path: a polygon layer with level,
          branch: suzhou/branches.gpkg      #  code, name, parent, or a district table)

:func:`load_manifest` reports every problem of the whole manifest at once
(:class:`~gridplan.errors.InputError`, each problem naming the file and key) before any
city is planned.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gridplan.batch.split import DEFAULT_SPLIT
from gridplan.errors import InputError, Problem

__all__ = [
    "CITY_KEYS",
    "LAYER_FILES",
    "SETTINGS_DEFAULTS",
    "CitySpec",
    "Manifest",
    "load_manifest",
    "parse_manifest",
]

#: Layer kinds a city may give as files (paths relative to the manifest).
LAYER_FILES: tuple[str, ...] = ("boundary", "population", "districts", "sites", "customers")

#: Keys of one city entry besides its layers.
CITY_KEYS: tuple[str, ...] = ("name", "demo", "folder", "settings", "units", *LAYER_FILES)

#: Every setting with its default (``None``: not set).
SETTINGS_DEFAULTS: dict[str, Any] = {
    "seed": 0,
    "floors": {"population": 5000.0},
    "lattice": "h3",
    "target_cells": None,
    "resolution": None,
    "size": 500.0,
    "contiguity": "rook",
    "homogeneous": [],
    "tolerance": 0.03,
    "managers": None,
    "capacity_h": None,
    "managers_per_area": 5,
    "time_limit": 20.0,
    "work_limit": None,
    "partition_time_limit": 30.0,
    "split_cells": DEFAULT_SPLIT.min_cells,  # 0 = never split
}

#: The balance's default work budget is ``time_limit / WORK_SHARE``: the margin lets the
#: work budget, not the wall clock, end the search on a loaded machine (reproducible).
WORK_SHARE = 4.0

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_POSITIVE = ("size", "tolerance", "time_limit", "work_limit", "partition_time_limit", "capacity_h")
_COUNTS = ("target_cells", "managers")


@dataclass(frozen=True)
class CitySpec:
    """One city of the manifest, resolved: ``source`` is ``{"demo": key}`` or layer kind →
    absolute path; ``settings`` the province settings with the city's overrides;
    ``units`` the organisation units (an absolute path, or level → absolute path top →
    bottom; see :mod:`gridplan.layers.organisation`), ``None`` without."""

    name: str
    source: Mapping[str, str]
    settings: Mapping[str, Any]
    units: str | Mapping[str, str] | None = None


@dataclass(frozen=True)
class Manifest:
    """A validated manifest: its path and the cities in manifest order."""

    path: Path
    cities: tuple[CitySpec, ...] = field(default_factory=tuple)


def _close(key: str, options: tuple[str, ...] | list[str]) -> str:
    match = difflib.get_close_matches(key, list(options), n=1)
    return f"; did you mean {match[0]!r}?" if match else ""


def _check_setting(key: str, value: Any, where: str) -> list[Problem]:
    """Problems of one setting value (type and range)."""
    bad = []
    if key in _POSITIVE:
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        if not (ok and math.isfinite(value) and value > 0):
            bad.append(Problem(f"{key} = {value!r} must be a number > 0", where, "e.g. 20"))
    elif key in (*_COUNTS, "resolution", "seed", "managers_per_area", "split_cells"):
        lo = {"resolution": 0, "seed": 0, "managers_per_area": 0, "split_cells": 0}.get(key, 1)
        if not (isinstance(value, int) and not isinstance(value, bool) and value >= lo):
            bad.append(
                Problem(f"{key} = {value!r} must be a whole number >= {lo}", where, "e.g. 5")
            )
        elif key == "resolution" and value > 15:
            bad.append(Problem(f"H3 resolution {value} is above 15", where, "use 0-15, e.g. 9"))
    elif key == "floors":
        if not isinstance(value, Mapping) or not value:
            bad.append(Problem("floors must be a mapping", where, "e.g. {population: 5000}"))
        else:
            for col, v in value.items():
                if not (isinstance(v, int | float) and not isinstance(v, bool) and v >= 0):
                    bad.append(
                        Problem(f"floor {col} = {v!r} is not a number >= 0", where, "e.g. 5000")
                    )
    elif key == "lattice" and value not in ("h3", "square", "polygons"):
        bad.append(Problem(f"unknown lattice {value!r}", where, "use h3, square or polygons"))
    elif key == "contiguity" and value not in ("rook", "queen"):
        bad.append(Problem(f"unknown contiguity {value!r}", where, "use rook or queen"))
    elif key == "homogeneous" and not (
        isinstance(value, list) and all(isinstance(c, str) for c in value)
    ):
        bad.append(Problem("homogeneous must be a list of column names", where, "e.g. [coverage]"))
    return bad


def _check_settings(raw: Any, where: str) -> list[Problem]:
    if raw is None:
        return []
    if not isinstance(raw, Mapping):
        return [Problem("settings must be a mapping of key: value", where, "see the README")]
    problems = []
    keys = list(SETTINGS_DEFAULTS)
    for key, value in raw.items():
        if key not in SETTINGS_DEFAULTS:
            problems.append(
                Problem(
                    f"unknown setting {key!r}",
                    f"{where}.{key}",
                    f"use one of {', '.join(keys)}{_close(str(key), keys)}",
                )
            )
        elif value is not None:
            problems += _check_setting(key, value, f"{where}.{key}")
    return problems


def _merged(
    base: Mapping[str, Any], over: Mapping[str, Any] | None, top: Mapping[str, Any]
) -> dict[str, Any]:
    """Defaults < province settings < the city's own < ``top`` (command-line options)."""
    out = {**SETTINGS_DEFAULTS, **{k: v for k, v in base.items() if v is not None}}
    out.update({k: v for k, v in dict(over or {}).items() if v is not None})
    out.update(top)
    if out["managers"] is not None and out["capacity_h"] is not None:
        # a city's own team rule replaces the province's: the override wins
        key = "capacity_h" if "managers" in dict(over or {}) else "managers"
        out[key] = None
    if out["work_limit"] is None:
        out["work_limit"] = float(out["time_limit"]) / WORK_SHARE
    return out


def _layer_in_folder(folder: Path, kind: str) -> Path | None:
    """The file of ``folder`` named like ``kind`` (``boundary.gpkg``, ``sites.csv`` …)."""
    names = {kind, kind.removesuffix("s")}
    hits = sorted(p for p in folder.iterdir() if p.is_file() and p.stem.casefold() in names)
    hits = [p for p in hits if p.suffix.lower() not in (".shx", ".dbf", ".prj", ".cpg", ".qix")]
    return hits[0] if hits else None


def _folder_source(folder: Path, where: str) -> tuple[dict[str, str], list[Problem]]:
    if not folder.is_dir():
        return {}, [
            Problem(f"no folder {str(folder)!r}", where, "give a folder beside the manifest")
        ]
    source: dict[str, str] = {}
    for kind in LAYER_FILES:
        path = _layer_in_folder(folder, kind)
        if path is not None:
            source[kind] = str(path)
    gpkgs = sorted(folder.glob("*.gpkg"))
    if ("boundary" not in source or "population" not in source) and len(gpkgs) == 1:
        # one GeoPackage holding layers named like the kinds (load_layers picks them)
        for kind in LAYER_FILES:
            source.setdefault(kind, str(gpkgs[0]))
    missing = [k for k in ("boundary", "population") if k not in source]
    if missing:
        return source, [
            Problem(
                f"the folder has no {' and no '.join(missing)} file",
                where,
                "name the files like the layer kinds, e.g. boundary.gpkg and population.gpkg",
            )
        ]
    return source, []


def _city_source(
    raw: Mapping[str, Any], base: Path, where: str
) -> tuple[dict[str, str], list[Problem]]:
    """The city's layers as absolute paths, or its demo key."""
    from gridplan.demo.cities import DEMO_CITIES

    given = [k for k in ("demo", "folder") if raw.get(k) is not None]
    layers = [k for k in LAYER_FILES if raw.get(k) is not None]
    if len(given) + bool(layers) != 1:
        return {}, [
            Problem(
                "a city needs exactly one of: demo, folder, or its layer files",
                where,
                "give demo: seoul, folder: DIR, or boundary: and population: paths",
            )
        ]
    if "demo" in given:
        key = str(raw["demo"]).strip().lower()
        if key not in DEMO_CITIES:
            fix = f"use one of {', '.join(DEMO_CITIES)}"
            return {}, [Problem(f"unknown demo city {raw['demo']!r}", f"{where}.demo", fix)]
        return {"demo": key}, []
    if "folder" in given:
        return _folder_source((base / str(raw["folder"])).resolve(), f"{where}.folder")
    source, problems = {}, []
    for kind in ("boundary", "population"):
        if kind not in layers:
            problems.append(Problem(f"no {kind} layer", f"{where}.{kind}", f"add {kind}: PATH"))
    for kind in layers:
        path = (base / str(raw[kind])).resolve()
        if not path.exists():
            problems.append(
                Problem(
                    f"no file {str(raw[kind])!r} (looked for {path})",
                    f"{where}.{kind}",
                    "give the path relative to the manifest file",
                )
            )
        source[kind] = str(path)
    return source, problems


def _check_city(
    raw: Any,
    i: int,
    base: Path,
    shown: str,
    province: Mapping[str, Any] | None,
    top: Mapping[str, Any],
) -> tuple[CitySpec | None, list[Problem]]:
    """One city entry checked; ``province`` is ``None`` when the province settings are
    wrong (the city's settings are then only checked key by key)."""
    where = f"{shown}: cities[{i}]"
    if not isinstance(raw, Mapping):
        return None, [Problem("a city must be a mapping", where, "e.g. - demo: seoul")]
    problems = []
    for key in raw:
        if key not in CITY_KEYS:
            fix = f"use one of {', '.join(CITY_KEYS)}{_close(str(key), CITY_KEYS)}"
            problems.append(Problem(f"unknown key {key!r}", f"{where}.{key}", fix))
    name = str(raw.get("name") or raw.get("demo") or "")
    if not _NAME.match(name):
        problems.append(
            Problem(
                f"city name {name!r} is not a folder name",
                f"{where}.name",
                "give a name of letters, digits, '_', '-' or '.' (it names the output folder)",
            )
        )
    where = f"{where} ({name})" if name else where
    source, more = _city_source(raw, base, where)
    problems += more + _check_settings(raw.get("settings"), f"{where}.settings")
    units, more = _city_units(raw.get("units"), base, f"{where}.units")
    problems += more
    if problems or province is None:
        return None, problems
    settings = _merged(province, raw.get("settings"), top)
    problems += _check_plan_settings(settings, where)
    return CitySpec(name, source, settings, units), problems


def _city_units(
    raw: Any, base: Path, where: str
) -> tuple[str | dict[str, str] | None, list[Problem]]:
    """The ``units:`` of a city: one path, or a mapping level → path (top → bottom);
    paths resolved against the manifest's folder and checked to exist."""
    from gridplan.layers.organisation import LEVEL_KEY, LEVEL_WORDS

    if raw is None:
        return None, []
    fix = (
        "give units: PATH (a polygon layer with level, code, name, parent, or a district "
        "table), or a mapping level: PATH per level, top → bottom"
    )
    items = (
        [(None, raw)]
        if isinstance(raw, str)
        else list(raw.items())
        if isinstance(raw, Mapping) and raw
        else None
    )
    if items is None:
        return None, [Problem(f"units must be a path or a mapping, not {raw!r}", where, fix)]
    problems: list[Problem] = []
    out: dict[str, str] = {}
    for level, value in items:
        at = where if level is None else f"{where}.{level}"
        if level is not None and not (LEVEL_KEY.match(str(level)) or str(level) in LEVEL_WORDS):
            problems.append(
                Problem(
                    f"bad level key {level!r}",
                    at,
                    "name levels by lower-case ASCII keys, e.g. county, branch, sub_branch",
                )
            )
        if not isinstance(value, str) or not value.strip():
            problems.append(Problem(f"not a path: {value!r}", at, fix))
            continue
        path = (base / value).resolve()
        if not path.exists():
            problems.append(
                Problem(
                    f"no file {value!r} (looked for {path})",
                    at,
                    "give the path relative to the manifest file",
                )
            )
        out[str(level)] = str(path)
    if problems:
        return None, problems
    return (out["None"] if isinstance(raw, str) else out), []


def _check_plan_settings(settings: Mapping[str, Any], where: str) -> list[Problem]:
    """Build the city's plan settings once so their own checks (floors, ceilings) run now."""
    from gridplan.batch.task import plan_settings

    try:
        plan_settings(settings, name="check")
    except InputError as err:
        return [Problem(p.what, f"{where}.settings ({p.where})", p.fix) for p in err.problems]
    return []


def parse_manifest(
    data: Any, path: str | Path, overrides: Mapping[str, Any] | None = None
) -> Manifest:
    """Validate an already-parsed manifest (``path`` resolves its relative paths);
    ``overrides`` (e.g. ``{"seed": 1}`` from the command line) win over every setting."""
    path = Path(path).resolve()
    shown = path.name
    if not isinstance(data, Mapping):
        raise InputError(
            Problem("the manifest is not a mapping", shown, "start with settings: / cities:")
        )
    problems = []
    for key in data:
        if key not in ("settings", "cities"):
            fix = f"use settings and cities{_close(str(key), ['settings', 'cities'])}"
            problems.append(Problem(f"unknown key {key!r}", f"{shown}: {key}", fix))
    province = data.get("settings") or {}
    province_problems = _check_settings(province, f"{shown}: settings")
    problems += province_problems
    raw_cities = data.get("cities")
    if not isinstance(raw_cities, list) or not raw_cities:
        problems.append(
            Problem("no cities", f"{shown}: cities", "list the cities, e.g. - demo: seoul")
        )
        raw_cities = []
    cities: list[CitySpec] = []
    for i, raw in enumerate(raw_cities):
        base = None if province_problems else province
        spec, more = _check_city(raw, i, path.parent, shown, base, dict(overrides or {}))
        problems += more
        if spec is not None:
            cities.append(spec)
    seen: dict[str, int] = {}
    for raw in raw_cities:
        if isinstance(raw, Mapping) and (raw.get("name") or raw.get("demo")):
            key = str(raw.get("name") or raw.get("demo")).casefold()
            seen[key] = seen.get(key, 0) + 1
    for name, count in seen.items():
        if count > 1:
            problems.append(
                Problem(
                    f"{count} cities are named {name!r}", f"{shown}: cities", "give each a name"
                )
            )
    if problems:
        raise InputError(problems)
    return Manifest(path=path, cities=tuple(cities))


def load_manifest(path: str | Path, overrides: Mapping[str, Any] | None = None) -> Manifest:
    """Read and validate a manifest file; every problem is reported in one InputError.
    ``overrides``: settings that win over the manifest's (see :func:`parse_manifest`)."""
    import yaml

    p = Path(path)
    if not p.is_file():
        raise InputError(Problem(f"no manifest {str(p)!r}", "--manifest", "give a YAML file"))
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" (line {mark.line + 1})" if mark is not None else ""
        raise InputError(
            Problem(
                f"the manifest is not valid YAML{at}", p.name, "check the indentation and colons"
            )
        ) from None
    return parse_manifest(data, p, overrides)
