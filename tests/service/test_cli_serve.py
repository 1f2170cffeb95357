"""``gridplan serve`` through its CLI module: a real process, a key from the environment."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.service.conftest import KEY

ROOT = Path(__file__).resolve().parents[2]
_RUN = """
import argparse, sys
from gridplan.cli.serve import add_parser, run
parser = argparse.ArgumentParser()
add_parser(parser.add_subparsers(dest="command"))
sys.exit(run(parser.parse_args(sys.argv[1:])))
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_command_answers_with_a_key_from_the_environment(tiny_gpkg):
    port = _free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "GRIDPLAN_API_KEYS": f"other-key-0123456789,{KEY}",
    }
    args = ["serve", "--plan", str(tiny_gpkg[1]), "--port", str(port)]
    proc = subprocess.Popen(
        [sys.executable, "-c", _RUN, *args],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/v1/health").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "gridplan serve did not start"
            time.sleep(0.1)
        assert httpx.get(f"{url}/v1/plan").status_code == 401
        r = httpx.get(f"{url}/v1/grids/G1", headers={"X-API-Key": KEY})
        assert r.status_code == 200 and r.json()["managers"][0]["name"] == "张三"
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=30)
    assert "serving plan" in out and "X-API-Key required" in out
