"""One city of a batch: load → cells → partition → workload → balance → areas → exports.

:func:`run_city` is the Dask task: it skips a city whose folder holds a ``DONE.json``
with the same settings hash, otherwise plans it with :func:`plan_city` (the same call
runs a city alone), writes every output into a temporary folder beside
``OUT/<city>`` and renames it into place, ``DONE.json`` written last. It never raises:
a failure comes back as an outcome with the error text (a GridplanError's message,
never a traceback).

Determinism: both engines run with one worker process (no nested pools inside a Dask
worker) and the balance with a deterministic work budget (``work_limit``, CP-SAT
deterministic seconds and annealing steps), so a city gives the same plan as run
alone with the same seed unless the balance's wall-clock ``time_limit`` stops it
first (``stopped_by == "time"`` in the summary).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import resource
import shutil
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from gridplan.errors import GridplanError

__all__ = [
    "DONE_FILE",
    "CityJob",
    "done_record",
    "job_hash",
    "load_city_layers",
    "plan_city",
    "plan_settings",
    "run_city",
]

#: The completion marker of a city's folder (written last).
DONE_FILE = "DONE.json"

Echo = Callable[[str], None]


@dataclass(frozen=True)
class CityJob:
    """What a worker needs for one city: its name, source (``{"demo": key}`` or layer
    kind → absolute path), merged settings, the output folder ``OUT/<name>``, whether
    to skip the export formats and the organisation units (a path, or level → path;
    ``None`` without)."""

    name: str
    source: Mapping[str, str]
    settings: Mapping[str, Any]
    out_dir: str
    skip_exports: bool = False
    units: str | Mapping[str, str] | None = None


def plan_settings(settings: Mapping[str, Any], *, name: str):
    """The :class:`~gridplan.plan.pipeline.PlanSettings` of a city's merged settings
    (see :data:`gridplan.batch.manifest.SETTINGS_DEFAULTS`); one worker per engine."""
    from gridplan.balance import BalanceConfig
    from gridplan.cells.build import CellsConfig
    from gridplan.partition import PartitionConfig
    from gridplan.plan.pipeline import PlanSettings
    from gridplan.workload import default_workload_config

    s = dict(settings)
    target = s["target_cells"]
    if s["lattice"] == "h3" and s["resolution"] is None and target is None:
        target = 2000
    cells = CellsConfig(
        lattice=s["lattice"],
        h3_resolution=s["resolution"],
        target_cells=target,
        square_size_m=float(s["size"]),
        contiguity=s["contiguity"],
    )
    seed = int(s["seed"])
    partition = PartitionConfig(
        floors={k: float(v) for k, v in dict(s["floors"]).items()},
        homogeneity={c: 1.0 for c in s["homogeneous"]},
        seed=seed,
        time_limit_s=float(s["partition_time_limit"]),
        workers=1,
    )
    balance = BalanceConfig(
        tolerance=float(s["tolerance"]),
        seed=seed,
        time_limit=float(s["time_limit"]),
        work_limit=float(s["work_limit"]),
        workers=1,
    )
    workload = None
    if s["capacity_h"] is not None:
        workload = replace(
            default_workload_config(), hours_per_month=float(s["capacity_h"]), utilisation=1.0
        )
    return PlanSettings(
        cells=cells,
        partition=partition,
        workload=workload,
        balance=balance,
        n_managers=s["managers"],
        managers_per_area=int(s["managers_per_area"]),
        name=name,
    )


def load_city_layers(job: CityJob):
    """The city's :class:`~gridplan.layers.Layers` (work CRS, metres)."""
    if "demo" in job.source:
        from gridplan.demo.cities import load_demo

        layers = load_demo(job.source["demo"])
    else:
        from gridplan.layers.read import load_layers

        layers = load_layers(name=job.name, **dict(job.source))
    if job.units is None:
        return layers
    from gridplan.layers.organisation import read_organisation

    districts = None
    if layers.districts is not None and "district" in layers.districts.columns:
        districts = layers.districts["district"].astype(str).tolist()
    units = job.units if isinstance(job.units, str) else dict(job.units)
    org = read_organisation(units, crs=layers.crs, districts=districts)
    return layers.with_(organisation=org)


def _dask_mapper():
    """Inside a Dask worker: a mapper running each item as a Dask task (this task
    leaves its worker thread while it waits, so the district tasks can run there
    too); elsewhere ``None`` (one after the other in this process)."""
    try:
        from distributed import get_worker, worker_client
    except ImportError:
        return None
    try:
        get_worker()
    except ValueError:
        return None

    def mapper(fn: Callable[[Any], Any], items: Any) -> list[Any]:
        with worker_client() as client:
            # one submit per district: small graphs, and each task may run on any
            # worker (data scattered from inside a task would stay on this worker)
            futures = [client.submit(fn, item, pure=False) for item in items]
            return client.gather(futures)

    return mapper


