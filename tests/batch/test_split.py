"""A city's partition split by district (gridplan.batch.split): valid grids, the order of
the district runs does not matter, a district that cannot be planned fails with the
engine's message, and gridplan's errors survive the trip back from a Dask worker."""

from __future__ import annotations

import pickle
from dataclasses import replace

import pandas as pd
import pytest

from gridplan.batch.manifest import SETTINGS_DEFAULTS
from gridplan.batch.split import SplitConfig, district_problems, partition_split, should_split
from gridplan.batch.task import CityJob, load_city_layers, plan_settings
from gridplan.cells.build import build_cells
from gridplan.errors import InfeasibleError, InputError, Problem
from gridplan.partition import partition_cells
from tests.batch.cities import SETTINGS, write_city


@pytest.fixture(scope="module")
def city(tmp_path_factory):
    """A 9 × 9 city of 500 m squares in three districts (strips D1–D3) and its config."""
    folder = write_city(tmp_path_factory.mktemp("split") / "s", seed=7, n=9, districts=3)
    source = {k: str(folder / f"{k}.gpkg") for k in ("boundary", "population", "districts")}
    settings = plan_settings({**SETTINGS_DEFAULTS, **SETTINGS}, name="s")
    cellset = build_cells(load_city_layers(CityJob("s", source, {}, "")), settings.cells)
    return cellset, settings.partition


def _reversed(fn, items):
    """Run the districts last to first (as Dask may), results in the items' order."""
    return [fn(item) for item in reversed(items)][::-1]


def test_split_grids_are_valid_and_do_not_depend_on_the_run_order(city):
    cellset, config = city
    cells = cellset.cells
    assert should_split(cells, config, SplitConfig(min_cells=50))
    assert not should_split(cells, config, SplitConfig(min_cells=81))  # 81 cells: not above
    assert not should_split(cells, config, SplitConfig(min_cells=0))  # 0: never
    assert not should_split(cells, replace(config, respect_districts=False), SplitConfig(50))
    one = cells.assign(district="D1")
    assert not should_split(one, config, SplitConfig(min_cells=50))

    probs = district_problems(cells, cellset.adjacency, config)
    first_seen = list(dict.fromkeys(cells["district"].astype(str)))
    assert [p.district for p in probs] == first_seen and len(first_seen) == 3
    assert sum(len(p.rows) for p in probs) == len(cells)
    for p in probs:  # no edge leaves a district
        assert p.adjacency.indices.max() < len(p.rows)

    part = partition_split(cells, cellset.adjacency, config)
    again = partition_split(cells, cellset.adjacency, config, mapper=_reversed)
    assert part.assignment.tolist() == again.assignment.tolist()
    grid = part.assignment.to_numpy()
    frame = pd.DataFrame({"grid": grid, "district": cells["district"], "pop": cells["population"]})
    by = frame.groupby("grid")
    assert (by["district"].nunique() == 1).all()
    assert (by["pop"].sum() >= config.floors["population"]).all()
    assert part.grids["contiguous"].all() and part.grids["meets_floors"].all()
    assert part.grids["grid_id"].tolist() == list(dict.fromkeys(grid))  # by first cell
    assert part.summary["n_districts"] == 3 and part.summary["n_grids"] == len(part.grids)
    assert part.summary["n_locked"] == 0
    unsplit = partition_cells(cells, cellset.adjacency, config)
    assert set(unsplit.grids.columns) == set(part.grids.columns)
    # the ids follow the same scheme as one run (<district>-G001 …, numbered per district)
    assert {g.rsplit("-", 1)[0] for g in grid} == {
        g.rsplit("-", 1)[0] for g in unsplit.grids.grid_id
    }


def test_a_district_below_the_floor_fails_with_the_engines_message(city):
    cellset, config = city
    cells = cellset.cells.copy()
    cells.loc[cells["district"].astype(str) == "D2", "population"] = 0.0
    with pytest.raises(InfeasibleError) as split_err:
        partition_split(cells, cellset.adjacency, config)
    with pytest.raises(InfeasibleError) as one_err:
        partition_cells(cells, cellset.adjacency, config)
    assert "D2" in str(split_err.value)
    assert str(split_err.value) == str(one_err.value)


def test_errors_survive_pickling_as_from_a_dask_worker():
    err = InputError([Problem("a", "here", "fix a"), Problem("b", "there", "fix b")])
    back = pickle.loads(pickle.dumps(err))
    assert type(back) is InputError and back.problems == err.problems and str(back) == str(err)
    inf = InfeasibleError("too few people", suggestions=["lower the floor"])
    back = pickle.loads(pickle.dumps(inf))
    assert str(back) == str(inf) and back.suggestions == ("lower the floor",)
