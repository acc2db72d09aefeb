"""The coaching loop: a source, a clock and a :class:`CoachingSession`, as one async task.

:class:`CoachingLoop` runs a live session: it reads the source (a strap, the simulator's
virtual strap, or a recording replayed in real time), wakes the session on the clock when
its next step, cue or pacer phase is due, so the protocol moves on and the pacer keeps its
rhythm even when no beat arrives, and hands on each event as it happens (or yields them as
one stream). :func:`replay_session` runs the same session over a source as fast as it can
deliver, with time taken from the beats themselves: deterministic, for ``heartsease
replay`` and for tests.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections.abc import AsyncIterator, Callable

from heartsease.coaching.events import Event
from heartsease.coaching.session import CoachingSession
from heartsease.sensors.source import (
    Clock,
    Gap,
    Measurement,
    MonotonicClock,
    PullSource,
    PushSource,
    Source,
)

# The clock wakes a session when its next event is due (a thousand live sessions polling
# ten times a second would cost a server more than their beats); this only bounds how late
# a wake-up could be if a change of schedule were missed.
TICK_MAX_S = 1.0
# Only these change when the next step, cue or pacer phase is due (checked per event, not
# per beat: the look-ahead is not free).
RESCHEDULING_KINDS = frozenset({"pacer", "paused", "step"})


async def replay_session(source: PullSource,
                         session: CoachingSession) -> list[Event]:
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
    """A live session: ``await loop.run(on_event)``, or ``async for event in loop.events()``.

    ``annotate``, ``pause``, ``resume`` and ``stop`` may be called from the same event loop
    while it runs (a key press, a clinician's message); their events join the stream.
    """

    def __init__(
        self,
        source: Source,
        session: CoachingSession,
        clock: Clock | None = None,
    ) -> None:
        self.source = source
        self.session = session
        self.clock = clock or MonotonicClock()
        # Until run() starts, events wait here (a control that came first).
        self._early: list[Event] = []
        self._on_event: Callable[[Event], None] = self._early.append
        self._done: asyncio.Future[None] | None = None
        self._ticker: asyncio.Task[None] | None = None
        self._tick_at_s = math.inf  # session time the ticker sleeps until

    def now_s(self) -> float:
        """Session time now."""
        return self.clock.now() - self.session.origin_s

    def annotate(self, text: str, author: str) -> None:
        self._put(self.session.annotate(text, author, self.now_s()))

    def pause(self) -> None:
        self._put(self.session.pause(self.now_s()))

    def resume(self) -> None:
        self._put(self.session.resume(self.now_s()))

    def this_is_a_lot(self) -> None:
        self._put(self.session.this_is_a_lot(self.now_s()))

    def stop(self, reason: str = "stopped") -> None:
        """End the session: stopped by the person, or ``"left"`` when they went away."""
        self._put(self.session.finish(self.now_s(), reason))

    async def run(self, on_event: Callable[[Event], None]) -> None:
        """Run the session until it ends, handing each event to ``on_event`` as it happens,
        in the task that caused it (the source's, the clock's, a control's); raises the
        source's error, or ``on_event``'s, which end the session."""
        self._done = asyncio.get_running_loop().create_future()
        self.session.origin_s = self.clock.now()
        self._on_event = on_event
        self._put(self.session.start(0.0))
        early, self._early = self._early, []
        self._put(early)
        reader: asyncio.Task[None] | None = None
        if isinstance(self.source, PushSource):
            self.source.attach(self._deliver)
        else:
            reader = asyncio.create_task(self._read(self.source))
        self._ticker = asyncio.create_task(self._tick())
        try:
            await self._done
        finally:
            tasks = [t for t in (reader, self._ticker) if t is not None]
            self._ticker = None
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    async def events(self) -> AsyncIterator[Event]:
        """The session's events as they happen, until it ends."""
        queue: asyncio.Queue[Event | None] = asyncio.Queue()
        running = asyncio.create_task(self.run(queue.put_nowait))
        running.add_done_callback(lambda _: queue.put_nowait(None))
        try:
            while (event := await queue.get()) is not None:
                yield event
            await running  # the source's error, if that is how it ended
        finally:
            running.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await running

    def _put(self, events: list[Event], from_ticker: bool = False) -> None:
        try:
            for e in events:
                self._on_event(e)
        except Exception as exc:
            self._fail(exc)
            return
        if self.session.ended:
            if self._done is not None and not self._done.done():
                self._done.set_result(None)
        elif not from_ticker and self._ticker is not None \
                and any(e.kind in RESCHEDULING_KINDS for e in events) \
                and self.session.next_due_s() < self._tick_at_s:
            # A resume, or a pacer slowed by the backdraft guard, brought the next phase
            # forward: the ticker sleeps again, until then.
            self._ticker.cancel()
            self._ticker = asyncio.create_task(self._tick())

    def _fail(self, exc: Exception) -> None:
        if self._done is not None and not self._done.done():
            self._done.set_exception(exc)

    def _deliver(self, item: Measurement | Gap | None) -> None:
        if self.session.ended or (self._done is not None and self._done.done()):
            return
        try:
            if item is None:
                self._put(self.session.finish(self.now_s(), "source-ended"))
            else:
                self._put(self.session.gap(item) if isinstance(item, Gap)
                          else self.session.measurement(item))
        except Exception as exc:  # the source's data broke the session: it ends with it
            self._fail(exc)

    async def _read(self, source: PullSource) -> None:
        try:
            async for item in source:
                if self.session.ended:
                    return
                self._deliver(item)
            self._deliver(None)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the source failed: end the stream with its error
            self._fail(exc)

    async def _tick(self) -> None:
        while not self.session.ended:
            self._put(self.session.tick(self.now_s()), from_ticker=True)
            now = self.now_s()
            self._tick_at_s = min(self.session.next_due_s(), now + TICK_MAX_S)
            await self.clock.sleep(self._tick_at_s - now)
