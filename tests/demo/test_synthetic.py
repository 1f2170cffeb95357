"""Synthetic sites and customers: deterministic, well mixed, inside the city, following people."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from geopandas.testing import assert_geodataframe_equal
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.spatial import cKDTree

from gridplan.demo.synthetic import (
    DEFAULT_FAMILY_SHARES,
    NetworkPlan,
    generate_customers,
    generate_sites,
)
from gridplan.layers.segments import DEFAULT_SEGMENTS, Segment, SegmentCatalogue

UTM = 32650  # any metric CRS


def _grid_population(crs: int = UTM) -> gpd.GeoDataFrame:
    """A 4 x 4 grid of 2.5 km squares (10 km city) with a dense corner and empty cells."""
    cells, pops = [], []
    for i in range(4):
        for j in range(4):
            cells.append(shapely.box(i * 2500, j * 2500, (i + 1) * 2500, (j + 1) * 2500))
            pops.append(
                float([0, 500, 2_000, 8_000][i] * (j + 1) + (150_000 if i == j == 3 else 0))
            )
    pops[1] = 0.0
    return gpd.GeoDataFrame({"population": pops}, geometry=cells, crs=crs)


def _l_shaped_boundary(crs: int = UTM) -> gpd.GeoDataFrame:
    """A non-convex city: the 10 km square minus its upper-left quarter."""
    shape = shapely.box(0, 0, 10_000, 10_000).difference(shapely.box(0, 5_000, 5_000, 10_000))
    return gpd.GeoDataFrame({"name": ["L city"]}, geometry=[shape], crs=crs)


@pytest.fixture
def population() -> gpd.GeoDataFrame:
    return _grid_population()


@pytest.fixture
def boundary() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"name": ["square city"]}, geometry=[shapely.box(0, 0, 10_000, 10_000)], crs=UTM
    )


# --------------------------------------------------------------------------- determinism


def test_customers_same_seed_identical_different_seed_differs(population):
    a = generate_customers(population, 3_000, seed=7)
    b = generate_customers(population, 3_000, seed=7)
    c = generate_customers(population, 3_000, seed=8)
    assert_geodataframe_equal(a, b)
    assert not a.geometry.geom_equals(c.geometry).all()
    assert not (a["segment"] == c["segment"]).all()


def test_sites_same_seed_identical_different_seed_differs(boundary, population):
    a = generate_sites(boundary, population, 120, seed=3)
    b = generate_sites(boundary, population, 120, seed=3)
    c = generate_sites(boundary, population, 120, seed=4)
    assert_geodataframe_equal(a, b)
    assert not a.geometry.geom_equals(c.geometry).all()


# --------------------------------------------------------------------------- customers


def test_customer_counts_columns_and_ids(population):
    cust = generate_customers(population, 5_000, seed=1)
    assert len(cust) == 5_000
    assert list(cust.columns) == ["customer_id", "segment", "spend", "handsets", "geometry"]
    assert cust["customer_id"].is_unique
    assert cust["customer_id"].str.startswith("SYN-C").all()
    assert set(cust["segment"]) <= set(SegmentCatalogue().codes)
    assert cust.crs == population.crs
    assert (cust.geom_type == "Point").all()


def test_segment_family_shares_within_tolerance(population):
    n = 40_000
    cust = generate_customers(population, n, seed=11)
    family = cust["segment"].map({s.code: s.family for s in DEFAULT_SEGMENTS})
    shares = family.value_counts(normalize=True)
    for fam, expected in DEFAULT_FAMILY_SHARES:
        tol = 4 * np.sqrt(expected * (1 - expected) / n) + 1e-3  # ~4 standard deviations
        assert abs(shares.get(fam, 0.0) - expected) < tol, (fam, shares.get(fam))


def test_group_clients_handset_bands_and_abc_mix(population):
    cust = generate_customers(population, 10_000, seed=5, family_shares={"group": 1.0})
    assert cust["segment"].str.startswith("group_").all()
    h = cust.set_index("segment")["handsets"]
    assert (h.loc["group_a"] >= 500).all()
    assert h.loc["group_b"].between(100, 499).all()
    assert h.loc["group_c"].between(10, 99).all()
    mix = cust["segment"].value_counts(normalize=True)
    assert mix["group_a"] == pytest.approx(0.05, abs=0.015)
    assert mix["group_b"] == pytest.approx(0.25, abs=0.025)
    assert mix["group_c"] == pytest.approx(0.70, abs=0.025)
    assert (cust["spend"] > 0).all()


def test_spend_within_the_segment_band(population):
    cust = generate_customers(population, 30_000, seed=2)
    catalogue = SegmentCatalogue()
    assert (cust["spend"] >= 0).all() and np.isfinite(cust["spend"]).all()
    for code, spend in cust.groupby("segment")["spend"]:
        seg = catalogue.get(code)
        if seg.family == "group":  # banded by handsets, tested above
            continue
        assert (spend >= (seg.min_value or 0)).all(), code
        if seg.max_value is not None:
            assert (spend <= seg.max_value).all(), code
    public = cust.loc[cust["segment"] == "public", "spend"]
    assert (public < 666).all()  # a public customer never spends like a VIP
    assert (cust.loc[cust["segment"] == "public", "handsets"] == 1).all()


def test_customers_follow_population_polygons(population):
    cust = generate_customers(population, 20_000, seed=9)
    joined = gpd.sjoin(cust, population, predicate="within", how="left")
    assert joined["index_right"].notna().all()  # every customer inside a polygon
    counts = joined.groupby("index_right").size().reindex(population.index, fill_value=0)
    assert np.corrcoef(counts, population["population"])[0, 1] > 0.95
    assert (counts[population["population"] == 0] == 0).all()


def test_customers_around_population_points_within_50_m():
    pts = gpd.GeoDataFrame(
        {"population": [100.0, 300.0, 0.0, 600.0]},
        geometry=shapely.points([[50, 50], [1050, 50], [2050, 50], [50, 1050]]),
        crs=UTM,
    )
    cust = generate_customers(pts, 2_000, seed=4)
    xy = np.column_stack([cust.geometry.x, cust.geometry.y])
    centres = np.column_stack([pts.geometry.x, pts.geometry.y])
    cheb = np.abs(xy[:, None, :] - centres[None, :, :]).max(axis=2)
    nearest = cheb.argmin(axis=1)
    assert (cheb.min(axis=1) <= 50.0 + 1e-9).all()
    counts = np.bincount(nearest, minlength=len(pts))
    assert counts[2] == 0
    assert np.corrcoef(counts, pts["population"])[0, 1] > 0.95


def test_jittered_customers_stay_inside_the_boundary():
    pts = gpd.GeoDataFrame(
        {"population": [1_000.0]}, geometry=shapely.points([[10.0, 10.0]]), crs=UTM
    )
    land = gpd.GeoDataFrame(geometry=[shapely.box(0, 0, 500, 500)], crs=UTM)
    cust = generate_customers(pts, 500, seed=1, boundary=land)
    assert cust.within(land.union_all()).all()


def test_geographic_input_is_sampled_in_metres_and_returned_in_its_crs(population):
    geo = population.to_crs(4326)
    cust = generate_customers(geo, 2_000, seed=3)
    assert cust.crs == geo.crs
    joined = gpd.sjoin(cust.to_crs(UTM), population, predicate="within")
    assert len(joined) >= 1_990  # reprojection round trip may move a few onto an edge


def test_custom_catalogue_and_shares(population):
    catalogue = SegmentCatalogue(
        (
            Segment("gold", "vip", "Gold", "金", 1000, 2000),
            Segment("mass", "public", "Mass", "公众", 0, None),
            Segment("tiny_group", "group", "Group", "集团", 10, 20),
        )
    )
    cust = generate_customers(population, 4_000, seed=6, catalogue=catalogue)
    assert set(cust["segment"]) == {"gold", "mass", "tiny_group"}
    assert cust.loc[cust["segment"] == "gold", "spend"].between(1000, 2000).all()
    assert cust.loc[cust["segment"] == "tiny_group", "handsets"].between(10, 20).all()


def test_zero_customers_and_no_population(population):
    assert len(generate_customers(population, 0, seed=1)) == 0
    empty = population.assign(population=0.0)
    with pytest.raises(ValueError, match="no positive population"):
        generate_customers(empty, 10, seed=1)


@settings(max_examples=20, deadline=None)
@given(n=st.integers(0, 300), seed=st.integers(0, 2**32 - 1))
def test_property_counts_and_valid_values(n, seed):
    pop = _grid_population()
    cust = generate_customers(pop, n, seed=seed)
    assert len(cust) == n
    assert cust["customer_id"].is_unique
    assert (cust["spend"] >= 0).all() and (cust["handsets"] >= 1).all()
    assert cust.within(shapely.box(0, 0, 10_000, 10_000)).all()


# --------------------------------------------------------------------------- sites


def test_sites_columns_inside_a_non_convex_boundary(population):
    city = _l_shaped_boundary()
    sites = generate_sites(city, population, 300, seed=2)
    assert len(sites) == 300
    assert list(sites.columns) == [
        "site_id",
        "technology",
        "sectors",
        "radius_m",
        "density",
        "geometry",
    ]
    assert sites["site_id"].is_unique and sites["site_id"].str.startswith("SYN-S").all()
    assert sites.within(city.union_all()).all()
    assert set(sites["technology"]) <= {"4G", "5G"}
    assert sites["sectors"].between(1, 6).all()
    assert sites["sectors"].mode().iloc[0] == 3
    plan = NetworkPlan()
    assert sites["radius_m"].between(50, plan.radius_band[1] * max(plan.isd_m)).all()


def test_sites_denser_smaller_and_more_5g_where_people_are(boundary, population):
    sites = generate_sites(boundary, population, 400, seed=8)
    joined = gpd.sjoin(sites, population, predicate="within")
    per_cell = joined.groupby("index_right").size().reindex(population.index, fill_value=0)
    dense_cell = int(population["population"].idxmax())
    assert per_cell[dense_cell] == per_cell.max()
    dense = sites["density"] >= 10_000
    sparse = sites["density"] < 1_000
    assert dense.any() and sparse.any()
    assert sites.loc[sparse, "radius_m"].median() >= 2 * sites.loc[dense, "radius_m"].median()
    share_5g = sites.groupby(dense)["technology"].apply(lambda t: (t == "5G").mean())
    assert share_5g[True] > share_5g[False]


def test_some_sites_cover_empty_areas(boundary, population):
    sites = generate_sites(boundary, population, None, seed=1)
    empty = population.loc[population["population"] == 0].union_all()
    assert sites.within(empty).sum() > 0  # the rural spacing reaches where nobody lives


def _two_zone_city() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """A 12 x 6 km city: a dense west half (30,000 persons/km²), a rural east half
    (200 persons/km²)."""
    west, east = shapely.box(0, 0, 6_000, 6_000), shapely.box(6_000, 0, 12_000, 6_000)
    pop = gpd.GeoDataFrame(
        {"population": [30_000.0 * 36, 200.0 * 36]}, geometry=[west, east], crs=UTM
    )
    city = gpd.GeoDataFrame(geometry=[shapely.box(0, 0, 12_000, 6_000)], crs=UTM)
    return city, pop


def test_network_spacing_follows_the_planned_inter_site_distance():
    city, pop = _two_zone_city()
    plan = NetworkPlan()
    sites = generate_sites(city, pop, None, seed=5, plan=plan)
    xy = np.column_stack([sites.geometry.x, sites.geometry.y])
    dist = cKDTree(xy).query(xy, k=2)[0][:, 1]
    core = xy[:, 0] < 4_000  # away from the 1 km smoothing of the border
    rural = xy[:, 0] > 8_000
    isd_core, isd_rural = plan.isd_at(np.array([30_000.0, 200.0]))
    assert isd_core == 300.0 and 1_732.0 < isd_rural < 4_000.0
    # no two sites closer than min_spacing x the planned ISD; typical spacing near it
    assert dist[core].min() >= plan.min_spacing * isd_core - 1e-6
    assert 0.7 * isd_core <= np.median(dist[core]) <= 1.1 * isd_core
    assert 0.7 * isd_rural <= np.median(dist[rural]) <= 1.3 * isd_rural
    # about the site count of a hexagonal layout at that ISD (one per √3/2 ISD²)
    hexagonal = 4_000 * 6_000 / (np.sqrt(3) / 2 * isd_core**2)
    assert 0.6 * hexagonal <= core.sum() <= 1.2 * hexagonal
    # radius reaches about the neighbouring sites: smaller where dense
    assert 0.5 * isd_core <= sites.loc[core, "radius_m"].median() <= 1.2 * isd_core
    assert sites.loc[rural, "radius_m"].median() > 3 * sites.loc[core, "radius_m"].median()


def test_network_covers_the_dense_core_and_varies():
    from gridplan.cells.coverage import CoverageConfig, coverage_scores

    city, pop = _two_zone_city()
    sites = generate_sites(city, pop, None, seed=6)
    gx, gy = np.meshgrid(np.arange(50, 12_000, 100.0), np.arange(50, 6_000, 100.0))
    cells = np.column_stack([gx.ravel(), gy.ravel()])
    cfg = CoverageConfig()
    _, score = coverage_scores(
        cells,
        np.column_stack([sites.geometry.x, sites.geometry.y]),
        cfg.weight_of(sites["technology"].to_numpy()),
        sites["sectors"].to_numpy(),
        sites["radius_m"].to_numpy(),
        cfg,
    )
    assert (score >= 0.5).mean() > 0.7  # a network as dense as a real one covers most
    assert 0.01 < (score < 0.5).mean() < 0.3  # and leaves a few gaps
    assert score.std() > 0.1


def test_a_given_site_count_is_met_exactly_and_keeps_following_density():
    city, pop = _two_zone_city()
    few = generate_sites(city, pop, 150, seed=2)
    many = generate_sites(city, pop, 2_000, seed=2)
    assert len(few) == 150 and len(many) == 2_000
    for sites in (few, many):
        west = (sites.geometry.x < 6_000).mean()
        assert west > 0.8  # most sites where the people are
    assert len(generate_sites(city, pop, 0, seed=2)) == 0


def test_sites_in_geographic_crs(boundary, population):
    sites = generate_sites(boundary.to_crs(4326), population.to_crs(4326), 50, seed=1)
    assert sites.crs.to_epsg() == 4326
    assert sites.to_crs(UTM).within(boundary.union_all().buffer(1e-6)).all()


# --------------------------------------------------------------------------- real data


def test_customers_follow_population_on_the_nyc_tracts():
    from gridplan.demo.cities import load_demo

    layers = load_demo("nyc", synthetic=False)
    tracts = layers.population
    cust = generate_customers(tracts, 50_000, seed=2026)
    joined = gpd.sjoin(cust, tracts[["population", "geometry"]], predicate="within")
    counts = joined.groupby("index_right").size().reindex(tracts.index, fill_value=0)
    assert len(joined) == len(cust)
    assert np.corrcoef(counts, tracts["population"])[0, 1] > 0.8
    sites = generate_sites(layers.boundary, tracts, 400, seed=2026)
    assert sites.within(layers.boundary.union_all()).all()
