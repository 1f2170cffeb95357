"""Shapefile export as one zip: a .shp/.shx/.dbf/.prj/.cpg set per layer.

dBASE field names hold at most 10 characters, so long column names are shortened
(:func:`field_names`) and the mapping is written into the zip as ``fields.csv``
(layer, field, column) with a ``README.txt``. Text is UTF-8 (the ``.cpg`` says so).
Geometry stays in the plan's work CRS (metres; the ``.prj`` names it).
"""

from __future__ import annotations

import re
import tempfile
import zipfile
from collections.abc import Iterable
from pathlib import Path

import geopandas as gpd
import pandas as pd

from gridplan.workload import HOURS

MAX_FIELD = 10

_WORDS = {
    "business": "bus",
    "diamond": "dia",
    "platinum": "plat",
    "crystal": "crys",
    "silver": "slv",
    "large": "lg",
    "group": "grp",
    "crown": "crwn",
    "gold": "gld",
    "plus": "p",
    "public": "pub",
    "hours": "h",
    "total": "tot",
    "maintenance": "maint",
    "travel": "trvl",
    "visits": "vis",
    "calls": "call",
    "per": "",
    "month": "mo",
    "managers": "mgr",
    "manager": "mgr",
    "ratio": "",
    "customers": "cust",
    "customer": "cust",
    "clients": "cl",
    "phone": "ph",
    "capacity": "cap",
    "deviation": "dev",
    "population": "pop",
    "households": "hh",
    "coverage": "cov",
    "meets": "ok",
    "floors": "flr",
    "ceilings": "ceil",
    "heterogeneity": "heterog",
    "compactness": "compact",
    "suppressed": "suppr",
    "technology": "tech",
    "district": "dist",
    "density": "dens",
}

#: Readable short names for the best-known long columns.
KNOWN: dict[str, str] = {
    HOURS: "hours",
    "suppressed": "suppressed",
    "contiguous": "contiguous",
    "n_managers": "n_managers",
}


def _shorten(column: str) -> str:
    if column in KNOWN:
        return KNOWN[column]
    if len(column) <= MAX_FIELD:
        return column
    parts = [p for p in re.split(r"_+", column) if p]
    if parts and parts[0] == "cust":
        parts[0] = "c"
    short = "_".join(w for w in (_WORDS.get(p, p) for p in parts) if w)
    return short[:MAX_FIELD]


def field_names(columns: Iterable[str]) -> dict[str, str]:
    """Column → dBASE field name (≤10 characters, unique without regard to case)."""
    out: dict[str, str] = {}
    taken: set[str] = set()
    for col in columns:
        name = _shorten(str(col))
        n = 1
        while name.lower() in taken:
            n += 1
            name = f"{_shorten(str(col))[: MAX_FIELD - len(str(n))]}{n}"
        taken.add(name.lower())
        out[str(col)] = name
    return out


README = """Shapefile export of a gridplan plan ({name}).

One .shp/.shx/.dbf/.prj/.cpg set per layer ({layers}); text is UTF-8 (.cpg).
Coordinates: {crs} (metres).
dBASE limits field names to 10 characters: fields.csv maps each layer's field to the
full column name (same as in the GeoPackage, CSV and XLSX exports).
Text longer than 254 characters (e.g. a territory's list of grids) is cut by the
format; the CSV/XLSX tables keep it whole.
Yes/no columns are stored as 1/0. Blank numbers are counts suppressed for privacy.
"""


def write_shapefile_zip(
    layers: dict[str, gpd.GeoDataFrame], target: Path, *, plan_name: str
) -> None:
    """Write ``layers`` as Shapefiles into the zip file ``target`` (not atomic: the caller
    passes a temporary path)."""
    import pyogrio

    rows = []
    with (
        tempfile.TemporaryDirectory() as tmp,
        zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as zf,
    ):
        crs = ""
        for name, frame in layers.items():
            mapping = field_names(c for c in frame.columns if c != "geometry")
            out = frame.rename(columns=mapping)
            for col in out.columns:
                if col != "geometry" and pd.api.types.is_bool_dtype(out[col]):
                    out[col] = out[col].astype(int)
            path = Path(tmp) / f"{name}.shp"
            pyogrio.write_dataframe(out, path, driver="ESRI Shapefile", encoding="UTF-8")
            for part in sorted(Path(tmp).glob(f"{name}.*")):
                zf.write(part, part.name)
            rows += [(name, short, col) for col, short in mapping.items()]
            crs = crs or (frame.crs.to_string() if frame.crs else "")
        table = pd.DataFrame(rows, columns=["layer", "field", "column"])
        zf.writestr("fields.csv", table.to_csv(index=False).encode("utf-8-sig"))
        zf.writestr(
            "README.txt",
            README.format(name=plan_name, layers=", ".join(layers), crs=crs or "unknown"),
        )
