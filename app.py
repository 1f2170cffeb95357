"""gridplan — Streamlit entry point: ``streamlit run app.py``.

Thin on purpose: it only declares the pages; each page calls the engine in ``gridplan``.
"""

import streamlit as st

st.set_page_config(page_title="gridplan", page_icon="🗺️", layout="wide")

pages = [
    st.Page("ui/data_page.py", title="Data", icon="🗂️", default=True),
]
st.navigation(pages).run()
