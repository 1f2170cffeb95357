"""The numpy clipper, point-in-convex tests and tiled intersections against GEOS."""

from __future__ import annotations

import numpy as np
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from gridplan.cells.clipping import intersect_pairs, intersect_with
from gridplan.cells.overlap import convex_overlap_areas, pad_vertices, points_in_convex, rings_of

X0, Y0 = 400_000.0, 3_390_000.0  # UTM-sized coordinates on purpose


def hexagon(cx: float, cy: float, r: float) -> np.ndarray:
    th = np.arange(6) * np.pi / 3 + 0.1
    return np.column_stack([cx + r * np.cos(th), cy + r * np.sin(th)])


def star(rng, cx, cy, r, n):
    th = np.sort(rng.uniform(0, 2 * np.pi, n))
    rr = r * rng.uniform(0.25, 1.0, n)
    return shapely.Polygon(np.column_stack([cx + rr * np.cos(th), cy + rr * np.sin(th)]))


def test_pad_vertices_orients_counter_clockwise():
    sq_cw = np.array([[0, 0], [0, 1], [1, 1], [1, 0]], dtype=float)
    tri = np.array([[0, 0], [1, 0], [0, 1]], dtype=float)
    v = pad_vertices(np.concatenate([sq_cw, tri]), np.array([4, 3]))
    assert v.shape == (2, 4, 2)
    for poly in v:
        x, y = poly[:, 0], poly[:, 1]
        assert 0.5 * np.sum(x * np.roll(y, -1) - np.roll(x, -1) * y) > 0
    assert (v[1, 3] == v[1, 2]).all()  # padded by repeating the last corner


def test_hand_case_square_overlap():
    square = shapely.box(X0, Y0, X0 + 10, Y0 + 10)
    rings = rings_of(np.array([square], dtype=object))
    cell = pad_vertices(
        np.array([[X0 + 5, Y0 + 5], [X0 + 15, Y0 + 5], [X0 + 15, Y0 + 15], [X0 + 5, Y0 + 15]]),
        np.array([4]),
    )
    assert convex_overlap_areas(rings, [0], cell, [0])[0] == np.float64(25.0)


def test_holes_and_multipolygons_subtract_and_add():
    outer = shapely.box(X0, Y0, X0 + 100, Y0 + 100)
    holed = outer.difference(shapely.box(X0 + 40, Y0 + 40, X0 + 60, Y0 + 60))
    multi = shapely.MultiPolygon([shapely.box(X0 + 200, Y0, X0 + 210, Y0 + 10), holed])
    geoms = np.array([holed, multi], dtype=object)
    clip = pad_vertices(
        np.array([[X0 + 30, Y0 + 30], [X0 + 70, Y0 + 30], [X0 + 70, Y0 + 70], [X0 + 30, Y0 + 70]]),
        np.array([4]),
    )
    areas = convex_overlap_areas(rings_of(geoms), [0, 1], clip, [0, 0])
    assert np.allclose(areas, [1600 - 400, 1600 - 400])


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000))
def test_convex_overlap_matches_geos_on_random_polygons(seed):
    rng = np.random.default_rng(seed)
    sources = []
    for i in range(12):
        p = shapely.make_valid(
            star(rng, X0 + rng.uniform(0, 300), Y0 + rng.uniform(0, 300), 120, 12)
        )
        if i % 3 == 0:
            p = p.difference(shapely.Point(p.representative_point()).buffer(15))
        sources.append(p)
    sources = np.array(sources, dtype=object)
    corners = [hexagon(X0 + x, Y0 + y, 40) for x in range(0, 360, 60) for y in range(0, 360, 70)]
    cells = np.array([shapely.Polygon(c) for c in corners], dtype=object)
    verts = pad_vertices(np.concatenate(corners), np.full(len(corners), 6))
    si, ci = shapely.STRtree(cells).query(sources)
    ours = convex_overlap_areas(rings_of(sources), si, verts, ci)
    ref = shapely.area(shapely.intersection(sources[si], cells[ci]))
    assert np.allclose(ours, ref, atol=1e-6)


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 10_000))
def test_points_in_convex_matches_geos(seed):
    rng = np.random.default_rng(seed)
    corners = [hexagon(X0 + x, Y0 + y, 40) for x in range(0, 300, 60) for y in range(0, 300, 70)]
    verts = pad_vertices(np.concatenate(corners), np.full(len(corners), 6))
    cells = np.array([shapely.Polygon(c) for c in corners], dtype=object)
    xy = rng.uniform([X0 - 50, Y0 - 50], [X0 + 350, Y0 + 350], (500, 2))
    which = rng.integers(0, len(cells), 500)
    ours = points_in_convex(xy, verts, which)
    ref = shapely.intersects_xy(cells[which], xy[:, 0], xy[:, 1])
    assert (ours == ref).all()


def test_points_on_shared_edges_are_in_both_cells():
    a = hexagon(X0, Y0, 40)
    verts = pad_vertices(a, np.array([6]))
    mid = (a[0] + a[1]) / 2
    assert points_in_convex(mid[None, :], verts, np.array([0]))[0]


def test_tiled_intersection_equals_plain_intersection():
    rng = np.random.default_rng(3)
    th = np.linspace(0, 2 * np.pi, 3000, endpoint=False)
    r = 5000 * (1 + 0.05 * np.sin(40 * th) + 0.01 * rng.standard_normal(len(th)))
    big = shapely.Polygon(np.column_stack([X0 + r * np.cos(th), Y0 + r * np.sin(th)]))
    cells = np.array(
        [
            shapely.Polygon(hexagon(X0 + x, Y0 + y, 150))
            for x in range(-5500, 5600, 260)
            for y in range(-5500, 5600, 300)
        ],
        dtype=object,
    )
    cells = cells[shapely.intersects(big, cells) & ~shapely.contains_properly(big, cells)]
    assert len(cells) > 50
    ours = intersect_with(cells, big)
    ref = shapely.intersection(cells, big)
    assert np.allclose(shapely.area(ours), shapely.area(ref), atol=1e-6)
    pairs = intersect_pairs(cells, np.array([big, big.buffer(-100)]), np.arange(len(cells)) % 2)
    ref2 = shapely.intersection(cells, np.where(np.arange(len(cells)) % 2, big.buffer(-100), big))
    assert np.allclose(shapely.area(pairs), shapely.area(ref2), atol=1e-6)
