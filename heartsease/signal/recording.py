"""The analysis of a whole RR recording, as ``heartsease analyze`` reports it.

Artifacts are corrected first (Lipponen & Tarvainen, centred windows); every measure is
computed on the corrected series. Coherence is the mean of the 64-s coherence ratios
updated every 5 s over the recording (as a HeartMath session reports its average), and
``peak_hz`` is the frequency of the highest peak of the recording's Welch spectrum within
coherence's search band (0.04-0.26 Hz): the dominant slow rhythm.

Intervals no heart makes (:mod:`heartsease.signal.gaps`) split the series: each part is
corrected on its own and the measures are taken over the parts joined. Every analysis says
whether its HRV can be read (:mod:`heartsease.signal.quality`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import TypeVar

import numpy as np
from numpy.typing import ArrayLike, NDArray

from heartsease.signal.artifacts import ArtifactCorrection, ArtifactKind
from heartsease.signal.breathing import BreathingEstimate, breathing_rate_over_recording
from heartsease.signal.coherence import (
    COHERENCE_UPDATE_S,
    COHERENCE_WINDOW_S,
    PEAK_SEARCH_HZ,
    coherence,
)
from heartsease.signal.gaps import RRGap, correct_around_gaps, find_gaps
from heartsease.signal.hrv import (
    FrequencyDomainHRV,
    NonlinearHRV,
    TimeDomainHRV,
    beat_times_s,
    frequency_domain_from_psd,
    nonlinear,
    peak_frequency,
    time_domain,
    welch_psd,
)
from heartsease.signal.quality import Quality, assess_quality

MIN_BEATS_FOR_NONLINEAR = 100
MIN_BEATS_FOR_TIME = 3
# The beat times go through a not-a-knot spline, which needs 4 points.
MIN_BEATS_FOR_SPECTRUM = 4

T = TypeVar("T")


def _unknown(cls: type[T]) -> T:
    """Measures too few beats cannot give: every field NaN (null in the JSON)."""
    return cls(**{f.name: math.nan for f in fields(cls)})  # type: ignore[arg-type]


def _frequency_domain(rr: NDArray[np.float64]) -> tuple[FrequencyDomainHRV, float]:
    if rr.size < MIN_BEATS_FOR_SPECTRUM:
        return _unknown(FrequencyDomainHRV), math.nan
    f, psd = welch_psd(rr)
    return frequency_domain_from_psd(f, psd), peak_frequency(f, psd, *PEAK_SEARCH_HZ)


@dataclass(frozen=True, slots=True)
class RecordingAnalysis:
    """Everything ``heartsease analyze`` reports about one recording."""

    correction: ArtifactCorrection
    time: TimeDomainHRV
    frequency: FrequencyDomainHRV
    peak_hz: float
    coherence_ratio: float | None
    breathing: BreathingEstimate
    nonlinear: NonlinearHRV | None
    duration_s: float
    gaps: list[RRGap]
    quality: Quality

    def as_dict(self) -> dict[str, object]:
        """The ``--json`` object of the ``heartsease analyze`` contract (DESIGN.md)."""
        t, f = self.time, self.frequency
        kinds = {kind.name.lower(): int(np.count_nonzero(self.correction.labels == kind))
                 for kind in ArtifactKind if kind != ArtifactKind.NORMAL}
        return {
            "n_beats": int(self.correction.raw_rr_ms.size),
            "duration_s": self.duration_s,
            "mean_rr_ms": t.mean_rr_ms,
            "mean_hr_bpm": t.mean_hr_bpm,
            "sdnn_ms": t.sdnn_ms,
            "rmssd_ms": t.rmssd_ms,
            "pnn50_pct": t.pnn50_pct,
            "pnn20_pct": t.pnn20_pct,
            "sd1_ms": t.sd1_ms,
            "sd2_ms": t.sd2_ms,
            "vlf_ms2": f.vlf_ms2,
            "lf_ms2": f.lf_ms2,
            "hf_ms2": f.hf_ms2,
            "total_power_ms2": f.total_ms2,
            "lf_hf": f.lf_hf,
            "lf_peak_hz": f.lf_peak_hz,
            "hf_peak_hz": f.hf_peak_hz,
            "peak_hz": self.peak_hz,
            "coherence_ratio": self.coherence_ratio,
            "breathing_rate_bpm": self.breathing.rate_bpm,
            "breathing_confidence": self.breathing.confidence,
            "sampen": None if self.nonlinear is None else self.nonlinear.sampen,
            "dfa_alpha1": None if self.nonlinear is None else self.nonlinear.dfa_alpha1,
            "artifacts_corrected": self.correction.n_corrected,
            "artifact_pct": self.correction.artifact_pct,
            "artifacts_by_kind": kinds,
            "hrv_interpretable": self.quality.interpretable,
            "quality_notes": list(self.quality.notes),
            "gaps": [{"start_s": g.start_s, "length_s": g.length_ms / 1000.0}
                     for g in self.gaps],
        }


def mean_coherence_ratio(
    rr_ms: ArrayLike,
    window_s: float = COHERENCE_WINDOW_S,
    step_s: float = COHERENCE_UPDATE_S,
) -> float | None:
    """Mean of the coherence ratios of 64-s windows every 5 s; ``None`` below 64 s.

    Examples
    --------
    >>> rr = 1000 + 80 * np.sin(2 * np.pi * 0.1 * np.arange(300))
    >>> mean_coherence_ratio(rr) > 3
    True
    """
    rr = np.asarray(rr_ms, dtype=np.float64)
    t = beat_times_s(rr)
    ratios = []
    for end in np.arange(t[0] + window_s, t[-1] + 1e-9, step_s):
        stop = int(np.searchsorted(t, end, side="right"))
        start = max(0, int(np.searchsorted(t, end - window_s, side="left")) - 2)
        reading = coherence(rr[start:stop], window_s)
        if reading is not None:
            ratios.append(reading.coherence_ratio)
    return float(np.mean(ratios)) if ratios else None


def analyze_recording(rr_ms: ArrayLike, correct: bool = True) -> RecordingAnalysis:
    """Correct artifacts (unless ``correct`` is false), then compute every measure.

    Examples
    --------
    >>> rr = 900 + 60 * np.sin(2 * np.pi * 0.1 * np.cumsum(np.full(400, 0.9)))
    >>> a = analyze_recording(rr)
    >>> round(a.breathing.rate_bpm), round(a.peak_hz, 2)
    (6, 0.1)
    """
    raw = np.asarray(rr_ms, dtype=np.float64)
    gaps = find_gaps(raw)
    correction = correct_around_gaps(raw, gaps, correct)
    duration_s = float(raw.sum() / 1000.0)
    rr = correction.rr_ms
    frequency, peak_hz = _frequency_domain(rr)
    return RecordingAnalysis(
        correction=correction,
        time=time_domain(rr) if rr.size >= MIN_BEATS_FOR_TIME else _unknown(TimeDomainHRV),
        frequency=frequency,
        peak_hz=peak_hz,
        coherence_ratio=mean_coherence_ratio(rr),
        breathing=breathing_rate_over_recording(rr),
        nonlinear=nonlinear(rr) if rr.size >= MIN_BEATS_FOR_NONLINEAR else None,
        duration_s=duration_s,
        gaps=gaps,
        quality=assess_quality(correction, gaps, duration_s),
    )
