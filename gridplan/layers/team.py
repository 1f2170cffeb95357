"""The team table: one row per community manager with their capacity and home base.

Columns (English or Chinese headers, any order): ``manager`` (name; 姓名/经理/社区经理,
also ``name``), ``capacity_h`` (hours/month; 工时/容量, optional: blank = the default
capacity), ``home_lon`` / ``home_lat`` (home base in degrees, EPSG:4326; 经度/纬度,
optional: both or neither on a row). Read from CSV (UTF-8 ± BOM, GB18030/GBK) or XLSX
by :func:`gridplan.layers.read.read_table`.
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd

from gridplan.errors import InputError, Problem
from gridplan.layers.read import read_table

__all__ = ["TEAM_COLUMNS", "TEAM_SYNONYMS", "read_team", "team_from_table"]

#: The columns of a read team table, in order.
TEAM_COLUMNS = ("manager", "capacity_h", "home_lon", "home_lat")

#: Accepted headers (lower-cased, stripped) for each column.
TEAM_SYNONYMS: dict[str, tuple[str, ...]] = {
    "manager": ("manager", "name", "manager_name", "姓名", "经理", "社区经理", "人员"),
    "capacity_h": ("capacity_h", "capacity", "hours", "工时", "容量", "月工时"),
    "home_lon": ("home_lon", "lon", "longitude", "home_x_lon", "经度", "驻地经度"),
    "home_lat": ("home_lat", "lat", "latitude", "home_y_lat", "纬度", "驻地纬度"),
}


def read_team(path: str | os.PathLike[str] | bytes, *, name: str | None = None) -> pd.DataFrame:
    """Read a team file (CSV or XLSX) into :data:`TEAM_COLUMNS`.

    ``capacity_h`` is NaN where blank (the caller's default applies); homes are NaN
    where not given. Raises :class:`~gridplan.errors.InputError` listing every problem
    with its rows and the fix."""
    table = read_table(path, name=name)
    where = name or (str(path) if not isinstance(path, bytes | bytearray) else "the team table")
    return team_from_table(table, where)


def _column_map(columns: list[str]) -> dict[str, str]:
    """Team column → the table's header, by :data:`TEAM_SYNONYMS` (first match)."""
    low = {str(c).strip().lower(): str(c) for c in columns}
    found: dict[str, str] = {}
    for col, names in TEAM_SYNONYMS.items():
        for nm in names:
            if nm in low and low[nm] not in found.values():
                found[col] = low[nm]
                break
    return found


def _rows(index: pd.Index, mask: np.ndarray | pd.Series) -> str:
    """Spreadsheet rows of ``mask`` (the header is row 1), at most eight named."""
    rows = [str(r) for r in index[np.asarray(mask, dtype=bool)]]
    more = f" … ({len(rows)} in all)" if len(rows) > 8 else ""
    return ("row " if len(rows) == 1 else "rows ") + ", ".join(rows[:8]) + more


def _numbers(table: pd.DataFrame, col: str | None) -> pd.Series:
    """The column as floats (NaN where blank or absent)."""
    if col is None:
        return pd.Series(np.nan, index=table.index, dtype=float)
    return pd.to_numeric(table[col], errors="coerce")


def team_from_table(table: pd.DataFrame, where: str = "the team table") -> pd.DataFrame:
    """Check a read table and return it as :data:`TEAM_COLUMNS` (see :func:`read_team`)."""
    cols = _column_map(list(table.columns))
    problems: list[Problem] = []
    if "manager" not in cols:
        raise InputError(
            Problem(
                f"no manager column (columns: {', '.join(map(str, table.columns))})",
                where,
                "name the column of manager names 'manager' (or 姓名)",
            )
        )
    names = table[cols["manager"]].astype("string").str.strip()
    blank = names.isna() | (names == "")
    if blank.any():
        problems.append(
            Problem(
                "manager name missing",
                f"{where}, {_rows(table.index, blank)}",
                "give every row a name or delete it",
            )
        )
    dup = names.duplicated(keep=False) & ~blank
    if dup.any():
        problems.append(
            Problem(
                f"the same manager on several rows ({', '.join(sorted(set(names[dup])))[:200]})",
                f"{where}, {_rows(table.index, dup)}",
                "give every manager one row",
            )
        )
    out = pd.DataFrame({"manager": names.fillna("").astype(str)}, index=table.index)
    for col in ("capacity_h", "home_lon", "home_lat"):
        raw = table[cols[col]] if col in cols else None
        val = _numbers(table, cols.get(col))
        bad = (
            val.isna() & raw.notna() & (raw.astype(str).str.strip() != "")
            if raw is not None
            else val.isna() & False
        )
        if bad.any():
            problems.append(
                Problem(
                    f"{col} is not a number",
                    f"{where}, {_rows(table.index, bad)}",
                    f"write {col} as a number",
                )
            )
        out[col] = val
    cap = out["capacity_h"]
    if (cap <= 0).any():
        problems.append(
            Problem(
                "capacity_h must be > 0 hours/month",
                f"{where}, {_rows(table.index, cap <= 0)}",
                "e.g. 128 (160 h x 0.8), or leave it blank for the default",
            )
        )
    lon, lat = out["home_lon"], out["home_lat"]
    half = lon.isna() != lat.isna()
    if half.any():
        problems.append(
            Problem(
                "home base with only one of home_lon/home_lat",
                f"{where}, {_rows(table.index, half)}",
                "give both (degrees, EPSG:4326) or neither",
            )
        )
    off = (lon.abs() > 180) | (lat.abs() > 90)
    if off.any():
        problems.append(
            Problem(
                "home base outside -180…180 / -90…90 degrees",
                f"{where}, {_rows(table.index, off)}",
                "give longitude/latitude in degrees (EPSG:4326), longitude first",
            )
        )
    if problems:
        raise InputError(problems)
    return out.reset_index(drop=True)[list(TEAM_COLUMNS)]
