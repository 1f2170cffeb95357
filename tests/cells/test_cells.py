"""Base cells: lattices, aggregation, districts, adjacency, barriers, coverage.

Every test builds tiny synthetic layers in UTM zone 48N (metres).
"""

from __future__ import annotations

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import pyproj
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gridplan.cells.build import (
    CellsConfig,
    CellSet,
    CoverageConfig,
    build_cells,
    pick_h3_resolution,
)
from gridplan.errors import InputError
from gridplan.layers.model import Layers
from gridplan.layers.segments import SegmentCatalogue, customer_column

CRS = pyproj.CRS.from_epsg(32648)
X0, Y0 = 400_000.0, 3_390_000.0  # multiples of 1000: square ids are predictable


def gdf(data: dict | None, geoms) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(data or {}, geometry=list(geoms), crs=CRS)


def layers(
    boundary: shapely.Geometry,
    population: gpd.GeoDataFrame | None = None,
    **kw,
) -> Layers:
    if population is None:
        population = gdf({"population": [100.0]}, [boundary])
    return Layers(crs=CRS, boundary=gdf({"name": ["t"]}, [boundary]), population=population, **kw)


def rect(w: float, h: float, x: float = X0, y: float = Y0) -> shapely.Polygon:
    return shapely.box(x, y, x + w, y + h)


L_SHAPE = shapely.Polygon(
    [(X0, Y0), (X0 + 3000, Y0), (X0 + 3000, Y0 + 1200), (X0 + 1300, Y0 + 1200),
     (X0 + 1300, Y0 + 2600), (X0, Y0 + 2600)]
)  # fmt: skip


def customers_at(xy: np.ndarray, segments, spend, handsets=None) -> gpd.GeoDataFrame:
    data = {"customer_id": np.arange(len(xy)), "segment": segments, "spend": spend}
    if handsets is not None:
        data["handsets"] = handsets
    return gdf(data, shapely.points(xy))


def brute_force_edges(geoms: np.ndarray, contiguity: str, min_shared: float = 1.0) -> set:
    out = set()
    for i in range(len(geoms)):
        for j in range(i + 1, len(geoms)):
            a, b = geoms[i], geoms[j]
            if not a.intersects(b):
                continue
            if contiguity == "queen" or a.boundary.intersection(b.boundary).length > min_shared:
                out.add((i, j))
    return out


def check_partition(cs: CellSet, boundary: shapely.Geometry) -> None:
    geoms = cs.cells.geometry.values
    union = shapely.union_all(geoms)
    assert union.area == pytest.approx(boundary.area, rel=1e-3)
    assert shapely.area(geoms).sum() == pytest.approx(union.area, rel=1e-6)  # no overlaps
    assert boundary.difference(union).area <= 1e-3 * boundary.area
    # sample points of the boundary lie in exactly one cell
    rng = np.random.default_rng(0)
    minx, miny, maxx, maxy = boundary.bounds
    pts = shapely.points(rng.uniform([minx, miny], [maxx, maxy], (2000, 2)))
    pts = pts[shapely.contains(boundary, pts)]
    pi, _ = shapely.STRtree(geoms).query(pts, predicate="within")
    assert np.bincount(pi, minlength=len(pts)).tolist() == [1] * len(pts)


# ---------------------------------------------------------------- config
def test_config_validates_everything_at_once():
    with pytest.raises(InputError) as err:
        CellsConfig(lattice="hex", h3_resolution=17, square_size_m=-1)
    assert len(err.value.problems) == 3


def test_pick_h3_resolution_nearest_count():
    area = 2000.0
    for target in (50, 2000, 20_000, 150_000):
        res = pick_h3_resolution(area, target)
        counts = [area / h3.average_hexagon_area(r, unit="km^2") for r in range(16)]
        assert abs(counts[res] - target) == min(abs(c - target) for c in counts)


def test_target_cells_picks_resolution_and_square_size():
    cs = build_cells(layers(rect(3000, 2000)), CellsConfig(target_cells=60))
    counts = {r: 6.0 / h3.average_hexagon_area(r, unit="km^2") for r in range(16)}
    assert cs.h3_resolution == min(counts, key=lambda r: abs(counts[r] - 60))
    sq = build_cells(layers(rect(3000, 2000)), CellsConfig(lattice="square", target_cells=24))
    assert sq.square_size_m == 500.0
    assert sq.n == 24


