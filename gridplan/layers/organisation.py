"""The operator's own organisation units (e.g. county → branch 分局 → sub-branch 支局).

Levels run top → bottom; the city is the root above every level. Level keys are
lower-case ASCII identifiers (``[a-z][a-z0-9_]{0,19}``); common Chinese level words are
turned into keys with the word as the display label (区县 → ``county``, 分局 →
``branch``, 支局 → ``sub_branch``, 网格 → ``grid_unit``).

:func:`read_organisation` accepts three forms:

a. **one polygon layer per level**, top → bottom, e.g.
   ``{"county": "counties.gpkg", "branch": "branches.gpkg"}`` (any GIS format the layer
   reader opens, any CRS). Columns: ``code`` (synonyms ``编码``, ``代码``, ``id``,
   ``unit_code``), optional ``name`` (``名称``, ``unit_name``; default: the code) and
   optional ``parent`` (``上级``, ``parent_code``, ``上级编码``: the code of the unit one
   level up). Without a parent column a unit's parent is the unit of the level above it
   overlaps most.
b. **one polygon layer** with columns ``level`` (``层级``, ``级别``), ``code``, ``name``
   and ``parent``; the level order follows the parent chain (the top level has no
   parents).
c. **a table** (CSV/XLSX, encodings as :func:`gridplan.layers.read.read_table`) that
   assigns districts to units: column ``district`` (``区县``, ``行政区``, ``街道``) and
   one column per level, top → bottom, holding unit codes; optional ``<level>_name``
   columns give the names (default: the code).

Every problem of the input is reported in one :class:`~gridplan.errors.InputError`
(unknown parent, a non-top unit without a parent, duplicate codes within a level, a
cycle of levels, a bad level key, an empty layer, a district in no unit of the table …),
each naming the file, the rows and the fix.

:func:`assign_units` gives each cell its unit per level (columns ``unit_<L>`` and
``unit_<L>_name``): polygons by largest overlap of the lowest level, whose parent chain
fills the upper levels; the table through the cell's ``district``.
:func:`units_layer` dissolves the cells per unit (outlines that match the grids).
"""

from __future__ import annotations

import itertools
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from gridplan.errors import InputError, Problem
from gridplan.layers.crs import local_metric_crs
from gridplan.layers.model import Organisation
from gridplan.layers.read import read_layer, read_table
from gridplan.layers.validate import format_rows, has_geometry

__all__ = [
    "CODE_NAMES",
    "DISTRICT_NAMES",
    "LEVEL_KEY",
    "LEVEL_NAMES",
    "LEVEL_WORDS",
    "NAME_NAMES",
    "PARENT_NAMES",
    "Organisation",
    "UnitsSource",
    "assign_units",
    "read_organisation",
    "units_layer",
]

#: A level key: lower-case ASCII identifier of at most 20 characters.
LEVEL_KEY = re.compile(r"^[a-z][a-z0-9_]{0,19}$")
#: Column synonyms (compared case-insensitively, stripped).
CODE_NAMES: tuple[str, ...] = ("code", "编码", "代码", "id", "unit_code", "单位编码")
NAME_NAMES: tuple[str, ...] = ("name", "名称", "unit_name", "单位名称")
PARENT_NAMES: tuple[str, ...] = ("parent", "上级", "parent_code", "上级编码", "上级代码")
LEVEL_NAMES: tuple[str, ...] = ("level", "层级", "级别")
DISTRICT_NAMES: tuple[str, ...] = ("district", "区县", "行政区", "街道")
#: Chinese level words → (key, label).
LEVEL_WORDS: Mapping[str, str] = MappingProxyType(
    {"区县": "county", "县": "county", "分局": "branch", "支局": "sub_branch", "网格": "grid_unit"}
)
_TABLES = (".csv", ".tsv", ".txt", ".xlsx", ".xlsm")

#: What :func:`read_organisation` reads: a path (form b or c), a mapping level → path or
#: GeoDataFrame (form a), or the layer / table itself.
UnitsSource = (
    str
    | os.PathLike[str]
    | Mapping[str, "str | os.PathLike[str] | gpd.GeoDataFrame"]
    | gpd.GeoDataFrame
    | pd.DataFrame
)


