"""Security headers on every HTTP response.

The pages run only scripts from this service (no inline script, no handler attributes,
nothing from elsewhere), may not be framed, and nothing that answers with health data is
kept by a browser or a proxy: ``Cache-Control: no-store`` on everything but the pages'
static files. The API's documentation pages (FastAPI's ``/docs`` and ``/redoc``) load their
viewer from a CDN and start it with an inline script: their policy allows that CDN and that
one script, by its hash, and nothing else.
"""

from __future__ import annotations

import base64
import hashlib
import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

PAGES_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
                "img-src 'self' data: blob:; connect-src 'self'; font-src 'self'; "
                "object-src 'none'; base-uri 'none'; form-action 'self'; "
                "frame-ancestors 'none'")
DOCS_CDN = "https://cdn.jsdelivr.net"
DOCS_PATHS = frozenset({"/docs", "/redoc"})
_INLINE_SCRIPT = re.compile(rb"<script>(.*?)</script>", re.DOTALL)
# same-origin: the pages' own links keep the referrer (the report's way back to the same
# trends), and no address of a page (ids in it) goes to another site.
COMMON = ((b"x-frame-options", b"DENY"), (b"x-content-type-options", b"nosniff"),
          (b"referrer-policy", b"same-origin"), (b"cross-origin-opener-policy", b"same-origin"))


def docs_policy(body: bytes) -> str:
    """The documentation page's policy: its CDN and its own inline scripts, by hash."""
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(script).digest()).decode() + "'"
        for script in _INLINE_SCRIPT.findall(body))
    return (f"default-src 'self'; script-src 'self' {DOCS_CDN} {hashes}; "
            f"style-src 'self' 'unsafe-inline' {DOCS_CDN} https://fonts.googleapis.com; "
            "font-src 'self' https://fonts.gstatic.com; img-src 'self' data: https:; "
            "connect-src 'self'; worker-src 'self' blob:; object-src 'none'; "
            "base-uri 'none'; frame-ancestors 'none'")


class SecurityHeaders:
    """Pure ASGI middleware (no buffering, streamed responses stay streamed), except for
    the documentation pages, whose body it reads to hash their inline script."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if path in DOCS_PATHS:
            await self._docs(scope, receive, send)
            return
        cacheable = path.startswith("/static/")

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = _headers(message.get("headers", []),
                                              PAGES_POLICY, cacheable)
            await send(message)

        await self.app(scope, receive, with_headers)

    async def _docs(self, scope: Scope, receive: Receive, send: Send) -> None:
        start: Message = {}
        body = bytearray()

        async def collect(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
            elif message["type"] == "http.response.body":
                body.extend(message.get("body", b""))

        await self.app(scope, receive, collect)
        start["headers"] = _headers(start.get("headers", []), docs_policy(bytes(body)),
                                    cacheable=False)
        await send(start)
        await send({"type": "http.response.body", "body": bytes(body)})


def _headers(raw: list[tuple[bytes, bytes]], policy: str, cacheable: bool
             ) -> list[tuple[bytes, bytes]]:
    headers = [(k, v) for k, v in raw if k.lower() != b"cache-control" or cacheable]
    headers += [(b"content-security-policy", policy.encode()), *COMMON]
    if not cacheable:
        headers.append((b"cache-control", b"no-store"))
    return headers
