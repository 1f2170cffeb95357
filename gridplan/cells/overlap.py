"""Vectorised overlap areas and point-in-polygon tests against convex cells (numpy).

Unclipped lattice cells (H3 hexagons, squares) are convex, which allows two
array-core shortcuts that avoid one GEOS call per pair:

- :func:`convex_overlap_areas`: area of ``polygon ∩ convex cell`` for many pairs
  at once by Sutherland–Hodgman clipping of every ring of the polygon against
  the cell's half-planes, all pairs in the same numpy passes, then the shoelace
  formula. Clipping a ring against a half-plane keeps its winding number inside
  the half-plane and zeroes it outside (the extra edges run along the clip line
  and cancel), so the signed area of the clipped ring is exact for concave
  polygons too; rings are oriented (exteriors counter-clockwise, holes
  clockwise) so holes subtract.
- :func:`points_in_convex`: a point is in a convex cell when it lies on the
  inner side of (or on) every edge.

Coordinates are shifted to each cell's first vertex before any product, so
precision does not depend on the size of UTM coordinates. Units: the inputs'
(metres and m² in the work CRS).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely

#: Pairs are processed in chunks of about this many subject vertices (memory bound).
CHUNK_VERTICES = 2_000_000


def pad_vertices(xy: np.ndarray, counts: np.ndarray, k: int | None = None) -> np.ndarray:
    """Ragged vertex lists (``xy`` flat, ``counts`` per polygon, no closing vertex) as a
    ``(n, k, 2)`` array padded by repeating the last vertex, oriented counter-clockwise."""
    counts = np.asarray(counts, dtype=np.int64)
    n = len(counts)
    k = int(counts.max()) if k is None and n else (k or 0)
    if n == 0:
        return np.zeros((0, k, 2))
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    pos = starts[:, None] + np.minimum(np.arange(k)[None, :], counts[:, None] - 1)
    v = np.asarray(xy, dtype=float)[pos]
    return orient_ccw(v)


def orient_ccw(v: np.ndarray) -> np.ndarray:
    """Reverse the padded polygons ``(n, k, 2)`` whose signed area is negative."""
    if len(v) == 0:
        return v
    rel = v - v[:, :1, :]
    nxt = np.roll(rel, -1, axis=1)
    signed = np.sum(rel[..., 0] * nxt[..., 1] - rel[..., 1] * nxt[..., 0], axis=1)
    flip = signed < 0
    if flip.any():
        v = v.copy()
        v[flip] = v[flip, ::-1, :]
    return v


def pad_to(v: np.ndarray, k: int) -> np.ndarray:
    """Pad ``(n, k0, 2)`` polygons to ``k >= k0`` vertices by repeating the last one."""
    if v.shape[1] >= k:
        return v
    extra = np.repeat(v[:, -1:, :], k - v.shape[1], axis=1)
    return np.concatenate([v, extra], axis=1)


@dataclass(frozen=True, eq=False)
class HalfPlanes:
    """Edge lines of convex polygons, ``a·x + b·y + c >= 0`` inside, as ``(K, n)`` arrays.

    Coordinates are taken relative to ``origin`` (metres) to keep ``c`` small.
    """

    a: np.ndarray
    b: np.ndarray
    c: np.ndarray
    tol: np.ndarray
    origin: tuple[float, float]

    @classmethod
    def of(cls, verts: np.ndarray, origin: tuple[float, float] | None = None) -> HalfPlanes:
        """From counter-clockwise padded corners ``(n, K, 2)``."""
        if origin is None:
            origin = (
                (float(verts[..., 0].min()), float(verts[..., 1].min()))
                if verts.size
                else (
                    0.0,
                    0.0,
                )
            )
        v = verts - np.asarray(origin)
        w = np.roll(v, -1, axis=1)
        ex, ey = w[..., 0] - v[..., 0], w[..., 1] - v[..., 1]
        # cross(e, p - v) = ex (py - vy) - ey (px - vx) = -ey px + ex py + (ey vx - ex vy)
        a = np.ascontiguousarray((-ey).T)
        b = np.ascontiguousarray(ex.T)
        c = np.ascontiguousarray((ey * v[..., 0] - ex * v[..., 1]).T)
        tol = np.ascontiguousarray((1e-7 * (np.abs(ex) + np.abs(ey))).T)
        return cls(a, b, c, tol, origin)

    def contains(self, xy: np.ndarray, cell: np.ndarray) -> np.ndarray:
        """Whether point ``xy[i]`` lies in (or within 1e-7 m of) polygon ``cell[i]``."""
        xy = np.asarray(xy, dtype=float).reshape(-1, 2)
        px = xy[:, 0] - self.origin[0]
        py = xy[:, 1] - self.origin[1]
        inside = np.ones(len(xy), dtype=bool)
        for j in range(self.a.shape[0]):
            s = self.a[j][cell] * px + self.b[j][cell] * py + self.c[j][cell]
            inside &= s >= -self.tol[j][cell]
        return inside


def points_in_convex(
    xy: np.ndarray, verts: np.ndarray, cell: np.ndarray | None = None
) -> np.ndarray:
    """Whether point ``xy[i]`` lies in (or on the edge of) convex polygon ``verts[cell[i]]``.

    ``xy`` ``(m, 2)``; ``verts`` ``(n, k, 2)`` counter-clockwise, padded; ``cell``
    defaults to ``arange(m)``. Points within 1e-7 m of an edge count as inside.
    """
    xy = np.asarray(xy, dtype=float).reshape(-1, 2)
    if len(xy) == 0:
        return np.zeros(0, dtype=bool)
    if cell is None:
        cell = np.arange(len(xy))
    sub, inv = np.unique(cell, return_inverse=True)
    return HalfPlanes.of(verts[sub]).contains(xy, inv)


@dataclass(frozen=True, eq=False)
class Rings:
    """Oriented rings of polygonal geometries: flat vertices (no closing vertex),
    per-ring ``start``/``length``, and per-geometry ``first_ring``/``n_rings``."""

    xy: np.ndarray
    start: np.ndarray
    length: np.ndarray
    first_ring: np.ndarray
    n_rings: np.ndarray

    @property
    def vertices_per_geometry(self) -> np.ndarray:
        sums = np.concatenate([[0], np.cumsum(self.length)])
        return sums[self.first_ring + self.n_rings] - sums[self.first_ring]


def rings_of(geoms: np.ndarray) -> Rings:
    """The oriented rings (exterior counter-clockwise, holes clockwise) of polygonal geometries."""
    geoms = np.asarray(geoms, dtype=object)
    n = len(geoms)
    parts, part_geom = shapely.get_parts(geoms, return_index=True)
    poly = shapely.get_type_id(parts) == 3
    parts, part_geom = parts[poly], part_geom[poly]
    parts = shapely.orient_polygons(parts, exterior_cw=False)
    rings, ring_part = shapely.get_rings(parts, return_index=True)
    ring_geom = part_geom[ring_part]
    coords, coord_ring = shapely.get_coordinates(rings, return_index=True)
    length = np.bincount(coord_ring, minlength=len(rings)) - 1  # drop the closing vertex
    ring_start_closed = np.concatenate([[0], np.cumsum(length + 1)[:-1]])
    keep = np.ones(len(coords), dtype=bool)
    if len(rings):
        keep[ring_start_closed + length] = False
    xy = coords[keep]
    start = np.concatenate([[0], np.cumsum(length)[:-1]]) if len(rings) else np.zeros(0, np.int64)
    n_rings = np.bincount(ring_geom, minlength=n)
    first_ring = np.concatenate([[0], np.cumsum(n_rings)[:-1]]) if n else np.zeros(0, np.int64)
    return Rings(xy, start.astype(np.int64), length.astype(np.int64), first_ring, n_rings)


def _next_in_group(owner: np.ndarray) -> np.ndarray:
    """Index of the next vertex of the same polygon (cyclic); ``owner`` is sorted."""
    n = len(owner)
    nxt = np.arange(1, n + 1)
    if n == 0:
        return nxt
    change = np.flatnonzero(owner[1:] != owner[:-1])
    ends = np.append(change, n - 1)
    starts = np.insert(change + 1, 0, 0)
    nxt[ends] = starts
    return nxt


def _clip_pass(
    x: np.ndarray,
    y: np.ndarray,
    owner: np.ndarray,
    ax: np.ndarray,
    ay: np.ndarray,
    dx: np.ndarray,
    dy: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One Sutherland–Hodgman pass: keep the left side of the line through
    ``(ax, ay)`` with direction ``(dx, dy)`` (one line per owner)."""
    n = len(x)
    if n == 0:
        return x, y, owner
    nxt = _next_in_group(owner)
    d = dx[owner] * (y - ay[owner]) - dy[owner] * (x - ax[owner])
    ins = d >= 0
    if ins.all():
        return x, y, owner
    ins_n = ins[nxt]
    # per edge (i -> nxt[i]): outputs [I] on leave, [E] on stay, [I, E] on enter
    cnt = ins_n.astype(np.int64) + (ins != ins_n)
    off = np.cumsum(cnt) - cnt
    total = int(off[-1] + cnt[-1])
    ox = np.empty(total)
    oy = np.empty(total)
    cross = np.flatnonzero(ins != ins_n)
    if len(cross):
        j = nxt[cross]
        t = d[cross] / (d[cross] - d[j])
        ox[off[cross]] = x[cross] + t * (x[j] - x[cross])
        oy[off[cross]] = y[cross] + t * (y[j] - y[cross])
    keep_e = np.flatnonzero(ins_n)
    pos_e = off[keep_e] + (~ins[keep_e])
    ox[pos_e] = x[nxt[keep_e]]
    oy[pos_e] = y[nxt[keep_e]]
    return ox, oy, np.repeat(owner, cnt)


