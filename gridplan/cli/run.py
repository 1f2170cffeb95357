"""``gridplan run``: your own city end to end — the demo's whole flow (cells, grids,
workload, territories, areas) on your layers, written into a folder.

    gridplan run --boundary city.gpkg --population tracts.gpkg --districts districts.gpkg \\
        --sites sites.csv --customers customers.csv --team team.csv \\
        --floor population=5000 --floor customers=30 --tolerance 0.03 --out plan/

Writes ``plan.gpkg`` (the plan the app saves: ``gridplan export --plan plan/plan.gpkg``
and the app open it), cells.gpkg, grids.gpkg, cells.csv, managers.csv, report.json, the
cells/grids/territories maps and, unless ``--skip-exports``, every export format. Every
setting and the team file are checked before any layer is read; nothing is written until
the plan is made, each file goes to a temporary beside it and is renamed, and plan.gpkg
comes last. Geometry is in the city's UTM CRS (metres).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from gridplan.cli.common import (
    CLOCK_SAFETY,
    StderrProgress,
    add_cells_options,
    add_require_tolerance,
    cells_config,
    check_output,
    check_share,
    parse_floors,
    print_notes,
    print_warnings,
    tolerance_verdict,
)
from gridplan.cli.layer_options import (
    KINDS,
    add_cross_units_option,
    add_layer_options,
    add_units_option,
    cli_words,
    layer_sources,
    units_source,
    with_units,
)
from gridplan.errors import GridplanError, InputError, Problem

__all__ = ["add_parser", "run"]


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the ``run`` sub-command to an argparse sub-parser set."""
    p = subparsers.add_parser(
        "run",
        help="your own city end to end: cells, grids, territories and every output in a folder",
        description="Run the whole flow of `gridplan demo` on your city's layers: build the "
        "cells, cut them into grids meeting every --floor, compute the workload "
        "(hours/month), share the grids among the team within ±--tolerance and group "
        "territories into areas; write plan.gpkg (open it in the app or give it to "
        "`gridplan export --plan`), the report, maps and, unless --skip-exports, every "
        "export format into --out. Layers as for `gridplan cells` (any format, any CRS).",
    )
    g = p.add_argument_group("layers")
    g.add_argument("--boundary", required=True, help="city boundary polygon layer")
    g.add_argument(
        "--population",
        required=True,
        help="population: polygons or points with a 'population' column (persons)",
    )
    g.add_argument("--districts", help="administrative districts: polygons with 'district'")
    g.add_argument(
        "--sites",
        help="cell sites: points with site_id, technology (4G/5G), sectors, radius_m (metres)",
    )
    g.add_argument(
        "--customers",
        help="customers: points (or CSV/XLSX with lon/lat) with customer_id, type or segment, "
        "spend (CNY/month), handsets; tiers derived with data/customer_tiers.yaml",
    )
    g.add_argument("--barriers", help="lines (rivers, highways) that cut cell adjacency")
    add_units_option(g)
    g.add_argument(
        "--name",
        help="the plan's name, in file names of the exports (default: the --out folder's name)",
    )
    add_layer_options(p)
    add_cells_options(p)
    _add_grid_options(p)
    _add_team_options(p)
    out = p.add_argument_group("output")
    out.add_argument("--out", required=True, help="output folder (created if missing)")
    out.add_argument(
        "--skip-exports",
        action="store_true",
        help="do not end with every export format (map book, GIS and office files)",
    )
    p.set_defaults(func=run)
    return p


def _add_grid_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("grids")
    g.add_argument(
        "--floor",
        action="append",
        default=[],
        metavar="COLUMN=VALUE",
        help="minimum per grid, repeatable, at least one: population=5000 (persons), "
        "customers=30, spend=200000 (CNY/month)",
    )
    g.add_argument(
        "--homogeneous",
        action="append",
        default=[],
        metavar="COLUMN",
        help="make grids uniform in this column (repeatable), e.g. coverage",
    )
    g.add_argument(
        "--cross-districts",
        action="store_true",
        help="let grids cross district boundaries (default: never)",
    )
    add_cross_units_option(g)
    g.add_argument("--seed", type=int, default=0, help="random seed of every step (default 0)")
    g.add_argument(
        "--time-limit",
        type=float,
        default=30.0,
        help="seconds for cutting the grids (default 30)",
    )


