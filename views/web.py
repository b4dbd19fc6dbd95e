"""What PairCal adds to Streamlit's web server: security headers, and the addresses that set and clear
the session cookie.

``serve.py`` mounts :func:`routes` and :func:`middleware` on Streamlit's own
server (``st.App``), so ``streamlit run serve.py`` serves the app with them.

Signing in never puts a session token in the address bar. A page that has
just checked a password (or a single sign-on identity) makes a one-time token
(:func:`training.accounts.start_sign_in_token`, two minutes, stored hashed)
and sends the browser to ``/paircal/session?once=<it>``. That address redeems
it for a new session, sets the session token in the ``paircal_session``
cookie (HttpOnly, so no script can read it; SameSite=Strict, so no other site
can send it; Secure over https; 30 days, like the session) and redirects to
the app, leaving only the app's own address in the history. Each page then
reads the cookie with ``st.context.cookies`` when its browser tab connects,
and checks it against the ``sessions`` table on every run. ``/paircal/sign-out``
ends that session in the database and clears the cookie (and, for someone
who came through single sign-on, goes on to Streamlit's ``/auth/logout``).

Every HTTP response carries ``Referrer-Policy: no-referrer``, a
Content-Security-Policy that keeps the page to this server's own scripts,
connections and images and forbids framing (``frame-ancestors 'none'``),
``X-Frame-Options: DENY`` and ``X-Content-Type-Options: nosniff``.
"""

from __future__ import annotations

import base64
import hashlib
import html
import re
from functools import cache
from pathlib import Path
from typing import Any

import streamlit as st

from training import accounts

COOKIE = "paircal_session"
"""Name of the cookie that holds the session token."""
SIGN_IN_PATH = "paircal/session"
SIGN_OUT_PATH = "paircal/sign-out"
ONCE_PARAM = "once"
STREAMLIT_USER_COOKIE = "_streamlit_user"
"""Streamlit's own cookie for a single sign-on identity (``st.login``); chunks add suffixes."""

GO_SCRIPT = (
    "const go = document.querySelectorAll('[data-paircal-go]');"
    "window.location.replace(go[go.length - 1].dataset.paircalGo);"
)
"""The one script PairCal runs in a page: it sends the browser to the address of the last
``data-paircal-go`` element. Always the same text, so the CSP allows it by its hash."""

_mounted = False


def _base() -> str:
    """``server.baseUrlPath`` as ``/base`` (or ``""``)."""
    base = (st.get_option("server.baseUrlPath") or "").strip("/")
    return f"/{base}" if base else ""


def address(path: str) -> str:
    """The absolute path of ``path`` under the server's base URL path.

    Examples
    --------
    >>> address("paircal/session")
    '/paircal/session'
    """
    return f"{_base()}/{path.lstrip('/')}"


def sign_in_address(once: str) -> str:
    """Where the browser goes to redeem the one-time token ``once`` for a session cookie."""
    return f"{address(SIGN_IN_PATH)}?{ONCE_PARAM}={once}"


def mounted() -> bool:
    """True when this process serves :func:`routes` (started as ``streamlit run serve.py``)."""
    return _mounted


def go(target: str) -> None:
    """Send the browser to ``target``, an address on this server, as soon as this element renders."""
    st.html(
        f'<span data-paircal-go="{html.escape(target, quote=True)}"></span><script>{GO_SCRIPT}</script>',
        unsafe_allow_javascript=True,
    )


# -- headers ---------------------------------------------------------------------------------------


def _script_hash(source: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(source.encode("utf-8")).digest()).decode() + "'"


