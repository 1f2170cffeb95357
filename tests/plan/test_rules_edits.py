"""Plan rules (gridplan.plan.rules) and hand edits (gridplan.plan.edits) on a small Seoul plan."""

import numpy as np
import pandas as pd
import pytest

from gridplan.balance import BalanceConfig
from gridplan.errors import InputError
from gridplan.plan import edits
from gridplan.plan.model import manager_table
from gridplan.plan.rules import check_plan, grid_pieces, territory_pieces
from gridplan.plan.steps import neighbour_managers, rebalance_around
from tests.plans import FLOORS, seoul_plan


@pytest.fixture(scope="module")
def balanced():
    return seoul_plan()


def _far_pair(plan):
    ids = plan.grids["grid_id"].tolist()
    return ids[0], ids[-1]


def test_balanced_plan_holds_every_rule(balanced, check_plan_invariants):
    plan, edges = balanced
    check_plan_invariants(plan, edges, floors=FLOORS, tolerance=plan.tolerance)
    rep = check_plan(plan, edges, floors=FLOORS)
    assert rep.ok, rep.violations[:3]
    assert (grid_pieces(plan, edges) == 1).all()
    assert (territory_pieces(plan, edges) == 1).all()


def test_edits_never_change_their_input(balanced):
    plan, _ = balanced
    cells_before = plan.cells["grid_id"].copy()
    grids_before = plan.grids[["grid_id", "manager"]].copy()
    a, b = _far_pair(plan)
    edits.merge_grids(plan, [a, b])
    edits.reassign(plan, [a], plan.managers["manager"].iloc[-1])
    edits.set_locked(plan, [a])
    assert plan.cells["grid_id"].equals(cells_before)
    assert plan.grids[["grid_id", "manager"]].equals(grids_before)


def test_merge_far_grids_breaks_contiguity_and_reconnect_repairs(balanced, check_plan_invariants):
    plan, edges = balanced
    a, b = _far_pair(plan)
    merged = edits.merge_grids(plan, [a, b])
    assert len(merged.grids) == len(plan.grids) - 1
    g = merged.grids.set_index("grid_id")
    old = plan.grids.set_index("grid_id")
    assert g.at[a, "population"] == pytest.approx(old.at[a, "population"] + old.at[b, "population"])
    assert g.at[a, "n_cells"] == old.at[a, "n_cells"] + old.at[b, "n_cells"]
    rep = check_plan(merged, edges, floors=FLOORS)
    assert [v.ids for v in rep.by_rule("grid_contiguity")] == [(a,)]
    assert rep.by_rule("grid_contiguity")[0].repair == "reconnect"
    fixed = edits.reconnect_islands(merged, edges, [a])
    assert not check_plan(fixed, edges, floors=FLOORS).by_rule("grid_contiguity")
    check_plan_invariants(fixed, edges, territories=False)  # grids whole again
    with pytest.raises(AssertionError, match="several pieces"):
        check_plan_invariants(merged, edges, territories=False)
    # every cell still in exactly one grid, population kept
    assert set(fixed.cells["grid_id"]) == set(fixed.grids["grid_id"])
    assert fixed.grids["population"].sum() == pytest.approx(plan.grids["population"].sum())


def test_split_gives_two_contiguous_grids_with_the_same_manager(balanced, check_plan_invariants):
    plan, edges = balanced
    big = plan.grids.sort_values("n_cells").iloc[-1]
    out = edits.split_grid(plan, big["grid_id"], edges)
    new = out.meta["last_new_grid"]
    g = out.grids.set_index("grid_id")
    assert len(out.grids) == len(plan.grids) + 1
    assert g.at[new, "manager"] == big["manager"] == g.at[big["grid_id"], "manager"]
    assert g.at[new, "n_cells"] + g.at[big["grid_id"], "n_cells"] == big["n_cells"]
    pieces = grid_pieces(out, edges)
    assert pieces[new] == 1 and pieces[big["grid_id"]] == 1
    check_plan_invariants(out, edges)
    assert g["hours_total"].sum() == pytest.approx(plan.grids["hours_total"].sum(), rel=0.02)


def test_split_a_one_cell_grid_is_refused(balanced):
    plan, edges = balanced
    one = plan.grids[plan.grids["n_cells"] == 1]["grid_id"].iloc[0]
    with pytest.raises(InputError, match="one cell"):
        edits.split_grid(plan, one, edges)


def test_move_cells_into_a_new_grid_and_back(balanced):
    plan, _ = balanced
    gid = plan.grids.sort_values("n_cells").iloc[-1]["grid_id"]
    cells = plan.cells[plan.cells["grid_id"] == gid]["cell_id"].iloc[:2].tolist()
    out = edits.move_cells(plan, cells, None)
    new = out.meta["last_new_grid"]
    assert sorted(out.cells[out.cells["grid_id"] == new]["cell_id"]) == sorted(cells)
    assert (
        out.grids.set_index("grid_id").at[new, "manager"]
        == (plan.grids.set_index("grid_id").at[gid, "manager"])
    )
    back = edits.move_cells(out, cells, gid)
    assert new not in set(back.grids["grid_id"])  # emptied grids disappear
    assert back.grids.set_index("grid_id").at[gid, "population"] == pytest.approx(
        plan.grids.set_index("grid_id").at[gid, "population"]
    )


def test_floor_violation_and_merge_into_neighbour(balanced, check_plan_invariants):
    plan, edges = balanced
    small = plan.grids.sort_values("population")["grid_id"].iloc[0]
    floors = {"population": float(plan.grids["population"].min()) + 1.0}
    rep = check_plan(plan, edges, floors=floors)
    assert [v.ids[0] for v in rep.by_rule("floor")] == [small]
    fixed = edits.merge_into_neighbour(plan, small, edges)
    assert not check_plan(fixed, edges, floors=floors).by_rule("floor")
    check_plan_invariants(fixed, edges, floors=floors)
    assert len(fixed.grids) == len(plan.grids) - 1


