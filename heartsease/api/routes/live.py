"""WebSockets: the live stream of a session (client and observers) and beat ingest.

Browsers cannot set headers on a WebSocket, so the access token comes as ``?token=``. Every
subscription is checked like any other read: the client's own session, or an assigned
clinician's (whose observing is audit-logged).
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from pydantic import BaseModel, Field, ValidationError

from heartsease.api.deps import user_for_token
from heartsease.api.live import RunningSession
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
from heartsease.store.repository import audit, can_see_client, insert_beats, last_seq

router = APIRouter(tags=["live"])
CLOSE_NOT_ALLOWED = 4403
CLOSE_NOT_LIVE = 4404


def _authorise(websocket: WebSocket, session_id: str, token: str,
               action: str) -> tuple[User, BreathingSession] | None:
    app = websocket.app
    with app.state.db() as db, db.begin():
        user = user_for_token(db, app.state.settings, token)
        row = db.get(BreathingSession, session_id)
        if user is None or row is None or not can_see_client(db, user, row.client_id):
            return None
        if user.role is Role.CLINICIAN:
            audit(db, user, action, "session", row.id, row.client_id)
        db.expunge(user)
        db.expunge(row)
        return user, row


@router.websocket("/api/sessions/{session_id}/live")
async def live(websocket: WebSocket, session_id: str, token: str = "") -> None:
    allowed = _authorise(websocket, session_id, token, "observe")
    await websocket.accept()
    if allowed is None:
        await websocket.close(CLOSE_NOT_ALLOWED, "not yours to see, or your sign-in expired")
        return
    user, row = allowed
    running: RunningSession | None = websocket.app.state.sessions.get(session_id)
    if running is None:
        await websocket.send_json({"kind": "closed", "status": row.status.value})
        await websocket.close(CLOSE_NOT_LIVE, "this session is not running")
        return
    hub = websocket.app.state.hub
    queue = hub.subscribe(session_id)
    role = "client" if user.id == row.client_id else "observer"
    await websocket.send_json(_hello(running, role))
    receiver = asyncio.create_task(_receive(websocket, running, user, role))
    try:
        while True:
            message = await queue.get()
            await websocket.send_json(message)
            if message.get("kind") == "closed":
                break
    except (WebSocketDisconnect, RuntimeError):
        pass  # the viewer left; the session goes on without them
    finally:
        hub.unsubscribe(session_id, queue)
        receiver.cancel()
        with contextlib.suppress(asyncio.CancelledError, RuntimeError, WebSocketDisconnect):
            await receiver
        with contextlib.suppress(RuntimeError, WebSocketDisconnect):
            await websocket.close()


def _hello(running: RunningSession, role: str) -> dict[str, Any]:
    session = running.loop.session
    step = session.step
    pacer = session.pacer
    now = running.loop.now_s()
    return {"kind": "hello", "role": role, "session_id": running.session_id, "t_s": now,
            "protocol": session.protocol.name, "pace_bpm": session.pace_bpm,
            "step": None if step is None else {"name": step.name, "title": step.title,
                                               "seconds": step.seconds,
                                               "elapsed_s": session.step_elapsed_s(now)},
            "pacer": None if pacer is None else {"rate_bpm": pacer.rate_at(now),
                                                 "breaths": pacer.breaths_at(now)},
            "state": running.last_state, "metrics": running.last_metrics,
            "paused": session.paused, "recent": list(running.recent)}


class _ClientMessage(BaseModel):
    type: str = Field(pattern="^(rating|pause|resume|stop|annotation)$")
    scale: str | None = Field(None, max_length=32)
    value: int | None = Field(None, ge=0, le=10)
    text: str | None = Field(None, max_length=500)


async def _receive(websocket: WebSocket, running: RunningSession, user: User,
                   role: str) -> None:
    app = websocket.app
    while True:
        try:
            message = _ClientMessage.model_validate(await websocket.receive_json())
        except (ValidationError, ValueError):
            await websocket.send_json({"kind": "error", "detail": "not a message I know"})
            continue
        loop = running.loop
        if role == "client" and message.type in ("pause", "resume", "stop"):
            {"pause": loop.pause, "resume": loop.resume, "stop": loop.stop}[message.type]()
        elif role == "client" and message.type == "rating" and message.scale \
                and message.value is not None:
            with app.state.db() as db, db.begin():
                db.add(SelfRating(session_id=running.session_id, t_s=loop.now_s(),
                                  scale=message.scale, value=message.value))
            app.state.hub.publish(running.session_id, {
                "kind": "rating", "t_s": loop.now_s(), "scale": message.scale,
                "value": message.value})
        elif role == "observer" and message.type == "annotation" and message.text:
            loop.annotate(message.text, user.name)
            with app.state.db() as db, db.begin():
                db.add(Annotation(session_id=running.session_id, author_id=user.id,
                                  t_s=loop.now_s(), text=message.text))
                audit(db, user, "annotate", "session", running.session_id, running.client_id)
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
    reason: str = Field("link lost", max_length=200)


@router.websocket("/api/sessions/{session_id}/ingest")
async def ingest(websocket: WebSocket, session_id: str, token: str = "") -> None:
    """A remote client's strap, streamed: ``{"seq", "arrival_s", "hr_bpm", "rr_ms",
    "beat_times_s", "contact"}`` per notification, ``seq`` numbering its first beat. Each
    message is acknowledged with ``{"kind": "ack", "seq": last}`` once its beats are on disk;
    a beat sent twice is stored once."""
    allowed = _authorise(websocket, session_id, token, "ingest")
    await websocket.accept()
    running = websocket.app.state.sessions.get(session_id)
    if allowed is None or allowed[0].id != allowed[1].client_id:
        await websocket.close(CLOSE_NOT_ALLOWED, "only the session's client streams beats")
        return
    row = allowed[1]
    resumable = row.source == "remote" and row.status in (SessionStatus.ACTIVE,
                                                          SessionStatus.INTERRUPTED)
    if (running is None or running.remote is None) and not resumable:
        await websocket.close(CLOSE_NOT_LIVE, "this session is not taking streamed beats")
        return
    factory = websocket.app.state.db
    with factory() as db:
        next_seq = last_seq(db, session_id) + 1
        last = db.get(Beat, (session_id, next_seq - 1))
        # A session the server lost (a restart) keeps taking its beats, stored in order after
        # the last one, though its live coaching ended with the old process.
        chain_s = 0.0 if last is None else last.t_s
    offset: float | None = None
    try:
        while True:
            raw = await websocket.receive_json()
            try:
                if isinstance(raw, dict) and "gap_start_s" in raw:
                    gap = _Gap.model_validate(raw)
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
                if offset is None:
                    offset = running.loop.clock.now() - m.arrival_s
                origin = running.loop.session.origin_s
                rows = [{"session_id": session_id, "seq": next_seq + i,
                         "t_s": t + offset - origin, "rr_ms": rr,
                         "arrival_s": m.arrival_s + offset - origin}
                        for i, (rr, t) in enumerate(new)]
            else:
                rows = []
                for i, (rr, _) in enumerate(new):
                    chain_s += rr / 1000.0
                    rows.append({"session_id": session_id, "seq": next_seq + i, "t_s": chain_s,
                                 "rr_ms": rr, "arrival_s": chain_s})
            if rows:
                with factory() as db, db.begin():
                    insert_beats(db, rows)
                if running is not None and running.remote is not None:
                    assert offset is not None
                    running.remote.put(Measurement(
                        m.arrival_s + offset, m.hr_bpm, tuple(rr for rr, _ in new),
                        tuple(t + offset for _, t in new), _contact(m.contact)))
                next_seq += len(new)
            await websocket.send_json({"kind": "ack", "seq": next_seq - 1})
    except WebSocketDisconnect:
        return


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

