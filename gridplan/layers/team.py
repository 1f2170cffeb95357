"""The team table: one row per community manager with their capacity and home base.

Columns (English or Chinese headers, any order): ``manager`` (name; 姓名/经理/社区经理,
also ``name``), ``capacity_h`` (hours/month; 工时/容量, optional: blank = the default
capacity), ``home_lon`` / ``home_lat`` (home base in degrees, EPSG:4326; 经度/纬度,
optional: both or neither on a row), and optionally ``role`` (角色/岗位: community
manager by default, or area_manager, marketing_manager, group_client_manager,
vip_client_manager, phone_client_manager — English or Chinese, see :data:`ROLE_SYNONYMS`),
``area`` (区域: the area the person leads or works in) and ``unit`` (单位/分局/支局: the code of
the organisation unit the person works in). Read from CSV (UTF-8 ± BOM, GB18030/GBK) or XLSX
by :func:`gridplan.layers.read.read_table`.
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd

from gridplan.errors import InputError, Problem
from gridplan.layers.read import read_table

__all__ = [
    "ROLE_SYNONYMS",
    "TEAM_COLUMNS",
    "TEAM_OPTIONAL",
    "TEAM_SYNONYMS",
    "read_team",
    "split_team",
    "team_from_table",
]

#: The columns of a read team table, in order.
TEAM_COLUMNS = ("manager", "capacity_h", "home_lon", "home_lat")

#: Accepted headers (lower-cased, stripped) for each column.
TEAM_SYNONYMS: dict[str, tuple[str, ...]] = {
    "manager": ("manager", "name", "manager_name", "姓名", "经理", "社区经理", "人员"),
    "capacity_h": ("capacity_h", "capacity", "hours", "工时", "容量", "月工时"),
    "home_lon": ("home_lon", "lon", "longitude", "home_x_lon", "经度", "驻地经度"),
    "home_lat": ("home_lat", "lat", "latitude", "home_y_lat", "纬度", "驻地纬度"),
    "role": ("role", "position", "角色", "岗位", "职务"),
    "area": ("area", "area_name", "区域", "所属区域"),
    "unit": ("unit", "unit_code", "branch", "单位", "分局", "支局", "所属单位"),
}

#: Optional text columns of a team table, kept when the table has them.
TEAM_OPTIONAL = ("role", "area", "unit")

#: Role codes and the words that name them in a team table (lower-cased).
ROLE_SYNONYMS: dict[str, tuple[str, ...]] = {
    "community_manager": ("community_manager", "community manager", "cm", "社区经理", ""),
    "area_manager": ("area_manager", "area manager", "am", "区域经理"),
    "marketing_manager": ("marketing_manager", "marketing manager", "mm", "营销经理", "营销支撑"),
    "group_client_manager": ("group_client_manager", "group client manager", "集团客户经理"),
    "vip_client_manager": (
        "vip_client_manager", "vip client manager", "vip客户经理", "大客户经理", "vip/大客户经理",
    ),
    "phone_client_manager": ("phone_client_manager", "phone client manager", "电话客户经理"),
}  # fmt: skip


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
    for col in TEAM_OPTIONAL:
        if col in cols:
            out[col] = table[cols[col]].astype("string").str.strip().fillna("").astype(str)
    if "role" in out.columns:
        words = {w: code for code, ws in ROLE_SYNONYMS.items() for w in ws}
        role = out["role"].str.lower().map(words)
        unknown = role.isna()
        if unknown.any():
            problems.append(
                Problem(
                    f"unknown roles {sorted(set(out.loc[unknown, 'role']))[:5]}",
                    f"{where}, {_rows(table.index, unknown)}",
                    f"use one of {', '.join(ROLE_SYNONYMS)} (or 社区经理, 区域经理, 营销经理 …)",
                )
            )
        out["role"] = role.fillna("community_manager")
    if problems:
        raise InputError(problems)
    extra = [c for c in TEAM_OPTIONAL if c in out.columns]
    return out.reset_index(drop=True)[[*TEAM_COLUMNS, *extra]]


def split_team(team: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """A read team as its community managers (every row without a role or with the
    community manager's) and the other people as a staff table (``person``, ``role``,
    ``area``, ``unit``; ``None`` when there are none)."""
    if "role" not in team.columns:
        return team, None
    cm = team["role"] == "community_manager"
    others = team[~cm]
    managers = team[cm].drop(columns="role").reset_index(drop=True)
    if others.empty:
        return managers, None
    staff = pd.DataFrame(
        {
            "person": others["manager"].to_numpy(),
            "role": others["role"].to_numpy(),
            "area": others["area"].to_numpy() if "area" in others else "",
            "unit": others["unit"].to_numpy() if "unit" in others else "",
            "supports": "",
        }
    )
    return managers, staff
