"""PairCal: calibration drills for people who judge AI responses.

This file is only the router; every page lives in ``views/``. Which pages the
menu lists depends on who is signed in, and each page checks again on the
server. Run with ``streamlit run app.py``.
"""

import streamlit as st

from pairs.markdown import escape_markdown
from views.common import current_user, sign_out

st.set_page_config(page_title="PairCal", page_icon="⚖️", layout="wide")

user = current_user()
if user is None:
    pages = [st.Page("views/signin.py", title="Sign in", icon=":material/login:", default=True)]
else:
    pages = [
        st.Page("views/drill.py", title="Drill", icon=":material/fitness_center:", default=True),
        st.Page("views/report.py", title="My report", icon=":material/insights:"),
        st.Page("views/leaderboard.py", title="Leaderboard", icon=":material/leaderboard:"),
    ]
    if user.is_lead:  # the pages check the role again themselves
        pages += [
            st.Page("views/lead.py", title="Lead console", icon=":material/admin_panel_settings:"),
            st.Page("views/bank.py", title="Pair bank", icon=":material/library_books:"),
        ]
    with st.sidebar:
        role = " · lead" if user.is_lead else ""
        st.markdown(f"**{escape_markdown(user.name)}** · {escape_markdown(user.cohort)}{role}")
        if st.button("Sign out", key="sign_out"):
            sign_out()
            st.rerun()
st.navigation(pages).run()