@cache
def content_security_policy() -> str:
    """The Content-Security-Policy header's value.

    Scripts only from this server, plus inline scripts by hash: Streamlit's
    own ``index.html`` ones (read from the installed package, so an upgrade
    keeps working) and :data:`GO_SCRIPT`. Styles may be inline (Streamlit
    sets them at run time). Images, fonts and media only from this server or
    ``data:``/``blob:``; connections (the WebSocket included) only to it; no
    plugins; forms post only to it; and no page of another origin may frame it.
    """
    index = Path(st.__file__).parent / "static" / "index.html"
    inline = re.findall(r"<script>(.*?)</script>", index.read_text(encoding="utf-8"), flags=re.DOTALL)
    hashes = " ".join(sorted({_script_hash(s) for s in inline} | {_script_hash(GO_SCRIPT)}))
    return "; ".join(
        [
            "default-src 'self'",
            f"script-src 'self' {hashes}",
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data: blob:",
            "font-src 'self' data:",
            "media-src 'self' data: blob:",
            "connect-src 'self'",
            "frame-src 'self' blob: data:",
            "worker-src 'self' blob:",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


def security_headers() -> dict[str, str]:
    """The headers added to every HTTP response, by name (lower case)."""
    return {
        "referrer-policy": "no-referrer",
        "content-security-policy": content_security_policy(),
        "x-frame-options": "DENY",
        "x-content-type-options": "nosniff",
    }


class SecurityHeaders:
    """ASGI middleware: adds :func:`security_headers` to every HTTP response that lacks them.

    Parameters
    ----------
    app : ASGI application
        The application it wraps (Streamlit's).
    """

    def __init__(self, app: Any):
        self.app = app
        self.extra = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in security_headers().items()]

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        """Pass the request on; add the headers to an HTTP response's start."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Any) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers += [(name, value) for name, value in self.extra if name not in present]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


# -- the two cookie addresses -------------------------------------------------------------------


def _cross_site(request: Any) -> bool:
    # Browsers say where a request comes from; a link or form on another site must neither sign
    # this browser in (to someone else's account) nor out.
    return request.headers.get("sec-fetch-site", "") == "cross-site"


def _cookie_options(request: Any) -> dict[str, Any]:
    return {
        "path": address(""),
        "secure": request.url.scheme == "https",
        "httponly": True,
        "samesite": "strict",
    }


def _to_app(target: str = "") -> Any:
    from starlette.responses import RedirectResponse

    response = RedirectResponse(target or address(""), status_code=303)
    response.headers["cache-control"] = "no-store"
    return response


def _store() -> Any:
    from views.common import get_store

    return get_store()


def sign_in_route(request: Any) -> Any:
    """``GET /paircal/session?once=TOKEN``: redeem a one-time token, set the session cookie, go to the app.

    An unknown, used or expired token sets nothing: the app opens signed out.
    """
    response = _to_app()
    once = request.query_params.get(ONCE_PARAM, "")
    if _cross_site(request):
        return response
    token = accounts.redeem_sign_in_token(_store(), once)
    if token is not None:
        response.set_cookie(
            COOKIE, token, max_age=int(accounts.SESSION_DAYS * 86400), **_cookie_options(request)
        )
    return response


def sign_out_route(request: Any) -> Any:
    """``GET /paircal/sign-out``: end the cookie's session, clear the cookie, go to the app.

    Someone signed in through single sign-on goes on to Streamlit's
    ``/auth/logout``, which forgets that identity too.
    """
    if _cross_site(request):
        return _to_app()
    token = request.cookies.get(COOKIE)
    if token:
        accounts.end_session(_store(), token)
    sso = any(name.startswith(STREAMLIT_USER_COOKIE) for name in request.cookies)
    response = _to_app(address("auth/logout") if sso else "")
    response.delete_cookie(COOKIE, **_cookie_options(request))
    return response


def routes() -> list[Any]:
    """The Starlette routes to mount beside Streamlit's (``st.App(routes=...)``)."""
    from starlette.routing import Route

    global _mounted
    _mounted = True
    return [
        Route(address(SIGN_IN_PATH), sign_in_route, methods=["GET"]),
        Route(address(SIGN_OUT_PATH), sign_out_route, methods=["GET"]),
    ]


def middleware() -> list[Any]:
    """The Starlette middleware to wrap Streamlit's server in (``st.App(middleware=...)``)."""
    from starlette.middleware import Middleware

    return [Middleware(SecurityHeaders)]
