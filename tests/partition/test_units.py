"""Grids never cross the lowest organisation unit (respect_units), islands and enclaves
stay inside their unit, and the grids carry the unit columns (city of tests/org_city.py)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from gridplan._partition.checks import check_within_units
from gridplan.cells.build import CellsConfig, build_cells
from gridplan.layers.model import Layers
from gridplan.layers.organisation import read_organisation
from gridplan.partition import PartitionConfig, partition_cells
from tests import org_city

CELLS = CellsConfig(lattice="square", square_size_m=500.0)
UNIT_COLS = [
    "unit_county",
    "unit_county_name",
    "unit_branch",
    "unit_branch_name",
    "unit_sub_branch",
    "unit_sub_branch_name",
]


def _layers(frames=None) -> Layers:
    frames = frames or org_city.units_frames()
    crs = gpd.GeoSeries([], crs=org_city.CRS).crs
    org = read_organisation(frames, crs=crs)
    return Layers(crs, org_city.boundary(), org_city.population(), organisation=org)


@pytest.fixture(scope="module")
def cellset():
    return build_cells(_layers(), CELLS)


def _config(**kw) -> PartitionConfig:
    return PartitionConfig(floors={"population": 3000.0}, time_limit_s=10.0, **kw)


def _units_per_grid(cells: pd.DataFrame, assignment: pd.Series) -> pd.Series:
    return (
        pd.DataFrame({"g": assignment.to_numpy(), "u": cells["unit_sub_branch"]})
        .groupby("g")["u"]
        .nunique()
    )


def test_every_grid_lies_in_one_sub_branch(cellset):
    res = partition_cells(cellset.cells, cellset.adjacency, _config())
    assert (_units_per_grid(cellset.cells, res.assignment) == 1).all()
    # there is one district (no districts layer): only the units keep grids apart
    assert cellset.cells["district"].nunique() == 1
    assert res.grids["meets_floors"].all()
    # the grids carry every unit column, the unit of all their cells
    assert [c for c in res.grids.columns if c.startswith("unit_")] == UNIT_COLS
    cells = cellset.cells.assign(grid_id=res.assignment.to_numpy())
    for col in UNIT_COLS:
        want = cells.groupby("grid_id")[col].first()
        assert res.grids.set_index("grid_id")[col].to_dict() == want.to_dict()


def test_cross_units_lets_grids_cross(cellset):
    res = partition_cells(cellset.cells, cellset.adjacency, _config(respect_units=False))
    assert (_units_per_grid(cellset.cells, res.assignment) > 1).any()


def test_units_hold_without_the_adjacency_flag(cellset):
    """The unit columns alone keep grids apart (cells read back from a file carry no
    crosses_unit flag)."""
    bare = cellset.adjacency.with_flags()
    bare = type(bare)(bare.indptr, bare.indices, bare.crosses_district, bare.cut_by_barrier)
    assert not bare.crosses_unit.any()
    res = partition_cells(cellset.cells, bare, _config())
    assert (_units_per_grid(cellset.cells, res.assignment) == 1).all()


def test_an_enclave_joins_a_grid_of_its_own_unit():
    frames = org_city.units_frames()
    sub = frames["sub_branch"].set_index("code")
    hole = shapely.box(
        org_city.X0 + 3000, org_city.Y0 + 1000, org_city.X0 + 3500, org_city.Y0 + 1500
    )  # inside S001, given to S000
    sub.loc["S001", "geometry"] = sub.geometry["S001"].difference(hole)
    sub.loc["S000", "geometry"] = sub.geometry["S000"].union(hole)
    frames["sub_branch"] = gpd.GeoDataFrame(sub.reset_index(), crs=org_city.CRS)
    cs = build_cells(_layers(frames), CELLS)
    cells = cs.cells
    enclave = int(np.flatnonzero(shapely.contains_xy(hole.buffer(-1), cells["x"], cells["y"]))[0])
    assert cells.loc[enclave, "unit_sub_branch"] == "S000"
    res = partition_cells(cells, cs.adjacency, _config())
    grid = res.assignment.iloc[enclave]
    members = cells[res.assignment.to_numpy() == grid]
    assert set(members["unit_sub_branch"]) == {"S000"}
    assert len(members) > 1
    kinds = {j.kind for j in res.arrays.island_joins}
    assert "island" in kinds


def test_a_planners_unit_id_column_is_not_a_unit(cellset):
    cells = cellset.cells.drop(columns=UNIT_COLS).assign(unit_id=np.arange(cellset.n).astype(str))
    res = partition_cells(cells, cellset.adjacency, _config(), progress=lambda f, m: None)
    assert res.summary["n_grids"] > 1
    assert not [c for c in res.grids.columns if c.startswith("unit_")]


def test_the_validity_check_names_a_grid_across_units():
    labels = np.array([0, 0, 1, 1])
    unit = np.array(["a", "b", "b", "b"], dtype=object)
    ids = np.array(["c1", "c2", "c3", "c4"], dtype=object)
    with pytest.raises(RuntimeError, match=r"grid G1 .*units a, b"):
        check_within_units(labels, unit, ids, ["G1", "G2"])
    check_within_units(labels, unit, ids, ["G1", "G2"], kept=[0])  # a locked grid is kept
    check_within_units(labels, None, ids, ["G1", "G2"])


def test_districts_and_units_together():
    counties = org_city.units_frames()["county"]
    districts = gpd.GeoDataFrame(
        {"district": ["West", "East"]}, geometry=counties.geometry.values, crs=org_city.CRS
    )
    cs = build_cells(_layers().with_(districts=districts), CELLS)
    res = partition_cells(cs.cells, cs.adjacency, _config())
    cells = cs.cells.assign(grid_id=res.assignment.to_numpy())
    assert (cells.groupby("grid_id")["unit_sub_branch"].nunique() == 1).all()
    assert (cells.groupby("grid_id")["district"].nunique() == 1).all()
    assert res.grids["grid_id"].str.match(r"^(West|East)-G\d{3}$").all()
