"""Running sessions' rows on their way to the disk, and each session's record once it ends."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from heartsease.api.closing import finish_session
from heartsease.api.recorder import FLUSH_EVERY_S, SessionRecorder
from heartsease.coaching.profile import remember_session
from heartsease.coaching.summary import session_record
from heartsease.store.group_commit import GroupCommitter
from heartsease.store.models import BreathingSession, SessionStatus, User
from heartsease.store.repository import events_of

if TYPE_CHECKING:
    from heartsease.api.running import RunningSession

log = logging.getLogger(__name__)
FINISH_RETRY_S, FINISH_RETRY_MAX_S = 0.5, 10.0  # while the database is away at the end
# How a session ended, stored as its status; any other ending is "stopped".
_STATUS_OF_ENDING = {"completed": SessionStatus.COMPLETED, "left": SessionStatus.LEFT}


class RecordKeeper:
    """Writes what every running session recorded, every :data:`FLUSH_EVERY_S` and at its
    end, and the session's record when it ends.

    Every live session's rows go through one writer: a commit for all of them at a time,
    not one per session (see :class:`GroupCommitter`)."""

    def __init__(self, factory: sessionmaker[Session]) -> None:
        self.factory = factory
        self.writer = GroupCommitter(factory)
        # One flush at a time, so a batch put back after a failed write stays ahead of
        # what its session recorded since.
        self._flushing = asyncio.Lock()
        self._flusher: asyncio.Task[None] | None = None

    def start(self, recorders: Callable[[], list[SessionRecorder]]) -> None:
        """Flush the ``recorders()`` of the moment now and then."""
        self._flusher = asyncio.create_task(self._flush_every(recorders))

    async def _flush_every(self, recorders: Callable[[], list[SessionRecorder]]) -> None:
        while True:
            await asyncio.sleep(FLUSH_EVERY_S)
            await self.flush(recorders())

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

    async def close_out(self, running: RunningSession, source_error: str | None) -> None:
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

    def _finish(self, running: RunningSession, source_error: str | None) -> None:
        session = running.loop.session
        with self.factory() as db, db.begin():
            row = db.get(BreathingSession, running.session_id)
            if row is None:
                return
            record = session_record(events_of(db, running.session_id),
                                    n_beats=running.n_beats)
            status = (SessionStatus.INTERRUPTED if running.interrupted
                      else _STATUS_OF_ENDING.get(running.ended_by or "", SessionStatus.STOPPED))
            finish_session(db, row, status, record, source_error)
            remote = running.remote
            if remote is not None and remote.clock_offset_s is not None:
                # Beats its streamer still holds (a page reloaded, a network lost) may come
                # after the end: they are placed on this, the session's clock on the sender's.
                row.stream_offset_s = remote.clock_offset_s - session.origin_s
            client = db.get(User, row.client_id)
            if client is not None:
                remember_session(client, session.learned_baseline, record.resonance)

    async def close(self) -> None:
        """Stop flushing (not in the middle of a write) and close the writer."""
        if self._flusher is not None:
            async with self._flushing:
                self._flusher.cancel()
        await self.writer.close()
