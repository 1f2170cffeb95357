"""`gridplan targets`: the xlsx per level, the CSV fallback, one error listing every
problem (exit status 2), outputs checked before any work."""

from __future__ import annotations

import openpyxl
import pandas as pd
import pytest

from gridplan.cli.main import main
from gridplan.plan.model import save_plan
from tests.plans import tiny_plan

TARGETS = """measure,level,unit,target,kind,key
revenue,city,,1200000,sum,spend=0.6;customers=0.4
revenue,district,武侯区,500000,,
new_lines,city,,300,count,customers
new_lines,manager,Bob,80,count,
retention,city,,95%,rate,
"""
ACTUALS = """measure,grid_id,actual
revenue,G1,120000
revenue,G2,90000
revenue,G3,200000
revenue,G4,150000
revenue,G5,110000
revenue,G6,300000
new_lines,G5,31
new_lines,G6,50
"""


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("targets")
    plan = save_plan(tiny_plan(), folder / "plan.gpkg")
    (folder / "targets.csv").write_text(TARGETS, encoding="utf-8")
    (folder / "actuals.csv").write_text(ACTUALS, encoding="utf-8")
    return plan, folder / "targets.csv", folder / "actuals.csv"


def test_help_lists_the_contract_options(capsys):
    with pytest.raises(SystemExit) as info:
        main(["targets", "--help"])
    assert info.value.code == 0
    text = capsys.readouterr().out
    for option in ("--plan", "--targets", "--actuals", "--out"):
        assert option in text


def test_targets_writes_a_sheet_per_level(files, tmp_path, capsys):
    plan, targets, actuals = files
    out = tmp_path / "targets.xlsx"
    argv = ["targets", "--plan", str(plan), "--targets", str(targets), "--actuals", str(actuals)]
    assert main([*argv, "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "revenue (sum): target 1,200,000, actual 970,000, attainment 80.8%" in printed
    assert f"wrote {out}" in printed
    assert openpyxl.load_workbook(out).sheetnames == [
        "city", "district", "area", "manager", "grid", "inputs"
    ]  # fmt: skip
    sheets = pd.read_excel(out, sheet_name=None)
    for level in ("city", "district", "area", "manager", "grid"):
        table = sheets[level]
        rev = table[table["measure"] == "revenue"]
        assert rev["target"].sum() == pytest.approx(1_200_000, abs=1e-6), level
        lines = table[table["measure"] == "new_lines"]["target"]
        assert lines.sum() == 300 and (lines == lines.round()).all(), level
    district = sheets["district"].set_index(["measure", "unit"])
    assert district.loc[("revenue", "武侯区"), "target"] == 500_000
    manager = sheets["manager"].set_index(["measure", "unit"])
    assert manager.loc[("new_lines", "Bob"), ["target", "actual"]].tolist() == [80, 81]
    assert manager.loc[("new_lines", "Bob"), "attainment"] == pytest.approx(81 / 80)


def test_a_csv_out_holds_every_level(files, tmp_path, capsys):
    plan, targets, _ = files
    out = tmp_path / "targets.csv"
    assert main(["targets", "--plan", str(plan), "--targets", str(targets), "--out", str(out)]) == 0
    table = pd.read_csv(out, encoding="utf-8-sig")
    assert sorted(set(table["level"])) == ["area", "city", "district", "grid", "manager"]
    assert "actual" in table.columns and table["actual"].isna().all()


def test_bad_targets_are_one_message_with_every_row(files, tmp_path, capsys):
    plan, _, _ = files
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "measure,level,unit,target,kind\n"
        "revenue,city,,1000,sum\n"
        "revenue,district,海淀区,10,sum\n"
        "revenue,manager,Bob,-5,sum\n"
        "lines,city,,10,kpi\n"
        "lines2,city,,10,count\n"
        "lines2,grid,G1,8,count\n"
        "lines2,grid,G2,7,count\n",
        encoding="utf-8",
    )
    out = tmp_path / "never.xlsx"
    assert main(["targets", "--plan", str(plan), "--targets", str(bad), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "4 problems" in err
    for text in (
        "row 3: no district '海淀区'",
        "row 4: negative target",
        "row 5: unknown measure kind",
        "rows 6, 7, 8: the lines2 target 10 of the city is less than the 15",
    ):
        assert text in err
    assert "Traceback" not in err and not out.exists()


def test_options_are_checked_before_any_work(files, tmp_path, capsys):
    _, targets, _ = files
    folder = tmp_path / "a_folder.xlsx"
    folder.mkdir()
    argv = ["targets", "--plan", str(tmp_path / "none.gpkg"), "--targets", str(targets)]
    assert main([*argv, "--out", str(tmp_path / "t.txt")]) == 2
    err = capsys.readouterr().err
    assert "no file" in err and "neither .xlsx nor .csv" in err
    plan, _, _ = files
    argv = ["targets", "--plan", str(plan), "--targets", str(targets), "--out", str(folder)]
    assert main(argv) == 2
    assert "is a folder" in capsys.readouterr().err
