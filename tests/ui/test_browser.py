"""The app in a real browser: Debian's chromium driven by Playwright against
``streamlit run app.py`` on localhost.

Load the Seoul demo, run the partition and the balance with the defaults (timed; the
live checks must hold and every territory be within the tolerance), click a grid on the map and
reassign it with the grid and manager boxes, check the workload table changed, save,
reload the page, reopen the plan from the workspace. Writes a screenshot to the test's
tmp folder and the Run partition, Balance and click-to-reassign times to
``benchmarks/results/browser.json``.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
RESULTS = ROOT / "benchmarks" / "results" / "browser.json"

if not CHROMIUM.exists():
    pytest.skip(
        "Debian's chromium is not installed at /usr/bin/chromium (scripts/setup.sh installs it)",
        allow_module_level=True,
    )
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(tmp_path):
    port = _free_port()
    env = dict(os.environ)
    env["GRIDPLAN_WORKSPACE"] = str(tmp_path / "workspace.sqlite")
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    log = open(tmp_path / "streamlit.log", "w")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            "app.py",
            "--server.headless=true",
            f"--server.port={port}",
            "--server.address=127.0.0.1",
            "--browser.gatherUsageStats=false",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                time.sleep(0.3)
        else:
            pytest.fail("streamlit did not start: " + (tmp_path / "streamlit.log").read_text())
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def _nav(page, name: str) -> None:
    """Click a page in the sidebar until its title shows (a click during a rerun can be lost)."""
    title = page.get_by_role("heading", name=f"gridplan · {name}")
    for _ in range(5):
        page.get_by_test_id("stSidebarNav").get_by_role("link", name=name).click()
        try:
            title.wait_for(timeout=15_000)
            return
        except sync_api.TimeoutError:
            continue
    title.wait_for()


def _idle(page) -> None:
    """Wait until the app has finished its script run (no "Running…" status)."""
    page.wait_for_timeout(300)
    _run_finished(page)


def _run_finished(page) -> None:
    """Wait for the "Running…" status to go (no pause first: for the timed steps, whose
    run is known to be under way because its output has started to show)."""
    page.get_by_test_id("stStatusWidget").wait_for(state="hidden")


def _select(page, label: str, option: str) -> None:
    _idle(page)
    box = page.get_by_role("combobox", name=label)
    box.scroll_into_view_if_needed()
    box.click()
    page.keyboard.type(option)  # filters the (virtualised) option list
    page.get_by_role("option", name=option, exact=True).click()


def _click_map(page, before: str) -> str:
    """Click the middle of the map until the selected grid's caption changes (the map
    iframe may be rebuilt once after it first shows; a click on the old one is lost)."""
    caption = page.get_by_text(" h/month · ").first
    for _ in range(6):
        _idle(page)
        iframe = page.locator("iframe[title*='st_folium']").first
        iframe.scroll_into_view_if_needed()
        page.frame_locator("iframe[title*='st_folium']").first.locator(
            ".leaflet-container"
        ).first.wait_for()
        page.wait_for_timeout(800)
        box = iframe.bounding_box()
        page.mouse.click(box["x"] + box["width"] * 0.55, box["y"] + box["height"] * 0.5)
        for _ in range(10):
            page.wait_for_timeout(500)
            if caption.inner_text() != before:
                return caption.inner_text()
    return caption.inner_text()


def _draw_rectangle(page) -> None:
    """Draw a rectangle with the (locally served) Leaflet.draw tool on the grids map."""
    _idle(page)
    iframe = page.locator("iframe[title*='st_folium']").first
    iframe.scroll_into_view_if_needed()
    frame = page.frame_locator("iframe[title*='st_folium']").first
    tool = frame.locator(".leaflet-draw-draw-rectangle")
    tool.wait_for()
    page.wait_for_timeout(800)
    tool.click()
    box = iframe.bounding_box()
    x0, y0 = box["x"] + box["width"] * 0.45, box["y"] + box["height"] * 0.42
    page.mouse.move(x0, y0)
    page.mouse.down()
    page.mouse.move(x0 + 60, y0 + 40, steps=8)
    page.mouse.up()


def _timing(caption: str) -> tuple[float, float]:
    """``(engine, script)`` seconds of the Grids page's "Partition: T s (E s in the
    engine)" caption."""
    found = re.search(r"Partition: ([\d.]+) s \(([\d.]+) s in the engine\)", caption)
    assert found, caption
    return float(found.group(2)), float(found.group(1))


def _metric(page, label: str) -> str:
    """The value of the metric whose label is ``label``."""
    box = page.get_by_test_id("stMetric").filter(has_text=label).first
    return box.get_by_test_id("stMetricValue").inner_text().strip()


def _involved_text(page) -> str:
    return page.get_by_test_id("stTable").first.inner_text()


def test_browser_flow(server, tmp_path):
    with sync_api.sync_playwright() as p:
        try:
            _flow(p, server, tmp_path)
        except Exception:
            for page in _PAGES:
                page.screenshot(path=str(tmp_path / "failure.png"), full_page=True)
            raise


_PAGES: list = []


