"""Breathing rate from RSA against a real respiration belt, and on known synthetic rhythms."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from heartsease.signal.breathing import (
    WHOLE_WINDOW_TAPER,
    _tukey,
    breath_cycle_rate,
    breathing_from_spectrum,
    breathing_rate,
    breathing_rate_over_recording,
    pacer_adherence,
)
from heartsease.signal.gaps import find_gaps
from heartsease.signal.hrv import frequency_domain
from heartsease.signal.recording import analyze_recording, coherence_and_breathing
from heartsease.signal.spectrum import Spectrum
from heartsease.simulator.heart import (
    AutonomicState,
    Breathing,
    Physiology,
    Segment,
    simulate_beats,
)

BELT = Path("ecg_resp/neurokit")


def reported_bpm(rr: np.ndarray) -> float | None:
    """The breathing rate ``analyze`` reports: that of the corrected beats (a few ectopic
    beats in the belt recordings move the mean spectrum's peaks)."""
    return analyze_recording(rr).breathing.rate_bpm


@pytest.mark.parametrize(
    "name",
    ["bio_resting_8min_100hz_rest", "bio_resting_5min_100hz", "bio_eventrelated_100hz"],
)
def test_within_one_breath_of_the_belt_or_unknown(refdata: Path, name: str) -> None:
    rr = pd.read_csv(refdata / BELT / f"{name}_rpeaks_rr.csv").rr_ms.dropna().to_numpy()
    belt = json.loads((refdata / BELT / f"{name}_summary.json").read_text())
    estimate = reported_bpm(rr)
    if estimate is not None:
        assert abs(estimate - belt["median_breath_rate_bpm"]) <= 1.0


def test_belt_cases_give_the_expected_answers(refdata: Path) -> None:
    def estimate(name: str) -> float | None:
        path = refdata / BELT / f"{name}_rpeaks_rr.csv"
        return reported_bpm(pd.read_csv(path).rr_ms.dropna().to_numpy())

    # Measured: 8-min rest 9.68/min counted (belt 9.31; its spectrum's peak, 8.67, leans to
    # the slower breaths); the 5-min rest (LF peak at 8/min as high
    # as the breathing's at 15-17/min, belt 16.6/min) is unknown; the event-related
    # recording's slow rhythm (5/min) dominates, but its separate breathing peak is read:
    # 18.3/min (belt 18.4; it was unknown before the faster peak was looked for).
    easy = estimate("bio_resting_8min_100hz_rest")
    assert easy is not None and easy == pytest.approx(9.68, abs=0.1)
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
    refdata: Path, name: str, seconds: float = 120.0, step_s: float | None = None
) -> list[tuple[np.ndarray, float]]:
    """Windows of ``seconds`` every ``step_s`` (consecutive without it) from the recording's
    start: the beats in each and the median belt rate of the breaths starting in it."""
    peaks = pd.read_csv(refdata / BELT / f"{name}_rpeaks_rr.csv")
    breaths = pd.read_csv(refdata / BELT / f"{name}_breaths.csv")
    start = json.loads((refdata / BELT / f"{name}_summary.json").read_text())[
        "offset_into_original_s"]
    t, rr = peaks.rpeak_time_s.to_numpy()[1:], peaks.rr_ms.to_numpy()[1:]
    out = []
    for a in np.arange(start, t[-1] - seconds + 2.0, step_s or seconds):
        inside = (breaths.inhale_onset_s >= a) & (breaths.inhale_onset_s < a + seconds)
        out.append((rr[(t > a) & (t <= a + seconds)], float(breaths.rate_bpm[inside].median())))
    return out