# --------------------------------------------------------------------------- helpers


def _find(df: pd.DataFrame, names: Sequence[str]) -> str | None:
    folded: dict[str, str] = {}
    for c in df.columns:
        folded.setdefault(str(c).strip().casefold(), c)
    return next((folded[n] for n in names if n in folded), None)


def _text(s: pd.Series) -> pd.Series:
    """Stripped text; missing → ''; integral floats lose '.0' (codes such as 110101)."""
    if pd.api.types.is_float_dtype(s):
        v = s.to_numpy(dtype=float)
        if np.all(np.isnan(v) | (v == np.round(v))):
            s = s.astype("Int64")
    out = s.astype(object).where(s.notna(), "")
    return out.astype(str).str.strip().replace({"nan": "", "<NA>": "", "None": ""})


def _level_key(raw: object, where: str, problems: list[Problem]) -> tuple[str, str] | None:
    """``(key, label)`` of a level name, or None (a problem added)."""
    text = str(raw).strip()
    if text in LEVEL_WORDS:
        return LEVEL_WORDS[text], text
    key = text.casefold().replace(" ", "_").replace("-", "_")
    if LEVEL_KEY.match(key):
        return key, key
    problems.append(
        Problem(
            f"bad level key {text!r}",
            where,
            "name levels by lower-case ASCII keys of at most 20 characters, e.g. county, "
            "branch, sub_branch (or 区县, 分局, 支局)",
        )
    )
    return None


def _rows(frame: pd.DataFrame, mask: np.ndarray) -> str:
    return format_rows(frame.index, np.asarray(mask, dtype=bool))


def _shown(source: object, fallback: str) -> str:
    if isinstance(source, str | os.PathLike):
        return Path(source).name or str(source)
    return fallback


def _read_polygons(source: object, shown: str, problems: list[Problem]) -> gpd.GeoDataFrame | None:
    """A polygon layer as read (own CRS), or None (problems added)."""
    if isinstance(source, gpd.GeoDataFrame):
        gdf = source.copy()
    elif not isinstance(source, str | os.PathLike):
        problems.append(
            Problem(
                f"not a layer: {type(source).__name__}",
                shown,
                "give the path of a polygon file, or a GeoDataFrame",
            )
        )
        return None
    else:
        try:
            gdf = read_layer(source)  # type: ignore[arg-type]
        except InputError as err:
            problems.extend(err.problems)
            return None
    if len(gdf) == 0:
        problems.append(
            Problem("the units layer is empty (no features)", shown, "give one feature per unit")
        )
        return None
    if gdf.crs is None:
        problems.append(
            Problem("the units layer has no CRS", shown, "save it with its coordinate system")
        )
        return None
    geoms = np.asarray(gdf.geometry.values, dtype=object)
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    poly = np.isin(shapely.get_type_id(geoms), (3, 6)) & ~missing
    if (~poly).any():
        problems.append(
            Problem(
                "units must be polygons; some features are empty or not polygons",
                f"{shown}, {_rows(gdf, ~poly)}",
                "give every unit its polygon (or use a district table instead)",
            )
        )
        return None
    bad = ~shapely.is_valid(geoms)
    if bad.any():
        geoms = geoms.copy()
        geoms[bad] = shapely.make_valid(geoms[bad])
        gdf = gdf.set_geometry(gpd.GeoSeries(geoms, index=gdf.index, crs=gdf.crs))
    return gdf


def _codes_names(
    gdf: pd.DataFrame, shown: str, problems: list[Problem]
) -> tuple[pd.Series, pd.Series] | None:
    """The code and name columns as text (name defaults to the code)."""
    code_col = _find(gdf, CODE_NAMES)
    if code_col is None:
        cols = ", ".join(str(c) for c in gdf.columns if c != "geometry")
        problems.append(
            Problem(
                "no code column",
                shown,
                f"add a column 'code' (or {', '.join(CODE_NAMES[1:])}); the columns are {cols}",
            )
        )
        return None
    code = _text(gdf[code_col])
    name_col = _find(gdf, NAME_NAMES)
    name = _text(gdf[name_col]) if name_col is not None else code.copy()
    name = name.where(name != "", code)
    empty = (code == "").to_numpy()
    if empty.any():
        problems.append(
            Problem("a unit without a code", f"{shown}, {_rows(gdf, empty)}", "fill in the code")
        )
    return code, name


