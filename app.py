"""gridplan — Streamlit entry point: ``streamlit run app.py``.

Thin on purpose: it declares the pages and the sidebar shared by all (language, undo/redo,
workspace); each page calls the engine in ``gridplan``.
"""

from pathlib import Path

import streamlit as st

from gridplan.maps import publish_assets
from ui.i18n import language_switch, t
from ui.state import undo_redo, workspace_panel

st.set_page_config(page_title="gridplan", page_icon="🗺️", layout="wide")
publish_assets(Path(__file__).parent / "static")  # local Leaflet for offline maps

language_switch()
pages = [
    st.Page("ui/data_page.py", title=t("page.data"), icon="🗂️", default=True, url_path="data"),
    st.Page("ui/grids_page.py", title=t("page.grids"), icon="🧩", url_path="grids"),
    st.Page(
        "ui/territories_page.py", title=t("page.territories"), icon="👥", url_path="territories"
    ),
    st.Page("ui/compare_page.py", title=t("page.compare"), icon="⚖️", url_path="compare"),
    st.Page("ui/export_page.py", title=t("page.export"), icon="📦", url_path="export"),
]
page = st.navigation(pages)
undo_redo()
workspace_panel()
page.run()
