"""Heart rhythm coherence (McCraty & Zayas 2014, after the HeartMath coherence ratio).

McCraty R, Zayas MA. "Cardiac coherence, self-regulation, autonomic stability, and
psychosocial well-being." Front Psychol 5:1090, 2014.

Every choice the paper leaves open, as made here:

- window: the last 64 s of beats, ending at the last beat, resampled at 4 Hz by cubic
  spline (256 samples); shorter series have no coherence (``None``);
- spectrum: :func:`heartsease.signal.spectrum.periodogram` -- linear detrend, Hann window,
  zero-padded to 2048 points (0.00195 Hz bins), one-sided PSD in ms^2/Hz;
- peak: the highest bin with 0.04 <= f <= 0.26 Hz (both edges included);
- peak power: bins with |f - f_peak| <= 0.015 Hz (a 0.030 Hz window, 15-16 bins);
- total power: bins with 0.0033 <= f <= 0.4 Hz; the peak window always lies inside it;
- powers are bin sums times the bin width (ms^2);
- coherence ratio = peak power / (total power - peak power).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from numpy.typing import ArrayLike

from heartsease.signal.hrv import band_slice
from heartsease.signal.interpolation import FloatArray
from heartsease.signal.spectrum import SHORT_WINDOW_S, Spectrum, short_window_spectrum

COHERENCE_WINDOW_S = SHORT_WINDOW_S
COHERENCE_UPDATE_S = 5.0
PEAK_SEARCH_HZ = (0.04, 0.26)
PEAK_HALF_WIDTH_HZ = 0.015
TOTAL_BAND_HZ = (0.0033, 0.4)


@dataclass(frozen=True, slots=True)
class Coherence:
    """One coherence reading: the ratio, its peak and the powers behind it (ms^2)."""

    coherence_ratio: float
    peak_hz: float
    peak_power_ms2: float
    total_power_ms2: float

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


def coherence_from_spectrum(spectrum: Spectrum) -> Coherence:
    """The coherence ratio of a spectrum (see the module docstring for every edge).

    Examples
    --------
    >>> import numpy as np
    >>> from heartsease.signal.spectrum import periodogram
    >>> t = np.arange(256) / 4.0
    >>> c = coherence_from_spectrum(periodogram(40 * np.sin(2 * np.pi * 0.1 * t)))
    >>> round(c.peak_hz, 3), c.coherence_ratio > 5
    (0.1, True)
    """
    peak_hz = spectrum.peak_hz(*PEAK_SEARCH_HZ)
    peak = spectrum.power(peak_hz - PEAK_HALF_WIDTH_HZ, peak_hz + PEAK_HALF_WIDTH_HZ)
    total = spectrum.power(*TOTAL_BAND_HZ)
    rest = total - peak
    ratio = peak / rest if rest > 0 else float("inf")
    return Coherence(
        coherence_ratio=ratio, peak_hz=peak_hz, peak_power_ms2=peak, total_power_ms2=total
    )


def coherence(rr_ms: ArrayLike, window_s: float = COHERENCE_WINDOW_S) -> Coherence | None:
    """Coherence of the last 64 s of an RR series; ``None`` if it is shorter than that.

    Examples
    --------
    >>> import numpy as np
    >>> beats = np.arange(120)
    >>> rr = 1000 + 80 * np.sin(2 * np.pi * 0.1 * beats)  # one beat a second, 6/min swing
    >>> c = coherence(rr)
    >>> round(c.peak_hz, 2), c.coherence_ratio > 3
    (0.1, True)
    """
    spectrum = short_window_spectrum(rr_ms, window_s)
    return None if spectrum is None else coherence_from_spectrum(spectrum)


def _bin_edges(f_hz: FloatArray, df_hz: float, n_bins: int) -> tuple[np.ndarray, np.ndarray]:
    """:func:`~heartsease.signal.hrv.band_slice`'s start and stop for the bands within
    :data:`PEAK_HALF_WIDTH_HZ` of each frequency in ``f_hz``."""
    eps = 1e-9
    start = np.maximum(0, np.ceil((f_hz - PEAK_HALF_WIDTH_HZ) / df_hz - eps)).astype(np.intp)
    stop = np.minimum(n_bins, np.floor((f_hz + PEAK_HALF_WIDTH_HZ) / df_hz + eps) + 1)
    return start, np.maximum(start, stop.astype(np.intp))


def coherence_ratios(f_hz: FloatArray, psd_rows: FloatArray) -> FloatArray:
    """:func:`coherence_from_spectrum`'s ratio for every row of ``psd_rows`` at once (the
    thousands of windows of a long recording).

    Examples
    --------
    >>> from heartsease.signal.psd import periodograms_below
    >>> t = np.arange(256) / 4.0
    >>> f, p = periodograms_below(np.vstack([np.sin(2 * np.pi * 0.1 * t), np.cos(t)]), 4.0,
    ...                           2048, 300)
    >>> expected = [coherence_from_spectrum(Spectrum(f, row)).coherence_ratio for row in p]
    >>> bool(np.allclose(coherence_ratios(f, p), expected, rtol=1e-9))
    True
    """
    first = Spectrum(f_hz, psd_rows[0])
    df, n_bins = first.df_hz, f_hz.size
    search = band_slice(df, n_bins, *PEAK_SEARCH_HZ)
    peak_bin = search.start + np.argmax(psd_rows[:, search], axis=1)
    start, stop = _bin_edges(f_hz[peak_bin], df, n_bins)
    # Cumulative sums only as far as the highest band edge (a fifth of the bins): a prefix
    # of the full cumulative sum, the same numbers.
    reach = int(stop.max())
    cumulative = np.zeros((psd_rows.shape[0], reach + 1))
    np.cumsum(psd_rows[:, :reach], axis=1, out=cumulative[:, 1:])
    rows = np.arange(psd_rows.shape[0])
    peak = (cumulative[rows, stop] - cumulative[rows, start]) * df
    total_band = band_slice(df, n_bins, *TOTAL_BAND_HZ)
    total = psd_rows[:, total_band].sum(axis=1) * df
    rest = total - peak
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(rest > 0, peak / rest, np.inf)
