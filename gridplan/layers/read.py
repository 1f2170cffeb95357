"""Read every layer format, validate it, and bring it into the city's metric CRS.

- :func:`read_layer` reads one file as it is (any CRS): GeoPackage, GeoJSON,
  Shapefile (plain or zipped), KML/KMZ, GeoParquet, FlatGeobuf, CSV and XLSX with
  longitude/latitude (or WKT) columns, and anything else GDAL opens. Every reading
  failure becomes an :class:`~gridplan.errors.InputError` with a plain message.
- :func:`gridplan.validate.validate_layer` checks and cleans one layer.
- :func:`load_layers` reads and validates all the city's layers, collects every
  problem of every layer, raises one InputError if any is an error, and returns
  :class:`~gridplan.layers.Layers` in the UTM zone of the city (metres).
- :func:`to_wgs84` turns a layer to longitude/latitude (EPSG:4326) for maps.

Row ids: CSV/XLSX layers are indexed by their spreadsheet row number (index
``row``, the header is row 1); GIS files by their feature id (index ``fid``), so
messages name rows the planner can find. :func:`load_layers` returns layers with a
fresh 0..n-1 index.
"""

from __future__ import annotations

import codecs
import difflib
import io
import os
import re
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pyproj
import shapely

from gridplan.errors import InputError, Problem
from gridplan.layers.crs import WGS84, local_metric_crs
from gridplan.layers.customers import CustomerLayer, customers_from_table
from gridplan.layers.model import LAYER_KINDS, Layers
from gridplan.layers.segments import SegmentCatalogue
from gridplan.layers.tiers import CustomerTiers
from gridplan.layers.uploads import check_zip
from gridplan.layers.validate import (
    DEFAULT_CATALOGUE,
    Notice,
    ValidationReport,
    has_geometry,
    severity,
    validate_layer,
)

__all__ = [
    "FORMATS",
    "LAT_NAMES",
    "LON_NAMES",
    "LayerSource",
    "Notice",
    "ValidationReport",
    "list_layers",
    "load_layers",
    "read_customers",
    "read_layer",
    "read_polygon_cells",
    "read_table",
    "to_wgs84",
    "validate_layer",
]

FORMATS: Mapping[str, str] = MappingProxyType(
    {
        ".gpkg": "GeoPackage",
        ".geojson": "GeoJSON",
        ".json": "GeoJSON",
        ".shp": "Shapefile",
        ".zip": "zipped Shapefile",
        ".kml": "KML",
        ".kmz": "KMZ (zipped KML)",
        ".parquet": "GeoParquet",
        ".geoparquet": "GeoParquet",
        ".fgb": "FlatGeobuf",
        ".csv": "CSV",
        ".tsv": "CSV",
        ".txt": "CSV",
        ".xlsx": "Excel workbook (XLSX)",
        ".xlsm": "Excel workbook (XLSX)",
        ".gdb": "File Geodatabase",
    }
)
_TABLES = (".csv", ".tsv", ".txt")
_EXCEL = (".xlsx", ".xlsm")
_PARQUET = (".parquet", ".geoparquet")
_MULTI_LAYER = (".gpkg", ".kml", ".kmz", ".xlsx", ".xlsm", ".zip", ".gdb", "")
_IN_ZIP = (".gpkg", ".geojson", ".json", ".kml", ".fgb")

# Column names taken for longitude / latitude (compared case-insensitively), best first.
LON_NAMES: tuple[str, ...] = ("longitude", "lon", "lng", "long", "经度", "x", "point_x")
LAT_NAMES: tuple[str, ...] = ("latitude", "lat", "纬度", "y", "point_y")
_WKT_NAMES: tuple[str, ...] = ("geometry", "wkt", "wkt_geom", "geom", "the_geom", "shape")


@dataclass(frozen=True)
class LayerSource:
    """A file plus how to read it, for :func:`load_layers`.

    ``layer`` picks the GeoPackage layer / KML folder / XLSX sheet / .shp in a zip;
    ``lon``/``lat`` name the coordinate columns of a CSV/XLSX; ``crs`` is the CRS of
    the coordinates when the file carries none (CSV/XLSX default: EPSG:4326).
    """

    path: str | os.PathLike[str]
    layer: str | None = None
    lon: str | None = None
    lat: str | None = None
    crs: Any = None


Source = str | os.PathLike[str] | LayerSource | gpd.GeoDataFrame


# --------------------------------------------------------------------------- reading


