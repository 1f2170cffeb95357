"""Every command with a broad set of malformed inputs: exit status 2 and a message that
names the problem — never the catch-all "internal error", never a traceback, and no
output created or changed."""

from __future__ import annotations

import shutil
from pathlib import Path

import geopandas as gpd
import pytest
import shapely

from gridplan.cli import main
from gridplan.plan.model import save_plan
from tests.cli.test_cli import _tiny_city
from tests.plans import tiny_plan


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> dict[str, Path]:
    """A tiny city, a tiny plan, the same plan in another CRS, and odd paths."""
    root = tmp_path_factory.mktemp("bad")
    paths = {k: Path(v) for k, v in _tiny_city(root).items()}
    plan = tiny_plan()
    paths["plan"] = save_plan(plan, root / "plan.gpkg")

    def away(frame):  # the same shapes 2,000 km east, in another UTM zone
        if frame is None:
            return None
        moved = frame.copy()
        moved["geometry"] = moved.translate(2_000_000, 0)
        return moved.to_crs(32650)

    far = plan.with_(
        cells=away(plan.cells),
        grids=away(plan.grids),
        customers=away(plan.customers),
        sites=away(plan.sites),
        districts=away(plan.districts),
    )
    paths["other_city"] = save_plan(far, root / "other-city.gpkg")
    elsewhere = gpd.read_file(paths["population"])
    elsewhere["geometry"] = elsewhere.translate(300_000, 0)  # another city entirely
    paths["population_elsewhere"] = root / "population-elsewhere.gpkg"
    elsewhere.to_file(paths["population_elsewhere"])
    paths["a_file"] = root / "a-file.txt"
    paths["a_file"].write_text("not a folder")
    paths["a_dir"] = root / "a-folder.gpkg"
    paths["a_dir"].mkdir()
    paths["not_gpkg"] = root / "text.gpkg"
    paths["not_gpkg"].write_text("hello")
    paths["units"] = root / "units.csv"
    paths["units"].write_text("unit_id,x,y,w\na,0,0,1\nb,1,0,2\nc,2,0,x\n")
    return paths