def _add_team_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("team and balance")
    who = g.add_mutually_exclusive_group()
    who.add_argument(
        "--team",
        help="team file (CSV/XLSX): manager, capacity_h (hours/month, blank = 128), "
        "home_lon, home_lat (degrees, optional)",
    )
    who.add_argument(
        "--managers",
        type=int,
        help="number of managers (default: the headcount the workload needs at 128 h/month)",
    )
    g.add_argument(
        "--tolerance",
        type=float,
        default=0.03,
        help="± share of each manager's target workload (default 0.03)",
    )
    g.add_argument(
        "--balance-time",
        type=float,
        default=20.0,
        help="work budget for balancing the managers' workloads, in reference seconds "
        "(default 20): bounded by work, not by the clock, so a seed gives the same plan; "
        f"the clock stops it at {CLOCK_SAFETY:g}× as a safety net only",
    )
    g.add_argument(
        "--area-size",
        type=int,
        default=5,
        help="territories per area (区域) of an area manager (default 5; 0 = no areas)",
    )
    g.add_argument(
        "--area-level",
        metavar="LEVEL",
        help="with --units: the organisation level whose units each get their own "
        "managers, territories and areas (default: the level above the lowest; 'city' = "
        "one pool for the whole city)",
    )
    g.add_argument(
        "--marketing-ratio",
        type=int,
        metavar="N",
        help="marketing managers (一主一辅), each supporting N community managers (± 1) of "
        "one area, contiguous and balanced on the group/VIP workload (default: none)",
    )
    add_require_tolerance(g)


def _check_options(args: argparse.Namespace) -> dict[str, float]:
    """Every setting checked at once (nothing read, nothing created); returns the floors."""
    problems: list[Problem] = []
    floors: dict[str, float] = {}
    if not args.floor:
        problems.append(
            Problem(
                "no floor: every grid needs at least one minimum to reach",
                "--floor",
                "give --floor COLUMN=VALUE (repeatable), e.g. --floor population=5000",
            )
        )
    else:
        try:
            floors = parse_floors(args.floor)
        except InputError as err:
            problems += err.problems
        problems += [
            Problem(f"floor {k}={v:g}", "--floor", "give a floor above 0, e.g. population=5000")
            for k, v in floors.items()
            if not v > 0
        ]
    problem = check_share(args.tolerance, "--tolerance")
    problems += [problem] if problem else []
    for option, value in (("--time-limit", args.time_limit), ("--balance-time", args.balance_time)):
        if not value > 0:
            problems.append(Problem(f"{option} {value:g}", option, "give seconds > 0, e.g. 20"))
    if args.managers is not None and args.managers < 1:
        problems.append(
            Problem(f"{args.managers} managers", "--managers", "give a whole number of 1 or more")
        )
    if args.area_size < 0:
        problems.append(
            Problem(f"--area-size {args.area_size}", "--area-size", "give 0 (no areas) or more")
        )
    if args.marketing_ratio is not None and args.marketing_ratio < 1:
        problems.append(
            Problem(
                f"--marketing-ratio {args.marketing_ratio}", "--marketing-ratio",
                "give 1 or more community managers per marketing manager, e.g. 4",
            )
        )  # fmt: skip
    if args.area_level and not args.units:
        problems.append(
            Problem(
                f"--area-level {args.area_level} without an organisation", "--area-level",
                "give the organisation's units with --units, or leave --area-level out",
            )
        )  # fmt: skip
    if problems:
        raise InputError(problems)
    return floors


def _check_area_level(args: argparse.Namespace, layers: Any) -> None:
    """``--area-level`` names a level of the organisation read (or ``city``)."""
    org = getattr(layers, "organisation", None)
    if not args.area_level or org is None:
        return
    if args.area_level not in ("city", *org.levels):
        raise InputError(
            Problem(
                f"--area-level {args.area_level} is not a level of the organisation",
                "--area-level",
                f"give one of {', '.join(org.levels)} or city",
            )
        )


def _read_team(path: str) -> Any:
    """The team file (:func:`gridplan.layers.team.read_team`), its problems under --team."""
    from gridplan.layers.team import read_team

    where = f"--team {path}"
    try:
        team = read_team(path, name=where)
    except InputError as err:
        raise InputError(
            [
                p if p.where.startswith("--team") else Problem(p.what, f"--team {p.where}", p.fix)
                for p in err.problems
            ]
        ) from None
    if team.empty:
        raise InputError(Problem("no manager in the team file", where, "give one row per manager"))
    return team


