"""gridplan — Streamlit entry point: ``streamlit run app.py``.

Thin on purpose: it declares the pages and the sidebar shared by all (language, undo/redo,
workspace); each page calls the engine in ``gridplan``.

Everything runs under ``if __name__ == "__main__"`` (Streamlit runs this file as
``__main__``): the partition's worker processes import the main script as
``__mp_main__`` when they start, and must not run the app themselves.
"""

from pathlib import Path


def main() -> None:
    """Declare the pages and the shared sidebar, then run the chosen page."""
    import streamlit as st

    from gridplan.maps import publish_assets, publish_draw_assets
    from ui.i18n import language_switch, t
    from ui.state import engine_pool, undo_redo, workspace_panel

    st.set_page_config(page_title="gridplan", page_icon="🗺️", layout="wide")
    publish_assets(Path(__file__).parent / "static")  # local Leaflet for offline maps
    publish_draw_assets(Path(__file__).parent / "static")  # local Leaflet.draw (if installed)

    engine_pool()  # the partition's worker processes start while the planner loads data
    language_switch()
    pages = [
        st.Page(path, title=t(key), icon=icon, url_path=url, default=i == 0)
        for i, (path, key, icon, url) in enumerate(PAGES)
    ]
    page = st.navigation(pages)
    undo_redo()
    workspace_panel()
    page.run()


PAGES = (  # file, title key, icon, url path
    ("ui/data_page.py", "page.data", ":material/database:", "data"),
    ("ui/grids_page.py", "page.grids", ":material/grid_view:", "grids"),
    ("ui/territories_page.py", "page.territories", ":material/groups:", "territories"),
    ("ui/targets_page.py", "page.targets", ":material/flag:", "targets"),
    ("ui/compare_page.py", "page.compare", ":material/compare_arrows:", "compare"),
    ("ui/export_page.py", "page.export", ":material/download:", "export"),
)

if __name__ == "__main__":
    main()