def _flow(p, server, tmp_path) -> None:
    if True:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"]
        )
        page = browser.new_page(viewport={"width": 1500, "height": 1100})
        _PAGES[:] = [page]
        page.set_default_timeout(90_000)
        sync_api.expect.set_options(timeout=60_000)
        page.goto(server)
        page.get_by_text("Cells", exact=True).first.wait_for()
        _idle(page)
        nyc_cells = page.get_by_test_id("stMetricValue").first.inner_text()
        _select(page, "Demo city", "Seoul")
        sync_api.expect(page.get_by_test_id("stMetricValue").first).not_to_have_text(nyc_cells)
        _idle(page)
        n_cells = int(page.get_by_test_id("stMetricValue").first.inner_text().replace(",", ""))

        # the default flow, timed from the click to the end of the app's run
        _nav(page, "Grids")
        _idle(page)
        t0 = time.perf_counter()
        page.get_by_role("button", name="Run partition").click()
        page.get_by_text("Live checks").wait_for()  # shown only once a plan exists
        _run_finished(page)
        partition_s = time.perf_counter() - t0
        sync_api.expect(page.get_by_text("All rules hold.").first).to_be_visible()
        timing = page.get_by_text("s in the engine)").first.inner_text()
        engine_s, script_s = _timing(timing)
        n_grids = int(page.get_by_test_id("stMetricValue").first.inner_text().replace(",", ""))
        _draw_rectangle(page)
        sync_api.expect(page.get_by_text("cells in the drawn polygon")).to_be_visible()
        page.screenshot(path=str(tmp_path / "grids_drawn.png"))

        _nav(page, "Territories")
        _idle(page)
        t0 = time.perf_counter()
        page.get_by_role("button", name="Balance", exact=True).click()
        page.get_by_text("Workload of the managers involved").wait_for()  # needs managers
        _run_finished(page)
        balance_s = time.perf_counter() - t0
        sync_api.expect(page.get_by_text("All rules hold.").first).to_be_visible()
        within = _metric(page, "Within tolerance")
        n_in, n_managers = (int(x) for x in within.split("/"))
        assert n_in == n_managers > 1, f"every territory within the tolerance: {within}"
        max_dev = _metric(page, "Max deviation")
        assert float(max_dev.rstrip("%")) <= 3.0, max_dev

        # click a grid on the map (centre of the map): it becomes the selected grid
        before_grid = page.get_by_text(" h/month · ").first.inner_text()
        clicked = _click_map(page, before_grid)
        page.screenshot(path=str(tmp_path / "after_map_click.png"))
        assert clicked != before_grid, "a click on the map selects the grid under it"

        # pick a manager other than the grid's and reassign
        caption = page.get_by_text(" h/month · ").first.inner_text()
        grid_id, current = caption.split(":")[0].strip(), caption.split(":")[1].split("·")[0]
        _idle(page)
        box = page.get_by_role("combobox", name="Manager")
        box.scroll_into_view_if_needed()
        box.click()
        page.get_by_role("option").first.wait_for()
        options = page.get_by_role("option").all_inner_texts()
        target = next(o for o in options if o.strip() and o.strip() != current.strip())
        page.get_by_role("option", name=target, exact=True).click()
        page.wait_for_timeout(1000)
        table_before = _involved_text(page)
        t0 = time.perf_counter()
        page.get_by_role("button", name="Reassign", exact=True).click()
        sync_api.expect(page.get_by_test_id("stTable").first).not_to_have_text(table_before)
        click_to_table = time.perf_counter() - t0
        _idle(page)
        click_to_idle = time.perf_counter() - t0
        table_after = _involved_text(page)
        assert target in table_after
        sync_api.expect(page.get_by_text(f"{grid_id}: {target}")).to_be_visible()

        # save a version, reload (a new session), reopen it from the workspace
        page.get_by_label("Your name").fill("Browser Test")
        page.get_by_label("Why (comment)").fill("reassigned one grid")
        page.get_by_role("button", name="Save version").click()
        page.get_by_text("version 1").first.wait_for()
        page.reload()
        _nav(page, "Territories")
        page.get_by_text("No plan yet").first.wait_for()
        page.locator(".st-key-ws_open button").click()
        page.get_by_text("Workload of the managers involved").wait_for()
        sync_api.expect(page.get_by_text("Opened").first).to_be_visible()
        _select(page, "Grid", grid_id)
        sync_api.expect(page.get_by_text(f"{grid_id}: {target}")).to_be_visible()
        shot = tmp_path / "territories.png"
        page.screenshot(path=str(shot), full_page=False)
        browser.close()
    assert shot.stat().st_size > 10_000
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "city": "seoul",
                "cells": n_cells,
                "grids": n_grids,
                "managers": n_managers,
                "run_partition_s": round(partition_s, 3),
                "partition_script_s": script_s,
                "partition_engine_s": engine_s,
                "balance_s": round(balance_s, 3),
                "balance_max_deviation": max_dev,
                "click_to_workload_table_s": round(click_to_table, 3),
                "click_to_run_finished_s": round(click_to_idle, 3),
                "map_clicked_grid": clicked.replace("\n", " ")[:80],
                "grid_before_click": before_grid,
                "screenshot": str(shot),
                "measured": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            },
            indent=2,
        )
        + "\n"
    )
