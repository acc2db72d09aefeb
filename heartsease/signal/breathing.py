"""Breathing rate from the heartbeat (respiratory sinus arrhythmia), and pacer adherence.

RSA makes heart rate rise on the in-breath and fall on the out-breath, so the breathing
rate shows as a peak in the heart-rate spectrum (Hirsch & Bishop 1981; Schäfer & Kratky
2008, "Estimation of breathing rate from respiratory sinus arrhythmia"). Two facts bound
what can be told:

- the search runs from 3 breaths/min (0.05 Hz) up to half the heart rate (the beat series
  samples RSA once a beat, so faster breathing aliases) and at most 30/min; it deliberately
  includes the LF band, where slow paced breathing (4.5-6/min) sits;
- a peak at 0.07-0.12 Hz can also be the baroreflex (Mayer) rhythm. So a rate is returned
  only when one rhythm clearly holds the window: the power within +/-0.015 Hz of its peak
  must be at least :data:`MIN_CONCENTRATION` of all power in the search band. Otherwise
  the answer is ``None``: RSA does not tell the breathing rate here.

Two more rules keep the answer right or absent (issue 26): only a true local maximum is a
peak, so the band's edge is never the answer; and when a slow rhythm dominates beside a
separate faster one, the faster one is the breathing, or the answer is ``None``. A whole
recording is read from the mean of its windows' spectra. Measured on the NeuroKit belt
recordings' 2-minute windows: 5 within 1 breath/min of the belt, 2 unknown, none wrong.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from heartsease.signal.hrv import band_slice, beat_times_s
from heartsease.signal.spectrum import (
    SHORT_WINDOW_S,
    Spectrum,
    recording_window_psds,
    short_window_spectrum,
)

BREATHING_WINDOW_S = SHORT_WINDOW_S
MIN_RATE_HZ = 0.05
MAX_RATE_HZ = 0.5
PEAK_HALF_WIDTH_HZ = 0.015
# A pure sine puts ~0.9 of its power within +/-0.015 Hz of its peak in a 64 s Hann window;
# broadband (Mayer plus breathing, or noise) leaves the highest peak well under half.
MIN_CONCENTRATION = 0.4
SEPARATE_RATIO = 1.5
MIN_SEPARATE_HEIGHT = 0.03
MIN_OFF_HARMONIC_HEIGHT = 0.005
MIN_FASTER_PEAK = 0.4
# A peak this close below the band's lower edge (a fraction of the 0.03-Hz resolution of a
# 64-s window) is the same rhythm as one at the edge: breathing at 3/min, a bin away.
EDGE_MARGIN_HZ = 0.005
RECORDING_STEP_S = 10.0
MIN_RECORDING_CONCENTRATION = 0.25


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


def spectral_peaks(spectrum: Spectrum, low_hz: float, high_hz: float) -> list[float]:
    """Frequencies of the true local maxima of the spectrum within ``[low_hz, high_hz]``,
    highest first.

    A bin is a peak when both its neighbours in the whole spectrum are lower, so the
    highest bin of a band is no peak when the spectrum keeps rising past the band's edge:
    that is the slope of a rhythm outside it (very slow drift, or the heart rate's own
    aliasing), not a rhythm inside.
    """
    band = band_slice(spectrum.df_hz, spectrum.psd.size, low_hz, high_hz)
    p = spectrum.psd
    idx = np.arange(max(band.start, 1), min(band.stop, p.size - 1))
    idx = idx[(p[idx] > p[idx - 1]) & (p[idx] > p[idx + 1])]
    return [float(spectrum.f_hz[i]) for i in idx[np.argsort(-p[idx], kind="stable")]]


def _share(spectrum: Spectrum, peak_hz: float, low_hz: float, high_hz: float) -> float:
    """Share of the power in ``[low_hz, high_hz]`` within +/-0.015 Hz of ``peak_hz``."""
    reference = spectrum.power(low_hz, high_hz)
    if reference <= 0:
        return 0.0
    return spectrum.power(peak_hz - PEAK_HALF_WIDTH_HZ, peak_hz + PEAK_HALF_WIDTH_HZ) / reference


def _breathing_peak(
    spectrum: Spectrum, band_hz: tuple[float, float], min_share: float
) -> tuple[float | None, float]:
    """The breathing peak (``None`` when two rhythms leave it open) and its share.

    The highest peak is the breathing unless a separate faster rhythm exists: a peak at
    1.5 times its frequency or more (Mayer waves sit near 0.1 Hz, spontaneous breathing
    mostly at 0.2-0.3 Hz) and at least :data:`MIN_SEPARATE_HEIGHT` of its height (a slow
    breath's own harmonic stays near 1 %). That faster peak is the breathing when it holds
    ``min_share`` of the power above the midpoint between the two; when it does not but
    reaches :data:`MIN_FASTER_PEAK` of the slow one's height, the answer is open.
    """
    low, high = band_hz
    peaks = spectral_peaks(spectrum, low - EDGE_MARGIN_HZ, high)
    slow = peaks[0]
    # Only the second rhythm of the spectrum can be the breathing beside the first.
    faster = [f for f in peaks[1:2] if f >= SEPARATE_RATIO * slow
              and _is_separate(_height(spectrum, f) / _height(spectrum, slow), f / slow)]
    if faster:
        share = _share(spectrum, faster[0], (slow + faster[0]) / 2.0, high)
        if share >= min_share:
            return faster[0], share
        if _height(spectrum, faster[0]) >= MIN_FASTER_PEAK * _height(spectrum, slow):
            return None, share
    return slow, _share(spectrum, slow, low, high)


def _is_separate(relative_height: float, ratio: float) -> bool:
    """Whether a faster peak is a rhythm of its own, not a trace of the slow one's harmonic:
    at least 3 % of the slow peak's height, or 0.5 % away from a whole multiple of it (a
    strong Mayer rhythm can dwarf weak RSA to 1-2 %; a slow breath's harmonics stay near 1 %,
    measured on the simulator's paced 4.5-6.5/min)."""
    if relative_height >= MIN_SEPARATE_HEIGHT:
        return True
    return relative_height >= MIN_OFF_HARMONIC_HEIGHT and abs(ratio - round(ratio)) > 0.15


def _height(spectrum: Spectrum, f_hz: float) -> float:
    return float(spectrum.psd[int(round(f_hz / spectrum.df_hz))])


def breathing_from_spectrum(
    spectrum: Spectrum,
    band_hz: tuple[float, float],
    min_share: float = MIN_CONCENTRATION,
    faster_rhythm: bool = False,
) -> BreathingEstimate:
    """The breathing rhythm of a spectrum, when one rhythm clearly holds it.

    Only a true peak counts (:func:`spectral_peaks`), never the band's edge. With
    ``faster_rhythm``, a separate faster rhythm beside a dominant slow one is the breathing,
    or leaves the answer open (:func:`_breathing_peak`): a spontaneously breathing person's
    baroreflex rhythm can outweigh RSA (NeuroKit's event-related recording: 5/min dominant,
    belt 18.4/min). Whole recordings use it; the live 64-s reading does not yet, because
    the coaching targets were tuned on its old reading (with it, one simulated backdraft is
    raised after 31.1 s against a 30-s target).
    """
    low, high = band_hz
    peaks = spectral_peaks(spectrum, low - EDGE_MARGIN_HZ, high)
    if spectrum.power(low, high) <= 0 or not peaks:
        return BreathingEstimate(None, 0.0, None)
    if faster_rhythm:
        peak_hz, share = _breathing_peak(spectrum, band_hz, min_share)
    else:
        peak_hz, share = peaks[0], _share(spectrum, peaks[0], low, high)
    rate = 60.0 * peak_hz if peak_hz is not None and share >= min_share else None
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
    """The typical breathing rate of a whole recording, or ``None`` when no rhythm holds it.

    The spectra of ``window_s`` windows every ``step_s`` seconds are averaged (as Welch's
    method averages segments) and the breathing peak is read from that mean spectrum as
    from one window (:func:`breathing_from_spectrum`). A rhythm that holds across the
    recording stands out of the mean; rates that wander, or rhythms that take turns, spread
    it, so the peak must hold :data:`MIN_RECORDING_CONCENTRATION` of the power (a pure sine:
    about 0.9; white noise over a 3-30/min band: about 0.07).

    Examples
    --------
    >>> beats = np.arange(300)
    >>> round(breathing_rate_over_recording(1000 + 60 * np.sin(2 * np.pi * 0.1 * beats)).rate_bpm)
    6
    """
    rr = np.asarray(rr_ms, dtype=np.float64)
    total, count, f_hz = 0.0, 0, None
    for _, f, psd in recording_window_psds(rr, window_s, step_s):
        f_hz, total, count = f, total + psd.sum(axis=0), count + psd.shape[0]
    if f_hz is None:
        return BreathingEstimate(None, 0.0, None)
    return breathing_from_mean_spectrum(Spectrum(f_hz, total / count), rr)


def breathing_from_mean_spectrum(mean: Spectrum, rr_ms: ArrayLike) -> BreathingEstimate:
    """The breathing peak of a recording's mean window spectrum (see
    :func:`breathing_rate_over_recording`); the band's top is half the mean heart rate."""
    mean_rr_ms = float(np.mean(np.asarray(rr_ms, dtype=np.float64)))
    band = (MIN_RATE_HZ, min(MAX_RATE_HZ, 1000.0 / mean_rr_ms / 2.0))
    return breathing_from_spectrum(mean, band, MIN_RECORDING_CONCENTRATION, faster_rhythm=True)


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
