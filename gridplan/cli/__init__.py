"""The ``gridplan`` command line: one module per command and a common module.

Imports stay light (``gridplan --help`` loads no geopandas, OR-Tools or folium): each
command imports what it needs when it runs.
"""

from gridplan.cli.main import main

__all__ = ["main"]
