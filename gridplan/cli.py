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
    from gridplan.cells import CellsConfig

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
    from gridplan.cells import build_cells
    from gridplan.io import load_layers

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
    from gridplan.atomic import atomic_path

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


def _cmd_demo(args: argparse.Namespace) -> int:
    from gridplan.cells import build_cells
    from gridplan.demo import load_demo
    from gridplan.maps import OFFLINE, cells_map, standalone_html

    progress = StderrProgress(args.quiet)
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    layers = load_demo(args.city)
    progress(0.05, f"loaded demo city {args.city} (sites and customers are SYNTHETIC)")
    cellset = build_cells(layers, _cells_config(args), progress=progress)
    written = [write_cells(cellset, out_dir / "cells.gpkg")]
    from gridplan.atomic import atomic_path

    m = cells_map(
        cellset.cells,
        "population",
        tooltip_fields=["district", "population", "customers", "spend", "coverage"],
        districts=layers.districts,
        settings=OFFLINE,
    )
    with atomic_path(out_dir / "cells_map.html") as tmp:
        tmp.write_text(standalone_html(m), encoding="utf-8")
    written.append(out_dir / "cells_map.html")
    _print_notes(cellset.notes)
    for path in written:
        print(f"wrote {path}")
    return 0


def _cmd_demo_data(args: argparse.Namespace) -> int:
    from gridplan.demo import data_dir
    from gridplan.synthetic import build_synthetic

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
        "demo",
        help="run everything on the bundled demo city and write the outputs to a folder",
        description="Run every step that exists on the bundled demo city (real population; "
        "SYNTHETIC cell sites and customers) and write the outputs to --out.",
    )
    p.add_argument("--city", choices=["nyc", "seoul"], default="nyc", help="demo city")
    _add_cells_options(p)
    p.add_argument("--out", required=True, help="output folder (created if missing)")
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
