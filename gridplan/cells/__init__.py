"""Base cells: lattices (H3, squares, own polygons), aggregation of every layer onto
them, polygon overlap, coverage, and the polygon adjacency (metric CRS, metres).

Modules: ``build`` (:func:`build_cells`), ``lattice``, ``aggregate``, ``overlap``,
``clipping``, ``coverage``, ``polygon_graph``.
"""

from gridplan.cells.build import (
    DEFAULT_H3_RESOLUTION,
    CellsConfig,
    CellSet,
    build_cells,
)

__all__ = [
    "DEFAULT_H3_RESOLUTION",
    "CellSet",
    "CellsConfig",
    "build_cells",
]