# ---------------------------------------------------------------- squares
def test_square_ids_sizes_and_clipping():
    cs = build_cells(layers(L_SHAPE), CellsConfig(lattice="square", square_size_m=1000))
    cells = cs.cells
    assert list(cells.index) == list(range(cs.n))
    assert cells.crs.equals(CRS)
    # 3 x 3 grid over the bounding box minus the empty top-right squares
    assert set(cells["cell_id"]) == {
        "sq_400_3390", "sq_401_3390", "sq_402_3390",
        "sq_400_3391", "sq_401_3391", "sq_402_3391",
        "sq_400_3392", "sq_401_3392",
    }  # fmt: skip
    by_id = cells.set_index("cell_id")
    assert by_id.loc["sq_400_3390", "area_km2"] == pytest.approx(1.0)
    assert by_id.loc["sq_402_3391", "area_km2"] == pytest.approx(0.2)  # clipped at y + 1200
    assert bool(by_id.loc["sq_402_3391", "clipped"]) and not by_id.loc["sq_400_3390", "clipped"]
    assert by_id.loc["sq_400_3390", "x"] == pytest.approx(X0 + 500)
    check_partition(cs, L_SHAPE)


@pytest.mark.parametrize("contiguity", ["rook", "queen"])
def test_square_adjacency_matches_brute_force(contiguity):
    cs = build_cells(
        layers(L_SHAPE), CellsConfig(lattice="square", square_size_m=400, contiguity=contiguity)
    )
    expected = brute_force_edges(cs.cells.geometry.values, contiguity)
    assert {tuple(e) for e in cs.adjacency.edges().tolist()} == expected
    assert cs.adjacency.is_symmetric()
    rows = cs.adjacency.rows()
    assert not (rows == cs.adjacency.indices).any()


def test_queen_adds_diagonals_on_squares():
    rook = build_cells(layers(rect(3000, 3000)), CellsConfig(lattice="square", square_size_m=1000))
    queen = build_cells(
        layers(rect(3000, 3000)),
        CellsConfig(lattice="square", square_size_m=1000, contiguity="queen"),
    )
    assert rook.adjacency.n_edges == 12
    assert queen.adjacency.n_edges == 12 + 8
    centre = int(np.flatnonzero(rook.cells["cell_id"] == "sq_401_3391")[0])
    assert rook.adjacency.degree()[centre] == 4
    assert queen.adjacency.degree()[centre] == 8


def test_unclipped_squares_keep_whole_cells():
    b = shapely.Polygon([(X0 + 100, Y0 + 100), (X0 + 1900, Y0 + 150), (X0 + 1000, Y0 + 1900)])
    cs = build_cells(
        layers(b), CellsConfig(lattice="square", square_size_m=500, clip_to_boundary=False)
    )
    assert np.allclose(cs.cells["area_km2"], 0.25)
    assert shapely.union_all(cs.cells.geometry.values).contains(b)


# ------------------------------------------------------------------- H3
@pytest.mark.parametrize("boundary", [rect(3000, 2000), L_SHAPE])
def test_h3_covers_the_boundary_without_gaps_or_overlaps(boundary):
    cs = build_cells(layers(boundary), CellsConfig(h3_resolution=9))
    check_partition(cs, boundary)
    cells = cs.cells
    assert all(h3.is_valid_cell(c) and h3.get_resolution(c) == 9 for c in cells["cell_id"])
    assert cells["cell_id"].is_unique
    # unclipped hexagons are the H3 hexagons themselves
    tr = pyproj.Transformer.from_crs(CRS, 4326, always_xy=True)
    row = cells[~cells["clipped"]].iloc[0]
    lon, lat = tr.transform(row["x"], row["y"])
    assert h3.latlng_to_cell(lat, lon, 9) == row["cell_id"]
    hexagon = shapely.Polygon([(b, a) for a, b in h3.cell_to_boundary(row["cell_id"])])
    mine = shapely.transform(row.geometry, lambda c: np.column_stack(tr.transform(*c.T)))
    assert mine.symmetric_difference(hexagon).area < 1e-9 * hexagon.area + 1e-14


