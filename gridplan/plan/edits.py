"""Hand edits of a plan: pure functions ``Plan → Plan`` and an undo/redo history.

Cell edits (:func:`move_cells`, :func:`merge_grids`, :func:`split_grid`,
:func:`reconnect_islands`) recompute the touched grids' figures, geometry and
workload (hours/month) from their cells; manager edits (:func:`reassign`,
:func:`set_locked`, :func:`import_assignment`) only touch the grids table. No edit
changes its input plan.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import shapely

from gridplan.errors import InputError, Problem
from gridplan.partition import classify_grids
from gridplan.plan.model import HOURS, Plan, reassign
from gridplan.plan.rules import components
from gridplan.workload import WorkloadConfig, default_workload_config, grid_workload

__all__ = [
    "History",
    "import_assignment",
    "locked_grids",
    "merge_grids",
    "move_cells",
    "new_grid_id",
    "reassign",
    "reconnect_islands",
    "refresh_grids",
    "set_locked",
    "split_grid",
]

#: cell columns never summed into grids
_NOT_SUMMED = {"x", "y", "density", "coverage", "coverage_raw", "clipped", "area_km2"}


def _grid_ids(plan: Plan) -> pd.Series:
    return plan.grids["grid_id"].astype(str)


def _need_grids(plan: Plan, ids: Iterable[Any], where: str) -> list[str]:
    ids = [str(i) for i in ids]
    known = set(_grid_ids(plan))
    missing = [i for i in ids if i not in known]
    if missing:
        raise InputError(
            Problem(f"unknown grid ids {missing[:5]}", where, "pick grids of this plan")
        )
    return ids


def new_grid_id(plan: Plan, district: str | None = None) -> str:
    """A grid id not used in ``plan``: ``<district>-E001`` (E for edited) or ``E0001``."""
    used = set(_grid_ids(plan))
    k = 1
    while True:
        gid = f"{district}-E{k:03d}" if district else f"E{k:04d}"
        if gid not in used:
            return gid
        k += 1


def refresh_grids(
    plan: Plan, grid_ids: Iterable[Any], workload: WorkloadConfig | None = None
) -> Plan:
    """Recompute the figures, geometry and workload of ``grid_ids`` from their cells.

    Grids left without cells are dropped; ids in ``grid_ids`` not yet in the grids
    table are added (manager ``""`` unless the caller sets one). Grid types are
    re-derived for all grids (some rules are relative to the median)."""
    ids = list(dict.fromkeys(str(i) for i in grid_ids))
    cells = plan.cells
    cg = cells["grid_id"].astype(str)
    grids = plan.grids.copy()
    gid = grids["grid_id"].astype(str)
    have_cells = set(cg)
    grids = grids[~(gid.isin(ids) & ~gid.isin(have_cells))]
    gid = grids["grid_id"].astype(str)
    new = [i for i in ids if i in have_cells and i not in set(gid)]
    if new:
        add = pd.DataFrame({"grid_id": new, "manager": ""})
        for col in ("locked",):
            if col in grids.columns:
                add[col] = False
        grids = _as_gdf(pd.concat([grids, add], ignore_index=True), plan)
        gid = grids["grid_id"].astype(str)
    todo = [i for i in ids if i in have_cells]
    if not todo:
        return plan.with_(grids=_as_gdf(grids, plan))
    sub = cells[cg.isin(todo)]
    key = sub["grid_id"].astype(str)
    by = sub.groupby(key, sort=False)
    rows = gid.isin(todo).to_numpy()
    row_ids = gid[rows]
    numeric = [
        c
        for c in grids.columns
        if c in cells.columns
        and c not in _NOT_SUMMED
        and c not in ("grid_id", "geometry")
        and pd.api.types.is_numeric_dtype(cells[c])
    ]
    for c in numeric:
        grids.loc[rows, c] = row_ids.map(by[c].sum()).to_numpy(dtype=float)
    area = (
        pd.to_numeric(sub["area_km2"], errors="coerce").fillna(0.0)
        if "area_km2" in sub.columns
        else sub.geometry.area / 1e6
    )
    a_by = area.groupby(key).sum()
    grids.loc[rows, "area_km2"] = row_ids.map(a_by).to_numpy(dtype=float)
    if "coverage" in sub.columns:
        cov = pd.to_numeric(sub["coverage"], errors="coerce")
        ok = cov.notna()
        w = area.where(ok, 0.0)
        num = (cov.fillna(0.0) * w).groupby(key).sum()
        den = w.groupby(key).sum()
        grids.loc[rows, "coverage"] = row_ids.map(num / den.where(den > 0)).to_numpy(dtype=float)
    grids.loc[rows, "n_cells"] = row_ids.map(by.size()).to_numpy()
    if "district" in sub.columns:
        dist = by["district"].agg(lambda s: s.astype(str).mode().iloc[0])
        grids.loc[rows, "district"] = row_ids.map(dist).to_numpy(dtype=object)
    geoms = {g: shapely.union_all(np.asarray(part.geometry.values)) for g, part in by}
    grids.loc[rows, "geometry"] = [geoms[i] for i in row_ids]
    grids = _as_gdf(grids, plan)
    hours = grid_workload(grids.loc[rows], workload or default_workload_config())
    for c in hours.columns:
        if c in grids.columns or c == HOURS:
            grids.loc[rows, c] = hours[c].to_numpy()
    if "grid_type" in grids.columns:
        with contextlib.suppress(InputError):
            grids["grid_type"] = classify_grids(grids).to_numpy()
    grids["manager"] = grids["manager"].fillna("").astype(str)
    return plan.with_(grids=grids.reset_index(drop=True))


def _as_gdf(grids: Any, plan: Plan) -> Any:
    import geopandas as gpd

    return gpd.GeoDataFrame(grids, geometry="geometry", crs=plan.grids.crs)


def move_cells(
    plan: Plan,
    cell_ids: Iterable[Any],
    target: str | None = None,
    *,
    manager: str | None = None,
) -> Plan:
    """Move cells into grid ``target`` or, when ``target`` is None, into a new grid.

    A new grid takes ``manager`` or else the manager holding most of the moved cells.
    Returns the new plan; the new grid's id is in ``plan.meta['last_new_grid']``."""
    ids = {str(c) for c in cell_ids}
    cid = plan.cells["cell_id"].astype(str)
    mask = cid.isin(ids).to_numpy()
    if not mask.any():
        raise InputError(Problem("no cells selected", "move cells", "select cells on the map"))
    old = plan.cells.loc[mask, "grid_id"].astype(str)
    if target is None:
        dist = None
        if "district" in plan.cells.columns:
            dist = str(plan.cells.loc[mask, "district"].astype(str).mode().iloc[0])
        target = new_grid_id(plan, dist)
        if manager is None:
            man_of = plan.grids.set_index(plan.grids["grid_id"].astype(str))["manager"]
            counts = old.map(man_of).fillna("").astype(str).value_counts()
            manager = str(counts.index[0]) if len(counts) else ""
    else:
        target = _need_grids(plan, [target], "move cells")[0]
    cells = plan.cells.copy()
    cells.loc[mask, "grid_id"] = target
    meta = dict(plan.meta)
    meta["last_new_grid"] = target
    out = refresh_grids(plan.with_(cells=cells, meta=meta), [*old.unique(), target])
    if manager is not None:
        g = out.grids.copy()
        g.loc[g["grid_id"].astype(str) == target, "manager"] = manager
        out = out.with_(grids=g)
    return out


