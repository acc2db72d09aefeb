"""Beat times from batched, late notifications on a drifting strap clock.

A strap sends RR intervals, not beat times, about once a second, several at a time and
sometimes seconds late (STRAPS.md). Beat times are therefore the cumulative RR series,
exact between beats, mapped onto the host clock by an offset that drifts slowly (the
strap's crystal runs some tens of ppm off the host's).

Every notification arrives after its last beat, so each ``arrival - cumulative RR`` lies on
or above the true offset line. The offset is estimated as in Moon, Skelly & Towsley (1999,
"Estimation and removal of clock skew from network delay measurements"): of the lines lying
below every point of the last five minutes, the one closest to them on average. That line
is an edge of the points' lower convex hull. Slopes are bounded to +/-200 ppm, the range of
real crystals, and the line stays flat until a minute of points shows a drift that moves
it by more than two of the strap's 1/1024-s ticks across the window.
"""

from __future__ import annotations

from collections import deque
from itertools import pairwise

import numpy as np
from numpy.typing import ArrayLike, NDArray

from heartsease.sensors.hrm import RR_UNITS_PER_S

ENVELOPE_WINDOW_S = 300.0
MAX_DRIFT = 200e-6
MIN_SPAN_FOR_DRIFT_S = 60.0
MIN_FIT_GAIN_S = 0.5 / 1024
MIN_DRIFT_SHOWN_S = 2.0 / 1024


class BeatClock:
    """Turns notifications (arrival time, RR intervals) into beat times on the host clock.

    Examples
    --------
    >>> clock = BeatClock()
    >>> clock.place(10.020, [1000.0])  # first notification, 20 ms after its beat
    (10.02,)
    >>> clock.place(11.001, [990.0])   # a faster one shows the offset was 19 ms too high
    (11.001,)
    """

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Forget the anchor (after a reconnect: beats before and after are unrelated)."""
        self._strap_s = 0.0  # cumulative RR since the anchor, in strap time
        self._points: deque[tuple[float, float]] = deque()  # (arrival, arrival - strap)

    def place(self, arrival_s: float, rr_ms: list[float]) -> tuple[float, ...]:
        """Beat times for the intervals of one notification, oldest first."""
        if not rr_ms:
            return ()
        strap = []
        for rr in rr_ms:
            self._strap_s += rr / 1000.0
            strap.append(self._strap_s)
        self._points.append((arrival_s, arrival_s - self._strap_s))
        while self._points[0][0] < arrival_s - ENVELOPE_WINDOW_S:
            self._points.popleft()
        offset = self._offset_at(arrival_s)
        # A beat cannot be later than the notification that reported it.
        return tuple(round(min(s + offset, arrival_s), 9) for s in strap)

    def _offset_at(self, t: float) -> float:
        points = list(self._points)
        n = len(points)
        sum_t = sum(p[0] for p in points)
        sum_y = sum(p[1] for p in points)
        lowest = min(p[1] for p in points)
        # The flat line through the lowest point is always a candidate (no drift known yet).
        best_slope, best_intercept = 0.0, lowest
        best_cost = sum_y - n * lowest
        # Tilt the line only when the window is long enough to show drift and tilting fits
        # better by more than the strap's own resolution; otherwise quantisation noise
        # (+/-0.49 ms per beat) would be read as drift.
        if points[-1][0] - points[0][0] < MIN_SPAN_FOR_DRIFT_S:
            return lowest
        flat_cost = best_cost
        hull = _lower_hull(points)
        for (t0, y0), (t1, y1) in pairwise(hull):
            # Two notifications can share an arrival time (a clock of 1-ms resolution, as
            # uvloop's): no slope between them.
            if t1 <= t0:
                continue
            slope = (y1 - y0) / (t1 - t0)
            if abs(slope) > MAX_DRIFT:
                continue
            intercept = y0 - slope * t0
            cost = sum_y - n * intercept - slope * sum_t  # mean distance above the line, x n
            # A drift is believed only when it moves the line by more than two of the
            # strap's ticks across the window: a slope that quantisation noise can fake
            # (a few ppm) would otherwise be extrapolated to now and push beats a
            # millisecond or more late.
            shown = abs(slope) * (points[-1][0] - points[0][0])
            if cost < best_cost and flat_cost - cost > n * MIN_FIT_GAIN_S \
                    and shown > MIN_DRIFT_SHOWN_S:
                best_slope, best_intercept, best_cost = slope, intercept, cost
        return best_intercept + best_slope * t


def _lower_hull(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Lower convex hull of points sorted by time (Andrew's monotone chain)."""
    hull: list[tuple[float, float]] = []
    for p in points:
        while len(hull) >= 2 and _cross(hull[-2], hull[-1], p) <= 0:
            hull.pop()
        hull.append(p)
    return hull


def _cross(o: tuple[float, float], a: tuple[float, float], b: tuple[float, float]) -> float:
    return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])