# Measured, 2-minute windows: 8-min rest 7.2, 8.3, null, 12.1 against belts 7.3, 7.7, 9.6,
# 12.9; 5-min rest 16.6, null (belt 16.9, 16.5; one ectopic beat corrected in the first,
# which read null uncorrected); event-related 18.5 (belt 18.7).
@pytest.mark.parametrize(
    ("name", "min_rates"),
    [("bio_resting_8min_100hz_rest", 3), ("bio_resting_5min_100hz", 1),
     ("bio_eventrelated_100hz", 1)],
)
def test_two_minute_windows_right_or_unknown(refdata: Path, name: str, min_rates: int) -> None:
    rates = 0
    for rr, belt in belt_windows(refdata, name):
        estimate = reported_bpm(rr)
        if estimate is not None:
            rates += 1
            assert abs(estimate - belt) <= 1.0
    assert rates >= min_rates


# Every 2-minute window at 30-s steps. The 5-minute rest breathes irregularly (belt 8-43/min
# breath to breath, median 15.6-17.0): its windows read 9.4, 15.0 and 29.6 before a faster
# peak had to hold 0.4 of the faster power (they held 0.25-0.35). Corrected, as ``analyze``
# reads them, the first two read 16.6 (belt 16.9 and 16.6) and the rest null; the last
# (180-300 s, belt 15.6) read the baroreflex rhythm, 7.7, beside more HF power than its own
# at 86 beats/min, until such a rhythm had to have a heart at rest. Not the 8-minute rest:
# 1 of its 13 windows reads 1.2 from the belt's median where its pace changes (7-9/min
# breath to breath, 110-230 s); it is left open (issue 26). Three more read 2.0-2.4 off
# until breaths were counted (the test below).
@pytest.mark.parametrize(("name", "min_rates"),
                         [("bio_resting_5min_100hz", 2), ("bio_eventrelated_100hz", 2)])
def test_overlapping_two_minute_windows_right_or_unknown(refdata: Path, name: str,
                                                         min_rates: int) -> None:
    rates = 0
    for rr, belt in belt_windows(refdata, name, step_s=30.0):
        estimate = reported_bpm(rr)
        if estimate is not None:
            rates += 1
            assert abs(estimate - belt) <= 1.0
    assert rates >= min_rates


