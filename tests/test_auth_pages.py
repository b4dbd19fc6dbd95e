"""Signing in and out on the pages (AppTest): a one-time token handed to the browser, never a
session token in the address; an old ``?s=`` address signs nobody in; single sign-on buttons only
when the server's secrets configure them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from training import accounts
from views import sso
from views.common import GO, TOKEN

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")


@pytest.fixture
def env(app_store):
    store = app_store
    lead, invite = accounts.create_cohort(store, "alpha", "lena", "lead-password")
    rater = accounts.join_cohort(store, invite, "ravi", "rater-password")
    return store, lead, rater


def run(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, at.exception
    return at


def go_target(at: AppTest) -> str | None:
    """Where the page sends the browser (views.web.go), if anywhere."""
    found = [re.search(r'data-paircal-go="([^"]*)"', h.value) for h in at.html]
    found = [m.group(1).replace("&amp;", "&") for m in found if m]
    assert len(found) <= 1
    return found[0] if found else None


def sign_in_through_the_form(at: AppTest, password: str) -> AppTest:
    at.text_input(key="signin_cohort").input("alpha")
    at.text_input(key="signin_name").input("ravi")
    at.text_input(key="signin_password").input(password)
    [b for b in at.button if b.label == "Sign in"][0].click()
    return run(at)


def test_signing_in_hands_the_browser_a_one_time_token_not_a_session(env):
    store, _, rater = env
    at = sign_in_through_the_form(run(AppTest.from_file(APP, default_timeout=60)), "rater-password")
    target = go_target(at)
    assert target is not None and target.startswith("/paircal/session?once=")
    once = target.split("once=", 1)[1]
    assert accounts.resolve_session(store, once) is None  # not itself a session
    assert TOKEN not in at.session_state and GO not in at.session_state
    assert not [t for t in at.tabs if t.label == "Sign in"]  # the forms are not drawn meanwhile
    assert at.query_params == {} or "s" not in at.query_params
    token = accounts.redeem_sign_in_token(store, once)
    assert accounts.resolve_session(store, token) == rater
    assert accounts.redeem_sign_in_token(store, once) is None


def test_a_wrong_password_hands_over_nothing(env):
    at = sign_in_through_the_form(run(AppTest.from_file(APP, default_timeout=60)), "wrong-password")
    assert go_target(at) is None
    assert any("Wrong cohort, name or password." in e.value for e in at.error)


def test_sign_out_ends_the_session_and_sends_the_browser_to_clear_the_cookie(env):
    store, _, rater = env
    token = accounts.start_session(store, rater.id)
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state[TOKEN] = token
    run(at)
    at.sidebar.button(key="sign_out").click()
    run(at)
    assert go_target(at) == "/paircal/sign-out"
    assert accounts.resolve_session(store, token) is None
    run(at)  # the next run is signed out and sends the browser nowhere
    assert go_target(at) is None and [t.label for t in at.tabs][:2] in (
        ["Sign in", "Join a cohort"],
        ["Set up PairCal", "Sign in"],
    )


def test_an_old_token_address_is_ended_and_removed(env):
    store, _, rater = env
    token = accounts.start_session(store, rater.id)
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["s"] = token
    run(at)
    assert "s" not in at.query_params
    assert accounts.resolve_session(store, token) is None
    assert any(t.label == "Sign in" for t in at.tabs)  # nobody was signed in by it


def test_no_single_sign_on_button_without_an_auth_section(env):
    at = run(AppTest.from_file(APP, default_timeout=60))
    assert not [b for b in at.button if b.label.startswith("Sign in with")]


def test_a_configured_provider_gets_a_button(env):
    at = AppTest.from_file(APP, default_timeout=60)
    at.secrets["auth"] = {
        "redirect_uri": "http://localhost:8501/oauth2callback",
        "cookie_secret": "x" * 32,
        "Acme": {"client_id": "c", "client_secret": "s", "server_metadata_url": "http://idp.invalid/.wk"},
    }
    run(at)
    assert [b.label for b in at.button if b.label.startswith("Sign in with")] == ["Sign in with Acme"]


@pytest.mark.parametrize(
    ("auth", "expected"),
    [
        ({}, []),
        ({"redirect_uri": "r", "cookie_secret": "c"}, []),
        (
            {
                "redirect_uri": "r",
                "cookie_secret": "c",
                "client_id": "i",
                "client_secret": "s",
                "server_metadata_url": "m",
            },
            ["default"],
        ),
        (
            {
                "redirect_uri": "r",
                "cookie_secret": "c",
                "a": {"client_id": "i", "client_secret": "s", "server_metadata_url": "m"},
                "b": {"client_id": "i"},
            },
            ["a"],
        ),
        ({"client_id": "i", "client_secret": "s", "server_metadata_url": "m"}, []),  # no redirect_uri
    ],
)
def test_providers_are_read_from_the_auth_section(monkeypatch, auth, expected):
    monkeypatch.setattr(sso.st, "secrets", {"auth": auth})
    assert sso.providers() == expected
