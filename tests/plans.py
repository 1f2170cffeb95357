"""The shared plans of the tests: a tiny hand-built plan (no solver, milliseconds) and a
small balanced plan of the Seoul demo (about 1,300 H3 cells, built once per run)."""

from __future__ import annotations

import functools

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry import Point, box

from gridplan.balance import BalanceConfig
from gridplan.cells.build import CellsConfig, build_cells
from gridplan.demo.cities import load_demo
from gridplan.partition import PartitionConfig, partition_cells
from gridplan.plan.model import Plan, reassign
from gridplan.plan.pipeline import DEMO_FLOORS
from gridplan.plan.rules import edges_from_adjacency
from gridplan.plan.staff import assign_staff
from gridplan.plan.steps import balance_plan, default_team, plan_from_partition

CRS = "EPSG:32648"  # UTM 48N (Chengdu), metres
X0, Y0 = 400_000.0, 3_390_000.0
EVIL = "<script>alert(1)</script>"
SEGMENTS = ("vip_gold", "public", "group_a", "business_b")


def tiny_plan() -> Plan:
    """A 6x4 lattice of 1 km cells in 6 grids of 4 cells, 3 managers in two areas
    (东区 and a hostile name), two districts (武侯区 and ``<script>…``), 40 customers,
    3 sites."""
    cells = []
    for j in range(4):
        for i in range(6):
            gid = f"G{(j // 2) * 3 + i // 2 + 1}"
            cells.append(
                {
                    "cell_id": f"c{j}{i}",
                    "grid_id": gid,
                    "district": "武侯区" if i < 3 else EVIL,
                    "population": float(100 * (1 + i + j)),
                    "geometry": box(
                        X0 + i * 1000, Y0 + j * 1000, X0 + (i + 1) * 1000, Y0 + (j + 1) * 1000
                    ),
                }
            )
    cells = gpd.GeoDataFrame(cells, crs=CRS)
    rng = np.random.default_rng(7)
    n = 40
    xs = X0 + rng.uniform(0, 6000, n)
    ys = Y0 + rng.uniform(0, 4000, n)
    cell_of = [
        f"c{int((y - Y0) // 1000)}{int((x - X0) // 1000)}" for x, y in zip(xs, ys, strict=True)
    ]
    seg = [SEGMENTS[k % len(SEGMENTS)] for k in range(n)]
    customers = gpd.GeoDataFrame(
        {
            "customer_id": [f"客户{k:03d}" for k in range(n)],
            "segment": seg,
            "spend": np.round(rng.uniform(10, 3000, n), 2),
            "cell_id": cell_of,
        },
        geometry=[Point(x, y) for x, y in zip(xs, ys, strict=True)],
        crs=CRS,
    )
    counts = (
        pd.DataFrame({"cell_id": cell_of, "segment": seg, "spend": customers["spend"]})
        .assign(n=1)
        .pivot_table(index="cell_id", columns="segment", values="n", aggfunc="sum", fill_value=0)
        .add_prefix("cust_")
    )
    cells = cells.merge(counts, left_on="cell_id", right_index=True, how="left").fillna(
        {f"cust_{s}": 0 for s in SEGMENTS}
    )
    cells["customers"] = cells[[f"cust_{s}" for s in SEGMENTS]].sum(axis=1)
    spend = customers.groupby("cell_id")["spend"].sum()
    cells["spend"] = cells["cell_id"].map(spend).fillna(0.0)
    figures = ["population", "customers", "spend", *[f"cust_{s}" for s in SEGMENTS]]
    grids = cells.dissolve("grid_id", aggfunc={c: "sum" for c in figures}, as_index=False)
    grids["district"] = ["武侯区", "武侯区", EVIL, "武侯区", "武侯区", EVIL]
    grids["grid_type"] = ["住宅", "commercial", "campus", "住宅", "rural", "commercial"]
    grids["hours_total"] = [20.0, 25.0, 30.0, 22.0, 18.0, 35.0]
    grids["manager"] = ["张三", "张三", "李四", "李四", "Bob", "Bob"]
    managers = pd.DataFrame(
        {
            "manager": ["张三", "李四", "Bob"],
            "capacity_h": [128.0, 128.0, 128.0],
            "area": ["东区", "东区", EVIL],
        }
    )
    districts = gpd.GeoDataFrame(
        {"district": ["武侯区", EVIL], "name": ["武侯区", EVIL]},
        geometry=[box(X0, Y0, X0 + 3000, Y0 + 4000), box(X0 + 3000, Y0, X0 + 6000, Y0 + 4000)],
        crs=CRS,
    )
    sites = gpd.GeoDataFrame(
        {"site_id": ["S1", "S2", "S3"], "technology": ["5G", "4G", "5G"], "sectors": [3, 3, 6]},
        geometry=[
            Point(X0 + 500, Y0 + 500),
            Point(X0 + 3500, Y0 + 2500),
            Point(X0 + 5500, Y0 + 3500),
        ],
        crs=CRS,
    )
    return Plan(
        name="测试方案",
        cells=cells,
        grids=grids,
        managers=managers,
        customers=customers,
        sites=sites,
        districts=districts,
        meta={"tolerance": "0.1", "city": "成都"},
    )


