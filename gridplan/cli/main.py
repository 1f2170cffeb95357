"""The ``gridplan`` command line: the parser of every command and the entry point.

Every command prints a plain message and exits non-zero on bad input or an
infeasible setting; no traceback reaches the user (set GRIDPLAN_DEBUG=1 to see one).
Each command is one module (:mod:`~gridplan.cli.cells`, :mod:`~gridplan.cli.partition`,
:mod:`~gridplan.cli.balance`, :mod:`~gridplan.cli.export`, :mod:`~gridplan.cli.demo`)
with ``add_parser(subparsers)`` and a run function; :mod:`~gridplan.cli.common` holds
what they share.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from gridplan.cli.common import EXIT_BAD_INPUT, EXIT_INTERNAL, StderrProgress, execute
from gridplan.errors import InputError, Problem

__all__ = ["EXIT_BAD_INPUT", "EXIT_INTERNAL", "StderrProgress", "build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every ``gridplan`` command (the command modules, in the
    order of ``gridplan --help``, each add theirs; imported here so that
    ``python -m gridplan.cli.<command>`` finds its module not imported yet)."""
    from gridplan.cli import balance, cells, demo, export, partition

    parser = argparse.ArgumentParser(
        prog="gridplan",
        description="Cut a city into marketing-service grids and balance community-manager "
        "territories.",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress messages")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in (cells, partition, balance, export, demo):
        command.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``gridplan`` console script; returns the exit status."""
    args = build_parser().parse_args(argv)
    func: Callable[[argparse.Namespace], int] = args.func
    return execute(args.command, func, args)


def read_polygon_cells(path: str, id_column: str, *, layer: str | None = None):
    """Read a polygon layer as cells in its local UTM CRS (metres), checked for use.

    Adds ``area_km2``, ``x`` and ``y`` (centroid, metres) when missing, and a single
    district named after the file when there is no ``district`` column.
    """
    import numpy as np
    import shapely

    from gridplan.layers.crs import local_metric_crs
    from gridplan.layers.read import read_layer

    gdf = read_layer(path, layer=layer)
    where = Path(path).name
    problems = []
    if gdf.crs is None:
        problems.append(
            Problem("the layer has no CRS", where, "save it with its coordinate system")
        )
    if id_column not in gdf.columns:
        problems.append(
            Problem(
                f"no id column {id_column!r}",
                where,
                f"give --id one of {', '.join(map(str, gdf.columns.drop('geometry')))}",
            )
        )
    elif gdf[id_column].duplicated().any():
        dup = gdf.loc[gdf[id_column].duplicated(), id_column].astype(str).head(5).tolist()
        problems.append(
            Problem(f"duplicate ids in {id_column!r}: {', '.join(dup)}", where, "make ids unique")
        )
    kinds = set(gdf.geom_type.dropna().unique())
    if not kinds <= {"Polygon", "MultiPolygon"}:
        problems.append(
            Problem(
                f"cells must be polygons; found {', '.join(sorted(kinds)) or 'no geometry'}",
                where,
                "give a polygon layer (cells from `gridplan cells`, tracts, blocks…)",
            )
        )
    if problems:
        raise InputError(problems)
    gdf = gdf.to_crs(local_metric_crs(gdf)).reset_index(drop=True)
    invalid = ~gdf.geometry.is_valid
    if invalid.any():
        gdf.loc[invalid, "geometry"] = shapely.make_valid(gdf.geometry[invalid].values)
    if "area_km2" not in gdf.columns:
        gdf["area_km2"] = gdf.geometry.area / 1e6
    centroids = gdf.geometry.centroid
    for col, values in (("x", centroids.x), ("y", centroids.y)):
        if col not in gdf.columns:
            gdf[col] = np.asarray(values)
    if "district" not in gdf.columns:
        gdf["district"] = Path(path).stem
    gdf["district"] = gdf["district"].astype(str)
    return gdf


if __name__ == "__main__":
    sys.exit(main())
