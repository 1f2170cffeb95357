"""The owner index of one plan version: point (lon/lat) → cell → grid → owners.

Built once per plan version (:class:`OwnerIndex`), read-only afterwards, so requests
can share it from any thread. Points come in lon/lat (EPSG:4326) and are transformed
to the plan's work CRS (projected, metres) with one pyproj call per batch, then located
with a lookup raster (:mod:`gridplan.service.raster`: array arithmetic for the points
deep inside a cell) and a shapely ``STRtree`` over the cell polygons for the rest (a
point exactly on a shared edge goes to one of the cells). A point in no cell is answered
``"outside": true`` with the nearest grid and its distance in metres (on the WGS 84
ellipsoid, from the point to the nearest point of that grid's nearest cell).

An owner answer (the same for a point, a customer and a grid)::

    {"grid_id": "G12", "grid_type": "住宅",
     "managers": [{"role": "community_manager", "name": "张三"}, ...],
     "area": "东区",
     "units": {"district": "武侯区", ...}}

- ``managers``: the community manager (the grid's ``manager``), then one entry per other
  role the plan carries as a grid column ``manager_<role>`` (e.g. ``manager_group_client``
  → role ``group_client``), then the area's ``area_manager`` and the ``marketing_manager``
  supporting the community manager (the plan's staff); empty names are left out.
- ``area``: the community manager's area (区域) from the team table, ``null`` when none.
- ``units``: the organisation units the grids carry: ``district`` and the columns
  ``city``, ``county``, ``branch``, ``sub_branch`` and any ``unit_<level>``.

Answers are written as JSON text from fragments prepared once per grid, so a batch of
10,000 points is serialised in a few milliseconds.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import shapely
from pyproj import Geod, Transformer
from shapely import STRtree

from gridplan.plan import Plan, customer_attribution
from gridplan.service.raster import CellRaster, first_cell

__all__ = ["COMMUNITY_MANAGER", "Located", "OwnerIndex", "owner_units", "role_columns"]

COMMUNITY_MANAGER = "community_manager"
#: Grid columns read as organisation units (besides any ``unit_<level>`` column).
UNIT_COLUMNS = ("city", "county", "district", "branch", "sub_branch")
_ROLE_PREFIX = "manager_"
_GEOD = Geod(ellps="WGS84")
_NULL_OWNER = '"grid_id":null,"grid_type":null,"managers":[],"area":null,"units":{}'


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _text(value: Any) -> str | None:
    """A cell of a table as text, ``None`` for missing or empty."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    s = str(value)
    return s if s else None


def role_columns(grids: pd.DataFrame) -> dict[str, str]:
    """Role name → grid column: ``community_manager`` → ``manager``, plus every
    ``manager_<role>`` column."""
    roles = {COMMUNITY_MANAGER: "manager"} if "manager" in grids.columns else {}
    for col in grids.columns:
        name = str(col)
        if name.startswith(_ROLE_PREFIX) and len(name) > len(_ROLE_PREFIX):
            roles[name[len(_ROLE_PREFIX) :]] = name
    return roles


def owner_units(grids: pd.DataFrame) -> list[str]:
    """The organisation-unit columns of ``grids``, in a stable order."""
    cols = [c for c in UNIT_COLUMNS if c in grids.columns]
    return cols + sorted(str(c) for c in grids.columns if str(c).startswith("unit_"))


def _staff_lookup(plan: Plan) -> tuple[dict[str, str], dict[str, str]]:
    """Area → its area manager, community manager → the marketing manager supporting
    him, from the plan's staff table (empty without one)."""
    staff = plan.staff
    if staff is None or staff.empty or not {"person", "role"} <= set(staff.columns):
        return {}, {}
    role = staff["role"].astype(str)
    am = staff[role == "area_manager"]
    leader = dict(zip(am["area"].astype(str), am["person"].astype(str), strict=True))
    marketer: dict[str, str] = {}
    mm = staff[role == "marketing_manager"]
    for person, names in zip(mm["person"].astype(str), mm["supports"].astype(str), strict=True):
        for name in filter(None, names.split(",")):
            marketer.setdefault(name, person)
    return leader, marketer


