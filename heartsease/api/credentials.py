"""How a request says who sent it: a bearer token in the ``Authorization`` header (the
Python streamer, the API's own clients), or the pages' sign-in cookie. Never in a URL.

The cookie is httpOnly (no script reads it), ``SameSite=Strict`` and ``Secure`` whenever the
page came over HTTPS. A change asked for with the cookie (any method but GET, HEAD, OPTIONS)
must carry the sign-in's anti-forgery token in ``X-CSRF-Token``, which the pages read from
a second, script-readable cookie (double submit, the token bound to the sign-in by an HMAC);
a WebSocket opened with the cookie must come from a page of this service (its ``Origin``).
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from urllib.parse import urlsplit

from fastapi import Response
from starlette.requests import HTTPConnection

from heartsease.api.security import csrf_token

SESSION_COOKIE = "heartsease_session"
CSRF_COOKIE = "heartsease_csrf"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class Credential:
    token: str
    from_cookie: bool


def credential(connection: HTTPConnection) -> Credential | None:
    """The token the request carries, the header's before the cookie's."""
    scheme, _, value = connection.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return Credential(value.strip(), from_cookie=False)
    cookie = connection.cookies.get(SESSION_COOKIE)
    return Credential(cookie, from_cookie=True) if cookie else None


def csrf_ok(connection: HTTPConnection, sign_in_id: str, secret: str) -> bool:
    sent = connection.headers.get(CSRF_HEADER, "")
    return hmac.compare_digest(sent, csrf_token(sign_in_id, secret))


def same_origin(connection: HTTPConnection) -> bool:
    """Whether the connection comes from one of this service's own pages: its ``Origin``
    names the host the request was sent to (a page elsewhere cannot ride the cookie)."""
    origin = connection.headers.get("origin")
    host = connection.headers.get("host")
    return bool(origin and host) and urlsplit(origin).netloc.lower() == host.lower()


def set_sign_in_cookies(response: Response, connection: HTTPConnection, token: str,
                        sign_in_id: str, secret: str) -> None:
    """The sign-in cookie and its anti-forgery twin, for the whole site. Cookies that last
    as long as the browser: the token inside expires by itself, and an expired one still
    sent tells the page to say "you were signed out after a while"."""
    secure = connection.url.scheme == "https"
    response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="strict",
                        secure=secure, path="/")
    response.set_cookie(CSRF_COOKIE, csrf_token(sign_in_id, secret), httponly=False,
                        samesite="strict", secure=secure, path="/")


def clear_sign_in_cookies(response: Response, connection: HTTPConnection) -> None:
    secure = connection.url.scheme == "https"
    for name in (SESSION_COOKIE, CSRF_COOKIE):
        response.delete_cookie(name, path="/", secure=secure, samesite="strict",
                               httponly=name == SESSION_COOKIE)
