"""A recording on disk as a source: the same measurements a strap would have produced.

A recording with arrival times (a Polar H10 capture, or ``heartsease record``'s output) is
replayed notification by notification: rows that arrived within a millisecond of each other
came in one notification, and beat times are rebuilt by the same
:class:`~heartsease.sensors.timing.BeatClock` the live reader uses. A plain RR recording
becomes one notification per beat, arriving as the beat ends. Replay runs in real time,
``speed`` times faster, or (``speed=None``) as fast as the consumer takes it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np

from heartsease.sensors.files import RRRecording, read_rr_file
from heartsease.sensors.hrm import SensorContact
from heartsease.sensors.source import Clock, Gap, Measurement, MonotonicClock
from heartsease.sensors.timing import BeatClock

SAME_NOTIFICATION_S = 0.001
GAP_FACTOR = 3.0  # arrivals this much further apart than their RR mark lost beats


async def replay(
    path: str | Path, speed: float | None = None, clock: Clock | None = None
) -> AsyncIterator[Measurement | Gap]:
    """Yield a recording's measurements (and gaps) as a strap would have delivered them.

    Examples
    --------
    >>> import asyncio, tempfile, os
    >>> with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
    ...     _ = f.write("800\\n810\\n790\\n")
    >>> async def collect():
    ...     return [m.rr_ms async for m in replay(f.name)]
    >>> asyncio.run(collect())
    [(800.0,), (810.0,), (790.0,)]
    >>> os.unlink(f.name)
    """
    async for item in replay_recording(read_rr_file(path), speed, clock):
        yield item


async def replay_recording(
    recording: RRRecording, speed: float | None = None, clock: Clock | None = None
) -> AsyncIterator[Measurement | Gap]:
    """:func:`replay` of a recording already read (an upload, say)."""
    rr = recording.rr_ms
    if recording.arrival_s is None:
        arrival = np.cumsum(rr) / 1000.0
        groups = [[i] for i in range(rr.size)]
    else:
        arrival = recording.arrival_s - recording.arrival_s[0] + rr[0] / 1000.0
        groups = _notifications(arrival)
    clock = clock or MonotonicClock()
    start = clock.now()
    beat_clock = BeatClock()
    previous_arrival: float | None = None
    for group in groups:
        at = float(arrival[group[-1]])
        values = [float(rr[i]) for i in group]
        if previous_arrival is not None and at - previous_arrival > GAP_FACTOR * (
            sum(values) / 1000.0 + 1.0
        ):
            yield Gap(previous_arrival, at, "no beats in the recording")
            beat_clock.reset()
        if speed is not None:
            await clock.sleep(start + at / speed - clock.now())
        yield Measurement(
            arrival_s=at,
            hr_bpm=round(60000.0 / float(np.mean(values))),
            rr_ms=tuple(values),
            beat_times_s=beat_clock.place(at, values),
            contact=SensorContact.NOT_SUPPORTED,
        )
        previous_arrival = at


def _notifications(arrival: np.ndarray) -> list[list[int]]:
    """Rows whose arrival times are within a millisecond of the previous came together."""
    groups: list[list[int]] = [[0]]
    for i in range(1, arrival.size):
        if arrival[i] - arrival[i - 1] <= SAME_NOTIFICATION_S:
            groups[-1].append(i)
        else:
            groups.append([i])
    return groups
