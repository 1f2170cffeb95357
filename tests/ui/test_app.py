"""The Streamlit app's logic, run headless with AppTest (Seoul demo at H3 resolution 8,
about 1,300 cells; partitions are cached in-process, balances run for 3 s)."""

import io
import zipfile
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from gridplan.plan.workspace import Workspace

APP = str(Path(__file__).resolve().parents[2] / "app.py")


@pytest.fixture(autouse=True)
def workspace_env(tmp_path, monkeypatch):
    path = tmp_path / "workspace.sqlite"
    monkeypatch.setenv("GRIDPLAN_WORKSPACE", str(path))
    return path


@pytest.fixture
def app():
    at = AppTest.from_file(APP, default_timeout=240)
    at.session_state["h3res"] = 8  # the default is 9; 8 keeps these tests quick
    at.run()
    assert not at.exception, at.exception
    return at


def _metric(at, label):
    return next(m.value for m in at.metric if m.label == label)


def _num(text: str) -> float:
    return float(str(text).replace(",", "").rstrip("%"))


def _ok(at):
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    return at


def _partitioned_seoul(at):
    at.selectbox(key="city").select("seoul")
    at.slider(key="h3res").set_value(8).run()  # the default is 9; 8 keeps these tests quick
    at.switch_page("ui/grids_page.py").run()
    _ok(at.button(key="run_partition").click().run())
    return at


def _balanced_seoul(at, managers: int = 12):
    _partitioned_seoul(at)
    _ok(at.switch_page("ui/territories_page.py").run())
    at.number_input(key="team_n").set_value(managers)
    _ok(at.button(key="use_headcount").click().run())
    at.slider(key="tol").set_value(10)
    at.number_input(key="bal_time").set_value(3.0)
    _ok(at.button(key="balance").click().run())
    return at


def _plan(at):
    return at.session_state["history"].current


def test_data_page_shows_demo_city_cells(app):
    assert int(_metric(app, "Cells").replace(",", "")) > 100
    assert int(_metric(app, "Population").replace(",", "")) > 8_000_000
    assert any("SYNTHETIC" in i.value for i in app.info)


def test_switching_city_and_lattice_rebuilds_cells(app):
    nyc_cells = _metric(app, "Cells")
    app.selectbox(key="city").select("seoul").run()
    assert not app.exception
    assert _metric(app, "Cells") != nyc_cells
    assert int(_metric(app, "Districts")) == 25
    app.radio(key="lattice").set_value("polygons").run()
    assert not app.exception
    assert int(_metric(app, "Cells").replace(",", "")) == 425  # Seoul's dong


def test_language_switch_to_chinese(app):
    app.radio(key="lang").set_value("zh").run()
    assert not app.exception
    assert any(m.label == "单元" for m in app.metric)
    assert app.title[0].value == "gridplan · 数据"


def test_grids_page_partition_merge_check_repair_undo_lock_split(app):
    at = _partitioned_seoul(app)
    n = int(_num(_metric(at, "Grids")))
    assert n > 100
    plan = _plan(at)
    ids = list(plan.grids["grid_id"])
    # two grids far apart: the merged grid is in two pieces, the live check says so
    at.multiselect(key="grid_sel").set_value([ids[0], ids[-1]]).run()
    _ok(at.button(key="merge").click().run())
    assert int(_num(_metric(at, "Grids"))) == n - 1
    assert any("grid contiguity" in w.value for w in at.warning)
    repair = next(b for b in at.button if b.label.startswith("Repair: grid"))
    _ok(repair.click().run())
    assert any("All rules hold" in s.value for s in at.success)
    # undo twice: back to the partition
    _ok(at.button(key="undo").click().run())
    _ok(at.button(key="undo").click().run())
    assert int(_num(_metric(at, "Grids"))) == n
    assert _plan(at).grids["grid_id"].tolist() == ids
    # lock a grid, split another one
    big = _plan(at).grids.sort_values("n_cells").iloc[-1]["grid_id"]
    at.multiselect(key="grid_sel").set_value([big]).run()
    _ok(at.button(key="lock").click().run())
    assert _metric(at, "Locked") == "1"
    _ok(at.button(key="split").click().run())
    assert int(_num(_metric(at, "Grids"))) == n + 1
    # re-run the partition on the selection keeps the other grids as they are
    before = _plan(at).cells.set_index("cell_id")["grid_id"]
    sel = [g for g in _plan(at).grids["grid_id"] if str(g).startswith(str(big)[:6])][:3]
    at.multiselect(key="grid_sel").set_value(sel).run()
    _ok(at.button(key="rerun_sel").click().run())
    after = _plan(at).cells.set_index("cell_id")["grid_id"]
    outside = ~before.isin(sel)
    assert (before[outside] == after[outside]).all()


