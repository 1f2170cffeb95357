"""`gridplan balance --team`: names, capacities and home bases of the managers."""

from __future__ import annotations

import json

import pandas as pd
from pyproj import Transformer

from tests.cli.test_cli_balance import _balance, _grids, _no_traceback, _units_args

X0, Y0 = 500_000, 3_500_000  # the grids' origin (UTM 50N, 500 m grids)


def _lonlat(x: float, y: float) -> tuple[float, float]:
    return Transformer.from_crs("EPSG:32650", "EPSG:4326", always_xy=True).transform(x, y)


def _setup(tmp_path, team: pd.DataFrame) -> list[str]:
    _grids(6, 6, hours_total=1.0).to_file(tmp_path / "grids.gpkg", driver="GPKG")
    team.to_csv(tmp_path / "team.csv", index=False)
    return [
        "--grids", str(tmp_path / "grids.gpkg"), "--team", str(tmp_path / "team.csv"),
        "--tolerance", "0.0", "--time-limit", "3", "--workers", "1",
        "--out", str(tmp_path / "a.csv"),
    ]  # fmt: skip


def test_team_file_names_capacities_and_homes(tmp_path) -> None:
    # Ana's home in the north-east corner grid (row 5, column 5 = G035), Chen's in the
    # south-east one (G005); Bo has none and twice the capacity
    ne = _lonlat(X0 + 5.5 * 500, Y0 + 5.5 * 500)
    se = _lonlat(X0 + 5.5 * 500, Y0 + 0.5 * 500)
    team = pd.DataFrame(
        {
            "manager": ["Ana", "Bo", "Chen"],
            "capacity_h": [100.0, 200.0, None],
            "home_lon": [ne[0], None, se[0]],
            "home_lat": [ne[1], None, se[1]],
        }
    )
    args = _setup(tmp_path, team)
    assert _balance(*args, "--capacity", "100") == 0
    a = pd.read_csv(tmp_path / "a.csv")
    assert set(a["manager"]) == {"Ana", "Bo", "Chen"}
    hours = a["manager"].value_counts()  # one hour per grid
    assert hours["Bo"] == 18 and hours["Ana"] == 9 and hours["Chen"] == 9  # 2:1:1
    own = dict(zip(a["unit_id"], a["manager"], strict=True))
    assert own["G035"] == "Ana" and own["G005"] == "Chen"
    rep = json.loads((tmp_path / "a.json").read_text())
    assert rep["n_managers"] == 3 and rep["contiguous"] and rep["within_tolerance"]


def test_team_and_managers_must_agree(tmp_path, capsys) -> None:
    team = pd.DataFrame({"manager": ["Ana", "Bo"], "capacity_h": [100.0, 100.0]})
    args = _setup(tmp_path, team)
    assert _balance(*args, "--managers", "3") == 2
    err = capsys.readouterr().err
    _no_traceback(err)
    assert "--managers 3 but the team table lists 2 managers" in err
    assert _balance(*args, "--managers", "2") == 0
    assert set(pd.read_csv(tmp_path / "a.csv")["manager"]) == {"Ana", "Bo"}


def test_team_file_problems_are_plain(tmp_path, capsys) -> None:
    team = pd.DataFrame({"manager": ["Ana", "Ana"], "capacity_h": [100.0, -1.0]})
    assert _balance(*_setup(tmp_path, team)) == 2
    err = capsys.readouterr().err
    _no_traceback(err)
    assert "the same manager on several rows" in err and "capacity_h must be > 0" in err
    team.to_csv(tmp_path / "team.csv", index=False)
    units = _units_args(tmp_path, None, "--team", str(tmp_path / "team.csv"))
    assert _balance(*units, "--out", str(tmp_path / "u.csv")) == 2
    assert "--team with --units" in capsys.readouterr().err
