"""Base cells: lattices (H3, squares, own polygons), aggregation of every layer onto
them, polygon overlap, coverage, and the polygon adjacency (metric CRS, metres).

Modules: ``build`` (:func:`build_cells`), ``lattice``, ``aggregate``, ``overlap``,
``clipping``, ``coverage``, ``polygon_graph``, ``detached`` (the rule of a grid's
legitimate detached parts, shared by the partition and the plan checks).

The names below are imported on first use, so the engines can import
``gridplan.cells.detached`` without loading the geometry stack.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from gridplan.cells.build import DEFAULT_H3_RESOLUTION, CellsConfig, CellSet, build_cells

__all__ = [
    "DEFAULT_H3_RESOLUTION",
    "CellSet",
    "CellsConfig",
    "build_cells",
]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from gridplan.cells import build

        return getattr(build, name)
    raise AttributeError(f"module 'gridplan.cells' has no attribute {name!r}")
