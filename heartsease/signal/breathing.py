"""Breathing rate from the heartbeat (respiratory sinus arrhythmia), and pacer adherence.

RSA makes heart rate rise on the in-breath and fall on the out-breath, so the breathing
rate shows as a peak in the heart-rate spectrum (Hirsch & Bishop 1981; Schäfer & Kratky
2008, "Estimation of breathing rate from respiratory sinus arrhythmia"). Two facts bound
what can be told:

- the search runs from 3 breaths/min (0.05 Hz) up to half the heart rate (the beat series
  samples RSA once a beat, so faster breathing aliases) and at most 30/min; it deliberately
  includes the LF band, where slow paced breathing (4.5-6/min) sits;
- a peak at 0.07-0.12 Hz can also be the baroreflex (Mayer) rhythm. So a rate is returned
  only when one rhythm clearly dominates the window: the power within +/-0.015 Hz of the
  highest peak must be at least :data:`MIN_CONCENTRATION` of all power in the search band.
  Otherwise the answer is ``None``: RSA does not tell the breathing rate here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from heartsease.signal.hrv import beat_times_s
from heartsease.signal.spectrum import SHORT_WINDOW_S, Spectrum, short_window_spectrum

BREATHING_WINDOW_S = SHORT_WINDOW_S
MIN_RATE_HZ = 0.05
MAX_RATE_HZ = 0.5
PEAK_HALF_WIDTH_HZ = 0.015
# A pure sine puts ~0.9 of its power within +/-0.015 Hz of its peak in a 64 s Hann window;
# broadband (Mayer plus breathing, or noise) leaves the highest peak well under half.
MIN_CONCENTRATION = 0.4
RECORDING_STEP_S = 10.0
MIN_CLEAR_FRACTION = 0.5
MAX_SPREAD_BPM = 3.0


@dataclass(frozen=True, slots=True)
class BreathingEstimate:
    """A breathing rate from RSA, or ``None`` when the heart rhythm does not tell it.

    ``confidence`` (0-1) is the share of search-band power in the dominant peak for one
    window; for a recording, that share times the fraction of windows that were clear.
    """

    rate_bpm: float | None
    confidence: float
    peak_hz: float | None


def search_band_hz(rr_ms: ArrayLike, window_s: float = BREATHING_WINDOW_S) -> tuple[float, float]:
    """The breathing rates RSA can reveal in the last ``window_s`` of beats: 0.05 Hz up to
    half the mean heart rate there, and at most 0.5 Hz."""
    rr = np.asarray(rr_ms, dtype=np.float64)
    t = beat_times_s(rr)
    first = int(np.searchsorted(t, t[-1] - window_s, side="left"))
    mean_hr_hz = 1000.0 / float(rr[first:].mean())
    return MIN_RATE_HZ, min(MAX_RATE_HZ, mean_hr_hz / 2.0)


def breathing_from_spectrum(spectrum: Spectrum, band_hz: tuple[float, float]) -> BreathingEstimate:
    """The dominant RSA rhythm of a spectrum, when one rhythm dominates the band."""
    low, high = band_hz
    band_power = spectrum.power(low, high)
    if band_power <= 0:
        return BreathingEstimate(None, 0.0, None)
    peak_hz = spectrum.peak_hz(low, high)
    share = spectrum.power(peak_hz - PEAK_HALF_WIDTH_HZ, peak_hz + PEAK_HALF_WIDTH_HZ) / band_power
    rate = 60.0 * peak_hz if share >= MIN_CONCENTRATION else None
    return BreathingEstimate(rate, float(min(share, 1.0)), peak_hz)


def breathing_rate(rr_ms: ArrayLike, window_s: float = BREATHING_WINDOW_S) -> BreathingEstimate:
    """Breathing rate from the last ``window_s`` seconds of RSA, or ``None`` if unclear.

    Examples
    --------
    >>> beats = np.arange(120)
    >>> rr = 1000 + 60 * np.sin(2 * np.pi * 0.1 * beats)  # breathing 6/min at 60 bpm
    >>> round(breathing_rate(rr).rate_bpm, 1)
    6.0
    >>> rng = np.random.default_rng(1)
    >>> breathing_rate(1000 + 30 * rng.standard_normal(120)).rate_bpm is None
    True
    """
    spectrum = short_window_spectrum(rr_ms, window_s)
    if spectrum is None:
        return BreathingEstimate(None, 0.0, None)
    return breathing_from_spectrum(spectrum, search_band_hz(rr_ms, window_s))


def breathing_rate_over_recording(
    rr_ms: ArrayLike, window_s: float = BREATHING_WINDOW_S, step_s: float = RECORDING_STEP_S
) -> BreathingEstimate:
    """The typical breathing rate of a whole recording.

    Windows of ``window_s`` every ``step_s`` seconds are estimated separately; the rate is
    the median of the clear ones, reported only when at least half the windows are clear
    and their interquartile range is within 3 breaths/min. A recording whose heart rhythm
    alternates between unrelated rhythms (baroreflex now, breathing then) gets ``None``.
    """
    rr = np.asarray(rr_ms, dtype=np.float64)
    t = beat_times_s(rr)
    ends = np.arange(t[0] + window_s, t[-1] + 1e-9, step_s)
    if ends.size == 0:
        return BreathingEstimate(None, 0.0, None)
    estimates = [breathing_rate(rr[: np.searchsorted(t, end, side="right")], window_s)
                 for end in ends]
    clear = [e for e in estimates if e.rate_bpm is not None]
    fraction = len(clear) / len(estimates)
    if not clear or fraction < MIN_CLEAR_FRACTION:
        return BreathingEstimate(None, fraction * _median_share(clear), None)
    rates = np.array([e.rate_bpm for e in clear])
    q1, q3 = np.percentile(rates, [25, 75])
    confidence = fraction * _median_share(clear)
    if q3 - q1 > MAX_SPREAD_BPM:
        return BreathingEstimate(None, confidence, None)
    rate = float(np.median(rates))
    return BreathingEstimate(rate, confidence, rate / 60.0)


def _median_share(estimates: list[BreathingEstimate]) -> float:
    return float(np.median([e.confidence for e in estimates])) if estimates else 0.0


def pacer_adherence(
    rr_ms: ArrayLike, pacer_rate_bpm: float, window_s: float = BREATHING_WINDOW_S
) -> float | None:
    """How strongly the heart rhythm follows a breath pacer, from 0 (not at all) to 1.

    The share of search-band power within the Hann main lobe (+/- 2 / ``window_s`` Hz) around
    the pacer frequency: a heart rate swinging as a pure sine at the pacer's rate gives about
    1, a rhythm at another rate or none gives near 0. ``None`` before ``window_s`` of beats.

    Examples
    --------
    >>> beats = np.arange(120)
    >>> rr = 1000 + 60 * np.sin(2 * np.pi * 0.1 * beats)
    >>> round(pacer_adherence(rr, 6.0), 2), round(pacer_adherence(rr, 10.0), 2)
    (1.0, 0.0)
    """
    spectrum = short_window_spectrum(rr_ms, window_s)
    if spectrum is None:
        return None
    band = search_band_hz(rr_ms, window_s)
    return pacer_adherence_from_spectrum(spectrum, band, pacer_rate_bpm, window_s)


def pacer_adherence_from_spectrum(
    spectrum: Spectrum, band_hz: tuple[float, float], pacer_rate_bpm: float, window_s: float
) -> float:
    """:func:`pacer_adherence` of an already computed spectrum."""
    band = spectrum.power(*band_hz)
    if band <= 0:
        return 0.0
    f = pacer_rate_bpm / 60.0
    lobe = 2.0 / window_s
    return float(min(1.0, spectrum.power(f - lobe, f + lobe) / band))
