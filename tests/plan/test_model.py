"""Plan object: derived tables, edits, GeoPackage round trip, customer attribution."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point, box

from gridplan.errors import InputError
from gridplan.plan.model import (
    Plan,
    areas,
    customer_attribution,
    load_plan,
    manager_table,
    reassign,
    save_plan,
    territories,
)

CRS = "EPSG:32650"


def tiny_plan() -> Plan:
    """A 2x3 strip of 1 km squares, one grid per two cells, three managers."""
    cells = gpd.GeoDataFrame(
        {
            "cell_id": [f"c{i}" for i in range(6)],
            "grid_id": ["g1", "g1", "g2", "g2", "g3", "g3"],
            "population": [100.0, 200, 300, 400, 500, 600],
        },
        geometry=[box(i * 1000, 0, (i + 1) * 1000, 1000) for i in range(6)],
        crs=CRS,
    )
    grids = cells.dissolve("grid_id", aggfunc="sum", as_index=False)[
        ["grid_id", "population", "geometry"]
    ]
    grids["hours_total"] = [10.0, 20.0, 30.0]
    grids["manager"] = ["张三", "李四", "李四"]
    grids["customers"] = [1, 2, 3]
    grids["spend"] = [10.0, 20.0, 30.0]
    managers = pd.DataFrame(
        {
            "manager": ["张三", "李四", "王五"],
            "capacity_h": [128.0, 128.0, 64.0],
            "area": ["东区", "东区", ""],
        }
    )
    customers = gpd.GeoDataFrame(
        {
            "customer_id": ["u1", "u2", "u3"],
            "segment": ["vip_gold", "public", "group_a"],
            "spend": [2000.0, 50.0, 9000.0],
            "cell_id": ["c0", "c5", None],
        },
        geometry=[Point(500, 500), Point(5500, 500), Point(9000, 9000)],
        crs=CRS,
    )
    return Plan(
        name="测试方案",
        cells=cells,
        grids=grids,
        managers=managers,
        customers=customers,
        meta={"tolerance": "0.1", "city": "测试市"},
    )


def test_manager_table_targets_follow_capacity():
    t = manager_table(tiny_plan()).set_index("manager")
    assert t.loc["张三", "hours"] == 10.0 and t.loc["李四", "hours"] == 50.0
    assert t.loc["王五", "hours"] == 0.0 and t.loc["王五", "n_grids"] == 0
    # 60 h shared 128:128:64
    assert t["target_h"].tolist() == pytest.approx([24.0, 24.0, 12.0])
    assert t.loc["李四", "deviation"] == pytest.approx(50 / 24 - 1)
    assert not t["within"].any()
    assert t.loc["李四", "grids"] == "g2,g3"


def test_territories_and_areas_dissolve_by_manager():
    p = tiny_plan()
    terr = territories(p).set_index("manager")
    assert sorted(terr.index) == ["张三", "李四"]  # 王五 has no grid, no polygon
    assert terr.loc["李四", "geometry"].area == pytest.approx(4e6)
    assert terr.loc["李四", "n_grids"] == 2
    ar = areas(p)
    assert ar["area"].tolist() == ["东区"]
    assert ar["hours"].iloc[0] == pytest.approx(60.0)
    assert ar["n_managers"].iloc[0] == 2


def test_reassign_is_a_copy_and_checks_names():
    p = tiny_plan()
    q = reassign(p, ["g1"], "王五")
    assert p.grids.set_index("grid_id").loc["g1", "manager"] == "张三"
    assert q.grids.set_index("grid_id").loc["g1", "manager"] == "王五"
    with pytest.raises(InputError, match="no manager 'nobody'"):
        reassign(p, ["g1"], "nobody")
    with pytest.raises(InputError, match="unknown grid ids"):
        reassign(p, ["g9"], "王五")


def test_customer_attribution_chain():
    att = customer_attribution(tiny_plan()).set_index("customer_id")
    assert att.loc["u1", ["grid_id", "manager", "area"]].tolist() == ["g1", "张三", "东区"]
    assert att.loc["u2", ["grid_id", "manager", "area"]].tolist() == ["g3", "李四", "东区"]
    assert att.loc["u3", ["grid_id", "manager", "area"]].tolist() == ["", "", ""]


def test_gpkg_round_trip_keeps_everything(tmp_path):
    p = tiny_plan()
    path = save_plan(p, tmp_path / "plan.gpkg")
    q = load_plan(path)
    assert q.name == "测试方案" and q.meta["city"] == "测试市" and q.tolerance == 0.1
    pd.testing.assert_frame_equal(
        q.grids.drop(columns="geometry").reset_index(drop=True),
        pd.DataFrame(p.grids.drop(columns="geometry")).reset_index(drop=True),
        check_dtype=False,
    )
    assert np.allclose(q.grids.area, p.grids.area)
    assert q.managers["manager"].tolist() == ["张三", "李四", "王五"]
    assert gpd.read_file(path, layer="territories")["manager"].tolist() == ["张三", "李四"]
    assert customer_attribution(q).equals(customer_attribution(p))


def test_load_plan_errors_name_the_file(tmp_path):
    with pytest.raises(InputError, match=r"no plan file 'missing\.gpkg'"):
        load_plan(tmp_path / "missing.gpkg")
    bad = tmp_path / "notes.gpkg"
    bad.write_text("not a geopackage")
    with pytest.raises(InputError, match=r"cannot read 'notes\.gpkg'"):
        load_plan(bad)
    other = tmp_path / "other.gpkg"
    tiny_plan().grids.to_file(other, layer="grids")
    with pytest.raises(InputError, match="not a gridplan plan"):
        load_plan(other)


def test_failed_save_leaves_no_file(tmp_path, monkeypatch):
    p = tiny_plan()
    target = tmp_path / "plan.gpkg"

    def boom(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr("pyogrio.write_dataframe", boom)
    with pytest.raises(OSError):
        save_plan(p, target)
    assert not target.exists()
    assert list(tmp_path.iterdir()) == []
