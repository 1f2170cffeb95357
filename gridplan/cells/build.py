"""Base cells: the lattice every layer is aggregated onto, and its adjacency.

:func:`build_cells` turns validated :class:`~gridplan.layers.Layers` into a
:class:`CellSet`: a GeoDataFrame of cells (index ``0..n-1``, geometry in the
Layers' metric work CRS) with one row per cell, the symmetric CSR
:class:`~gridplan.adjacency.Adjacency` aligned with it, and the notes of what was
repaired or assumed (for the planner). Every layer is aggregated once.

Rules (the notes report every case where one of them changed a figure):

- **Lattice** (:mod:`gridplan.cells.lattice`): H3 hexagons (default), squares of N
  metres aligned to a fixed origin, or the planner's own polygons. Lattice cells
  touching the boundary are kept and *clipped* to it (``clip_to_boundary``), so
  the cells partition the city: every point of the boundary is in exactly one
  cell.
- **Population polygons**: area weighting; a polygon's persons go to the cells it
  overlaps in proportion to the overlap area *divided by the covered part of the
  polygon*, so the persons of a polygon sticking out of the city are
  renormalised onto its cells (totals preserved); polygons wholly outside every
  cell are left out (they belong to the next city).
- **Points** (population points, customers): the cell containing the point; a
  point in no cell is snapped to the nearest cell (exact polygon distance), or
  dropped beyond ``max_snap_m``. Sites are counted only inside the cells, but
  sites outside still contribute coverage.
- **District**: the district of largest overlap; a cell in no district takes the
  nearest one.
- **Coverage**: :mod:`gridplan.cells.coverage` (weighted, distance-decayed sum over the
  sites in range, capped to 0..1).

Columns of ``CellSet.cells`` (units):

=================  ===========================================================
``cell_id``        text: H3 index, ``sq_<col>_<row>`` or the planner's id
``district``       text: district of largest overlap (nearest if none)
``area_km2``       cell area in km² (after clipping to the boundary)
``x``, ``y``       centroid, metres in the work CRS
``clipped``        True when the boundary cut the cell (its area shrank)
``population``     persons (area-weighted from polygons + summed points)
``households``     households, only when the population layer has them
``density``        persons per km²
``customers``      customers in the cell (all segments)
``cust_<code>``    customers of each segment of the catalogue
``spend``          summed customer spend, CNY/month
``handsets``       summed handsets (a customer without a value counts 1)
``sites``          cell sites located in the cell
``sectors``        their summed sectors
``coverage``       coverage score 0..1, ``coverage_raw`` before the cap
``unit_<L>``       text: the organisation unit of level L (only with
                   ``Layers.organisation``; ``unit_<L>_name`` its name), see
                   :func:`gridplan.layers.organisation.assign_units`
``geometry``       cell polygon, work CRS
=================  ===========================================================

Adjacency: rook (shared edge longer than ``min_shared_m`` metres) or queen (any
contact within ``snap_tolerance_m``). H3 hexagons only meet along edges, so rook
= queen there. Edges whose cells lie in different districts are flagged
``crosses_district`` (and ``crosses_unit`` when their lowest organisation units
differ); an edge is flagged ``cut_by_barrier`` when the straight
segment between the two cell centroids intersects a barrier line (polygon
barriers count by their outline). This rule works for rivers crossing hexagons
as well as for roads running along the planner's block edges.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from gridplan.cells.aggregate import (
    CellLocator,
    Located,
    area_weights,
    assign_districts,
    barrier_cuts,
    is_polygonal,
    locate_points,
    point_xy,
    sum_by_cell,
)
from gridplan.cells.clipping import merge_targets
from gridplan.cells.coverage import CoverageConfig, coverage_scores
from gridplan.cells.lattice import (
    Lattice,
    boundary_geometry,
    h3_lattice,
    pick_h3_resolution,
    polygon_lattice,
    polygonal,
    square_lattice,
)
from gridplan.cells.polygon_graph import verify_contacts
from gridplan.errors import InputError, Problem
from gridplan.graph import Adjacency
from gridplan.layers.crs import is_metric
from gridplan.layers.model import Layers
from gridplan.layers.organisation import assign_units
from gridplan.layers.segments import SegmentCatalogue, customer_column
from gridplan.progress import ProgressCallback, no_progress, scaled

__all__ = [
    "Adjacency",
    "CellSet",
    "CellsConfig",
    "CoverageConfig",
    "build_cells",
    "pick_h3_resolution",
]

#: H3 resolution used when neither ``h3_resolution`` nor ``target_cells`` is given
#: (resolution 9: mean hexagon 0.105 km², edge ~200 m).
DEFAULT_H3_RESOLUTION = 9


@dataclass(frozen=True)
class CellsConfig:
    """How to cut the city into base cells and aggregate the layers onto them.

    - ``lattice``: "h3" hexagons, "square" cells, or the planner's "polygons"
      (given to :func:`build_cells` as ``polygons=``, else the population
      polygons are used).
    - ``h3_resolution``: H3 resolution 0..15; when None, ``target_cells`` picks the
      resolution whose mean hexagon area gives the count nearest the target for
      the boundary area, else resolution 9.
    - ``target_cells``: wanted number of cells. Also sets the square size when
      ``lattice="square"`` (``sqrt(boundary area / target)``, rounded to 10 m),
      overriding ``square_size_m``.
    - ``square_size_m``: square side in metres; ``square_origin`` the grid origin
      (work CRS metres), so ``sq_<col>_<row>`` ids are stable.
    - ``contiguity``: "rook" (shared edge > ``min_shared_m`` metres) or "queen"
      (any contact within ``snap_tolerance_m`` metres).
    - ``clip_to_boundary``: clip cells to the boundary (default) so cells
      partition it exactly; else whole hexagons/squares stick out at the edge.
    - ``polygon_id_column``: column of the planner's polygons holding the id
      (default: their index).
    - ``max_snap_m``: points farther than this from every cell are dropped and
      reported rather than snapped (None: always snap).
    - ``use_barriers``: flag edges cut by the barrier layer.
    - ``max_cells``: refuse settings that would make more cells than this.
    - ``min_cell_area_m2``: clipped cells smaller than this (m²) are merged into the
      neighbour sharing the longest boundary with them (else the nearest cell),
      rather than carried as cells of their own (0 = keep every clipped cell).
    """

    lattice: Literal["h3", "square", "polygons"] = "h3"
    h3_resolution: int | None = None
    target_cells: int | None = None
    square_size_m: float = 500.0
    square_origin: tuple[float, float] = (0.0, 0.0)
    contiguity: Literal["rook", "queen"] = "rook"
    coverage: CoverageConfig = field(default_factory=CoverageConfig)
    segments: SegmentCatalogue = field(default_factory=SegmentCatalogue)
    clip_to_boundary: bool = True
    polygon_id_column: str | None = None
    min_shared_m: float = 1.0
    snap_tolerance_m: float = 0.01
    max_snap_m: float | None = None
    use_barriers: bool = True
    max_cells: int = 2_000_000
    min_cell_area_m2: float = 1.0

    def __post_init__(self) -> None:
        problems = []
        where = "cells settings"
        if self.lattice not in ("h3", "square", "polygons"):
            problems.append(
                Problem(f"unknown lattice {self.lattice!r}", where, "use h3, square or polygons")
            )
        if self.contiguity not in ("rook", "queen"):
            problems.append(
                Problem(f"unknown contiguity {self.contiguity!r}", where, "use rook or queen")
            )
        if self.h3_resolution is not None and not 0 <= self.h3_resolution <= 15:
            problems.append(
                Problem(
                    f"H3 resolution {self.h3_resolution} is not in 0..15",
                    where,
                    "use 7 (5 km²) to 10 (0.015 km²) for a city",
                )
            )
        if self.target_cells is not None and self.target_cells < 1:
            problems.append(Problem("target_cells must be at least 1", where, "e.g. 5000"))
        if not (self.square_size_m > 0 and math.isfinite(self.square_size_m)):
            problems.append(Problem("square_size_m must be positive", where, "e.g. 500 m"))
        if self.min_shared_m < 0 or self.snap_tolerance_m < 0:
            problems.append(
                Problem("min_shared_m and snap_tolerance_m must be >= 0", where, "e.g. 1 and 0.01")
            )
        if not (math.isfinite(self.min_cell_area_m2) and self.min_cell_area_m2 >= 0):
            problems.append(Problem("min_cell_area_m2 must be >= 0", where, "e.g. 1 m²"))
        if self.max_snap_m is not None and self.max_snap_m < 0:
            problems.append(Problem("max_snap_m must be >= 0 or None", where, "e.g. 2000 m"))
        if problems:
            raise InputError(problems)


@dataclass(frozen=True, eq=False)
class CellSet:
    """Base cells of a city.

    ``cells`` is a GeoDataFrame (index ``0..n-1``, CRS = the Layers' work CRS,
    columns listed in :mod:`gridplan.cells.build`); ``adjacency`` is aligned with its
    rows; ``notes`` say what was repaired or assumed, for the planner.
    ``h3_resolution`` / ``square_size_m`` record the lattice actually used.
    ``customer_cell`` is the cell row of every customer of the input layer, in
    its row order (``-1`` when not attributed), for per-customer lists.
    """

    cells: gpd.GeoDataFrame
    adjacency: Adjacency
    notes: tuple[str, ...]
    config: CellsConfig = field(default_factory=CellsConfig)
    h3_resolution: int | None = None
    square_size_m: float | None = None
    customer_cell: np.ndarray | None = field(default=None, repr=False)
    locator: CellLocator | None = field(default=None, repr=False)

    @property
    def n(self) -> int:
        """Number of cells."""
        return len(self.cells)

    @property
    def crs(self) -> pyproj.CRS:
        """The work CRS (projected, metres)."""
        return self.cells.crs

    def column(self, name: str) -> np.ndarray:
        """A cell column as a numpy array (aligned with the adjacency rows)."""
        return self.cells[name].to_numpy()

    def locate(
        self,
        points: gpd.GeoDataFrame | gpd.GeoSeries | np.ndarray,
        *,
        snap: bool = True,
        max_snap_m: float | None = None,
    ) -> np.ndarray:
        """Cell row of every point (``-1`` when not attributed), by the rules of the build.

        ``points``: a GeoDataFrame/GeoSeries (any CRS, reprojected; non-point
        geometries use a representative point) or an ``(k, 2)`` array of work-CRS
        metres. Points outside every cell are snapped to the nearest cell when
        ``snap`` (within ``max_snap_m`` metres if given).
        """
        if isinstance(points, gpd.GeoDataFrame | gpd.GeoSeries):
            if points.crs is not None and not pyproj.CRS.from_user_input(points.crs).equals(
                self.crs
            ):
                points = points.to_crs(self.crs)
            xy = point_xy(np.asarray(points.geometry.values, dtype=object))
        else:
            xy = np.asarray(points, dtype=float).reshape(-1, 2)
        locator = self.locator
        if locator is None:
            geoms = np.asarray(self.cells.geometry.values, dtype=object)
            locator = CellLocator(
                geoms,
                np.zeros((len(geoms), 0, 2)),
                np.zeros(len(geoms), dtype=bool),
                np.ones(len(geoms), dtype=bool),
                shapely.STRtree(geoms),
            )
        return locate_points(xy, locator, snap=snap, max_snap_m=max_snap_m).cell


# ---------------------------------------------------------------- helpers
def _fmt(x: float) -> str:
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:,.2f}"


def _snap_note(what: str, loc: Located, total: int) -> list[str]:
    notes = []
    if loc.n_snapped:
        notes.append(
            f"{loc.n_snapped:,} of {total:,} {what} lay outside every cell and were snapped to "
            f"the nearest cell (up to {_fmt(float(loc.snap_distance_m.max()))} m away)"
        )
    if loc.n_dropped:
        notes.append(
            f"{loc.n_dropped:,} of {total:,} {what} were not attributed to any cell "
            "(no location, or farther than max_snap_m)"
        )
    return notes


def _numeric(df: pd.DataFrame, column: str, default: float, what: str, notes: list[str]):
    """A numeric column with missing/non-numeric values replaced by ``default`` (noted)."""
    if column not in df.columns:
        return np.full(len(df), float(default))
    values = pd.to_numeric(df[column], errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(values)
    if bad.any():
        notes.append(f"{int(bad.sum()):,} {what} without a valid {column!r}: taken as {default:g}")
        values = np.where(bad, float(default), values)
    return values


def _valid(geoms: np.ndarray, what: str, notes: list[str]) -> np.ndarray:
    """Invalid geometries repaired with ``make_valid`` (noted); others unchanged."""
    present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    bad = present.copy()
    bad[present] = ~shapely.is_valid(geoms[present])
    if not bad.any():
        return geoms
    geoms = geoms.copy()
    geoms[bad] = shapely.make_valid(geoms[bad])
    notes.append(f"{int(bad.sum()):,} invalid {what} geometries were repaired (make_valid)")
    return geoms


def _in_work_crs(layers: Layers, crs: pyproj.CRS, notes: list[str]) -> Layers:
    """Layers whose CRS differs from ``layers.crs`` are reprojected (noted)."""
    changes = {}
    for name in ("boundary", "population", "districts", "sites", "customers", "barriers"):
        layer = getattr(layers, name)
        if layer is None or layer.crs is None:
            continue
        if not pyproj.CRS.from_user_input(layer.crs).equals(crs):
            changes[name] = layer.to_crs(crs)
            notes.append(f"layer {name!r} was not in the work CRS: reprojected")
    return layers.with_(**changes) if changes else layers


def _choose_lattice(
    layers: Layers,
    config: CellsConfig,
    boundary: shapely.Geometry,
    polygons: gpd.GeoDataFrame | None,
    progress: ProgressCallback,
) -> Lattice:
    area_km2 = boundary.area / 1e6
    if config.lattice == "h3":
        if config.h3_resolution is not None:
            res = config.h3_resolution
        elif config.target_cells is not None:
            res = pick_h3_resolution(area_km2, config.target_cells)
        else:
            res = DEFAULT_H3_RESOLUTION
        return h3_lattice(
            boundary,
            layers.crs,
            res,
            clip=config.clip_to_boundary,
            max_cells=config.max_cells,
            progress=progress,
        )
    if config.lattice == "square":
        size = config.square_size_m
        if config.target_cells is not None:
            size = max(10.0, round(math.sqrt(boundary.area / config.target_cells) / 10.0) * 10.0)
        return square_lattice(
            boundary,
            size,
            origin=config.square_origin,
            clip=config.clip_to_boundary,
            contiguity=config.contiguity,
            max_cells=config.max_cells,
            progress=progress,
        )
    if polygons is None:
        pop = layers.population
        geoms = np.asarray(pop.geometry.values, dtype=object)
        if len(pop) == 0 or not is_polygonal(geoms).any():
            raise InputError(
                Problem(
                    "lattice 'polygons' needs polygons, and none were given",
                    "cells settings",
                    "pass the planner's polygons, give polygon population data, or use h3/square",
                )
            )
        polygons = pop[is_polygonal(geoms)]
    return polygon_lattice(
        polygons,
        boundary,
        layers.crs,
        id_column=config.polygon_id_column,
        clip=config.clip_to_boundary,
        snap_tolerance_m=config.snap_tolerance_m,
        progress=progress,
    )


# ------------------------------------------------------------------ phases
@dataclass(frozen=True, eq=False)
class _RemapLocator:
    """A lattice locator whose rows were renumbered after merging cells (picklable)."""

    inner: Any
    new_row: np.ndarray

    def __call__(self, xy: np.ndarray) -> np.ndarray:
        out = np.asarray(self.inner(xy), dtype=np.int64).copy()
        ok = out >= 0
        out[ok] = self.new_row[out[ok]]
        return out


def _merge_small_cells(lat: Lattice, min_area_m2: float, notes: list[str]) -> Lattice:
    """The lattice with its clipped cells under ``min_area_m2`` (m²) merged into their
    neighbour (:func:`~gridplan.cells.clipping.merge_targets`), noting how many."""
    if min_area_m2 <= 0 or not lat.clipped.any():
        return lat
    small = lat.clipped & (shapely.area(lat.geometry) < min_area_m2)
    if not small.any() or small.all():
        return lat
    target = merge_targets(lat.geometry, small)
    keep = ~small
    newpos = np.cumsum(keep) - 1
    new_row = np.where(keep, newpos, newpos[np.maximum(target, 0)])
    geoms = lat.geometry.copy()
    receivers = np.unique(target[small])
    for r in receivers.tolist():
        geoms[r] = polygonal(shapely.union_all(np.r_[geoms[r : r + 1], geoms[target == r]]))
    recv = np.zeros(lat.n, dtype=bool)
    recv[receivers] = True
    pairs = new_row[lat.candidate_pairs] if len(lat.candidate_pairs) else lat.candidate_pairs
    verify = np.asarray(lat.verify, dtype=bool)
    if len(pairs):
        touched = recv[lat.candidate_pairs].any(axis=1) | small[lat.candidate_pairs].any(axis=1)
        pairs = np.sort(pairs, axis=1)
        ok = pairs[:, 0] != pairs[:, 1]
        pairs, verify = pairs[ok], (verify | touched)[ok]
        pairs, idx = np.unique(pairs, axis=0, return_index=True)
        verify = verify[idx]
    border = lat.border.copy()
    np.logical_or.at(border, target[small], lat.border[small])
    convex, clipped = lat.convex.copy(), lat.clipped.copy()
    convex[receivers] = False
    clipped[receivers] = True
    k = int(small.sum())
    notes.append(
        f"{k:,} clipped cell{'s' if k != 1 else ''} smaller than {min_area_m2:g} m² "
        f"{'were' if k != 1 else 'was'} merged into the neighbouring cell sharing the "
        "longest boundary (else the nearest cell)"
    )
    return replace(
        lat,
        cell_id=lat.cell_id[keep],
        geometry=geoms[keep],
        clipped=clipped[keep],
        candidate_pairs=pairs.astype(np.int64),
        verify=verify,
        vertices=lat.vertices[keep],
        convex=convex[keep],
        border=border[keep],
        locate=None if lat.locate is None else _RemapLocator(lat.locate, new_row),
    )


def _require_metric(crs: pyproj.CRS) -> None:
    """Refuse a work CRS that is not projected in metres."""
    if not is_metric(crs):
        raise InputError(
            Problem(
                f"the work CRS {crs.name!r} is not projected in metres",
                "layers",
                "load the layers with gridplan.layers.load_layers (it reprojects to the local UTM "
                "zone) or "
                "reproject them to a metric CRS",
            )
        )


def _neighbour_pairs(lat: Lattice, config: CellsConfig) -> np.ndarray:
    """The lattice's candidate pairs ``(m, 2)``, those flagged for it checked geometrically
    (rook/queen rule of :func:`~gridplan.cells.polygon_graph.verify_contacts`, work-CRS metres)."""
    pairs, verify = lat.candidate_pairs, lat.verify
    if len(pairs) and verify.any():
        ok = np.ones(len(pairs), dtype=bool)
        ok[verify] = verify_contacts(
            lat.geometry,
            pairs[verify],
            config.contiguity,
            tolerance_m=config.snap_tolerance_m,
            min_shared_m=config.min_shared_m,
        )
        pairs = pairs[ok]
    return pairs


@dataclass(frozen=True, eq=False)
class _Cells:
    """The lattice's cells with what every aggregation phase needs (work-CRS metres)."""

    lat: Lattice
    tree: shapely.STRtree
    area_m2: np.ndarray
    cxy: np.ndarray
    locator: CellLocator
    max_snap_m: float | None

    @property
    def n(self) -> int:
        return self.lat.n

    @property
    def geoms(self) -> np.ndarray:
        return self.lat.geometry

    def locate(self, xy: np.ndarray, *, snap: bool = True) -> Located:
        """Cell of every point (metres), snapped within ``max_snap_m`` when ``snap``."""
        return locate_points(xy, self.locator, snap=snap, max_snap_m=self.max_snap_m)


