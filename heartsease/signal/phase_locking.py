"""Whether a faster rhythm keeps in step with a slower one, as the slower one's harmonic does.

A slow rhythm that is not a pure sine (a breath's uneven in- and out-breath, the reciprocal
that turns heart rate into RR intervals) adds harmonics whose phase follows its own: the
k-th harmonic's phase stays k times the fundamental's, plus a constant, however the rhythm's
rate wanders. A rhythm of its own near k times the rate (breathing at twice a Mayer wave's)
keeps no such relation: its phase drifts against the slow one's. The index of this n:m
phase locking is that of Tass et al. 1998 ("Detection of n:m phase locking from noisy data:
application to magnetoencephalography", Phys Rev Lett 81:3291), weighted by the two
rhythms' amplitudes as the bicoherence weighs quadratic phase coupling (Kim & Powers 1979,
"Digital bispectral analysis and its applications to nonlinear wave interactions", IEEE
Trans Plasma Sci 7:120).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from heartsease.signal.hrv import RESAMPLING_HZ, TachogramSpectrum, tachogram_spectrum

# Each rhythm's band: the slow one's peak +/- 0.02 Hz, the k-th harmonic's k times as wide,
# for a harmonic's rate wanders k times as far. The baroreflex (Mayer) rhythm wanders about
# that far (the simulator's: 0.1 Hz, s.d. 0.01 Hz). Narrower bands leave one or two bins of
# a 2-minute recording, whose phases are locked by construction (measured: 0.72 on a
# breath at twice a Mayer wave that 0.02 Hz puts at 0.28); wider ones take in the noise.
HALF_WIDTH_HZ = 0.02
# The band filter wraps the recording's two ends into each other: those seconds are left out.
EDGE_S = 10.0

ComplexArray = NDArray[np.complex128]


def _analytic_band(spectrum: ComplexArray, f_hz: NDArray[np.float64], centre_hz: float,
                   half_width_hz: float, n: int) -> ComplexArray:
    """The analytic signal (Gabor's) of the band ``centre_hz`` +/- ``half_width_hz``."""
    full = np.zeros(n, dtype=np.complex128)
    band = np.abs(f_hz - centre_hz) <= half_width_hz
    full[: spectrum.size][band] = 2.0 * spectrum[band]
    return np.fft.ifft(full)


def harmonic_phase_locking(
    rr_ms: ArrayLike | TachogramSpectrum, slow_hz: float, faster_hz: float, order: int = 2,
    half_width_hz: float = HALF_WIDTH_HZ, fs_hz: float = RESAMPLING_HZ,
) -> float:
    """How firmly the rhythm near ``faster_hz`` keeps ``order`` times the phase of the one
    near ``slow_hz``: 1 when locked, as a harmonic is, near 0 when drifting freely.

    The tachogram is resampled at ``fs_hz`` (cubic spline), detrended, and each rhythm's
    band taken as an analytic signal ``a_slow``, ``a_faster``; the index is
    ``|sum(a_slow**order * conj(a_faster))| / sum(|a_slow|**order * |a_faster|)``. ``1.0``
    (nothing told) when the beats span too little time to leave any after the edges.
    ``rr_ms`` may be their :func:`~heartsease.signal.hrv.tachogram_spectrum` already made
    (then ``fs_hz`` is its own).

    Examples
    --------
    >>> beats = np.arange(300.0)
    >>> slow = 60 * np.sin(2 * np.pi * 0.1 * beats)
    >>> harmonic = 1000 + slow + 5 * np.sin(2 * np.pi * 0.2 * beats + 1.0)
    >>> round(harmonic_phase_locking(harmonic, 0.1, 0.2), 2)
    1.0
    >>> own = 1000 + slow + 5 * np.sin(2 * np.pi * 0.21 * beats)  # 3 cycles adrift
    >>> round(harmonic_phase_locking(own, 0.1, 0.21), 2)
    0.37
    """
    x = rr_ms if isinstance(rr_ms, TachogramSpectrum) else tachogram_spectrum(rr_ms, fs_hz)
    edge = int(EDGE_S * x.fs_hz)
    if x.n_samples <= 2 * edge:
        return 1.0
    slow = _analytic_band(x.spectrum, x.f_hz, slow_hz, half_width_hz, x.n_samples)[edge:-edge]
    faster = _analytic_band(x.spectrum, x.f_hz, faster_hz, order * half_width_hz,
                            x.n_samples)[edge:-edge]
    product = slow**order * np.conj(faster)
    weight = float(np.abs(product).sum())
    return float(abs(product.sum()) / weight) if weight > 0 else 1.0