def _owner_fragments(plan: Plan) -> list[str]:
    """One JSON fragment (object members, no braces) per grid, in ``plan.grids`` order."""
    g = plan.grids
    roles = role_columns(g)
    units = owner_units(g)
    team = plan.managers
    area_of: dict[str, str] = {}
    if "area" in team.columns:
        area_of = dict(zip(team["manager"].astype(str), team["area"], strict=False))
    gtype = g["grid_type"] if "grid_type" in g.columns else pd.Series([None] * len(g))
    leader, marketer = _staff_lookup(plan)
    out = []
    for row, grid_type in zip(range(len(g)), gtype, strict=True):
        managers = []
        for role, col in roles.items():
            name = _text(g[col].iat[row])
            if name is not None:
                managers.append({"role": role, "name": name})
        boss = _text(g["manager"].iat[row]) if "manager" in g.columns else None
        area = _text(area_of.get(boss)) if boss else None
        if area in leader:
            managers.append({"role": "area_manager", "name": leader[area]})
        if boss in marketer:
            managers.append({"role": "marketing_manager", "name": marketer[boss]})
        unit_values = {u: _text(g[u].iat[row]) for u in units}
        out.append(
            f'"grid_id":{_dumps(str(g["grid_id"].iat[row]))},'
            f'"grid_type":{_dumps(_text(grid_type))},'
            f'"managers":{_dumps(managers)},'
            f'"area":{_dumps(area)},'
            f'"units":{_dumps(unit_values)}'
        )
    return out


def _figures(plan: Plan) -> list[str]:
    """Every grid's columns but the geometry as a JSON object (NaN → null)."""
    frame = pd.DataFrame(plan.grids.drop(columns="geometry", errors="ignore"))
    records = json.loads(frame.to_json(orient="records", force_ascii=False))
    return [_dumps(r) for r in records]


@dataclass(frozen=True)
class Located:
    """Where a batch of points fell: ``cell`` (cell position, -1 outside every cell),
    ``grid`` (grid position of that cell, or of the nearest cell when outside, -1 when
    the plan has no cells) and ``distance_m`` (0 inside; metres to the nearest cell
    outside, on the WGS 84 ellipsoid)."""

    cell: np.ndarray
    grid: np.ndarray
    distance_m: np.ndarray

    @property
    def outside(self) -> np.ndarray:
        """True where the point lies in no cell."""
        return self.cell < 0


