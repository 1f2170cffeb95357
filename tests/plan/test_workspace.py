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

    monkeypatch.setattr(wsmod, "_now", broken)  # fails inside the transaction
    with pytest.raises(wsmod.WorkspaceError, match=r"disk I/O error.*Nothing was lost"):
        ws.save(plan, name="x", author="Li")
    monkeypatch.undo()
    assert ws.versions("x")["version"].tolist() == [1]
    assert ws.load("x").grids["manager"].tolist() == plan.grids["manager"].tolist()
    with pytest.raises(InputError, match="no plan 'y'"):
        ws.load("y")


def test_describe_changes_sentences():
    assert describe_changes({"moved": []}) == "no change"
    text = describe_changes(
        {"moved": [{"grid_id": "G1", "from": "A", "to": "B"}], "added": ["G9"], "cells_moved": 3}
    )
    assert text == "1 grids moved (G1: A → B); 1 grids added; 3 cells changed grid"


# ------------------------------------------------------------------ issue 13


def test_a_plan_without_managers_saves_and_reopens(tmp_path):
    from tests.plans import seoul_grids

    fresh, _ = seoul_grids()  # right after a partition: no manager yet
    ws = Workspace(tmp_path / "ws.sqlite")
    v = ws.save(fresh, name="fresh", author="Li")
    again = ws.load("fresh")
    assert v.version == 1 and len(again.grids) == len(fresh.grids)
    assert (again.grids["manager"] == "").all()
    assert again.cells["grid_id"].tolist() == fresh.cells["grid_id"].tolist()


def test_a_save_meanwhile_is_noticed_and_changes_are_against_the_base(plan, tmp_path):
    ws = Workspace(tmp_path / "ws.sqlite")
    ws.save(plan, name="p", author="Li")
    mine = ws.load("p")  # both planners open version 1
    theirs = ws.load("p")
    g0, g1 = plan.grids["grid_id"].iloc[0], plan.grids["grid_id"].iloc[1]
    m0 = plan.grids["manager"].iloc[0]
    other = next(m for m in plan.managers["manager"] if m != m0)
    v2 = ws.save(edits.reassign(theirs, [g1], other), name="p", author="Wang")
    assert (v2.version, v2.base, v2.notice) == (2, 1, "")
    v3 = ws.save(edits.reassign(mine, [g0], other), name="p", author="Li")
    assert (v3.version, v3.base) == (3, 1)
    assert "saved as version 3" in v3.notice and "by Wang" in v3.notice
    assert [m["grid_id"] for m in v3.changes["moved"]] == [g0]  # against version 1
    latest = {m["grid_id"] for m in v3.changes_latest["moved"]}
    assert g0 in latest  # against version 2, Wang's move of g1 is undone by this save
    trail = ws.versions("p")
    assert trail["base"].tolist() == [1, 1, 0]


def test_stored_parts_are_shared_and_pruning_keeps_tagged_versions(plan, tmp_path):
    ws = Workspace(tmp_path / "ws.sqlite")
    first = ws.save(plan, name="p", author="Li")
    size_one = ws.size_bytes()
    current = ws.load("p")
    managers = plan.managers["manager"].tolist()
    for i in range(12):
        gid = plan.grids["grid_id"].iloc[i]
        current = edits.reassign(current, [gid], managers[(i + 1) % len(managers)])
        ws.save(current, name="p", author="Li", comment=f"move {i}")
    # the cells, grids, customers … are stored once: 12 more versions cost little
    grown = ws.size_bytes() - size_one
    assert grown < 0.5 * size_one, (grown, size_one)
    ws.tag("p", first.version, "approved")
    assert ws.prune("p", keep_last=3) == 13 - 3 - 1  # 2..10 go; 1 is tagged
    trail = ws.versions("p")
    assert trail["version"].tolist() == [13, 12, 11, 1]
    assert trail["tag"].tolist() == ["", "", "", "approved"]
    assert ws.load("p", 1).grids["manager"].tolist() == plan.grids["manager"].tolist()
    assert ws.load("p").grids["manager"].tolist() == current.grids["manager"].tolist()
    with pytest.raises(InputError, match="keep at least"):
        ws.prune("p", keep_last=0)


def test_a_workspace_of_the_first_release_still_opens(plan, tmp_path):
    from gridplan.plan.model import save_plan

    path = tmp_path / "old.sqlite"
    gpkg = save_plan(plan, tmp_path / "p.gpkg").read_bytes()
    con = sqlite3.connect(path)
    con.execute(
        "CREATE TABLE versions (id INTEGER PRIMARY KEY AUTOINCREMENT, plan TEXT NOT NULL, "
        "version INTEGER NOT NULL, author TEXT NOT NULL, saved_at TEXT NOT NULL, "
        "comment TEXT NOT NULL, changes TEXT NOT NULL, n_grids INTEGER NOT NULL, "
        "n_managers INTEGER NOT NULL, data BLOB NOT NULL, UNIQUE (plan, version))"
    )
    con.execute(
        "INSERT INTO versions (plan, version, author, saved_at, comment, changes, n_grids, "
        "n_managers, data) VALUES ('old', 1, 'Li', '2026-01-01T00:00:00+00:00', '', "
        '\'{"first": true, "added": []}\', 1, 1, ?)',
        (gpkg,),
    )
    con.commit()
    con.close()
    ws = Workspace(path)
    old = ws.load("old")
    assert old.grids["manager"].tolist() == plan.grids["manager"].tolist()
    gid = plan.grids["grid_id"].iloc[0]
    other = next(m for m in plan.managers["manager"] if m != plan.grids["manager"].iloc[0])
    v2 = ws.save(edits.reassign(old, [gid], other), name="old", author="Wang")
    assert v2.version == 2 and [m["grid_id"] for m in v2.changes["moved"]] == [gid]
    assert ws.load("old", 2).grids.set_index("grid_id").at[gid, "manager"] == other


def test_a_read_only_workspace_says_what_to_do(plan, tmp_path):
    ws = Workspace(tmp_path / "ws.sqlite")
    ws.save(plan, name="p", author="Li")
    import os

    if os.geteuid() == 0:  # root ignores file modes: make the file unwritable otherwise
        ws.path = tmp_path / "missing-folder-is-a-file" / "ws.sqlite"
        (tmp_path / "missing-folder-is-a-file").write_text("x")
    else:
        os.chmod(ws.path, 0o444)
    from gridplan.errors import GridplanError

    with pytest.raises(GridplanError, match="Nothing was lost") as info:
        ws.save(plan, name="p", author="Li")
    assert "GRIDPLAN_WORKSPACE" in str(info.value)
    assert Workspace(tmp_path / "ws.sqlite").versions("p")["version"].tolist() == [1]
