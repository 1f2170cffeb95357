"""The HTTP routes of the attribution service (FastAPI), read-only.

``GET /v1/health`` (no key), and with a key in ``X-API-Key``: ``GET /v1/plan``,
``GET``/``POST /v1/owner``, ``GET /v1/customers/{id}``, ``POST /v1/customers``,
``GET /v1/grids/{grid_id}``. Every answer names the plan version it came from in the
``X-Plan-Version`` header; a batch is answered from one version even when a newer one
is swapped in meanwhile. The owner answer is described in :mod:`gridplan.service.index`.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

import numpy as np
from fastapi import Depends, FastAPI, Path, Query, Request
from fastapi.responses import Response
from fastapi.security import APIKeyHeader

from gridplan.service.auth import API_KEY_HEADER, Auth
from gridplan.service.docs import install_docs
from gridplan.service.inputs import MAX_BATCH, check_lonlat, parse_ids, parse_points
from gridplan.service.problems import (
    ApiProblem,
    error_responses,
    install_handlers,
    problem_response,
)
from gridplan.service.source import PlanSource, Snapshot

__all__ = ["MAX_BODY_BYTES", "create_app"]

#: Largest request body (bytes): 10,000 points with ids fit in well under 2 MiB.
MAX_BODY_BYTES = 2 * 1024 * 1024

_OWNER_EXAMPLE = {
    "index": 0,
    "lon": 126.978,
    "lat": 37.566,
    "outside": False,
    "cell_id": "8830e1d8d3fffff",
    "grid_id": "G017",
    "grid_type": "residential",
    "managers": [{"role": "community_manager", "name": "CM03"}],
    "area": "Area 1",
    "units": {"district": "Jung-gu"},
}
_POINTS_BODY = {
    "required": True,
    "content": {
        "application/json": {
            "schema": {
                "type": "array",
                "maxItems": MAX_BATCH,
                "items": {
                    "type": "object",
                    "required": ["lon", "lat"],
                    "properties": {
                        "lon": {"type": "number", "minimum": -180, "maximum": 180},
                        "lat": {"type": "number", "minimum": -90, "maximum": 90},
                        "id": {"description": "echoed back (e.g. a work-order number)"},
                    },
                },
            },
            "example": [{"lon": 126.978, "lat": 37.566, "id": "wo-1"}],
        }
    },
}
_IDS_BODY = {
    "required": True,
    "content": {
        "application/json": {
            "schema": {"type": "array", "maxItems": MAX_BATCH, "items": {"type": "string"}},
            "example": ["C000001", "C000002"],
        }
    },
}


class BodyLimit:
    """ASGI middleware: a body over ``max_bytes`` (declared or streamed) gets a 413
    problem; every answer gets ``X-Content-Type-Options: nosniff``."""

    def __init__(self, app: Any, max_bytes: int):
        self.app = app
        self.max_bytes = max_bytes

    def _too_large(self) -> ApiProblem:
        return ApiProblem(
            413,
            f"the request body is over {self.max_bytes:,} bytes",
            field="body",
            fix=f"send at most {MAX_BATCH:,} points or ids per request",
            kind="body-too-large",
        )

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_nosniff(message: dict) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-content-type-options", b"nosniff")]
            await send(message)

        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            await problem_response(self._too_large())(scope, receive, send_nosniff)
            return
        seen = 0

        async def limited() -> dict:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.max_bytes:
                raise self._too_large()
            return message

        await self.app(scope, limited, send_nosniff)


def _json(snapshot: Snapshot, text: str) -> Response:
    version = snapshot.version
    headers = {"X-Plan-Version": str(version)} if version is not None else {}
    return Response(text, media_type="application/json", headers=headers)


def _routes_lookup(app: FastAPI, source: PlanSource, max_batch: int, guard: Any) -> None:
    """``/v1/owner`` (GET one point, POST a batch)."""

    @app.get("/v1/owner", dependencies=[guard], responses=error_responses(401, 403, 422))
    async def owner(
        lon: float = Query(..., description="longitude, degrees (EPSG:4326)", ge=-180, le=180),
        lat: float = Query(..., description="latitude, degrees (EPSG:4326)", ge=-90, le=90),
    ) -> Response:
        """Who owns this point: cell, grid, managers by role, area and units."""
        x, y = np.array([lon]), np.array([lat])
        check_lonlat(x, y, prefix="")
        snap = source.snapshot
        (text,) = snap.index.answers(x, y, snap.index.locate(x, y))
        return _json(snap, text)

    @app.post(
        "/v1/owner",
        dependencies=[guard],
        openapi_extra={"requestBody": _POINTS_BODY},
        responses=error_responses(400, 401, 403, 413, 422),
    )
    async def owners(request: Request) -> Response:
        """The owners of up to 10,000 points: ``{plan, count, outside, results}``."""
        pts = parse_points(await request.body(), max_batch)
        snap = source.snapshot
        located = snap.index.locate(pts.lon, pts.lat)
        results = snap.index.answers(pts.lon, pts.lat, located, pts.ids)
        head = _plan_ref(snap, count=len(results), outside=int(located.outside.sum()))
        return _json(snap, f'{head[:-1]},"results":[{",".join(results)}]}}')


def _plan_ref(snapshot: Snapshot, **extra: Any) -> str:
    ref = {"name": snapshot.meta.get("name"), "version": snapshot.version}
    return json.dumps({"plan": ref, **extra}, ensure_ascii=False)


def _routes_records(app: FastAPI, source: PlanSource, max_batch: int, guard: Any) -> None:
    """``/v1/customers`` and ``/v1/grids``."""

    @app.get(
        "/v1/customers/{customer_id}",
        dependencies=[guard],
        responses=error_responses(401, 403, 404, 422),
    )
    async def customer(customer_id: str = Path(..., max_length=200)) -> Response:
        """The owner of one customer, through the plan's customer attribution."""
        snap = source.snapshot
        text = snap.index.customer(customer_id)
        if text is None:
            raise ApiProblem(
                404,
                f"no customer {customer_id!r} in plan version {snap.version}",
                field="customer_id",
                fix="check the id; customers are those of the saved plan",
                kind="unknown-customer",
            )
        return _json(snap, text)

    @app.post(
        "/v1/customers",
        dependencies=[guard],
        openapi_extra={"requestBody": _IDS_BODY},
        responses=error_responses(400, 401, 403, 413, 422),
    )
    async def customers(request: Request) -> Response:
        """The owners of up to 10,000 customers; an unknown id answers ``null``."""
        ids = parse_ids(await request.body(), max_batch)
        snap = source.snapshot
        found = [snap.index.customer(i) or "null" for i in ids]
        unknown = found.count("null")
        head = _plan_ref(snap, count=len(ids), unknown=unknown)
        return _json(snap, f'{head[:-1]},"results":[{",".join(found)}]}}')

    @app.get(
        "/v1/grids/{grid_id}", dependencies=[guard], responses=error_responses(401, 403, 404, 422)
    )
    async def grid(grid_id: str = Path(..., max_length=200)) -> Response:
        """One grid: its owner and its figures (population, customers, spend, hours…)."""
        snap = source.snapshot
        text = snap.index.grid(grid_id)
        if text is None:
            raise ApiProblem(
                404,
                f"no grid {grid_id!r} in plan version {snap.version}",
                field="grid_id",
                fix="check the id (as in the plan's grids layer)",
                kind="unknown-grid",
            )
        return _json(snap, text)


