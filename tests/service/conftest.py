"""A real attribution server on a free localhost port (uvicorn in a thread), for httpx."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
import uvicorn

from gridplan.plan import save_plan
from gridplan.service import Auth, PlanSource, create_app
from tests import plans

KEY = "test-key-0123456789abcdef"


@dataclass
class Running:
    """A started server: its base URL, an httpx client with the key, its source."""

    url: str
    client: httpx.Client
    source: PlanSource


class ServerThread:
    """uvicorn serving ``app`` on a socket bound to a free port of 127.0.0.1."""

    def __init__(self, app):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True
        )

    def __enter__(self) -> ServerThread:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the test server did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.sock.close()


def serve(source: PlanSource, auth: Auth | None = None, **kw) -> Iterator[Running]:
    """Start a server over ``source``; yield it; stop it."""
    auth = auth or Auth(frozenset({KEY}))
    with ServerThread(create_app(source, auth, **kw)) as srv:
        url = f"http://127.0.0.1:{srv.port}"
        with httpx.Client(base_url=url, headers={"X-API-Key": KEY}, timeout=30) as client:
            yield Running(url, client, source)


@pytest.fixture(scope="module")
def tiny_gpkg(tmp_path_factory):
    """(the tiny plan, its GeoPackage path)."""
    plan = plans.tiny_plan()
    path = tmp_path_factory.mktemp("service") / "tiny.gpkg"
    save_plan(plan, path)
    return plan, path


@pytest.fixture(scope="module")
def tiny_server(tiny_gpkg):
    """A server over the tiny plan's file, key required."""
    yield from serve(PlanSource(tiny_gpkg[1]))
