"""The benchmark scripts still run (tiny settings, no peer): their JSON has the fields
the README's tables are built from."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

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
