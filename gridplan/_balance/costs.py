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


def _home_costs(
    coords, home_a: np.ndarray, edges: np.ndarray, home_weight: float
) -> np.ndarray | None:
    """(n, K) home-base term of ``cut_edges`` in cut-edge units: ``home_weight`` x the
    distance from each unit to each manager's home (metres) over the median edge length
    (the grid spacing); 0 for a manager without a home (NaN row). ``None`` when no
    manager has a home or the weight is 0."""
    if home_a is None or home_weight <= 0 or coords is None:
        return None
    has = np.isfinite(home_a).all(axis=1)
    if not has.any():
        return None
    xs, ys = coords
    ell = _median_edge_length(xs, ys, edges)
    hx = np.where(has, home_a[:, 0], 0.0)
    hy = np.where(has, home_a[:, 1], 0.0)
    dist = np.hypot(xs[:, None] - hx[None, :], ys[:, None] - hy[None, :])
    return np.where(has[None, :], float(home_weight) * dist / ell, 0.0)


def _centres_with_home(coords, w, lab: np.ndarray, K: int, home_a) -> np.ndarray:
    """Each territory's workload centre, replaced by its manager's home where known."""
    c = _centres(coords, w, lab, K)
    if home_a is not None:
        has = np.isfinite(home_a).all(axis=1)
        c[has] = home_a[has]
    return c


def _best_relabel(
    lab: list[int], cost: list[list[int]], w: list[int], lo: list[int], hi: list[int],
    locked: list[int],
) -> list[int]:  # fmt: skip
    """The plan with its territories handed to the managers whose assignment costs (home
    bases) are least: a linear assignment of territories to managers where a territory
    may only go to a manager whose band it fits no worse than its own, and a territory
    with locked units stays. Shapes are unchanged; returns ``lab`` when nothing is
    gained."""
    from scipy.optimize import linear_sum_assignment

    k = len(lo)
    la = np.asarray(lab, dtype=np.int64)
    c = np.asarray(cost, dtype=np.int64)
    tw = np.bincount(la, weights=np.asarray(w, dtype=float), minlength=k)
    lo_a, hi_a = np.asarray(lo, dtype=float), np.asarray(hi, dtype=float)
    viol = np.maximum(0.0, lo_a[None, :] - tw[:, None]) + np.maximum(0.0, tw[:, None] - hi_a)
    m = np.zeros((k, k))
    np.add.at(m, la, c)  # m[t, d] = cost of giving territory t to manager d
    ok = viol <= np.diag(viol)[:, None] + 1e-9
    for t in {int(la[i]) for i, v in enumerate(locked) if v >= 0}:
        ok[t, :] = False
        ok[t, t] = True
    big = float(np.abs(m).sum() + 1.0)
    rows, cols = linear_sum_assignment(np.where(ok, m, big))
    new = np.empty(k, dtype=np.int64)
    new[rows] = cols
    if not ok[rows, cols].all() or m[rows, cols].sum() >= np.trace(m):
        return list(lab)
    return new[la].tolist()
