"""The first thing a new user does, on both demo cities: open the app, keep every
default, Run partition, Balance. The plan must pass every rule the app checks.

Asserted on the plan the app holds (not on printed text only): the app's own live checks
report no violation on the Grids and Territories pages, every territory is within the
default tolerance, and the independent invariant check of ``tests/conftest.py`` passes.
"""

import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from gridplan.plan.model import manager_table
from gridplan.plan.rules import cell_edges, check_plan
from gridplan.plan.steps import plan_floors

APP = str(Path(__file__).resolve().parents[2] / "app.py")
ALL_OK = "All rules hold."
#: Share of a core (CPU seconds of this process per wall second) below which a missed
#: tolerance is put down to a machine busy with other work, not to the engine: the
#: default balance budget is wall-clock seconds (quiet, the search uses about 1 core).
MIN_CPU_SHARE = 0.75


@pytest.fixture(autouse=True)
def workspace_env(tmp_path, monkeypatch):
    monkeypatch.setenv("GRIDPLAN_WORKSPACE", str(tmp_path / "workspace.sqlite"))


def _ok(at: AppTest) -> AppTest:
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    return at


def _assert_exceptions_are_islands_or_slivers(plan, edges, exceptions) -> None:
    """Independently of the rule's code: an accepted island has no edge to a cell of its
    district outside it; an accepted sliver has nobody living in it."""
    cells = plan.cells.reset_index(drop=True)
    pos = pd.Series(np.arange(len(cells)), index=cells["cell_id"].astype(str))
    district = cells["district"].astype(str).to_numpy()
    e = np.asarray(edges).reshape(-1, 2)
    for exc in (x for x in exceptions if x.rule == "grid_contiguity"):
        inside = np.zeros(len(cells), dtype=bool)
        inside[pos[list(exc.cells)].to_numpy()] = True
        if exc.kind == "sliver":
            assert cells.loc[inside, "population"].sum() <= 1.0, exc.message
            continue
        assert exc.kind == "island", exc.message
        across = inside[e[:, 0]] != inside[e[:, 1]]
        a, b = e[across, 0], e[across, 1]
        assert not (district[a] == district[b]).any(), f"not an island: {exc.message}"


def _accepted(report, grid_rule: bool) -> list[str]:
    return [e.id for e in report.exceptions if (e.rule == "grid_contiguity") == grid_rule]


def _assert_partition_valid(at: AppTest, check_plan_invariants) -> None:
    """After Run partition: the live checks hold, several cells per grid, invariants."""
    assert [s.value for s in at.success] == [ALL_OK], [w.value for w in at.warning]
    plan = at.session_state["history"].current
    assert len(plan.cells) / len(plan.grids) >= 8, "several cells per grid by default"
    edges = cell_edges(plan.cells)
    report = check_plan(plan, edges, floors=plan_floors(plan), territories=False)
    assert report.ok, [v.message for v in report.violations]
    _assert_exceptions_are_islands_or_slivers(plan, edges, report.exceptions)
    check_plan_invariants(
        plan,
        edges,
        floors=plan_floors(plan),
        territories=False,
        accepted_grids=_accepted(report, True),
    )


@pytest.mark.parametrize("city", ["nyc", "seoul"])
def test_default_flow_ends_in_a_valid_balanced_plan(city, check_plan_invariants):
    at = AppTest.from_file(APP, default_timeout=300)
    _ok(at.run())
    at.selectbox(key="city").select(city)
    _ok(at.run())
    _ok(at.switch_page("ui/grids_page.py").run())
    _ok(at.button(key="run_partition").click().run())
    _assert_partition_valid(at, check_plan_invariants)

    _ok(at.switch_page("ui/territories_page.py").run())
    wall, cpu = time.perf_counter(), time.process_time()
    _ok(at.button(key="balance").click().run())
    cpu_share = (time.process_time() - cpu) / (time.perf_counter() - wall)
    plan = at.session_state["history"].current
    tolerance = float(plan.tolerance)
    assert tolerance == pytest.approx(0.03)
    table = manager_table(plan)
    assert len(table) == len(plan.managers) > 1
    if not bool(table["within"].all()) and cpu_share < MIN_CPU_SHARE:
        # the default budget is wall-clock seconds: a machine busy with other work gives
        # the search less than a core (measured here), so a miss then says nothing
        pytest.xfail(f"the balance had {cpu_share:.0%} of a core in its default seconds")
    assert ALL_OK in [s.value for s in at.success], [w.value for w in at.warning]
    assert table["deviation"].abs().max() <= tolerance + 1e-9
    assert bool(table["within"].all())
    edges = cell_edges(plan.cells)
    report = check_plan(plan, edges, floors=plan_floors(plan))
    assert report.ok, [v.message for v in report.violations]
    check_plan_invariants(
        plan,
        edges,
        floors=plan_floors(plan),
        tolerance=tolerance,
        accepted_grids=_accepted(report, True),
        accepted_territories=_accepted(report, False),
    )
