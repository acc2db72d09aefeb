"""Live sessions inside the service: each runs the coaching loop as a task, stores every event
as it comes and fans it out to the client's and the observers' WebSockets.

A session's source is a simulated strap (the virtual strap, read through the same bleak
reader as a real one), a strap near the server, or beats streamed in by a remote client over
the ingest WebSocket (:class:`RemoteSource`).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from heartsease.api.closing import finish_session
from heartsease.api.fanout import ALIVE_EVERY_S, LocalHub, Message, Outgoing
from heartsease.api.limits import MessageRate
from heartsease.api.recorder import FLUSH_EVERY_S, SessionRecorder
from heartsease.coaching.events import Event
from heartsease.coaching.loop import CoachingLoop, Source
from heartsease.coaching.profile import remember_session
from heartsease.coaching.session import CoachingSession
from heartsease.coaching.summary import session_record
from heartsease.sensors.source import Clock, Gap, Measurement
from heartsease.store.db import finite_json
from heartsease.store.group_commit import GroupCommitter
from heartsease.store.models import BreathingSession, SessionStatus, User, utcnow
from heartsease.store.repository import events_of, mark_interrupted

log = logging.getLogger(__name__)
FINISH_RETRY_S, FINISH_RETRY_MAX_S = 0.5, 10.0  # while the database is away at the end
# What a viewer who joins late is shown: the beats the observation room plots (its 400, with
# room to spare), and the steps, states, shifts and notes of the session so far (a few a
# minute; the bound is for a session that runs for days).
RECENT_BEATS = 600
RECENT_STORY = 1000
SWEEP_EVERY_S = 30.0  # with several workers: how often dead workers' sessions are closed
# A session no worker has been seen running is left active this long: a streamed session
# runs only once its strap connects, which may take minutes; one that a whole service's
# restart left active is closed then.
NEVER_SEEN_RUNNING_S = 30 * 60.0
STORY_KINDS = {"step", "pacer", "state", "shift", "backdraft", "backdraft-eased", "annotation"}


class RemoteSource:
    """Measurements streamed in by a remote client, as a source: each is coached in the
    ingest connection's own task as it is put (what comes before the loop attaches waits)."""

    def __init__(self) -> None:
        self._waiting: list[Measurement | Gap | None] = []
        self._deliver: Callable[[Measurement | Gap | None], None] = self._waiting.append

    def attach(self, deliver: Callable[[Measurement | Gap | None], None]) -> None:
        self._deliver = deliver
        for item in self._waiting:
            deliver(item)
        self._waiting.clear()

    def put(self, item: Measurement | Gap) -> None:
        self._deliver(item)

    def close(self) -> None:
        self._deliver(None)


@dataclass
class RunningSession:
    session_id: str
    client_id: str
    loop: CoachingLoop
    recorder: SessionRecorder
    remote: RemoteSource | None = None
    task: asyncio.Task[None] | None = None
    extra_tasks: list[asyncio.Task[Any]] = field(default_factory=list)
    fed_seq: int = 0  # the last streamed beat handed to the coaching loop
    n_beats: int = 0
    completed: bool = False  # ended by the protocol's end, not stopped
    # The streamed session's message budget, kept across its connections: reconnecting
    # does not buy a sender a fresh burst.
    ingest_rate: MessageRate | None = None
    # The streaming client's clock on ours (ours minus theirs), kept across its connections.
    # A message can reach us late (a backlog resent after a reconnection arrives seconds
    # after its beats) but never early, so the smallest difference seen is the best.
    client_clock_offset_s: float | None = None
    last_metrics: dict[str, Any] | None = None
    last_state: str = "unknown"
    # What a viewer who joins late is shown first, as the JSON text sent live (thousands of
    # dicts a session would be thousands of objects for the garbage collector to walk, and
    # several times the memory). Beats and the story are kept apart so that the beats, by
    # far the most, do not push the session's first steps and states out.
    recent_beats: deque[str] = field(default_factory=lambda: deque(maxlen=RECENT_BEATS))
    story: deque[str] = field(default_factory=lambda: deque(maxlen=RECENT_STORY))


