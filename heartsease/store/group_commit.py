"""Group commit: the live sessions of a process share one writer, so a thousand streaming
sessions cost one transaction per round trip to the database, not one per strap message.

Whatever arrives while a commit runs goes into the next one (the way databases group their
own log flushes). Each caller still learns whether *its* rows are on disk: the write it
awaits returns only after the commit that holds them, and raises if that commit failed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from heartsease.store.repository import insert_beats, insert_events

log = logging.getLogger(__name__)


@dataclass
class _Write:
    beats: Sequence[dict[str, Any]]
    events: Sequence[dict[str, Any]]
    done: asyncio.Future[None] = field(repr=False)


class GroupCommitter:
    """Beats and events of many sessions, written together.

    ``await committer.write(beats, events)`` returns once they are committed. A duplicate
    beat (same session and sequence number) is skipped, as by
    :func:`~heartsease.store.repository.insert_beats`. When the database is unreachable every
    write of that round raises :class:`~sqlalchemy.exc.OperationalError` (its callers keep
    their rows and try again); when one caller's rows break a constraint (a session erased
    while it streamed), only that caller's write raises.

    Examples
    --------
    >>> import asyncio
    >>> from heartsease.store.db import make_engine, migrate, session_factory
    >>> engine = make_engine("sqlite://"); migrate(engine)
    >>> committer = GroupCommitter(session_factory(engine))
    >>> asyncio.run(committer.write([], []))  # nothing to write returns at once
    """

    def __init__(self, factory: sessionmaker[Session]) -> None:
        self.factory = factory
        self._pending: list[_Write] = []
        self._wake: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self.commits = 0  # how many transactions the writes took (for benchmarks and tests)
        self.unreachable = False

    async def write(self, beats: Sequence[dict[str, Any]],
                    events: Sequence[dict[str, Any]] = ()) -> None:
        if not beats and not events:
            return
        if self._task is None or self._task.done():
            self._wake, self._closing = asyncio.Event(), False
            self._task = asyncio.create_task(self._run())
        assert self._wake is not None
        write = _Write(beats, events, asyncio.get_running_loop().create_future())
        self._pending.append(write)
        self._wake.set()
        await write.done  # a caller that leaves cancels only its own future

    async def close(self) -> None:
        """Finish what was handed in (the commit running included), then stop."""
        if self._task is None or self._task.done():
            return
        assert self._wake is not None
        self._closing = True
        self._wake.set()
        await self._task

    async def _run(self) -> None:
        assert self._wake is not None
        # Its own thread: a commit never waits behind other work handed to threads (a crowd
        # of connections being authorised, say), and the commits are one at a time anyway.
        thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="group-commit")
        try:
            while True:
                await self._wake.wait()
                self._wake.clear()
                group, self._pending = self._pending, []
                if group:
                    try:
                        failures = await asyncio.get_running_loop().run_in_executor(
                            thread, self._commit, group)
                    except Exception as exc:  # a refused lone write, or a driver's own error
                        failures = [exc] * len(group)
                    for write, failure in zip(group, failures, strict=True):
                        _settle(write.done, failure)
                if self._closing and not self._pending:
                    return
        finally:
            thread.shutdown(wait=False)

    def _commit(self, group: list[_Write]) -> list[BaseException | None]:
        try:
            self._transaction([r for w in group for r in w.beats],
                              [e for w in group for e in w.events])
        except OperationalError as exc:
            if not self.unreachable:
                log.warning("database unreachable; live sessions keep their beats in memory "
                            "until it returns: %s", exc.orig or exc)
            self.unreachable = True
            return [exc] * len(group)
        except SQLAlchemyError:
            if len(group) == 1:
                raise
            # One writer's rows are refused: the others are written, each on its own.
            return [self._alone(w) for w in group]
        if self.unreachable:
            log.warning("database back; buffered beats written")
            self.unreachable = False
        return [None] * len(group)

    def _alone(self, write: _Write) -> BaseException | None:
        try:
            self._transaction(write.beats, write.events)
        except SQLAlchemyError as exc:
            return exc
        return None

    def _transaction(self, beats: Sequence[dict[str, Any]],
                     events: Sequence[dict[str, Any]]) -> None:
        with self.factory() as db, db.begin():
            insert_beats(db, list(beats))
            insert_events(db, events)
        self.commits += 1


def _settle(done: asyncio.Future[None], failure: BaseException | None) -> None:
    if done.done():
        return
    if failure is None:
        done.set_result(None)
    else:
        done.set_exception(failure)
