"""Shared plans and the one invariant check that engine, edit and app tests call.

The check is written independently of :mod:`gridplan.plan.rules` (scipy components over
the cell edges), so a bug in the product's own live checks cannot hide a broken plan:

- every cell lies in exactly one grid, and every grid has cells;
- every grid is contiguous over the cell edges (except the grids named as accepted
  exceptions, e.g. real islands);
- every grid reaches every floor (sums of the cells' columns);
- every territory is contiguous over the grids and within ± tolerance of its target.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd
import pytest
import scipy.sparse
import scipy.sparse.csgraph

from tests import plans


def lattice_edges(r: int, c: int) -> np.ndarray:
    """The rook edges (m, 2) of an ``r`` × ``c`` lattice, nodes numbered row by row
    (each node's right, then lower neighbour)."""
    e = []
    for i in range(r):
        for j in range(c):
            u = i * c + j
            if j + 1 < c:
                e.append((u, u + 1))
            if i + 1 < r:
                e.append((u, u + c))
    return np.array(e, dtype=np.int64).reshape(-1, 2)


def lattice_lists(r: int, c: int) -> list[list[int]]:
    """The rook adjacency lists of an ``r`` × ``c`` lattice (the engine's ``adj``), in
    the order of :func:`lattice_edges`."""
    adj: list[list[int]] = [[] for _ in range(r * c)]
    for a, b in lattice_edges(r, c).tolist():
        adj[a].append(b)
        adj[b].append(a)
    return adj


def lattice(r: int, c: int) -> tuple[np.ndarray, np.ndarray]:
    """The rook adjacency (CSR ``indptr, indices``) of an ``r`` × ``c`` lattice."""
    from gridplan.graph import csr_from_edges

    return csr_from_edges(r * c, lattice_edges(r, c))


def pieces(n: int, edges: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Number of connected pieces of each label 0..max (edges: (m, 2) node pairs)."""
    edges = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
    same = labels[edges[:, 0]] == labels[edges[:, 1]]
    e = edges[same]
    graph = scipy.sparse.coo_array((np.ones(len(e)), (e[:, 0], e[:, 1])), shape=(n, n))
    _, comp = scipy.sparse.csgraph.connected_components(graph, directed=False)
    first = pd.DataFrame({"label": labels, "comp": comp}).drop_duplicates()
    return first.groupby("label").size().reindex(range(int(labels.max()) + 1), fill_value=0)


def assert_regions_valid(
    labels: np.ndarray,
    edges: np.ndarray,
    *,
    values: Mapping[str, np.ndarray] | None = None,
    floors: Mapping[str, float] | None = None,
    allowed_pieces: Iterable[int] = (),
) -> None:
    """Array form: ``labels`` 0..p-1 (one per node) are contiguous over ``edges`` and every
    region's sum of ``values[col]`` reaches ``floors[col]``."""
    labels = np.asarray(labels)
    n = labels.size
    assert labels.min() >= 0
    p = int(labels.max()) + 1
    assert np.unique(labels).size == p, "region labels are not 0..p-1"
    split = pieces(n, edges, labels)
    broken = sorted(set(np.flatnonzero(split.to_numpy() > 1).tolist()) - set(allowed_pieces))
    assert not broken, f"regions in several pieces: {broken[:10]}"
    for col, floor in (floors or {}).items():
        sums = np.bincount(labels, np.asarray(values[col], dtype=float), minlength=p)
        low = np.flatnonzero(sums < floor - 1e-9)
        assert low.size == 0, f"regions below the {col} floor {floor}: {low[:10].tolist()}"


def assert_plan_valid(
    plan,
    edges: np.ndarray,
    *,
    floors: Mapping[str, float] | None = None,
    tolerance: float | None = None,
    accepted_grids: Iterable[str] = (),
    territories: bool = True,
    accepted_territories: Iterable[str] = (),
) -> None:
    """The plan invariants (see the module docstring); ``edges`` are cell index pairs.
    ``territories=False`` checks the grids only (e.g. after a hand edit of grids);
    ``accepted_grids`` / ``accepted_territories`` may be in several pieces (islands)."""
    cells, grids = plan.cells, plan.grids
    assert cells["grid_id"].notna().all(), "cells without a grid"
    assert cells["cell_id"].is_unique, "a cell listed twice"
    grid_ids = pd.Index(grids["grid_id"])
    assert grid_ids.is_unique, "a grid listed twice"
    assert set(cells["grid_id"]) == set(grid_ids), "grids without cells or cells in no grid"
    codes = pd.Index(grid_ids).get_indexer(cells["grid_id"])
    allowed = [int(i) for i in pd.Index(grid_ids).get_indexer(list(accepted_grids)) if i >= 0]
    values = {col: cells[col].to_numpy(float) for col in (floors or {})}
    assert_regions_valid(codes, edges, values=values, floors=floors, allowed_pieces=allowed)
    if not territories or "manager" not in grids or grids["manager"].isna().all():
        return
    assert grids["manager"].notna().all(), "grids without a manager"
    managers = pd.Index(sorted(grids["manager"].unique()))
    grid_of_cell = codes
    e = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
    ge = np.column_stack([grid_of_cell[e[:, 0]], grid_of_cell[e[:, 1]]])
    ge = ge[ge[:, 0] != ge[:, 1]]
    from gridplan.plan.rules import territory_links

    ge = np.vstack([ge, territory_links(plan)])  # links the balance made across water
    owner = managers.get_indexer(grids["manager"])
    split = pieces(len(grids), ge, owner)
    ok_split = {str(m) for m in accepted_territories}
    broken = [m for i in np.flatnonzero(split.to_numpy() > 1) if (m := managers[i]) not in ok_split]
    assert not broken, f"territories in several pieces: {broken[:10]}"
    if tolerance is not None:
        from gridplan.plan.model import HOURS, manager_targets

        hours = grids.groupby("manager")[HOURS].sum()
        target = manager_targets(plan).reindex(hours.index)
        dev = (hours - target).abs() / target
        off = dev[dev > tolerance + 1e-9]
        assert off.empty, f"territories outside ±{tolerance:.1%}: {off.round(4).to_dict()}"


@pytest.fixture
def check_plan_invariants():
    """The shared plan check (see :func:`assert_plan_valid`)."""
    return assert_plan_valid


@pytest.fixture
def check_region_invariants():
    """The shared array check (see :func:`assert_regions_valid`)."""
    return assert_regions_valid


@pytest.fixture
def small_plan():
    """A 6x4 lattice plan of 6 grids and 3 managers (tests/plans.py)."""
    return plans.tiny_plan()


@pytest.fixture
def seoul_balanced():
    """(balanced Seoul demo plan with 12 managers at ±10 %, cell edges), built once."""
    return plans.seoul_plan()
