"""Benchmark of the attribution service; writes benchmarks/results/service.json.

On one plan (a synthetic 120 x 120 lattice of 200 m cells in 900 grids near Seoul by
default, or ``--plan FILE``) and 100,000 random points over its extent plus a 5 % margin
(some fall outside every cell):

1. **Index, bulk**: :meth:`OwnerIndex.locate` on batches of 10,000 points, alone, with
   the JSON answers written, on the points inside a cell only (addresses usually are),
   and with the STRtree alone (no lookup raster) — points per second of wall time and
   per CPU second of this process (the machine may be shared).
2. **GeoPandas sjoin, bulk** (the baseline, same run, same points): ``points_from_xy`` →
   ``to_crs`` → ``sjoin(predicate="within")`` on the cells → grid → manager; and the same
   plus ``sjoin_nearest`` for the points outside (what the service answers too).
3. **HTTP, bulk**: ``POST /v1/owner`` with 10 batches of 10,000 points to a real uvicorn
   server on localhost (a subprocess), keep-alive, bodies encoded beforehand.
4. **Single lookups**: 500 ``GET /v1/owner`` one after the other (median, p99 latency),
   the index on one point, and sjoin on one point (100 calls).

The grid each method finds for each point is compared (agreement). Bounded loops,
localhost only. Run: ``.venv/bin/python benchmarks/bench_service.py [--plan FILE]``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry import box

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gridplan.plan import Plan, load_plan, save_plan  # noqa: E402
from gridplan.service import OwnerIndex  # noqa: E402

KEY = "bench-key-0123456789abcdef"
BATCH = 10_000


def synthetic_plan(n: int = 120, size_m: float = 200.0, grid_cells: int = 4) -> Plan:
    """``n`` x ``n`` square cells of ``size_m`` metres (UTM 52N), grids of
    ``grid_cells`` x ``grid_cells`` cells, 60 managers in 6 areas, 4 districts."""
    x0, y0 = 310_000.0, 4_150_000.0
    i, j = np.meshgrid(np.arange(n), np.arange(n))
    i, j = i.ravel(), j.ravel()
    gi, gj = i // grid_cells, j // grid_cells
    per_row = n // grid_cells
    gid = gj * per_row + gi
    geoms = [
        box(x0 + a * size_m, y0 + b * size_m, x0 + (a + 1) * size_m, y0 + (b + 1) * size_m)
        for a, b in zip(i, j, strict=True)
    ]
    district = np.where(i < n // 2, "West-gu", "East-gu")
    district = np.char.add(district, np.where(j < n // 2, "-S", "-N"))
    cells = gpd.GeoDataFrame(
        {
            "cell_id": [f"c{k}" for k in range(n * n)],
            "grid_id": [f"G{g:04d}" for g in gid],
            "district": district,
            "population": 100.0,
        },
        geometry=geoms,
        crs="EPSG:32652",
    )
    grids = cells.dissolve("grid_id", aggfunc={"population": "sum", "district": "first"})
    grids = grids.reset_index()
    n_grids = len(grids)
    grids["grid_type"] = "residential"
    grids["hours_total"] = 20.0
    managers = [f"CM{k:02d}" for k in range(60)]
    grids["manager"] = [managers[k * 60 // n_grids] for k in range(n_grids)]
    team = pd.DataFrame(
        {"manager": managers, "capacity_h": 160.0, "area": [f"A{k // 10}" for k in range(60)]}
    )
    return Plan("bench", cells, grids, team, meta={"tolerance": "0.05"})


def random_points(plan: Plan, n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``n`` random lon/lat points over the plan's extent plus a 5 % margin."""
    minx, miny, maxx, maxy = plan.cells.total_bounds
    mx, my = 0.05 * (maxx - minx), 0.05 * (maxy - miny)
    rng = np.random.default_rng(seed)
    x = rng.uniform(minx - mx, maxx + mx, n)
    y = rng.uniform(miny - my, maxy + my, n)
    pts = gpd.GeoSeries(gpd.points_from_xy(x, y), crs=plan.crs).to_crs("EPSG:4326")
    return pts.x.to_numpy(), pts.y.to_numpy()


