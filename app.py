"""PairCal: calibration drills for people who judge AI responses.

This file is only the router; every page lives in ``views/``. Which pages the
menu lists depends on who is signed in, and each page checks again on the
server. Run with ``streamlit run serve.py``, which serves this router with the
session cookie's routes and the security headers (``views/web.py``).
"""

import streamlit as st

from storage.engine import DatabaseUnavailable
from training import onboarding
from views.common import ONBOARDED, OUTAGE, current_user, form_due, get_store, sign_out
from views.rich_text import install_styles, show_literal

st.set_page_config(page_title="PairCal", page_icon="⚖️", layout="wide")

try:
    user = current_user()
    if user is None:
        pages = [st.Page("views/signin.py", title="Sign in", icon=":material/login:", default=True)]
    else:
        lead = user.is_lead  # a lead lands on the lead console, a rater on the drill
        # A rater who has not finished onboarding lands on it, and the drill sends them there too.
        # Finishing is kept in the database; this tab only remembers that it has read it.
        new = not lead and st.session_state.get(ONBOARDED) != user.id
        if new and not onboarding.needs_onboarding(get_store(), user.id, is_lead=False):
            st.session_state[ONBOARDED] = user.id
            new = False
        guide = st.Page("views/onboarding.py", title="How to rate", icon=":material/school:", default=new)
        drill = st.Page(
            "views/drill.py", title="Drill", icon=":material/fitness_center:", default=not (lead or new)
        )
        # A form due (the baseline before the first drill, a post or retention form later) comes before
        # the drill; the form and its deadline are in the database.
        assessment = st.Page("views/assessment.py", title="Assessment", icon=":material/quiz:")
        pages = [
            drill,
            assessment,
            st.Page("views/report.py", title="My report", icon=":material/insights:"),
            st.Page("views/review.py", title="Review", icon=":material/history:"),
            st.Page("views/leaderboard.py", title="Leaderboard", icon=":material/leaderboard:"),
            guide,
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
    page = st.navigation(pages)
    if user is not None and new and page is drill:  # the drill waits until onboarding is done
        st.switch_page(guide)
    if user is not None and not user.is_lead and page is drill and form_due(user.id):
        st.switch_page(assessment)
    install_styles()  # the style sheet of every block of pair text, once for the whole page
    page.run()
except DatabaseUnavailable:
    st.error(OUTAGE)
