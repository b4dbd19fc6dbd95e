"""What every page shares: the store, the signed-in user, the bank and one rater's cached judgments.

Session-state keys are named here, once. Everything a user does is written to
the database at once; session state holds only what the page is showing, so a
reload or a second server loses nothing.

Signing in survives a reload and opens in a new tab: the session token
(random, stored hashed in the ``sessions`` table, 30 days) is kept in an
HttpOnly cookie that :mod:`views.web` sets, and never in the address bar. A
page that signs someone in hands the browser a one-time token to redeem for
that cookie (:func:`sign_in`); each run reads the cookie with
``st.context.cookies`` and checks it against the database. ``Sign out`` ends
the session in the database and sends the browser to clear the cookie. An old
address with a session token in it (``?s=``, before the cookie) signs nobody
in: the token is ended and removed from the address.
"""

from __future__ import annotations

import gc
import sys
import time

import pandas as pd
import streamlit as st

from storage.store import Store
from training import accounts, assessments
from views import web

TOKEN = "paircal_token"
"""Session-state key of a session token set on the server (as tests do); a browser's is in the cookie."""
GO = "paircal_go"
"""Session-state key: an address of this server the browser must go to next (to sign in or out)."""
REVEAL = "paircal_reveal"
"""Session-state key: (drill key, position) whose feedback the drill page is showing."""
CHOSEN = "paircal_chosen"
"""Session-state key: the drill item on screen with the answer and confidence chosen, not yet submitted."""
ONBOARDED = "paircal_onboarded"
"""Session-state key: the id of the rater this tab found onboarded in the database (it stays so)."""
FLASH = "paircal_flash"
"""Session-state key: a one-line message to show after the next rerun."""
OLD_URL_PARAM = "s"
"""The query parameter that held the session token before the cookie."""
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


OUTAGE = (
    "PairCal cannot reach its database right now, so nothing can be saved or shown. If you had just "
    "submitted an answer, it was not saved: submit it again once this page loads normally. Reload the "
    "page in a minute; nothing else is lost."
)
"""What every page says while the database is out of reach (the router catches it; a fragment,
which reruns without the router, says it itself)."""


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
    if OLD_URL_PARAM in st.query_params:
        _end_token_from_address()
    token = st.session_state.get(TOKEN) or st.context.cookies.get(web.COOKIE)
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
    return user


def _end_token_from_address() -> None:
    """A session token in the address (``?s=``, as PairCal kept it before the cookie) has been in
    the browser's history and bookmarks: end that session and take it out of the address."""
    old = st.query_params.get(OLD_URL_PARAM)
    del st.query_params[OLD_URL_PARAM]
    if old:
        accounts.end_session(get_store(), old)


def sign_in(user: accounts.Rater) -> None:
    """Sign ``user`` in: on the next run the browser redeems a one-time token for the session cookie.

    Call ``st.rerun()`` next. Until the browser has been there, this tab is
    not signed in (the sign-in page shows that it is signing in).
    """
    once = accounts.start_sign_in_token(get_store(), user.id)
    st.session_state.pop(TOKEN, None)
    st.session_state[GO] = web.sign_in_address(once)


def sign_out() -> None:
    """End the session in the database, forget this tab's state, and have the browser clear the cookie.

    Call ``st.rerun()`` next: the sign-in page sends the browser to
    ``/paircal/sign-out``.
    """
    token = st.session_state.pop(TOKEN, None) or st.context.cookies.get(web.COOKIE)
    if token:
        accounts.end_session(get_store(), token)
    st.query_params.clear()
    st.session_state.clear()
    st.session_state[GO] = web.address(web.SIGN_OUT_PATH)


def follow_pending_address() -> bool:
    """Send the browser where :func:`sign_in` or :func:`sign_out` asked, if either did; whether one did.

    The page should stop drawing then (``st.stop()``): the browser is leaving.
    """
    target = st.session_state.pop(GO, None)
    if target is None:
        return False
    if not web.mounted():
        st.warning("This server cannot set the sign-in cookie: start PairCal with `streamlit run serve.py`.")
    st.caption("Signing out..." if target.endswith(web.SIGN_OUT_PATH) else "Signing you in...")
    web.go(target)
    return True


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