def create_app(
    source: PlanSource,
    auth: Auth,
    *,
    max_body_bytes: int = MAX_BODY_BYTES,
    max_batch: int = MAX_BATCH,
) -> FastAPI:
    """The service app over ``source`` (its watcher runs while the app runs)."""

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        source.start()
        try:
            yield
        finally:
            source.stop()

    app = FastAPI(
        title="gridplan attribution service",
        version="1",
        description="Read-only: which cell, grid, managers, area and units own a point "
        "or a customer, from a saved gridplan plan.",
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    header = APIKeyHeader(name=API_KEY_HEADER, auto_error=False)

    def require_key(key: str | None = Depends(header)) -> None:
        auth.check(key)

    guard = Depends(require_key)
    install_handlers(app)
    install_docs(app)

    @app.get("/v1/health")
    async def health() -> Response:
        """Liveness (no key needed): the version served and when it was loaded (no plan
        name or data: those need a key)."""
        snap = source.snapshot
        body = {"status": "ok", "version": snap.version, "loaded_at": snap.meta.get("loaded_at")}
        return _json(snap, json.dumps(body))

    @app.get("/v1/plan", dependencies=[guard], responses=error_responses(401, 403))
    async def plan() -> Response:
        """Plan metadata: name, version, when and by whom it was saved, sizes."""
        snap = source.snapshot
        return _json(snap, json.dumps(snap.meta, ensure_ascii=False))

    _routes_lookup(app, source, max_batch, guard)
    _routes_records(app, source, max_batch, guard)
    app.add_middleware(BodyLimit, max_bytes=max_body_bytes)
    return app
