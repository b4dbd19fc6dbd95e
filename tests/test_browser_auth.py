"""Signing in and out in a real browser (Debian's Chromium through Playwright) against ``streamlit run
serve.py``: no session token in the address bar, the cookie survives a reload and a new tab and
goes at sign-out; single sign-on through a local OpenID Connect provider (``oidc-provider-mock``
on 127.0.0.1); the security headers on what the server sends.

Skips when Chromium or Playwright is missing, unless ``PAIRCAL_REQUIRE_BROWSER=1`` (set by ``.ci/run``).
"""

from __future__ import annotations

import re
import secrets
import threading
import urllib.request
from contextlib import contextmanager

import pytest

from bench._server import CHROMIUM, CHROMIUM_ARGS, Server
from tests.test_browser import _require_browser

pytestmark = [pytest.mark.browser, pytest.mark.slow]
COOKIE = "paircal_session"


@pytest.fixture
def launch(tmp_path):
    """Start ``streamlit run serve.py`` servers on a fresh SQLite database; all are stopped at the end."""
    _require_browser()
    started: list[Server] = []

    def start(*args: str, now: bool = True) -> Server:
        log = tmp_path / f"server-{len(started)}.log"
        server = Server(f"sqlite:///{tmp_path / 'paircal.db'}", log, *args, script="serve.py")
        started.append(server)
        return server.start() if now else server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


def _store(server: Server):
    from storage.store import Store

    store = Store(server.db)
    store.ensure_starter_bank()
    return store


def _signed_in(page) -> None:
    page.get_by_role("button", name="Sign out").wait_for(timeout=30_000)


def _signed_out(page) -> None:
    page.get_by_role("tab", name="Sign in").wait_for(timeout=30_000)


def _session_cookies(context) -> list[dict]:
    return [c for c in context.cookies() if c["name"] == COOKIE]


def _cookie_gone(page, name: str = COOKIE) -> None:
    """Wait (at most 30 s) until the browser has dropped the cookie ``name`` (as /paircal/sign-out does)."""
    for _ in range(300):
        if not [c for c in page.context.cookies() if c["name"] == name]:
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"the cookie {name} is still there")


def _no_token_in(url: str, *tokens: str) -> None:
    assert "?s=" not in url and "once=" not in url and "token" not in url, url
    for token in tokens:
        assert token not in url


def test_password_sign_in_keeps_the_token_out_of_the_address_bar(launch, browser):
    from training import accounts, onboarding

    server = launch()
    store = _store(server)
    _, invite = accounts.create_cohort(store, "e2e", "lead", "lead-password")
    dana = accounts.join_cohort(store, invite, "dana", "dana-password")
    onboarding.finish(store, dana.id)  # she has been through onboarding: the drill is her first page

    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.goto(server.url)
    page.get_by_role("tab", name="Sign in").click()
    page.get_by_label("Cohort", exact=True).fill("e2e")
    page.get_by_label("Your name", exact=True).fill("dana")
    page.get_by_label("Password", exact=True).fill("dana-password")
    page.get_by_role("button", name="Sign in", exact=True).click()
    _signed_in(page)
    page.get_by_text("Pair 1 of 10").wait_for(timeout=30_000)

    [cookie] = _session_cookies(context)
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and cookie["path"] == "/"
    assert cookie["expires"] > 0  # it outlives the browser, like the 30-day session
    assert accounts.resolve_session(store, cookie["value"]) == dana
    _no_token_in(page.url, cookie["value"])
    assert page.url.rstrip("/") == server.url
    assert page.evaluate("document.cookie").find(COOKIE) == -1  # no script can read it

    page.reload()
    _signed_in(page)
    page.get_by_text("Pair 1 of 10").wait_for(timeout=30_000)
    _no_token_in(page.url, cookie["value"])

    other_tab = context.new_page()
    other_tab.goto(server.url)
    _signed_in(other_tab)
    other_tab.close()

    page.get_by_role("button", name="Sign out").click()
    _cookie_gone(page)
    _signed_out(page)
    assert accounts.resolve_session(store, cookie["value"]) is None  # ended in the database too
    page.reload()
    _signed_out(page)
    assert page.get_by_role("button", name="Sign out").count() == 0

    # A wrong password leaves no cookie and says so.
    page.get_by_role("tab", name="Sign in").click()
    page.get_by_label("Cohort", exact=True).fill("e2e")
    page.get_by_label("Your name", exact=True).fill("dana")
    page.get_by_label("Password", exact=True).fill("not-the-password")
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.get_by_text("Wrong cohort, name or password.").wait_for(timeout=30_000)
    assert _session_cookies(context) == []
    assert "Traceback" not in server.log and "dana-password" not in server.log


def test_an_old_token_address_signs_nobody_in_and_the_token_ends(launch, browser):
    from training import accounts

    server = launch()
    store = _store(server)
    lead, _ = accounts.create_cohort(store, "old", "lead", "lead-password")
    token = accounts.start_session(store, lead.id)
    page = browser.new_page()
    page.goto(f"{server.url}/?s={token}")
    _signed_out(page)
    page.wait_for_function("!location.search.includes('s=')", timeout=30_000)
    assert accounts.resolve_session(store, token) is None


