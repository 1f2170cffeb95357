"""Cell adjacency as a symmetric CSR structure with per-entry flags.

:class:`Adjacency` is the array core the partition and balance engines work on:
``indptr``/``indices`` as in ``scipy.sparse.csr_array`` (neighbours of row ``i``
are ``indices[indptr[i]:indptr[i + 1]]``, sorted ascending), plus two boolean
arrays with one value per *stored entry* (so each undirected edge carries its flag
twice, once in each direction, always with the same value):

- ``crosses_district``: the two cells lie in different districts;
- ``cut_by_barrier``: a barrier line (river, highway) separates the two cells;
- ``crosses_unit``: the two cells lie in different lowest organisation units
  (:mod:`gridplan.layers.organisation`; all False without an organisation).

The structure is always symmetric, has no self loops and no duplicate entries.
It holds no geometry; builders that need geometry live in :mod:`gridplan.cells.build`.

The module also holds the plain-array kernel both engines share, on a bare
``(indptr, indices)`` pair: :func:`csr_from_edges`, :func:`check_csr`,
:func:`csr_rows`, :func:`edge_array`, :func:`components` and
:func:`is_connected_subset`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import scipy.sparse
import scipy.sparse.csgraph

__all__ = [
    "Adjacency",
    "check_csr",
    "components",
    "csr_from_edges",
    "csr_rows",
    "edge_array",
    "is_connected_subset",
]


# ------------------------------------------------------------------ array kernel
def csr_rows(indptr: np.ndarray) -> np.ndarray:
    """Row (source node) of every stored entry of a CSR structure (int64)."""
    return np.repeat(np.arange(len(indptr) - 1, dtype=np.int64), np.diff(indptr))


def csr_from_edges(
    n: int, edges: np.ndarray | Iterable[tuple[int, int]]
) -> tuple[np.ndarray, np.ndarray]:
    """Symmetric CSR adjacency (indptr, indices) of ``n`` nodes from undirected edges.

    Self-loops and duplicate edges are dropped; neighbour lists are sorted.
    """
    e = np.asarray(list(edges) if not isinstance(edges, np.ndarray) else edges, dtype=np.int64)
    e = e.reshape(-1, 2)
    if e.size and (e.min() < 0 or e.max() >= n):
        raise ValueError("edge endpoint out of range")
    e = e[e[:, 0] != e[:, 1]]
    both = np.concatenate([e, e[:, ::-1]], axis=0)
    if both.size:
        key = both[:, 0] * n + both[:, 1]
        key = np.unique(key)
        src, dst = key // n, key % n
    else:
        src = dst = np.zeros(0, dtype=np.int64)
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.add.at(indptr, src + 1, 1)
    indptr = np.cumsum(indptr)
    return indptr, dst.astype(np.int64)


def check_csr(n: int, indptr: np.ndarray, indices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Validate a CSR adjacency and return a cleaned, symmetric copy (int64)."""
    indptr = np.asarray(indptr, dtype=np.int64)
    indices = np.asarray(indices, dtype=np.int64)
    if indptr.shape != (n + 1,) or indptr[0] != 0 or indptr[-1] != indices.size:
        raise ValueError(f"indptr must have length n+1 = {n + 1} and end at len(indices)")
    if np.any(np.diff(indptr) < 0):
        raise ValueError("indptr must be non-decreasing")
    return csr_from_edges(n, np.stack([csr_rows(indptr), indices], axis=1))


def edge_array(indptr: np.ndarray, indices: np.ndarray) -> np.ndarray:
    """Undirected edges (m, 2) with ``a < b`` of a symmetric CSR adjacency."""
    src = csr_rows(indptr)
    keep = src < indices
    return np.stack([src[keep], indices[keep]], axis=1)


