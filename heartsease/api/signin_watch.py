"""Open WebSockets belong to their sign-in: when it ends (signed out, every sign-in of the
person ended, the account erased or closed, or a page's sign-in past its absolute limit),
or the client whose session it carries is erased, the socket closes with
:attr:`~heartsease.wire.Close.SIGNED_OUT` or :attr:`~heartsease.wire.Close.NOT_ALLOWED` and
a reason.

Each worker checks its own sockets on a schedule with two queries a round, however many
sockets are open (the people's accounts, and which of the sign-ins were signed out): the
database is what every worker shares, so a sign-out on one worker reaches the sockets on
all of them within a round. Renewing a page's sign-in keeps its id, so it never closes a
socket.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from fastapi import WebSocket, WebSocketDisconnect
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from heartsease.store.models import RevokedToken, User
from heartsease.wire import Close

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class HeldSignIn:
    """The sign-in an open socket was opened with, and whose data the socket carries."""

    user_id: str
    sign_in_id: str
    signed_in_at: datetime
    ends_at: datetime | None = None  # a page's sign-in: its absolute limit
    client_id: str | None = None  # an observer's socket closes when this client is erased


@dataclass(frozen=True)
class _Account:
    tokens_valid_after: datetime | None
    deactivated_at: datetime | None


class SignInWatch:
    """This worker's open sockets and their sign-ins, checked every ``every_s``."""

    def __init__(self, factory: sessionmaker[Session], every_s: float) -> None:
        self.factory = factory
        self.every_s = every_s
        self._held: dict[WebSocket, HeldSignIn] = {}
        self._task: asyncio.Task[None] | None = None

    @contextlib.contextmanager
    def hold(self, websocket: WebSocket, sign_in: HeldSignIn) -> Iterator[None]:
        """``websocket`` is watched while the block runs."""
        self._held[websocket] = sign_in
        try:
            yield
        finally:
            self._held.pop(websocket, None)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.every_s)
            try:
                await self.check()
            except Exception:  # the database away: the next round tries again
                log.warning("could not check open connections' sign-ins", exc_info=True)

    async def check(self) -> int:
        """One round: the sockets whose sign-in ended closed; how many."""
        held = dict(self._held)
        if not held:
            return 0
        accounts, signed_out = await asyncio.to_thread(self._look_up, list(held.values()))
        now = datetime.now(UTC)
        closed = 0
        for websocket, sign_in in held.items():
            why = _why_ended(sign_in, accounts, sign_in.sign_in_id in signed_out, now)
            if why is not None and websocket in self._held:
                self._held.pop(websocket, None)
                with contextlib.suppress(RuntimeError, WebSocketDisconnect, OSError):
                    await websocket.close(*why)
                closed += 1
        return closed

    async def close_erased(self, person_id: str) -> None:
        """At once, before the person's sessions are stopped and their rows erased: their
        own sockets, and those watching their sessions, close with the reason (other
        workers' close at their next round)."""
        for websocket, sign_in in list(self._held.items()):
            if person_id in (sign_in.user_id, sign_in.client_id) \
                    and self._held.pop(websocket, None) is not None:
                why = "this account was erased" if sign_in.user_id == person_id \
                    else "this person's data was erased"
                with contextlib.suppress(RuntimeError, WebSocketDisconnect, OSError):
                    await websocket.close(Close.NOT_ALLOWED, why)

    def _look_up(self, held: list[HeldSignIn]) -> tuple[dict[str, _Account], set[str]]:
        user_ids = {h.user_id for h in held} | {h.client_id for h in held if h.client_id}
        sign_in_ids = {h.sign_in_id for h in held}
        with self.factory() as db:
            accounts = {row.id: _Account(row.tokens_valid_after, row.deactivated_at)
                        for row in db.execute(select(User.id, User.tokens_valid_after,
                                                     User.deactivated_at)
                                              .where(User.id.in_(user_ids)))}
            signed_out = set(db.scalars(select(RevokedToken.jti)
                                        .where(RevokedToken.jti.in_(sign_in_ids))))
        return accounts, signed_out


def _why_ended(sign_in: HeldSignIn, accounts: dict[str, _Account], signed_out: bool,
               now: datetime) -> tuple[Close, str] | None:
    """The close code and reason for a socket whose sign-in ended (or whose client was
    erased); None while it holds."""
    account = accounts.get(sign_in.user_id)
    if sign_in.client_id is not None and sign_in.client_id not in accounts:
        return Close.NOT_ALLOWED, "this person's data was erased"
    if account is None:
        return Close.NOT_ALLOWED, "this account was erased"
    if account.deactivated_at is not None:
        return Close.NOT_ALLOWED, "this account was closed"
    if signed_out:
        return Close.SIGNED_OUT, "you signed out"
    if account.tokens_valid_after is not None \
            and sign_in.signed_in_at < account.tokens_valid_after:
        return Close.SIGNED_OUT, "every sign-in of this account was ended"
    if sign_in.ends_at is not None and now >= sign_in.ends_at:
        return Close.SIGNED_OUT, "this sign-in reached its time limit"
    return None
