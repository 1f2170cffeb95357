"""The bundled demo cities: New York City and Seoul.

Real small areas and population (see ``data/README.md`` for sources and licences)
plus cell sites and customers that are *synthetic* (``gridplan.demo.synthetic``), all
read from the ``data/`` folder and returned in the city's local UTM CRS (metres).

Files per city under :func:`data_dir` (layers stored in EPSG:4326):

- ``nyc/nyc.gpkg``: ``boundary``, ``districts`` (59 community districts, ``district``
  code such as ``"BK02"``), ``tracts`` (2,325 census tracts 2020, ``tract_id`` GEOID);
  ``nyc/nyc_population_points.parquet``: population on a 100 m raster, as points.
- ``seoul/seoul.gpkg``: ``boundary``, ``districts`` (25 gu, ``district`` code such
  as ``"11010"``), ``dong`` (425 dong, ``dong_id`` 7-digit code).
- ``<city>/<city>_synthetic_sites.parquet`` and ``<city>/<city>_synthetic_customers.parquet``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pyproj

from gridplan.errors import InputError, Problem
from gridplan.layers.crs import local_metric_crs
from gridplan.layers.model import Layers

DEMO_CITIES: tuple[str, ...] = ("nyc", "seoul")
DATA_ENV = "GRIDPLAN_DATA"


@dataclass(frozen=True)
class DemoCity:
    """What is stored for one demo city."""

    key: str
    name: str
    areas_layer: str  # small-area polygons with population in the GeoPackage
    area_id: str  # their id column
    points_file: str | None  # population points (GeoParquet), if any


_CITIES: tuple[DemoCity, ...] = (
    DemoCity("nyc", "New York City", "tracts", "tract_id", "nyc_population_points.parquet"),
    DemoCity("seoul", "Seoul", "dong", "dong_id", None),
)


def demo_city(city: str) -> DemoCity:
    """The description of a demo city; ``city`` is one of :data:`DEMO_CITIES`."""
    key = str(city).strip().lower()
    for spec in _CITIES:
        if spec.key == key:
            return spec
    raise InputError(
        Problem(
            what=f"unknown demo city {city!r}",
            where="demo data",
            fix=f"choose one of {', '.join(DEMO_CITIES)}",
        )
    )


def data_dir() -> Path:
    """The folder holding the demo cities (``nyc/``, ``seoul/``).

    The environment variable ``GRIDPLAN_DATA`` overrides the default, the
    repository's top-level ``data/`` folder next to the ``gridplan`` package.
    """
    env = os.environ.get(DATA_ENV)
    path = Path(env).expanduser() if env else Path(__file__).resolve().parents[2] / "data"
    if not path.is_dir():
        source = f"{DATA_ENV}={env}" if env else "the default next to the gridplan package"
        raise InputError(
            Problem(
                what="the demo data folder does not exist",
                where=f"{path} ({source})",
                fix=(
                    f"set {DATA_ENV} to the folder that holds nyc/ and seoul/ "
                    "(the data/ folder of a gridplan source checkout)"
                ),
            )
        )
    return path


def city_paths(city: str, root: Path | None = None) -> dict[str, Path]:
    """Paths of a demo city's files: ``gpkg``, ``points`` (if any), ``sites``, ``customers``."""
    spec = demo_city(city)
    folder = (Path(root) if root is not None else data_dir()) / spec.key
    paths = {
        "gpkg": folder / f"{spec.key}.gpkg",
        "sites": folder / f"{spec.key}_synthetic_sites.parquet",
        "customers": folder / f"{spec.key}_synthetic_customers.parquet",
        "organisation": folder / f"{spec.key}_organisation_synthetic.csv",
    }
    if spec.points_file:
        paths["points"] = folder / spec.points_file
    return paths


def _need(path: Path, fix: str) -> Path:
    if not path.is_file():
        raise InputError(Problem(what="demo data file is missing", where=str(path), fix=fix))
    return path


#: display labels of the demo organisation's levels
_DEMO_LABELS = {"branch": "Branch 分局", "sub_branch": "Sub-branch 支局"}

