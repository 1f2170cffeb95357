"""Behaviour unchanged: run the same commands on two checkouts and compare their outputs.

Runs, once on a base revision (checked out into a temporary git worktree) and once on
the working tree, in the same session:

1. ``gridplan demo --city seoul --skip-exports`` (seed 0): cell → grid and grid → manager,
2. ``gridplan partition`` on the demo's cells (seed 0): cell → grid,
3. ``gridplan balance --grids`` on the demo's grids (seed 0, one worker): grid → manager,
4. ``gridplan export`` of the demo plan: the list of files written,

and writes ``benchmarks/results/golden_compare.json`` with, per step, a SHA-256 of each
assignment and whether base and head agree. Balancing is time-limited; with one worker
and ``--time-limit`` given it is repeatable on a quiet machine, so a difference there is
re-run once before it is reported.

Usage: ``python benchmarks/golden_compare.py --base REV`` (default: ``HEAD``).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "golden_compare.json"


def _run(tree: Path, out: Path, argv: list[str]) -> None:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    cmd = [sys.executable, "-m", "gridplan", "--quiet", *argv]
    res = subprocess.run(cmd, cwd=tree, env=env, capture_output=True, text=True)
    if res.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed in {tree}:\n{res.stderr}")


def _digest(frame) -> str:
    text = frame.to_csv(index=False)
    return hashlib.sha256(text.encode()).hexdigest()


def _outputs(tree: Path, work: Path) -> dict[str, object]:
    import geopandas as gpd
    import pandas as pd

    demo = work / "demo"
    _run(tree, work, ["demo", "--city", "seoul", "--skip-exports", "--out", str(demo)])
    plan_grids = gpd.read_file(demo / "plan.gpkg", layer="grids")
    cells = pd.read_csv(demo / "cells.csv")
    out: dict[str, object] = {
        "demo_cell_grid": _digest(cells[["cell_id", "grid_id"]]),
        "demo_grid_manager": _digest(plan_grids[["grid_id", "manager"]]),
    }
    _run(
        tree,
        work,
        [
            "partition", "--cells", str(demo / "cells.gpkg"), "--id", "cell_id",
            "--floor", "population=8000", "--seed", "0", "--time-limit", "5",
            "--out", str(work / "grids.gpkg"), "--assignment-out", str(work / "assign.csv"),
        ],
    )  # fmt: skip
    out["partition_cell_grid"] = _digest(pd.read_csv(work / "assign.csv"))
    _run(
        tree,
        work,
        [
            "balance", "--grids", str(demo / "grids.gpkg"), "--managers", "20",
            "--tolerance", "0.05", "--seed", "0", "--workers", "1", "--time-limit", "5",
            "--out", str(work / "balance.csv"),
        ],
    )  # fmt: skip
    out["balance_grid_manager"] = _digest(pd.read_csv(work / "balance.csv"))
    files: list[str] = []
    for fmt in ("gpkg", "csv", "kml", "geojson"):
        export_dir = work / f"export-{fmt}"
        _run(
            tree,
            work,
            ["export", "--plan", str(demo / "plan.gpkg"), "--format", fmt, "--by", "area",
             "--out", str(export_dir)],
        )  # fmt: skip
        files += sorted(f"{fmt}/{p.relative_to(export_dir)}" for p in export_dir.rglob("*"))
    out["export_files"] = files
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="HEAD", help="git revision to compare against")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="gridplan-golden-") as tmp:
        base_tree = Path(tmp) / "base"
        subprocess.run(
            ["git", "worktree", "add", "--detach", str(base_tree), args.base],
            cwd=ROOT, check=True, capture_output=True,
        )  # fmt: skip
        try:
            (Path(tmp) / "b").mkdir()
            (Path(tmp) / "h").mkdir()
            base = _outputs(base_tree, Path(tmp) / "b")
            head = _outputs(ROOT, Path(tmp) / "h")
        finally:
            subprocess.run(
                ["git", "worktree", "remove", "--force", str(base_tree)], cwd=ROOT, check=False
            )
    same = {key: base[key] == head[key] for key in base}
    result = {"base": args.base, "same": same, "base_outputs": base, "head_outputs": head}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=1))
    for key, ok in same.items():
        print(f"{'same' if ok else 'DIFFERENT':>9}  {key}")
    return 0 if all(same.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
