"""``gridplan demo`` (every step on a bundled demo city, outputs into a folder) and
``gridplan demo-data`` (regenerate the demo cities' SYNTHETIC sites and customers)."""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from gridplan.cli.common import (
    CLOCK_SAFETY,
    StderrProgress,
    add_cells_options,
    cells_config,
    check_output,
    positive,
    print_notes,
)
from gridplan.errors import InputError, Problem
from gridplan.progress import ProgressCallback, no_progress

__all__ = [
    "add_data_parser",
    "add_parser",
    "print_headcount",
    "print_summary",
    "run",
    "run_data",
    "write_outputs",
]

#: tooltip fields of the demo's maps (besides the coloured column)
_FIELDS = ["district", "population", "customers", "spend", "coverage"]


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the ``demo`` and ``demo-data`` sub-commands; returns the ``demo`` parser."""
    p = subparsers.add_parser(
        "demo",
        help="run everything on the bundled demo city and write the outputs to a folder",
        description="Run every step that exists on the bundled demo city (real population; "
        "SYNTHETIC cell sites and customers) and write the outputs to --out.",
    )
    p.add_argument("--city", choices=["nyc", "seoul"], default="nyc", help="demo city")
    p.add_argument("--seed", type=int, default=0, help="random seed of every step")
    p.add_argument(
        "--time-limit",
        type=float,
        default=20.0,
        help="work budget for balancing the managers' workloads, in reference seconds "
        "(default 20): bounded by work, not by the clock, so a seed gives the same plan; "
        f"the clock stops it at {CLOCK_SAFETY:g}× as a safety net only",
    )
    add_cells_options(p)
    p.add_argument("--out", required=True, help="output folder (created if missing)")
    p.add_argument(
        "--organisation",
        action="store_true",
        help="with the city's SYNTHETIC operator organisation (a branch per borough / living "
        "zone, a sub-branch per district): territories and areas formed inside each branch",
    )
    p.add_argument(
        "--skip-exports",
        action="store_true",
        help="do not end with every export format (map book, GIS and office files)",
    )
    p.set_defaults(func=run)
    add_data_parser(subparsers)
    return p


def add_data_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the ``demo-data`` sub-command to an argparse sub-parser set."""
    p = subparsers.add_parser(
        "demo-data",
        help="regenerate the demo cities' SYNTHETIC cell sites and customers",
        description="Regenerate the synthetic cell sites and customers of the demo cities "
        "from their real population, deterministically for a seed.",
    )
    p.add_argument("--city", choices=["nyc", "seoul", "all"], default="all")
    p.add_argument("--seed", type=int, default=2026, help="random seed (default 2026)")
    p.add_argument("--out-dir", help="folder to write to (default: data/<city>/)")
    p.set_defaults(func=run_data)
    return p


def _write_tables(plan: Any, report: dict[str, Any], out_dir: Path) -> list[Path]:
    """The plan's cells and grids (GeoPackages), cells.csv, managers.csv, headcount.csv
    (per role for the city, each district and area), report.json."""
    import json

    from gridplan.atomic import atomic_path, write_text_atomic
    from gridplan.cli.common import write_layer
    from gridplan.plan.model import manager_table, plan_headcount

    written = [write_layer(plan.cells, out_dir / "cells.gpkg", "cells")]
    written.append(write_layer(plan.grids, out_dir / "grids.gpkg", "grids"))
    with atomic_path(out_dir / "cells.csv") as tmp:
        plan.cells[["cell_id", "grid_id"]].to_csv(tmp, index=False)
    written.append(out_dir / "cells.csv")
    with atomic_path(out_dir / "managers.csv") as tmp:
        manager_table(plan).to_csv(tmp, index=False)
    written.append(out_dir / "managers.csv")
    with atomic_path(out_dir / "headcount.csv") as tmp:
        plan_headcount(plan).to_csv(tmp, index=False)
    written.append(out_dir / "headcount.csv")
    written += _write_organisation(plan, out_dir)
    write_text_atomic(
        out_dir / "report.json", json.dumps(report, indent=1, ensure_ascii=False, default=str)
    )
    written.append(out_dir / "report.json")
    return written


