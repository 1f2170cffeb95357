"""Colour-blind-safe categorical colours for many territories.

No palette keeps 50+ hues apart, so territories are coloured like a political map:
neighbours (polygons that touch) always get different colours from a small
colour-blind-safe set (Paul Tol's "muted" scheme, 9 colours), found by a DSatur
graph colouring; labels carry the names. Geometries may be in any one CRS.

:func:`manager_colours` is the one colouring of a plan's managers: the app's map, the
HTML map, the map book and the KML all take their territory colours from it;
:func:`group_colours` colours any grouping the same way (organisation units, areas).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import shapely

if TYPE_CHECKING:
    from gridplan.plan.model import Plan

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


def _group_pairs(geoms: np.ndarray, codes: np.ndarray, gap: float) -> tuple[np.ndarray, np.ndarray]:
    """Row index pairs of touching (or within ``gap``) geometries of different groups
    (``codes``): bounding boxes first, the exact test only between groups (most
    touching grids share their manager or unit)."""
    if len(geoms) == 0:
        return np.zeros(0, dtype=int), np.zeros(0, dtype=int)
    tree = shapely.STRtree(geoms)
    if gap > 0:
        left, right = tree.query(geoms, predicate="dwithin", distance=gap)
    else:
        left, right = tree.query(geoms)  # bounding boxes only
    cross = (left < right) & (codes[left] != codes[right])
    left, right = left[cross], right[cross]
    if gap <= 0:
        hit = shapely.intersects(geoms[left], geoms[right])
        left, right = left[hit], right[hit]
    return left, right


def group_colours(frame: pd.DataFrame, column: str, gap: float = 0.0) -> dict[str, str]:
    """A hex colour from :data:`MUTED` per value of ``column`` (a group of rows: a
    manager's territory, an organisation unit ``unit_<level>``); groups whose rows touch
    (or lie within ``gap`` CRS units) get different colours. ``frame``: rows with
    polygons in one CRS (the grids, or one row per group). Values come in sorted order
    (the DSatur ties follow it); rows with ``""`` or a missing value get no colour."""
    values = frame[column]
    keep = (values.notna() & (values.astype(str) != "")).to_numpy()
    codes, names = pd.factorize(values[keep], sort=True)
    geoms = np.asarray(frame.geometry.values, dtype=object)[keep]
    a, b = _group_pairs(geoms, codes, gap)
    lo, hi = np.minimum(codes[a], codes[b]), np.maximum(codes[a], codes[b])
    pairs = set(zip(lo.tolist(), hi.tolist(), strict=True))
    idx = colour_indices(len(names), sorted(pairs))
    return {str(m): MUTED[i % len(MUTED)] for m, i in zip(names, idx, strict=True)}


def manager_colours(source: Plan | pd.DataFrame, gap: float = 0.0) -> dict[str, str]:
    """A hex colour from :data:`MUTED` per manager of a plan; managers whose territories
    touch (or lie within ``gap`` CRS units) get different colours.

    ``source``: a plan (its ``grids`` are used), or any frame with ``manager`` and
    polygons in one CRS: the grids (a territory is the union of its grids) or the
    territories (one row each). Both give the same colours: a union touches another
    exactly when one of its parts does. Managers come in sorted order (the order of
    :func:`gridplan.plan.model.territories`, which the DSatur ties follow); unassigned
    rows (``""`` or missing manager) get no colour. (:func:`group_colours` of the
    ``manager`` column.)"""
    frame = source if isinstance(source, pd.DataFrame) else source.grids
    return group_colours(frame, "manager", gap)
