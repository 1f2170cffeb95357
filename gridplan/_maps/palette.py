"""Colour-blind-safe categorical colours for many territories.

No palette keeps 50+ hues apart, so territories are coloured like a political map:
neighbours (polygons that touch) always get different colours from a small
colour-blind-safe set (Paul Tol's "muted" scheme, 9 colours), found by a DSatur
graph colouring; labels carry the names. Geometries may be in any one CRS.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import shapely

#: Paul Tol's "muted" qualitative scheme: distinct for the common colour-vision deficiencies.
MUTED: tuple[str, ...] = (
    "#CC6677",
    "#332288",
    "#DDCC77",
    "#117733",
    "#88CCEE",
    "#882255",
    "#44AA99",
    "#999933",
    "#AA4499",
)


def touching_pairs(geoms: Sequence[object], gap: float = 0.0) -> list[tuple[int, int]]:
    """Index pairs ``(i, j)``, ``i < j``, of geometries that touch or lie within ``gap``
    (CRS units, metres in the work CRS) of each other."""
    arr = np.asarray(geoms, dtype=object)
    if len(arr) == 0:
        return []
    tree = shapely.STRtree(arr)
    predicate = "dwithin" if gap > 0 else "intersects"
    kwargs = {"distance": gap} if gap > 0 else {}
    left, right = tree.query(arr, predicate=predicate, **kwargs)
    return sorted({(int(a), int(b)) for a, b in zip(left, right, strict=True) if a < b})


def colour_indices(n: int, pairs: Sequence[tuple[int, int]]) -> np.ndarray:
    """DSatur colouring: a colour index per node so that no pair shares one.

    Deterministic (ties broken by degree, then index); uses as few colours as the
    heuristic finds (4-5 for city maps)."""
    neighbours: list[set[int]] = [set() for _ in range(n)]
    for a, b in pairs:
        if a != b:
            neighbours[a].add(b)
            neighbours[b].add(a)
    colour = np.full(n, -1, dtype=int)
    seen: list[set[int]] = [set() for _ in range(n)]
    for _ in range(n):
        node = max(
            (i for i in range(n) if colour[i] < 0),
            key=lambda i: (len(seen[i]), len(neighbours[i]), -i),
        )
        c = 0
        while c in seen[node]:
            c += 1
        colour[node] = c
        for nb in neighbours[node]:
            seen[nb].add(c)
    return colour


def territory_colours(geoms: Sequence[object], gap: float = 0.0) -> list[str]:
    """A hex colour per geometry from :data:`MUTED`; touching geometries differ.

    With more colours needed than the palette has (never on planar maps in
    practice), colours repeat but still differ between neighbours whenever the
    colouring used at most ``len(MUTED)`` colours."""
    idx = colour_indices(len(geoms), touching_pairs(geoms, gap))
    return [MUTED[i % len(MUTED)] for i in idx]
