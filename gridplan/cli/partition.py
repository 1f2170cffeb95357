"""``gridplan partition``: cut a polygon layer of cells into grids meeting floors;
writes the grids (GeoPackage, layer ``grids``, UTM metres) and optionally the
cell → grid table (CSV ``cell_id,grid_id``)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from gridplan.cli.common import (
    CONTIGUITY_HELP,
    StderrProgress,
    check_output,
    gpkg_out,
    parse_floors,
    print_notes,
    write_layer,
)
from gridplan.cli.layer_options import add_cross_units_option
from gridplan.errors import InputError, Problem

__all__ = ["add_parser", "run"]


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the ``partition`` sub-command to an argparse sub-parser set."""
    p = subparsers.add_parser(
        "partition",
        help="cut cells into grids (minimum marketing-service units) meeting floors",
        description="Cut a polygon layer of cells (from `gridplan cells`, or your own "
        "polygons such as blocks or tracts) into contiguous grids that each reach every "
        "floor, stay inside one district (unless --cross-districts) and one organisation "
        "unit (the cells' unit_<level> columns, unless --cross-units) and are compact and "
        "homogeneous. Writes the grids (GeoPackage, layer 'grids', UTM metres) and "
        "optionally the cell → grid table.",
    )
    p.add_argument("--cells", required=True, help="polygon layer of cells (any format, any CRS)")
    p.add_argument("--layer", help="layer name inside a multi-layer file (e.g. 'cells')")
    p.add_argument("--id", default="cell_id", help="column with the cell ids (default cell_id)")
    p.add_argument(
        "--floor",
        action="append",
        default=[],
        metavar="COLUMN=VALUE",
        help="minimum per grid, repeatable, at least one: population=3000 (persons), "
        "customers=400, spend=200000 (CNY/month)",
    )
    p.add_argument("--max-area", type=float, help="largest grid area in km²")
    p.add_argument("--max-population", type=float, help="largest grid population (persons)")
    p.add_argument("--max-diameter", type=float, help="largest distance across a grid in metres")
    p.add_argument(
        "--homogeneous",
        action="append",
        default=[],
        metavar="COLUMN",
        help="make grids uniform in this column (repeatable), e.g. coverage",
    )
    p.add_argument(
        "--compactness", type=float, default=1.0, help="weight of compact shapes (default 1)"
    )
    p.add_argument(
        "--cross-districts",
        action="store_true",
        help="let grids cross district boundaries (default: never)",
    )
    add_cross_units_option(p)
    p.add_argument("--contiguity", choices=["rook", "queen"], default="rook", help=CONTIGUITY_HELP)
    p.add_argument("--seed", type=int, default=0, help="random seed (same seed, same grids)")
    p.add_argument("--time-limit", type=float, default=30.0, help="seconds (default 30)")
    p.add_argument("--out", required=True, help="output GeoPackage of grids (.gpkg)")
    p.add_argument("--assignment-out", help="CSV with columns cell_id,grid_id")
    p.set_defaults(func=run)
    return p


def _check_columns(cells: Any, wanted: list[str], source: str) -> None:
    """An :class:`InputError` naming the columns there are when one of ``wanted`` is absent."""
    missing = [c for c in wanted if c not in cells.columns]
    if missing:
        have = [c for c in cells.columns if c != "geometry"]
        raise InputError(
            Problem(
                f"the cells have no column {', '.join(map(repr, missing))}",
                Path(source).name,
                f"use one of {', '.join(have)} (cells from `gridplan cells` carry population, "
                "customers, spend, coverage …)",
            )
        )


def _config(args: argparse.Namespace, floors: dict[str, float]) -> Any:
    """The :class:`~gridplan.partition.PartitionConfig` of the options."""
    from gridplan.partition import PartitionConfig

    return PartitionConfig(
        floors=floors,
        max_population=args.max_population,
        max_area_km2=args.max_area,
        max_diameter_m=args.max_diameter,
        homogeneity={c: 1.0 for c in args.homogeneous},
        compactness_weight=args.compactness,
        respect_districts=not args.cross_districts,
        respect_units=not args.cross_units,
        seed=args.seed,
        time_limit_s=args.time_limit,
    )


def _write_assignment(cells: Any, id_column: str, assignment: Any, path: str) -> None:
    """The cell → grid table (CSV ``cell_id,grid_id``), atomically."""
    import pandas as pd

    from gridplan.atomic import atomic_path

    table = pd.DataFrame({"cell_id": cells[id_column].to_numpy(), "grid_id": assignment.to_numpy()})
    with atomic_path(path) as tmp:
        table.to_csv(tmp, index=False)


def run(args: argparse.Namespace) -> int:
    """Run ``gridplan partition``; returns the exit status (0)."""
    from gridplan.cells.polygon_graph import polygon_adjacency
    from gridplan.layers.read import read_polygon_cells
    from gridplan.partition import partition_cells

    progress = StderrProgress(args.quiet)
    if not args.floor:
        raise InputError(
            Problem(
                "no floor: every grid needs at least one minimum to reach",
                "--floor",
                "give --floor COLUMN=VALUE (repeatable), e.g. --floor population=3000",
            )
        )
    floors = parse_floors(args.floor)
    out = gpkg_out(args.out, "end it in .gpkg")
    check_output(out, "--out")
    check_output(args.assignment_out, "--assignment-out")
    cells = read_polygon_cells(args.cells, args.id, layer=args.layer)
    print_notes(cells.attrs.get("notes", []))
    _check_columns(cells, [*floors, *args.homogeneous], args.cells)
    config = _config(args, floors)
    progress(0.0, f"linking {len(cells):,} cells")
    adjacency = polygon_adjacency(
        cells.geometry.values, contiguity=args.contiguity, district=cells["district"].to_numpy()
    )
    result = partition_cells(cells, adjacency, config, progress=progress)
    write_layer(result.grids, out, "grids")
    if args.assignment_out:
        _write_assignment(cells, args.id, result.assignment, args.assignment_out)
    print_notes(result.notes)
    s = result.summary
    print(
        f"wrote {s['n_grids']:,} grids to {out} ({s['n_meeting_all_floors']:,} meet every floor; "
        f"{s['seconds']:.1f} s)"
    )
    if args.assignment_out:
        print(f"wrote the cell → grid table to {args.assignment_out}")
    return 0
