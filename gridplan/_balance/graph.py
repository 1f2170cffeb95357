"""Territory-specific graph helpers of the balance engine.

Everything here works on plain numpy arrays: ``indptr``/``indices`` is a symmetric CSR
adjacency of ``n`` units (unit ``i``'s neighbours are ``indices[indptr[i]:indptr[i+1]]``).
The generic kernel (CSR from edges, CSR to edges, connected components, connected
subsets) lives in :mod:`gridplan.graph` and is re-exported here for existing callers;
this module adds the pieces of each territory and the Delaunay adjacency of points.
"""

from __future__ import annotations

from collections import deque

import numpy as np

from gridplan.graph import (
    check_csr,
    components,
    csr_from_edges,
    edge_array,
    is_connected_subset,
)

__all__ = [
    "check_csr",
    "components",
    "csr_from_edges",
    "delaunay_edges",
    "edge_array",
    "is_connected_subset",
    "territory_components",
]


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
