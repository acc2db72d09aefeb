"""The one source interface: what every source yields, how it hands it over, on which clock.

A source (the bleak reader, the simulator's strap, a file replay, a remote client's stream)
yields :class:`Measurement` and :class:`Gap` items; everything after it runs the same code
for hardware, simulation and recordings. As bleak has one client API with a backend per
platform behind it, a :data:`Source` is one of two kinds behind one name: a
:data:`PullSource` is read (an async iterator: the strap reader, a replay), a
:class:`PushSource` hands its items over in its sender's task (the ingest WebSocket's).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from heartsease.sensors.hrm import SensorContact


@dataclass(frozen=True, slots=True)
class Measurement:
    """One notification's worth of heartbeat.

    ``beat_times_s`` holds the estimated time of each beat in ``rr_ms`` (the beat that ends
    the interval), on the source's clock; ``arrival_s`` is when the notification arrived.
    """

    arrival_s: float
    hr_bpm: int
    rr_ms: tuple[float, ...]
    beat_times_s: tuple[float, ...]
    contact: SensorContact
    energy_expended_kj: int | None = None


@dataclass(frozen=True, slots=True)
class Gap:
    """A stretch with no beats (link lost, contact lost): recorded, never filled."""

    start_s: float
    end_s: float
    reason: str


PullSource = AsyncIterator[Measurement | Gap]


@runtime_checkable
class PushSource(Protocol):
    """A source whose items someone else's task hands over (the ingest WebSocket's).

    The consumer takes each one in that task, as it is handed over: read through a queue,
    each beat would wait for a turn of the event loop, which under load is the larger part
    of its latency. ``None`` says the source has ended.
    """

    def attach(self, deliver: Callable[[Measurement | Gap | None], None]) -> None: ...


Source = PullSource | PushSource


class Clock(Protocol):
    """Time for sources: the host's monotonic clock, or a live clock that may run faster."""

    def now(self) -> float: ...

    async def sleep(self, seconds: float) -> None: ...


class MonotonicClock:
    """The host's monotonic clock."""

    def now(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class LiveClock:
    """The event loop's clock from zero when made, ``speed`` times faster (the ``Clock``
    protocol): a strap's at 1, a simulated strap or a recording played faster above it.

    It follows the event loop's time rather than the host's so that the same code runs on
    virtual time, where the loop's clock jumps; make it inside a running loop.
    """

    def __init__(self, speed: float = 1.0) -> None:
        self.speed = speed
        self._loop = asyncio.get_running_loop()
        self._start = self._loop.time()

    def now(self) -> float:
        return (self._loop.time() - self._start) * self.speed

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, float(seconds)) / self.speed)

    async def sleep_until(self, t_s: float) -> None:
        await self.sleep(t_s - self.now())