def read_layer(
    path: str | os.PathLike[str],
    *,
    layer: str | None = None,
    lon: str | None = None,
    lat: str | None = None,
    crs: Any = None,
) -> gpd.GeoDataFrame:
    """Read one layer file as it is, in its own CRS.

    ``layer`` chooses the GeoPackage layer, KML folder, XLSX sheet or the .shp inside
    a zip (required when there are several). CSV/XLSX need longitude/latitude
    columns, found by name (lon/lng/longitude/x and lat/latitude/y, any case) or
    given as ``lon``/``lat``; a WKT ``geometry`` column works too. ``crs`` (anything
    pyproj accepts) is the CRS of the coordinates when the file carries none; CSV
    and XLSX default to EPSG:4326. A file's own CRS is never overridden.

    Raises :class:`InputError` for every reading problem (missing file, a file
    that is not what its extension says, several layers and none chosen, ...).
    """
    p = Path(path)
    shown = p.name or str(p)
    if layer is not None:
        shown = f"{shown} (layer {layer!r})"
    given_crs = _parse_crs(crs, shown) if crs is not None else None
    _check_exists(p)
    ext = _extension(p)
    try:
        if p.is_dir():
            gdf = _read_ogr(str(p), layer, shown)
        elif ext in _TABLES:
            gdf = _points_from_table(_read_csv(p), lon, lat, given_crs, shown)
        elif ext in _EXCEL:
            gdf = _points_from_table(_read_excel(p, layer, shown), lon, lat, given_crs, shown)
        elif ext in _PARQUET:
            gdf = _read_parquet(p, lon, lat, given_crs, shown)
        elif ext == ".zip":
            gdf = _read_zip(p, layer, shown)
        elif ext == ".shp":
            _check_shapefile_parts(p, shown)
            gdf = _read_ogr(str(p), layer, shown)
        else:
            gdf = _read_ogr(str(p), layer, shown)
    except InputError:
        raise
    except Exception as exc:  # every reader failure becomes a plain message
        if p.is_dir() and ext != ".gdb":
            raise InputError(
                Problem(
                    "this is a folder, and GDAL finds no layer in it",
                    str(p),
                    "give the path of a file (e.g. the .shp or .gpkg inside the folder)",
                )
            ) from exc
        raise InputError(_unreadable(p, ext, exc)) from exc

    if not has_geometry(gdf):
        raise InputError(
            Problem(
                "the layer has no geometry (it is a plain table)",
                shown,
                "choose a layer with geometries, or give longitude/latitude columns in a CSV/XLSX",
            )
        )
    if gdf.geometry.name != "geometry" and "geometry" not in gdf.columns:
        gdf = gdf.rename_geometry("geometry")
    if gdf.crs is None and given_crs is not None:
        gdf = gdf.set_crs(given_crs)
    return gdf


def list_layers(path: str | os.PathLike[str]) -> list[str]:
    """Names of the layers in a file: GeoPackage layers, KML folders, XLSX sheets, or the
    Shapefiles in a zip; a one-layer format gives one name. Raises InputError."""
    p = Path(path)
    _check_exists(p)
    ext = _extension(p)
    try:
        if ext in _EXCEL:
            with pd.ExcelFile(p, engine="openpyxl") as xf:
                return [str(s) for s in xf.sheet_names]
        if ext == ".zip":
            if zipfile.is_zipfile(p):
                check_zip(p)
            members = _zip_members(p)
            shps = [m for m in members if m.lower().endswith(".shp")]
            return [Path(m).stem for m in shps] or [
                Path(m).stem for m in members if _extension(Path(m)) in _IN_ZIP
            ]
        if ext in _TABLES or ext in _PARQUET:
            return [p.stem]
        return _ogr_layer_names(str(p))
    except InputError:
        raise
    except Exception as exc:
        raise InputError(_unreadable(p, ext, exc)) from exc


def read_polygon_cells(
    path: str | os.PathLike[str], id_column: str, *, layer: str | None = None
) -> gpd.GeoDataFrame:
    """Read a polygon layer as cells in its local UTM CRS (metres), checked for use.

    Adds ``area_km2``, ``x`` and ``y`` (centroid, metres) when missing, and a single
    district named after the file when there is no ``district`` column.
    """
    gdf = read_layer(path, layer=layer)
    where = Path(path).name
    problems = []
    if gdf.crs is None:
        problems.append(
            Problem("the layer has no CRS", where, "save it with its coordinate system")
        )
    if id_column not in gdf.columns:
        problems.append(
            Problem(
                f"no id column {id_column!r}",
                where,
                f"give --id one of {', '.join(map(str, gdf.columns.drop('geometry')))}",
            )
        )
    elif gdf[id_column].duplicated().any():
        dup = gdf.loc[gdf[id_column].duplicated(), id_column].astype(str).head(5).tolist()
        problems.append(
            Problem(f"duplicate ids in {id_column!r}: {', '.join(dup)}", where, "make ids unique")
        )
    kinds = set(gdf.geom_type.dropna().unique())
    if not kinds <= {"Polygon", "MultiPolygon"}:
        problems.append(
            Problem(
                f"cells must be polygons; found {', '.join(sorted(kinds)) or 'no geometry'}",
                where,
                "give a polygon layer (cells from `gridplan cells`, tracts, blocks…)",
            )
        )
    if problems:
        raise InputError(problems)
    gdf = gdf.to_crs(local_metric_crs(gdf)).reset_index(drop=True)
    invalid = ~gdf.geometry.is_valid
    notes: list[str] = []
    if invalid.any():
        gdf.loc[invalid, "geometry"] = shapely.make_valid(gdf.geometry[invalid].values)
        ids = ", ".join(map(str, gdf.loc[invalid, id_column].head(5)))
        more = f" and {int(invalid.sum()) - 5} more" if invalid.sum() > 5 else ""
        notes.append(
            f"{int(invalid.sum()):,} invalid cell polygons repaired (made valid): {ids}{more}"
        )
    gdf.attrs["notes"] = notes  # read by the commands, printed as notes
    if "area_km2" not in gdf.columns:
        gdf["area_km2"] = gdf.geometry.area / 1e6
    centroids = gdf.geometry.centroid
    for col, values in (("x", centroids.x), ("y", centroids.y)):
        if col not in gdf.columns:
            gdf[col] = np.asarray(values)
    if "district" not in gdf.columns:
        gdf["district"] = Path(path).stem
    gdf["district"] = gdf["district"].astype(str)
    return gdf