def _duplicates(
    frame: pd.DataFrame, code: pd.Series, level: str, shown: str, problems: list[Problem]
) -> None:
    dup = (code.duplicated(keep=False) & (code != "")).to_numpy()
    if dup.any():
        values = ", ".join(pd.unique(code[dup]).astype(str)[:5])
        problems.append(
            Problem(
                f"duplicate code within level {level}: {values}",
                f"{shown}, {_rows(frame, dup)}",
                "give every unit of a level its own code (or dissolve its polygons into one)",
            )
        )


def _in_crs(gdf: gpd.GeoDataFrame, crs: pyproj.CRS) -> gpd.GeoDataFrame:
    if pyproj.CRS.from_user_input(gdf.crs).equals(crs):
        return gdf
    return gdf.to_crs(crs)


def _largest_overlap(
    geoms: np.ndarray, targets: np.ndarray, tree: shapely.STRtree | None = None
) -> np.ndarray:
    """Index of the target each geometry overlaps most (-1 when it overlaps none).

    Only the geometries meeting two or more targets are intersected; the others take
    their single target directly (``tree``: an STRtree of ``geoms``, built when None).
    """
    out = np.full(len(geoms), -1, dtype=np.int64)
    if not len(geoms) or not len(targets):
        return out
    tree = tree if tree is not None else shapely.STRtree(geoms)
    ti, gi = tree.query(targets, predicate="intersects")
    if not len(gi):
        return out
    hits = np.bincount(gi, minlength=len(geoms))
    single = hits[gi] == 1
    out[gi[single]] = ti[single]
    gi, ti = gi[~single], ti[~single]
    if len(gi):
        area = shapely.area(shapely.intersection(geoms[gi], targets[ti]))
        keep = area > 0
        gi, ti, area = gi[keep], ti[keep], area[keep]
        order = np.lexsort((ti, -area, gi))
        gs = gi[order]
        first = np.r_[True, gs[1:] != gs[:-1]] if len(gs) else np.zeros(0, bool)
        out[gs[first]] = ti[order][first]
    return out


# --------------------------------------------------------------------------- form a


def _form_a(
    sources: Mapping[str, Any], crs: pyproj.CRS | None, problems: list[Problem]
) -> Organisation | None:
    levels: list[str] = []
    labels: dict[str, str] = {}
    layers: list[tuple[str, str, gpd.GeoDataFrame]] = []
    for raw_level, src in sources.items():
        shown = _shown(src, f"the {raw_level} units")
        kl = _level_key(raw_level, f"--units {raw_level}={shown}", problems)
        gdf = _read_polygons(src, shown, problems)
        if kl is None or gdf is None:
            continue
        if kl[0] in levels:
            problems.append(
                Problem(f"level {kl[0]} given twice", shown, "give each level once, top → bottom")
            )
            continue
        levels.append(kl[0])
        labels[kl[0]] = kl[1]
        layers.append((kl[0], shown, gdf))
    if not layers:
        return None
    if crs is None:
        crs = local_metric_crs(layers[0][2])
    rows: list[pd.DataFrame] = []
    polys: list[gpd.GeoDataFrame] = []
    above: tuple[pd.Series, np.ndarray] | None = None  # codes and polygons of the level above
    for k, (level, shown, gdf) in enumerate(layers):
        gdf = _in_crs(gdf, crs)
        cn = _codes_names(gdf, shown, problems)
        if cn is None:
            above = None
            continue
        code, name = cn
        _duplicates(gdf, code, level, shown, problems)
        geoms = np.asarray(gdf.geometry.values, dtype=object)
        parent = _form_a_parents(gdf, geoms, k, above, level, shown, problems)
        rows.append(pd.DataFrame({"level": level, "code": code, "name": name, "parent": parent}))
        polys.append(gpd.GeoDataFrame({"level": level, "code": code}, geometry=geoms, crs=crs))
        above = (code, geoms)
    if problems:
        return None
    units = pd.concat(rows, ignore_index=True)
    polygons = gpd.GeoDataFrame(pd.concat(polys, ignore_index=True), crs=crs)
    return Organisation(tuple(levels), units, labels, polygons=polygons)


