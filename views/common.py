"""What every page shares: the store, the signed-in user, cached data, safe rendering.

Session-state keys are named here, once. Everything a user does is written to
the database at once; session state holds only the sign-in token and what the
page is showing, so a reload or a second server loses nothing.

Signing in survives a reload: the session token (random, stored hashed in the
database, 30 days) is kept in the page URL as ``?s=...``, because Streamlit has
no API to set a cookie. Anyone holding that URL is signed in as you: do not
share the address bar. ``Sign out`` ends the session in the database.
"""

from __future__ import annotations

import gc
import sys

import pandas as pd
import streamlit as st

from storage.store import Store
from training import accounts

TOKEN = "paircal_token"
"""Session-state key of the sign-in token (mirrored in the URL as ``?s=``)."""
REVEAL = "paircal_reveal"
"""Session-state key: (drill key, position) whose feedback the drill page is showing."""
FLASH = "paircal_flash"
"""Session-state key: a one-line message to show after the next rerun."""
URL_PARAM = "s"
_RUN_USER = "paircal_run_user"
"""Session-state key: (this run's marker, token, user) so one run resolves the session once."""


def _this_run() -> object | None:
    """An object that is the same for one script run (callbacks included) and new for the next.

    Streamlit gives each run a fresh ``cursors`` dict on its run context; holding
    it in the memo keeps it alive, so identity cannot be reused by a later run.
    """
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    return None if ctx is None else ctx.cursors


@st.cache_resource(show_spinner=False)
def get_store() -> Store:
    """One store (connection pool) per server process; the starter bank is loaded on first use."""
    store = Store()
    store.ensure_starter_bank()
    return store


_modules_frozen = 0


def freeze_imports() -> None:
    """Spare every run a walk of the imported libraries by the garbage collector.

    After each run of a page Streamlit calls ``gc.collect()`` (its option
    ``runner.postScriptGC``), which holds the interpreter lock while it walks
    every object alive; the run's last messages wait for it to finish. With
    pandas, SQLAlchemy and Streamlit loaded that is about 110,000 objects, all
    of them modules, functions and classes that live as long as the process:
    40 ms a run on an idle core, twice that on a busy one, and more once a
    report page has loaded Altair. So whenever pages have imported modules
    since the last time, everything alive is collected once and then frozen
    (``gc.freeze``): later collections walk only what runs create.

    Frozen objects are still freed when their last reference goes; only a
    reference cycle among them would never be collected, and they are frozen
    only when new modules appear, a few times in a server's life.
    """
    global _modules_frozen
    if len(sys.modules) != _modules_frozen:
        _modules_frozen = len(sys.modules)
        gc.collect()
        gc.freeze()


def current_user() -> accounts.Rater | None:
    """The signed-in rater, checked against the database once per run (never trusted from the browser).

    A run here is one script run with its callbacks: the router, the page and a
    button's callback all ask, and only the first asks the database.
    """
    freeze_imports()  # current_user() starts every run of the app (app.py)
    token = st.session_state.get(TOKEN) or st.query_params.get(URL_PARAM)
    if not token:
        return None
    run = _this_run()
    memo = st.session_state.get(_RUN_USER)
    if run is not None and memo is not None and memo[0] is run and memo[1] == token:
        return memo[2]
    user = accounts.resolve_session(get_store(), token)
    if run is not None:
        st.session_state[_RUN_USER] = (run, token, user)
    if user is None:
        st.session_state.pop(TOKEN, None)
        if URL_PARAM in st.query_params:
            del st.query_params[URL_PARAM]
        return None
    st.session_state[TOKEN] = token
    if st.query_params.get(URL_PARAM) != token:
        st.query_params[URL_PARAM] = token  # navigation clears query params; put it back for reloads
    return user


def sign_in(user: accounts.Rater) -> None:
    token = accounts.start_session(get_store(), user.id)
    st.session_state[TOKEN] = token
    st.query_params[URL_PARAM] = token


def sign_out() -> None:
    token = st.session_state.pop(TOKEN, None) or st.query_params.get(URL_PARAM)
    if token:
        accounts.end_session(get_store(), token)
    st.query_params.clear()
    st.session_state.clear()


def require_user() -> accounts.Rater:
    """The signed-in user, or stop the page with a message."""
    user = current_user()
    if user is None:
        st.warning("Please sign in first.")
        st.stop()
    return user


def require_lead() -> accounts.Rater:
    """The signed-in lead; anyone else is refused here, on the server, whatever the menu shows."""
    user = require_user()
    if not user.is_lead:
        st.error("The lead console is for cohort leads only.")
        st.stop()
    return user


def judgments_version(cohort: str) -> tuple[int, int]:
    """Changes whenever a judgment is added: the cache key of the cohort's data."""
    return get_store().judgments_version(cohort=cohort)


@st.cache_data(show_spinner=False, max_entries=32)
def load_bank(name: str) -> pd.DataFrame:
    return get_store().load_bank(name)


@st.cache_data(show_spinner="Loading judgments...", max_entries=32)
def cohort_prepared(cohort: str, bank: str, version: tuple[int, int]) -> pd.DataFrame:
    """The cohort's judgments on a bank, joined to gold and features.

    ``version`` (from :func:`judgments_version`) is part of the cache key, so a
    new judgment invalidates it. (Streamlit leaves ``_``-prefixed arguments out
    of the key: this one must not have that prefix.)
    """
    from calibration.data import prepare

    judgments = get_store().export_judgments(bank=bank, cohort=cohort)
    return prepare(load_bank(bank), judgments)
