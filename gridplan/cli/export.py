"""``gridplan export``: write a saved plan in the formats area teams use.

Wire it into the main CLI with ``add_parser(subparsers)``. Examples::

    gridplan export --plan plan.gpkg --format pdf --out book.pdf
    gridplan export --plan plan.gpkg --format all --by area --out exports/
    gridplan export --plan plan.gpkg --format csv --previous last_month.gpkg \\
        --aggregates-only --min-count 5 --out lists/
    gridplan export --plan plan.gpkg --team-zips --out zips/

Every bad input (unknown format, missing or unreadable plan, an output path that
cannot be used) is a :class:`~gridplan.errors.GridplanError`:
``gridplan.cli.common.execute`` prints it and exits with status 2. Writes are atomic.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from gridplan.cli.common import LazyHelpStore, StderrProgress, check_output
from gridplan.errors import InputError, Problem


def _format_help() -> str:
    from gridplan.export.formats import FORMATS

    return f"one of {', '.join(FORMATS)} or all (default gpkg)"


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the ``export`` sub-command to an argparse sub-parser set (the format list of
    ``--format`` is read when help is printed: building the parser stays light)."""
    p = subparsers.add_parser(
        "export",
        help="write a plan as GeoPackage, GeoJSON, Shapefile, KML, GeoParquet, CSV, XLSX, "
        "interactive HTML map or PDF/PNG map book",
        description="Write a saved plan (.gpkg from the app, `gridplan demo` or save_plan) "
        "in one format or all, for the whole city or one file set per area or manager; "
        "with hand-over lists against a previous plan and a privacy switch for teams that "
        "must not receive customer-level data.",
    )
    p.add_argument("--plan", required=True, help="the plan GeoPackage (.gpkg)")
    p.add_argument(
        "--format",
        default="gpkg",
        metavar="FORMAT",
        action=LazyHelpStore,
        help_text=_format_help,
    )
    p.add_argument(
        "--by", default=None, metavar="area|manager", help="one file set per area or manager"
    )
    p.add_argument(
        "--out",
        required=True,
        help="output file (ending in the format's extension) or folder (created)",
    )
    p.add_argument("--previous", help="an earlier plan (.gpkg): add the hand-over lists")
    p.add_argument(
        "--aggregates-only",
        action="store_true",
        help="no customer-level rows (per-grid figures only)",
    )
    p.add_argument(
        "--min-count",
        type=int,
        default=0,
        metavar="N",
        help="blank customer counts below N (and their spend) in every figure (default 0)",
    )
    p.add_argument("--language", default="en", help="map and map book language: en or zh")
    p.add_argument(
        "--tiles",
        default=None,
        metavar="URL",
        help="basemap tile URL template of an internal tile server for the HTML map, e.g. "
        "https://tiles.intra/{z}/{x}/{y}.png (default: no tiles, boundaries only)",
    )
    p.add_argument(
        "--team-zips",
        action="store_true",
        help="write one zip per area team holding its slice of every format (into --out)",
    )
    p.set_defaults(func=run)
    return p


def _check_options(args: argparse.Namespace, fmt: str) -> None:
    """Every problem of the options at once, before a plan is read."""
    from gridplan.export.formats import FORMATS

    problems = []
    if fmt not in (*FORMATS, "all"):
        problems.append(
            Problem(
                f"unknown format {args.format!r}",
                "--format",
                f"use one of {', '.join(FORMATS)} or all",
            )
        )
    if args.by not in (None, "area", "manager"):
        problems.append(Problem(f"cannot split by {args.by!r}", "--by", "use area or manager"))
    if args.min_count < 0:
        problems.append(Problem("a negative count", "--min-count", "give 0 or more"))
    if args.language not in ("en", "zh"):
        problems.append(Problem(f"unknown language {args.language!r}", "--language", "en or zh"))
    if args.team_zips and (args.by or fmt not in ("all", "gpkg")):
        problems.append(
            Problem(
                "--team-zips writes every format per area by itself",
                "--team-zips",
                "drop --by and --format",
            )
        )
    if args.tiles is not None and "{" not in args.tiles:
        problems.append(
            Problem(
                f"{args.tiles!r} is not a tile URL template",
                "--tiles",
                "give a template with {z}/{x}/{y}, e.g. https://tiles.intra/{z}/{x}/{y}.png",
            )
        )
    for option, path in (("--plan", args.plan), ("--previous", args.previous)):
        if path is not None and not Path(path).is_file():
            problems.append(
                Problem(f"no plan file {path!r}", option, "give the path of a saved plan .gpkg")
            )
    if problems:
        raise InputError(problems)


def run(args: argparse.Namespace) -> int:
    """Run ``gridplan export``; returns the exit status (0)."""
    from gridplan.export.formats import export_all, export_plan, team_zips
    from gridplan.maps import OFFLINE, MapSettings
    from gridplan.plan.model import load_plan
    from gridplan.plan.privacy import PrivacySettings

    fmt = str(args.format).lower()
    _check_options(args, fmt)
    check_output(args.out, "--out", kind="any")  # a file or a folder, per the format
    progress = StderrProgress(args.quiet)
    plan = load_plan(args.plan)
    previous = load_plan(args.previous) if args.previous else None
    settings = (
        OFFLINE
        if args.tiles is None
        else MapSettings(assets="local", tiles=args.tiles, attribution="internal tile server")
    )
    options = {
        "previous": previous,
        "privacy": PrivacySettings(aggregates_only=args.aggregates_only, min_count=args.min_count),
        "language": args.language,
        "map_settings": settings,
        "progress": progress,
    }
    if args.team_zips:
        written = team_zips(plan, args.out, **options)
    elif fmt == "all":
        written = export_all(plan, args.out, by=args.by, **options)
    else:
        written = export_plan(plan, fmt, args.out, by=args.by, **options)
    for path in written:
        print(f"wrote {path}")
    return 0
