"""Synthetic cell sites and customers for the demo cities: generated, *not real*.

Everything here is deterministic: a ``numpy.random.Generator`` seeded with the
caller's integer seed, vectorised sampling and a fixed order of draws, so the
same inputs and seed give identical frames. Generation happens in a metric CRS
(the input's own if it is in metres, else :func:`gridplan.crs.local_metric_crs`)
and the result is returned in the input's CRS.

Sites (:func:`generate_sites`, :class:`NetworkPlan`): a macro network as dense as a
real one, its inter-site distance (ISD) following the population density: 300 m
at ≥ 25,000 persons/km², 400 m at 15,000, 500 m at 8,000 (3GPP urban macro), 800 m
at 3,000, 1.2 km at 1,000, 1,732 m at 300 (3GPP rural macro), 4 km in empty land.
Sources of the figures: data/README.md.

Customer mix (shares of all customers, ``DEFAULT_FAMILY_SHARES``): public 87.5 %,
business 5 %, VIP 5 %, group clients 2 %, large customers 0.5 %. Within a family
(``DEFAULT_SEGMENT_WEIGHTS``): group A/B/C 5/25/70 %; VIP diamond/gold/silver
10/30/60 %; business A+/A/B/C 10/20/30/40 %; large crown..crystal
2/5/10/18/25/40 %. Segments of a custom catalogue without a weight share their
family equally.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely
from scipy import ndimage
from scipy.spatial import cKDTree

from gridplan.layers.crs import WGS84, is_metric, local_metric_crs
from gridplan.layers.segments import Segment, SegmentCatalogue
from gridplan.progress import ProgressCallback, no_progress

DEFAULT_FAMILY_SHARES: tuple[tuple[str, float], ...] = (
    ("public", 0.875),
    ("business", 0.05),
    ("vip", 0.05),
    ("group", 0.02),
    ("large", 0.005),
)
DEFAULT_SEGMENT_WEIGHTS: tuple[tuple[str, float], ...] = (
    ("group_a", 0.05),
    ("group_b", 0.25),
    ("group_c", 0.70),
    ("vip_diamond", 0.10),
    ("vip_gold", 0.30),
    ("vip_silver", 0.60),
    ("large_crown", 0.02),
    ("large_diamond", 0.05),
    ("large_platinum", 0.10),
    ("large_gold", 0.18),
    ("large_silver", 0.25),
    ("large_crystal", 0.40),
    ("business_a_plus", 0.10),
    ("business_a", 0.20),
    ("business_b", 0.30),
    ("business_c", 0.40),
    ("public", 1.0),
)

# Synthetic demo sizes per city: (sites, customers); sites None = as many as the
# realistic network plan (NetworkPlan) gives for the city's population.
DEMO_SIZES: tuple[tuple[str, int | None, int], ...] = (
    ("nyc", None, 60_000),
    ("seoul", None, 40_000),
)

# Share of 5G sites against density (persons/km²), log-interpolated.
_5G_KNOTS = ((500.0, 0.15), (5_000.0, 0.45), (20_000.0, 0.80))
_SECTORS = (1, 2, 3, 4, 5, 6)
_SECTOR_P = (0.04, 0.08, 0.70, 0.08, 0.02, 0.08)
_DENSITY_RADIUS_M = 500.0  # neighbourhood for the density of population points, metres


# --------------------------------------------------------------------------- geometry


def _metric(gdf: gpd.GeoDataFrame, crs: pyproj.CRS | None = None) -> gpd.GeoDataFrame:
    """The layer in ``crs``, or in its own CRS when metric, else its local UTM zone."""
    if gdf.crs is None:
        raise ValueError("layer has no CRS")
    if crs is None:
        crs = gdf.crs if is_metric(gdf.crs) else local_metric_crs(gdf)
    return gdf if pyproj.CRS.from_user_input(gdf.crs) == crs else gdf.to_crs(crs)


def _is_points(gdf: gpd.GeoDataFrame) -> bool:
    return bool(len(gdf)) and bool(gdf.geom_type.isin(["Point"]).all())


def _sample_in_polygons(
    geoms: np.ndarray, counts: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Uniform random points inside polygons: ``counts[i]`` in ``geoms[i]``, grouped by polygon.

    Vectorised rejection sampling in each polygon's bounding box (metres).
    """
    counts = np.asarray(counts, dtype=np.int64)
    total = int(counts.sum())
    xs = np.empty(total)
    ys = np.empty(total)
    start = np.concatenate([[0], np.cumsum(counts)[:-1]])
    filled = np.zeros(len(counts), dtype=np.int64)
    bounds = shapely.bounds(geoms)
    area = shapely.area(geoms)
    box_area = (bounds[:, 2] - bounds[:, 0]) * (bounds[:, 3] - bounds[:, 1])
    ratio = np.where(area > 0, box_area / np.maximum(area, 1e-9), 1.0).clip(1.0, 1_000.0)
    shapely.prepare(geoms)
    for _ in range(60):
        need = counts - filled
        todo = np.flatnonzero(need > 0)
        if not len(todo):
            break
        draw = np.ceil(need[todo] * ratio[todo] * 1.25).astype(np.int64) + 2
        owner = np.repeat(todo, draw)
        b = bounds[owner]
        x = b[:, 0] + rng.random(len(owner)) * (b[:, 2] - b[:, 0])
        y = b[:, 1] + rng.random(len(owner)) * (b[:, 3] - b[:, 1])
        ok = shapely.contains_xy(geoms[owner], x, y)
        owner, x, y = owner[ok], x[ok], y[ok]
        # rank of each accepted point within its polygon (owner is sorted)
        first = np.searchsorted(owner, owner, side="left")
        rank = np.arange(len(owner)) - first
        keep = rank < need[owner]
        owner, rank, x, y = owner[keep], rank[keep], x[keep], y[keep]
        slot = start[owner] + filled[owner] + rank
        xs[slot], ys[slot] = x, y
        filled += np.bincount(owner, minlength=len(counts))
    short = np.flatnonzero(counts > filled)
    for i in short:  # degenerate polygons (no area): their representative point
        p = shapely.point_on_surface(geoms[i])
        slots = start[i] + np.arange(filled[i], counts[i])
        xs[slots], ys[slots] = shapely.get_x(p), shapely.get_y(p)
    return xs, ys


