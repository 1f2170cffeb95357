"""Engine parameter names in messages become the app's field labels, per language."""

from __future__ import annotations

import pytest

from ui.state import in_app_words


@pytest.mark.parametrize(
    ("language", "label"), [("en", "Grids stay inside districts"), ("zh", "网格不跨行政区")]
)
def test_parameters_become_field_labels(language, label):
    import streamlit as st

    st.session_state["lang"] = language  # the sidebar's language switch
    text = in_app_words("allow crossing districts (respect_districts=False), or time_limit 30")
    assert "respect_districts" not in text and "time_limit" not in text
    assert f"“{label}”" in text
    assert in_app_words("no parameter here") == "no parameter here"
