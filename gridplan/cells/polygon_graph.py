"""The one polygon adjacency rule: which polygons are neighbours, from geometry.

Every polygon adjacency of gridplan goes through this module: the planner's own cell
polygons (:func:`gridplan.cells.lattice.polygon_lattice`, checked by
:func:`gridplan.cells.build.build_cells`), polygon layers read without a lattice
(``gridplan partition --cells``), grids read back from a file (``gridplan balance``),
and the live checks of a plan. Geometry must be in a metric CRS (metres).

The rule (:func:`verify_contacts`):

- **rook**: the polygons share more than ``min_shared_m`` metres of boundary (a
  shared edge, not a corner), measured as the length of one polygon's boundary lying
  within ``tolerance_m`` metres of the other; overlapping polygons count too;
- **queen**: the polygons come within ``tolerance_m`` metres of each other.

Candidates (:func:`contact_candidates`) are the pairs within ``tolerance_m`` metres,
found with one bulk ``STRtree`` query.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import shapely

from gridplan.graph import Adjacency

__all__ = [
    "DEFAULT_MIN_SHARED_M",
    "DEFAULT_TOLERANCE_M",
    "contact_candidates",
    "polygon_adjacency",
    "polygon_edges",
    "unique_pairs",
    "verify_contacts",
]

#: rook neighbours share more than this many metres of boundary
DEFAULT_MIN_SHARED_M = 1.0
#: gaps up to this many metres still count as contact (float noise, digitising slivers)
DEFAULT_TOLERANCE_M = 0.01


def unique_pairs(pairs: np.ndarray, n: int) -> np.ndarray:
    """Sorted unique rows ``(i, j)`` with ``i < j`` (int64 keys, no ``np.unique(axis=0)``)."""
    pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    lo = np.minimum(pairs[:, 0], pairs[:, 1])
    hi = np.maximum(pairs[:, 0], pairs[:, 1])
    key = np.sort(lo[lo != hi] * np.int64(max(n, 1)) + hi[lo != hi])
    key = key[np.r_[True, key[1:] != key[:-1]]] if len(key) else key
    return np.column_stack(np.divmod(key, np.int64(max(n, 1))))


def contact_candidates(
    geoms: np.ndarray, *, tolerance_m: float = DEFAULT_TOLERANCE_M
) -> np.ndarray:
    """Sorted unique pairs ``(i, j)``, ``i < j``, of polygons within ``tolerance_m`` metres."""
    geoms = np.asarray(geoms, dtype=object)
    if len(geoms) == 0:
        return np.zeros((0, 2), dtype=np.int64)
    tree = shapely.STRtree(geoms)
    left, right = tree.query(geoms, predicate="dwithin", distance=tolerance_m)
    keep = left < right
    return unique_pairs(np.column_stack([left[keep], right[keep]]), len(geoms))


def verify_contacts(
    geoms: np.ndarray,
    pairs: np.ndarray,
    contiguity: str,
    *,
    tolerance_m: float = DEFAULT_TOLERANCE_M,
    min_shared_m: float = DEFAULT_MIN_SHARED_M,
) -> np.ndarray:
    """Which candidate pairs really are neighbours (bool per pair), geometrically.

    Queen: the two cells come within ``tolerance_m`` metres of each other.
    Rook: the length of cell i's boundary lying within ``tolerance_m`` of cell j
    exceeds ``min_shared_m`` metres (a shared edge, not a corner); overlapping
    polygons count as rook neighbours too. The tolerance absorbs floating-point
    noise between clipped edges and digitising slivers between user polygons.
    """
    if len(pairs) == 0:
        return np.zeros(0, dtype=bool)
    a, b = pairs[:, 0], pairs[:, 1]
    if contiguity == "queen":
        return shapely.dwithin(geoms[a], geoms[b], tolerance_m)
    used = np.unique(pairs)
    grown = np.empty(len(geoms), dtype=object)
    outline = np.empty(len(geoms), dtype=object)
    grown[used] = shapely.buffer(geoms[used], tolerance_m, quad_segs=1)
    outline[used] = shapely.boundary(geoms[used])
    shared = shapely.length(shapely.intersection(outline[a], grown[b]))
    return shared > min_shared_m


def polygon_edges(
    geoms: np.ndarray,
    contiguity: Literal["rook", "queen"] = "rook",
    *,
    tolerance_m: float = DEFAULT_TOLERANCE_M,
    min_shared_m: float = DEFAULT_MIN_SHARED_M,
) -> np.ndarray:
    """Undirected edges ``(m, 2)`` (int64, ``i < j``, sorted) between neighbouring
    polygons by the rook/queen rule of :func:`verify_contacts` (metres)."""
    geoms = np.asarray(getattr(geoms, "values", geoms), dtype=object)
    pairs = contact_candidates(geoms, tolerance_m=tolerance_m)
    ok = verify_contacts(
        geoms, pairs, contiguity, tolerance_m=tolerance_m, min_shared_m=min_shared_m
    )
    return pairs[ok]


def polygon_adjacency(
    geoms: np.ndarray,
    *,
    contiguity: Literal["rook", "queen"] = "rook",
    district: np.ndarray | None = None,
    tolerance_m: float = DEFAULT_TOLERANCE_M,
    min_shared_m: float = DEFAULT_MIN_SHARED_M,
) -> Adjacency:
    """CSR adjacency of polygons that share an edge (rook, > ``min_shared_m`` metres of
    common boundary) or touch at all (queen), within ``tolerance_m`` metres.

    ``district`` (one label per polygon) marks the edges between different districts.
    """
    geoms = np.asarray(geoms, dtype=object)
    n = len(geoms)
    if n == 0:
        return Adjacency.empty(0)
    pairs = polygon_edges(geoms, contiguity, tolerance_m=tolerance_m, min_shared_m=min_shared_m)
    crosses = None
    if district is not None:
        district = np.asarray(district, dtype=object)
        crosses = district[pairs[:, 0]] != district[pairs[:, 1]]
    return Adjacency.from_edges(n, pairs, crosses_district=crosses)