def _form_a_parents(
    gdf: gpd.GeoDataFrame,
    geoms: np.ndarray,
    k: int,
    above: tuple[pd.Series, np.ndarray] | None,
    level: str,
    shown: str,
    problems: list[Problem],
) -> pd.Series:
    """Parents of one level's units: the parent column, else the largest overlap."""
    if k == 0:
        return pd.Series("", index=gdf.index)
    if above is None:  # the level above could not be read: its problems are reported
        return pd.Series("", index=gdf.index)
    codes_above, geoms_above = above
    col = _find(gdf, PARENT_NAMES)
    if col is None:
        idx = _largest_overlap(geoms, geoms_above)
        none = idx < 0
        if none.any():
            problems.append(
                Problem(
                    f"a unit at level {level} overlaps no unit of the level above, so it has no "
                    "parent",
                    f"{shown}, {_rows(gdf, none)}",
                    "add a 'parent' column with the code of its unit one level up, or fix the "
                    "polygons",
                )
            )
        return pd.Series(
            np.where(none, "", codes_above.to_numpy(dtype=object)[np.maximum(idx, 0)]),
            index=gdf.index,
        )
    parent = _text(gdf[col])
    _check_parents(gdf, parent, set(codes_above), level, shown, problems)
    return parent


def _check_parents(
    frame: pd.DataFrame,
    parent: pd.Series,
    known: set[str],
    level: str,
    shown: str,
    problems: list[Problem],
) -> None:
    empty = (parent == "").to_numpy()
    if empty.any():
        problems.append(
            Problem(
                f"a unit at level {level} (not the top level) without a parent",
                f"{shown}, {_rows(frame, empty)}",
                "fill in the code of its unit one level up",
            )
        )
    unknown = ~empty & ~parent.isin(known).to_numpy()
    if unknown.any():
        values = ", ".join(pd.unique(parent[unknown]).astype(str)[:5])
        problems.append(
            Problem(
                f"unknown parent {values} at level {level}: no such code one level up",
                f"{shown}, {_rows(frame, unknown)}",
                "use a code of the level above (check for typos and leading zeros)",
            )
        )


# --------------------------------------------------------------------------- form b


def _form_b(
    gdf: gpd.GeoDataFrame, shown: str, crs: pyproj.CRS | None, problems: list[Problem]
) -> Organisation | None:
    level_col = _find(gdf, LEVEL_NAMES)
    assert level_col is not None
    crs = crs if crs is not None else local_metric_crs(gdf)
    gdf = _in_crs(gdf, crs)
    cn = _codes_names(gdf, shown, problems)
    raw_levels = _text(gdf[level_col])
    keys: dict[str, str] = {}
    labels: dict[str, str] = {}
    for raw in pd.unique(raw_levels):
        rows = (raw_levels == raw).to_numpy()
        kl = _level_key(raw, f"{shown}, {_rows(gdf, rows)}", problems)
        if kl is not None:
            keys[raw], labels[kl[0]] = kl
    parent_col = _find(gdf, PARENT_NAMES)
    if cn is None or problems:
        return None
    if parent_col is None:
        problems.append(
            Problem(
                "no parent column: the level order cannot be told",
                shown,
                "add a column 'parent' with the code of each unit's unit one level up "
                "(empty at the top level), or give one layer per level",
            )
        )
        return None
    code, name = cn
    level = raw_levels.map(keys)
    parent = _text(gdf[parent_col])
    for lv in pd.unique(level):
        m = (level == lv).to_numpy()
        _duplicates(gdf[m], code[m], lv, shown, problems)
    order = _level_order(level, code, parent, shown, problems)
    if order is None:
        return None
    top = order[0]
    parent = parent.where(level != top, "")
    for hi, lo in itertools.pairwise(order):
        m = (level == lo).to_numpy()
        known = set(code[(level == hi).to_numpy()])
        _check_parents(gdf[m], parent[m], known, lo, shown, problems)
    if problems:
        return None
    units = pd.DataFrame(
        {"level": level.to_numpy(), "code": code.to_numpy(), "name": name.to_numpy()}
    )
    units["parent"] = parent.to_numpy()
    rank = {lv: i for i, lv in enumerate(order)}
    units = units.iloc[np.argsort(units["level"].map(rank).to_numpy(), kind="stable")]
    units = units.reset_index(drop=True)
    polygons = gpd.GeoDataFrame(
        {"level": level.to_numpy(), "code": code.to_numpy()},
        geometry=np.asarray(gdf.geometry.values, dtype=object),
        crs=crs,
    )
    return Organisation(tuple(order), units, {lv: labels[lv] for lv in order}, polygons=polygons)


