"""Our lean spline, Welch and banded solves are scipy's maths, to rounding."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from unittest import mock

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import interpolate, linalg
from scipy import signal as sps

from heartsease.signal.banded import (
    LAPACK_FROM_ROWS,
    solve_symmetric_pentadiagonal,
    solve_tridiagonal,
)
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


def test_window_bins_by_product_equal_the_fft() -> None:
    """The coherence windows' periodograms, computed by one matrix product for the bins read
    (the low ones for every window, the next ones for breathing's), are each window's
    detrended Hann periodogram as ``welch_density`` takes it (pinned to scipy above): within
    1e-12 of the largest bin, the rounding of 256-term sums taken in another order."""
    from heartsease.signal.psd import periodograms_below

    rows = 800.0 + 50.0 * np.random.default_rng(3).standard_normal((5, 256))
    low_f, low = periodograms_below(rows, 4.0, 2048, 205)
    high_f, high = periodograms_below(rows, 4.0, 2048, 282, first_bin=205)
    for row, low_row, high_row in zip(rows, low, high, strict=True):
        f, p = welch_density(row, 4.0, 256, 0, 2048, "linear")
        np.testing.assert_array_equal(np.concatenate([low_f, high_f]), f[:282])
        np.testing.assert_allclose(np.concatenate([low_row, high_row]), p[:282],
                                   rtol=1e-9, atol=1e-12 * p.max())


def _smoothness_priors_bands(n: int, lambda_: float) -> np.ndarray:
    second_difference = np.diff(np.eye(n), 2, axis=0)
    a = np.eye(n) + lambda_**2 * second_difference.T @ second_difference
    bands = np.zeros((3, n))
    bands[0, 2:], bands[1, 1:], bands[2] = np.diag(a, 2), np.diag(a, 1), np.diag(a)
    return bands


@pytest.fixture(params=["numpy's LAPACK", "plain Python"])
def banded_path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Both ways small banded systems are solved: with numpy's LAPACK where numpy carries
    one, in plain Python where it does not (numpy on MKL or Accelerate)."""
    from heartsease.signal import banded

    if request.param == "plain Python":
        monkeypatch.setattr(banded, "has_numpy_lapack", lambda: False)
    return str(request.param)


@pytest.mark.parametrize("n", [3, 4, 5, 90, 2400])
def test_plain_python_banded_solves_equal_lapack(n: int, banded_path: str) -> None:
    """The solvers used below LAPACK_FROM_ROWS give LAPACK's answer: relative 1e-9 is far
    below the 1/1024-s RR resolution of a strap, and the smoothness-priors system at lambda
    500 has a condition number near 1e10, so rounding alone reaches about 1e-11."""
    rng = np.random.default_rng(n)
    y = rng.normal(800.0, 50.0, n)
    bands = _smoothness_priors_bands(n, 500.0)
    np.testing.assert_allclose(solve_symmetric_pentadiagonal(bands, y),
                               linalg.solveh_banded(bands, y), rtol=1e-9)
    lower, upper = rng.uniform(0.1, 1.0, n - 1), rng.uniform(0.1, 1.0, n - 1)
    diag = rng.uniform(2.5, 4.0, n)
    ab = np.vstack([np.r_[0.0, upper], diag, np.r_[lower, 0.0]])
    np.testing.assert_allclose(solve_tridiagonal(lower, diag, upper, y),
                               linalg.solve_banded((1, 1), ab, y), rtol=1e-12)


def test_large_systems_go_to_lapack_with_the_same_answer() -> None:
    n = LAPACK_FROM_ROWS
    y = np.random.default_rng(1).normal(800.0, 50.0, n)
    diag, off = np.full(n, 4.0), np.ones(n - 1)
    ab = np.vstack([np.r_[0.0, off], diag, np.r_[off, 0.0]])
    np.testing.assert_allclose(solve_tridiagonal(off, diag.copy(), off.copy(), y.copy()),
                               linalg.solve_banded((1, 1), ab, y), rtol=1e-12)


def test_lapack_through_numpy_gives_scipys_bits() -> None:
    """A day's LAPACK solves go to numpy's own OpenBLAS (no scipy.linalg import, 0.2 s): the
    answers are scipy's to the last bit, so no figure moves with it."""
    from heartsease.signal import lapack
    from heartsease.signal.detrend import _smoothness_factor

    if lapack._numpy_openblas() is None:
        pytest.skip("this numpy carries no OpenBLAS of its own: scipy's LAPACK is used")
    rng = np.random.default_rng(7)
    n = LAPACK_FROM_ROWS + 123
    y = rng.normal(800.0, 50.0, n)
    lower, upper, diag = rng.normal(size=n - 1), rng.normal(size=n - 1), rng.normal(size=n)
    x, info = lapack.gtsv(lower, diag, upper, y)
    *_, expected, expected_info = linalg.lapack.dgtsv(lower, diag, upper, y)
    assert info == expected_info == 0 and x.tobytes() == expected.tobytes()
    bands = _smoothness_factor(n, 500.0).bands
    assert bands is not None
    x, info = lapack.pbsv(bands, y)
    assert info == 0 and x.tobytes() == linalg.solveh_banded(bands, y).tobytes()
    assert lapack.pbsv(-bands, y)[1] == 1  # not positive definite from the first minor


def test_analysing_a_recording_does_not_import_scipy(refdata: Path) -> None:
    """Importing scipy.linalg and scipy.signal took longer than a 10-minute strap recording's
    whole analysis (issue 27: within 10x of a bare interpreter; bench/bench_analyze.py)."""
    path = refdata / "rr_strap/polar_h10/sample_data_ibi.csv"
    code = ("import sys\nfrom typer.testing import CliRunner\nfrom heartsease.cli import app\n"
            f"r = CliRunner().invoke(app, ['analyze', '--json', {str(path)!r}])\n"
            "assert r.exit_code == 0, r.output\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'scipy')[:3])")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True).stdout.strip()
    assert loaded == "[]"


