"""Breathing rate from RSA against a real respiration belt, and on known synthetic rhythms."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from heartsease.signal.breathing import (
    breathing_from_spectrum,
    breathing_rate,
    breathing_rate_over_recording,
    pacer_adherence,
)
from heartsease.signal.hrv import frequency_domain
from heartsease.signal.spectrum import Spectrum
from heartsease.simulator.heart import (
    AutonomicState,
    Breathing,
    Physiology,
    Segment,
    simulate_beats,
)

BELT = Path("ecg_resp/neurokit")


@pytest.mark.parametrize(
    "name",
    ["bio_resting_8min_100hz_rest", "bio_resting_5min_100hz", "bio_eventrelated_100hz"],
)
def test_within_one_breath_of_the_belt_or_unknown(refdata: Path, name: str) -> None:
    rr = pd.read_csv(refdata / BELT / f"{name}_rpeaks_rr.csv").rr_ms.dropna().to_numpy()
    belt = json.loads((refdata / BELT / f"{name}_summary.json").read_text())
    estimate = breathing_rate_over_recording(rr)
    if estimate.rate_bpm is not None:
        assert abs(estimate.rate_bpm - belt["median_breath_rate_bpm"]) <= 1.0


def test_belt_cases_give_the_expected_answers(refdata: Path) -> None:
    def estimate(name: str) -> float | None:
        path = refdata / BELT / f"{name}_rpeaks_rr.csv"
        return breathing_rate_over_recording(pd.read_csv(path).rr_ms.dropna()).rate_bpm

    # Measured: 8-min rest 8.67/min (belt 9.31); the 5-min rest (LF peak at 8/min as high
    # as the breathing's at 15-17/min, belt 16.6/min) is unknown; the event-related
    # recording's slow rhythm (5/min) dominates, but its separate breathing peak is read:
    # 18.3/min (belt 18.4; it was unknown before the faster peak was looked for).
    easy = estimate("bio_resting_8min_100hz_rest")
    assert easy is not None and easy == pytest.approx(8.67, abs=0.1)
    assert estimate("bio_resting_5min_100hz") is None
    fast = estimate("bio_eventrelated_100hz")
    assert fast is not None and fast == pytest.approx(18.4, abs=1.0)


def rsa(rate_bpm: float, hr_bpm: float, seconds: float, amplitude_ms: float = 60.0,
        noise_ms: float = 5.0, seed: int = 0) -> np.ndarray:
    """Beats whose RR swings with a breath at ``rate_bpm`` (integral pulse frequency model)."""
    rng = np.random.default_rng(seed)
    rr, t = [], 0.0
    base = 60000.0 / hr_bpm
    while t < seconds:
        value = base + amplitude_ms * np.sin(2 * np.pi * rate_bpm / 60 * t)
        value += noise_ms * rng.standard_normal()
        rr.append(value)
        t += value / 1000
    return np.asarray(rr)


@pytest.mark.parametrize("rate", [3.0, 4.5, 5.5, 6.0, 7.0, 9.0, 12.0, 15.0, 20.0])
def test_sees_slow_paced_and_normal_breathing(rate: float) -> None:
    estimate = breathing_rate(rsa(rate, hr_bpm=70, seconds=90))
    # One 0.00195 Hz bin is 0.12 breaths/min; the sampled beat grid adds a little more.
    assert estimate.rate_bpm == pytest.approx(rate, abs=0.3)
    assert estimate.confidence > 0.4


def test_breathing_faster_than_half_the_heart_rate_is_not_reported_as_such() -> None:
    # 40 breaths/min at 60 beats/min aliases; whatever is reported must not be 40.
    estimate = breathing_rate(rsa(40, hr_bpm=60, seconds=120))
    assert estimate.rate_bpm is None or estimate.rate_bpm <= 30


def test_no_rhythm_means_unknown() -> None:
    rng = np.random.default_rng(7)
    assert breathing_rate(900 + 40 * rng.standard_normal(150)).rate_bpm is None
    assert breathing_rate(np.full(30, 900.0)).rate_bpm is None  # shorter than 64 s


def test_pacer_adherence() -> None:
    following = rsa(6.0, hr_bpm=65, seconds=90)
    assert pacer_adherence(following, 6.0) > 0.8
    assert pacer_adherence(following, 9.0) < 0.1
    rng = np.random.default_rng(3)
    assert pacer_adherence(920 + 30 * rng.standard_normal(120), 6.0) < 0.3
    assert pacer_adherence(np.full(20, 900.0), 6.0) is None


def belt_windows(
    refdata: Path, name: str, seconds: float = 120.0
) -> list[tuple[np.ndarray, float]]:
    """Consecutive windows of ``seconds`` from the recording's start: the beats in each and
    the median belt rate of the breaths starting in it."""
    peaks = pd.read_csv(refdata / BELT / f"{name}_rpeaks_rr.csv")
    breaths = pd.read_csv(refdata / BELT / f"{name}_breaths.csv")
    start = json.loads((refdata / BELT / f"{name}_summary.json").read_text())[
        "offset_into_original_s"]
    t, rr = peaks.rpeak_time_s.to_numpy()[1:], peaks.rr_ms.to_numpy()[1:]
    out = []
    for a in np.arange(start, t[-1] - seconds + 2.0, seconds):
        inside = (breaths.inhale_onset_s >= a) & (breaths.inhale_onset_s < a + seconds)
        out.append((rr[(t > a) & (t <= a + seconds)], float(breaths.rate_bpm[inside].median())))
    return out


# Measured, 2-minute windows: 8-min rest 6.7, 8.7, null, 12.2 against belts 7.3, 7.7, 9.6,
# 12.9; 5-min rest 17.1, null (belt 16.9, 16.5); event-related 18.5 (belt 18.7).
@pytest.mark.parametrize(
    ("name", "min_rates"),
    [("bio_resting_8min_100hz_rest", 3), ("bio_resting_5min_100hz", 0),
     ("bio_eventrelated_100hz", 0)],
)
def test_two_minute_windows_right_or_unknown(refdata: Path, name: str, min_rates: int) -> None:
    rates = 0
    for rr, belt in belt_windows(refdata, name):
        estimate = breathing_rate_over_recording(rr).rate_bpm
        if estimate is not None:
            rates += 1
            assert abs(estimate - belt) <= 1.0
    assert rates >= min_rates


def test_a_maximum_at_the_band_edge_is_not_a_peak() -> None:
    # Power falling steeply from 0 Hz (drift, very slow rhythms): the band's highest bin is
    # its lower edge and most of the band's power sits by it. The old reading said 3.0/min.
    f = np.arange(1025) * 4.0 / 2048
    slope = Spectrum(f, 1.0 / (f + 0.01) ** 4)
    assert breathing_from_spectrum(slope, (0.05, 0.5)).rate_bpm is None
    # The same slope with a breathing peak inside the band: that peak, not the edge.
    bump = Spectrum(f, slope.psd + 4e6 * np.exp(-(((f - 0.25) / 0.01) ** 2)))
    assert breathing_from_spectrum(bump, (0.05, 0.5)).rate_bpm == pytest.approx(15.0, abs=0.2)


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("mayer_bpm", [1.2, 3.0])
def test_faster_breathing_beside_dominant_mayer_waves(seed: int, mayer_bpm: float) -> None:
    physiology = Physiology(mayer_amplitude_bpm=mayer_bpm, spontaneous_breathing_bpm=16.0)
    beats = simulate_beats([Segment(180, AutonomicState.NEUTRAL, Breathing.FREE)], physiology,
                           np.random.default_rng(seed))
    assert frequency_domain(beats.rr_ms).lf_hf > 1.0  # the slow rhythm dominates
    estimate = breathing_rate_over_recording(beats.rr_ms).rate_bpm
    # Measured: 15.5-16.0 for a breath at 15.6-16.0/min; the Mayer rhythm read 5.5-6.6 before.
    assert estimate is None or abs(estimate - np.median(beats.breathing_rate_bpm)) <= 1.0


@pytest.mark.parametrize("rate", [4.5, 5.5, 6.5])
def test_resonance_breathing_still_read_despite_its_harmonic(rate: float) -> None:
    beats = simulate_beats([Segment(180, AutonomicState.NEUTRAL, Breathing.PACED, rate)],
                           Physiology(), np.random.default_rng(0))
    estimate = breathing_rate_over_recording(beats.rr_ms).rate_bpm
    assert estimate == pytest.approx(rate, abs=0.2)
