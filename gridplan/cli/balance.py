"""``gridplan balance``: assign units or grids to community managers.

Wire it into the main CLI with ``add_parser(subparsers)``; the parsed arguments go to
:func:`run`, which raises :class:`~gridplan.errors.GridplanError` for every bad input or
infeasible setting (``gridplan.cli.common.execute`` prints it and exits with status 2).
Examples::

    gridplan balance --units units.csv --id unit_id --x x --y y --weight population \\
        --managers 8 --tolerance 0.005 [--edges edges.csv] [--previous previous.csv] \\
        [--locks locks.csv] [--seed 0] [--time-limit 60] --out assignment.csv

    gridplan balance --grids grids.gpkg [--managers 12] --tolerance 0.03 \\
        [--areas 3 | --area-size 4] --out assignment.csv [--territories-out t.gpkg]

Inputs: ``units.csv`` has an id, coordinates and a weight column; ``edges.csv`` has
columns ``a,b`` (unit ids; without it the adjacency is the Delaunay triangulation of the
coordinates, or the shared boundaries of the grid polygons); ``previous.csv`` and
``locks.csv`` have the columns ``unit_id,manager`` (the id column may also carry the
``--id`` name). With ``--grids`` the workload is the ``--weight`` column (default
``hours_total``; computed from the customers with :func:`gridplan.workload.grid_workload`
when the layer has no such column) and ``--managers`` defaults to the headcount the
workload needs at ``--capacity`` hours/month per manager.

Outputs, each written atomically (a failed run leaves no file and no half-written file):
``assignment.csv`` with the columns ``unit_id,manager`` (the header is literally
``unit_id`` whatever ``--id`` is, plus ``area`` with ``--areas``/``--area-size``); the
quality report (``--report``, default the output name with ``.json``); with ``--grids``
a GeoPackage of territories (layer ``territories``, plus layer ``areas`` when grouped).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from gridplan.atomic import atomic_path
from gridplan.cli.common import (
    CLOCK_SAFETY,
    LazyHelpStore,
    StderrProgress,
    add_require_tolerance,
    check_output,
    execute,
    print_notes,
    tolerance_verdict,
)
from gridplan.errors import InfeasibleError, InputError, Problem

__all__ = ["add_parser", "main", "run"]

#: columns of the assignment table (a contract: other tools read them)
ASSIGNMENT_COLUMNS = ("unit_id", "manager")


def _weight_help() -> str:
    """Help of ``--weight``, naming the plan's workload column (``gridplan.plan.model.HOURS``)."""
    from gridplan.plan.model import HOURS

    return (
        "workload column, e.g. population or hours (required with --units; with "
        f"--grids default {HOURS}, the community managers' hours/month, computed from the "
        "customers when "
        "the layer has no such column)"
    )


def _capacity_help() -> str:
    """Help of ``--capacity``, with the default of :class:`gridplan.workload.WorkloadConfig`."""
    from gridplan.workload import WorkloadConfig

    c = WorkloadConfig(standards=())
    return (
        f"hours/month a manager spends on customers (default {c.capacity_h:g} = "
        f"{c.hours_per_month:g} h x {c.utilisation:g}), for the headcount when --managers is "
        "not given"
    )


def _capacity(args: argparse.Namespace) -> float:
    """``--capacity``, or the workload config's default (hours/month per manager)."""
    from gridplan.plan.steps import default_capacity_h

    return default_capacity_h() if args.capacity is None else args.capacity


