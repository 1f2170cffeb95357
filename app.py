"""gridplan — Streamlit entry point: ``streamlit run app.py``.

Thin on purpose: it only declares the pages; each page calls the engine in ``gridplan``.
"""

from pathlib import Path

import streamlit as st

from gridplan.maps import publish_assets

st.set_page_config(page_title="gridplan", page_icon="🗺️", layout="wide")
publish_assets(Path(__file__).parent / "static")  # local Leaflet for offline maps

pages = [
    st.Page("ui/data_page.py", title="Data", icon="🗂️", default=True),
]
st.navigation(pages).run()