def test_a_one_time_address_signs_in_once(launch, browser):
    from bench._server import sign_in_path
    from training import accounts

    server = launch()
    store = _store(server)
    lead, _ = accounts.create_cohort(store, "once", "lead", "lead-password")
    path = sign_in_path(store, lead.id)
    first = browser.new_context()
    page = first.new_page()
    page.goto(server.url + path)
    _signed_in(page)
    _no_token_in(page.url)
    later = browser.new_context().new_page()  # the same address again, in another browser
    later.goto(server.url + path)
    _signed_out(later)


def test_the_server_sends_the_security_headers(launch):
    server = launch()
    for path in ("/", "/drill", "/paircal/session?once=nothing", "/_stcore/health"):
        with urllib.request.urlopen(server.url + path) as response:  # redirects followed
            headers = response.headers
        assert headers["Referrer-Policy"] == "no-referrer", path
        csp = headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in csp and "default-src 'self'" in csp, path
        assert "'unsafe-eval'" not in csp and "script-src 'self' 'sha256-" in csp
        assert headers["X-Frame-Options"] == "DENY" and headers["X-Content-Type-Options"] == "nosniff"


# -- single sign-on ------------------------------------------------------------------------------


@contextmanager
def _identity_provider():
    """oidc-provider-mock on 127.0.0.1 (a free port), in a thread; its base URL."""
    import werkzeug.serving
    from oidc_provider_mock import app

    server = werkzeug.serving.make_server("127.0.0.1", 0, app(require_nonce=True), threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


def _secrets(tmp_path, app_url: str, idp: str):
    path = tmp_path / "secrets.toml"
    path.write_text(
        "[auth]\n"
        f'redirect_uri = "{app_url}/oauth2callback"\n'
        f'cookie_secret = "{secrets.token_urlsafe(32)}"\n'
        "[auth.Acme]\n"
        'client_id = "paircal"\n'
        f'client_secret = "{secrets.token_urlsafe(16)}"\n'
        f'server_metadata_url = "{idp}/.well-known/openid-configuration"\n'
    )
    return path


def _provider_login(page, subject: str) -> None:
    """The mock's authorization form: type a subject, press Authorize."""
    page.locator("input[name=sub]").wait_for(timeout=30_000)
    page.locator("input[name=sub]").fill(subject)
    page.get_by_role("button", name="Authorize").click()


@pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore:authlib.jose module is deprecated")
def test_single_sign_on_joins_with_an_invite_then_signs_straight_in(tmp_path, launch, browser):
    from training import accounts, identity

    with _identity_provider() as idp:
        started = launch(now=False)  # its port is known before it starts: the secrets name it
        app_url = started.url
        started.args = ("--secrets.files", str(_secrets(tmp_path, app_url, idp)))
        store = _store(started.start())
        _, invite = accounts.create_cohort(store, "sso", "lead", "lead-password")

        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        page = context.new_page()
        page.goto(app_url)
        page.get_by_role("button", name="Sign in with Acme").click()
        _provider_login(page, "kim-0001")
        page.get_by_text(identity.NOT_LINKED).wait_for(timeout=30_000)
        page.get_by_label("Invite code", exact=True).fill(invite)
        page.get_by_label("Display name", exact=True).fill("kim")
        page.get_by_role("button", name="Join", exact=True).click()
        _signed_in(page)
        page.get_by_role("heading", name="How to rate").wait_for(timeout=30_000)  # a new rater's first page
        _no_token_in(page.url)
        assert page.url.startswith(app_url) and "oauth2callback" not in page.url
        [cookie] = _session_cookies(context)
        kim = accounts.resolve_session(store, cookie["value"])
        assert (kim.name, kim.cohort) == ("kim", "sso")
        assert identity.rater_for(store, idp, "kim-0001") == kim  # linked by issuer and subject

        page.reload()
        _signed_in(page)

        page.get_by_role("button", name="Sign out").click()  # then the provider's own sign-out page
        _cookie_gone(page)
        _cookie_gone(page, "_streamlit_user")  # Streamlit's /auth/logout forgot the identity too
        page.wait_for_url(lambda url: "/auth/logout" not in url, timeout=30_000)
        page.goto(app_url)
        _signed_out(page)

        # Signing in at the provider again lands straight in the linked account.
        page.get_by_role("button", name="Sign in with Acme").click()
        _provider_login(page, "kim-0001")
        _signed_in(page)
        [again] = _session_cookies(context)
        assert accounts.resolve_session(store, again["value"]) == kim

        # Another identity without an invite code gets nowhere but the message.
        stranger = browser.new_context().new_page()
        stranger.goto(app_url)
        stranger.get_by_role("button", name="Sign in with Acme").click()
        _provider_login(stranger, "stranger-0002")
        stranger.get_by_text(identity.NOT_LINKED).wait_for(timeout=30_000)
        stranger.get_by_role("button", name="Join", exact=True).click()
        stranger.get_by_text("That invite code is not valid.").wait_for(timeout=30_000)
        assert stranger.get_by_role("button", name="Sign out").count() == 0
        assert identity.rater_for(store, idp, "stranger-0002") is None
    assert "Traceback" not in started.log
    assert not re.search(r"client_secret\s*=", started.log)
