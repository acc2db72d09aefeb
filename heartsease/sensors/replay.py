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
    """:func:`replay` of a recording already read (an upload, say)."""
    rr = recording.rr_ms
    if recording.arrival_s is None:
        arrival = np.cumsum(rr) / 1000.0
        groups = [[i] for i in range(rr.size)]
    else:
        arrival = recording.arrival_s - recording.arrival_s[0] + rr[0] / 1000.0
        groups = _notifications(arrival)
    at = [float(arrival[group[-1]]) for group in groups]
    values = [[float(rr[i]) for i in group] for group in groups]
    gap_after = [at[k + 1] - at[k] > GAP_FACTOR * (sum(values[k + 1]) / 1000.0 + 1.0)
                 for k in range(len(groups) - 1)] + [False]
    beat_times = _beat_times(at, values, gap_after, recording.arrival_s is not None)
    clock = clock or MonotonicClock()
    start = clock.now()
    for k in range(len(groups)):
        if speed is not None:
            await clock.sleep(start + at[k] / speed - clock.now())
        yield Measurement(
            arrival_s=at[k],
            hr_bpm=round(60000.0 / float(np.mean(values[k]))),
            rr_ms=tuple(values[k]),
            beat_times_s=beat_times[k],
            contact=SensorContact.NOT_SUPPORTED,
        )
        if gap_after[k]:
            yield Gap(at[k], at[k + 1], "no beats in the recording")


def _beat_times(at: list[float], values: list[list[float]], gap_after: list[bool],
                captured: bool) -> list[tuple[float, ...]]:
    """Each notification's beat times. A capture's are fitted to each stretch between gaps
    whole (:func:`~heartsease.sensors.timing.retime`): the file holds every notification,
    so the replay need not guess as the live reader must; a plain RR recording's beats end
    where the intervals add up to."""
    if not captured:
        return [(a,) for a in at]
    times = retime([at[k] for k, group in enumerate(values) for _ in group],
                   [v for group in values for v in group],
                   [at[k] for k, gap in enumerate(gap_after) if gap])
    per_notification = np.split(times, np.cumsum([len(group) for group in values])[:-1])
    return [tuple(round(float(t), 9) for t in ts) for ts in per_notification]


def _notifications(arrival: np.ndarray) -> list[list[int]]:
    """Rows whose arrival times are within a millisecond of the previous came together."""
    groups: list[list[int]] = [[0]]
    for i in range(1, arrival.size):
        if arrival[i] - arrival[i - 1] <= SAME_NOTIFICATION_S:
            groups[-1].append(i)
        else:
            groups.append([i])
    return groups
