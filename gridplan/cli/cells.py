"""``gridplan cells``: build the base cells from a city's layers and aggregate every
layer onto them; writes a GeoPackage (layer ``cells``, the work CRS in metres)."""

from __future__ import annotations

import argparse
import math
from dataclasses import replace
from typing import Any

from gridplan.cli.common import (
    StderrProgress,
    add_cells_options,
    cells_config,
    check_output,
    gpkg_out,
    parse_floors,
    print_notes,
    print_warnings,
    write_layer,
)
from gridplan.cli.layer_options import (
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
        help="customers: points (or a CSV/XLSX with lon/lat) with customer_id, type "
        "(public/business/group/VIP/large, 公众/商业/集团/VIP/大客户), spend (ARPU, "
        "CNY/month) and handsets (group clients); the segment is derived with --tiers "
        "when not given. Chinese or English headers (see data/README.md)",
    )
    p.add_argument(
        "--tiers",
        metavar="TIERS.yaml",
        help="customer tier thresholds (default: data/customer_tiers.yaml)",
    )
    p.add_argument("--barriers", help="lines (rivers, highways) that cut cell adjacency")
    add_units_option(p)
    add_layer_options(p)
    add_cells_options(p)
    g = p.add_argument_group("cells per grid")
    g.add_argument(
        "--cells-per-grid",
        type=float,
        default=None,
        metavar="N",
        help="pick the coarsest H3 resolution expected to give at least N cells per grid "
        "with the --floor values (an estimate: per district, its total / (floor + one mean "
        "cell), the smallest over the floors); instead of --resolution / --target-cells",
    )
    g.add_argument(
        "--floor",
        action="append",
        default=[],
        metavar="COLUMN=VALUE",
        help="a grid floor, e.g. --floor population=8000 (repeatable); with it the command "
        "prints the expected grids and cells per grid",
    )
    p.add_argument("--out", required=True, help="output GeoPackage (.gpkg), layer 'cells'")
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    """Run ``gridplan cells``; returns the exit status (0)."""
    from gridplan.cells.build import build_cells
    from gridplan.layers.read import load_layers
    from gridplan.layers.tiers import load_tiers
    from gridplan.layers.validate import ValidationReport

    progress = StderrProgress(args.quiet)
    out = check_output(gpkg_out(args.out, _GPKG_FIX), "--out")  # before any work
    floors = _check_sizing(args)
    config = cells_config(args)  # the settings are checked before any layer is read
    report = ValidationReport()
    sources, columns = layer_sources(args)
    units = units_source(args)
    try:
        tiers = load_tiers(args.tiers) if args.tiers else None
        layers = load_layers(**sources, columns=columns, report=report, tiers=tiers)
    except GridplanError as err:
        raise cli_words(err, args) from None
    layers = with_units(layers, units)
    print_warnings(report.warnings)
    if report.customers is not None:
        print("\n".join(report.customers.summary()))
    if args.cells_per_grid is not None:
        cellset = _build_for_cells_per_grid(layers, config, floors, args.cells_per_grid, progress)
    else:
        cellset = build_cells(layers, config, progress=progress)
    write_layer(cellset.cells, out, "cells")  # layer "cells", work CRS (metres), atomic
    print_notes(cellset.notes)
    if layers.organisation is not None:
        print("organisation units: " + "; ".join(layers.organisation.summary()))
    if floors:
        print(_estimate_line(cellset, floors))
    print(f"wrote {len(cellset.cells):,} cells ({_built(cellset)}) to {out}")
    return 0


def _check_sizing(args: argparse.Namespace) -> dict[str, float]:
    """The floors of ``--floor``; ``--cells-per-grid`` is checked against the lattice
    options (before any layer is read)."""
    floors = parse_floors(args.floor)
    n = args.cells_per_grid
    if n is None:
        return floors
    problems = []
    if not (n > 0 and math.isfinite(n)):
        problems.append(
            Problem(f"--cells-per-grid {n:g}", "--cells-per-grid", "give N > 0, e.g. 8")
        )
    if args.lattice != "h3":
        problems.append(
            Problem(
                f"--cells-per-grid picks an H3 resolution, not a {args.lattice} lattice",
                "--cells-per-grid",
                "use --lattice h3, or set the square --size yourself",
            )
        )
    for option in ("resolution", "target_cells"):
        if getattr(args, option) is not None:
            flag = "--" + option.replace("_", "-")
            problems.append(
                Problem(
                    f"--cells-per-grid and {flag} both choose the resolution",
                    "--cells-per-grid",
                    f"give one of them (drop {flag})",
                )
            )
    if not floors:
        problems.append(
            Problem(
                "--cells-per-grid needs the grid floors",
                "--cells-per-grid",
                "add --floor COLUMN=VALUE, e.g. --floor population=8000",
            )
        )
    if problems:
        raise InputError(problems)
    return floors


def _build_for_cells_per_grid(
    layers: Any, config: Any, floors: dict[str, float], per_grid: float, progress: Any
) -> Any:
    """Cells at the coarsest H3 resolution expected to give ``per_grid`` cells per grid:
    a coarse pass (about 500 cells) gives the district totals, extrapolated ×7 per
    resolution; the cells are built again at the resolution picked when it differs."""
    from gridplan.cells.build import build_cells
    from gridplan.cells.sizing import resolution_for_cells_per_grid

    coarse = build_cells(layers, replace(config, h3_resolution=None, target_cells=500))
    res, est = resolution_for_cells_per_grid(
        coarse.cells, int(coarse.h3_resolution), floors, per_grid, where="--floor"
    )
    print(
        f"picked H3 resolution {res} for at least {per_grid:g} cells per grid: "
        f"about {est.n_grids:,} grids of {est.n_cells:,} cells expected"
    )
    if res == coarse.h3_resolution:
        return coarse
    return build_cells(
        layers, replace(config, h3_resolution=res, target_cells=None), progress=progress
    )


def _estimate_line(cellset: Any, floors: dict[str, float]) -> str:
    from gridplan.cells.sizing import estimate_grids

    est = estimate_grids(cellset.cells, floors, where="--floor")
    rule = ", ".join(f"{k} ≥ {v:,.0f}" for k, v in floors.items())
    return (
        f"expected with floors {rule}: about {est.n_grids:,} grids, "
        f"{est.cells_per_grid:.1f} cells per grid (an estimate, within about ±10 %)"
    )


def _built(cellset: Any) -> str:
    """Lattice and mean area (km²) of the cells as built, clipped edge cells included."""
    from gridplan.cells.sizing import mean_cell_area_km2

    area = f"mean {mean_cell_area_km2(cellset.cells):.3f} km² per cell as built"
    if cellset.h3_resolution is not None:
        return f"H3 resolution {cellset.h3_resolution}, {area}"
    if cellset.square_size_m is not None:
        return f"{cellset.square_size_m:g} m squares, {area}"
    return area


_GPKG_FIX = "give a path ending in .gpkg (other formats come with `gridplan export`)"
