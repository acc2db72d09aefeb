"""Short-window heart-rate spectra, the common ground of coherence and breathing rate.

A short window (64 s for coherence) is resampled at 4 Hz on a grid that ends at the last
beat, linearly detrended (so that slow drift does not leak into the band of interest),
Hann-windowed and zero-padded to 2048 points (0.00195 Hz bins). The PSD is one-sided, in
ms^2/Hz, scaled so that its sum times the bin width equals the variance of the windowed
segment (scipy's "density" scaling). Powers are sums of bins times the bin width.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import NamedTuple, cast

import numpy as np
from numpy.typing import ArrayLike, NDArray

from heartsease.signal.hrv import RESAMPLING_HZ, band_slice, beat_times_s
from heartsease.signal.interpolation import FloatArray, NotAKnotSpline
from heartsease.signal.psd import periodograms_below, welch_density

SHORT_WINDOW_S = 64.0  # coherence, breathing rate and pacer adherence all read 64 s
SHORT_WINDOW_NFFT = 2048
# What a recording's windows are read for lies under this: breathing's band ends at 0.5 Hz
# (its peak's power reaches 0.015 Hz above, and a peak needs the bin past it), coherence's
# total power at 0.4 Hz.
RECORDING_WINDOW_MAX_HZ = 0.55
# Windows whose spectra are computed in one matrix product: 1024 x 282 bins, 2.3 MiB of PSD.
WINDOWS_PER_BATCH = 1024


@dataclass(frozen=True, slots=True)
class Spectrum:
    """A one-sided PSD in ms^2/Hz on an even frequency grid starting at 0 Hz."""

    f_hz: FloatArray
    psd: FloatArray
    df_hz: float = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "df_hz", float(self.f_hz[1]) - float(self.f_hz[0]))

    def power(self, low_hz: float, high_hz: float) -> float:
        """Power in ms^2 of the bins with ``low_hz <= f <= high_hz``."""
        band = band_slice(self.df_hz, self.psd.size, low_hz, high_hz)
        return float(self.psd[band].sum()) * self.df_hz

    def peak_hz(self, low_hz: float, high_hz: float) -> float:
        """Frequency of the highest bin in ``[low_hz, high_hz]``."""
        band = band_slice(self.df_hz, self.psd.size, low_hz, high_hz)
        return float(self.f_hz[band.start + int(np.argmax(self.psd[band]))])


def periodogram(x: ArrayLike, fs_hz: float = RESAMPLING_HZ) -> Spectrum:
    """Linearly detrended, Hann-windowed periodogram of an evenly sampled signal, zero-padded
    to :data:`SHORT_WINDOW_NFFT` points.

    Examples
    --------
    >>> t = np.arange(256) / 4.0
    >>> s = periodogram(50 * np.sin(2 * np.pi * 0.125 * t))
    >>> s.peak_hz(0.04, 0.26)
    0.125
    """
    samples = np.asarray(x, dtype=np.float64)
    n = samples.size
    f, p = welch_density(samples, fs_hz, n, 0, max(SHORT_WINDOW_NFFT, n), detrend="linear")
    return Spectrum(f_hz=f, psd=p)


def last_window(
    rr_ms: ArrayLike, window_s: float, fs_hz: float = RESAMPLING_HZ
) -> FloatArray | None:
    """The last ``window_s`` seconds of the tachogram, resampled at ``fs_hz`` on a grid ending
    at the last beat; ``None`` when the beats do not cover the whole window. The spline runs
    through every beat given, so callers pass the beats they mean (a live window).

    Examples
    --------
    >>> last_window(np.full(100, 1000.0), 64.0).shape
    (256,)
    >>> last_window(np.full(30, 1000.0), 64.0) is None
    True
    """
    rr = np.asarray(rr_ms, dtype=np.float64)
    if rr.size < 4:
        return None
    t = beat_times_s(rr)
    grid = last_window_grid(t, window_s, fs_hz)
    return None if grid is None else NotAKnotSpline(t, rr)(grid)


def last_window_grid(
    t_s: FloatArray, window_s: float, fs_hz: float = RESAMPLING_HZ
) -> FloatArray | None:
    """Grid of ``window_s * fs_hz`` points ending at the last beat; ``None`` if not covered."""
    n = int(round(window_s * fs_hz))
    grid = t_s[-1] - np.arange(n)[::-1] / fs_hz
    return None if grid[0] < t_s[0] else grid


def short_window_spectrum(
    rr_ms: ArrayLike, window_s: float, fs_hz: float = RESAMPLING_HZ
) -> Spectrum | None:
    """:func:`periodogram` of :func:`last_window`; ``None`` when the window is not covered."""
    x = last_window(rr_ms, window_s, fs_hz)
    return None if x is None else periodogram(x, fs_hz)


def window_bins(n_samples: int, fs_hz: float, max_hz: float) -> tuple[int, int]:
    """The FFT length of a short window of ``n_samples`` (:func:`periodogram`'s) and how
    many of its bins lie at or under ``max_hz``."""
    nfft = max(SHORT_WINDOW_NFFT, n_samples)
    return nfft, min(int(max_hz * nfft / fs_hz) + 1, nfft // 2)


class WindowBatch(NamedTuple):
    """Some of a recording's windows: their numbers and the times their grids end at."""

    index: NDArray[np.intp]
    last_s: FloatArray


def recording_window_batches(
    rr_ms: ArrayLike, window_s: float, step_s: float, fs_hz: float = RESAMPLING_HZ,
) -> list[WindowBatch]:
    """The ``window_s`` windows ending every ``step_s`` s of a whole recording that its
    beats cover, in batches of at most :data:`WINDOWS_PER_BATCH`; which windows and why, as
    :func:`recording_window_psds` says.

    Examples
    --------
    >>> [b.index.tolist() for b in recording_window_batches(np.full(200, 1000.0), 64.0, 50.0)]
    [[0, 1, 2]]
    """
    rr = np.asarray(rr_ms, dtype=np.float64)
    t = beat_times_s(rr)
    ends = np.arange(t[0] + window_s, t[-1] + 1e-9, step_s) if rr.size >= 4 else t[:0]
    stops = np.searchsorted(t, ends, side="right")
    firsts = np.maximum(0, np.searchsorted(t, ends - window_s, side="left") - 2)
    last = t[stops - 1]
    covered = np.flatnonzero((last - _grid_offsets(window_s, fs_hz)[0] >= t[firsts])
                             & (stops - firsts >= 4))
    if covered.size == 0:
        return []
    return [WindowBatch(batch, last[batch])
            for batch in np.array_split(covered, -(-covered.size // WINDOWS_PER_BATCH))]


def _grid_offsets(window_s: float, fs_hz: float) -> FloatArray:
    """How far before a window's last beat each of its samples lies, first to last."""
    return np.arange(int(round(window_s * fs_hz)))[::-1] / fs_hz


def window_samples(spline: NotAKnotSpline, batch: WindowBatch, window_s: float,
                   fs_hz: float = RESAMPLING_HZ) -> FloatArray:
    """The tachogram samples of a batch's windows, one row a window, from the spline through
    every beat of the recording."""
    grid = batch.last_s[:, None] - _grid_offsets(window_s, fs_hz)
    return spline(grid.ravel()).reshape(grid.shape)


def recording_window_psds(
    rr_ms: ArrayLike, window_s: float, step_s: float, fs_hz: float = RESAMPLING_HZ,
) -> Iterator[tuple[NDArray[np.intp], FloatArray, FloatArray]]:
    """The spectra of the ``window_s`` windows ending every ``step_s`` s of a whole
    recording, in batches: ``(window numbers, f_hz, PSD rows)``, each row the bins of
    :func:`periodogram` up to :data:`RECORDING_WINDOW_MAX_HZ` (a day's 17,000 windows in a
    third of the time their whole FFTs took; issue 27).

    Window ``k`` ends at the last beat at or before ``t[0] + window_s + k * step_s`` and is
    the :func:`short_window_spectrum` of the beats from two before its start (``None``, so
    left out, where those beats do not cover it). The tachogram is resampled once, by one
    spline through every beat, not by a spline per window: offline the beats on both sides
    of a window are known, so this is the better interpolant, and the 17,000 windows of a
    24-hour day take seconds less. It differs from a live window's spline, which must end
    at the last beat, only near the window's ends: on the Polar H10 recording in refdata the
    windows' PSDs differ from the per-window ones by a median 0.007 % (at most 0.07 %).

    Examples
    --------
    >>> rr = 1000 + 60 * np.sin(2 * np.pi * 0.1 * np.arange(200))
    >>> [(k.tolist(), round(float(f[np.argmax(p[0])]), 2))
    ...  for k, f, p in recording_window_psds(rr, 64.0, 50.0)]
    [([1, 2], 0.1)]
    """
    rr = np.asarray(rr_ms, dtype=np.float64)
    nfft, n_bins = window_bins(int(round(window_s * fs_hz)), fs_hz, RECORDING_WINDOW_MAX_HZ)
    batches = recording_window_batches(rr, window_s, step_s, fs_hz)
    spline = NotAKnotSpline(beat_times_s(rr), rr) if batches else None
    for batch in batches:
        samples = window_samples(cast(NotAKnotSpline, spline), batch, window_s, fs_hz)
        f, psd = periodograms_below(samples, fs_hz, nfft, n_bins)
        yield batch.index, f, psd