def _level_order(
    level: pd.Series, code: pd.Series, parent: pd.Series, shown: str, problems: list[Problem]
) -> list[str] | None:
    """Levels top → bottom from the parent chain (each level's parents are codes of one
    other level; the top level has none)."""
    levels = list(pd.unique(level))
    codes = {lv: set(code[level == lv]) for lv in levels}
    above: dict[str, str | None] = {}
    for lv in levels:
        given = parent[(level == lv) & (parent != "")]
        if given.empty:
            above[lv] = None
            continue
        hits = {o: int(given.isin(codes[o]).sum()) for o in levels if o != lv}
        best = max(hits.values(), default=0)
        winners = [o for o, h in hits.items() if h == best and h > 0]
        above[lv] = winners[0] if len(winners) == 1 else None
    tops = [lv for lv in levels if above[lv] is None]
    fix = (
        "the levels form one chain: the top level has no parent, every other level's "
        "parents are codes of the level just above"
    )
    if len(tops) != 1:
        what = (
            f"{len(tops)} levels without a parent level ({', '.join(tops)}): only the top "
            "level may have no parents"
            if tops
            else "every level has parents in another level: the levels form a cycle "
            f"({' → '.join(levels)})"
        )
        problems.append(Problem(what, shown, fix))
        return None
    order = [tops[0]]
    while True:
        below = [lv for lv in levels if above[lv] == order[-1]]
        if len(below) > 1:
            problems.append(
                Problem(
                    f"levels {', '.join(below)} both have parents in level {order[-1]}",
                    shown,
                    fix,
                )
            )
            return None
        if not below or below[0] in order:
            break
        order.append(below[0])
    left = [lv for lv in levels if lv not in order]
    if left:
        problems.append(
            Problem(
                f"levels {', '.join(left)} form a cycle (their parents point at each other)",
                shown,
                fix,
            )
        )
        return None
    return order


# --------------------------------------------------------------------------- form c


def _form_c(
    table: pd.DataFrame,
    shown: str,
    problems: list[Problem],
    districts: Sequence[str] | None = None,
) -> Organisation | None:
    dcol = _find(table, DISTRICT_NAMES)
    assert dcol is not None
    names = {str(c).strip().casefold(): c for c in table.columns}
    level_cols = [c for c in table.columns if c != dcol and not str(c).strip().endswith("_name")]
    if not level_cols:
        problems.append(
            Problem(
                "the district table has no level column",
                shown,
                "add one column per level, top → bottom, holding unit codes "
                "(e.g. district,county,branch,sub_branch)",
            )
        )
        return None
    levels: list[str] = []
    labels: dict[str, str] = {}
    for c in level_cols:
        kl = _level_key(c, f"{shown}, column {c!r}", problems)
        if kl is not None:
            levels.append(kl[0])
            labels[kl[0]] = kl[1]
    if problems:
        return None
    district = _text(table[dcol])
    if districts is not None:
        _check_districts(set(district), districts, shown, problems)
    dmap = pd.DataFrame({"district": district.to_numpy()}, index=table.index)
    unit_rows: list[pd.DataFrame] = []
    for k, (lv, col) in enumerate(zip(levels, level_cols, strict=True)):
        code = _text(table[col])
        ncol = names.get(f"{str(col).strip().casefold()}_name")
        name = _text(table[ncol]) if ncol is not None else code
        name = name.where(name != "", code)
        dmap[lv] = code.to_numpy()
        empty = (code == "").to_numpy()
        if empty.any():
            problems.append(
                Problem(
                    f"a district without a unit at level {lv}",
                    f"{shown}, {_rows(table, empty)} (column {col!r})",
                    "fill in the code of its unit",
                )
            )
        parent = pd.Series(dmap[levels[k - 1]] if k else "", index=table.index)
        unit_rows.append(
            pd.DataFrame({"level": lv, "code": code, "name": name, "parent": parent})[~empty]
        )
    empty_d = (district == "").to_numpy()
    if empty_d.any():
        problems.append(
            Problem("a row without a district", f"{shown}, {_rows(table, empty_d)}", "fill it in")
        )
    _district_conflicts(dmap, levels, shown, table, problems)
    units = pd.concat(unit_rows)
    for lv in levels:
        mine = units[units["level"] == lv]
        two = mine.groupby("code")["parent"].nunique()
        for c in two[two > 1].index[:5]:
            rows = (dmap[lv] == c).to_numpy()
            problems.append(
                Problem(
                    f"unit {c} at level {lv} has several parents "
                    f"({', '.join(sorted(set(mine.loc[mine['code'] == c, 'parent'])))})",
                    f"{shown}, {_rows(table, rows)}",
                    "a unit lies in one unit one level up: correct the codes of these rows",
                )
            )
    if problems:
        return None
    units = units.drop_duplicates(["level", "code"]).reset_index(drop=True)
    dmap = dmap[~empty_d].drop_duplicates("district").reset_index(drop=True)
    return Organisation(tuple(levels), units, labels, district_map=dmap)


