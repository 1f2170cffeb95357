"""Per-unit, per-manager costs of the compactness objective and their helpers.

Coordinates are in any metric CRS (the grids' work CRS, metres); compactness costs are
workload x squared distance, normalised by the mean workload x the squared median edge
length so that one unit of cost is comparable with one cut edge.
"""

from __future__ import annotations

import math

import numpy as np

__all__: list[str] = []


def _cost_no_penalty(comp_cost, start, coords, w, K, objective, both_scale):
    fn, base = comp_cost
    cc = base if base is not None else fn(_centres(coords, w, np.asarray(start), K))
    if objective == "both":
        cc = cc * both_scale[0]
    return cc


def _centres(coords, w, lab: np.ndarray, K: int) -> np.ndarray:
    xs, ys = coords
    out = np.zeros((K, 2))
    for d in range(K):
        m = lab == d
        if not m.any():
            out[d] = (xs.mean(), ys.mean())
            continue
        ww = w[m]
        if ww.sum() <= 0:
            out[d] = (xs[m].mean(), ys[m].mean())
        else:
            out[d] = ((xs[m] * ww).sum() / ww.sum(), (ys[m] * ww).sum() / ww.sum())
    return out


def _median_edge_length(xs: np.ndarray, ys: np.ndarray, edges: np.ndarray) -> float:
    if edges.size == 0:
        span = max(float(np.ptp(xs)), float(np.ptp(ys)), 1.0)
        return span / max(math.sqrt(xs.size), 1.0)
    d = np.hypot(xs[edges[:, 0]] - xs[edges[:, 1]], ys[edges[:, 0]] - ys[edges[:, 1]])
    med = float(np.median(d))
    return med if med > 0 else max(float(d.mean()), 1.0)


def _kmeans_labels(coords, w: np.ndarray, K: int, seed: int, iters: int = 20) -> list[int]:
    """Weighted k-means on coordinates (k-means++ seeding); used for start centres and as
    the naive baseline of the benchmarks."""
    xs, ys = coords
    pts = np.column_stack([xs, ys])
    n = pts.shape[0]
    rng = np.random.default_rng(seed)
    ww = np.where(w > 0, w, 1e-9)
    cent = [pts[int(rng.integers(n))]]
    for _ in range(1, K):
        d2 = np.min(((pts[:, None, :] - np.array(cent)[None]) ** 2).sum(-1), axis=1)
        p = d2 * ww
        p = p / p.sum() if p.sum() > 0 else np.full(n, 1 / n)
        cent.append(pts[int(rng.choice(n, p=p))])
    c = np.array(cent)
    lab = np.zeros(n, dtype=np.int64)
    for _ in range(iters):
        d2 = ((pts[:, None, :] - c[None]) ** 2).sum(-1)
        lab = d2.argmin(axis=1)
        for d in range(K):
            m = lab == d
            if m.any():
                c[d] = (pts[m] * ww[m, None]).sum(0) / ww[m].sum()
    return lab.tolist()
