"""`gridplan cells --cells-per-grid N --floor …`: the resolution for a number of cells per
grid, the expected grids, and the mean area of the cells as built."""

import re

import geopandas as gpd
import pytest
import shapely

from gridplan.cells.sizing import estimate_grids, mean_cell_area_km2
from gridplan.cli.main import main


def _city(tmp_path):
    """A 4 km x 3 km city of two districts in UTM 18N: 12,000 and 36,000 persons."""
    crs = 32618
    west = shapely.box(580_000, 4_500_000, 582_000, 4_503_000)
    east = shapely.box(582_000, 4_500_000, 584_000, 4_503_000)
    paths = {
        "boundary": tmp_path / "boundary.gpkg",
        "districts": tmp_path / "districts.gpkg",
        "population": tmp_path / "population.gpkg",
    }
    gpd.GeoDataFrame({"name": ["c"]}, geometry=[west.union(east)], crs=crs).to_file(
        paths["boundary"]
    )
    gpd.GeoDataFrame({"district": ["W", "E"]}, geometry=[west, east], crs=crs).to_file(
        paths["districts"]
    )
    gpd.GeoDataFrame({"population": [12_000.0, 36_000.0]}, geometry=[west, east], crs=crs).to_file(
        paths["population"]
    )
    return [f"--{k}={v}" for k, v in paths.items()]


@pytest.mark.parametrize("per_grid", [4, 30])
def test_cells_per_grid_picks_the_coarsest_resolution_that_gives_it(tmp_path, capsys, per_grid):
    out = tmp_path / "cells.gpkg"
    args = ["--quiet", "cells", *_city(tmp_path), "--floor", "population=3000"]
    status = main([*args, "--cells-per-grid", str(per_grid), "--out", str(out)])
    printed = capsys.readouterr().out
    assert status == 0
    cells = gpd.read_file(out, layer="cells")
    res = int(re.search(r"picked H3 resolution (\d+)", printed).group(1))
    assert f"H3 resolution {res}" in printed.splitlines()[-1]
    est = estimate_grids(cells, {"population": 3000.0})
    assert est.cells_per_grid >= 0.8 * per_grid  # the extrapolation is an estimate
    # one resolution coarser would not reach it
    coarser = estimate_grids(cells, {"population": 3000.0}, scale=1 / 7)
    assert coarser.cells_per_grid < per_grid
    assert f"about {est.n_grids:,} grids" in printed
    area = mean_cell_area_km2(cells)
    assert f"mean {area:.3f} km² per cell as built" in printed


def test_floor_alone_prints_the_expected_grids(tmp_path, capsys):
    out = tmp_path / "cells.gpkg"
    args = ["--quiet", "cells", *_city(tmp_path), "--resolution", "9"]
    assert main([*args, "--floor", "population=8000", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    cells = gpd.read_file(out, layer="cells")
    est = estimate_grids(cells, {"population": 8000.0})
    assert f"about {est.n_grids:,} grids, {est.cells_per_grid:.1f} cells per grid" in printed


@pytest.mark.parametrize(
    "extra, words",
    [
        (["--cells-per-grid", "8"], "needs the grid floors"),
        (["--cells-per-grid", "8", "--floor", "population=1", "--resolution", "9"], "--resolution"),
        (["--cells-per-grid", "8", "--floor", "population=1", "--lattice", "square"], "square"),
        (["--cells-per-grid", "0", "--floor", "population=1"], "N > 0"),
        (["--cells-per-grid", "8", "--floor", "tourists=100"], "'tourists'"),
    ],
)
def test_bad_cells_per_grid_is_a_plain_message(tmp_path, capsys, extra, words):
    out = tmp_path / "cells.gpkg"
    status = main(["--quiet", "cells", *_city(tmp_path), *extra, "--out", str(out)])
    err = capsys.readouterr().err
    assert status == 2 and words in err and "Traceback" not in err
    assert not out.exists()
