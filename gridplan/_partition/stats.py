"""Statistics of a finished partition (exact, from scratch): per-region heterogeneity,
compactness, floor and ceiling sums, diameters and contiguity, and the notes on
regions that miss a floor or a ceiling."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import scipy.sparse
import scipy.sparse.csgraph

from gridplan._partition.checks import Inputs, _fmt


@dataclass(frozen=True)
class RegionStats:
    """Per-region figures of ``p`` regions (see ``ArrayPartition``) and the totals."""

    heterogeneity: float
    compactness: float
    region_heterogeneity: np.ndarray
    region_compactness: np.ndarray
    region_floor_sums: np.ndarray
    region_ceil_sums: np.ndarray
    meets_floors: np.ndarray
    meets_ceilings: np.ndarray
    contiguous: np.ndarray


def partition_stats(
    inp: Inputs,
    adj: scipy.sparse.csr_array,
    labels: np.ndarray,
    p: int,
    homog: np.ndarray | None,
    area: np.ndarray,
    locked_map: dict[int, int],
    notes: list[str],
) -> RegionStats:
    """Figures of the partition ``labels`` (``0..p-1``); appends to ``notes`` the
    locked regions below a floor or not contiguous and the regions over a ceiling.
    ``homog``: attributes × sqrt(weight); ``area``: normalised cell areas."""
    fv, fmin, cv, cmax = inp.floor_values, inp.floor_min, inp.ceil_values, inp.ceil_max
    f, c = inp.n_floors, inp.n_ceils
    xs, ys, max_diameter = inp.x, inp.y, inp.max_diameter
    het, kappa = region_stats(labels, p, homog=homog, x=xs, y=ys, area=area)
    cnt = np.bincount(labels, minlength=p)
    fsum = np.column_stack([np.bincount(labels, fv[:, j], minlength=p) for j in range(f)]).reshape(
        p, f
    )
    meets_floors = np.all(fsum >= fmin * (1 - 1e-9), axis=1)
    if cv is not None and cmax is not None:
        csum = np.column_stack(
            [np.bincount(labels, cv[:, j], minlength=p) for j in range(c)]
        ).reshape(p, c)
        meets_ceil = np.all(csum <= cmax * (1 + 1e-9), axis=1)
    else:
        csum = np.zeros((p, 0))
        meets_ceil = np.ones(p, dtype=bool)
    if max_diameter is not None and xs is not None and ys is not None:
        diam = region_diameters(labels, p, xs, ys)
        too_wide = diam > float(max_diameter) * (1 + 1e-9)
        meets_ceil = meets_ceil & ~too_wide
    else:
        diam = None
    contiguous = region_contiguity(adj, labels, p)
    for v, r in locked_map.items():
        if not meets_floors[r]:
            notes.append(f"grid {r} (locked label {v}) is below a floor; it is kept as locked")
        if not contiguous[r]:
            notes.append(f"grid {r} (locked label {v}) is not contiguous; it is kept as locked")
    notes.extend(_ceiling_notes(inp, meets_ceil, csum, diam))
    heterogeneity = float(het.sum())
    return RegionStats(
        heterogeneity=heterogeneity,
        compactness=float((cnt * kappa).sum()) if xs is not None else 0.0,
        region_heterogeneity=het,
        region_compactness=kappa,
        region_floor_sums=fsum,
        region_ceil_sums=csum,
        meets_floors=meets_floors,
        meets_ceilings=meets_ceil,
        contiguous=contiguous,
    )


def _ceiling_notes(
    inp: Inputs, meets_ceil: np.ndarray, csum: np.ndarray, diam: np.ndarray | None
) -> list[str]:
    """One note per region over a ceiling sum or the diameter (metres)."""
    cmax, c, cnames, max_diameter = inp.ceil_max, inp.n_ceils, inp.ceil_names, inp.max_diameter
    notes = []
    for r in np.flatnonzero(~meets_ceil):
        parts = [
            f"{cnames[j]} {_fmt(csum[r, j])} > {_fmt(cmax[j])}"
            for j in range(c)
            if cmax is not None and csum[r, j] > cmax[j] * (1 + 1e-9)
        ]
        if diam is not None and diam[r] > float(max_diameter) * (1 + 1e-9):
            parts.append(f"diameter {diam[r]:,.0f} m > {float(max_diameter):,.0f} m")
        notes.append(
            f"grid {int(r)} exceeds a ceiling ({'; '.join(parts)}): the search found no "
            "smaller grid meeting the floors here; raise the ceiling or lower the floor"
        )
    return notes


def region_stats(
    labels: np.ndarray,
    p: int,
    *,
    homog: np.ndarray | None,
    x: np.ndarray | None,
    y: np.ndarray | None,
    area: np.ndarray | None,
) -> tuple[np.ndarray, np.ndarray]:
    """Per-region heterogeneity (weighted SSD, homog already × sqrt(weight)) and kappa.

    ``kappa = 2π I / A²`` with ``I = Σ a_i |p_i − c|² + Σ a_i² / 2π`` (metres, m²);
    0 when no coordinates are given. Computed exactly (two passes), not incrementally.
    """
    het = np.zeros(p)
    if homog is not None and homog.shape[1]:
        cnt = np.bincount(labels, minlength=p).astype(float)
        for j in range(homog.shape[1]):
            z = homog[:, j]
            mean = np.bincount(labels, z, minlength=p) / np.maximum(cnt, 1)
            het += np.bincount(labels, (z - mean[labels]) ** 2, minlength=p)
    kappa = np.zeros(p)
    if x is not None and y is not None:
        a = np.ones(len(labels)) if area is None else area
        A = np.bincount(labels, a, minlength=p)
        safe = np.where(A > 0, A, 1.0)
        cx = np.bincount(labels, a * x, minlength=p) / safe
        cy = np.bincount(labels, a * y, minlength=p) / safe
        d2 = (x - cx[labels]) ** 2 + (y - cy[labels]) ** 2
        inertia = np.bincount(labels, a * d2 + a * a / (2 * math.pi), minlength=p)
        kappa = np.where(A > 0, 2 * math.pi * inertia / safe**2, 0.0)
    return het, kappa


def region_contiguity(adj: scipy.sparse.csr_array, labels: np.ndarray, p: int) -> np.ndarray:
    """True for every region whose cells form one connected piece of ``adj``."""
    coo = adj.tocoo()
    keep = labels[coo.row] == labels[coo.col]
    n = len(labels)
    sub = scipy.sparse.csr_array(
        (np.ones(int(keep.sum()), dtype=np.int8), (coo.row[keep], coo.col[keep])), shape=(n, n)
    )
    _, comp = scipy.sparse.csgraph.connected_components(sub, directed=False)
    pairs = np.unique(np.column_stack([labels, comp]), axis=0)
    pieces = np.bincount(pairs[:, 0], minlength=p)
    return pieces == 1


def region_diameters(labels: np.ndarray, p: int, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Largest distance between two cell centroids of each region (metres)."""
    order = np.argsort(labels, kind="stable")
    bounds = np.searchsorted(labels[order], np.arange(p + 1))
    out = np.zeros(p)
    for r in range(p):
        idx = order[bounds[r] : bounds[r + 1]]
        pts = np.column_stack([x[idx], y[idx]])
        if len(pts) > 64:
            try:
                from scipy.spatial import ConvexHull

                pts = pts[ConvexHull(pts).vertices]
            except Exception:  # degenerate (collinear) sets: use all points
                pass
        if len(pts) > 1:
            d = pts[:, None, :] - pts[None, :, :]
            out[r] = float(np.sqrt((d**2).sum(axis=2).max()))
    return out
