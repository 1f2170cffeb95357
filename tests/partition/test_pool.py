"""A kept engine pool (the app's): same labels as the serial engine, from a thread,
across runs on the same worker processes, and after a worker is killed."""

from __future__ import annotations

import os
import signal
import threading
import time

import numpy as np
import pytest

from gridplan.partition import EnginePool, partition_arrays
from tests.partition.test_partition import check_valid, lattice


@pytest.fixture(scope="module")
def pool():
    with EnginePool(workers=2) as p:
        p.warm_up()
        yield p


def _problem(side: int = 12, regions: int = 18):
    n = side * side
    ip, ix, x, y = lattice(side, side)
    rng = np.random.default_rng(side)
    pop = rng.lognormal(0, 1, n)
    floor = pop.sum() / regions
    kw = dict(x=x, y=y, homog=rng.normal(size=(n, 1)), seed=5, constructions=4)
    return ip, ix, pop, floor, kw


def _slow_pid() -> int:
    time.sleep(0.3)  # long enough that every worker takes one of the jobs
    return os.getpid()


def _worker_pids(pool: EnginePool) -> set[int]:
    ex = pool.executor()
    return {f.result(timeout=60) for f in [ex.submit(_slow_pid) for _ in range(4)]}


def test_kept_pool_gives_the_serial_labels_from_a_thread(monkeypatch, pool) -> None:
    import gridplan._partition.core as core

    # a mid-sized component: its work is split into jobs that run on the pool
    monkeypatch.setattr(core, "PORTFOLIO_CELLS", 100)
    ip, ix, pop, floor, kw = _problem()
    serial = partition_arrays(ip, ix, pop, [floor], workers=1, **kw)
    out: dict[str, object] = {}

    def run() -> None:  # as in the app: the run happens on a server thread
        out["res"] = partition_arrays(ip, ix, pop, [floor], pool=pool, **kw)

    th = threading.Thread(target=run)
    th.start()
    th.join(timeout=120)
    res = out["res"]
    np.testing.assert_array_equal(res.labels, serial.labels)
    check_valid(res, ip, ix, pop, floor)
    # the jobs ran on the pool's processes, not in this one
    pids = _worker_pids(pool)
    assert os.getpid() not in pids and len(pids) == 2


def test_kept_pool_is_reused_across_runs(monkeypatch, pool) -> None:
    import gridplan._partition.core as core

    monkeypatch.setattr(core, "PORTFOLIO_CELLS", 100)
    ip, ix, pop, floor, kw = _problem()
    before = _worker_pids(pool)
    a = partition_arrays(ip, ix, pop, [floor], pool=pool, **kw)
    b = partition_arrays(ip, ix, pop, [floor], pool=pool, **kw)
    np.testing.assert_array_equal(a.labels, b.labels)
    assert _worker_pids(pool) == before  # no process started for the runs


def test_pool_with_a_killed_worker_still_partitions(monkeypatch) -> None:
    import gridplan._partition.core as core

    monkeypatch.setattr(core, "PORTFOLIO_CELLS", 100)
    ip, ix, pop, floor, kw = _problem()
    serial = partition_arrays(ip, ix, pop, [floor], workers=1, **kw)
    with EnginePool(workers=2) as pool:
        first = _worker_pids(pool)
        for pid in first:
            os.kill(pid, signal.SIGKILL)
        time.sleep(0.5)
        # the broken pool is noticed (serial fallback or a new pool): same labels
        res = partition_arrays(ip, ix, pop, [floor], pool=pool, **kw)
        np.testing.assert_array_equal(res.labels, serial.labels)
        again = partition_arrays(ip, ix, pop, [floor], pool=pool, **kw)
        np.testing.assert_array_equal(again.labels, serial.labels)
        assert not (_worker_pids(pool) & first)  # a new pool replaced the broken one


def test_workers_one_with_a_pool_stays_in_this_process(monkeypatch) -> None:
    import gridplan._partition.core as core

    monkeypatch.setattr(core, "PORTFOLIO_CELLS", 100)

    class Counting(EnginePool):
        used = 0

        def executor(self):
            Counting.used += 1
            return super().executor()

    ip, ix, pop, floor, kw = _problem()
    with Counting(workers=2) as pool:
        serial = partition_arrays(ip, ix, pop, [floor], pool=pool, workers=1, **kw)
        assert Counting.used == 0  # workers=1: the pool is not touched
        pooled = partition_arrays(ip, ix, pop, [floor], pool=pool, **kw)
        assert Counting.used == 1
    np.testing.assert_array_equal(serial.labels, pooled.labels)
