"""Components and normalisation of :func:`gridplan._partition.core.partition_arrays`:
the free cells cut into connected components, their arrays normalised into one
:class:`~gridplan._partition.task.ComponentTask` each."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import scipy.sparse
import scipy.sparse.csgraph

from gridplan._partition.checks import Inputs
from gridplan._partition.task import ComponentTask, SolverParams


def symmetric_csr(indptr: np.ndarray, indices: np.ndarray, n: int) -> scipy.sparse.csr_array:
    """The adjacency as a symmetric 0/1 CSR matrix without self loops (sorted indices)."""
    data = np.ones(len(indices), dtype=np.int8)
    a = scipy.sparse.csr_array((data, indices, indptr), shape=(n, n))
    a = ((a + a.T) > 0).astype(np.int8)
    a.setdiag(0)
    a.eliminate_zeros()
    a.sort_indices()
    return scipy.sparse.csr_array(a)


@dataclass(frozen=True)
class FreeComponents:
    """Connected components of the free cells, numbered by their smallest cell.

    ``free_idx``: the free cells (input indices, ascending); ``sub``: the adjacency
    among them (CSR, positions in ``free_idx``); component ``k`` holds the positions
    ``order[bounds[k]:bounds[k + 1]]``.
    """

    free_idx: np.ndarray
    sub: scipy.sparse.csr_array
    n_comp: int
    order: np.ndarray
    bounds: np.ndarray

    def positions(self, k: int) -> np.ndarray:
        """Positions in ``free_idx`` of component ``k``."""
        return self.order[self.bounds[k] : self.bounds[k + 1]]


def free_components(adj: scipy.sparse.csr_array, locked: np.ndarray) -> FreeComponents:
    """Components of the subgraph of the free cells (``locked < 0``), deterministic order."""
    free_idx = np.flatnonzero(locked < 0)
    sub = adj[free_idx][:, free_idx]
    n_comp, comp_local = scipy.sparse.csgraph.connected_components(sub, directed=False)
    # renumber components by their smallest cell (deterministic order)
    first = np.full(n_comp, len(free_idx), dtype=np.int64)
    np.minimum.at(first, comp_local, np.arange(len(free_idx)))
    rank = np.empty(n_comp, dtype=np.int64)
    rank[np.argsort(first, kind="stable")] = np.arange(n_comp)
    comp_local = rank[comp_local]
    order = np.argsort(comp_local, kind="stable")
    bounds = np.searchsorted(comp_local[order], np.arange(n_comp + 1))
    return FreeComponents(free_idx, sub, n_comp, order, bounds)


@dataclass(frozen=True)
class Normalised:
    """The inputs in the solver's units (all cells).

    ``floors`` ``(n, active f)``: each active floor column (minimum > 0) divided by
    its minimum; ``ceilings`` ``(n, c)``: each column divided by its maximum, or None;
    ``homog`` ``(n, h)``: attributes × sqrt(weight), or None; ``area`` ``(n,)``: cell
    areas (1 each when none are given or they average 0); ``scale``: sqrt of the
    mean given area (the cell unit of the coordinates, 1 without areas).
    """

    floors: np.ndarray
    ceilings: np.ndarray | None
    homog: np.ndarray | None
    area: np.ndarray
    scale: float


def normalise(inp: Inputs) -> Normalised:
    """The solver's units of ``inp`` (see :class:`Normalised`)."""
    fmin = inp.floor_min
    active = fmin > 0
    U_all = inp.floor_values[:, active] / fmin[active]
    C_all = (
        None if inp.ceil_values is None or inp.ceil_max is None else inp.ceil_values / inp.ceil_max
    )
    Z_all = (
        None
        if inp.homog is None or inp.homog_weights is None
        else inp.homog * np.sqrt(inp.homog_weights)
    )
    ar = inp.area
    a_all = np.ones(inp.n) if ar is None else ar
    scale = math.sqrt(float(a_all.mean())) if a_all.mean() > 0 else 1.0
    if ar is not None and a_all.mean() <= 0:
        a_all = np.ones(inp.n)
    return Normalised(U_all, C_all, Z_all, a_all, scale)


def build_tasks(
    inp: Inputs, norm: Normalised, comps: FreeComponents, params: SolverParams, deadline: float
) -> tuple[list[ComponentTask], list[np.ndarray], list[np.ndarray]]:
    """One task per component whose totals reach every floor: ``(tasks, their cells,
    the cells of the components below a floor)`` (input cell indices).

    Task ``k`` has the seed ``(seed × 1,000,003 + k) mod 2^63``, coordinates centred on
    the component and divided by ``norm.scale`` (cell units), areas by its square.
    """
    xs, ys, scale = inp.x, inp.y, norm.scale
    tasks: list[ComponentTask] = []
    task_cells: list[np.ndarray] = []
    small_comps: list[np.ndarray] = []
    for k in range(comps.n_comp):
        pos = comps.positions(k)
        cells = comps.free_idx[pos]
        tot = norm.floors[cells].sum(axis=0)
        if np.any(tot < 1.0 - 1e-9):
            small_comps.append(cells)
            continue
        local = scipy.sparse.csr_array(comps.sub[pos][:, pos])
        local.sort_indices()
        cx = cy = None
        if xs is not None and ys is not None:
            cx = (xs[cells] - xs[cells].mean()) / scale
            cy = (ys[cells] - ys[cells].mean()) / scale
        tasks.append(
            ComponentTask(
                index=len(tasks),
                indptr=local.indptr.astype(np.int64),
                indices=local.indices.astype(np.int64),
                floors=np.ascontiguousarray(norm.floors[cells]),
                ceilings=None
                if norm.ceilings is None
                else np.ascontiguousarray(norm.ceilings[cells]),
                homog=None if norm.homog is None else np.ascontiguousarray(norm.homog[cells]),
                x=cx,
                y=cy,
                area=norm.area[cells] / (scale * scale),
                max_diameter=None if inp.max_diameter is None else float(inp.max_diameter) / scale,
                compactness_weight=float(inp.compactness_weight),
                seed=(int(inp.seed) * 1_000_003 + len(tasks)) % (2**63),
                deadline=deadline,
                params=params,
            )
        )
        task_cells.append(cells)
    return tasks, task_cells, small_comps
