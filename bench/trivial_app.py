"""The floor for bench/bench_drill.py: a one-button Streamlit app.

A click reruns the script once and shows a line of text that differs each time
(``Clicked N times``), so the benchmark can tell the new text from the old.
Nothing else: no database, no data, no imports beyond Streamlit. Run by the
benchmark with ``streamlit run bench/trivial_app.py``.
"""

import streamlit as st

st.session_state.setdefault("clicks", 0)
if st.button("Click me", key="click"):
    st.session_state["clicks"] += 1
    st.write(f"Clicked {st.session_state['clicks']} times")
