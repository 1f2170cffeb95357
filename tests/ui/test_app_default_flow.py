"""The first thing a new user does, on both demo cities: open the app, keep every
default, Run partition, Balance. The plan must pass every rule the app checks.

Asserted on the plan the app holds (not on printed text only): the app's own live checks
report no violation on the Grids and Territories pages, every territory is within the
default tolerance, and the independent invariant check of ``tests/conftest.py`` passes.
"""

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from gridplan.plan.model import manager_table
from gridplan.plan.rules import cell_edges, check_plan
from gridplan.plan.steps import plan_floors

APP = str(Path(__file__).resolve().parents[2] / "app.py")
ALL_OK = "All rules hold."


@pytest.fixture(autouse=True)
def workspace_env(tmp_path, monkeypatch):
    monkeypatch.setenv("GRIDPLAN_WORKSPACE", str(tmp_path / "workspace.sqlite"))


def _ok(at: AppTest) -> AppTest:
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    return at


@pytest.mark.parametrize("city", ["nyc", "seoul"])
def test_default_flow_ends_in_a_valid_balanced_plan(city, check_plan_invariants):
    at = AppTest.from_file(APP, default_timeout=300)
    _ok(at.run())
    at.selectbox(key="city").select(city)
    _ok(at.run())
    _ok(at.switch_page("ui/grids_page.py").run())
    _ok(at.button(key="run_partition").click().run())
    assert [s.value for s in at.success] == [ALL_OK], [w.value for w in at.warning]
    plan = at.session_state["history"].current
    assert len(plan.cells) / len(plan.grids) >= 8, "several cells per grid by default"

    _ok(at.switch_page("ui/territories_page.py").run())
    _ok(at.button(key="balance").click().run())
    assert ALL_OK in [s.value for s in at.success], [w.value for w in at.warning]
    plan = at.session_state["history"].current
    tolerance = float(plan.tolerance)
    assert tolerance == pytest.approx(0.03)
    table = manager_table(plan)
    assert len(table) == len(plan.managers) > 1
    assert table["deviation"].abs().max() <= tolerance + 1e-9
    assert bool(table["within"].all())
    report = check_plan(plan, cell_edges(plan.cells), floors=plan_floors(plan))
    assert report.ok, [v.message for v in report.violations]
    check_plan_invariants(plan)
