"""``gridplan targets``: push KPI targets down a saved plan, with actuals and attainment.

Wire it into the main CLI with ``add_parser(subparsers)``. Example::

    gridplan targets --plan plan.gpkg --targets targets.csv --actuals actuals.csv \\
        --out targets.xlsx

``targets.csv`` (CSV or XLSX; UTF-8 or GBK): one row per target given::

    measure,level,unit,target,kind,key
    revenue,city,,1200000,sum,spend=0.6;customers=0.4
    revenue,district,武侯区,500000,,
    new_lines,city,,300,count,customers
    retention,city,,95%,rate,

``level``: city (``unit`` may stay empty), district, any ``unit_*`` column of the
grids, area, manager or grid; ``kind``: ``sum`` (default), ``count`` (whole numbers)
or ``rate`` (copied down, never summed); ``key``: the grid figures that share the
target out (default spend 0.4, customers 0.3, potential 0.2, population 0.1). A target
below the city is kept and its parent's rest is shared among its siblings — see
:mod:`gridplan.plan.targets` for every rule.

``actuals.csv``: ``measure,level,unit,actual``, ``measure,grid_id,actual`` or
``measure,customer_id,actual``.

``--out``: ``.xlsx`` (one sheet per level, and ``inputs``) or ``.csv`` (every level in
one table, a ``level`` column). Bad input — a unit that does not exist, targets that do
not add up, a negative target, an unknown kind … — is one message listing every
problem with its row and fix (exit status 2). The output is written atomically.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from gridplan.cli.common import check_output
from gridplan.errors import InputError, Problem

SUFFIXES = (".xlsx", ".csv")


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the ``targets`` sub-command to an argparse sub-parser set."""
    p = subparsers.add_parser(
        "targets",
        help="push KPI targets down to every district, area, manager and grid; with "
        "actuals, the attainment at every level",
        description="Share city (or unit) targets of any measure out top-down by a key "
        "on the grids' figures, totals exact at every level; with actuals (by unit, grid "
        "or customer) every level shows actual, target and attainment.",
    )
    p.add_argument("--plan", required=True, help="the plan GeoPackage (.gpkg)")
    p.add_argument(
        "--targets",
        required=True,
        help="CSV/XLSX: measure,level,unit,target[,kind][,key] (kind: sum, count, rate)",
    )
    p.add_argument(
        "--actuals",
        default=None,
        help="CSV/XLSX: measure,level,unit,actual or measure,grid_id,actual or "
        "measure,customer_id,actual",
    )
    p.add_argument("--out", required=True, help="targets.xlsx (a sheet per level) or .csv")
    p.add_argument(
        "--decimals",
        type=int,
        default=None,
        metavar="N",
        help="decimals of sum measures (default 2: cents); count measures are whole numbers",
    )
    p.set_defaults(func=run)
    return p


def _check_options(args: argparse.Namespace) -> None:
    """Every problem of the options at once, before anything is read."""
    problems = []
    for option, path in (
        ("--plan", args.plan),
        ("--targets", args.targets),
        ("--actuals", args.actuals),
    ):
        if path is not None and not Path(path).is_file():
            problems.append(
                Problem(f"no file {path!r}", option, "give the path of an existing file")
            )
    if Path(args.out).suffix.lower() not in SUFFIXES:
        problems.append(
            Problem(
                f"output {Path(args.out).name!r} is neither .xlsx nor .csv",
                f"--out {args.out}",
                "end the file name in .xlsx (a sheet per level) or .csv",
            )
        )
    if args.decimals is not None and not 0 <= args.decimals <= 6:
        problems.append(Problem(f"{args.decimals} decimals", "--decimals", "give 0 to 6"))
    if problems:
        raise InputError(problems)


def _write(tables: dict[str, Any], inputs: Any, out: Path) -> list[str]:
    """Write the tables atomically; returns the sheet names (or the levels of the CSV)."""
    import pandas as pd

    from gridplan.atomic import atomic_path

    with atomic_path(out) as tmp:
        if out.suffix.lower() == ".csv":
            pd.concat(list(tables.values()), ignore_index=True).to_csv(
                tmp, index=False, encoding="utf-8-sig"
            )
        else:
            with pd.ExcelWriter(tmp, engine="openpyxl") as xl:
                for level, table in tables.items():
                    table.to_excel(xl, sheet_name=level[:31], index=False)
                inputs.to_excel(xl, sheet_name="inputs")
    return [*tables, *([] if out.suffix.lower() == ".csv" else ["inputs"])]


def _city_line(row: Any) -> str:
    def fmt(x: float) -> str:
        if x != x:
            return "—"
        return f"{x:.1%}" if row["kind"] == "rate" else f"{x:,.2f}".rstrip("0").rstrip(".")

    line = f"{row['measure']} ({row['kind']}): target {fmt(row['target'])}"
    if row["actual"] == row["actual"]:
        att = row["attainment"]
        line += f", actual {fmt(row['actual'])}, attainment {'—' if att != att else f'{att:.1%}'}"
    return line


def run(args: argparse.Namespace) -> int:
    """Run ``gridplan targets``; returns the exit status (0)."""
    from gridplan.plan.model import load_plan
    from gridplan.plan.targets import (
        KINDS,
        TargetsConfig,
        level_tables,
        read_actuals,
        read_targets,
    )

    _check_options(args)
    out = check_output(args.out, "--out")
    assert out is not None
    config = TargetsConfig() if args.decimals is None else TargetsConfig(decimals=args.decimals)
    plan = load_plan(args.plan)
    where = Path(args.targets).name
    targets = read_targets(args.targets, where=where)
    actuals = None
    if args.actuals:
        kinds = {
            str(m): KINDS.get(str(k), "sum")
            for m, k in zip(targets["measure"], targets["kind"], strict=True)
        }
        actuals = read_actuals(args.actuals, plan, kinds, Path(args.actuals).name, config)
    tables = level_tables(plan, targets, actuals, config, where)
    written = _write(tables, targets.drop(columns=["target_text"]), out)
    for _, row in tables["city"].iterrows():
        print(_city_line(row))
    counts = ", ".join(f"{level} {table['unit'].nunique()}" for level, table in tables.items())
    print(f"units per level: {counts}")
    print(f"wrote {out} ({', '.join(written)})")
    return 0
