"""The live WebSocket: a session as it happens, for its client and its observers.

The route accepts, authorises (:mod:`heartsease.api.sockets`), greets the viewer with the
story so far and forwards the session's messages (:mod:`heartsease.wire`) until it ends or
the viewer leaves; what the viewer sends (a pause, a rating, a note) is taken alongside.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from pydantic import BaseModel, Field, ValidationError
from sqlalchemy.orm import Session, sessionmaker

from heartsease.api.deps import Factory, Hub, Manager, SettingsDep, SignInWatchDep
from heartsease.api.fanout import LocalHub, Outgoing, put_dropping_oldest
from heartsease.api.limits import MessageRate
from heartsease.api.publishing import hello
from heartsease.api.running import RunningSession, SessionManager
from heartsease.api.schemas import PlainText, RatingScale
from heartsease.api.sockets import (
    UnreadableMessageError,
    authorise,
    receive_message,
    socket_credential,
    visitor_may_leave,
)
from heartsease.store.models import (
    Annotation,
    BreathingSession,
    SelfRating,
    SessionStatus,
    User,
)
from heartsease.store.repository import audit
from heartsease.wire import CLIENT_CONTROLS, Close, Command, Kind

router = APIRouter(tags=["live"])
# A person watching or breathing sends a note, a rating, a pause: a few, now and then.
VIEWER_PER_S, VIEWER_BURST = 2.0, 20.0
HELLO_WAIT_S = 5.0  # for the worker running a session to welcome a viewer on another
START_WAIT_S = 12.0  # for an active session to show up as running (starting, or announced)
# Live views one person may hold open on a worker: a clinician watching a room of clients
# needs a few dozen; 300 on one session was a probe's, not a person's.
MAX_VIEWS_PER_PERSON = 40


@router.websocket("/api/sessions/{session_id}/live")
@visitor_may_leave
async def live(websocket: WebSocket, session_id: str, manager: Manager, hub: Hub,
               factory: Factory, settings: SettingsDep, watch: SignInWatchDep) -> None:
    allowed = await asyncio.to_thread(authorise, factory, settings, session_id,
                                      socket_credential(websocket), "observe")
    await websocket.accept()
    if allowed is None:
        await websocket.close(Close.NOT_ALLOWED, "not yours to see, or your sign-in expired")
        return
    user, row, sign_in = allowed
    if manager.viewers[user.id] >= MAX_VIEWS_PER_PERSON:
        await websocket.close(Close.TOO_MANY_VIEWS, f"you have {MAX_VIEWS_PER_PERSON} live "
                              "views open; close one to open another")
        return
    manager.viewers[user.id] += 1
    try:
        with watch.hold(websocket, sign_in):
            await _watch(websocket, session_id, manager, hub, factory, user, row)
    finally:
        manager.viewers[user.id] -= 1
        if not manager.viewers[user.id]:
            del manager.viewers[user.id]


async def _watch(websocket: WebSocket, session_id: str, manager: SessionManager, hub: LocalHub,
                 factory: sessionmaker[Session], user: User, row: BreathingSession) -> None:
    """The viewer greeted and kept up to date until the session or the connection ends."""
    if not await _until_live(manager, row):
        await websocket.send_json({"kind": Kind.CLOSED, "status": row.status.value})
        await websocket.close(Close.NOT_LIVE, "this session is not running")
        return
    role = "client" if user.id == row.client_id else "observer"
    queue = hub.subscribe(session_id)
    viewer = uuid.uuid4().hex
    running = manager.get(session_id)
    if running is not None:
        await websocket.send_text(hello(running, role).text)
    else:  # it runs on another worker: ask that worker for the story so far
        await hub.listening(session_id)  # or the answer could go by before we hear it
        hub.control(session_id, {"type": Kind.HELLO, "for": viewer, "role": role})
    if role == "client":  # the session knows its client's page is with it (presence.py)
        hub.control(session_id, {"type": Kind.PRESENCE, "page": viewer, "here": True})
    clock = _SessionClock(running)
    sender = _Viewer(websocket, factory, hub, session_id, user, role, clock)
    receiver = asyncio.create_task(sender.receive())
    # The viewer leaving (a quiet session would not tell us) or flooding wakes the loop below.
    receiver.add_done_callback(lambda _: put_dropping_oldest(queue, None))
    try:
        await _forward(websocket, queue, viewer, clock, greeted=running is not None)
    except TimeoutError:
        with contextlib.suppress(RuntimeError, WebSocketDisconnect):
            await websocket.close(Close.NOT_LIVE, "the worker running this session is silent")
    except (WebSocketDisconnect, RuntimeError):
        pass  # the viewer left; the session goes on without them
    finally:
        hub.unsubscribe(session_id, queue)
        if role == "client":
            hub.control(session_id, {"type": Kind.PRESENCE, "page": viewer, "here": False})
        await _close(websocket, receiver)


async def _forward(websocket: WebSocket, queue: asyncio.Queue[Outgoing | None], viewer: str,
                   clock: _SessionClock, greeted: bool) -> None:
    """The session's messages, from this viewer's welcome on, until the session closes or
    the queue is woken empty (the viewer left or flooded). Raises ``TimeoutError`` when the
    welcome does not come from the worker running the session."""
    while True:
        outgoing = await (queue.get() if greeted
                          else asyncio.wait_for(queue.get(), HELLO_WAIT_S))
        if outgoing is None:
            return
        message = outgoing.message
        if message.get("kind") == Kind.HELLO and "for" in message:
            if message["for"] != viewer or greeted:
                continue  # another viewer's welcome
            greeted = True
        elif not greeted:
            continue  # already in the story the welcome will bring
        clock.seen(message)
        await websocket.send_text(outgoing.text)
        if message.get("kind") == Kind.CLOSED:
            return


async def _close(websocket: WebSocket, receiver: asyncio.Task[tuple[Close, str]]) -> None:
    """The connection closed, with the receiver's code if the viewer flooded it or sent
    what cannot be read."""
    receiver.cancel()
    # Waited for, not awaited: the viewer's disconnection raised again in this frame
    # would put the frame in its traceback, a cycle only the garbage collector frees.
    with contextlib.suppress(asyncio.CancelledError):
        await asyncio.wait([receiver])
    refused = receiver.done() and not receiver.cancelled() and receiver.exception() is None
    with contextlib.suppress(RuntimeError, WebSocketDisconnect):
        if refused:
            await websocket.close(*receiver.result())
        else:
            await websocket.close()


async def _until_live(manager: SessionManager, row: BreathingSession) -> bool:
    """Whether the session runs on some worker. An active one may just be starting
    elsewhere (not yet announced) or, streamed by a remote client, wait for its first beat:
    give it a moment."""
    waits = 0
    while not manager.is_live(row.id):
        if row.status is not SessionStatus.ACTIVE or waits >= START_WAIT_S / 0.25:
            return False
        await asyncio.sleep(0.25)
        waits += 1
    return True


class _SessionClock:
    """Session time for what a viewer writes: the running loop's clock here, or the latest
    time seen in the stream when the session runs on another worker."""

    def __init__(self, running: RunningSession | None) -> None:
        self.running = running
        self.latest_s = 0.0

    def seen(self, message: dict[str, Any]) -> None:
        if isinstance(message.get("t_s"), (int, float)):
            self.latest_s = max(self.latest_s, float(message["t_s"]))

    def now_s(self) -> float:
        return self.running.loop.now_s() if self.running is not None else self.latest_s


class _ClientMessage(BaseModel):
    type: Command
    scale: RatingScale | None = None
    value: Annotated[int, Field(ge=0, le=10)] | Literal["skipped"] | None = None
    text: PlainText | None = Field(None, max_length=500)


class _Viewer:
    """What a viewer sends: the client's pauses and ratings, an observer's notes."""

    def __init__(self, websocket: WebSocket, factory: sessionmaker[Session], hub: LocalHub,
                 session_id: str, user: User, role: str, clock: _SessionClock) -> None:
        self.websocket = websocket
        self.factory = factory
        self.hub = hub
        self.session_id = session_id
        self.user = user
        self.role = role
        self.clock = clock

    async def receive(self) -> tuple[Close, str]:
        """The viewer's messages, until they send too many or one that is not JSON: the code
        and the reason to close the connection with."""
        rate = MessageRate(VIEWER_PER_S, VIEWER_BURST)
        while True:
            try:
                raw = await receive_message(self.websocket)
            except UnreadableMessageError as exc:
                return exc.code, exc.reason
            if rate.wait_s(time.monotonic()) > 0:
                return Close.TOO_FAST, "too many messages; a person sends a few"
            try:
                message = _ClientMessage.model_validate(raw)
            except (ValidationError, ValueError):
                await self.websocket.send_json({"kind": Kind.ERROR,
                                                "detail": "not a message I know"})
                continue
            if not self._take(message):
                await self.websocket.send_json(
                    {"kind": Kind.ERROR, "detail": f"{message.type} is not yours to send"})

    def _take(self, message: _ClientMessage) -> bool:
        """``message`` acted on; False when it is not this viewer's to send."""
        session_id, hub = self.session_id, self.hub
        if self.role == "client" and message.type in CLIENT_CONTROLS:
            hub.control(session_id, {"type": message.type})
        elif self.role == "client" and message.type == Command.RATING and message.scale \
                and message.value is not None:
            given = None if message.value == "skipped" else message.value
            with self.factory() as db, db.begin():
                db.add(SelfRating(session_id=session_id, t_s=self.clock.now_s(),
                                  scale=message.scale, value=given,
                                  given_at=datetime.now(UTC)))
            hub.control(session_id, {"type": Command.RATING, "scale": message.scale,
                                     "value": message.value})
        elif self.role == "observer" and message.type == Command.ANNOTATION and message.text:
            self._annotate(message.text)
        else:
            return False
        return True

    def _annotate(self, text: str) -> None:
        with self.factory() as db, db.begin():
            row = db.get(BreathingSession, self.session_id)
            db.add(Annotation(session_id=self.session_id, author_id=self.user.id,
                              t_s=self.clock.now_s(), text=text))
            if row is not None:
                audit(db, self.user, "annotate", "session", self.session_id, row.client_id)
        self.hub.control(self.session_id, {"type": Command.ANNOTATION, "text": text,
                                           "author": self.user.name})