def retime_segment(arrival_s: ArrayLike, rr_ms: ArrayLike) -> NDArray[np.float64]:
    """Beat times for one connected stretch of a strap's recording, seen whole.

    The live :class:`BeatClock` places each beat as it arrives, from the notifications so
    far: in the first minute it cannot yet know how late the link delivers, and a drift it
    has seen it must extrapolate to now. Once the stretch is over (the link dropped, the
    session ended), every notification of it is known, and the offset line is the one Moon,
    Skelly & Towsley (1999) fit offline: of the lines below every point ``arrival -
    cumulative RR``, the one closest to them on average, which is the lower hull's edge
    above the points' mean arrival time (slopes bounded to +/-200 ppm, as live).

    The points lowest above that line are those whose beats the strap stamped about half a
    tick late (its RR are in 1/1024 s, so its beat stamps are off by up to a tick, evenly
    spread): beats lie, on average, half a tick above the edge of the points, and that is
    where they are placed, so that the stamps' error is centred whether the strap rounds or
    truncates. The line itself lies above that edge by the lowest point's height, which
    shrinks as points accumulate; its expected value, estimated from how many points lie
    within a tick of the line, is taken off (:func:`_expected_gap_s`).

    Parameters
    ----------
    arrival_s : array_like
        For each beat, when the notification that carried it arrived (the same for the beats
        of one notification), on the host clock, non-decreasing.
    rr_ms : array_like
        The RR interval that each beat ends, as the strap sent it.

    Returns
    -------
    numpy.ndarray
        Each beat's time on the host clock, never later than its notification.

    Examples
    --------
    Three notifications, 9, 2 and 5 ms after their last beat: the fastest sets the line
    (too few to tell how far above the edge it lies, so no centring):

    >>> import numpy as np
    >>> t = retime_segment([1.009, 2.002, 2.002, 3.005], [1000.0, 500.0, 500.0, 1000.0])
    >>> np.round(t, 4).tolist()
    [1.002, 1.502, 2.002, 3.002]
    """
    arrival = np.asarray(arrival_s, dtype=np.float64)
    strap = np.cumsum(np.asarray(rr_ms, dtype=np.float64)) / 1000.0
    if arrival.size == 0:
        return arrival
    # Of a notification's beats, its last is the one its arrival bounds most tightly.
    last = np.flatnonzero(np.append(np.diff(arrival) != 0, True))
    x, y = arrival[last], arrival[last] - strap[last]
    slope, intercept = _support_line(x, y, float(x.mean()))
    placed = strap + intercept + slope * arrival + HALF_TICK_S - _expected_gap_s(
        y - intercept - slope * x)
    return np.minimum(placed, arrival)


def retime(arrival_s: ArrayLike, rr_ms: ArrayLike, gap_starts_s: ArrayLike = ()
           ) -> NDArray[np.float64]:
    """:func:`retime_segment` over a whole recording, stretch by stretch: a new stretch
    begins after each gap (the strap reconnected: its RR series restarts, with the beats of
    the gap missing) and wherever arrival times go back (two recordings joined).

    Examples
    --------
    >>> import numpy as np
    >>> t = retime([1.002, 2.003, 10.004, 11.002], [1000.0] * 4, gap_starts_s=[5.0])
    >>> np.round(t, 4).tolist()
    [1.002, 2.002, 10.002, 11.002]
    """
    arrival = np.asarray(arrival_s, dtype=np.float64)
    rr = np.asarray(rr_ms, dtype=np.float64)
    stretch = np.searchsorted(np.sort(np.asarray(gap_starts_s, dtype=np.float64)), arrival)
    stretch = stretch + np.cumsum(np.r_[0, np.diff(arrival) < 0])
    placed = np.empty_like(arrival)
    for k in np.unique(stretch):
        these = stretch == k
        placed[these] = retime_segment(arrival[these], rr[these])
    return placed


TICK_S = 1.0 / RR_UNITS_PER_S  # the strap's RR resolution
HALF_TICK_S = TICK_S / 2


def _expected_gap_s(residual_s: NDArray[np.float64]) -> float:
    """How far the lowest points are expected to sit above the edge they bound.

    A point's height above the true edge is its link latency plus how early the strap
    stamped its beat (up to a tick): near the edge, with latencies of any smooth density,
    the count of points within ``e`` of it grows as ``e**2``. Fitted to the count within a
    tick of the line, that gives the lowest point's expected height, half of
    ``sqrt(pi / (n c))``, with ``n c`` points per squared second: the mean of the smallest of
    ``n`` such heights (a Weibull law of shape 2)."""
    near = int(np.count_nonzero(residual_s < TICK_S))
    if near == 0:
        return 0.0
    return float(min(0.5 * TICK_S * np.sqrt(np.pi / near), HALF_TICK_S))


def _support_line(x: NDArray[np.float64], y: NDArray[np.float64],
                  at: float) -> tuple[float, float]:
    """The highest line at ``at`` lying below every point (``x`` ascending), its slope within
    +/-MAX_DRIFT."""
    hull = _lower_hull(list(zip(x.tolist(), y.tolist(), strict=True)))
    slope = 0.0
    span = float(x[-1] - x[0])
    for (t0, y0), (t1, y1) in pairwise(hull):
        if t0 <= at <= t1 and t1 > t0:
            slope = float(np.clip((y1 - y0) / (t1 - t0), -MAX_DRIFT, MAX_DRIFT))
            break
    # As live: a drift is believed only over a long enough stretch, and when it moves the
    # line by more than the strap's quantisation can fake.
    if span < MIN_SPAN_FOR_DRIFT_S or abs(slope) * span <= MIN_DRIFT_SHOWN_S:
        slope = 0.0
    intercept = float(np.min(y - slope * x))
    return slope, intercept
