"""The streaming analyzer equals the batch functions on the same window."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from heartsease.signal.artifacts import ArtifactKind, correct_artifacts
from heartsease.signal.breathing import breathing_rate, pacer_adherence
from heartsease.signal.coherence import coherence
from heartsease.signal.hrv import beat_times_s, frequency_domain, time_domain
from heartsease.signal.streaming import StreamingAnalyzer
from tests.conftest import read_annotated


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
        assert update.breathing == breathing_rate(rr)
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
