"""The streaming analyzer equals the batch functions on the same window."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from heartsease.signal.artifacts import ArtifactKind, correct_artifacts
from heartsease.signal.breathing import (
    BreathingEstimate,
    breathing_from_mean_spectrum,
    breathing_rate,
    pacer_adherence,
)
from heartsease.signal.coherence import coherence, coherence_from_spectrum
from heartsease.signal.hrv import beat_times_s, frequency_domain, time_domain
from heartsease.signal.spectrum import (
    RECORDING_WINDOW_MAX_HZ,
    SHORT_WINDOW_S,
    Spectrum,
    short_window_spectrum,
)
from heartsease.signal.streaming import (
    BREATHING_AGREEMENT_S,
    SHOWN_BREATHING_S,
    SpectralMetrics,
    StreamingAnalyzer,
)
from heartsease.simulator.heart import (
    AutonomicState,
    Breathing,
    Physiology,
    Segment,
    SimulatedBeats,
    simulate_beats,
)
from tests.conftest import read_annotated
from tests.signal.test_breathing import BELT


def run(rr: np.ndarray, live: StreamingAnalyzer):
    beats, spectra = [], []
    for x in rr:
        b, s = live.push(x)
        beats += b
        spectra += s
    b, s = live.flush()
    return beats + b, spectra + s


def window_at(beats: list, t_s: float, span_s: float = 120.0) -> np.ndarray:
    """The beats an update at ``t_s`` reads: the last ``span_s`` plus two beats before."""
    upto = [b for b in beats if b.t_s <= t_s + 1e-9]
    start = 0
    while len(upto) - start > 2 and upto[start + 2].t_s < t_s - span_s:
        start += 1
    return np.array([b.rr_ms for b in upto[start:]])


def test_per_beat_time_domain_equals_batch_on_the_window(refdata: Path) -> None:
    raw = read_annotated(refdata, "105").rr_ms.to_numpy()[:900]  # noisy, with ectopics
    beats, _ = run(raw, StreamingAnalyzer(time_window_s=60.0))
    corrected = np.array([b.rr_ms for b in beats])
    # The live stream is the causal (trailing-window) correction of the raw beats.
    np.testing.assert_array_equal(corrected, correct_artifacts(raw, window="trailing").rr_ms)
    t = beat_times_s(corrected)
    for i in range(5, len(beats), 7):
        window = corrected[(t > t[i] - 60.0) & (t <= t[i])]
        live, batch = beats[i].hrv, time_domain(window)
        assert live is not None and live.n_beats == batch.n_beats
        for key in ("mean_rr_ms", "sdnn_ms", "rmssd_ms", "pnn50_pct", "pnn20_pct", "sd1_ms",
                    "sd2_ms", "mean_hr_bpm"):
            # Running sums against two-pass numpy: rounding only (measured < 1e-12).
            assert getattr(live, key) == pytest.approx(getattr(batch, key), rel=1e-9), key


def test_spectral_updates_equal_batch_functions(refdata: Path) -> None:
    raw = np.loadtxt(refdata / "rr_reference/pyhrv/SampleNNISeriesShort_ms.txt")
    beats, spectra = run(raw, StreamingAnalyzer(pacer_rate_bpm=6.0))
    assert len(spectra) >= 40  # every 5 s over ~5 minutes
    times = [s.t_s for s in spectra]
    assert np.allclose(np.diff(times), 5.0, atol=1.3)  # updates land on the next beat
    checked = 0
    for update in spectra:
        rr = window_at(beats, update.t_s)
        batch_coherence = coherence(rr)
        if batch_coherence is None:
            assert update.coherence is None
            continue
        assert update.coherence == batch_coherence
        assert update.window_breathing == breathing_rate(rr)
        assert update.pacer_adherence == pacer_adherence(rr, 6.0)
        if update.frequency is not None:
            assert update.frequency == frequency_domain(rr)
            checked += 1
    assert checked > 20


def test_recent_windows_equal_batch_on_the_same_beats(refdata: Path) -> None:
    raw = read_annotated(refdata, "105").rr_ms.to_numpy()[:900]  # noisy, with ectopics
    at = np.cumsum(raw) / 1000.0 + 100.0  # the caller's clock: another origin
    live = StreamingAnalyzer()
    beats = []
    checked = 0
    for i, (x, t) in enumerate(zip(raw, at, strict=True)):
        beats += live.push(x, t)[0]
        if i % 11 or not beats:
            continue
        assert beats[-1].at_s == at[beats[-1].index]
        for span_s in (10.0, 15.0, 20.0):
            after = beats[-1].at_s - span_s
            window = np.array([b.rr_ms for b in beats if b.at_s > after])
            recent, batch = live.recent(after), time_domain(window)
            assert recent.n_beats == window.size
            assert recent.mean_hr_bpm == pytest.approx(batch.mean_hr_bpm, rel=1e-12)
            assert recent.rmssd_ms == pytest.approx(batch.rmssd_ms, rel=1e-12)
        after = beats[-1].at_s - 30.0
        labels = [b.artifact is not ArtifactKind.NORMAL for b in beats if b.at_s > after]
        assert live.artifact_share(after) == sum(labels) / len(labels)
        checked += 1
    assert checked > 70


def test_long_session_keeps_constant_memory() -> None:
    live = StreamingAnalyzer()
    rng = np.random.default_rng(0)
    for x in 900 + 30 * rng.standard_normal(20000):  # ~5 hours
        live.push(x)
    assert live.spectral_window_rr().size < 200
    assert live.kept_raw_beats <= 128


def two_minute_reading(beats: list, update: SpectralMetrics, spectra: list[SpectralMetrics]
                       ) -> BreathingEstimate:
    """The recording rules' reading of the 2 minutes before ``update``, from the mean of
    the 64-s windows' spectra of the updates in them, as the batch functions make them."""
    windows = [short_window_spectrum(window_at(beats, s.t_s), SHORT_WINDOW_S) for s in spectra
               if update.t_s - (SHOWN_BREATHING_S - SHORT_WINDOW_S) <= s.t_s <= update.t_s]
    n = int(np.searchsorted(windows[0].f_hz, RECORDING_WINDOW_MAX_HZ, side="right"))
    mean = Spectrum(windows[0].f_hz[:n], np.mean([w.psd[:n] for w in windows], axis=0))
    ratios = [coherence_from_spectrum(w).coherence_ratio for w in windows]
    return breathing_from_mean_spectrum(mean, window_at(beats, update.t_s), ratios)


