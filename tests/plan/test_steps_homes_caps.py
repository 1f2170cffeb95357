"""balance_plan: home bases from the team and the home-bases layer under the default
objective; the re-balance's disruption caps reach the engine."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
from shapely.geometry import Point, box

from gridplan.balance import BalanceConfig
from gridplan.plan.model import Plan
from gridplan.plan.rules import cell_edges
from gridplan.plan.steps import balance_plan, default_team, team_with_homes
from tests.conftest import assert_plan_valid

CRS = "EPSG:32650"
N = 8
S = 500.0
X0, Y0 = 500_000.0, 3_500_000.0


def _plan(managers: pd.DataFrame, owner) -> Plan:
    """An N x N lattice of 500 m cells, one grid per cell, one hour per grid; ``owner``
    (row, column) -> manager of the grid."""
    rc = [(r, c) for r in range(N) for c in range(N)]
    geoms = [box(X0 + c * S, Y0 + r * S, X0 + (c + 1) * S, Y0 + (r + 1) * S) for r, c in rc]
    gid = [f"G{r}{c}" for r, c in rc]
    cells = gpd.GeoDataFrame({"cell_id": gid, "grid_id": gid}, geometry=geoms, crs=CRS)
    grids = gpd.GeoDataFrame(
        {"grid_id": gid, "hours_total": 1.0, "manager": [owner(r, c) for r, c in rc]},
        geometry=geoms,
        crs=CRS,
    )
    return Plan(name="t", cells=cells, grids=grids, managers=managers, meta={"tolerance": "0.03"})


def _team(names) -> pd.DataFrame:
    return pd.DataFrame({"manager": list(names), "capacity_h": 128.0, "area": ""})


def _cfg(**kw) -> BalanceConfig:
    return BalanceConfig(tolerance=0.0, time_limit=4.0, workers=1, work_limit=2.0, **kw)


def test_rebalance_caps_reach_the_engine() -> None:
    # A holds the west half plus a column (40 grids), B/C/D share the rest: 6+ moves
    # are needed to balance 16 each, the caps allow one grid / two hours
    def owner(r: int, c: int) -> str:
        return "A" if c < 5 else ("B" if r < 3 else ("C" if r < 6 else "D"))

    plan = _plan(_team("ABCD"), owner)
    previous = dict(zip(plan.grids["grid_id"], plan.grids["manager"], strict=True))
    edges = cell_edges(plan.cells)
    for caps, most in (({"max_moved": 1}, 1), ({"max_moved_hours": 2.0}, 2)):
        new, rep = balance_plan(plan, edges, _cfg(), previous=previous, managers_per_area=0, **caps)
        after = dict(zip(new.grids["grid_id"], new.grids["manager"], strict=True))
        moved = [g for g in previous if previous[g] != after[g]]
        assert len(moved) <= most, moved
        assert rep.moved_units == len(moved)
    # no cap (0 = none, as the app's inputs): the plan is balanced
    new, rep = balance_plan(
        plan, edges, _cfg(), previous=previous, managers_per_area=0, max_moved=0
    )
    assert rep.within_tolerance and rep.moved_units >= 6
    assert_plan_valid(new, edges, tolerance=0.0)


def _corner(r: int, c: int) -> Point:
    return Point(X0 + (c + 0.5) * S, Y0 + (r + 0.5) * S)


def test_homes_from_the_layer_place_the_territories() -> None:
    # the layer names three managers (one not in the default team), the fourth has none
    layer = gpd.GeoDataFrame(
        {"manager": ["Ana", "Bo", "Chen"]},
        geometry=[_corner(N - 1, 0), _corner(N - 1, N - 1), _corner(0, 0)],
        crs=CRS,
    ).to_crs("EPSG:4326")  # any CRS: the homes come back in the plan's
    team = team_with_homes(default_team(64.0, 16.0), layer, CRS)
    assert team["manager"].tolist() == ["Ana", "Bo", "Chen", "CM04"]
    assert team["home_x"].notna().tolist() == [True, True, True, False]
    assert abs(team.loc[0, "home_x"] - (X0 + 0.5 * S)) < 1.0  # metres in the work CRS
    plan = _plan(team, lambda r, c: "")
    edges = cell_edges(plan.cells)
    new, rep = balance_plan(plan, edges, _cfg(), managers_per_area=0)
    assert rep.within_tolerance
    own = dict(zip(new.grids["grid_id"], new.grids["manager"], strict=True))
    assert own[f"G{N - 1}0"] == "Ana" and own[f"G{N - 1}{N - 1}"] == "Bo" and own["G00"] == "Chen"
    assert own[f"G0{N - 1}"] == "CM04"  # the manager without a home: the corner left
    assert_plan_valid(new, edges, tolerance=0.0)


def test_layer_homes_keep_named_managers_and_add_the_others() -> None:
    layer = gpd.GeoDataFrame(
        {"manager": ["CM02", "Dai", "Eve"]}, geometry=[_corner(0, 0)] * 3, crs=CRS
    )
    team = team_with_homes(default_team(20.0, 10.0), layer, CRS)  # CM01, CM02
    assert team["manager"].tolist() == ["Dai", "CM02", "Eve"]
    assert team["home_x"].notna().all()
    assert team_with_homes(default_team(20.0, 10.0), None, CRS)["manager"].tolist() == [
        "CM01",
        "CM02",
    ]
