"""The ingest WebSocket: a remote client's strap, streamed into its session.

The route accepts, authorises and hands the connection to an
:class:`~heartsease.api.ingest.IngestStream`; the messages are :mod:`heartsease.wire`'s.
"""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, WebSocket
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from heartsease.api import services
from heartsease.api.credentials import Credential
from heartsease.api.deps import Factory, Manager, SettingsDep, SignInWatchDep
from heartsease.api.ingest import IngestStream
from heartsease.api.running import SessionManager
from heartsease.api.settings import Settings
from heartsease.api.signin_watch import HeldSignIn
from heartsease.api.sockets import (
    UnreadableMessageError,
    authorised,
    receive_message,
    socket_credential,
    visitor_may_leave,
)
from heartsease.store.models import Beat, BreathingSession, SessionStatus, User
from heartsease.wire import Close

router = APIRouter(tags=["live"])
Position = tuple[User, BreathingSession, HeldSignIn, int, float]


@router.websocket("/api/sessions/{session_id}/ingest")
@visitor_may_leave
async def ingest(websocket: WebSocket, session_id: str, manager: Manager, factory: Factory,
                 settings: SettingsDep, watch: SignInWatchDep) -> None:
    """A remote client's strap, streamed: a :class:`~heartsease.wire.MeasurementMessage`
    per notification, ``seq`` numbering its first beat. Each message is acknowledged with
    ``{"kind": "ack", "seq": last}`` once its beats are on disk; a beat sent twice is stored
    once."""
    position = await asyncio.to_thread(_ingest_position, factory, settings, session_id,
                                       socket_credential(websocket))
    await websocket.accept()
    if position is None:
        await websocket.close(Close.NOT_ALLOWED, "only the session's client streams beats")
        return
    refusal = _refusal(manager, position)
    if refusal is not None:
        await websocket.close(*refusal)
        return
    client, row, sign_in, next_seq, chain_s = position
    running = manager.get(session_id)
    if running is None and next_seq == 1 and row.status is SessionStatus.ACTIVE:
        running = services.start_streamed(manager, client, row)
    stream = IngestStream(websocket, manager.writer, session_id, running, next_seq, chain_s,
                          row.stream_offset_s)
    try:
        with watch.hold(websocket, sign_in):
            while True:
                try:
                    closing = await stream.take(await receive_message(websocket))
                except UnreadableMessageError as exc:
                    closing = exc.code, exc.reason
                if closing is not None:
                    await websocket.close(*closing)
                    return
    finally:
        await stream.close()


def _refusal(manager: SessionManager, position: Position) -> tuple[Close, str] | None:
    """Why the session takes no streamed beats over this connection, if it does not."""
    row = position[1]
    running = manager.get(row.id)
    # A streamed session takes its beats whatever its status: beats its streamer kept
    # through a lost connection are stored even after it ended (without reopening it).
    if (running is None or running.remote is None) and row.source != "remote":
        return Close.NOT_LIVE, "this session is not taking streamed beats"
    if running is None and manager.hub.live_elsewhere(row.id):
        return Close.ELSEWHERE, "this session streams over another connection"
    return None


def _ingest_position(factory: sessionmaker[Session], settings: Settings, session_id: str,
                     sent: Credential | None) -> Position | None:
    """The session's client, session and sign-in, the next sequence number it takes and the
    time of its last stored beat; None when the sign-in is not that client's."""
    with factory() as db, db.begin():
        allowed = authorised(db, settings, session_id, sent, "ingest")
        if allowed is None or allowed[0].id != allowed[1].client_id:
            return None
        last = db.execute(select(Beat.seq, Beat.t_s).where(Beat.session_id == session_id)
                          .order_by(Beat.seq.desc()).limit(1)).first()
    # A session the server lost (a restart) keeps taking its beats, stored in order after the
    # last one, though its live coaching ended with the old process.
    return (*allowed, 1, 0.0) if last is None else (*allowed, last.seq + 1, last.t_s)
