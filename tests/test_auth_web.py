"""The web server's additions (views/web.py) without a browser: the session cookie's two addresses
and the security headers, through Starlette's test client, on SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import pytest
import streamlit
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from storage.store import Store
from training import accounts
from views import web


@pytest.fixture
def store(db_url, monkeypatch):
    s = Store(db_url)
    s.ensure_starter_bank()
    monkeypatch.setattr(web, "_store", lambda: s)
    yield s
    s.engine.dispose()


@pytest.fixture
def rater(store):
    lead, _ = accounts.create_cohort(store, "alpha", "lena", "lead-password")
    return lead


def client(base_url: str = "http://testserver") -> TestClient:
    """The routes and middleware as serve.py mounts them, beside a stand-in for Streamlit's pages."""
    page = Route("/", lambda request: PlainTextResponse("the app"))
    app = Starlette(routes=[*web.routes(), page], middleware=web.middleware())
    return TestClient(app, base_url=base_url, follow_redirects=False)


def cookie_header(response) -> str:
    [header] = [v for k, v in response.headers.multi_items() if k == "set-cookie"]
    return header


def test_a_one_time_token_becomes_an_httponly_strict_cookie_and_a_redirect(store, rater):
    once = accounts.start_sign_in_token(store, rater.id)
    response = client().get(f"/paircal/session?once={once}")
    assert response.status_code == 303 and response.headers["location"] == "/"
    assert response.headers["cache-control"] == "no-store"
    header = cookie_header(response)
    token = header.split(";")[0].removeprefix("paircal_session=")
    assert accounts.resolve_session(store, token) == rater
    attributes = {part.strip().lower() for part in header.split(";")[1:]}
    assert {"httponly", "path=/", "samesite=strict", f"max-age={30 * 86400}"} <= attributes
    assert "secure" not in attributes  # plain http (a test server); see the next test for https
    assert once not in response.headers["location"] and token not in response.headers["location"]
    again = client().get(f"/paircal/session?once={once}")  # used up
    assert "set-cookie" not in again.headers and again.headers["location"] == "/"


def test_the_cookie_is_secure_over_https(store, rater):
    once = accounts.start_sign_in_token(store, rater.id)
    response = client("https://paircal.example").get(f"/paircal/session?once={once}")
    assert "secure" in {part.strip().lower() for part in cookie_header(response).split(";")}


@pytest.mark.parametrize("once", ["", "nothing", "A" * 43, "%00" * 30])
def test_a_bad_one_time_token_sets_no_cookie(store, rater, once):
    response = client().get(f"/paircal/session?once={once}")
    assert response.status_code == 303 and "set-cookie" not in response.headers


def test_another_site_cannot_sign_a_browser_in_or_out(store, rater):
    once = accounts.start_sign_in_token(store, rater.id)
    cross = {"sec-fetch-site": "cross-site"}
    assert "set-cookie" not in client().get(f"/paircal/session?once={once}", headers=cross).headers
    token = accounts.start_session(store, rater.id)
    c = client()
    c.cookies.set("paircal_session", token)
    assert "set-cookie" not in c.get("/paircal/sign-out", headers=cross).headers
    assert accounts.resolve_session(store, token) == rater


def test_sign_out_ends_the_session_and_clears_the_cookie(store, rater):
    token = accounts.start_session(store, rater.id)
    c = client()
    c.cookies.set("paircal_session", token)
    response = c.get("/paircal/sign-out", headers={"sec-fetch-site": "same-origin"})
    assert response.status_code == 303 and response.headers["location"] == "/"
    header = cookie_header(response).lower()
    assert header.startswith('paircal_session=""') and "max-age=0" in header and "path=/" in header
    assert accounts.resolve_session(store, token) is None


def test_sign_out_goes_on_to_streamlits_logout_after_single_sign_on(store, rater):
    c = client()
    c.cookies.set("_streamlit_user", "signed-identity")
    response = c.get("/paircal/sign-out")
    assert response.headers["location"] == "/auth/logout"


def sha256(source: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(source.encode()).digest()).decode() + "'"


def test_every_response_carries_the_security_headers(store, rater):
    c = client()
    for path in ("/", "/paircal/session?once=x", "/paircal/sign-out", "/no-such-page"):
        headers = c.get(path).headers
        assert headers["referrer-policy"] == "no-referrer", path
        assert headers["x-frame-options"] == "DENY" and headers["x-content-type-options"] == "nosniff"
        csp = dict(d.strip().split(" ", 1) for d in headers["content-security-policy"].split(";"))
        assert csp["frame-ancestors"] == "'none'" and csp["default-src"] == "'self'"
        assert csp["connect-src"] == "'self'" and csp["object-src"] == "'none'"
        assert "'unsafe-inline'" not in csp["script-src"] and "'unsafe-eval'" not in csp["script-src"]
        assert sha256(web.GO_SCRIPT) in csp["script-src"]  # the redirect PairCal runs, and nothing else
        assert "http:" not in csp["img-src"] and "https:" not in csp["img-src"]


def test_the_policy_allows_streamlits_own_inline_scripts_by_hash():
    index = (Path(streamlit.__file__).parent / "static" / "index.html").read_text()
    inline = index.split("<script>")[1:]
    assert inline, "Streamlit's index.html changed: check the policy still fits it"
    for part in inline:
        assert sha256(part.split("</script>")[0]) in web.content_security_policy()


def test_a_header_the_app_already_set_is_kept(store):
    page = Route("/", lambda request: PlainTextResponse("x", headers={"Referrer-Policy": "same-origin"}))
    app = Starlette(routes=[page], middleware=web.middleware())
    assert TestClient(app).get("/").headers.get_list("referrer-policy") == ["same-origin"]


def test_the_go_element_escapes_its_address():
    html = []
    original = web.st.html
    try:
        web.st.html = lambda body, **kwargs: html.append((body, kwargs))  # type: ignore[assignment]
        web.go('/paircal/session?once=a"><script>x</script>')
    finally:
        web.st.html = original  # type: ignore[assignment]
    [(body, kwargs)] = html
    assert kwargs == {"unsafe_allow_javascript": True}
    assert body.count("<script>") == 1 and f"<script>{web.GO_SCRIPT}</script>" in body
    assert 'data-paircal-go="/paircal/session?once=a&quot;&gt;&lt;script&gt;x&lt;/script&gt;"' in body