@st.cache_data(show_spinner=False, max_entries=32)
def load_bank(name: str, revision: int = 0) -> pd.DataFrame:
    """The pair bank ``name``, cached per server process (cleared when the lead imports a bank).

    Parameters
    ----------
    name : str
        Bank name.
    revision : int, default 0
        :meth:`storage.store.Store.bank_revision` when the caller needs the
        bank as it is now, in every server process (gold scores statistics);
        the drill, which shows only the texts and reads gold from the database,
        leaves it out.

    Returns
    -------
    DataFrame
        ``Store.load_bank(name)``.
    """
    return get_store().load_bank(name)


@st.cache_resource(show_spinner=False, max_entries=32)
def pair_texts(name: str) -> pd.DataFrame:
    """The bank ``name`` indexed by pair id, one frame shared by every run of this server: read only.

    The drill draws its pairs' texts from it on every click. :func:`load_bank`
    (``st.cache_data``) hands each run its own copy, unpickled from the cache,
    which costs more than drawing the page's answer; a resource is not copied.
    Cleared with :func:`load_bank` when a lead imports a bank; a drill that
    meets a pair it lacks (imported through another server) clears it itself.
    """
    return get_store().load_bank(name).set_index("id")


@st.cache_data(show_spinner=False, max_entries=256)
def rater_answers(cohort: str, bank: str, rater: str, version: tuple[int, ...]) -> pd.DataFrame:
    """Every answer of one rater on a bank, repeats included, in the judgments layout.

    The scores and the bias model count first answers only (:func:`rater_prepared`); the probes'
    swap figure compares a first answer with the answer to the same pair shown again with its
    sides swapped, which is a repeat. ``version`` as in :func:`rater_prepared`.
    """
    return get_store().cohort_judgments(cohort=cohort, bank=bank, names=[rater], repeats=True)


def rater_version(cohort: str, bank: str, rater: str) -> tuple[int, int, int]:
    """The version of one rater's judgments on a bank: changes with each of their new judgments.

    Parameters
    ----------
    cohort, bank, rater : str
        Cohort, bank and rater names.

    Returns
    -------
    tuple of int
        (judgments, newest judgment id, the bank's revision); (0, 0, revision)
        without judgments. The bank's revision changes when its gold is corrected.
    """
    store = get_store()
    found = store.rater_versions(cohort=cohort, bank=bank, names=[rater])
    mine = (int(found["n"].iloc[0]), int(found["version"].iloc[0])) if len(found) else (0, 0)
    return (*mine, store.bank_revision(bank))  # a corrected gold re-scores them too


@st.cache_data(show_spinner="Loading your judgments...", max_entries=256)
def rater_prepared(cohort: str, bank: str, rater: str, version: tuple[int, ...]) -> pd.DataFrame:
    """One rater's judgments on a bank, joined to gold and features; the rest of the cohort is not read.

    ``version`` (from :func:`rater_version`) is part of the cache key, so the
    rater's next judgment invalidates it and nobody else's does. (Streamlit
    leaves ``_``-prefixed arguments out of the key: this one must not have
    that prefix.) Cohort-wide data is cached rater by rater in
    :mod:`views.cohort_cache`.

    Parameters
    ----------
    cohort, bank, rater : str
        Cohort, bank and rater names.
    version : tuple of int
        :func:`rater_version` of the rater.

    Returns
    -------
    DataFrame
        The rater's rows of :func:`calibration.data.prepare`, oldest first.
    """
    from calibration.data import prepare

    judgments = get_store().cohort_judgments(cohort=cohort, bank=bank, names=[rater])
    return prepare(load_bank(bank, version[-1]), judgments)


#: Session key: (rater id, time) of the last check that found no assessment form due.
FORM_CHECK = "assessment_checked"
#: How long "no form due" is trusted before the database is asked again: the drill's own reruns
#: (each answer, each next pair) then cost no extra transaction, and a form the lead sets up
#: reaches a rater in the middle of a drill within a minute (the form itself is in the database).
FORM_CHECK_SECONDS = 60


def form_due(rater_id: int) -> bool:
    """Whether an assessment form is due for the rater (:func:`training.assessments.status`).

    A "due" answer is never cached: the router sends the rater to the form until it is taken.
    """
    checked = st.session_state.get(FORM_CHECK)
    if checked is not None and checked[0] == rater_id and time.monotonic() - checked[1] < FORM_CHECK_SECONDS:
        return False
    due = bool(assessments.status(get_store(), rater_id).due)
    if due:
        st.session_state.pop(FORM_CHECK, None)
    else:
        st.session_state[FORM_CHECK] = (rater_id, time.monotonic())
    return due