_REBUILD_REAL = "restore it from the repository or rebuild it with scripts/build_demo_data.py"
_REBUILD_SYNTHETIC = "generate it with `gridplan demo-data` (gridplan.synthetic.build_synthetic)"


def _read_layer(gpkg: Path, layer: str, crs: pyproj.CRS | None) -> gpd.GeoDataFrame:
    gdf = gpd.read_file(_need(gpkg, _REBUILD_REAL), layer=layer, engine="pyogrio")
    return gdf.to_crs(crs) if crs is not None else gdf


def _read_parquet(path: Path, crs: pyproj.CRS, fix: str) -> gpd.GeoDataFrame:
    return gpd.read_parquet(_need(path, fix)).to_crs(crs)


def demo_polygons(city: str = "nyc", *, root: Path | None = None) -> gpd.GeoDataFrame:
    """The city's small areas with real population, in its local UTM CRS (metres).

    NYC: 2,325 census tracts; Seoul: 425 dong. Columns: ``area_id`` (a copy of
    ``tract_id`` / ``dong_id``), ``population`` (persons), ``households``,
    ``district`` and the city's own columns. Usable as the "own polygons" lattice.
    """
    spec = demo_city(city)
    gpkg = city_paths(city, root)["gpkg"]
    boundary = _read_layer(gpkg, "boundary", None)
    areas = _read_layer(gpkg, spec.areas_layer, local_metric_crs(boundary))
    areas.insert(0, "area_id", areas[spec.area_id].astype(str))
    return areas


def load_demo(
    city: str = "nyc",
    *,
    population: str = "tracts",
    synthetic: bool = True,
    organisation: bool = False,
    root: Path | None = None,
) -> Layers:
    """Load a demo city as :class:`~gridplan.layers.Layers` in its local UTM CRS (metres).

    ``population``: ``"tracts"`` (the city's small-area polygons: census tracts in
    NYC, dong in Seoul; ``"dong"`` and ``"polygons"`` are aliases) or ``"points"``
    (NYC only: 100 m raster cells as points). ``synthetic`` adds the synthetic
    ``sites`` and ``customers`` layers, labelled in ``Layers.synthetic``.
    ``organisation`` adds the SYNTHETIC operator organisation of the city (a district
    table: branches of several districts, one sub-branch per district; NYC: a branch per
    borough, Seoul: a branch per living zone), labelled ``organisation`` in
    ``Layers.synthetic``. ``root`` overrides :func:`data_dir`.
    """
    spec = demo_city(city)
    paths = city_paths(city, root)
    boundary = _read_layer(paths["gpkg"], "boundary", None)
    crs = local_metric_crs(boundary)
    boundary = boundary.to_crs(crs)
    districts = _read_layer(paths["gpkg"], "districts", crs)

    choice = str(population).strip().lower()
    if choice in ("tracts", "dong", "polygons", spec.areas_layer):
        pop = _read_layer(paths["gpkg"], spec.areas_layer, crs)
    elif choice == "points" and "points" in paths:
        pop = _read_parquet(paths["points"], crs, _REBUILD_REAL)
    else:
        options = ["tracts"] + (["points"] if "points" in paths else [])
        raise InputError(
            Problem(
                what=f"population {population!r} is not available for the {spec.name} demo",
                where="load_demo",
                fix=f"use population={' or '.join(repr(o) for o in options)}",
            )
        )

    sites = customers = None
    labels: tuple[str, ...] = ()
    if synthetic:
        sites = _read_parquet(paths["sites"], crs, _REBUILD_SYNTHETIC)
        customers = _read_parquet(paths["customers"], crs, _REBUILD_SYNTHETIC)
        labels = ("sites", "customers")
    org = None
    if organisation:
        from gridplan.layers.organisation import read_organisation

        path = _need(paths["organisation"], _REBUILD_REAL)
        names = districts["district"].astype(str).tolist()
        org = read_organisation(path, crs=crs, districts=names, labels=_DEMO_LABELS)
        labels = (*labels, "organisation")
    return Layers(
        crs=crs,
        boundary=boundary,
        population=pop,
        districts=districts,
        sites=sites,
        customers=customers,
        name=spec.name,
        synthetic=labels,
        organisation=org,
    )