def test_h3_adjacency_matches_brute_force_and_rook_equals_queen():
    rook = build_cells(layers(L_SHAPE), CellsConfig(h3_resolution=9))
    queen = build_cells(layers(L_SHAPE), CellsConfig(h3_resolution=9, contiguity="queen"))
    expected = brute_force_edges(rook.cells.geometry.values, "rook")
    assert {tuple(e) for e in rook.adjacency.edges().tolist()} == expected
    # unclipped hexagons only ever meet along edges
    inner = ~rook.cells["clipped"].to_numpy()
    e_r = {tuple(e) for e in rook.adjacency.edges().tolist() if inner[e[0]] and inner[e[1]]}
    e_q = {tuple(e) for e in queen.adjacency.edges().tolist() if inner[e[0]] and inner[e[1]]}
    assert e_r == e_q
    # interior hexagons have six neighbours that are H3 neighbours
    ids = rook.cells["cell_id"].to_numpy()
    deg = rook.adjacency.degree()
    for i in np.flatnonzero(inner & (deg == 6))[:20]:
        nb = set(ids[rook.adjacency.neighbours(i)])
        assert nb == set(h3.grid_disk(ids[i], 1)) - {ids[i]}


def test_h3_tiny_island_and_multipolygon_boundary():
    island = shapely.Point(X0 + 5000, Y0 + 5000).buffer(40)  # far smaller than a res-8 hexagon
    b = shapely.MultiPolygon([rect(2000, 2000), island])
    cs = build_cells(layers(b), CellsConfig(h3_resolution=8))
    check_partition(cs, b)
    assert any("separate pieces" in n for n in cs.notes)


# --------------------------------------------------------------- polygons
def test_own_polygons_keep_ids_clip_and_drop():
    tracts = gdf(
        {"code": ["A", "B", "C", "OUT"], "population": [10.0, 20.0, 30.0, 5.0]},
        [rect(1000, 1000), rect(1000, 1000, X0 + 1000), rect(2000, 600, X0, Y0 + 1000),
         rect(500, 500, X0 + 9000)],
    )  # fmt: skip
    b = rect(2000, 1800)
    cs = build_cells(layers(b, tracts), CellsConfig(lattice="polygons", polygon_id_column="code"))
    assert cs.cells["cell_id"].tolist() == ["A", "B", "C"]
    assert cs.cells["area_km2"].tolist() == pytest.approx([1.0, 1.0, 1.2])
    assert cs.cells["population"].tolist() == pytest.approx([10.0, 20.0, 30.0])
    assert any("no area inside the boundary" in n for n in cs.notes)
    assert any("0.400 km²" in n and "uncovered" in n for n in cs.notes)
    # rook: A-B, A-C, B-C share edges
    assert {tuple(e) for e in cs.adjacency.edges().tolist()} == {(0, 1), (0, 2), (1, 2)}


def test_own_polygons_passed_explicitly_with_index_ids():
    blocks = gpd.GeoDataFrame(
        geometry=[
            rect(1000, 1000),
            rect(1000, 1000, X0 + 1000),
            rect(1000, 1000, X0 + 1000, Y0 + 1000),
        ],
        index=[7, 8, 9],
        crs=CRS,
    )  # fmt: skip
    cs = build_cells(layers(rect(2000, 2000)), CellsConfig(lattice="polygons"), polygons=blocks)
    assert cs.cells["cell_id"].tolist() == ["7", "8", "9"]
    rook = {tuple(e) for e in cs.adjacency.edges().tolist()}
    assert rook == {(0, 1), (1, 2)}
    queen = build_cells(
        layers(rect(2000, 2000)),
        CellsConfig(lattice="polygons", contiguity="queen"),
        polygons=blocks,
    )
    assert {tuple(e) for e in queen.adjacency.edges().tolist()} == {(0, 1), (1, 2), (0, 2)}


def test_own_polygons_reprojected_and_duplicate_ids_refused():
    blocks = gdf({"k": ["a", "a"]}, [rect(1000, 1000), rect(1000, 1000, X0 + 1000)])
    with pytest.raises(InputError, match="share an id"):
        build_cells(
            layers(rect(2000, 1000)),
            CellsConfig(lattice="polygons", polygon_id_column="k"),
            polygons=blocks,
        )
    ll = gdf({"k": ["a", "b"]}, [rect(1000, 1000), rect(1000, 1000, X0 + 1000)]).to_crs(4326)
    cs = build_cells(
        layers(rect(2000, 1000)),
        CellsConfig(lattice="polygons", polygon_id_column="k"),
        polygons=ll,
    )
    assert cs.cells["area_km2"].sum() == pytest.approx(2.0, rel=1e-6)


def test_polygons_lattice_needs_polygons():
    pts = gdf({"population": [1.0]}, [shapely.Point(X0 + 10, Y0 + 10)])
    with pytest.raises(InputError, match="needs polygons"):
        build_cells(layers(rect(100, 100), pts), CellsConfig(lattice="polygons"))


