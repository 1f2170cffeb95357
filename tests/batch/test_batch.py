"""A province of four small synthetic cities (one split by district for its partition)
and a bad one on a 2-worker LocalCluster: the same plans as each city alone and as on
1 worker, the bad city fails alone, a re-run skips."""

from __future__ import annotations

import argparse
import json
import os
import re

import pandas as pd
import pytest

pytest.importorskip("distributed")

from gridplan.batch import DONE_FILE, Manifest, city_jobs, load_manifest, plan_city, run_batch
from gridplan.batch.task import CityJob, _publish, load_city_layers, plan_settings, run_city
from gridplan.cli import batch as cli_batch
from gridplan.errors import InputError
from gridplan.plan.model import load_plan
from tests.batch.cities import write_city, write_manifest

GOOD = ("a", "b", "c", "d")  # d: two districts, partitioned one Dask task each


@pytest.fixture(scope="module")
def province(tmp_path_factory):
    """The manifest and the result of one batch run (2 workers, no export formats)."""
    root = tmp_path_factory.mktemp("province")
    write_city(root / "a", seed=1, n=8)
    write_city(root / "b", seed=2, n=7, epsg=32651, origin=(300_000.0, 4_000_000.0))
    write_city(root / "c", seed=3, n=6)
    write_city(root / "bad", seed=4, n=6, shift_population_m=80_000.0)  # nobody inside
    write_city(root / "d", seed=5, n=8, districts=2)
    path = write_manifest(
        root,
        [
            {"name": "a", "folder": "a"},
            {"name": "b", "boundary": "b/boundary.gpkg", "population": "b/population.gpkg"},
            {"name": "bad", "folder": "bad"},
            {"name": "c", "folder": "c", "settings": {"managers_per_area": 3}},
            {"name": "d", "folder": "d", "settings": {"split_cells": 30}},  # 64 cells
        ],
    )
    manifest = load_manifest(path)
    lines: list[str] = []
    result = run_batch(manifest, root / "out", workers=2, skip_exports=True, echo=lines.append)
    return manifest, root / "out", result, lines


def test_each_city_is_planned_as_alone_with_the_same_seed(province):
    manifest, out, result, _ = province
    rows = {r["city"]: r for r in result.rows}
    assert {c: rows[c]["status"] for c in GOOD} == dict.fromkeys(GOOD, "done")
    assert len({rows[c]["pid"] for c in GOOD} | {rows["bad"]["pid"]}) == 2  # both workers
    compared = 0
    for job in city_jobs(manifest, out, skip_exports=True):
        if job.name == "bad":
            continue
        alone, report = plan_city(job)
        batch = load_plan(out / job.name / "plan.gpkg")
        cells = pd.read_csv(out / job.name / "cells.csv", dtype=str)
        assert cells["grid_id"].tolist() == alone.cells["grid_id"].astype(str).tolist()
        assert set(batch.grids["grid_id"]) == set(alone.grids["grid_id"])
        assert (batch.grids["manager"] != "").all()
        stopped = {report["balance"]["stopped_by"], rows[job.name]["stopped_by"]}
        if "time" in stopped:  # the wall clock cut a balance short: not reproducible
            continue
        mine = dict(zip(batch.grids["grid_id"], batch.grids["manager"], strict=True))
        theirs = dict(zip(alone.grids["grid_id"], alone.grids["manager"], strict=True))
        assert mine == theirs, job.name
        area = dict(zip(alone.managers["manager"], alone.managers["area"], strict=True))
        assert dict(zip(batch.managers["manager"], batch.managers["area"], strict=True)) == area
        compared += 1
    assert compared >= 3  # the work budget (0.5) is far inside the wall clock (60 s)


def _plans(out, names):
    """Per city: its cell → grid table and its managers' grids and areas (CSV text)."""
    return {
        c: (
            (out / c / "cells.csv").read_text(encoding="utf-8"),
            pd.read_csv(out / c / "managers.csv", dtype=str)[["manager", "area", "grids"]],
            json.loads((out / c / DONE_FILE).read_text())["figures"]["stopped_by"],
        )
        for c in names
    }


def test_one_worker_gives_the_same_plans_as_two(province, tmp_path):
    manifest, out, result, _ = province
    good = Manifest(manifest.path, tuple(c for c in manifest.cities if c.name in GOOD))
    one = run_batch(good, tmp_path / "one", workers=1, skip_exports=True, summary=False)
    assert [r["status"] for r in one.rows] == ["done"] * len(GOOD)
    assert len(one.worker_peak_rss_mb) == 1 and len(result.worker_peak_rss_mb) == 2
    assert all(v > 50 for v in result.worker_peak_rss_mb.values())  # MiB, a Python process
    assert set(result.worker_cpu_s) == set(result.worker_peak_rss_mb)
    assert all(v > 0 for v in result.worker_cpu_s.values())
    mine, theirs = _plans(tmp_path / "one", GOOD), _plans(out, GOOD)
    for city in GOOD:
        assert mine[city][0] == theirs[city][0], city  # the grids
        if "time" not in (mine[city][2], theirs[city][2]):
            pd.testing.assert_frame_equal(mine[city][1], theirs[city][1])