def _district_conflicts(
    dmap: pd.DataFrame, levels: list[str], shown: str, table: pd.DataFrame, problems: list[Problem]
) -> None:
    key = dmap[levels].astype(str).agg("|".join, axis=1)
    per = pd.DataFrame({"district": dmap["district"], "key": key})
    n = per.groupby("district")["key"].nunique()
    for d in n[n > 1].index[:5]:
        rows = (dmap["district"] == d).to_numpy()
        problems.append(
            Problem(
                f"district {d} is given to different units",
                f"{shown}, {_rows(table, rows)}",
                "give every district one row (or the same units on every row)",
            )
        )


# --------------------------------------------------------------------------- reading


def read_organisation(
    source: UnitsSource,
    *,
    crs: Any = None,
    districts: Sequence[str] | None = None,
    labels: Mapping[str, str] | None = None,
    name: str | None = None,
) -> Organisation:
    """Read the organisation units in one of the three forms of the module docstring.

    ``source``: a mapping level → polygon file (or GeoDataFrame), top → bottom (form a);
    a path to one polygon layer with a ``level`` column (form b) or to a CSV/XLSX table
    with a ``district`` column (form c); or the GeoDataFrame / DataFrame itself.
    ``crs``: the work CRS polygons are reprojected into (default: the UTM zone of the
    first layer). ``districts``: the districts of the city (names as in the districts
    layer); with the table form, a district in no row is an error. ``labels`` replace
    display labels per level key. ``name`` names an in-memory source in messages.

    Raises :class:`InputError` with every problem found.
    """
    problems: list[Problem] = []
    work = pyproj.CRS.from_user_input(crs) if crs is not None else None
    shown = name or _shown(source, "the units")
    if isinstance(source, Mapping):
        if not source:
            raise InputError(Problem("no units layer given", shown, "give LEVEL=FILE per level"))
        org = _form_a(source, work, problems)
    else:
        org = _one_source(source, shown, work, problems, districts)
    if problems or org is None:
        raise InputError(problems or [Problem("no units read", shown, "check the file")])
    if labels:
        org = Organisation(
            org.levels,
            org.units,
            {**org.labels, **{str(k): str(v) for k, v in labels.items()}},
            org.polygons,
            org.district_map,
        )
    return org