def _jitter(
    x0: np.ndarray,
    y0: np.ndarray,
    half_m: float,
    rng: np.random.Generator,
    region: shapely.Geometry | None,
) -> tuple[np.ndarray, np.ndarray]:
    """Points uniform in a square of half-side ``half_m`` metres around each (x0, y0).

    With a ``region``, points falling outside are redrawn (a few times, then left
    on their centre).
    """
    x = x0 + rng.uniform(-half_m, half_m, len(x0))
    y = y0 + rng.uniform(-half_m, half_m, len(y0))
    if region is None:
        return x, y
    shapely.prepare(region)
    for _ in range(8):
        out = np.flatnonzero(~shapely.contains_xy(region, x, y))
        if not len(out):
            return x, y
        x[out] = x0[out] + rng.uniform(-half_m, half_m, len(out))
        y[out] = y0[out] + rng.uniform(-half_m, half_m, len(out))
    out = np.flatnonzero(~shapely.contains_xy(region, x, y))
    x[out], y[out] = x0[out], y0[out]
    return x, y


def _place(
    population: gpd.GeoDataFrame,
    n: int,
    rng: np.random.Generator,
    region: shapely.Geometry | None,
    jitter_m: float,
) -> tuple[np.ndarray, np.ndarray]:
    """``n`` points in proportion to ``population`` (polygons: uniform inside; points: jitter)."""
    weights = population["population"].to_numpy(dtype=float)
    weights = np.where(np.isfinite(weights) & (weights > 0), weights, 0.0)
    if weights.sum() <= 0:
        raise ValueError("population layer has no positive population to sample from")
    counts = rng.multinomial(n, weights / weights.sum())
    geoms = population.geometry.to_numpy()
    if _is_points(population):
        owner = np.repeat(np.arange(len(geoms)), counts)
        return _jitter(
            shapely.get_x(geoms)[owner], shapely.get_y(geoms)[owner], jitter_m, rng, region
        )
    used = np.flatnonzero(counts)
    return _sample_in_polygons(geoms[used], counts[used], rng)


def _region(boundary: gpd.GeoDataFrame) -> shapely.Geometry:
    return shapely.make_valid(shapely.union_all(boundary.geometry.to_numpy()))


