"""WebSockets: the live stream of a session (client and observers) and beat ingest.

Browsers cannot set headers on a WebSocket, so the access token comes as ``?token=``. Every
subscription is checked like any other read: the client's own session, or an assigned
clinician's (whose observing is audit-logged).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from pydantic import BaseModel, Field, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from heartsease.api import services
from heartsease.api.deps import viewer_of_session
from heartsease.api.fanout import put_dropping_oldest
from heartsease.api.limits import MessageRate
from heartsease.api.live import RunningSession, SessionManager, hello
from heartsease.api.schemas import PlainText, RatingScale
from heartsease.sensors.hrm import SensorContact
from heartsease.sensors.source import Gap, Measurement
from heartsease.store.models import (
    Annotation,
    Beat,
    BreathingSession,
    Role,
    SelfRating,
    SessionStatus,
    User,
)
from heartsease.store.repository import audit, beat_row

router = APIRouter(tags=["live"])
log = logging.getLogger(__name__)
CLOSE_NOT_ALLOWED = 4403
CLOSE_NOT_LIVE = 4404
CLOSE_ELSEWHERE = 4409
CLOSE_TOO_FAST = 1008  # policy violation
CLOSE_NOT_STORED = 1011  # an unexpected condition on the server; the client tries again
# A strap sends about one message a second; a client back from an outage resends its
# backlog at 20 a second (ten minutes of it in half a minute), after a burst of one minute's.
INGEST_PER_S, INGEST_BURST = 20.0, 60.0
INGEST_THROTTLE_LIMIT_S = 60.0
# A person watching or breathing sends a note, a rating, a pause: a few, now and then.
VIEWER_PER_S, VIEWER_BURST = 2.0, 20.0
HELLO_WAIT_S = 5.0  # for the worker running a session to welcome a viewer on another
START_WAIT_S = 12.0  # for an active session to show up as running (starting, or announced)


def _authorise(websocket: WebSocket, session_id: str, token: str,
               action: str) -> tuple[User, BreathingSession] | None:
    """The user and their session, if they may see it (run in a thread: its queries would
    hold up every stream on the worker while many people connect at once)."""
    with websocket.app.state.db() as db, db.begin():
        return _authorised(db, websocket, session_id, token, action)


def _authorised(db: Session, websocket: WebSocket, session_id: str, token: str,
                action: str) -> tuple[User, BreathingSession] | None:
    allowed = viewer_of_session(db, websocket.app.state.settings, token, session_id)
    if allowed is None:
        return None
    user, row = allowed
    if user.role is Role.CLINICIAN:
        audit(db, user, action, "session", row.id, row.client_id)
    db.expunge(user)
    db.expunge(row)
    return user, row


def _visitor_may_leave(
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
        try:
            await route(**kwargs)
        except WebSocketDisconnect:
            log.debug("%s: the visitor left", kwargs["websocket"].url.path)
        except RuntimeError as exc:
            if "'websocket.accept'" not in str(exc):
                raise
            log.info("%s: the visitor left before the connection was accepted",
                     kwargs["websocket"].url.path)

    return guarded


@router.websocket("/api/sessions/{session_id}/live")
@_visitor_may_leave
async def live(websocket: WebSocket, session_id: str, token: str = "") -> None:
    allowed = await asyncio.to_thread(_authorise, websocket, session_id, token, "observe")
    await websocket.accept()
    if allowed is None:
        await websocket.close(CLOSE_NOT_ALLOWED, "not yours to see, or your sign-in expired")
        return
    user, row = allowed
    manager: SessionManager = websocket.app.state.sessions
    hub = websocket.app.state.hub
    if not await _until_live(manager, row):
        await websocket.send_json({"kind": "closed", "status": row.status.value})
        await websocket.close(CLOSE_NOT_LIVE, "this session is not running")
        return
    role = "client" if user.id == row.client_id else "observer"
    queue = hub.subscribe(session_id)
    viewer = uuid.uuid4().hex
    running = manager.get(session_id)
    if running is not None:
        await websocket.send_text(hello(running, role).text)
    else:  # it runs on another worker: ask that worker for the story so far
        await hub.listening(session_id)  # or the answer could go by before we hear it
        hub.control(session_id, {"type": "hello", "for": viewer, "role": role})
    clock = _SessionClock(running)
    receiver = asyncio.create_task(_receive(websocket, session_id, user, role, clock))
    # The viewer leaving (a quiet session would not tell us) or flooding wakes the loop below.
    receiver.add_done_callback(lambda _: put_dropping_oldest(queue, None))
    greeted = running is not None
    try:
        while True:
            outgoing = await (queue.get() if greeted
                              else asyncio.wait_for(queue.get(), HELLO_WAIT_S))
            if outgoing is None:
                break
            message = outgoing.message
            if message.get("kind") == "hello" and "for" in message:
                if message["for"] != viewer or greeted:
                    continue  # another viewer's welcome
                greeted = True
            elif not greeted:
                continue  # already in the story the welcome will bring
            clock.seen(message)
            await websocket.send_text(outgoing.text)
            if message.get("kind") == "closed":
                break
    except TimeoutError:
        with contextlib.suppress(RuntimeError, WebSocketDisconnect):
            await websocket.close(CLOSE_NOT_LIVE, "the worker running this session is silent")
    except (WebSocketDisconnect, RuntimeError):
        pass  # the viewer left; the session goes on without them
    finally:
        hub.unsubscribe(session_id, queue)
        receiver.cancel()
        # Waited for, not awaited: the viewer's disconnection raised again in this frame
        # would put the frame in its traceback, a cycle only the garbage collector frees.
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait([receiver])
        flooded = receiver.done() and not receiver.cancelled() \
            and receiver.exception() is None
        with contextlib.suppress(RuntimeError, WebSocketDisconnect):
            if flooded:
                await websocket.close(CLOSE_TOO_FAST, receiver.result())
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
    type: str = Field(pattern="^(rating|pause|resume|stop|annotation)$")
    scale: RatingScale | None = None
    value: int | None = Field(None, ge=0, le=10)
    text: PlainText | None = Field(None, max_length=500)


async def _receive(websocket: WebSocket, session_id: str, user: User, role: str,
                   clock: _SessionClock) -> str:
    """The viewer's messages, until they send too many: why the connection should close."""
    app = websocket.app
    hub = app.state.hub
    rate = MessageRate(VIEWER_PER_S, VIEWER_BURST)
    while True:
        raw = await websocket.receive_json()
        if rate.wait_s(time.monotonic()) > 0:
            return "too many messages; a person sends a few"  # the handler closes
        try:
            message = _ClientMessage.model_validate(raw)
        except (ValidationError, ValueError):
            await websocket.send_json({"kind": "error", "detail": "not a message I know"})
            continue
        if role == "client" and message.type in ("pause", "resume", "stop"):
            hub.control(session_id, {"type": message.type})
        elif role == "client" and message.type == "rating" and message.scale \
                and message.value is not None:
            with app.state.db() as db, db.begin():
                db.add(SelfRating(session_id=session_id, t_s=clock.now_s(),
                                  scale=message.scale, value=message.value))
            hub.control(session_id, {"type": "rating", "scale": message.scale,
                                     "value": message.value})
        elif role == "observer" and message.type == "annotation" and message.text:
            with app.state.db() as db, db.begin():
                row = db.get(BreathingSession, session_id)
                db.add(Annotation(session_id=session_id, author_id=user.id,
                                  t_s=clock.now_s(), text=message.text))
                if row is not None:
                    audit(db, user, "annotate", "session", session_id, row.client_id)
            hub.control(session_id, {"type": "annotation", "text": message.text,
                                     "author": user.name})
        else:
            await websocket.send_json({"kind": "error",
                                       "detail": f"{message.type} is not yours to send"})


