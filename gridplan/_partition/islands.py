"""The island rule of :func:`gridplan._partition.core.partition_arrays`, by the shared
rule of :mod:`gridplan.cells.detached`.

Free components whose totals stay below a floor are given a region, in this order:

1. a component touching a locked region joins it (contiguously: kind ``adjacent``);
2. a component sharing a boundary with a region in the full graph (an edge the
   caller removed for a barrier, :class:`~gridplan.cells.detached.Proximity`
   ``shares_edge``) joins that region (kind ``adjacent``, contiguous in the checks'
   graph); an empty component (population ≤ ``DetachedConfig.max_population``)
   within ``DetachedConfig.max_gap_m`` metres of a region joins the nearest such
   region (kind ``sliver``), without a note of its own;
3. any other component (a real island, or a district exclave when districts are
   respected) joins the region of its district with the nearest cell (kind
   ``island``), else the run fails with the reason.

Every join is an :class:`~gridplan._partition.results.IslandJoin`; ``island`` and
``sliver`` joins are the accepted exceptions the plan checks accept too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse

from gridplan._partition.checks import Inputs, _fmt
from gridplan._partition.results import IslandJoin
from gridplan.cells.detached import DEFAULT_DETACHED, DetachedConfig, Proximity, classify_pieces
from gridplan.errors import InfeasibleError
from gridplan.graph import edge_array

#: Islands named one by one in the summary note (the rest are counted).
MAX_ISLAND_NOTES = 8

_ISLAND = "island (no land neighbour in its district) joined the nearest grid of its district"
_SLIVER = "empty sliver joined the grid it touches"

#: One join before renumbering: (cells, region, distance in metres or None, reason, kind).
Join = tuple[np.ndarray, int, float | None, str, str]


@dataclass(frozen=True, eq=False)
class DetachedInputs:
    """What the island step needs beyond :class:`Inputs`: persons per cell (``None`` =
    no slivers), the proximity pairs (``None`` = none known), the thresholds and the
    cell ids for messages (``None`` = row positions)."""

    population: np.ndarray | None = None
    proximity: Proximity | None = None
    config: DetachedConfig = DEFAULT_DETACHED
    cell_ids: np.ndarray | None = None


def cell_names(cells: np.ndarray, cell_ids: np.ndarray | None, k: int = 3) -> str:
    """The first ``k`` cells by id (row positions without ids), ``…`` for the rest."""
    idx = [int(i) for i in cells]
    names = [str(cell_ids[i]) if cell_ids is not None else str(i) for i in idx[:k]]
    return ", ".join(names) + (f" … ({len(idx)} in all)" if len(idx) > k else "")


class _Joiner:
    """State of one island step (labels updated in place)."""

    def __init__(
        self,
        inp: Inputs,
        labels: np.ndarray,
        n_regions: int,
        det: DetachedInputs,
    ) -> None:
        self.inp, self.labels, self.n_regions, self.det = inp, labels, n_regions, det
        self.gcodes = None
        if inp.group is not None:
            _, self.gcodes = np.unique(inp.group.astype(str), return_inverse=True)
        prox = det.proximity or Proximity.empty()
        p, d, s = prox.pairs, prox.distance_m, prox.shares_edge
        if len(p) and self.gcodes is not None:  # never across districts when respected
            same = self.gcodes[p[:, 0]] == self.gcodes[p[:, 1]]
            p, d, s = p[same], d[same], s[same]
        near = (d <= det.config.max_gap_m) | s
        both = np.concatenate([p[near], p[near][:, ::-1]]) if len(p) else p
        self.src, self.dst = (both[:, 0], both[:, 1]) if len(both) else (p[:, 0], p[:, 1])
        self.gap = np.concatenate([d[near], d[near]]) if len(p) else d
        self.edge = np.concatenate([s[near], s[near]]) if len(p) else s
        self.trees: dict[int, tuple[Any, np.ndarray] | None] = {}

    def empty(self, cells: np.ndarray) -> bool:
        pop = self.det.population
        return pop is not None and float(pop[cells].sum()) <= self.det.config.max_population

    def touch(self, cells: np.ndarray) -> tuple[int, float, str] | None:
        """``(region, gap m, kind)`` of a region the component shares a boundary with
        (``adjacent``) or, when it is empty, lies near (``sliver``); None otherwise."""
        if not len(self.src):
            return None
        mine = np.isin(self.src, cells)
        lab = self.labels[self.dst[mine]]
        ok = lab >= 0
        if not ok.any():
            return None
        lab, gap, edge = lab[ok], self.gap[mine][ok], self.edge[mine][ok]
        if edge.any():
            vals, cnts = np.unique(lab[edge], return_counts=True)
            return int(vals[np.argmax(cnts)]), 0.0, "adjacent"
        if self.empty(cells):
            k = int(np.argmin(gap))
            return int(lab[k]), float(gap[k]), "sliver"
        return None

    def nearest(self, cells: np.ndarray) -> tuple[int, float | None] | None:
        """The region of the component's district with the nearest cell and the
        distance between the nearest cell centroids (metres), or None."""
        labels, inp = self.labels, self.inp
        g = -1 if self.gcodes is None else int(np.bincount(self.gcodes[cells]).argmax())
        if g not in self.trees or self.trees[g] is None:
            ok = labels >= 0
            if self.gcodes is not None:
                ok &= self.gcodes == g
            rows = np.flatnonzero(ok)
            if not len(rows):
                self.trees[g] = None
                return None
            if inp.x is None or inp.y is None:
                return int(labels[rows[0]]), None
            from scipy.spatial import cKDTree

            self.trees[g] = (cKDTree(np.column_stack([inp.x[rows], inp.y[rows]])), rows)
        tree, rows = self.trees[g]  # type: ignore[misc]
        assert inp.x is not None and inp.y is not None
        d, j = tree.query(np.column_stack([inp.x[cells], inp.y[cells]]), k=1)
        k = int(np.argmin(d))
        return int(labels[rows[j[k]]]), float(d[k])

    def assign(self, cells: np.ndarray, region: int) -> None:
        self.labels[cells] = region
        self.trees.clear()  # the labelled cells changed


def join_small_components(
    inp: Inputs,
    adj: scipy.sparse.csr_array,
    labels: np.ndarray,
    n_regions: int,
    locked_regions: set[int],
    small_comps: list[np.ndarray],
    area: np.ndarray,
    detached: DetachedInputs | None = None,
) -> list[Join]:
    """Give every cell of ``small_comps`` a region (``labels`` updated in place; see
    the module doc for the order).

    ``labels``: region of every solved or locked cell (-1 elsewhere), ``n_regions``
    regions; ``locked_regions``: the region ids of locked labels; ``area``: the
    normalised cell areas (kept for callers; unused). Raises :class:`InfeasibleError`
    naming every component that can join nothing.
    """
    del area
    if not small_comps:
        return []
    det = detached or DetachedInputs()
    jn = _Joiner(inp, labels, n_regions, det)
    joins: list[Join] = []
    pending: list[np.ndarray] = []
    for cells in small_comps:
        nbr_lab = labels[adj[cells].indices]
        cand = nbr_lab[np.isin(nbr_lab, list(locked_regions))] if locked_regions else []
        if len(cand):
            vals, cnts = np.unique(cand, return_counts=True)
            r = int(vals[np.argmax(cnts)])
            jn.assign(cells, r)
            joins.append((cells, r, None, "joined the adjacent locked grid", "adjacent"))
        else:
            pending.append(cells)
    infeasible: list[str] = []
    pending = _touch_pass(jn, pending, joins)
    populated = [c for c in pending if not jn.empty(c)]
    rest = [c for c in pending if jn.empty(c)]
    _island_pass(jn, populated, joins, infeasible)
    rest = _touch_pass(jn, rest, joins)
    _island_pass(jn, rest, joins, infeasible)
    if infeasible:
        _raise_infeasible(infeasible, inp.group is not None)
    return _kinds_by_rule(jn, adj, joins)


def _kinds_by_rule(jn: _Joiner, adj: scipy.sparse.csr_array, joins: list[Join]) -> list[Join]:
    """The joins with the kind the shared rule (:func:`classify_pieces`, the one the
    plan checks apply) gives the piece each ends in: ``adjacent`` when it is part of
    its grid's body; the engine's own kind when the rule would call it a violation
    (a graph cut the engine was not told about)."""
    if not any(kind != "adjacent" for *_, kind in joins):
        return joins
    prox = jn.det.proximity
    edges = edge_array(np.asarray(adj.indptr), np.asarray(adj.indices))
    if prox is not None and len(prox.pairs):
        edges = np.concatenate([edges, prox.pairs[prox.shares_edge]])
    xy = None if jn.inp.x is None or jn.inp.y is None else np.column_stack([jn.inp.x, jn.inp.y])
    pieces = classify_pieces(
        jn.labels,
        edges,
        group=jn.gcodes,
        population=jn.det.population,
        xy=xy,
        proximity=prox,
        config=jn.det.config,
    )
    kind_of = np.full(len(jn.labels), "adjacent", dtype=object)
    gap_of = np.full(len(jn.labels), np.nan)
    for p in pieces:
        kind_of[p.cells] = p.kind
        gap_of[p.cells] = p.distance_m
    out: list[Join] = []
    for cells, r, dist, why, kind in joins:
        rule = str(kind_of[cells[0]])
        if rule == "violation":
            rule = kind
        elif rule != kind:
            why = {"island": _ISLAND, "sliver": _SLIVER}.get(rule, "joined the grid it touches")
            g = float(gap_of[cells[0]])
            dist = g if np.isfinite(g) else dist
        out.append((cells, r, dist, why, rule))
    return out


def _touch_pass(jn: _Joiner, pending: list[np.ndarray], joins: list[Join]) -> list[np.ndarray]:
    """Join every component that touches (or, empty, lies near) a region, repeated
    while some join; the components left."""
    while pending:
        left: list[np.ndarray] = []
        for cells in pending:
            hit = jn.touch(cells)
            if hit is None:
                left.append(cells)
                continue
            r, gap, kind = hit
            jn.assign(cells, r)
            why = "joined the grid it touches" if kind == "adjacent" else _SLIVER
            joins.append((cells, r, gap, why, kind))
        if len(left) == len(pending):
            return left
        pending = left
    return pending


def _island_pass(
    jn: _Joiner, comps: list[np.ndarray], joins: list[Join], infeasible: list[str]
) -> None:
    """Join every component to the nearest region of its district (or note it
    infeasible); after each join, the components that now touch a region join it."""
    comps = list(comps)
    while comps:
        cells = comps.pop(0)
        hit = jn.nearest(cells) if jn.inp.join_islands and jn.n_regions > 0 else None
        if hit is None:
            where, what = describe(jn.inp, cells, jn.det.cell_ids)
            infeasible.append(f"{where}: {what}")
            continue
        r, dist = hit
        jn.assign(cells, r)
        joins.append((cells, r, dist, _ISLAND, "island"))
        comps = _touch_pass(jn, comps, joins)


def describe(inp: Inputs, cells: np.ndarray, cell_ids: np.ndarray | None = None) -> tuple[str, str]:
    """``(where, what)`` of a component below a floor: its cells (by id) and district,
    and every active floor its total misses."""
    fv, fmin = inp.floor_values, inp.floor_min
    active = np.flatnonzero(fmin > 0)
    tot = fv[cells].sum(axis=0)
    short = [
        (inp.floor_names[j], float(tot[j]), float(fmin[j]))
        for j in active
        if tot[j] < fmin[j] - 1e-9 * max(1.0, fmin[j])
    ]
    gname = None
    if inp.group is not None:
        vals, cnts = np.unique(inp.group[cells].astype(str), return_counts=True)
        gname = str(vals[np.argmax(cnts)])
    what = ", ".join(f"{nm} total {_fmt(t)} is below the floor {_fmt(m)}" for nm, t, m in short)
    where = (
        f"{len(cells)} cell{'s' if len(cells) != 1 else ''} "
        f"(cells {cell_names(cells, cell_ids, 5)})"
        + (f" in district {gname}" if gname is not None else "")
    )
    return where, what


def _raise_infeasible(infeasible: list[str], has_groups: bool) -> None:
    """Fail with every component that no grid can take, and the choices."""
    fixes = ["lower the floor"]
    if has_groups:
        fixes.append("allow crossing districts (respect_districts=False)")
    fixes.append("merge components (join the pieces or connect them across the barrier)")
    head = (
        "no grid can reach the floors in "
        + ("this part" if len(infeasible) == 1 else f"{len(infeasible)} parts")
        + " of the city"
    )
    raise InfeasibleError(head + ":\n  " + "\n  ".join(infeasible), suggestions=fixes)


def island_notes(
    island_joins: tuple[IslandJoin, ...],
    cell_ids: Sequence[object] | np.ndarray | None = None,
    empty_population: float = DetachedConfig.max_population,
) -> list[str]:
    """Summary notes of the joins: one for the islands (the first
    :data:`MAX_ISLAND_NOTES` named with their grid, cells and distance), one for the
    empty slivers, one for the pieces that joined a grid they touch. Grids are
    written ``grid <label>`` (the frames layer puts the grid ids in)."""
    ids = None if cell_ids is None else np.asarray(cell_ids, dtype=object)
    notes: list[str] = []
    islands = [j for j in island_joins if j.kind == "island"]
    if islands:
        pop = [0.0 if j.population is None else j.population for j in islands]
        order = sorted(range(len(islands)), key=lambda k: (-pop[k], -len(islands[k].cells)))
        items = [
            f"grid {islands[k].region} (cells {cell_names(np.asarray(islands[k].cells), ids)}"
            + (f", {islands[k].distance_m:,.0f} m" if islands[k].distance_m is not None else "")
            + ")"
            for k in order[:MAX_ISLAND_NOTES]
        ]
        more = len(islands) - len(items)
        n = len(islands)
        n_empty = sum(
            1 for j in islands if j.population is not None and j.population <= empty_population
        )
        notes.append(
            f"{n} island{'s' if n != 1 else ''} too small for the floors "
            f"({_cells(islands)}"
            + (f"; {n_empty} with nobody living there" if n_empty else "")
            + f") joined the nearest grid of {'their' if n != 1 else 'its'} district: "
            + "; ".join(items)
            + (f"; and {more} more" if more else "")
            + " — accepted exceptions to contiguity, listed under the live checks"
        )
    slivers = [j for j in island_joins if j.kind == "sliver"]
    if slivers:
        n = len(slivers)
        notes.append(
            f"{n} empty sliver{'s' if n != 1 else ''} ({_cells(slivers)}, nobody living "
            f"there) joined the grid {'they touch' if n != 1 else 'it touches'}"
        )
    touching = [j for j in island_joins if j.kind == "adjacent"]
    if touching:
        n = len(touching)
        notes.append(
            f"{n} piece{'s' if n != 1 else ''} too small for the floors "
            f"({_cells(touching)}) joined the grid {'they touch' if n != 1 else 'it touches'} "
            "(a locked grid, or one across a barrier)"
        )
    return notes


def _cells(joins: Sequence[IslandJoin]) -> str:
    k = sum(len(j.cells) for j in joins)
    return f"{k:,} cell{'s' if k != 1 else ''}"