def rebalanced(plan: Plan) -> Plan:
    """The plan after a re-balance: G2 moves from 张三 to 李四, G5 from Bob to 张三."""
    return reassign(reassign(plan, ["G2"], "李四"), ["G5"], "张三")


FLOORS = dict(DEMO_FLOORS)


@functools.cache
def seoul_grids():
    """(plan without managers, cell edges) of Seoul at ~500 target cells."""
    layers = load_demo("seoul")
    cellset = build_cells(layers, CellsConfig(target_cells=500))
    part = partition_cells(cellset.cells, cellset.adjacency, PartitionConfig(floors=FLOORS))
    plan = plan_from_partition(cellset, part, layers, name="seoul-test", floors=FLOORS)
    return plan, edges_from_adjacency(cellset.adjacency)


@functools.cache
def seoul_plan(n_managers: int = 12):
    """(balanced plan with ``n_managers`` managers at ±10 %, cell edges)."""
    plan, edges = seoul_grids()
    hours = float(plan.grids["hours_total"].sum())
    plan = plan.with_(managers=default_team(hours, hours / n_managers, n_managers))
    plan, _ = balance_plan(plan, edges, BalanceConfig(tolerance=0.10, time_limit=3.0))
    return plan, np.asarray(edges)


#: the levels of :func:`org_plan`'s organisation, top → bottom
ORG_LEVELS = ("county", "branch", "sub_branch")


def org_lattice(nx: int = 24, ny: int = 16, seed: int = 3) -> tuple[Plan, np.ndarray]:
    """A lattice city of 500 m cells in 2x2-cell grids (``nx/2 * ny/2`` grids) with an
    organisation of three levels: 2 counties (west/east), 4 branches (each county's
    north and south) and 8 sub-branches (each branch's west and east half). Hours are
    lognormal (about 10 h/month a grid). Returns the plan (no managers assigned, a team
    of 12) and its cell edges."""
    rng = np.random.default_rng(seed)
    size = 500.0
    rows = []
    for j in range(ny):
        for i in range(nx):
            county = "W" if i < nx // 2 else "E"
            branch = county + ("S" if j < ny // 2 else "N")
            quarter = (i % (nx // 2)) < nx // 4
            sub = branch + ("1" if quarter else "2")
            rows.append(
                {
                    "cell_id": f"c{j:02d}_{i:02d}",
                    "grid_id": f"g{j // 2:02d}_{i // 2:02d}",
                    "district": county,
                    "unit_county": county,
                    "unit_branch": branch,
                    "unit_sub_branch": sub,
                    "population": float(rng.integers(200, 2000)),
                    "geometry": box(
                        X0 + i * size, Y0 + j * size, X0 + (i + 1) * size, Y0 + (j + 1) * size
                    ),
                }
            )
    cells = gpd.GeoDataFrame(rows, crs=CRS)
    names = {"W": "西县", "E": "东县"}
    for lv in ORG_LEVELS:
        code = cells[f"unit_{lv}"]
        cells[f"unit_{lv}_name"] = code.map(lambda c: names.get(c, f"{c} 分局"))
    keep = {c: "first" for c in cells.columns if c.startswith("unit_") or c == "district"}
    grids = cells.dissolve("grid_id", aggfunc={"population": "sum", **keep}, as_index=False)
    grids["hours_total"] = np.round(rng.lognormal(np.log(10.0), 0.4, len(grids)), 2)
    grids["manager"] = ""
    units = []
    for lv, parent in zip(ORG_LEVELS, (None, "county", "branch"), strict=True):
        d = cells.dissolve(f"unit_{lv}", as_index=False)
        units.append(
            gpd.GeoDataFrame(
                {
                    "level": lv,
                    "code": d[f"unit_{lv}"],
                    "name": d[f"unit_{lv}_name"],
                    "parent": d[f"unit_{parent}"] if parent else "",
                },
                geometry=d.geometry.values,
                crs=CRS,
            )
        )
    team = default_team(float(grids["hours_total"].sum()), 128.0, n=12)
    plan = Plan(
        name="org",
        cells=cells,
        grids=grids,
        managers=team,
        units=pd.concat(units, ignore_index=True),
        meta={
            "tolerance": "0.1",
            "org_levels": ",".join(ORG_LEVELS),
            "org_labels": '{"county": "县", "branch": "分局", "sub_branch": "支局"}',
            "area_level": "branch",
        },
    )
    from gridplan.plan.rules import cell_edges

    return plan, cell_edges(cells)


@functools.cache
def org_staffed_plan() -> Plan:
    """:func:`org_lattice` balanced at ±10 % (2 managers per area, a work budget of 0.8)
    with its staff assigned: the organisation plan of the export and map tests, built
    once (read-only)."""
    base, edges = org_lattice()
    out, _ = balance_plan(
        base, edges, BalanceConfig(tolerance=0.1, time_limit=3.0, work_limit=0.8),
        managers_per_area=2,
    )  # fmt: skip
    return assign_staff(out)
