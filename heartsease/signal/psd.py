"""Welch power spectral density, lean enough for a spectral update per strap every 5 s.

Numerically scipy's ``signal.welch`` (periodic Hann window, ``density`` scaling, one-sided,
mean of segment periodograms; tests pin it to scipy within 1e-9 relative). scipy spends
~400 us per call on generic argument handling, more than the FFT; here windows are cached
and each segment is detrended in closed form.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike

from heartsease.signal.interpolation import FloatArray
from heartsease.signal.lapack import one_blas_thread

Detrend = Literal["constant", "linear"]


@lru_cache(maxsize=64)
def hann(n: int) -> FloatArray:
    """The periodic Hann window of ``n`` points (scipy's ``get_window("hann", n)``; computed
    here because importing ``scipy.signal`` took 2.2 s of a 10-minute recording's analysis)."""
    w = 0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(n) / n)
    w.flags.writeable = False
    return w


def _cached_dot(x: FloatArray) -> float:
    """``x @ x`` on one OpenBLAS thread, whoever asks first: OpenBLAS splits a long dot
    product between its threads, and a cached sum is every later caller's. An hour's
    spectrum differed in the 16th digit with the order tests ran in (the CLI on one
    thread, a test process on two) until this."""
    with one_blas_thread():
        return float(x @ x)


@lru_cache(maxsize=64)
def _window_energy(n: int) -> float:
    return _cached_dot(hann(n))


@lru_cache(maxsize=64)
def _frequencies(nfft: int, fs_hz: float) -> FloatArray:
    f = np.fft.rfftfreq(nfft, 1.0 / fs_hz)
    f.flags.writeable = False
    return f


@lru_cache(maxsize=64)
def _centred_ramp(n: int) -> tuple[FloatArray, float]:
    ramp = np.arange(n, dtype=np.float64) - (n - 1) / 2.0
    ramp.flags.writeable = False
    return ramp, _cached_dot(ramp)


def fast_fft_length(n: int) -> int:
    """The least ``2^a 3^b 5^c`` at or above ``n``: an FFT of that length takes a few
    milliseconds for a day's 345,000 samples, where one of a length with a large prime
    factor takes ten times as long (323,860 = 4 x 5 x 16,193: 50 against 4 ms).

    Examples
    --------
    >>> fast_fft_length(323_860), fast_fft_length(1024), fast_fft_length(7)
    (324000, 1024, 8)
    """
    best = 1 << max(0, n - 1).bit_length()
    power_of_5 = 1
    while power_of_5 < best:
        power_of_3_5 = power_of_5
        while power_of_3_5 < best:
            length = power_of_3_5
            while length < n:
                length *= 2
            best = min(best, length)
            power_of_3_5 *= 3
        power_of_5 *= 5
    return best


def welch_density(
    x: ArrayLike,
    fs_hz: float,
    nperseg: int,
    noverlap: int,
    nfft: int,
    detrend: Detrend = "constant",
) -> tuple[FloatArray, FloatArray]:
    """One-sided PSD of ``x`` by Welch's method with a periodic Hann window.

    Each segment has its mean (``"constant"``) or least-squares line (``"linear"``) removed,
    is windowed and zero-padded to ``nfft``; the PSD is the mean of the segments'
    periodograms, scaled so that ``sum(psd) * fs / nfft`` is the windowed variance.

    Examples
    --------
    >>> t = np.arange(1200) / 4.0
    >>> f, p = welch_density(np.sin(2 * np.pi * 0.25 * t), 4.0, 400, 200, 1200)
    >>> float(f[np.argmax(p)])
    0.25
    """
    samples = np.asarray(x, dtype=np.float64)
    w = hann(nperseg)
    step = nperseg - noverlap
    starts = range(0, samples.size - nperseg + 1, step)
    total = np.zeros(nfft // 2 + 1)
    for start in starts:
        segment = samples[start : start + nperseg]
        if detrend == "linear":
            ramp, ramp_sq = _centred_ramp(nperseg)
            segment = segment - segment.mean() - ramp * ((ramp @ segment) / ramp_sq)
        else:
            segment = segment - segment.mean()
        spectrum = np.fft.rfft(segment * w, nfft)
        total += spectrum.real**2 + spectrum.imag**2
    psd = total / (len(starts) * fs_hz * _window_energy(nperseg))
    psd[1 : (nfft + 1) // 2] *= 2.0  # one-sided: fold negative frequencies, not DC/Nyquist
    return _frequencies(nfft, fs_hz), psd


@lru_cache(maxsize=8)
def _bins_transform(n: int, nfft: int, first_bin: int, stop_bin: int,
                    fs_hz: float) -> FloatArray:
    """The ``n x 2 (stop_bin - first_bin)`` matrix taking a segment to the real and imaginary
    parts of bins ``first_bin`` to ``stop_bin - 1`` of its linearly detrended, Hann-windowed
    DFT zero-padded to ``nfft``, each scaled so that their squares sum to the one-sided
    density: the detrending projection, the window, the DFT's cosines and sines and the
    PSD's scale in one."""
    ramp, ramp_sq = _centred_ramp(n)
    detrend = np.eye(n) - 1.0 / n - np.outer(ramp, ramp) / ramp_sq  # symmetric
    bins = np.arange(first_bin, stop_bin)
    phase = 2.0 * np.pi * np.outer(np.arange(n), bins) / nfft
    # One-sided: every bin but 0 Hz doubled (the Nyquist bin is never among the first
    # nfft // 2).
    scale = np.sqrt(np.where(bins > 0, 2.0, 1.0) / (fs_hz * _window_energy(n)))
    dft = np.hstack([np.cos(phase) * scale, -np.sin(phase) * scale])
    transform = detrend @ (hann(n)[:, None] * dft)
    transform.flags.writeable = False
    return transform


def periodograms_below(rows: FloatArray, fs_hz: float, nfft: int, n_bins: int,
                       first_bin: int = 0) -> tuple[FloatArray, FloatArray]:
    """The linearly detrended Hann periodogram of every row of ``rows`` (each one segment:
    ``welch_density(row, fs_hz, row.size, 0, nfft, "linear")``), its first ``n_bins`` bins
    (fewer than ``nfft // 2``) or those from ``first_bin`` on, as one matrix product: where
    only the low frequencies are read (coherence and breathing read under 0.55 Hz of 2 Hz),
    computing those bins alone is quicker than the whole FFT.

    The numbers agree with the FFT's to rounding (about 1e-12 of the largest bin), not to
    the bit: the sums are taken in another order.

    Examples
    --------
    >>> x = np.random.default_rng(0).standard_normal((3, 256))
    >>> f, p = periodograms_below(x, 4.0, 2048, 300)
    >>> f_one, p_one = welch_density(x[1], 4.0, 256, 0, 2048, "linear")
    >>> p.shape, bool(np.allclose(p[1], p_one[:300], rtol=1e-9, atol=1e-12 * p_one.max()))
    ((3, 300), True)
    """
    n = rows.shape[1]
    # The mean taken out first: the projection removes it too, but a 1000-ms level through
    # the product would cost digits.
    parts = ((rows - rows.mean(axis=1, keepdims=True))
             @ _bins_transform(n, nfft, first_bin, n_bins, fs_hz))
    width = n_bins - first_bin
    psd = parts[:, :width] ** 2
    psd += parts[:, width:] ** 2
    return _frequencies(nfft, fs_hz)[first_bin:n_bins], psd