def _partition(cellset: Any, job: CityJob, config: Any, progress: Callable[[float, str], None]):
    """The city's partition: split by district above ``split_cells`` cells (one Dask
    task per district inside a batch worker), else one run as ``make_plan`` does."""
    from gridplan.batch.split import SplitConfig, partition_split, should_split
    from gridplan.partition import partition_cells

    split = SplitConfig(min_cells=int(job.settings.get("split_cells", 0) or 0))
    if should_split(cellset.cells, config, split):
        mapper = _dask_mapper()
        part = partition_split(
            cellset.cells, cellset.adjacency, config, mapper=mapper, progress=progress
        )
        where = "this process" if mapper is None else "dask tasks"
        return replace(part, summary={**part.summary, "districts_ran_on": where})
    return partition_cells(cellset.cells, cellset.adjacency, config, progress=progress)


def plan_city(job: CityJob, progress: Callable[[float, str], None] | None = None):
    """Plan one city (the same call as a batch task, without writing): returns the plan
    and a report like :func:`~gridplan.plan.pipeline.make_plan`'s (cells → partition →
    workload → balance → areas; the partition split by district above the
    ``split_cells`` setting, see :mod:`gridplan.batch.split`)."""
    from gridplan.cells.build import build_cells
    from gridplan.plan.pipeline import plan_from_grids, run_report
    from gridplan.progress import no_progress, scaled

    progress = progress or no_progress
    layers = load_city_layers(job)
    settings = plan_settings(job.settings, name=job.name)
    cellset = build_cells(layers, settings.cells, progress=scaled(progress, 0.0, 0.3))
    part = _partition(cellset, job, settings.partition, scaled(progress, 0.3, 0.6))
    plan, balance = plan_from_grids(cellset, part, layers, settings, scaled(progress, 0.6, 1.0))
    return plan, run_report(cellset, part, balance)


def _file_stamp(path: str) -> list[Any]:
    try:
        st = os.stat(path)
    except OSError:
        return [path, None]
    return [path, st.st_size, st.st_mtime_ns]


