"""n:m phase locking: a harmonic keeps in step with its rhythm, a rhythm of its own does not."""

from __future__ import annotations

import numpy as np
import pytest

from heartsease.signal.breathing import spectral_peaks
from heartsease.signal.phase_locking import harmonic_phase_locking
from heartsease.signal.spectrum import Spectrum, recording_window_psds
from heartsease.simulator.heart import (
    AutonomicState,
    Breathing,
    Physiology,
    Segment,
    simulate_beats,
)


def mayer_waves(mayer_bpm: float, breathing_bpm: float, rsa_bpm: float, seconds: int,
                seed: int) -> tuple[np.ndarray, float]:
    """Simulated beats with Mayer waves, and the highest peak of their mean 64-s spectrum."""
    physiology = Physiology(mayer_amplitude_bpm=mayer_bpm, rsa_at_12_bpm=rsa_bpm,
                            spontaneous_breathing_bpm=breathing_bpm)
    rr = simulate_beats([Segment(seconds, AutonomicState.NEUTRAL, Breathing.FREE)], physiology,
                        np.random.default_rng(seed)).rr_ms
    batches = list(recording_window_psds(rr, 64.0, 10.0))
    mean = Spectrum(batches[0][1], np.concatenate([psd for _, _, psd in batches]).mean(axis=0))
    return rr, spectral_peaks(mean, 0.045, 0.5)[0]


def test_a_mayer_waves_own_harmonic_keeps_in_step() -> None:
    # No breathing in the heart rhythm: all that sits at twice the Mayer rhythm's rate is its
    # harmonic (0.2-0.4 % of its height, beside the beats' own noise). Measured over these
    # 24: 0.57-0.98, median 0.87; breathing is told from a harmonic under 0.5.
    locking = [harmonic_phase_locking(rr, slow, 2 * slow)
               for mayer in (5.0, 8.0) for seconds in (120, 300) for seed in range(6)
               for rr, slow in [mayer_waves(mayer, 15.0, 0.0, seconds, seed)]]
    assert min(locking) >= 0.55
    assert np.median(locking) >= 0.85


def test_breathing_at_twice_the_mayer_rate_drifts_out_of_step() -> None:
    # Breathing at 14.2/min beside a Mayer wave at 7.1: its peak (13.9/min) is where the
    # harmonic would be, 2.4 % of the Mayer peak's height, but its phase drifts: 0.28.
    rr, slow = mayer_waves(8.0, 14.0, 2.0, 120, 11)
    assert slow * 60 == pytest.approx(7.15, abs=0.01)
    assert harmonic_phase_locking(rr, slow, 13.95 / 60) == pytest.approx(0.28, abs=0.01)
