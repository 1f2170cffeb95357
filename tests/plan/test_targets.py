"""KPI targets pushed down the levels: exact totals, integers, locks, rates, actuals,
bad input in one error, and the targets saved with the plan (file and workspace)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gridplan.errors import InputError
from gridplan.plan.model import load_plan, save_plan
from gridplan.plan.targets import (
    NONE_UNIT,
    allocate_grid_targets,
    allocate_rate,
    allocate_sum,
    level_tables,
    plan_levels,
    plan_targets,
    read_actuals,
    read_targets,
    with_targets,
)
from gridplan.plan.workspace import Workspace, describe_changes
from tests.plans import EVIL, tiny_plan

# city → district → grid: A holds g1 (weight 1) and g2 (1), B holds g3 (2)
PATHS = np.array([["c", "A", "g1"], ["c", "A", "g2"], ["c", "B", "g3"]], dtype=object)
W = np.array([1.0, 1.0, 2.0])


def test_hand_computed_largest_remainder_with_a_tie():
    # 10 → A 5, B 5 (equal weights); A: 2.5 / 2.5, the tie goes to g1 (sorts first)
    got, problems = allocate_sum(PATHS, W, {(0, "c"): 10})
    assert problems == []
    assert got.tolist() == [3, 2, 5]


def test_hand_computed_locked_grid_keeps_its_target_and_siblings_share_the_rest():
    # g2 locked at 4: the city's free 6 goes by the free weights (A: 1, B: 2) → 2 and 4
    got, problems = allocate_sum(PATHS, W, {(0, "c"): 10, (2, "g2"): 4})
    assert problems == []
    assert got.tolist() == [2, 4, 4]
    # a locked district: A = 7 (g1, g2 share it 4/3 with the tie to g1), B the rest 3
    got, _ = allocate_sum(PATHS, W, {(0, "c"): 10, (1, "A"): 7})
    assert got.tolist() == [4, 3, 3]


def test_without_a_city_target_the_city_is_the_sum_of_the_given_units():
    got, problems = allocate_sum(PATHS, W, {(1, "B"): 9, (2, "g1"): 2})
    assert problems == [] and got.tolist() == [2, 0, 9]


def test_the_core_reports_locks_that_do_not_fit():
    _, problems = allocate_sum(PATHS, W, {(0, "c"): 10, (2, "g1"): 8, (2, "g2"): 5})
    assert problems == [(0, "c", "exceeded", 13)]
    _, problems = allocate_sum(PATHS, W, {(1, "A"): 10, (2, "g1"): 2, (2, "g2"): 5})
    assert problems == [(1, "A", "unshared", 7)]


def test_rates_are_copied_down_the_deepest_given_wins():
    got = allocate_rate(PATHS, {(0, "c"): 0.9, (1, "A"): 0.95, (2, "g2"): 0.8})
    assert got.tolist() == [0.95, 0.8, 0.9]


def test_levels_of_the_tiny_plan():
    levels = plan_levels(tiny_plan())
    assert list(levels.columns) == ["city", "district", "area", "manager", "grid"]
    assert levels["area"].tolist() == ["东区", "东区", "东区", "东区", EVIL, EVIL]
    assert NONE_UNIT not in set(levels["manager"])


def _targets(rows):
    cols = ["measure", "level", "unit", "target", "kind", "key"]
    return read_targets(pd.DataFrame([dict(zip(cols, r, strict=False)) for r in rows]))


TARGETS = [
    ("revenue", "city", "", "1,000,000.05", "sum", "spend=0.5;customers=0.5"),
    ("revenue", "manager", "Bob", "300000", "sum", ""),
    ("lines", "city", "", "101", "count", "customers"),
    ("lines", "grid", "G1", "30", "count", ""),
    ("retention", "city", "", "90%", "rate", ""),
    ("retention", "area", "东区", "0.95", "rate", ""),
]


def test_totals_are_exact_at_every_level_and_counts_stay_integers():
    plan = tiny_plan()
    tables = level_tables(plan, _targets(TARGETS))
    assert list(tables) == ["city", "district", "area", "manager", "grid"]
    for level, table in tables.items():
        sums = table[table["kind"] != "rate"].groupby("measure")["target"].sum()
        assert round(sums["revenue"], 2) == 1_000_000.05, level
        assert sums["lines"] == 101, level
        lines = table.loc[table["measure"] == "lines", "target"]
        assert (lines == lines.round()).all(), level
        cents = table.loc[table["measure"] == "revenue", "target"] * 100
        assert np.allclose(cents, cents.round(), atol=1e-6), level


def test_a_locked_unit_keeps_its_target():
    tables = level_tables(tiny_plan(), _targets(TARGETS))
    man = tables["manager"].set_index(["measure", "unit"])
    assert man.loc[("revenue", "Bob"), "target"] == 300_000
    assert man.loc[("revenue", "Bob"), "given"] == 300_000
    grid = tables["grid"].set_index(["measure", "unit"])
    assert grid.loc[("lines", "G1"), "target"] == 30
    # the others share the rest: 张三 + 李四 = 1,000,000.05 − 300,000
    others = man.loc[[("revenue", "张三"), ("revenue", "李四")], "target"].sum()
    assert round(others, 2) == 700_000.05
    assert grid.loc[[("revenue", "G5"), ("revenue", "G6")], "target"].sum() == 300_000


def test_rates_are_copied_and_rolled_up_as_weighted_means():
    tables = level_tables(tiny_plan(), _targets(TARGETS))
    grid = tables["grid"][tables["grid"]["measure"] == "retention"].set_index("unit")
    assert grid.loc[["G1", "G2", "G3", "G4"], "target"].tolist() == [0.95] * 4
    assert grid.loc[["G5", "G6"], "target"].tolist() == [0.9, 0.9]
    city = tables["city"].set_index("measure").loc["retention"]
    assert 0.9 < city["target"] < 0.95 and city["given"] == 0.9


def test_actuals_by_customer_and_by_unit_give_attainment_sorted():
    plan = tiny_plan()
    targets = _targets(TARGETS)
    kinds = {"revenue": "sum", "lines": "count", "retention": "rate"}
    cust = plan.customers
    by_customer = pd.DataFrame(
        {"measure": "revenue", "customer_id": cust["customer_id"], "actual": cust["spend"]}
    )
    actuals = read_actuals(by_customer, plan, kinds)
    assert actuals["level"].eq("grid").all()
    assert actuals["actual"].sum() == pytest.approx(cust["spend"].sum())
    tables = level_tables(plan, targets, actuals)
    city = tables["city"].set_index("measure").loc["revenue"]
    assert city["actual"] == pytest.approx(cust["spend"].sum())
    assert city["attainment"] == pytest.approx(cust["spend"].sum() / 1_000_000.05)
    rev = tables["manager"][tables["manager"]["measure"] == "revenue"]
    assert rev["attainment"].is_monotonic_increasing  # the furthest behind first
    assert np.allclose(rev["attainment"], rev["actual"] / rev["target"])
    # actuals given per area roll up to the city, not down to managers
    by_area = pd.DataFrame(
        {"measure": ["lines", "lines"], "level": ["area", "area"], "unit": ["东区", EVIL]}
    ).assign(actual=[50, 20])
    tables = level_tables(plan, targets, read_actuals(by_area, plan, kinds))
    assert tables["city"].set_index("measure").loc["lines", "actual"] == 70
    assert tables["manager"].query("measure == 'lines'")["actual"].isna().all()
    # areas span both districts: a district's actual cannot be told from them
    assert tables["district"].query("measure == 'lines'")["actual"].isna().all()


def test_unit_columns_of_the_grids_are_extra_levels():
    plan = tiny_plan()
    grids = plan.grids.assign(unit_branch=["北", "北", "南", "北", "南", "南"])
    plan = plan.with_(grids=grids)
    levels = plan_levels(plan)
    assert list(levels.columns) == ["city", "district", "unit_branch", "area", "manager", "grid"]
    rows = [("lines", "city", "", "50", "count"), ("lines", "unit_branch", "南", "20", "count")]
    tables = level_tables(plan, _targets(rows))
    branch = tables["unit_branch"].set_index("unit")["target"]
    assert branch.to_dict() == {"北": 30, "南": 20}
    assert tables["grid"].set_index("unit").loc[["G3", "G5", "G6"], "target"].sum() == 20


def test_bad_input_lists_every_problem_with_its_row_and_fix():
    rows = [
        ("revenue", "city", "", "100", "sum"),
        ("revenue", "district", "海淀区", "10", "sum"),  # row 3: no such district
        ("revenue", "manager", "Bob", "-5", "sum"),  # row 4: negative
        ("lines", "city", "", "10", "kpi"),  # row 5: unknown kind
        ("lines2", "city", "", "10", "count"),
        ("lines2", "grid", "G1", "8", "count"),  # rows 6/7: 8 + 7 > 10
        ("lines2", "grid", "G2", "7", "count"),
        ("revenue", "county", "x", "1", "sum"),  # row 9: unknown level
    ]
    with pytest.raises(InputError) as info:
        allocate_grid_targets(tiny_plan(), _targets(rows))
    problems = info.value.problems
    text = str(info.value)
    assert len(problems) == 5, text
    assert "row 3" in text and "no district '海淀区'" in text and "武侯区" in text
    assert "row 4" in text and "negative target" in text
    assert "row 5" in text and "unknown measure kind 'kpi'" in text
    assert "row 9" in text and "unknown level 'county'" in text
    exceeded = next(p for p in problems if "less than" in p.what)
    assert "rows 6, 7, 8" in exceeded.where and "15" in exceeded.what and "raise it" in exceeded.fix


def test_unknown_units_and_customers_in_actuals_are_listed():
    plan = tiny_plan()
    bad = pd.DataFrame(
        {"measure": ["revenue", "nothing"], "grid_id": ["G99", "G1"], "actual": ["x", "1"]}
    )
    with pytest.raises(InputError) as info:
        read_actuals(bad, plan, {"revenue": "sum"})
    text = str(info.value)
    assert "no grid 'G99'" in text and "is not a number" in text
    assert "no target for measure 'nothing'" in text


def test_targets_are_saved_with_the_plan_file(tmp_path):
    plan = with_targets(tiny_plan(), _targets(TARGETS))
    back = load_plan(save_plan(plan, tmp_path / "plan.gpkg"))
    targets, actuals = plan_targets(back)
    assert actuals is None
    assert len(targets) == len(TARGETS)
    a, b = level_tables(plan), level_tables(back)
    for level in a:
        pd.testing.assert_frame_equal(a[level], b[level])


def test_a_target_change_is_a_new_version_with_its_changes_listed(tmp_path):
    ws = Workspace(tmp_path / "ws.sqlite")
    plan = with_targets(tiny_plan(), _targets(TARGETS))
    v1 = ws.save(plan, author="王五", comment="targets for December")
    assert len(v1.changes["targets_changed"]) == len(TARGETS)
    opened = ws.load(v1.plan)
    targets, _ = plan_targets(opened)
    targets.loc[targets["measure"] == "lines", "target"] = [120.0, 30.0]
    v2 = ws.save(with_targets(opened, targets), author="Li", comment="more lines")
    assert v2.version == 2
    assert v2.changes["targets_changed"] == [
        {"measure": "lines", "level": "city", "unit": "", "from": 101.0, "to": 120.0}
    ]
    row = ws.versions(v1.plan).iloc[0]
    assert (row["author"], row["comment"]) == ("Li", "more lines")
    assert "1 target changed (lines city: 101 → 120)" in row["changes"]
    assert "targets changed" in describe_changes(v1.changes)


@pytest.mark.parametrize("seed", range(8))
def test_random_trees_keep_every_lock_and_the_total_exactly(seed):
    """300 grids, 4 districts, 12 areas that do not nest in the districts, 40 managers
    inside the areas; weights with zeros; locked managers (split over districts)."""
    rng = np.random.default_rng(seed)
    n = 300
    manager = rng.integers(0, 40, n)
    area = manager % 12
    district = rng.integers(0, 4, n)
    paths = np.column_stack([np.zeros(n, int), district, area, manager, np.arange(n)]).astype(
        object
    )
    weights = rng.gamma(1.0, 1.0, n) * (rng.random(n) > 0.1)
    free, problems = allocate_sum(paths, weights, {(0, 0): 1_000_003})
    assert problems == [] and free.sum() == 1_000_003 and free.dtype.kind == "i"
    exact = 1_000_003 * weights / weights.sum()
    assert np.abs(free - exact).max() < paths.shape[1]  # one step per level at most
    picked = rng.choice(40, 6, replace=False)
    locks = {(3, int(m)): int(free[manager == m].sum() * rng.uniform(0.5, 1.5)) for m in picked}
    city = max(1_000_003, sum(locks.values()) + 1_000)
    got, problems = allocate_sum(paths, weights, {(0, 0): city, **locks})
    assert problems == []
    assert got.sum() == city and (got >= 0).all()
    for (_, m), value in locks.items():
        assert got[manager == m].sum() == value