class Clock:
    """Wall-clock and this process's CPU seconds of a block (the machine may be shared:
    CPU time is what the work cost, wall time what a caller waited)."""

    def __enter__(self) -> Clock:
        self.w0, self.c0 = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc) -> None:
        self.wall = time.perf_counter() - self.w0
        self.cpu = max(time.process_time() - self.c0, 1e-9)


def _rates(prefix: str, n: int, clock: Clock) -> dict:
    return {
        f"{prefix}_points_per_s": round(n / clock.wall),
        f"{prefix}_points_per_cpu_s": round(n / clock.cpu),
    }


def bench_index(index: OwnerIndex, lon, lat) -> dict:
    batches = [(lon[s : s + BATCH], lat[s : s + BATCH]) for s in range(0, len(lon), BATCH)]
    with Clock() as locate:
        found = [index.locate(x, y) for x, y in batches]
    with Clock() as answered:
        for x, y in batches:
            index.answers(x, y, index.locate(x, y))
    inside = np.concatenate([f.cell for f in found]) >= 0
    li, la = lon[inside], lat[inside]
    with Clock() as inside_only:
        for s in range(0, len(li), BATCH):
            index.locate(li[s : s + BATCH], la[s : s + BATCH])
    with Clock() as exact:
        for x, y in batches:
            index.locate(x, y, exact=True)
    one = []
    for k in range(500):
        t = time.perf_counter()
        index.locate(lon[k : k + 1], lat[k : k + 1])
        one.append(time.perf_counter() - t)
    cell = np.concatenate([f.cell for f in found])
    return {
        "points": len(lon),
        **_rates("locate", len(lon), locate),
        **_rates("locate_and_json", len(lon), answered),
        **_rates("locate_inside_points_only", len(li), inside_only),
        **_rates("locate_strtree_only", len(lon), exact),
        "raster_pure_fraction": round(index._raster.pure_fraction, 3),
        "single_locate_median_ms": round(1e3 * float(np.median(one)), 3),
        "single_locate_p99_ms": round(1e3 * float(np.percentile(one, 99)), 3),
        "outside_fraction": round(float((cell < 0).mean()), 4),
        "_grid": np.concatenate([f.grid for f in found]),
    }


def sjoin_lookup(plan: Plan, lon, lat, nearest: bool) -> pd.Series:
    """The grid id of each point by GeoPandas sjoin (and sjoin_nearest outside)."""
    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326")
    pts = pts.to_crs(plan.crs)
    cells = plan.cells[["cell_id", "grid_id", "geometry"]]
    hit = gpd.sjoin(pts, cells, how="left", predicate="within")
    hit = hit[~hit.index.duplicated(keep="first")]
    grid = hit["grid_id"]
    if nearest and grid.isna().any():
        out = pts[grid.isna().to_numpy()]
        near = gpd.sjoin_nearest(out, cells, how="left", distance_col="distance_m")
        near = near[~near.index.duplicated(keep="first")]
        grid = grid.fillna(near["grid_id"])
    man = plan.grids.set_index("grid_id")["manager"]
    area = plan.managers.set_index("manager")["area"]
    owner = grid.map(man)
    owner.map(area)  # the same hops as the service: grid → manager → area
    return grid


def bench_sjoin(plan: Plan, lon, lat) -> dict:
    with Clock() as within:
        sjoin_lookup(plan, lon, lat, nearest=False)
    with Clock() as nearest:
        grid = sjoin_lookup(plan, lon, lat, nearest=True)
    one = []
    for k in range(100):
        t = time.perf_counter()
        sjoin_lookup(plan, lon[k : k + 1], lat[k : k + 1], nearest=True)
        one.append(time.perf_counter() - t)
    return {
        **_rates("within", len(lon), within),
        **_rates("within_and_nearest", len(lon), nearest),
        "single_median_ms": round(1e3 * float(np.median(one)), 3),
        "single_p99_ms": round(1e3 * float(np.percentile(one, 99)), 3),
        "_grid": grid.to_numpy(),
    }