def alternating_paces(paces_bpm: tuple[float, ...], amplitudes_ms: tuple[float, ...],
                      breaths_each: int, seconds: float) -> tuple[np.ndarray, float]:
    """RR at 60 beats/min whose breathing takes each pace in turn for ``breaths_each``
    breaths, RSA swinging ``amplitudes_ms`` at them, and the breaths a minute."""
    t, phase, rr = 0.0, 0.0, []
    while t < seconds:
        turn = int(phase // (2 * np.pi * breaths_each)) % len(paces_bpm)
        rr.append(1000.0 + amplitudes_ms[turn] * np.sin(phase))
        t += rr[-1] / 1000.0
        phase += 2 * np.pi * paces_bpm[turn] / 60.0 * rr[-1] / 1000.0
    breaths = phase / (2 * np.pi)
    return np.asarray(rr), 60.0 * breaths / t


def test_a_pace_that_changes_is_counted_breath_by_breath() -> None:
    # Three breaths at 9/min, three at 13: slower breaths swing the heart further (here 50
    # against 25 ms, as RSA falls with the breathing rate), so the spectrum's peak leans to
    # 8.9; the breaths a minute are 10.6, and counted, 10.7.
    rr, breaths_per_min = alternating_paces((9.0, 13.0), (50.0, 25.0), 3, 240.0)
    assert breaths_per_min == pytest.approx(10.6, abs=0.05)
    estimate = breathing_rate_over_recording(rr)
    assert estimate.peak_hz is not None and 60 * estimate.peak_hz < breaths_per_min - 1.5
    assert estimate.rate_bpm == pytest.approx(breaths_per_min, abs=0.2)


@pytest.mark.parametrize(("window", "belt_bpm"), [(9, 9.7), (10, 11.1), (11, 11.0)])
def test_the_8_minute_rests_changing_pace_is_counted(refdata: Path, window: int,
                                                      belt_bpm: float) -> None:
    # 2-minute windows at 320-440 and 350-470 s, breathing 9 and 13/min by turns: the peak
    # read 9.0 and 13.0 against the belt's medians of 11.1 and 11.0; counted, 10.9 and 11.0.
    # At 290-410 s rhythms at 8.6 and 12.1/min stand equally high, as a Mayer wave beside
    # breathing would, and the faster was read, 12.1 for 9.7; the slower is too fast for a
    # Mayer wave, and the breaths counted across both are 10.0.
    rr, belt = belt_windows(refdata, "bio_resting_8min_100hz_rest", step_s=30.0)[window]
    assert belt == pytest.approx(belt_bpm, abs=0.05)
    assert breathing_rate_over_recording(rr).rate_bpm == pytest.approx(belt, abs=0.5)


def test_fast_breathing_is_read_from_its_peak(refdata: Path) -> None:
    # The event-related recording's 30-150 s: belt median 18.4, 16.6 breaths a minute. Its
    # RSA is small beside the beats' noise, whose zero crossings a count takes in too: it
    # counted 19.3. Breathing at 15/min or faster is read from its peak, as the rate over
    # the whole window (:func:`whole_window_peak_rate`): 18.5 (its peak 18.3).
    rr, belt = belt_windows(refdata, "bio_eventrelated_100hz", step_s=30.0)[1]
    assert belt == pytest.approx(18.4, abs=0.05)
    assert breathing_rate_over_recording(rr).rate_bpm == pytest.approx(belt, abs=0.3)


def paces_in_turn(paces_bpm: list[tuple[float, float]], swing_ms: float = 30.0
                  ) -> np.ndarray:
    """Beats at about 60/min whose RSA follows each ``(until_s, rate_bpm)`` pace in turn."""
    rr, t_s, phase = [], 0.0, 0.0
    for until_s, rate_bpm in paces_bpm:
        while t_s < until_s:
            interval = 1000.0 + swing_ms * np.sin(phase)
            rr.append(interval)
            phase += 2 * np.pi * rate_bpm / 60.0 * interval / 1000.0
            t_s += interval / 1000.0
    return np.array(rr)


def test_fast_breathing_is_the_rate_over_the_whole_window() -> None:
    # 21/min for 40 s, 22.5 for 40 s, 21 for 40 s: 21.5 a minute over the 2 minutes. The
    # mean of the six overlapping 64-s windows holds the middle's breaths in all six and the
    # ends' in one: its peak reads 22.0. Over the whole window, every moment weighted alike,
    # 21.6 (measured; the 0.1 over is the taper at the window's ends, which weighs the middle
    # a little more).
    rr = paces_in_turn([(40.0, 21.0), (80.0, 22.5), (121.0, 21.0)])
    estimate = breathing_rate_over_recording(rr)
    assert estimate.peak_hz is not None and 60 * estimate.peak_hz > 21.9
    assert estimate.rate_bpm == pytest.approx(21.5, abs=0.15)


@pytest.mark.parametrize("n", [5, 120, 480, 1201])
def test_the_whole_windows_taper_is_scipys_tukey(n: int) -> None:
    from scipy.signal.windows import tukey

    assert np.allclose(_tukey(n, WHOLE_WINDOW_TAPER), tukey(n, WHOLE_WINDOW_TAPER),
                       rtol=0, atol=1e-12)


def test_breaths_are_counted_in_the_band_around_the_peak() -> None:
    beats = np.arange(300)
    slow_and_steady = 1000 + 60 * np.sin(2 * np.pi * 0.1 * beats)
    assert breath_cycle_rate(slow_and_steady, 0.1) == pytest.approx(6.0, abs=0.05)
    # Breathing at 7/min beside a larger slow wave at 4.5/min, inside 0.6 times the peak: a
    # pace of 6/min or more is counted from 6/min up (from 4.2/min, it counted 4.5).
    beside_a_slow_wave = (1000 + 20 * np.sin(2 * np.pi * beats * 7 / 60)
                          + 60 * np.sin(2 * np.pi * beats * 4.5 / 60))
    assert breath_cycle_rate(beside_a_slow_wave, 7 / 60) == pytest.approx(7.0, abs=0.05)


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


# Mayer waves of 5-8 beats/min beside breathing at 20-25/min, where RSA is 0.1-1 % of the
# Mayer peak's height: each of these read the Mayer rhythm (5.7-7.2/min) before the faster
# peak was sought past slower ones and harmonics of the third order. The next two read it
# until every separate faster peak was asked in turn, down to 0.03 % of the Mayer peak
# (breathing at 0.08 and 0.11 %, under a 0.13-0.18 % leak of the Mayer peak at 10.7/min).
# The last three are breathing near twice the Mayer rhythm's rate (2.1-2.7 % of its
# height, where its harmonic may stand up to 3 %), out of step with it (phase locking
# 0.14-0.28, a harmonic's 0.5-1): they read the Mayer rhythm, 6.0-7.1/min, before. The next
# two are breathing at 15/min, 2.3-3.0 % of the Mayer peak's height (at the harmonic's
# bound), locking 0.55-0.59: read as the harmonic, the Mayer rhythm at 7.0-7.1, until the
# locking asked rose with the height. The last two are a breath at 25/min split into two
# peaks, each holding just under the 0.4 of the faster power asked: the Mayer rhythm at 6.4
# was read; now the answer is open.
@pytest.mark.parametrize(
    ("mayer_bpm", "breathing_bpm", "seconds", "seed"),
    [(5.0, 20.0, 120, 1), (7.0, 20.0, 120, 1), (7.0, 20.0, 300, 0), (8.0, 20.0, 120, 0),
     (8.0, 20.0, 300, 1), (8.0, 25.0, 300, 10), (6.0, 25.0, 300, 11), (6.0, 10.0, 120, 11),
     (8.0, 25.0, 300, 0), (8.0, 25.0, 120, 4),
     (8.0, 14.0, 120, 11), (10.0, 13.0, 120, 15), (10.0, 12.0, 300, 13),
     (7.0, 15.0, 120, 11), (8.0, 15.0, 120, 11), (6.0, 25.0, 300, 2), (8.0, 25.0, 300, 2)],
)
def test_breathing_beside_strong_mayer_waves_is_the_faster_one_or_none(
    mayer_bpm: float, breathing_bpm: float, seconds: int, seed: int
) -> None:
    physiology = Physiology(mayer_amplitude_bpm=mayer_bpm,
                            spontaneous_breathing_bpm=breathing_bpm)
    beats = simulate_beats([Segment(seconds, AutonomicState.NEUTRAL, Breathing.FREE)],
                           physiology, np.random.default_rng(seed))
    estimate = breathing_rate_over_recording(beats.rr_ms).rate_bpm
    assert estimate is None or abs(estimate - np.median(beats.breathing_rate_bpm)) <= 1.0


def breathing_tally(state: AutonomicState, cases: Iterable[tuple[float, float, int, int]]
                    ) -> dict[str, int]:
    """How many simulations of free breathing beside Mayer waves, each
    ``(mayer_bpm, breathing_bpm, seconds, seed)``, read within 1/min of the breaths' median
    rate ("right"), read none ("null"), or another ("wrong")."""
    tally = {"right": 0, "null": 0, "wrong": 0}
    for mayer, breathing, seconds, seed in cases:
        physiology = Physiology(mayer_amplitude_bpm=mayer, spontaneous_breathing_bpm=breathing)
        beats = simulate_beats([Segment(seconds, state, Breathing.FREE)], physiology,
                               np.random.default_rng(seed))
        estimate = breathing_rate_over_recording(beats.rr_ms).rate_bpm
        truth = float(np.median(beats.breathing_rate_bpm))
        tally["null" if estimate is None else "right" if abs(estimate - truth) <= 1.0
              else "wrong"] += 1
    return tally


def test_breathing_beside_mayer_waves_over_many_seeds() -> None:
    # Issue 26's sweep, wider: Mayer waves of 3-8 beats/min, breathing 10-25/min, 2 and 5
    # minutes, seeds 0-7. Before the faster peaks were each asked and told from harmonics by
    # their phase: 543 right, 17 wrong (all the Mayer rhythm read); then 3 wrong: one seed's
    # breath at 25/min wanders into two peaks 1.2/min apart, each holding just under the 0.4
    # of the faster power asked, and the Mayer rhythm was read. Together they hold 0.69: the
    # answer is now open. No slack.
    tally = breathing_tally(AutonomicState.NEUTRAL, itertools.product(
        (3.0, 5.0, 6.0, 7.0, 8.0), (10.0, 12.0, 14.0, 15.0, 18.0, 22.0, 25.0), (120, 300),
        range(8)))
    assert tally == {"right": 557, "null": 3, "wrong": 0}


@pytest.mark.parametrize("rate", [4.5, 5.5])
def test_weak_resonance_breathing_is_still_deliberate_slow_breathing(rate: float) -> None:
    # A third of the usual RSA: the slow rhythm still holds the heart, the HF band is empty
    # but for noise (measured: 0.4-0.5 % of the slow peak's power, the limit 5 %).
    beats = simulate_beats([Segment(120, AutonomicState.NEUTRAL, Breathing.PACED, rate)],
                           Physiology(rsa_at_12_bpm=0.7), np.random.default_rng(0))
    assert breathing_rate_over_recording(beats.rr_ms).rate_bpm == pytest.approx(rate, abs=0.2)


def test_fast_breathing_with_a_weak_rsa_is_not_read_as_slow_breathing() -> None:
    # Low vagal tone (RSA 0.5 beats/min at 12/min) and breathing at 22-26/min: the heart
    # hardly shows the breath, and the Mayer rhythm stood alone, coherent, at a resting heart,
    # as deliberate slow breathing does; it was read, 5.6-7.1/min, in 23 of these 80 (20
    # right, 37 null). Its swing (79-127 ms^2) is a fraction of slow breathing's, even the
    # same people's (the test above, and the bench's paced sessions at RSA 0.5: 244 ms^2 and
    # more). Breathing this fast beside a swing this small is mostly unreadable: null.
    tally = {"right": 0, "null": 0, "wrong": 0}
    for rate, seconds, seed in itertools.product((22.0, 26.0), (120, 300), range(50, 70)):
        beats = simulate_beats([Segment(seconds, AutonomicState.NEUTRAL)],
                               Physiology(spontaneous_breathing_bpm=rate, rsa_at_12_bpm=0.5),
                               np.random.default_rng(seed))
        estimate = breathing_rate_over_recording(beats.rr_ms).rate_bpm
        truth = float(np.median(beats.breathing_rate_bpm))
        tally["null" if estimate is None else "right" if abs(estimate - truth) <= 1.0
              else "wrong"] += 1
    assert tally == {"right": 20, "null": 60, "wrong": 0}


@pytest.fixture(scope="module")
def nsr004_evening(refdata: Path) -> np.ndarray:
    """Hours 16-23 of the NSR2DB nsr004 day (no gaps there)."""
    rr = pd.read_csv(refdata / "rr_holter/nsr2db/nsr004_rr_from_ecg.csv",
                     usecols=["rr_ms"]).rr_ms.to_numpy()[1:]
    t = np.cumsum(rr) / 1000.0
    return rr[(t >= 16 * 3600) & (t < 23 * 3600)]


# Nobody breathes under 6/min at rest but on purpose (Tobin et al. 1983: 16.6 +/- 2.8/min
# awake; Douglas et al. 1982: hardly slower asleep): such readings on a Holter day were the
# baroreflex or very-low-frequency rhythm beside RSA. Measured on hours 16-23, before ->
# with the empty-HF rule -> with the coherence rule too -> with the band's edge and a swing
# or strong coherence: 5-minute windows 39 of 83 under 6/min -> none -> none -> none (12
# read, all 17-26/min); 2-minute windows 66 of 209 -> 5 (69 read) -> 1 (65 read; it read
# 3.1/min) -> none (64 read). A faster peak beside a slow one is now read only when it holds
# 0.4 of the faster power, as one window's breathing must: 7 and 18 of those read held
# 0.25-0.39 (an irregular breather's peaks hold as much: NeuroKit's 5-minute rest read 9.4
# and 29.6 for a belt's 16.5), so 5 and 46 are read. The bounds allow no slack.
@pytest.mark.parametrize(
    ("window_s", "max_under_six", "min_read"), [(300.0, 0, 5), (120.0, 0, 46)]
)
def test_a_holter_day_reads_breathing_rightly_slow_or_none(
    nsr004_evening: np.ndarray, window_s: float, max_under_six: int, min_read: int
) -> None:
    t = np.cumsum(nsr004_evening) / 1000.0
    rates = np.array([
        rate for start in np.arange(t[0], t[-1] - window_s, window_s)
        if (rate := breathing_rate_over_recording(
            nsr004_evening[(t > start) & (t <= start + window_s)]).rate_bpm) is not None])
    assert np.sum(rates < 6.0) <= max_under_six
    assert rates.size >= min_read  # null everywhere is not the answer
    assert np.all(rates <= 30.0)


@pytest.fixture(scope="module")
def holter_days(refdata: Path) -> dict[str, np.ndarray]:
    """Both NSR2DB days' beats and their times (s), the intervals that span a gap left out
    (not corrected: correcting the days' 0.1-0.25 % of beats would take 3 s)."""
    days = {}
    for record in ("nsr001", "nsr004"):
        rr = pd.read_csv(refdata / f"rr_holter/nsr2db/{record}_rr_from_ecg.csv",
                         usecols=["rr_ms"]).rr_ms.to_numpy()[1:]
        keep = np.ones(rr.size, dtype=bool)
        keep[[gap.index for gap in find_gaps(rr)]] = False
        days[record] = np.vstack([rr, np.cumsum(rr) / 1000.0])[:, keep]
    return days


# A rhythm under 6/min is read only when the heart is coherent with it (the median 64-s
# coherence ratio at least 1) besides the HF band being empty. Measured on every 2-minute
# window of both days (674 and 693), under 6/min before -> with coherence: nsr001 5 -> 3
# (261 -> 259 read), nsr004 8 -> 3 (354 -> 349 read); the 6 left read 2.9-4.5/min, as
# coherent as the Polar H10's fastest slow window (ratios 1.0-1.4 against its 1.1). Now a
# rhythm under the band's 3/min is its edge, and a ratio under 2 needs a swing as large as
# resonance breathing's (60 ms; theirs 31-59, the Polar's 63): none left (256 and 346
# read). A faster peak holding under 0.4 of the faster power is no longer read (see the
# test above): 208 and 303. A rhythm at 6-9/min beside more HF power than its own needs a
# heart at rest: 205 (three windows that read 6.5-8.2/min with the heart at 88-118/min are
# now null). No slack in the bounds.
@pytest.mark.parametrize(("record", "max_under_six", "min_read"),
                         [("nsr001", 0, 205), ("nsr004", 0, 303)])
def test_holter_days_two_minute_windows_rarely_read_under_six(
    holter_days: dict[str, np.ndarray], record: str, max_under_six: int, min_read: int
) -> None:
    rr, t = holter_days[record]
    edges = np.searchsorted(t, np.arange(0.0, t[-1], 120.0), side="right")
    rates = np.array([rate for a, z in itertools.pairwise(edges)
                      if (rate := breathing_rate_over_recording(rr[a:z]).rate_bpm) is not None])
    assert np.sum(rates < 6.0) <= max_under_six
    assert rates.size >= min_read  # null everywhere is not the answer
    assert np.all(rates <= 30.0)


def test_a_real_strap_breathing_slowly_is_still_read(refdata: Path) -> None:
    # The Polar H10 recording's RR swings at 3-5/min with almost nothing in the HF band
    # (3 % of the slow peak's power beside it), as deliberate slow breathing leaves it.
    # Measured: 2-minute windows 9.3 (its second harmonic, 9 % high), 4.0, 3.7, 4.5, 5.5
    # (breaths counted; their peaks at 3.6, 3.8, 4.2, 5.0).
    rr = pd.read_csv(refdata / "rr_strap/polar_h10/sample_data_ibi.csv").iloc[:, 1]
    rr = rr.to_numpy(dtype=float)
    t = np.cumsum(rr) / 1000.0
    rates = [breathing_rate_over_recording(rr[(t > a) & (t <= a + 120)]).rate_bpm
             for a in range(0, 600, 120)]
    assert sum(r is not None and 3.0 <= r < 6.0 for r in rates) >= 4


def test_the_analysis_reads_the_same_breathing_from_its_shared_windows(refdata: Path) -> None:
    # The analysis computes each window's spectrum once for coherence and breathing; the
    # coherence a slow rhythm needs must be its windows' median there too (from the mean
    # spectrum alone, the Polar H10's last window, at 5.0/min, would read null).
    rr = pd.read_csv(refdata / "rr_strap/polar_h10/sample_data_ibi.csv").iloc[:, 1]
    rr = rr.to_numpy(dtype=float)
    t = np.cumsum(rr) / 1000.0
    for start in range(0, 600, 120):
        window = rr[(t > start) & (t <= start + 120)]
        assert (coherence_and_breathing(window)[1].rate_bpm
                == breathing_rate_over_recording(window).rate_bpm)


def test_extreme_mayer_waves_under_threat_read_null_not_as_breathing() -> None:
    # The simulator's threat state (heart +14/min, RSA x0.35, Mayer waves x1.6) with Mayer
    # waves of 2-7 beats/min: RSA is 0.01-1.7 % of the Mayer peak's height, the Mayer rhythm
    # stands alone near 6/min as large and coherent as slow breathing. 35 of these 60 read
    # it (5.9-6.8/min against breaths at 10-24/min); now those are null, for the heart runs
    # at 79-84/min. 25 read the separate faster breath; 3 more since breaths near twice the
    # Mayer rhythm's rate (1.9-2.1 times) are told from its harmonic by their phase. No slack.
    tally = breathing_tally(AutonomicState.THREAT, itertools.product(
        (2.0, 5.0, 7.0), (11.0, 13.0, 16.0, 19.0, 23.0), (150, 240), (20, 21)))
    assert tally == {"right": 28, "null": 32, "wrong": 0}


@pytest.mark.parametrize(("hr_bpm", "expected"), [(65.0, 6.0), (82.0, None)])
def test_a_slow_rhythm_alone_is_breathing_only_at_a_resting_heart(
    hr_bpm: float, expected: float | None
) -> None:
    # One coherent 6/min swing of 100 ms and nothing in the HF band: slow breathing at 65
    # beats/min; at 82/min a Mayer wave beside RSA too weak to see looks just the same, and
    # the answer is unknown (before: 6.0 at both).
    estimate = breathing_rate_over_recording(
        rsa(6.0, hr_bpm=hr_bpm, seconds=180, amplitude_ms=100.0)).rate_bpm
    assert estimate == (None if expected is None else pytest.approx(expected, abs=0.2))


@pytest.mark.parametrize(("rate", "expected"), [(2.8, None), (3.5, 3.5)])
def test_a_rhythm_under_the_band_is_its_edge_not_the_breathing(
    rate: float, expected: float | None
) -> None:
    # The search starts at 3/min; a peak found just under it (the margin lets the edge's
    # bin not count as a peak) is the edge. Two NSR2DB windows read 2.8-2.9/min so before.
    estimate = breathing_rate_over_recording(
        rsa(rate, hr_bpm=60, seconds=300, amplitude_ms=100.0)).rate_bpm
    assert estimate == (None if expected is None else pytest.approx(expected, abs=0.2))
