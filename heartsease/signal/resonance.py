"""Resonance frequency assessment: how strongly the heart answers each paced breathing rate.

Lehrer, Vaschillo & Vaschillo (2000) pace 6.5, 6, 5.5, 5 and 4.5 breaths/min for about two
minutes each and choose the rate with the largest low-frequency (LF) spectral peak, checking
it against the peak-to-trough heart-rate swing and the absence of competing peaks (Lehrer
2007, "Biofeedback training to increase heart rate variability", ch. 9 of Principles and
Practice of Stress Management). Shaffer & Meehan (2020) add that the rates are often close
and the choice must then be made with care; we say so rather than hide it.

For each paced stretch, :func:`paced_response` measures, after the first ``settle_s``
seconds (breathing takes a few breaths to follow a new rate):

- ``lf_peak_power_ms2``: power within +/-0.015 Hz of the highest peak in 0.04-0.15 Hz of a
  Hann periodogram of the 4 Hz resampled, linearly detrended tachogram (the same estimator
  and peak window as coherence, :mod:`heartsease.signal.spectrum`);
- ``hr_swing_bpm``: the mean over whole pacer breaths of max - min instantaneous heart rate;
- ``coherence_ratio`` and ``pacer_adherence`` over the stretch's last 64 s.

:func:`assess_resonance` picks the rate. Only rates whose heart rhythm followed the pacer
(adherence at least :data:`MIN_ADHERENCE`) compete. Shaffer & Meehan (2020, "A practical
guide to resonance frequency assessment for heart rate variability biofeedback", Front
Neurosci 14:570400) rank rates on several of Lehrer's criteria together; here two of them
are combined into a resonance index, each relative to its best rate:
``(hr_swing / best hr_swing)^2 * (lf_peak_power / best lf_peak_power)`` (the swing squared, so
both are powers). The heart-rate swing is the steadier of the two: LF power of RR intervals in
ms^2 also moves with the heart rate itself (an RR swing for a given heart-rate swing shrinks
as the square of the heart rate), which drifts over a 15-minute assessment. The largest
index wins; its margin over the runner-up says how sure the pick is.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum

import numpy as np
from numpy.typing import ArrayLike

from heartsease.signal.breathing import pacer_adherence
from heartsease.signal.coherence import PEAK_HALF_WIDTH_HZ, coherence
from heartsease.signal.hrv import LF_BAND_HZ, RESAMPLING_HZ, beat_times_s
from heartsease.signal.interpolation import NotAKnotSpline
from heartsease.signal.spectrum import periodogram

SETTLE_S = 30.0
MIN_STRETCH_S = 60.0
# The share of band power at the pacer rate below which the heart did not follow the pacer
# (a rhythm at another rate, or none): 0.25 is four times what white noise gives there.
MIN_ADHERENCE = 0.25
# Resonance index margins of the winner over the runner-up. Repeated 2-minute assessments of
# one person vary by about 10-20 % in LF power (Lehrer 2007 asks for a repeat when rates are
# this close), so a margin under 10 % cannot tell the two rates apart.
CLEAR_MARGIN = 0.25
MODERATE_MARGIN = 0.10


class PickConfidence(Enum):
    """How sure the resonance pick is."""

    CLEAR = "clear"
    MODERATE = "moderate"
    FLAT = "flat"  # two or more rates are as good: the response is flat across them
    NONE = "none"  # no rate's heart rhythm followed the pacer


@dataclass(frozen=True, slots=True)
class PacedResponse:
    """How the heart answered one paced breathing rate."""

    pacer_rate_bpm: float
    lf_peak_power_ms2: float
    lf_peak_hz: float
    hr_swing_bpm: float
    coherence_ratio: float | None
    pacer_adherence: float | None
    duration_s: float


def paced_response(
    rr_ms: ArrayLike, pacer_rate_bpm: float, settle_s: float = SETTLE_S
) -> PacedResponse | None:
    """Measure the heart's answer to ``pacer_rate_bpm`` over a paced stretch of beats.

    ``rr_ms`` are the (artifact-corrected) beats of the whole stretch; the first
    ``settle_s`` seconds are skipped. ``None`` when less than a minute remains.

    Examples
    --------
    >>> rr = 900 + 80 * np.sin(2 * np.pi * 0.1 * np.cumsum(np.full(150, 0.9)))
    >>> r = paced_response(rr, 6.0)
    >>> round(r.lf_peak_hz, 3), r.hr_swing_bpm > 10
    (0.1, True)
    """
    rr = np.asarray(rr_ms, dtype=np.float64)
    t = beat_times_s(rr)
    keep = t >= t[0] + settle_s if t.size else t.astype(bool)
    rr, t = rr[keep], t[keep]
    if rr.size < 8 or t[-1] - t[0] < MIN_STRETCH_S:
        return None
    grid = np.arange(t[0], t[-1], 1.0 / RESAMPLING_HZ)
    spectrum = periodogram(NotAKnotSpline(t, rr)(grid))
    peak = spectrum.peak_hz(*LF_BAND_HZ)
    power = spectrum.power(peak - PEAK_HALF_WIDTH_HZ, peak + PEAK_HALF_WIDTH_HZ)
    window = coherence(rr)
    return PacedResponse(
        pacer_rate_bpm=pacer_rate_bpm,
        lf_peak_power_ms2=power,
        lf_peak_hz=peak,
        hr_swing_bpm=hr_swing_bpm(rr, pacer_rate_bpm),
        coherence_ratio=None if window is None else window.coherence_ratio,
        pacer_adherence=pacer_adherence(rr, pacer_rate_bpm),
        duration_s=float(t[-1] - t[0]),
    )


def hr_swing_bpm(rr_ms: ArrayLike, pacer_rate_bpm: float) -> float:
    """Mean peak-to-trough heart rate (beats/min) over whole breaths of the pacer.

    Examples
    --------
    >>> hr = 60 + 5 * np.sin(2 * np.pi * np.arange(200) / 10)  # a 10-beat cycle, ~6/min
    >>> round(hr_swing_bpm(60000 / hr, 6.0), 1)
    9.5
    """
    rr = np.asarray(rr_ms, dtype=np.float64)
    t = beat_times_s(rr)
    hr = 60000.0 / rr
    breath_s = 60.0 / pacer_rate_bpm
    which = np.floor((t - t[0]) / breath_s).astype(int)
    swings = [float(hr[which == k].max() - hr[which == k].min())
              for k in range(int(which[-1]))  # the last, partial breath is left out
              if np.count_nonzero(which == k) >= 3]
    return float(np.mean(swings)) if swings else 0.0


@dataclass(frozen=True, slots=True)
class ResonanceAssessment:
    """The chosen breathing pace, how sure the choice is, and every rate's response."""

    resonance_bpm: float | None
    confidence: PickConfidence
    margin: float | None
    responses: tuple[PacedResponse, ...]
    swing_and_power_agree: bool | None  # the largest swing and the largest LF peak coincide
    explanation: str