def merge_grids(plan: Plan, grid_ids: Sequence[Any]) -> Plan:
    """Merge grids into the first one; it keeps the manager of the one with the most
    workload among them (hours/month)."""
    ids = _need_grids(plan, grid_ids, "merge grids")
    if len(set(ids)) < 2:
        raise InputError(Problem("merge needs two grids or more", "merge grids", "pick more grids"))
    g = plan.grids[_grid_ids(plan).isin(ids)]
    hours = pd.to_numeric(g.get(HOURS, pd.Series(0.0, index=g.index)), errors="coerce")
    manager = str(g.loc[hours.fillna(0).idxmax(), "manager"])
    keep = ids[0]
    cells = plan.cells.copy()
    cells.loc[cells["grid_id"].astype(str).isin(ids), "grid_id"] = keep
    out = refresh_grids(plan.with_(cells=cells), ids)
    gr = out.grids.copy()
    gr.loc[gr["grid_id"].astype(str) == keep, "manager"] = manager
    return out.with_(grids=gr)


def split_grid(plan: Plan, grid_id: Any, edges: np.ndarray, by: str = "population") -> Plan:
    """Split a grid in two connected halves of about equal ``by`` (e.g. persons).

    Grows the first half from the cell farthest from the grid's centre, breadth-first,
    until it holds half of ``by``; the rest forms the new grid (same manager). When
    the rest falls apart, its smaller pieces join the first half."""
    gid = _need_grids(plan, [grid_id], "split grid")[0]
    cg = plan.cells["grid_id"].astype(str).to_numpy()
    rows = np.flatnonzero(cg == gid)
    if len(rows) < 2:
        raise InputError(
            Problem(f"grid {gid} has one cell only", "split grid", "split a grid of 2+ cells")
        )
    local = {r: i for i, r in enumerate(rows)}
    e = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
    inside = np.isin(e[:, 0], rows) & np.isin(e[:, 1], rows)
    nbrs: dict[int, list[int]] = {i: [] for i in range(len(rows))}
    for a, b in e[inside]:
        nbrs[local[a]].append(local[b])
        nbrs[local[b]].append(local[a])
    cells = plan.cells.iloc[rows]
    cen = cells.geometry.centroid
    xy = np.column_stack([cen.x.to_numpy(), cen.y.to_numpy()])
    start = int(np.argmax(((xy - xy.mean(axis=0)) ** 2).sum(axis=1)))
    w = (
        pd.to_numeric(cells[by], errors="coerce").fillna(0).to_numpy(float)
        if by in cells.columns
        else np.ones(len(rows))
    )
    if w.sum() <= 0:
        w = np.ones(len(rows))
    half = w.sum() / 2.0
    first = np.zeros(len(rows), dtype=bool)
    queue = [start]
    seen = {start}
    acc = 0.0
    while queue and acc < half and first.sum() < len(rows) - 1:
        # nearest-to-start first keeps the half compact
        queue.sort(key=lambda i: ((xy[i] - xy[start]) ** 2).sum())
        i = queue.pop(0)
        first[i] = True
        acc += w[i]
        for j in nbrs[i]:
            if j not in seen:
                seen.add(j)
                queue.append(j)
    if first.all() or not first.any():
        first[:] = False
        first[start] = True
    rest = np.flatnonzero(~first)
    sub_e = np.array([(local[a], local[b]) for a, b in e[inside]], dtype=np.int64).reshape(-1, 2)
    comp = components(len(rows), sub_e, first.astype(int))
    rest_comp = comp[rest]
    if len(np.unique(rest_comp)) > 1:
        main = pd.Series(w[rest]).groupby(rest_comp).sum().idxmax()
        first[rest[rest_comp != main]] = True
    moved = plan.cells["cell_id"].to_numpy()[rows[~first]]
    manager = str(plan.grids.loc[_grid_ids(plan) == gid, "manager"].iloc[0])
    return move_cells(plan, moved, None, manager=manager)