def same_reading(shown: BreathingEstimate, reading: BreathingEstimate) -> bool:
    """The live tachogram comes from the update's spline, the batch one from a spline
    through the same beats timed from the first: they differ by rounding (1e-12 ms)."""
    return (shown.peak_hz == reading.peak_hz and reading.rate_bpm is not None
            and shown.rate_bpm == pytest.approx(reading.rate_bpm, rel=1e-9))


def test_the_breathing_shown_is_the_last_two_minutes_read_as_a_recording(
        refdata: Path) -> None:
    raw = np.loadtxt(refdata / "rr_reference/pyhrv/SampleNNISeriesLong_ms.txt")[:1600]
    beats, spectra = run(raw, StreamingAnalyzer())
    shown = [s for s in spectra if s.breathing.rate_bpm is not None]
    # Nothing before two readings 30 s apart: the first over 2 minutes of beats.
    assert shown and shown[0].t_s >= SHOWN_BREATHING_S + BREATHING_AGREEMENT_S - 5.0
    for update in shown:
        # Read every 10 s: shown is the reading of this update or of the one before it, and
        # the reading 30 s before agrees within 1 breath/min.
        recent = [s for s in spectra if update.t_s - 10.0 < s.t_s <= update.t_s]
        readings = [two_minute_reading(beats, s, spectra) for s in recent]
        assert any(same_reading(update.breathing, r) for r in readings)
        before = [s for s in spectra if s.t_s <= update.t_s - BREATHING_AGREEMENT_S + 5.0]
        earlier = [two_minute_reading(beats, s, spectra).rate_bpm for s in before[-2:]]
        assert any(r is not None and abs(r - update.breathing.rate_bpm) <= 1.0
                   for r in earlier)
    assert len(shown) >= 20  # measured 24 of 330 updates: the recording's rhythm is unclear


def live_updates(at_s: np.ndarray, rr_ms: np.ndarray) -> list[SpectralMetrics]:
    """The spectral updates of beats ``rr_ms`` ending at ``at_s`` on the caller's clock."""
    live = StreamingAnalyzer()
    spectra = []
    for at, x in zip(at_s, rr_ms, strict=True):
        spectra += live.push(x, at)[1]
    return spectra


