"""Rolling medians and quartile deviations over RR windows, batch and streaming alike.

The artifact thresholds of Lipponen & Tarvainen (2019) are read from 91-beat quartile
deviations and 11-beat medians. A :class:`SortedWindow` slides beat by beat (the causal
detector); :func:`rolling` gives a whole series' values with the same arithmetic, so batch
and live decisions agree exactly.
"""

from __future__ import annotations

import math
from bisect import bisect_left, insort
from collections.abc import Sequence
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

Window = Literal["centered", "trailing"]
# Full windows ordered at once per batch: 8,192 x 91 ranks, 3 MiB.
ROLLING_BATCH_ROWS = 8192


class SortedWindow:
    """A multiset kept sorted, for rolling quantiles in O(log n) per step.

    Quantiles interpolate linearly between order statistics (numpy's default ``linear``
    method), computed the same way in batch and streaming use so the two agree exactly.
    """

    def __init__(self) -> None:
        self._values: list[float] = []

    @classmethod
    def of(cls, values: ArrayLike) -> SortedWindow:
        """A window holding ``values``."""
        window = cls()
        window._values = sorted(np.asarray(values, dtype=np.float64).tolist())
        return window

    def __len__(self) -> int:
        return len(self._values)

    def add(self, value: float) -> None:
        insort(self._values, value)

    def remove(self, value: float) -> None:
        del self._values[bisect_left(self._values, value)]

    def quantile(self, q: float) -> float:
        position = q * (len(self._values) - 1)
        below = int(position)
        fraction = position - below
        if fraction == 0.0:
            return self._values[below]
        a, b = self._values[below], self._values[below + 1]
        return a + (b - a) * fraction

    def quartile_deviation(self) -> float:
        return (self.quantile(0.75) - self.quantile(0.25)) / 2.0


