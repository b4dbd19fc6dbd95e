"""Sign in, or join a cohort with an invite code; on a fresh server, set up the first cohort.

Creating a cohort is the server admin's (the lead console) or the server
operator's (``python -m pairs cohort create NAME``). Only while the database
holds no account at all does this page offer it, and the first lead becomes
the admin. Visitors see no bank names.
"""

from __future__ import annotations

import streamlit as st

from training import accounts
from views import sso
from views.common import follow_pending_address, get_store, sign_in

if follow_pending_address():  # signing in or out: the browser is on its way to set or clear the cookie
    st.stop()
store = get_store()
st.title("PairCal")
st.caption(
    "Daily calibration drills for people who judge AI responses: learn when length, polish or "
    "position sway you, and whether your confidence is right."
)

sso.offer(store)  # "Sign in with ..." when the server's secrets set up single sign-on
first_run = not accounts.server_has_accounts(store)
invited = "Join a cohort" if st.query_params.get("invite") else None  # a join link opens the Join tab
if first_run:
    create, signin, join = st.tabs(["Set up PairCal", "Sign in", "Join a cohort"], default=invited)
else:
    signin, join = st.tabs(["Sign in", "Join a cohort"], default=invited)

with signin:
    with st.form("signin_form"):
        cohort = st.text_input("Cohort", key="signin_cohort")
        name = st.text_input("Your name", key="signin_name")
        password = st.text_input("Password", type="password", key="signin_password")
        if st.form_submit_button("Sign in", type="primary"):
            try:
                user = accounts.login(store, cohort.strip(), name.strip(), password)
            except accounts.AccountError as exc:
                st.error(str(exc))
            else:
                sign_in(user)
                st.rerun()

with join:
    st.write(
        "Your cohort lead gives you an invite code; a new cohort's lead gets a one-time lead invite "
        "from the server's admin. Either goes here."
    )
    with st.form("join_form"):
        code = st.text_input(
            "Invite code", value=st.query_params.get("invite", "")[:64], key="join_code"
        )  # a join link (?invite=CODE) fills it in
        name = st.text_input("Display name", key="join_name", max_chars=60)
        password = st.text_input("Password (at least 8 characters)", type="password", key="join_password")
        again = st.text_input("Password again", type="password", key="join_password2")
        if st.form_submit_button("Join", type="primary"):
            if password != again:
                st.error("The two passwords differ.")
            else:
                try:
                    user = accounts.join_cohort(store, code.strip(), name.strip(), password)
                except accounts.AccountError as exc:
                    st.error(str(exc))
                else:
                    sign_in(user)
                    st.rerun()

if first_run:
    with create:
        st.write(
            "Nobody has an account on this server yet. Create the first cohort: you become its lead and "
            "the server's admin, who creates further cohorts and invites their leads. Drills start on the "
            "built-in starter bank; you can import your own banks in the lead console."
        )
        with st.form("create_form"):
            cohort = st.text_input("Cohort name", key="create_cohort", max_chars=60)
            name = st.text_input("Your name (lead)", key="create_name", max_chars=60)
            password = st.text_input(
                "Password (at least 8 characters)", type="password", key="create_password"
            )
            if st.form_submit_button("Create cohort", type="primary"):
                try:
                    user, invite = accounts.create_cohort(store, cohort.strip(), name.strip(), password)
                except accounts.AccountError as exc:
                    st.error(str(exc))
                else:
                    sign_in(user)
                    st.rerun()
