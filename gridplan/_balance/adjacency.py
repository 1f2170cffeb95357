"""Adjacency built from geometry: polygon neighbours and links across islands."""

from __future__ import annotations

import math
from typing import Any, Literal

import numpy as np

from gridplan.graph import components, csr_from_edges

__all__ = ["geometry_adjacency"]


def geometry_adjacency(
    geoms: Any, kind: Literal["rook", "queen"] = "rook", crs: Any = None
) -> np.ndarray:
    """Undirected edges (m, 2) between neighbouring polygons by the one rook/queen rule
    of :func:`gridplan.cells.polygon_graph.polygon_edges` (rook: more than 1 m of shared
    boundary; queen: any contact within 1 cm). Geometry in metres; a geographic ``crs``
    (e.g. EPSG:4326) is projected to the local UTM zone first."""
    from gridplan.cells.polygon_graph import polygon_edges
    from gridplan.layers.crs import is_metric, local_metric_crs

    g = np.asarray(getattr(geoms, "values", geoms), dtype=object)
    if g.size == 0:
        return np.zeros((0, 2), dtype=np.int64)
    if crs is not None and not is_metric(crs):
        import geopandas as gpd

        series = gpd.GeoSeries(g, crs=crs)
        g = np.asarray(series.to_crs(local_metric_crs(series.to_frame("geometry"))).values)
    return polygon_edges(g, kind)


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
