"""PairCal: calibration drills for people who judge AI responses.

This file is only the router; every page lives in ``views/``. Which pages the
menu lists depends on who is signed in, and each page checks again on the
server. Run with ``streamlit run serve.py``, which serves this router with the
session cookie's routes and the security headers (``views/web.py``).
"""

import streamlit as st

from storage.engine import DatabaseUnavailable
from views.common import current_user, sign_out
from views.rich_text import show_literal

OUTAGE = (
    "PairCal cannot reach its database right now, so nothing can be saved or shown. If you had just "
    "submitted an answer, it was not saved: submit it again once this page loads normally. Reload the "
    "page in a minute; nothing else is lost."
)

st.set_page_config(page_title="PairCal", page_icon="⚖️", layout="wide")

try:
    user = current_user()
    if user is None:
        pages = [st.Page("views/signin.py", title="Sign in", icon=":material/login:", default=True)]
    else:
        lead = user.is_lead  # a lead lands on the lead console, a rater on the drill
        pages = [
            st.Page("views/drill.py", title="Drill", icon=":material/fitness_center:", default=not lead),
            st.Page("views/report.py", title="My report", icon=":material/insights:"),
            st.Page("views/review.py", title="Review", icon=":material/history:"),
            st.Page("views/leaderboard.py", title="Leaderboard", icon=":material/leaderboard:"),
        ]
        if user.is_lead:  # the pages check the role again themselves
            console_icon = ":material/admin_panel_settings:"
            pages += [
                st.Page("views/lead.py", title="Lead console", icon=console_icon, default=True),
                st.Page("views/bank.py", title="Pair bank", icon=":material/library_books:"),
            ]
        with st.sidebar:
            role = " · lead" if user.is_lead else ""
            show_literal(f"· {user.cohort}{role}", label=user.name)  # names as written, no Markdown
            if st.button("Sign out", key="sign_out"):
                sign_out()
                st.rerun()
    st.navigation(pages).run()
except DatabaseUnavailable:
    st.error(OUTAGE)