class SessionManager:
    """The live sessions of this process; controls for them may come from any worker."""

    def __init__(self, factory: sessionmaker[Session], hub: LocalHub) -> None:
        self.factory = factory
        self.hub = hub
        self.running: dict[str, RunningSession] = {}
        # Every live session's rows go through one writer: a commit for all of them at a
        # time, not one per session (see GroupCommitter).
        self.writer = GroupCommitter(factory)
        # One flush at a time, so a batch put back after a failed write stays ahead of
        # what its session recorded since.
        self._flushing = asyncio.Lock()
        self._announcer: asyncio.Task[None] | None = None
        # Sessions running on some worker at the last sweep: one of them no longer running
        # anywhere was on a worker that stopped.
        self._seen_running: set[str] = set()
        self._flusher: asyncio.Task[None] | None = None

    async def start_background(self) -> None:
        await self.hub.start(self.apply_control)
        self._announcer = asyncio.create_task(self._announce())
        self._flusher = asyncio.create_task(self._flush_every())

    async def _announce(self) -> None:
        """Name this worker's sessions now and then; with several workers, also close the
        sessions of a worker that died (none of the workers names them any more)."""
        swept_at = time.monotonic()
        while True:
            self.hub.announce(self.running)
            await asyncio.sleep(ALIVE_EVERY_S)
            if self.hub.distributed and self.hub.degraded is None \
                    and time.monotonic() - swept_at > SWEEP_EVERY_S:
                swept_at = time.monotonic()
                await asyncio.to_thread(self._sweep)

    def _sweep(self) -> None:
        active = set(self._active_ids())
        live = {s for s in active if self.is_live(s)}
        stopped_running = (self._seen_running & active) - live
        self._seen_running = live
        with self.factory() as db, db.begin():
            gone = mark_interrupted(db, only=stopped_running) if stopped_running else 0
            gone += mark_interrupted(db, keep=live, started_before=utcnow() - timedelta(
                seconds=NEVER_SEEN_RUNNING_S))
        if gone:
            log.warning("%d session(s) of a worker that stopped marked interrupted", gone)

    def _active_ids(self) -> list[str]:
        with self.factory() as db:
            return list(db.scalars(select(BreathingSession.id).where(
                BreathingSession.status == SessionStatus.ACTIVE)))

    def get(self, session_id: str) -> RunningSession | None:
        return self.running.get(session_id)

    def is_live(self, session_id: str) -> bool:
        """Running on this worker or, as far as the hub has heard, on another."""
        return session_id in self.running or self.hub.live_elsewhere(session_id)

    def apply_control(self, session_id: str, command: Message) -> None:
        """A viewer's command for a session, if it runs here (from any worker)."""
        running = self.running.get(session_id)
        if running is None:
            return
        loop, kind = running.loop, command.get("type")
        if kind in ("pause", "resume", "stop"):
            {"pause": loop.pause, "resume": loop.resume, "stop": loop.stop}[kind]()
        elif kind == "annotation":
            loop.annotate(str(command["text"]), str(command["author"]))
        elif kind == "rating":
            self.hub.publish(session_id, {"kind": "rating", "t_s": loop.now_s(),
                                          "scale": command["scale"], "value": command["value"]})
        elif kind == "hello":
            self.hub.publish_outgoing(session_id, hello(running, str(command["role"]),
                                                        str(command["for"])))

    def start(self, row: BreathingSession, session: CoachingSession, source: Source,
              clock: Clock, remote: RemoteSource | None = None,
              extra_tasks: list[asyncio.Task[Any]] | None = None) -> RunningSession:
        loop = CoachingLoop(source, session, clock)
        running = RunningSession(row.id, row.client_id, loop,
                                 SessionRecorder(row.id, store_beats=remote is None),
                                 remote,
                                 extra_tasks=extra_tasks or [])
        running.task = asyncio.create_task(self._run(running))
        self.running[row.id] = running
        return running

    async def _run(self, running: RunningSession) -> None:
        source_error: str | None = None
        try:
            await running.loop.run(functools.partial(self._on_event, running))
        except Exception as exc:  # the source or an event failed: it ends, its beats are kept
            log.warning("session %s ended by its source: %s", running.session_id, exc)
            source_error = str(exc)
            self.hub.publish(running.session_id, {"kind": "source-error", "detail": str(exc)})
        finally:
            for task in running.extra_tasks:
                task.cancel()
            await self._close_out(running, source_error)
            self.running.pop(running.session_id, None)
            self.hub.publish(running.session_id, {"kind": "closed"})

    def _on_event(self, running: RunningSession, event: Event) -> None:
        """One event of a session, as it happens: recorded, and on its way to the viewers.
        Only the beats are counted: the record at the end is read back from the disk, so a
        long session holds no more in memory than a short one."""
        running.n_beats += event.kind == "beat"
        running.recorder.add(event)
        message = event.as_dict()
        if event.kind == "metrics":
            running.last_metrics = message
            running.last_state = message["state"]
        outgoing = self.hub.publish(running.session_id, message)
        if event.kind == "beat":
            running.recent_beats.append(outgoing.text)
        elif event.kind in STORY_KINDS:
            running.story.append(outgoing.text)
        if event.kind == "session-ended" and message["reason"] == "completed":
            running.completed = True

    async def _close_out(self, running: RunningSession, source_error: str | None) -> None:
        """The last beats and the session's record, written. While the database is away
        they wait in memory and this tries again (a shutdown's cancel is the only way out)."""
        delay_s = FINISH_RETRY_S
        while True:
            try:
                if await self.flush([running.recorder]):
                    await asyncio.to_thread(self._finish, running, source_error)
                    return
            except OperationalError as exc:
                log.warning("session %s ended while the database is unreachable (%s); its "
                            "record will be written when it returns", running.session_id, exc)
            await asyncio.sleep(delay_s)
            delay_s = min(2 * delay_s, FINISH_RETRY_MAX_S)

    async def _flush_every(self) -> None:
        while True:
            await asyncio.sleep(FLUSH_EVERY_S)
            await self.flush([r.recorder for r in self.running.values()])

    async def flush(self, recorders: list[SessionRecorder]) -> bool:
        """Write what the recorders hold, all in one commit. While the database is away each
        keeps its rows for a later flush; returns whether everything is on disk."""
        async with self._flushing:
            batches = [(r, batch) for r in recorders if any(batch := r.take())]
            outcomes = await asyncio.gather(*(self.writer.write(*batch) for _, batch in batches),
                                            return_exceptions=True)
            on_disk = True
            for (recorder, batch), outcome in zip(batches, outcomes, strict=True):
                if isinstance(outcome, OperationalError):
                    recorder.restore(batch)
                    on_disk = False
                elif isinstance(outcome, BaseException):
                    # Refused, not delayed (its session was erased while it ran): writing
                    # it again would fail again.
                    log.error("session %s: %d beats and %d events refused by the store: %s",
                              recorder.session_id, len(batch[0]), len(batch[1]), outcome)
            return on_disk

    def _finish(self, running: RunningSession, source_error: str | None) -> None:
        session = running.loop.session
        with self.factory() as db, db.begin():
            row = db.get(BreathingSession, running.session_id)
            if row is None:
                return
            record = session_record(events_of(db, running.session_id),
                                    n_beats=running.n_beats)
            status = SessionStatus.COMPLETED if running.completed else SessionStatus.STOPPED
            finish_session(db, row, status, record, source_error)
            client = db.get(User, row.client_id)
            if client is not None:
                remember_session(client, session.learned_baseline, record.resonance)

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
        if self._announcer is not None:
            self._announcer.cancel()
        if self._flusher is not None:
            async with self._flushing:  # not in the middle of a write
                self._flusher.cancel()
        await self.writer.close()
        await self.hub.close()


def hello(running: RunningSession, role: str, for_viewer: str | None = None) -> Outgoing:
    """What a viewer is shown on joining: where the session is, its last metrics, and its
    story so far and last beats (``recent``, spliced in as the texts already sent, so it is
    not in ``message``): the story first, then the beats, each in the order sent."""
    session = running.loop.session
    step = session.step
    pacer = session.pacer
    now = running.loop.now_s()
    message: Message = {
        "kind": "hello", "role": role, "session_id": running.session_id, "t_s": now,
        "protocol": session.protocol.name, "pace_bpm": session.pace_bpm,
        "step": None if step is None else {"name": step.name, "title": step.title,
                                           "seconds": step.seconds,
                                           "elapsed_s": session.step_elapsed_s(now)},
        "pacer": None if pacer is None else {"rate_bpm": pacer.rate_at(now),
                                             "breaths": pacer.breaths_at(now)},
        "state": running.last_state, "metrics": running.last_metrics,
        "paused": session.paused}
    if for_viewer is not None:
        message["for"] = for_viewer
    recent = ", ".join([*running.story, *running.recent_beats])
    text = finite_json(message)[:-1] + ', "recent": [' + recent + "]}"
    return Outgoing(message, text)
