"""Heart-rate statistics and the geometric HRV measures of a Kubios HRV report.

Definitions follow the Task Force of the ESC and NASPE (1996), "Heart rate variability:
standards of measurement", Circulation 93:1043-1065, and the Kubios HRV user's guide
(Tarvainen et al., Kubios HRV 3.x): the RR histogram has bins of 1/128 s (7.8125 ms, the
Task Force's sampling-clock bin), starting at 0 ms; the triangular index is the number of
intervals over the height of the histogram; TINN is the base of the triangle fitted to the
histogram by least squares; minimum and maximum heart rate are taken over an N-beat moving
average (Kubios' option, 5 beats by default).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from numpy.typing import ArrayLike

from heartsease.signal.interpolation import FloatArray

HISTOGRAM_BIN_MS = 1000.0 / 128.0
MIN_MAX_HR_BEATS = 5


@dataclass(frozen=True, slots=True)
class HeartRateStats:
    """Mean, standard deviation, minimum and maximum heart rate in beats per minute."""

    mean_hr_bpm: float
    std_hr_bpm: float
    min_hr_bpm: float
    max_hr_bpm: float

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


def heart_rate_stats(rr_ms: ArrayLike, average_beats: int = MIN_MAX_HR_BEATS) -> HeartRateStats:
    """Heart-rate statistics of an RR series.

    Mean HR is ``60000 / mean RR`` (Kubios). STD HR is the sample standard deviation of the
    instantaneous heart rate ``60000 / RR`` (Kubios' guide: "standard deviation of
    instantaneous heart rate values"; Kubios 3.1's own report prints a different, smaller
    figure, see tests). Min and max HR are the extremes of the ``average_beats``-beat moving
    average of the instantaneous heart rate (1 gives the single fastest and slowest beat).

    Examples
    --------
    >>> s = heart_rate_stats([1000, 500, 1000, 1000, 1000, 1000], average_beats=1)
    >>> s.min_hr_bpm, s.max_hr_bpm
    (60.0, 120.0)
    >>> heart_rate_stats([1000, 500, 1000, 1000, 1000, 1000], average_beats=5).max_hr_bpm
    72.0
    """
    rr = np.asarray(rr_ms, dtype=np.float64)
    hr = 60000.0 / rr
    beats = max(1, min(int(average_beats), hr.size))
    averaged = np.convolve(hr, np.full(beats, 1.0 / beats), mode="valid")
    return HeartRateStats(
        mean_hr_bpm=float(60000.0 / rr.mean()),
        std_hr_bpm=float(hr.std(ddof=1)) if hr.size > 1 else 0.0,
        min_hr_bpm=float(averaged.min()),
        max_hr_bpm=float(averaged.max()),
    )


def rr_histogram(
    rr_ms: ArrayLike, bin_ms: float = HISTOGRAM_BIN_MS
) -> tuple[FloatArray, FloatArray]:
    """Counts of the RR histogram and its bin centres in ms; bins start at 0 ms.

    Examples
    --------
    >>> counts, centres = rr_histogram([800.0, 801.0, 810.0], bin_ms=10.0)
    >>> counts.tolist(), centres.tolist()
    ([2.0, 1.0], [805.0, 815.0])
    """
    rr = np.asarray(rr_ms, dtype=np.float64)
    first = int(np.floor(rr.min() / bin_ms))
    index = np.floor(rr / bin_ms).astype(np.int64) - first
    counts = np.bincount(index).astype(np.float64)
    centres = (first + np.arange(counts.size) + 0.5) * bin_ms
    return counts, centres


def rr_triangular_index(rr_ms: ArrayLike, bin_ms: float = HISTOGRAM_BIN_MS) -> float:
    """HRV triangular index: the number of intervals over the highest histogram bin count.

    Examples
    --------
    >>> rr_triangular_index([800.0, 801.0, 810.0, 900.0], bin_ms=10.0)
    2.0
    """
    counts, _ = rr_histogram(rr_ms, bin_ms)
    return float(counts.sum() / counts.max())


def _best_foot(counts: FloatArray, centres: FloatArray, peak: int, feet: FloatArray) -> float:
    """The foot of one side of the triangle that minimises the squared error on that side.

    The triangle is 0 beyond its foot and rises linearly to the histogram's peak; the error is
    summed over every bin on that side of the peak, so each side is fitted on its own.
    """
    x_peak, height = centres[peak], counts[peak]
    reach = feet - x_peak
    reach = reach[reach != 0]
    if reach.size == 0:
        return float(x_peak)
    on_side = np.sign(centres - x_peak) == np.sign(reach[0])
    side = centres[on_side] - x_peak
    # One row per candidate foot: the triangle's height at each bin on this side.
    shape = np.clip(1.0 - side[None, :] / reach[:, None], 0.0, None)
    errors = np.sum((counts[on_side][None, :] - height * shape) ** 2, axis=1)
    return float(x_peak + reach[int(np.argmin(errors))])


def tinn_ms(rr_ms: ArrayLike, bin_ms: float = HISTOGRAM_BIN_MS) -> float:
    """TINN: the base width ``M - N`` of the triangle fitted to the RR histogram.

    Task Force (1996): the triangle ``q`` with ``q(N) = q(M) = 0`` and its apex at the
    histogram's peak minimises the squared difference with the histogram; N and M are
    searched on the bin edges below and above the peak.

    Examples
    --------
    >>> rr = np.concatenate([np.full(4, 790.0), np.full(8, 800.0), np.full(4, 810.0)])
    >>> tinn_ms(rr, bin_ms=10.0)
    50.0
    """
    counts, centres = rr_histogram(rr_ms, bin_ms)
    peak = int(np.argmax(counts))
    edges = np.concatenate([centres - bin_ms / 2.0, [centres[-1] + bin_ms / 2.0]])
    edges = np.concatenate([[edges[0] - bin_ms], edges, [edges[-1] + bin_ms]])
    left = _best_foot(counts, centres, peak, edges[edges < centres[peak]])
    right = _best_foot(counts, centres, peak, edges[edges > centres[peak]])
    return right - left