class _Measurement(BaseModel):
    seq: int = Field(ge=1)
    arrival_s: float
    hr_bpm: int = Field(ge=0, le=255)
    rr_ms: list[float] = Field(max_length=16)
    beat_times_s: list[float] | None = Field(None, max_length=16)
    contact: str = "not supported"


class _Gap(BaseModel):
    gap_start_s: float
    gap_end_s: float
    reason: PlainText = Field("link lost", max_length=200)


@router.websocket("/api/sessions/{session_id}/ingest")
@_visitor_may_leave
async def ingest(websocket: WebSocket, session_id: str, token: str = "") -> None:
    """A remote client's strap, streamed: ``{"seq", "arrival_s", "hr_bpm", "rr_ms",
    "beat_times_s", "contact"}`` per notification, ``seq`` numbering its first beat. Each
    message is acknowledged with ``{"kind": "ack", "seq": last}`` once its beats are on disk;
    a beat sent twice is stored once."""
    position = await asyncio.to_thread(_ingest_position, websocket, session_id, token)
    await websocket.accept()
    manager: SessionManager = websocket.app.state.sessions
    if position is None:
        await websocket.close(CLOSE_NOT_ALLOWED, "only the session's client streams beats")
        return
    client, row, next_seq, chain_s = position
    running = manager.get(session_id)
    resumable = row.source == "remote" and row.status in (SessionStatus.ACTIVE,
                                                          SessionStatus.INTERRUPTED)
    if (running is None or running.remote is None) and not resumable:
        await websocket.close(CLOSE_NOT_LIVE, "this session is not taking streamed beats")
        return
    if running is None and manager.hub.live_elsewhere(session_id):
        await websocket.close(CLOSE_ELSEWHERE, "this session streams over another connection")
        return
    if running is None and next_seq == 1 and row.status is SessionStatus.ACTIVE:
        running = services.start_streamed(manager, client, row)
    rate = running.ingest_rate if running is not None else None
    if rate is None:
        rate = MessageRate(INGEST_PER_S, INGEST_BURST)
        if running is not None:
            running.ingest_rate = rate
    throttled_since: float | None = None
    outbox = _Outbox()
    storing = asyncio.create_task(_store_then_acknowledge(websocket, manager, outbox))
    try:
        while True:
            raw = await websocket.receive_json()
            if storing.done():  # a write failed: the streamer resends what was not acknowledged
                await websocket.close(CLOSE_NOT_STORED, "beats could not be stored just now")
                return
            # Faster than a strap: slowed to the rate (the sender waits, nothing is dropped),
            # and after a minute of that, closed; the streamer resends what was not taken.
            now = time.monotonic()
            wait_s = rate.wait_s(now)
            if wait_s > 0:
                throttled_since = throttled_since or now
                if now - throttled_since > INGEST_THROTTLE_LIMIT_S:
                    await websocket.close(CLOSE_TOO_FAST, "sending faster than a strap can")
                    return
                await asyncio.sleep(wait_s)
            else:
                throttled_since = None
                if rate.bursting:  # a burst read from the buffer lets others go between
                    await asyncio.sleep(0)
            try:
                if isinstance(raw, dict) and "gap_start_s" in raw:
                    gap = _Gap.model_validate(raw)
                    offset = running.client_clock_offset_s if running is not None else None
                    if offset is not None and running is not None and running.remote:
                        running.remote.put(Gap(gap.gap_start_s + offset, gap.gap_end_s + offset,
                                               gap.reason))
                    continue
                m = _Measurement.model_validate(raw)
            except ValidationError as exc:
                await websocket.send_json({"kind": "error", "detail": exc.errors()[0]["msg"]})
                continue
            times = m.beat_times_s or _times_from(m)
            if len(times) != len(m.rr_ms) or any(not 200 <= rr <= 3000 for rr in m.rr_ms):
                await websocket.send_json({"kind": "error", "seq": m.seq,
                                           "detail": "RR must be 200-3000 ms, one time each"})
                continue
            if m.seq > next_seq:
                await websocket.send_json({"kind": "error", "expected_seq": next_seq,
                                           "detail": f"beats from {next_seq} are missing"})
                continue
            skip = next_seq - m.seq
            new = list(zip(m.rr_ms[skip:], times[skip:], strict=True))
            if new and running is not None and running.remote is not None:
                seen = running.loop.clock.now() - m.arrival_s
                if running.client_clock_offset_s is None or seen < running.client_clock_offset_s:
                    running.client_clock_offset_s = seen
                offset = running.client_clock_offset_s
                origin = running.loop.session.origin_s
                rows = [beat_row(session_id, next_seq + i, t + offset - origin, rr,
                                 m.arrival_s + offset - origin)
                        for i, (rr, t) in enumerate(new)]
            else:
                rows = []
                for i, (rr, _) in enumerate(new):
                    chain_s += rr / 1000.0
                    rows.append(beat_row(session_id, next_seq + i, chain_s, rr, chain_s))
            if rows:
                fresh = [(rr, t) for k, (rr, t) in enumerate(new, start=next_seq)
                         if running is not None and k > running.fed_seq]
                if fresh and running is not None and running.remote is not None:
                    # The live view does not wait for the disk (the acknowledgement does),
                    # and a beat re-sent after a failed write is not coached twice.
                    assert offset is not None
                    running.remote.put(Measurement(
                        m.arrival_s + offset, m.hr_bpm, tuple(rr for rr, _ in fresh),
                        tuple(t + offset for _, t in fresh), _contact(m.contact)))
                    running.fed_seq = next_seq + len(new) - 1
                outbox.rows.extend(rows)
                next_seq += len(new)
            outbox.acknowledge(next_seq - 1)
    finally:
        # What arrived is stored even when the sender has gone.
        outbox.close()
        await asyncio.wait([storing])
        if not storing.cancelled() and (failed := storing.exception()) is not None:
            log.warning("session %s: streamed beats not stored (%s); its client resends what "
                        "was not acknowledged", session_id, failed)


