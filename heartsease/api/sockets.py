"""What the WebSocket routes share: authorising a connection, and a visitor who leaves.

A connection carries its sign-in as a request does (:mod:`heartsease.api.credentials`): a
bearer token in the ``Authorization`` header (the Python streamer), or the pages' cookie,
taken only from a page of this service (``Origin``: another site's page would otherwise
ride the cookie). Nothing comes in the URL. Every subscription is checked like any other
read: the client's own session, or an assigned clinician's (whose observing is
audit-logged). The connection then belongs to its sign-in
(:class:`~heartsease.api.signin_watch.SignInWatch`).
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from fastapi import WebSocket, WebSocketDisconnect
from sqlalchemy.orm import Session, sessionmaker
from starlette.websockets import WebSocketState

from heartsease.api.credentials import Credential, credential, same_origin
from heartsease.api.deps import viewer_of_session
from heartsease.api.settings import Settings
from heartsease.api.signin_watch import HeldSignIn
from heartsease.store.models import BreathingSession, Role, User
from heartsease.store.repository import audit
from heartsease.wire import Close

log = logging.getLogger(__name__)


Allowed = tuple[User, BreathingSession, HeldSignIn]


def socket_credential(websocket: WebSocket) -> Credential | None:
    """The connection's credential; the cookie only from this service's own pages."""
    sent = credential(websocket)
    if sent is not None and sent.from_cookie and not same_origin(websocket):
        log.warning("%s: a signed-in cookie from another origin (%s) refused",
                    websocket.url.path, websocket.headers.get("origin", "none"))
        return None
    return sent


def authorise(factory: sessionmaker[Session], settings: Settings, session_id: str,
              sent: Credential | None, action: str) -> Allowed | None:
    """The user, their session and the sign-in, if they may see it (run in a thread: its
    queries would hold up every stream on the worker while many people connect at once)."""
    with factory() as db, db.begin():
        return authorised(db, settings, session_id, sent, action)


def authorised(db: Session, settings: Settings, session_id: str, sent: Credential | None,
               action: str) -> Allowed | None:
    """As :func:`authorise`, in a transaction of the caller's; a clinician's ``action`` is
    audit-logged. The two rows come detached, to be read after the transaction."""
    allowed = None if sent is None else viewer_of_session(db, settings, sent.token,
                                                          session_id)
    if allowed is None or sent is None:
        return None
    user, row, claims = allowed
    if user.role is Role.CLINICIAN:
        audit(db, user, action, "session", row.id, row.client_id)
    db.expunge(user)
    db.expunge(row)
    ends_at = claims.issued_at + timedelta(hours=settings.sign_in_max_hours) \
        if sent.from_cookie else None
    return user, row, HeldSignIn(user.id, claims.token_id, claims.issued_at, ends_at,
                                 client_id=row.client_id)


class UnreadableMessageError(Exception):
    """A message that is not one JSON text: the connection closes with ``code``."""

    def __init__(self, code: Close, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


async def receive_message(websocket: WebSocket) -> Any:
    """The next message, read as JSON; raises :class:`UnreadableMessageError` for a binary
    message, text that is not JSON (``NaN`` and ``Infinity`` are not) or JSON nested past
    what the parser takes (Starlette's ``receive_json`` let each end in a traceback)."""
    message = await websocket.receive()
    if message["type"] == "websocket.disconnect":
        raise WebSocketDisconnect(message.get("code", 1000), message.get("reason"))
    text = message.get("text")
    if text is None:
        raise UnreadableMessageError(Close.NOT_TEXT, "messages are JSON text, not binary")
    try:
        return json.loads(text, parse_constant=_not_a_number)
    except (ValueError, RecursionError):
        raise UnreadableMessageError(Close.NOT_READABLE, "a message that is not JSON, or "
                                     "nested too deep") from None


def _not_a_number(constant: str) -> None:
    raise ValueError(f"{constant} is not a JSON number")


def visitor_may_leave(
    route: Callable[..., Awaitable[None]],
) -> Callable[..., Awaitable[None]]:
    """A WebSocket route whose visitor may leave at any moment: that is no server error.

    A page closed while it is authorised or told the session is not running makes the next
    send fail, and uvicorn would log each as "Exception in ASGI application" with a
    traceback (bench_load: 299 pages that gave up waiting for a session, and 5 that left
    during authorisation, among 2,000). Leaving before the accept is the odd case: uvicorn
    then ignores the accept and refuses the first message sent with a ``RuntimeError``,
    not the ``OSError`` the ASGI spec asks for (Kludex/uvicorn#2312)."""

    @functools.wraps(route)
    async def guarded(**kwargs: Any) -> None:
        websocket: WebSocket = kwargs["websocket"]
        try:
            await route(**kwargs)
        except WebSocketDisconnect:
            log.debug("%s: the visitor left", websocket.url.path)
        except RuntimeError as exc:
            if "'websocket.accept'" in str(exc):
                log.info("%s: the visitor left before the connection was accepted",
                         websocket.url.path)
            elif websocket.application_state is WebSocketState.DISCONNECTED:
                # Closed under the route, which then sent: its sign-in ended (SignInWatch).
                log.debug("%s: closed by the server while sending", websocket.url.path)
            else:
                raise

    return guarded
