"""The Streamlit app's logic, run headless with AppTest on the demo city."""

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[1] / "app.py")


@pytest.fixture
def app():
    at = AppTest.from_file(APP, default_timeout=240)
    at.run()
    assert not at.exception, at.exception
    return at


def _metric(at, label):
    return next(m.value for m in at.metric if m.label == label)


def test_data_page_shows_demo_city_cells(app):
    assert int(_metric(app, "Cells").replace(",", "")) > 100
    assert int(_metric(app, "Population").replace(",", "")) > 8_000_000
    assert any("SYNTHETIC" in i.value for i in app.info)


def test_switching_city_and_lattice_rebuilds_cells(app):
    nyc_cells = _metric(app, "Cells")
    app.sidebar.selectbox[0].select("seoul").run()
    assert not app.exception
    assert _metric(app, "Cells") != nyc_cells
    assert int(_metric(app, "Districts")) == 25
    app.sidebar.radio[0].set_value("polygons").run()
    assert not app.exception
    assert int(_metric(app, "Cells").replace(",", "")) == 425  # Seoul's dong
