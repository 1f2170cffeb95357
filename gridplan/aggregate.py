"""Aggregation of layers onto cells: points by location, polygons by area weighting.

All functions work in the work CRS (metres) on numpy arrays of shapely geometries.

- **Points** (population points, customers, sites) go to the cell containing
  them. A point in no cell (outside the boundary, or in a gap between the
  planner's polygons) is *snapped* to the nearest cell (exact geometric
  distance, ``STRtree.query_nearest``) and counted in the notes; with
  ``max_snap_m`` set, points farther than that are dropped and reported instead.
  Points on a shared edge go to the lowest-numbered cell.
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

_POLYGONAL = (3, 6)  # shapely type ids of Polygon and MultiPolygon
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


def locate_points(
    xy: np.ndarray,
    locate,
    locate_exact: bool,
    cells: np.ndarray,
    clipped: np.ndarray,
    tree: shapely.STRtree,
    *,
    snap: bool = True,
    max_snap_m: float | None = None,
) -> Located:
    """Cell of every point ``xy`` ``(k, 2)`` (metres, work CRS).

    ``locate`` is the lattice locator; when it is not exact, points it puts in a
    clipped cell are checked against the clipped geometry. Points in no cell are
    snapped to the nearest cell when ``snap`` (within ``max_snap_m`` if given),
    else dropped (``cell = -1``).
    """
    xy = np.asarray(xy, dtype=float).reshape(-1, 2)
    k = len(xy)
    cell = locate(xy) if k else np.zeros(0, dtype=np.int64)
    finite = np.isfinite(xy).all(axis=1)
    cell = np.where(finite, cell, -1)
    if not locate_exact and k:
        check = np.flatnonzero((cell >= 0) & clipped[np.maximum(cell, 0)])
        if len(check):
            inside = shapely.intersects_xy(cells[cell[check]], xy[check, 0], xy[check, 1])
            cell[check[~inside]] = -1
    snapped = np.zeros(k, dtype=bool)
    dist = np.zeros(k)
    lost = np.flatnonzero((cell < 0) & finite)
    if snap and len(lost):
        (qi, ti), d = tree.query_nearest(
            shapely.points(xy[lost]),
            max_distance=max_snap_m,
            return_distance=True,
            all_matches=False,
        )
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
) -> AreaWeights:
    """Area-weighting pairs between polygonal ``sources`` and ``cells`` (work CRS).

    One bulk ``STRtree.query`` (sources prepared) finds the intersecting pairs;
    pairs where the source properly contains the cell take the cell's area, the
    rest are intersected with vectorised ``shapely.intersection``.
    """
    sources = np.asarray(sources, dtype=object)
    ns = len(sources)
    if ns == 0:
        z = np.zeros(0, dtype=np.int64)
        return AreaWeights(z, z, np.zeros(0), np.zeros(0), np.zeros(0, dtype=bool))
    shapely.prepare(sources)
    si, ci = cell_tree.query(sources, predicate="intersects")
    area = np.empty(len(si))
    if len(si):
        whole = shapely.contains_properly(sources[si], cells[ci])
        area[whole] = cell_area[ci[whole]]
        part = np.flatnonzero(~whole)
        if len(part):
            area[part] = shapely.area(shapely.intersection(sources[si[part]], cells[ci[part]]))
    keep = area > 0
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
        a = shapely.area(shapely.intersection(cells[mc], districts[mi]))
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
    links = shapely.linestrings(np.stack([xy[edges[:, 0]], xy[edges[:, 1]]], axis=1))
    hit, _ = tree.query(links, predicate="intersects")
    cut = np.zeros(m, dtype=bool)
    cut[hit] = True
    return cut
