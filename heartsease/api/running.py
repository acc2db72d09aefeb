"""The sessions running on this worker: each runs the coaching loop as a task, its events
recorded (:mod:`heartsease.api.recording`) and sent to the client's and the observers'
WebSockets (:mod:`heartsease.api.publishing`) as they come.

A session's source is a simulated strap (the virtual strap, read through the same bleak
reader as a real one), a strap near the server, or beats streamed in by a remote client over
the ingest WebSocket (:class:`RemoteSource`, fed by :mod:`heartsease.api.ingest`).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session, sessionmaker

from heartsease.api.fanout import LocalHub, Message
from heartsease.api.limits import MessageRate
from heartsease.api.liveness import Liveness
from heartsease.api.presence import AwayTimes, PageState, Presence
from heartsease.api.publishing import SoFar, hello, publish_event
from heartsease.api.recorder import SessionRecorder
from heartsease.api.recording import RecordKeeper
from heartsease.coaching.events import Event
from heartsease.coaching.loop import CoachingLoop
from heartsease.coaching.session import CoachingSession
from heartsease.sensors.source import Gap, Measurement
from heartsease.store.group_commit import GroupCommitter
from heartsease.store.models import BreathingSession
from heartsease.wire import CLIENT_CONTROLS, Command, Kind

if TYPE_CHECKING:
    from heartsease.sources import OpenedSource

log = logging.getLogger(__name__)


class RemoteSource:
    """Measurements streamed in by a remote client, as a source: each is coached in the
    ingest connection's own task as it is put (what comes before the loop attaches waits).

    It also keeps what outlives one ingest connection: the last beat handed to the loop,
    the sender's message budget and its clock's offset on ours."""

    def __init__(self) -> None:
        self._waiting: list[Measurement | Gap | None] = []
        self._deliver: Callable[[Measurement | Gap | None], None] = self._waiting.append
        self.fed_seq = 0  # the last streamed beat handed to the coaching loop
        # Reconnecting does not buy a sender a fresh burst.
        self.rate: MessageRate | None = None
        # The streaming client's clock on ours (ours minus theirs). A message can reach us
        # late (a backlog resent after a reconnection arrives seconds after its beats) but
        # never early, so the smallest difference seen is the best.
        self.clock_offset_s: float | None = None
        # Gaps taken, by their start and end on the sender's clock: a gap is re-sent with the
        # beats after it until those are acknowledged, and is recorded once.
        self.gaps_taken: set[tuple[float, float]] = set()
        self.heard_at = time.monotonic()  # the last message from the streamer

    def heard(self) -> None:
        self.heard_at = time.monotonic()

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
    n_beats: int = 0
    ended_by: str | None = None  # the session-ended reason: "completed", "left", ...
    interrupted: bool = False  # ended because its streamed beats stopped coming
    so_far: SoFar = field(default_factory=SoFar)
    presence: Presence | None = None


class SessionManager:
    """The live sessions of this process; controls for them may come from any worker.

    It keeps the registry and runs each session; writing (:attr:`records`), knowing which
    sessions are live anywhere (:attr:`liveness`) and publishing are each their own."""

    def __init__(self, factory: sessionmaker[Session], hub: LocalHub,
                 away: AwayTimes | None = None) -> None:
        self.factory = factory
        self.hub = hub
        self.away = away or AwayTimes()
        self.running: dict[str, RunningSession] = {}
        self.viewers: Counter[str] = Counter()  # live views open on this worker, per person
        self.records = RecordKeeper(factory)
        self.liveness = Liveness(factory, hub, self.running, self.interrupt)

    @property
    def writer(self) -> GroupCommitter:
        return self.records.writer

    async def start_background(self) -> None:
        await self.hub.start(self.apply_control)
        self.liveness.start()
        self.records.start(lambda: [r.recorder for r in self.running.values()])

    def get(self, session_id: str) -> RunningSession | None:
        return self.running.get(session_id)

    def is_live(self, session_id: str) -> bool:
        """Running on this worker or, as far as the hub has heard, on another."""
        return self.liveness.is_live(session_id)

    async def flush(self, recorders: list[SessionRecorder]) -> bool:
        """See :meth:`RecordKeeper.flush`."""
        return await self.records.flush(recorders)

    def apply_control(self, session_id: str, command: Message) -> None:
        """A viewer's command for a session, if it runs here (from any worker)."""
        running = self.running.get(session_id)
        if running is None:
            return
        loop, kind = running.loop, command.get("type")
        if kind in CLIENT_CONTROLS:
            {Command.PAUSE: loop.pause, Command.RESUME: loop.resume, Command.STOP: loop.stop,
             Command.THIS_IS_A_LOT: loop.this_is_a_lot}[Command(kind)]()
        elif kind == Command.ANNOTATION:
            loop.annotate(str(command["text"]), str(command["author"]))
        elif kind == Command.RATING:
            self.hub.publish(session_id, {"kind": Kind.RATING, "t_s": loop.now_s(),
                                          "scale": command["scale"], "value": command["value"]})
        elif kind == Kind.HELLO:
            self.hub.publish_outgoing(session_id, hello(running, str(command["role"]),
                                                        str(command["for"])))
        elif kind == Kind.PRESENCE and running.presence is not None:
            page = str(command["page"])
            if command.get("here"):
                running.presence.arrived(page)
            else:
                running.presence.went(page)

    def start(self, row: BreathingSession, session: CoachingSession, opened: OpenedSource,
              remote: RemoteSource | None = None) -> RunningSession:
        """Coach ``opened`` for ``row``; ``remote`` when its beats are streamed in (the
        ingest stores them, so the recorder does not)."""
        loop = CoachingLoop(opened.source, session, opened.clock)
        running = RunningSession(row.id, row.client_id, loop,
                                 SessionRecorder(row.id, store_beats=remote is None),
                                 remote,
                                 extra_tasks=list(opened.tasks))
        running.presence = Presence(self.away, loop.pause, functools.partial(loop.stop, "left"),
                                    functools.partial(self._tell_presence, running))
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
            self.hub.publish(running.session_id, {"kind": Kind.SOURCE_ERROR,
                                                  "detail": str(exc)})
        finally:
            if running.presence is not None:
                running.presence.close()
            for task in running.extra_tasks:
                task.cancel()
            await self.records.close_out(running, source_error)
            self.running.pop(running.session_id, None)
            self.hub.publish(running.session_id, {"kind": Kind.CLOSED})

    def _on_event(self, running: RunningSession, event: Event) -> None:
        """One event of a session, as it happens: recorded, and on its way to the viewers.
        Only the beats are counted: the record at the end is read back from the disk, so a
        long session holds no more in memory than a short one."""
        running.n_beats += event.kind == Kind.BEAT
        running.recorder.add(event)
        message = publish_event(self.hub, running.session_id, running.so_far, event)
        if event.kind == Kind.SESSION_ENDED:
            running.ended_by = message["reason"]
            if running.presence is not None:  # over now, not once its close-out is written
                running.presence.close()

    def _tell_presence(self, running: RunningSession, page: PageState) -> None:
        self.hub.publish(running.session_id, {
            "kind": Kind.PRESENCE, "t_s": running.loop.now_s(), "presence": page,
            "paused": running.loop.session.paused})

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

    async def interrupt(self, session_id: str) -> None:
        """End a streamed session whose beats stopped coming: stored as interrupted."""
        running = self.running.get(session_id)
        if running is not None:
            running.interrupted = True
            await self.stop(session_id)

    async def shutdown(self) -> None:
        for session_id in list(self.running):
            await self.stop(session_id)
        self.liveness.stop()
        await self.records.close()
        await self.hub.close()