def components(
    indptr: np.ndarray, indices: np.ndarray, mask: np.ndarray | None = None
) -> np.ndarray:
    """Connected-component id per node (``-1`` for nodes outside ``mask``).

    Components are numbered in the order of their smallest node.
    """
    n = indptr.size - 1
    comp = np.full(n, -1, dtype=np.int64)
    ok = np.ones(n, dtype=bool) if mask is None else np.asarray(mask, dtype=bool)
    c = 0
    ip, ix = indptr, indices
    for s in range(n):
        if comp[s] >= 0 or not ok[s]:
            continue
        comp[s] = c
        stack = [s]
        while stack:
            u = stack.pop()
            for v in ix[ip[u] : ip[u + 1]]:
                if ok[v] and comp[v] < 0:
                    comp[v] = c
                    stack.append(v)
        c += 1
    return comp


def is_connected_subset(indptr: np.ndarray, indices: np.ndarray, nodes: np.ndarray) -> bool:
    """Whether the subgraph induced by ``nodes`` is connected (an empty set is not)."""
    nodes = np.asarray(nodes, dtype=np.int64)
    if nodes.size == 0:
        return False
    inside = set(nodes.tolist())
    seen = {int(nodes[0])}
    stack = [int(nodes[0])]
    while stack:
        u = stack.pop()
        for v in indices[indptr[u] : indptr[u + 1]].tolist():
            if v in inside and v not in seen:
                seen.add(v)
                stack.append(v)
    return len(seen) == len(inside)


# ------------------------------------------------------------------ Adjacency


def _readonly(a: np.ndarray) -> np.ndarray:
    a = np.ascontiguousarray(a)
    a.setflags(write=False)
    return a


