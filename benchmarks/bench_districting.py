"""Published districting instances: minimum cut edges at ±0.5 % population balance.

Runs the balance engine the way ``gridplan balance --units units.csv --weight population
--managers K --tolerance 0.005 --edges edges.csv --time-limit 20`` does (through
:func:`gridplan.balance.balance_units_table`, objective ``cut_edges``, default workers)
on dual graphs in networkx node-link JSON (the format of the Validi & Buchanan
"Political districting to minimize cut edges" repository: ``nodes`` with a population
key, and ``adjacency`` lists or ``links``), and compares with proven optima.

``--instances DIR`` holds ``NAME.json`` files and ``optima.csv`` with the columns
``instance,K,optimum`` (``optimum`` may be empty when unknown). The third-party data is
not shipped with gridplan. Output: ``benchmarks/results/districting.json``, one record
per instance with ``n, K, optimum, cut_edges, gap, feasible`` (every territory within
``[ceil((1-t)P/K), floor((1+t)P/K)]`` and contiguous), and ``seconds``.

Usage::

    python benchmarks/bench_districting.py --instances /tmp/districting/instances \
        [--only WV_county,KS_county] [--time-limit 20] [--seed 0]
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import time
from collections import deque
from pathlib import Path

import numpy as np
import pandas as pd

POP_KEYS = ("TOTPOP", "POP10", "population", "pop", "P0010001")


def load_graph(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Populations (n,) and undirected edges (m, 2) of a node-link JSON dual graph."""
    g = json.loads(path.read_text())
    nodes = g["nodes"]
    ids = [nd.get("id", i) for i, nd in enumerate(nodes)]
    pos = {v: i for i, v in enumerate(ids)}
    key = next((k for k in POP_KEYS if k in nodes[0]), None)
    if key is None:
        raise SystemExit(f"{path}: no population key among {POP_KEYS}")
    pop = np.array([float(nd[key]) for nd in nodes])
    pairs: set[tuple[int, int]] = set()
    if "adjacency" in g:
        for i, nbrs in enumerate(g["adjacency"]):
            for nb in nbrs:
                j = pos[nb["id"]]
                if i != j:
                    pairs.add((min(i, j), max(i, j)))
    else:
        for lk in g["links"]:
            i, j = pos[lk["source"]], pos[lk["target"]]
            if i != j:
                pairs.add((min(i, j), max(i, j)))
    return pop, np.array(sorted(pairs), dtype=np.int64).reshape(-1, 2)


def check(pop: np.ndarray, edges: np.ndarray, labels: np.ndarray, k: int, tol: float) -> dict:
    """Band (their definition: L = ceil((1-t)P/K), U = floor((1+t)P/K)) and contiguity."""
    total = float(pop.sum())
    lo = math.ceil((1 - tol) * total / k)
    hi = math.floor((1 + tol) * total / k)
    sizes = np.bincount(labels, weights=pop, minlength=k)
    in_band = bool(np.all((sizes >= lo) & (sizes <= hi)))
    n = pop.size
    adj: list[list[int]] = [[] for _ in range(n)]
    for a, b in edges.tolist():
        adj[a].append(b)
        adj[b].append(a)
    contiguous = True
    for d in range(k):
        nodes = np.flatnonzero(labels == d)
        if nodes.size == 0:
            contiguous = False
            continue
        seen = {int(nodes[0])}
        q = deque([int(nodes[0])])
        while q:
            u = q.popleft()
            for v in adj[u]:
                if labels[v] == d and v not in seen:
                    seen.add(v)
                    q.append(v)
        contiguous &= len(seen) == nodes.size
    cut = int(np.count_nonzero(labels[edges[:, 0]] != labels[edges[:, 1]]))
    dev = float(np.max(np.abs(sizes / (total / k) - 1)))
    return {
        "cut_edges": cut,
        "in_band": in_band,
        "contiguous": bool(contiguous),
        "L": lo,
        "U": hi,
        "max_deviation": round(dev, 6),
    }


def run_instance(name: str, pop, edges, k: int, args) -> dict:
    from gridplan.balance import balance_units_table

    ids = [f"u{i}" for i in range(pop.size)]
    units = pd.DataFrame({"unit_id": ids, "population": pop})
    edge_tab = pd.DataFrame(
        {"a": [ids[a] for a in edges[:, 0]], "b": [ids[b] for b in edges[:, 1]]}
    )
    t0 = time.monotonic()
    out = balance_units_table(
        units, "unit_id", None, None, "population", k, tolerance=args.tolerance,
        edges=edge_tab, seed=args.seed, time_limit=args.time_limit, objective="cut_edges",
    )  # fmt: skip
    secs = time.monotonic() - t0
    names = sorted({str(m) for m in out["manager"]})
    idx = {m: d for d, m in enumerate(names)}
    labels = np.array([idx[str(m)] for m in out["manager"]], dtype=np.int64)
    res = check(pop, edges, labels, k, args.tolerance)
    rep = out.attrs.get("report", {})
    res.update({"seconds": round(secs, 2), "stopped_by": rep.get("stats", {}).get("stopped_by")})
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--instances", required=True, type=Path)
    ap.add_argument("--only", default=None, help="comma-separated instance names")
    ap.add_argument("--time-limit", type=float, default=20.0)
    ap.add_argument("--tolerance", type=float, default=0.005)
    ap.add_argument("--seed", type=int, default=0)
    default_out = Path(__file__).parent / "results" / "districting.json"
    ap.add_argument("--out", type=Path, default=default_out)
    args = ap.parse_args()
    rows = list(csv.DictReader((args.instances / "optima.csv").open()))
    only = set(args.only.split(",")) if args.only else None
    records = []
    for row in rows:
        name = row["instance"]
        if only and name not in only:
            continue
        path = args.instances / f"{name}.json"
        if not path.exists():
            print(f"{name}: {path} missing, skipped")
            continue
        pop, edges = load_graph(path)
        k = int(row["K"])
        opt = int(row["optimum"]) if row.get("optimum") else None
        res = run_instance(name, pop, edges, k, args)
        gap = None if opt is None else round((res["cut_edges"] - opt) / opt, 4)
        rec = {"instance": name, "n": int(pop.size), "m": len(edges), "K": k,
               "optimum": opt, **res, "gap": gap,
               "feasible": res["in_band"] and res["contiguous"]}  # fmt: skip
        records.append(rec)
        print(
            f"{name:14s} n={rec['n']:5d} K={k:3d} opt={opt!s:>5s} cut={res['cut_edges']:5d} "
            f"gap={'' if gap is None else f'{gap:+.1%}':>7s} feasible={rec['feasible']} "
            f"{res['seconds']:.1f}s ({res['stopped_by']})",
            flush=True,
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    summary = {
        "time_limit": args.time_limit,
        "tolerance": args.tolerance,
        "seed": args.seed,
        "instances": records,
        "at_optimum": sum(1 for r in records if r["gap"] == 0 and r["feasible"]),
        "worst_gap": max((r["gap"] for r in records if r["gap"] is not None), default=None),
    }
    args.out.write_text(json.dumps(summary, indent=2))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
