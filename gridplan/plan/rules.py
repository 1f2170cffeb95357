"""Plan rules that the engines, the app's hand edits and the tests all call.

Rules: every grid is one connected piece of cells; every territory (a manager's grids)
is one connected piece of grids; every grid reaches the floors; every manager's
workload is within the plan's tolerance; locked grids keep their manager.

A grid (or territory) in several pieces is checked piece by piece with the rule the
partition uses too (:mod:`gridplan.cells.detached`): a piece with no land neighbour
(an island, or a district exclave) and an empty sliver near its grid are *accepted
exceptions* (:attr:`CheckReport.exceptions`), not violations.

Graphs are given as edge arrays ``(m, 2)`` of row positions (cells or grids);
:func:`cell_edges` builds the cells' graph from geometry when a plan comes from a file.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from gridplan.cells.detached import (
    DEFAULT_DETACHED,
    DetachedConfig,
    DetachedPiece,
    classify_pieces,
    proximity_pairs,
)
from gridplan.plan.model import HOURS, Plan, manager_table
from gridplan.plan.organisation import area_level

__all__ = [
    "AcceptedException",
    "CheckReport",
    "Violation",
    "cell_edges",
    "check_plan",
    "components",
    "edges_from_adjacency",
    "grid_edge_pairs",
    "grid_pieces",
    "territory_links",
    "territory_pieces",
]

Rule = Literal["grid_contiguity", "territory_contiguity", "floor", "tolerance", "lock", "unit"]


@dataclass(frozen=True)
class Violation:
    """One broken rule: which ``rule``, the ids concerned (grid ids or manager names),
    a sentence with the numbers, and the ``repair`` the app offers (``reconnect``,
    ``merge``, ``rebalance``, ``relock`` or ``""``)."""

    rule: Rule
    ids: tuple[str, ...]
    message: str
    repair: str = ""


@dataclass(frozen=True)
class AcceptedException:
    """A detached piece the rules accept: which contiguity ``rule``, the grid id (or
    manager) ``id``, its ``kind`` (``island``: no land neighbour in its district;
    ``sliver``: nobody lives there and it lies within a few metres of its grid), the
    ``cells`` (cell ids; grid ids for a territory), ``distance_m`` metres to the rest
    of its grid (NaN when unknown) and a sentence."""

    rule: Rule
    id: str
    kind: str
    cells: tuple[str, ...]
    distance_m: float
    message: str


@dataclass(frozen=True)
class CheckReport:
    """All violations of a plan (``ok`` when there is none) and the accepted
    exceptions to contiguity (islands, empty slivers)."""

    violations: tuple[Violation, ...] = ()
    stats: Mapping[str, Any] = field(default_factory=dict)
    exceptions: tuple[AcceptedException, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.violations

    def by_rule(self, rule: Rule) -> list[Violation]:
        """Violations of one rule."""
        return [v for v in self.violations if v.rule == rule]


# ------------------------------------------------------------------ graphs


def edges_from_adjacency(adjacency: Any) -> np.ndarray:
    """Unique ``(a, b)`` pairs, ``a < b``, of a CSR adjacency (``indptr``/``indices``)."""
    ip = np.asarray(adjacency.indptr, dtype=np.int64)
    ix = np.asarray(adjacency.indices, dtype=np.int64)
    rows = np.repeat(np.arange(len(ip) - 1), np.diff(ip))
    e = np.stack([np.minimum(rows, ix), np.maximum(rows, ix)], axis=1)
    e = e[e[:, 0] != e[:, 1]]
    return np.unique(e, axis=0) if len(e) else np.zeros((0, 2), dtype=np.int64)


def cell_edges(cells: Any) -> np.ndarray:
    """Rook adjacency of the cells' polygons (metric CRS) as ``(a, b)`` row pairs."""
    from gridplan.cells.polygon_graph import polygon_adjacency

    adj = polygon_adjacency(np.asarray(cells.geometry.values, dtype=object))
    return edges_from_adjacency(adj)


def components(n: int, edges: np.ndarray, label: np.ndarray) -> np.ndarray:
    """Connected component of every node, using only edges inside the same ``label``."""
    label = np.asarray(label)
    e = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
    if len(e):
        e = e[label[e[:, 0]] == label[e[:, 1]]]
    g = coo_matrix((np.ones(len(e)), (e[:, 0], e[:, 1])), shape=(n, n))
    _, comp = connected_components(g, directed=False)
    return comp


def _pieces(n: int, edges: np.ndarray, label: np.ndarray) -> pd.Series:
    comp = components(n, edges, label)
    df = pd.DataFrame({"label": label, "comp": comp})
    return df.groupby("label", sort=True)["comp"].nunique()


