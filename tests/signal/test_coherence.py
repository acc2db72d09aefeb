"""Coherence against spectra computed by hand: an explicit DFT sum over the detrended,
Hann-windowed 64-s window, summed over the documented bins, independent of our FFT path."""

from __future__ import annotations

import numpy as np
import pytest

from heartsease.signal.coherence import coherence, coherence_from_spectrum
from heartsease.signal.spectrum import Spectrum, periodogram

FS = 4.0
N = 256  # 64 s at 4 Hz
NFFT = 2048


def hand_ratio(x: np.ndarray) -> tuple[float, float]:
    """Coherence ratio and peak of ``x`` by the written definition, computed directly."""
    n = np.arange(x.size)
    slope, intercept = np.polyfit(n, x, 1)
    detrended = x - (slope * n + intercept)
    window = 0.5 - 0.5 * np.cos(2 * np.pi * n / x.size)  # periodic Hann
    freqs = np.arange(NFFT // 2 + 1) * FS / NFFT
    dft = np.exp(-2j * np.pi * np.outer(freqs, n) / FS) @ (detrended * window)
    psd = 2 * np.abs(dft) ** 2 / (FS * np.sum(window**2))  # one-sided density
    df = FS / NFFT
    search = (freqs >= 0.04) & (freqs <= 0.26)
    peak = freqs[search][np.argmax(psd[search])]
    peak_power = psd[np.abs(freqs - peak) <= 0.015 + 1e-12].sum() * df
    total = psd[(freqs >= 0.0033) & (freqs <= 0.4)].sum() * df
    return peak_power / (total - peak_power), peak


def samples(*components: tuple[float, float], noise: float = 0.0, seed: int = 0) -> np.ndarray:
    t = np.arange(N) / FS
    x = 900.0 + sum(a * np.sin(2 * np.pi * f * t + 0.3) for f, a in components)
    return x + noise * np.random.default_rng(seed).standard_normal(N)


@pytest.mark.parametrize("f_hz", [0.0625, 0.1, 0.117, 0.2])
def test_pure_sine_matches_hand_computation(f_hz: float) -> None:
    x = samples((f_hz, 50.0))
    expected, expected_peak = hand_ratio(x)
    c = coherence_from_spectrum(periodogram(x))
    # Same definition evaluated two ways: equal to floating-point rounding.
    assert c.coherence_ratio == pytest.approx(expected, rel=1e-9)
    assert c.peak_hz == pytest.approx(expected_peak)
    assert abs(c.peak_hz - f_hz) <= FS / NFFT  # within one bin of the true rhythm
    assert c.coherence_ratio > 3  # a pure rhythm is highly coherent


@pytest.mark.parametrize("noise", [5.0, 20.0, 60.0])
def test_sine_plus_noise_matches_hand_computation(noise: float) -> None:
    x = samples((0.1, 30.0), noise=noise, seed=int(noise))
    expected, _ = hand_ratio(x)
    assert coherence_from_spectrum(periodogram(x)).coherence_ratio == pytest.approx(
        expected, rel=1e-9
    )


def test_more_noise_means_less_coherence() -> None:
    ratios = [
        np.median([coherence_from_spectrum(periodogram(samples((0.1, 30.0), noise=s, seed=k)))
                   .coherence_ratio for k in range(20)])
        for s in (2.0, 10.0, 40.0)
    ]
    assert ratios[0] > ratios[1] > ratios[2]


def test_flat_spectrum_gives_the_ratio_of_band_widths() -> None:
    f = np.arange(NFFT // 2 + 1) * FS / NFFT
    c = coherence_from_spectrum(Spectrum(f_hz=f, psd=np.ones_like(f)))
    peak_bins = np.count_nonzero(np.abs(f - c.peak_hz) <= 0.015 + 1e-12)
    total_bins = np.count_nonzero((f >= 0.0033) & (f <= 0.4))
    # A flat spectrum: the peak window holds 15 of the 203 bins in 0.0033-0.4 Hz.
    assert (peak_bins, total_bins) == (15, 203)
    assert c.coherence_ratio == pytest.approx(peak_bins / (total_bins - peak_bins), rel=1e-12)


def test_white_noise_is_incoherent() -> None:
    ratios = [coherence_from_spectrum(periodogram(samples(noise=30.0, seed=k))).coherence_ratio
              for k in range(200)]
    # Expected: a flat spectrum gives 15/188 = 0.080; picking the highest of ~113 noisy
    # bins biases the peak upwards, so noise sits above that but far below a rhythm (> 3).
    assert 15 / 188 < np.median(ratios) < 0.5
    assert np.max(ratios) < 1.5


def test_needs_64_seconds_of_beats() -> None:
    assert coherence(np.full(60, 1000.0)) is None  # 60 s
    rr = 1000 + 50 * np.sin(2 * np.pi * 0.1 * np.arange(70))
    assert coherence(rr) is not None
