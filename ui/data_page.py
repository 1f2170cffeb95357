"""Data page: the demo city (or, later, uploaded layers) and its base cells on a map."""

from __future__ import annotations

import streamlit as st
from streamlit_folium import st_folium

from gridplan.cells import CellsConfig, build_cells
from gridplan.demo import DEMO_CITIES, load_demo
from gridplan.errors import GridplanError
from gridplan.maps import MapSettings, cells_map

CITY_NAMES = {"nyc": "New York City", "seoul": "Seoul"}
COLOUR_BY = {
    "population": "Population (persons)",
    "density": "Density (persons/km²)",
    "customers": "Customers (synthetic)",
    "spend": "Spend (CNY/month, synthetic)",
    "coverage": "Coverage score (synthetic sites)",
}


@st.cache_data(show_spinner=False, max_entries=8)
def demo_cells(city: str, lattice: str, resolution: int | None, size_m: float):
    """Cells of a demo city (cached per settings; each caller gets its own copy)."""
    layers = load_demo(city)
    config = CellsConfig(
        lattice=lattice,
        h3_resolution=resolution if lattice == "h3" else None,
        square_size_m=size_m,
    )
    cellset = build_cells(layers, config)
    return cellset.cells, layers.districts, cellset.notes, layers.synthetic


st.title("gridplan · Data")
with st.sidebar:
    city = st.selectbox("Demo city", DEMO_CITIES, format_func=lambda c: CITY_NAMES.get(c, c))
    lattice = st.radio(
        "Base cells",
        ["h3", "square", "polygons"],
        format_func={
            "h3": "H3 hexagons",
            "square": "Squares",
            "polygons": "Census small areas",
        }.get,
    )
    resolution = None
    size_m = 500.0
    if lattice == "h3":
        resolution = st.slider("H3 resolution", 7, 9, 8, help="8 ≈ 0.74 km², 9 ≈ 0.11 km²")
    elif lattice == "square":
        size_m = float(st.select_slider("Square size (m)", [250, 500, 750, 1000, 2000], 1000))
    colour_by = st.selectbox("Colour cells by", list(COLOUR_BY), format_func=COLOUR_BY.get)
    basemap = st.selectbox(
        "Basemap",
        ["OpenStreetMap", "none", "internal"],
        format_func={
            "OpenStreetMap": "OpenStreetMap (internet)",
            "none": "None (boundaries only, offline)",
            "internal": "Internal tile server…",
        }.get,
    )
    tiles: str | None = None if basemap == "none" else basemap
    if basemap == "internal":
        tiles = st.text_input(
            "Tile URL template", placeholder="https://tiles.example.intra/{z}/{x}/{y}.png"
        ).strip()
        if "{z}" not in tiles:
            st.caption("Give a URL with {z}, {x} and {y}; no basemap until then.")
            tiles = None

try:
    with st.spinner("Building cells…"):
        cells, districts, notes, synthetic = demo_cells(city, lattice, resolution, size_m)
except GridplanError as err:
    st.error(str(err))
    st.stop()

if synthetic:
    st.info(
        "Population is real; "
        + ", ".join(synthetic)
        + " are **SYNTHETIC** (generated for the demo, not real sites or customers)."
    )
c1, c2, c3, c4 = st.columns(4)
c1.metric("Cells", f"{len(cells):,}")
c2.metric("Population", f"{cells['population'].sum():,.0f}")
c3.metric("Customers (synthetic)", f"{cells['customers'].sum():,.0f}")
c4.metric("Districts", f"{cells['district'].nunique():,}")

m = cells_map(
    cells,
    colour_by,
    tooltip_fields=["district", "population", "customers", "spend", "coverage"],
    districts=districts,
    settings=MapSettings(tiles=tiles),
)
st_folium(m, height=620, use_container_width=True, returned_objects=[], key=f"map-{city}")
for note in notes:
    st.caption(note)