def reconnect_islands(plan: Plan, edges: np.ndarray, grid_ids: Iterable[Any] | None = None) -> Plan:
    """Give every detached piece of a grid (all but its largest piece by cell count)
    to the neighbouring grid it shares the most edges with; a piece touching no other
    grid stays (it cannot be reconnected)."""
    n = len(plan.cells)
    cg = plan.cells["grid_id"].astype(str).to_numpy()
    comp = components(n, edges, cg)
    wanted = None if grid_ids is None else {str(g) for g in grid_ids}
    cells = plan.cells.copy()
    e = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
    touched: set[str] = set()
    df = pd.DataFrame({"grid": cg, "comp": comp})
    sizes = df.groupby(["grid", "comp"]).size()
    for gid, per in sizes.groupby(level=0):
        if len(per) < 2 or (wanted is not None and gid not in wanted):
            continue
        main = per.droplevel(0).idxmax()
        for c in per.droplevel(0).index:
            if c == main:
                continue
            rows = np.flatnonzero(comp == c)
            on = np.isin(e[:, 0], rows) ^ np.isin(e[:, 1], rows)
            other = np.where(np.isin(e[on, 0], rows), e[on, 1], e[on, 0])
            targets = pd.Series(cells["grid_id"].astype(str).to_numpy()[other])
            targets = targets[targets != gid]
            if targets.empty:
                continue
            dest = targets.value_counts().index[0]
            cells.iloc[rows, cells.columns.get_loc("grid_id")] = dest
            touched |= {gid, dest}
    if not touched:
        return plan
    return refresh_grids(plan.with_(cells=cells), touched)


