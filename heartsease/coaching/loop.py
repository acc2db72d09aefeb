"""The coaching loop: a source, a clock and a :class:`CoachingSession`, as one async task.

:class:`CoachingLoop` runs a live session: it reads the source (a strap, the simulator's
virtual strap, or a recording replayed in real time), ticks the session on the clock so the
protocol moves on and the pacer keeps its rhythm even when no beat arrives, and yields one
stream of events. :func:`replay_session` runs the same session over a source as fast as it
can deliver, with time taken from the beats themselves: deterministic, for ``heartsease
replay`` and for tests.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from heartsease.coaching.events import Event
from heartsease.coaching.session import CoachingSession
from heartsease.sensors.source import Clock, Gap, Measurement, MonotonicClock

TICK_S = 0.1

Source = AsyncIterator[Measurement | Gap]


async def replay_session(source: Source, session: CoachingSession) -> list[Event]:
    """Every event of ``session`` driven by ``source``, time from the beats' own clock.

    The session ends when its protocol completes or when the source runs out.
    """
    events = session.start(0.0)
    async for item in source:
        events += session.gap(item) if isinstance(item, Gap) else session.measurement(item)
        if session.ended:
            break
    if not session.ended:
        events += session.finish(session.now_s, "source-ended")
    return events


class CoachingLoop:
    """A live session: ``async for event in loop.events(): ...``.

    ``annotate``, ``pause``, ``resume`` and ``stop`` may be called from the same event loop
    while it runs (a key press, a clinician's message); their events join the stream.
    """

    def __init__(
        self,
        source: Source,
        session: CoachingSession,
        clock: Clock | None = None,
        tick_s: float = TICK_S,
    ) -> None:
        self.source = source
        self.session = session
        self.clock = clock or MonotonicClock()
        self.tick_s = tick_s
        self._queue: asyncio.Queue[Event | BaseException | None] = asyncio.Queue()

    def now_s(self) -> float:
        """Session time now."""
        return self.clock.now() - self.session.origin_s

    def annotate(self, text: str, author: str) -> None:
        self._put(self.session.annotate(text, author, self.now_s()))

    def pause(self) -> None:
        self._put(self.session.pause(self.now_s()))

    def resume(self) -> None:
        self._put(self.session.resume(self.now_s()))

    def stop(self) -> None:
        self._put(self.session.finish(self.now_s(), "stopped"))

    def _put(self, events: list[Event]) -> None:
        for e in events:
            self._queue.put_nowait(e)
        if self.session.ended:
            self._queue.put_nowait(None)

    async def events(self) -> AsyncIterator[Event]:
        """The session's events as they happen, until it ends."""
        self.session.origin_s = self.clock.now()
        self._put(self.session.start(0.0))
        tasks = [asyncio.create_task(self._read()), asyncio.create_task(self._tick())]
        try:
            while True:
                item = await self._queue.get()
                if item is None:
                    return
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    async def _read(self) -> None:
        try:
            async for item in self.source:
                if self.session.ended:
                    return
                self._put(self.session.gap(item) if isinstance(item, Gap)
                          else self.session.measurement(item))
            if not self.session.ended:
                self._put(self.session.finish(self.now_s(), "source-ended"))
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the source failed: end the stream with its error
            self._queue.put_nowait(exc)

    async def _tick(self) -> None:
        while not self.session.ended:
            self._put(self.session.tick(self.now_s()))
            await self.clock.sleep(self.tick_s)
