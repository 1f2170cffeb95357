"""Benchmark: gridplan's partition engine vs spopt's MaxPHeuristic, in the same run.

Instances
- square rook lattices 10×10, 20×20, 30×30, 40×40: population lognormal(0, 1)
  (fixed seed), floor = total / (cells / 8) (so at most cells/8 regions), one
  homogeneity attribute (a smooth random field, standardised);
- one real polygon layer: NYC census tracts with real population
  (``gridplan.demo.demo_polygons``), rook adjacency from libpysal (the same graph
  for both), floor = total / (tracts / 8), attribute = standardised log density;
- a 100,000-cell lattice (316×316) for gridplan alone: seconds and peak memory;
- beside the library row of every lattice, a CLI row: the whole ``gridplan partition``
  process on the lattice written as a GeoPackage (start-up included), as a user runs it.

Both engines see the same graph, values, floor and attribute. Heterogeneity is
measured identically for both: the within-region sum of squared deviations of
the standardised attribute from the region mean. gridplan runs with
``compactness_weight=0`` so that both optimise the same objective. spopt runs with
its defaults (99 constructions, 10 SA runs, top_n=2), seeded through
``numpy.random.seed``, in a child process killed after ``--spopt-timeout`` seconds.

Times: gridplan runs ``--repeats`` times (default 5; the same labels every time)
and its median wall time is reported, with the median CPU seconds of the run
and its pool workers (gridplan uses both cores from 500 cells on; spopt one).
spopt runs once (minutes per instance). ``speedup`` is spopt's seconds over
gridplan's wall seconds, ``cpu_speedup`` over gridplan's CPU seconds.

spopt is a benchmark-only dependency (``pip install -e '.[bench]'``).

Usage: ``python benchmarks/partition_vs_spopt.py [--sizes 10 20 30 40] [--skip-spopt]``;
writes ``benchmarks/results/partition_vs_spopt.json`` and prints a table.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import resource
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from gridplan._partition.core import partition_arrays  # noqa: E402


# ----------------------------------------------------------------- instances
def lattice_instance(side: int, seed: int) -> dict[str, Any]:
    """Rook lattice ``side × side`` with lognormal population and a smooth attribute."""
    from scipy.ndimage import gaussian_filter

    n = side * side
    rng = np.random.default_rng(seed)
    pop = rng.lognormal(0.0, 1.0, n)
    field = gaussian_filter(rng.normal(size=(side, side)), sigma=2.0, mode="reflect").ravel()
    z = (field - field.mean()) / field.std()
    idx = np.arange(n).reshape(side, side)
    e = np.concatenate(
        [
            np.column_stack([idx[:, :-1].ravel(), idx[:, 1:].ravel()]),
            np.column_stack([idx[:-1].ravel(), idx[1:].ravel()]),
        ]
    )
    r = np.concatenate([e[:, 0], e[:, 1]])
    c = np.concatenate([e[:, 1], e[:, 0]])
    a = scipy.sparse.csr_array((np.ones(len(r)), (r, c)), shape=(n, n))
    a.sort_indices()
    yy, xx = np.divmod(np.arange(n), side)
    return {
        "name": f"lattice {side}x{side}",
        "kind": "lattice",
        "side": side,
        "n": n,
        "indptr": a.indptr.astype(np.int64),
        "indices": a.indices.astype(np.int64),
        "pop": pop,
        "z": z,
        "x": xx * 100.0,
        "y": yy * 100.0,
        "area": np.full(n, 1e4),
        "floor": float(pop.sum() / (n / 8)),
    }


def nyc_instance() -> dict[str, Any] | None:
    """NYC census tracts (real population) with libpysal rook adjacency, or None."""
    try:
        from gridplan.demo.cities import demo_polygons
    except ImportError:
        return None
    try:
        gdf = demo_polygons("nyc").reset_index(drop=True)
    except Exception as exc:  # data folder missing
        print(f"skipping the real layer: {exc}", file=sys.stderr)
        return None
    import libpysal

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        w = libpysal.weights.Rook.from_dataframe(gdf, use_index=False, silence_warnings=True)
    a = scipy.sparse.csr_array(w.sparse)
    a.sort_indices()
    pop = gdf["population"].fillna(0).to_numpy(dtype=float)
    area = gdf.geometry.area.to_numpy()
    dens = np.log1p(pop / np.maximum(area / 1e6, 1e-6))
    z = (dens - dens.mean()) / dens.std()
    cen = gdf.geometry.centroid
    n = len(gdf)
    return {
        "name": f"NYC census tracts ({n})",
        "kind": "polygons",
        "n": n,
        "indptr": a.indptr.astype(np.int64),
        "indices": a.indices.astype(np.int64),
        "pop": pop,
        "z": z,
        "x": cen.x.to_numpy(),
        "y": cen.y.to_numpy(),
        "area": area,
        "floor": float(pop.sum() / (n / 8)),
        "gdf": gdf,
        "w": w,
    }


# ------------------------------------------------------------------- metrics
def heterogeneity(labels: np.ndarray, z: np.ndarray) -> float:
    """Within-region sum of squared deviations from the region mean."""
    _, lab = np.unique(labels, return_inverse=True)
    cnt = np.bincount(lab)
    mean = np.bincount(lab, z) / cnt
    return float(((z - mean[lab]) ** 2).sum())


def check(inst: dict[str, Any], labels: np.ndarray) -> dict[str, Any]:
    """Regions, how many reach the floor, how many are contiguous."""
    _, lab = np.unique(labels, return_inverse=True)
    p = int(lab.max()) + 1
    sums = np.bincount(lab, inst["pop"], minlength=p)
    n = inst["n"]
    a = scipy.sparse.csr_array(
        (np.ones(len(inst["indices"])), inst["indices"], inst["indptr"]), shape=(n, n)
    ).tocoo()
    keep = lab[a.row] == lab[a.col]
    sub = scipy.sparse.csr_array((np.ones(int(keep.sum())), (a.row[keep], a.col[keep])), (n, n))
    _, comp = scipy.sparse.csgraph.connected_components(sub, directed=False)
    pieces = np.bincount(np.unique(np.column_stack([lab, comp]), axis=0)[:, 0], minlength=p)
    return {
        "p": p,
        "meeting_floor": int((sums >= inst["floor"] * (1 - 1e-9)).sum()),
        "contiguous": int((pieces == 1).sum()),
        "heterogeneity": heterogeneity(labels, inst["z"]),
    }


# ------------------------------------------------------------------- engines
def _cpu_seconds() -> float:
    """CPU seconds of this process and its finished children (pool workers)."""
    s, c = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return s.ru_utime + s.ru_stime + c.ru_utime + c.ru_stime


def solve_gridplan(
    inst: dict[str, Any], seed: int, workers: int | None, time_limit: float, **kw: Any
) -> Any:
    """gridplan's partition of one instance (population floor, attribute ``z``)."""
    return partition_arrays(
        inst["indptr"],
        inst["indices"],
        inst["pop"],
        [inst["floor"]],
        homog=inst["z"][:, None],
        x=inst["x"],
        y=inst["y"],
        area=inst["area"],
        seed=seed,
        time_limit=time_limit,
        workers=workers,
        **kw,
    )


