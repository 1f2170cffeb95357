"""Roles: hours per grid per role and headcount per role on a small city computed by hand.

Standards of the hand-computed city (travel 10 min per visit, no area or spread term;
maintenance 60 min per 1,000 residents; capacity 160 h x 0.8 = 128 h for every role;
a phone contact = a working day / 85 = (128 h / 20 days) / 85 = 6.4 / 85 h):

- group_b  (group client manager): 2 visits x (60 + 10 travel) + 2 calls x 10 = 160 min
- group_c  (group client manager): 1 visit  x (45 + 10 travel)                 =  55 min
- vip_gold (VIP client manager):   1 visit  x (30 + 10 travel) + 1 call x 5    =  45 min
- vip_silver: 1 phone contact a month (phone client manager; counts as a VIP individual)
- business_a (community manager):  1 visit  x (30 + 10 travel)                 =  40 min
- public: 1 phone contact a month (phone client manager)

Grids (district, area): g1 (D1, A1), g2 (D1, A1), g3 (D2, A2), g4 (D2, no area).
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from gridplan.errors import InputError
from gridplan.plan.model import plan_headcount
from gridplan.workload import (
    HOURS,
    HOURS_AREA,
    HOURS_GROUP,
    HOURS_PHONE,
    HOURS_VIP,
    VisitStandard,
    WorkloadConfig,
    default_workload_config,
    grid_workload,
    headcount_by_unit,
    load_visit_standards,
    role_headcount,
)

CFG = WorkloadConfig(
    standards=(
        VisitStandard("group_b", 2.0, 60.0, 2.0, 10.0),
        VisitStandard("group_c", 1.0, 45.0, 0.0, 0.0),
        VisitStandard("vip_gold", 1.0, 30.0, 1.0, 5.0),
        VisitStandard("vip_silver", 0.0, 0.0, 1.0, None),
        VisitStandard("business_a", 1.0, 30.0, 0.0, 0.0),
        VisitStandard("public", 0.0, 0.0, 1.0, None),
    ),
    minutes_per_sqrt_km2=0.0,
    minutes_per_km_spread=0.0,
)

GRIDS = pd.DataFrame(
    {
        "cust_group_b": [30, 40, 0, 0],
        "cust_group_c": [0, 0, 60, 0],
        "cust_vip_gold": [100, 0, 200, 0],
        "cust_vip_silver": [0, 300, 0, 0],
        "cust_business_a": [60, 0, 120, 0],
        "cust_public": [1700, 3400, 1700, 0],
        "population": [20_000, 30_000, 50_000, 10_000],
        "district": ["D1", "D1", "D2", "D2"],
        "area": ["A1", "A1", "A2", ""],
    },
    index=["g1", "g2", "g3", "g4"],
)

CONTACT_H = 6.4 / 85  # hours per phone contact


def _headcount() -> pd.DataFrame:
    return role_headcount(GRIDS, CFG, district=GRIDS["district"], area=GRIDS["area"])


def _row(table: pd.DataFrame, unit: str, role: str) -> pd.Series:
    hit = table[(table["unit"] == unit) & (table["role"] == role)]
    assert len(hit) == 1, (unit, role)
    return hit.iloc[0]


def test_hours_per_grid_per_role_by_hand():
    out = grid_workload(GRIDS, CFG)
    # community manager: business_a 40 min each + maintenance 60 min per 1,000 residents
    # g1: 60 x 40 = 2,400 min = 40 h + 20 h = 60 h; g2: 30 h; g3: 120 x 40 = 80 h + 50 h
    # = 130 h; g4: 10 h
    assert out[HOURS].tolist() == pytest.approx([60.0, 30.0, 130.0, 10.0])
    # group: g1 30 x 160 min = 80 h; g2 40 x 160 = 106.67 h; g3 60 x 55 min = 55 h
    assert out[HOURS_GROUP].tolist() == pytest.approx([80.0, 6400 / 60, 55.0, 0.0])
    # VIP / large: g1 100 x 45 min = 75 h; g3 200 x 45 = 150 h; silver is phone only
    assert out[HOURS_VIP].tolist() == pytest.approx([75.0, 0.0, 150.0, 0.0])
    # phone: contacts g1 1,700, g2 300 + 3,400 = 3,700, g3 1,700 at 6.4 / 85 h each
    assert out["phone_contacts_per_month"].tolist() == [1700, 3700, 1700, 0]
    assert out[HOURS_PHONE].tolist() == pytest.approx([128.0, 3700 * CONTACT_H, 128.0, 0.0])
    assert out[HOURS_AREA].tolist() == [1.0, 1.0, 1.0, 1.0]  # 1 h per grid (default)


def test_headcount_city_by_hand():
    t = _headcount()
    assert list(t["unit"].unique()) == ["city", "D1", "D2", "A1", "A2"]
    cm = _row(t, "city", "cm")  # 230 h / 128 = 1.80 -> 2; no ratio rule
    assert cm["hours"] == pytest.approx(230.0)
    assert cm["by_hours"] == pytest.approx(230 / 128)
    assert pd.isna(cm["managers_by_ratio"]) and cm["recommended"] == 2 and cm["binds"] == "hours"
    # group: 241.67 h / 128 = 1.89 -> 2 by hours; 130 clients / 50 = 2.6 -> 3: the ratio binds
    g = _row(t, "city", "group")
    assert g["hours"] == pytest.approx(80 + 6400 / 60 + 55)
    assert g["units"] == 130 and g["by_ratio"] == pytest.approx(2.6)
    assert (g["managers_by_hours"], g["managers_by_ratio"], g["recommended"]) == (2, 3, 3)
    assert g["binds"] == "ratio"
    # VIP: 225 h / 128 = 1.76 -> 2; 600 VIP individuals / 400 = 1.5 -> 2: the hours bind
    v = _row(t, "city", "vip")
    assert v["hours"] == pytest.approx(225.0) and v["units"] == 600
    assert (v["managers_by_hours"], v["managers_by_ratio"], v["recommended"]) == (2, 2, 2)
    assert v["binds"] == "hours"
    # phone: 7,100 contacts x 6.4 / 85 h = 534.6 h / 128 = 4.18 -> 5 (= 7,100 / 1,700);
    # 7,100 customers / 5,000 = 1.42 -> 2: the hours bind
    p = _row(t, "city", "phone")
    assert p["hours"] == pytest.approx(7100 * CONTACT_H)
    assert p["by_hours"] == pytest.approx(7100 / 1700)
    assert (p["managers_by_hours"], p["managers_by_ratio"], p["recommended"]) == (5, 2, 5)
    assert p["binds"] == "hours"
    # area managers: 2 areas; 40 h per area + 1 h per grid in an area (3) = 83 h -> 1;
    # one per area -> 2: the ratio binds (g4 has no area and no area-manager hours)
    a = _row(t, "city", "area")
    assert a["hours"] == pytest.approx(83.0) and a["units"] == 2
    assert (a["managers_by_hours"], a["managers_by_ratio"], a["recommended"]) == (1, 2, 2)
    assert a["binds"] == "ratio"


def test_headcount_districts_and_areas_by_hand():
    t = _headcount()
    # D1 group: 186.67 h / 128 = 1.458 against 70 / 50 = 1.4: the hours bind, 2 either way
    g = _row(t, "D1", "group")
    assert g["by_hours"] == pytest.approx((80 + 6400 / 60) / 128) and g["by_ratio"] == 1.4
    assert g["recommended"] == 2 and g["binds"] == "hours"
    # D1 phone: 5,400 contacts / 1,700 = 3.18 -> 4 by hours, 5,400 / 5,000 -> 2 by ratio
    p = _row(t, "D1", "phone")
    assert (p["managers_by_hours"], p["managers_by_ratio"], p["recommended"]) == (4, 2, 4)
    # D1 VIP: 75 h -> 0.59; 400 VIP individuals / 400 = 1.0: the ratio binds
    assert _row(t, "D1", "vip")["binds"] == "ratio"
    # D2 group: 55 h -> 0.43 -> 1; 60 clients / 50 = 1.2 -> 2: the ratio binds
    g2 = _row(t, "D2", "group")
    assert (g2["managers_by_hours"], g2["managers_by_ratio"], g2["recommended"]) == (1, 2, 2)
    # D2 phone: exactly 1,700 contacts = 128 h = one manager, not rounded up to two
    assert _row(t, "D2", "phone")["managers_by_hours"] == 1
    # D2 community managers: 140 h -> 2; A2 (g3 only): 130 h -> 2
    assert _row(t, "D2", "cm")["recommended"] == 2
    assert _row(t, "A2", "cm")["hours"] == pytest.approx(130.0)
    # area A1: 40 h + 2 grids x 1 h = 42 h -> 1; one area -> 1
    a1 = _row(t, "A1", "area")
    assert a1["hours"] == pytest.approx(42.0) and a1["recommended"] == 1
    wide = headcount_by_unit(t).set_index("unit")
    assert wide.loc["city", ["cm", "group", "vip", "phone", "area"]].tolist() == [2, 3, 2, 5, 2]
    assert wide.loc["city", "group_binds"] == "ratio"
    assert wide.loc["D1", "phone"] == 4


def test_phone_productivity_85_contacts_per_working_day():
    # 5,000 customers x 1 contact a month = 5,000 contacts = 5,000 / 85 = 58.8 working days
    # of 6.4 h (128 h / 20 days) = 376.5 h = 2.94 phone client managers (= 5,000 / 1,700);
    # the ratio 5,000 per manager gives 1: the hours bind, 3 recommended
    cfg = WorkloadConfig(standards=(VisitStandard("public", 0.0, 0.0, 1.0, None),))
    t = role_headcount(pd.DataFrame({"cust_public": [5000]}), cfg)
    p = _row(t, "city", "phone")
    assert p["hours"] == pytest.approx(5000 / 85 * 6.4)
    assert p["by_hours"] == pytest.approx(5000 / 1700)
    assert (p["managers_by_hours"], p["managers_by_ratio"], p["recommended"]) == (3, 1, 3)
    # talk time only (3.5 h / 85) would have been 1.83x less
    assert cfg.phone_minutes_per_contact / (3.5 * 60 / 85) == pytest.approx(6.4 / 3.5)


def test_no_work_no_managers_and_own_capacity():
    t = role_headcount(pd.DataFrame({"cust_public": [0]}), CFG)
    assert (t["recommended"] == 0).all() and (t["binds"] == "").all()
    cfg = WorkloadConfig(standards=CFG.standards, group_capacity_h=100.0, cm_capacity_h=115.0)
    t = role_headcount(GRIDS, cfg)
    assert _row(t, "city", "group")["capacity_h"] == 100.0
    assert _row(t, "city", "cm")["by_hours"] == pytest.approx(230 / 115)
    assert _row(t, "city", "vip")["capacity_h"] == 128.0
    assert math.isclose(cfg.capacity_h, 115.0)


def test_plan_headcount_uses_the_balanced_hours_and_the_areas():
    from tests.plans import tiny_plan

    plan = tiny_plan()
    t = plan_headcount(plan)
    cm = _row(t, "city", "cm")
    assert cm["hours"] == pytest.approx(150.0)  # the plan's hours_total, as balanced
    assert cm["recommended"] == 2  # 150 h / 128 h (the team's capacity)
    areas = t.loc[t["level"] == "area", "unit"].unique().tolist()
    assert sorted(areas) == sorted(plan.managers["area"].unique().tolist())
    assert _row(t, "city", "area")["units"] == 2
    assert set(t.loc[t["level"] == "district", "unit"]) == set(plan.grids["district"])


# ------------------------------------------------------------------ the roles in YAML


def _default_text() -> str:
    from gridplan.workload import DEFAULT_VISIT_STANDARDS

    return DEFAULT_VISIT_STANDARDS.read_text(encoding="utf-8")


def _line_of(text: str, needle: str) -> int:
    for i, line in enumerate(text.splitlines(), 1):
        if needle in line:
            return i
    raise AssertionError(needle)


def _write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "standards.yaml"
    p.write_text(text, encoding="utf-8")
    return p


def test_default_roles_from_the_source():
    cfg = default_workload_config()
    assert cfg.group_clients_per_manager == 50
    assert cfg.vip_per_manager == 400
    assert cfg.phone_customers_per_manager == 5000
    assert cfg.effective_contacts_per_day == 85
    assert cfg.areas_per_area_manager == 1
    assert cfg.role_capacity_h("phone") == cfg.capacity_h == 128.0


def test_yaml_roles_override(tmp_path):
    text = _default_text().replace(
        "  group_client_manager:\n", "  group_client_manager:\n    capacity_h: 100\n"
    )
    text = text.replace("customers_per_manager: 5000", "customers_per_manager: 4000")
    text = text.replace("hours_per_area: 40", "hours_per_area: 20")
    cfg = load_visit_standards(_write(tmp_path, text))
    assert cfg.role_capacity_h("group") == 100.0
    assert cfg.phone_customers_per_manager == 4000
    assert cfg.area_hours_per_area == 20


def test_yaml_role_errors_name_key_and_line(tmp_path):
    text = _default_text().replace("clients_per_manager: 50 ", "clients_per_manager: 0 ")
    text = text.replace("hours_per_grid: 1 ", "hours_per_grid: lots ")
    text = text.replace("  area_manager:\n", "  area_manager:\n    bonus: 3\n")
    text = text.replace("  community_manager: {}", "  community_manager: {capacity_h: -8}")
    p = _write(tmp_path, text)
    with pytest.raises(InputError) as err:
        load_visit_standards(p)
    e = err.value
    msg = str(e)
    assert len(e.problems) == 4
    assert "'roles.group_client_manager.clients_per_manager' must be positive" in msg
    assert f"line {_line_of(text, 'clients_per_manager: 0')}" in msg
    assert "'roles.area_manager.hours_per_grid' must be a number, got 'lots'" in msg
    assert f"line {_line_of(text, 'hours_per_grid: lots')}" in msg
    assert "unknown key 'roles.area_manager.bonus'" in msg
    assert f"line {_line_of(text, 'bonus: 3')}" in msg
    assert "'roles.community_manager.capacity_h' must be positive" in msg


def test_yaml_unknown_role_and_old_staffing_section(tmp_path):
    extra = "  marketing_manager: {}\n  area_manager:\n"
    text = _default_text().replace("  area_manager:\n", extra)
    text += "\nstaffing:\n  vip_per_manager: 400\n"
    p = _write(tmp_path, text)
    with pytest.raises(InputError) as err:
        load_visit_standards(p)
    msg = str(err.value)
    assert "unknown key 'roles.marketing_manager'" in msg
    assert f"line {_line_of(text, 'marketing_manager')}" in msg
    assert "'staffing' is now part of 'roles'" in msg
    assert f"line {_line_of(text, 'staffing:')}" in msg


def test_yaml_talk_time_accepted_not_charged(tmp_path):
    text = _default_text().replace(
        "  effective_contacts_per_day: 85",
        "  effective_contacts_per_day: 85\n  effective_talk_hours_per_day: 3.5",
    )
    cfg = load_visit_standards(_write(tmp_path, text))
    assert cfg.phone_minutes_per_contact == pytest.approx(6.4 * 60 / 85)
