"""PairCal: calibration drills for people who judge AI responses.

This file is only the router; every page lives in ``views/``.
Run with ``streamlit run app.py``.
"""

import streamlit as st

st.set_page_config(page_title="PairCal", page_icon="⚖️", layout="wide")

pages = [
    st.Page("views/bank.py", title="Pair bank", icon=":material/library_books:", default=True),
]
st.navigation(pages).run()