def _prepare_cells(lat: Lattice, config: CellsConfig) -> _Cells:
    geoms = lat.geometry
    tree = shapely.STRtree(geoms)
    area_m2 = shapely.area(geoms)
    cxy = np.column_stack([shapely.get_x(c := shapely.centroid(geoms)), shapely.get_y(c)])
    locator = CellLocator(geoms, lat.vertices, lat.convex, lat.border, tree, lat.locate)
    return _Cells(lat, tree, area_m2, cxy, locator, config.max_snap_m)


def _population(
    pop: gpd.GeoDataFrame | None, cells: _Cells, notes: list[str]
) -> tuple[np.ndarray, np.ndarray | None]:
    """Persons (and households, when the layer has them) per cell: polygons by area
    weights, points by location."""
    n = cells.n
    population = np.zeros(n)
    households: np.ndarray | None = None
    if pop is None or not len(pop):
        return population, households
    pgeoms = _valid(np.asarray(pop.geometry.values, dtype=object), "population", notes)
    persons = _numeric(pop, "population", 0.0, "population features", notes)
    has_hh = "households" in pop.columns
    hh = _numeric(pop, "households", 0.0, "population features", notes) if has_hh else None
    poly = is_polygonal(pgeoms)
    point_rows = np.flatnonzero(~poly)
    if poly.any():
        prow = np.flatnonzero(poly)
        lat = cells.lat
        aw = area_weights(
            pgeoms[prow], cells.geoms, cells.tree, cells.area_m2, lat.vertices, lat.convex
        )
        population += aw.apply(persons[prow], n)
        if hh is not None:
            households = aw.apply(hh[prow], n)
        notes.extend(_area_weight_notes(aw, persons[prow]))
    if len(point_rows):
        point_rows = np.sort(point_rows)
        loc = cells.locate(point_xy(pgeoms[point_rows]))
        population += sum_by_cell(loc.cell, persons[point_rows], n)
        if hh is not None:
            hh_pts = sum_by_cell(loc.cell, hh[point_rows], n)
            households = hh_pts if households is None else households + hh_pts
        notes.extend(_snap_note("population points", loc, len(point_rows)))
    if hh is not None and households is None:
        households = np.zeros(n)
    return population, households


