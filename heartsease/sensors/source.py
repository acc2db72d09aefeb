"""What every source yields: measurements and gaps, on one clock.

A source (the bleak reader, the simulator's strap, a file replay) is an async iterator of
:class:`Measurement` and :class:`Gap`; everything after it runs the same code for hardware,
simulation and recordings.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Protocol

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


class Clock(Protocol):
    """Time for sources: the real monotonic clock, or a simulated one that runs faster."""

    def now(self) -> float: ...

    async def sleep(self, seconds: float) -> None: ...


class MonotonicClock:
    """The host's monotonic clock."""

    def now(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)
