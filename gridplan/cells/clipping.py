"""Fast exact intersections of many small polygons with a few large ones.

``shapely.intersection(cell, city)`` costs time proportional to the vertices of
*both* inputs, so clipping thousands of edge cells against a detailed coastline
(tens of thousands of vertices) is slow. :func:`intersect_pairs` cuts every large
polygon into tiles first (``shapely.clip_by_rect``, one pass per tile) and
intersects each small polygon with the piece of its tile only. Tiles overlap by
the largest small-polygon extent, so each small polygon lies inside its tile's
rectangle and the result is exactly ``small ∩ large``.
"""

from __future__ import annotations

import math

import numpy as np
import shapely

#: Large polygons with fewer vertices than this are intersected directly.
MIN_TILED_VERTICES = 400
#: Tile side as a multiple of the largest small-polygon extent.
TILE_FACTOR = 16.0


def _piece(big: shapely.Geometry, x0: float, y0: float, x1: float, y1: float):
    piece = shapely.clip_by_rect(big, x0, y0, x1, y1)
    if not shapely.is_valid(piece):
        piece = shapely.make_valid(piece)
    return piece


def _intersect_one_big(small: np.ndarray, big: shapely.Geometry) -> np.ndarray:
    bounds = shapely.bounds(small)
    ext = float(np.max(np.maximum(bounds[:, 2] - bounds[:, 0], bounds[:, 3] - bounds[:, 1])))
    if not math.isfinite(ext) or ext <= 0:
        return shapely.intersection(small, big)
    tile = ext * TILE_FACTOR
    cx = (bounds[:, 0] + bounds[:, 2]) / 2
    cy = (bounds[:, 1] + bounds[:, 3]) / 2
    tx = np.floor(cx / tile).astype(np.int64)
    ty = np.floor(cy / tile).astype(np.int64)
    key = tx * (1 << 31) + ty
    order = np.argsort(key, kind="stable")
    _, start = np.unique(key[order], return_index=True)
    stops = np.r_[start[1:], len(order)]
    out = np.empty(len(small), dtype=object)
    margin = ext * 1.01
    for s, e in zip(start.tolist(), stops.tolist(), strict=True):
        members = order[s:e]
        ix, iy = int(tx[members[0]]), int(ty[members[0]])
        piece = _piece(
            big,
            ix * tile - margin,
            iy * tile - margin,
            (ix + 1) * tile + margin,
            (iy + 1) * tile + margin,
        )
        try:
            out[members] = shapely.intersection(small[members], piece)
        except shapely.errors.GEOSException:  # pragma: no cover - dirty clip, fall back
            out[members] = shapely.intersection(small[members], big)
    return out


def intersect_pairs(small: np.ndarray, bigs: np.ndarray, big_index: np.ndarray) -> np.ndarray:
    """``small[k] ∩ bigs[big_index[k]]`` for every k (geometries in one CRS).

    Large polygons (many vertices, many partners) are tiled first; the others are
    intersected directly, vectorised.
    """
    small = np.asarray(small, dtype=object)
    big_index = np.asarray(big_index, dtype=np.int64)
    out = np.empty(len(small), dtype=object)
    if len(small) == 0:
        return out
    bigs = np.asarray(bigs, dtype=object)
    nverts = shapely.get_num_coordinates(bigs)
    partners = np.bincount(big_index, minlength=len(bigs))
    tiled = (nverts >= MIN_TILED_VERTICES) & (partners >= 8)
    direct = ~tiled[big_index]
    if direct.any():
        out[direct] = shapely.intersection(small[direct], bigs[big_index[direct]])
    rest = np.flatnonzero(~direct)
    if len(rest):
        rest = rest[np.argsort(big_index[rest], kind="stable")]
        groups = big_index[rest]
        cuts = np.flatnonzero(np.diff(groups)) + 1
        for members in np.split(rest, cuts):
            out[members] = _intersect_one_big(small[members], bigs[big_index[members[0]]])
    return out


def intersect_with(small: np.ndarray, big: shapely.Geometry) -> np.ndarray:
    """``small[k] ∩ big`` for every k, tiling ``big`` when it is detailed."""
    small = np.asarray(small, dtype=object)
    return intersect_pairs(small, np.array([big], dtype=object), np.zeros(len(small), np.int64))


def merge_targets(geoms: np.ndarray, small: np.ndarray) -> np.ndarray:
    """The cell each ``small`` cell merges into (``-1`` for the others): the cell that
    is not small sharing the longest boundary with it, else the nearest one (work CRS,
    metres). ``small`` is a boolean mask; at least one cell must not be small."""
    geoms = np.asarray(geoms, dtype=object)
    small = np.asarray(small, dtype=bool)
    target = np.full(len(geoms), -1, dtype=np.int64)
    rows, big = np.flatnonzero(small), np.flatnonzero(~small)
    if not len(rows) or not len(big):
        return target
    tree = shapely.STRtree(geoms[big])
    qi, ti = tree.query(geoms[rows], predicate="intersects")
    if len(qi):
        shared = shapely.length(
            shapely.intersection(
                shapely.boundary(geoms[rows[qi]]), shapely.boundary(geoms[big[ti]])
            )
        )
        ok = shared > 0
        qi, ti, shared = qi[ok], ti[ok], shared[ok]
        order = np.lexsort((-shared, qi))  # per small cell, the longest shared boundary first
        qi, ti = qi[order], ti[order]
        first = np.r_[True, qi[1:] != qi[:-1]] if len(qi) else np.zeros(0, dtype=bool)
        target[rows[qi[first]]] = big[ti[first]]
    rest = rows[target[rows] < 0]
    if len(rest):
        qn, tn = tree.query_nearest(geoms[rest], all_matches=False)
        target[rest[qn]] = big[tn]
    return target