def _require_population(pop: gpd.GeoDataFrame | None, population: np.ndarray) -> None:
    """A population layer that puts nobody on any cell is an error, not a warning: it
    lies outside the city (another city, another CRS) or holds only zeros."""
    if pop is None or float(population.sum()) > 0:
        return
    if not len(pop):
        what = "no population reached any cell: no feature of the population layer lies in the city"
    else:
        total = float(pd.to_numeric(pop.get("population"), errors="coerce").fillna(0).sum())
        what = (
            f"no population reached any cell: the {len(pop):,} population features "
            f"({_fmt(total)} persons) lie outside every cell"
            if total > 0
            else f"the {len(pop):,} population features all have population 0"
        )
    raise InputError(
        Problem(
            what,
            "population layer",
            "give the population layer of this city, check its CRS (a missing or wrong .prj "
            "puts it elsewhere on Earth) and its population column",
        )
    )


def _area_weight_notes(aw, persons: np.ndarray) -> list[str]:
    """Notes on population polygons partly or wholly outside the cells."""
    notes = []
    partial = (~aw.uncovered) & (aw.covered_fraction < 0.999)
    if partial.any():
        moved = float(np.sum(persons[partial] * (1 - aw.covered_fraction[partial])))
        notes.append(
            f"{int(partial.sum()):,} population polygons lie partly outside the cells; "
            f"their {_fmt(moved)} persons outside were renormalised onto the cells they "
            "overlap (area weights divided by the covered area)"
        )
    if aw.uncovered.any():
        left = float(persons[aw.uncovered].sum())
        notes.append(
            f"{int(aw.uncovered.sum()):,} population polygons lie wholly outside the "
            f"cells (outside the city): their {_fmt(left)} persons are not counted"
        )
    return notes


