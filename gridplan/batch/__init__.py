"""A province at once: every city of a manifest planned as Dask tasks.

- :mod:`~gridplan.batch.manifest`: the YAML manifest (cities and settings), validated
  in one go;
- :mod:`~gridplan.batch.task`: one city (cells → partition → workload → balance →
  areas → exports), resumable and written atomically;
- :mod:`~gridplan.batch.runner`: the Dask run (LocalCluster or a scheduler address);
- :mod:`~gridplan.batch.summary`: the province summary (CSV, XLSX) and overview map.

``gridplan batch --manifest province.yaml --out DIR`` is the command line.
"""

from gridplan.batch.manifest import CitySpec, Manifest, load_manifest, parse_manifest
from gridplan.batch.runner import BatchResult, city_jobs, default_workers, run_batch
from gridplan.batch.summary import SUMMARY_COLUMNS, write_summary
from gridplan.batch.task import DONE_FILE, CityJob, job_hash, plan_city, run_city

__all__ = [
    "DONE_FILE",
    "SUMMARY_COLUMNS",
    "BatchResult",
    "CityJob",
    "CitySpec",
    "Manifest",
    "city_jobs",
    "default_workers",
    "job_hash",
    "load_manifest",
    "parse_manifest",
    "plan_city",
    "run_batch",
    "run_city",
    "write_summary",
]