def _one_source(
    source: Any,
    shown: str,
    crs: pyproj.CRS | None,
    problems: list[Problem],
    districts: Sequence[str] | None = None,
) -> Organisation | None:
    """Form b (a polygon layer with levels) or c (a district table), told by columns."""
    if isinstance(source, pd.DataFrame):
        table = source
    elif not isinstance(source, str | os.PathLike):
        problems.append(
            Problem(
                f"not a units source: {type(source).__name__}",
                shown,
                "give a path, a mapping level → path, or a (Geo)DataFrame",
            )
        )
        return None
    elif Path(source).suffix.lower() in _TABLES:
        try:
            table = read_table(source, text=True)
        except InputError as err:
            problems.extend(err.problems)
            return None
    else:
        table = _read_polygons(source, shown, problems)
        if table is None:
            return None
    if len(table) == 0:
        problems.append(Problem("the units file is empty", shown, "give one row per unit"))
        return None
    if _find(table, DISTRICT_NAMES) is not None and not has_geometry(table):
        return _form_c(table, shown, problems, districts)
    if _find(table, LEVEL_NAMES) is not None and has_geometry(table):
        gdf = table if isinstance(source, str | os.PathLike) else None
        gdf = gdf if gdf is not None else _read_polygons(table, shown, problems)
        return None if gdf is None else _form_b(gdf, shown, crs, problems)
    cols = ", ".join(str(c) for c in table.columns if c != "geometry")
    problems.append(
        Problem(
            "cannot tell the form of the units file: a table needs a 'district' column, a "
            f"polygon layer a 'level' column (the columns are {cols})",
            shown,
            "give a district table (district + one column per level), one polygon layer with "
            "level, code, name, parent, or one polygon layer per level (LEVEL=FILE)",
        )
    )
    return None


def _check_districts(
    given: set[str], districts: Sequence[str], shown: str, problems: list[Problem]
) -> None:
    missing = [d for d in pd.unique(pd.Series([str(x) for x in districts])) if d not in given]
    if missing:
        more = f" (and {len(missing) - 5} more)" if len(missing) > 5 else ""
        problems.append(
            Problem(
                f"{len(missing)} district{'s are' if len(missing) != 1 else ' is'} in no unit: "
                f"{', '.join(missing[:5])}{more}",
                shown,
                "add a row per district with its units (the names as in the districts layer)",
            )
        )


# --------------------------------------------------------------------------- cells


def assign_units(cells: gpd.GeoDataFrame, org: Organisation) -> pd.DataFrame:
    """The unit of every cell per level: columns ``unit_<L>`` and ``unit_<L>_name``,
    index-aligned with ``cells``; ``attrs["notes"]`` holds sentences for the planner.

    Polygons: the lowest-level unit the cell overlaps most (the nearest unit when it
    overlaps none, noted), its parent chain fills the upper levels (cells whose upper
    polygons disagree are noted). Table: through the cell's ``district`` (raises
    :class:`InputError` naming the districts in no unit).
    """
    if org.district_map is not None:
        lowest, notes = _by_district(cells, org)
    else:
        lowest, notes = _by_polygons(cells, org)
    out = _fill_chain(lowest, org, cells.index)
    out.attrs["notes"] = notes
    return out


def _by_district(cells: pd.DataFrame, org: Organisation) -> tuple[np.ndarray, list[str]]:
    assert org.district_map is not None
    if "district" not in cells.columns:
        raise InputError(
            Problem(
                "the cells have no district column",
                "the units table",
                "give the districts layer, or the units as polygons",
            )
        )
    dmap = org.district_map.set_index("district")[org.lowest]
    d = cells["district"].astype(str)
    lowest = d.map(dmap)
    missing = lowest.isna().to_numpy()
    if missing.any():
        names = pd.unique(d[missing])
        raise InputError(
            Problem(
                f"{len(names)} district{'s are' if len(names) != 1 else ' is'} in no unit: "
                f"{', '.join(map(str, names[:5]))}"
                + (f" (and {len(names) - 5} more)" if len(names) > 5 else ""),
                "the units table",
                "add a row per district with its units (the names as in the districts layer)",
            )
        )
    return lowest.to_numpy(dtype=object), []


