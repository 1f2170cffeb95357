"""The CLI's shared module: light imports, no cycles, parameter names shown as flags."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from gridplan.cli.common import FLAGS, parse_floors, with_flags
from gridplan.errors import GridplanError, InfeasibleError, InputError, Problem

CLI = Path(__file__).resolve().parents[2] / "gridplan" / "cli"


def test_help_imports_no_heavy_module():
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "gridplan", "--help"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0 and "usage: gridplan" in result.stdout
    loaded = {line.rsplit("|", 1)[-1].strip() for line in result.stderr.splitlines()}
    assert not {m.split(".")[0] for m in loaded} & {"geopandas", "ortools", "folium"}


def test_commands_import_common_never_main():
    """Command modules import gridplan.cli.main nowhere (read_polygon_cells aside: it
    leaves the CLI for gridplan.layers)."""
    for path in CLI.glob("*.py"):
        if path.name in ("main.py", "__init__.py"):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module == "gridplan.cli.main":
                assert [a.name for a in node.names] == ["read_polygon_cells"], path.name
                assert node not in tree.body, path.name  # never at module level


def test_gridplan_error_is_a_value_error():
    assert issubclass(GridplanError, ValueError)
    with pytest.raises(ValueError, match="Fix: give one"):
        raise InputError(Problem("bad", "here", "give one"))


def test_parameter_names_become_flags():
    err = InputError(
        [
            Problem("unknown format 'kmz'", "format", "use one of gpkg"),
            Problem(
                "cannot write kml to 'x.kml': by='area' writes one file per area",
                "out x.kml",
                "give a folder",
            ),
            Problem("a file", "plan.gpkg", "layout=1 stays; outlook is no flag"),
        ]
    )
    text = str(with_flags(err))
    assert "1. --format: unknown format 'kmz'" in text
    assert "2. --out x.kml: cannot write kml to 'x.kml': --by area writes one file per area" in text
    assert "3. plan.gpkg: a file. Fix: layout=1 stays; outlook is no flag" in text
    assert FLAGS["respect_districts"] == "--cross-districts"
    other = InfeasibleError("no way")
    assert with_flags(other) is other
    same = InputError(Problem("x", "plan.gpkg", "y"))
    assert with_flags(same) is same


def test_floors_parse_and_complain_once():
    assert parse_floors(["population=3,000", "spend=2_000.5"]) == {
        "population": 3000.0,
        "spend": 2000.5,
    }
    with pytest.raises(InputError) as info:
        parse_floors(["population", "=4"])
    assert len(info.value.problems) == 2


def test_contiguity_help_states_the_engine_rule_in_metres():
    from gridplan.cells.polygon_graph import DEFAULT_MIN_SHARED_M
    from gridplan.cli.common import MIN_SHARED_M, contiguity_help

    assert MIN_SHARED_M == DEFAULT_MIN_SHARED_M
    assert f"more than {DEFAULT_MIN_SHARED_M:g} m of boundary" in contiguity_help("grids")
