"""Adjacency of arbitrary polygons (the planner's own cells, or grids), from geometry.

Used when a polygon layer arrives without a lattice: ``gridplan partition --cells``
on the user's own polygons, or grids read back from a file. Geometry must be in a
metric CRS (metres).
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import shapely

from gridplan.cells.lattice import unique_pairs, verify_contacts
from gridplan.graph import Adjacency


def polygon_adjacency(
    geoms: np.ndarray,
    *,
    contiguity: Literal["rook", "queen"] = "rook",
    district: np.ndarray | None = None,
    tolerance_m: float = 0.01,
    min_shared_m: float = 1.0,
) -> Adjacency:
    """CSR adjacency of polygons that share an edge (rook, > ``min_shared_m`` metres of
    common boundary) or touch at all (queen), within ``tolerance_m`` metres.

    ``district`` (one label per polygon) marks the edges between different districts.
    """
    geoms = np.asarray(geoms, dtype=object)
    n = len(geoms)
    if n == 0:
        return Adjacency.empty(0)
    tree = shapely.STRtree(geoms)
    left, right = tree.query(geoms, predicate="dwithin", distance=tolerance_m)
    keep = left < right
    pairs = unique_pairs(np.column_stack([left[keep], right[keep]]), n)
    pairs = pairs[
        verify_contacts(
            geoms, pairs, contiguity, tolerance_m=tolerance_m, min_shared_m=min_shared_m
        )
    ]
    crosses = None
    if district is not None:
        district = np.asarray(district, dtype=object)
        crosses = district[pairs[:, 0]] != district[pairs[:, 1]]
    return Adjacency.from_edges(n, pairs, crosses_district=crosses)
