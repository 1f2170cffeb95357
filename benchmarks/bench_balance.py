"""Benchmarks of the balance engine; writes benchmarks/results/balance.json.

1. **Large**: 2,000 units x 30 managers at ±3 % on a synthetic planar graph (Delaunay of
   random points, log-normal workloads), against a naive baseline measured in the same
   run: weighted k-means on the unit coordinates, then greedy repair (boundary moves
   from the heaviest territory to a lighter neighbour, contiguity kept). Both are scored
   by the same report (max deviation, cut edges, contiguity).
2. **Demo city**: the NYC demo as ``gridplan demo`` builds it (H3 cells and partition
   settings of :func:`gridplan.pipeline.demo_settings`: floors of residents and customers,
   grids uniform in coverage), workloads from :func:`gridplan.workload.grid_workload`, the
   headcount :func:`gridplan.workload.suggest_headcount` suggests, the grid adjacency of
   the cells (barriers respected, islands linked to their nearest grid as
   :func:`gridplan.balance.balance_grids` does), balanced at ±3 %; the k-means + greedy
   repair baseline on the same graph.
3. **Districting**: graphs whose minimum number of cut edges at ±0.5 % is known — small
   lattices and small weighted planar graphs solved to proven optimality by the exact
   CP-SAT model (long limit), and the 18x18 lattice into 6 (optimum 54: six 6x9 blocks;
   54 is also the lower bound since each of the 6 territories of 54 cells has a
   perimeter of at least 30, and 6 * 30 = 180 = 2 * cut + 72 boundary edges) — each
   solved by :func:`gridplan.balance.balance_arrays` with a 20 s limit; the gap to the
   optimum is reported.

Run: ``.venv/bin/python benchmarks/bench_balance.py [--quick]``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gridplan._balance.graph import csr_from_edges, delaunay_edges  # noqa: E402
from gridplan._balance.model import SubProblem, solve_subproblem  # noqa: E402
from gridplan._balance.search import State, fix_contiguity  # noqa: E402
from gridplan.atomic import write_text_atomic  # noqa: E402
from gridplan.balance import _kmeans_labels, balance_arrays, make_report  # noqa: E402


def lattice(r: int, c: int) -> np.ndarray:
    e = []
    for i in range(r):
        for j in range(c):
            u = i * c + j
            if j + 1 < c:
                e.append((u, u + 1))
            if i + 1 < r:
                e.append((u, u + c))
    return np.array(e)


def naive_baseline(w, ip, ix, x, y, k, tol, seed=0, max_rounds=20000):
    """k-means on coordinates, then greedy repair moves (heaviest territory first)."""
    n = w.size
    adj = [ix[ip[i] : ip[i + 1]].tolist() for i in range(n)]
    lab = _kmeans_labels((x, y), w, k, seed)
    lab = fix_contiguity(adj, lab, [float(v) for v in w], k, [False] * n)
    target = w.sum() / k
    lo = [target * (1 - tol)] * k
    hi = [target * (1 + tol)] * k
    st = State(adj, [float(v) for v in w], lo, hi, lab)
    for _ in range(max_rounds):
        a = max(range(k), key=lambda d: st.dw[d])
        if st.dw[a] <= hi[a]:
            break
        moved = False
        cands = [i for i in range(n) if st.lab[i] == a and len(st.nb[i]) > 1]
        cands.sort(key=lambda i: -st.w[i])
        for i in cands:
            b = min((d for d in st.nb[i] if d != a), key=lambda d: st.dw[d])
            if st.dw[b] + st.w[i] < st.dw[a] and st.can_remove(i):
                st.apply(i, b)
                moved = True
                break
        if not moved:
            break
    return np.asarray(st.lab)


def bench_large(time_limit: float, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    n, k, tol = 2000, 30, 0.03
    pts = rng.random((n, 2)) * 10_000
    ip, ix = csr_from_edges(n, delaunay_edges(pts[:, 0], pts[:, 1]))
    w = rng.lognormal(3.0, 0.5, n)
    t = time.monotonic()
    base = naive_baseline(w, ip, ix, pts[:, 0], pts[:, 1], k, tol, seed)
    t_base = time.monotonic() - t
    tg = np.full(k, w.sum() / k)
    rb = make_report(w, ip, ix, base, k, tg, tol, "cut_edges", (pts[:, 0], pts[:, 1]), None,
                     None, None, t_base, {}, [], list(range(k)))  # fmt: skip
    t = time.monotonic()
    res = balance_arrays(w, ip, ix, k, tolerance=tol, x=pts[:, 0], y=pts[:, 1],
                         time_limit=time_limit, seed=seed)  # fmt: skip
    t_ours = time.monotonic() - t
    r = res.report

    row = _row
    return {
        "instance": f"delaunay n={n} k={k} tol=±{tol:.0%}",
        "edges": r.total_edges,
        "time_limit": time_limit,
        "gridplan": row(r, t_ours) | {"stopped_by": r.stopped_by},
        "baseline_kmeans_greedy": row(rb, t_base),
    }


def _row(rep, secs: float) -> dict:
    return {
        "max_deviation": round(rep.max_deviation, 5),
        "within_tolerance": rep.within_tolerance,
        "contiguous": rep.contiguous,
        "cut_edges": rep.cut_edges,
        "seconds": round(secs, 2),
    }


def bench_demo_city(time_limit: float, city: str = "nyc", seed: int = 0) -> dict:
    """The demo city at ±3 % with the suggested headcount, and the baseline."""
    from gridplan.balance import _link_islands
    from gridplan.cells.build import build_cells
    from gridplan.demo.cities import load_demo
    from gridplan.partition import partition_cells
    from gridplan.plan.pipeline import demo_settings, grid_edges
    from gridplan.workload import default_workload_config, grid_workload, suggest_headcount

    tol = 0.03
    settings = demo_settings(seed=seed)
    t = time.monotonic()
    layers = load_demo(city)
    cellset = build_cells(layers, settings.cells)
    t_cells = time.monotonic() - t
    t = time.monotonic()
    part = partition_cells(cellset.cells, cellset.adjacency, settings.partition)
    t_part = time.monotonic() - t
    grids = part.grids
    wcfg = default_workload_config()
    w = grid_workload(grids, wcfg)["hours_total"].to_numpy(float)
    head = suggest_headcount(pd.Series(w), wcfg.capacity_h)
    k = int(head.loc["city", "managers"])
    pos = pd.Index(grids["grid_id"]).get_indexer(part.assignment.to_numpy())
    edges = grid_edges(cellset.adjacency, pos)
    pts = grids.geometry.representative_point()
    x, y = pts.x.to_numpy(float), pts.y.to_numpy(float)
    n = len(grids)
    edges, linked = _link_islands(n, edges, x, y)
    ip, ix = csr_from_edges(n, edges)
    t = time.monotonic()
    base = naive_baseline(w, ip, ix, x, y, k, tol, seed)
    t_base = time.monotonic() - t
    tg = np.full(k, w.sum() / k)
    rb = make_report(w, ip, ix, base, k, tg, tol, "cut_edges", (x, y), None, None, None,
                     t_base, {}, [], list(range(k)))  # fmt: skip
    t = time.monotonic()
    res = balance_arrays(w, ip, ix, k, tolerance=tol, x=x, y=y, time_limit=time_limit,
                         seed=seed)  # fmt: skip
    t_ours = time.monotonic() - t
    r = res.report
    return {
        "instance": f"demo {city}: {n} grids from {cellset.n} cells, k={k} tol=±{tol:.0%}",
        "cells": cellset.n,
        "grids": n,
        "grid_edges": r.total_edges,
        "islands_linked": len(linked),
        "hours_total": round(float(w.sum()), 1),
        "capacity_h": wcfg.capacity_h,
        "managers": k,
        "managers_exact": round(float(head.loc["city", "managers_exact"]), 2),
        "heaviest_grid_share_of_target": round(float(w.max() / (w.sum() / k)), 3),
        "seconds_cells": round(t_cells, 1),
        "seconds_partition": round(t_part, 1),
        "time_limit": time_limit,
        "gridplan": _row(r, t_ours) | {"stopped_by": r.stopped_by},
        "baseline_kmeans_greedy": _row(rb, t_base),
    }


def exact_optimum(w, edges, k, tol, limit) -> tuple[int | None, bool]:
    n = w.size
    total = w.sum()
    lo = [math.ceil((1 - tol) * total / k - 1e-9)] * k
    hi = [math.floor((1 + tol) * total / k + 1e-9)] * k
    sp = SubProblem(
        weight=w.astype(np.int64), edges=edges, edge_w=np.ones(len(edges), dtype=np.int64),
        lo=np.array(lo), hi=np.array(hi), fixed=np.full(n, -1), symmetric=True,
    )  # fmt: skip
    res = solve_subproblem(sp, time_limit=limit, workers=2)
    return (None if res.labels is None else round(res.objective)), res.optimal


def bench_districting(time_limit: float, exact_limit: float, quick: bool) -> list[dict]:
    cases = []
    for r, c, k in [(2, 4, 2), (4, 4, 4), (4, 6, 3), (6, 6, 4), (5, 5, 5)]:
        e = lattice(r, c)
        cases.append((f"lattice {r}x{c} into {k}", np.ones(r * c), e, k, None))
    for n, k, s in [(18, 2, 1), (22, 3, 2), (26, 2, 3)]:
        rng = np.random.default_rng(s)
        pts = rng.random((n, 2))
        e = delaunay_edges(pts[:, 0], pts[:, 1])
        w = rng.integers(1000, 9000, n).astype(float)
        cases.append((f"weighted Delaunay n={n} into {k}", w, e, k, None))
    cases.append(("lattice 12x12 into 4", np.ones(144), lattice(12, 12), 4, 24))
    cases.append(("lattice 18x18 into 6", np.ones(324), lattice(18, 18), 6, 54))
    if quick:
        cases = cases[:3]
    out = []
    for name, w, e, k, known in cases:
        n = w.size
        opt, proven = (
            (known, True) if known is not None else exact_optimum(w, e, k, 0.005, exact_limit)
        )
        ip, ix = csr_from_edges(n, e)
        t = time.monotonic()
        try:
            res = balance_arrays(w, ip, ix, k, tolerance=0.005, time_limit=time_limit)
            cut = res.report.cut_edges
            ok = res.report.within_tolerance and res.report.contiguous
        except Exception as exc:  # infeasible instance: report it
            cut, ok = None, f"{type(exc).__name__}: {exc}"
        secs = time.monotonic() - t
        gap = None if (opt is None or cut is None or not proven) else (cut - opt) / max(opt, 1)
        out.append(
            {
                "instance": name,
                "n": n,
                "k": k,
                "optimum": opt,
                "optimum_proven": proven,
                "gridplan_cut_edges": cut,
                "feasible_contiguous": ok,
                "gap": None if gap is None else round(gap, 4),
                "seconds": round(secs, 2),
            }
        )
        print(out[-1], flush=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="small subset, short limits")
    ap.add_argument("--skip-demo", action="store_true", help="leave out the demo city")
    args = ap.parse_args()
    limit_demo = 10.0 if args.quick else 20.0  # the time limit of `gridplan demo`
    limit_large = 10.0 if args.quick else 30.0
    limit_d = 5.0 if args.quick else 20.0
    result = {
        "machine": {
            "python": platform.python_version(),
            "processor": platform.processor(),
            "cpus": os.cpu_count(),
        },
        "large": bench_large(limit_large),
    }
    print(result["large"], flush=True)
    if not args.skip_demo:
        result["demo_city"] = bench_demo_city(limit_demo)
        print(result["demo_city"], flush=True)
    result["districting"] = bench_districting(limit_d, 60.0 if not args.quick else 10.0, args.quick)
    gaps = [d["gap"] for d in result["districting"] if d["gap"] is not None]
    result["districting_summary"] = {
        "instances": len(result["districting"]),
        "at_optimum": sum(1 for g in gaps if g == 0),
        "max_gap": max(gaps) if gaps else None,
    }
    out = ROOT / "benchmarks" / "results"
    out.mkdir(parents=True, exist_ok=True)
    write_text_atomic(out / "balance.json", json.dumps(result, indent=2))
    print(json.dumps(result["districting_summary"]))


if __name__ == "__main__":
    main()