# ------------------------------------------------------------ aggregation
def test_population_polygons_area_weighted_and_renormalised():
    b = rect(2000, 1000)
    pop = gdf(
        {"population": [1000.0, 600.0, 50.0], "households": [400.0, 200.0, 20.0]},
        [
            rect(1000, 1000),  # exactly one square
            rect(1000, 1000, X0 + 1500, Y0),  # half inside the boundary (1500..2500)
            rect(100, 100, X0 + 5000, Y0),  # wholly outside: not counted
        ],
    )
    cs = build_cells(layers(b, pop), CellsConfig(lattice="square", square_size_m=1000))
    by_id = cs.cells.set_index("cell_id")
    assert by_id.loc["sq_400_3390", "population"] == pytest.approx(1000.0)
    assert by_id.loc["sq_401_3390", "population"] == pytest.approx(600.0)  # renormalised
    assert by_id.loc["sq_401_3390", "households"] == pytest.approx(200.0)
    assert by_id.loc["sq_401_3390", "density"] == pytest.approx(600.0)
    assert any("renormalised" in n and "300" in n for n in cs.notes)
    assert any("wholly outside" in n and "50" in n for n in cs.notes)


def test_population_points_summed_and_snapped():
    b = rect(2000, 1000)
    pts = gdf(
        {"population": [10.0, 20.0, 30.0, 40.0]},
        shapely.points([[X0 + 100, Y0 + 100], [X0 + 1500, Y0 + 500], [X0 + 1600, Y0 + 900],
                        [X0 + 2300, Y0 + 500]]),
    )  # fmt: skip
    cs = build_cells(layers(b, pts), CellsConfig(lattice="square", square_size_m=1000))
    assert cs.cells["population"].tolist() == pytest.approx([10.0, 90.0])
    assert "households" not in cs.cells.columns
    assert any("snapped" in n and "300 m" in n for n in cs.notes)
    dropped = build_cells(
        layers(b, pts), CellsConfig(lattice="square", square_size_m=1000, max_snap_m=100)
    )
    assert dropped.cells["population"].sum() == pytest.approx(60.0)
    assert any("not attributed" in n for n in dropped.notes)


def test_customers_by_segment_spend_and_handsets():
    b = rect(2000, 1000)
    xy = np.array([[X0 + 10, Y0 + 10], [X0 + 20, Y0 + 20], [X0 + 1500, Y0 + 500], [X0 - 50, Y0]])
    cust = customers_at(
        xy, ["public", "group_a", "vip_gold", "business_b"], [50.0, 30000.0, 2000.0, 400.0],
        [1, 600, 1, 3],
    )  # fmt: skip
    cs = build_cells(layers(b, customers=cust), CellsConfig(lattice="square", square_size_m=1000))
    c = cs.cells
    for code in SegmentCatalogue().codes:
        assert customer_column(code) in c.columns
    assert c["customers"].tolist() == [3, 1]
    assert c[customer_column("group_a")].tolist() == [1, 0]
    assert c[customer_column("business_b")].tolist() == [1, 0]  # snapped from 50 m outside
    assert c["spend"].tolist() == pytest.approx([30450.0, 2000.0])
    assert c["handsets"].tolist() == [604, 1]
    assert any("1 of 4 customers" in n for n in cs.notes)


def test_unknown_segments_and_missing_handsets_are_noted():
    cust = customers_at(
        np.array([[X0 + 10, Y0 + 10], [X0 + 20, Y0 + 20]]), ["public", "zzz"], [1.0, 2.0]
    )
    cs = build_cells(
        layers(rect(1000, 1000), customers=cust), CellsConfig(lattice="square", square_size_m=1000)
    )
    assert cs.cells["customers"].tolist() == [2]
    assert cs.cells[customer_column("public")].tolist() == [1]
    assert cs.cells["handsets"].tolist() == [2]
    assert any("outside the catalogue" in n for n in cs.notes)
    assert any("no 'handsets'" in n for n in cs.notes)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), lattice=st.sampled_from(["h3", "square"]))
