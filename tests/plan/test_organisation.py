"""The organisation in a plan: territories and areas inside units, targets per unit,
roll-ups that add up at every level, and the planner's unit choices checked."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gridplan.balance import BalanceConfig
from gridplan.errors import InputError
from gridplan.plan.model import load_plan, manager_table, save_plan
from gridplan.plan.organisation import apportion, org_rollup, org_tables, team_units
from gridplan.plan.steps import balance_plan
from tests.plans import ORG_LEVELS, org_lattice


@pytest.fixture(scope="module")
def balanced():
    plan, edges = org_lattice()
    out, report = balance_plan(
        plan, edges, BalanceConfig(tolerance=0.1, time_limit=6.0, work_limit=1.5, seed=0),
        managers_per_area=2,
    )  # fmt: skip
    return out, report, edges


def test_apportion_by_largest_remainder_with_a_minimum():
    assert apportion([5.0, 3.0, 2.0], 10).tolist() == [5, 3, 2]
    # quotas 4.55, 2.73, 2.73: floors 4 + 2 + 2, the two seats left to the largest remainders
    assert apportion([5.0, 3.0, 3.0], 10).tolist() == [4, 3, 3]
    # quotas 3.5, 3.5, 3.0: one seat left, the tie goes to the first
    assert apportion([3.5, 3.5, 3.0], 10).tolist() == [4, 3, 3]
    assert apportion([100.0, 1.0, 0.0], 4).tolist() == [3, 1, 0]  # the minimum holds
    assert apportion([1.0, 1.0], 2, minimum=1).sum() == 2
    with pytest.raises(ValueError):
        apportion([1.0, 1.0, 1.0], 2)


def test_territories_and_areas_stay_inside_their_branch(balanced):
    plan, report, _ = balanced
    g = plan.grids
    team = plan.managers.set_index("manager")
    # every grid has a manager of its own branch
    assert (g["manager"] != "").all()
    assert (g["unit_branch"].to_numpy() == g["manager"].map(team["unit"]).to_numpy()).all()
    # managers shared by hours: 12 over 4 branches, each branch at least one
    assert team["unit"].value_counts().sum() == 12 and team["unit"].nunique() == 4
    # areas never span branches and are named after theirs
    by_area = team.groupby("area")["unit"].nunique()
    assert (by_area == 1).all()
    for area, unit in team.groupby("area")["unit"].first().items():
        assert area.startswith(f"{unit} 分局 A")
    assert report.contiguous


def test_targets_are_each_units_share_and_within_tolerance(balanced):
    plan, report, _ = balanced
    table = manager_table(plan)
    hours = plan.grids.groupby("unit_branch")["hours_total"].sum()
    assert np.allclose(table.groupby("unit")["target_h"].sum().sort_index(), hours.sort_index())
    assert report.within_tolerance
    assert (table["deviation"].abs() <= 0.1 + 1e-9).all()


def test_rollups_add_up_at_every_level(balanced):
    plan, _, _ = balanced
    tables = org_tables(plan)
    assert list(tables) == ["city", *ORG_LEVELS, "area"]
    city = tables["city"].iloc[0]
    for t in tables.values():
        assert t["hours_total"].sum() == pytest.approx(city["hours_total"])
        assert t["population"].sum() == pytest.approx(city["population"])
        assert t["n_grids"].sum() == len(plan.grids)
    subs, branches = tables["sub_branch"], tables["branch"]
    assert len(subs) == 8 and len(branches) == 4 and len(tables["county"]) == 2
    # each sub-branch names its branch, and the branch is the sum of its sub-branches
    for code, part in subs.groupby("parent"):
        row = branches.set_index("code").loc[code]
        assert part["hours_total"].sum() == pytest.approx(row["hours_total"])
    assert set(branches["parent"]) == {"W", "E"}
    assert (
        branches["n_managers"] == plan.managers.groupby("unit").size().sort_index().to_numpy()
    ).all()
    assert (tables["county"]["hc_cm"] >= 1).all()


def test_rollup_of_an_area_level():
    plan, _ = org_lattice()
    t = org_rollup(plan, "sub_branch")
    assert t["name"].str.endswith("分局").all() and t["code"].is_unique


def test_planners_units_are_kept_and_checked():
    plan, _ = org_lattice()
    team = plan.managers.copy()
    team["unit"] = ["WS", "WN", "ES", "EN"] * 3
    assert list(team_units(plan, team)) == list(team["unit"])
    team.loc[0, "unit"] = "XX"
    team.loc[team["unit"] == "EN", "unit"] = "ES"
    with pytest.raises(InputError) as err:
        team_units(plan, team)
    text = str(err.value)
    assert "XX" in text and "EN" in text and "no manager" in text


def test_a_team_smaller_than_the_units_is_one_clear_error():
    plan, _ = org_lattice()
    small = plan.with_(managers=plan.managers.iloc[:3])
    with pytest.raises(InputError, match="4 branch units"):
        team_units(small, small.managers)


def test_a_lock_across_units_is_refused(balanced):
    plan, _, edges = balanced
    g = plan.grids
    grid = str(g.loc[g["unit_branch"] == "WS", "grid_id"].iloc[0])
    other = str(plan.managers.loc[plan.managers["unit"] == "EN", "manager"].iloc[0])
    with pytest.raises(InputError, match="another branch"):
        balance_plan(plan, edges, BalanceConfig(tolerance=0.1, time_limit=1.0), locks={grid: other})


def test_a_rebalance_keeps_managers_in_their_units(balanced):
    plan, _, edges = balanced
    team = plan.managers.drop(columns="unit")
    again, _ = balance_plan(
        plan.with_(managers=team), edges, BalanceConfig(tolerance=0.1, time_limit=3.0,
        work_limit=0.8),
        previous=dict(zip(plan.grids["grid_id"], plan.grids["manager"], strict=True)),
        managers_per_area=2,
    )  # fmt: skip
    assert dict(zip(again.managers["manager"], again.managers["unit"], strict=True)) == dict(
        zip(plan.managers["manager"], plan.managers["unit"], strict=True)
    )


def test_units_and_staff_survive_a_save(balanced, tmp_path):
    plan, _, _ = balanced
    staff = pd.DataFrame(
        {"person": ["王五"], "role": ["area_manager"], "area": ["WS 分局 A1"], "unit": ["WS"],
         "supports": [""]}
    )  # fmt: skip
    back = load_plan(save_plan(plan.with_(staff=staff), tmp_path / "p.gpkg"))
    assert back.units is not None and len(back.units) == 14
    assert back.staff is not None and back.staff["person"].tolist() == ["王五"]
    assert back.meta["org_levels"] == "county,branch,sub_branch"
    assert (back.grids["unit_sub_branch"] == plan.grids["unit_sub_branch"].to_numpy()).all()
    assert np.allclose(manager_table(back)["target_h"], manager_table(plan)["target_h"])


def test_the_rules_name_a_grid_across_units_and_a_grid_outside_its_managers_unit(balanced):
    from gridplan.plan.rules import check_plan

    plan, _, edges = balanced
    assert not [v for v in check_plan(plan, edges).violations if v.rule == "unit"]
    g = plan.grids.copy()
    ws = g.index[g["unit_branch"] == "WS"][0]
    other = str(plan.managers.loc[plan.managers["unit"] == "EN", "manager"].iloc[0])
    g.loc[ws, "manager"] = other
    cells = plan.cells.copy()
    a = cells.index[cells["unit_sub_branch"] == "WS1"][0]
    cells.loc[a, "unit_sub_branch"] = "WS2"  # a grid now straddles two sub-branches
    bad = plan.with_(grids=g, cells=cells)
    found = [v for v in check_plan(bad, edges).violations if v.rule == "unit"]
    text = " ".join(v.message for v in found)
    assert other in text and str(g.loc[ws, "grid_id"]) in text and "another branch" in text
    assert "spans 2 sub_branch units (WS1, WS2)" in text


def test_targets_push_down_through_every_organisation_level(balanced):
    from gridplan.plan.targets import level_names, level_tables, read_targets

    plan, _, _ = balanced
    levels = level_names(plan)
    assert levels == ["city", "district", "unit_county", "unit_branch", "unit_sub_branch",
                      "area", "manager", "grid"]  # fmt: skip
    targets = read_targets(
        pd.DataFrame(
            {"measure": ["new_lines", "new_lines"], "level": ["city", "unit_branch"],
             "unit": ["city", "WS"], "target": [1001, 300], "kind": ["count", "count"],
             "key": ["population=1", "population=1"]}
        )
    )  # fmt: skip
    tables = level_tables(plan, targets)
    for level in levels:
        t = tables[level]
        assert t["target"].sum() == 1001, level  # exact at every level
        assert (t["target"] == t["target"].round()).all(), level  # integers stay integers
    branch = tables["unit_branch"].set_index("unit")
    assert branch.loc["WS", "target"] == 300  # the locked unit keeps its target
    subs = tables["unit_sub_branch"].set_index("unit")
    assert subs.loc[["WS1", "WS2"], "target"].sum() == 300


def test_every_area_gets_a_leader_named_ones_first(balanced):
    from gridplan.plan.staff import area_team, assign_staff, staff_areas

    plan, _, _ = balanced
    areas = staff_areas(plan)
    second = areas[1]
    unit_en = next(a for a in areas if a.startswith("EN "))
    people = pd.DataFrame(
        {"person": ["王五", "赵六", "钱七", "孙八"],
         "role": ["area_manager", "area_manager", "area_manager", "group_client_manager"],
         "area": [second, "", "no such area", unit_en], "unit": ["", "EN", "", ""]}
    )  # fmt: skip
    staffed = assign_staff(plan, people)
    am = staffed.staff[staffed.staff["role"] == "area_manager"].set_index("area")["person"]
    assert sorted(am.index) == sorted(areas)  # one leader per area, no more
    assert am[second] == "王五"
    assert am[unit_en] == "赵六"  # the first area of the unit he names
    assert "钱七" in set(am)  # an unknown area: the next area without a leader
    assert sum(p.startswith("AM") for p in am) == len(areas) - 3
    team = area_team(staffed)
    assert list(team["area"]) == areas
    assert team["n_community_managers"].sum() == len(plan.managers)
    row = team.set_index("area").loc[unit_en]
    assert row["unit"] == "EN" and "孙八" in row["named_client_managers"]
    assert team["hours"].sum() == pytest.approx(plan.grids["hours_total"].sum())


def test_a_team_table_with_roles_splits_into_managers_and_staff():
    from gridplan.layers.team import split_team, team_from_table

    table = pd.DataFrame(
        {"姓名": ["张三", "李四", "王五", "赵六"], "岗位": ["社区经理", "", "区域经理", "营销经理"],
         "区域": ["", "", "东区 A1", ""], "分局": ["WS", "WS", "", "EN"]}
    )  # fmt: skip
    managers, staff = split_team(team_from_table(table))
    assert managers["manager"].tolist() == ["张三", "李四"]
    assert managers["unit"].tolist() == ["WS", "WS"]
    assert staff["role"].tolist() == ["area_manager", "marketing_manager"]
    assert staff["area"].tolist() == ["东区 A1", ""]
    with pytest.raises(InputError, match="unknown roles"):
        team_from_table(table.assign(岗位=["社区经理", "chef", "", ""]))


def test_marketing_managers_support_ratio_plus_minus_one_of_one_area(balanced):
    from gridplan.plan.pairing import territory_edges
    from gridplan.plan.staff import StaffSettings, assign_staff

    plan, _, _ = balanced
    named = pd.DataFrame({"person": ["周九"], "role": ["marketing_manager"], "area": [""]})
    staffed = assign_staff(plan, named, StaffSettings(marketing_ratio=2))
    mm = staffed.staff[staffed.staff["role"] == "marketing_manager"]
    assert "周九" in set(mm["person"])
    area_of = plan.managers.set_index("manager")["area"]
    managers = plan.managers["manager"].tolist()
    edges = {tuple(e) for e in territory_edges(plan, managers).tolist()}
    supported = []
    for row in mm.itertuples():
        group = row.supports.split(",")
        supported += group
        assert 1 <= len(group) <= 3  # ratio 2 ± 1
        assert {area_of[m] for m in group} == {row.area}  # one area, the one it names
        # contiguous: the group's territories are connected through touching pairs
        pos = [managers.index(m) for m in group]
        seen, todo = {pos[0]}, [pos[0]]
        while todo:
            a = todo.pop()
            for b in pos:
                if b not in seen and (min(a, b), max(a, b)) in edges:
                    seen.add(b)
                    todo.append(b)
        assert seen == set(pos), row.person
    assert sorted(supported) == sorted(managers)  # every community manager once


def test_a_workspace_version_keeps_units_staff_and_targets_per_unit(balanced, tmp_path):
    from gridplan.plan.staff import assign_staff
    from gridplan.plan.workspace import Workspace

    plan, _, _ = balanced
    staffed = assign_staff(plan)
    ws = Workspace(tmp_path / "ws.sqlite")
    ws.save(staffed, name="org", author="测试")
    back = ws.load("org")
    assert back.units is not None and set(back.units["level"]) == set(ORG_LEVELS)
    assert back.units.crs == plan.units.crs
    assert back.staff["person"].tolist() == staffed.staff["person"].tolist()
    assert np.allclose(manager_table(back)["target_h"], manager_table(plan)["target_h"])
