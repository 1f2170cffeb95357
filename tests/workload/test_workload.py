"""Workload model: defaults reproduce the source figures, YAML errors name key and line."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from gridplan.errors import InputError
from gridplan.workload import (
    default_workload_config,
    grid_workload,
    load_visit_standards,
    suggest_headcount,
)


def test_business_a_plus_one_visit_per_quarter_one_call_per_month():
    cfg = default_workload_config()
    s = cfg.standard("business_a_plus")
    assert s.visits_per_month == pytest.approx(1 / 3)
    assert s.calls_per_month == 1
    out = grid_workload(pd.DataFrame({"cust_business_a_plus": [1]}), cfg)
    assert out.loc[0, "visits_per_month"] == pytest.approx(1 / 3)
    assert out.loc[0, "calls_per_month"] == pytest.approx(1.0)
    assert out.loc[0, "hours_visits"] == pytest.approx(s.minutes_per_visit / 3 / 60)
    assert out.loc[0, "hours_calls"] == pytest.approx(s.minutes_per_call / 60)


def test_crystal_two_visits_per_quarter():
    cfg = default_workload_config()
    s = cfg.standard("large_crystal")
    assert s.visits_per_month == pytest.approx(2 / 3)
    assert s.calls_per_month == 1
    higher = [cfg.standard(c).visits_per_month for c in ("large_silver", "large_gold")]
    assert all(v > s.visits_per_month for v in higher)


def test_phone_contact_is_a_working_day_over_85():
    # a contact costs the phone client manager's working day (128 h / 20 days = 6.4 h)
    # / 85 contacts = 4.52 min, dialling and wrap-up included (not 3.5 h of talk / 85)
    cfg = default_workload_config()
    assert cfg.phone_minutes_per_contact == pytest.approx(128 / 20 * 60 / 85)
    assert cfg.standard("public").minutes_per_call is None
    out = grid_workload(pd.DataFrame({"cust_public": [300]}), cfg)
    # public: 1/3 phone contact a month each -> 100 contacts, the phone client manager's
    assert out.loc[0, "phone_contacts_per_month"] == pytest.approx(100)
    assert out.loc[0, "hours_phone"] == pytest.approx(100 * 6.4 / 85)
    assert out.loc[0, "hours_calls"] == 0 and out.loc[0, "hours_total"] == 0


def test_staffing_ratios_and_components_sum():
    cfg = default_workload_config()
    grids = pd.DataFrame(
        {
            "cust_group_a": [10, 0],
            "cust_group_c": [40, 0],
            "cust_vip_gold": [200, 400],
            "cust_business_a_plus": [30, 0],
            "population": [5000, 12000],
            "households": [1800, 4000],
            "area_km2": [4.0, 1.0],
        },
        index=["g1", "g2"],
    )
    out = grid_workload(grids, cfg)
    assert list(out.index) == ["g1", "g2"]
    assert out.loc["g1", "managers_by_group_ratio"] == pytest.approx(50 / 50)
    assert out.loc["g2", "managers_by_vip_ratio"] == pytest.approx(400 / 400)
    parts = out[["hours_visits", "hours_calls", "hours_maintenance", "hours_travel"]].sum(axis=1)
    assert (parts - out["hours_total"]).abs().max() < 1e-9
    roles = ["hours_total", "hours_group", "hours_vip", "hours_phone", "hours_area"]
    assert (out[roles].sum(axis=1) - out["hours_all_roles"]).abs().max() < 1e-9
    assert out.loc["g2", "hours_maintenance"] == pytest.approx(12 * 60 / 60)
    # the community manager's travel: their visits (business A+, 1/3 a month each) x
    # (10 + 5 sqrt(area)) minutes; group and VIP visits travel with their client managers
    assert out.loc["g1", "hours_travel"] == pytest.approx(30 / 3 * (10 + 5 * 2) / 60)
    # group: A 4 visits x (60 + 20 travel) + 4 calls x 10; C 1 x (45 + 20) + 1 x 10 minutes
    group_min = 10 * (4 * 80 + 4 * 10) + 40 * (1 * 65 + 1 * 10)
    assert out.loc["g1", "hours_group"] == pytest.approx(group_min / 60)
    # VIP gold: 1/3 visit x (30 + 15 travel at 1 km²) + 1 call x 5 minutes
    assert out.loc["g2", "hours_vip"] == pytest.approx(400 * (45 / 3 + 5) / 60)


def test_missing_columns_count_as_zero():
    out = grid_workload(pd.DataFrame(index=[1, 2]))
    assert (out["hours_total"] == 0).all()


def test_headcount_city_and_districts():
    hours = pd.Series([100.0, 200.0, 50.0, 0.0])
    by = pd.Series(["a", "b", "a", "c"])
    out = suggest_headcount(hours, capacity_h=128.0, by=by)
    assert out.loc["city", "managers_exact"] == pytest.approx(350 / 128)
    assert out.loc["city", "managers"] == math.ceil(350 / 128)
    assert out.loc["a", "managers"] == 2
    assert out.loc["b", "managers"] == 2
    assert out.loc["c", "managers"] == 0
    assert out.loc["b", "utilisation"] == pytest.approx(200 / 256)
    with pytest.raises(InputError):
        suggest_headcount(hours, capacity_h=0)


def test_headcount_exact_multiple_not_rounded_up():
    out = suggest_headcount(pd.Series([128.0, 128.0]), capacity_h=128.0)
    assert out.loc["city", "managers"] == 2


def _write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "standards.yaml"
    p.write_text(text, encoding="utf-8")
    return p


def _default_text() -> str:
    from gridplan.workload import DEFAULT_VISIT_STANDARDS

    return DEFAULT_VISIT_STANDARDS.read_text(encoding="utf-8")


def _line_of(text: str, needle: str) -> int:
    for i, line in enumerate(text.splitlines(), 1):
        if needle in line:
            return i
    raise AssertionError(needle)


def test_yaml_unknown_segment_names_key_and_line(tmp_path):
    text = _default_text().replace(
        "  public:",
        "  martians: {visits_per_month: 1, minutes_per_visit: 1,"
        " calls_per_month: 0, minutes_per_call: 1}\n  public:",
    )
    p = _write(tmp_path, text)
    with pytest.raises(InputError) as err:
        load_visit_standards(p)
    msg = str(err.value)
    assert "martians" in msg
    assert f"line {_line_of(text, 'martians')}" in msg


def test_yaml_negative_minutes_names_key_and_line(tmp_path):
    text = _default_text().replace(
        "minutes_per_1000_residents: 60", "minutes_per_1000_residents: -5"
    )
    p = _write(tmp_path, text)
    with pytest.raises(InputError) as err:
        load_visit_standards(p)
    msg = str(err.value)
    assert "minutes_per_1000_residents" in msg
    assert f"line {_line_of(text, 'minutes_per_1000_residents')}" in msg


def test_yaml_missing_field_and_wrong_type_reported_together(tmp_path):
    text = _default_text()
    text = text.replace(
        "group_b:       {visits_per_month: 2.0,    minutes_per_visit: 60, calls_per_month: 2,"
        " minutes_per_call: 10}",
        "group_b:       {visits_per_month: 2.0,    minutes_per_visit: 60, calls_per_month: 2}",
    )
    text = text.replace("hours_per_month: 160", "hours_per_month: lots")
    p = _write(tmp_path, text)
    with pytest.raises(InputError) as err:
        load_visit_standards(p)
    e = err.value
    assert len(e.problems) == 2
    msg = str(e)
    assert "segments.group_b.minutes_per_call" in msg
    assert f"line {_line_of(text, 'group_b:')}" in msg
    assert "hours_per_month" in msg and "'lots'" in msg
    assert f"line {_line_of(text, 'hours_per_month: lots')}" in msg


def test_yaml_unknown_top_key_and_bad_syntax(tmp_path):
    p = _write(tmp_path, _default_text() + "\nbonus: 3\n")
    with pytest.raises(InputError, match="unknown key 'bonus'"):
        load_visit_standards(p)
    p = _write(tmp_path, "segments: [unclosed\n")
    with pytest.raises(InputError, match="line"):
        load_visit_standards(p)


def test_yaml_override_changes_hours(tmp_path):
    text = _default_text().replace("utilisation: 0.8", "utilisation: 0.5")
    cfg = load_visit_standards(_write(tmp_path, text))
    assert cfg.capacity_h == pytest.approx(80.0)