def _add_search_options(p: argparse.ArgumentParser) -> None:
    """The options of the search itself: disruption caps against a previous plan, locks,
    seed, work budget, workers, and the grouping into areas."""
    p.add_argument("--previous", default=None, help="CSV unit_id,manager of the previous plan")
    p.add_argument(
        "--max-moved",
        type=int,
        default=None,
        help="with --previous: at most this many units/grids change manager",
    )
    p.add_argument(
        "--max-moved-hours",
        type=float,
        default=None,
        help="with --previous: at most this much workload (hours/month, or --weight units) "
        "changes manager",
    )
    p.add_argument("--locks", default=None, help="CSV unit_id,manager of units fixed to a manager")
    p.add_argument("--seed", type=int, default=0, help="random seed (same seed, same plan)")
    p.add_argument(
        "--time-limit",
        type=float,
        default=60.0,
        help="work budget for the whole run, areas included, in reference seconds "
        "(default 60): the search is bounded by work done, not by the clock, so the same "
        "inputs and seed give the same plan on any machine; it takes about that many "
        "seconds on a reference machine, and the clock stops it at "
        f"{CLOCK_SAFETY:g}× as a safety net (the run then says so and may differ "
        "between runs)",
    )
    p.add_argument("--workers", type=int, default=None, help="parallel searches (default 2)")
    areas = p.add_argument_group("areas").add_mutually_exclusive_group()
    areas.add_argument("--areas", type=int, default=None, help="group territories into N areas")
    areas.add_argument(
        "--area-size", type=int, default=None, help="group territories into areas of about S"
    )
    p.add_argument(
        "--area-tolerance",
        type=float,
        default=0.1,
        help="± share of the area workload target (default 0.1; areas hold whole territories)",
    )


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the ``balance`` sub-command to an argparse sub-parser set."""
    p = subparsers.add_parser(
        "balance",
        help="assign units or grids to managers: balanced, contiguous, few cut edges",
        description="Assign units (a CSV table) or grids (a polygon layer) to K community "
        "managers: every territory contiguous, its workload within ±tolerance of its "
        "target, few cut edges between territories; optionally keep locks, move little "
        "from a previous plan, and group the territories into areas. Writes the "
        "assignment (CSV unit_id,manager), a JSON quality report and, for grids, a "
        "GeoPackage of territories.",
    )
    src = p.add_argument_group("input (one of)").add_mutually_exclusive_group(required=True)
    src.add_argument("--units", help="CSV of units: an id, x/y coordinates and a weight column")
    src.add_argument(
        "--grids",
        help="polygon layer of grids (e.g. grids.gpkg from `gridplan partition`, any CRS)",
    )
    p.add_argument("--layer", help="layer name inside a multi-layer --grids file")
    p.add_argument(
        "--id", default=None, help="id column (default unit_id with --units, grid_id with --grids)"
    )
    p.add_argument("--x", default=None, help="x / longitude column of --units (for adjacency)")
    p.add_argument("--y", default=None, help="y / latitude column of --units")
    p.add_argument(
        "--weight",
        default=None,
        action=LazyHelpStore,
        help_text=_weight_help,
    )
    p.add_argument(
        "--standards",
        help="visit standards YAML used to compute hours/month (default: the bundled "
        "data/visit_standards.yaml)",
    )
    p.add_argument(
        "--managers",
        type=int,
        default=None,
        help="number of managers K (required with --units; with --grids default: the "
        "headcount the workload needs at --capacity)",
    )
    p.add_argument(
        "--team",
        default=None,
        help="with --grids: team CSV/XLSX with columns manager, capacity_h (hours/month, "
        "blank = --capacity), home_lon, home_lat (home base, degrees EPSG:4326, optional): "
        "one territory per row, named after it, sized by capacity, placed around the home",
    )
    p.add_argument(
        "--capacity",
        type=float,
        default=None,
        action=LazyHelpStore,
        help_text=_capacity_help,
    )
    p.add_argument(
        "--tolerance", type=float, default=0.03, help="± share of the target (default 0.03)"
    )
    p.add_argument(
        "--objective",
        choices=["cut_edges", "compactness", "both"],
        default="cut_edges",
        help="fewest cut edges (default), most compact, or both",
    )
    p.add_argument("--edges", default=None, help="CSV with columns a,b (ids of adjacent units)")
    p.add_argument(
        "--contiguity",
        choices=["rook", "queen"],
        default="rook",
        help="grids are neighbours when they share an edge (rook, default) or a corner too",
    )
    _add_search_options(p)
    add_require_tolerance(p)
    p.add_argument("--out", required=True, help="output CSV with columns unit_id,manager")
    p.add_argument("--report", default=None, help="quality report JSON (default: --out as .json)")
    p.add_argument(
        "--territories-out",
        default=None,
        help="territories GeoPackage with --grids (default: territories.gpkg beside --out)",
    )
    p.set_defaults(func=run)
    return p


# ---------------------------------------------------------------------------------------
# reading


def _problem(what: str, where: str, fix: str) -> InputError:
    return InputError(Problem(what, where, fix))


def _read_csv(path: str, option: str, *, text: bool = False) -> pd.DataFrame:
    """A CSV table as given to ``option``; every reading problem is an :class:`InputError`.

    Read by :func:`gridplan.layers.read.read_table` (UTF-8 with or without BOM, GB18030):
    the index holds the spreadsheet row numbers (the header is row 1). ``text`` reads
    every column as text (ids and manager names); otherwise ids that numbers would spoil
    (leading zeros, long digit strings) stay text and the other columns are inferred.
    """
    from gridplan.layers.read import _check_exists, _sniff, read_table

    p = Path(path)
    _check_exists(p)
    if p.is_dir():
        raise _problem("this is a folder, not a CSV file", str(p), f"give {option} a CSV file")
    desc, fits = _sniff(p)
    if desc.startswith("an empty file"):
        raise _problem("the file is empty", str(p), f"give {option} a CSV with a header row")
    if fits and fits not in (".csv", ".txt"):
        fix = "export the table as CSV (UTF-8) with a header row"
        if fits in (".gpkg", ".shp", ".fgb", ".geojson", ".kml", ".zip") and option == "--units":
            fix += ", or give a polygon layer of grids with --grids instead of --units"
        raise _problem(f"this is not a CSV table: it looks like {desc}", str(p), fix)
    return read_table(p, text=text)


def _rows(index: Sequence[Any], noun: str = "rows", limit: int = 5) -> str:
    shown = ", ".join(str(v) for v in list(index)[:limit])
    more = f" and {len(index) - limit} more" if len(index) > limit else ""
    return f"{noun} {shown}{more}"


def _missing_columns(df: pd.DataFrame, wanted: dict[str, str | None], where: str) -> list[Problem]:
    """One problem per option whose column is absent (``wanted``: option -> column)."""
    have = [str(c) for c in df.columns if c != "geometry"]
    problems = []
    for option, col in wanted.items():
        if col is not None and col not in df.columns:
            close = [c for c in have if c.lower() == col.lower()]
            fix = (
                f"did you mean {option} {close[0]}?"
                if close
                else f"give {option} one of the columns: {', '.join(have)}"
            )
            problems.append(Problem(f"no column {col!r} (named by {option})", where, fix))
    return problems


def _numeric(
    df: pd.DataFrame,
    col: str,
    option: str,
    where: str,
    labels: pd.Index,
    noun: str,
    *,
    weight: bool,
) -> tuple[np.ndarray, list[Problem]]:
    """Column ``col`` as floats, with a problem for text, blanks (and negatives for weights)."""
    raw = df[col]
    num = pd.to_numeric(raw, errors="coerce")
    blank = raw.isna().to_numpy()
    text = (num.isna().to_numpy()) & ~blank
    values = num.to_numpy(dtype=float)
    problems = []
    what = "weight" if weight else "coordinate"
    if text.any():
        sample = ", ".join(repr(str(v)) for v in raw[text].head(3))
        problems.append(
            Problem(
                f"{option} column {col!r} has {int(text.sum())} value(s) that are not numbers "
                f"(e.g. {sample}; {_rows(labels[text], noun)})",
                where,
                f"write each {what} as a plain number (no units, no thousands separators)",
            )
        )
    if blank.any():
        problems.append(
            Problem(
                f"{option} column {col!r} is empty in {int(blank.sum())} place(s) "
                f"({_rows(labels[blank], noun)})",
                where,
                "fill them in (0 for no workload)" if weight else "fill in every coordinate",
            )
        )
    ok = ~text & ~blank
    inf = ok & ~np.isfinite(np.where(ok, values, 0.0))
    if inf.any():
        problems.append(
            Problem(
                f"{option} column {col!r} has infinite values ({_rows(labels[inf], noun)})",
                where,
                "write finite numbers",
            )
        )
    if weight:
        neg = ok & ~inf & (np.where(ok, values, 0.0) < 0)
        if neg.any():
            problems.append(
                Problem(
                    f"{option} column {col!r} has {int(neg.sum())} negative weight(s) "
                    f"({_rows(labels[neg], noun)})",
                    where,
                    "a workload is zero or more",
                )
            )
        if not problems and len(values) and float(values.sum()) <= 0:
            problems.append(
                Problem(
                    f"every value of {option} column {col!r} is 0: nothing to balance",
                    where,
                    "give the column with the workload (hours, population, customers …)",
                )
            )
    return values, problems


def _check_ids(
    df: pd.DataFrame, col: str, option: str, where: str, noun: str = "rows"
) -> tuple[pd.Index, list[Problem]]:
    ids = df[col]
    problems = []
    blank = ids.isna().to_numpy()
    if blank.any():
        problems.append(
            Problem(
                f"{option} column {col!r} is empty in {int(blank.sum())} place(s) "
                f"({_rows(df.index[blank], noun)})",
                where,
                "give every unit an id",
            )
        )
    dup = ids[ids.duplicated(keep=False) & ~ids.isna()]
    if len(dup):
        shown = ", ".join(map(str, dict.fromkeys(dup.astype(str)).keys()))
        problems.append(
            Problem(
                f"duplicate ids in {col!r}: {shown[:200]}",
                where,
                "give every unit its own id (one row per unit)",
            )
        )
    return pd.Index(ids), problems


def _id_column(df: pd.DataFrame, id_col: str) -> str | None:
    for c in ("unit_id", id_col, "grid_id"):
        if c in df.columns:
            return c
    return None


def _plan_table(path: str, option: str, id_col: str, known: set[str]) -> dict[str, str] | None:
    """``previous.csv`` / ``locks.csv`` as {unit id (text): manager (text)}."""
    df = _read_csv(path, option, text=True)
    where = f"{option} {path}"
    col = _id_column(df, id_col)
    if col is None or "manager" not in df.columns:
        raise _problem(
            f"the table has columns {', '.join(map(str, df.columns))}",
            where,
            f"give the columns unit_id (or {id_col}) and manager, like the assignment "
            "`gridplan balance` writes",
        )
    df = df[[col, "manager"]]
    problems = []
    no_id = df[col].isna() & df["manager"].notna()
    if no_id.any():
        problems.append(
            Problem(f"a manager without a unit id ({_rows(df.index[no_id])})", where, "add the id")
        )
    df = df.dropna()  # a unit without a manager: not locked / not in the previous plan
    unknown = ~df[col].isin(known)
    if unknown.any():
        shown = ", ".join(map(repr, df.loc[unknown, col].head(5)))
        problems.append(
            Problem(
                f"{int(unknown.sum())} unit id(s) that are not in the units: {shown} "
                f"({_rows(df.index[unknown])})",
                where,
                "use the ids of the units / grids being balanced",
            )
        )
    clash = df.groupby(col)["manager"].nunique()
    clash = clash[clash > 1]
    if len(clash):
        problems.append(
            Problem(
                f"units given two different managers: {', '.join(map(repr, clash.index[:5]))}",
                where,
                "give each unit one manager",
            )
        )
    if problems:
        raise InputError(problems)
    return dict(zip(df[col], df["manager"], strict=True))


def _edge_table(path: str, ids: pd.Index) -> np.ndarray:
    """``edges.csv`` (columns a, b of unit ids) as index pairs (m, 2)."""
    df = _read_csv(path, "--edges", text=True)
    where = f"--edges {path}"
    if not {"a", "b"} <= set(df.columns):
        raise _problem(
            f"the table has columns {', '.join(map(str, df.columns))}",
            where,
            "give the columns a,b: one row per pair of adjacent units (their ids)",
        )
    pos = {str(v): i for i, v in enumerate(ids)}
    a = df["a"].map(pos)
    b = df["b"].map(pos)
    bad = a.isna() | b.isna()
    if bad.any():
        first = df.loc[bad, ["a", "b"]].iloc[0].tolist()
        raise _problem(
            f"{int(bad.sum())} edge(s) name unknown or empty unit ids, e.g. {first} "
            f"({_rows(df.index[bad.to_numpy()])})",
            where,
            "use ids of the units being balanced in both columns",
        )
    e = np.stack([a.to_numpy(np.int64), b.to_numpy(np.int64)], axis=1)
    return e[e[:, 0] != e[:, 1]]


# ---------------------------------------------------------------------------------------
# the run


@dataclass
class _Outcome:
    """What a run produced, before anything is written."""

    ids: np.ndarray
    managers: list[Any]  # manager per unit
    report: dict[str, Any]
    notes: list[str] = field(default_factory=list)
    territories: Any = None  # GeoDataFrame (grids only)
    areas: Any = None  # GeoDataFrame of areas (grids + areas only)
    area_of_unit: list[str] | None = None


@dataclass(frozen=True)
class _Paths:
    out: Path
    report: Path
    territories: Path | None


def _output_paths(args: argparse.Namespace) -> _Paths:
    """Check the output paths before the (long) solve."""
    out = Path(args.out)
    report = Path(args.report) if args.report else out.with_suffix(".json")
    territories = None
    problems = []
    if args.grids:
        territories = (
            Path(args.territories_out) if args.territories_out else out.parent / "territories.gpkg"
        )
        if territories.suffix.lower() != ".gpkg":
            problems.append(
                Problem(
                    f"{territories.name!r} is not a GeoPackage",
                    f"--territories-out {territories}",
                    "give a path ending in .gpkg",
                )
            )
    elif args.territories_out:
        problems.append(
            Problem(
                "a territories layer needs grid polygons",
                "--territories-out",
                "use --grids grids.gpkg, or leave --territories-out out with --units",
            )
        )
    paths = [("--out", out), ("--report", report)]
    if territories is not None:
        paths.append(("--territories-out", territories))
    for option, path in paths:
        if path.is_dir():
            problems.append(Problem("this is a folder", f"{option} {path}", "give a file name"))
            continue
        try:
            check_output(path, option)
        except InputError as err:
            problems.extend(err.problems)
    resolved = [p.resolve() for _, p in paths]
    if len(set(resolved)) < len(resolved):
        problems.append(
            Problem(
                "two outputs would go to the same file",
                ", ".join(f"{o} {p}" for o, p in paths),
                "give each output its own file name",
            )
        )
    if problems:
        raise InputError(problems)
    return _Paths(out, report, territories)


def _check_options(args: argparse.Namespace) -> None:
    problems = []
    if args.units and args.team:
        problems.append(
            Problem(
                "--team with --units",
                "--team",
                "give the grids as --grids grids.gpkg (or --managers K with --units)",
            )
        )
    if args.units and args.managers is None:
        problems.append(Problem("no number of managers", "--managers", "give --managers K"))
    if args.managers is not None and args.managers < 1:
        problems.append(
            Problem(f"{args.managers} managers", "--managers", "give a whole number of 1 or more")
        )
    if not 0 <= args.tolerance < 1:
        fix = "give a share between 0 and 1, e.g. 0.03 for ±3 %"
        if 1 <= args.tolerance < 100:
            fix += f" ({args.tolerance:g} % is {args.tolerance / 100:g})"
        problems.append(Problem(f"tolerance {args.tolerance:g}", "--tolerance", fix))
    caps = (("--max-moved", args.max_moved), ("--max-moved-hours", args.max_moved_hours))
    for option, value in caps:
        if value is not None and (value < 0 or not args.previous):
            fix = "give 0 or more" if value < 0 else "give --previous previous.csv with it"
            problems.append(Problem(f"{option} {value:g}", option, fix))
    if not 0 <= args.area_tolerance < 1:
        problems.append(
            Problem(
                f"area tolerance {args.area_tolerance:g}",
                "--area-tolerance",
                "give a share between 0 and 1, e.g. 0.1",
            )
        )
    if not args.time_limit > 0:
        problems.append(
            Problem(f"time limit {args.time_limit:g}", "--time-limit", "give seconds > 0")
        )
    if args.workers is not None and args.workers < 1:
        problems.append(Problem(f"{args.workers} workers", "--workers", "give 1 or more"))
    if args.capacity is not None and args.capacity <= 0:
        problems.append(
            Problem(f"capacity {args.capacity:g} h/month", "--capacity", "give hours > 0")
        )
    for option, value in (("--areas", args.areas), ("--area-size", args.area_size)):
        if value is not None and value < 1:
            problems.append(Problem(f"{option} {value}", option, "give a whole number >= 1"))
    if args.units:
        if (args.x is None) != (args.y is None):
            problems.append(
                Problem("only one coordinate column", "--x/--y", "give both --x and --y")
            )
        if args.x is None and args.edges is None:
            problems.append(
                Problem(
                    "no adjacency: neither coordinates nor edges",
                    f"--units {args.units}",
                    "give --x and --y (the adjacency is then the Delaunay triangulation) "
                    "or --edges edges.csv",
                )
            )
        if args.weight is None:
            problems.append(
                Problem(
                    "no weight column",
                    "--weight",
                    "give the column with each unit's workload, e.g. --weight population",
                )
            )
    if problems:
        raise InputError(problems)


def _split_time(args: argparse.Namespace) -> tuple[float, float]:
    """Seconds for the territories and for the areas (the areas get a fifth, ≤ 20 s)."""
    if args.areas is None and args.area_size is None:
        return args.time_limit, 0.0
    areas = min(20.0, 0.2 * args.time_limit)
    return args.time_limit - areas, areas


def _main_progress(
    progress: Callable[[float, str], None], t_areas: float
) -> Callable[[float, str], None]:
    from gridplan.progress import scaled

    return scaled(progress, 0.0, 0.9) if t_areas else progress


def _run_units(args: argparse.Namespace, progress: Callable[[float, str], None]) -> _Outcome:
    from gridplan.balance import balance_units_table, delaunay_edges

    id_col = args.id or "unit_id"
    units = _read_csv(args.units, "--units")
    where = f"--units {args.units}"
    if units.empty:
        raise _problem("the table has no rows", where, "give one row per unit")
    problems = _missing_columns(
        units, {"--id": id_col, "--weight": args.weight, "--x": args.x, "--y": args.y}, where
    )
    if problems:
        raise InputError(problems)
    ids, problems = _check_ids(units, id_col, "--id", where)
    _w, more = _numeric(units, args.weight, "--weight", where, units.index, "rows", weight=True)
    problems += more
    xs = ys = None
    if args.x is not None:
        xs, more = _numeric(units, args.x, "--x", where, units.index, "rows", weight=False)
        problems += more
        ys, more = _numeric(units, args.y, "--y", where, units.index, "rows", weight=False)
        problems += more
    if problems:
        raise InputError(problems)
    notes: list[str] = []
    known = {str(v) for v in ids}
    if args.edges:
        edges = _edge_table(args.edges, ids)
    else:
        edges = delaunay_edges(xs, ys)
        notes.append(f"no --edges: the adjacency is the Delaunay triangulation of {len(ids)} units")
    previous = _plan_table(args.previous, "--previous", id_col, known) if args.previous else None
    locks = _plan_table(args.locks, "--locks", id_col, known) if args.locks else None
    table = units.assign(**{args.weight: _w})
    t_main, t_areas = _split_time(args)
    id_values = ids.to_numpy()
    edge_ids = pd.DataFrame({"a": id_values[edges[:, 0]], "b": id_values[edges[:, 1]]})
    out = balance_units_table(
        table, id_col, args.x, args.y, args.weight, args.managers, tolerance=args.tolerance,
        edges=edge_ids, previous=previous, locks=locks, seed=args.seed,
        time_limit=CLOCK_SAFETY * t_main, work_limit=t_main,
        progress=_main_progress(progress, t_areas), objective=args.objective,
        workers=args.workers, max_moved=args.max_moved, max_moved_weight=args.max_moved_hours,
    )  # fmt: skip
    report = out.attrs["report"]
    notes += list(out.attrs.get("notes", []))
    outcome = _Outcome(ids=id_values, managers=out["manager"].tolist(), report=report, notes=notes)
    if t_areas:
        order = {str(t["manager"]): d for d, t in enumerate(report["territories"])}
        labels = np.array([order[str(m)] for m in outcome.managers], dtype=np.int64)
        weights = np.array([t["weight"] for t in report["territories"]], dtype=float)
        area_of_territory, area_report = _group_areas(
            labels, edges, weights, args, t_areas, progress
        )
        outcome.area_of_unit = [area_of_territory[d] for d in labels]
        report["areas"] = area_report
    return outcome


def _group_areas(
    labels: np.ndarray,
    edges: np.ndarray,
    territory_weights: np.ndarray,
    args: argparse.Namespace,
    time_limit: float,
    progress: Callable[[float, str], None],
) -> tuple[list[str], dict[str, Any]]:
    """Area name per territory and the area report (dict) for ``--areas``/``--area-size``."""
    from gridplan.balance import group_into_areas

    n_terr = territory_weights.size
    n_areas = args.areas if args.areas is not None else math.ceil(n_terr / args.area_size)
    option = "--areas" if args.areas is not None else "--area-size"
    if n_areas > n_terr:
        raise _problem(
            f"{n_areas} areas but only {n_terr} territories",
            option,
            f"use at most {n_terr} areas (an area holds whole territories)",
        )
    progress(0.95, f"grouping {n_terr} territories into {n_areas} areas")
    try:
        res = group_into_areas(
            labels, edges, territory_weights, n_areas=n_areas, tolerance=args.area_tolerance,
            seed=args.seed, time_limit=CLOCK_SAFETY * max(0.5, time_limit),
            work_limit=max(0.5, time_limit),
        )  # fmt: skip
    except InfeasibleError as exc:
        raise InfeasibleError(
            f"grouping {n_terr} territories (the units here) into {n_areas} areas (the "
            f"managers here): {exc}"
        ) from exc
    names = [f"A{i + 1:02d}" for i in range(n_areas)]
    report = res.report.to_dict()
    for t in report["territories"]:
        t["manager"] = names[int(t["manager"])]
    return [names[int(a)] for a in res.labels], report


def _grid_hours(grids: Any, args: argparse.Namespace, where: str) -> str:
    """Add the ``hours_total`` column (the community manager's hours/month) computed from
    the grids' customers and population with the visit standards; returns the note."""
    from gridplan.plan.model import HOURS
    from gridplan.workload import default_workload_config, grid_workload, load_visit_standards

    config = load_visit_standards(args.standards) if args.standards else None
    hours = grid_workload(grids, config or default_workload_config())
    if float(hours[HOURS].sum()) <= 0:
        raise _problem(
            f"no {HOURS!r} column, and no customers or population to compute it "
            "from (cust_* counts, population, households)",
            where,
            "give --weight COLUMN with the workload, or grids from `gridplan partition` "
            "(they carry the customer counts)",
        )
    grids[HOURS] = hours[HOURS].to_numpy()
    return (
        f"computed {HOURS} (the community managers' hours/month) from the customers and "
        f"population with the visit standards of {args.standards or 'data/visit_standards.yaml'}"
    )


def _read_grids(
    args: argparse.Namespace, id_col: str, weight: str, progress: Callable[[float, str], None]
) -> tuple[Any, pd.Index, np.ndarray, list[str]]:
    """The ``--grids`` layer (local UTM, metres), its checked ids, the workload per grid
    and the notes; hours/month are computed when the default weight column is absent."""
    from gridplan.layers.read import read_polygon_cells
    from gridplan.plan.model import HOURS

    where = f"--grids {args.grids}"
    progress(0.0, f"reading {args.grids}")
    grids = read_polygon_cells(args.grids, id_col, layer=args.layer)
    if grids.empty:
        raise _problem("the layer has no grids", where, "give a layer with grid polygons")
    notes: list[str] = []
    if weight not in grids.columns:
        if weight != HOURS:
            raise InputError(_missing_columns(grids, {"--weight": weight}, where))
        notes.append(_grid_hours(grids, args, where))
    labels_idx = pd.Index(grids[id_col].astype(str))
    ids, problems = _check_ids(grids, id_col, "--id", where, "features (0-based)")
    w, more = _numeric(grids, weight, "--weight", where, labels_idx, f"{id_col}", weight=True)
    problems += more
    if problems:
        raise InputError(problems)
    return grids, ids, w, notes


def _grid_edges(
    args: argparse.Namespace, grids: Any, ids: pd.Index, progress: Callable[[float, str], None]
) -> tuple[np.ndarray, list[str]]:
    """Grid adjacency pairs (``--edges`` or the polygons' ``--contiguity``), islands
    linked to their nearest grid, and the notes."""
    from gridplan.balance import _link_islands, geometry_adjacency

    notes: list[str] = []
    n = len(grids)
    if args.edges:
        edges = _edge_table(args.edges, ids)
    else:
        progress(0.02, f"linking {n:,} grids ({args.contiguity} adjacency)")
        edges = geometry_adjacency(grids.geometry, args.contiguity)
        notes.append(f"built {args.contiguity} adjacency from the grid polygons")
    pts = grids.geometry.representative_point()
    edges, linked = _link_islands(
        n, edges, pts.x.to_numpy(float), pts.y.to_numpy(float), crs=grids.crs, ids=ids
    )
    return edges, notes + list(linked)


def _team(
    args: argparse.Namespace,
    w: np.ndarray,
    weight: str,
    named: Sequence[str],
) -> tuple[list[str], list[str]]:
    """Manager names (those ``named`` in --previous/--locks first, then M01, M02 …) and
    the notes; K is ``--managers`` or the headcount at ``--capacity`` hours/month."""
    from gridplan.plan.model import HOURS
    from gridplan.workload import suggest_headcount

    notes: list[str] = []
    k = args.managers
    if k is None:
        capacity = _capacity(args)
        head = suggest_headcount(pd.Series(w), capacity)
        k = int(head.loc["city", "managers"])
        unit = " h/month" if weight == HOURS else ""
        notes.append(
            f"{k} managers: the workload {w.sum():,.1f}{unit} at {capacity:g}{unit} per "
            f"manager (utilisation {head.loc['city', 'utilisation']:.0%}); give --managers "
            "to choose"
        )
    seen = list(dict.fromkeys(named))
    if len(seen) > k:
        raise _problem(
            f"{len(seen)} managers named in --previous/--locks but K = {k}",
            "--managers",
            f"give --managers {len(seen)} or more",
        )
    names = seen + [nm for i in range(k) if (nm := f"M{i + 1:02d}") not in seen][: k - len(seen)]
    return names, notes


def _team_file(
    args: argparse.Namespace, crs: Any, named: Sequence[str]
) -> tuple[pd.DataFrame, list[str]]:
    """The managers of ``--team`` (:func:`gridplan.layers.team.read_team`) as the
    balance table ``name, capacity_h, home_x, home_y`` (capacities in hours/month, blank =
    ``--capacity``; homes from degrees to the grids' CRS, metres) and the notes. K is the
    number of rows; ``--managers`` must agree and --previous/--locks name only them."""
    from pyproj import Transformer

    from gridplan.layers.team import read_team, split_team

    team, _ = split_team(read_team(args.team))  # the community managers (role column)
    where = f"--team {args.team}"
    if team.empty:
        raise _problem("the team table has no rows", where, "give one row per manager")
    k = len(team)
    if args.managers is not None and args.managers != k:
        raise _problem(
            f"--managers {args.managers} but the team table lists {k} managers",
            "--managers / --team",
            f"drop --managers (K = the {k} rows) or give --managers {k}",
        )
    names = team["manager"].astype(str).tolist()
    unknown = sorted({str(m) for m in named} - set(names))
    if unknown:
        raise _problem(
            f"manager(s) {', '.join(unknown[:5])} of --previous/--locks are not in the team",
            where,
            "add them to the team table or use the team's names",
        )
    cap = team["capacity_h"].fillna(_capacity(args)).to_numpy(float)
    out = pd.DataFrame({"name": names, "capacity_h": cap})
    has = team["home_lon"].notna() & team["home_lat"].notna()
    notes = [f"{k} managers from {args.team}"]
    if has.any():
        tr = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
        x, y = tr.transform(
            team["home_lon"].fillna(0).to_numpy(float), team["home_lat"].fillna(0).to_numpy(float)
        )
        out["home_x"] = np.where(has, x, np.nan)
        out["home_y"] = np.where(has, y, np.nan)
        notes[0] += f", {int(has.sum())} with a home base"
    return out, notes


def _areas_layer(territories: Any, grids: Any, area_of: dict[str, str]) -> Any:
    """The ``areas`` layer: the grids (workload in column ``HOURS``) dissolved by the area
    of their manager (:func:`gridplan.plan.model.areas`) with ``workload``, ``n_grids``
    and ``territories`` (managers with grids)."""
    from gridplan.plan.model import Plan, areas

    team = pd.DataFrame({"manager": territories["manager"].to_numpy()})
    team["area"] = team["manager"].map(area_of)
    plan = Plan(name="balance", cells=grids.iloc[:0], grids=grids, managers=team)
    out = areas(plan).rename(columns={"hours": "workload", "n_managers": "territories"})
    return out[["area", "geometry", "workload", "n_grids", "territories"]]


def _run_grids(args: argparse.Namespace, progress: Callable[[float, str], None]) -> _Outcome:
    from gridplan.balance import BalanceConfig, balance_grids
    from gridplan.graph import csr_from_edges
    from gridplan.plan.model import HOURS

    id_col = args.id or "grid_id"
    weight = args.weight or HOURS
    grids, ids, w, notes = _read_grids(args, id_col, weight, progress)
    edges, more = _grid_edges(args, grids, ids, progress)
    notes += more
    known = {str(v) for v in ids}
    previous = _plan_table(args.previous, "--previous", id_col, known) if args.previous else None
    locks = _plan_table(args.locks, "--locks", id_col, known) if args.locks else None
    named = [*(previous or {}).values(), *(locks or {}).values()]
    if args.team:
        managers, more = _team_file(args, grids.crs, named)
        names = managers["name"].tolist()
    else:
        names, more = _team(args, w, weight, named)
        managers = pd.DataFrame({"name": names})
    notes += more
    table = grids.drop(columns=["grid_id"], errors="ignore").assign(grid_id=ids.astype(str))
    table[weight] = w
    t_main, t_areas = _split_time(args)
    cfg = BalanceConfig(
        tolerance=args.tolerance, objective=args.objective, weight_column=weight,
        n_managers=len(names), seed=args.seed, time_limit=CLOCK_SAFETY * t_main,
        work_limit=t_main, workers=args.workers,
        adjacency=args.contiguity, max_moved=args.max_moved,
        max_moved_weight=args.max_moved_hours,
    )  # fmt: skip
    res = balance_grids(
        table,
        csr_from_edges(len(grids), edges),
        cfg,
        managers=managers,
        locks=locks,
        previous=previous,
        progress=_main_progress(progress, t_areas),
    )
    report = res.report.to_dict()
    notes += [nt for nt in res.report.notes if nt not in notes]
    outcome = _Outcome(
        ids=grids[id_col].to_numpy(),
        managers=res.assignment.tolist(),
        report=report,
        notes=notes,
        territories=res.territories,
    )
    if t_areas:
        weights = np.array([t["weight"] for t in report["territories"]], dtype=float)
        area_of_territory, report["areas"] = _group_areas(
            res.labels, edges, weights, args, t_areas, progress
        )
        outcome.area_of_unit = [area_of_territory[d] for d in res.labels]
        area_of = {m: area_of_territory[names.index(m)] for m in outcome.territories["manager"]}
        outcome.territories["area"] = outcome.territories["manager"].map(area_of)
        grid_layer = table[["geometry"]].assign(manager=outcome.managers, **{HOURS: w})
        outcome.areas = _areas_layer(outcome.territories, grid_layer, area_of)
    return outcome


def _write_outputs(outcome: _Outcome, paths: _Paths) -> list[Path]:
    """Write every output atomically; on any failure none of them is replaced."""
    table = pd.DataFrame(
        {ASSIGNMENT_COLUMNS[0]: outcome.ids, ASSIGNMENT_COLUMNS[1]: outcome.managers}
    )
    if outcome.area_of_unit is not None:
        table["area"] = outcome.area_of_unit
    writers: list[tuple[Path, Callable[[Path], None]]] = [
        (paths.out, lambda tmp: table.to_csv(tmp, index=False)),
        (
            paths.report,
            lambda tmp: tmp.write_text(json.dumps(outcome.report, indent=2), encoding="utf-8"),
        ),
    ]
    if paths.territories is not None and outcome.territories is not None:

        def write_layers(tmp: Path) -> None:
            outcome.territories.to_file(tmp, layer="territories", driver="GPKG")
            if outcome.areas is not None:
                outcome.areas.to_file(tmp, layer="areas", driver="GPKG")

        writers.append((paths.territories, write_layers))
    current: Path | None = None
    try:
        with contextlib.ExitStack() as stack:
            for target, write in writers:
                current = target
                write(stack.enter_context(atomic_path(target)))
            current = None
    except OSError as exc:
        where = str(current) if current else ", ".join(str(t) for t, _ in writers)
        raise _problem(
            f"cannot write the output ({exc.strerror or exc})",
            where,
            "check that the folder is writable and the disk has space; no output was written",
        ) from exc
    return [t for t, _ in writers]


def _clock_stopped(rep: dict[str, Any]) -> bool:
    """True when the wall clock, not the work budget, ended the territories or areas."""
    parts = [rep, *(rep.get("stats", {}) or {}).get("parts", [])]
    if "areas" in rep:
        parts.append(rep["areas"])
    return any(str(p.get("stopped_by", "")) == "time" for p in parts)


def run(args: argparse.Namespace) -> int:
    """Run the balance sub-command (0 on success); raises GridplanError on bad input."""
    _check_options(args)
    paths = _output_paths(args)
    progress = StderrProgress(getattr(args, "quiet", False))
    outcome = _run_grids(args, progress) if args.grids else _run_units(args, progress)
    written = _write_outputs(outcome, paths)
    rep = outcome.report
    print_notes([n for n in outcome.notes if not n.startswith(_MISSED)])
    if _clock_stopped(rep):
        print(
            f"note: the safety clock ({CLOCK_SAFETY:g}× --time-limit) stopped the search "
            "before its work budget: this plan depends on the machine's speed and load, "
            "and another run with the same seed may differ",
            file=sys.stderr,
        )
    if "areas" in rep:
        a = rep["areas"]
        if not a["within_tolerance"]:
            print(
                f"note: the areas miss their tolerance: max deviation {a['max_deviation']:.2%} "
                f"> ±{a['tolerance']:.2%} (areas hold whole territories); raise "
                "--area-tolerance or choose another --areas / --area-size",
                file=sys.stderr,
            )
        if not a["contiguous"]:
            print("note: some areas are in several pieces", file=sys.stderr)
    print(
        f"{rep['n_units']:,} units -> {rep['n_managers']} managers: max deviation "
        f"{rep['max_deviation']:.2%} (tolerance ±{rep['tolerance']:.2%}), cut edges "
        f"{rep['cut_edges']:,} of {rep['total_edges']:,}, contiguous "
        f"{'yes' if rep['contiguous'] else 'NO'}"
        + (f", moved {rep['moved_units']:,} vs --previous" if args.previous else "")
    )
    if "areas" in rep:
        a = rep["areas"]
        print(
            f"{a['n_units']} territories -> {a['n_managers']} areas: max deviation "
            f"{a['max_deviation']:.2%}, contiguous {'yes' if a['contiguous'] else 'NO'}"
        )
    labels = {paths.out: "assignment", paths.report: "quality report"}
    if paths.territories is not None:
        layers = "territories" + (" and areas" if outcome.areas is not None else "")
        labels[paths.territories] = f"{layers} layer{'s' if outcome.areas is not None else ''}"
    for path in written:
        print(f"wrote the {labels[path]} to {path}")
    # a missed tolerance is the last line the command prints
    return tolerance_verdict(rep, getattr(args, "require_tolerance", False))


#: how the report's note on a missed tolerance starts (the command's last line says it)
_MISSED = "the plan misses the tolerance"


def main(argv: list[str] | None = None) -> int:
    """Stand-alone entry: ``python -m gridplan.cli.balance --units …`` (same as
    ``gridplan balance …``: same messages and exit codes)."""
    parser = argparse.ArgumentParser(prog="gridplan")
    parser.add_argument("--quiet", action="store_true", help="no progress messages")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    add_parser(sub)
    args = parser.parse_args(["balance", *(sys.argv[1:] if argv is None else argv)])
    return execute(args.command, args.func, args)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