def test_totals_preserved_property(seed, lattice):
    rng = np.random.default_rng(seed)
    th = np.linspace(0, 2 * np.pi, 40, endpoint=False)
    r = 1500 * (1 + 0.25 * rng.uniform(-1, 1, len(th)))
    cx, cy = X0 + 2000, Y0 + 2000
    b = shapely.Polygon(np.column_stack([cx + r * np.cos(th), cy + r * np.sin(th)]))
    seeds = shapely.multipoints(
        rng.uniform([cx - 2200, cy - 2200], [cx + 2200, cy + 2200], (25, 2))
    )
    tracts = shapely.get_parts(shapely.voronoi_polygons(seeds))
    tracts = shapely.intersection(tracts, b.buffer(300))  # some stick out of the boundary
    tracts = tracts[shapely.area(tracts) > 0]
    pop = rng.integers(0, 5000, len(tracts)).astype(float)
    inside = shapely.area(shapely.intersection(tracts, b)) > 0
    n = 3000
    xy = rng.uniform([cx - 1900, cy - 1900], [cx + 1900, cy + 1900], (n, 2))
    codes = np.array(SegmentCatalogue().codes, dtype=object)
    seg = codes[rng.integers(0, len(codes), n)]
    spend = np.round(rng.gamma(2, 80, n), 2)
    config = CellsConfig(h3_resolution=9) if lattice == "h3" else CellsConfig(
        lattice="square", square_size_m=float(rng.choice([250, 400, 700]))
    )  # fmt: skip
    cs = build_cells(
        layers(b, gdf({"population": pop}, tracts), customers=customers_at(xy, seg, spend)),
        config,
    )
    c = cs.cells
    assert c["population"].sum() == pytest.approx(pop[inside].sum(), rel=1e-3)
    assert int(c["customers"].sum()) == n
    for code in codes:
        assert int(c[customer_column(code)].sum()) == int((seg == code).sum())
    assert c["spend"].sum() == pytest.approx(spend.sum(), rel=1e-12)
    assert c["area_km2"].sum() == pytest.approx(b.area / 1e6, rel=1e-3)


# ---------------------------------------------------------------- districts
def test_district_by_largest_overlap_and_nearest():
    b = rect(3000, 1000)
    districts = gdf(
        {"district": ["W", "E"]},
        [rect(1300, 1000), rect(1300, 800, X0 + 1300)],  # nothing east of 2600 m
    )
    cs = build_cells(
        layers(b, districts=districts), CellsConfig(lattice="square", square_size_m=1000)
    )
    d = cs.cells.set_index("cell_id")["district"]
    assert d["sq_400_3390"] == "W"
    assert d["sq_401_3390"] == "E"  # 300 m² x 1000 in W, 700 x 800 in E
    assert d["sq_402_3390"] == "E"  # partly in no district: largest overlap still E
    assert cs.cells["district"].notna().all()
    far = build_cells(
        layers(rect(1000, 1000, X0 + 5000), districts=districts),
        CellsConfig(lattice="square", square_size_m=1000),
    )
    assert far.cells["district"].tolist() == ["E"]
    assert any("took the nearest" in n for n in far.notes)


def test_every_cell_gets_exactly_one_known_district_and_crossings_are_marked():
    b = L_SHAPE
    districts = gdf(
        {"district": ["A", "B", "C"]},
        [rect(1100, 2600), rect(2000, 700, X0 + 1100), rect(2000, 1900, X0 + 1100, Y0 + 700)],
    )
    for config in (CellsConfig(h3_resolution=9), CellsConfig(lattice="square", square_size_m=300)):
        cs = build_cells(layers(b, districts=districts), config)
        d = cs.cells["district"].to_numpy()
        assert set(d) <= {"A", "B", "C"} and len(d) == cs.n
        adj = cs.adjacency
        rows = adj.rows()
        assert (adj.crosses_district == (d[rows] != d[adj.indices])).all()
        assert adj.crosses_district.any()
        inside = adj.without_district_crossings()
        assert not (d[inside.rows()] != d[inside.indices]).any()


def test_no_district_layer_uses_the_city_name():
    cs = build_cells(layers(rect(1000, 1000)), CellsConfig(lattice="square", square_size_m=500))
    assert set(cs.cells["district"]) == {"city"}
    assert not cs.adjacency.crosses_district.any()