def _extension(p: Path) -> str:
    return "" if p.is_dir() and p.suffix.lower() != ".gdb" else p.suffix.lower()


def _parse_crs(crs: Any, shown: str) -> pyproj.CRS:
    try:
        return pyproj.CRS.from_user_input(crs)
    except Exception as exc:
        raise InputError(
            Problem(
                f"unknown CRS {crs!r}",
                shown,
                "give a CRS pyproj understands, e.g. 'EPSG:4326' (longitude/latitude) or "
                "'EPSG:32650' (UTM zone 50N)",
            )
        ) from exc


def _check_exists(p: Path) -> None:
    if p.exists():
        return
    parent = p.parent if str(p.parent) else Path(".")
    if parent.is_dir():
        names = sorted(c.name for c in parent.iterdir())
        close = difflib.get_close_matches(p.name, names, n=3, cutoff=0.6)
        fix = "check the path and the file name"
        if close:
            fix += f"; did you mean {' or '.join(repr(c) for c in close)}?"
        elif names:
            fix += f"; the folder holds {_listing(names, 8)}"
        else:
            fix += "; the folder is empty"
    else:
        fix = f"the folder {str(parent)!r} does not exist either: check the path"
    raise InputError(Problem("file not found", str(p), fix))


def _listing(names: Sequence[object], limit: int = 10) -> str:
    shown = ", ".join(str(n) for n in names[:limit])
    if len(names) > limit:
        shown += f" (and {len(names) - limit} more)"
    return shown


def _choose(names: list[str], wanted: str | None, shown: str, noun: str, how: str) -> str:
    """Pick ``wanted`` from ``names`` (exact, then case-insensitive), or the only one."""
    if wanted is None:
        if len(names) == 1:
            return names[0]
        if not names:
            raise InputError(Problem(f"the file holds no {noun}s", shown, "check the file"))
        raise InputError(
            Problem(
                f"the file holds {len(names)} {noun}s: {_listing(names, 20)}",
                shown,
                f"choose one with {how}",
            )
        )
    if wanted in names:
        return wanted
    folded = [n for n in names if n.casefold() == wanted.casefold()]
    if len(folded) == 1:
        return folded[0]
    close = difflib.get_close_matches(wanted, names, n=1, cutoff=0.5)
    raise InputError(
        Problem(
            f"no {noun} {wanted!r} in the file",
            shown,
            f"the {noun}s are {_listing(names, 20)}"
            + (f"; did you mean {close[0]!r}?" if close else ""),
        )
    )


def _ogr_layer_names(path: str) -> list[str]:
    return [str(n) for n in pyogrio.list_layers(path)[:, 0]]


def _read_ogr(path: str, layer: str | None, shown: str) -> gpd.GeoDataFrame:
    chosen = _choose(_ogr_layer_names(path), layer, shown, "layer", "layer='NAME'")
    return pyogrio.read_dataframe(path, layer=chosen, fid_as_index=True, use_arrow=True)


def _check_shapefile_parts(p: Path, shown: str) -> None:
    siblings = {c.name.casefold() for c in p.parent.iterdir()}
    _check_parts(p.stem, siblings, shown)


def _check_parts(stem: str, names: set[str], shown: str) -> None:
    for ext, role in ((".shx", "index"), (".dbf", "attributes")):
        if (stem + ext).casefold() not in names:
            raise InputError(
                Problem(
                    f"the Shapefile {stem}.shp lacks its {ext} file ({role})",
                    shown,
                    f"put {stem}{ext} next to {stem}.shp (a Shapefile is several files: "
                    ".shp, .shx, .dbf and .prj), or export the layer as a GeoPackage",
                )
            )


