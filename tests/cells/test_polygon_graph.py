"""The one polygon adjacency rule: the lattice of own polygons, polygon_adjacency and
polygon_edges give the same neighbours (rook: more than min_shared_m metres of shared
boundary, within tolerance_m; queen: within tolerance_m)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pyproj
import pytest
import shapely

from gridplan.cells.build import CellsConfig, build_cells
from gridplan.cells.polygon_graph import (
    contact_candidates,
    polygon_adjacency,
    polygon_edges,
    verify_contacts,
)
from gridplan.layers.model import Layers

CRS = pyproj.CRS.from_epsg(32648)
X0, Y0 = 400_000.0, 3_390_000.0


def box(x: float, y: float, w: float = 100.0, h: float = 100.0) -> shapely.Polygon:
    return shapely.box(X0 + x, Y0 + y, X0 + x + w, Y0 + y + h)


#: 0-1 share a 100 m edge; 1-2 share a 0.5 m edge; 0-3 meet at a corner;
#: 4 lies 5 mm right of 1 (a digitising sliver); 5 lies 1 m away from everything
POLYGONS = np.array(
    [
        box(0, 0),
        box(100, 0),
        box(200, 99.5),
        box(-100, -100),
        box(200.005, 0, 100, 90),
        box(500, 500),
    ],
    dtype=object,
)


def as_set(edges: np.ndarray) -> set[tuple[int, int]]:
    return {tuple(e) for e in np.asarray(edges).tolist()}


def test_rook_needs_more_than_min_shared_m_of_boundary_within_tolerance():
    assert as_set(polygon_edges(POLYGONS, "rook")) == {(0, 1), (1, 4)}
    assert as_set(polygon_edges(POLYGONS, "rook", min_shared_m=0.1)) == {(0, 1), (1, 2), (1, 4)}
    assert as_set(polygon_edges(POLYGONS, "rook", tolerance_m=0.001)) == {(0, 1)}


def test_queen_is_any_contact_within_tolerance():
    assert as_set(polygon_edges(POLYGONS, "queen")) == {(0, 1), (0, 3), (1, 2), (1, 4)}


def test_edges_are_sorted_unique_int64_upper_pairs():
    edges = polygon_edges(gpd.GeoSeries(list(POLYGONS), crs=CRS), "queen")
    assert edges.dtype == np.int64 and edges.shape[1] == 2
    assert (edges[:, 0] < edges[:, 1]).all()
    assert edges.tolist() == sorted(edges.tolist())
    assert polygon_edges(np.array([], dtype=object)).shape == (0, 2)
    cand = contact_candidates(POLYGONS)
    assert as_set(cand[verify_contacts(POLYGONS, cand, "queen")]) == as_set(edges)


@pytest.mark.parametrize("contiguity", ["rook", "queen"])
def test_lattice_adjacency_and_edges_share_the_rule(contiguity):
    ids = [f"p{i}" for i in range(len(POLYGONS))]
    polys = gpd.GeoDataFrame({"pid": ids, "population": 1.0}, geometry=list(POLYGONS), crs=CRS)
    boundary = shapely.box(X0 - 200, Y0 - 200, X0 + 700, Y0 + 700)
    layers = Layers(
        crs=CRS, boundary=gpd.GeoDataFrame({"name": ["t"]}, geometry=[boundary], crs=CRS),
        population=polys,
    )  # fmt: skip
    config = CellsConfig(lattice="polygons", polygon_id_column="pid", contiguity=contiguity)
    cs = build_cells(layers, config)
    assert cs.cells["cell_id"].tolist() == ids
    from_lattice = as_set(cs.adjacency.edges())
    from_adjacency = as_set(polygon_adjacency(POLYGONS, contiguity=contiguity).edges())
    assert from_lattice == from_adjacency == as_set(polygon_edges(POLYGONS, contiguity))