def test_a_large_city_is_partitioned_per_district_and_stays_valid(province):
    _, out, _, _ = province
    summary = json.loads((out / "d" / "report.json").read_text())["partition"]["summary"]
    assert summary["split_by_district"] and summary["n_districts"] == 2
    assert summary["districts_ran_on"] == "dask tasks"
    for city in ("a", "b", "c"):  # below split_cells: one run, as before
        report = json.loads((out / city / "report.json").read_text())
        assert "split_by_district" not in report["partition"]["summary"]
    cells = load_plan(out / "d" / "plan.gpkg").cells
    assert len(cells) == 64 and cells["grid_id"].notna().all()
    by_grid = cells.groupby("grid_id")
    assert (by_grid["district"].nunique() == 1).all()  # never across districts
    assert all(g.startswith(f"{d}-G") for g, d in by_grid["district"].first().items())
    assert (by_grid["population"].sum() >= 8000).all()  # the floor holds in every grid
    shapes = cells.dissolve("grid_id").geometry
    assert (shapes.geom_type == "Polygon").all()  # contiguous (squares sharing edges)
    assert (
        summary["n_grids"] == by_grid.ngroups and summary["n_meeting_all_floors"] == by_grid.ngroups
    )


def test_a_city_below_split_cells_is_planned_as_make_plan_does(province):
    from gridplan.plan.pipeline import make_plan

    manifest, out, _, _ = province
    job = next(j for j in city_jobs(manifest, out, skip_exports=True) if j.name == "c")
    plan, _ = make_plan(load_city_layers(job), plan_settings(job.settings, name="c"))
    cells = pd.read_csv(out / "c" / "cells.csv", dtype=str)
    assert cells["grid_id"].tolist() == plan.cells["grid_id"].astype(str).tolist()


def test_the_bad_city_fails_alone_with_its_message(province):
    _, out, result, lines = province
    (bad,) = result.failed
    assert bad["city"] == "bad"
    assert "no population reached any cell" in bad["error"] and "Fix:" in bad["error"]
    assert "Traceback" not in bad["error"]
    assert not (out / "bad").exists()
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no temporaries left
    assert any("[5/5 cities]" in line for line in lines)
    assert any("bad FAILED" in line for line in lines)
    assert any(line.startswith("a: [") for line in lines)  # progress from the workers


def test_summary_and_overview_map(province):
    _, out, _, _ = province
    table = pd.read_csv(out / "province_summary.csv")
    assert table["city"].tolist() == ["a", "b", "bad", "c", "d"]
    assert table.set_index("city").loc["a", "managers"] == 3
    assert table.set_index("city").loc["c", "area_managers"] == 1
    assert table.set_index("city").loc["bad", "status"] == "failed"
    assert pd.read_excel(out / "province_summary.xlsx")["city"].tolist() == table["city"].tolist()
    html = (out / "province_map.html").read_text(encoding="utf-8")
    assert not re.findall(r'src="(https?:[^"]+)"', html)  # offline: no CDN
    assert "CM01" in html and '"city": "b"' in html
    for city in GOOD:
        done = json.loads((out / city / DONE_FILE).read_text())
        assert done["figures"]["grids"] == table.set_index("city").loc[city, "grids"]


def test_a_rerun_on_a_scheduler_skips_complete_cities_through_the_cli(province, capsys):
    from distributed import LocalCluster

    manifest, out, _, _ = province
    stamps = {c: os.stat(out / c / DONE_FILE).st_mtime_ns for c in GOOD}
    parser = argparse.ArgumentParser(prog="gridplan")
    cli_batch.add_parser(parser.add_subparsers(dest="command"))
    with LocalCluster(n_workers=1, threads_per_worker=1, dashboard_address=None) as cluster:
        args = parser.parse_args(
            ["batch", "--manifest", str(manifest.path), "--out", str(out), "--skip-exports",
             "--scheduler", cluster.scheduler_address]
        )  # fmt: skip
        assert args.func(args) == cli_batch.EXIT_SOME_FAILED
    err = capsys.readouterr().err
    assert err.count("complete already, skipped") == len(GOOD)
    assert "gridplan batch: bad failed: population layer" in err
    assert {c: os.stat(out / c / DONE_FILE).st_mtime_ns for c in GOOD} == stamps


def test_cli_rejects_bad_options(tmp_path):
    parser = argparse.ArgumentParser(prog="gridplan")
    cli_batch.add_parser(parser.add_subparsers(dest="command"))
    common = ["batch", "--manifest", "p.yaml", "--out", str(tmp_path)]
    args = parser.parse_args([*common, "--workers", "0", "--time-limit", "-1", "--seed", "-1"])
    with pytest.raises(InputError) as info:
        cli_batch.run(args)
    assert [p.where for p in info.value.problems] == ["--workers", "--time-limit", "--seed"]
    args = parser.parse_args([*common, "--scheduler", "10.0.0.5:8786"])
    with pytest.raises(InputError, match="tcp://"):
        cli_batch.run(args)
    args = parser.parse_args([*common, "--scheduler", "tcp://10.0.0.5:8786"])
    with pytest.raises(InputError, match="no manifest"):  # the manifest is read first
        cli_batch.run(args)


def test_a_failed_write_leaves_the_previous_folder(tmp_path, monkeypatch):
    from gridplan.batch import task

    final = tmp_path / "out" / "x"
    final.mkdir(parents=True)
    (final / "old.txt").write_text("previous")
    job = CityJob("x", {"demo": "seoul"}, {}, str(final))
    monkeypatch.setattr(task, "plan_city", lambda job, progress=None: ("plan", {}))

    def broken(plan, report, folder, job):
        (folder / "half.csv").write_text("a,b\n")
        raise OSError("disk full")

    monkeypatch.setattr(task, "_write_outputs", broken)
    (tmp_path / "out" / ".x.123-abc.tmp").mkdir()  # left by a killed run
    row = run_city(job)
    assert row["status"] == "failed" and "disk full" in row["error"]
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["x"]
    assert [p.name for p in final.iterdir()] == ["old.txt"]
    tmp = tmp_path / "out" / ".x.new"
    tmp.mkdir()
    (tmp / DONE_FILE).write_text("{}")
    _publish(tmp, final)
    assert [p.name for p in final.iterdir()] == [DONE_FILE]
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["x"]