def _zip_members(p: Path) -> list[str]:
    with zipfile.ZipFile(p) as z:
        return [
            i.filename
            for i in z.infolist()
            if not i.is_dir()
            and not i.filename.startswith("__MACOSX/")
            and not Path(i.filename).name.startswith("._")
        ]


def _read_zip(p: Path, layer: str | None, shown: str) -> gpd.GeoDataFrame:
    if zipfile.is_zipfile(p):  # the same guard as uploads: traversal, size, ratio (bombs)
        check_zip(p)
    try:
        members = _zip_members(p)
    except zipfile.BadZipFile as exc:
        raise InputError(_unreadable(p, ".zip", exc)) from exc
    shps = [m for m in members if m.lower().endswith(".shp")]
    inner_layer = None
    if shps:
        by_name = {m: m for m in shps} | {Path(m).stem: m for m in shps}
        stems = [Path(m).stem for m in shps]
        if layer is not None and layer in by_name:
            member = by_name[layer]
        else:
            member = by_name[
                _choose(stems, layer, shown, "Shapefile", "layer='NAME' (the .shp name)")
            ]
        inside = {m.casefold() for m in members}
        _check_parts(str(Path(member).with_suffix("")), {n for n in inside}, shown)
    else:
        geo = [m for m in members if _extension(Path(m)) in _IN_ZIP]
        if len(geo) != 1:
            raise InputError(
                Problem(
                    "the zip holds no Shapefile (.shp)",
                    shown,
                    f"it contains {_listing(members) or 'nothing'}; zip the .shp together "
                    "with its .shx, .dbf and .prj files",
                )
            )
        member, inner_layer = geo[0], layer
    vsi = f"/vsizip/{p.resolve().as_posix()}/{member}"
    return _read_ogr(vsi, inner_layer, shown)


# --------------------------------------------------------------------------- tables