def _districts(layers: Layers, cells: _Cells, notes: list[str]) -> np.ndarray:
    """The district name of every cell (largest overlap, else the nearest district)."""
    if layers.districts is None or not len(layers.districts):
        notes.append(f"no district layer: every cell is in district {layers.name!r}")
        return np.full(cells.n, layers.name, dtype=object)
    dgeo = polygonal(
        _valid(np.asarray(layers.districts.geometry.values, dtype=object), "district", notes)
    )
    dnames = (
        layers.districts["district"].astype(str).to_numpy(dtype=object)
        if "district" in layers.districts.columns
        else layers.districts.index.astype(str).to_numpy(dtype=object)
    )
    ok = is_polygonal(dgeo)
    da = assign_districts(cells.geoms, cells.tree, dgeo[ok])
    district = dnames[ok][da.district]
    if da.nearest.any():
        notes.append(
            f"{int(da.nearest.sum()):,} cells overlap no district and took the nearest one"
        )
    if da.split.any():
        notes.append(
            f"{int(da.split.sum()):,} cells straddle a district boundary and took the "
            "district of largest overlap"
        )
    return district


@dataclass(frozen=True, eq=False)
class _CustomerCounts:
    """Customer figures per cell; ``customer_cell`` is each customer's cell row (or None)."""

    counts: np.ndarray
    total: np.ndarray
    spend: np.ndarray
    handsets: np.ndarray
    customer_cell: np.ndarray | None


