"""Live sessions inside the service: each runs the coaching loop as a task, stores every event
as it comes and fans it out to the client's and the observers' WebSockets.

A session's source is a simulated strap (the virtual strap, read through the same bleak
reader as a real one), a strap near the server, or beats streamed in by a remote client over
the ingest WebSocket (:class:`RemoteSource`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict, deque
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from heartsease.coaching.events import Event
from heartsease.coaching.loop import CoachingLoop, Source
from heartsease.coaching.profile import ClientProfile
from heartsease.coaching.session import CoachingSession
from heartsease.coaching.summary import session_record
from heartsease.sensors.source import Clock, Gap, Measurement
from heartsease.store.models import BreathingSession, SessionStatus, User
from heartsease.store.repository import FLUSH_EVERY_S, SessionRecorder, finish_session

log = logging.getLogger(__name__)
RECENT_EVENTS = 2000  # about twenty minutes of beats and what happened around them
RECENT_KINDS = {"beat", "step", "pacer", "state", "shift", "backdraft", "backdraft-eased",
                "annotation", "metrics"}


class LiveHub:
    """In-process fan-out: every subscriber of a session gets every message, in order."""

    def __init__(self) -> None:
        self._subscribers: dict[str, set[asyncio.Queue[dict[str, Any]]]] = defaultdict(set)

    def subscribe(self, session_id: str) -> asyncio.Queue[dict[str, Any]]:
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=10_000)
        self._subscribers[session_id].add(queue)
        return queue

    def unsubscribe(self, session_id: str, queue: asyncio.Queue[dict[str, Any]]) -> None:
        self._subscribers[session_id].discard(queue)
        if not self._subscribers[session_id]:
            del self._subscribers[session_id]

    def publish(self, session_id: str, message: dict[str, Any]) -> None:
        for queue in list(self._subscribers.get(session_id, ())):
            if queue.full():  # a stalled viewer loses its oldest message, never the store
                queue.get_nowait()
            queue.put_nowait(message)


class RemoteSource:
    """Measurements streamed in by a remote client, as a source."""

    def __init__(self) -> None:
        self._queue: asyncio.Queue[Measurement | Gap | None] = asyncio.Queue()

    def put(self, item: Measurement | Gap) -> None:
        self._queue.put_nowait(item)

    def close(self) -> None:
        self._queue.put_nowait(None)

    async def stream(self) -> AsyncIterator[Measurement | Gap]:
        while (item := await self._queue.get()) is not None:
            yield item


@dataclass
class RunningSession:
    session_id: str
    client_id: str
    loop: CoachingLoop
    recorder: SessionRecorder
    remote: RemoteSource | None = None
    task: asyncio.Task[None] | None = None
    extra_tasks: list[asyncio.Task[Any]] = field(default_factory=list)
    last_metrics: dict[str, Any] | None = None
    last_state: str = "unknown"
    # What a viewer who joins late is shown first: the recent beats and what happened.
    recent: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=RECENT_EVENTS))


class SessionManager:
    """The live sessions of this process."""

    def __init__(self, factory: sessionmaker[Session], hub: LiveHub) -> None:
        self.factory = factory
        self.hub = hub
        self.running: dict[str, RunningSession] = {}

    def get(self, session_id: str) -> RunningSession | None:
        return self.running.get(session_id)

    def start(self, row: BreathingSession, session: CoachingSession, source: Source,
              clock: Clock, remote: RemoteSource | None = None,
              extra_tasks: list[asyncio.Task[Any]] | None = None) -> RunningSession:
        loop = CoachingLoop(source, session, clock)
        running = RunningSession(row.id, row.client_id, loop,
                                 SessionRecorder(self.factory, row.id), remote,
                                 extra_tasks=extra_tasks or [])
        running.task = asyncio.create_task(self._run(running))
        self.running[row.id] = running
        return running

    async def _run(self, running: RunningSession) -> None:
        events: list[Event] = []
        flusher = asyncio.create_task(self._flush_every(running.recorder))
        status = SessionStatus.STOPPED
        source_error: str | None = None
        try:
            async for event in running.loop.events():
                events.append(event)
                running.recorder.add(event)
                message = event.as_dict()
                if event.kind == "metrics":
                    running.last_metrics = message
                    running.last_state = message["state"]
                if event.kind in RECENT_KINDS:
                    running.recent.append(message)
                self.hub.publish(running.session_id, message)
                if event.kind == "session-ended" and message["reason"] == "completed":
                    status = SessionStatus.COMPLETED
        except Exception as exc:  # the source failed: the session ends, its beats are kept
            log.warning("session %s ended by its source: %s", running.session_id, exc)
            source_error = str(exc)
            self.hub.publish(running.session_id, {"kind": "source-error", "detail": str(exc)})
        finally:
            flusher.cancel()
            for task in running.extra_tasks:
                task.cancel()
            running.recorder.flush()
            self._finish(running, events, status, source_error)
            self.running.pop(running.session_id, None)
            self.hub.publish(running.session_id, {"kind": "closed"})

    async def _flush_every(self, recorder: SessionRecorder) -> None:
        while True:
            await asyncio.sleep(FLUSH_EVERY_S)
            recorder.flush()

    def _finish(self, running: RunningSession, events: list[Event],
                status: SessionStatus, source_error: str | None) -> None:
        record = session_record(events)
        session = running.loop.session
        with self.factory() as db, db.begin():
            row = db.get(BreathingSession, running.session_id)
            if row is None:
                return
            finish_session(db, row, status, record, source_error)
            client = db.get(User, row.client_id)
            if client is not None:
                profile = ClientProfile(client.pace_bpm, client.pace_confidence,
                                        list(client.baselines or []))
                if session.learned_baseline is not None:
                    profile.add_baseline(session.learned_baseline)
                resonance = record["resonance"]
                if resonance is not None and resonance["resonance_bpm"] is not None:
                    profile.pace_bpm = resonance["resonance_bpm"]
                    profile.pace_confidence = resonance["confidence"]
                client.pace_bpm, client.pace_confidence = profile.pace_bpm, \
                    profile.pace_confidence
                client.baselines = profile.baselines

    async def stop(self, session_id: str) -> None:
        running = self.running.get(session_id)
        if running is None:
            return
        running.loop.stop()
        if running.remote is not None:
            running.remote.close()
        if running.task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await running.task

    async def shutdown(self) -> None:
        for session_id in list(self.running):
            await self.stop(session_id)
