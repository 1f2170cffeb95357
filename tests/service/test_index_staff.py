"""The owner answer names the area manager and the marketing manager from the staff."""

from __future__ import annotations

import json

import pandas as pd

from gridplan.service.index import _owner_fragments
from tests.plans import tiny_plan


def test_owner_names_area_and_marketing_managers():
    plan = tiny_plan()
    staff = pd.DataFrame(
        {"person": ["王五", "MM01"], "role": ["area_manager", "marketing_manager"],
         "area": ["东区", "东区"], "unit": ["", ""], "supports": ["", "张三,李四"]}
    )  # fmt: skip
    frags = [json.loads("{" + f + "}") for f in _owner_fragments(plan.with_(staff=staff))]
    by_grid = {f["grid_id"]: f for f in frags}
    g1 = {m["role"]: m["name"] for m in by_grid["G1"]["managers"]}  # 张三, area 东区
    assert g1 == {"community_manager": "张三", "area_manager": "王五", "marketing_manager": "MM01"}
    g5 = {m["role"]: m["name"] for m in by_grid["G5"]["managers"]}  # Bob, another area
    assert g5 == {"community_manager": "Bob"}