def shown_and_window_errors(beats: SimulatedBeats) -> tuple[list[float | None], list[float]]:
    """How far each update's shown rate (``None``: not shown) is from the simulated rate's
    median over its 2 minutes, and the 64-s reading from the median over its 64 s."""
    spectra = live_updates(beats.t_s, beats.rr_ms)

    def truth(a: float, z: float) -> float:
        return float(np.median(beats.breathing_rate_bpm[(beats.t_s > a) & (beats.t_s <= z)]))

    shown, window = [], []
    for s in spectra:
        if s.at_s < SHOWN_BREATHING_S:
            continue
        rate = s.breathing.rate_bpm
        shown.append(None if rate is None else rate - truth(s.at_s - SHOWN_BREATHING_S, s.at_s))
        if s.window_breathing.rate_bpm is not None:
            window.append(s.window_breathing.rate_bpm - truth(s.at_s - SHORT_WINDOW_S, s.at_s))
    return shown, window


@pytest.mark.parametrize(("mayer_bpm", "breathing_bpm", "seed"),
                         [(6.0, 16.0, 0), (8.0, 22.0, 1), (4.0, 13.0, 2)])
def test_the_breathing_shown_beside_mayer_waves_is_the_breath_not_the_wave(
        mayer_bpm: float, breathing_bpm: float, seed: int) -> None:
    physiology = Physiology(mayer_amplitude_bpm=mayer_bpm, spontaneous_breathing_bpm=breathing_bpm)
    beats = simulate_beats([Segment(300, AutonomicState.NEUTRAL)], physiology,
                           np.random.default_rng(seed))
    shown, window = shown_and_window_errors(beats)
    # The 64-s window's strongest rhythm is the Mayer wave's (bench/honest_analysis.py:
    # 14,929 of 15,120 updates wrong over 432 such sessions, 8 of the shown).
    assert sum(abs(e) > 1.0 for e in window) > 0.8 * len(window)
    read = [e for e in shown if e is not None]
    assert all(abs(e) <= 1.0 for e in read)
    # Measured 25-29 of 36, within 0.32: the first 30 s wait for a second reading to agree.
    assert len(read) >= 0.6 * len(shown)


def test_a_new_pace_is_shown_once_the_heart_follows_it() -> None:
    beats = simulate_beats(
        [Segment(180, AutonomicState.NEUTRAL),
         Segment(240, AutonomicState.NEUTRAL, Breathing.PACED, 6.0)],
        Physiology(spontaneous_breathing_bpm=13.0), np.random.default_rng(0))
    shown, _ = shown_and_window_errors(beats)
    assert all(abs(e) <= 1.0 for e in shown if e is not None)
    # Measured: 12.1-12.9 until 236 s (the pace changed at 180 s), nothing while the readings
    # move, and 5.8-6.4 from 276 s; the last 2 minutes at 6/min all shown.
    assert None not in shown[-24:]


def test_the_breathing_shown_on_a_belt_recording_is_right_or_absent(refdata: Path) -> None:
    name = "bio_resting_8min_100hz_rest"
    peaks = pd.read_csv(refdata / BELT / f"{name}_rpeaks_rr.csv")
    breaths = pd.read_csv(refdata / BELT / f"{name}_breaths.csv")
    t, rr = peaks.rpeak_time_s.to_numpy()[1:], peaks.rr_ms.to_numpy()[1:]
    spectra = live_updates(t, rr)
    verdicts = {"right": 0, "null": 0, "wrong": 0}
    for s in spectra:
        if s.at_s - t[0] < SHOWN_BREATHING_S:
            continue
        inside = (breaths.inhale_onset_s >= s.at_s - SHOWN_BREATHING_S) & (
            breaths.inhale_onset_s < s.at_s)
        belt = float(breaths.rate_bpm[inside].median())
        rate = s.breathing.rate_bpm
        verdicts["null" if rate is None else "right" if abs(rate - belt) <= 1.0
                 else "wrong"] += 1
    # Measured 48 right, 19 null, 4 wrong of 71 (the 64-s reading: 33, 29, 9). Of the four,
    # two are the stretch where the pace changes that analyze reads 1.1-1.3 off too (8.9
    # for 7.7 at 237 and 242 s), and two are where the median of breaths alternating 9 and
    # 13/min jumps by 1-1.5 from one update to the next (at 447 and 492 s: 12.1 and 12.8
    # for 10.9 and 11.2 shown, the medians 5 s before 11.1 and 11.3).
    assert verdicts["right"] >= 48 and verdicts["wrong"] <= 4
