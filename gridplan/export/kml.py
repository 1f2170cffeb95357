"""KML export for Google Earth and field apps: areas, territories, grids and sites,
each a folder; territories and grids styled by manager (neighbouring territories in
different colour-blind-safe colours), names in the placemarks, figures as
ExtendedData (GIS readers see them as fields) and an HTML-escaped description.
With an organisation, a ``units`` folder holds a folder per level (top → bottom, named
by the level key) of unit outlines named by the unit's name; the grids' ``unit_<level>``
and ``unit_<level>_name`` come through as ExtendedData like every other column.
Coordinates in EPSG:4326 (longitude, latitude), as KML requires.
"""

from __future__ import annotations

import html
import xml.etree.ElementTree as ET
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely

from gridplan.layers.crs import WGS84
from gridplan.maps import MAP_OUTLINES, manager_colours

KML_NS = "http://www.opengis.net/kml/2.2"
FOLDERS: tuple[tuple[str, str], ...] = (
    ("units", "unit_name"),
    ("areas", "area"),
    ("territories", "manager"),
    ("grids", "grid_id"),
    ("sites", "site_id"),
)

#: colour of the organisation's unit outlines (as on the web map and in the map book)
UNIT_OUTLINE = MAP_OUTLINES.colour


def kml_colour(hex_rgb: str, alpha: int = 0x99) -> str:
    """``#RRGGBB`` → KML ``aabbggrr``."""
    h = hex_rgb.lstrip("#")
    return f"{alpha:02x}{h[4:6]}{h[2:4]}{h[0:2]}".lower()


def _coords(ring: shapely.LinearRing) -> str:
    return " ".join(f"{x:.7f},{y:.7f}" for x, y in ring.coords)


def _add_geometry(parent: ET.Element, geom: object) -> None:
    if geom is None or shapely.is_empty(geom):
        return
    kind = geom.geom_type
    if kind in ("MultiPolygon", "GeometryCollection", "MultiPoint", "MultiLineString"):
        multi = ET.SubElement(parent, "MultiGeometry")
        for part in geom.geoms:
            _add_geometry(multi, part)
    elif kind == "Polygon":
        poly = ET.SubElement(parent, "Polygon")
        outer = ET.SubElement(ET.SubElement(poly, "outerBoundaryIs"), "LinearRing")
        ET.SubElement(outer, "coordinates").text = _coords(geom.exterior)
        for hole in geom.interiors:
            inner = ET.SubElement(ET.SubElement(poly, "innerBoundaryIs"), "LinearRing")
            ET.SubElement(inner, "coordinates").text = _coords(hole)
    elif kind == "Point":
        ET.SubElement(
            ET.SubElement(parent, "Point"), "coordinates"
        ).text = f"{geom.x:.7f},{geom.y:.7f}"
    elif kind == "LineString":
        ET.SubElement(ET.SubElement(parent, "LineString"), "coordinates").text = _coords(geom)


def _text(v: object) -> str:
    if v is None or (isinstance(v, float) and pd.isna(v)):
        return ""
    if isinstance(v, float):
        return f"{v:.6g}" if abs(v) < 1e6 else f"{v:.0f}"
    return str(v)


def _style(
    doc: ET.Element, sid: str, colour: str, point: bool = False, outline: bool = False
) -> None:
    """A style: a point icon, a filled polygon, or (``outline``) an unfilled 2.5 px line."""
    style = ET.SubElement(doc, "Style", id=sid)
    if point:
        icon = ET.SubElement(style, "IconStyle")
        ET.SubElement(icon, "color").text = kml_colour(colour, 0xFF)
        ET.SubElement(icon, "scale").text = "0.6"
        return
    line = ET.SubElement(style, "LineStyle")
    ET.SubElement(line, "color").text = kml_colour(colour, 0xFF)
    ET.SubElement(line, "width").text = "2.5" if outline else "1.5"
    poly = ET.SubElement(style, "PolyStyle")
    ET.SubElement(poly, "color").text = kml_colour(colour)
    if outline:
        ET.SubElement(poly, "fill").text = "0"