def job_hash(job: CityJob) -> str:
    """Hash of what decides a city's outputs: source files (path, size, mtime), settings,
    the export switch, the gridplan version and the units files (when given)."""
    import gridplan

    stamp = {
        "source": {
            k: (v if k == "demo" else _file_stamp(v)) for k, v in sorted(job.source.items())
        },
        "settings": dict(sorted(job.settings.items())),
        "skip_exports": job.skip_exports,
        "version": getattr(gridplan, "__version__", ""),
    }
    if job.units is not None:  # only then: the hashes of cities without units stay as they were
        units = {"": job.units} if isinstance(job.units, str) else dict(job.units)
        stamp["units"] = {k: _file_stamp(v) for k, v in units.items()}
    text = json.dumps(stamp, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def done_record(out_dir: str | Path) -> dict[str, Any] | None:
    """The ``DONE.json`` of a city's folder, or ``None`` when the city is not complete."""
    path = Path(out_dir) / DONE_FILE
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _write_outputs(plan: Any, report: Mapping[str, Any], folder: Path, job: CityJob) -> None:
    """Every file of a city into ``folder`` (the temporary one)."""
    from gridplan.plan.model import manager_table, save_plan, territories

    save_plan(plan, folder / "plan.gpkg")
    plan.grids.to_file(folder / "grids.gpkg", layer="grids", driver="GPKG")
    territories(plan).to_file(folder / "territories.gpkg", layer="territories", driver="GPKG")
    plan.cells[["cell_id", "grid_id"]].to_csv(folder / "cells.csv", index=False)
    manager_table(plan).to_csv(folder / "managers.csv", index=False)
    text = json.dumps(report, indent=1, ensure_ascii=False, default=str)
    (folder / "report.json").write_text(text, encoding="utf-8")
    if not job.skip_exports:
        from gridplan.export.formats import export_all

        export_all(plan, folder / "exports")


def _stopped_by(bal: Mapping[str, Any]) -> str:
    """What ended the balance: ``time`` when the wall clock ended the territories, any
    part of them (a city in several pieces) or the areas; else the search's own reason
    (the parts' reasons joined by ``+`` when the whole has none)."""
    parts = [bal, *(bal.get("stats", {}) or {}).get("parts", [])]
    if isinstance(bal.get("areas"), Mapping):
        parts.append(bal["areas"])
    reasons = [str(p.get("stopped_by", "") or "") for p in parts]
    if "time" in reasons:
        return "time"
    return reasons[0] or "+".join(sorted({r for r in reasons[1:] if r}))


def _figures(plan: Any, report: Mapping[str, Any]) -> dict[str, Any]:
    """The city's row of the province summary."""
    bal = report["balance"]
    areas = plan.managers["area"].astype(str) if "area" in plan.managers.columns else None
    return {
        "cells": int(report["cells"]["n"]),
        "grids": int(report["partition"]["summary"]["n_grids"]),
        "managers": int(bal["n_managers"]),
        "area_managers": 0 if areas is None else int(areas[areas != ""].nunique()),
        "max_deviation": float(bal["max_deviation"]),
        "within_tolerance": bool(bal["within_tolerance"]),
        "stopped_by": _stopped_by(bal),
    }


def _publish(tmp: Path, final: Path) -> None:
    """Replace ``final`` by the complete folder ``tmp`` (old contents removed)."""
    old = None
    if final.exists():
        old = final.with_name(f".{final.name}.{os.getpid()}-{time.monotonic_ns()}.old")
        os.replace(final, old)
    os.replace(tmp, final)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _clean_leftovers(final: Path) -> None:
    """Remove the temporary and replaced folders a killed run of this city left behind
    (one task per city runs at a time, so none is in use)."""
    for pattern in (f".{final.name}.*.tmp", f".{final.name}.*.old"):
        for leftover in final.parent.glob(pattern):
            shutil.rmtree(leftover, ignore_errors=True)


def _outcome(job: CityJob, status: str, seconds: float, **more: Any) -> dict[str, Any]:
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    return {
        "city": job.name,
        "status": status,
        "seconds": round(seconds, 2),
        "error": "",
        "out": job.out_dir,
        "pid": os.getpid(),
        "peak_rss_mb": round(peak_kb / 1024.0, 1),
        **more,
    }


#: Stages of :func:`~gridplan.plan.pipeline.make_plan` by progress fraction.
_STAGES = ((0.3, "cells"), (0.6, "partition"), (1.01, "balance and areas"))


def _stage_echo(job: CityJob, echo: Echo) -> Callable[[float, str], None]:
    """A progress callback passing a line on at each new stage and at most every 5 s."""
    last = {"t": time.monotonic(), "stage": ""}

    def progress(fraction: float, message: str) -> None:
        now = time.monotonic()
        stage = next(name for end, name in _STAGES if fraction < end)
        if stage != last["stage"] or now - last["t"] >= 5.0:
            last.update(t=now, stage=stage)
            echo(f"{job.name}: [{100 * fraction:3.0f}%] {stage}: {message}")

    return progress


def run_city(job: CityJob, echo: Echo | None = None) -> dict[str, Any]:
    """Plan one city and write its folder atomically; returns its summary row
    (``status`` ``done``, ``skipped`` or ``failed`` with ``error``). Never raises."""
    echo = echo or (lambda _m: None)
    t0 = time.monotonic()
    final = Path(job.out_dir)
    digest = job_hash(job)
    record = done_record(final)
    if record is not None and record.get("hash") == digest:
        echo(f"{job.name}: complete already, skipped")
        return _outcome(job, "skipped", 0.0, **record.get("figures", {}))
    final.parent.mkdir(parents=True, exist_ok=True)
    _clean_leftovers(final)
    tmp = Path(
        tempfile.mkdtemp(prefix=f".{final.name}.{os.getpid()}-", suffix=".tmp", dir=final.parent)
    )
    try:
        echo(f"{job.name}: started")
        plan, report = plan_city(job, _stage_echo(job, echo))
        _write_outputs(plan, report, tmp, job)
        figures = _figures(plan, report)
        seconds = time.monotonic() - t0
        done = {"city": job.name, "hash": digest, "seconds": round(seconds, 2), "figures": figures}
        (tmp / DONE_FILE).write_text(json.dumps(done, indent=1), encoding="utf-8")
        _publish(tmp, final)
        echo(f"{job.name}: done in {seconds:.0f} s")
        return _outcome(job, "done", seconds, **figures)
    except GridplanError as err:
        return _outcome(job, "failed", time.monotonic() - t0, error=str(err))
    except Exception as err:  # a worker must hand back a message, never a traceback
        text = f"internal error ({type(err).__name__}: {err}); set GRIDPLAN_DEBUG=1 and run alone"
        return _outcome(job, "failed", time.monotonic() - t0, error=text)
    finally:
        with contextlib.suppress(OSError):
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)
