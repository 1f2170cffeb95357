"""`--units` (organisation units) on `gridplan cells` and `gridplan run`, `--cross-units`
on `gridplan partition` and `run`: the cells carry the units of every form, grids stay in
one sub-branch unless --cross-units, bad input is exit 2 with every problem named and
nothing written (city of tests/org_city.py)."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest

from gridplan.cli.main import main
from tests import org_city

SQUARES = ["--lattice", "square", "--size", "500"]


@pytest.fixture(scope="module")
def city(tmp_path_factory):
    return org_city.write_city(tmp_path_factory.mktemp("units"))


def _base(city) -> list[str]:
    return ["--boundary", str(city["boundary"]), "--population", str(city["population"])]


def _per_level(city) -> list[str]:
    return [a for lv in org_city.LEVELS for a in ("--units", f"{lv}={city[lv]}")]


def _run(argv: list[str], capsys) -> tuple[int, str, str]:
    try:
        status = main(["--quiet", *argv])
    except SystemExit as exc:
        status = int(exc.code or 0)
    out = capsys.readouterr()
    return status, out.out, out.err


@pytest.fixture(scope="module")
def cells_gpkg(city, tmp_path_factory):
    out = tmp_path_factory.mktemp("cells") / "cells.gpkg"
    assert (
        main(["--quiet", "cells", *_base(city), *SQUARES, *_per_level(city), "--out", str(out)])
        == 0
    )
    return out


def test_cells_prints_the_units_and_every_form_gives_the_same_cells(
    city, cells_gpkg, tmp_path, capsys
):
    a = gpd.read_file(cells_gpkg)
    unit_cols = [c for c in a.columns if c.startswith("unit_")]
    assert len(unit_cols) == 6 and (a[unit_cols] != "").all().all()
    for units in (
        ["--units", str(city["units_b"])],
        ["--districts", str(city["districts"]), "--units", str(city["units_c"])],
    ):
        out = tmp_path / "other.gpkg"
        status, text, err = _run(
            ["cells", *_base(city), *SQUARES, *units, "--out", str(out)], capsys
        )
        assert status == 0, err
        assert "organisation units: county: 2 units; branch: 4 units; sub_branch: 8 units" in text
        pd.testing.assert_frame_equal(gpd.read_file(out)[unit_cols], a[unit_cols])


def test_partition_keeps_grids_in_one_sub_branch_unless_cross_units(cells_gpkg, tmp_path, capsys):
    part = ["partition", "--cells", str(cells_gpkg), "--floor", "population=3000"]
    spans = {}
    for flag in ([], ["--cross-units"]):
        out = tmp_path / f"grids{len(flag)}.gpkg"
        table = tmp_path / f"assignment{len(flag)}.csv"
        status, _, err = _run(
            [*part, *flag, "--out", str(out), "--assignment-out", str(table)], capsys
        )
        assert status == 0, err
        cells = gpd.read_file(cells_gpkg)
        assignment = pd.read_csv(table, dtype=str)
        merged = cells.merge(assignment, on="cell_id")
        spans[bool(flag)] = int(merged.groupby("grid_id")["unit_sub_branch"].nunique().max())
        if not flag:
            grids = gpd.read_file(out)
            assert "unit_sub_branch_name" in grids.columns
    assert spans[False] == 1 and spans[True] > 1


def test_bad_units_name_every_problem_and_write_nothing(city, tmp_path, capsys):
    table = org_city.district_table()
    table.loc[0, "branch"] = ""
    table = table.iloc[:-1]  # district D111 in no unit
    bad = tmp_path / "bad_units.csv"
    table.to_csv(bad, index=False)
    out = tmp_path / "c.gpkg"
    base = ["cells", *_base(city), *SQUARES, "--out", str(out)]
    status, _, err = _run(
        [*base, "--districts", str(city["districts"]), "--units", str(bad)], capsys
    )
    assert status == 2
    assert "internal error" not in err and "Traceback" not in err
    assert "--units bad_units.csv, row 2 (column 'branch'): a district without a unit" in err
    assert "D111" in err and "in no unit" in err
    assert not out.exists()
    cases = [
        (["--units", str(city["units_b"]), "--units", str(city["units_c"])], "cannot combine"),
        (["--units", "county=nope.gpkg"], "file not found: 'nope.gpkg'"),
        (["--units", str(city["units_c"])], "needs the districts layer"),
        (["--units", f"County!={city['county']}"], "bad level key 'County!'"),
    ]
    for extra, words in cases:
        status, _, err = _run([*base, *extra], capsys)
        assert status == 2, extra
        assert words in err, err
        assert "internal error" not in err
        assert not out.exists()


def test_run_with_units_keeps_every_grid_in_one_sub_branch(city, tmp_path, capsys):
    out = tmp_path / "plan"
    argv = [
        "run",
        *_base(city),
        *SQUARES,
        *_per_level(city),
        "--floor",
        "population=3000",
        "--managers",
        "8",
        "--area-size",
        "1",
        "--marketing-ratio",
        "2",
        "--time-limit",
        "5",
        "--balance-time",
        "1",
        "--skip-exports",
        "--out",
        str(out),
    ]
    status, text, err = _run(argv, capsys)
    assert status in (0, 1), err
    assert "territories and areas per branch" in text
    grids = gpd.read_file(out / "grids.gpkg")
    cells = gpd.read_file(out / "cells.gpkg")
    assert cells["unit_sub_branch"].ne("").all()
    assert (cells.groupby("grid_id")["unit_sub_branch"].nunique() == 1).all()
    want = cells.groupby("grid_id")["unit_sub_branch_name"].first()
    assert grids.set_index("grid_id")["unit_sub_branch_name"].to_dict() == want.to_dict()
    # territories and areas formed inside the branches (the level above the lowest)
    managers = pd.read_csv(out / "managers.csv")
    grid_branch = grids.set_index("grid_id")["unit_branch"]
    for row in managers.itertuples():
        held = {grid_branch[g] for g in str(row.grids).split(",") if g}
        assert held <= {row.unit}, (row.manager, held)
    teams = pd.read_csv(out / "area_teams.csv", encoding="utf-8-sig")
    assert teams["area_manager"].str.len().gt(0).all()
    assert (
        pd.read_csv(out / "organisation.csv", encoding="utf-8-sig")["level"] == "branch"
    ).sum() == 4


def test_run_names_a_bad_area_level_and_a_team_too_small(city, tmp_path, capsys):
    argv = ["run", *_base(city), *SQUARES, *_per_level(city), "--floor", "population=3000",
            "--out", str(tmp_path / "x"), "--skip-exports"]  # fmt: skip
    status, _, err = _run([*argv, "--area-level", "region"], capsys)
    assert status == 2 and "county, branch, sub_branch or city" in err
    status, _, err = _run([*argv, "--managers", "3", "--balance-time", "0.5"], capsys)
    assert status == 2 and "3 community managers for 4 branch units" in err
    assert "--area-level" in err
    assert not (tmp_path / "x" / "plan.gpkg").exists()
