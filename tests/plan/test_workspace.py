"""The SQLite workspace: versions, audit trail, reopen, atomic saves."""

import sqlite3

import pytest

from gridplan.errors import InputError
from gridplan.plan import edits
from gridplan.plan.workspace import (
    WORKSPACE_ENV,
    Workspace,
    default_workspace_path,
    describe_changes,
    plan_changes,
)
from tests.plans import seoul_plan


@pytest.fixture(scope="module")
def plan():
    return seoul_plan()[0]


def test_default_path_from_env(monkeypatch, tmp_path):
    monkeypatch.setenv(WORKSPACE_ENV, str(tmp_path / "w.sqlite"))
    assert default_workspace_path() == tmp_path / "w.sqlite"
    monkeypatch.delenv(WORKSPACE_ENV)
    assert default_workspace_path().name == "workspace.sqlite"
    assert "gridplan" in str(default_workspace_path())


def test_versions_audit_trail_and_reopen(plan, tmp_path):
    ws = Workspace(tmp_path / "ws.sqlite")
    v1 = ws.save(plan, name="Seoul 2026", author="Li", comment="first cut")
    assert (v1.version, v1.changes["first"]) == (1, True)
    gid = plan.grids["grid_id"].iloc[0]
    old = plan.grids["manager"].iloc[0]
    new = next(m for m in plan.managers["manager"] if m != old)
    moved = edits.reassign(plan, [gid], new)
    v2 = ws.save(moved, name="Seoul 2026", author="Wang", comment="Li is on leave")
    assert v2.version == 2
    assert v2.changes["moved"] == [{"grid_id": gid, "from": old, "to": new}]
    trail = ws.versions("Seoul 2026")
    assert trail["version"].tolist() == [2, 1]
    assert trail["author"].tolist() == ["Wang", "Li"]
    assert f"{gid}: {old} → {new}" in trail["changes"].iloc[0]
    # a new Workspace object on the same file (the app restarted)
    again = Workspace(tmp_path / "ws.sqlite")
    assert again.plans() == ["Seoul 2026"]
    latest = again.load("Seoul 2026")
    assert latest.grids.set_index("grid_id").at[gid, "manager"] == new
    first = again.load("Seoul 2026", 1)
    assert first.grids.set_index("grid_id").at[gid, "manager"] == old
    assert plan_changes(first, latest)["moved"] == v2.changes["moved"]
    assert again.delete("Seoul 2026") == 2 and again.plans() == []


def test_save_needs_names_and_a_failed_save_changes_nothing(plan, tmp_path, monkeypatch):
    ws = Workspace(tmp_path / "ws.sqlite")
    with pytest.raises(InputError, match="name of who saves"):
        ws.save(plan, name="x", author=" ")
    ws.save(plan, name="x", author="Li")

    def broken(*a, **k):
        raise sqlite3.OperationalError("disk I/O error")

    import gridplan.plan.workspace as wsmod

    monkeypatch.setattr(wsmod.json, "dumps", broken)
    with pytest.raises(sqlite3.OperationalError):
        ws.save(plan, name="x", author="Li")
    assert ws.versions("x")["version"].tolist() == [1]
    with pytest.raises(InputError, match="no plan 'y'"):
        ws.load("y")


def test_describe_changes_sentences():
    assert describe_changes({"moved": []}) == "no change"
    text = describe_changes(
        {"moved": [{"grid_id": "G1", "from": "A", "to": "B"}], "added": ["G9"], "cells_moved": 3}
    )
    assert text == "1 grids moved (G1: A → B); 1 grids added; 3 cells changed grid"