def _cases(w: dict[str, Path], out: Path) -> list[tuple[str, list[str]]]:
    city = ["--boundary", str(w["boundary"]), "--population", str(w["population"])]
    cells_gpkg = out / "cells.gpkg"
    part = ["partition", "--cells", str(cells_gpkg), "--id", "cell_id"]
    return [
        ("cells: missing boundary", ["cells", "--boundary", "nope.gpkg", "--population",
                                     str(w["population"]), "--out", str(out / "c.gpkg")]),
        ("cells: boundary not a gpkg", ["cells", "--boundary", str(w["not_gpkg"]),
                                        "--population", str(w["population"]),
                                        "--out", str(out / "c.gpkg")]),
        ("cells: population elsewhere", ["cells", "--boundary", str(w["boundary"]),
                                         "--population", str(w["population_elsewhere"]),
                                         "--out", str(out / "c.gpkg")]),
        ("cells: resolution 99", ["cells", *city, "--resolution", "99",
                                  "--out", str(out / "c.gpkg")]),
        ("cells: target cells 0", ["cells", *city, "--target-cells", "0",
                                   "--out", str(out / "c.gpkg")]),
        ("cells: out under a file", ["cells", *city, "--out", str(w["a_file"] / "c.gpkg")]),
        ("cells: out is a folder", ["cells", *city, "--out", str(w["a_dir"])]),
        ("cells: units missing", ["cells", *city, "--units", "county=nope.gpkg",
                                  "--out", str(out / "c.gpkg")]),
        ("cells: units of no form", ["cells", *city, "--units", str(w["units"]),
                                     "--out", str(out / "c.gpkg")]),
        ("cells: units not a layer", ["cells", *city, "--units", f"county={w['not_gpkg']}",
                                      "--out", str(out / "c.gpkg")]),
        ("partition: no floor", [*part, "--out", str(out / "g.gpkg")]),
        ("partition: floor not a number", [*part, "--floor", "population=abc",
                                           "--out", str(out / "g.gpkg")]),
        ("partition: unknown floor column", [*part, "--floor", "nosuch=5",
                                             "--out", str(out / "g.gpkg")]),
        ("partition: negative max area", [*part, "--floor", "population=100",
                                          "--max-area", "-1", "--out", str(out / "g.gpkg")]),
        ("partition: negative time", [*part, "--floor", "population=100",
                                      "--time-limit", "-5", "--out", str(out / "g.gpkg")]),
        ("partition: cells missing", ["partition", "--cells", "nope.gpkg", "--floor",
                                      "population=1", "--out", str(out / "g.gpkg")]),
        ("partition: out under a file", [*part, "--floor", "population=100",
                                         "--out", str(w["a_file"] / "g.gpkg")]),
        ("balance: units missing", ["balance", "--units", "nope.csv", "--weight", "w",
                                    "--managers", "2", "--out", str(out / "a.csv")]),
        ("balance: weight not a number", ["balance", "--units", str(w["units"]), "--x", "x",
                                          "--y", "y", "--weight", "w", "--managers", "2",
                                          "--out", str(out / "a.csv")]),
        ("balance: zero managers", ["balance", "--units", str(w["units"]), "--x", "x",
                                    "--y", "y", "--weight", "x", "--managers", "0",
                                    "--out", str(out / "a.csv")]),
        ("balance: tolerance 2", ["balance", "--units", str(w["units"]), "--x", "x", "--y",
                                  "y", "--weight", "x", "--managers", "2", "--tolerance", "2",
                                  "--out", str(out / "a.csv")]),
        ("balance: grids not a layer", ["balance", "--grids", str(w["units"]),
                                        "--out", str(out / "a.csv")]),
        ("export: not a plan", ["export", "--plan", str(w["not_gpkg"]),
                                "--out", str(out / "e")]),
        ("export: bad format", ["export", "--plan", str(w["plan"]), "--format", "docx",
                                "--out", str(out / "e")]),
        ("export: bad by", ["export", "--plan", str(w["plan"]), "--by", "street",
                            "--out", str(out / "e")]),
        ("export: out under a file", ["export", "--plan", str(w["plan"]), "--format", "csv",
                                      "--out", str(w["a_file"] / "e")]),
        ("export: previous of another city", ["export", "--plan", str(w["plan"]),
                                              "--previous", str(w["other_city"]),
                                              "--format", "xlsx", "--out", str(out / "e")]),
        ("export: negative min count", ["export", "--plan", str(w["plan"]), "--min-count",
                                        "-1", "--out", str(out / "e")]),
        ("export: unknown language", ["export", "--plan", str(w["plan"]), "--language", "xx",
                                      "--out", str(out / "e")]),
        ("demo: resolution 99", ["demo", "--resolution", "99", "--out", str(out / "demo")]),
        ("demo: negative time", ["demo", "--time-limit", "-1", "--out", str(out / "demo")]),
        ("demo: out is a file", ["demo", "--out", str(w["a_file"])]),
        ("demo-data: negative seed", ["demo-data", "--seed", "-1",
                                      "--out-dir", str(out / "dd")]),
        ("demo-data: out under a file", ["demo-data", "--city", "seoul",
                                         "--out-dir", str(w["a_file"] / "dd")]),
    ]  # fmt: skip


def _run(argv: list[str], capsys) -> tuple[int, str]:
    try:
        status = main(["--quiet", *argv])
    except SystemExit as exc:  # argparse refuses the option itself
        status = int(exc.code or 0)
    return status, capsys.readouterr().err


def test_every_malformed_input_is_exit_2_with_a_message(world, tmp_path, capsys):
    cells_out = tmp_path / "cells.gpkg"
    status, err = _run(
        ["cells", "--boundary", str(world["boundary"]), "--population",
         str(world["population"]), "--lattice", "square", "--size", "250",
         "--out", str(cells_out)],
        capsys,
    )  # fmt: skip
    assert status == 0, err
    failures = []
    for name, argv in _cases(world, tmp_path):
        before = sorted(p.name for p in tmp_path.iterdir())
        status, err = _run(argv, capsys)
        after = sorted(p.name for p in tmp_path.iterdir())
        if status != 2 or "internal error" in err or "Traceback" in err or not err.strip():
            failures.append(f"{name}: exit {status}: {err.strip()[:300]}")
        elif after != before:
            failures.append(f"{name}: created {sorted(set(after) - set(before))}")
        for leftover in set(after) - set(before):  # keep the cases independent
            target = tmp_path / leftover
            shutil.rmtree(target) if target.is_dir() else target.unlink()
    assert not failures, "\n".join(failures)


