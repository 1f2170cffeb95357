"""OpenAPI documentation at ``/docs`` with nothing fetched from the internet.

FastAPI's default page loads Swagger UI from a CDN. Here Swagger UI's files come from
the ``swagger-ui-bundle`` package (Swagger UI 4.15, Apache-2.0) and are served under
``/docs/assets``. That Swagger UI reads OpenAPI 3.0, so the page is given
``/docs/openapi.json``: the same document as ``/openapi.json`` labelled 3.0.3 (the
schemas used here read the same in both). Without the package, ``/docs`` is a small
self-contained page listing the endpoints from the OpenAPI document.
"""

from __future__ import annotations

import html
import json
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, Response

__all__ = ["install_docs"]

_ASSETS = "/docs/assets"


def _swagger_dir() -> str | None:
    try:
        import swagger_ui_bundle
    except ImportError:
        return None
    return str(swagger_ui_bundle.swagger_ui_path)


def _plain_page(spec: dict[str, Any]) -> str:
    """A self-contained HTML list of the endpoints (no script, no external link)."""
    rows = []
    for path, ops in spec.get("paths", {}).items():
        for method, op in ops.items():
            summary = html.escape(str(op.get("summary", "")))
            rows.append(
                f"<tr><td><code>{method.upper()}</code></td><td><code>{html.escape(path)}"
                f"</code></td><td>{summary}</td></tr>"
            )
    title = html.escape(str(spec.get("info", {}).get("title", "API")))
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{title}</title></head>"
        f"<body><h1>{title}</h1><p>The OpenAPI document: <a href='/openapi.json'>"
        f"/openapi.json</a></p><table>{''.join(rows)}</table></body></html>"
    )


def install_docs(app: FastAPI) -> None:
    """Serve ``/docs`` (and its assets and OpenAPI 3.0 label) offline."""
    folder = _swagger_dir()

    @app.get("/docs/openapi.json", include_in_schema=False)
    async def openapi_30() -> Response:
        spec = dict(app.openapi())
        spec["openapi"] = "3.0.3"
        return Response(json.dumps(spec, ensure_ascii=False), media_type="application/json")

    if folder is None:

        @app.get("/docs", include_in_schema=False)
        async def plain_docs() -> HTMLResponse:
            return HTMLResponse(_plain_page(app.openapi()))

        return

    from fastapi.staticfiles import StaticFiles

    app.mount(_ASSETS, StaticFiles(directory=folder), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    async def swagger_docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/docs/openapi.json",
            title=f"{app.title} — API",
            swagger_js_url=f"{_ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{_ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{_ASSETS}/favicon-32x32.png",
            swagger_ui_parameters={"validatorUrl": None},
        )