def rolling(x: Sequence[float], width: int, window: Window, stat: str) -> NDArray[np.float64]:
    """Rolling quartile deviation (``stat="qd"``) or median; windows are clipped at the ends.

    ``"centered"`` windows span ``width // 2`` beats either side, ``"trailing"`` windows end
    at the beat. Full windows are read from order statistics of all of them at once
    (each row of ranks sorted, :func:`_full_window_stat`: numpy's vectorised sort orders
    91-beat rows several times as fast as ``np.partition`` finds their four quartile
    neighbours)
    with :meth:`SortedWindow.quantile`'s arithmetic, so the result is
    the same to the last bit as a :class:`SortedWindow` sliding over them (the causal
    detector's); the clipped windows at the ends likewise (:func:`_clipped_window_stat`).

    Examples
    --------
    >>> rolling([5.0, 1.0, 4.0, 2.0, 3.0], 3, "centered", "median").tolist()
    [3.0, 4.0, 2.0, 3.0, 2.5]
    """
    values = np.asarray(x, dtype=np.float64)
    n = values.size
    out = np.empty(n)
    before, after = (width // 2, width // 2) if window == "centered" else (width - 1, 0)
    first_full, stop_full = before, max(before, n - after)
    clipped = np.array([*range(min(first_full, n)), *range(stop_full, n)], dtype=np.intp)
    if clipped.size:
        out[clipped] = _clipped_window_stat(values, np.maximum(0, clipped - before),
                                            np.minimum(n, clipped + after + 1), stat)
    if stop_full > first_full:
        out[first_full:stop_full] = _full_window_stat(values, width, stat)
    return out


def _order_statistics(q: float, width: int) -> tuple[int, float]:
    position = q * (width - 1)
    return int(position), position - int(position)


def _clipped_window_stat(values: NDArray[np.float64], starts: NDArray[np.intp],
                         stops: NDArray[np.intp], stat: str) -> NDArray[np.float64]:
    """:func:`window_stat` of ``values[start:stop]`` for each start and stop (the clipped
    windows at a series' ends, each shorter than the full width), all sorted at once: each
    row padded with NaN, which sorts last, and read as :meth:`SortedWindow.quantile` reads
    its values, the same arithmetic on the same numbers (one window at a time, a day's
    twelve rolling statistics took 10 ms)."""
    lengths = stops - starts
    index = starts[:, None] + np.arange(int(lengths.max()))[None, :]
    inside = index < stops[:, None]
    rows = np.full(index.shape, np.nan)
    rows[inside] = values[index[inside]]
    ordered = np.sort(rows, axis=1)
    picked = np.arange(ordered.shape[0])

    def quantile(q: float) -> NDArray[np.float64]:
        position = q * (lengths - 1)
        below = position.astype(np.intp)
        fraction = position - below
        a = ordered[picked, below]
        b = ordered[picked, np.minimum(below + 1, lengths - 1)]
        return np.where(fraction == 0.0, a, a + (b - a) * fraction)

    if stat == "median":
        return quantile(0.5)
    return (quantile(0.75) - quantile(0.25)) / 2.0


def _full_window_stat(values: NDArray[np.float64], width: int,
                      stat: str) -> NDArray[np.float64]:
    """:func:`window_stat` of every full ``width``-long window of ``values``, in order.

    The windows are ordered as rows of ranks, not of values: each value's place in the whole
    series (ties in any order, as equal values are alike), 32-bit integers, which numpy's
    vectorised sort orders in a third of the time of the 64-bit floats (a day's rows of 91,
    20 against 57 ms on a 2-core AVX2 machine); the ranks picked are turned back into the
    same values, so the quantiles are the same bits."""
    order = np.argsort(values)
    ranks = np.empty(values.size, dtype=np.int32)
    ranks[order] = np.arange(values.size, dtype=np.int32)
    ordered_values = values[order]
    windows = np.lib.stride_tricks.sliding_window_view(ranks, width)
    qs = (0.5,) if stat == "median" else (0.25, 0.75)
    picks = [_order_statistics(q, width) for q in qs]
    out = np.empty(windows.shape[0])
    for start in range(0, windows.shape[0], ROLLING_BATCH_ROWS):
        ordered = np.sort(windows[start : start + ROLLING_BATCH_ROWS], axis=1)
        quantiles = []
        for below, fraction in picks:
            a = ordered_values[ordered[:, below]]
            if fraction == 0.0:
                quantiles.append(a)
            else:
                b = ordered_values[ordered[:, below + 1]]
                quantiles.append(a + (b - a) * fraction)
        batch = quantiles[0] if stat == "median" else (quantiles[1] - quantiles[0]) / 2.0
        out[start : start + batch.size] = batch
    return out


def median(values: ArrayLike) -> float:
    """``np.median`` of finite values, to the bit, without importing ``numpy.ma``: the first
    ``np.median`` does (for its NaN check), 8 ms of a day's 0.5-s analysis (issue 27).

    Examples
    --------
    >>> median([3.0, 1.0, 2.0, 10.0])
    2.5
    """
    x = np.asarray(values, dtype=np.float64)
    if x.size == 0:
        return math.nan
    low, high = (x.size - 1) // 2, x.size // 2
    ordered = np.partition(x, [low, high])
    # np.median's mean of the middle two; of one value, the value itself (v + v is exact).
    return float((ordered[low] + ordered[high]) / 2.0)


def sorted_distinct(values: ArrayLike) -> NDArray[np.float64]:
    """``np.unique(values)``, without importing ``numpy.ma`` (which plain ``np.unique`` does
    to check for a masked array; asked for counts, it does not).

    Examples
    --------
    >>> sorted_distinct([2.0, 1.0, 2.0]).tolist()
    [1.0, 2.0]
    """
    return np.unique(np.asarray(values, dtype=np.float64), return_counts=True)[0]


def window_stat(window: SortedWindow, stat: str) -> float:
    return window.quantile(0.5) if stat == "median" else window.quartile_deviation()
