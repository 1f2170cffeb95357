"""Plan rules that the engines, the app's hand edits and the tests all call.

Rules: every grid is one connected piece of cells; every territory (a manager's grids)
is one connected piece of grids; every grid reaches the floors; every manager's
workload is within the plan's tolerance; locked grids keep their manager.

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

from gridplan.plan.model import HOURS, Plan, manager_table

__all__ = [
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

Rule = Literal["grid_contiguity", "territory_contiguity", "floor", "tolerance", "lock"]


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
class CheckReport:
    """All violations of a plan; ``ok`` when there is none."""

    violations: tuple[Violation, ...] = ()
    stats: Mapping[str, Any] = field(default_factory=dict)

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
) -> CheckReport:
    """Check every rule of ``plan`` (see the module docstring).

    ``edges``: cell adjacency pairs (rows of ``plan.cells``); ``floors``: column →
    minimum per grid (e.g. ``{"population": 5000}`` persons); ``locks``: grid id →
    manager that must be kept (default: the grids whose ``locked`` column is true keep
    their present manager, so only ``locks`` given explicitly can be broken);
    ``territories``: check territories and workloads too (off before balancing).
    """
    out: list[Violation] = []
    stats: dict[str, Any] = {}
    pieces = grid_pieces(plan, edges)
    broken = pieces[pieces > 1]
    stats["grids_not_contiguous"] = len(broken)
    for gid, k in broken.items():
        out.append(
            Violation(
                "grid_contiguity",
                (str(gid),),
                f"grid {gid} is in {int(k)} separate pieces",
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
        split = tp[tp > 1]
        stats["territories_not_contiguous"] = len(split)
        for man, k in split.items():
            out.append(
                Violation(
                    "territory_contiguity",
                    (str(man),),
                    f"territory of {man} is in {int(k)} separate pieces",
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
    stats[HOURS] = (
        float(pd.to_numeric(plan.grids[HOURS], errors="coerce").sum())
        if HOURS in plan.grids.columns
        else 0.0
    )
    return CheckReport(tuple(out), stats)


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