def assess_resonance(responses: Sequence[PacedResponse]) -> ResonanceAssessment:
    """Pick the resonance rate from the responses to each paced rate.

    Examples
    --------
    >>> def r(rate, power, swing):
    ...     return PacedResponse(rate, power, rate / 60, swing, 5.0, 0.8, 90.0)
    >>> a = assess_resonance([r(6.5, 900, 12), r(6.0, 1400, 15), r(5.5, 2600, 21),
    ...                       r(5.0, 1800, 17), r(4.5, 1200, 14)])
    >>> a.resonance_bpm, a.confidence.value
    (5.5, 'clear')
    >>> assess_resonance([r(6.0, 1000, 15), r(5.5, 1040, 15)]).confidence.value
    'flat'
    """
    followed = [r for r in responses
                if r.pacer_adherence is not None and r.pacer_adherence >= MIN_ADHERENCE]
    if not followed:
        return ResonanceAssessment(
            None, PickConfidence.NONE, None, tuple(responses), None,
            "The heart rhythm did not follow the pacer at any rate, so no pace can be "
            "chosen from this assessment. It is worth trying again another time.")
    top_swing = max(r.hr_swing_bpm for r in followed) or 1.0
    top_power = max(r.lf_peak_power_ms2 for r in followed) or 1.0
    index = {r.pacer_rate_bpm: (r.hr_swing_bpm / top_swing) ** 2
             * (r.lf_peak_power_ms2 / top_power) for r in followed}
    ranked = sorted(followed, key=lambda r: index[r.pacer_rate_bpm], reverse=True)
    best = ranked[0]
    agrees = max(followed, key=lambda r: r.hr_swing_bpm) is max(
        followed, key=lambda r: r.lf_peak_power_ms2)
    margin, confidence = _margin_and_confidence([index[r.pacer_rate_bpm] for r in ranked])
    return ResonanceAssessment(best.pacer_rate_bpm, confidence, margin, tuple(responses),
                               agrees, _explanation(ranked, index, margin, confidence))


def _margin_and_confidence(
    ranked_index: list[float],
) -> tuple[float | None, PickConfidence]:
    """The winner's margin over the runner-up (resonance indices, best first), and what
    it says of the pick; a single rate that was followed is a moderate pick."""
    if len(ranked_index) == 1:
        return None, PickConfidence.MODERATE
    margin = ranked_index[0] / ranked_index[1] - 1.0
    if margin >= CLEAR_MARGIN:
        return margin, PickConfidence.CLEAR
    if margin >= MODERATE_MARGIN:
        return margin, PickConfidence.MODERATE
    return margin, PickConfidence.FLAT


def _explanation(
    ranked: list[PacedResponse], index: dict[float, float], margin: float | None,
    confidence: PickConfidence,
) -> str:
    best = ranked[0]
    rate = f"{best.pacer_rate_bpm:g}"
    if confidence is PickConfidence.FLAT:
        close = [f"{r.pacer_rate_bpm:g}" for r in ranked
                 if index[r.pacer_rate_bpm] * (1 + MODERATE_MARGIN) >= index[best.pacer_rate_bpm]]
        return (f"The response was much the same at {', '.join(close)} breaths a minute; "
                f"{rate} was a little stronger. Any of these is a good pace.")
    runner = "" if margin is None else f", {margin:.0%} above the next rate"
    return (f"The heart rhythm swung most at {rate} breaths a minute{runner}; "
            f"this is the pace it suggests for soothing rhythm breathing.")