def _shoelace(x: np.ndarray, y: np.ndarray, owner: np.ndarray, n_owners: int) -> np.ndarray:
    if len(x) == 0:
        return np.zeros(n_owners)
    nxt = _next_in_group(owner)
    cross = x * y[nxt] - y * x[nxt]
    return 0.5 * np.bincount(owner, weights=cross, minlength=n_owners)


def convex_overlap_areas(
    rings: Rings, geom_idx: np.ndarray, clip_vertices: np.ndarray, clip_idx: np.ndarray
) -> np.ndarray:
    """Area (m²) of ``geom[geom_idx[k]] ∩ clip[clip_idx[k]]`` for every pair ``k``.

    ``rings`` holds the polygonal geometries (:func:`rings_of`); ``clip_vertices``
    ``(n_cells, K, 2)`` the convex cells, counter-clockwise, padded.
    """
    geom_idx = np.asarray(geom_idx, dtype=np.int64)
    clip_idx = np.asarray(clip_idx, dtype=np.int64)
    m = len(geom_idx)
    out = np.zeros(m)
    if m == 0:
        return out
    verts_per_pair = rings.vertices_per_geometry[geom_idx]
    bounds = np.concatenate([[0], np.cumsum(verts_per_pair)])
    k = clip_vertices.shape[1]
    lo = 0
    while lo < m:
        hi = int(np.searchsorted(bounds, bounds[lo] + CHUNK_VERTICES, side="right")) - 1
        hi = min(max(hi, lo + 1), m)
        sl = slice(lo, hi)
        g, c = geom_idx[sl], clip_idx[sl]
        # ring-pairs
        nr = rings.n_rings[g]
        rp_pair = np.repeat(np.arange(hi - lo), nr)
        rp_ring = (
            np.repeat(rings.first_ring[g], nr)
            + np.arange(len(rp_pair))
            - np.repeat(np.cumsum(nr) - nr, nr)
        )
        lens = rings.length[rp_ring]
        owner = np.repeat(np.arange(len(rp_ring)), lens)
        within = np.arange(len(owner)) - np.repeat(np.cumsum(lens) - lens, lens)
        origin = clip_vertices[c, 0, :]
        src = rings.start[rp_ring][owner] + within
        o = origin[rp_pair][owner]
        x = rings.xy[src, 0] - o[:, 0]
        y = rings.xy[src, 1] - o[:, 1]
        cv = clip_vertices[c] - origin[:, None, :]
        cv_rp = cv[rp_pair]
        for j in range(k):
            a = cv_rp[:, j, :]
            b = cv_rp[:, (j + 1) % k, :]
            x, y, owner = _clip_pass(
                x, y, owner, a[:, 0], a[:, 1], b[:, 0] - a[:, 0], b[:, 1] - a[:, 1]
            )
        areas = _shoelace(x, y, owner, len(rp_ring))
        out[sl] = np.bincount(rp_pair, weights=areas, minlength=hi - lo)
        lo = hi
    return np.maximum(out, 0.0)
