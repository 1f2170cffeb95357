"""Benchmark of ``gridplan batch``: three demo-sized cities on 1 Dask worker vs 2.

The cities: the Seoul demo, the NYC demo and the Seoul demo with another seed (real
population, SYNTHETIC sites and customers), H3 cells at ``--target-cells`` (default the
demo's 8,000: about 8,700 and 8,300 cells), the demo's floors (5,000 residents and 30
customers per grid), ±3 % balance with a deterministic work budget. Each run plans
every city from scratch into a fresh folder on a new LocalCluster (processes, one
thread each). Measured per run: wall seconds (cluster start included), seconds per
city, and the peak resident memory of each Dask worker process at the end of the run
(``ru_maxrss`` read in every worker through ``client.run``:
:attr:`gridplan.batch.BatchResult.worker_peak_rss_mb`). The machine's load average is
recorded before and after each run (the runs share the machine with whatever else runs).
Writes benchmarks/results/batch.json.

With ``--split-city CELLS`` it also plans one large city (Seoul at that many H3 cells) on
2 workers twice: its partition in one run, then one Dask task per district
(``split_cells``), and records the partition's seconds and grids of each.

Run: ``.venv/bin/python benchmarks/bench_batch.py [--target-cells 8000] [--time-limit 60]
[--work-limit 5] [--split-cells 20000] [--split-city 30000] [--exports]``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


#: The three demo-sized cities of the 1 vs 2 workers comparison.
CITIES = [
    {"demo": "seoul"},
    {"demo": "nyc"},
    {"name": "seoul-seed1", "demo": "seoul", "settings": {"seed": 1}},
]


def _manifest(
    folder: Path,
    target_cells: int,
    time_limit: float,
    work_limit: float,
    split_cells: int,
    cities: list[dict] | None = None,
    name: str = "province",
) -> Path:
    import yaml

    data = {
        "settings": {
            "seed": 0,
            "floors": {"population": 5000, "customers": 30},
            "homogeneous": ["coverage"],
            "target_cells": target_cells,
            "tolerance": 0.03,
            "time_limit": time_limit,
            "work_limit": work_limit,
            "split_cells": split_cells,
        },
        "cities": CITIES if cities is None else cities,
    }
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def _run(manifest_path: Path, workers: int, exports: bool) -> dict:
    from gridplan.batch import load_manifest, run_batch

    manifest = load_manifest(manifest_path)
    load_before = list(os.getloadavg())
    with tempfile.TemporaryDirectory(prefix="bench-batch-") as out:
        t0 = time.perf_counter()
        result = run_batch(manifest, out, workers=workers, skip_exports=not exports, echo=_echo)
        wall = time.perf_counter() - t0
        digests = {r["city"]: _digest(Path(out) / r["city"]) for r in result.rows}
        partitions = {r["city"]: _partition_figures(Path(out) / r["city"]) for r in result.rows}
    return {
        "workers": workers,
        "wall_s": round(wall, 1),
        "load_average_before": load_before,
        "load_average_after": list(os.getloadavg()),
        "cities": [
            {
                k: row.get(k)
                for k in (
                    "city",
                    "status",
                    "seconds",
                    "cells",
                    "grids",
                    "managers",
                    "max_deviation",
                    "stopped_by",
                    "error",
                    "pid",
                    "peak_rss_mb",
                )
            }
            for row in result.rows
        ],
        "plan_digest": digests,
        "partition": partitions,
        "peak_rss_mb_per_worker": dict(result.worker_peak_rss_mb),
        "cpu_s_per_worker": dict(result.worker_cpu_s),
        # CPU the workers got over the run's wall time: near 1 on idle cores, lower when
        # other processes share them (the machine's load)
        "cpu_share_per_worker": round(
            sum(result.worker_cpu_s.values()) / max(wall * max(1, workers), 1e-9), 2
        ),
    }


def _digest(folder: Path) -> dict[str, str]:
    """Hashes of a city's cell → grid table (``partition``), of its managers' grids
    (``territories``) and of its managers' areas (``areas``); empty when the city has
    no outputs."""
    import hashlib

    import pandas as pd

    def h(frame: pd.DataFrame) -> str:
        return hashlib.sha256(frame.to_csv(index=False).encode()).hexdigest()[:16]

    try:
        cells = pd.read_csv(folder / "cells.csv", dtype=str)
        managers = pd.read_csv(folder / "managers.csv", dtype=str)
    except OSError:
        return {"partition": "", "territories": "", "areas": ""}
    return {
        "partition": h(cells),
        "territories": h(managers[["manager", "grids"]]),
        "areas": h(managers[["manager", "area"]]),
    }


def _partition_figures(folder: Path) -> dict:
    """The city's partition: seconds, grids and whether it was split by district."""
    try:
        summary = json.loads((folder / "report.json").read_text())["partition"]["summary"]
    except (OSError, KeyError, ValueError):
        return {}
    return {
        "seconds": round(float(summary["seconds"]), 2),
        "grids": summary["n_grids"],
        "split_by_district": bool(summary.get("split_by_district", False)),
        "n_districts": summary.get("n_districts"),
    }