def run_gridplan(
    inst: dict[str, Any], seed: int, workers: int | None, repeats: int = 5
) -> dict[str, Any]:
    """gridplan on one instance, run ``repeats`` times with the same seed (the
    labels are identical every time, checked): the median wall and CPU seconds,
    so one burst of load on a shared machine does not decide a sub-second time."""
    walls: list[float] = []
    cpus: list[float] = []
    first = None
    for _ in range(max(1, repeats)):
        cpu0 = _cpu_seconds()
        t0 = time.perf_counter()
        res = solve_gridplan(inst, seed, workers, 600.0, compactness_weight=0.0)
        walls.append(time.perf_counter() - t0)
        cpus.append(_cpu_seconds() - cpu0)
        if first is None:
            first = res
        elif not np.array_equal(first.labels, res.labels):
            raise RuntimeError("gridplan gave different labels for the same seed")
    assert first is not None
    out = {
        "seconds": float(np.median(walls)),
        "cpu_seconds": float(np.median(cpus)),
        "seconds_all_runs": walls,
        **check(inst, first.labels),
        "island_joins": len(first.island_joins),
    }
    out["hit_time_limit"] = first.hit_time_limit
    return out


def _spopt_child(inst: dict[str, Any], seed: int, queue: Any) -> None:
    import geopandas as gpd
    import libpysal
    from shapely.geometry import box
    from spopt.region import MaxPHeuristic

    warnings.simplefilter("ignore")
    if inst["kind"] == "lattice":
        side = inst["side"]
        yy, xx = np.divmod(np.arange(inst["n"]), side)
        gdf = gpd.GeoDataFrame(
            {"pop": inst["pop"], "z": inst["z"]},
            geometry=[box(a, b, a + 1, b + 1) for a, b in zip(xx, yy, strict=True)],
        )
        w = libpysal.weights.lat2W(side, side, rook=True)
    else:
        gdf = inst["gdf"].copy()
        gdf["pop"] = inst["pop"]
        gdf["z"] = inst["z"]
        w = inst["w"]
    np.random.seed(seed)
    t0 = time.perf_counter()
    model = MaxPHeuristic(gdf, w, ["z"], "pop", inst["floor"], top_n=2)
    model.solve()
    queue.put({"seconds": time.perf_counter() - t0, "labels": np.asarray(model.labels_)})


