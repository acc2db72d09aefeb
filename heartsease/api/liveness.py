"""Which sessions run, on this worker or another: this worker names its own now and then and,
with several workers, closes the sessions of a worker that stopped."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from datetime import timedelta
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.orm import Session, sessionmaker

from heartsease.api.fanout import ALIVE_EVERY_S, LocalHub
from heartsease.store.models import Beat, BreathingSession, SessionStatus, utcnow
from heartsease.store.repository import mark_interrupted

log = logging.getLogger(__name__)
SWEEP_EVERY_S = 30.0  # with several workers: how often dead workers' sessions are closed
# A session no worker has been seen running is left active this long: a streamed session
# runs only once its strap connects, which may take minutes; one that a whole service's
# restart left active is closed then.
NEVER_SEEN_RUNNING_S = 30 * 60.0
# A streamed session whose streamer has sent nothing this long (its laptop closed, its
# network gone, the streamer killed) ends as interrupted: its client can start another, and
# nobody watches a session that no longer breathes. A streamer sends about once a second.
STREAM_SILENT_S = 45.0
# A streamed session whose streamer never sent a beat (it was started, then nothing): ended
# as interrupted after this long, time enough to put a strap on and pair it.
NEVER_STARTED_S = 10 * 60.0


class Liveness:
    """Whether a session is live, and the announcements and sweeps that tell.

    ``running``: this worker's sessions by id (the registry's own mapping, read as it
    changes)."""

    def __init__(self, factory: sessionmaker[Session], hub: LocalHub,
                 running: Mapping[str, Any],
                 interrupt: Callable[[str], Awaitable[None]]) -> None:
        self.factory = factory
        self.hub = hub
        self.running = running
        self.interrupt = interrupt
        # Sessions running on some worker at the last sweep: one of them no longer running
        # anywhere was on a worker that stopped.
        self._seen_running: set[str] = set()
        self._announcer: asyncio.Task[None] | None = None

    def is_live(self, session_id: str) -> bool:
        """Running on this worker or, as far as the hub has heard, on another."""
        return session_id in self.running or self.hub.live_elsewhere(session_id)

    def start(self) -> None:
        self._announcer = asyncio.create_task(self._announce())

    def stop(self) -> None:
        if self._announcer is not None:
            self._announcer.cancel()

    async def _announce(self) -> None:
        """Name this worker's sessions now and then; with several workers, also close the
        sessions of a worker that died (none of the workers names them any more)."""
        swept_at = checked_unstarted_at = time.monotonic()
        while True:
            self.hub.announce(self.running)
            await asyncio.sleep(ALIVE_EVERY_S)
            for session_id in self.silent_streams(time.monotonic()):
                log.warning("session %s: nothing streamed for %.0f s; ended as interrupted",
                            session_id, STREAM_SILENT_S)
                await self.interrupt(session_id)
            if time.monotonic() - checked_unstarted_at > SWEEP_EVERY_S:
                checked_unstarted_at = time.monotonic()
                await asyncio.to_thread(self.end_never_started)
            if self.hub.distributed and self.hub.degraded is None \
                    and time.monotonic() - swept_at > SWEEP_EVERY_S:
                swept_at = time.monotonic()
                await asyncio.to_thread(self.sweep)

    def silent_streams(self, now: float) -> list[str]:
        """This worker's streamed sessions whose streamer has been silent too long, with
        or without other workers (the sweep below needs them)."""
        return [session_id for session_id, running in list(self.running.items())
                if running.remote is not None
                and now - running.remote.heard_at > STREAM_SILENT_S]

    def end_never_started(self) -> None:
        """Mark interrupted the streamed sessions that no streamer sent a beat to within
        :data:`NEVER_STARTED_S` (they run only from their first beat, so nothing else ends
        them)."""
        with self.factory() as db, db.begin():
            waiting = db.scalars(select(BreathingSession.id).where(
                BreathingSession.status == SessionStatus.ACTIVE,
                BreathingSession.source == "remote",
                BreathingSession.started_at < utcnow() - timedelta(seconds=NEVER_STARTED_S),
                ~exists().where(Beat.session_id == BreathingSession.id)))
            never = [s for s in waiting if not self.is_live(s)]
            if never:
                mark_interrupted(db, only=never)
                log.warning("%d streamed session(s) never started; ended as interrupted",
                            len(never))

    def sweep(self) -> None:
        """Mark interrupted the active sessions that stopped running anywhere since the last
        sweep, and those never seen running for :data:`NEVER_SEEN_RUNNING_S`."""
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
