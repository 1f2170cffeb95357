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

``--shared DIR`` (default ``../shared/districting`` beside the checkout) reads the
shared tract set instead: ``instances.json`` (``k``, bounds ``L``/``U``, ``best_cut_edges``,
``plan_file``/``plan_cut_edges``) and per instance ``units.csv`` (``unit_id,x,y,population``)
and ``edges.csv`` (``a,b``). Those files are GPL-3.0 and stay outside the repository; a
missing folder is skipped with a message. Each record then also has ``best_known``,
``gap`` (to the best published value) and ``reference_cut_edges`` / ``gap_to_reference``
(to the plan shipped with the instance).

Usage::

    python benchmarks/bench_districting.py --instances /tmp/districting/instances \
        [--only WV_county,KS_county] [--time-limit 20] [--seed 0]
    python benchmarks/bench_districting.py --shared ../shared/districting [--only AR_tract]
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


def load_shared(folder: Path) -> list[dict]:
    """The shared tract instances: one dict per instance with ``name``, ``pop`` (n,),
    ``edges`` (m, 2) as unit positions, ``k``, ``L``, ``U``, ``best`` (or None) and
    ``reference`` (the shipped plan's cut edges, or None)."""
    meta = json.loads((folder / "instances.json").read_text())
    out = []
    for rec in meta:
        d = folder / rec["name"]
        units = pd.read_csv(d / "units.csv")
        pos = pd.Series(np.arange(len(units)), index=units["unit_id"].to_numpy())
        e = pd.read_csv(d / "edges.csv")
        edges = np.column_stack([pos[e["a"]].to_numpy(), pos[e["b"]].to_numpy()])
        out.append(
            {
                "name": rec["name"],
                "pop": units["population"].to_numpy(float),
                "edges": edges.astype(np.int64),
                "k": int(rec["k"]),
                "L": int(rec["L"]),
                "U": int(rec["U"]),
                "best": rec.get("best_cut_edges"),
                "reference": rec.get("plan_cut_edges"),
            }
        )
    return out


def check(
    pop: np.ndarray,
    edges: np.ndarray,
    labels: np.ndarray,
    k: int,
    tol: float,
    bounds: tuple[int, int] | None = None,
) -> dict:
    """Band (their definition: L = ceil((1-t)P/K), U = floor((1+t)P/K), or ``bounds``
    given) and contiguity."""
    total = float(pop.sum())
    lo = math.ceil((1 - tol) * total / k)
    hi = math.floor((1 + tol) * total / k)
    if bounds is not None:
        lo, hi = bounds
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


def run_instance(name: str, pop, edges, k: int, args, bounds=None) -> dict:
    from gridplan.balance import balance_units_table

    tolerance = args.tolerance
    if bounds is not None:  # the tightest symmetric tolerance inside [L, U]
        ideal = float(pop.sum()) / k
        tolerance = min(bounds[1] / ideal - 1, 1 - bounds[0] / ideal)
    ids = [f"u{i}" for i in range(pop.size)]
    units = pd.DataFrame({"unit_id": ids, "population": pop})
    edge_tab = pd.DataFrame(
        {"a": [ids[a] for a in edges[:, 0]], "b": [ids[b] for b in edges[:, 1]]}
    )
    t0 = time.monotonic()
    out = balance_units_table(
        units, "unit_id", None, None, "population", k, tolerance=tolerance,
        edges=edge_tab, seed=args.seed, time_limit=args.time_limit, objective="cut_edges",
    )  # fmt: skip
    secs = time.monotonic() - t0
    names = sorted({str(m) for m in out["manager"]})
    idx = {m: d for d, m in enumerate(names)}
    labels = np.array([idx[str(m)] for m in out["manager"]], dtype=np.int64)
    res = check(pop, edges, labels, k, tolerance, bounds)
    rep = out.attrs.get("report", {})
    res.update({"seconds": round(secs, 2), "stopped_by": rep.get("stats", {}).get("stopped_by")})
    return res


def _gap(cut: int, ref: int | None) -> float | None:
    return None if ref is None else round((cut - ref) / ref, 4)


def run_shared(args) -> None:
    """Run the shared tract set (see the module docstring); JSON to ``args.out``."""
    if not (args.shared / "instances.json").exists():
        print(f"{args.shared}: no shared districting instances here, nothing run")
        return
    only = set(args.only.split(",")) if args.only else None
    records = []
    for inst in load_shared(args.shared):
        if only and inst["name"] not in only:
            continue
        pop, edges, k = inst["pop"], inst["edges"], inst["k"]
        res = run_instance(inst["name"], pop, edges, k, args, bounds=(inst["L"], inst["U"]))
        rec = {"instance": inst["name"], "n": int(pop.size), "m": len(edges), "K": k,
               "best_known": inst["best"], "reference_cut_edges": inst["reference"], **res,
               "gap": _gap(res["cut_edges"], inst["best"]),
               "gap_to_reference": _gap(res["cut_edges"], inst["reference"]),
               "feasible": res["in_band"] and res["contiguous"]}  # fmt: skip
        records.append(rec)
        print(
            f"{rec['instance']:10s} n={rec['n']:5d} K={k:3d} best={inst['best']!s:>5s} "
            f"ref={inst['reference']!s:>5s} cut={res['cut_edges']:5d} "
            f"feasible={rec['feasible']} {res['seconds']:.1f}s",
            flush=True,
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    summary = {
        "set": str(args.shared),
        "time_limit": args.time_limit,
        "seed": args.seed,
        "instances": records,
        "all_feasible": all(r["feasible"] for r in records),
        "at_or_below_best_known": sum(
            1 for r in records if r["gap"] is not None and r["gap"] <= 0 and r["feasible"]
        ),
        "with_best_known": sum(1 for r in records if r["best_known"] is not None),
        "worst_gap": max((r["gap"] for r in records if r["gap"] is not None), default=None),
        "worst_gap_to_reference": max(
            (r["gap_to_reference"] for r in records if r["gap_to_reference"] is not None),
            default=None,
        ),
    }
    args.out.write_text(json.dumps(summary, indent=2))
    print(f"wrote {args.out}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--instances", type=Path, default=None)
    ap.add_argument("--only", default=None, help="comma-separated instance names")
    ap.add_argument("--time-limit", type=float, default=20.0)
    ap.add_argument("--tolerance", type=float, default=0.005)
    ap.add_argument("--seed", type=int, default=0)
    default_out = Path(__file__).parent / "results" / "districting.json"
    ap.add_argument("--out", type=Path, default=default_out)
    default_shared = Path(__file__).resolve().parents[2] / "shared" / "districting"
    ap.add_argument("--shared", type=Path, nargs="?", const=default_shared, default=None)
    args = ap.parse_args()
    if args.instances is None and args.shared is None:
        args.shared = default_shared
    if args.shared is not None:
        return run_shared(args)
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