def run_spopt(inst: dict[str, Any], seed: int, timeout: float) -> dict[str, Any]:
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    proc = ctx.Process(target=_spopt_child, args=(inst, seed, queue))
    t0 = time.perf_counter()
    proc.start()
    try:
        got = queue.get(timeout=timeout)
    except Exception:
        got = None
    proc.join(timeout=5)
    if proc.is_alive():
        proc.terminate()
        proc.join()
    if got is None:
        return {"timed_out": True, "seconds": time.perf_counter() - t0}
    return {"timed_out": False, "seconds": got["seconds"], **check(inst, got["labels"])}


def _big_child(side: int, seed: int, workers: int | None, queue: Any) -> None:
    inst = lattice_instance(side, seed)
    cpu0 = _cpu_seconds()
    t0 = time.perf_counter()
    res = solve_gridplan(inst, seed, workers, 120.0)
    dt = time.perf_counter() - t0
    # CPU seconds of this process and its (finished) pool workers: independent of
    # other load on the machine, unlike the wall time
    cpu = _cpu_seconds() - cpu0
    self_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    child_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    queue.put(
        {
            "cells": inst["n"],
            "seconds": dt,
            "cpu_seconds": cpu,
            "load_average_1m_after": os.getloadavg()[0],
            "p": res.p,
            "upper_bound_p": int(inst["pop"].sum() // inst["floor"]),
            "peak_rss_mb_main": self_mb,
            "peak_rss_mb_largest_worker": child_mb,
            "peak_rss_mb_total_bound": self_mb + (workers or 2) * child_mb,
            "hit_time_limit": res.hit_time_limit,
            "all_floors_met": bool(res.meets_floors.all()),
            "all_contiguous": bool(res.contiguous.all()),
        }
    )


def _lattice_layer(inst: dict[str, Any], folder: Path) -> Path:
    """The lattice instance as a user's polygon layer: 100 m squares in UTM 50N, columns
    ``uid``, ``pop`` and ``z`` (a GeoPackage, layer ``cells``)."""
    import geopandas as gpd
    import shapely

    side = inst["side"]
    x0, y0 = 400_000.0, 3_000_000.0  # metres, inside UTM zone 50N
    boxes = shapely.box(x0 + inst["x"], y0 + inst["y"], x0 + inst["x"] + 100, y0 + inst["y"] + 100)
    layer = gpd.GeoDataFrame(
        {"uid": [f"c{i}" for i in range(side * side)], "pop": inst["pop"], "z": inst["z"]},
        geometry=boxes,
        crs="EPSG:32650",
    )
    path = folder / f"lattice{side}.gpkg"
    layer.to_file(path, layer="cells")
    return path


def run_cli(inst: dict[str, Any], seed: int, repeats: int = 5) -> dict[str, Any]:
    """``gridplan partition`` run as a user runs it, on the lattice written as a polygon
    layer: the whole process timed from the shell (interpreter start-up, imports, layer
    reading, adjacency, engine, writing), median of ``repeats``; the CLI's defaults
    (``--compactness 1``, automatic workers) with ``--cross-districts``."""
    import subprocess
    import tempfile

    import pandas as pd

    exe = Path(sys.executable).with_name("gridplan")
    head = [str(exe)] if exe.exists() else [sys.executable, "-m", "gridplan"]
    walls: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        cells = _lattice_layer(inst, folder)
        cmd = [
            *head,
            "partition",
            "--cells",
            str(cells),
            "--id",
            "uid",
            "--floor",
            f"pop={inst['floor']!r}",
            "--homogeneous",
            "z",
            "--cross-districts",
            "--seed",
            str(seed),
            "--out",
            str(folder / "grids.gpkg"),
            "--assignment-out",
            str(folder / "assignment.csv"),
        ]
        for _ in range(max(1, repeats)):
            t0 = time.perf_counter()
            done = subprocess.run(cmd, capture_output=True, text=True, check=False)
            walls.append(time.perf_counter() - t0)
            if done.returncode != 0:
                raise RuntimeError(f"gridplan partition failed: {done.stderr[-2000:]}")
        table = pd.read_csv(folder / "assignment.csv", dtype=str)
    order = table.set_index("cell_id").loc[[f"c{i}" for i in range(inst["n"])], "grid_id"]
    _, labels = np.unique(order.to_numpy(), return_inverse=True)
    return {
        "command": " ".join(["gridplan", *cmd[len(head) :]]),
        "seconds": float(np.median(walls)),
        "seconds_all_runs": walls,
        **check(inst, labels),
    }


def run_big(side: int, seed: int, workers: int | None) -> dict[str, Any]:
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    proc = ctx.Process(target=_big_child, args=(side, seed, workers, queue))
    proc.start()
    out = queue.get()
    proc.join()
    return out


# ---------------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[10, 20, 30, 40])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--spopt-timeout", type=float, default=1200.0, help="seconds per instance")
    ap.add_argument("--skip-spopt", action="store_true")
    ap.add_argument("--skip-real", action="store_true")
    ap.add_argument("--skip-cli", action="store_true", help="no `gridplan partition` process row")
    ap.add_argument("--big-side", type=int, default=316, help="0 skips the scaling run")
    ap.add_argument("--workers", type=int, default=None)
    ap.add_argument(
        "--repeats", type=int, default=5, help="gridplan runs per instance (median time)"
    )
    ap.add_argument(
        "--out", type=Path, default=ROOT / "benchmarks" / "results" / "partition_vs_spopt.json"
    )
    args = ap.parse_args(argv)

    instances = [lattice_instance(s, args.seed) for s in args.sizes]
    notes: list[str] = []
    if not args.skip_real:
        real = nyc_instance()
        if real is None:
            notes.append("real polygon layer skipped: gridplan.demo.cities or its data is missing")
        else:
            instances.append(real)
    rows: list[dict[str, Any]] = []
    for inst in instances:
        print(f"{inst['name']}: floor {inst['floor']:,.2f}", file=sys.stderr, flush=True)
        g = run_gridplan(inst, args.seed, args.workers, args.repeats)
        cli = None
        if inst["kind"] == "lattice" and not args.skip_cli:
            cli = run_cli(inst, args.seed, args.repeats)
        s = None
        if not args.skip_spopt:
            try:
                import spopt
            except ImportError:
                notes.append("spopt not installed: pip install -e '.[bench]'")
                args.skip_spopt = True
            else:
                s = run_spopt(inst, args.seed, args.spopt_timeout)
        row = {
            "instance": inst["name"],
            "cells": inst["n"],
            "floor": inst["floor"],
            "upper_bound_p": int(inst["pop"].sum() // inst["floor"]),
            "gridplan": g,
            "gridplan_cli": cli,
            "spopt": s,
        }
        if s and not s.get("timed_out"):
            row["speedup"] = s["seconds"] / g["seconds"]
            # spopt runs on one core: its wall time is its CPU time
            row["cpu_speedup"] = s["seconds"] / max(g["cpu_seconds"], 1e-9)
            row["p_gain"] = g["p"] - s["p"]
        rows.append(row)
        print(json.dumps(row, default=float), file=sys.stderr, flush=True)
    big = None
    if args.big_side > 0:
        print(f"scaling run {args.big_side}x{args.big_side}", file=sys.stderr, flush=True)
        big = run_big(args.big_side, args.seed, args.workers)
    try:
        import spopt

        spopt_version = spopt.__version__
    except ImportError:
        spopt_version = None
    result = {
        "meta": {
            "date": time.strftime("%Y-%m-%d %H:%M:%S"),
            "python": platform.python_version(),
            "machine": platform.machine(),
            "cpus": os.cpu_count(),
            "load_average_1m": os.getloadavg()[0],
            "spopt": spopt_version,
            "seed": args.seed,
            "heterogeneity": "within-region sum of squared deviations of the standardised "
            "attribute (same for both engines)",
            "gridplan_settings": "compactness_weight=0, constructions=8, default workers "
            f"({args.workers or 'min(2, cpus)'} processes from 500 cells on; spopt uses one); "
            "seconds are the median wall time of --repeats runs (same labels each time), "
            "cpu_seconds include the pool workers; spopt runs once",
            "spopt_settings": "MaxPHeuristic defaults (99 constructions, 10 SA, top_n=2)",
            "cli_settings": "gridplan_cli: the whole `gridplan partition` process on the "
            "lattice written as a GeoPackage of 100 m squares, wall seconds from the shell "
            "(start-up, reading, adjacency, engine, writing), median of --repeats; the CLI's "
            "defaults (compactness 1, automatic workers) with --cross-districts",
        },
        "rows": rows,
        "scaling": big,
        "notes": notes,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, default=float))
    print_table(result)
    return 0


def print_table(result: dict[str, Any]) -> None:
    hdr = (
        f"{'instance':<28}{'cells':>7}{'bound':>7}{'p grid':>8}{'p spopt':>8}"
        f"{'het grid':>10}{'het spopt':>10}{'s grid':>9}{'cpu grid':>9}{'s spopt':>9}"
        f"{'speedup':>9}{'cpu x':>8}{'p cli':>7}{'s cli':>7}"
    )
    print(hdr)
    print("-" * len(hdr))
    for r in result["rows"]:
        g, s = r["gridplan"], r["spopt"]
        if s is None:
            sp = ("-", "-", "-", "-", "-")
        elif s.get("timed_out"):
            sp = ("t/o", "-", f">{s['seconds']:.0f}", "-", "-")
        else:
            sp = (
                str(s["p"]),
                f"{s['heterogeneity']:.1f}",
                f"{s['seconds']:.1f}",
                f"{r['speedup']:.0f}x",
                f"{r['cpu_speedup']:.0f}x",
            )
        print(
            f"{r['instance']:<28}{r['cells']:>7}{r['upper_bound_p']:>7}{g['p']:>8}{sp[0]:>8}"
            f"{g['heterogeneity']:>10.1f}{sp[1]:>10}{g['seconds']:>9.2f}"
            f"{g['cpu_seconds']:>9.2f}{sp[2]:>9}{sp[3]:>9}{sp[4]:>8}"
            + (f"{c['p']:>7}{c['seconds']:>7.2f}" if (c := r.get("gridplan_cli")) else "")
        )
    b = result.get("scaling")
    if b:
        print(
            f"\nscaling: {b['cells']:,} cells in {b['seconds']:.1f} s "
            f"({b.get('cpu_seconds', float('nan')):.1f} CPU-s), p = {b['p']:,} "
            f"(bound {b['upper_bound_p']:,}), peak RSS main {b['peak_rss_mb_main']:.0f} MB, "
            f"largest worker {b['peak_rss_mb_largest_worker']:.0f} MB"
            + (", time limit hit" if b["hit_time_limit"] else "")
        )
    for note in result.get("notes", []):
        print("note:", note)


if __name__ == "__main__":
    raise SystemExit(main())