def _density(population: gpd.GeoDataFrame, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Population density (persons/km²) at points (metres).

    Polygons: the density of the polygon holding the point (0 outside). Points: the
    population within 500 m divided by that disc's area.
    """
    pop = population["population"].to_numpy(dtype=float)
    pop = np.where(np.isfinite(pop), pop, 0.0)
    geoms = population.geometry.to_numpy()
    out = np.zeros(len(x))
    if not len(x) or not len(geoms):
        return out
    if _is_points(population):
        tree = cKDTree(np.column_stack([shapely.get_x(geoms), shapely.get_y(geoms)]))
        hits = tree.query_ball_point(np.column_stack([x, y]), r=_DENSITY_RADIUS_M)
        disc_km2 = np.pi * (_DENSITY_RADIUS_M / 1_000.0) ** 2
        return np.array([pop[h].sum() for h in hits]) / disc_km2
    area_km2 = shapely.area(geoms) / 1e6
    dens = np.where(area_km2 > 0, pop / np.maximum(area_km2, 1e-12), 0.0)
    pts = shapely.points(x, y)
    idx_pt, idx_poly = shapely.STRtree(geoms).query(pts, predicate="intersects")
    order = np.lexsort((idx_poly, idx_pt))  # first polygon per point, deterministically
    idx_pt, idx_poly = idx_pt[order], idx_poly[order]
    first = np.unique(idx_pt, return_index=True)[1]
    out[idx_pt[first]] = dens[idx_poly[first]]
    return out


def _log_interp(
    d: np.ndarray, knots_d: tuple[float, ...], knots_v: tuple[float, ...]
) -> np.ndarray:
    return np.interp(np.log10(np.maximum(d, 1.0)), np.log10(knots_d), knots_v)


# --------------------------------------------------------------------------- sites


@dataclass(frozen=True)
class NetworkPlan:
    """How the synthetic macro network is laid out (distances in metres).

    The planned inter-site distance (ISD) follows the population density around a
    point (persons/km², smoothed over ``smoothing_m``), log-interpolated between
    ``density_knots`` and ``isd_m`` (see data/README.md for the figures and their
    sources). Sites are dropped by random sequential adsorption: candidates drawn
    with an intensity ``oversample`` times the site density of a hexagonal layout
    at the local ISD (one site per ``√3/2 · ISD²``), each kept when no kept site
    lies closer than ``min_spacing × ISD`` (the smaller ISD of the two). The
    resulting layout is irregular like a real network (no two sites closer than
    ``min_spacing`` ISD, gaps where the draw left them) with about the hexagonal
    count. ``radius_m`` of a site is ``reach ×`` the mean distance to its three
    nearest sites (the local ISD actually realised), within ``radius_band`` × the
    planned ISD.
    """

    density_knots: tuple[float, ...] = (50.0, 300.0, 1_000.0, 3_000.0, 8_000.0, 15_000.0, 25_000.0)
    isd_m: tuple[float, ...] = (4_000.0, 1_732.0, 1_200.0, 800.0, 500.0, 400.0, 300.0)
    smoothing_m: float = 1_000.0
    raster_m: float = 250.0
    min_spacing: float = 0.7
    oversample: float = 6.0
    reach: float = 0.9
    radius_band: tuple[float, float] = (0.6, 1.5)

    def isd_at(self, density: np.ndarray) -> np.ndarray:
        """Planned ISD (metres) at a population density (persons/km²)."""
        return _log_interp(np.asarray(density, dtype=float), self.density_knots, self.isd_m)


def _raster_density(
    population: gpd.GeoDataFrame, region: shapely.Geometry, plan: NetworkPlan
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Smoothed density (persons/km² of land) and land area (km²) on a square raster.

    Returns ``(density, land_km2, origin_xy, cell_m)``; raster ``[i, j]`` is the
    square ``origin + (i, j) × cell_m``. Population points are binned into the
    raster; polygons are sampled at 5 × 5 points per raster cell. The smoothing is
    the population within ``smoothing_m`` divided by the land area within it, so
    a coast does not dilute the density.
    """
    cell = float(plan.raster_m)
    x0, y0, x1, y1 = shapely.bounds(region)
    nx = max(1, int(np.ceil((x1 - x0) / cell)))
    ny = max(1, int(np.ceil((y1 - y0) / cell)))
    sub = 5
    off = (np.arange(sub) + 0.5) / sub * cell
    gx = x0 + (np.arange(nx)[:, None] * cell + off[None, :]).ravel()
    gy = y0 + (np.arange(ny)[:, None] * cell + off[None, :]).ravel()
    sx, sy = np.meshgrid(gx, gy, indexing="ij")  # (nx*sub, ny*sub)
    inside = shapely.contains_xy(region, sx.ravel(), sy.ravel()).reshape(sx.shape)
    land = inside.reshape(nx, sub, ny, sub).mean(axis=(1, 3)) * (cell / 1_000.0) ** 2
    pop = population["population"].to_numpy(dtype=float)
    pop = np.where(np.isfinite(pop) & (pop > 0), pop, 0.0)
    geoms = population.geometry.to_numpy()
    if _is_points(population):
        px = ((shapely.get_x(geoms) - x0) // cell).astype(np.int64).clip(0, nx - 1)
        py = ((shapely.get_y(geoms) - y0) // cell).astype(np.int64).clip(0, ny - 1)
        mass = np.zeros((nx, ny))
        np.add.at(mass, (px, py), pop)
    else:
        dens = _density(population, sx.ravel()[inside.ravel()], sy.ravel()[inside.ravel()])
        per_sub = np.zeros(sx.size)
        per_sub[inside.ravel()] = dens
        mass = per_sub.reshape(nx, sub, ny, sub).mean(axis=(1, 3)) * (cell / 1_000.0) ** 2
    r = int(np.ceil(plan.smoothing_m / cell))
    k = np.arange(-r, r + 1)
    kernel = ((k[:, None] ** 2 + k[None, :] ** 2) * cell**2 <= plan.smoothing_m**2).astype(float)
    num = ndimage.convolve(mass, kernel, mode="constant")
    den = ndimage.convolve(land, kernel, mode="constant")
    density = np.where(den > 1e-9, num / np.maximum(den, 1e-9), 0.0)
    return density, land, np.array([x0, y0]), cell


def _candidates(
    density: np.ndarray,
    land: np.ndarray,
    origin: np.ndarray,
    cell: float,
    region: shapely.Geometry,
    plan: NetworkPlan,
    scale: float,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Candidate sites ``(x, y, isd)``, in a random order, inside ``region``."""
    isd = plan.isd_at(density) * scale
    expected = land / (np.sqrt(3.0) / 2.0 * (isd / 1_000.0) ** 2)  # sites per raster cell
    counts = rng.poisson(plan.oversample * expected).ravel()
    owner = np.repeat(np.arange(counts.size), counts)
    ix, iy = np.unravel_index(owner, density.shape)
    x = origin[0] + (ix + rng.random(len(owner))) * cell
    y = origin[1] + (iy + rng.random(len(owner))) * cell
    ok = shapely.contains_xy(region, x, y)
    order = rng.permutation(int(ok.sum()))
    return x[ok][order], y[ok][order], isd.ravel()[owner[ok]][order]


def _adsorb(x: np.ndarray, y: np.ndarray, isd: np.ndarray, min_spacing: float) -> np.ndarray:
    """Indices of the candidates kept, in order: a candidate is kept when no kept site
    lies closer than ``min_spacing × min(its ISD, the site's ISD)`` (metres)."""
    gap = min_spacing * isd
    bucket = float(gap.min()) if len(gap) else 1.0
    grid: dict[tuple[int, int], list[int]] = {}
    kept: list[int] = []
    for i in range(len(x)):
        bx, by = int(x[i] // bucket), int(y[i] // bucket)
        reach = int(np.ceil(gap[i] / bucket))
        clash = False
        for dx in range(-reach, reach + 1):
            for dy in range(-reach, reach + 1):
                for j in grid.get((bx + dx, by + dy), ()):
                    lim = min(gap[i], gap[j])
                    if (x[i] - x[j]) ** 2 + (y[i] - y[j]) ** 2 < lim * lim:
                        clash = True
                        break
                if clash:
                    break
            if clash:
                break
        if not clash:
            kept.append(i)
            grid.setdefault((bx, by), []).append(i)
    return np.asarray(kept, dtype=np.int64)


def _plan_network(
    pop: gpd.GeoDataFrame,
    region: shapely.Geometry,
    n_sites: int | None,
    plan: NetworkPlan,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Sites ``(x, y, planned ISD, density)`` of the network (metres, persons/km²).

    ``n_sites=None``: as many as the plan gives. Else the ISDs are scaled until the
    plan gives at least ``n_sites`` and the first ``n_sites`` kept are returned (a
    uniform thinning, so the layout keeps following the density).
    """
    density, land, origin, cell = _raster_density(pop, region, plan)
    scale = 1.0
    for _ in range(12):
        x, y, isd = _candidates(density, land, origin, cell, region, plan, scale, rng)
        kept = _adsorb(x, y, isd, plan.min_spacing)
        if n_sites is None or len(kept) >= n_sites or not len(x):
            break
        scale *= 0.9 * float(np.sqrt(max(len(kept), 1) / n_sites))
    if n_sites is not None:
        kept = kept[:n_sites]
    x, y, isd = x[kept], y[kept], isd[kept]
    ix = ((x - origin[0]) // cell).astype(np.int64).clip(0, density.shape[0] - 1)
    iy = ((y - origin[1]) // cell).astype(np.int64).clip(0, density.shape[1] - 1)
    return x, y, isd, density[ix, iy]


def _site_radius(x: np.ndarray, y: np.ndarray, isd: np.ndarray, plan: NetworkPlan) -> np.ndarray:
    """Nominal radius (metres): ``plan.reach`` × the mean distance to the 3 nearest
    other sites, within ``plan.radius_band`` × the planned ISD."""
    low, high = plan.radius_band[0] * isd, plan.radius_band[1] * isd
    if len(x) < 2:
        return plan.reach * isd
    k = min(4, len(x))
    dist, _ = cKDTree(np.column_stack([x, y])).query(np.column_stack([x, y]), k=k)
    return np.clip(plan.reach * dist[:, 1:].mean(axis=1), low, high)


def generate_sites(
    boundary: gpd.GeoDataFrame,
    population: gpd.GeoDataFrame,
    n_sites: int | None,
    seed: int,
    *,
    plan: NetworkPlan = NetworkPlan(),
) -> gpd.GeoDataFrame:
    """A synthetic macro network inside ``boundary``, as dense as a real one.

    Sites are spaced by the planned inter-site distance of :class:`NetworkPlan`
    (300 m where ≥ 25,000 persons/km², 500 m at 8,000, 1,732 m at 300, 4 km in
    empty land; density smoothed over 1 km of land), irregular like a real
    network. ``n_sites=None`` keeps the count the plan gives (the demo files);
    a number scales the spacing to give exactly that many. Columns: ``site_id``
    ("SYN-S00001"…), ``technology`` ("4G"/"5G", 5G more likely where dense),
    ``sectors`` (1–6, mostly 3), ``radius_m`` (nominal coverage radius in metres,
    0.9 × the distance to the nearest sites, see :class:`NetworkPlan`),
    ``density`` (persons/km² around the site, smoothed). Returned in the
    boundary's CRS.
    """
    if n_sites is not None and n_sites < 0:
        raise ValueError("n_sites must be >= 0")
    rng = np.random.default_rng(seed)
    bnd = _metric(boundary)
    crs = pyproj.CRS.from_user_input(bnd.crs)
    pop = _metric(population, crs)
    region = _region(bnd)
    shapely.prepare(region)
    if n_sites == 0:
        x = y = isd = density = np.zeros(0)
    else:
        x, y, isd, density = _plan_network(pop, region, n_sites, plan, rng)
    radius = _site_radius(x, y, isd, plan) * rng.uniform(0.9, 1.1, len(x))
    radius = np.round(np.maximum(radius, 50.0) / 10.0) * 10.0
    p5g = _log_interp(density, tuple(k for k, _ in _5G_KNOTS), tuple(v for _, v in _5G_KNOTS))
    technology = np.where(rng.random(len(x)) < p5g, "5G", "4G")
    sectors = rng.choice(np.array(_SECTORS), size=len(x), p=np.array(_SECTOR_P))
    sites = gpd.GeoDataFrame(
        {
            "site_id": [f"SYN-S{i:05d}" for i in range(1, len(x) + 1)],
            "technology": technology.astype(object),
            "sectors": sectors.astype("int64"),
            "radius_m": radius.astype("float64"),
            "density": np.round(density, 1),
        },
        geometry=shapely.points(x, y),
        crs=crs,
    )
    return sites.to_crs(boundary.crs)


# --------------------------------------------------------------------------- customers


def _segment_probabilities(
    catalogue: SegmentCatalogue, family_shares: Mapping[str, float] | None
) -> tuple[tuple[str, ...], np.ndarray]:
    shares = dict(DEFAULT_FAMILY_SHARES if family_shares is None else family_shares)
    weights = dict(DEFAULT_SEGMENT_WEIGHTS)
    codes: list[str] = []
    probs: list[float] = []
    for family in catalogue.families():
        members = catalogue.codes_in(family)
        w = np.array([weights.get(c, np.nan) for c in members], dtype=float)
        w = np.ones(len(members)) if np.isnan(w).any() or w.sum() <= 0 else w
        w = w / w.sum() * float(shares.get(family, 0.0))
        codes += members
        probs += w.tolist()
    p = np.array(probs)
    if p.sum() <= 0:
        raise ValueError("no segment has a positive share: check family_shares")
    return tuple(codes), p / p.sum()


def _skewed(rng: np.random.Generator, lo: float, hi: float, n: int) -> np.ndarray:
    """Values in [lo, hi], more of them near ``lo`` (Beta(1.2, 2.2))."""
    return lo + (hi - lo) * rng.beta(1.2, 2.2, n)


def _spend_and_handsets(
    seg: Segment, n: int, rng: np.random.Generator, public_cap: float
) -> tuple[np.ndarray, np.ndarray]:
    """Monthly spend (CNY/month) and handsets for ``n`` customers of one segment."""
    lo = float(seg.min_value or 0.0)
    hi = None if seg.max_value is None else float(seg.max_value)
    if seg.family == "group":
        if hi is None:  # open band (A: >= 500): Pareto tail, capped at 10x
            handsets = np.floor(lo * (1.0 + rng.pareto(2.5, n))).clip(lo, 10 * lo)
        else:
            handsets = np.floor(_skewed(rng, lo, hi + 1.0, n)).clip(lo, hi)
        arpu = np.exp(rng.normal(np.log(48.0), 0.35, n)).clip(15.0, 200.0)  # CNY/handset
        return np.round(handsets * arpu, 2), handsets.astype(np.int64)
    if seg.family == "public" or (lo == 0.0 and hi is None):
        spend = np.exp(rng.normal(np.log(58.0), 0.6, n)).clip(5.0, public_cap)
    elif hi is None:  # open band (diamond, crown): Pareto tail, capped at 3x
        spend = (lo * (1.0 + rng.pareto(3.0, n))).clip(lo, 3.0 * lo)
    else:
        spend = _skewed(rng, max(lo, 0.1 * hi), hi, n)
    spend = np.round(spend, 2)
    if hi is not None:
        spend = spend.clip(lo, hi)
    if seg.family == "business":
        handsets = rng.integers(1, 10, n)
    elif seg.family == "large":
        handsets = np.maximum(1, np.round(spend / rng.uniform(150.0, 400.0, n)))
    else:
        handsets = np.ones(n)
    return spend, handsets.astype(np.int64)


def generate_customers(
    population: gpd.GeoDataFrame,
    n_customers: int,
    seed: int,
    catalogue: SegmentCatalogue = SegmentCatalogue(),  # noqa: B008 (frozen, immutable)
    *,
    boundary: gpd.GeoDataFrame | None = None,
    jitter_m: float = 50.0,
    family_shares: Mapping[str, float] | None = None,
) -> gpd.GeoDataFrame:
    """Synthetic customers placed in proportion to real population.

    ``population``: polygons (customers uniform inside, polygons drawn in
    proportion to ``population``) or points (customers uniform in a square of
    half-side ``jitter_m`` metres around the point; redrawn when they fall outside
    the optional ``boundary``). Segment mix: ``family_shares`` (default
    :data:`DEFAULT_FAMILY_SHARES`, see the module docstring). Columns:
    ``customer_id`` ("SYN-C000001"…), ``segment`` (a code of ``catalogue``),
    ``spend`` (CNY/month, inside the segment's band; group clients: handsets ×
    a per-handset ARPU of ~48 CNY/month), ``handsets`` (group clients A ≥500,
    B 100–499, C 10–99; business 1–9; large spend/150–400; others 1). Returned
    in the population layer's CRS.
    """
    if n_customers < 0:
        raise ValueError("n_customers must be >= 0")
    rng = np.random.default_rng(seed)
    pop = _metric(population)
    crs = pyproj.CRS.from_user_input(pop.crs)
    region = None if boundary is None else _region(_metric(boundary, crs))

    codes, p = _segment_probabilities(catalogue, family_shares)
    segment = np.array(codes, dtype=object)[rng.choice(len(codes), size=n_customers, p=p)]
    x, y = _place(pop, n_customers, rng, region, jitter_m)

    vip_floor = [s.min_value for s in catalogue.segments if s.family == "vip" and s.min_value]
    public_cap = float(min(vip_floor)) - 1.0 if vip_floor else 650.0
    spend = np.zeros(n_customers)
    handsets = np.ones(n_customers, dtype=np.int64)
    for code in codes:
        mask = segment == code
        if mask.any():
            spend[mask], handsets[mask] = _spend_and_handsets(
                catalogue.get(code), int(mask.sum()), rng, public_cap
            )
    customers = gpd.GeoDataFrame(
        {
            "customer_id": [f"SYN-C{i:06d}" for i in range(1, n_customers + 1)],
            "segment": segment,
            "spend": spend,
            "handsets": handsets,
        },
        geometry=shapely.points(x, y),
        crs=crs,
    )
    return customers.to_crs(population.crs)


# --------------------------------------------------------------------------- demo files


def build_synthetic(
    city: str,
    out_dir: Path,
    seed: int = 2026,
    *,
    progress: ProgressCallback = no_progress,
) -> list[Path]:
    """Write a demo city's synthetic sites and customers; return the two paths.

    ``out_dir`` is the folder that receives ``<city>_synthetic_sites.parquet`` and
    ``<city>_synthetic_customers.parquet`` (GeoParquet, EPSG:4326, zstd); pass
    ``data_dir() / city`` to refresh the shipped files. The real layers are read
    from ``out_dir`` when it is a city folder (named ``<city>``, holding
    ``<city>.gpkg``), else from the city's folder under
    :func:`gridplan.demo.data_dir`. Sites use ``seed``, customers
    ``seed + 1``; sites: the realistic network of :class:`NetworkPlan` (about
    4,200 in NYC, 4,400 in Seoul); customers: NYC 60,000 placed on the 100 m
    population points, Seoul 40,000 placed in the dong.
    """
    from gridplan.demo.cities import city_paths, demo_city, load_demo

    spec = demo_city(city)
    out_dir = Path(out_dir)
    name = spec.key
    own = out_dir.name == name and (out_dir / f"{name}.gpkg").is_file()
    root = out_dir.parent if own else None
    population = "points" if "points" in city_paths(name, root) else "tracts"
    progress(0.0, f"{spec.name}: reading the real layers")
    layers = load_demo(spec.key, population=population, synthetic=False, root=root)
    n_sites, n_customers = next((s, c) for k, s, c in DEMO_SIZES if k == spec.key)

    progress(0.2, f"{spec.name}: synthetic sites")
    sites = generate_sites(layers.boundary, layers.population, n_sites, seed)
    progress(0.4, f"{spec.name}: {n_customers:,} synthetic customers")
    customers = generate_customers(
        layers.population, n_customers, seed + 1, boundary=layers.boundary
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for key, frame in (("sites", sites), ("customers", customers)):
        path = out_dir / city_paths(name, out_dir)[key].name
        frame.to_crs(WGS84).to_parquet(path, compression="zstd", index=False)
        written.append(path)
    progress(1.0, f"{spec.name}: wrote {', '.join(p.name for p in written)}")
    return written


def synthetic_summary(customers: gpd.GeoDataFrame) -> pd.DataFrame:
    """Count, share and mean spend (CNY/month) per segment of a customers layer."""
    g = customers.groupby("segment", sort=True)
    out = pd.DataFrame({"customers": g.size(), "mean_spend": g["spend"].mean().round(2)})
    out["share"] = out["customers"] / max(len(customers), 1)
    return out
