"""Benchmark of :func:`gridplan.cells.build_cells` against a geopandas baseline.

Builds a synthetic city (deterministic for ``--seed``; *synthetic*, not real data)
of about ``--area-km2`` km² in UTM zone 48N (near Chengdu): an irregular
boundary, Voronoi districts and population tracts (some sticking out of the
boundary), cell sites, ``--customers`` customer points of every segment, and
barrier lines. Then:

1. ``build_cells`` with H3 at ``--resolution`` (default 10, ~133,000 cells for
   2,000 km²), timing every step through the progress callback;
2. the peer, measured in the same run: what a GIS analyst would do with
   geopandas on the same cells — ``gpd.sjoin`` of the customers onto the cells
   plus a pivot per segment and spend sum, and ``gpd.overlay`` of the tracts with
   the cells for area-weighted population (skip the overlay with
   ``--no-peer-overlay``);
3. a cross-check that both give the same per-cell figures.

Writes JSON to ``benchmarks/results/cells.json`` (``--out``) and prints it.
Peak memory is the process's maximum resident set size (``ru_maxrss``).

    .venv/bin/python benchmarks/cells_benchmark.py
    .venv/bin/python benchmarks/cells_benchmark.py --resolution 9 --customers 200000
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sys
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyproj
import shapely

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gridplan.cells.build import CellsConfig, build_cells
from gridplan.layers.model import Layers
from gridplan.layers.segments import SegmentCatalogue

CRS = pyproj.CRS.from_epsg(32648)  # WGS 84 / UTM 48N
CENTRE = (404_000.0, 3_394_000.0)  # about 104.0 E, 30.67 N


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def synthetic_city(area_km2: float, n_customers: int, n_tracts: int, n_sites: int, seed: int):
    """Synthetic layers (all in UTM 48N metres). Returns :class:`Layers`."""
    rng = np.random.default_rng(seed)
    cx, cy = CENTRE
    r0 = np.sqrt(area_km2 * 1e6 / np.pi)
    th = np.linspace(0, 2 * np.pi, 721)[:-1]
    wobble = 1 + 0.12 * np.sin(3 * th + 0.4) + 0.06 * np.sin(7 * th + 1.3)
    wobble += 0.02 * rng.standard_normal(len(th))
    ring = np.column_stack([cx + r0 * wobble * np.cos(th), cy + r0 * wobble * np.sin(th)])
    boundary = shapely.Polygon(ring)
    boundary = shapely.affinity.scale(
        boundary,
        np.sqrt(area_km2 * 1e6 / boundary.area),
        np.sqrt(area_km2 * 1e6 / boundary.area),
        origin=(cx, cy),
    )
    minx, miny, maxx, maxy = boundary.bounds
    frame = shapely.box(minx - 3000, miny - 3000, maxx + 3000, maxy + 3000)

    def voronoi(points: np.ndarray, clip: shapely.Geometry) -> np.ndarray:
        regions = shapely.get_parts(
            shapely.voronoi_polygons(shapely.multipoints(points), extend_to=frame)
        )
        # order the regions like the seed points
        tree = shapely.STRtree(regions)
        pi, ri = tree.query(shapely.points(points), predicate="intersects")
        order = np.full(len(points), -1)
        order[pi] = ri
        return shapely.intersection(regions[order], clip)

    # districts: 14 Voronoi regions covering the boundary (plus 1 km)
    dseeds = np.column_stack(
        [cx + rng.uniform(-0.8, 0.8, 14) * r0, cy + rng.uniform(-0.8, 0.8, 14) * r0]
    )
    dgeoms = voronoi(dseeds, boundary.buffer(1000))
    districts = gpd.GeoDataFrame(
        {"district": [f"D{i:02d}" for i in range(len(dgeoms))]}, geometry=dgeoms, crs=CRS
    )

    # population tracts: denser in the centre; clipped to the boundary plus 2 km
    rr = r0 * np.sqrt(rng.beta(1.2, 2.5, n_tracts)) * 1.1
    ang = rng.uniform(0, 2 * np.pi, n_tracts)
    tseeds = np.column_stack([cx + rr * np.cos(ang), cy + rr * np.sin(ang)])
    tgeoms = voronoi(tseeds, boundary.buffer(2000))
    keep = shapely.area(tgeoms) > 0
    tgeoms, tseeds = tgeoms[keep], tseeds[keep]
    dist = np.hypot(tseeds[:, 0] - cx, tseeds[:, 1] - cy) / r0
    density = 22_000 * np.exp(-3.0 * dist) + 300  # persons/km²
    pop = np.round(density * shapely.area(tgeoms) / 1e6 * rng.uniform(0.6, 1.4, len(tgeoms)))
    population = gpd.GeoDataFrame(
        {"population": pop, "households": np.round(pop / 2.8)}, geometry=tgeoms, crs=CRS
    )

    # sites
    sr = r0 * np.sqrt(rng.beta(1.0, 1.8, n_sites))
    sa = rng.uniform(0, 2 * np.pi, n_sites)
    sdist = sr / r0
    sites = gpd.GeoDataFrame(
        {
            "site_id": [f"S{i:05d}" for i in range(n_sites)],
            "technology": np.where(rng.random(n_sites) < 0.6 - 0.4 * sdist, "5G", "4G"),
            "sectors": rng.choice([1, 3, 6], n_sites, p=[0.1, 0.8, 0.1]),
            "radius_m": 300 + 2200 * sdist,
        },
        geometry=shapely.points(cx + sr * np.cos(sa), cy + sr * np.sin(sa)),
        crs=CRS,
    )

    # customers: mixture around the centre and sub-centres, ~1 % outside the boundary
    k = 12
    centres = np.column_stack(
        [cx + rng.uniform(-0.7, 0.7, k) * r0, cy + rng.uniform(-0.7, 0.7, k) * r0]
    )
    centres[0] = (cx, cy)
    which = rng.choice(k, n_customers, p=np.r_[0.3, np.full(k - 1, 0.7 / (k - 1))])
    spread = np.where(which == 0, 0.35 * r0, 0.12 * r0)
    xy = centres[which] + rng.standard_normal((n_customers, 2)) * spread[:, None]
    cat = SegmentCatalogue()
    codes = np.array(cat.codes, dtype=object)
    p = np.array([0.002 if c.startswith("large") else 0.01 for c in cat.codes])
    p[list(cat.codes).index("public")] = 0
    p[list(cat.codes).index("public")] = 1 - p.sum()
    seg = codes[rng.choice(len(codes), n_customers, p=p)]
    spend = np.round(rng.gamma(2.0, 60.0, n_customers), 2)
    handsets = np.where(
        np.char.startswith(seg.astype(str), "group"), rng.integers(10, 600, n_customers), 1
    )
    customers = gpd.GeoDataFrame(
        {
            "customer_id": np.arange(n_customers),
            "segment": seg,
            "spend": spend,
            "handsets": handsets,
        },
        geometry=shapely.points(xy),
        crs=CRS,
    )

    # barriers: a river across, a ring road, two radial highways
    t = np.linspace(-1.3, 1.3, 400)
    river = shapely.LineString(
        np.column_stack([cx + t * r0, cy + 0.15 * r0 * np.sin(3 * t) - 0.1 * r0])
    )
    ring_road = shapely.Point(cx, cy).buffer(0.4 * r0).exterior
    hw1 = shapely.LineString([(cx, cy), (cx + 1.3 * r0, cy + 1.0 * r0)])
    hw2 = shapely.LineString([(cx, cy), (cx - 1.2 * r0, cy + 0.6 * r0)])
    barriers = gpd.GeoDataFrame(
        {"kind": ["river", "ring road", "highway", "highway"]},
        geometry=[river, ring_road, hw1, hw2],
        crs=CRS,
    )
    return Layers(
        crs=CRS,
        boundary=gpd.GeoDataFrame({"name": ["Synthetic city"]}, geometry=[boundary], crs=CRS),
        population=population,
        districts=districts,
        sites=sites,
        customers=customers,
        barriers=barriers,
        name="Synthetic city",
        synthetic=("boundary", "population", "districts", "sites", "customers", "barriers"),
    )


def run_gridplan(layers: Layers, config: CellsConfig):
    stamps: list[tuple[str, float]] = []

    def progress(fraction: float, message: str) -> None:
        stamps.append((message, time.perf_counter()))

    t0 = time.perf_counter()
    cellset = build_cells(layers, config, progress)
    total = time.perf_counter() - t0
    steps: dict[str, float] = {}
    for (msg, t), (_, t_next) in zip(stamps, [*stamps[1:], ("end", t0 + total)], strict=True):
        steps[msg] = steps.get(msg, 0.0) + round(t_next - t, 3)
    return cellset, total, steps


def run_peer(cells: gpd.GeoDataFrame, layers: Layers, overlay: bool):
    """The geopandas way: sjoin for points, overlay for area weighting."""
    timings: dict[str, float] = {}
    grid = cells[["geometry"]].copy()
    t = time.perf_counter()
    joined = gpd.sjoin(layers.customers, grid, how="inner", predicate="within")
    per_seg = joined.groupby(["index_right", "segment"]).size().unstack(fill_value=0)
    spend = joined.groupby("index_right")["spend"].sum()
    timings["customers_sjoin_s"] = round(time.perf_counter() - t, 3)
    out = {"per_segment": per_seg, "spend": spend}
    if overlay:
        t = time.perf_counter()
        pop = layers.population[["population", "geometry"]].copy()
        pop["src"] = np.arange(len(pop))
        pieces = gpd.overlay(pop, grid.reset_index(names="cell"), how="intersection")
        # same rule as gridplan: shares of the covered area (renormalised)
        pieces["a"] = pieces.geometry.area
        pieces["share"] = pieces["a"] / pieces.groupby("src")["a"].transform("sum")
        pieces["pop"] = pieces["population"] * pieces["share"]
        out["population"] = pieces.groupby("cell")["pop"].sum()
        timings["population_overlay_s"] = round(time.perf_counter() - t, 3)
    timings["total_s"] = round(sum(timings.values()), 3)
    return out, timings


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--area-km2", type=float, default=2000.0, help="city area, km² (2000)")
    ap.add_argument("--resolution", type=int, default=10, help="H3 resolution (10)")
    ap.add_argument("--customers", type=int, default=1_000_000, help="customer points (1e6)")
    ap.add_argument("--tracts", type=int, default=6000, help="population polygons (6000)")
    ap.add_argument("--sites", type=int, default=4000, help="cell sites (4000)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--repeat", type=int, default=1, help="runs of build_cells; best is kept")
    ap.add_argument("--no-peer-overlay", action="store_true", help="skip the slow gpd.overlay")
    ap.add_argument("--no-peer", action="store_true", help="skip the geopandas peer")
    ap.add_argument(
        "--out",
        default=str(Path(__file__).resolve().parent / "results" / "cells.json"),
        help="JSON output path",
    )
    args = ap.parse_args(argv)

    t = time.perf_counter()
    layers = synthetic_city(args.area_km2, args.customers, args.tracts, args.sites, args.seed)
    gen_s = time.perf_counter() - t
    rss_data = _rss_mib()

    config = CellsConfig(h3_resolution=args.resolution)
    best = None
    for _ in range(max(1, args.repeat)):
        cellset, total, steps = run_gridplan(layers, config)
        if best is None or total < best[1]:
            best = (cellset, total, steps)
    cellset, total, steps = best
    rss_ours = _rss_mib()
    cells = cellset.cells

    result: dict[str, object] = {
        "benchmark": "cells",
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "numpy": np.__version__,
            "shapely": shapely.__version__,
            "geos": ".".join(map(str, shapely.geos_version)),
            "geopandas": gpd.__version__,
        },
        "input": {
            "synthetic": True,
            "area_km2": round(float(layers.boundary.area.sum()) / 1e6, 1),
            "h3_resolution": args.resolution,
            "customers": len(layers.customers),
            "population_polygons": len(layers.population),
            "districts": len(layers.districts),
            "sites": len(layers.sites),
            "barrier_lines": len(layers.barriers),
            "generate_s": round(gen_s, 2),
        },
        "gridplan": {
            "cells": len(cells),
            "edges": int(cellset.adjacency.n_edges),
            "total_s": round(total, 3),
            "steps_s": steps,
            "peak_rss_mib": round(rss_ours, 1),
            "rss_before_build_mib": round(rss_data, 1),
            "notes": list(cellset.notes),
            "checks": {
                "population_in": float(layers.population["population"].sum()),
                "population_cells": round(float(cells["population"].sum()), 1),
                "customers_in": len(layers.customers),
                "customers_cells": int(cells["customers"].sum()),
                "spend_in": round(float(layers.customers["spend"].sum()), 2),
                "spend_cells": round(float(cells["spend"].sum()), 2),
                "area_boundary_km2": round(float(layers.boundary.area.sum()) / 1e6, 4),
                "area_cells_km2": round(float(cells["area_km2"].sum()), 4),
            },
        },
    }
    if not args.no_peer:
        peer, ptimes = run_peer(cells, layers, overlay=not args.no_peer_overlay)
        per_seg = peer["per_segment"].reindex(index=cells.index, fill_value=0)
        # The peer drops points outside every cell; gridplan snaps them to the nearest
        # cell. Compare on the points the peer kept, cell by cell.
        inside = gpd.sjoin(layers.customers[["geometry"]], cells[["geometry"]], predicate="within")
        kept = np.zeros(len(layers.customers), dtype=bool)
        kept[layers.customers.index.get_indexer(inside.index.unique())] = True
        ours_kept = np.bincount(cellset.customer_cell[kept], minlength=len(cells))
        theirs = per_seg.to_numpy().sum(axis=1)
        compare = {
            "customers_peer_total": int(theirs.sum()),
            "customers_outside_cells_snapped_by_gridplan": int((~kept).sum()),
            "cells_with_different_counts_on_points_inside": int((ours_kept != theirs).sum()),
            "cells_with_different_spend_on_points_inside": int(
                (
                    ~np.isclose(
                        np.bincount(
                            cellset.customer_cell[kept],
                            weights=layers.customers["spend"].to_numpy()[kept],
                            minlength=len(cells),
                        ),
                        peer["spend"].reindex(cells.index, fill_value=0.0).to_numpy(),
                    )
                ).sum()
            ),
        }
        if "population" in peer:
            pp = peer["population"].reindex(cells.index, fill_value=0.0).to_numpy()
            compare["population_peer_total"] = round(float(pp.sum()), 1)
            diff = np.abs(pp - cells["population"].to_numpy())
            compare["population_max_abs_diff_per_cell"] = round(float(diff.max()), 6)
        peer_total = ptimes["total_s"]
        result["peer"] = {
            "what": "geopandas sjoin (customers) + overlay (population) on the same cells",
            "timings_s": ptimes,
            "peak_rss_mib": round(_rss_mib(), 1),
            "compare": compare,
        }
        ours_comparable = steps.get("counting customers", 0.0) + steps.get(
            "spreading population onto cells", 0.0
        )
        result["gridplan_same_steps_s"] = round(ours_comparable, 3)
        result["speedup_vs_peer_same_steps"] = round(peer_total / max(ours_comparable, 1e-9), 1)

    text = json.dumps(result, indent=2, ensure_ascii=False)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".json.tmp")
    tmp.write_text(text + "\n", encoding="utf-8")
    os.replace(tmp, out)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
