"""The team table reader: headers in English or Chinese, blanks, every problem at once."""

import math

import pytest

from gridplan.errors import InputError
from gridplan.layers.team import read_team


def test_reads_english_headers_and_blanks(tmp_path):
    p = tmp_path / "team.csv"
    p.write_text("manager,capacity_h,home_lon,home_lat\nWang,120,126.97,37.56\nLi,,,\n")
    team = read_team(p)
    assert list(team.columns) == ["manager", "capacity_h", "home_lon", "home_lat"]
    assert team["manager"].tolist() == ["Wang", "Li"]
    assert team.loc[0, "capacity_h"] == 120.0 and math.isnan(team.loc[1, "capacity_h"])
    assert team.loc[0, "home_lat"] == pytest.approx(37.56)


def test_reads_chinese_headers_in_gbk(tmp_path):
    p = tmp_path / "team.csv"
    p.write_bytes("姓名,工时,经度,纬度\n王伟,100,104.06,30.67\n".encode("gbk"))
    team = read_team(p)
    assert team.loc[0, "manager"] == "王伟" and team.loc[0, "capacity_h"] == 100.0
    assert team.loc[0, "home_lon"] == pytest.approx(104.06)


def test_every_problem_named_with_its_row(tmp_path):
    p = tmp_path / "team.csv"
    p.write_text("manager,capacity_h,home_lon,home_lat\nWang,abc,,\nWang,-1,200,\n,5,1,1\n")
    with pytest.raises(InputError) as err:
        read_team(p)
    text = str(err.value)
    assert "row 4: manager name missing" in text
    assert "rows 2, 3: the same manager" in text
    assert "row 2: capacity_h is not a number" in text
    assert "row 3: capacity_h must be > 0" in text
    assert "row 3: home base with only one" in text


def test_no_manager_column_says_which_columns_there_are(tmp_path):
    p = tmp_path / "team.csv"
    p.write_text("who,hours\nA,1\n")
    with pytest.raises(InputError, match=r"no manager column \(columns: who, hours"):
        read_team(p)
