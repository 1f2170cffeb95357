"""Adjacency built from geometry: polygon neighbours and links across islands."""

from __future__ import annotations

import math
from typing import Any, Literal

import numpy as np

from gridplan.graph import components, csr_from_edges

__all__ = ["geometry_adjacency"]


def geometry_adjacency(geoms: Any, kind: Literal["rook", "queen"] = "rook") -> np.ndarray:
    """Undirected edges (m, 2) between polygons that share boundary (rook: a shared
    boundary of positive length; queen: any touch), found with a shapely STRtree."""
    import shapely
    from shapely import STRtree

    g = np.asarray(getattr(geoms, "values", geoms), dtype=object)
    n = g.size
    if n == 0:
        return np.zeros((0, 2), dtype=np.int64)
    tree = STRtree(g)
    left, right = tree.query(g, predicate="intersects")
    keep = left < right
    left, right = left[keep], right[keep]
    if kind == "rook" and left.size:
        inter = shapely.intersection(g[left], g[right])
        bl = shapely.length(inter)
        # a shared edge has positive length; overlapping polygons share area
        area = shapely.area(inter)
        ok = (bl > 0) | (area > 0)
        left, right = left[ok], right[ok]
    return np.stack([left, right], axis=1).astype(np.int64)


def _link_islands(
    n: int, edges: np.ndarray, xs: np.ndarray, ys: np.ndarray
) -> tuple[np.ndarray, list[str]]:
    """Join every smaller connected part to its nearest unit in another part."""
    notes: list[str] = []
    edges = edges.reshape(-1, 2)
    for _ in range(n):
        ip, ix = csr_from_edges(n, edges)
        comp = components(ip, ix)
        ncomp = int(comp.max()) + 1
        if ncomp <= 1:
            break
        sizes = np.bincount(comp)
        c = int(np.argmin(sizes))
        inside = np.flatnonzero(comp == c)
        outside = np.flatnonzero(comp != c)
        d2 = (xs[inside, None] - xs[None, outside]) ** 2 + (
            ys[inside, None] - ys[None, outside]
        ) ** 2
        a, b = np.unravel_index(int(np.argmin(d2)), d2.shape)
        edges = np.vstack([edges, [[inside[a], outside[b]]]])
        notes.append(
            f"linked a part of {inside.size} unit(s) with no neighbour to the nearest unit "
            f"({math.sqrt(float(d2[a, b])):,.0f} coordinate units away)"
        )
    return edges, notes
