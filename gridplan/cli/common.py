"""What every ``gridplan`` command shares: progress on stderr, exit statuses, notes,
``--floor`` parsing, the lattice options, atomic GeoPackage writes, and the mapping of
the engine's parameter names to the command line's flags in error messages.

Kept light: importing it loads no pandas, geopandas, OR-Tools or folium.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from gridplan.errors import GridplanError, InputError, Problem

__all__ = [
    "CLOCK_SAFETY",
    "CONTIGUITY_HELP",
    "EXIT_BAD_INPUT",
    "EXIT_INTERNAL",
    "EXIT_INTERRUPTED",
    "EXIT_TOLERANCE_MISSED",
    "FLAGS",
    "REQUIRE_TOLERANCE_HELP",
    "LazyHelpStore",
    "StderrProgress",
    "add_cells_options",
    "add_require_tolerance",
    "cells_config",
    "check_output",
    "check_share",
    "execute",
    "gpkg_out",
    "missed_tolerance_line",
    "parse_floors",
    "positive",
    "print_notes",
    "print_warnings",
    "reachable_tolerance",
    "tolerance_verdict",
    "with_flags",
    "write_layer",
]

EXIT_BAD_INPUT = 2

#: the balance's ``--time-limit`` is a work budget (reference seconds, reproducible);
#: the wall clock stops the search at this multiple of it, as a safety net only
CLOCK_SAFETY = 3.0

#: metres of shared boundary above which two polygons are rook neighbours (kept equal to
#: ``gridplan.cells.polygon_graph.DEFAULT_MIN_SHARED_M``, not imported: ``--help`` stays light)
MIN_SHARED_M = 1.0


def contiguity_help(what: str) -> str:
    """The ``--contiguity`` help: the adjacency rule in metres."""
    return (
        f"{what} are neighbours when they share more than {MIN_SHARED_M:g} m of boundary "
        "(rook, default) or also when they touch at a corner (queen)"
    )


CONTIGUITY_HELP = contiguity_help("cells")
EXIT_INTERNAL = 3
EXIT_INTERRUPTED = 130

#: engine parameter name -> the command-line flag that sets it (for error messages)
FLAGS: Mapping[str, str] = {
    "format": "--format",
    "layer": "--layer",
    "fmt": "--format",
    "out": "--out",
    "by": "--by",
    "language": "--language",
    "min_count": "--min-count",
    "previous": "--previous",
    "locks": "--locks",
    "tolerance": "--tolerance",
    "time_limit": "--time-limit",
    "time_limit_s": "--time-limit",
    "n_managers": "--managers",
    "capacity_h": "--capacity",
    "seed": "--seed",
    "workers": "--workers",
    "floors": "--floor",
    "max_population": "--max-population",
    "max_area_km2": "--max-area",
    "max_diameter_m": "--max-diameter",
    "homogeneity": "--homogeneous",
    "compactness_weight": "--compactness",
    "respect_districts": "--cross-districts",
    "respect_units": "--cross-units",
    "contiguity": "--contiguity",
}


class StderrProgress:
    """A progress callback that prints ``[ 42%] message`` lines to stderr, rate-limited."""

    def __init__(self, quiet: bool = False, min_interval_s: float = 0.5):
        self.quiet = quiet
        self.min_interval_s = min_interval_s
        self._last_message = ""
        self._last_time = 0.0

    def __call__(self, fraction: float, message: str) -> None:
        if self.quiet:
            return
        now = time.monotonic()
        if message == self._last_message and now - self._last_time < self.min_interval_s:
            return
        self._last_message, self._last_time = message, now
        print(f"[{100 * fraction:3.0f}%] {message}", file=sys.stderr, flush=True)


class LazyHelpStore(argparse._StoreAction):
    """A store action whose help text is computed when help is printed (``help_text``:
    a callable), so that building the parser imports no heavy module."""

    def __init__(self, *args: Any, help_text: Callable[[], str], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._help_text = help_text

    @property
    def help(self) -> str:  # type: ignore[override]
        return self._help_text()

    @help.setter
    def help(self, value: str | None) -> None:  # argparse sets it in __init__
        pass


def print_notes(notes: Sequence[str]) -> None:
    """Print each note as ``note: …`` on stderr."""
    for note in notes:
        print(f"note: {note}", file=sys.stderr)


def print_warnings(warnings: Sequence[Problem], limit: int = 10) -> None:
    """Print the loader's warnings (repaired geometry, features dropped …) on stderr as
    ``warning: where: what. Fix: …``, at most ``limit`` of them and a count of the rest."""
    for problem in list(warnings)[:limit]:
        print(f"warning: {problem.where}: {problem.what}. Fix: {problem.fix}", file=sys.stderr)
    if len(warnings) > limit:
        print(f"warning: … and {len(warnings) - limit} more warnings", file=sys.stderr)


def parse_floors(items: Sequence[str]) -> dict[str, float]:
    """``["population=3000", "customers=400"]`` → ``{"population": 3000.0, ...}``."""
    floors: dict[str, float] = {}
    problems = []
    for item in items:
        name, sep, value = item.partition("=")
        try:
            if not sep or not name.strip():
                raise ValueError
            floors[name.strip()] = float(value.replace(",", "").replace("_", ""))
        except ValueError:
            problems.append(
                Problem(
                    f"cannot read the floor {item!r}",
                    "--floor",
                    "write COLUMN=VALUE, e.g. --floor population=3000",
                )
            )
    if problems:
        raise InputError(problems)
    return floors


def add_cells_options(p: argparse.ArgumentParser) -> None:
    """The lattice options of ``cells`` and ``demo``."""
    g = p.add_argument_group("lattice")
    g.add_argument(
        "--lattice",
        choices=["h3", "square", "polygons"],
        default="h3",
        help="base cells: H3 hexagons (default), square cells of --size metres, or the "
        "population layer's own polygons (e.g. census tracts)",
    )
    g.add_argument(
        "--resolution",
        type=int,
        default=None,
        help="H3 resolution 0-15 (8 ≈ 0.74 km² per hexagon, 9 ≈ 0.11 km²); "
        "default: picked for --target-cells",
    )
    g.add_argument(
        "--target-cells",
        type=int,
        default=None,
        help="pick the H3 resolution giving about this many cells (default 2,000 when no "
        "--resolution is given)",
    )
    g.add_argument(
        "--size", type=float, default=500.0, help="square cell side in metres (default 500)"
    )
    g.add_argument(
        "--contiguity",
        choices=["rook", "queen"],
        default="rook",
        help=CONTIGUITY_HELP,
    )


def cells_config(args: argparse.Namespace) -> Any:
    """The :class:`~gridplan.cells.build.CellsConfig` of the lattice options."""
    from gridplan.cells.build import CellsConfig

    target = args.target_cells
    if args.lattice == "h3" and args.resolution is None and target is None:
        target = 2000
    return CellsConfig(
        lattice=args.lattice,
        h3_resolution=args.resolution,
        target_cells=target,
        square_size_m=args.size,
        contiguity=args.contiguity,
    )


def check_output(
    path: str | os.PathLike[str] | None, option: str, kind: str = "file"
) -> Path | None:
    """Refuse an output ``path`` that cannot be written, before any work starts and
    without creating anything: a folder where a file is expected (``kind="file"``) or a
    file where a folder is expected (``kind="folder"``), a file among its parent folders,
    or a folder gridplan may not write into. Returns the path (``None`` stays ``None``)."""
    if path is None:
        return None
    p = Path(path)
    where = f"{option} {p}"
    if p.exists() and kind == "file" and p.is_dir():
        raise InputError(
            Problem(f"{p} is a folder", where, f"give {option} a file path, e.g. {p / 'out'}")
        )
    if p.exists() and kind == "folder" and not p.is_dir():  # kind "any": file or folder
        raise InputError(Problem(f"{p} is a file, not a folder", where, f"give {option} a folder"))
    parent = p if (kind != "file" and p.is_dir()) else p.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise InputError(
            Problem(
                f"{parent} is a file, not a folder",
                where,
                f"give {option} a path whose folders are folders (or remove {parent})",
            )
        )
    if not os.access(parent, os.W_OK | os.X_OK):
        raise InputError(
            Problem(
                f"no permission to write into {parent}",
                where,
                f"give {option} a folder you may write into, or ask for write access",
            )
        )
    return p


def positive(value: float | int | None, option: str, what: str = "a positive number") -> None:
    """Refuse a zero or negative option value (``None`` means: not given)."""
    if value is not None and not value > 0:
        raise InputError(Problem(f"{option} {value}", option, f"give {what}"))


def gpkg_out(out: str | os.PathLike[str], fix: str) -> Path:
    """``out`` as a path, or an :class:`InputError` (with ``fix``) when it is no .gpkg."""
    out = Path(out)
    if out.suffix.lower() != ".gpkg":
        raise InputError(Problem(f"output {out.name!r} is not a GeoPackage", f"--out {out}", fix))
    return out


def write_layer(frame: Any, out: str | os.PathLike[str], layer: str) -> Path:
    """Write a GeoDataFrame as ``layer`` of the GeoPackage ``out``, atomically."""
    from gridplan.atomic import atomic_path

    with atomic_path(out) as tmp:
        frame.to_file(tmp, layer=layer, driver="GPKG")
    return Path(out)


def _flag_text(text: str) -> str:
    """``by='area'`` → ``--by area`` for every parameter of :data:`FLAGS`."""

    def sub(m: re.Match[str]) -> str:
        if m.group(1) in ("respect_districts", "respect_units"):  # False means --cross-…
            flag = FLAGS[m.group(1)]
            return flag if m.group(3) == "False" else f"no {flag}"
        return f"{FLAGS[m.group(1)]} {m.group(3)}"

    names = "|".join(map(re.escape, FLAGS))
    return re.sub(rf"\b({names})=(['\"]?)([^'\"\s),;]*)\2", sub, text)


def _flag_where(where: str) -> str:
    """``out plan.pdf`` → ``--out plan.pdf``: the leading parameter name becomes its flag."""
    name, sep, rest = where.partition(" ")
    return f"{FLAGS[name]}{sep}{rest}" if name in FLAGS else _flag_text(where)


def with_flags(err: GridplanError) -> GridplanError:
    """The error as the command line says it: parameter names in the problems of an
    :class:`InputError` become the flags that set them (other errors are unchanged)."""
    if not isinstance(err, InputError):
        return err
    problems = [
        Problem(_flag_text(p.what), _flag_where(p.where), _flag_text(p.fix)) for p in err.problems
    ]
    if problems == list(err.problems):
        return err
    return InputError(problems)


def execute(command: str, func: Callable[[argparse.Namespace], int], args: Any) -> int:
    """Run a parsed command; a :class:`GridplanError` becomes a plain message and status
    2, any other exception a short report and status 3 (GRIDPLAN_DEBUG=1: the traceback)."""
    try:
        return func(args)
    except GridplanError as err:
        print(f"gridplan {command}: {with_flags(err)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("gridplan: interrupted; no output was written", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as err:  # the last line of defence: a message, not a traceback
        if os.environ.get("GRIDPLAN_DEBUG"):
            raise
        print(
            f"gridplan {command}: internal error ({type(err).__name__}: {err}). "
            "No output was written. Please report this with the command you ran; "
            "set GRIDPLAN_DEBUG=1 to see the details.",
            file=sys.stderr,
        )
        return EXIT_INTERNAL


#: The help of ``--require-tolerance`` (``gridplan run``, ``gridplan balance``).
REQUIRE_TOLERANCE_HELP = (
    "exit with status 1 when the plan misses --tolerance (the outputs are still written; "
    "the last line gives the max deviation and the tolerance the units allow)"
)

EXIT_TOLERANCE_MISSED = 1


def add_require_tolerance(p: argparse.ArgumentParser) -> None:
    """The ``--require-tolerance`` switch (see :data:`REQUIRE_TOLERANCE_HELP`)."""
    p.add_argument("--require-tolerance", action="store_true", help=REQUIRE_TOLERANCE_HELP)


def check_share(value: float, option: str, what: str = "tolerance") -> Problem | None:
    """The problem with a share option (``--tolerance 3`` meant as 3 %), or ``None``
    when ``value`` is in [0, 1)."""
    if 0 <= value < 1:
        return None
    fix = "give a share between 0 and 1, e.g. 0.03 for ±3 %"
    if 1 <= value < 100:
        fix += f" ({value:g} % is {value / 100:g})"
    return Problem(f"{what} {value:g}", option, fix)


def reachable_tolerance(balance: Mapping[str, Any]) -> float | None:
    """The smallest tolerance the grids allow, when the balance report gives one
    (``reachable_tolerance``, at the top or in its ``stats``)."""
    for where in (balance, balance.get("stats") or {}):
        value = where.get("reachable_tolerance") if isinstance(where, Mapping) else None
        if isinstance(value, int | float) and value == value:
            return float(value)
    return None


def missed_tolerance_line(balance: Mapping[str, Any], time_option: str = "--time-limit") -> str:
    """The line that says a balance report (its ``to_dict()``) missed its tolerance: the
    max deviation, the bound the units allow (when the report has it) and what to do."""
    from gridplan.balance import reach_round

    tol = float(balance["tolerance"])
    head = f"tolerance missed: max deviation {float(balance['max_deviation']):.2%} > ±{tol:.2%}"
    reach = reachable_tolerance(balance)
    if reach is not None and reach > tol:
        return (
            f"{head}; out of reach: the units allow no better than ±{reach_round(reach):.1%} "
            f"(split the heaviest grids, or --tolerance {reach_round(reach):g})"
        )
    bound = "" if reach is None else f" (reachable bound ±{reach:.1%})"
    return f"{head}; within reach of these units{bound}: give it a longer {time_option}"


def tolerance_verdict(
    balance: Mapping[str, Any], require: bool, time_option: str = "--time-limit"
) -> int:
    """Print :func:`missed_tolerance_line` as the last line on stdout when the report
    missed its tolerance; returns the exit status: :data:`EXIT_TOLERANCE_MISSED` when
    missed and ``require``, else 0."""
    if balance.get("within_tolerance", True):
        return 0
    sys.stderr.flush()
    print(missed_tolerance_line(balance, time_option), flush=True)
    return EXIT_TOLERANCE_MISSED if require else 0
