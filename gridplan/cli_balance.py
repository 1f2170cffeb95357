"""``gridplan balance``: balance generic units from CSV files.

Wire it into the main CLI with ``add_parser(subparsers)``; the parsed arguments go to
:func:`run`. Example::

    gridplan balance --units units.csv --id unit_id --x x --y y --weight population \\
        --managers 8 --tolerance 0.005 [--edges edges.csv] [--previous previous.csv] \\
        [--locks locks.csv] [--seed 0] [--time-limit 60] --out assignment.csv

``edges.csv`` has columns ``a,b`` (unit ids); ``previous.csv`` and ``locks.csv`` have
``unit_id,manager``; the output has ``unit_id,manager`` and a ``.json`` report beside it.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import pandas as pd

from gridplan.errors import GridplanError

__all__ = ["add_parser", "run"]


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the ``balance`` sub-command to an argparse sub-parser set."""
    p = subparsers.add_parser(
        "balance",
        help="assign units to managers: balanced, contiguous, few cut edges",
        description=__doc__.split("\n\n")[0],
    )
    p.add_argument("--units", required=True, help="CSV of units")
    p.add_argument("--id", default="unit_id", help="unit id column")
    p.add_argument("--x", default=None, help="x coordinate column (for Delaunay adjacency)")
    p.add_argument("--y", default=None, help="y coordinate column")
    p.add_argument("--weight", required=True, help="workload column (e.g. hours, population)")
    p.add_argument("--managers", type=int, required=True, help="number of managers K")
    p.add_argument("--tolerance", type=float, default=0.03, help="±share of the target")
    p.add_argument("--objective", choices=["cut_edges", "compactness", "both"], default="cut_edges")
    p.add_argument("--edges", default=None, help="CSV with columns a,b (unit ids)")
    p.add_argument("--previous", default=None, help="CSV unit_id,manager of the previous plan")
    p.add_argument("--locks", default=None, help="CSV unit_id,manager of locked units")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--time-limit", type=float, default=60.0, help="seconds")
    p.add_argument("--workers", type=int, default=None, help="CP-SAT threads (default 2)")
    p.add_argument("--out", required=True, help="output CSV unit_id,manager")
    p.set_defaults(func=run)
    return p


def _read(path: str | None, id_col: str | None = None) -> pd.DataFrame | None:
    if path is None:
        return None
    df = pd.read_csv(path)
    if id_col is not None and id_col in df.columns:
        df[id_col] = df[id_col]
    return df


def run(args: argparse.Namespace) -> int:
    """Run the balance sub-command; returns the exit code (0 ok, 2 input/infeasible)."""
    from gridplan.balance import balance_units_table

    def progress(fraction: float, message: str) -> None:
        print(f"[{fraction:5.0%}] {message}", file=sys.stderr)

    try:
        units = pd.read_csv(args.units)
        out = balance_units_table(
            units,
            args.id,
            args.x,
            args.y,
            args.weight,
            args.managers,
            tolerance=args.tolerance,
            edges=_read(args.edges),
            previous=_read(args.previous),
            locks=_read(args.locks),
            seed=args.seed,
            time_limit=args.time_limit,
            progress=progress,
            objective=args.objective,
            workers=args.workers,
        )
    except GridplanError as exc:
        print(f"gridplan balance: {exc}", file=sys.stderr)
        return 2
    out_path = Path(args.out)
    out.to_csv(out_path, index=False)
    report = out.attrs.get("report", {})
    out_path.with_suffix(".json").write_text(json.dumps(report, indent=2), encoding="utf-8")
    for note in out.attrs.get("notes", []):
        print(f"note: {note}", file=sys.stderr)
    print(
        f"{len(out)} units -> {args.managers} managers: cut edges {report.get('cut_edges')}, "
        f"max deviation {report.get('max_deviation', 0):.2%}, "
        f"contiguous {report.get('contiguous')}",
        file=sys.stderr,
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    """Stand-alone entry: ``python -m gridplan.cli_balance --units …``."""
    parser = argparse.ArgumentParser(prog="gridplan")
    sub = parser.add_subparsers(dest="command", required=True)
    add_parser(sub)
    args = parser.parse_args(["balance", *(sys.argv[1:] if argv is None else argv)])
    return int(args.func(args))


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
