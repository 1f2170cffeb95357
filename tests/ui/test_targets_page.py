"""The Targets page, run headless (AppTest) on the tiny hand-built plan: enter targets,
apply them (an undoable edit carrying them in the plan), the table per level and the
attainment map; bad targets show every problem, not a traceback."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from gridplan.plan.edits import History
from gridplan.plan.targets import plan_targets, read_targets, with_targets
from tests.plans import tiny_plan

PAGE = str(Path(__file__).resolve().parents[2] / "ui" / "targets_page.py")


def _page(plan) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=60)
    history = History()
    history.push(plan, "tiny")
    at.session_state["history"] = history
    at.session_state["lang"] = "en"
    return at


def test_a_plan_without_targets_offers_the_editor_and_applies_targets():
    at = _page(tiny_plan()).run()
    assert not at.exception, at.exception
    assert any("No targets yet" in i.value for i in at.info)
    at.button(key="tgt_apply").click().run()  # the example rows
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    plan = at.session_state["history"].current
    targets, _ = plan_targets(plan)
    assert sorted(targets["measure"]) == ["new_lines", "retention", "revenue"]
    assert at.metric[0].label == "City target"


def test_the_table_per_level_and_attainment():
    plan = tiny_plan()
    rows = pd.DataFrame(
        {"measure": ["revenue"], "level": ["city"], "unit": [""], "target": ["60000"]}
    )
    actuals = pd.DataFrame(
        {"measure": ["revenue"] * 2, "level": ["manager"] * 2, "unit": ["张三", "Bob"]}
    ).assign(actual=[10000.0, 30000.0])
    at = _page(with_targets(plan, read_targets(rows), actuals)).run()
    assert not at.exception, at.exception
    at.selectbox(key="tgt_level").select("manager").run()
    assert not at.exception, at.exception
    table = at.dataframe[-1].value  # the first is the targets editor
    assert table["target"].sum() == pytest.approx(60000)
    assert table["attainment"].dropna().is_monotonic_increasing  # no actual: last
    by = table.set_index("unit")
    assert by.loc["Bob", "attainment"] == pytest.approx(30000 / by.loc["Bob", "target"])
    assert pd.isna(by.loc["李四", "actual"])
    assert at.metric[2].value != "—"


def test_targets_that_no_longer_fit_the_plan_show_every_problem():
    rows = pd.DataFrame(
        {
            "measure": ["revenue", "revenue", "lines"],
            "level": ["city", "manager", "grid"],
            "unit": ["", "Bob", "G6"],
            "target": ["100", "40", "3"],
            "kind": ["sum", "sum", "count"],
        }
    )
    plan = with_targets(tiny_plan(), read_targets(rows))
    # the team and the grids change after the targets were set: Bob and G6 are gone
    grids = plan.grids.assign(
        manager=plan.grids["manager"].replace("Bob", "Bo"),
        grid_id=plan.grids["grid_id"].replace("G6", "G7"),
    )
    managers = plan.managers.assign(manager=plan.managers["manager"].replace("Bob", "Bo"))
    at = _page(plan.with_(grids=grids, managers=managers)).run()
    assert not at.exception, at.exception
    text = " ".join(e.value for e in at.error)
    assert "no manager 'Bob'" in text and "no grid 'G6'" in text
