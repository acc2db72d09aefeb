"""A recording on disk as a source: the same measurements a strap would have produced.

A recording with arrival times (a Polar H10 capture, or ``heartsease record``'s output) is
replayed notification by notification: rows that arrived within a millisecond of each other
came in one notification, and beat times are rebuilt from the whole of each stretch between
gaps (:func:`~heartsease.sensors.timing.retime`), which the live reader cannot do.
A plain RR recording becomes one notification per beat, arriving as the beat ends. Replay
runs in real time, ``speed`` times faster, or (``speed=None``) as fast as the consumer
takes it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from heartsease.sensors.files import SAME_NOTIFICATION_S, RRRecording, read_rr_file
from heartsease.sensors.hrm import SensorContact
from heartsease.sensors.source import Clock, Gap, Measurement, MonotonicClock
from heartsease.sensors.timing import retime

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
    """:func:`replay` of a recording already read (an upload, say).

    Each measurement is made as it is taken: a session ends when its protocol does, and an
    upload of 2 MB of RR lines (330,000 beats) is replayed for its first thousand or so; made
    all at once, the others cost an upload's worker a second of CPU and 110 MB (issue 22)."""
    rr = recording.rr_ms
    if recording.arrival_s is None:
        arrival = np.cumsum(rr) / 1000.0
        starts = np.arange(rr.size)
    else:
        arrival = recording.arrival_s - recording.arrival_s[0] + rr[0] / 1000.0
        starts = _notifications(arrival)
    ends = np.append(starts[1:], rr.size)
    at = arrival[ends - 1]
    sums_s = np.add.reduceat(rr, starts) / 1000.0
    gap_after = np.append(np.diff(at) > GAP_FACTOR * (sums_s[1:] + 1.0), False)
    # A capture's beat times are fitted to each stretch between gaps whole
    # (:func:`~heartsease.sensors.timing.retime`), each beat at its notification's arrival
    # as the live reader saw it: the file holds every notification, so the replay need not
    # guess as the live reader must. A plain RR recording's beats end where the intervals
    # add up to.
    fitted = (None if recording.arrival_s is None
              else retime(np.repeat(at, ends - starts), rr, at[gap_after]))
    clock = clock or MonotonicClock()
    start = clock.now()
    for k in range(at.size):
        first, end, at_k = int(starts[k]), int(ends[k]), float(at[k])
        if speed is not None:
            await clock.sleep(start + at_k / speed - clock.now())
        values = rr[first:end]
        yield Measurement(
            arrival_s=at_k,
            hr_bpm=round(60000.0 / float(np.mean(values))),
            rr_ms=tuple(values.tolist()),
            beat_times_s=((at_k,) if fitted is None
                          else tuple(round(t, 9) for t in fitted[first:end].tolist())),
            contact=SensorContact.NOT_SUPPORTED,
        )
        if gap_after[k]:
            yield Gap(at_k, float(at[k + 1]), "no beats in the recording")


def _notifications(arrival: NDArray[np.float64]) -> NDArray[np.intp]:
    """The first row of each notification: rows whose arrival times are within a millisecond
    of the previous came together."""
    return np.append(0, np.flatnonzero(np.diff(arrival) > SAME_NOTIFICATION_S) + 1)
