"""Saves from several processes at once, and saves killed at random points."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gridplan.plan.workspace import Workspace, plan_changes
from tests.plans import tiny_plan

ROOT = Path(__file__).resolve().parents[2]

SAVER = """
import sys
from gridplan.plan.model import reassign
from gridplan.plan.workspace import Workspace
ws = Workspace(sys.argv[1])
who, rounds = sys.argv[2], int(sys.argv[3])
for i in range(rounds):
    plan = ws.load("city")  # what this planner sees now
    grids = plan.grids
    gid = grids["grid_id"].iloc[i % len(grids)]
    managers = sorted(plan.managers["manager"])
    now = grids.set_index("grid_id").at[gid, "manager"]
    plan = reassign(plan, [gid], managers[(managers.index(now) + 1) % len(managers)])
    v = ws.save(plan, author=who, comment=f"{who} {i}")
    print(v.version, v.base, flush=True)
"""


def _saver(path: Path, who: str, rounds: int) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-c", SAVER, str(path), who, str(rounds)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_two_processes_saving_the_same_plan_serialise(tmp_path):
    path = tmp_path / "ws.sqlite"
    Workspace(path).save(tiny_plan(), name="city", author="setup")
    procs = [_saver(path, who, 20) for who in ("Li", "Wang")]
    outs = [p.communicate(timeout=300) for p in procs]
    for p, (_, err) in zip(procs, outs, strict=True):
        assert p.returncode == 0, err
    ws = Workspace(path)
    trail = ws.versions("city").sort_values("version")
    assert trail["version"].tolist() == list(range(1, 42))  # 1 + 2 x 20, no gap, no clash
    assert set(trail["author"]) == {"setup", "Li", "Wang"}
    plans = {v: ws.load("city", v) for v in trail["version"]}
    for row in trail.itertuples():
        if row.version == 1:
            continue
        assert 1 <= row.base < row.version
        recorded = ws.version("city", row.version).changes
        assert recorded["moved"] == plan_changes(plans[row.base], plans[row.version])["moved"]
    with sqlite3.connect(path) as con:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


@pytest.mark.slow
def test_saves_killed_at_random_points_never_corrupt_the_workspace(tmp_path):
    import random

    path = tmp_path / "ws.sqlite"
    Workspace(path).save(tiny_plan(), name="city", author="setup")
    rng = random.Random(13)
    for _ in range(8):
        proc = _saver(path, "Li", 50)
        time.sleep(rng.uniform(2.0, 4.0))  # start-up takes about 2 s; then it saves
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        ws = Workspace(path)
        with sqlite3.connect(path) as con:
            assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        latest = ws.versions("city")["version"].max()
        assert len(ws.load("city", int(latest)).grids) == len(tiny_plan().grids)
    assert ws.versions("city")["version"].max() > 1  # some saves did land between kills
