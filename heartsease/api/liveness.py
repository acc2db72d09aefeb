"""Which sessions run, on this worker or another: this worker names its own now and then and,
with several workers, closes the sessions of a worker that stopped."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from heartsease.api.fanout import ALIVE_EVERY_S, LocalHub
from heartsease.store.models import BreathingSession, SessionStatus, utcnow
from heartsease.store.repository import mark_interrupted

log = logging.getLogger(__name__)
SWEEP_EVERY_S = 30.0  # with several workers: how often dead workers' sessions are closed
# A session no worker has been seen running is left active this long: a streamed session
# runs only once its strap connects, which may take minutes; one that a whole service's
# restart left active is closed then.
NEVER_SEEN_RUNNING_S = 30 * 60.0


class Liveness:
    """Whether a session is live, and the announcements and sweeps that tell.

    ``running``: this worker's sessions by id (the registry's own mapping, read as it
    changes)."""

    def __init__(self, factory: sessionmaker[Session], hub: LocalHub,
                 running: Mapping[str, Any]) -> None:
        self.factory = factory
        self.hub = hub
        self.running = running
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
        swept_at = time.monotonic()
        while True:
            self.hub.announce(self.running)
            await asyncio.sleep(ALIVE_EVERY_S)
            if self.hub.distributed and self.hub.degraded is None \
                    and time.monotonic() - swept_at > SWEEP_EVERY_S:
                swept_at = time.monotonic()
                await asyncio.to_thread(self.sweep)

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
