"""Home bases under the default objective (cut edges): each territory lies around its
manager's home; managers without a home are unaffected; the CP-SAT cut model and the
start-plan relabelling score the homes."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry import box

from gridplan._balance.costs import _best_relabel
from gridplan._balance.cut import solve_cut
from gridplan.balance import BalanceConfig, balance_grids
from tests.balance.test_balance import lattice
from tests.conftest import assert_regions_valid

N = 12
S = 100.0  # metres per grid
CORNERS = {
    "NW": (0.5 * S, (N - 0.5) * S),
    "NE": ((N - 0.5) * S, (N - 0.5) * S),
    "SW": (0.5 * S, 0.5 * S),
    "SE": ((N - 0.5) * S, 0.5 * S),
}


def _grids() -> gpd.GeoDataFrame:
    cells = [(r, c) for r in range(N) for c in range(N)]
    return gpd.GeoDataFrame(
        {"grid_id": [f"g{r}_{c}" for r, c in cells], "hours_total": 1.0},
        geometry=[box(c * S, r * S, (c + 1) * S, (r + 1) * S) for r, c in cells],
        crs="EPSG:32650",
    )


def _home_grid(x: float, y: float) -> str:
    return f"g{int(y // S)}_{int(x // S)}"


def _run(managers: pd.DataFrame, seed: int = 0):
    cfg = BalanceConfig(tolerance=0.0, seed=seed, time_limit=4.0, workers=1, work_limit=2.0)
    assert cfg.objective == "cut_edges"  # the default objective
    grids = _grids()
    res = balance_grids(grids, config=cfg, managers=managers)
    assert res.report.contiguous and res.report.within_tolerance
    names = list(managers["name"])
    lab = np.array([names.index(m) for m in res.assignment.to_numpy()])
    ids = list(grids["grid_id"])
    pos = {g: i for i, g in enumerate(ids)}
    edges = np.array(
        [(pos[f"g{r}_{c}"], pos[f"g{r}_{c + 1}"]) for r in range(N) for c in range(N - 1)]
        + [(pos[f"g{r}_{c}"], pos[f"g{r + 1}_{c}"]) for r in range(N - 1) for c in range(N)]
    )
    assert_regions_valid(lab, edges)
    return grids, res


def _around_home(grids, res, name: str, x: float, y: float) -> None:
    assert res.assignment[_home_grid(x, y)] == name
    c = grids[res.assignment.to_numpy() == name].geometry.union_all().centroid
    half = N * S / 2
    assert (c.x < half) == (x < half) and (c.y < half) == (y < half), (name, c)


def test_homes_at_the_corners_place_territories_around_them() -> None:
    managers = pd.DataFrame(
        {
            "name": list(CORNERS),
            "home_x": [v[0] for v in CORNERS.values()],
            "home_y": [v[1] for v in CORNERS.values()],
        }
    )
    grids, res = _run(managers)
    assert res.report.cut_edges == 24  # quadrants: cut edges stay the first goal
    for name, (x, y) in CORNERS.items():
        _around_home(grids, res, name, x, y)


def test_a_manager_without_a_home_takes_what_the_others_leave() -> None:
    homes = dict(CORNERS)
    managers = pd.DataFrame(
        {
            "name": ["NW", "NE", "SW", "nohome"],
            "home_x": [homes["NW"][0], homes["NE"][0], homes["SW"][0], np.nan],
            "home_y": [homes["NW"][1], homes["NE"][1], homes["SW"][1], np.nan],
        }
    )
    grids, res = _run(managers, seed=1)
    for name in ("NW", "NE", "SW"):
        _around_home(grids, res, name, *homes[name])
    _around_home(grids, res, "nohome", *homes["SE"])


def test_cut_model_breaks_cut_ties_by_cost() -> None:
    ip, ix = lattice(2, 4)
    adj = [ix[ip[i] : ip[i + 1]].tolist() for i in range(8)]
    edges = np.array([(i, j) for i in range(8) for j in adj[i] if i < j])
    hint = [0, 0, 1, 1, 0, 0, 1, 1]  # left | right: 2 cut edges, optimal
    # territory 0 prefers the right-hand nodes (columns 2-3)
    cost = [[0 if (i % 4) >= 2 else 5, 0] for i in range(8)]
    out, stats = solve_cut(
        adj, edges, [1] * 8, [4, 4], [4, 4], hint, cost=cost, cut_scale=100, dtime=2.0
    )
    assert out == [1, 1, 0, 0, 1, 1, 0, 0]
    assert stats["cut"] == 200  # two cut edges, no cost left
    # without costs the hint is already optimal
    out0, _ = solve_cut(adj, edges, [1] * 8, [4, 4], [4, 4], hint, dtime=2.0)
    assert out0 is None


def test_relabel_respects_bands_and_locks() -> None:
    lab = [0, 0, 1, 1, 1, 2]
    w = [1, 1, 1, 1, 1, 1]
    cost = [[5, 0, 0]] * 2 + [[0, 5, 0]] * 3 + [[0, 0, 5]]
    # bands: territory sizes 2, 3, 1 fit only their own manager's band except 0 <-> 2
    lo, hi = [1, 3, 1], [2, 3, 2]
    assert _best_relabel(lab, cost, w, lo, hi, [-1] * 6) == [2, 2, 1, 1, 1, 0]
    # a locked unit keeps its territory with its manager
    assert _best_relabel(lab, cost, w, lo, hi, [0, -1, -1, -1, -1, -1]) == lab