def _cpu_s(pid: int) -> float | None:
    """User + system CPU seconds of a process (Linux /proc), ``None`` elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


_SERVER = """
import sys, uvicorn
from gridplan.service import Auth, PlanSource, create_app
app = create_app(PlanSource(sys.argv[1], check_every_s=3600), Auth(frozenset({sys.argv[3]})))
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[2]), log_level="warning", access_log=False)
"""


def bench_http(path: Path, lon, lat) -> dict:
    import httpx

    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-c", _SERVER, str(path), str(port), KEY], env=env, cwd=ROOT
    )
    try:
        url = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=url, headers={"X-API-Key": KEY}, timeout=60) as client:
            deadline = time.monotonic() + 120
            while True:
                try:
                    if client.get("/v1/health").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError("the benchmark server did not start")
                time.sleep(0.2)
            return _http_runs(client, lon, lat, proc.pid)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _http_runs(client, lon, lat, pid: int) -> dict:
    bodies = [
        json.dumps(
            [
                [float(x), float(y)]
                for x, y in zip(lon[s : s + BATCH], lat[s : s + BATCH], strict=True)
            ]
        ).encode()
        for s in range(0, len(lon), BATCH)
    ]
    client.post("/v1/owner", content=bodies[0], headers={"Content-Type": "application/json"})
    grids = []
    cpu0 = _cpu_s(pid)
    t0 = time.perf_counter()
    for body in bodies:
        r = client.post("/v1/owner", content=body, headers={"Content-Type": "application/json"})
        r.raise_for_status()
        grids.append(r.content)
    t_bulk = time.perf_counter() - t0
    cpu1 = _cpu_s(pid)
    server_cpu = None if cpu0 is None or cpu1 is None else max(cpu1 - cpu0, 1e-9)
    grid = [
        a["grid_id"] if not a["outside"] else a["nearest"]["grid_id"]
        for content in grids
        for a in json.loads(content)["results"]
    ]
    one = []
    for k in range(500):
        t = time.perf_counter()
        client.get(
            "/v1/owner", params={"lon": float(lon[k]), "lat": float(lat[k])}
        ).raise_for_status()
        one.append(time.perf_counter() - t)
    return {
        "bulk_points_per_s": round(len(lon) / t_bulk),
        "bulk_points_per_server_cpu_s": None
        if server_cpu is None
        else round(len(lon) / server_cpu),
        "bulk_batches": len(bodies),
        "bulk_batch_ms": round(1e3 * t_bulk / len(bodies), 1),
        "single_get_median_ms": round(1e3 * float(np.median(one)), 3),
        "single_get_p99_ms": round(1e3 * float(np.percentile(one, 99)), 3),
        "_grid": np.array(grid, dtype=object),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--plan", help="a saved plan (.gpkg); default a synthetic lattice")
    parser.add_argument("--points", type=int, default=100_000)
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "service.json"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if args.plan:
            path = Path(args.plan)
            plan = load_plan(path)
        else:
            plan = synthetic_plan()
            path = Path(tmp) / "bench.gpkg"
            save_plan(plan, path)
            plan = load_plan(path)
        lon, lat = random_points(plan, args.points)
        t0 = time.perf_counter()
        index = OwnerIndex(plan)
        build_s = time.perf_counter() - t0
        idx = bench_index(index, lon, lat)
        sj = bench_sjoin(plan, lon, lat)
        http = bench_http(path, lon, lat)
    grid_ids = plan.grids["grid_id"].astype(str).to_numpy()
    mine = grid_ids[idx.pop("_grid")]
    theirs = sj.pop("_grid").astype(str)
    over_http = http.pop("_grid").astype(str)
    result = {
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "load_average_1min_at_end": round(os.getloadavg()[0], 2),
        },
        "plan": {
            "source": args.plan or "synthetic 120x120 lattice of 200 m cells",
            "cells": len(plan.cells),
            "grids": len(plan.grids),
        },
        "index_build_s": round(build_s, 3),
        "index": idx,
        "sjoin": sj,
        "http": http,
        "speedup_index_vs_sjoin_within": round(
            idx["locate_points_per_s"] / sj["within_points_per_s"], 1
        ),
        "speedup_index_vs_sjoin_with_nearest": round(
            idx["locate_points_per_s"] / sj["within_and_nearest_points_per_s"], 1
        ),
        "agreement_index_vs_sjoin": round(float((mine == theirs).mean()), 5),
        "agreement_http_vs_index": round(float((over_http == mine).mean()), 5),
        "target_index_points_per_s": 100_000,
        "meets_target_wall": idx["locate_points_per_s"] >= 100_000,
        "meets_target_cpu": idx["locate_points_per_cpu_s"] >= 100_000,
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