def test_grids_page_new_grid_from_rectangle_of_cells(app):
    at = _partitioned_seoul(app)
    n = int(_num(_metric(at, "Grids")))
    plan = _plan(at)
    gid = plan.grids.sort_values("n_cells").iloc[-1]["grid_id"]
    at.multiselect(key="grid_sel").set_value([gid]).run()  # fills the rectangle with its bounds
    _ok(at.button(key="new_grid").click().run())
    new = _plan(at)
    assert new.meta["last_new_grid"] in set(new.grids["grid_id"])
    assert int(_num(_metric(at, "Grids"))) == n  # the whole grid moved into a new one


def test_territories_balance_reassign_lock_rebalance_save_reopen(
    app, workspace_env, check_plan_invariants
):
    from gridplan.plan.rules import cell_edges

    at = _balanced_seoul(app)
    assert _metric(at, "Managers") == "12"
    # headcount per role: the city's five roles, then city / district / area rows
    roles = next(e for e in at.expander if e.label == "Headcount per role")
    city = roles.dataframe[0].value
    assert len(city) == 5 and city["role_label"].iloc[0] == "Community managers"
    assert (city["recommended"] >= city["managers_by_hours"]).all()
    units = roles.dataframe[1].value
    assert units["level"].iloc[0] == "city"
    # the demo's organisation: branches and sub-branches between districts and areas
    assert set(units["level"]) == {"city", "district", "unit_branch", "unit_sub_branch", "area"}
    plan = _plan(at)
    assert (plan.grids["manager"] != "").all()
    check_plan_invariants(plan, cell_edges(plan.cells))  # cells once, contiguous
    gid = plan.grids["grid_id"].iloc[0]
    old = plan.grids["manager"].iloc[0]
    unit = plan.managers.set_index("manager")["unit"]  # a manager of the grid's branch
    new = next(m for m in plan.managers["manager"] if m != old and unit[m] == unit[old])
    at.selectbox(key="re_grid").select(gid).run()
    at.selectbox(key="re_manager").select(new).run()
    table_before = at.table[0].value.copy()
    _ok(at.button(key="reassign").click().run())
    after = _plan(at)
    assert after.grids.set_index("grid_id").at[gid, "manager"] == new
    assert not at.table[0].value.equals(table_before)
    assert set(at.table[0].value.index) == {old, new}
    # lock it, re-balance with minimum disruption: the locked grid stays
    _ok(at.button(key="lock_grid").click().run())
    assert _metric(at, "Locked grids") == "1"
    _ok(at.button(key="rebalance").click().run())
    assert _plan(at).grids.set_index("grid_id").at[gid, "manager"] == new
    # undo the re-balance, then save
    _ok(at.button(key="undo").click().run())
    at.text_input(key="ws_name").input("seoul test")
    at.text_input(key="ws_author").input("Planner Li")
    at.text_input(key="ws_comment").input("first cut")
    form_submit = next(b for b in at.sidebar.button if b.label == "Save version")
    _ok(form_submit.click().run())
    ws = Workspace(workspace_env)
    assert ws.plans() == ["seoul test"]
    v = ws.versions("seoul test").iloc[0]
    assert v["author"] == "Planner Li" and v["comment"] == "first cut"
    # a new session (the app restarted) reopens it
    again = AppTest.from_file(APP, default_timeout=240)
    again.run()
    again.switch_page("ui/territories_page.py").run()
    assert any("No plan yet" in i.value for i in again.info)
    _ok(again.button(key="ws_open").click().run())
    reopened = _plan(again)
    assert reopened.name == "seoul test"
    assert reopened.grids.set_index("grid_id").at[gid, "manager"] == new
    assert _metric(again, "Managers") == "12"


