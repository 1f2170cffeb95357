"""`gridplan run`: a tiny city of your own end to end — a plan `gridplan export` and
`load_plan` accept, the team's names, capacities and homes, grids meeting the floor;
bad input exits 2 naming the flag and writes nothing; an interrupted run leaves no
plan.gpkg; a missed tolerance is the last line (exit 1 with --require-tolerance)."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from gridplan.cli.main import main

CRS = 32650  # UTM 50N
X0, Y0 = 440_000, 4_420_000
FLOOR = 1500.0
#: three managers, homes at the south-west, the south-east and the north middle
TEAM = {"Li Na": 128.0, "Wang Wei": 100.0, "Zhang Min": 150.0}
HOMES = [(X0 + 300, Y0 + 300), (X0 + 3700, Y0 + 300), (X0 + 2000, Y0 + 1700)]


def _lonlat(points: list[tuple[float, float]]) -> gpd.GeoSeries:
    return gpd.GeoSeries([shapely.Point(p) for p in points], crs=CRS).to_crs(4326)


@pytest.fixture(scope="module")
def city(tmp_path_factory):
    """A 4 km x 2 km city in two districts: population blocks of 250 m (GeoPackage),
    districts (GeoJSON, degrees), customers and sites (CSV, lon/lat), a team of 3."""
    d = tmp_path_factory.mktemp("city")
    rng = np.random.default_rng(3)
    west = shapely.box(X0, Y0, X0 + 2000, Y0 + 2000)
    east = shapely.box(X0 + 2000, Y0, X0 + 4000, Y0 + 2000)
    boundary = gpd.GeoDataFrame({"name": ["tiny"]}, geometry=[west.union(east)], crs=CRS)
    boundary.to_file(d / "boundary.gpkg")
    districts = gpd.GeoDataFrame({"district": ["W", "E"]}, geometry=[west, east], crs=CRS)
    districts.to_crs(4326).to_file(d / "districts.geojson")
    blocks = [
        shapely.box(X0 + i * 250, Y0 + j * 250, X0 + (i + 1) * 250, Y0 + (j + 1) * 250)
        for i in range(16)
        for j in range(8)
    ]
    pop = rng.integers(100, 600, len(blocks)).astype(float)
    gpd.GeoDataFrame({"population": pop}, geometry=blocks, crs=CRS).to_file(d / "population.gpkg")
    centres = _lonlat([b.centroid.coords[0] for b in blocks])  # the same, as points (CSV)
    pd.DataFrame({"population": pop, "longitude": centres.x, "latitude": centres.y}).to_csv(
        d / "population_points.csv", index=False
    )
    n = 400
    cx, cy = rng.uniform(X0 + 10, X0 + 3990, n), rng.uniform(Y0 + 10, Y0 + 1990, n)
    pts = _lonlat(list(zip(cx, cy, strict=True)))
    segment = rng.choice(["public", "vip_gold"], n)
    spend = rng.uniform(20, 300, n).round(1) + np.where(segment == "vip_gold", 1500, 0)
    pd.DataFrame(
        {
            "customer_id": [f"c{i}" for i in range(n)],
            "segment": segment,
            "spend": spend,  # CNY/month, in the band of the segment (no tier warning)
            "longitude": pts.x,
            "latitude": pts.y,
        }
    ).to_csv(d / "customers.csv", index=False)
    sx, sy = rng.uniform(X0, X0 + 4000, 12), rng.uniform(Y0, Y0 + 2000, 12)
    sites = _lonlat(list(zip(sx, sy, strict=True)))
    pd.DataFrame(
        {
            "site_id": [f"s{i}" for i in range(12)],
            "technology": ["4G", "5G"] * 6,
            "sectors": 3,
            "radius_m": 600.0,
            "longitude": sites.x,
            "latitude": sites.y,
        }
    ).to_csv(d / "sites.csv", index=False)
    homes = _lonlat(HOMES)
    pd.DataFrame(
        {"manager": list(TEAM), "capacity_h": list(TEAM.values())}
        | {"home_lon": homes.x, "home_lat": homes.y}
    ).to_csv(d / "team.csv", index=False)
    return d


def _args(city, out, *extra: str, team: bool = True) -> list[str]:
    args = ["--quiet", "run"]
    for kind, name in (
        ("boundary", "boundary.gpkg"),
        ("population", "population.gpkg"),
        ("districts", "districts.geojson"),
        ("sites", "sites.csv"),
        ("customers", "customers.csv"),
    ):
        args += [f"--{kind}", str(city / name)]
    if team:
        args += ["--team", str(city / "team.csv")]
    args += ["--lattice", "square", "--size", "250", "--floor", f"population={FLOOR:g}"]
    args += ["--time-limit", "3", "--balance-time", "3", "--out", str(out), *extra]
    return args


def _edges(plan) -> np.ndarray:
    """The cells' rook adjacency pairs, rebuilt from the saved cells."""
    from gridplan.cells.polygon_graph import polygon_adjacency
    from gridplan.plan.pipeline import cell_pairs

    adj = polygon_adjacency(
        plan.cells.geometry.values, contiguity="rook", district=plan.cells["district"].to_numpy()
    )
    return cell_pairs(adj)