def set_locked(plan: Plan, grid_ids: Iterable[Any], locked: bool = True) -> Plan:
    """Lock (or unlock) grids: a locked grid keeps its manager and cells in re-runs."""
    ids = _need_grids(plan, grid_ids, "lock grids")
    g = plan.grids.copy()
    if "locked" not in g.columns:
        g["locked"] = False
    g["locked"] = g["locked"].fillna(False).astype(bool)
    g.loc[_grid_ids(plan).isin(ids).to_numpy(), "locked"] = bool(locked)
    return plan.with_(grids=g)


def locked_grids(plan: Plan) -> dict[str, str]:
    """Locked grid id → its manager."""
    if "locked" not in plan.grids.columns:
        return {}
    g = plan.grids[plan.grids["locked"].fillna(False).astype(bool)]
    return dict(zip(g["grid_id"].astype(str), g["manager"].astype(str), strict=True))


def import_assignment(plan: Plan, table: pd.DataFrame) -> tuple[Plan, list[str]]:
    """Apply today's assignment: a table of ``cell_id`` or ``grid_id`` with ``manager``.

    With cell ids, each grid goes to the manager holding most of its cells. Managers
    not in the team are added (capacity = the team's median); the team becomes the
    managers named in the table. Returns the plan and
    notes for the planner (ids not found, grids left without a manager)."""
    cols = {c.strip().lower(): c for c in table.columns}
    if "manager" not in cols or not ({"cell_id", "grid_id"} & set(cols)):
        raise InputError(
            Problem(
                f"the table has columns {list(table.columns)[:8]}",
                "imported plan",
                "give a CSV with columns cell_id,manager or grid_id,manager",
            )
        )
    t = table.rename(columns={v: k for k, v in cols.items()})
    t = t[t["manager"].notna()].copy()
    t["manager"] = t["manager"].astype(str).str.strip()
    notes: list[str] = []
    gid = _grid_ids(plan)
    if "grid_id" in t.columns:
        t["grid_id"] = t["grid_id"].astype(str).str.strip()
        known = t["grid_id"].isin(set(gid))
        if (~known).any():
            notes.append(f"{int((~known).sum())} grid ids not in the plan were skipped")
        t = t[known]
        per_grid = t.drop_duplicates("grid_id", keep="last").set_index("grid_id")["manager"]
    else:
        t["cell_id"] = t["cell_id"].astype(str).str.strip()
        grid_of = plan.cells.set_index(plan.cells["cell_id"].astype(str))["grid_id"].astype(str)
        t["grid_id"] = t["cell_id"].map(grid_of)
        unknown = t["grid_id"].isna()
        if unknown.any():
            notes.append(f"{int(unknown.sum())} cell ids not in the plan were skipped")
        t = t[~unknown]
        per_grid = t.groupby("grid_id")["manager"].agg(lambda s: s.value_counts().index[0])
    old_team = plan.managers.copy()
    names = list(dict.fromkeys(t["manager"]))
    cap = pd.to_numeric(old_team.get("capacity_h"), errors="coerce") if len(old_team) else None
    median = (
        float(cap.median())
        if cap is not None and cap.notna().any()
        else WorkloadConfig(standards=()).capacity_h
    )
    kept = old_team[old_team["manager"].astype(str).isin(names)]
    new = [n for n in names if n not in set(kept["manager"].astype(str))]
    add = pd.DataFrame({"manager": new, "capacity_h": median})
    if "area" in old_team.columns:
        add["area"] = ""
    team = pd.concat([kept, add], ignore_index=True)
    if new:
        notes.append(f"{len(new)} managers added to the team: {', '.join(new[:8])}")
    dropped = len(old_team) - len(kept)
    if dropped:
        notes.append(f"the team is now the {len(team)} managers of the imported plan")
    g = plan.grids.copy()
    g["manager"] = gid.map(per_grid).fillna("").astype(str).to_numpy()
    left = int((g["manager"] == "").sum())
    if left:
        notes.append(f"{left} grids have no manager in the imported plan")
    return plan.with_(grids=g, managers=team), notes


