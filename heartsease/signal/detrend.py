"""Smoothness-priors detrending of an RR series (Tarvainen, Ranta-aho & Karjalainen 2002).

"An advanced detrending method with application to HRV analysis", IEEE Trans Biomed Eng
49(2):172-175; Kubios HRV's "smoothness priors" detrending option. The trend ``z`` of a series
``x`` minimises ``|x - z|^2 + lambda^2 |D2 z|^2`` (``D2`` the second-difference operator), so
``z = (I + lambda^2 D2' D2)^-1 x``. The system is symmetric positive-definite and
pentadiagonal: one banded Cholesky solve, O(n) time and memory, where the paper's dense
inverse is O(n^3) (a 24-hour day of 100,000 beats is solved in milliseconds). The cut-off
frequency is about ``0.189 * fs / sqrt(lambda)``; Kubios' default lambda 500 has a cut-off of
0.035 Hz, which is this at fs = 4 Hz: Kubios detrends the 4 Hz resampled tachogram, and so
does :func:`rr_trend_in_time` (its trend, read at each beat).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from numpy.typing import ArrayLike

from heartsease.signal.banded import (
    PentadiagonalFactor,
    factor_symmetric_pentadiagonal,
    solve_factored,
    solve_factored_many,
)
from heartsease.signal.hrv import RESAMPLING_HZ, beat_times_s, resample_rr
from heartsease.signal.interpolation import FloatArray

DEFAULT_LAMBDA = 500.0


def smoothness_priors_trend(x: ArrayLike, lambda_: float = DEFAULT_LAMBDA) -> FloatArray:
    """The smoothness-priors trend of ``x`` (Tarvainen et al. 2002, eq. 7).

    Parameters
    ----------
    x : the series, e.g. RR intervals in ms indexed by beat.
    lambda_ : the regularisation parameter; larger is smoother (Kubios: 500).

    Examples
    --------
    >>> trend = smoothness_priors_trend(np.arange(10.0), 10.0)
    >>> bool(np.allclose(trend, np.arange(10.0)))  # a straight line is its own trend
    True
    """
    y = np.asarray(x, dtype=np.float64).ravel()
    if y.size < 3:
        return y.copy()
    return solve_factored(_smoothness_factor(y.size, float(lambda_)), y)


def smoothness_priors_trends(series: list[FloatArray],
                             lambda_: float = DEFAULT_LAMBDA) -> list[FloatArray]:
    """:func:`smoothness_priors_trend` of every series in ``series``, the same numbers, the
    banded solves done together (a day's 5-minute tachograms, issue 27).

    Examples
    --------
    >>> series = [np.sin(np.arange(9.0)), np.cos(np.arange(12.0))]
    >>> trends = smoothness_priors_trends(series, 10.0)
    >>> all(np.array_equal(t, smoothness_priors_trend(x, 10.0)) for t, x in zip(trends, series))
    True
    """
    ys = [np.asarray(x, dtype=np.float64).ravel() for x in series]
    if any(y.size < 3 for y in ys):
        return [smoothness_priors_trend(y, lambda_) for y in ys]
    return solve_factored_many([_smoothness_factor(y.size, float(lambda_)) for y in ys], ys)


@lru_cache(maxsize=8)
def _smoothness_factor(n: int, lambda_: float) -> PentadiagonalFactor:
    """The factor of ``I + lambda^2 D2' D2`` for ``n`` samples (the 5-minute segments of a
    day share one: the matrix does not depend on the series)."""
    lam2 = lambda_**2
    # The bands of D2' D2 (upper form for solveh_banded): the diagonal is 1, 5, 6, ..., 6, 5, 1;
    # the first off-diagonal -2, -4, ..., -4, -2; the second 1 throughout.
    diag = np.full(n, 6.0)
    diag[[0, -1]] = 1.0
    if n > 3:
        diag[[1, -2]] = 5.0
    else:
        diag[1] = 4.0
    off1 = np.full(n - 1, -4.0)
    off1[[0, -1]] = -2.0
    off2 = np.ones(n - 2)
    bands = np.zeros((3, n))
    bands[0, 2:] = lam2 * off2
    bands[1, 1:] = lam2 * off1
    bands[2] = 1.0 + lam2 * diag
    return factor_symmetric_pentadiagonal(bands)


def smoothness_priors_detrend(x: ArrayLike, lambda_: float = DEFAULT_LAMBDA) -> FloatArray:
    """``x`` less its smoothness-priors trend (the detrended, zero-mean series).

    Examples
    --------
    >>> rr = 800 + 2.0 * np.arange(300) + 30 * np.sin(np.arange(300))
    >>> residual = smoothness_priors_detrend(rr, 500)
    >>> abs(float(residual.mean())) < 1.0 and float(residual.std()) > 15
    True
    """
    y = np.asarray(x, dtype=np.float64).ravel()
    return y - smoothness_priors_trend(y, lambda_)


def rr_trend_in_time(
    rr_ms: ArrayLike, lambda_: float = DEFAULT_LAMBDA, fs_hz: float = RESAMPLING_HZ,
    resampled: tuple[FloatArray, FloatArray] | None = None,
    trend: FloatArray | None = None,
) -> FloatArray:
    """The smoothness-priors trend of the tachogram resampled at ``fs_hz`` (Kubios' way),
    read at each beat's time by linear interpolation between the samples.

    ``resampled``, when given, is ``resample_rr(rr_ms, fs_hz)`` already computed (a Kubios
    report resamples the same beats for its spectra), so the spline is not solved twice;
    ``trend``, when given, is the samples' :func:`smoothness_priors_trend` already computed
    (:func:`smoothness_priors_trends` of many tachograms at once).

    Examples
    --------
    >>> rr = 800 + 0.5 * np.arange(400)  # a slow linear drift is all trend
    >>> bool(np.allclose(rr_trend_in_time(rr), rr, atol=0.5))
    True
    """
    rr = np.asarray(rr_ms, dtype=np.float64)
    t_grid, samples = resample_rr(rr, fs_hz) if resampled is None else resampled
    if trend is None:
        trend = smoothness_priors_trend(samples, lambda_)
    return np.interp(beat_times_s(rr), t_grid, trend)