@dataclass
class _Outbox:
    """What a streaming connection received and has not yet handed to the disk, and up to
    which sequence number to acknowledge."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    upto: int = 0
    closed: bool = False
    wake: asyncio.Event = field(default_factory=asyncio.Event)

    def acknowledge(self, upto: int) -> None:
        self.upto = upto
        self.wake.set()

    def close(self) -> None:
        self.closed = True
        self.wake.set()


async def _store_then_acknowledge(websocket: WebSocket, manager: SessionManager,
                                  outbox: _Outbox) -> None:
    """A streaming connection's beats, written a batch at a time (committed with the other
    sessions', one transaction for many) and acknowledged once on disk.

    Reading the next message never waits for a commit: under load a commit can take
    seconds, and each beat reached the live view that much late (450 sessions on this
    project's machine: p50 3.3 s). One write at a time, so a later batch is never stored
    ahead of a failed earlier one; a failed write ends this task and the connection."""
    can_acknowledge = True
    while not (outbox.closed and not outbox.rows):
        await outbox.wake.wait()
        outbox.wake.clear()
        rows, outbox.rows = outbox.rows, []
        upto = outbox.upto
        if rows:
            await manager.writer.write(rows)
        if can_acknowledge and not outbox.closed:
            try:
                await websocket.send_json({"kind": "ack", "seq": upto})
            except (WebSocketDisconnect, RuntimeError, OSError):
                can_acknowledge = False  # the sender left; what it sent is still stored


def _ingest_position(websocket: WebSocket, session_id: str, token: str
                     ) -> tuple[User, BreathingSession, int, float] | None:
    """The session's client and session, the next sequence number it takes and the time of
    its last stored beat; None when the token is not that client's."""
    with websocket.app.state.db() as db, db.begin():
        allowed = _authorised(db, websocket, session_id, token, "ingest")
        if allowed is None or allowed[0].id != allowed[1].client_id:
            return None
        last = db.execute(select(Beat.seq, Beat.t_s).where(Beat.session_id == session_id)
                          .order_by(Beat.seq.desc()).limit(1)).first()
    # A session the server lost (a restart) keeps taking its beats, stored in order after the
    # last one, though its live coaching ended with the old process.
    return (*allowed, 1, 0.0) if last is None else (*allowed, last.seq + 1, last.t_s)


def _times_from(m: _Measurement) -> list[float]:
    """Beat times from the RR series ending at the arrival, when the client sent none."""
    times, t = [], m.arrival_s
    for rr in reversed(m.rr_ms):
        times.append(t)
        t -= rr / 1000.0
    return times[::-1]


def _contact(value: str) -> SensorContact:
    try:
        return SensorContact(value)
    except ValueError:
        return SensorContact.NOT_SUPPORTED

