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


def _metric_xy(xs: np.ndarray, ys: np.ndarray, crs: Any) -> tuple[np.ndarray, np.ndarray]:
    """Points in metres: as given for a projected (or unknown) ``crs``, else projected
    from the geographic ``crs`` to its local UTM zone."""
    if crs is None:
        return xs, ys
    from gridplan.layers.crs import is_metric

    if is_metric(crs):
        return xs, ys
    import geopandas as gpd

    from gridplan.layers.crs import local_metric_crs

    pts = gpd.GeoSeries(gpd.points_from_xy(xs, ys), crs=crs)
    pm = pts.to_crs(local_metric_crs(pts.to_frame("geometry")))
    return pm.x.to_numpy(float), pm.y.to_numpy(float)


def _names(ids: Any, nodes: np.ndarray, limit: int = 3) -> str:
    shown = [str(ids[i]) if ids is not None else str(int(i)) for i in nodes[:limit]]
    return ", ".join(shown) + ("…" if nodes.size > limit else "")


def _whole_territories(wc: float, target: float | None, tolerance: float | None) -> int:
    """Whole number of territories a part of weight ``wc`` holds within half the
    tolerance (so the rest can still balance), else 0."""
    if target is None or tolerance is None or target <= 0 or wc <= 0:
        return 0
    m = max(1, round(wc / target))
    return m if abs(wc / (m * target) - 1.0) <= 0.5 * tolerance else 0


def _link_islands(
    n: int,
    edges: np.ndarray,
    xs: np.ndarray,
    ys: np.ndarray,
    *,
    crs: Any = None,
    weights: np.ndarray | None = None,
    target: float | None = None,
    tolerance: float | None = None,
    ids: Any = None,
) -> tuple[np.ndarray, list[str]]:
    """Join every smaller connected part to its nearest unit in another part.

    ``xs``/``ys`` in ``crs`` (metres when ``None``; a geographic ``crs`` is projected
    for the distances, which the notes give in metres). With ``weights`` and the mean
    ``target`` per manager (same units, e.g. hours/month) and the ``tolerance``, a part
    whose weight is a whole number of targets (within half the tolerance) stays on its
    own: the engine gives it that many managers and no territory crosses the water."""
    notes: list[str] = []
    edges = edges.reshape(-1, 2)
    mx, my = _metric_xy(np.asarray(xs, float), np.asarray(ys, float), crs)
    alone: set[int] = set()  # a unit of each part kept on its own
    for _ in range(n):
        ip, ix = csr_from_edges(n, edges)
        comp = components(ip, ix)
        ncomp = int(comp.max()) + 1
        if ncomp <= 1:
            break
        kept = {int(comp[u]) for u in alone}
        sizes = np.bincount(comp, minlength=ncomp).astype(float)
        sizes[list(kept)] = np.inf
        if len(kept) >= ncomp - 1 or not np.isfinite(sizes).any():
            break
        c = int(np.argmin(sizes))
        inside = np.flatnonzero(comp == c)
        if weights is not None:
            wc = float(np.asarray(weights, float)[inside].sum())
            m = _whole_territories(wc, target, tolerance)
            if m:
                alone.add(int(inside[0]))
                notes.append(
                    f"a part of {inside.size} unit(s) with no neighbour ({_names(ids, inside)}) "
                    f"weighs {wc:,.1f} = {wc / target:.2f} targets: it keeps {m} "
                    "whole territor" + ("y" if m == 1 else "ies") + " of its own"
                )
                continue
        others = (comp != c) & ~np.isin(comp, list(kept))
        outside = np.flatnonzero(others if others.any() else comp != c)
        d2 = (mx[inside, None] - mx[None, outside]) ** 2 + (
            my[inside, None] - my[None, outside]
        ) ** 2
        a, b = np.unravel_index(int(np.argmin(d2)), d2.shape)
        edges = np.vstack([edges, [[inside[a], outside[b]]]])
        far = outside[b]
        notes.append(
            f"linked a part of {inside.size} unit(s) with no neighbour ({_names(ids, inside)}) "
            f"to the nearest unit {ids[far] if ids is not None else int(far)} "
            f"({math.sqrt(float(d2[a, b])):,.0f} m away)"
        )
    return edges, notes
