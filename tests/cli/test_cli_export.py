"""`gridplan export`: contract options, real files, plain errors with exit status 2."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest

from gridplan.cli.main import main
from gridplan.plan.model import save_plan
from tests.plans import rebalanced, tiny_plan


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    folder = tmp_path_factory.mktemp("plans")
    plan = tiny_plan()
    return save_plan(plan, folder / "plan.gpkg"), save_plan(rebalanced(plan), folder / "old.gpkg")


def test_help_lists_the_contract_options(capsys):
    with pytest.raises(SystemExit) as info:
        main(["export", "--help"])
    assert info.value.code == 0
    text = capsys.readouterr().out
    for option in ("--plan", "--format", "--by", "--out", "--previous", "--aggregates-only",
                   "--min-count", "--language", "--tiles", "--team-zips"):  # fmt: skip
        assert option in text
    assert "geojson" in text and "xlsx" in text


def test_export_one_format_to_a_file(saved, tmp_path, capsys):
    plan_path, _ = saved
    assert main(["--quiet", "export", "--plan", str(plan_path), "--format", "geojson",
                 "--out", str(tmp_path)]) == 0  # fmt: skip
    out = capsys.readouterr().out
    assert "wrote" in out and "_grids.geojson" in out
    grids = gpd.read_file(tmp_path / "测试方案_grids.geojson")
    assert sorted(grids["grid_id"]) == ["G1", "G2", "G3", "G4", "G5", "G6"]


def test_export_by_area_with_handover_and_privacy(saved, tmp_path, capsys):
    plan_path, old = saved
    status = main(["--quiet", "export", "--plan", str(plan_path), "--format", "csv", "--by",
                   "area", "--previous", str(old), "--aggregates-only", "--min-count", "8",
                   "--out", str(tmp_path)])  # fmt: skip
    assert status == 0, capsys.readouterr().err
    names = {p.name for p in tmp_path.iterdir()}
    assert "area-东区_grids.csv" in names and "area-东区_handover_grids.csv" in names
    assert not any(n.endswith("_customers.csv") for n in names)  # no customer rows
    grids = pd.read_csv(tmp_path / "area-东区_grids.csv", encoding="utf-8-sig")
    assert grids["customers"].isna().any() and "suppressed" in grids.columns


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--format", "kmz"], "unknown format 'kmz'"),
        (["--format", "pdf", "--by", "street"], "cannot split by 'street'"),
        (["--format", "kml", "--language", "fr"], "unknown language 'fr'"),
        (["--format", "kml", "--min-count", "-1"], "negative"),
        (["--format", "html", "--tiles", "tiles.intra"], "not a tile URL template"),
        (["--format", "kml", "--previous", "missing.gpkg"], "no plan file 'missing.gpkg'"),
    ],
)
def test_bad_options_exit_2_with_a_message(saved, tmp_path, capsys, args, message):
    plan_path, _ = saved
    status = main(["export", "--plan", str(plan_path), *args, "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert status == 2
    assert message in err and "Fix:" in err and "Traceback" not in err


def test_missing_or_bad_plan_and_output_path(saved, tmp_path, capsys):
    plan_path, _ = saved
    assert main(["export", "--plan", str(tmp_path / "nope.gpkg"), "--out", str(tmp_path)]) == 2
    assert "no plan file" in capsys.readouterr().err
    (tmp_path / "notes.txt").write_text("not a plan")
    assert main(["export", "--plan", str(tmp_path / "notes.txt"), "--out", str(tmp_path)]) == 2
    assert "cannot read" in capsys.readouterr().err
    assert main(["export", "--plan", str(plan_path), "--format", "kml",
                 "--out", str(tmp_path / "x.gpkg")]) == 2  # fmt: skip
    assert "ends in .kml" in capsys.readouterr().err
    assert main(["export", "--plan", str(plan_path), "--format", "csv",
                 "--out", str(tmp_path / "notes.txt")]) == 2  # fmt: skip
    assert "not a folder" in capsys.readouterr().err
    assert not (tmp_path / "x.gpkg").exists()
