"""The app's defaults for a sensible grid size: the demo resolution and floors, the
expected grids before running, and the mean area of the cells as built (AppTest)."""

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from gridplan.cells.sizing import estimate_grids, mean_cell_area_km2
from gridplan.plan.pipeline import DEMO_FLOORS

APP = str(Path(__file__).resolve().parents[2] / "app.py")


@pytest.fixture(autouse=True)
def workspace_env(tmp_path, monkeypatch):
    monkeypatch.setenv("GRIDPLAN_WORKSPACE", str(tmp_path / "workspace.sqlite"))


@pytest.fixture
def app():
    at = AppTest.from_file(APP, default_timeout=240)
    at.run()
    assert not at.exception, at.exception
    return at


def _captions(at) -> list[str]:
    return [c.value for c in at.caption]


def test_demo_defaults_resolution_floors_expected_grids_and_built_area(app):
    assert app.slider(key="h3res").value == 9  # DEMO_TARGET_CELLS picks 9 for NYC
    cellset = app.session_state["cellset"]
    assert cellset.h3_resolution == 9
    area = mean_cell_area_km2(cellset.cells)
    assert any(f"mean {area:.3f} km² per cell as built" in c for c in _captions(app))
    app.switch_page("ui/grids_page.py").run()
    assert not app.exception, app.exception
    assert app.number_input(key="f_pop").value == DEMO_FLOORS["population"]
    assert app.number_input(key="f_cust").value == DEMO_FLOORS["customers"]
    est = estimate_grids(cellset.cells, DEMO_FLOORS)
    expected = [c for c in _captions(app) if c.startswith("Expected with these floors")]
    assert expected and f"about {est.n_grids:,} grids" in expected[0]
    assert f"{est.cells_per_grid:.1f} cells per grid" in expected[0]
    assert est.cells_per_grid >= 8
    assert not any(c.startswith("Fewer than") for c in _captions(app))


def test_a_coarse_resolution_gets_a_finer_one_suggested(app):
    app.slider(key="h3res").set_value(8).run()
    assert not app.exception, app.exception
    app.switch_page("ui/grids_page.py").run()
    est = estimate_grids(app.session_state["cellset"].cells, DEMO_FLOORS)
    assert est.cells_per_grid < 8
    hint = [c for c in _captions(app) if c.startswith("Fewer than 8 cells per grid")]
    assert hint and "H3 resolution 9" in hint[0]
    # lower floors: the expected grids follow the inputs
    app.number_input(key="f_pop").set_value(20_000.0).run()
    fewer = estimate_grids(
        app.session_state["cellset"].cells, {**DEMO_FLOORS, "population": 20_000.0}
    )
    assert fewer.n_grids < est.n_grids
    assert any(f"about {fewer.n_grids:,} grids" in c for c in _captions(app))
