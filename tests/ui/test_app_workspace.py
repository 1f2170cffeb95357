"""The app's Save: right after a partition, a save that someone else's save overtook, and
a save that fails (AppTest, Seoul demo)."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from gridplan.plan.workspace import Workspace, WorkspaceError

APP = str(Path(__file__).resolve().parents[2] / "app.py")


@pytest.fixture
def workspace_path(tmp_path, monkeypatch):
    path = tmp_path / "workspace.sqlite"
    monkeypatch.setenv("GRIDPLAN_WORKSPACE", str(path))
    return path


def _ok(at):
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    return at


def _partitioned(workspace_path, language: str = "en") -> AppTest:
    at = AppTest.from_file(APP, default_timeout=240)
    at.session_state["h3res"] = 8  # the default is 9; 8 keeps these tests quick
    at.run()
    if language == "zh":
        at.radio(key="lang").set_value("zh").run()
    at.selectbox(key="city").select("seoul").run()
    at.switch_page("ui/grids_page.py").run()
    _ok(at.button(key="run_partition").click().run())
    return _ok(at.run())  # the sidebar (drawn before the page) now sees the plan


def _save(at, author: str) -> AppTest:
    at.text_input(key="ws_author").input(author)
    return next(b for b in at.sidebar.button if b.key and "FormSubmitter" in b.key).click().run()


def test_save_right_after_the_partition_and_a_save_meanwhile(workspace_path):
    at = _partitioned(workspace_path)
    _ok(_save(at, "Li"))  # grids without managers save
    ws = Workspace(workspace_path)
    (name,) = ws.plans()
    assert ws.versions(name)["version"].tolist() == [1]
    # another planner saves version 2 of the same plan meanwhile
    ws.save(ws.load(name), name=name, author="Wang", comment="meanwhile")
    _save(at, "Li")
    assert not at.exception
    assert ws.versions(name)["version"].tolist() == [3, 2, 1]
    assert ws.version(name, 3).base == 1
    warnings = [w.value for w in at.sidebar.warning]
    assert any("version 3" in w and "Wang" in w for w in warnings), warnings


@pytest.mark.parametrize("language", ["en", "zh"])
def test_a_failed_save_is_explained_and_loses_nothing(workspace_path, monkeypatch, language):
    at = _partitioned(workspace_path, language)
    plan_before = at.session_state["history"].current

    def disk_full(self, *args, **kwargs):
        raise WorkspaceError(
            f"could not save to the workspace {self.path} (database or disk is full). "
            "Nothing was lost: …"
        )

    monkeypatch.setattr(Workspace, "save", disk_full)
    _save(at, "Li")
    assert not at.exception
    errors = [e.value for e in at.sidebar.error]
    assert errors and "disk is full" in errors[0]
    assert ("Nothing was lost" if language == "en" else "没有丢失") in errors[0]
    assert at.session_state["history"].current is plan_before  # the open plan is kept


def test_name_a_version_and_tidy_the_others(workspace_path):
    at = _partitioned(workspace_path)
    for _ in range(4):
        _ok(_save(at, "Li"))
    ws = Workspace(workspace_path)
    (name,) = ws.plans()
    at.selectbox(key="ws_tag_version").select(2)
    at.text_input(key="ws_tag").input("approved")
    _ok(at.button(key="ws_tag_save").click().run())
    at.number_input(key="ws_keep_last").set_value(1)
    _ok(at.button(key="ws_prune").click().run())
    trail = ws.versions(name)
    assert trail["version"].tolist() == [4, 2]
    assert trail["tag"].tolist() == ["", "approved"]
