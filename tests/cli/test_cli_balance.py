"""`gridplan balance`: the option contract, plain errors (exit 2), grids, atomic outputs."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box

from gridplan._balance.graph import csr_from_edges, is_connected_subset
from gridplan.cli.main import main


def _units(n: int = 40, seed: int = 2) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "tract": [f"T{i:03d}" for i in range(n)],
            "x": rng.random(n) * 100,
            "y": rng.random(n) * 100,
            "population": rng.integers(800, 1200, n),
        }
    )


def _grids(r: int = 4, c: int = 6, **columns) -> gpd.GeoDataFrame:
    x0, y0 = 500_000, 3_500_000  # UTM 50N: the layer stays in its own UTM zone
    geoms = [
        box(x0 + j * 500, y0 + i * 500, x0 + (j + 1) * 500, y0 + (i + 1) * 500)
        for i in range(r)
        for j in range(c)
    ]
    data = {"grid_id": [f"G{i:03d}" for i in range(r * c)], **columns}
    return gpd.GeoDataFrame(data, geometry=geoms, crs="EPSG:32650")


def _balance(*args: str) -> int:
    return main(["--quiet", "balance", *args])


def _units_args(tmp_path, units: pd.DataFrame | None = None, *extra: str) -> list[str]:
    (units if units is not None else _units()).to_csv(tmp_path / "units.csv", index=False)
    return [
        "--units", str(tmp_path / "units.csv"), "--id", "tract", "--x", "x", "--y", "y",
        "--weight", "population", "--managers", "4", "--tolerance", "0.05",
        "--time-limit", "2", *extra,
    ]  # fmt: skip


def _no_traceback(err: str) -> None:
    assert "Traceback" not in err
    assert err.startswith("gridplan balance: ")


# -- the contract ----------------------------------------------------------------------


def test_contract_columns_and_report(tmp_path, capsys):
    units = _units()
    out = tmp_path / "assignment.csv"
    report = tmp_path / "quality.json"
    code = _balance(*_units_args(tmp_path, units), "--out", str(out), "--report", str(report))
    assert code == 0
    a = pd.read_csv(out)
    # the header is literally unit_id (not the --id column name), then manager
    assert list(a.columns) == ["unit_id", "manager"]
    assert a["unit_id"].tolist() == units["tract"].tolist()
    assert a["manager"].nunique() == 4
    rep = json.loads(report.read_text())
    assert rep["n_units"] == 40 and rep["n_managers"] == 4
    assert rep["within_tolerance"] and rep["contiguous"]
    assert rep["tolerance"] == pytest.approx(0.05)
    assert not out.with_suffix(".json").exists()  # --report moved it
    printed = capsys.readouterr().out
    assert f"wrote the assignment to {out}" in printed
    assert f"wrote the quality report to {report}" in printed


def test_report_defaults_beside_the_output(tmp_path):
    out = tmp_path / "plan.csv"
    assert _balance(*_units_args(tmp_path), "--out", str(out)) == 0
    assert json.loads((tmp_path / "plan.json").read_text())["n_units"] == 40


def test_edges_previous_and_locks_files(tmp_path):
    units = _units(30, 1)
    e = [(i, i + 1) for i in range(29)]  # a path: territories are runs of it
    pd.DataFrame({"a": [f"T{a:03d}" for a, _ in e], "b": [f"T{b:03d}" for _, b in e]}).to_csv(
        tmp_path / "edges.csv", index=False
    )
    pd.DataFrame({"unit_id": ["T000", "T029"], "manager": ["west", "east"]}).to_csv(
        tmp_path / "locks.csv", index=False
    )
    units.to_csv(tmp_path / "units.csv", index=False)
    common = [
        "--units", str(tmp_path / "units.csv"), "--id", "tract", "--weight", "population",
        "--managers", "3", "--tolerance", "0.1", "--edges", str(tmp_path / "edges.csv"),
        "--locks", str(tmp_path / "locks.csv"), "--time-limit", "2",
    ]  # fmt: skip
    first = tmp_path / "first.csv"
    assert _balance(*common, "--out", str(first)) == 0
    a = pd.read_csv(first)
    m = dict(zip(a["unit_id"], a["manager"], strict=True))
    assert m["T000"] == "west" and m["T029"] == "east"
    lab = pd.factorize(a["manager"])[0]
    ip, ix = csr_from_edges(30, np.array(e))
    for d in range(3):
        assert is_connected_subset(ip, ix, np.flatnonzero(lab == d))
    # the previous plan meets the tolerance: re-balancing moves no unit
    second = tmp_path / "second.csv"
    assert _balance(*common, "--previous", str(first), "--out", str(second)) == 0
    assert pd.read_csv(second).equals(a)
    assert json.loads(second.with_suffix(".json").read_text())["moved_units"] == 0


# -- bad input: exit 2, a message, no traceback, no output ------------------------------


def test_missing_units_file(tmp_path, capsys):
    out = tmp_path / "a.csv"
    code = _balance(
        "--units", str(tmp_path / "nowhere.csv"), "--weight", "population", "--x", "x",
        "--y", "y", "--managers", "3", "--out", str(out),
    )  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2
    _no_traceback(err)
    assert "nowhere.csv" in err and "file not found" in err
    assert not out.exists()


@pytest.mark.parametrize("option", ["--edges", "--previous", "--locks"])
def test_missing_side_file(tmp_path, capsys, option):
    code = _balance(
        *_units_args(tmp_path), option, str(tmp_path / "gone.csv"), "--out", str(tmp_path / "a.csv")
    )
    err = capsys.readouterr().err
    assert code == 2
    _no_traceback(err)
    assert "gone.csv" in err and "file not found" in err


def test_missing_columns_named_by_their_options(tmp_path, capsys):
    args = _units_args(tmp_path)
    args[args.index("--weight") + 1] = "Population"
    args[args.index("--x") + 1] = "lon"
    code = _balance(*args, "--out", str(tmp_path / "a.csv"))
    err = capsys.readouterr().err
    assert code == 2
    _no_traceback(err)
    assert "no column 'Population' (named by --weight)" in err
    assert "did you mean --weight population?" in err
    assert "no column 'lon' (named by --x)" in err
    assert not (tmp_path / "a.csv").exists()


def test_non_numeric_and_empty_weights(tmp_path, capsys):
    units = _units(10).astype({"population": object})
    units.loc[3, "population"] = "1.2k"
    units.loc[6, "population"] = None
    code = _balance(*_units_args(tmp_path, units), "--out", str(tmp_path / "a.csv"))
    err = capsys.readouterr().err
    assert code == 2
    _no_traceback(err)
    # spreadsheet rows: the header is row 1, so index 3 is row 5
    assert "'population' has 1 value(s) that are not numbers (e.g. '1.2k'; rows 5)" in err
    assert "'population' is empty in 1 place(s) (rows 8)" in err


def test_duplicate_ids(tmp_path, capsys):
    units = _units(10)
    units.loc[4, "tract"] = "T000"
    code = _balance(*_units_args(tmp_path, units), "--out", str(tmp_path / "a.csv"))
    err = capsys.readouterr().err
    assert code == 2 and "duplicate ids in 'tract': T000" in err


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "the file is empty"),
        (b"SQLite format 3\x00" + bytes(200), "give a polygon layer of grids with --grids"),
        (b'"unterminated,quote\n1,2\n', "cannot be read as a CSV table"),
    ],
)
def test_unreadable_units_file(tmp_path, capsys, content, expected):
    (tmp_path / "units.csv").write_bytes(content)
    code = _balance(
        "--units", str(tmp_path / "units.csv"), "--x", "x", "--y", "y", "--weight", "w",
        "--managers", "2", "--out", str(tmp_path / "a.csv"),
    )  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2
    _no_traceback(err)
    assert expected in err
    assert "units.csv" in err


def test_plan_files_are_checked(tmp_path, capsys):
    pd.DataFrame({"unit_id": ["T001", "T999"], "manager": ["a", "b"]}).to_csv(
        tmp_path / "locks.csv", index=False
    )
    pd.DataFrame({"a": ["T000"], "c": ["T001"]}).to_csv(tmp_path / "edges.csv", index=False)
    code = _balance(
        *_units_args(tmp_path), "--locks", str(tmp_path / "locks.csv"), "--out",
        str(tmp_path / "a.csv"),
    )  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2 and "--locks" in err and "'T999'" in err and "not in the units" in err
    code = _balance(
        *_units_args(tmp_path), "--edges", str(tmp_path / "edges.csv"), "--out",
        str(tmp_path / "a.csv"),
    )  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2 and "--edges" in err and "give the columns a,b" in err


def test_option_values_are_checked(tmp_path, capsys):
    args = _units_args(tmp_path)
    args[args.index("--tolerance") + 1] = "3"
    code = _balance(*args, "--out", str(tmp_path / "a.csv"))
    err = capsys.readouterr().err
    assert code == 2 and "(3 % is 0.03)" in err
    code = _balance(
        "--units", str(tmp_path / "units.csv"), "--weight", "population", "--managers", "2",
        "--out", str(tmp_path / "a.csv"),
    )  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2 and "neither coordinates nor edges" in err


def test_infeasible_is_exit_2(tmp_path, capsys):
    code = _balance(*_units_args(tmp_path, _units(3)), "--out", str(tmp_path / "a.csv"))
    err = capsys.readouterr().err
    assert code == 2
    _no_traceback(err)
    assert "4 managers but only 3 units" in err
    assert not (tmp_path / "a.csv").exists()


# -- grids ------------------------------------------------------------------------------


def test_grids_write_territories_and_areas(tmp_path, capsys):
    rng = np.random.default_rng(0)
    grids = _grids(
        4, 6, population=rng.integers(2000, 4000, 24), cust_vip_gold=rng.integers(5, 20, 24)
    )  # no hours_total: computed from the customers and population
    grids.to_file(tmp_path / "grids.gpkg", layer="grids")
    out = tmp_path / "plan" / "assignment.csv"
    code = _balance(
        "--grids", str(tmp_path / "grids.gpkg"), "--managers", "4", "--tolerance", "0.1",
        "--areas", "2", "--area-tolerance", "0.3", "--time-limit", "4", "--out", str(out),
    )  # fmt: skip
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "computed hours_total" in captured.err
    a = pd.read_csv(out)
    assert list(a.columns) == ["unit_id", "manager", "area"]
    assert sorted(a["unit_id"]) == sorted(grids["grid_id"])
    assert set(a["manager"]) == {"M01", "M02", "M03", "M04"}
    # an area holds whole territories
    assert (a.groupby("manager")["area"].nunique() == 1).all()
    assert a["area"].nunique() == 2
    territories_path = out.parent / "territories.gpkg"  # the default: beside --out
    assert f"wrote the territories and areas layers to {territories_path}" in captured.out
    terr = gpd.read_file(territories_path, layer="territories")
    assert len(terr) == 4 and sorted(terr["manager"]) == ["M01", "M02", "M03", "M04"]
    assert terr.crs.to_epsg() == 32650
    assert terr["n_grids"].sum() == 24
    assert terr.geom_type.eq("Polygon").all()  # contiguous
    counts = a["manager"].value_counts()
    assert all(terr.set_index("manager")["n_grids"][m] == counts[m] for m in counts.index)
    areas = gpd.read_file(territories_path, layer="areas")
    assert len(areas) == 2 and areas["territories"].sum() == 4
    rep = json.loads(out.with_suffix(".json").read_text())
    assert rep["n_managers"] == 4 and rep["contiguous"]
    assert rep["areas"]["n_managers"] == 2 and rep["areas"]["n_units"] == 4


def test_grids_weight_column_headcount_and_previous(tmp_path, capsys):
    grids = _grids(3, 4, hours=np.full(12, 64.0))  # 768 h at 128 h -> 6 managers
    grids.to_file(tmp_path / "grids.gpkg")
    out = tmp_path / "a.csv"
    terr = tmp_path / "t.gpkg"
    common = [
        "--grids", str(tmp_path / "grids.gpkg"), "--weight", "hours", "--tolerance", "0",
        "--time-limit", "3", "--territories-out", str(terr),
    ]  # fmt: skip
    assert _balance(*common, "--out", str(out)) == 0
    assert "6 managers" in capsys.readouterr().err
    a = pd.read_csv(out)
    assert a["manager"].value_counts().tolist() == [2] * 6
    assert len(gpd.read_file(terr)) == 6
    again = tmp_path / "b.csv"
    assert _balance(*common, "--previous", str(out), "--out", str(again)) == 0
    assert pd.read_csv(again).equals(a)


def test_grids_without_workload(tmp_path, capsys):
    _grids(2, 2).to_file(tmp_path / "grids.gpkg")
    code = _balance("--grids", str(tmp_path / "grids.gpkg"), "--out", str(tmp_path / "a.csv"))
    err = capsys.readouterr().err
    assert code == 2
    _no_traceback(err)
    assert "no 'hours_total' column" in err and "--weight" in err


def test_grids_territories_out_must_be_gpkg(tmp_path, capsys):
    _grids(2, 2, hours=[1.0] * 4).to_file(tmp_path / "grids.gpkg")
    code = _balance(
        "--grids", str(tmp_path / "grids.gpkg"), "--weight", "hours", "--managers", "2",
        "--out", str(tmp_path / "a.csv"), "--territories-out", str(tmp_path / "t.shp"),
    )  # fmt: skip
    assert code == 2 and "is not a GeoPackage" in capsys.readouterr().err


# -- atomic outputs ---------------------------------------------------------------------


@pytest.mark.parametrize(("error", "code"), [(OSError(28, "No space left on device"), 2),
                                             (RuntimeError("driver crashed"), 3)])  # fmt: skip
def test_failed_write_leaves_no_file(tmp_path, monkeypatch, capsys, error, code):
    _grids(3, 4, hours=np.full(12, 10.0)).to_file(tmp_path / "grids.gpkg")
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    out = out_dir / "assignment.csv"
    out.write_text("unit_id,manager\nold,plan\n")  # a previous version stays untouched
    real = gpd.GeoDataFrame.to_file

    def half_then_fail(self, filename, *args, **kwargs):
        real(self, filename, *args, **kwargs)  # something is on disk already
        raise error

    monkeypatch.setattr(gpd.GeoDataFrame, "to_file", half_then_fail)
    got = _balance(
        "--grids", str(tmp_path / "grids.gpkg"), "--weight", "hours", "--managers", "3",
        "--time-limit", "2", "--out", str(out),
    )  # fmt: skip
    err = capsys.readouterr().err
    assert got == code
    assert "Traceback" not in err
    if code == 2:
        assert "cannot write the output (No space left on device)" in err
        assert "territories.gpkg" in err
    # neither the territories, the report, nor a new assignment; no temporary files
    assert sorted(p.name for p in out_dir.iterdir()) == ["assignment.csv"]
    assert out.read_text() == "unit_id,manager\nold,plan\n"


def test_failed_csv_write_leaves_no_file(tmp_path, monkeypatch, capsys):
    def fail(self, *args, **kwargs):
        raise OSError(13, "Permission denied")

    args = _units_args(tmp_path)  # writes units.csv
    monkeypatch.setattr(pd.DataFrame, "to_csv", fail)
    out_dir = tmp_path / "out"
    code = _balance(*args, "--out", str(out_dir / "a.csv"))
    assert code == 2
    assert "Permission denied" in capsys.readouterr().err
    assert list(out_dir.iterdir()) == []


def test_max_moved_caps_the_changes_from_the_previous_plan(tmp_path, capsys):
    units = _units(30, 1)
    e = [(i, i + 1) for i in range(29)]
    pd.DataFrame({"a": [f"T{a:03d}" for a, _ in e], "b": [f"T{b:03d}" for _, b in e]}).to_csv(
        tmp_path / "edges.csv", index=False
    )
    units.to_csv(tmp_path / "units.csv", index=False)
    # a previous plan whose boundaries sit a few units off a balanced cut
    prev = ["west"] * 12 + ["mid"] * 8 + ["east"] * 10
    pd.DataFrame({"unit_id": units["tract"], "manager": prev}).to_csv(
        tmp_path / "previous.csv", index=False
    )
    common = [
        "--units", str(tmp_path / "units.csv"), "--id", "tract", "--weight", "population",
        "--managers", "3", "--tolerance", "0.1", "--edges", str(tmp_path / "edges.csv"),
        "--previous", str(tmp_path / "previous.csv"), "--time-limit", "2",
    ]  # fmt: skip
    for cap in (0, 1, 3):
        out = tmp_path / f"capped{cap}.csv"
        assert _balance(*common, "--max-moved", str(cap), "--out", str(out)) == 0
        report = json.loads(out.with_suffix(".json").read_text())
        moved = int((pd.read_csv(out)["manager"].to_numpy() != np.array(prev)).sum())
        assert moved == report["moved_units"] <= cap, (cap, moved)
    assert _balance(*common[:-4], "--max-moved", "2", "--out", str(tmp_path / "x.csv")) == 2
    assert "--previous" in capsys.readouterr().err


# -- a missed tolerance ------------------------------------------------------------------


def _heavy_units() -> pd.DataFrame:
    units = _units()
    units.loc[0, "population"] = 20_000  # heavier than a whole target (4 managers)
    return units


@pytest.mark.parametrize("require", [False, True])
def test_missed_tolerance_is_the_last_line_with_the_bound(tmp_path, capsys, require):
    units = _heavy_units()
    w = units["population"].to_numpy(float)
    bound = w.max() / (w.sum() / 4) - 1  # the heaviest unit against the target
    out = tmp_path / "a.csv"
    extra = ["--require-tolerance"] if require else []
    code = _balance(*_units_args(tmp_path, units), "--out", str(out), *extra)
    printed = capsys.readouterr().out.strip().splitlines()
    assert code == (1 if require else 0)
    assert out.exists() and (tmp_path / "a.json").exists()  # written all the same
    last = printed[-1]
    assert last.startswith("tolerance missed: max deviation")
    assert f"±{np.ceil(bound * 1000) / 10:.1f}%" in last and "out of reach" in last
    assert json.loads((tmp_path / "a.json").read_text())["reachable_tolerance"] == pytest.approx(
        bound
    )


def test_require_tolerance_exits_0_when_met(tmp_path, capsys):
    out = tmp_path / "a.csv"
    code = _balance(*_units_args(tmp_path), "--out", str(out), "--require-tolerance")
    printed = capsys.readouterr().out.strip().splitlines()
    assert code == 0
    assert json.loads((tmp_path / "a.json").read_text())["within_tolerance"]
    assert not any("tolerance missed" in line for line in printed)


def test_require_tolerance_is_in_the_help(capsys):
    with pytest.raises(SystemExit):
        main(["balance", "--help"])
    assert "--require-tolerance" in capsys.readouterr().out


def test_grids_same_seed_same_plan_with_two_workers(tmp_path):
    # --time-limit is a work budget: two runs on two worker processes give the same plan.
    # Each run is its own process, as a user runs it (this test process may hold threads
    # from earlier tests, and a threaded process never forks its workers), with a
    # generous safety clock: a loaded test machine must not be what stops the runs.
    import subprocess
    import sys

    rng = np.random.default_rng(4)
    _grids(15, 20, hours_total=rng.lognormal(3.0, 0.5, 300)).to_file(tmp_path / "g.gpkg")
    plans, reports = [], []
    for run in range(2):
        out = tmp_path / f"a{run}.csv"
        args = [
            "balance", "--grids", str(tmp_path / "g.gpkg"), "--managers", "36",
            "--tolerance", "0.03", "--time-limit", "2", "--workers", "2", "--seed", "0",
            "--out", str(out),
        ]  # fmt: skip
        code = (
            "import sys, gridplan.cli.balance as b; b.CLOCK_SAFETY = 30.0; "
            "from gridplan.cli import main; sys.exit(main(sys.argv[1:]))"
        )
        done = subprocess.run(
            [sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=300
        )
        assert done.returncode == 0, done.stderr
        assert "safety clock" not in done.stderr
        plans.append(out.read_text())
        reports.append(json.loads(out.with_suffix(".json").read_text()))
    assert all(r["stopped_by"] != "time" and r["stats"]["processes"] == 2 for r in reports)
    assert plans[0] == plans[1]
    assert reports[0]["max_deviation"] == reports[1]["max_deviation"]


def test_time_limit_help_says_work_budget_and_safety_clock(capsys):
    with pytest.raises(SystemExit):
        main(["balance", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "work budget" in text and "safety net" in text


def test_a_run_stopped_by_the_safety_clock_says_so(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr("gridplan.cli.balance.CLOCK_SAFETY", 0.01)  # a net that always bites
    rng = np.random.default_rng(4)
    _grids(15, 20, hours_total=rng.lognormal(3.0, 0.5, 300)).to_file(tmp_path / "g.gpkg")
    out = tmp_path / "a.csv"
    code = _balance(
        "--grids", str(tmp_path / "g.gpkg"), "--managers", "36", "--time-limit", "2",
        "--out", str(out),
    )  # fmt: skip
    assert code == 0
    assert json.loads(out.with_suffix(".json").read_text())["stopped_by"] == "time"
    assert "safety clock" in capsys.readouterr().err