def _write_organisation(plan: Any, out_dir: Path) -> list[Path]:
    """area_teams.csv (every area's leader and team) and, with an organisation,
    organisation.csv (every level's roll-up); UTF-8 with BOM for spreadsheets."""
    import pandas as pd

    from gridplan.atomic import atomic_path
    from gridplan.plan.organisation import org_levels, org_rollup
    from gridplan.plan.staff import area_team, staff_areas

    tables = {}
    if staff_areas(plan):
        tables["area_teams.csv"] = area_team(plan)
    levels = org_levels(plan)
    if levels:
        parts = [org_rollup(plan, lv).assign(level=lv) for lv in ["city", *levels, "area"]]
        tables["organisation.csv"] = pd.concat(parts, ignore_index=True)
    written = []
    for name, table in tables.items():
        with atomic_path(out_dir / name) as tmp:
            table.to_csv(tmp, index=False, encoding="utf-8-sig")
        written.append(out_dir / name)
    return written


def print_organisation(plan: Any) -> None:
    """One line per unit of the area level: its managers, areas and worst deviation."""
    from gridplan.plan.model import manager_table
    from gridplan.plan.organisation import area_level, org_labels, unit_names

    level = area_level(plan)
    if level is None or "unit" not in plan.managers.columns:
        return
    table = manager_table(plan)
    names = unit_names(plan, level)
    label = org_labels(plan).get(level, level)
    print(f"territories and areas per {label} (targets are each unit's own hours):")
    for unit, part in table.groupby("unit", sort=True):
        dev = float(part["deviation"].abs().max()) if len(part) else 0.0
        print(
            f"  {unit:<10} {names.get(unit, unit)[:28]:<28} {len(part):>4} managers "
            f"{part['area'].nunique():>3} areas  max deviation {dev:.1%}"
        )


def _write_maps(plan: Any, districts: Any, out_dir: Path) -> list[Path]:
    """The cells, grids and territories maps (standalone HTML, offline)."""
    from gridplan.atomic import write_text_atomic
    from gridplan.maps import OFFLINE, cells_map, standalone_html
    from gridplan.plan.model import HOURS, territories

    maps = {
        "cells_map.html": (plan.cells, "population", _FIELDS, "Cells"),
        "grids_map.html": (
            plan.grids,
            HOURS,
            ["grid_id", "grid_type", "manager", HOURS, *_FIELDS],
            "Grids",
        ),
        "territories_map.html": (
            territories(plan),
            "hours",
            ["manager", "area", "hours", "target_h", "deviation", "n_grids"],
            "Territories",
        ),
    }
    written = []
    for filename, (frame, column, tips, name) in maps.items():
        m = cells_map(
            frame, column, tooltip_fields=tips, districts=districts, settings=OFFLINE, name=name
        )
        write_text_atomic(out_dir / filename, standalone_html(m))
        written.append(out_dir / filename)
    return written


def write_outputs(
    plan: Any,
    report: dict[str, Any],
    out_dir: Path,
    *,
    districts: Any = None,
    exports: bool = True,
    progress: ProgressCallback = no_progress,
) -> list[Path]:
    """Write a made plan into the folder ``out_dir`` (created): cells.gpkg, grids.gpkg,
    cells.csv, managers.csv, headcount.csv, report.json, the three maps (HTML), every export format
    unless ``exports`` is false, and ``plan.gpkg`` (what the app saves) last, so that a
    plan.gpkg of the run is only there when everything else is. Each file is written to
    a temporary beside it and renamed. Returns the paths, plan.gpkg first."""
    from gridplan.plan.model import save_plan

    out_dir.mkdir(parents=True, exist_ok=True)
    written = _write_tables(plan, report, out_dir)
    written += _write_maps(plan, districts, out_dir)
    if exports:
        from gridplan.export.formats import export_all

        written += export_all(plan, out_dir, progress=progress)
    return [save_plan(plan, out_dir / "plan.gpkg"), *written]


def print_summary(n_cells: int, report: dict[str, Any], floors: Mapping[str, float]) -> None:
    """The two summary lines of a made plan (grids and floors; managers and balance)."""
    summary = report["partition"]["summary"]
    bal = report["balance"]
    print(
        f"{n_cells:,} cells, "
        f"{summary['n_grids']:,} grids, {summary['n_meeting_all_floors']:,} meet every floor "
        f"({', '.join(f'{k} ≥ {v:,.0f}' for k, v in floors.items())})"
    )
    print(
        f"{bal['n_managers']} managers for {bal['total_weight']:,.0f} hours/month: "
        f"max deviation {bal['max_deviation']:.1%} (tolerance ±{bal['tolerance']:.0%}), "
        f"{'contiguous' if bal['contiguous'] else 'NOT contiguous'}, "
        f"{bal['cut_edges']:,} cut edges"
    )


