"""Security headers on every HTTP response.

The pages run only scripts from this service (no inline script, no handler attributes,
nothing from elsewhere), may not be framed, and nothing that answers with health data is
kept by a browser or a proxy: ``Cache-Control: no-store`` on everything but the pages'
static files. A response that brings a policy of its own keeps it (the API's documentation
pages, :mod:`heartsease.api.web.docs`, whose viewers set styles from script).
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

PAGES_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
                "img-src 'self' data: blob:; connect-src 'self'; font-src 'self'; "
                "object-src 'none'; base-uri 'none'; form-action 'self'; "
                "frame-ancestors 'none'")
# same-origin: the pages' own links keep the referrer (the report's way back to the same
# trends), and no address of a page (ids in it) goes to another site.
COMMON = ((b"x-frame-options", b"DENY"), (b"x-content-type-options", b"nosniff"),
          (b"referrer-policy", b"same-origin"), (b"cross-origin-opener-policy", b"same-origin"))


class SecurityHeaders:
    """Pure ASGI middleware: no buffering, streamed responses stay streamed."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        cacheable = path.startswith("/static/")

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = _headers(message.get("headers", []),
                                              PAGES_POLICY, cacheable)
            await send(message)

        await self.app(scope, receive, with_headers)


def _headers(raw: list[tuple[bytes, bytes]], policy: str, cacheable: bool
             ) -> list[tuple[bytes, bytes]]:
    headers = [(k, v) for k, v in raw if k.lower() != b"cache-control" or cacheable]
    if not any(k.lower() == b"content-security-policy" for k, _ in raw):
        headers.append((b"content-security-policy", policy.encode()))
    headers += COMMON
    if not cacheable:
        headers.append((b"cache-control", b"no-store"))
    return headers
