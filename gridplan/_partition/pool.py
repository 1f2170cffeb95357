"""Process pools of the partition engine: one per run, or one kept for many runs.

The engine is pure Python, so it uses several cores through processes. A pool started
per run pays for its processes on every run; a long-lived program that partitions
again and again (the Streamlit app serving many planners) keeps one
:class:`EnginePool` instead: its workers start once, from a fork server that has the
engine imported, so a run pays nothing to start them and threads in the host process
(a web server's) do no harm. The pool only changes where the work runs: the jobs and
their seeds depend on the data alone, so the labels are the same with it, without it
and serially.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import weakref
from concurrent.futures import Executor, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

__all__ = ["ENGINE_MODULES", "EnginePool", "default_workers", "mp_context"]

#: Modules a fork server imports once, so that every worker forked from it has the
#: engine loaded (the solver and every phase it runs).
ENGINE_MODULES = ("gridplan._partition.core", "gridplan._partition.solver")


def default_workers() -> int:
    """Workers used when none are given: ``min(2, cpu count)``."""
    return max(1, min(2, os.cpu_count() or 1))


def mp_context(*, persistent: bool = False) -> multiprocessing.context.BaseContext:
    """``fork`` for a per-run pool in a single-threaded process (fast, no re-import of
    ``__main__``); ``forkserver`` for a pool kept across runs or when threads run
    (e.g. inside a web server: forking a threaded process is unsafe); ``spawn`` where
    neither exists."""
    methods = multiprocessing.get_all_start_methods()
    if not persistent and "fork" in methods and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    if "forkserver" in methods:
        ctx = multiprocessing.get_context("forkserver")
        # the server imports the engine once; every worker forked from it has it
        # (no effect once the server runs)
        ctx.set_forkserver_preload(list(ENGINE_MODULES))
        return ctx
    return multiprocessing.get_context("spawn")


def _ready() -> int:
    """A no-op job: returns the worker's process id once it runs (warm-up)."""
    return os.getpid()


class EnginePool:
    """A process pool kept for many partition runs (thread-safe; pass it as
    ``pool=`` to :func:`gridplan.partition.partition_cells`). The host's main script
    must be importable without side effects (``if __name__ == "__main__"``): the
    workers import it when they start, as in any multiprocessing program.

    ``workers``: processes (default :func:`default_workers`). The processes start on
    the first :meth:`executor` or :meth:`warm_up` call; a pool broken by a killed
    worker is replaced on the next call. :meth:`close` stops the processes.
    """

    def __init__(self, workers: int | None = None) -> None:
        self.workers = default_workers() if workers is None else max(1, int(workers))
        self._lock = threading.Lock()
        self._executor: ProcessPoolExecutor | None = None

    def executor(self) -> Executor:
        """The running pool (started, or restarted after a break, here)."""
        with self._lock:
            ex = self._executor
            if ex is None or getattr(ex, "_broken", False):
                if ex is not None:
                    ex.shutdown(wait=False, cancel_futures=True)
                ex = ProcessPoolExecutor(
                    max_workers=self.workers, mp_context=mp_context(persistent=True)
                )
                # a pool dropped without close() stops its workers then, not at the
                # interpreter's exit (where a collected pool's wake-up pipe is gone)
                weakref.finalize(self, ex.shutdown, wait=True, cancel_futures=True)
                self._executor = ex
            return ex

    def warm_up(self) -> None:
        """Start every worker now (returns in a fraction of a second; the workers load
        the engine in the background), so that the first run does not wait for them."""
        ex = self.executor()
        for _ in range(self.workers):
            ex.submit(_ready)

    def mark_broken(self) -> None:
        """Drop the pool after a failure (:class:`BrokenProcessPool`): the next
        :meth:`executor` starts a new one."""
        with self._lock:
            ex, self._executor = self._executor, None
        if ex is not None:
            ex.shutdown(wait=False, cancel_futures=True)

    def close(self) -> None:
        """Stop the worker processes."""
        with self._lock:
            ex, self._executor = self._executor, None
        if ex is not None:
            ex.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> EnginePool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


#: the failures after which a run falls back to the serial engine
POOL_FAILURES = (BrokenProcessPool, RuntimeError, OSError)