def _by_polygons(cells: gpd.GeoDataFrame, org: Organisation) -> tuple[np.ndarray, list[str]]:
    assert org.polygons is not None
    notes: list[str] = []
    polys = org.polygons
    if cells.crs is not None and polys.crs is not None and not polys.crs.equals(cells.crs):
        polys = polys.to_crs(cells.crs)
    geoms = np.asarray(cells.geometry.values, dtype=object)
    tree = shapely.STRtree(geoms)
    chosen: dict[str, np.ndarray] = {}
    for lv in org.levels:
        mine = polys[polys["level"] == lv]
        ug = np.asarray(mine.geometry.values, dtype=object)
        idx = _largest_overlap(geoms, ug, tree)
        codes = mine["code"].to_numpy(dtype=object)
        if lv == org.lowest:
            none = idx < 0
            if none.all() and len(geoms):
                raise InputError(
                    Problem(
                        f"no cell overlaps any {org.label(lv)} unit: the unit polygons lie "
                        "outside the city",
                        "the units",
                        "check the CRS of the unit files (a file without one is read as "
                        "degrees) and that they are the units of this city",
                    )
                )
            if none.any() and len(ug):
                qi, ti = shapely.STRtree(ug).query_nearest(geoms[none], all_matches=False)
                idx[np.flatnonzero(none)[qi]] = ti
                notes.append(
                    f"{int(none.sum()):,} cells overlap no {org.label(lv)} unit and took the "
                    "nearest one"
                )
        chosen[lv] = np.where(idx >= 0, codes[np.maximum(idx, 0)], "")
    lowest = chosen[org.lowest]
    chain = _fill_chain(lowest, org, cells.index)
    disagree = np.zeros(len(cells), dtype=bool)
    for lv in org.levels[:-1]:
        got = chosen[lv]
        disagree |= (got != "") & (got != chain[org.column(lv)].to_numpy(dtype=object))
    if disagree.any():
        notes.append(
            f"{int(disagree.sum()):,} cells lie in {org.label(org.lowest)} units whose upper "
            "units' polygons do not cover them; the lowest level decides (its parent chain)"
        )
    for lv in org.levels:
        codes = org.level_units(lv)["code"]
        lonely = codes[~codes.isin(set(chain[org.column(lv)]))].astype(str).tolist()
        if lonely:
            more = f" and {len(lonely) - 5} more" if len(lonely) > 5 else ""
            notes.append(
                f"warning: {len(lonely):,} {org.label(lv)} unit(s) overlap no cell "
                f"({', '.join(lonely[:5])}{more}): they get no cells; check their polygons "
                "and CRS"
            )
    return lowest, notes


def _fill_chain(lowest: np.ndarray, org: Organisation, index: pd.Index) -> pd.DataFrame:
    """``unit_<L>`` / ``unit_<L>_name`` from the lowest unit code and the parent chain."""
    data: dict[str, np.ndarray] = {}
    code = pd.Series(lowest, index=index, dtype=object).fillna("").astype(str)
    for lv in reversed(org.levels):
        mine = org.level_units(lv).drop_duplicates("code").set_index("code")
        data[org.column(lv)] = code.to_numpy(dtype=object)
        data[org.name_column(lv)] = code.map(mine["name"]).fillna("").to_numpy(dtype=object)
        code = code.map(mine["parent"]).fillna("").astype(str)
    ordered = {}
    for lv in org.levels:
        ordered[org.column(lv)] = data[org.column(lv)]
        ordered[org.name_column(lv)] = data[org.name_column(lv)]
    return pd.DataFrame(ordered, index=index)


def units_layer(org: Organisation, cells: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Every unit with its dissolved cells: columns ``level``, ``code``, ``name``,
    ``parent``, geometry (the cells' CRS). ``cells`` carry the ``unit_<L>`` columns
    (:func:`assign_units`); units without cells are left out."""
    geoms = np.asarray(cells.geometry.values, dtype=object)
    rows: list[dict[str, Any]] = []
    for lv in org.levels:
        codes = cells[org.column(lv)].astype(str).to_numpy()
        info = org.level_units(lv).drop_duplicates("code").set_index("code")
        for code in pd.unique(codes):
            if code == "" or code not in info.index:
                continue
            part = geoms[codes == code]
            u = shapely.coverage_union_all(part)
            area = float(shapely.area(part).sum())
            if not shapely.is_valid(u) or abs(shapely.area(u) - area) > 1e-9 * max(area, 1.0):
                u = shapely.union_all(part)
            rows.append(
                {
                    "level": lv,
                    "code": code,
                    "name": str(info.at[code, "name"]),
                    "parent": str(info.at[code, "parent"]),
                    "geometry": u,
                }
            )
    frame = pd.DataFrame(rows, columns=["level", "code", "name", "parent", "geometry"])
    return gpd.GeoDataFrame(frame, geometry="geometry", crs=cells.crs)
