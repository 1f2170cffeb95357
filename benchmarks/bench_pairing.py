"""Quality of :func:`gridplan.balance.pair_marketing` (一主一辅); writes
benchmarks/results/pairing.json.

Synthetic planar territory graphs (Delaunay of random points, whole-number marketing
weights 5..59), ratio 4 (groups of 3..5). For each size, three runs with the same
seed and work budget, each scored by the max deviation from the mean group weight and
the sum of squared deviations:

- ``local search``: region growing + moves/swaps only (``exact_max=0, lns_groups=0``);
- ``default``: the exact set-partitioning model for parts of at most 40 territories,
  the local search + exact polish of 6 adjacent groups at a time above;
- ``exact``: the set-partitioning model on the whole part (``exact_max=10**6``) with
  the same work (proven optimal where it says so) — the reference on mid sizes.

Run: ``.venv/bin/python benchmarks/bench_pairing.py [--quick]``.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from gridplan.balance import PairingConfig, delaunay_edges, pair_marketing
from gridplan.graph import csr_from_edges

ROOT = Path(__file__).resolve().parent.parent
RUNS = {
    "local search": PairingConfig(exact_max=0, lns_groups=0),
    "default": PairingConfig(),
    "exact": PairingConfig(exact_max=10**6, max_columns=200_000),
}


def _instance(n: int, seed: int) -> tuple[tuple[np.ndarray, np.ndarray], np.ndarray]:
    rng = np.random.default_rng(1000 * n + seed)
    pts = rng.random((n, 2))
    adj = csr_from_edges(n, delaunay_edges(pts[:, 0], pts[:, 1]))
    return adj, rng.integers(5, 60, n).astype(float)


def _run(adj, w, cfg: PairingConfig, work: float) -> dict:
    t = time.monotonic()
    res = pair_marketing(adj, w, 4, seed=0, time_limit=20 * work, work_limit=work, config=cfg)
    d = res.weights - res.targets
    part = res.stats["parts"][0]
    return {
        "seconds": round(time.monotonic() - t, 2),
        "max_deviation": round(res.max_deviation, 4),
        "sum_squares": round(float((d * d).sum()), 1),
        "method": part.get("method"),
        "exact": part.get("exact"),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="fewer and smaller instances")
    args = ap.parse_args()
    sizes = (20, 40) if args.quick else (20, 40, 80, 200)
    seeds = range(2) if args.quick else range(3)
    rows = []
    for n in sizes:
        for seed in seeds:
            adj, w = _instance(n, seed)
            row = {"n": n, "seed": seed}
            for name, cfg in RUNS.items():
                if name == "exact" and n > 80:
                    continue
                row[name] = _run(adj, w, cfg, work=4.0)
            rows.append(row)
            print(json.dumps(row, ensure_ascii=False), flush=True)
    out = ROOT / "benchmarks" / "results" / "pairing.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(rows, indent=1, ensure_ascii=False), encoding="utf-8")


if __name__ == "__main__":
    main()