@pytest.fixture(scope="module")
def made(city, tmp_path_factory):
    """One `gridplan run` with the team file, without the exports."""
    out = tmp_path_factory.mktemp("run") / "tiny"
    status = main(_args(city, out, "--tolerance", "0.1", "--skip-exports"))
    return out, status


def test_run_makes_a_plan_the_app_and_export_open(made, capsys, tmp_path):
    from gridplan.plan.model import HOURS, load_plan
    from tests.conftest import assert_plan_valid

    out, status = made
    assert status == 0
    plan = load_plan(out / "plan.gpkg")
    # the team's names and capacities; homes in the work CRS (metres) where they were given
    team = plan.managers.set_index("manager")
    assert sorted(team.index) == sorted(TEAM)
    assert team["capacity_h"].to_dict() == TEAM
    homes = team.loc[list(TEAM), ["home_x", "home_y"]].to_numpy()
    assert np.allclose(homes, np.array(HOMES), atol=0.01)
    assert plan.crs.to_epsg() == CRS
    # the customer columns used are saved with the plan (issue 15)
    assert json.loads(plan.meta["customer_columns"])["lon"] == "longitude"
    assert plan.meta["customer_tiers"].endswith("customer_tiers.yaml")
    # every grid meets the floor; territories contiguous and within the tolerance asked
    assert (plan.grids["population"] >= FLOOR).all()
    assert set(plan.grids["manager"]) == set(TEAM)
    assert_plan_valid(plan, _edges(plan), floors={"population": FLOOR}, tolerance=0.1)
    assert plan.tolerance == pytest.approx(0.1)
    assert plan.grids[HOURS].sum() > 0
    # the report and tables beside it, no export with --skip-exports
    report = (out / "report.json").read_text(encoding="utf-8")
    assert '"within_tolerance": true' in report
    managers = pd.read_csv(out / "managers.csv")
    assert sorted(managers["manager"]) == sorted(TEAM)
    assert not list(out.glob("*.pdf")) and not list(out.glob("*.kml"))
    assert not list(out.glob(".*.tmp*")), "temporary files left behind"
    # `gridplan export` takes the plan
    book = tmp_path / "exports"
    capsys.readouterr()
    assert main(["--quiet", "export", "--plan", str(out / "plan.gpkg"), "--out", str(book)]) == 0
    written = list(book.glob("*.gpkg"))
    assert written and "grids" in gpd.list_layers(written[0])["name"].tolist()


