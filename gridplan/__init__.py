"""gridplan: cut a city into marketing-service grids and balance community-manager territories.

The engine never imports streamlit; long work reports progress through a callback
(see :mod:`gridplan.progress`). Geometry lives at the edges: engines work on numpy
arrays and a CSR adjacency (:class:`gridplan.cells.Adjacency`).
"""

from gridplan.errors import GridplanError, InfeasibleError, InputError, Problem

__all__ = ["GridplanError", "InfeasibleError", "InputError", "Problem"]
__version__ = "0.1.0"
