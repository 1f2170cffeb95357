"""GeoDataFrame wrapper, generic units table and the balance CLI."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box

from gridplan._balance.graph import csr_from_edges, is_connected_subset
from gridplan.balance import (
    BalanceConfig,
    _link_islands,
    balance_grids,
    balance_units_table,
    geometry_adjacency,
)
from gridplan.cli.balance import main as cli_main
from gridplan.errors import InputError


def square_grids(r: int, c: int, hours: float = 10.0) -> gpd.GeoDataFrame:
    geoms = [
        box(j * 100, i * 100, (j + 1) * 100, (i + 1) * 100) for i in range(r) for j in range(c)
    ]
    return gpd.GeoDataFrame(
        {"grid_id": [f"G{i:03d}" for i in range(r * c)], "hours_total": hours},
        geometry=geoms,
        crs="EPSG:32650",
    )


def test_balance_grids_builds_rook_adjacency_and_dissolves():
    grids = square_grids(4, 6)
    cfg = BalanceConfig(tolerance=0.0, n_managers=4, time_limit=3)
    res = balance_grids(grids, None, cfg)
    a = res.assignment
    assert list(a.index) == list(grids["grid_id"])
    assert set(a) == {"M01", "M02", "M03", "M04"}
    assert a.value_counts().tolist() == [6, 6, 6, 6]
    assert len(res.territories) == 4
    assert set(res.territories["n_grids"]) == {6}
    assert res.territories.geometry.geom_type.isin(["Polygon"]).all()  # contiguous blocks
    assert res.report.cut_edges <= 10
    assert any("rook adjacency" in n for n in res.report.notes)


def test_balance_grids_managers_locks_previous():
    grids = square_grids(3, 4)
    managers = pd.DataFrame(
        {"name": ["ana", "bo"], "capacity_h": [80.0, 40.0], "home_x": [0, 400], "home_y": [0, 300]}
    )
    locks = {"G000": "ana", "G011": "bo"}
    cfg = BalanceConfig(tolerance=0.0, time_limit=3, objective="both")
    res = balance_grids(grids, None, cfg, managers=managers, locks=locks)
    assert res.assignment["G000"] == "ana"
    assert res.assignment["G011"] == "bo"
    assert (res.assignment == "ana").sum() == 8
    # re-balance from that plan moves nothing
    again = balance_grids(grids, None, cfg, managers=managers, locks=locks, previous=res.assignment)
    assert again.report.moved_units == 0
    assert again.assignment.equals(res.assignment)


def test_balance_grids_links_islands():
    grids = square_grids(2, 3)
    island = gpd.GeoDataFrame(
        {"grid_id": ["ISL"], "hours_total": [10.0]},
        geometry=[box(900, 900, 950, 950)],
        crs=grids.crs,
    )
    grids = pd.concat([grids, island], ignore_index=True)
    res = balance_grids(grids, None, BalanceConfig(tolerance=0.2, n_managers=2, time_limit=2))
    assert any("linked" in n for n in res.report.notes)
    assert res.report.contiguous


def test_balance_grids_missing_workload_column():
    grids = square_grids(2, 2).drop(columns="hours_total")
    with pytest.raises(InputError, match="hours_total"):
        balance_grids(grids, None, BalanceConfig(n_managers=2))


def test_balance_grids_default_headcount_from_capacity():
    grids = square_grids(2, 4, hours=64.0)  # 512 h at 128 h per manager -> 4 managers
    res = balance_grids(grids, None, BalanceConfig(tolerance=0.0, time_limit=2))
    assert res.assignment.nunique() == 4


def _units(n: int = 60, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "unit_id": [f"u{i}" for i in range(n)],
            "x": rng.random(n) * 100,
            "y": rng.random(n) * 100,
            "population": rng.integers(800, 1200, n),
        }
    )


def test_units_table_delaunay_and_locks():
    units = _units()
    locks = pd.DataFrame({"unit_id": ["u0", "u1"], "manager": ["east", "west"]})
    out = balance_units_table(
        units, "unit_id", "x", "y", "population", 3, tolerance=0.05, locks=locks, time_limit=2
    )
    assert list(out.columns) == ["unit_id", "manager"]
    assert out["unit_id"].tolist() == units["unit_id"].tolist()
    m = dict(zip(out["unit_id"], out["manager"], strict=True))
    assert m["u0"] == "east" and m["u1"] == "west"
    assert out["manager"].nunique() == 3
    assert any("Delaunay" in n for n in out.attrs["notes"])
    rep = out.attrs["report"]
    assert rep["contiguous"] and rep["within_tolerance"]


def test_units_table_with_edges_checks_contiguity():
    units = _units(30, 1)
    e = [(i, i + 1) for i in range(29)]  # a path
    edges = pd.DataFrame({"a": [f"u{a}" for a, _ in e], "b": [f"u{b}" for _, b in e]})
    out = balance_units_table(
        units, "unit_id", None, None, "population", 3, 0.1, edges, time_limit=2
    )
    lab = pd.factorize(out["manager"])[0]
    ip, ix = csr_from_edges(30, np.array(e))
    for d in range(3):
        assert is_connected_subset(ip, ix, np.flatnonzero(lab == d))
    assert out.attrs["report"]["cut_edges"] == 2


def test_units_table_unknown_ids_in_edges():
    units = _units(5)
    edges = pd.DataFrame({"a": ["u0"], "b": ["nope"]})
    with pytest.raises(InputError, match="unknown units"):
        balance_units_table(units, "unit_id", "x", "y", "population", 2, 0.1, edges)


def test_cli_round_trip(tmp_path):
    units = _units(40, 2)
    units.to_csv(tmp_path / "units.csv", index=False)
    first = tmp_path / "a.csv"
    code = cli_main(
        [
            "--units", str(tmp_path / "units.csv"), "--id", "unit_id", "--x", "x", "--y", "y",
            "--weight", "population", "--managers", "4", "--tolerance", "0.05",
            "--time-limit", "2", "--out", str(first),
        ]
    )  # fmt: skip
    assert code == 0
    a = pd.read_csv(first)
    assert list(a.columns) == ["unit_id", "manager"] and len(a) == 40
    rep = json.loads(first.with_suffix(".json").read_text())
    assert rep["within_tolerance"]
    # previous plan that meets the tolerance: nothing moves
    second = tmp_path / "b.csv"
    code = cli_main(
        [
            "--units", str(tmp_path / "units.csv"), "--x", "x", "--y", "y",
            "--weight", "population", "--managers", "4", "--tolerance", "0.05",
            "--previous", str(first), "--time-limit", "2", "--out", str(second),
        ]
    )  # fmt: skip
    assert code == 0
    b = pd.read_csv(second)
    assert a.equals(b)


def test_cli_reports_infeasible(tmp_path, capsys):
    units = _units(3, 3)
    units.to_csv(tmp_path / "units.csv", index=False)
    code = cli_main(
        [
            "--units", str(tmp_path / "units.csv"), "--x", "x", "--y", "y",
            "--weight", "population", "--managers", "5", "--out", str(tmp_path / "o.csv"),
        ]
    )  # fmt: skip
    assert code == 2
    assert "5 managers but only 3 units" in capsys.readouterr().err


# -- islands ---------------------------------------------------------------------------


def _two_blocks(gap_m: float, island_cols: int):
    """A 4 x 3 block of 1 km squares and, ``gap_m`` metres to the east, an island block
    of ``island_cols`` x 3 squares (no shared boundary)."""
    geoms, ids = [], []
    for i in range(4):
        for j in range(3):
            geoms.append(box(i * 1000, j * 1000, (i + 1) * 1000, (j + 1) * 1000))
            ids.append(f"M{i}{j}")
    x0 = 4000 + gap_m
    for i in range(island_cols):
        for j in range(3):
            geoms.append(box(x0 + i * 1000, j * 1000, x0 + (i + 1) * 1000, (j + 1) * 1000))
            ids.append(f"I{i}{j}")
    g = gpd.GeoDataFrame({"grid_id": ids}, geometry=geoms, crs="EPSG:32650")
    g["hours_total"] = 10.0
    return g


def test_link_islands_says_metres_and_names_the_units():
    g = _two_blocks(2500.0, 1)
    pts = g.geometry.representative_point()
    edges = geometry_adjacency(g.geometry, "rook")
    out, notes = _link_islands(len(g), edges, pts.x.to_numpy(), pts.y.to_numpy(), ids=g["grid_id"])
    assert len(out) == len(edges) + 1
    assert len(notes) == 1
    # nearest centres: the island's column at x = 7,000 m and the block's at 3,500 m
    assert "(3,500 m away)" in notes[0] and "coordinate units" not in notes[0]
    assert "I00" in notes[0]


def test_link_islands_converts_degrees_to_metres():
    g = _two_blocks(2500.0, 1).to_crs("EPSG:4326")
    pts = g.geometry.representative_point()
    edges = geometry_adjacency(g.geometry, "rook", crs=g.crs)
    _out, notes = _link_islands(
        len(g), edges, pts.x.to_numpy(), pts.y.to_numpy(), crs=g.crs, ids=g["grid_id"]
    )
    metres = float(notes[0].split("(")[-1].split(" m away")[0].replace(",", ""))
    assert metres == pytest.approx(3500.0, rel=0.01)


def test_island_of_whole_territories_stays_on_its_own():
    # 12 + 6 squares of 10 h, 3 managers (target 60 h): the island holds exactly one
    # territory, so it is not linked and no territory crosses the water
    g = _two_blocks(2500.0, 2)
    res = balance_grids(g, config=BalanceConfig(n_managers=3, tolerance=0.05, time_limit=2))
    assert any("keeps 1 whole territory of its own" in n for n in res.report.notes)
    assert not any("linked a part" in n for n in res.report.notes)
    island = res.assignment[res.assignment.index.str.startswith("I")]
    main = res.assignment[res.assignment.index.str.startswith("M")]
    assert island.nunique() == 1 and island.iloc[0] not in set(main)
    assert res.report.within_tolerance and res.report.contiguous


def test_island_of_a_fraction_of_a_target_is_linked_and_balanced():
    # 12 + 3 squares of 10 h, 3 managers (target 50 h): the island (30 h) holds no whole
    # territory, so it is linked and one territory crosses to it
    g = _two_blocks(2500.0, 1)
    res = balance_grids(g, config=BalanceConfig(n_managers=3, tolerance=0.0, time_limit=2))
    assert any("linked a part of 3 unit(s)" in n and " m away" in n for n in res.report.notes)
    assert res.report.within_tolerance and res.report.contiguous
