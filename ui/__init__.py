"""Streamlit pages of the gridplan app: the only code that imports streamlit."""