def grid_pieces(plan: Plan, edges: np.ndarray) -> pd.Series:
    """Connected pieces of cells per grid id (1 = contiguous)."""
    return _pieces(len(plan.cells), edges, plan.cells["grid_id"].astype(str).to_numpy())


def grid_edge_pairs(plan: Plan, edges: np.ndarray) -> np.ndarray:
    """Grid adjacency as ``(a, b)`` pairs of grid row positions, from cell edges."""
    pos = pd.Index(plan.grids["grid_id"].astype(str)).get_indexer(plan.cells["grid_id"].astype(str))
    e = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
    a, b = pos[e[:, 0]], pos[e[:, 1]]
    ok = (a >= 0) & (b >= 0) & (a != b)
    pairs = np.stack([np.minimum(a[ok], b[ok]), np.maximum(a[ok], b[ok])], axis=1)
    return np.unique(pairs, axis=0) if len(pairs) else np.zeros((0, 2), dtype=np.int64)


def territory_links(plan: Plan) -> np.ndarray:
    """The links the balance made across water (an island joined to its nearest grid,
    ``plan.meta["territory_links"]``, JSON pairs of grid ids) as ``(a, b)`` grid row
    pairs: a territory that crosses one is one piece."""
    import json

    raw = json.loads(str(plan.meta.get("territory_links", "") or "[]"))
    pos = pd.Index(plan.grids["grid_id"].astype(str))
    pairs = [(pos.get_indexer([str(a)])[0], pos.get_indexer([str(b)])[0]) for a, b in raw]
    ok = [p for p in pairs if p[0] >= 0 and p[1] >= 0]
    return np.asarray(ok, dtype=np.int64).reshape(-1, 2)


def territory_pieces(plan: Plan, edges: np.ndarray) -> pd.Series:
    """Connected pieces of grids per manager (1 = contiguous; a recorded link across
    water joins, see :func:`territory_links`); unassigned grids skipped."""
    man = plan.grids["manager"].fillna("").astype(str).to_numpy()
    pairs = np.vstack([grid_edge_pairs(plan, edges), territory_links(plan)])
    pieces = _pieces(len(plan.grids), pairs, man)
    return pieces[pieces.index != ""]


# ------------------------------------------------------------------ the rules


def check_plan(
    plan: Plan,
    edges: np.ndarray,
    *,
    floors: Mapping[str, float] | None = None,
    locks: Mapping[str, str] | None = None,
    territories: bool = True,
    respect_districts: bool | None = None,
    detached: DetachedConfig = DEFAULT_DETACHED,
) -> CheckReport:
    """Check every rule of ``plan`` (see the module docstring).

    ``edges``: cell adjacency pairs (rows of ``plan.cells``); ``floors``: column →
    minimum per grid (e.g. ``{"population": 5000}`` persons); ``locks``: grid id →
    manager that must be kept (default: the grids whose ``locked`` column is true keep
    their present manager, so only ``locks`` given explicitly can be broken);
    ``territories``: check territories and workloads too (off before balancing);
    ``respect_districts``: grids may not cross districts, so a district exclave
    counts as an island (default: when every grid lies in one district);
    ``detached``: the thresholds of the shared rule of detached pieces.
    """
    out: list[Violation] = []
    stats: dict[str, Any] = {}
    exceptions: list[AcceptedException] = []
    pieces = grid_pieces(plan, edges)
    broken = pieces[pieces > 1]
    bad = _grid_contiguity(plan, edges, broken, respect_districts, detached, exceptions)
    stats["grids_not_contiguous"] = len(bad)
    for gid, (k, wrong) in bad.items():
        out.append(
            Violation(
                "grid_contiguity",
                (str(gid),),
                f"grid {gid} is in {int(k)} separate pieces; "
                + "; ".join(wrong)
                + " could join a neighbouring grid",
                "reconnect",
            )
        )
    for col, fl in dict(floors or {}).items():
        if col not in plan.grids.columns:
            continue
        v = pd.to_numeric(plan.grids[col], errors="coerce").fillna(0.0)
        below = (v < float(fl) - 1e-9).to_numpy()
        low = plan.grids.loc[below, "grid_id"].astype(str)
        stats[f"below_floor_{col}"] = len(low)
        for gid, have in zip(low, v[below].astype(float), strict=True):
            out.append(
                Violation(
                    "floor",
                    (gid,),
                    f"grid {gid} has {col} {have:,.0f}, below the floor {float(fl):,.0f}",
                    "merge",
                )
            )
    assigned = plan.grids["manager"].fillna("").astype(str) != ""
    if territories and assigned.any():
        tp = territory_pieces(plan, edges)
        split = _territory_contiguity(plan, edges, tp[tp > 1], exceptions)
        stats["territories_not_contiguous"] = len(split)
        for man, (k, wrong) in split.items():
            out.append(
                Violation(
                    "territory_contiguity",
                    (str(man),),
                    f"territory of {man} is in {int(k)} separate pieces; "
                    + "; ".join(wrong)
                    + " could join the rest of it",
                    "rebalance",
                )
            )
        table = manager_table(plan)
        off = table[~table["within"]]
        stats["max_deviation"] = float(table["deviation"].abs().max()) if len(table) else 0.0
        for row in off.itertuples():
            out.append(
                Violation(
                    "tolerance",
                    (str(row.manager),),
                    f"{row.manager} has {row.hours:,.1f} h/month, {row.deviation:+.1%} from the "
                    f"target {row.target_h:,.1f} h (tolerance ±{plan.tolerance:.0%})",
                    "rebalance",
                )
            )
        if not assigned.all():
            ids = plan.grids.loc[~assigned, "grid_id"].astype(str)
            stats["unassigned"] = len(ids)
    for gid, man in dict(locks or {}).items():
        row = plan.grids[plan.grids["grid_id"].astype(str) == str(gid)]
        if len(row) and str(row["manager"].iloc[0]) != str(man):
            out.append(
                Violation(
                    "lock",
                    (str(gid),),
                    f"locked grid {gid} belongs to {row['manager'].iloc[0]}, not {man}",
                    "relock",
                )
            )
    out.extend(_unit_violations(plan, territories and bool(assigned.any()), stats))
    stats[HOURS] = (
        float(pd.to_numeric(plan.grids[HOURS], errors="coerce").sum())
        if HOURS in plan.grids.columns
        else 0.0
    )
    stats["accepted_exceptions"] = len(exceptions)
    return CheckReport(tuple(out), stats, tuple(exceptions))