# ------------------------------------------------------------------ undo / redo


@dataclass
class History:
    """Undo/redo of plan edits within one session (not shared between sessions).

    ``push`` records a new plan with a label (dropping any redo); ``undo``/``redo``
    move along the stack. ``limit`` caps the plans kept (oldest dropped)."""

    limit: int = 50
    _plans: list[tuple[Plan, str]] = field(default_factory=list)
    _pos: int = -1

    @property
    def current(self) -> Plan | None:
        return self._plans[self._pos][0] if self._pos >= 0 else None

    @property
    def label(self) -> str:
        return self._plans[self._pos][1] if self._pos >= 0 else ""

    @property
    def can_undo(self) -> bool:
        return self._pos > 0

    @property
    def can_redo(self) -> bool:
        return 0 <= self._pos < len(self._plans) - 1

    def push(self, plan: Plan, label: str) -> Plan:
        del self._plans[self._pos + 1 :]
        self._plans.append((plan, label))
        if len(self._plans) > self.limit:
            del self._plans[0]
        self._pos = len(self._plans) - 1
        return plan

    def reset(self, plan: Plan, label: str) -> Plan:
        """Start a new history at ``plan`` (e.g. a plan opened from the workspace)."""
        self._plans = []
        self._pos = -1
        return self.push(plan, label)

    def undo(self) -> Plan | None:
        if self.can_undo:
            self._pos -= 1
        return self.current

    def redo(self) -> Plan | None:
        if self.can_redo:
            self._pos += 1
        return self.current

    def labels(self) -> list[str]:
        """Labels of the edits, oldest first."""
        return [lab for _, lab in self._plans]


def neighbour_grids(plan: Plan, grid_id: Any, edges: np.ndarray) -> list[str]:
    """Grid ids touching ``grid_id`` (sharing a cell edge), most shared edges first."""
    gid = str(grid_id)
    cg = plan.cells["grid_id"].astype(str).to_numpy()
    e = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
    a, b = cg[e[:, 0]], cg[e[:, 1]]
    other = np.concatenate([b[(a == gid) & (b != gid)], a[(b == gid) & (a != gid)]])
    return [str(g) for g in pd.Series(other).value_counts().index]