class OwnerIndex:
    """The spatial index and prepared answers of one plan version (read-only)."""

    def __init__(self, plan: Plan):
        cells = plan.cells
        self.n_cells = len(cells)
        self.n_grids = len(plan.grids)
        geoms = np.asarray(cells.geometry.values)
        self._tree = STRtree(geoms)
        self._raster = CellRaster(self._tree, geoms)
        grid_pos = {str(gid): i for i, gid in enumerate(plan.grids["grid_id"])}
        self._grid_pos = grid_pos
        self._cell_grid = np.array(
            [grid_pos.get(str(g), -1) for g in cells["grid_id"]], dtype=np.int64
        )
        self._cell_json = [_dumps(str(c)) for c in cells["cell_id"]]
        self._owner = _owner_fragments(plan)
        self._figures = _figures(plan)
        self._to_plan = Transformer.from_crs("EPSG:4326", plan.crs, always_xy=True)
        self._to_lonlat = Transformer.from_crs(plan.crs, "EPSG:4326", always_xy=True)
        self._customers = self._customer_answers(plan)
        self.n_customers = len(self._customers)

    # ------------------------------------------------------------ points
    def locate(self, lon: np.ndarray, lat: np.ndarray, *, exact: bool = False) -> Located:
        """Locate points given in degrees (EPSG:4326); see :class:`Located`.

        The lookup raster answers most points; the rest go through the STRtree
        (``exact=True``: every point does, for checks and benchmarks)."""
        n = len(lon)
        x, y = self._to_plan.transform(np.asarray(lon, float), np.asarray(lat, float))
        x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
        dist = np.zeros(n)
        if self.n_cells == 0 or n == 0:
            return Located(np.full(n, -1, dtype=np.int64), np.full(n, -1, dtype=np.int64), dist)
        cell = np.full(n, -1, dtype=np.int64) if exact else self._raster.lookup(x, y)
        rest = np.flatnonzero(cell < 0)
        pts = shapely.points(x[rest], y[rest])
        cell[rest] = first_cell(self._tree, pts)
        grid = np.where(cell >= 0, self._cell_grid[np.maximum(cell, 0)], -1)
        out = np.flatnonzero(cell[rest] < 0)  # positions in ``rest``
        if len(out):
            (qi, ni), d = self._tree.query_nearest(
                pts[out], return_distance=True, all_matches=False
            )
            where = rest[out[qi]]
            grid[where] = self._cell_grid[ni]
            dist[where] = self._geodesic_m(pts[out[qi]], ni, d)
        return Located(cell, grid, dist)

    def _geodesic_m(self, pts: np.ndarray, cells: np.ndarray, planar: np.ndarray) -> np.ndarray:
        """Ellipsoidal distance (metres, WGS 84) from each point to the nearest point of
        its nearest cell; the planar work-CRS distance where the geodesic is undefined."""
        geoms = self._tree.geometries.take(cells)
        ends = shapely.get_coordinates(shapely.shortest_line(pts, geoms)).reshape(-1, 2, 2)
        lon0, lat0 = self._to_lonlat.transform(ends[:, 0, 0], ends[:, 0, 1])
        lon1, lat1 = self._to_lonlat.transform(ends[:, 1, 0], ends[:, 1, 1])
        _, _, metres = _GEOD.inv(lon0, lat0, lon1, lat1)
        metres = np.asarray(metres, dtype=float)
        return np.where(np.isfinite(metres), metres, planar)

    def answers(
        self,
        lon: Sequence[float],
        lat: Sequence[float],
        located: Located,
        ids: Sequence[Any] | None = None,
    ) -> list[str]:
        """One JSON object (text) per point: ``index``, the caller's ``id`` when given,
        ``lon``, ``lat`` (degrees, 7 decimals ≈ 1 cm), ``outside``, ``cell_id`` and the
        owner (module docstring); outside points carry ``nearest`` (``distance_m`` and
        the nearest grid's owner)."""
        cell, grid = located.cell.tolist(), located.grid.tolist()
        dist = np.round(located.distance_m, 1).tolist()
        xs = np.asarray(lon, dtype=float).tolist()
        ys = np.asarray(lat, dtype=float).tolist()
        cell_json, owner = self._cell_json, self._owner
        keys = [""] * len(cell)
        if ids is not None:
            keys = ["" if k is None else f'"id":{_dumps(k)},' for k in ids]
        out = []
        for i, (c, g, x, y, key) in enumerate(zip(cell, grid, xs, ys, keys, strict=True)):
            head = f'{{"index":{i},{key}"lon":{x:.7f},"lat":{y:.7f},'
            if c >= 0:
                who = owner[g] if g >= 0 else _NULL_OWNER
                out.append(f'{head}"outside":false,"cell_id":{cell_json[c]},{who}}}')
            else:
                near = f'{{"distance_m":{dist[i]!r},{owner[g]}}}' if g >= 0 else "null"
                out.append(f'{head}"outside":true,"cell_id":null,{_NULL_OWNER},"nearest":{near}}}')
        return out

    # ------------------------------------------------------------ customers, grids
    def _customer_answers(self, plan: Plan) -> dict[str, str]:
        """Customer id (text) → JSON object, through :func:`customer_attribution`."""
        table = customer_attribution(plan)
        out: dict[str, str] = {}
        for cid, cell_id, grid_id in zip(
            table["customer_id"], table["cell_id"], table["grid_id"], strict=True
        ):
            key = str(cid)
            if key in out:
                continue
            g = self._grid_pos.get(str(grid_id), -1) if grid_id else -1
            owner = self._owner[g] if g >= 0 else _NULL_OWNER
            cell = _text(cell_id) if g >= 0 else None
            out[key] = (
                f'{{"customer_id":{_dumps(key)},"attributed":{"true" if g >= 0 else "false"},'
                f'"cell_id":{_dumps(cell)},{owner}}}'
            )
        return out

    def customer(self, customer_id: str) -> str | None:
        """The JSON answer for one customer id, ``None`` when unknown."""
        return self._customers.get(str(customer_id))

    def grid(self, grid_id: str) -> str | None:
        """The JSON answer for one grid: its owner and ``figures`` (every column of the
        grid but the geometry), ``None`` when unknown."""
        g = self._grid_pos.get(str(grid_id))
        if g is None:
            return None
        return f'{{{self._owner[g]},"figures":{self._figures[g]}}}'