def _org_levels(plan: Plan) -> list[str]:
    text = str(plan.meta.get("org_levels", ""))
    return [lv for lv in (x.strip() for x in text.split(",")) if lv]


def _unit_violations(plan: Plan, territories: bool, stats: dict[str, Any]) -> list[Violation]:
    """The organisation's rules: no grid spans two units of the lowest level (unless the
    partition was allowed to cross them, ``meta['respect_units'] == 'false'``), and no
    manager holds a grid outside his unit (``managers['unit']``)."""
    levels = _org_levels(plan)
    if not levels:
        return []
    out: list[Violation] = []
    low = f"unit_{levels[-1]}"
    cells = plan.cells
    if low in cells.columns and str(plan.meta.get("respect_units", "true")) != "false":
        per = cells.groupby(cells["grid_id"].astype(str))[low].nunique()
        across = per[per > 1]
        stats["grids_across_units"] = len(across)
        for gid in across.index[:200]:
            codes = sorted(set(cells.loc[cells["grid_id"].astype(str) == gid, low].astype(str)))
            out.append(
                Violation(
                    "unit",
                    (str(gid),),
                    f"grid {gid} spans {len(codes)} {levels[-1]} units ({', '.join(codes[:4])}): "
                    f"move its cells so that it lies in one, or split it",
                )
            )
    team = plan.managers
    if territories and "unit" in team.columns:
        names, codes = team["manager"].astype(str), team["unit"].fillna("").astype(str)
        unit_of = dict(zip(names, codes, strict=True))
        g = plan.grids
        level = area_level(plan)
        col = f"unit_{level}"
        if level and col in g.columns:
            mine = g["manager"].astype(str).map(unit_of).fillna("")
            wrong = g[(mine != "") & (mine != g[col].astype(str))]
            stats["grids_outside_manager_unit"] = len(wrong)
            for man, part in wrong.groupby(wrong["manager"].astype(str)):
                ids = part["grid_id"].astype(str).tolist()
                out.append(
                    Violation(
                        "unit",
                        (str(man),),
                        f"{man} works in {level} {unit_of[man]} but holds {len(ids)} grids of "
                        f"another {level} ({', '.join(ids[:5])}): give them to a manager "
                        f"of their {level}",
                        "rebalance",
                    )
                )
    return out


def _respects_districts(plan: Plan) -> bool:
    """Every grid lies in one district (the partition respected districts)."""
    cells = plan.cells
    if "district" not in cells.columns or not len(cells):
        return False
    per = cells.groupby(cells["grid_id"].astype(str))["district"].nunique()
    return bool((per <= 1).all())


def _xy(frame: Any) -> np.ndarray | None:
    """Centroids ``(n, 2)`` in metres: the ``x``/``y`` columns, else the geometry."""
    if {"x", "y"} <= set(frame.columns):
        return frame[["x", "y"]].to_numpy(dtype=float)
    geom = getattr(frame, "geometry", None)
    if geom is None:
        return None
    c = geom.centroid
    return np.column_stack([c.x.to_numpy(), c.y.to_numpy()])