def _guess_encoding(head: bytes) -> str:
    """UTF-8 with a BOM, UTF-8, GB18030 (a superset of GBK and GB2312), else Latin-1."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
        return "utf-8"
    except UnicodeDecodeError:
        pass
    try:  # Chinese spreadsheets saved as CSV are often GBK / GB18030
        codecs.getincrementaldecoder("gb18030")().decode(head, final=False)
        return "gb18030"
    except UnicodeDecodeError:
        return "latin-1"


def _opened(src: Path | bytes) -> Path | io.BytesIO:
    """Something pandas reads: the path itself, or a fresh in-memory file for bytes."""
    return io.BytesIO(src) if isinstance(src, bytes) else src


def _read_csv(src: Path | bytes, *, text: bool = False) -> pd.DataFrame:
    """A CSV table (path or bytes), encoding and separator guessed from the first bytes.

    The index holds the spreadsheet row numbers (index ``row``, the header is row 1);
    wholly empty rows are dropped and column names stripped. ``text`` reads every column
    as stripped text (``""`` becomes missing); otherwise ids that numbers would spoil
    (leading zeros, long digit strings) stay text and the other columns are inferred.
    Reader errors are raised as they are.
    """
    if isinstance(src, bytes):
        head = src[:65536]
    else:
        with open(src, "rb") as f:
            head = f.read(65536)
    encoding = _guess_encoding(head)
    first = head.split(b"\n", 1)[0].decode(encoding, errors="replace")
    sep = max((",", ";", "\t", "|"), key=first.count)
    options = {"sep": sep, "encoding": encoding, "encoding_errors": "replace"}
    if text:
        dtype: Any = str
    else:
        # Ids such as 007 or 20-digit account numbers must stay text: decide on a sample.
        sample = pd.read_csv(_opened(src), dtype=str, nrows=10_000, **options)
        dtype = {c: str for c in sample.columns if _id_like(sample[c])}
    df = pd.read_csv(_opened(src), dtype=dtype, skip_blank_lines=False, low_memory=False, **options)
    return _tidy(df, text=text)


def _tidy(df: pd.DataFrame, *, text: bool = False) -> pd.DataFrame:
    """Spreadsheet row numbers as index (header = row 1), empty rows dropped, names
    stripped; with ``text`` the values stripped too and ``""`` made missing."""
    df.index = pd.RangeIndex(2, len(df) + 2, name="row")  # spreadsheet row numbers
    df = df.dropna(how="all")
    df.columns = [str(c).strip() for c in df.columns]
    if text:
        df = df.apply(lambda s: s.str.strip())
        df = df.mask(df == "")
    return df


def _id_like(s: pd.Series) -> bool:
    """Integers with a leading zero or more than 15 digits: text that numbers would spoil."""
    text = s.dropna().astype(str).str.strip()
    return bool(text.str.fullmatch(r"[+-]?0\d+|\d{16,}").any())


def _read_excel(
    p: Path | bytes, layer: str | None, shown: str, *, text: bool = False
) -> pd.DataFrame:
    """One sheet of an XLSX workbook (``layer``, else the only sheet with data), indexed
    and tidied like :func:`_read_csv`."""
    dtype = str if text else None
    with pd.ExcelFile(_opened(p), engine="openpyxl") as xf:
        sheets = [str(s) for s in xf.sheet_names]
        if layer is None and len(sheets) > 1:
            frames = {str(k): v for k, v in pd.read_excel(xf, sheet_name=None, dtype=dtype).items()}
            filled = [k for k, v in frames.items() if not v.dropna(how="all").empty]
            if len(filled) != 1:
                _choose(filled or sheets, None, shown, "sheet", "layer='SHEET NAME'")
            df = frames[filled[0]]
        else:
            df = pd.read_excel(
                xf,
                sheet_name=_choose(sheets, layer, shown, "sheet", "layer='SHEET'"),
                dtype=dtype,
            )
    return _tidy(df, text=text)


def read_table(
    source: str | os.PathLike[str] | bytes,
    *,
    sheet: str | None = None,
    text: bool = False,
    name: str | None = None,
) -> pd.DataFrame:
    """Read a plain table: CSV (also TSV/TXT, separator guessed) or an XLSX sheet.

    ``source`` is a path or the file's bytes (an upload; ``name`` then names it in
    messages). CSV encodings: UTF-8 with or without BOM, GB18030/GBK (Chinese
    spreadsheets), else Latin-1. XLSX is told by its extension or its zip signature;
    ``sheet`` chooses the sheet (required when several hold data).

    The index holds the spreadsheet row numbers (index ``row``, the header is row 1);
    wholly empty rows are dropped and column names stripped. ``text`` reads every
    column as stripped text (``""`` becomes missing); otherwise ids that numbers would
    spoil (leading zeros, more than 15 digits) stay text and other columns are inferred.

    Raises :class:`InputError` for a missing file, a folder, or a file that cannot be read.
    """
    if isinstance(source, bytes | bytearray | memoryview):
        src: Path | bytes = bytes(source)
        where = name or "the uploaded table"
        excel = src.startswith(b"PK\x03\x04") or Path(where).suffix.lower() in _EXCEL
    else:
        src = Path(source)
        where = str(src)
        _check_exists(src)
        if src.is_dir():
            raise InputError(
                Problem("this is a folder, not a table", where, "give a CSV or XLSX file")
            )
        excel = _extension(src) in _EXCEL or _sniff(src)[1] == ".zip"
    try:
        if excel:
            return _read_excel(src, sheet, name or Path(where).name, text=text)
        return _read_csv(src, text=text)
    except InputError:
        raise
    except Exception as exc:  # pandas' parser errors, decoding, permissions …
        kind, fix = (
            ("an XLSX workbook", "save it again as an Excel workbook (.xlsx)")
            if excel
            else ("a CSV table", "export it again as CSV (UTF-8, comma-separated, one header row)")
        )
        raise InputError(
            Problem(f"cannot be read as {kind} (reader: {_reader_says(exc)})", where, fix)
        ) from exc


def _read_parquet(
    p: Path, lon: str | None, lat: str | None, crs: pyproj.CRS | None, shown: str
) -> gpd.GeoDataFrame:
    try:
        return gpd.read_parquet(p)
    except ValueError as exc:
        if "geo metadata" not in str(exc).lower():
            raise
    return _points_from_table(pd.read_parquet(p), lon, lat, crs, shown)


def _find_column(df: pd.DataFrame, names: Sequence[str]) -> str | None:
    folded = {}
    for c in df.columns:
        folded.setdefault(str(c).strip().casefold(), c)
    for n in names:
        if n in folded:
            return folded[n]
    return None


def _given_column(df: pd.DataFrame, name: str, role: str, shown: str) -> str:
    found = _find_column(df, [name.strip().casefold()])
    if found is not None:
        return found
    cols = [str(c) for c in df.columns]
    close = difflib.get_close_matches(name, cols, n=1, cutoff=0.5)
    raise InputError(
        Problem(
            f"the {role} column {name!r} is not in the file",
            shown,
            f"the columns are {_listing(cols, 30)}"
            + (f"; did you mean {close[0]!r}?" if close else ""),
        )
    )


def _points_from_table(
    df: pd.DataFrame, lon: str | None, lat: str | None, crs: pyproj.CRS | None, shown: str
) -> gpd.GeoDataFrame:
    """Points from longitude/latitude columns (or a WKT column) of a table."""
    crs = crs if crs is not None else WGS84
    x_col = _given_column(df, lon, "longitude", shown) if lon else _find_column(df, LON_NAMES)
    y_col = _given_column(df, lat, "latitude", shown) if lat else _find_column(df, LAT_NAMES)
    if x_col is None and y_col is None and not (lon or lat):
        wkt = _find_column(df, _WKT_NAMES)
        if wkt is not None:
            text = df[wkt].where(df[wkt].notna(), None).astype(object).to_numpy()
            geoms = shapely.from_wkt(text, on_invalid="ignore")
            return gpd.GeoDataFrame(df.drop(columns=[wkt]), geometry=geoms, crs=crs)
    if x_col is None or y_col is None:
        missing = " and ".join(
            r for r, c in (("longitude", x_col), ("latitude", y_col)) if c is None
        )
        cols = [str(c) for c in df.columns]
        fix = (
            f"the columns are {_listing(cols, 30) or '(none)'}; name the coordinate columns "
            "lon and lat (or longitude/latitude, lng, x/y), or pass lon='...', lat='...'"
        )
        if sum(c.startswith("Unnamed") for c in cols) > len(cols) / 2:
            fix += "; the first row must be the header row"
        raise InputError(Problem(f"no {missing} column found", shown, fix))
    x = pd.to_numeric(df[x_col], errors="coerce").to_numpy(dtype=float)
    y = pd.to_numeric(df[y_col], errors="coerce").to_numpy(dtype=float)
    ok = np.isfinite(x) & np.isfinite(y)
    geoms = np.full(len(df), None, dtype=object)
    geoms[ok] = shapely.points(x[ok], y[ok])
    return gpd.GeoDataFrame(df, geometry=geoms, crs=crs)


# --------------------------------------------------------------------------- unreadable files

_SNIFF: tuple[tuple[bytes, str, str], ...] = (
    (b"SQLite format 3\x00", "a SQLite database or GeoPackage", ".gpkg"),
    (b"PK\x03\x04", "a zip archive (a zipped Shapefile, XLSX or KMZ)", ".zip"),
    (b"PAR1", "a Parquet file", ".parquet"),
    (b"fgb\x03", "a FlatGeobuf file", ".fgb"),
    (b"\x00\x00\x27\x0a", "a Shapefile .shp", ".shp"),
    (b"%PDF", "a PDF document", ""),
    (b"\x89PNG", "a PNG image", ""),
    (b"\xff\xd8\xff", "a JPEG image", ""),
    (b"\xd0\xcf\x11\xe0", "an old Excel .xls (or other Office) file", ".xls"),
)


def _sniff(p: Path) -> tuple[str, str]:
    """What the file's first bytes look like, and the extension that would fit."""
    try:
        with open(p, "rb") as f:
            head = f.read(2048)
    except OSError:
        return "", ""
    if not head:
        return "an empty file (0 bytes)", ""
    for magic, desc, ext in _SNIFF:
        if head.startswith(magic):
            return desc, ext
    text = head.lstrip(codecs.BOM_UTF8).lstrip().lower()
    if text.startswith((b"<!doctype html", b"<html")) or b"<html" in text[:512]:
        return "an HTML web page (a download that saved a web or login page?)", ".html"
    if text.startswith(b"<?xml") or text.startswith(b"<kml"):
        return ("a KML file", ".kml") if b"<kml" in text else ("an XML file", "")
    if text.startswith((b"{", b"[")):
        return "JSON text", ".geojson"
    printable = sum(32 <= b < 127 or b in b"\r\n\t" for b in head) / len(head)
    if printable > 0.95:
        return "plain text", ".csv" if head.count(b",") + head.count(b";") > 2 else ".txt"
    return "binary data of an unknown kind", ""