def test_compare_and_export_pages(app, workspace_env):
    at = _balanced_seoul(app, managers=8)
    at.text_input(key="ws_author").input("Planner Li")
    _ok(next(b for b in at.sidebar.button if b.label == "Save version").click().run())
    plan = _plan(at)
    gid = plan.grids["grid_id"].iloc[1]
    old = plan.grids["manager"].iloc[1]
    unit = plan.managers.set_index("manager")["unit"]  # a manager of the grid's branch
    new = next(m for m in plan.managers["manager"] if m != old and unit[m] == unit[old])
    at.selectbox(key="re_grid").select(gid).run()
    at.selectbox(key="re_manager").select(new).run()
    _ok(at.button(key="reassign").click().run())
    _ok(at.switch_page("ui/compare_page.py").run())
    assert any(f"{gid}: {old} → {new}" in m.value for m in at.markdown)
    moved = at.dataframe[0].value
    assert moved.to_dict("records") == [{"grid_id": gid, "from": old, "to": new}]
    _ok(at.switch_page("ui/export_page.py").run())
    downloads = at.get("download_button")
    assert len(downloads) == 3  # quick tables: grids, managers, customers
    at.selectbox(key="exp_fmt").select("xlsx").run()
    at.selectbox(key="exp_prev").select(1).run()  # hand-over against the saved version
    _ok(at.button(key="prep_export").click().run())
    ready = at.session_state["exp_ready"]
    assert ready[4].endswith(".xlsx") and ready[3][:2] == b"PK"  # an xlsx is a zip
    import openpyxl

    book = openpyxl.load_workbook(io.BytesIO(ready[3]), read_only=True)
    assert len(book.sheetnames) >= 3
    # the hand-over names the grid moved after the saved version
    hand = [ws for ws in book.worksheets if "hand" in ws.title.lower()]
    assert hand and any(gid in str(v) for ws in hand for row in ws.values for v in row)
    at.selectbox(key="exp_fmt").select("gpkg").run()
    at.selectbox(key="exp_by").select("manager").run()
    _ok(at.button(key="prep_export").click().run())
    data, name = at.session_state["exp_ready"][3:5]
    assert name.endswith(".zip")
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        gpkgs = [n for n in zf.namelist() if n.endswith(".gpkg")]
    assert len(gpkgs) == plan.grids["manager"].nunique()


def test_an_impossible_team_is_explained_not_a_traceback(app):
    at = _partitioned_seoul(app)
    _ok(at.switch_page("ui/territories_page.py").run())
    n_grids = len(_plan(at).grids)
    at.number_input(key="team_n").set_value(n_grids + 50)  # more managers than grids
    _ok(at.button(key="use_headcount").click().run())
    at.number_input(key="bal_time").set_value(2.0)
    at.button(key="balance").click().run()
    assert not at.exception
    assert at.error, "the page says why the balance cannot run"
    text = " ".join(e.value for e in at.error)
    assert "Traceback" not in text
    assert str(n_grids + 50) in text or str(n_grids) in text  # the numbers are named


def test_an_unreachable_tolerance_is_said_before_balancing_with_two_repairs(app):
    import math

    from gridplan.plan.steps import heavy_grids, tolerance_bound

    at = _partitioned_seoul(app)
    _ok(at.switch_page("ui/territories_page.py").run())
    plan = _plan(at)
    w = plan.grids["hours_total"].astype(float)
    # a team so large that the heaviest grid is about 30 % above the target
    k = min(len(w), math.ceil(1.3 * w.sum() / w.max()))
    at.number_input(key="team_n").set_value(k)
    _ok(at.button(key="use_headcount").click().run())
    plan = _plan(at)
    bound = w.max() / (w.sum() / k) - 1
    assert tolerance_bound(plan).tolerance == pytest.approx(bound)
    warned = " ".join(x.value for x in at.warning)
    assert "out of reach" in warned and f"{bound:.1%}" in warned
    n_heavy = len(heavy_grids(plan, 0.03))
    assert at.button(key="split_heavy").label == f"Split the {n_heavy} heaviest grids"
    # one click: the heaviest grids are cut again with a lower floor
    _ok(at.button(key="split_heavy").click().run())
    split = _plan(at)
    assert len(split.grids) > len(plan.grids)
    assert len(heavy_grids(split, 0.03)) < n_heavy
    # the other click: the tolerance becomes the reachable one and the warning goes
    reach = math.ceil(tolerance_bound(split).tolerance * 100 - 1e-9)
    assert 3 < reach <= 50
    _ok(at.button(key="use_reachable").click().run())
    assert at.slider(key="tol").value == reach
    assert not any("out of reach" in x.value for x in at.warning), [x.value for x in at.warning]
