"""The Streamlit pages: one module per page, each a thin layer over ``pairs`` and ``calibration``."""
