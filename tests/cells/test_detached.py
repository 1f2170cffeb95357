"""The shared rule of detached parts (gridplan.cells.detached) on tiny arrays, and the
merge of clipped cells under 1 m² when the cells are built."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pyproj
import shapely

from gridplan.cells.build import CellsConfig, build_cells
from gridplan.cells.detached import Proximity, classify_pieces, proximity_pairs
from gridplan.layers.model import Layers

CRS = pyproj.CRS.from_epsg(32648)
X0, Y0 = 400_000.0, 3_390_000.0

#  0-1-2   path of three cells, 3 an island (no edge), 4 a cell touching 2 at a corner,
#  5-6     a second land part reachable from 2 through 7 (grid B)
EDGES = np.array([[0, 1], [1, 2], [2, 7], [7, 5], [5, 6]])


def test_island_sliver_and_violation():
    labels = np.array(["A", "A", "A", "A", "A", "A", "A", "B"], dtype=object)
    pop = np.array([10.0, 10, 10, 3, 0, 10, 10, 10])
    xy = np.column_stack([np.arange(8) * 100.0, np.zeros(8)])
    near = Proximity(np.array([[2, 4]]), np.array([0.0]))
    pieces = classify_pieces(labels, EDGES, population=pop, xy=xy, proximity=near)
    kinds = {tuple(p.cells.tolist()): p.kind for p in pieces}
    assert kinds == {(3,): "island", (4,): "sliver", (5, 6): "violation"}
    assert all(p.grid == "A" for p in pieces)
    sliver = next(p for p in pieces if p.kind == "sliver")
    assert sliver.distance_m == 0.0 and sliver.accepted
    # populated, the corner piece is a violation; without proximity an island only if
    # it has no edge at all (cell 4 has none): an island
    pop2 = pop.copy()
    pop2[4] = 5.0
    kinds2 = {
        tuple(p.cells.tolist()): p.kind for p in classify_pieces(labels, EDGES, population=pop2)
    }
    assert kinds2[(4,)] == "island" and kinds2[(5, 6)] == "violation"


def test_district_exclave_is_an_island_only_when_districts_are_respected():
    labels = np.array(["A", "A", "A", "B", "A"], dtype=object)
    edges = np.array([[0, 1], [1, 2], [2, 3], [3, 4]])  # cell 4 reachable only through B
    group = np.array(["d1", "d1", "d1", "d2", "d1"])
    pop = np.full(5, 10.0)
    with_d = classify_pieces(labels, edges, group=group, population=pop)
    without = classify_pieces(labels, edges, population=pop)
    assert [p.kind for p in with_d] == ["island"] and [p.kind for p in without] == ["violation"]


def test_contiguous_labels_have_no_pieces_and_body_is_not_an_island():
    labels = np.array(["A", "A", "B", "B"], dtype=object)
    assert classify_pieces(labels, np.array([[0, 1], [1, 2], [2, 3]])) == []
    # A = populated island (cell 0, no edges) + a mainland piece: the mainland is the body
    labels = np.array(["A", "A", "B"], dtype=object)
    pieces = classify_pieces(labels, np.array([[1, 2]]), population=np.array([100.0, 1, 5]))
    assert [(p.cells.tolist(), p.kind) for p in pieces] == [([0], "island")]


def test_proximity_pairs_find_corner_contacts_and_gaps():
    sq = [shapely.box(0, 0, 10, 10), shapely.box(10, 10, 20, 20), shapely.box(40, 0, 50, 10)]
    prox = proximity_pairs(np.array(sq, dtype=object), max_gap_m=25.0)
    got = {tuple(p): d for p, d in zip(prox.pairs.tolist(), prox.distance_m.tolist(), strict=True)}
    assert got == {(0, 1): 0.0, (1, 2): 20.0}
    none = proximity_pairs(np.array(sq, dtype=object), rows=[2], max_gap_m=5.0)
    assert len(none.pairs) == 0


def _layers(boundary: shapely.Geometry) -> Layers:
    def gdf(data, geoms):
        return gpd.GeoDataFrame(data, geometry=list(geoms), crs=CRS)

    return Layers(
        crs=CRS,
        boundary=gdf({"name": ["t"]}, [boundary]),
        population=gdf({"population": [100.0]}, [boundary]),
    )


def test_clipped_cells_under_one_square_metre_are_merged_into_their_neighbour():
    main = shapely.box(X0, Y0, X0 + 1000, Y0 + 1000)
    bump = shapely.box(X0 + 1000, Y0 + 400, X0 + 1000.5, Y0 + 401)  # 0.5 m² over the edge
    b = shapely.union_all([main, bump])
    cfg = CellsConfig(lattice="square", square_size_m=500.0)
    merged = build_cells(_layers(b), cfg)
    kept = build_cells(
        _layers(b), CellsConfig(lattice="square", square_size_m=500.0, min_cell_area_m2=0)
    )
    assert kept.n == 5 and merged.n == 4
    assert any("1 clipped cell smaller than 1 m² was merged" in n for n in merged.notes)
    # the area is kept, in the cell it shared its boundary with; one piece, no island
    assert np.isclose(merged.cells["area_km2"].sum() * 1e6, b.area)
    host = merged.cells.geometry.intersects(bump.buffer(-0.01))
    assert host.sum() == 1
    assert merged.cells.loc[host, "x"].iloc[0] < X0 + 1000
    assert merged.adjacency.n_components() == 1
    assert np.isclose(merged.cells["population"].sum(), 100.0)
