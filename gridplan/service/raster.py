"""A lookup raster over the cells that answers most points with array arithmetic only.

The plan's extent (work CRS, metres) is cut into square buckets about a sixth of a cell
wide. A bucket whose four corners lie in the same *convex* cell lies wholly in that cell
(a convex set holds the box of any four of its points), so a point in such a bucket
belongs to that cell: ``floor((x - x0) / side)`` and one table read. Every other point
(buckets on a cell's edge, in non-convex cells, outside the extent) is answered by the
exact STRtree test of :class:`~gridplan.service.index.OwnerIndex`. A point exactly on the
shared edge of two cells may go to either of them.
"""

from __future__ import annotations

import math

import numpy as np
import shapely
from shapely import STRtree

__all__ = ["CellRaster", "first_cell"]

#: Buckets per cell width, and the most bucket corners located when building (memory
#: and build time stay bounded for very large plans: the buckets grow instead).
BUCKETS_PER_CELL = 6
MAX_CORNERS = 2_000_000


def first_cell(tree: STRtree, pts: np.ndarray) -> np.ndarray:
    """Per point, the lowest position of a cell containing it (-1 none)."""
    cell = np.full(len(pts), -1, dtype=np.int64)
    pi, ti = tree.query(pts, predicate="intersects")
    if len(pi):
        order = np.lexsort((ti, pi))
        pi, ti = pi[order], ti[order]
        first = np.concatenate(([True], pi[1:] != pi[:-1]))
        cell[pi[first]] = ti[first]
    return cell


class CellRaster:
    """Buckets of side ``side`` metres from ``(x0, y0)``; ``table[iy, ix]`` is the cell
    that holds the whole bucket, or -1 when the exact test must decide."""

    def __init__(self, tree: STRtree, geoms: np.ndarray):
        self.x0 = self.y0 = 0.0
        self.side = 1.0
        self.table = np.full((0, 0), -1, dtype=np.int32)
        if len(geoms) == 0:
            return
        minx, miny, maxx, maxy = shapely.total_bounds(geoms)
        areas = shapely.area(geoms)
        side = math.sqrt(float(np.median(areas))) / BUCKETS_PER_CELL
        if not side > 0:
            return
        w, h = maxx - minx, maxy - miny
        corners = (w / side + 2) * (h / side + 2)
        if corners > MAX_CORNERS:
            side *= math.sqrt(corners / MAX_CORNERS)
        nx, ny = max(math.ceil(w / side), 1), max(math.ceil(h / side), 1)
        xs = minx + side * np.arange(nx + 1)
        ys = miny + side * np.arange(ny + 1)
        gx, gy = np.meshgrid(xs, ys)
        corner = first_cell(tree, shapely.points(gx.ravel(), gy.ravel())).reshape(ny + 1, nx + 1)
        hull = shapely.area(shapely.convex_hull(geoms))
        convex = np.abs(hull - areas) <= 1e-9 * np.maximum(areas, 1.0)
        a = corner[:-1, :-1]
        pure = (a >= 0) & (a == corner[:-1, 1:]) & (a == corner[1:, :-1]) & (a == corner[1:, 1:])
        pure &= convex[np.maximum(a, 0)]
        self.x0, self.y0, self.side = float(minx), float(miny), float(side)
        self.table = np.where(pure, a, -1).astype(np.int32)

    @property
    def pure_fraction(self) -> float:
        """Share of the buckets answered by the table alone."""
        return float((self.table >= 0).mean()) if self.table.size else 0.0

    def lookup(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """The cell of each point (work CRS) where the table knows it, else -1."""
        out = np.full(len(x), -1, dtype=np.int64)
        ny, nx = self.table.shape
        if nx == 0:
            return out
        with np.errstate(invalid="ignore"):
            fx = np.floor((x - self.x0) / self.side)
            fy = np.floor((y - self.y0) / self.side)
            ok = (fx >= 0) & (fx < nx) & (fy >= 0) & (fy < ny)
        out[ok] = self.table[fy[ok].astype(np.int64), fx[ok].astype(np.int64)]
        return out
