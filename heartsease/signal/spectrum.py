"""Short-window heart-rate spectra, the common ground of coherence and breathing rate.

A short window (64 s for coherence) is resampled at 4 Hz on a grid that ends at the last
beat, linearly detrended (so that slow drift does not leak into the band of interest),
Hann-windowed and zero-padded to 2048 points (0.00195 Hz bins). The PSD is one-sided, in
ms^2/Hz, scaled so that its sum times the bin width equals the variance of the windowed
segment (scipy's "density" scaling). Powers are sums of bins times the bin width.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike

from heartsease.signal.hrv import RESAMPLING_HZ, band_slice, beat_times_s
from heartsease.signal.interpolation import FloatArray, NotAKnotSpline
from heartsease.signal.psd import welch_density

SHORT_WINDOW_S = 64.0  # coherence, breathing rate and pacer adherence all read 64 s
SHORT_WINDOW_NFFT = 2048


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
