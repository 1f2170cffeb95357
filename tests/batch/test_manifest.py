"""The province manifest: every problem reported at once, sources and settings resolved."""

from __future__ import annotations

import pytest

from gridplan.batch.manifest import load_manifest
from gridplan.errors import InputError
from tests.batch.cities import write_city, write_manifest


def test_every_problem_is_reported_at_once_with_its_key(tmp_path):
    write_city(tmp_path / "good", seed=1, n=4)
    path = write_manifest(
        tmp_path,
        [
            {"name": "good", "folder": "good"},
            {"name": "nofile", "boundary": "x/boundary.gpkg", "population": "x/pop.gpkg"},
            {"name": "bad", "folder": "good", "settings": {"tolerance": -1, "tolerence": 0.1}},
            {"name": "split", "folder": "good", "settings": {"split_cells": -5}},
            {"demo": "paris"},
            {"name": "two", "demo": "seoul", "folder": "good"},
            {"name": "good", "folder": "good"},
            {"name": "x y", "folder": "good", "colour": "red"},
        ],
        settings={"lattice": "hexagon"},
    )
    with pytest.raises(InputError) as info:
        load_manifest(path)
    wheres = " | ".join(p.where for p in info.value.problems)
    text = str(info.value)
    assert "province.yaml: settings.lattice" in wheres
    assert "cities[1] (nofile).boundary" in wheres and "cities[1] (nofile).population" in wheres
    assert "cities[2] (bad).settings.tolerance" in wheres
    assert "did you mean 'tolerance'" in text
    assert "cities[3] (split).settings.split_cells" in wheres
    assert "unknown demo city 'paris'" in text
    assert "exactly one of" in text
    assert "2 cities are named 'good'" in text
    assert "not a folder name" in text and "unknown key 'colour'" in text
    assert len(info.value.problems) >= 9


def test_sources_settings_and_overrides(tmp_path):
    write_city(tmp_path / "a", seed=1, n=4)
    write_city(tmp_path / "files", seed=2, n=4)
    path = write_manifest(
        tmp_path,
        [
            {"name": "a", "folder": "a", "settings": {"target_cells": 500, "capacity_h": 100}},
            {
                "name": "b",
                "boundary": "files/boundary.gpkg",
                "population": "files/population.gpkg",
            },
            {"demo": "seoul", "settings": {"split_cells": 0}},
        ],
        settings={"time_limit": 8, "work_limit": None},
    )
    m = load_manifest(path, overrides={"seed": 7})
    a, b, seoul = m.cities
    assert a.source["boundary"] == str((tmp_path / "a" / "boundary.gpkg").resolve())
    assert a.source["population"].endswith("a/population.gpkg")
    assert a.settings["target_cells"] == 500 and b.settings["target_cells"] is None
    # the city's team rule replaces the province's headcount
    assert a.settings["capacity_h"] == 100 and a.settings["managers"] is None
    assert b.settings["managers"] == 3
    assert all(c.settings["seed"] == 7 for c in m.cities)
    assert a.settings["work_limit"] == 2.0  # a quarter of the time limit unless given
    assert seoul.name == "seoul" and dict(seoul.source) == {"demo": "seoul"}
    assert a.settings["split_cells"] == 20_000 and seoul.settings["split_cells"] == 0


def test_a_folder_without_the_layers_is_a_problem(tmp_path):
    (tmp_path / "empty").mkdir()
    path = write_manifest(tmp_path, [{"name": "e", "folder": "empty"}])
    with pytest.raises(InputError, match="no boundary and no population file"):
        load_manifest(path)


def test_not_yaml_and_missing_manifest(tmp_path):
    bad = tmp_path / "p.yaml"
    bad.write_text("cities: [\n  - demo: seoul\n   x", encoding="utf-8")
    with pytest.raises(InputError, match="not valid YAML"):
        load_manifest(bad)
    with pytest.raises(InputError, match="no manifest"):
        load_manifest(tmp_path / "nothing.yaml")


def test_units_are_a_path_or_a_mapping_checked_with_the_rest(tmp_path):
    from gridplan.batch.runner import city_jobs
    from gridplan.batch.task import load_city_layers
    from tests import org_city

    paths = org_city.write_city(tmp_path / "org")
    city = {
        "boundary": "org/boundary.gpkg",
        "population": "org/population.gpkg",
        "districts": "org/districts.gpkg",
    }
    levels = {lv: f"org/{lv}.gpkg" for lv in org_city.LEVELS}
    path = write_manifest(
        tmp_path,
        [
            {"name": "a", **city, "units": levels},
            {"name": "b", **city, "units": "org/units.csv"},
            {"name": "c", **city, "units": {"County!": "org/county.gpkg", "branch": "nope.gpkg"}},
            {"name": "d", **city, "units": 3},
        ],
    )
    with pytest.raises(InputError) as info:
        load_manifest(path)
    text = str(info.value)
    assert len(info.value.problems) == 3, text
    assert "cities[2] (c).units.County!: bad level key 'County!'" in text
    assert "cities[2] (c).units.branch: no file 'nope.gpkg'" in text
    assert "cities[3] (d).units: units must be a path or a mapping" in text
    path = write_manifest(
        tmp_path,
        [{"name": "a", **city, "units": levels}, {"name": "b", **city, "units": "org/units.csv"}],
    )
    a, b = load_manifest(path).cities
    assert list(a.units) == list(org_city.LEVELS)
    assert a.units["county"] == str(paths["county"].resolve())
    assert b.units == str(paths["units_c"].resolve())
    jobs = city_jobs(load_manifest(path), tmp_path / "out")
    cols = None
    for job in jobs:
        org = load_city_layers(job).organisation
        assert org is not None and org.levels == org_city.LEVELS
        cols = org.units.sort_values(["level", "code"]).reset_index(drop=True)
        if job.name == "a":
            first = cols
    assert cols.equals(first)
