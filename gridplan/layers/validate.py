"""Validation of one input layer: every problem at once, each with the place and the fix.

:func:`validate_layer` renames the planner's columns to the canonical ones of
:mod:`gridplan.layers.model`, repairs invalid geometries, drops points outside the city
boundary and reports every other problem. It never raises for data problems:
it returns the cleaned layer and a list of :class:`~gridplan.errors.Problem`.

Severity: a problem gridplan fixed or worked around by itself (a geometry repaired,
points outside the boundary dropped) is a :class:`Notice`, a subclass of Problem
with the same three fields; every other problem is an error that stops the load.
:func:`severity` tells them apart and :class:`ValidationReport` sorts them.

All checks are vectorised (numpy / shapely arrays), so a million customer points
validate in a few seconds. Row ids in the messages are the layer's index labels:
spreadsheet row numbers for CSV/XLSX (index named ``row``), feature ids for GIS
files (index named ``fid``).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from gridplan.errors import InputError, Problem
from gridplan.layers.crs import local_metric_crs
from gridplan.layers.model import LAYER_KINDS
from gridplan.layers.segments import SegmentCatalogue

__all__ = [
    "DEFAULT_CATALOGUE",
    "LAYER_SPECS",
    "TECHNOLOGIES",
    "LayerSpec",
    "Notice",
    "NumberRule",
    "ValidationReport",
    "format_rows",
    "has_geometry",
    "severity",
    "validate_layer",
]

DEFAULT_CATALOGUE = SegmentCatalogue()
TECHNOLOGIES: tuple[str, ...] = ("4G", "5G")
MAX_LISTED = 5  # how many row ids / values a message lists before "(and N more)"


# --------------------------------------------------------------------------- severity


@dataclass(frozen=True)
class Notice(Problem):
    """A warning: a problem gridplan fixed or worked around itself; the load goes on.

    Same fields as :class:`Problem` (``what``, ``where``, ``fix``); only the
    severity differs.
    """

    def __str__(self) -> str:
        return f"{self.where}: warning: {self.what}. Fix: {self.fix}"


def severity(problem: Problem) -> Literal["error", "warning"]:
    """``"warning"`` for a :class:`Notice`, ``"error"`` for any other Problem."""
    return "warning" if isinstance(problem, Notice) else "error"


@dataclass
class ValidationReport:
    """Problems found while loading, sorted by severity.

    ``errors`` stop the load (``load_layers`` raises one :class:`InputError` with
    all of them); ``warnings`` (:class:`Notice`) are reported and the load goes on.
    """

    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    #: the customer file as read and tiered (a
    #: :class:`gridplan.layers.customers.CustomerLayer`: counts per tier, the column
    #: mapping used), when ``load_layers`` read one
    customers: Any = None

    def add(self, problems: Problem | Iterable[Problem]) -> None:
        """File problems under errors or warnings by their :func:`severity`."""
        if isinstance(problems, Problem):
            problems = [problems]
        for p in problems:
            (self.warnings if severity(p) == "warning" else self.errors).append(p)

    @property
    def ok(self) -> bool:
        """True when there is no error (warnings allowed)."""
        return not self.errors

    @property
    def problems(self) -> tuple[Problem, ...]:
        """Errors first, then warnings."""
        return (*self.errors, *self.warnings)

    def raise_if_errors(self) -> None:
        """Raise one :class:`InputError` carrying every error, then every warning."""
        if self.errors:
            raise InputError(self.problems)

    def __str__(self) -> str:
        if not self.errors and not self.warnings:
            return "no problems"
        return "\n".join(str(p) for p in self.problems)


# --------------------------------------------------------------------------- layer specs


@dataclass(frozen=True)
class NumberRule:
    """A numeric column: values must be numbers >= ``minimum`` (> when ``strict``)."""

    column: str
    unit: str
    minimum: float = 0.0
    strict: bool = False
    integer: bool = False


@dataclass(frozen=True)
class LayerSpec:
    """What a layer kind must look like (see :mod:`gridplan.layers.model`)."""

    kind: str
    geometry: tuple[str, ...]  # allowed geometry families: "point", "line", "polygon"
    required: tuple[str, ...] = ()
    optional: tuple[str, ...] = ()
    numbers: tuple[NumberRule, ...] = ()
    ids: tuple[str, ...] = ()  # columns whose values must be present and unique
    text: tuple[str, ...] = ()  # columns turned into text
    outside: Literal["drop", "keep", "radius"] = "drop"  # what to do outside the boundary

    @property
    def columns(self) -> tuple[str, ...]:
        return self.required + self.optional


LAYER_SPECS: Mapping[str, LayerSpec] = MappingProxyType(
    {
        "boundary": LayerSpec("boundary", ("polygon",), optional=("name",), text=("name",)),
        "districts": LayerSpec(
            "districts",
            ("polygon",),
            required=("district",),
            optional=("parent",),
            ids=("district",),
            text=("district", "parent"),
        ),
        "population": LayerSpec(
            "population",
            ("polygon", "point"),
            required=("population",),
            optional=("households",),
            numbers=(
                NumberRule("population", "persons"),
                NumberRule("households", "households"),
            ),
        ),
        "sites": LayerSpec(
            "sites",
            ("point",),
            required=("site_id", "technology", "sectors", "radius_m"),
            numbers=(
                NumberRule("sectors", "sectors per site", minimum=1, integer=True),
                NumberRule("radius_m", "metres", strict=True),
            ),
            ids=("site_id",),
            outside="radius",
        ),
        "customers": LayerSpec(
            "customers",
            ("point",),
            required=("customer_id", "segment", "spend"),
            optional=("handsets",),
            numbers=(
                NumberRule("spend", "CNY/month"),
                NumberRule("handsets", "handsets", integer=True),
            ),
            ids=("customer_id",),
        ),
        "barriers": LayerSpec("barriers", ("line",)),
        "home_bases": LayerSpec(
            "home_bases",
            ("point",),
            required=("manager",),
            ids=("manager",),
            text=("manager",),
            outside="keep",
        ),
    }
)

# Names planners' files commonly use for the canonical columns; used to suggest a fix.
_SYNONYMS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "name": ("city", "city_name", "名称", "城市"),
        "district": ("name", "district_name", "code", "adcode", "区县", "街道", "行政区"),
        "parent": ("city", "county", "上级"),
        "population": ("pop", "pop_total", "persons", "people", "inhabitants", "人口"),
        "households": ("hh", "household", "户数"),
        "site_id": ("site", "siteid", "id", "enodeb", "gnodeb", "cell_id", "基站", "站址"),
        "technology": ("tech", "rat", "network", "制式", "网络制式"),
        "sectors": ("sector", "n_sectors", "num_sectors", "扇区", "扇区数"),
        "radius_m": ("radius", "range", "coverage_radius", "半径", "覆盖半径"),
        "customer_id": ("customer", "cust_id", "id", "client_id", "user_id", "客户编号"),
        "segment": ("tier", "level", "class", "category", "grade", "客户类型", "等级"),
        "spend": ("arpu", "revenue", "monthly_spend", "amount", "bill", "消费", "月消费"),
        "handsets": ("phones", "lines", "terminals", "手机数"),
        "manager": ("name", "manager_name", "经理", "社区经理"),
    }
)

_TECH_ALIASES: Mapping[str, str] = MappingProxyType(
    {
        "4g": "4G",
        "lte": "4G",
        "4glte": "4G",
        "fddlte": "4G",
        "tdlte": "4G",
        "5g": "5G",
        "nr": "5G",
        "5gnr": "5G",
        "5gsa": "5G",
        "5gnsa": "5G",
    }
)

_READ_OPTION_KEYS = frozenset({"lon", "lat", "layer", "crs"})

# shapely type ids -> geometry family
_FAMILY_OF_TYPE = {
    0: "point",
    4: "point",
    1: "line",
    2: "line",
    5: "line",
    3: "polygon",
    6: "polygon",
}
_PLURAL = {
    "point": "points",
    "line": "lines",
    "polygon": "polygons",
    "collection": "geometry collections",
}


# --------------------------------------------------------------------------- formatting


def _count(n: int, noun: str, plural: str | None = None) -> str:
    return f"{n:,} {noun if n == 1 else (plural or noun + 's')}"


def format_rows(index: pd.Index, mask: np.ndarray | None = None, *, limit: int = MAX_LISTED) -> str:
    """'rows 3, 17, 42 (and 12 more)' for the labels of ``index`` where ``mask`` is True.

    The noun is "rows" for spreadsheet row numbers (index named ``row``) and
    "features" with their ``fid`` for GIS files (index named ``fid``).
    """
    positions = np.arange(len(index)) if mask is None else np.flatnonzero(mask)
    n = len(positions)
    labels = [str(v) for v in index[positions[:limit]]]
    if index.name == "fid":
        head = f"{'feature' if n == 1 else 'features'} with fid {', '.join(labels)}"
    else:
        head = f"{'row' if n == 1 else 'rows'} {', '.join(labels)}"
    if n > limit:
        head += f" (and {n - limit:,} more)"
    return head


def _show(v: object) -> str:
    if isinstance(v, str):
        return repr(v)
    if isinstance(v, float | np.floating):
        return f"{v:g}"
    return str(v)


def _values(values: Sequence[object], limit: int = MAX_LISTED) -> str:
    shown = ", ".join(_show(v) for v in values[:limit])
    if len(values) > limit:
        shown += f" (and {len(values) - limit:,} more)"
    return shown


def _norm(name: object) -> str:
    return re.sub(r"[\s\-\.]+", "_", str(name).strip().casefold())


def closest_column(wanted: str, columns: Iterable[object]) -> str | None:
    """The column of ``columns`` most likely meant as ``wanted`` (synonyms, then difflib)."""
    names = [str(c) for c in columns]
    targets = [_norm(wanted), *(_norm(s) for s in _SYNONYMS.get(wanted, ()))]
    best, best_score = None, 0.0
    for col in names:
        n = _norm(col)
        score = max(difflib.SequenceMatcher(None, n, t).ratio() for t in targets)
        if n in targets:
            score = 1.0
        elif any(
            len(t) >= 3 and (n.startswith(t) or (t.startswith(n) and len(n) >= 3)) for t in targets
        ):
            score = max(score, 0.8)
        if score > best_score:
            best, best_score = col, score
    return best if best_score >= 0.6 else None


# --------------------------------------------------------------------------- the checker


def has_geometry(gdf: object) -> bool:
    """True for a GeoDataFrame with an active geometry column."""
    if not isinstance(gdf, gpd.GeoDataFrame):
        return False
    try:
        return gdf.geometry is not None
    except AttributeError:
        return False


class _Checker:
    """Collects problems about one layer; ``where`` names the file and the rows."""

    def __init__(self, gdf: gpd.GeoDataFrame, spec: LayerSpec, source: str):
        self.gdf = gdf
        self.spec = spec
        self.source = source
        self.problems: list[Problem] = []
        self.id_column = next((c for c in spec.ids if c in gdf.columns), None)

    def where(self, mask: np.ndarray | None = None, *, with_ids: bool = True) -> str:
        if mask is None:
            return self.source
        text = f"{self.source}, {format_rows(self.gdf.index, mask)}"
        if with_ids and self.id_column is not None:
            ids = self.gdf[self.id_column].to_numpy()[np.flatnonzero(mask)[:MAX_LISTED]]
            if not pd.isna(ids).all():
                text += f" ({self.id_column} {', '.join(str(v) for v in ids)})"
        return text

    def error(self, what: str, fix: str, mask: np.ndarray | None = None, **kw: bool) -> None:
        self.problems.append(Problem(what, self.where(mask, **kw), fix))

    def warn(self, what: str, fix: str, mask: np.ndarray | None = None, **kw: bool) -> None:
        self.problems.append(Notice(what, self.where(mask, **kw), fix))


def validate_layer(
    gdf: gpd.GeoDataFrame,
    kind: str,
    *,
    source: str,
    boundary: gpd.GeoDataFrame | None = None,
    columns: Mapping[str, str] | None = None,
    catalogue: SegmentCatalogue = DEFAULT_CATALOGUE,
) -> tuple[gpd.GeoDataFrame, list[Problem]]:
    """Check one layer of ``kind`` (see :data:`gridplan.layers.LAYER_KINDS`) and clean it.

    ``source`` names the layer in messages (e.g. the file name). ``columns`` maps
    canonical names to the planner's column names, e.g. ``{"population": "POP2020"}``
    (the pandas ``rename`` direction ``{"POP2020": "population"}`` is accepted too);
    canonical columns are also found case-insensitively. ``boundary`` (any CRS) is
    the city: points outside it are dropped (sites only when their coverage radius
    does not reach it; home bases are kept) and polygons/lines that do not touch it
    are dropped, each reported as a warning.

    Returns the cleaned layer (canonical columns, repaired 2-D geometries, numeric
    columns as numbers, segment/technology codes normalised; CRS and index
    unchanged) and every problem found. Never raises for data problems.
    """
    if kind not in LAYER_SPECS:
        raise ValueError(f"unknown layer kind {kind!r}; kinds are {', '.join(LAYER_KINDS)}")
    spec = LAYER_SPECS[kind]
    problems: list[Problem] = []

    if not has_geometry(gdf):
        problems.append(
            Problem(
                f"the {kind} layer has no geometry",
                source,
                "give a layer with geometries (or, for CSV/XLSX, longitude/latitude columns)",
            )
        )
        return gdf, problems

    gdf = gdf.copy()
    if gdf.geometry.name != "geometry" and "geometry" not in gdf.columns:
        gdf = gdf.rename_geometry("geometry")
    gdf, renamed_problems = _rename_columns(gdf, spec, columns or {}, source)
    problems += renamed_problems

    if len(gdf) == 0:
        problems.append(
            Problem(
                f"the {kind} layer is empty (no features)",
                source,
                "give a file with at least one feature, or check the layer/sheet chosen",
            )
        )
        return gdf, problems

    check = _Checker(gdf, spec, source)
    crs_ok = _check_crs(check)
    geom_ok = _check_geometry(check)
    if crs_ok:
        _check_coordinate_range(check, geom_ok)
    present = set(check.gdf.columns)
    for rule in spec.numbers:
        if rule.column in present:
            _check_number(check, rule)
    for col in spec.text:
        if col in present:
            check.gdf[col] = _as_text(check.gdf[col])
    for col in spec.ids:
        if col in present:
            _check_ids(check, col)
    if "technology" in spec.columns and "technology" in present:
        _check_technology(check)
    if "segment" in spec.columns and "segment" in present:
        _check_segments(check, catalogue)
    problems += check.problems

    gdf = check.gdf
    if (
        boundary is not None
        and crs_ok
        and not any(p.what.startswith("coordinates") for p in check.problems)
    ):
        gdf, boundary_problems = _apply_boundary(gdf, spec, source, boundary, geom_ok)
        problems += boundary_problems
    return gdf, problems


# --------------------------------------------------------------------------- columns


def _rename_columns(
    gdf: gpd.GeoDataFrame, spec: LayerSpec, columns: Mapping[str, str], source: str
) -> tuple[gpd.GeoDataFrame, list[Problem]]:
    problems: list[Problem] = []
    geom_name = gdf.geometry.name
    existing = [str(c) for c in gdf.columns if c != geom_name]
    canon = set(spec.columns)
    chosen: dict[str, str] = {}  # canonical -> planner's column

    for key, value in columns.items():
        if key in _READ_OPTION_KEYS:
            continue
        if key in canon and (value not in canon or value == key):
            chosen[key] = value
        elif value in canon and key not in canon:
            chosen[value] = key
        elif key in canon:
            chosen[key] = value
        else:
            known = ", ".join(spec.columns) or "(none: it needs only geometries)"
            problems.append(
                Problem(
                    f"the column mapping {key!r}: {value!r} names no column of the "
                    f"{spec.kind} layer",
                    f"{source}, columns",
                    f"map the {spec.kind} layer's columns ({known}) to your columns, "
                    f"e.g. {{{spec.columns[0] if spec.columns else 'name'!r}: 'YOUR_COLUMN'}}",
                )
            )

    by_norm: dict[str, list[str]] = {}
    for c in existing:
        by_norm.setdefault(_norm(c), []).append(c)

    rename: dict[str, str] = {}
    for want, theirs in chosen.items():
        if theirs in existing:
            rename[theirs] = want
            continue
        matches = by_norm.get(_norm(theirs), [])
        if len(matches) == 1:
            rename[matches[0]] = want
            continue
        hint = closest_column(theirs, existing)
        problems.append(
            Problem(
                f"the column {theirs!r} given for {want} is not in the file",
                f"{source}, columns",
                f"the file has columns {_values(existing, 30)}"
                + (f"; did you mean {hint!r}?" if hint else "")
                + " Correct the column mapping",
            )
        )

    for want in spec.columns:
        if want in chosen or want in existing:
            continue
        matches = [c for c in by_norm.get(_norm(want), []) if c not in rename]
        if len(matches) == 1:
            rename[matches[0]] = want
        elif want in spec.required:
            hint = closest_column(want, [c for c in existing if c not in rename])
            fix = f"the file has columns {_values(existing, 30) or '(none)'}; "
            if hint:
                fix += (
                    f"{hint!r} looks like {want}: rename it to {want!r} or pass "
                    f"columns={{{want!r}: {hint!r}}}"
                )
            else:
                fix += f"add a column {want!r} or pass columns={{{want!r}: 'YOUR_COLUMN'}}"
            problems.append(
                Problem(f"missing column {want!r} of the {spec.kind} layer", source, fix)
            )

    if rename:
        # An existing column already named like a target keeps its data under another name.
        clash = {t: f"{t}_original" for s, t in rename.items() if t in existing and s != t}
        if clash:
            gdf = gdf.rename(columns=clash)
        gdf = gdf.rename(columns=rename)
    return gdf, problems


# --------------------------------------------------------------------------- CRS


def _check_crs(check: _Checker) -> bool:
    if check.gdf.crs is not None:
        return True
    check.error(
        f"the {check.spec.kind} layer has no coordinate reference system (CRS)",
        "set the CRS in your GIS and export again (for a Shapefile, the .prj file is "
        "missing), or pass crs=..., e.g. crs='EPSG:4326' for longitude/latitude",
    )
    return False


# --------------------------------------------------------------------------- geometry


def _check_geometry(check: _Checker) -> np.ndarray:
    """Check and repair the geometries of ``check.gdf``; returns the mask of usable rows."""
    gdf = check.gdf
    geoms = np.array(gdf.geometry.array, dtype=object, copy=True)
    type_ids = shapely.get_type_id(geoms)
    missing = _check_missing(check, geoms, type_ids)
    if shapely.has_z(geoms[~missing]).any():
        geoms = shapely.force_2d(geoms)
    family = np.full(len(geoms), "", dtype=object)
    for tid, fam in _FAMILY_OF_TYPE.items():
        family[type_ids == tid] = fam
    family[type_ids == 7] = "collection"
    family[missing] = ""
    if check.spec.geometry == ("point",):
        _single_points(check, geoms, type_ids, missing, family)
    usable = _check_families(check, family, ~missing)
    usable = _repair_shapes(check, geoms, family, usable)
    check.gdf = gdf.set_geometry(gpd.GeoSeries(geoms, index=gdf.index, crs=gdf.crs))
    check.gdf = (
        check.gdf.rename_geometry("geometry")
        if check.gdf.geometry.name != "geometry"
        else check.gdf
    )
    return usable


def _check_missing(check: _Checker, geoms: np.ndarray, type_ids: np.ndarray) -> np.ndarray:
    """Mask of rows without a geometry (none, empty, or a point with NaN coordinates)."""
    missing = (type_ids < 0) | shapely.is_empty(geoms)
    point_idx = np.flatnonzero((type_ids == 0) & ~missing)
    if len(point_idx):
        x, y = shapely.get_x(geoms[point_idx]), shapely.get_y(geoms[point_idx])
        missing[point_idx[~(np.isfinite(x) & np.isfinite(y))]] = True
    if missing.any():
        check.error(
            f"{_count(int(missing.sum()), 'feature')} without geometry (or empty "
            "coordinates; for CSV/XLSX an empty or non-numeric longitude/latitude)",
            "fill in the geometries / coordinates of these rows, or delete the rows",
            missing,
        )
    return missing


def _single_points(
    check: _Checker,
    geoms: np.ndarray,
    type_ids: np.ndarray,
    missing: np.ndarray,
    family: np.ndarray,
) -> None:
    """In a point layer, single-part multipoints become points (``geoms`` edited in place);
    multipoints of several points are errors (``family`` set to "multipoint")."""
    multi = (type_ids == 4) & ~missing
    if not multi.any():
        return
    single = multi & (shapely.get_num_geometries(geoms) == 1)
    geoms[single] = shapely.get_geometry(geoms[single], 0)
    several = multi & ~single
    if several.any():
        check.error(
            f"{_count(int(several.sum()), 'feature')} with several points each "
            f"(multipoints); the {check.spec.kind} layer needs one point per feature",
            "split multipart features into single parts in your GIS (QGIS: "
            "'Multipart to singleparts')",
            several,
        )
        family[several] = "multipoint"


def _check_families(check: _Checker, family: np.ndarray, present: np.ndarray) -> np.ndarray:
    """Mask of the rows whose geometry family the layer accepts (mixed or wrong types are
    errors; with mixed types only the most common accepted family is usable)."""
    spec = check.spec
    fams, counts = np.unique(family[present].astype(str), return_counts=True)
    fams_counts = dict(zip(fams.tolist(), counts.tolist(), strict=True))
    fams_counts.pop("multipoint", None)
    allowed = spec.geometry
    needs = " or ".join(_PLURAL[f] for f in allowed)
    usable = present & np.isin(family, list(allowed))

    if len(fams_counts) > 1:
        # Mixed: the expected family is the most common allowed one.
        candidates = {f: n for f, n in fams_counts.items() if f in allowed}
        expected = max(candidates, key=candidates.get) if candidates else None
        summary = " and ".join(
            _count(n, _PLURAL[f][:-1], _PLURAL[f])
            for f, n in sorted(fams_counts.items(), key=lambda fn: -fn[1])
        )
        if expected is None:
            bad = present
        else:
            bad = present & (family != expected) & (family != "multipoint")
            usable = present & (family == expected)
        check.error(
            f"mixed geometry types ({summary}); the {spec.kind} layer needs {needs}"
            + (", all of one kind" if len(allowed) > 1 else ""),
            "keep one geometry type per layer: remove the other features or move them "
            "to their own file",
            bad,
        )
    elif len(fams_counts) == 1:
        (fam,) = fams_counts
        if fam not in allowed:
            fix = {
                ("point",): "give points (QGIS: Vector > Geometry Tools > Centroids), or "
                "check that this file is the right layer",
                ("polygon",): f"give the {spec.kind} as polygons (areas), not as "
                f"{_PLURAL[fam]}; check that this file is the right layer",
                ("line",): "give lines (QGIS: Polygons to lines), or check that this "
                "file is the right layer",
            }.get(allowed, f"give {needs}; check that this file is the right layer")
            check.error(
                f"wrong geometry type: the {spec.kind} layer needs {needs} but has {_PLURAL[fam]}",
                fix,
                present,
            )
            usable = np.zeros(len(family), dtype=bool)
    return usable


def _repair_shapes(
    check: _Checker, geoms: np.ndarray, family: np.ndarray, usable: np.ndarray
) -> np.ndarray:
    """Repair invalid usable polygons / lines in place (a warning); a repair that leaves
    nothing is an error and the row becomes unusable. Returns the new usable mask."""
    shaped = usable & np.isin(family, ["polygon", "line"])
    if not shaped.any():
        return usable
    idx = np.flatnonzero(shaped)
    invalid_idx = idx[~shapely.is_valid(geoms[idx])]
    if not len(invalid_idx):
        return usable
    reasons = shapely.is_valid_reason(geoms[invalid_idx[:MAX_LISTED]])
    fixed = np.empty(len(invalid_idx), dtype=object)
    poly = family[invalid_idx] == "polygon"
    if poly.any():
        fixed[poly] = shapely.make_valid(
            geoms[invalid_idx[poly]], method="structure", keep_collapsed=False
        )
    if (~poly).any():
        lines = shapely.make_valid(geoms[invalid_idx[~poly]])
        fixed[~poly] = shapely.line_merge(_keep_family(lines, "line"))
    fixed[poly] = _keep_family(fixed[poly], "polygon")
    geoms[invalid_idx] = fixed
    invalid = np.zeros(len(geoms), dtype=bool)
    invalid[invalid_idx] = True
    degenerate = np.zeros(len(geoms), dtype=bool)
    degenerate[invalid_idx[shapely.is_empty(fixed)]] = True
    repaired = invalid & ~degenerate
    if repaired.any():
        check.warn(
            f"{_count(int(repaired.sum()), 'invalid geometry', 'invalid geometries')}"
            f" repaired with make_valid ({'; '.join(dict.fromkeys(reasons))})",
            "nothing to do; to keep control of the shapes, fix them in your GIS "
            "(QGIS: Vector > Geometry Tools > Fix Geometries) and load again",
            repaired,
        )
    if degenerate.any():
        check.error(
            _count(int(degenerate.sum()), "degenerate geometry", "degenerate geometries")
            + " (zero area or length, nothing left after repair)",
            "redraw or delete these features",
            degenerate,
        )
        usable = usable & ~degenerate
    return usable


def _keep_family(geoms: np.ndarray, fam: str) -> np.ndarray:
    """Keep only the parts of ``fam`` in each geometry (make_valid may return collections)."""
    out = np.asarray(geoms, dtype=object).copy()
    coll = np.flatnonzero(shapely.get_type_id(out) == 7)
    wanted = {"polygon": (3, 6), "line": (1, 2, 5)}[fam]
    for i in coll:  # only the few repaired collections
        parts = [p for p in shapely.get_parts(out[i]) if shapely.get_type_id(p) in wanted]
        out[i] = shapely.union_all(parts) if parts else shapely.from_wkt("GEOMETRYCOLLECTION EMPTY")
    return out


def _check_coordinate_range(check: _Checker, usable: np.ndarray) -> None:
    """Longitude/latitude out of range, or degrees in a projected CRS."""
    gdf = check.gdf
    crs = pyproj.CRS.from_user_input(gdf.crs)
    if not usable.any():
        return
    geoms = np.asarray(gdf.geometry.array, dtype=object)
    bounds = np.full((len(geoms), 4), np.nan)
    bounds[usable] = shapely.bounds(geoms[usable])
    minx, miny, maxx, maxy = (bounds[:, i] for i in range(4))
    name = crs.to_string()
    if crs.is_geographic:
        bad = usable & ((minx < -180) | (maxx > 180) | (miny < -90) | (maxy > 90))
        if bad.any():
            swapped = bad & (np.abs(minx) <= 90) & (np.abs(maxx) <= 90)
            swapped &= (np.abs(miny) <= 180) & (np.abs(maxy) <= 180)
            if swapped[bad].all():
                what = (
                    f"coordinates out of range for {name}: longitude and latitude look "
                    "swapped (latitude beyond ±90°)"
                )
                fix = "swap the longitude and latitude columns (or pass lon=..., lat=...)"
            else:
                what = (
                    f"coordinates out of range for longitude/latitude ({name}): x up to "
                    f"{np.nanmax(np.abs(bounds[bad][:, [0, 2]])):,.0f}, y up to "
                    f"{np.nanmax(np.abs(bounds[bad][:, [1, 3]])):,.0f}; "
                    "they look projected (metres)"
                )
                fix = (
                    "declare the real CRS of the coordinates (in your GIS, or crs=... "
                    "for CSV/XLSX, e.g. crs='EPSG:32650' for UTM zone 50N)"
                )
            check.error(what, fix, bad)
    elif crs.is_projected:
        ext_x = np.nanmax(maxx[usable]) - np.nanmin(minx[usable])
        ext_y = np.nanmax(maxy[usable]) - np.nanmin(miny[usable])
        inside = (np.abs(bounds[usable]) <= 180).all()
        if inside and 0 < max(ext_x, ext_y) < 5:
            check.error(
                f"coordinates look like longitude/latitude degrees but the CRS is {name} "
                f"(projected, {crs.axis_info[0].unit_name}): the whole layer spans less "
                f"than {max(ext_x, ext_y):.3g} units",
                "declare the CRS as EPSG:4326 (longitude/latitude) in your GIS, or pass "
                "crs='EPSG:4326'",
            )


# --------------------------------------------------------------------------- attributes


def _check_number(check: _Checker, rule: NumberRule) -> None:
    gdf, col = check.gdf, rule.column
    raw = gdf[col]
    required = col in check.spec.required
    if pd.api.types.is_numeric_dtype(raw):
        num = raw.astype(float)
    else:
        num = pd.to_numeric(raw, errors="coerce").astype(float)
    values = num.to_numpy()
    absent = raw.isna().to_numpy()
    nonnum = ~absent & np.isnan(values)
    if nonnum.any():
        bad_values = pd.unique(raw.to_numpy()[nonnum])
        check.error(
            f"{col} is not a number ({_values(list(bad_values))})",
            f"write {col} as plain numbers in {rule.unit} (no units, text or thousands separators)",
            nonnum,
        )
    if required and absent.any():
        check.error(
            f"{col} is missing",
            f"fill in {col} ({rule.unit}) for these rows, or delete them",
            absent,
        )
    infinite = np.isinf(values)
    if infinite.any():
        check.error(f"{col} is infinite", f"give finite values of {col}", infinite)
    finite = np.isfinite(values)
    low = np.zeros(len(values), dtype=bool)
    low[finite] = values[finite] <= rule.minimum if rule.strict else values[finite] < rule.minimum
    if low.any():
        cmp = ">" if rule.strict else ">="
        what = f"{col} is {'negative' if rule.minimum == 0 and not rule.strict else 'too small'}"
        shown = pd.unique(values[low])
        check.error(
            f"{what} ({_values(list(shown))})",
            f"{col} must be {cmp} {rule.minimum:g} {rule.unit}: correct these values",
            low,
        )
    fractional = np.zeros(len(values), dtype=bool)
    if rule.integer:
        fractional[finite] = values[finite] != np.round(values[finite])
        if fractional.any():
            check.error(
                f"{col} is not a whole number ({_values(list(pd.unique(values[fractional])))})",
                f"{col} counts {rule.unit}: give whole numbers",
                fractional,
            )
    clean = not (nonnum.any() or infinite.any() or low.any() or fractional.any())
    if rule.integer and clean and not absent.any():
        check.gdf[col] = num.astype("int64")
    else:
        check.gdf[col] = num


def _as_text(s: pd.Series) -> pd.Series:
    """Text labels; integral numbers lose their '.0' (district codes such as 110101)."""
    if pd.api.types.is_float_dtype(s):
        v = s.to_numpy()
        if np.all(np.isnan(v) | (v == np.round(v))):
            s = s.astype("Int64")
    out = s.astype(str)
    out = out.str.strip()
    return out.where(s.notna())


def _check_ids(check: _Checker, col: str) -> None:
    s = check.gdf[col]
    absent = s.isna().to_numpy()
    if s.dtype == object or pd.api.types.is_string_dtype(s):
        absent = absent | (s.astype(str).str.strip() == "").to_numpy()
    if absent.any():
        check.error(
            f"{col} is missing",
            f"every feature needs its own {col}: fill them in",
            absent,
            with_ids=False,
        )
    dup = s.duplicated(keep=False).to_numpy() & ~absent
    if dup.any():
        values = pd.unique(s.to_numpy()[dup])
        fix = f"give every feature its own {col}"
        if col == "district":
            fix += " (or dissolve the rows of one district into a single multipolygon)"
        check.error(
            f"duplicate {col}: {_values([str(v) for v in values])} "
            f"({_count(len(values), 'value')} shared by {_count(int(dup.sum()), 'feature')})",
            fix,
            dup,
            with_ids=False,
        )


def _map_codes(
    s: pd.Series, lookup: Mapping[str, str], pattern: str, sep: str
) -> tuple[np.ndarray, np.ndarray, list[object]]:
    """Map values through ``lookup`` on their distinct values (fast for a million rows).

    Keys are the values stripped, case-folded, with ``pattern`` replaced by ``sep``.
    Returns the mapped object array (None where unknown), the mask of unknown rows
    and the distinct unknown values, most frequent first.
    """
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    uniques = np.asarray(uniques, dtype=object)
    keys = pd.Series(uniques, dtype=object).astype(str).str.strip().str.casefold()
    keys = keys.str.replace(pattern, sep, regex=True)
    found = keys.map(lookup).to_numpy(dtype=object)
    unknown_u = pd.isna(found)
    mapped_u = np.append(np.where(unknown_u, None, found), None).astype(object)
    mapped = mapped_u[codes]  # code -1 (missing) picks the trailing None
    unknown = (codes < 0) | np.append(unknown_u, True)[codes]
    counts = np.bincount(codes[codes >= 0], minlength=len(uniques))
    order = np.argsort(-counts, kind="stable")
    order = order[unknown_u[order] & (counts[order] > 0)]
    values: list[object] = uniques[order].tolist()
    if (codes < 0).any():
        values.append("(empty)")
    return mapped, unknown, values


def _check_technology(check: _Checker) -> None:
    mapped, unknown, values = _map_codes(check.gdf["technology"], _TECH_ALIASES, r"[\s\-_]+", "")
    if unknown.any():
        check.error(
            f"technology is not 4G or 5G ({_values([str(v) for v in values])})",
            "write 4G or 5G in the technology column (LTE and NR are understood too)",
            unknown,
        )
    check.gdf["technology"] = pd.Series(mapped, index=check.gdf.index, dtype=object)


def _check_segments(check: _Checker, catalogue: SegmentCatalogue) -> None:
    lookup: dict[str, str] = {}
    for seg in catalogue.segments:
        for name in (seg.label_zh, seg.label_en, seg.code):
            lookup[_norm(name)] = seg.code
    mapped, unknown, values = _map_codes(check.gdf["segment"], lookup, r"[\s\-\.]+", "_")
    if unknown.any():
        hints = []
        for v in values[:MAX_LISTED]:
            close = difflib.get_close_matches(_norm(v), list(lookup), n=1, cutoff=0.5)
            if not close and len(_norm(v)) >= 3:
                close = [k for k in lookup if _norm(v) in k][:1]
            if close:
                hints.append(f"{str(v)!r} → {lookup[close[0]]}?")
        check.error(
            f"unknown customer segment ({_values([str(v) for v in values], 8)})",
            f"use one of the segment codes {', '.join(catalogue.codes)} "
            "(their English or Chinese labels are understood too)"
            + (f"; did you mean {', '.join(hints)}" if hints else ""),
            unknown,
        )
    check.gdf["segment"] = pd.Series(mapped, index=check.gdf.index, dtype=object)


# --------------------------------------------------------------------------- boundary


def _apply_boundary(
    gdf: gpd.GeoDataFrame,
    spec: LayerSpec,
    source: str,
    boundary: gpd.GeoDataFrame,
    usable: np.ndarray,
) -> tuple[gpd.GeoDataFrame, list[Problem]]:
    """Drop (or flag) features outside the boundary; warnings only."""
    if spec.kind == "boundary" or boundary.crs is None or len(boundary) == 0:
        return gdf, []
    b = boundary.geometry
    b = b[~(b.isna() | b.is_empty)]
    if len(b) == 0:
        return gdf, []
    try:
        area = shapely.union_all(np.asarray(b.to_crs(gdf.crs).array, dtype=object))
    except Exception:  # an unusable boundary is reported by its own validation
        return gdf, []
    area = shapely.make_valid(area) if not shapely.is_valid(area) else area
    shapely.prepare(area)
    geoms = np.asarray(gdf.geometry.array, dtype=object)
    inside = np.ones(len(geoms), dtype=bool)
    idx = np.flatnonzero(usable)
    fam_point = spec.geometry == ("point",) or (
        len(idx) and shapely.get_type_id(geoms[idx[0]]) == 0
    )
    if fam_point:
        pts = geoms[idx]
        inside[idx] = shapely.intersects_xy(area, shapely.get_x(pts), shapely.get_y(pts))
    else:
        inside[idx] = shapely.intersects(area, geoms[idx])
    outside = ~inside
    if not outside.any():
        return gdf, []

    check = _Checker(gdf, spec, source)
    total = len(gdf)
    noun = "points" if fam_point else _PLURAL[spec.geometry[0]]
    if spec.outside == "keep":
        check.warn(
            f"{_count(int(outside.sum()), 'point')} outside the city boundary, kept "
            "(a home base may lie outside the city)",
            "nothing to do if these home bases are right; otherwise correct their positions",
            outside,
        )
        return gdf, check.problems
    if spec.outside == "radius" and "radius_m" in gdf.columns:
        # Sites just outside the city still cover it: keep those whose radius reaches it.
        metric = local_metric_crs(boundary)
        far_idx = np.flatnonzero(outside)
        pts = gpd.GeoSeries(geoms[far_idx], crs=gdf.crs).to_crs(metric)
        area_m = shapely.union_all(np.asarray(b.to_crs(metric).array, dtype=object))
        dist = shapely.distance(area_m, np.asarray(pts.array, dtype=object))
        radius = pd.to_numeric(gdf["radius_m"], errors="coerce").to_numpy()[far_idx]
        reaches = dist <= np.nan_to_num(radius, nan=0.0)
        outside[far_idx[reaches]] = False
        if not outside.any():
            return gdf, []
        what = (
            f"{_count(int(outside.sum()), 'site')} of {total:,} outside the city boundary and "
            "out of coverage reach of it (farther than radius_m), dropped"
        )
    else:
        what = (
            f"{int(outside.sum()):,} of {total:,} {noun} outside the city boundary"
            + (" (not touching it)" if not fam_point else "")
            + ", dropped"
        )
    check.warn(
        what,
        "nothing to do if the layer simply covers more than the city; otherwise check "
        "the positions and the CRS of this layer and of the boundary",
        outside,
    )
    return gdf.loc[~outside], check.problems
