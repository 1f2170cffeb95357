"""The interactive map in a real (headless) browser: no script error, hostile names stay
text, territory labels never overlap. Skipped where Chromium is not installed."""

from __future__ import annotations

import re
import shutil
import subprocess

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import box

from gridplan._maps.base import standalone_html
from gridplan._maps.plan_map import plan_map
from gridplan.plan.model import Plan
from tests.plans import CRS, EVIL, X0, Y0

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed")

PROBE = """<script>setTimeout(function () {
  var labels = Array.prototype.slice.call(document.querySelectorAll(".gridplan-label"));
  var shown = labels.filter(function (e) { return e.style.display !== "none"; });
  var rects = shown.map(function (e) { return e.getBoundingClientRect(); });
  var overlaps = 0;
  for (var i = 0; i < rects.length; i++) for (var j = i + 1; j < rects.length; j++) {
    var a = rects[i], b = rects[j];
    if (a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom) overlaps++;
  }
  var injected = document.querySelectorAll("script").length;
  document.title = "PROBE " + labels.length + " " + shown.length + " " + overlaps + " " +
      (window.__pwned ? "PWNED" : "safe") + " " + injected;
}, 1500);</script>"""


def crowded_plan(n: int = 60) -> Plan:
    """60 small territories of one 300 m grid each, long names: labels must collide."""
    cols = 10
    geoms = [
        box(X0 + (i % cols) * 300, Y0 + (i // cols) * 300, X0 + (i % cols + 1) * 300,
            Y0 + (i // cols + 1) * 300)
        for i in range(n)
    ]  # fmt: skip
    names = [f"社区经理 {i:02d} Longname" for i in range(n)]
    names[0] = EVIL.replace("alert(1)", "window.__pwned=1")
    grids = gpd.GeoDataFrame(
        {"grid_id": [f"G{i}" for i in range(n)], "manager": names, "hours_total": 10.0,
         "population": 100.0, "district": EVIL},
        geometry=geoms, crs=CRS,
    )  # fmt: skip
    cells = grids[["grid_id", "geometry"]].assign(cell_id=grids["grid_id"])
    managers = pd.DataFrame({"manager": names, "capacity_h": 128.0, "area": "A"})
    return Plan(name="crowded", cells=cells, grids=grids, managers=managers)


def test_labels_never_overlap_and_names_stay_text(tmp_path):
    page = tmp_path / "map.html"
    page.write_text(
        standalone_html(plan_map(crowded_plan())).replace("</html>", PROBE + "</html>"),
        encoding="utf-8",
    )
    dom = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--window-size=800,600",
         "--virtual-time-budget=6000", "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=120, check=True,
    ).stdout  # fmt: skip
    found = re.search(r"PROBE (\d+) (\d+) (\d+) (\w+)", dom)
    assert found, "the map did not load (script error?)"
    total, shown, overlaps, pwned = found.groups()
    assert int(total) == 60
    assert 0 < int(shown) < 60  # crowded at the city-wide zoom: some labels hidden
    assert int(overlaps) == 0
    assert pwned == "safe"