# ---------------------------------------------------------------- barriers
def test_barrier_cuts_the_links_it_crosses():
    b = rect(3000, 2000)
    river = shapely.LineString([(X0 + 1200, Y0 - 100), (X0 + 1200, Y0 + 2100)])
    road = shapely.LineString([(X0 + 2400, Y0 + 1000), (X0 + 2900, Y0 + 1000)])
    barriers = gdf({"kind": ["river", "road"]}, [river, road])
    cs = build_cells(
        layers(b, barriers=barriers), CellsConfig(lattice="square", square_size_m=1000)
    )
    ids = cs.cells["cell_id"].to_numpy()
    edges = cs.adjacency.edges()
    _, cut = cs.adjacency.edge_flags()
    cut_pairs = {tuple(sorted((ids[i], ids[j]))) for (i, j), c in zip(edges, cut, strict=True) if c}
    assert cut_pairs == {
        ("sq_400_3390", "sq_401_3390"),  # centroid link x 500 -> 1500 crosses x = 1200
        ("sq_400_3391", "sq_401_3391"),
        ("sq_402_3390", "sq_402_3391"),  # link (2500, 500) -> (2500, 1500) crosses the road
    }
    assert cs.adjacency.is_symmetric()
    free = cs.adjacency.without_barriers()
    assert free.n_edges == cs.adjacency.n_edges - len(cut_pairs)
    ignored = build_cells(
        layers(b, barriers=barriers),
        CellsConfig(lattice="square", square_size_m=1000, use_barriers=False),
    )
    assert not ignored.adjacency.cut_by_barrier.any()


def test_barrier_across_hexagons_splits_the_graph():
    b = rect(3000, 2000)
    wall = gdf(None, [shapely.LineString([(X0 + 1450, Y0 - 500), (X0 + 1550, Y0 + 2500)])])
    cs = build_cells(layers(b, barriers=wall), CellsConfig(h3_resolution=9))
    free = cs.adjacency.without_barriers()
    labels = free.components()
    x = cs.cells["x"].to_numpy()
    west, east = x < X0 + 1300, x > X0 + 1700
    assert not set(labels[west]) & set(labels[east])
    # brute force on the centroid rule
    xy = cs.cells[["x", "y"]].to_numpy()
    line = wall.geometry.iloc[0]
    for (i, j), c in zip(cs.adjacency.edges(), cs.adjacency.edge_flags()[1], strict=True):
        assert c == shapely.LineString([xy[i], xy[j]]).intersects(line)


# ---------------------------------------------------------------- coverage
def test_coverage_formula_hand_computed():
    b = rect(3000, 1000)
    sites = gdf(
        {"site_id": ["s"], "technology": ["4G"], "sectors": [6], "radius_m": [1500.0]},
        [shapely.Point(X0 + 500, Y0 + 500)],
    )
    cs = build_cells(layers(b, sites=sites), CellsConfig(lattice="square", square_size_m=1000))
    c = cs.cells.set_index("cell_id")
    w = 0.8 * 6 / 3  # 4G weight x sectors / 3
    assert c.loc["sq_400_3390", "coverage_raw"] == pytest.approx(w * 1.0)
    assert c.loc["sq_401_3390", "coverage_raw"] == pytest.approx(w * (1 - 1000 / 1500))
    assert c.loc["sq_402_3390", "coverage_raw"] == 0.0  # 2000 m > radius
    assert c.loc["sq_400_3390", "coverage"] == 1.0  # capped
    assert c.loc["sq_401_3390", "coverage"] == pytest.approx(w / 3)
    assert c["sites"].tolist() == [1, 0, 0] and c["sectors"].tolist() == [6, 0, 0]
    custom = CellsConfig(
        lattice="square",
        square_size_m=1000,
        coverage=CoverageConfig(tech_weights=(("4G", 0.5),), cap=2.0),
    )
    cs2 = build_cells(layers(b, sites=sites), custom)
    c2 = cs2.cells.set_index("cell_id")
    assert c2.loc["sq_400_3390", "coverage_raw"] == pytest.approx(1.0)
    assert c2.loc["sq_400_3390", "coverage"] == pytest.approx(0.5)


def test_sites_outside_are_not_counted_but_cover():
    b = rect(1000, 1000)
    sites = gdf(
        {"site_id": ["o"], "technology": ["5G"], "sectors": [3], "radius_m": [2000.0]},
        [shapely.Point(X0 + 1500, Y0 + 500)],
    )
    cs = build_cells(layers(b, sites=sites), CellsConfig(lattice="square", square_size_m=1000))
    assert cs.cells["sites"].tolist() == [0]
    assert cs.cells["coverage_raw"].iloc[0] == pytest.approx(1 - 1000 / 2000)
    assert any("sites lie outside" in n for n in cs.notes)