def _split_city(args: argparse.Namespace, folder: Path) -> dict:
    """One large city (Seoul at ``--split-city`` H3 cells) on 2 workers: its partition
    in one run (``split_cells: 0``) against one Dask task per district."""
    runs = {}
    for label, split in (("one_run", 0), ("per_district", args.split_cells)):
        manifest = _manifest(
            folder,
            args.split_city,
            args.time_limit,
            args.work_limit,
            split,
            cities=[{"name": "seoul-large", "demo": "seoul"}],
            name=label,
        )
        run = _run(manifest, 2, args.exports)
        runs[label] = {
            "wall_s": run["wall_s"],
            "city_s": run["cities"][0]["seconds"],
            "cells": run["cities"][0]["cells"],
            "partition": run["partition"]["seoul-large"],
            "peak_rss_mb_per_worker": run["peak_rss_mb_per_worker"],
            "cpu_s_per_worker": run["cpu_s_per_worker"],
            "load_average_before": run["load_average_before"],
            "load_average_after": run["load_average_after"],
        }
    return runs


def _echo(message: str) -> None:
    if "cities]" in message or message.startswith("planning"):
        print(message, file=sys.stderr, flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--target-cells", type=int, default=8000, help="H3 cells per city")
    parser.add_argument("--time-limit", type=float, default=60.0, help="balance, wall seconds")
    parser.add_argument(
        "--work-limit", type=float, default=5.0, help="balance, deterministic work budget"
    )
    parser.add_argument(
        "--split-cells", type=int, default=20_000, help="partition per district above this"
    )
    parser.add_argument(
        "--split-city",
        type=int,
        default=0,
        metavar="CELLS",
        help="also plan Seoul at this many H3 cells on 2 workers, partition in one run vs "
        "per district (e.g. 30000: about 59,000 cells; 0 = skip)",
    )
    parser.add_argument("--exports", action="store_true", help="write every export format too")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "batch.json"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        manifest = _manifest(
            Path(tmp), args.target_cells, args.time_limit, args.work_limit, args.split_cells
        )
        one = _run(manifest, 1, args.exports)
        two = _run(manifest, 2, args.exports)
        split = _split_city(args, Path(tmp)) if args.split_city else None
    same = {
        city: {part: one["plan_digest"][city][part] == d != "" for part, d in digest.items()}
        for city, digest in two["plan_digest"].items()
    }
    report = {
        "benchmark": "gridplan batch: three demo-sized cities, 1 vs 2 Dask workers",
        "settings": {
            "target_cells": args.target_cells,
            "balance_time_limit_s": args.time_limit,
            "work_limit": args.work_limit,
            "split_cells": args.split_cells,
            "exports": args.exports,
        },
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "load_average_at_end": list(os.getloadavg()),
            "note": "shared machine: see each run's load average before and after",
        },
        "runs": [one, two],
        "speedup": round(one["wall_s"] / two["wall_s"], 2),
        "same_plan_1_vs_2_workers": same,
    }
    if split is not None:
        report["large_city_partition_split"] = split
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=1), encoding="utf-8")
    shown = ("speedup", "same_plan_1_vs_2_workers")
    print(json.dumps({k: report[k] for k in shown}))
    for run in report["runs"]:
        peaks = ", ".join(f"{v:,.0f}" for v in run["peak_rss_mb_per_worker"].values())
        print(
            f"{run['workers']} worker(s): {run['wall_s']} s, peak MiB per worker {peaks}, "
            f"CPU share per worker {run['cpu_share_per_worker']}"
        )
    for label, run in (split or {}).items():
        print(f"large city, partition {label}: {run['partition']}, city {run['city_s']} s")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