def _reader_says(exc: BaseException) -> str:
    msg = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    msg = msg.split("; It might help", 1)[0].rstrip(".")
    return msg if len(msg) <= 160 else msg[:157] + "..."


def _unreadable(p: Path, ext: str, exc: BaseException) -> Problem:
    fmt = FORMATS.get(ext)
    desc, fits = _sniff(p) if p.is_file() else ("", "")
    if fmt is None:
        return Problem(
            f"unsupported file type {ext or '(no extension)'!r}"
            + (f"; it looks like {desc}" if desc else ""),
            p.name or str(p),
            "give one of: "
            + ", ".join(dict.fromkeys(f"{v} ({k})" for k, v in FORMATS.items()))
            + " — or export the layer as a GeoPackage",
        )
    what = f"cannot be read as {fmt}"
    if desc:
        what += f": it looks like {desc}"
    what += f" (reader: {_reader_says(exc)})"
    if desc.startswith("an empty file"):
        fix = "the file is empty: export or download it again"
    elif fits == ".html":
        fix = "download the data file itself again (not the web page), or export it again"
    elif fits == ".txt" or (fits == ".csv" and ext in _TABLES):
        fix = f"it is plain text, not a {fmt}: export the layer again as a {fmt}"
    elif fits and fits in FORMATS and FORMATS[fits] != fmt:
        fix = f"it may be a {FORMATS[fits]}: rename it to end in {fits}, or export it again"
    elif fits == ".xls":
        fix = "open it in Excel and save it as .xlsx"
    else:
        fix = f"export the layer again as a {fmt}, or open it in QGIS to check it"
    return Problem(what, p.name or str(p), fix)


# --------------------------------------------------------------------------- CRS helpers