@settings(max_examples=30, deadline=None)
@given(st.lists(st.lists(st.floats(250, 2500), min_size=20, max_size=120), min_size=1,
                max_size=6))
def test_batched_splines_and_trends_are_one_by_ones_to_the_bit(
        series: list[list[float]]) -> None:
    """A day's segments are resampled and detrended together: the same bits as alone, on
    both of the banded solves' paths (numpy's LAPACK, and plain Python where numpy has no
    LAPACK of its own)."""
    from heartsease.signal import banded
    from heartsease.signal.detrend import _smoothness_factor

    _batched_equal_alone(series)
    _smoothness_factor.cache_clear()  # a factor is made for its path: none carried across
    try:
        with mock.patch.object(banded, "has_numpy_lapack", lambda: False):
            _batched_equal_alone(series)
    finally:
        _smoothness_factor.cache_clear()


def _batched_equal_alone(series: list[list[float]]) -> None:
    from heartsease.signal.detrend import smoothness_priors_trend, smoothness_priors_trends
    from heartsease.signal.hrv import resample_many, resample_rr

    together = resample_many(series)
    for rr, (grid, samples) in zip(series, together, strict=True):
        alone = resample_rr(rr)
        assert np.array_equal(grid, alone[0]) and np.array_equal(samples, alone[1])
    tachograms = [samples for _, samples in together]
    for x, trend in zip(tachograms, smoothness_priors_trends(tachograms), strict=True):
        assert np.array_equal(trend, smoothness_priors_trend(x))


def test_a_days_segment_rows_are_the_segment_tables(refdata: Path) -> None:
    from heartsease.sensors.files import read_rr_file
    from heartsease.signal.kubios_report import KubiosOptions
    from heartsease.signal.long_term import segment_table
    from heartsease.signal.recording import segment_figures, segment_rows

    rr = read_rr_file(refdata / "rr_reference/pyhrv/SampleNNISeriesLong_ms.txt").rr_ms
    rr = np.tile(rr, 2)  # over an hour: several segments of different lengths
    opts = KubiosOptions()
    assert segment_rows(rr, opts) == segment_table(rr, lambda s: segment_figures(s, opts))


def test_dfa_of_many_series_is_each_ones_to_the_bit() -> None:
    """Segments' DFA is computed together: the same alphas as one by one, including series
    whose prefix sums go box by box (random walks) and flat or stepped ones."""
    from heartsease.signal.nonlinear import dfa_alphas, dfa_alphas_many

    rng = np.random.default_rng(3)
    series = [800 + 40 * rng.standard_normal(n) for n in (60, 130, 300, 350, 421)]
    series += [800 + np.cumsum(rng.standard_normal(400)) * 20 for _ in range(5)]
    series += [np.full(300, 800.0), np.r_[np.full(150, 800.0), np.full(150, 900.0)]]
    ranges = [(4, 12), (13, 64)]
    with np.errstate(all="ignore"):
        assert dfa_alphas_many(series, ranges) == [dfa_alphas(x, ranges) for x in series]


def test_cached_sums_are_the_same_whoever_asks_first() -> None:
    """A window's energy and a ramp's, cached, are every later spectrum's: asked first by a
    process with two OpenBLAS threads (which split a long dot product) they were 1 ulp off
    one thread's, and an hour's JSON differed between the CLI's two entry points with the
    order the test process ran in."""
    code = ("from heartsease.signal.psd import _centred_ramp, _window_energy\n"
            "print(repr(_window_energy(14391)), repr(_centred_ramp(14391)[1]))")
    printed = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                              check=True, env={**os.environ, "OPENBLAS_NUM_THREADS": threads}
                              ).stdout for threads in ("1", "2")}
    assert len(printed) == 1