def test_tolerance_violation_after_reassign_and_local_rebalance(balanced):
    plan, edges = balanced
    table = manager_table(plan)
    donor = table.sort_values("hours").iloc[-1]["manager"]
    taker = table.sort_values("hours").iloc[0]["manager"]
    grids = plan.grids[plan.grids["manager"] == donor]["grid_id"].tolist()
    grids = grids[: len(grids) // 3]
    moved = edits.reassign(plan, grids, taker)
    rep = check_plan(moved, edges, floors=FLOORS)
    assert {v.ids[0] for v in rep.by_rule("tolerance")} >= {donor}
    near = neighbour_managers(moved, edges, [donor])
    fixed, _ = rebalance_around(
        moved, edges, [donor, taker], BalanceConfig(tolerance=plan.tolerance, time_limit=3.0)
    )
    # only the territories around donor and taker may change
    changed = fixed.grids["manager"] != moved.grids["manager"]
    allowed = set(neighbour_managers(moved, edges, [donor, taker]))
    assert set(moved.grids.loc[changed, "manager"]) <= allowed
    assert set(fixed.grids.loc[changed, "manager"]) <= allowed
    assert manager_table(fixed)["deviation"].abs().max() < (
        manager_table(moved)["deviation"].abs().max()
    )
    assert donor in near


def test_locks_are_checked_and_kept_by_rebalance(balanced):
    plan, edges = balanced
    gid = plan.grids["grid_id"].iloc[3]
    locked = edits.set_locked(plan, [gid])
    assert edits.locked_grids(locked) == {gid: plan.grids["manager"].iloc[3]}
    other = next(m for m in plan.managers["manager"] if m != plan.grids["manager"].iloc[3])
    moved = edits.reassign(locked, [gid], other)
    rep = check_plan(moved, edges, locks={gid: plan.grids["manager"].iloc[3]})
    assert [v.ids for v in rep.by_rule("lock")] == [(gid,)]
    fixed, _ = rebalance_around(
        locked, edges, [plan.grids["manager"].iloc[3]], BalanceConfig(tolerance=0.1, time_limit=2)
    )
    assert fixed.grids.set_index("grid_id").at[gid, "manager"] == plan.grids["manager"].iloc[3]


def test_import_assignment_by_cell_and_by_grid(balanced):
    plan, _ = balanced
    blank = plan.with_(grids=plan.grids.assign(manager=""))
    by_grid = pd.DataFrame({"grid_id": plan.grids["grid_id"], "manager": plan.grids["manager"]})
    out, notes = edits.import_assignment(blank, by_grid)
    assert out.grids["manager"].tolist() == plan.grids["manager"].tolist()
    assert notes == []
    assert sorted(out.managers["manager"]) == sorted(set(plan.grids["manager"]))
    man_of = plan.grids.set_index("grid_id")["manager"]
    by_cell = pd.DataFrame(
        {"cell_id": plan.cells["cell_id"], "Manager": plan.cells["grid_id"].map(man_of)}
    )
    by_cell.loc[0, "Manager"] = "Zhang Wei"  # a new manager, a minority in its grid
    extra = pd.DataFrame({"cell_id": ["nope"], "Manager": ["X"]})
    out, notes = edits.import_assignment(blank, pd.concat([by_cell, extra]))
    assert any("1 managers added to the team: Zhang Wei" in n for n in notes)
    assert "Zhang Wei" in set(out.managers["manager"])
    same = (out.grids["manager"] == plan.grids["manager"]).sum()
    assert same >= len(plan.grids) - 1  # only a one-cell grid can follow its single cell
    assert any("1 cell ids not in the plan" in n for n in notes)
    with pytest.raises(InputError, match="cell_id,manager"):
        edits.import_assignment(blank, pd.DataFrame({"a": [1]}))


def test_history_undo_redo():
    h = edits.History(limit=3)
    assert h.current is None and not h.can_undo
    for i in range(5):
        h.push(i, f"edit {i}")  # any object works; plans in the app
    assert h.labels() == ["edit 2", "edit 3", "edit 4"]
    assert h.undo() == 3 and h.undo() == 2 and not h.can_undo
    assert h.redo() == 3
    h.push(9, "other")
    assert not h.can_redo and h.labels() == ["edit 2", "edit 3", "other"]
    assert h.reset(7, "opened") == 7 and h.labels() == ["opened"]


def test_components_ignore_edges_between_labels():
    from gridplan.plan.rules import components

    edges = np.array([[0, 1], [1, 2], [2, 3]])
    comp = components(4, edges, np.array(["a", "a", "b", "a"]))
    assert comp[0] == comp[1] != comp[3]


def test_import_from_territory_polygons(balanced):
    plan, _ = balanced
    terr = plan.grids.dissolve(by="manager", as_index=False)[["manager", "geometry"]]
    terr = terr.to_crs("EPSG:4326").rename(columns={"manager": "Manager"})
    table = edits.assignment_from_territories(plan, terr)
    assert len(table) == len(plan.grids)
    blank = plan.with_(grids=plan.grids.assign(manager=""))
    out, _ = edits.import_assignment(blank, table)
    assert out.grids["manager"].tolist() == plan.grids["manager"].tolist()
    with pytest.raises(InputError, match="no 'manager' column"):
        edits.assignment_from_territories(plan, terr.rename(columns={"Manager": "who"}))