def _describe_pieces(pieces: list[DetachedPiece], names: np.ndarray) -> dict[Any, list[str]]:
    """Per label, a phrase for every piece of kind violation (its first names)."""
    out: dict[Any, list[str]] = {}
    for p in pieces:
        if p.kind == "violation":
            first = ", ".join(str(names[i]) for i in p.cells[:3])
            more = f" … ({len(p.cells)} in all)" if len(p.cells) > 3 else ""
            out.setdefault(p.grid, []).append(f"the piece of {first}{more}")
    return out


def _grid_contiguity(
    plan: Plan,
    edges: np.ndarray,
    broken: pd.Series,
    respect_districts: bool | None,
    config: DetachedConfig,
    exceptions: list[AcceptedException],
) -> dict[Any, tuple[int, list[str]]]:
    """Grids in several pieces with a piece the shared rule does not accept:
    ``grid → (pieces, phrases)``; the accepted pieces are added to ``exceptions``."""
    if broken.empty:
        return {}
    cells = plan.cells
    lab = cells["grid_id"].astype(str).to_numpy(dtype=object)
    rows = np.flatnonzero(np.isin(lab, broken.index.astype(str).to_numpy()))
    if respect_districts is None:
        respect_districts = _respects_districts(plan)
    group = cells["district"].astype(str).to_numpy() if respect_districts else None
    pop = (
        pd.to_numeric(cells["population"], errors="coerce").fillna(0.0).to_numpy()
        if "population" in cells.columns
        else None
    )
    prox = None
    if getattr(cells, "geometry", None) is not None and len(rows):
        prox = proximity_pairs(
            np.asarray(cells.geometry.values, dtype=object), rows, config.max_gap_m
        )
    sub = np.where(np.isin(np.arange(len(lab)), rows), lab, "")
    pieces = classify_pieces(
        sub, edges, group=group, population=pop, xy=_xy(cells), proximity=prox, config=config
    )
    names = (
        cells["cell_id"].astype(str).to_numpy()
        if "cell_id" in cells.columns
        else np.asarray([str(i) for i in cells.index])
    )
    for p in pieces:
        if p.accepted:
            exceptions.append(_exception("grid_contiguity", p, names, "cell"))
    wrong = _describe_pieces(pieces, names)
    return {g: (int(broken[g]), wrong[g]) for g in broken.index if g in wrong}


def _territory_contiguity(
    plan: Plan, edges: np.ndarray, split: pd.Series, exceptions: list[AcceptedException]
) -> dict[Any, tuple[int, list[str]]]:
    """Territories in several pieces with a piece that is not an island of grids (a
    grid group with no neighbouring grid at all): ``manager → (pieces, phrases)``."""
    if split.empty:
        return {}
    grids = plan.grids
    man = grids["manager"].fillna("").astype(str).to_numpy(dtype=object)
    man = np.where(np.isin(man, split.index.astype(str).to_numpy()), man, "")
    pieces = classify_pieces(man, grid_edge_pairs(plan, edges), xy=_xy(grids))
    names = grids["grid_id"].astype(str).to_numpy()
    for p in pieces:
        if p.accepted:
            exceptions.append(_exception("territory_contiguity", p, names, "grid"))
    wrong = _describe_pieces(pieces, names)
    return {m: (int(split[m]), wrong[m]) for m in split.index if m in wrong}


def _exception(rule: Rule, p: DetachedPiece, names: np.ndarray, unit: str) -> AcceptedException:
    ids = tuple(str(names[i]) for i in p.cells)
    what = {"island": "an island (no land neighbour it could join)", "sliver": "an empty sliver"}
    owner = f"grid {p.grid}" if rule == "grid_contiguity" else f"territory of {p.grid}"
    dist = "" if not np.isfinite(p.distance_m) else f", {p.distance_m:,.0f} m from the rest"
    first = ", ".join(ids[:3]) + (f" … ({len(ids)} in all)" if len(ids) > 3 else "")
    verb = "are" if len(ids) != 1 else "is"
    msg = (
        f"{owner}: {len(ids)} {unit}{'s' if len(ids) != 1 else ''} ({first}) {verb} "
        f"{what.get(p.kind, p.kind)}{dist} — accepted"
    )
    return AcceptedException(rule, str(p.grid), p.kind, ids, float(p.distance_m), msg)


def summary_line(report: CheckReport) -> str:
    """One sentence: how many rules are broken, by kind."""
    if report.ok:
        return "all rules hold"
    counts = pd.Series([v.rule for v in report.violations]).value_counts()
    return "; ".join(f"{n} × {rule.replace('_', ' ')}" for rule, n in counts.items())


def violation_ids(report: CheckReport, rule: Rule) -> list[str]:
    """Ids named by the violations of one rule."""
    return [i for v in report.by_rule(rule) for i in v.ids]


__all__ += ["summary_line", "violation_ids"]
