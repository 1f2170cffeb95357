"""``gridplan batch``: plan every city of a province manifest on Dask.

Wire it into the main CLI with ``add_parser(subparsers)``. Examples::

    gridplan batch --manifest province.yaml --out province/
    gridplan batch --manifest province.yaml --out province/ --workers 2 --skip-exports
    gridplan batch --manifest province.yaml --out /shared/province --scheduler tcp://10.0.0.5:8786

A bad manifest is one :class:`~gridplan.errors.InputError` listing every problem
(``gridplan.cli.main`` prints it and exits with status 2) before any city runs. A city
that fails is reported with its message and the others go on; the exit status is then
1. A re-run skips the cities already complete.
"""

from __future__ import annotations

import argparse
import sys

from gridplan.errors import InputError, Problem

#: Exit status when some cities failed (the others are complete).
EXIT_SOME_FAILED = 1


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the ``batch`` sub-command to an argparse sub-parser set."""
    p = subparsers.add_parser(
        "batch",
        help="plan every city of a province manifest (YAML) as Dask tasks",
        description="Plan every city of a manifest (cells → partition → workload → balance "
        "→ areas → exports) as Dask tasks, on a LocalCluster of this machine or a Dask "
        "scheduler. Each city is written atomically to OUT/<city>/ with DONE.json last; "
        "complete cities are skipped on a re-run; a failed city does not stop the others. "
        "Ends with OUT/province_summary.csv/.xlsx and OUT/province_map.html.",
    )
    p.add_argument("--manifest", required=True, help="the province manifest (YAML)")
    p.add_argument("--out", required=True, help="output folder (one sub-folder per city)")
    where = p.add_mutually_exclusive_group()
    where.add_argument(
        "--scheduler",
        metavar="tcp://HOST:PORT",
        help="address of a running Dask scheduler (every worker must see the data paths)",
    )
    where.add_argument(
        "--workers",
        type=int,
        default=None,
        metavar="N",
        help="worker processes of the local cluster, one thread each "
        "(default: one per core, at most one per city)",
    )
    p.add_argument(
        "--skip-exports",
        action="store_true",
        help="do not write every export format per city (map book, GIS and office files)",
    )
    p.add_argument("--seed", type=int, default=None, help="random seed of every city")
    p.add_argument(
        "--time-limit",
        type=float,
        default=None,
        metavar="SECONDS",
        help="balance time limit per city (overrides the manifest's time_limit)",
    )
    p.add_argument(
        "--quiet", action="store_true", default=argparse.SUPPRESS, help="no progress messages"
    )
    p.set_defaults(func=run)
    return p


def _overrides(args: argparse.Namespace) -> dict[str, object]:
    problems = []
    if args.workers is not None and args.workers < 1:
        problems.append(Problem(f"{args.workers} workers", "--workers", "give 1 or more"))
    if args.time_limit is not None and not args.time_limit > 0:
        problems.append(Problem("a time limit <= 0", "--time-limit", "give seconds > 0, e.g. 20"))
    if args.seed is not None and args.seed < 0:
        problems.append(Problem("a negative seed", "--seed", "give 0 or more"))
    if args.scheduler is not None and "://" not in args.scheduler:
        problems.append(
            Problem(
                f"{args.scheduler!r} is not an address", "--scheduler", "e.g. tcp://10.0.0.5:8786"
            )
        )
    if problems:
        raise InputError(problems)
    out: dict[str, object] = {}
    if args.seed is not None:
        out["seed"] = args.seed
    if args.time_limit is not None:
        out["time_limit"] = args.time_limit
    return out


def run(args: argparse.Namespace) -> int:
    """Run ``gridplan batch``; returns the exit status (0, or 1 when a city failed)."""
    from gridplan.batch.manifest import load_manifest
    from gridplan.batch.runner import run_batch

    overrides = _overrides(args)
    manifest = load_manifest(args.manifest, overrides=overrides)
    quiet = bool(getattr(args, "quiet", False))

    def echo(message: str) -> None:
        if not quiet:
            print(message, file=sys.stderr, flush=True)

    result = run_batch(
        manifest,
        args.out,
        scheduler=args.scheduler,
        workers=args.workers,
        skip_exports=args.skip_exports,
        echo=echo,
    )
    for row in result.failed:
        print(f"gridplan batch: {row['city']} failed: {row['error']}", file=sys.stderr)
    for path in result.written:
        print(f"wrote {path}")
    return EXIT_SOME_FAILED if result.failed else 0