def print_headcount(table: Any) -> None:
    """The city's headcount per role (a :func:`gridplan.plan.model.plan_headcount` table):
    hours/month, managers by hours and by ratio, the recommended headcount and the rule
    that binds; one line on the districts and areas (their rows are in headcount.csv)."""
    import math

    city = table[table["level"] == "city"]
    print("headcount per role (city):")
    print(
        f"  {'role':<30} {'hours/month':>11} {'by hours':>9} {'by ratio':>9} "
        f"{'recommended':>11}  binds  (ratio)"
    )
    for r in city.itertuples():
        ratio = "—" if math.isnan(r.by_ratio) else f"{r.by_ratio:.1f}"
        rule = (
            "" if math.isnan(r.per_manager) else f"{r.units:,.0f} {r.ratio_of} / {r.per_manager:g}"
        )
        print(
            f"  {r.role_label:<30} {r.hours:>11,.0f} {r.by_hours:>9.1f} {ratio:>9} "
            f"{r.recommended:>11}  {r.binds:<5}  {rule}".rstrip()
        )
    levels = [lv for lv in dict.fromkeys(table["level"]) if lv != "city"]
    n = {lv: table.loc[table["level"] == lv, "unit"].nunique() for lv in levels}
    each = ", ".join(f"per {lv.removeprefix('unit_')} ({k})" for lv, k in n.items())
    print(f"  {each}: headcount.csv" if each else "  (no districts or areas)")


def run(args: argparse.Namespace) -> int:
    """Run ``gridplan demo``; returns the exit status (0)."""
    from gridplan.demo.cities import load_demo
    from gridplan.plan.pipeline import demo_settings, make_plan

    progress = StderrProgress(args.quiet)
    positive(args.time_limit, "--time-limit", "seconds > 0, e.g. 20")
    if args.resolution is None and args.target_cells is None and args.lattice == "h3":
        cells = None  # the demo's own default resolution
    else:
        cells = cells_config(args)  # settings first: nothing is created for bad ones
    out_dir = check_output(args.out, "--out", kind="folder")
    settings = demo_settings(
        seed=args.seed, cells=cells, time_limit=args.time_limit, name=f"demo-{args.city}"
    )
    # the command line bounds the balance by work (reproducible), the clock as safety net
    budget = replace(
        settings.balance, time_limit=CLOCK_SAFETY * args.time_limit, work_limit=args.time_limit
    )
    settings = replace(settings, balance=budget)
    layers = load_demo(args.city, organisation=args.organisation)
    out_dir.mkdir(parents=True, exist_ok=True)
    progress(0.0, f"loaded demo city {args.city} (sites and customers are SYNTHETIC)")
    plan, report = make_plan(layers, settings, progress=progress)
    print_summary(len(plan.cells), report, settings.partition.floors)
    from gridplan.plan.model import plan_headcount

    print_headcount(plan_headcount(plan))
    print_organisation(plan)
    print_notes(report["cells"]["notes"])
    written = write_outputs(
        plan,
        report,
        out_dir,
        districts=layers.districts,
        exports=not args.skip_exports,
        progress=progress,
    )
    for path in written:
        print(f"wrote {path}")
    return 0


def run_data(args: argparse.Namespace) -> int:
    """Run ``gridplan demo-data``; returns the exit status (0)."""
    from gridplan.demo.cities import data_dir
    from gridplan.demo.synthetic import build_synthetic

    if not 0 <= args.seed < 2**32:
        raise InputError(
            Problem(f"seed {args.seed}", "--seed", "give a whole number from 0 to 4294967295")
        )
    check_output(args.out_dir, "--out-dir", kind="folder")
    cities = [args.city] if args.city != "all" else ["nyc", "seoul"]
    for city in cities:
        out_dir = Path(args.out_dir) if args.out_dir else data_dir() / city
        for path in build_synthetic(city, out_dir, seed=args.seed):
            print(f"wrote {path} (SYNTHETIC)")
    return 0
