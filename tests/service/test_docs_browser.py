"""``/docs`` in a real browser (Debian's chromium via Playwright): Swagger UI renders every
endpoint and the page asks nothing of any host but the service."""

from __future__ import annotations

from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="Debian's chromium is not installed at /usr/bin/chromium (scripts/setup.sh installs it)",
)


def test_docs_render_offline_in_a_browser(tiny_server, tmp_path):
    sync_api = pytest.importorskip("playwright.sync_api")
    asked: list[str] = []
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"]
        )
        try:
            page = browser.new_page()
            page.on("request", lambda r: asked.append(r.url))
            page.goto(f"{tiny_server.url}/docs")
            page.locator(".opblock").first.wait_for(timeout=30_000)
            n_ops = page.locator(".opblock").count()
            text = page.content()
            page.screenshot(path=str(tmp_path / "docs.png"))
        finally:
            browser.close()
    assert n_ops >= 7, n_ops  # health, plan, owner GET/POST, customers GET/POST, grids
    assert "/v1/owner" in text and "Unable to render" not in text
    foreign = [u for u in asked if not u.startswith(tiny_server.url) and not u.startswith("data:")]
    assert not foreign, foreign
