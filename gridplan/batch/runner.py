"""Run every city of a manifest as Dask tasks (``dask.distributed``).

By default a :class:`~dask.distributed.LocalCluster` of ``workers`` processes with one
thread each (at most one per core, and no more than cities); or any scheduler by its
address (``tcp://HOST:PORT``), whose workers must see the same data paths. Progress
lines of the workers reach the caller through Dask's event topics; the caller prints
one line per finished city and the overall count.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gridplan.batch.manifest import Manifest
from gridplan.batch.task import CityJob, done_record, job_hash, run_city
from gridplan.errors import InputError, Problem

__all__ = [
    "TOPIC",
    "BatchResult",
    "city_jobs",
    "default_workers",
    "process_usage",
    "run_batch",
]

#: Dask event topic of the workers' progress lines.
TOPIC = "gridplan-batch"

Echo = Callable[[str], None]


@dataclass(frozen=True)
class BatchResult:
    """Outcome of a batch: one summary row per city (manifest order), the files of the
    province summary, the dashboard link (``""`` if none), and per Dask worker
    (address) the peak resident memory of its process (MiB) and the CPU seconds it used
    (user + system), read at the end of the run over the process's whole life (on a
    long-lived cluster, earlier runs count too)."""

    rows: tuple[dict[str, Any], ...]
    written: tuple[Path, ...]
    dashboard: str = ""
    worker_peak_rss_mb: Mapping[str, float] = field(default_factory=dict)
    worker_cpu_s: Mapping[str, float] = field(default_factory=dict)

    @property
    def failed(self) -> list[dict[str, Any]]:
        """The rows of the cities that failed."""
        return [r for r in self.rows if r["status"] == "failed"]


def default_workers(n_cities: int) -> int:
    """One worker per core at most, and no more workers than cities."""
    return max(1, min(os.cpu_count() or 1, n_cities))


def city_jobs(manifest: Manifest, out: str | Path, skip_exports: bool = False) -> list[CityJob]:
    """One job per city, writing into ``out/<city>``."""
    out = Path(out).resolve()
    return [
        CityJob(
            c.name,
            dict(c.source),
            dict(c.settings),
            str(out / c.name),
            skip_exports,
            c.units if c.units is None or isinstance(c.units, str) else dict(c.units),
        )
        for c in manifest.cities
    ]


def _worker_echo(message: str) -> None:
    """Send a progress line to the client (inside a Dask worker), else drop it."""
    try:
        from distributed import get_worker

        get_worker().log_event(TOPIC, message)
    except (ImportError, ValueError):
        pass


def _task(job: CityJob) -> dict[str, Any]:
    return run_city(job, _worker_echo)


def process_usage() -> tuple[float, float]:
    """This process's peak resident memory (MiB; ``ru_maxrss``, KiB on Linux) and CPU
    seconds used (user + system)."""
    import resource
    import sys

    use = resource.getrusage(resource.RUSAGE_SELF)
    unit = 1024.0 * 1024.0 if sys.platform == "darwin" else 1024.0
    return round(use.ru_maxrss / unit, 1), round(use.ru_utime + use.ru_stime, 2)


def _worker_usage(client: Any) -> dict[str, tuple[float, float]]:
    """Worker address → ``(peak MiB, CPU seconds)`` of its process; empty if the
    workers cannot be asked (e.g. one was lost)."""
    try:
        return {str(k): tuple(v) for k, v in sorted(client.run(process_usage).items())}
    except Exception:  # a report, never a reason to fail the batch
        return {}


def _client(scheduler: str | None, workers: int | None, n_cities: int) -> tuple[Any, Any]:
    """A Dask client (and the LocalCluster it owns, if any)."""
    try:
        from distributed import Client, LocalCluster
    except ImportError as exc:
        raise InputError(
            Problem(
                "dask.distributed is not installed",
                "gridplan batch",
                "pip install 'gridplan[dask]'",
            )
        ) from exc
    if scheduler:
        try:
            return Client(scheduler, timeout="20s"), None
        except (OSError, TimeoutError) as exc:
            raise InputError(
                Problem(
                    f"no Dask scheduler answers at {scheduler} ({exc})",
                    "--scheduler",
                    "start `dask scheduler` there, or drop --scheduler to run on this machine",
                )
            ) from None
    n = default_workers(n_cities) if workers is None else workers
    cluster = LocalCluster(
        n_workers=n,
        threads_per_worker=1,
        processes=True,
        dashboard_address=":0",
        silence_logs=logging.ERROR,
    )
    return Client(cluster), cluster


def _dashboard(client: Any) -> str:
    try:
        import bokeh  # noqa: F401  (the dashboard needs it)
    except ImportError:
        return ""
    return str(getattr(client, "dashboard_link", "") or "")


def _done_line(row: dict[str, Any], finished: int, total: int) -> str:
    head = f"[{finished}/{total} cities] {row['city']}"
    if row["status"] == "failed":
        return f"{head} FAILED after {row['seconds']:.0f} s: {row['error']}"
    figures = (
        f"{row.get('grids', 0):,} grids, {row.get('managers', 0)} managers, "
        f"max deviation {row.get('max_deviation', 0.0):.1%}"
    )
    if row["status"] == "skipped":
        return f"{head} complete already, skipped ({figures})"
    return f"{head} done in {row['seconds']:.0f} s: {figures}"


def _collect(client: Any, todo: Sequence[CityJob], echo: Echo, total: int, start: int) -> dict:
    """Submit the jobs, wait for all, echo a line per city; returns city → row."""
    from distributed import as_completed

    futures = {
        client.submit(_task, job, key=f"city-{job.name}-{job_hash(job)}", pure=False): job
        for job in todo
    }
    rows: dict[str, dict[str, Any]] = {}
    for fut in as_completed(list(futures)):
        job = futures[fut]
        try:
            row = fut.result()
        except Exception as err:  # a worker died (memory, kill): the city fails alone
            row = {
                "city": job.name,
                "status": "failed",
                "seconds": 0.0,
                "out": job.out_dir,
                "error": f"the Dask worker was lost ({type(err).__name__}: {err})",
            }
        rows[job.name] = row
        echo(_done_line(row, start + len(rows), total))
    return rows


def run_batch(
    manifest: Manifest,
    out: str | Path,
    *,
    scheduler: str | None = None,
    workers: int | None = None,
    skip_exports: bool = False,
    echo: Echo | None = None,
    summary: bool = True,
) -> BatchResult:
    """Plan every city of ``manifest`` into ``out/<city>``; complete cities are skipped,
    a failed city is reported in its row and the others go on. Writes the province
    summary (CSV, XLSX) and overview map unless ``summary`` is false."""
    echo = echo or (lambda _m: None)
    t0 = time.monotonic()
    jobs = city_jobs(manifest, out, skip_exports)
    rows: dict[str, dict[str, Any]] = {}
    for job in jobs:
        record = done_record(job.out_dir)
        if record is not None and record.get("hash") == job_hash(job):
            rows[job.name] = {
                "city": job.name,
                "status": "skipped",
                "seconds": 0.0,
                "error": "",
                "out": job.out_dir,
                **record.get("figures", {}),
            }
            echo(_done_line(rows[job.name], len(rows), len(jobs)))
    todo = [j for j in jobs if j.name not in rows]
    dashboard = ""
    usage: dict[str, tuple[float, float]] = {}
    if todo:
        client, cluster = _client(scheduler, workers, len(todo))
        try:
            dashboard = _dashboard(client)
            n_workers = len(client.scheduler_info().get("workers", {}))
            echo(
                f"planning {len(todo)} of {len(jobs)} cities on {n_workers} Dask worker(s)"
                + (f"; dashboard {dashboard}" if dashboard else "")
            )
            client.subscribe_topic(TOPIC, lambda event: echo(str(event[1])))
            rows.update(_collect(client, todo, echo, len(jobs), len(rows)))
            usage = _worker_usage(client)
            if usage:
                shown = ", ".join(f"{m:,.0f} MiB ({c:,.0f} CPU s)" for m, c in usage.values())
                echo(f"peak memory per worker: {shown}")
        finally:
            client.close()
            if cluster is not None:
                cluster.close()
    ordered = tuple(rows[j.name] for j in jobs)
    written: tuple[Path, ...] = ()
    if summary:
        from gridplan.batch.summary import write_summary

        written = tuple(write_summary(ordered, out))
    n_failed = sum(r["status"] == "failed" for r in ordered)
    echo(
        f"{len(jobs) - n_failed} of {len(jobs)} cities complete, {n_failed} failed, "
        f"{time.monotonic() - t0:.0f} s"
    )
    return BatchResult(
        rows=ordered,
        written=written,
        dashboard=dashboard,
        worker_peak_rss_mb={k: m for k, (m, _) in usage.items()},
        worker_cpu_s={k: c for k, (_, c) in usage.items()},
    )