def _settings(args: argparse.Namespace, floors: dict[str, float], team: Any, name: str) -> Any:
    """The :class:`~gridplan.plan.pipeline.PlanSettings` of the options."""
    from gridplan.balance import BalanceConfig
    from gridplan.partition import PartitionConfig
    from gridplan.plan.pipeline import PlanSettings
    from gridplan.plan.staff import StaffSettings

    return PlanSettings(
        cells=cells_config(args),
        partition=PartitionConfig(
            floors=floors,
            homogeneity={c: 1.0 for c in args.homogeneous},
            respect_districts=not args.cross_districts,
            respect_units=not args.cross_units,
            seed=args.seed,
            time_limit_s=args.time_limit,
        ),
        balance=BalanceConfig(
            tolerance=args.tolerance,
            seed=args.seed,
            time_limit=CLOCK_SAFETY * args.balance_time,
            work_limit=args.balance_time,
        ),
        n_managers=args.managers,
        team=team,
        managers_per_area=args.area_size,
        name=name,
        area_level=args.area_level,
        staff=StaffSettings(marketing_ratio=args.marketing_ratio),
    )


#: The partition's words for an option's column (see its column checks) -> the option.
_COLUMN_OPTIONS = {"used as floor": "--floor", "used as homogeneity attribute": "--homogeneous"}


def _option_words(err: GridplanError) -> GridplanError:
    """A missing floor or homogeneity column said under its option (the partition says
    "cells")."""
    if not isinstance(err, InputError):
        return err
    problems = []
    for p in err.problems:
        option = next((o for w, o in _COLUMN_OPTIONS.items() if w in p.what), None)
        if option is None or p.where != "cells":
            problems.append(p)
            continue
        fix = (
            f"give {option} a column of the cells: population, customers and spend (with "
            "--customers), coverage (with --sites)"
        )
        problems.append(Problem(p.what, option, fix))
    return InputError(problems)


def _layer_flags(err: GridplanError, args: argparse.Namespace) -> GridplanError:
    """The loader's problems about a layer file said under its option (``--boundary
    city.gpkg: file not found``)."""
    if not isinstance(err, InputError):
        return err
    paths = {
        str(getattr(args, kind)): kind for kind in KINDS if getattr(args, kind, None) is not None
    }
    problems = []
    for p in err.problems:
        kind = next((k for path, k in paths.items() if p.where.startswith(path)), None)
        where = p.where if kind is None else f"--{kind} {p.where}"
        problems.append(Problem(p.what, where, p.fix))
    return InputError(problems)


def run(args: argparse.Namespace) -> int:
    """Run ``gridplan run``; returns the exit status (0; 1 with --require-tolerance when
    the tolerance is missed)."""
    from gridplan.cli.demo import (
        print_headcount,
        print_organisation,
        print_summary,
        write_outputs,
    )
    from gridplan.layers.customers import customer_meta
    from gridplan.layers.read import load_layers
    from gridplan.layers.validate import ValidationReport
    from gridplan.plan.model import plan_headcount
    from gridplan.plan.pipeline import make_plan

    progress = StderrProgress(args.quiet)
    floors = _check_options(args)
    out_dir = check_output(args.out, "--out", kind="folder")
    team = _read_team(args.team) if args.team else None
    name = args.name or Path(args.out).resolve().name or "plan"
    settings = _settings(args, floors, team, name)  # the lattice too, before any layer is read
    report = ValidationReport()
    sources, columns = layer_sources(args)
    units = units_source(args)
    progress(0.0, "reading the layers")
    try:
        layers = load_layers(**sources, columns=columns, report=report, name=name)
    except GridplanError as err:
        raise _layer_flags(cli_words(err, args), args) from None
    layers = with_units(layers, units)
    _check_area_level(args, layers)
    print_warnings(report.warnings)
    if report.customers is not None:
        print("\n".join(report.customers.summary()))
    try:
        plan, made = make_plan(layers, settings, progress=progress)
    except GridplanError as err:
        raise _option_words(err) from None
    if report.customers is not None:  # the customer columns used, saved with the plan
        plan = plan.with_(meta={**plan.meta, **customer_meta(report.customers)})
    written = write_outputs(
        plan,
        made,
        out_dir,
        districts=layers.districts,
        exports=not args.skip_exports,
        progress=progress,
    )
    print_notes([*made["cells"]["notes"], *made["partition"]["notes"]])
    print_notes([n for n in made["balance"].get("notes", []) if n])
    print_summary(len(plan.cells), made, floors)
    print_headcount(plan_headcount(plan, settings.workload))
    print_organisation(plan)
    for path in written:
        print(f"wrote {path}")
    sys.stdout.flush()
    return tolerance_verdict(made["balance"], args.require_tolerance, "--balance-time")