# ---------------------------------------------------------------- general
def test_columns_units_and_progress():
    seen: list[float] = []
    cs = build_cells(
        layers(L_SHAPE), CellsConfig(h3_resolution=9), progress=lambda f, m: seen.append(f)
    )
    expected = ["cell_id", "district", "area_km2", "x", "y", "clipped", "population", "density",
                "customers"]  # fmt: skip
    assert list(cs.cells.columns[: len(expected)]) == expected
    assert {"spend", "handsets", "sites", "sectors", "coverage", "coverage_raw"} <= set(
        cs.cells.columns
    )
    assert cs.cells["cell_id"].map(type).eq(str).all()
    assert seen[0] == 0.0 and seen[-1] == 1.0
    assert all(0.0 <= f <= 1.0 for f in seen)
    assert seen == sorted(seen)
    centroid = cs.cells.geometry.centroid
    assert np.allclose(centroid.x, cs.cells["x"]) and np.allclose(centroid.y, cs.cells["y"])
    assert np.allclose(cs.cells.geometry.area / 1e6, cs.cells["area_km2"])


@pytest.mark.parametrize(
    "config",
    [
        CellsConfig(h3_resolution=9),
        CellsConfig(lattice="square", square_size_m=350, contiguity="queen"),
    ],
)
def test_deterministic(config):
    rng = np.random.default_rng(5)
    xy = rng.uniform([X0, Y0], [X0 + 3000, Y0 + 2600], (500, 2))
    cust = customers_at(xy, ["public"] * 500, rng.uniform(0, 100, 500))
    lay = layers(L_SHAPE, customers=cust)
    a, b = build_cells(lay, config), build_cells(lay, config)
    pd.testing.assert_frame_equal(
        a.cells.drop(columns="geometry"), b.cells.drop(columns="geometry")
    )
    assert a.cells.geometry.geom_equals_exact(b.cells.geometry, 0).all()
    assert (a.adjacency.indptr == b.adjacency.indptr).all()
    assert (a.adjacency.indices == b.adjacency.indices).all()
    assert a.notes == b.notes


def test_empty_boundary_is_an_input_error():
    with pytest.raises(InputError, match="no area"):
        build_cells(layers(shapely.LineString([(X0, Y0), (X0 + 1, Y0)]).buffer(0)))


def test_too_many_cells_is_refused():
    with pytest.raises(InputError, match="above the limit"):
        build_cells(layers(rect(3000, 3000)), CellsConfig(h3_resolution=13, max_cells=1000))


def test_customer_cells_and_locate_agree_with_geometry():
    rng = np.random.default_rng(11)
    xy = rng.uniform([X0 - 200, Y0 - 200], [X0 + 3200, Y0 + 2800], (3000, 2))
    cust = customers_at(xy, ["public"] * len(xy), np.ones(len(xy)))
    for config in (CellsConfig(h3_resolution=9), CellsConfig(lattice="square", square_size_m=300)):
        cs = build_cells(layers(L_SHAPE, customers=cust), config)
        cell = cs.customer_cell
        assert cell is not None and (cell >= 0).all()
        geoms = cs.cells.geometry.values
        pts = shapely.points(xy)
        inside = shapely.intersects(L_SHAPE, pts)
        # points inside the boundary are in the cell they were given
        assert shapely.intersects(geoms[cell[inside]], pts[inside]).all()
        # points outside went to the nearest cell
        out = np.flatnonzero(~inside)
        d = shapely.distance(geoms[cell[out]], pts[out])
        best = np.array([shapely.distance(geoms, p).min() for p in pts[out]])
        assert np.allclose(d, best)
        assert np.bincount(cell, minlength=cs.n).tolist() == cs.cells["customers"].tolist()
        # the public locate() gives the same answer, also from another CRS
        assert (cs.locate(cust.to_crs(4326)) == cell).all()
        assert (cs.locate(xy, snap=False)[~inside] == -1).all()


def test_locate_without_a_stored_locator():
    cs = build_cells(layers(rect(2000, 1000)), CellsConfig(lattice="square", square_size_m=1000))
    bare = CellSet(cs.cells, cs.adjacency, cs.notes)
    xy = np.array([[X0 + 10, Y0 + 10], [X0 + 1999, Y0 + 999], [X0 + 2500, Y0 + 500]])
    assert bare.locate(xy).tolist() == [0, 1, 1]
    assert bare.locate(xy, snap=False).tolist() == [0, 1, -1]


