"""Files for area teams: every format (``formats``), KML, Shapefile zip, the printable
map book and its fonts.
"""

from gridplan.export.formats import (
    EXCEL_MAX_ROWS,
    EXTENSIONS,
    FORMATS,
    SINGLE_FILE,
    WRITERS,
    TempFor,
    Unit,
    export_all,
    export_plan,
    team_zips,
)

__all__ = [
    "EXCEL_MAX_ROWS",
    "EXTENSIONS",
    "FORMATS",
    "SINGLE_FILE",
    "WRITERS",
    "TempFor",
    "Unit",
    "export_all",
    "export_plan",
    "team_zips",
]
