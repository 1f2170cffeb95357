"""Errors of the service as JSON problems (RFC 7807 style), never a stack trace.

Every error answer has ``type``, ``title``, ``status``, ``detail``, and where it helps
``field`` (the query parameter, body path or header at fault, e.g. ``points[17].lat``)
and ``fix`` (what the caller can do). The media type is ``application/problem+json``.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

__all__ = [
    "PROBLEM_TYPE",
    "ApiProblem",
    "ProblemBody",
    "error_responses",
    "install_handlers",
    "problem_response",
]

#: The base of the problem ``type`` URIs (a relative reference: nothing to fetch).
PROBLEM_TYPE = "/problems/"
_TITLES = {
    400: "Bad request",
    401: "API key missing",
    403: "API key not accepted",
    404: "Not found",
    405: "Method not allowed",
    413: "Request too large",
    422: "Invalid input",
    500: "Internal error",
    503: "Plan not available",
}
_LOG = logging.getLogger("gridplan.service")


class ProblemBody(BaseModel):
    """An error answer (the OpenAPI schema of every error)."""

    type: str
    title: str
    status: int
    detail: str
    field: str | None = None
    fix: str | None = None


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI ``responses`` of the given error statuses (JSON problems; sent as
    ``application/problem+json``)."""
    return {
        s: {"model": ProblemBody, "description": f"{_TITLES.get(s, 'Error')} (a JSON problem)"}
        for s in statuses
    }


class ApiProblem(Exception):
    """An error answer: HTTP ``status``, a ``detail`` sentence, the ``field`` at fault and
    the ``fix``; ``kind`` names the problem type (``/problems/<kind>``)."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        field: str | None = None,
        fix: str | None = None,
        kind: str | None = None,
        headers: dict[str, str] | None = None,
    ):
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.field = field
        self.fix = fix
        self.kind = kind or _TITLES.get(status, "error").lower().replace(" ", "-")
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        """The problem as a JSON-ready dict."""
        out: dict[str, Any] = {
            "type": PROBLEM_TYPE + self.kind,
            "title": _TITLES.get(self.status, "Error"),
            "status": self.status,
            "detail": self.detail,
        }
        if self.field is not None:
            out["field"] = self.field
        if self.fix is not None:
            out["fix"] = self.fix
        return out


def problem_response(problem: ApiProblem) -> Response:
    """The HTTP response of a problem (``application/problem+json``)."""
    return Response(
        json.dumps(problem.body(), ensure_ascii=False),
        status_code=problem.status,
        media_type="application/problem+json",
        headers=problem.headers,
    )


def _field_of(loc: tuple[Any, ...] | list[Any]) -> str:
    """``("query", "lat")`` → ``lat``; ``("path", "grid_id")`` → ``grid_id``."""
    parts = [str(p) for p in loc if p not in ("query", "path", "body", "header")]
    return ".".join(parts) or "request"


def _validation_problem(exc: RequestValidationError) -> ApiProblem:
    errors = exc.errors()
    first = errors[0] if errors else {"loc": (), "msg": "invalid input"}
    field = _field_of(first.get("loc", ()))
    msg = str(first.get("msg", "invalid input"))
    more = f" ({len(errors) - 1} more)" if len(errors) > 1 else ""
    fix = "give lon and lat in degrees (EPSG:4326) as numbers"
    if field not in ("lon", "lat"):
        fix = "see the endpoint's parameters at /docs"
    return ApiProblem(422, f"{field}: {msg}{more}", field=field, fix=fix, kind="invalid-input")


def install_handlers(app: FastAPI) -> None:
    """Answer every error as a problem: ours, FastAPI's validation, Starlette's HTTP
    errors (404, 405) and, as a catch-all, any other exception (500, logged here,
    never shown to the caller)."""

    async def on_problem(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ApiProblem)
        return problem_response(exc)

    async def on_validation(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        return problem_response(_validation_problem(exc))

    async def on_http(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        fix = "see the endpoints at /docs" if exc.status_code in (404, 405) else None
        detail = f"{request.method} {request.url.path}: {exc.detail}"
        return problem_response(ApiProblem(exc.status_code, detail, fix=fix))

    async def on_error(request: Request, exc: Exception) -> Response:
        _LOG.error("unexpected error on %s %s", request.method, request.url.path, exc_info=exc)
        return problem_response(
            ApiProblem(
                500,
                "the service failed on this request; the error is in the server log",
                fix="try again; if it persists, report it with the time of the request",
                kind="internal-error",
            )
        )

    app.add_exception_handler(ApiProblem, on_problem)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(Exception, on_error)
