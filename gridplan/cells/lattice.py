"""Base-cell lattices: H3 hexagons, square cells, or the planner's own polygons.

Every builder returns a :class:`Lattice` in the work CRS (the Layers' projected
CRS, metres): one geometry and one text id per cell, a flag telling which cells
were clipped by the city boundary, candidate neighbour pairs from the lattice
topology, and a point locator.

Cover rule (H3 and squares): every lattice cell whose polygon intersects the
boundary with positive area is kept and — with ``clip=True``, the default —
clipped to the boundary, so the cells partition the boundary exactly: every
point of the boundary lies in exactly one cell (cells only share edges). With
``clip=False`` the full hexagons/squares are kept (they still cover the
boundary without overlaps, and stick out of it at the edge).

- H3: candidate cells are those whose centre lies in the boundary (H3 "center"
  fill in WGS 84) plus those holding points sampled every half edge along the
  boundary line; rings of neighbours around the edge cells are then tested
  geometrically in the work CRS until none touches the boundary, so no sliver
  is left uncovered (H3 edges are great-circle arcs, the work CRS is planar).
  Cell ids are H3 indexes (lower-case hex text).
  Hexagon vertices come from ``h3.cell_to_boundary`` (shared vertices are
  bit-identical) projected to the work CRS.
- Squares: ``size`` metres, aligned to ``origin`` in the work CRS: cell
  ``(col, row)`` is ``[ox + col·size, ox + (col+1)·size) × [oy + row·size, …)``,
  id ``sq_<col>_<row>``. Ids therefore stay stable when the boundary changes.
- Polygons: the planner's polygons (tracts, blocks, 小区) with their own id,
  clipped to the boundary when ``clip=True``; polygons left empty are dropped.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from itertools import chain

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import pyproj
import shapely
from h3.api import basic_int as h3i

from gridplan.cells.clipping import intersect_with
from gridplan.cells.overlap import pad_to, pad_vertices
from gridplan.cells.polygon_graph import contact_candidates, unique_pairs
from gridplan.errors import InputError, Problem
from gridplan.layers.crs import WGS84
from gridplan.progress import ProgressCallback, no_progress

#: Cells whose area (m²) is below this after clipping are treated as empty.
MIN_CELL_AREA_M2 = 1e-6

Locator = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True, eq=False)
class Lattice:
    """Cells of one lattice in the work CRS (metres), before aggregation.

    ``candidate_pairs`` ``(m, 2)`` (``i < j``) are neighbours by lattice topology;
    ``verify`` marks the pairs whose contact must be checked geometrically
    (pairs touching a clipped cell, and all pairs of user polygons).
    ``vertices`` ``(n, K, 2)`` holds the corners of the convex cells (unclipped
    hexagons and squares; counter-clockwise, padded by repeating the last
    corner) and ``convex`` says which rows are valid. ``locate(xy)``, when given,
    maps points to the lattice cell whose *unclipped* shape contains them by
    arithmetic (squares; ``-1`` when none). ``border`` marks the cells not
    strictly inside the boundary: the nearest cell to any point outside the
    union of the cells is one of them (all cells for user polygons, which may
    leave gaps).
    """

    kind: str
    cell_id: np.ndarray
    geometry: np.ndarray
    clipped: np.ndarray
    candidate_pairs: np.ndarray
    verify: np.ndarray
    vertices: np.ndarray
    convex: np.ndarray
    border: np.ndarray
    locate: Locator | None = None
    notes: tuple[str, ...] = ()
    h3_resolution: int | None = None
    square_size_m: float | None = None

    @property
    def n(self) -> int:
        return len(self.cell_id)


# ----------------------------------------------------------------- helpers
def boundary_geometry(boundary: gpd.GeoDataFrame) -> shapely.Geometry:
    """The union of the boundary polygons (made valid), polygonal parts only."""
    geoms = np.asarray(boundary.geometry.values, dtype=object)
    geoms = geoms[~shapely.is_missing(geoms)]
    if len(geoms) == 0:
        raise InputError(
            Problem("the boundary layer has no geometry", "boundary", "give the city polygon")
        )
    geoms = polygonal(shapely.make_valid(geoms))
    union = polygonal(shapely.union_all(geoms))
    if union is None or union.is_empty or union.area <= 0:
        raise InputError(
            Problem(
                "the boundary has no area",
                "boundary",
                "give the city boundary as polygon(s), not lines or points",
            )
        )
    return union


def polygonal(geoms):
    """Keep only the polygonal parts of geometries (scalar or array); empty -> empty polygon."""
    scalar = not isinstance(geoms, np.ndarray)
    arr = np.atleast_1d(np.asarray(geoms, dtype=object))
    out = arr.copy()
    type_id = shapely.get_type_id(arr)
    odd = ~np.isin(type_id, (3, 6)) & ~shapely.is_missing(arr)  # 3 Polygon, 6 MultiPolygon
    for k in np.flatnonzero(odd):
        parts = shapely.get_parts(arr[k])
        parts = parts[np.isin(shapely.get_type_id(parts), (3, 6))]
        if len(parts) == 0:
            out[k] = shapely.Polygon()
        elif len(parts) == 1:
            out[k] = parts[0]
        else:
            out[k] = shapely.union_all(parts)
    return out[0] if scalar else out


def _clip(geoms: np.ndarray, boundary: shapely.Geometry) -> tuple[np.ndarray, np.ndarray]:
    """Clip geometries to the (prepared) boundary: ``(clipped_geoms, was_clipped)``."""
    shapely.prepare(boundary)
    inside = shapely.contains_properly(boundary, geoms)
    out = geoms.copy()
    edge = np.flatnonzero(~inside)
    clipped = np.zeros(len(geoms), dtype=bool)
    if len(edge):
        before = shapely.area(geoms[edge])
        out[edge] = polygonal(intersect_with(geoms[edge], boundary))
        clipped[edge] = shapely.area(out[edge]) < before * (1 - 1e-9)
    return out, clipped


def _transformer(src: pyproj.CRS, dst: pyproj.CRS) -> pyproj.Transformer:
    return pyproj.Transformer.from_crs(src, dst, always_xy=True)


def _transform_xy(tr: pyproj.Transformer, xy: np.ndarray) -> np.ndarray:
    x, y = tr.transform(xy[:, 0], xy[:, 1])
    return np.column_stack([np.asarray(x, dtype=float), np.asarray(y, dtype=float)])


def _verify_flags(pairs: np.ndarray, clipped: np.ndarray) -> np.ndarray:
    if len(pairs) == 0:
        return np.zeros(0, dtype=bool)
    return clipped[pairs[:, 0]] | clipped[pairs[:, 1]]


def _lookup(sorted_keys: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """Position of each key in ``sorted_keys`` or -1."""
    if len(sorted_keys) == 0:
        return np.full(len(keys), -1, dtype=np.int64)
    pos = np.searchsorted(sorted_keys, keys)
    pos = np.minimum(pos, len(sorted_keys) - 1)
    return np.where(sorted_keys[pos] == keys, pos, -1).astype(np.int64)


def _check_count(estimate: float, max_cells: int, what: str, fix: str) -> None:
    if estimate > max_cells:
        raise InputError(
            Problem(
                f"{what} would make about {estimate:,.0f} cells, above the limit of {max_cells:,}",
                "cells settings",
                fix,
            )
        )


# --------------------------------------------------------------------- H3
def pick_h3_resolution(area_km2: float, target_cells: int) -> int:
    """The H3 resolution whose mean hexagon area gives the count nearest ``target_cells``.

    ``area_km2`` is the boundary area (km²); "nearest" is the absolute difference
    ``|area / mean_hexagon_area(res) − target|`` over resolutions 0..15.
    """
    if target_cells < 1:
        raise ValueError("target_cells must be >= 1")
    counts = [area_km2 / h3.average_hexagon_area(r, unit="km^2") for r in range(16)]
    return int(np.argmin([abs(c - target_cells) for c in counts]))


def _h3_polygons(ids: np.ndarray, to_work: pyproj.Transformer) -> tuple[np.ndarray, np.ndarray]:
    """Hexagon polygons of H3 cells in the work CRS and their padded corners ``(n, K, 2)``."""
    bounds = [h3i.cell_to_boundary(int(h)) for h in ids]
    counts = np.fromiter((len(b) for b in bounds), dtype=np.int64, count=len(bounds))
    flat = np.fromiter(
        chain.from_iterable(chain.from_iterable(bounds)), dtype=float, count=2 * int(counts.sum())
    )
    latlng = flat.reshape(-1, 2)
    xy = _transform_xy(to_work, latlng[:, ::-1])
    rings = shapely.linearrings(xy, indices=np.repeat(np.arange(len(ids)), counts))
    return shapely.polygons(rings), pad_vertices(xy, counts)


def _shared_corner_pairs(verts: np.ndarray) -> np.ndarray:
    """Pairs ``i < j`` of polygons sharing at least one corner (bit-identical coordinates)."""
    n, k, _ = verts.shape
    if n == 0:
        return np.zeros((0, 2), dtype=np.int64)
    x = verts[:, :, 0].ravel()
    y = verts[:, :, 1].ravel()
    owner = np.repeat(np.arange(n, dtype=np.int64), k)
    order = np.lexsort((owner, y, x))
    x, y, owner = x[order], y[order], owner[order]
    new_run = np.r_[True, (x[1:] != x[:-1]) | (y[1:] != y[:-1])]
    run = np.cumsum(new_run)
    out = []
    for d in range(1, k + 3):
        same = run[d:] == run[:-d]
        if not same.any():
            break
        out.append(np.column_stack([owner[:-d][same], owner[d:][same]]))
    if not out:
        return np.zeros((0, 2), dtype=np.int64)
    return unique_pairs(np.concatenate(out), n)


def _h3_pairs(ids: np.ndarray, verts: np.ndarray) -> np.ndarray:
    """Neighbour pairs ``i < j`` among sorted H3 ids.

    Hexagons sharing a corner are neighbours (in a hexagon tiling a shared corner
    means a shared edge); cells with fewer than six such neighbours (the edge of
    the set, pentagons, corners computed on different icosahedron faces) are
    checked with ``h3.grid_disk`` as well.
    """
    pairs = _shared_corner_pairs(verts)
    deg = np.bincount(pairs.ravel(), minlength=len(ids))
    check = np.flatnonzero(deg < 6)
    if len(check):
        disks = [h3i.grid_disk(int(h), 1) for h in ids[check]]
        counts = np.fromiter((len(d) for d in disks), dtype=np.int64, count=len(disks))
        nb = np.fromiter(chain.from_iterable(disks), dtype=np.uint64, count=int(counts.sum()))
        src = np.repeat(check, counts)
        dst = _lookup(ids, nb)
        ok = dst >= 0
        pairs = unique_pairs(np.concatenate([pairs, np.column_stack([src[ok], dst[ok]])]), len(ids))
    return pairs


def h3_lattice(
    boundary: shapely.Geometry,
    crs: pyproj.CRS,
    resolution: int,
    *,
    clip: bool = True,
    max_cells: int = 2_000_000,
    progress: ProgressCallback = no_progress,
) -> Lattice:
    """H3 hexagons of ``resolution`` covering ``boundary`` (work CRS ``crs``, metres)."""
    if not 0 <= resolution <= 15:
        raise InputError(
            Problem(f"H3 resolution {resolution} is not in 0..15", "cells settings", "use 0..15")
        )
    area_km2 = boundary.area / 1e6
    mean_km2 = h3.average_hexagon_area(resolution, unit="km^2")
    _check_count(
        area_km2 / mean_km2,
        max_cells,
        f"H3 resolution {resolution} over {area_km2:,.1f} km²",
        "choose a coarser resolution (smaller number) or raise max_cells",
    )
    to_ll = _transformer(crs, WGS84)
    to_work = _transformer(WGS84, crs)
    edge_m = h3.average_hexagon_edge_length(resolution, unit="m")
    progress(0.05, f"filling the boundary with H3 cells (resolution {resolution})")
    # Cells whose centre is inside (H3 "center" fill) plus the cells holding points
    # sampled along the boundary every half edge; the ring search below adds any
    # cell the boundary only grazes, tested in the work CRS.
    dense_ll = shapely.transform(
        shapely.segmentize(boundary, 1000.0), lambda c: _transform_xy(to_ll, c)
    )
    found = set(
        h3i.polygon_to_cells_experimental(h3.geo_to_h3shape(dense_ll), resolution, contain="center")
    )
    ring_xy = shapely.get_coordinates(shapely.segmentize(boundary.boundary, edge_m / 2.0))
    ring_ll = _transform_xy(to_ll, ring_xy)
    found.update(
        h3i.latlng_to_cell(a, b, resolution)
        for a, b in zip(ring_ll[:, 1].tolist(), ring_ll[:, 0].tolist(), strict=True)
    )
    ids = np.array(sorted(found), dtype=np.uint64)
    progress(0.3, f"building {len(ids):,} hexagons")
    geoms, verts = _h3_polygons(ids, to_work)
    shapely.prepare(boundary)
    inside = shapely.contains_properly(boundary, geoms)
    # Rings around the edge cells — and around candidates that turned out not to touch
    # the boundary in the work CRS — repeated while they find cells touching it.
    frontier = ids[~inside]
    keep = inside.copy()
    keep[~inside] = shapely.intersects(boundary, geoms[~inside])
    ids, geoms, verts, inside = ids[keep], geoms[keep], verts[keep], inside[keep]
    known = found
    for _ in range(8):
        cand = {c for h in frontier.tolist() for c in h3i.grid_disk(int(h), 1)} - known
        if not cand:
            break
        cand_ids = np.array(sorted(cand), dtype=np.uint64)
        cand_geoms, cand_verts = _h3_polygons(cand_ids, to_work)
        hit = shapely.intersects(boundary, cand_geoms)
        known |= cand
        if not hit.any():
            break
        cand_inside = shapely.contains_properly(boundary, cand_geoms[hit])
        k = max(verts.shape[1], cand_verts.shape[1])
        ids = np.concatenate([ids, cand_ids[hit]])
        geoms = np.concatenate([geoms, cand_geoms[hit]])
        verts = np.concatenate([pad_to(verts, k), pad_to(cand_verts[hit], k)])
        inside = np.concatenate([inside, cand_inside])
        frontier = cand_ids[hit][~cand_inside]
    order = np.argsort(ids)
    ids, geoms, verts, inside = ids[order], geoms[order], verts[order], inside[order]

    progress(0.6, "clipping the edge hexagons to the boundary")
    clipped = np.zeros(len(ids), dtype=bool)
    if clip:
        edge = np.flatnonzero(~inside)
        geoms = geoms.copy()
        before = shapely.area(geoms[edge])
        geoms[edge] = polygonal(intersect_with(geoms[edge], boundary))
        clipped[edge] = shapely.area(geoms[edge]) < before * (1 - 1e-9)
    keep = inside.copy()
    keep[~inside] = shapely.area(geoms[~inside]) > MIN_CELL_AREA_M2
    ids, geoms, verts, clipped = ids[keep], geoms[keep], verts[keep], clipped[keep]
    border = ~inside[keep]
    progress(0.8, "finding hexagon neighbours")
    pairs = _h3_pairs(ids, verts)
    cell_id = np.array([format(int(h), "x") for h in ids], dtype=object)
    notes = (
        f"H3 resolution {resolution} (mean hexagon {mean_km2:.4f} km²): {len(ids):,} cells, "
        f"{int(clipped.sum()):,} clipped to the boundary",
    )
    progress(1.0, "hexagons ready")
    return Lattice(
        "h3",
        cell_id,
        geoms,
        clipped,
        pairs,
        _verify_flags(pairs, clipped),
        verts,
        ~clipped,
        border,
        None,
        notes,
        h3_resolution=resolution,
    )


# ----------------------------------------------------------------- squares
_ROW_SHIFT = np.int64(1) << np.int64(32)
_COL_OFFSET = np.int64(1) << np.int64(31)


def _square_key(col: np.ndarray, row: np.ndarray) -> np.ndarray:
    return row.astype(np.int64) * _ROW_SHIFT + (col.astype(np.int64) + _COL_OFFSET)


@dataclass(frozen=True, eq=False)
class SquareLocator:
    """Row of the square containing each point, by arithmetic (``-1`` when none).

    ``keys`` are the sorted ``(row, col)`` keys of the cells; a picklable callable.
    """

    ox: float
    oy: float
    size_m: float
    keys: np.ndarray

    def __call__(self, xy: np.ndarray) -> np.ndarray:
        xy = np.asarray(xy, dtype=float).reshape(-1, 2)
        ok = np.isfinite(xy).all(axis=1)
        c = np.floor((np.where(ok, xy[:, 0], self.ox) - self.ox) / self.size_m).astype(np.int64)
        r = np.floor((np.where(ok, xy[:, 1], self.oy) - self.oy) / self.size_m).astype(np.int64)
        out = _lookup(self.keys, _square_key(c, r))
        out[~ok] = -1
        return out


def square_lattice(
    boundary: shapely.Geometry,
    size_m: float,
    *,
    origin: tuple[float, float] = (0.0, 0.0),
    clip: bool = True,
    contiguity: str = "rook",
    max_cells: int = 2_000_000,
    progress: ProgressCallback = no_progress,
) -> Lattice:
    """Square cells of ``size_m`` metres aligned to ``origin`` (work CRS) covering ``boundary``."""
    if not (size_m > 0 and math.isfinite(size_m)):
        raise InputError(
            Problem(f"square size {size_m} m is not positive", "cells settings", "use e.g. 500")
        )
    ox, oy = origin
    minx, miny, maxx, maxy = boundary.bounds
    c0, c1 = math.floor((minx - ox) / size_m), math.floor((maxx - ox) / size_m)
    r0, r1 = math.floor((miny - oy) / size_m), math.floor((maxy - oy) / size_m)
    ncol, nrow = c1 - c0 + 1, r1 - r0 + 1
    _check_count(
        boundary.area / size_m**2,
        max_cells,
        f"squares of {size_m:g} m",
        "use larger squares or raise max_cells",
    )
    _check_count(
        ncol * nrow,
        50 * max_cells,
        f"the bounding box scan for squares of {size_m:g} m",
        "use larger squares",
    )
    shapely.prepare(boundary)
    cols_all = np.arange(c0, c1 + 1, dtype=np.int64)
    chunk_rows = max(1, 1_000_000 // max(ncol, 1))
    cols_l, rows_l, geoms_l, inside_l = [], [], [], []
    for start in range(r0, r1 + 1, chunk_rows):
        progress(0.7 * (start - r0) / nrow, "laying out squares")
        rows = np.arange(start, min(start + chunk_rows, r1 + 1), dtype=np.int64)
        cc, rr = np.meshgrid(cols_all, rows)
        cc, rr = cc.ravel(), rr.ravel()
        x0, y0 = ox + cc * size_m, oy + rr * size_m
        boxes = shapely.box(x0, y0, x0 + size_m, y0 + size_m)
        hit = shapely.intersects(boundary, boxes)
        boxes, cc, rr = boxes[hit], cc[hit], rr[hit]
        cols_l.append(cc)
        rows_l.append(rr)
        geoms_l.append(boxes)
        inside_l.append(shapely.contains_properly(boundary, boxes))
    cols = np.concatenate(cols_l)
    rows = np.concatenate(rows_l)
    geoms = np.concatenate(geoms_l)
    inside = np.concatenate(inside_l)
    clipped = np.zeros(len(cols), dtype=bool)
    progress(0.75, "clipping the edge squares to the boundary")
    if clip:
        edge = np.flatnonzero(~inside)
        before = shapely.area(geoms[edge])
        geoms[edge] = polygonal(intersect_with(geoms[edge], boundary))
        clipped[edge] = shapely.area(geoms[edge]) < before * (1 - 1e-9)
    keep = shapely.area(geoms) > MIN_CELL_AREA_M2
    cols, rows, geoms, clipped = cols[keep], rows[keep], geoms[keep], clipped[keep]
    border = ~inside[keep]
    keys = _square_key(cols, rows)  # built row by row, so already sorted by (row, col)
    offsets = [(1, 0), (0, 1)] + ([(1, 1), (-1, 1)] if contiguity == "queen" else [])
    pair_l = []
    for dc, dr in offsets:
        j = _lookup(keys, _square_key(cols + dc, rows + dr))
        ok = j >= 0
        i = np.flatnonzero(ok)
        pair_l.append(np.column_stack([np.minimum(i, j[ok]), np.maximum(i, j[ok])]))
    pairs = unique_pairs(np.concatenate(pair_l), len(keys))

    locate = SquareLocator(float(ox), float(oy), float(size_m), keys)
    cell_id = np.array([f"sq_{c}_{r}" for c, r in zip(cols.tolist(), rows.tolist(), strict=True)])
    x0, y0 = ox + cols * size_m, oy + rows * size_m
    x1, y1 = x0 + size_m, y0 + size_m
    verts = np.stack(
        [np.column_stack(v) for v in ((x0, y0), (x1, y0), (x1, y1), (x0, y1))], axis=1
    ).astype(float)
    notes = (
        f"squares of {size_m:g} m aligned to origin ({ox:g}, {oy:g}): {len(keys):,} cells, "
        f"{int(clipped.sum()):,} clipped to the boundary",
    )
    progress(1.0, "squares ready")
    return Lattice(
        "square",
        cell_id.astype(object),
        geoms,
        clipped,
        pairs,
        _verify_flags(pairs, clipped),
        verts,
        ~clipped,
        border,
        locate,
        notes,
        square_size_m=float(size_m),
    )


# ---------------------------------------------------------------- polygons
def polygon_lattice(
    polygons: gpd.GeoDataFrame,
    boundary: shapely.Geometry,
    crs: pyproj.CRS,
    *,
    id_column: str | None = None,
    clip: bool = True,
    snap_tolerance_m: float = 0.01,
    progress: ProgressCallback = no_progress,
) -> Lattice:
    """The planner's own polygons as cells, keeping their id (``id_column`` or the index)."""
    notes: list[str] = []
    if polygons.crs is None:
        notes.append("the cell polygons carry no CRS: assumed to be in the work CRS")
    elif not pyproj.CRS.from_user_input(polygons.crs).equals(crs):
        polygons = polygons.to_crs(crs)
    if id_column is not None:
        if id_column not in polygons.columns:
            raise InputError(
                Problem(
                    f"no column {id_column!r} for the cell ids",
                    "cell polygons",
                    f"choose one of {list(polygons.columns)}",
                )
            )
        raw_ids = polygons[id_column]
    else:
        raw_ids = pd.Series(polygons.index, index=polygons.index)
    ids = raw_ids.astype(str).to_numpy(dtype=object)
    dup = pd.Series(ids).duplicated(keep=False).to_numpy()
    if dup.any():
        shown = sorted(set(ids[dup].tolist()))[:10]
        raise InputError(
            Problem(
                f"{int(dup.sum())} cell polygons share an id (e.g. {', '.join(shown)})",
                "cell polygons" + (f", column {id_column!r}" if id_column else ", index"),
                "give every polygon a unique id",
            )
        )
    geoms = np.asarray(polygons.geometry.values, dtype=object)
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    bad = ~missing & ~shapely.is_valid(np.where(missing, None, geoms))
    if bad.any():
        geoms = geoms.copy()
        geoms[bad] = shapely.make_valid(geoms[bad])
        notes.append(f"{int(bad.sum())} invalid cell polygons were repaired (make_valid)")
    geoms = polygonal(np.where(missing, shapely.Polygon(), geoms))
    progress(0.2, "clipping the polygons to the boundary")
    clipped = np.zeros(len(geoms), dtype=bool)
    if clip:
        geoms, clipped = _clip(geoms, boundary)
    area = shapely.area(geoms)
    keep = area > MIN_CELL_AREA_M2
    if (~keep).any():
        shown = ", ".join(ids[~keep][:10].tolist())
        notes.append(
            f"{int((~keep).sum())} cell polygons have no area inside the boundary and were "
            f"dropped (e.g. {shown})"
        )
    ids, geoms, clipped, area = ids[keep], geoms[keep], clipped[keep], area[keep]
    if len(ids) == 0:
        raise InputError(
            Problem(
                "no cell polygon overlaps the boundary",
                "cell polygons",
                "check that the polygons and the boundary are the same place and CRS",
            )
        )
    progress(0.5, "finding polygon neighbours")
    pairs = contact_candidates(geoms, tolerance_m=snap_tolerance_m)
    gap = boundary.area - float(area.sum())
    if clip and gap > 1e-3 * boundary.area:
        notes.append(
            f"the cell polygons leave {gap / 1e6:,.3f} km² ({100 * gap / boundary.area:.2f} %) "
            "of the boundary uncovered (or overlap each other); points there are snapped to the "
            "nearest cell"
        )
    progress(1.0, "polygons ready")
    return Lattice(
        "polygons",
        ids,
        geoms,
        clipped,
        pairs,
        np.ones(len(pairs), dtype=bool),
        np.zeros((len(ids), 0, 2)),
        np.zeros(len(ids), dtype=bool),
        np.ones(len(ids), dtype=bool),
        None,
        tuple(notes),
    )
