"""Aggregation of layers onto cells: points by location, polygons by area weighting.

All functions work in the work CRS (metres) on numpy arrays of shapely geometries.

- **Points** (population points, customers, sites) go to the cell containing
  them. A point in no cell (outside the boundary, or in a gap between the
  planner's polygons) is *snapped* to the nearest cell (exact geometric
  distance, ``STRtree.query_nearest``) and counted in the notes; with
  ``max_snap_m`` set, points farther than that are dropped and reported instead.
  A point on an edge shared by two cells goes to one of them (see
  :class:`CellLocator`).
- **Polygons** (population polygons) are split by area: source polygon ``s``
  gives cell ``c`` the share ``a(s∩c) / Σ_c' a(s∩c')`` of its value. The
  denominator is the part of ``s`` covered by cells, not the area of ``s``, so
  the population of a polygon lying partly outside every cell (beyond the city
  boundary) is renormalised onto the cells it overlaps and totals are preserved;
  the notes report how many persons were moved that way. A polygon overlapping
  no cell with positive area lies outside the city: it is left out and reported
  (snapping a whole tract from the next city into an edge cell would be wrong).
- **Districts**: every cell takes the district it overlaps most (ties: first
  district in layer order); a cell overlapping no district takes the nearest.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely

from gridplan.cells.clipping import intersect_pairs
from gridplan.cells.overlap import HalfPlanes, convex_overlap_areas, rings_of

_POLYGONAL = (3, 6)  # shapely type ids of Polygon and MultiPolygon
#: Sources with more vertices than this are intersected by GEOS, not the numpy clipper.
MAX_CLIPPED_VERTICES = 256
#: Overlaps smaller than this (m²) are numerical noise of touching polygons.
MIN_OVERLAP_M2 = 1e-6
_POINT = 0


@dataclass(frozen=True, eq=False)
class Located:
    """Where points went: ``cell`` index per point (-1 = dropped), and counts for the notes.

    ``snapped`` marks points that lay in no cell and were moved to the nearest one;
    ``snap_distance_m`` holds their distance (metres, 0 elsewhere).
    """

    cell: np.ndarray
    snapped: np.ndarray
    snap_distance_m: np.ndarray
    dropped: np.ndarray

    @property
    def n_snapped(self) -> int:
        return int(self.snapped.sum())

    @property
    def n_dropped(self) -> int:
        return int(self.dropped.sum())


def point_xy(geoms: np.ndarray) -> np.ndarray:
    """``(n, 2)`` coordinates of point geometries; other types use a representative
    point; missing or empty geometries give NaN."""
    geoms = np.asarray(geoms, dtype=object)
    xy = np.full((len(geoms), 2), np.nan)
    if len(geoms) == 0:
        return xy
    type_id = shapely.get_type_id(geoms)
    empty = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    pts = (type_id == _POINT) & ~empty
    xy[pts, 0] = shapely.get_x(geoms[pts])
    xy[pts, 1] = shapely.get_y(geoms[pts])
    other = ~pts & ~empty
    if other.any():
        rep = shapely.point_on_surface(geoms[other])
        xy[other, 0] = shapely.get_x(rep)
        xy[other, 1] = shapely.get_y(rep)
    return xy


class CellLocator:
    """Finds the cell containing each point (work CRS, metres) without GEOS in the loop.

    A uniform bucket grid (bucket side about half the median cell extent) lists,
    per bucket, the cells whose bounding box meets it (ascending index). A point
    tests the cells of its bucket in that order — numpy half-plane tests for
    convex cells, ``shapely.intersects_xy`` for clipped or user polygons — and
    takes the first that contains it, i.e. the lowest-numbered cell (this settles
    points lying exactly on a shared edge). Squares use their arithmetic first.
    """

    #: Upper bound on the bucket-grid size and on its (bucket, cell) entries.
    MAX_BUCKETS = 20_000_000

    def __init__(
        self,
        geoms: np.ndarray,
        vertices: np.ndarray,
        convex: np.ndarray,
        border: np.ndarray,
        tree: shapely.STRtree,
        arithmetic=None,
    ):
        self.geoms = geoms
        self.convex = np.asarray(convex, dtype=bool)
        self.planes = HalfPlanes.of(vertices) if self.convex.any() else None
        self.border = np.flatnonzero(border)
        self._border_tree = None
        self.tree = tree
        self.arithmetic = arithmetic
        self._build(shapely.bounds(geoms) if len(geoms) else np.zeros((0, 4)))

    def nearest(
        self, xy: np.ndarray, max_distance: float | None = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Nearest cell to points lying in no cell: ``(point_rows, cells, distances_m)``.

        Searches the border cells only (see :class:`gridplan.lattice.Lattice`).
        """
        if self._border_tree is None:
            self._border_tree = shapely.STRtree(self.geoms[self.border])
        (qi, ti), d = self._border_tree.query_nearest(
            shapely.points(xy), max_distance=max_distance, return_distance=True, all_matches=False
        )
        return qi, self.border[ti], d

    def _build(self, b: np.ndarray) -> None:
        n = len(b)
        if n == 0:
            self.size = 1.0
            self.origin = (0.0, 0.0)
            self.shape = (0, 0)
            self.start = np.zeros(1, dtype=np.int64)
            self.entries = np.zeros(0, dtype=np.int64)
            return
        w = b[:, 2] - b[:, 0]
        h = b[:, 3] - b[:, 1]
        size = max(float(np.median(np.maximum(w, h))) / 2.0, 1e-6)
        x0, y0 = float(b[:, 0].min()), float(b[:, 1].min())
        while True:
            nx = int((b[:, 2].max() - x0) // size) + 1
            ny = int((b[:, 3].max() - y0) // size) + 1
            c0 = np.floor((b[:, 0] - x0) / size).astype(np.int64)
            c1 = np.floor((b[:, 2] - x0) / size).astype(np.int64)
            r0 = np.floor((b[:, 1] - y0) / size).astype(np.int64)
            r1 = np.floor((b[:, 3] - y0) / size).astype(np.int64)
            per = (c1 - c0 + 1) * (r1 - r0 + 1)
            if nx * ny <= self.MAX_BUCKETS and per.sum() <= self.MAX_BUCKETS:
                break
            size *= 2.0
        cell = np.repeat(np.arange(n, dtype=np.int64), per)
        k = np.arange(len(cell)) - np.repeat(np.cumsum(per) - per, per)
        span = (c1 - c0 + 1)[cell]
        col = c0[cell] + k % span
        row = r0[cell] + k // span
        bucket = row * nx + col
        order = np.lexsort((cell, bucket))
        self.entries = cell[order]
        counts = np.bincount(bucket, minlength=nx * ny)
        self.start = np.concatenate([[0], np.cumsum(counts)])
        self.size, self.origin, self.shape = size, (x0, y0), (nx, ny)

    def contains(self, cell: np.ndarray, xy: np.ndarray) -> np.ndarray:
        """Whether cell ``cell[i]`` contains (or touches) point ``xy[i]``."""
        out = np.zeros(len(cell), dtype=bool)
        conv = self.convex[cell]
        if conv.any():
            out[conv] = self.planes.contains(xy[conv], cell[conv])
        rest = ~conv
        if rest.any():
            out[rest] = shapely.intersects_xy(self.geoms[cell[rest]], xy[rest, 0], xy[rest, 1])
        return out

    def __call__(self, xy: np.ndarray) -> np.ndarray:
        xy = np.asarray(xy, dtype=float).reshape(-1, 2)
        out = np.full(len(xy), -1, dtype=np.int64)
        if len(self.geoms) == 0 or len(xy) == 0:
            return out
        todo = np.flatnonzero(np.isfinite(xy).all(axis=1))
        if self.arithmetic is not None:
            cand = self.arithmetic(xy[todo])
            hit = cand >= 0
            sure = hit.copy()
            sure[hit] = self.convex[cand[hit]]
            out[todo[sure]] = cand[sure]
            todo = todo[~sure]
        nx, ny = self.shape
        col = np.floor((xy[todo, 0] - self.origin[0]) / self.size).astype(np.int64)
        row = np.floor((xy[todo, 1] - self.origin[1]) / self.size).astype(np.int64)
        ok = (col >= 0) & (col < nx) & (row >= 0) & (row < ny)
        todo, bucket = todo[ok], (row * nx + col)[ok]
        first = self.start[bucket]
        count = self.start[bucket + 1] - first
        r = 0
        while len(todo):
            live = count > r
            todo, first, count = todo[live], first[live], count[live]
            if len(todo) == 0:
                break
            cand = self.entries[first + r]
            hit = self.contains(cand, xy[todo])
            out[todo[hit]] = cand[hit]
            todo, first, count = todo[~hit], first[~hit], count[~hit]
            r += 1
        return out


def locate_points(
    xy: np.ndarray,
    locator: CellLocator,
    *,
    snap: bool = True,
    max_snap_m: float | None = None,
) -> Located:
    """Cell of every point ``xy`` ``(k, 2)`` (metres, work CRS).

    Points in no cell are snapped to the nearest cell (exact distance to its
    polygon) when ``snap`` (within ``max_snap_m`` if given), else dropped
    (``cell = -1``).
    """
    xy = np.asarray(xy, dtype=float).reshape(-1, 2)
    k = len(xy)
    cell = locator(xy)
    finite = np.isfinite(xy).all(axis=1)
    snapped = np.zeros(k, dtype=bool)
    dist = np.zeros(k)
    lost = np.flatnonzero((cell < 0) & finite)
    if snap and len(lost):
        qi, ti, d = locator.nearest(xy[lost], max_snap_m)
        cell[lost[qi]] = ti
        snapped[lost[qi]] = True
        dist[lost[qi]] = d
    return Located(cell, snapped, dist, cell < 0)


def sum_by_cell(cell: np.ndarray, values: np.ndarray | None, n: int) -> np.ndarray:
    """Sum of ``values`` (or counts when None) per cell; ``cell == -1`` is ignored."""
    ok = cell >= 0
    if values is None:
        return np.bincount(cell[ok], minlength=n).astype(np.float64)
    return np.bincount(cell[ok], weights=np.asarray(values, dtype=float)[ok], minlength=n)


@dataclass(frozen=True, eq=False)
class AreaWeights:
    """Sparse source→cell weights: ``source``, ``cell``, ``weight`` per pair.

    Weights of every covered source sum to 1. ``covered_fraction`` is, per source,
    the share of its area lying in some cell (1.0 for fully covered sources, 0.0
    for sources overlapping no cell). ``uncovered`` marks those sources (no cell
    with positive overlap); callers decide what to do with them.
    """

    source: np.ndarray
    cell: np.ndarray
    weight: np.ndarray
    covered_fraction: np.ndarray
    uncovered: np.ndarray

    def apply(self, values: np.ndarray, n_cells: int) -> np.ndarray:
        """Distribute per-source ``values`` onto ``n_cells`` cells (uncovered sources left out)."""
        v = np.asarray(values, dtype=float)[self.source] * self.weight
        return np.bincount(self.cell, weights=v, minlength=n_cells)


def area_weights(
    sources: np.ndarray,
    cells: np.ndarray,
    cell_tree: shapely.STRtree,
    cell_area: np.ndarray,
    vertices: np.ndarray | None = None,
    convex: np.ndarray | None = None,
) -> AreaWeights:
    """Area-weighting pairs between polygonal ``sources`` and ``cells`` (work CRS).

    One bulk ``STRtree.query`` finds the pairs with overlapping bounding boxes.
    Pairs of a convex cell (``convex``, corners in ``vertices``) and a source of
    at most :data:`MAX_CLIPPED_VERTICES` vertices get their overlap area from the
    vectorised clipper (:func:`gridplan.overlap.convex_overlap_areas`); the other
    pairs use GEOS: the cell's area when the (prepared) source contains it, else
    ``shapely.intersection`` (tiled for detailed sources).
    """
    sources = np.asarray(sources, dtype=object)
    ns = len(sources)
    if ns == 0:
        z = np.zeros(0, dtype=np.int64)
        return AreaWeights(z, z, np.zeros(0), np.zeros(0), np.zeros(0, dtype=bool))
    si, ci = cell_tree.query(sources)
    area = np.zeros(len(si))
    fast = np.zeros(len(si), dtype=bool)
    if convex is not None and vertices is not None and vertices.shape[1] >= 3 and len(si):
        rings = rings_of(sources)
        small = rings.vertices_per_geometry <= MAX_CLIPPED_VERTICES
        fast = convex[ci] & small[si]
        if fast.any():
            area[fast] = convex_overlap_areas(rings, si[fast], vertices, ci[fast])
    slow = np.flatnonzero(~fast)
    if len(slow):
        shapely.prepare(sources)
        hit = shapely.intersects(sources[si[slow]], cells[ci[slow]])
        slow = slow[hit]
        whole = shapely.contains_properly(sources[si[slow]], cells[ci[slow]])
        area[slow[whole]] = cell_area[ci[slow[whole]]]
        part = slow[~whole]
        if len(part):
            area[part] = shapely.area(intersect_pairs(cells[ci[part]], sources, si[part]))
    keep = area > MIN_OVERLAP_M2
    si, ci, area = si[keep], ci[keep], area[keep]
    cover = np.bincount(si, weights=area, minlength=ns)
    src_area = shapely.area(sources)
    uncovered = cover <= 0
    with np.errstate(invalid="ignore", divide="ignore"):
        weight = area / cover[si]
        fraction = np.where(src_area > 0, np.minimum(cover / src_area, 1.0), 0.0)
    return AreaWeights(si.astype(np.int64), ci.astype(np.int64), weight, fraction, uncovered)


def is_polygonal(geoms: np.ndarray) -> np.ndarray:
    """Boolean mask of Polygon/MultiPolygon geometries with positive area."""
    geoms = np.asarray(geoms, dtype=object)
    return np.isin(shapely.get_type_id(geoms), _POLYGONAL) & (shapely.area(geoms) > 0)


@dataclass(frozen=True, eq=False)
class DistrictAssignment:
    """District index (row of the district layer) per cell, and how it was chosen."""

    district: np.ndarray
    nearest: np.ndarray  # bool: cell overlaps no district, nearest one taken
    split: np.ndarray  # bool: cell overlaps several districts, largest overlap taken


def assign_districts(
    cells: np.ndarray,
    cell_tree: shapely.STRtree,
    districts: np.ndarray,
) -> DistrictAssignment:
    """District of largest overlap per cell (work CRS); nearest district for cells in none.

    Only cells meeting two or more districts are intersected; the others take
    their single district directly. Ties go to the earlier district.
    """
    n = len(cells)
    districts = np.asarray(districts, dtype=object)
    shapely.prepare(districts)
    di, ci = cell_tree.query(districts, predicate="intersects")
    out = np.full(n, -1, dtype=np.int64)
    hits = np.bincount(ci, minlength=n)
    single = hits[ci] == 1
    out[ci[single]] = di[single]
    multi = np.flatnonzero(~single)
    if len(multi):
        mi, mc = di[multi], ci[multi]
        a = shapely.area(intersect_pairs(cells[mc], districts, mi))
        order = np.lexsort((mi, -a, mc))
        mc_sorted = mc[order]
        first = np.r_[True, mc_sorted[1:] != mc_sorted[:-1]]
        out[mc_sorted[first]] = mi[order][first]
        # a cell touching districts only along a line has zero overlap everywhere:
        zero = np.bincount(mc, weights=a, minlength=n)
        out[(hits > 1) & (zero <= 0)] = -1
    nearest = out < 0
    if nearest.any():
        dtree = shapely.STRtree(districts)
        (qi, ti) = dtree.query_nearest(cells[nearest], all_matches=False)
        idx = np.flatnonzero(nearest)
        out[idx[qi]] = ti
    return DistrictAssignment(out, nearest, hits > 1)


def barrier_cuts(
    edges: np.ndarray,
    xy: np.ndarray,
    barriers: np.ndarray,
) -> np.ndarray:
    """Which edges a barrier cuts (bool per edge).

    Rule: edge ``(i, j)`` is cut when the straight segment between the centroids
    ``xy[i]`` and ``xy[j]`` (metres, work CRS) intersects a barrier line (polygon
    barriers count by their outline). Barrier lines are split into their single
    segments so the STRtree stays tight around long rivers and highways.
    """
    m = len(edges)
    if m == 0 or len(barriers) == 0:
        return np.zeros(m, dtype=bool)
    geoms = np.asarray(barriers, dtype=object)
    geoms = geoms[~(shapely.is_missing(geoms) | shapely.is_empty(geoms))]
    poly = np.isin(shapely.get_type_id(geoms), _POLYGONAL)
    geoms = np.concatenate([geoms[~poly], shapely.boundary(geoms[poly])])
    lines = shapely.get_parts(shapely.get_parts(geoms))
    lines = lines[np.isin(shapely.get_type_id(lines), (1, 2))]  # LineString, LinearRing
    if len(lines) == 0:
        return np.zeros(m, dtype=bool)
    coords, idx = shapely.get_coordinates(lines, return_index=True)
    same = idx[1:] == idx[:-1]
    seg = np.stack([coords[:-1][same], coords[1:][same]], axis=1)
    pieces = shapely.linestrings(seg)
    tree = shapely.STRtree(pieces)
    # Only cells within one link length of a barrier can have a cut link: a link
    # (i, j) crossing a barrier at p has |c_i - p| <= |c_i - c_j|.
    a, b = xy[edges[:, 0]], xy[edges[:, 1]]
    length = np.hypot(*(b - a).T)
    reach = np.zeros(len(xy))
    np.maximum.at(reach, edges[:, 0], length)
    np.maximum.at(reach, edges[:, 1], length)
    near, _ = tree.query(shapely.points(xy), predicate="dwithin", distance=reach)
    hot = np.zeros(len(xy), dtype=bool)
    hot[near] = True
    cand = np.flatnonzero(hot[edges[:, 0]] | hot[edges[:, 1]])
    cut = np.zeros(m, dtype=bool)
    if len(cand):
        links = shapely.linestrings(np.stack([a[cand], b[cand]], axis=1))
        hit, _ = tree.query(links, predicate="intersects")
        cut[cand[hit]] = True
    return cut
