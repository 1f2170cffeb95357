"""The app's team editor and selection re-partition as engine steps (no streamlit)."""

import numpy as np
import pandas as pd
import pytest

from gridplan.errors import GridplanError
from gridplan.partition import PartitionConfig
from gridplan.plan.edits import set_locked
from gridplan.plan.steps import apply_team, default_capacity_h, repartition_grids
from gridplan.workload import WorkloadConfig
from tests.plans import tiny_plan


def test_default_capacity_is_the_workload_config_default():
    c = WorkloadConfig(standards=())
    assert default_capacity_h() == c.hours_per_month * c.utilisation == 128.0


def test_apply_team_renames_removes_and_places_homes():
    plan = tiny_plan()
    edited = pd.DataFrame(
        {
            "manager": [" 张三丰 ", "李四", ""],  # rename row 0, keep row 1, drop row 2 (Bob)
            "capacity_h": [100.0, None, 90.0],
            "area": ["东区", None, ""],
            "home_lon": [104.06, np.nan, np.nan],
            "home_lat": [30.66, np.nan, np.nan],
        }
    )
    new = apply_team(plan, edited)
    assert new.managers["manager"].tolist() == ["张三丰", "李四"]
    assert new.managers["capacity_h"].tolist() == [100.0, default_capacity_h()]
    assert new.managers["area"].tolist() == ["东区", ""]
    man = dict(zip(new.grids["grid_id"], new.grids["manager"], strict=True))
    assert man == {"G1": "张三丰", "G2": "张三丰", "G3": "李四", "G4": "李四", "G5": "", "G6": ""}
    assert np.isfinite(new.managers.loc[0, "home_x"]) and np.isnan(new.managers.loc[1, "home_x"])
    assert abs(new.managers.loc[0, "home_x"]) > 1000  # metres in the work CRS, not degrees


def test_apply_team_refuses_two_managers_of_one_name():
    plan = tiny_plan()
    edited = pd.DataFrame(
        {"manager": ["A", "A "], "capacity_h": [1.0, 1.0], "area": ["", ""],
         "home_lon": [np.nan] * 2, "home_lat": [np.nan] * 2}
    )  # fmt: skip
    with pytest.raises(GridplanError, match="same name"):
        apply_team(plan, edited)


def test_repartition_touches_only_the_selection():
    from gridplan.cells.polygon_graph import polygon_adjacency

    plan = set_locked(tiny_plan(), ["G3"], True)
    adjacency = polygon_adjacency(plan.cells.geometry.values, contiguity="rook")
    config = PartitionConfig(floors={"population": 1.0}, time_limit_s=5.0)
    new = repartition_grids(plan, adjacency, ["G1", "G2"], config)
    before = plan.cells.set_index("cell_id")["grid_id"].astype(str)
    after = new.cells.set_index("cell_id")["grid_id"].astype(str)
    outside = ~before.isin(["G1", "G2"])
    assert (before[outside] == after[outside]).all()
    assert set(after[~outside]).isdisjoint(set(before[outside]))
    assert len(set(after[~outside])) > 2  # tiny floors: the two grids are cut finer