def _customers(
    cust: gpd.GeoDataFrame | None, codes: tuple[str, ...], cells: _Cells, notes: list[str]
) -> _CustomerCounts:
    """Customers, customers per segment code, spend and handsets per cell."""
    n = cells.n
    if cust is None or not len(cust):
        return _CustomerCounts(
            np.zeros((n, len(codes)), dtype=np.int64),
            np.zeros(n, dtype=np.int64),
            np.zeros(n),
            np.zeros(n),
            None,
        )
    loc = cells.locate(point_xy(np.asarray(cust.geometry.values, dtype=object)))
    customer_cell = loc.cell
    customer_cell.setflags(write=False)
    notes.extend(_snap_note("customers", loc, len(cust)))
    seg = (
        cust["segment"].astype("string")
        if "segment" in cust.columns
        else pd.Series(pd.NA, index=cust.index)
    )
    code_idx = pd.Index(list(codes)).get_indexer(seg.astype(object)).astype(np.int64)
    unknown = code_idx < 0
    if unknown.any():
        shown = sorted({str(s) for s in seg[unknown].head(1000)})[:5]
        notes.append(
            f"{int(unknown.sum()):,} customers have a segment outside the catalogue "
            f"(e.g. {', '.join(shown)}): counted in 'customers' only"
        )
    ok = (loc.cell >= 0) & ~unknown
    flat = np.bincount(loc.cell[ok] * len(codes) + code_idx[ok], minlength=n * len(codes))
    counts = flat.reshape(n, len(codes))
    total = np.bincount(loc.cell[loc.cell >= 0], minlength=n)
    spend = sum_by_cell(loc.cell, _numeric(cust, "spend", 0.0, "customers", notes), n)
    if "handsets" in cust.columns:
        hs = _numeric(cust, "handsets", 1.0, "customers", notes)
    else:
        hs = np.ones(len(cust))
        notes.append("customers carry no 'handsets': each customer counted as 1 handset")
    handsets = sum_by_cell(loc.cell, hs, n)
    return _CustomerCounts(counts, total, spend, handsets, customer_cell)


