"""Graph helpers for the balance engine: CSR adjacency, components, contiguity checks.

Everything here works on plain numpy arrays: ``indptr``/``indices`` is a symmetric CSR
adjacency of ``n`` units (unit ``i``'s neighbours are ``indices[indptr[i]:indptr[i+1]]``).
Geometry-based builders (Delaunay on coordinates, shared boundaries of polygons) live
at the end of the module.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable

import numpy as np

__all__ = [
    "check_csr",
    "components",
    "csr_from_edges",
    "delaunay_edges",
    "edge_array",
    "is_connected_subset",
    "territory_components",
]


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
    src = np.repeat(np.arange(n, dtype=np.int64), np.diff(indptr))
    return csr_from_edges(n, np.stack([src, indices], axis=1))


def edge_array(indptr: np.ndarray, indices: np.ndarray) -> np.ndarray:
    """Undirected edges (m, 2) with ``a < b`` of a symmetric CSR adjacency."""
    n = indptr.size - 1
    src = np.repeat(np.arange(n, dtype=np.int64), np.diff(indptr))
    keep = src < indices
    return np.stack([src[keep], indices[keep]], axis=1)


def components(
    indptr: np.ndarray, indices: np.ndarray, mask: np.ndarray | None = None
) -> np.ndarray:
    """Connected-component id per node (``-1`` for nodes outside ``mask``)."""
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


def territory_components(
    indptr: np.ndarray, indices: np.ndarray, labels: np.ndarray, k: int
) -> list[int]:
    """Number of connected pieces of each territory ``0..k-1`` (0 for an empty one)."""
    n = labels.size
    seen = np.zeros(n, dtype=bool)
    count = [0] * k
    lab = labels.tolist()
    ip, ix = indptr.tolist(), indices.tolist()
    for s in range(n):
        if seen[s] or lab[s] < 0:
            continue
        d = lab[s]
        count[d] += 1
        seen[s] = True
        dq = deque([s])
        while dq:
            u = dq.popleft()
            for v in ix[ip[u] : ip[u + 1]]:
                if not seen[v] and lab[v] == d:
                    seen[v] = True
                    dq.append(v)
    return count


def delaunay_edges(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Undirected edges (m, 2) of the Delaunay triangulation of points ``(x, y)``.

    Coincident points are linked to their first copy; fewer than 3 distinct points are
    chained in x-order. Used when units come without an adjacency.
    """
    from scipy.spatial import Delaunay, QhullError

    pts = np.column_stack([np.asarray(x, float), np.asarray(y, float)])
    n = pts.shape[0]
    if n < 2:
        return np.zeros((0, 2), dtype=np.int64)
    uniq, first, inverse = np.unique(pts, axis=0, return_index=True, return_inverse=True)
    inverse = inverse.reshape(-1)
    extra = [(int(first[inverse[i]]), i) for i in range(n) if first[inverse[i]] != i]
    if uniq.shape[0] < 3:
        order = np.argsort(uniq[:, 0], kind="stable")
        base = [(int(first[order[i]]), int(first[order[i + 1]])) for i in range(len(order) - 1)]
    else:
        try:
            tri = Delaunay(uniq)
            s = tri.simplices
            e = np.concatenate([s[:, [0, 1]], s[:, [1, 2]], s[:, [0, 2]]])
            e = np.sort(e, axis=1)
            e = np.unique(e, axis=0)
            base = [(int(first[a]), int(first[b])) for a, b in e]
        except QhullError:  # collinear points: chain along the main axis
            axis = 0 if np.ptp(uniq[:, 0]) >= np.ptp(uniq[:, 1]) else 1
            order = np.argsort(uniq[:, axis], kind="stable")
            base = [(int(first[order[i]]), int(first[order[i + 1]])) for i in range(len(order) - 1)]
    out = np.array(base + extra, dtype=np.int64).reshape(-1, 2)
    return np.sort(out, axis=1)