def merge_into_neighbour(
    plan: Plan, grid_id: Any, edges: np.ndarray, by: str = "population"
) -> Plan:
    """One-click repair of a grid below a floor: merge it into the neighbouring grid
    (same district when there is one) with the least ``by``."""
    gid = _need_grids(plan, [grid_id], "merge into a neighbour")[0]
    near = neighbour_grids(plan, gid, edges)
    if not near:
        raise InputError(
            Problem(f"grid {gid} touches no other grid", "repair", "move its cells by hand")
        )
    g = plan.grids.set_index(plan.grids["grid_id"].astype(str))
    if "district" in g.columns:
        same = [n for n in near if str(g.at[n, "district"]) == str(g.at[gid, "district"])]
        near = same or near
    if by in g.columns:
        near = sorted(near, key=lambda n: float(g.at[n, by]))
    return merge_grids(plan, [near[0], gid])


__all__ += ["merge_into_neighbour", "neighbour_grids"]


def apply_cell_grids(plan: Plan, cell_grid: pd.Series) -> Plan:
    """Give cells new grid ids (``cell_grid``: grid id per cell row, e.g. a partial
    re-partition's assignment). Changed and new grids are recomputed; a new grid takes
    the manager who held most of its cells before."""
    new = pd.Series(cell_grid).astype(str).to_numpy()
    old = plan.cells["grid_id"].astype(str).to_numpy()
    changed = new != old
    if not changed.any():
        return plan
    man_of = plan.grids.set_index(plan.grids["grid_id"].astype(str))["manager"].astype(str)
    before = pd.Series(old[changed]).map(man_of).fillna("")
    after = pd.Series(new[changed])
    majority = before.groupby(after.to_numpy()).agg(
        lambda s: s.value_counts().index[0] if len(s) else ""
    )
    cells = plan.cells.copy()
    cells["grid_id"] = new
    touched = set(old[changed]) | set(new[changed])
    out = refresh_grids(plan.with_(cells=cells), touched)
    g = out.grids.copy()
    gid = g["grid_id"].astype(str)
    fresh = gid.isin(set(new[changed]) - set(man_of.index))
    g.loc[fresh, "manager"] = gid[fresh].map(majority).fillna("").to_numpy()
    return out.with_(grids=g)


__all__ += ["apply_cell_grids"]


def assignment_from_territories(
    plan: Plan, territories: Any, manager_col: str = "manager"
) -> pd.DataFrame:
    """Today's plan given as territory polygons (any CRS) with a manager column → a
    ``grid_id, manager`` table for :func:`import_assignment`: each grid goes to the
    territory holding its representative point (grids outside every polygon are left out)."""
    import geopandas as gpd

    cols = {str(c).strip().lower(): c for c in territories.columns}
    if manager_col.lower() not in cols:
        raise InputError(
            Problem(
                f"the territory layer has no {manager_col!r} column "
                f"(columns: {list(territories.columns)[:8]})",
                "imported territories",
                "give a polygon layer with a manager column",
            )
        )
    terr = gpd.GeoDataFrame(
        {"manager": territories[cols[manager_col.lower()]].astype(str).to_numpy()},
        geometry=territories.geometry.values,
        crs=territories.crs,
    )
    if terr.crs is not None and plan.crs is not None:
        terr = terr.to_crs(plan.crs)
    pts = gpd.GeoDataFrame(
        {"grid_id": plan.grids["grid_id"].astype(str).to_numpy()},
        geometry=plan.grids.geometry.representative_point().values,
        crs=plan.crs,
    )
    hit = gpd.sjoin(pts, terr, how="inner", predicate="within")
    hit = hit[~hit["grid_id"].duplicated()]
    return pd.DataFrame(
        {"grid_id": hit["grid_id"].to_numpy(), "manager": hit["manager"].to_numpy()}
    )


__all__ += ["assignment_from_territories"]
