"""The attribution service: a read-only HTTP API (FastAPI) over a saved plan that answers
"which cell, grid, managers, area and units own this point / this customer?".

- :class:`PlanSource` — the plan file or workspace plan, re-read when a newer version is
  saved (no restart), indexed once per version (:class:`OwnerIndex`);
- :class:`Auth` / :func:`load_keys` — API keys in the ``X-API-Key`` header;
- :func:`create_app` — the FastAPI app (run it with uvicorn; ``gridplan serve`` does).

Endpoints: ``/v1/health``, ``/v1/plan``, ``/v1/owner`` (GET, POST up to 10,000 points),
``/v1/customers/{id}``, ``/v1/customers`` (POST), ``/v1/grids/{grid_id}``; ``/docs``
(offline). Errors are JSON problems (``type``, ``title``, ``status``, ``detail``,
``field``, ``fix``).
"""

from gridplan.service.app import MAX_BODY_BYTES, create_app
from gridplan.service.auth import API_KEY_HEADER, KEYS_ENV, Auth, is_loopback, load_keys
from gridplan.service.index import OwnerIndex
from gridplan.service.inputs import MAX_BATCH
from gridplan.service.source import PlanSource, Snapshot

__all__ = [
    "API_KEY_HEADER",
    "KEYS_ENV",
    "MAX_BATCH",
    "MAX_BODY_BYTES",
    "Auth",
    "OwnerIndex",
    "PlanSource",
    "Snapshot",
    "create_app",
    "is_loopback",
    "load_keys",
]
