"""``gridplan cells``: build the base cells from a city's layers and aggregate every
layer onto them; writes a GeoPackage (layer ``cells``, the work CRS in metres)."""

from __future__ import annotations

import argparse

from gridplan.cli.common import (
    StderrProgress,
    add_cells_options,
    cells_config,
    check_output,
    gpkg_out,
    print_notes,
    print_warnings,
    write_layer,
)
from gridplan.cli.layer_options import add_layer_options, cli_words, layer_sources
from gridplan.errors import GridplanError

__all__ = ["add_parser", "run"]


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the ``cells`` sub-command to an argparse sub-parser set."""
    p = subparsers.add_parser(
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
    add_layer_options(p)
    add_cells_options(p)
    p.add_argument("--out", required=True, help="output GeoPackage (.gpkg), layer 'cells'")
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    """Run ``gridplan cells``; returns the exit status (0)."""
    from gridplan.cells.build import build_cells
    from gridplan.layers.read import load_layers
    from gridplan.layers.validate import ValidationReport

    progress = StderrProgress(args.quiet)
    out = check_output(gpkg_out(args.out, _GPKG_FIX), "--out")  # before any work
    config = cells_config(args)  # the settings are checked before any layer is read
    report = ValidationReport()
    sources, columns = layer_sources(args)
    try:
        layers = load_layers(**sources, columns=columns, report=report)
    except GridplanError as err:
        raise cli_words(err, args) from None
    print_warnings(report.warnings)
    cellset = build_cells(layers, config, progress=progress)
    write_layer(cellset.cells, out, "cells")  # layer "cells", work CRS (metres), atomic
    print_notes(cellset.notes)
    print(f"wrote {len(cellset.cells):,} cells to {out}")
    return 0


_GPKG_FIX = "give a path ending in .gpkg (other formats come with `gridplan export`)"
