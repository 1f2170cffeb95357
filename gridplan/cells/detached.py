"""One rule for the legitimate detached parts of a grid (or territory), shared by the
partition engine and the plan checks (:func:`gridplan.plan.rules.check_plan`).

A grid in several pieces breaks the contiguity rule unless every piece but its body
is one of:

- an **island**: the piece is a whole connected component of the cell graph
  (restricted to its district when districts are respected) — it has no land
  neighbour it could have joined (a real island, or a district exclave the planner
  forbade crossing);
- a **sliver**: the piece holds no one (population ≤ :attr:`DetachedConfig.max_population`)
  and touches the rest of its grid at a corner (queen contact) or lies within
  :attr:`DetachedConfig.max_gap_m` metres of it (typically a clipped cell cut off by
  the boundary).

Any other piece is a ``violation``. The body of a grid is its most populous piece
that is not an island (the most populous piece when all are islands).

The core works on arrays: node labels, an edge array ``(m, 2)`` of the graph
(rook adjacency, row positions), optional groups (districts), populations,
centroids (metres) and :class:`Proximity` pairs (cells within the gap, queen
contacts included). :func:`proximity_pairs` builds those pairs from geometry (work
CRS, metres).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

__all__ = [
    "DEFAULT_DETACHED",
    "DetachedConfig",
    "DetachedPiece",
    "Kind",
    "Proximity",
    "classify_pieces",
    "land_components",
    "proximity_pairs",
]

Kind = Literal["island", "sliver", "violation"]


@dataclass(frozen=True)
class DetachedConfig:
    """Thresholds of the rule.

    - ``max_population``: persons; a piece with at most this many is empty (a sliver
      when it is near its grid);
    - ``max_gap_m``: metres between a sliver and the rest of its grid at most (0 =
      queen contact only).
    """

    max_population: float = 0.5
    max_gap_m: float = 50.0


#: The default thresholds (one frozen instance, for argument defaults).
DEFAULT_DETACHED = DetachedConfig()


@dataclass(frozen=True, eq=False)
class Proximity:
    """Pairs of cells within :attr:`DetachedConfig.max_gap_m` of each other.

    ``pairs`` ``(k, 2)`` row positions (``a < b``), ``distance_m`` ``(k,)`` the gap
    between the two polygons in metres (0 = touching), ``shares_edge`` ``(k,)`` the
    pair is an edge of the rook graph (a shared boundary, e.g. one cut by a barrier).
    """

    pairs: np.ndarray
    distance_m: np.ndarray
    shares_edge: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))

    def __post_init__(self) -> None:
        p = np.asarray(self.pairs, dtype=np.int64).reshape(-1, 2)
        d = np.asarray(self.distance_m, dtype=float).reshape(-1)
        s = np.asarray(self.shares_edge, dtype=bool).reshape(-1)
        if len(s) != len(p):
            s = np.zeros(len(p), dtype=bool)
        if len(d) != len(p):
            raise ValueError("proximity needs one distance per pair")
        object.__setattr__(self, "pairs", p)
        object.__setattr__(self, "distance_m", d)
        object.__setattr__(self, "shares_edge", s)

    @classmethod
    def empty(cls) -> Proximity:
        return cls(np.zeros((0, 2), dtype=np.int64), np.zeros(0), np.zeros(0, dtype=bool))

    def concat(self, other: Proximity) -> Proximity:
        """Both sets of pairs (a pair in both keeps the smaller gap, edge flags OR-ed)."""
        p = np.concatenate([self.pairs, other.pairs])
        d = np.concatenate([self.distance_m, other.distance_m])
        s = np.concatenate([self.shares_edge, other.shares_edge])
        if not len(p):
            return Proximity.empty()
        key, inv = np.unique(p, axis=0, return_inverse=True)
        inv = inv.reshape(-1)
        dd = np.full(len(key), np.inf)
        np.minimum.at(dd, inv, d)
        ss = np.bincount(inv, weights=s.astype(float), minlength=len(key)) > 0
        return Proximity(key, dd, ss)


@dataclass(frozen=True, eq=False)
class DetachedPiece:
    """One piece of a grid (or territory) apart from its body.

    ``grid``: the label of its grid (manager for a territory); ``cells``: row
    positions (cells, or grids for a territory); ``kind``: ``island``, ``sliver`` or
    ``violation``; ``distance_m``: metres to the rest of its grid (polygon gap when
    known, else between the nearest centroids; NaN without coordinates).
    """

    grid: object
    cells: np.ndarray
    kind: Kind
    distance_m: float

    @property
    def accepted(self) -> bool:
        """The piece is a legitimate detached part (not a violation)."""
        return self.kind != "violation"


def _components(n: int, edges: np.ndarray, label: np.ndarray | None) -> np.ndarray:
    e = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
    if label is not None and len(e):
        e = e[label[e[:, 0]] == label[e[:, 1]]]
    g = coo_matrix((np.ones(len(e)), (e[:, 0], e[:, 1])), shape=(n, n))
    return connected_components(g, directed=False)[1].astype(np.int64)


def land_components(n: int, edges: np.ndarray, group: np.ndarray | None = None) -> np.ndarray:
    """Component of every node in the graph of ``edges`` (restricted to edges inside
    one ``group`` when given, e.g. districts that grids must not cross)."""
    return _components(n, edges, None if group is None else np.asarray(group))


def proximity_pairs(
    geoms: np.ndarray,
    rows: np.ndarray | None = None,
    max_gap_m: float = DetachedConfig.max_gap_m,
) -> Proximity:
    """Pairs of polygons (work CRS, metres) within ``max_gap_m`` of each other, touching
    at a corner included; only pairs with a member in ``rows`` (all when None)."""
    import shapely  # geometry only here: the engines import this module without it

    geoms = np.asarray(geoms, dtype=object)
    n = len(geoms)
    rows = np.arange(n) if rows is None else np.unique(np.asarray(rows, dtype=np.int64))
    if n == 0 or len(rows) == 0:
        return Proximity.empty()
    tree = shapely.STRtree(geoms)
    qi, ti = tree.query(geoms[rows], predicate="dwithin", distance=float(max_gap_m))
    a, b = rows[qi], ti
    ok = a != b
    a, b = a[ok], b[ok]
    d = shapely.distance(geoms[a], geoms[b])
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    prox = Proximity(np.stack([lo, hi], axis=1), d, np.zeros(len(lo), dtype=bool))
    return prox.concat(Proximity.empty())


def _gap(
    piece: np.ndarray,
    rest: np.ndarray,
    xy: np.ndarray | None,
    near: dict[tuple[int, int], float],
) -> tuple[float, float]:
    """``(smallest polygon gap of a proximity pair between piece and rest (inf when
    none), metres between them)``: the distance is that gap, else the nearest
    centroids, else NaN."""
    pset, rset = set(piece.tolist()), set(rest.tolist())
    best = min((d for (a, b), d in near.items() if a in pset and b in rset), default=np.inf)
    if np.isfinite(best):
        return float(best), float(best)
    if xy is None or not len(rest):
        return float(best), float("nan")
    from scipy.spatial import cKDTree

    d, _ = cKDTree(xy[rest]).query(xy[piece], k=1)
    return float(best), float(np.min(d))


def _near_map(prox: Proximity | None, cells: np.ndarray) -> dict[tuple[int, int], float]:
    """``(cell of cells, other cell of cells) → gap`` for the proximity pairs inside
    ``cells`` (one grid)."""
    if prox is None or not len(prox.pairs) or not len(cells):
        return {}
    top = int(max(prox.pairs.max(), cells.max())) + 1
    inside = np.zeros(top, dtype=bool)
    inside[cells] = True
    keep = inside[prox.pairs[:, 0]] & inside[prox.pairs[:, 1]]
    out: dict[tuple[int, int], float] = {}
    for (a, b), d in zip(prox.pairs[keep].tolist(), prox.distance_m[keep].tolist(), strict=True):
        out[(a, b)] = min(d, out.get((a, b), np.inf))
        out[(b, a)] = min(d, out.get((b, a), np.inf))
    return out


def classify_pieces(
    labels: np.ndarray,
    edges: np.ndarray,
    *,
    group: np.ndarray | None = None,
    population: np.ndarray | None = None,
    xy: np.ndarray | None = None,
    proximity: Proximity | None = None,
    config: DetachedConfig = DEFAULT_DETACHED,
) -> list[DetachedPiece]:
    """The detached pieces of every label in several pieces, each with its kind.

    ``labels`` ``(n,)``: grid of every node (any hashable values; ``""``/None nodes
    are skipped); ``edges`` ``(m, 2)``: the graph (rook adjacency of row positions);
    ``group``: district of every node when grids must not cross districts;
    ``population``: persons per node (no slivers without it); ``xy`` ``(n, 2)``:
    centroids in metres (distances); ``proximity``: pairs within the gap (queen
    contacts) — without it only shared edges count as contact. Pieces are listed by
    label, then by their smallest node; bodies are not listed.
    """
    lab = np.asarray(labels, dtype=object)
    n = len(lab)
    if n == 0:
        return []
    codes, uniq = _codes(lab)
    skip = np.array([u is None or (isinstance(u, str) and u == "") for u in uniq], dtype=bool)
    piece = _components(n, edges, codes)
    land = land_components(n, edges, group)
    land_size = np.bincount(land, minlength=int(land.max()) + 1)
    pop = np.zeros(n) if population is None else np.asarray(population, dtype=float)
    n_pieces = np.zeros(len(uniq), dtype=np.int64)
    first_of_piece = np.unique(piece, return_index=True)[1]
    np.add.at(n_pieces, codes[first_of_piece], 1)
    out: list[DetachedPiece] = []
    for g in np.flatnonzero((n_pieces > 1) & ~skip).tolist():
        members = np.flatnonzero(codes == g)
        pids, inv = np.unique(piece[members], return_inverse=True)
        parts = [members[inv.reshape(-1) == k] for k in range(len(pids))]
        island = [bool(land_size[land[p[0]]] == len(p)) for p in parts]
        ppop = [float(pop[p].sum()) for p in parts]
        order = sorted(
            range(len(parts)), key=lambda k: (island[k], -ppop[k], -len(parts[k]), parts[k][0])
        )
        body = order[0]
        near = _near_map(proximity, members)
        for k in sorted(set(range(len(parts))) - {body}, key=lambda k: parts[k][0]):
            p = parts[k]
            rest = np.setdiff1d(members, p)
            contact, gap = _gap(p, rest, xy, near)
            empty = population is not None and ppop[k] <= config.max_population
            touches = contact <= config.max_gap_m
            kind: Kind
            if empty and touches:
                kind = "sliver"
            elif island[k]:
                kind = "island"
            else:
                kind = "violation"
            out.append(DetachedPiece(uniq[g], p, kind, gap))
    return out


def _codes(lab: np.ndarray) -> tuple[np.ndarray, list[object]]:
    """Integer code of every label and one original label per code (missing → ``""``)."""
    text = np.array(
        ["" if v is None or (isinstance(v, float) and v != v) else str(v) for v in lab.tolist()],
        dtype=object,
    )
    _, first, codes = np.unique(text.astype(str), return_index=True, return_inverse=True)
    uniq = [("" if text[i] == "" else lab[i]) for i in first.tolist()]
    return np.asarray(codes, dtype=np.int64).reshape(-1), uniq
