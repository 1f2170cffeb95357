"""The benchmark scripts still run (tiny settings, no peer): their JSON has the fields
the README's tables are built from."""

from __future__ import annotations

import json
import runpy
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]


def test_partition_benchmark_runs_and_writes_json(tmp_path: Path) -> None:
    out = tmp_path / "p.json"
    cmd = [
        sys.executable,
        str(ROOT / "benchmarks" / "partition_vs_spopt.py"),
        "--sizes",
        "10",
        "--skip-spopt",
        "--skip-real",
        "--big-side",
        "0",
        "--out",
        str(out),
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    got = json.loads(out.read_text())
    (row,) = got["rows"]
    g = row["gridplan"]
    assert row["cells"] == 100 and row["upper_bound_p"] == 12
    assert 1 <= g["p"] <= 12 and g["meeting_floor"] == g["p"] == g["contiguous"]
    assert g["seconds"] > 0 and g["cpu_seconds"] > 0
    assert "lattice 10x10" in done.stdout
    cli = row["gridplan_cli"]  # the whole `gridplan partition` process, on the same lattice
    assert cli["command"].startswith("gridplan partition --cells ")
    assert cli["seconds"] > 0 and 1 <= cli["p"] <= 12
    assert cli["meeting_floor"] == cli["p"] == cli["contiguous"]


def _tiny_shared_set(folder: Path) -> None:
    """A 4×4 lattice in the shared-set layout: k = 2, population 1 a unit, L = U = 8;
    the best split is a straight cut (4 cut edges); the shipped plan cuts 6."""
    inst = folder / "TINY_tract"
    inst.mkdir(parents=True)
    rows = ["unit_id,x,y,population"] + [f"{10 + i},{i % 4},{i // 4},1" for i in range(16)]
    (inst / "units.csv").write_text("\n".join(rows) + "\n")
    edges = ["a,b"]
    for i in range(16):
        if i % 4 < 3:
            edges.append(f"{10 + i},{11 + i}")
        if i < 12:
            edges.append(f"{10 + i},{14 + i}")
    (inst / "edges.csv").write_text("\n".join(edges) + "\n")
    meta = [{"name": "TINY_tract", "k": 2, "L": 8, "U": 8, "best_cut_edges": 4,
             "plan_file": "witness_plan.csv", "plan_cut_edges": 6}]  # fmt: skip
    (folder / "instances.json").write_text(json.dumps(meta))


def test_districting_benchmark_reads_the_shared_layout(tmp_path: Path) -> None:
    _tiny_shared_set(tmp_path / "set")
    out = tmp_path / "d.json"
    cmd = [sys.executable, str(ROOT / "benchmarks" / "bench_districting.py"),
           "--shared", str(tmp_path / "set"), "--time-limit", "5", "--out", str(out)]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    got = json.loads(out.read_text())
    (rec,) = got["instances"]
    assert rec["feasible"] and (rec["L"], rec["U"]) == (8, 8)
    assert rec["cut_edges"] == 4 and rec["gap"] == 0.0
    assert rec["gap_to_reference"] == round((4 - 6) / 6, 4)
    assert got["at_or_below_best_known"] == 1


def test_districting_benchmark_skips_a_missing_set(tmp_path: Path) -> None:
    cmd = [sys.executable, str(ROOT / "benchmarks" / "bench_districting.py"),
           "--shared", str(tmp_path / "absent"), "--out", str(tmp_path / "d.json")]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "nothing run" in done.stdout
    assert not (tmp_path / "d.json").exists()


def test_few_grids_benchmark_records_deviation_bound_and_baseline(tmp_path: Path) -> None:
    """A 6×6 lognormal lattice, 6 grids per manager (K = 6), a 2 s budget: the record
    has the deviation, the lower bound, the gap, cut edges and the k-means baseline."""
    out = tmp_path / "f.json"
    cmd = [sys.executable, str(ROOT / "benchmarks" / "bench_few_grids.py"), "--cities", "",
           "--lattices", "6", "--g", "6", "--budgets", "2", "--out", str(out)]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    got = json.loads(out.read_text())
    (rec,) = got["instances"]
    assert rec["instance"] == "lattice 6x6" and rec["grids"] == 36 and rec["managers"] == 6
    # no grid outweighs a target here (lognormal(0, 0.5), target about 6 units): bound 0
    assert rec["heaviest_grid_share"] < 1 and rec["bound"] == 0.0 and rec["tolerance_allowed"]
    (run,) = rec["gridplan"]
    assert run["time_limit"] == 2.0 and run["contiguous"]
    assert run["within"] == (run["max_deviation"] <= 0.03 + 1e-9)
    assert run["gap"] == round(run["max_deviation"] - rec["bound"], 5)
    assert 0 < run["cut_edges"] <= 60  # 60 rook edges in a 6×6 lattice
    base = rec["baseline_kmeans_greedy"]
    assert base["contiguous"] and base["max_deviation"] >= 0 and 0 < base["cut_edges"] <= 60
    assert got["summary"]["runs"] == 1 and got["summary"]["allowed_by_bound"] == 1
    assert "lattice 6x6" in done.stdout


def test_few_grids_bound_is_the_heaviest_grid_when_it_outweighs_a_target() -> None:
    from gridplan._balance.graph import csr_from_edges

    lower_bound = runpy.run_path(str(ROOT / "benchmarks" / "bench_few_grids.py"))["lower_bound"]

    # a path of 4 grids, weights 5, 1, 1, 1 into 2 managers: target 4, the heaviest
    # is 25 % above it, so no plan does better than ±25 %
    ip, ix = csr_from_edges(4, np.array([(0, 1), (1, 2), (2, 3)]))
    b = lower_bound(np.array([5.0, 1.0, 1.0, 1.0]), ip, ix, 2)
    assert b["bound_heaviest"] == 0.25 and b["bound_reachable"] == 0.25
