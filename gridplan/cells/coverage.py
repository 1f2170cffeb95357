"""Network coverage score of every cell from the cell sites (array core).

Formula (distances in metres in the work CRS)::

    raw(c) = Σ_{s : d(c,s) < r_s}  w(tech_s) · (sectors_s / sectors_ref) · (1 − d(c, s) / r_s)
    coverage(c) = min(raw(c), cap) / cap                                       (0..1)

where ``d(c, s)`` is the distance from the cell centroid to site ``s``, ``r_s`` the
site's nominal radius ``radius_m`` (``default_radius_m`` when missing or not
positive), ``sectors_s`` its sector count (``default_sectors`` when missing),
``sectors_ref = 3`` (a classic three-sector site counts 1) and ``w`` the
technology weight (:attr:`CoverageConfig.tech_weights`, default 5G 1.0, 4G 0.8,
other/unknown ``default_weight`` 0.5). With the default ``cap = 1`` a cell at a
three-sector 5G site scores 1.0 ("fully covered"), halfway to its edge 0.5, and
overlapping sites add up until the cap. ``raw`` is kept too (``coverage_raw``)
so engines can tell "well covered" from "covered many times over".

Choosing ``radius_m``: the contribution falls to 0 at ``r_s``, so for a contiguous
network the radius must reach about the neighbouring sites. In a regular layout of
inter-site distance D with ``r_s ≈ 0.8·D`` (the demo network, data/README.md) a
point equidistant from three sites scores ≈ 3·(1 − 0.577/0.8)·w ≈ 0.84·w and a point
midway between two ≈ 0.75·w; with ``r_s`` = the cell range of a three-sector layout
(D / 1.5) those points score only ≈ 0.4·w and 0.5·w, and with ``r_s`` well below D
(e.g. 250–600 m radii for ~1 km spacing) most of the city scores near 0.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree


@dataclass(frozen=True)
class CoverageConfig:
    """Settings of the coverage score (see the module docstring for the formula).

    ``tech_weights`` pairs a technology label (matched case-insensitively, e.g.
    "5G") with its weight; ``default_weight`` is used for other labels.
    ``default_radius_m`` (metres) and ``default_sectors`` fill missing site values.
    ``cap`` is the raw score that counts as full coverage (score 1.0).
    """

    tech_weights: tuple[tuple[str, float], ...] = (("5G", 1.0), ("4G", 0.8))
    default_weight: float = 0.5
    sectors_ref: float = 3.0
    default_sectors: float = 3.0
    default_radius_m: float = 1000.0
    cap: float = 1.0

    def __post_init__(self) -> None:
        if self.cap <= 0 or self.sectors_ref <= 0 or self.default_radius_m <= 0:
            raise ValueError("cap, sectors_ref and default_radius_m must be positive")
        if any(w < 0 for _, w in self.tech_weights) or self.default_weight < 0:
            raise ValueError("technology weights must be >= 0")

    def weight_of(self, technology: np.ndarray) -> np.ndarray:
        """Weight of every site's technology label (float array)."""
        labels = np.asarray(technology, dtype=object)
        out = np.full(len(labels), float(self.default_weight))
        norm = np.array([str(t).strip().upper() if t is not None else "" for t in labels])
        for tech, weight in self.tech_weights:
            out[norm == tech.strip().upper()] = float(weight)
        return out


def coverage_scores(
    cell_xy: np.ndarray,
    site_xy: np.ndarray,
    weight: np.ndarray,
    sectors: np.ndarray,
    radius_m: np.ndarray,
    config: CoverageConfig = CoverageConfig(),
) -> tuple[np.ndarray, np.ndarray]:
    """Coverage of cells by sites: ``(raw, score)`` arrays, one value per cell.

    ``cell_xy`` ``(n, 2)`` and ``site_xy`` ``(s, 2)`` are metres in the same CRS;
    ``weight`` the technology weight, ``sectors`` the sector count and ``radius_m``
    the nominal radius (metres) of every site. Sites are grouped by radius class
    (powers of two) and each group queried with ``cKDTree.sparse_distance_matrix``,
    so the work is linear in the number of (cell, site-in-range) pairs.
    """
    cell_xy = np.asarray(cell_xy, dtype=float).reshape(-1, 2)
    site_xy = np.asarray(site_xy, dtype=float).reshape(-1, 2)
    n = len(cell_xy)
    raw = np.zeros(n)
    if n == 0 or len(site_xy) == 0:
        return raw, raw.copy()
    radius = np.asarray(radius_m, dtype=float)
    radius = np.where(np.isfinite(radius) & (radius > 0), radius, config.default_radius_m)
    sect = np.asarray(sectors, dtype=float)
    sect = np.where(np.isfinite(sect) & (sect > 0), sect, config.default_sectors)
    strength = np.asarray(weight, dtype=float) * sect / config.sectors_ref
    cell_tree = cKDTree(cell_xy)
    radius_class = np.ceil(np.log2(radius)).astype(np.int64)
    for cls in np.unique(radius_class):
        members = np.flatnonzero(radius_class == cls)
        site_tree = cKDTree(site_xy[members])
        pairs = cell_tree.sparse_distance_matrix(
            site_tree, float(radius[members].max()), output_type="ndarray"
        )
        if len(pairs) == 0:
            continue
        ci = pairs["i"].astype(np.int64)
        si = members[pairs["j"]]
        d = pairs["v"]
        r = radius[si]
        inside = d < r
        contrib = strength[si[inside]] * (1.0 - d[inside] / r[inside])
        raw += np.bincount(ci[inside], weights=contrib, minlength=n)
    score = np.minimum(raw, config.cap) / config.cap
    return raw, score