def _sites(
    st: gpd.GeoDataFrame | None, coverage: CoverageConfig, cells: _Cells, notes: list[str]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(sites, sectors, coverage_raw, coverage)`` per cell from the site layer."""
    n = cells.n
    if st is None or not len(st):
        return np.zeros(n, dtype=np.int64), np.zeros(n), np.zeros(n), np.zeros(n)
    sxy = point_xy(np.asarray(st.geometry.values, dtype=object))
    snotes: list[str] = []
    sect = _numeric(st, "sectors", coverage.default_sectors, "sites", snotes)
    rad = _numeric(st, "radius_m", coverage.default_radius_m, "sites", snotes)
    notes.extend(snotes)
    tech = (
        st["technology"].to_numpy(dtype=object)
        if "technology" in st.columns
        else np.full(len(st), None, dtype=object)
    )
    sloc = cells.locate(sxy, snap=False)
    outside = int((sloc.cell < 0).sum())
    if outside:
        notes.append(
            f"{outside:,} of {len(st):,} sites lie outside every cell: not counted in "
            "'sites'/'sectors', but their coverage still reaches the cells in range"
        )
    sites = np.bincount(sloc.cell[sloc.cell >= 0], minlength=n)
    sectors = sum_by_cell(sloc.cell, sect, n)
    finite = np.isfinite(sxy).all(axis=1)
    raw, score = coverage_scores(
        cells.cxy,
        sxy[finite],
        coverage.weight_of(tech[finite]),
        sect[finite],
        rad[finite],
        coverage,
    )
    return sites, sectors, raw, score


def _differs(labels: np.ndarray, pairs: np.ndarray) -> np.ndarray:
    """Per edge: do its two cells carry different labels?"""
    if not len(pairs):
        return np.zeros(0, dtype=bool)
    codes = pd.factorize(pd.Series(labels, dtype=object))[0]
    return codes[pairs[:, 0]] != codes[pairs[:, 1]]


def _units(layers: Layers, table: gpd.GeoDataFrame, notes: list[str]) -> pd.DataFrame | None:
    """The organisation unit columns of the cells (None without an organisation)."""
    org = layers.organisation
    if org is None:
        return None
    units = assign_units(table, org)
    notes.extend(units.attrs.get("notes", []))
    return units


def _flagged_adjacency(
    pairs: np.ndarray,
    district: np.ndarray,
    layers: Layers,
    config: CellsConfig,
    cells: _Cells,
    notes: list[str],
    unit: np.ndarray | None = None,
) -> Adjacency:
    """The CSR adjacency with district (and lowest-unit) crossings and barrier cuts
    flagged (noting cells in several pieces and separate parts)."""
    crosses = _differs(district, pairs)
    crosses_unit = None if unit is None else _differs(unit, pairs)
    cut = np.zeros(len(pairs), dtype=bool)
    if config.use_barriers and layers.barriers is not None and len(layers.barriers):
        cut = barrier_cuts(
            pairs, cells.cxy, np.asarray(layers.barriers.geometry.values, dtype=object)
        )
    adjacency = Adjacency.from_edges(cells.n, pairs, crosses, cut, crosses_unit=crosses_unit)
    multi = int((cells.lat.clipped & (shapely.get_num_geometries(cells.geoms) > 1)).sum())
    if multi:
        notes.append(
            f"{multi:,} clipped cells are in several pieces (the boundary cuts them apart, e.g. "
            "across a bay); each stays one cell"
        )
    ncomp = adjacency.n_components()
    if ncomp > 1:
        sizes = np.bincount(adjacency.components())
        notes.append(
            f"the cells form {ncomp:,} separate pieces (largest {int(sizes.max()):,} cells, "
            f"{int((sizes == 1).sum()):,} isolated cells): grids cannot join them"
        )
    return adjacency


def _cell_table(
    cells: _Cells,
    district: np.ndarray,
    people: tuple[np.ndarray, np.ndarray | None],
    customers: _CustomerCounts,
    codes: tuple[str, ...],
    network: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    crs: pyproj.CRS,
) -> gpd.GeoDataFrame:
    """The cells GeoDataFrame, columns in the documented order (index ``0..n-1``)."""
    n = cells.n
    population, households = people
    sites, sectors, raw, score = network
    area_km2 = cells.area_m2 / 1e6
    data: dict[str, object] = {
        "cell_id": pd.array(cells.lat.cell_id, dtype=object),
        "district": pd.array(district, dtype=object),
        "area_km2": area_km2,
        "x": cells.cxy[:, 0],
        "y": cells.cxy[:, 1],
        "clipped": cells.lat.clipped,
        "population": population,
    }
    if households is not None:
        data["households"] = households
    data["density"] = np.divide(population, area_km2, out=np.zeros(n), where=area_km2 > 0)
    data["customers"] = customers.total
    for k, code in enumerate(codes):
        data[customer_column(code)] = customers.counts[:, k]
    data["spend"] = customers.spend
    data["handsets"] = customers.handsets
    data["sites"] = sites
    data["sectors"] = sectors
    data["coverage"] = score
    data["coverage_raw"] = raw
    return gpd.GeoDataFrame(data, geometry=cells.geoms, crs=crs, index=pd.RangeIndex(n))


# ------------------------------------------------------------------ build
def build_cells(
    layers: Layers,
    config: CellsConfig = CellsConfig(),
    progress: ProgressCallback = no_progress,
    *,
    polygons: gpd.GeoDataFrame | None = None,
) -> CellSet:
    """Cut the city into base cells and aggregate every layer onto them once.

    All geometry stays in ``layers.crs`` (projected, metres). ``polygons`` are the
    planner's own cells for ``lattice="polygons"`` (any CRS; reprojected). Progress
    is reported through ``progress(fraction, message)``. Raises
    :class:`~gridplan.errors.InputError` when the settings or layers cannot be used.
    """
    crs = pyproj.CRS.from_user_input(layers.crs)
    _require_metric(crs)
    notes: list[str] = []
    progress(0.0, "preparing the boundary")
    layers = _in_work_crs(layers, crs, notes)
    boundary = boundary_geometry(layers.boundary)

    lat = _choose_lattice(layers, config, boundary, polygons, scaled(progress, 0.0, 0.35))
    notes.extend(lat.notes)
    lat = _merge_small_cells(lat, config.min_cell_area_m2, notes)
    cells = _prepare_cells(lat, config)
    progress(0.35, "linking neighbouring cells")
    pairs = _neighbour_pairs(lat, config)
    progress(0.45, "spreading population onto cells")
    people = _population(layers.population, cells, notes)
    _require_population(layers.population, people[0])
    progress(0.6, "assigning districts")
    district = _districts(layers, cells, notes)
    progress(0.7, "counting customers")
    codes = config.segments.codes
    customers = _customers(layers.customers, codes, cells, notes)
    progress(0.85, "scoring network coverage")
    network = _sites(layers.sites, config.coverage, cells, notes)
    table = _cell_table(cells, district, people, customers, codes, network, crs)
    units = _units(layers, table, notes)
    unit = None
    if units is not None:
        at = table.columns.get_loc("district") + 1
        for k, col in enumerate(units.columns):
            table.insert(at + k, col, units[col].to_numpy(dtype=object))
        unit = units[f"unit_{layers.organisation.lowest}"].to_numpy(dtype=object)
    progress(0.93, "marking district crossings and barriers")
    adjacency = _flagged_adjacency(pairs, district, layers, config, cells, notes, unit)
    progress(1.0, f"{cells.n:,} cells ready")
    return CellSet(
        table,
        adjacency,
        tuple(notes),
        config,
        h3_resolution=lat.h3_resolution,
        square_size_m=lat.square_size_m,
        customer_cell=customers.customer_cell,
        locator=cells.locator,
    )
