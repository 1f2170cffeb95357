"""The `gridplan` command: help with units, plain errors, real outputs."""

import subprocess
import sys

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from gridplan.cli.main import build_parser, main

COMMANDS = ["cells", "partition", "balance", "export", "demo", "demo-data"]


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(command, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([command, "--help"])
    assert exit_info.value.code == 0
    assert "usage: gridplan" in capsys.readouterr().out


def test_help_states_units():
    text = build_parser()._subparsers._group_actions[0].choices["cells"].format_help()
    assert "metres" in text and "CNY/month" in text


def _tiny_city(tmp_path):
    """Two districts of 1 km x 2 km in UTM 18N, written as a GeoPackage, a CSV and GeoJSON."""
    crs = 32618
    west = shapely.box(580_000, 4_500_000, 581_000, 4_502_000)
    east = shapely.box(581_000, 4_500_000, 582_000, 4_502_000)
    boundary = gpd.GeoDataFrame({"name": ["tiny"]}, geometry=[west.union(east)], crs=crs)
    districts = gpd.GeoDataFrame({"district": ["W", "E"]}, geometry=[west, east], crs=crs)
    population = gpd.GeoDataFrame({"population": [1000.0, 3000.0]}, geometry=[west, east], crs=crs)
    pts = gpd.GeoSeries(
        [shapely.Point(580_500, 4_500_500), shapely.Point(581_500, 4_501_500)], crs=crs
    ).to_crs(4326)
    customers = pd.DataFrame(
        {
            "customer_id": ["c1", "c2"],
            "segment": ["public", "vip_gold"],
            "spend": [50.0, 2000.0],
            "longitude": pts.x,
            "latitude": pts.y,
        }
    )
    paths = {
        "boundary": tmp_path / "boundary.gpkg",
        "districts": tmp_path / "districts.geojson",
        "population": tmp_path / "population.gpkg",
        "customers": tmp_path / "customers.csv",
    }
    boundary.to_file(paths["boundary"])
    districts.to_crs(4326).to_file(paths["districts"])
    population.to_file(paths["population"])
    customers.to_csv(paths["customers"], index=False)
    return paths


def test_cells_command_writes_aggregated_cells(tmp_path, capsys):
    paths = _tiny_city(tmp_path)
    out = tmp_path / "cells.gpkg"
    args = ["--quiet", "cells", *[f"--{k}={v}" for k, v in paths.items()]]
    status = main([*args, "--lattice", "square", "--size", "500", "--out", str(out)])
    assert status == 0, capsys.readouterr().err
    cells = gpd.read_file(out, layer="cells")
    assert len(cells) == 16  # 2 km x 2 km in 500 m squares
    assert cells["population"].sum() == pytest.approx(4000.0, rel=1e-3)
    assert cells["customers"].sum() == 2
    assert cells["spend"].sum() == pytest.approx(2050.0)
    assert set(cells["district"]) == {"W", "E"}


def test_missing_file_is_a_plain_message_and_status_2(tmp_path, capsys):
    paths = _tiny_city(tmp_path)
    paths["customers"] = tmp_path / "nowhere.csv"
    out = tmp_path / "cells.gpkg"
    args = [f"--{k}={v}" for k, v in paths.items()]
    status = main(["cells", *args, "--out", str(out)])
    err = capsys.readouterr().err
    assert status == 2
    assert "nowhere.csv" in err
    assert "Traceback" not in err
    assert not out.exists()


def test_bad_output_extension_is_refused(tmp_path, capsys):
    paths = _tiny_city(tmp_path)
    args = [f"--{k}={v}" for k, v in paths.items()]
    status = main(["cells", *args, "--out", str(tmp_path / "cells.txt")])
    assert status == 2
    assert ".gpkg" in capsys.readouterr().err


def test_console_script_never_prints_a_traceback(tmp_path):
    bad = tmp_path / "boundary.gpkg"
    bad.write_text("<html>not a geopackage</html>")
    command = [sys.executable, "-m", "gridplan.cli.main", "cells", "--boundary", str(bad)]
    command += ["--population", str(bad), "--out", str(tmp_path / "c.gpkg")]
    result = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "boundary.gpkg" in result.stderr


def _lattice_layer(tmp_path, side=4, population=100.0):
    """``side`` x ``side`` squares of 100 m (UTM 18N) with ``population`` each, two districts."""
    geoms = [
        shapely.box(580_000 + 100 * c, 4.5e6 + 100 * r, 580_100 + 100 * c, 4.5e6 + 100 * r + 100)
        for r in range(side)
        for c in range(side)
    ]
    cells = gpd.GeoDataFrame(
        {
            "block": [f"b{i:02d}" for i in range(side * side)],
            "population": population,
            "district": ["W" if i % side < side // 2 else "E" for i in range(side * side)],
        },
        geometry=geoms,
        crs=32618,
    )
    path = tmp_path / "blocks.geojson"
    cells.to_crs(4326).to_file(path)
    return path


def test_partition_command_writes_grids_and_assignment(tmp_path, capsys):
    cells = _lattice_layer(tmp_path)
    out, table = tmp_path / "grids.gpkg", tmp_path / "cells.csv"
    status = main(
        ["--quiet", "partition", "--cells", str(cells), "--id", "block"]
        + ["--floor", "population=400", "--out", str(out), "--assignment-out", str(table)]
    )
    assert status == 0, capsys.readouterr().err
    grids = gpd.read_file(out, layer="grids")
    assert len(grids) == 4  # 1,600 persons, floor 400, two districts of 800
    assert (grids["population"] >= 400).all()
    assignment = pd.read_csv(table)
    assert list(assignment.columns) == ["cell_id", "grid_id"]
    assert sorted(assignment["cell_id"]) == [f"b{i:02d}" for i in range(16)]
    district_of = dict(zip(grids["grid_id"], grids["district"], strict=True))
    west = {f"b{i:02d}" for i in range(16) if i % 4 < 2}
    for cell, grid in zip(assignment["cell_id"], assignment["grid_id"], strict=True):
        assert district_of[grid] == ("W" if cell in west else "E")


def test_partition_command_same_seed_same_grids(tmp_path, capsys):
    # the whole command twice (automatic workers: two processes from 500 cells on):
    # the same cell -> grid table
    rng = np.random.default_rng(8)
    cells = _lattice_layer(tmp_path, side=24, population=100.0)  # 576 cells: a pool
    layer = gpd.read_file(cells)
    layer["population"] = np.round(rng.lognormal(4.0, 0.6, len(layer)))
    layer.to_file(cells)
    tables = []
    for run in range(2):
        table = tmp_path / f"cells{run}.csv"
        status = main(
            ["--quiet", "partition", "--cells", str(cells), "--id", "block", "--seed", "0"]
            + ["--floor", "population=1500", "--cross-districts"]
            + ["--out", str(tmp_path / f"grids{run}.gpkg"), "--assignment-out", str(table)]
        )
        assert status == 0, capsys.readouterr().err
        tables.append(pd.read_csv(table))
    assert tables[0]["grid_id"].nunique() > 10
    pd.testing.assert_frame_equal(tables[0], tables[1])


def test_partition_floor_above_district_total_explains(tmp_path, capsys):
    cells = _lattice_layer(tmp_path)
    status = main(
        ["partition", "--cells", str(cells), "--id", "block", "--floor", "population=1000"]
        + ["--out", str(tmp_path / "grids.gpkg")]
    )
    err = capsys.readouterr().err
    assert status == 2
    assert "1,000" in err and "800" in err  # the floor and the district's total
    assert not (tmp_path / "grids.gpkg").exists()


def test_partition_unknown_column_names_the_columns_there_are(tmp_path, capsys):
    cells = _lattice_layer(tmp_path)
    status = main(
        ["partition", "--cells", str(cells), "--id", "block", "--floor", "popul=1"]
        + ["--out", str(tmp_path / "grids.gpkg")]
    )
    err = capsys.readouterr().err
    assert status == 2
    assert "'popul'" in err and "population" in err and "blocks.geojson" in err


def test_partition_floor_without_value_is_explained(tmp_path, capsys):
    cells = _lattice_layer(tmp_path)
    status = main(
        ["partition", "--cells", str(cells), "--id", "block", "--floor", "customers"]
        + ["--out", str(tmp_path / "grids.gpkg")]
    )
    err = capsys.readouterr().err
    assert status == 2
    assert "'customers'" in err and "COLUMN=VALUE" in err


@pytest.mark.slow
def test_demo_writes_cells_and_map(tmp_path, capsys):
    status = main(
        [
            "--quiet",
            "demo",
            "--out",
            str(tmp_path),
            "--target-cells",
            "800",
            "--time-limit",
            "5",
            "--skip-exports",
        ]
    )
    assert status == 0, capsys.readouterr().err
    cells = gpd.read_file(tmp_path / "cells.gpkg", layer="cells")
    assert 400 < len(cells) < 1600
    assert cells["population"].sum() > 8_000_000  # real NYC population
    html = (tmp_path / "cells_map.html").read_text(encoding="utf-8")
    assert "L.map(" in html and "cdn.jsdelivr" not in html  # self-contained, offline
    grids = gpd.read_file(tmp_path / "grids.gpkg", layer="grids")
    assert grids["population"].sum() == pytest.approx(cells["population"].sum(), rel=1e-6)
    assignment = pd.read_csv(tmp_path / "cells.csv")
    assert set(assignment["grid_id"]) == set(grids["grid_id"])
    assert len(assignment) == len(cells)
    # workloads computed and every grid given to a manager of the team
    managers = pd.read_csv(tmp_path / "managers.csv")
    assert grids["hours_total"].gt(0).all()
    assert set(grids["manager"]) == set(managers["manager"])
    assert managers["hours"].sum() == pytest.approx(grids["hours_total"].sum(), rel=1e-6)
    assert managers["area"].notna().all()
    territories = gpd.read_file(tmp_path / "plan.gpkg", layer="territories")
    assert sorted(territories["manager"]) == sorted(managers["manager"])
    assert "Territories" in (tmp_path / "territories_map.html").read_text(encoding="utf-8")
    out = capsys.readouterr().out
    assert "managers for" in out and "max deviation" in out