def test_layers_in_another_crs_are_reprojected():
    cust = customers_at(np.array([[X0 + 10, Y0 + 10]]), ["public"], [5.0]).to_crs(4326)
    cs = build_cells(
        layers(rect(1000, 1000), customers=cust), CellsConfig(lattice="square", square_size_m=500)
    )
    assert cs.cells["customers"].sum() == 1
    assert any("reprojected" in n for n in cs.notes)


@pytest.mark.parametrize(
    "config",
    [
        CellsConfig(h3_resolution=9),
        CellsConfig(lattice="square", square_size_m=500),
        CellsConfig(lattice="polygons"),
    ],
)
def test_cellset_pickles(config):
    import pickle

    tracts = gdf({"population": [5.0, 7.0]}, [rect(1000, 1000), rect(1000, 1000, X0 + 1000)])
    cs = build_cells(layers(rect(2000, 1000), tracts), config)
    back = pickle.loads(pickle.dumps(cs))
    assert back.cells.equals(cs.cells)
    assert (back.adjacency.indices == cs.adjacency.indices).all()
    xy = np.array([[X0 + 100, Y0 + 100], [X0 + 1900, Y0 + 900]])
    assert (back.locate(xy) == cs.locate(xy)).all()


def test_points_without_location_are_reported():
    cust = gdf(
        {"customer_id": [1, 2, 3], "segment": ["public"] * 3, "spend": [1.0, 2.0, np.nan]},
        [shapely.Point(X0 + 10, Y0 + 10), None, shapely.Point()],
    )
    cs = build_cells(
        layers(rect(1000, 1000), customers=cust), CellsConfig(lattice="square", square_size_m=500)
    )
    assert cs.cells["customers"].sum() == 1
    assert cs.customer_cell.tolist()[1:] == [-1, -1]
    assert any("2 of 3 customers were not attributed" in n for n in cs.notes)
    assert any("without a valid 'spend'" in n for n in cs.notes)


def test_invalid_population_polygons_are_repaired():
    bowtie = shapely.Polygon(
        [(X0, Y0), (X0 + 1000, Y0 + 1000), (X0 + 1000, Y0), (X0, Y0 + 1000), (X0, Y0)]
    )
    assert not bowtie.is_valid
    pop = gdf({"population": [100.0]}, [bowtie])
    cs = build_cells(
        layers(rect(1000, 1000), pop), CellsConfig(lattice="square", square_size_m=500)
    )
    assert cs.cells["population"].sum() == pytest.approx(100.0)
    assert any("repaired" in n for n in cs.notes)


def test_geographic_crs_is_refused():
    lay = layers(rect(1000, 1000))
    ll = Layers(
        crs=pyproj.CRS.from_epsg(4326),
        boundary=lay.boundary.to_crs(4326),
        population=lay.population.to_crs(4326),
    )
    with pytest.raises(InputError, match="not projected in metres"):
        build_cells(ll)


def test_cells_split_by_the_boundary_are_noted():
    # a U-shaped city whose arms are 100 m apart: one 1000 m square holds both arms
    u = shapely.Polygon(
        [(X0, Y0), (X0 + 1000, Y0), (X0 + 1000, Y0 + 900), (X0 + 550, Y0 + 900),
         (X0 + 550, Y0 + 300), (X0 + 450, Y0 + 300), (X0 + 450, Y0 + 900), (X0, Y0 + 900)]
    )  # fmt: skip
    cs = build_cells(layers(u), CellsConfig(lattice="square", square_size_m=1000))
    assert cs.n == 1
    assert not any("several pieces" in n for n in cs.notes)  # one piece: the arms join below
    u2 = u.difference(shapely.box(X0 + 450, Y0 - 10, X0 + 550, Y0 + 310))
    cs2 = build_cells(layers(u2), CellsConfig(lattice="square", square_size_m=1000))
    assert cs2.n == 1 and any("several pieces" in n for n in cs2.notes)


@pytest.mark.parametrize(
    ("population", "message"),
    [
        (gdf({"population": [500.0]}, [rect(100, 100, X0 + 90_000, Y0)]), "lie outside every"),
        (gdf({"population": [0.0]}, [rect(2000, 1000)]), "all have population 0"),
        (gdf({"population": []}, []), "no feature of the population layer"),
    ],
)
def test_population_that_reaches_no_cell_is_an_error(population, message):
    with pytest.raises(InputError, match=message) as info:
        build_cells(layers(rect(2000, 1000), population), CellsConfig(lattice="square"))
    assert "CRS" in info.value.problems[0].fix