def to_wgs84(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The layer in longitude/latitude (EPSG:4326, WGS 84) for maps and GeoJSON."""
    if gdf.crs is None:
        raise InputError(
            Problem(
                "the layer has no CRS, so it cannot be put on a map",
                "layer",
                "set the layer's CRS (e.g. gdf.set_crs(...)) or load it with load_layers",
            )
        )
    return gdf.to_crs(WGS84)


# --------------------------------------------------------------------------- customers


_CUSTOMER_TABLES = (".csv", ".tsv", ".txt", ".xlsx", ".xlsm")


def read_customers(
    source: str | os.PathLike[str] | bytes,
    *,
    columns: Mapping[str, str] | None = None,
    tiers: CustomerTiers | None = None,
    layer: str | None = None,
    crs: Any = None,
    name: str | None = None,
) -> CustomerLayer:
    """Read a customer file (CSV/XLSX table, or any GIS layer) and derive its tiers.

    ``columns``: ``{field: header}``; ``layer``: the XLSX sheet / GIS layer; ``crs``:
    of lon/lat (default EPSG:4326); ``name``: the file's name in messages (for bytes).
    Raises :class:`~gridplan.errors.InputError` listing every problem; warnings
    (contradicting segments) are in :attr:`CustomerLayer.warnings`.
    """
    is_bytes = isinstance(source, bytes | bytearray | memoryview)
    where = name or ("the customer table" if is_bytes else Path(source).name)  # type: ignore[arg-type]
    if crs is not None:
        crs = _parse_crs(crs, where)
    if is_bytes or Path(source).suffix.lower() in _CUSTOMER_TABLES:  # type: ignore[arg-type]
        table = read_table(source, sheet=layer, text=True, name=name)  # type: ignore[arg-type]
    else:
        table = read_layer(source, layer=layer, crs=crs)  # type: ignore[arg-type]
    result, problems = customers_from_table(table, where, columns=columns, tiers=tiers, crs=crs)
    if result is None:
        raise InputError(problems)
    return result


# --------------------------------------------------------------------------- load_layers


def load_layers(
    *,
    boundary: Source,
    population: Source,
    districts: Source | None = None,
    sites: Source | None = None,
    customers: Source | None = None,
    barriers: Source | None = None,
    home_bases: Source | None = None,
    columns: Mapping[str, Mapping[str, str]] | None = None,
    name: str = "city",
    report: ValidationReport | None = None,
    catalogue: SegmentCatalogue = DEFAULT_CATALOGUE,
    tiers: CustomerTiers | None = None,
) -> Layers:
    """Read and validate the city's layers; all come back in the city's UTM CRS (metres).

    Each layer is a path, a :class:`LayerSource` (path plus layer/sheet, lon/lat
    columns, CRS) or an already-read GeoDataFrame. In a multi-layer file (e.g. one
    GeoPackage for the whole city) a layer named like the kind (``districts``,
    ``sites`` ...) is picked when none is given. ``columns`` maps a layer kind to
    its column mapping, e.g. ``{"population": {"population": "POP2020"}}``; for a
    CSV/XLSX it may also name ``lon`` and ``lat``.

    Every problem of every layer is collected; if any is an error, one
    :class:`InputError` carrying all problems (errors first, then warnings) is
    raised. Warnings (repaired geometries, features outside the boundary dropped)
    do not stop the load; pass ``report`` (a :class:`ValidationReport`) to receive
    them — it is filled with every error and warning found.

    Customers read from a file (or a GeoDataFrame without a ``segment`` column) go
    through :mod:`gridplan.layers.customers`: headers mapped (Chinese or English,
    ``columns["customers"]``), the segment derived from type and spend/handsets with
    ``tiers`` (default data/customer_tiers.yaml); ``report.customers`` receives the
    :class:`~gridplan.layers.customers.CustomerLayer` (counts per tier, the mapping).
    """
    rep = report if report is not None else ValidationReport()
    columns = dict(columns or {})
    for kind in columns:
        if kind not in LAYER_KINDS:
            close = difflib.get_close_matches(kind, LAYER_KINDS, n=1)
            rep.add(
                Problem(
                    f"column mapping for an unknown layer {kind!r}",
                    "columns",
                    f"the layers are {', '.join(LAYER_KINDS)}"
                    + (f"; did you mean {close[0]!r}?" if close else ""),
                )
            )
    given: dict[str, Source | None] = {
        "boundary": boundary,
        "population": population,
        "districts": districts,
        "sites": sites,
        "customers": customers,
        "barriers": barriers,
        "home_bases": home_bases,
    }

    out: dict[str, gpd.GeoDataFrame | None] = dict.fromkeys(LAYER_KINDS)
    local: pyproj.CRS | None = None
    boundary_metric: gpd.GeoDataFrame | None = None
    for kind in LAYER_KINDS:
        src = given[kind]
        if src is None:
            if kind in ("boundary", "population"):
                rep.add(
                    Problem(
                        f"no {kind} layer given",
                        kind,
                        f"give the city's {kind} layer (a file path)",
                    )
                )
            continue
        cols = columns.get(kind) or {}
        if kind == "customers" and _derives(src):
            gdf, source, problems, rep.customers = _read_customers(src, cols, tiers)
            cols = {}  # the customer columns are canonical now
        else:
            gdf, source, problems = _read_source(kind, src, cols)
        rep.add(problems)
        if gdf is None:
            continue
        try:
            gdf, problems = validate_layer(
                gdf,
                kind,
                source=source,
                boundary=boundary_metric,
                columns=cols,
                catalogue=catalogue,
            )
        except Exception as exc:  # a bug must still not end in a traceback
            problems = [_unexpected(source, exc)]
            gdf = None
        rep.add(problems)
        out[kind] = gdf
        boundary_ok = not any(severity(p) == "error" for p in problems)
        if kind == "boundary" and gdf is not None and boundary_ok:
            try:
                local = local_metric_crs(gdf)
                boundary_metric = gdf.to_crs(local)
            except Exception as exc:
                rep.add(_unexpected(source, exc))

    rep.raise_if_errors()
    assert local is not None  # no error means the boundary gave the CRS
    layers: dict[str, gpd.GeoDataFrame | None] = {}
    for kind, gdf in out.items():
        layers[kind] = None if gdf is None else gdf.to_crs(local).reset_index(drop=True)
    return Layers(crs=local, name=name, **layers)


def _read_source(
    kind: str, src: Source, cols: Mapping[str, str]
) -> tuple[gpd.GeoDataFrame | None, str, list[Problem]]:
    """Read one layer; a reading failure becomes problems instead of an exception."""
    if isinstance(src, gpd.GeoDataFrame):
        return src, f"{kind} layer", []
    if isinstance(src, pd.DataFrame):
        return src, f"{kind} layer", []  # validate_layer reports the missing geometry
    if not isinstance(src, LayerSource):
        src = LayerSource(src)
    layer = src.layer if src.layer is not None else _default_layer(src.path, kind)
    shown = Path(src.path).name or str(src.path)
    if layer is not None:
        shown = f"{shown} (layer {layer!r})"
    try:
        gdf = read_layer(
            src.path,
            layer=layer,
            lon=src.lon or cols.get("lon"),
            lat=src.lat or cols.get("lat"),
            crs=src.crs,
        )
    except InputError as exc:
        return None, shown, list(exc.problems)
    except Exception as exc:
        return None, shown, [_unexpected(shown, exc)]
    return gdf, shown, []


def _derives(src: Source) -> bool:
    """Whether a customer source goes through the tier derivation: every file, and a
    GeoDataFrame without a ``segment`` column."""
    if isinstance(src, pd.DataFrame):
        return "segment" not in src.columns
    return True


def _read_customers(
    src: Source, cols: Mapping[str, str], tiers: CustomerTiers | None
) -> tuple[gpd.GeoDataFrame | None, str, list[Problem], Any]:
    """The customer layer read and tiered (see :mod:`gridplan.layers.customers`)."""
    if isinstance(src, pd.DataFrame):
        layer, problems = customers_from_table(src, "customers layer", columns=cols, tiers=tiers)
        return (None if layer is None else layer.customers), "customers layer", problems, layer
    if not isinstance(src, LayerSource):
        src = LayerSource(src)
    shown = Path(src.path).name or str(src.path)
    explicit = dict(cols)
    for key, value in (("lon", src.lon), ("lat", src.lat)):
        if value:
            explicit[key] = value
    layer_name = src.layer if src.layer is not None else _default_layer(src.path, "customers")
    try:
        layer = read_customers(
            src.path, columns=explicit, tiers=tiers, layer=layer_name, crs=src.crs
        )
    except InputError as exc:
        return None, shown, list(exc.problems), None
    except Exception as exc:
        return None, shown, [_unexpected(shown, exc)], None
    return layer.customers, shown, list(layer.warnings), layer


def _default_layer(path: str | os.PathLike[str], kind: str) -> str | None:
    """In a multi-layer file with no layer given, the layer named like ``kind``."""
    p = Path(path)
    if _extension(p) not in _MULTI_LAYER or not p.exists():
        return None
    try:
        names = list_layers(p)
    except InputError:
        return None
    if len(names) < 2:
        return None

    def key(s: str) -> str:
        return re.sub(r"[\s_\-]+", "", s.casefold()).removesuffix("s")

    matches = [n for n in names if key(n) == key(kind)]
    return matches[0] if len(matches) == 1 else None


def _unexpected(source: str, exc: BaseException) -> Problem:
    return Problem(
        f"unexpected failure while loading ({type(exc).__name__}: {_reader_says(exc)})",
        source,
        "check the file in QGIS; if it looks right, report this message to the gridplan team",
    )
