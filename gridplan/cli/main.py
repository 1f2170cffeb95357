"""The ``gridplan`` command line.

Every command prints a plain message and exits non-zero on bad input or an
infeasible setting; no traceback reaches the user (set GRIDPLAN_DEBUG=1 to see one).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from gridplan.atomic import atomic_path, write_text_atomic
from gridplan.errors import GridplanError, InputError, Problem

EXIT_BAD_INPUT = 2
EXIT_INTERNAL = 3


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


def _add_cells_options(p: argparse.ArgumentParser) -> None:
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
        help="cells are neighbours when they share an edge (rook, default) or a corner too",
    )


def _cells_config(args: argparse.Namespace):
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


def _cmd_cells(args: argparse.Namespace) -> int:
    from gridplan.cells.build import build_cells
    from gridplan.layers.read import load_layers

    progress = StderrProgress(args.quiet)
    layers = load_layers(
        boundary=args.boundary,
        population=args.population,
        districts=args.districts,
        sites=args.sites,
        customers=args.customers,
        barriers=args.barriers,
    )
    cellset = build_cells(layers, _cells_config(args), progress=progress)
    out = write_cells(cellset, args.out)
    _print_notes(cellset.notes)
    print(f"wrote {len(cellset.cells):,} cells to {out}")
    return 0


def write_cells(cellset, out: str | os.PathLike[str]) -> Path:
    """Write cells to a GeoPackage (layer ``cells``, the work CRS in metres), atomically."""
    out = Path(out)
    if out.suffix.lower() != ".gpkg":
        raise InputError(
            Problem(
                f"output {out.name!r} is not a GeoPackage",
                f"--out {out}",
                "give a path ending in .gpkg (other formats come with `gridplan export`)",
            )
        )
    with atomic_path(out) as tmp:
        cellset.cells.to_file(tmp, layer="cells", driver="GPKG")
    return out


def _print_notes(notes: Sequence[str]) -> None:
    for note in notes:
        print(f"note: {note}", file=sys.stderr)


def _parse_floors(items: Sequence[str]) -> dict[str, float]:
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


def _cmd_partition(args: argparse.Namespace) -> int:
    import pandas as pd

    from gridplan.cells.polygon_graph import polygon_adjacency
    from gridplan.layers.read import read_polygon_cells
    from gridplan.partition import PartitionConfig, partition_cells

    progress = StderrProgress(args.quiet)
    floors = _parse_floors(args.floor)
    out = Path(args.out)
    if out.suffix.lower() != ".gpkg":
        raise InputError(
            Problem(f"output {out.name!r} is not a GeoPackage", f"--out {out}", "end it in .gpkg")
        )
    cells = read_polygon_cells(args.cells, args.id, layer=args.layer)
    wanted = [*floors, *args.homogeneous]
    missing = [c for c in wanted if c not in cells.columns]
    if missing:
        have = [c for c in cells.columns if c != "geometry"]
        raise InputError(
            Problem(
                f"the cells have no column {', '.join(map(repr, missing))}",
                Path(args.cells).name,
                f"use one of {', '.join(have)} (cells from `gridplan cells` carry population, "
                "customers, spend, coverage …)",
            )
        )
    config = PartitionConfig(
        floors=floors,
        max_population=args.max_population,
        max_area_km2=args.max_area,
        max_diameter_m=args.max_diameter,
        homogeneity={c: 1.0 for c in args.homogeneous},
        compactness_weight=args.compactness,
        respect_districts=not args.cross_districts,
        seed=args.seed,
        time_limit_s=args.time_limit,
    )
    progress(0.0, f"linking {len(cells):,} cells")
    adjacency = polygon_adjacency(
        cells.geometry.values, contiguity=args.contiguity, district=cells["district"].to_numpy()
    )
    result = partition_cells(cells, adjacency, config, progress=progress)
    with atomic_path(out) as tmp:
        result.grids.to_file(tmp, layer="grids", driver="GPKG")
    if args.assignment_out:
        table = pd.DataFrame(
            {"cell_id": cells[args.id].to_numpy(), "grid_id": result.assignment.to_numpy()}
        )
        with atomic_path(args.assignment_out) as tmp:
            table.to_csv(tmp, index=False)
    _print_notes(result.notes)
    s = result.summary
    print(
        f"wrote {s['n_grids']:,} grids to {out} ({s['n_meeting_all_floors']:,} meet every floor; "
        f"{s['seconds']:.1f} s)"
    )
    if args.assignment_out:
        print(f"wrote the cell → grid table to {args.assignment_out}")
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    import json

    from gridplan.demo.cities import load_demo
    from gridplan.maps import OFFLINE, cells_map, standalone_html
    from gridplan.plan.model import manager_table, save_plan, territories
    from gridplan.plan.pipeline import DEMO_FLOORS, demo_settings, make_plan

    progress = StderrProgress(args.quiet)
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    layers = load_demo(args.city)
    progress(0.0, f"loaded demo city {args.city} (sites and customers are SYNTHETIC)")
    if args.resolution is None and args.target_cells is None and args.lattice == "h3":
        cells_config = None  # the demo's own default resolution
    else:
        cells_config = _cells_config(args)
    settings = demo_settings(
        seed=args.seed, cells=cells_config, time_limit=args.time_limit, name=f"demo-{args.city}"
    )
    plan, report = make_plan(layers, settings, progress=progress)
    written = [save_plan(plan, out_dir / "plan.gpkg")]
    with atomic_path(out_dir / "cells.gpkg") as tmp:
        plan.cells.to_file(tmp, layer="cells", driver="GPKG")
    written.append(out_dir / "cells.gpkg")
    with atomic_path(out_dir / "grids.gpkg") as tmp:
        plan.grids.to_file(tmp, layer="grids", driver="GPKG")
    written.append(out_dir / "grids.gpkg")
    with atomic_path(out_dir / "cells.csv") as tmp:
        plan.cells[["cell_id", "grid_id"]].to_csv(tmp, index=False)
    written.append(out_dir / "cells.csv")
    with atomic_path(out_dir / "managers.csv") as tmp:
        manager_table(plan).to_csv(tmp, index=False)
    written.append(out_dir / "managers.csv")
    write_text_atomic(
        out_dir / "report.json", json.dumps(report, indent=1, ensure_ascii=False, default=str)
    )
    written.append(out_dir / "report.json")
    fields = ["district", "population", "customers", "spend", "coverage"]
    maps = {
        "cells_map.html": (plan.cells, "population", fields, "Cells"),
        "grids_map.html": (
            plan.grids,
            "hours_total",
            ["grid_id", "grid_type", "manager", "hours_total", *fields],
            "Grids",
        ),
        "territories_map.html": (
            territories(plan),
            "hours",
            ["manager", "area", "hours", "target_h", "deviation", "n_grids"],
            "Territories",
        ),
    }
    for filename, (frame, column, tips, name) in maps.items():
        m = cells_map(
            frame,
            column,
            tooltip_fields=tips,
            districts=layers.districts,
            settings=OFFLINE,
            name=name,
        )
        write_text_atomic(out_dir / filename, standalone_html(m))
        written.append(out_dir / filename)
    summary = report["partition"]["summary"]
    bal = report["balance"]
    print(
        f"{len(plan.cells):,} cells, "
        f"{summary['n_grids']:,} grids, {summary['n_meeting_all_floors']:,} meet every floor "
        f"({', '.join(f'{k} ≥ {v:,.0f}' for k, v in DEMO_FLOORS.items())})"
    )
    print(
        f"{bal['n_managers']} managers for {bal['total_weight']:,.0f} hours/month: "
        f"max deviation {bal['max_deviation']:.1%} (tolerance ±{bal['tolerance']:.0%}), "
        f"{'contiguous' if bal['contiguous'] else 'NOT contiguous'}, "
        f"{bal['cut_edges']:,} cut edges"
    )
    _print_notes(report["cells"]["notes"])
    if not args.skip_exports:
        from gridplan.export.formats import export_all

        written += export_all(plan, out_dir, progress=progress)
    for path in written:
        print(f"wrote {path}")
    return 0


def _cmd_demo_data(args: argparse.Namespace) -> int:
    from gridplan.demo.cities import data_dir
    from gridplan.demo.synthetic import build_synthetic

    cities = [args.city] if args.city != "all" else ["nyc", "seoul"]
    for city in cities:
        out_dir = Path(args.out_dir) if args.out_dir else data_dir() / city
        for path in build_synthetic(city, out_dir, seed=args.seed):
            print(f"wrote {path} (SYNTHETIC)")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every ``gridplan`` command."""
    parser = argparse.ArgumentParser(
        prog="gridplan",
        description="Cut a city into marketing-service grids and balance community-manager "
        "territories.",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress messages")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser(
        "cells",
        help="build base cells from the city's layers and aggregate every layer onto them",
        description="Build the base cells (H3 hexagons, squares or your own polygons) and "
        "aggregate population, customers (counted by segment, spend summed in CNY/month), "
        "cell sites (coverage score) and districts onto them. Layers may be GeoPackage, "
        "GeoJSON, Shapefile (.shp or .zip), KML, GeoParquet, FlatGeobuf, or CSV/XLSX with "
        "longitude/latitude columns, in any CRS.",
    )
    p.add_argument("--boundary", required=True, help="city boundary polygon layer")
    p.add_argument(
        "--population",
        required=True,
        help="population: polygons or points with a 'population' column (persons)",
    )
    p.add_argument("--districts", help="administrative districts: polygons with 'district'")
    p.add_argument(
        "--sites",
        help="cell sites: points with site_id, technology (4G/5G), sectors, radius_m (metres)",
    )
    p.add_argument(
        "--customers",
        help="customers: points with customer_id, segment, spend (CNY/month)",
    )
    p.add_argument("--barriers", help="lines (rivers, highways) that cut cell adjacency")
    _add_cells_options(p)
    p.add_argument("--out", required=True, help="output GeoPackage (.gpkg), layer 'cells'")
    p.set_defaults(func=_cmd_cells)

    p = sub.add_parser(
        "partition",
        help="cut cells into grids (minimum marketing-service units) meeting floors",
        description="Cut a polygon layer of cells (from `gridplan cells`, or your own "
        "polygons such as blocks or tracts) into contiguous grids that each reach every "
        "floor, stay inside one district (unless --cross-districts) and are compact and "
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
        help="minimum per grid, repeatable: population=3000 (persons), customers=400, "
        "spend=200000 (CNY/month)",
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
    p.add_argument("--contiguity", choices=["rook", "queen"], default="rook")
    p.add_argument("--seed", type=int, default=0, help="random seed (same seed, same grids)")
    p.add_argument("--time-limit", type=float, default=30.0, help="seconds (default 30)")
    p.add_argument("--out", required=True, help="output GeoPackage of grids (.gpkg)")
    p.add_argument("--assignment-out", help="CSV with columns cell_id,grid_id")
    p.set_defaults(func=_cmd_partition)

    from gridplan.cli.balance import add_parser as add_balance_parser

    add_balance_parser(sub)
    from gridplan.cli.export import add_parser as add_export_parser

    add_export_parser(sub)

    p = sub.add_parser(
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
        help="seconds for balancing the managers' workloads (default 20)",
    )
    _add_cells_options(p)
    p.add_argument("--out", required=True, help="output folder (created if missing)")
    p.add_argument(
        "--skip-exports",
        action="store_true",
        help="do not end with every export format (map book, GIS and office files)",
    )
    p.set_defaults(func=_cmd_demo)

    p = sub.add_parser(
        "demo-data",
        help="regenerate the demo cities' SYNTHETIC cell sites and customers",
        description="Regenerate the synthetic cell sites and customers of the demo cities "
        "from their real population, deterministically for a seed.",
    )
    p.add_argument("--city", choices=["nyc", "seoul", "all"], default="all")
    p.add_argument("--seed", type=int, default=2026, help="random seed (default 2026)")
    p.add_argument("--out-dir", help="folder to write to (default: data/<city>/)")
    p.set_defaults(func=_cmd_demo_data)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``gridplan`` console script; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        return func(args)
    except GridplanError as err:
        print(f"gridplan {args.command}: {err}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("gridplan: interrupted; no output was written", file=sys.stderr)
        return 130
    except Exception as err:  # the last line of defence: a message, not a traceback
        if os.environ.get("GRIDPLAN_DEBUG"):
            raise
        print(
            f"gridplan {args.command}: internal error ({type(err).__name__}: {err}). "
            "No output was written. Please report this with the command you ran; "
            "set GRIDPLAN_DEBUG=1 to see the details.",
            file=sys.stderr,
        )
        return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