def test_run_on_population_points_without_a_team_takes_the_headcount(city, tmp_path, capsys):
    from gridplan.plan.model import HOURS, load_plan

    out = tmp_path / "head"
    args = _args(city, out, "--tolerance", "0.2", "--skip-exports", team=False)
    args[args.index("--population") + 1] = str(city / "population_points.csv")
    assert main(args) == 0, capsys.readouterr().err
    plan = load_plan(out / "plan.gpkg")
    total = pd.read_csv(city / "population_points.csv")["population"].sum()
    assert plan.cells["population"].sum() == pytest.approx(total)
    assert (plan.grids["population"] >= FLOOR).all()
    k = int(np.ceil(plan.grids[HOURS].sum() / 128.0 - 1e-9))
    assert len(plan.managers) == k
    assert plan.managers["capacity_h"].eq(128.0).all()


def test_missed_tolerance_is_the_last_line_and_can_exit_1(city, tmp_path, capsys):
    extra = ["--tolerance", "0.0001", "--managers", "3", "--skip-exports"]
    status = main(_args(city, tmp_path / "tight", *extra, "--require-tolerance", team=False))
    out = capsys.readouterr().out.strip().splitlines()
    assert status == 1
    assert out[-1].startswith("tolerance missed: max deviation ")
    assert "> ±0.01%" in out[-1]
    assert (tmp_path / "tight" / "plan.gpkg").is_file()  # the plan is written all the same


@pytest.mark.parametrize(
    ("change", "flag", "words"),
    [
        ({"--boundary": "nowhere.gpkg"}, "--boundary", "nowhere.gpkg: file not found"),
        ({"--floor": "population"}, "--floor", "COLUMN=VALUE"),
        ({"--floor": "population=-5"}, "--floor", "above 0"),
        ({"--floor": "popul=1500"}, "--floor", "'popul'"),
        ({"--tolerance": "3"}, "--tolerance", "0.03"),
        ({"--team": "bad_team.csv"}, "--team", "row 3"),
    ],
)
def test_bad_input_exits_2_naming_the_flag_and_writes_nothing(
    city, tmp_path, capsys, change, flag, words
):
    pd.DataFrame(
        {"manager": ["Li Na", "Wang Wei"], "capacity_h": [128, "lots"], "home_lon": [116.3, 116.4]}
        | {"home_lat": [39.9, 39.9]}
    ).to_csv(tmp_path / "bad_team.csv", index=False)
    out = tmp_path / "out"
    args = _args(city, out, "--tolerance", "0.1")
    for option, value in change.items():
        i = args.index(option)
        args[i + 1] = str(tmp_path / value) if option in ("--boundary", "--team") else value
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("gridplan run: ") and "Traceback" not in err
    assert flag in err and words in err
    assert not out.exists() or not any(out.iterdir())


def test_team_and_managers_together_are_refused(city, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([*_args(city, tmp_path / "out"), "--managers", "3"])
    assert exit_info.value.code == 2
    assert "--managers" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_an_interrupted_run_leaves_no_plan(city, tmp_path, capsys, monkeypatch):
    import gridplan.cli.demo as demo

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(demo, "_write_maps", interrupted)
    out = tmp_path / "cut"
    assert main(_args(city, out, "--tolerance", "0.2", "--skip-exports")) == 130
    assert (out / "report.json").is_file()  # written before the interruption
    assert not (out / "plan.gpkg").exists()
    assert not list(out.glob(".*.tmp*"))


@pytest.mark.slow
def test_run_ends_with_every_export(city, tmp_path, capsys):
    from gridplan.export.formats import FORMATS

    out = tmp_path / "all"
    assert main(_args(city, out, "--tolerance", "0.2")) == 0, capsys.readouterr().err
    suffixes = {p.suffix for p in out.rglob("*") if p.is_file()}
    assert {".pdf", ".kml", ".xlsx", ".gpkg"} <= suffixes
    assert len(FORMATS) >= 4


def test_help_states_the_flow_units_and_the_tolerance_switch(capsys):
    from gridplan.cli.common import REQUIRE_TOLERANCE_HELP

    with pytest.raises(SystemExit) as exit_info:
        main(["run", "--help"])
    assert exit_info.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    for option in ("--boundary", "--team", "--floor", "--balance-time", "--skip-exports"):
        assert option in text
    assert "hours/month" in text and "metres" in text
    assert " ".join(REQUIRE_TOLERANCE_HELP.split()) in text
