"""Single sign-on on the sign-in page: "Sign in with ..." buttons, and linking a new identity to a rater.

Shown only when the server's secrets configure Streamlit's ``st.login``
(an ``[auth]`` section, see README "Single sign-on"). Which rater an identity
is, and how the first sign-in links it, is :mod:`training.identity`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import streamlit as st

from pairs.markdown import escape_markdown
from storage.store import Store
from training import identity
from training.accounts import AccountError
from views.common import sign_in

_PROVIDER_KEYS = ("client_id", "client_secret", "server_metadata_url")


def providers() -> list[str]:
    """The providers ``st.login`` can use: each ``[auth.NAME]``, or ``"default"`` for a bare ``[auth]``.

    Empty when the server has no secrets or no ``[auth]`` section with a
    ``redirect_uri`` and a ``cookie_secret``.
    """
    try:
        auth = st.secrets.get("auth")
    except FileNotFoundError:  # no secrets file at all
        return []
    if not isinstance(auth, Mapping) or not {"redirect_uri", "cookie_secret"} <= set(auth):
        return []
    named = [
        str(name)
        for name, section in auth.items()
        if isinstance(section, Mapping) and all(k in section for k in _PROVIDER_KEYS)
    ]
    if named:
        return named
    return ["default"] if all(k in auth for k in _PROVIDER_KEYS) else []


def label(provider: str) -> str:
    """The button's text for a provider.

    Examples
    --------
    >>> label("Okta"), label("default")
    ('Sign in with Okta', 'Sign in with single sign-on')
    """
    return "Sign in with single sign-on" if provider == "default" else f"Sign in with {provider}"


def _claims() -> tuple[str, str, str]:
    user: Any = st.user
    return str(user.get("iss") or ""), str(user.get("sub") or ""), str(user.get("name") or "")


def offer(store: Store) -> None:
    """The single sign-on part of the sign-in page (nothing when it is not configured).

    Signed out at the provider: one button per provider. Signed in there: the
    linked rater is signed in; an identity linked to nobody gets the forms
    that link it (an invite code, or an existing account's password), and the
    rest of the sign-in page is not drawn.
    """
    names = providers()
    if not names:
        return
    if not st.user.get("is_logged_in"):
        for name in names:
            if st.button(label(name), key=f"sso_{name}", icon=":material/badge:"):
                st.login(name)
        st.divider()
        return

    issuer, subject, claimed_name = _claims()
    try:
        rater = identity.rater_for(store, issuer, subject)
    except AccountError as exc:
        st.error(str(exc))
        _other_account()
        st.stop()
    if rater is not None:
        try:
            sign_in(rater)
        except AccountError as exc:  # the rater cannot sign in any more
            st.error(str(exc))
            _other_account()
            st.stop()
        st.rerun()

    st.subheader(f"Welcome, {escape_markdown(claimed_name)}" if claimed_name else "Welcome")
    st.info(identity.NOT_LINKED)
    join, link = st.tabs(["Join with an invite code", "I have a PairCal account"])
    with join, st.form("sso_join_form"):
        code = st.text_input("Invite code", key="sso_join_code")
        name = st.text_input("Display name", value=claimed_name[:60], key="sso_join_name", max_chars=60)
        if st.form_submit_button("Join", type="primary"):
            _finish(lambda: identity.join_with_identity(store, issuer, subject, code.strip(), name.strip()))
    with link, st.form("sso_link_form"):
        cohort = st.text_input("Cohort", key="sso_link_cohort")
        name = st.text_input("Your name", key="sso_link_name")
        password = st.text_input("Password", type="password", key="sso_link_password")
        if st.form_submit_button("Link and sign in", type="primary"):
            _finish(
                lambda: identity.link_with_password(
                    store, issuer, subject, cohort.strip(), name.strip(), password
                )
            )
    _other_account()
    st.stop()


def _finish(link: Any) -> None:
    try:
        rater = link()
        sign_in(rater)
    except AccountError as exc:
        st.error(str(exc))
    else:
        st.rerun()


def _other_account() -> None:
    if st.button("Use another account", key="sso_logout"):
        st.logout()
