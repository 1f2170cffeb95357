"""Cells → grids: the partition engine's public façade.

- :class:`PartitionConfig`: every knob (floors, ceilings, homogeneity, compactness,
  districts, organisation units, barriers, seed, time limit, constructions, workers);
- :func:`partition_cells`: the GeoDataFrame wrapper (cells + adjacency → grid of
  every cell, a grids table with dissolved geometry and figures, a summary);
- :func:`partition_arrays` / :class:`ArrayPartition`: the numpy array core
  (:mod:`gridplan._partition.core`, search in :mod:`gridplan._partition.solver`);
- :class:`GridTypeRules`, :func:`classify_grids`: grid type labels
  (:mod:`gridplan._partition.grid_types`);
- :func:`partition_batch`: many independent problems, locally or on Dask;
- :class:`EnginePool`: worker processes kept for many runs (a web server's
  ``partition_cells(..., pool=...)``; :mod:`gridplan._partition.pool`).

A grid is a contiguous set of cells reaching every floor (e.g. population ≥ 5,000
persons), within the ceilings where possible, inside one district when
``respect_districts`` and inside one organisation unit (the cells' ``unit_<L>`` columns)
when ``respect_units``; among partitions with the most grids, the one with the
lowest heterogeneity + compactness is kept. Deterministic for a seed.
"""

from gridplan._partition.core import (
    ArrayPartition,
    EnginePool,
    IslandJoin,
    default_workers,
    partition_arrays,
)
from gridplan._partition.frames import (
    PartitionConfig,
    PartitionResult,
    partition_batch,
    partition_cells,
    select_cells,
    unit_columns,
)
from gridplan._partition.grid_types import (
    DEFAULT_GRID_TYPES,
    GridTypeRule,
    GridTypeRules,
    classify_grids,
    grid_figures,
)

__all__ = [
    "DEFAULT_GRID_TYPES",
    "ArrayPartition",
    "EnginePool",
    "GridTypeRule",
    "GridTypeRules",
    "IslandJoin",
    "PartitionConfig",
    "PartitionResult",
    "classify_grids",
    "default_workers",
    "grid_figures",
    "partition_arrays",
    "partition_batch",
    "partition_cells",
    "select_cells",
    "unit_columns",
]