@dataclass(frozen=True, eq=False)
class Adjacency:
    """Symmetric cell adjacency in CSR form (rows = cells ``0..n-1``).

    ``crosses_district``, ``cut_by_barrier`` and ``crosses_unit`` are boolean, one per
    stored entry (same length as ``indices``; ``crosses_unit`` defaults to all False).
    Arrays are made read-only on construction.
    """

    indptr: np.ndarray
    indices: np.ndarray
    crosses_district: np.ndarray
    cut_by_barrier: np.ndarray
    crosses_unit: np.ndarray | None = None

    def __post_init__(self) -> None:
        indptr = np.asarray(self.indptr, dtype=np.int64)
        indices = np.asarray(self.indices, dtype=np.int64)
        m = len(indices)
        crosses = (
            np.zeros(m, dtype=bool)
            if self.crosses_district is None
            else np.asarray(self.crosses_district, dtype=bool)
        )
        cut = (
            np.zeros(m, dtype=bool)
            if self.cut_by_barrier is None
            else np.asarray(self.cut_by_barrier, dtype=bool)
        )
        if indptr.ndim != 1 or len(indptr) < 1 or indptr[0] != 0 or indptr[-1] != m:
            raise ValueError("indptr must start at 0 and end at len(indices)")
        if np.any(np.diff(indptr) < 0):
            raise ValueError("indptr must be non-decreasing")
        unit = (
            np.zeros(m, dtype=bool)
            if self.crosses_unit is None
            else np.asarray(self.crosses_unit, dtype=bool)
        )
        if crosses.shape != (m,) or cut.shape != (m,) or unit.shape != (m,):
            raise ValueError("flag arrays need one value per stored entry")
        n = len(indptr) - 1
        if m and (indices.min() < 0 or indices.max() >= n):
            raise ValueError("indices out of range 0..n-1")
        for name, value in (
            ("indptr", indptr),
            ("indices", indices),
            ("crosses_district", crosses),
            ("cut_by_barrier", cut),
            ("crosses_unit", unit),
        ):
            object.__setattr__(self, name, _readonly(value))

    # ------------------------------------------------------------------ basics
    @property
    def n(self) -> int:
        """Number of cells (rows)."""
        return len(self.indptr) - 1

    @property
    def n_edges(self) -> int:
        """Number of undirected edges (half the stored entries)."""
        return len(self.indices) // 2

    def rows(self) -> np.ndarray:
        """Row (source cell) of every stored entry."""
        return csr_rows(self.indptr)

    def degree(self) -> np.ndarray:
        """Number of neighbours of every cell (int64, length ``n``)."""
        return np.diff(self.indptr)

    def neighbours(self, i: int) -> np.ndarray:
        """Neighbours of cell ``i``, ascending."""
        return self.indices[self.indptr[i] : self.indptr[i + 1]]

    def upper(self) -> np.ndarray:
        """Boolean mask of the stored entries with row < column (one per edge)."""
        return self.rows() < self.indices

    def edges(self) -> np.ndarray:
        """Unique undirected edges as an ``(m, 2)`` int64 array with ``i < j``, sorted."""
        return edge_array(self.indptr, self.indices)

    def edge_flags(self) -> tuple[np.ndarray, np.ndarray]:
        """``(crosses_district, cut_by_barrier)`` for the edges of :meth:`edges`."""
        keep = self.upper()
        return self.crosses_district[keep], self.cut_by_barrier[keep]

    def to_scipy(self) -> scipy.sparse.csr_array:
        """The adjacency as an ``n × n`` ``scipy.sparse.csr_array`` of ones (int8)."""
        data = np.ones(len(self.indices), dtype=np.int8)
        return scipy.sparse.csr_array(
            (data, self.indices.copy(), self.indptr.copy()), shape=(self.n, self.n)
        )

    def components(self) -> np.ndarray:
        """Connected-component label of every cell (int64, labels ``0..k-1``)."""
        if self.n == 0:
            return np.zeros(0, dtype=np.int64)
        _, labels = scipy.sparse.csgraph.connected_components(self.to_scipy(), directed=False)
        return labels.astype(np.int64)

    def n_components(self) -> int:
        """Number of connected components."""
        labels = self.components()
        return int(labels.max()) + 1 if len(labels) else 0

    def mirror(self) -> np.ndarray:
        """Position of the reverse entry ``(j, i)`` for every stored entry ``(i, j)``."""
        n = np.int64(self.n)
        keys = self.rows() * n + self.indices  # sorted: rows ascending, columns ascending
        return np.searchsorted(keys, self.indices * n + self.rows())

    # ------------------------------------------------------------- derivations
    def restricted(self, keep_entry_mask: np.ndarray) -> Adjacency:
        """A new Adjacency keeping only the entries where ``keep_entry_mask`` is True.

        An edge is kept only when both of its directions are kept, so the result
        stays symmetric.
        """
        keep = np.asarray(keep_entry_mask, dtype=bool)
        if keep.shape != self.indices.shape:
            raise ValueError("keep_entry_mask needs one value per stored entry")
        keep = keep & keep[self.mirror()]
        counts = np.bincount(self.rows()[keep], minlength=self.n)
        indptr = np.concatenate([[0], np.cumsum(counts)])
        return Adjacency(
            indptr,
            self.indices[keep],
            self.crosses_district[keep],
            self.cut_by_barrier[keep],
            self.crosses_unit[keep],
        )

    def without_district_crossings(self) -> Adjacency:
        """The adjacency without the edges that cross a district boundary."""
        return self.restricted(~self.crosses_district)

    def without_barriers(self) -> Adjacency:
        """The adjacency without the edges cut by a barrier line."""
        return self.restricted(~self.cut_by_barrier)

    def subgraph(self, cells: np.ndarray) -> tuple[Adjacency, np.ndarray]:
        """Adjacency induced by ``cells`` (indices or boolean mask), renumbered 0..k-1.

        Returns the sub-adjacency and the original index of each new row.
        """
        cells = np.asarray(cells)
        if cells.dtype == bool:
            cells = np.flatnonzero(cells)
        cells = np.unique(cells.astype(np.int64))
        new = np.full(self.n, -1, dtype=np.int64)
        new[cells] = np.arange(len(cells))
        rows = new[self.rows()]
        cols = new[self.indices]
        keep = (rows >= 0) & (cols >= 0)
        counts = np.bincount(rows[keep], minlength=len(cells))
        indptr = np.concatenate([[0], np.cumsum(counts)])
        sub = Adjacency(
            indptr,
            cols[keep],
            self.crosses_district[keep],
            self.cut_by_barrier[keep],
            self.crosses_unit[keep],
        )
        return sub, cells

    # ---------------------------------------------------------------- builders
    @classmethod
    def from_edges(
        cls,
        n: int,
        edges: np.ndarray,
        crosses_district: np.ndarray | None = None,
        cut_by_barrier: np.ndarray | None = None,
        *,
        crosses_unit: np.ndarray | None = None,
    ) -> Adjacency:
        """Build from undirected edges (``(m, 2)`` array, any orientation).

        Duplicate edges are merged (their flags OR-ed); self loops raise
        ``ValueError``. Optional flags are given per input edge.
        """
        edges = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
        m = len(edges)
        crosses = (
            np.zeros(m, dtype=bool)
            if crosses_district is None
            else np.asarray(crosses_district, dtype=bool)
        )
        cut = (
            np.zeros(m, dtype=bool) if cut_by_barrier is None else np.asarray(cut_by_barrier, bool)
        )
        unit = np.zeros(m, dtype=bool) if crosses_unit is None else np.asarray(crosses_unit, bool)
        if crosses.shape != (m,) or cut.shape != (m,) or unit.shape != (m,):
            raise ValueError("edge flags need one value per edge")
        if m and (edges.min() < 0 or edges.max() >= n):
            raise ValueError(f"edge endpoints must lie in 0..{n - 1}")
        if np.any(edges[:, 0] == edges[:, 1]):
            raise ValueError("self loops are not allowed in an adjacency")
        lo = np.minimum(edges[:, 0], edges[:, 1])
        hi = np.maximum(edges[:, 0], edges[:, 1])
        key = lo * np.int64(max(n, 1)) + hi
        uniq, inverse = np.unique(key, return_inverse=True)
        if len(uniq) < m:
            crosses = np.bincount(inverse, weights=crosses, minlength=len(uniq)) > 0
            cut = np.bincount(inverse, weights=cut, minlength=len(uniq)) > 0
            unit = np.bincount(inverse, weights=unit, minlength=len(uniq)) > 0
        else:
            order = np.argsort(key, kind="stable")
            crosses, cut, unit = crosses[order], cut[order], unit[order]
        lo, hi = np.divmod(uniq, np.int64(max(n, 1)))
        rows = np.concatenate([lo, hi])
        cols = np.concatenate([hi, lo])
        order = np.lexsort((cols, rows))
        counts = np.bincount(rows, minlength=n)
        indptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        return cls(
            indptr,
            cols[order],
            np.concatenate([crosses, crosses])[order],
            np.concatenate([cut, cut])[order],
            np.concatenate([unit, unit])[order],
        )

    @classmethod
    def empty(cls, n: int) -> Adjacency:
        """An adjacency of ``n`` cells with no edges."""
        z = np.zeros(0, dtype=np.int64)
        return cls(np.zeros(n + 1, dtype=np.int64), z, z.astype(bool), z.astype(bool))

    def with_flags(
        self,
        crosses_district: np.ndarray | None = None,
        cut_by_barrier: np.ndarray | None = None,
    ) -> Adjacency:
        """A copy with one or both per-entry flag arrays replaced."""
        return Adjacency(
            self.indptr,
            self.indices,
            self.crosses_district if crosses_district is None else crosses_district,
            self.cut_by_barrier if cut_by_barrier is None else cut_by_barrier,
            self.crosses_unit,
        )

    def is_symmetric(self) -> bool:
        """True when every entry (i, j) has its reverse (j, i) with the same flags."""
        if len(self.indices) == 0:
            return True
        mir = self.mirror()
        if np.any(mir >= len(self.indices)):
            return False
        rows = self.rows()
        return bool(
            np.all(self.indices[mir] == rows)
            and np.all(rows[mir] == self.indices)
            and np.all(self.crosses_district[mir] == self.crosses_district)
            and np.all(self.cut_by_barrier[mir] == self.cut_by_barrier)
            and np.all(self.crosses_unit[mir] == self.crosses_unit)
        )
