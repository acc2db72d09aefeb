"""Our lean spline and Welch are scipy's maths, to rounding."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import interpolate
from scipy import signal as sps

from heartsease.signal.interpolation import NotAKnotSpline
from heartsease.signal.psd import welch_density


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(250, 2500), min_size=4, max_size=200))
def test_spline_equals_scipy_cubic_spline(rr: list[float]) -> None:
    y = np.asarray(rr)
    x = np.cumsum(y) / 1000
    grid = np.linspace(x[0], x[-1], 257)
    expected = interpolate.CubicSpline(x, y)(grid)
    np.testing.assert_allclose(NotAKnotSpline(x, y)(grid), expected, rtol=1e-9, atol=1e-9)


def test_welch_equals_scipy() -> None:
    x = np.random.default_rng(0).standard_normal(1000)
    for detrend in ("constant", "linear"):
        for nperseg, noverlap, nfft in ((300, 150, 1200), (256, 0, 2048), (1000, 0, 1001)):
            f, p = sps.welch(x, fs=4, window="hann", nperseg=nperseg, noverlap=noverlap,
                             nfft=nfft, detrend=detrend)
            f2, p2 = welch_density(x, 4.0, nperseg, noverlap, nfft, detrend)
            np.testing.assert_allclose(f2, f)
            np.testing.assert_allclose(p2, p, rtol=1e-9)