def test_previous_plan_in_another_crs_is_reprojected(world, tmp_path, capsys):
    plan = tiny_plan()
    moved = plan.with_(grids=plan.grids.to_crs(32618), cells=plan.cells.to_crs(32618))
    previous = save_plan(moved, tmp_path / "previous.gpkg")
    status, err = _run(
        ["export", "--plan", str(world["plan"]), "--previous", str(previous), "--format",
         "xlsx", "--out", str(tmp_path / "out")],
        capsys,
    )  # fmt: skip
    assert status == 0, err
    assert list((tmp_path / "out").glob("*.xlsx"))


def test_cells_prints_the_loaders_warnings(world, tmp_path, capsys):
    pop = gpd.read_file(world["population"])
    bow = shapely.Polygon([(580_000, 4_500_000), (581_000, 4_501_000), (581_000, 4_500_000),
                           (580_000, 4_501_000)])  # fmt: skip
    pop.loc[0, "geometry"] = bow  # a self-crossing polygon: repaired with a warning
    path = tmp_path / "pop.gpkg"
    pop.to_file(path)
    status, err = _run(
        ["cells", "--boundary", str(world["boundary"]), "--population", str(path),
         "--lattice", "square", "--size", "250", "--out", str(tmp_path / "c.gpkg")],
        capsys,
    )  # fmt: skip
    assert status == 0, err
    assert "warning: pop.gpkg" in err and "repaired" in err


def test_reading_fixes_name_the_commands_own_options(world, tmp_path, capsys):
    """The engine says layer=/columns=/lon=; the CLI says --layer/--columns (issue 13)."""
    two = tmp_path / "two-layers.gpkg"
    pop = gpd.read_file(world["population"])
    pop.to_file(two, layer="tracts")
    pop.to_file(two, layer="blocks")
    renamed = tmp_path / "renamed.gpkg"
    pop.rename(columns={"population": "POP2020"}).to_file(renamed)
    city = ["--boundary", str(world["boundary"]), "--lattice", "square", "--size", "250"]
    out = ["--out", str(tmp_path / "c.gpkg")]
    status, err = _run(["cells", *city, "--population", str(two), *out], capsys)
    assert status == 2 and "--layer population=NAME" in err and "layer='" not in err, err
    status, err = _run(["cells", *city, "--population", str(renamed), *out], capsys)
    assert status == 2 and "--columns" in err and "columns={" not in err, err
    assert "population: {population: POP2020}" in err
    # and the options do what the fixes say
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text("population: {population: POP2020}\n", encoding="utf-8")
    status, err = _run(
        ["cells", *city, "--population", str(renamed), "--columns", str(mapping), *out], capsys
    )
    assert status == 0, err
    status, err = _run(
        ["cells", *city, "--population", str(two), "--layer", "population=blocks", *out], capsys
    )
    assert status == 0, err
    status, err = _run(["cells", *city, "--population", str(two), "--layer", "x=y", *out], capsys)
    assert status == 2 and "KIND=VALUE" in err


def test_a_read_only_output_folder_is_refused_before_any_work(tmp_path, monkeypatch, capsys):
    import os

    from gridplan.cli import common

    locked = tmp_path / "read-only"
    locked.mkdir()
    real = os.access
    monkeypatch.setattr(
        common.os, "access", lambda p, mode: False if Path(p) == locked else real(p, mode)
    )  # root ignores file modes: the check is what we test
    for argv in (
        ["demo", "--out", str(locked / "demo")],
        ["demo-data", "--city", "seoul", "--out-dir", str(locked)],
        [
            "export",
            "--plan",
            str(save_plan(tiny_plan(), tmp_path / "p.gpkg")),
            "--out",
            str(locked / "e"),
        ],
    ):
        status, err = _run(argv, capsys)
        assert status == 2 and "no permission to write into" in err, (argv, err)
    assert list(locked.iterdir()) == []