def _placemark(folder: ET.Element, values: dict, geom: object, key: str, sid: str) -> None:
    """A placemark named by ``values[key]``: style, escaped description table,
    ExtendedData of every field, geometry."""
    pm = ET.SubElement(folder, "Placemark")
    ET.SubElement(pm, "name").text = _text(values.get(key))
    ET.SubElement(pm, "styleUrl").text = f"#{sid}"
    rows = "".join(
        f"<tr><td>{html.escape(f)}</td><td>{html.escape(_text(v))}</td></tr>"
        for f, v in values.items()
    )
    ET.SubElement(pm, "description").text = f"<table>{rows}</table>"
    ext = ET.SubElement(pm, "ExtendedData")
    for f, v in values.items():
        data = ET.SubElement(ext, "Data", name=f)
        ET.SubElement(data, "value").text = _text(v)
    _add_geometry(pm, geom)


def _units_folder(doc: ET.Element, units: gpd.GeoDataFrame) -> None:
    """The ``units`` folder: a folder per level (in the layer's order), a placemark per
    unit named by its name (field ``unit_name``)."""
    folder = ET.SubElement(doc, "Folder")
    ET.SubElement(folder, "name").text = "units"
    # "name" as ExtendedData would clash with the placemark's Name in GIS readers
    shown = units.rename(columns={"name": "unit_name"}).to_crs(WGS84)
    fields = [c for c in shown.columns if c != "geometry"]
    levels = shown["level"].astype(str)
    for lv in dict.fromkeys(levels):
        sub = ET.SubElement(folder, "Folder")
        ET.SubElement(sub, "name").text = lv
        part = shown[(levels == lv).to_numpy()]
        for row, geom in zip(
            part[fields].itertuples(index=False, name=None), part.geometry.values, strict=True
        ):
            _placemark(sub, dict(zip(fields, row, strict=True)), geom, "unit_name", "unit")


def kml_document(layers: dict[str, gpd.GeoDataFrame], plan_name: str) -> ET.ElementTree:
    """The KML tree of the layers (work CRS in, EPSG:4326 out)."""
    root = ET.Element("kml", xmlns=KML_NS)
    doc = ET.SubElement(root, "Document")
    ET.SubElement(doc, "name").text = plan_name
    colour_of: dict[str, str] = {}
    terr = layers.get("territories")
    if terr is not None and len(terr):
        # the plan's one palette, from the grids as in the app and the maps
        colour_of = manager_colours(layers.get("grids", terr))
    for i, colour in enumerate(colour_of.values()):
        _style(doc, f"m{i}", colour)
    style_id = {m: f"m{i}" for i, m in enumerate(colour_of)}
    _style(doc, "plain", "#555555")
    _style(doc, "site", "#222222", point=True)
    if layers.get("units") is not None and len(layers["units"]):
        _style(doc, "unit", UNIT_OUTLINE, outline=True)
    for layer, key in FOLDERS:
        frame = layers.get(layer)
        if frame is None or len(frame) == 0:
            continue
        if layer == "units":
            if "level" in frame.columns:
                _units_folder(doc, frame)
            continue
        folder = ET.SubElement(doc, "Folder")
        ET.SubElement(folder, "name").text = layer
        shown = frame.to_crs(WGS84)
        fields = [c for c in shown.columns if c != "geometry"]
        for row, geom in zip(
            shown[fields].itertuples(index=False, name=None), shown.geometry.values, strict=True
        ):
            values = dict(zip(fields, row, strict=True))
            manager = str(values.get("manager", ""))
            sid = "site" if layer == "sites" else style_id.get(manager, "plain")
            if layer == "areas":
                sid = "plain"
            _placemark(folder, values, geom, key, sid)
    return ET.ElementTree(root)


def write_kml(layers: dict[str, gpd.GeoDataFrame], target: Path, *, plan_name: str) -> None:
    """Write the KML file ``target`` (UTF-8; the caller passes a temporary path)."""
    tree = kml_document(layers, plan_name)
    tree.write(target, encoding="utf-8", xml_declaration=True)
