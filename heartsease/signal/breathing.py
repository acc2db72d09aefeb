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

More rules keep the answer right or absent (issue 26): only a true local maximum is a
peak, so the band's edge is never the answer; and when a slow rhythm dominates beside a
separate faster one, the faster one is the breathing, or the answer is ``None`` (a peak
where the slow one's harmonic would be is that harmonic only if its phase keeps in step
with the slow one's: :mod:`heartsease.signal.phase_locking`); and a
rhythm under 6/min is the breathing only as deliberate slow breathing shows it, nothing
breathing in the HF band beside it (spontaneous breathing is never that slow), and the
heart coherent with it (the slow peak at least as strong as the rest of the spectrum in
most 64-s windows, and either strongly so or swinging RR as far as resonance breathing,
and in any case further than a Mayer wave beside breathing the heart hardly shows)
and at rest (a heart rate at most 75/min: under threat a Mayer wave can stand alone as
large and coherent as slow breathing); the same holds for a rhythm at
6-9/min with nothing in the HF band beside it, and one beside more HF power than its own
is read only at a heart at rest; and a rhythm under the band's 3/min is its
edge, never the answer. A whole recording is read from the mean of its windows' spectra;
where the breathing is slower than 15/min and its strongest rhythm (or one stronger is too
fast for a Mayer wave), the breaths are then
counted one by one in the band around that peak (:func:`breath_cycle_rate`), for a peak
leans to the slower breaths when the pace changes; where they are not counted, the rate is
the peak's over the whole window, each moment weighted alike (:func:`whole_window_peak_rate`),
for the mean of overlapping windows weighs a recording's middle most. Measured on the NeuroKit belt
recordings' 2-minute windows, their beats corrected as ``analyze`` corrects them: 5 within
1 breath/min of the belt, 2 unknown, none wrong (at 30-s steps, 22 windows: 15 right, 6
unknown, 1 wrong where the 8-minute rest changes pace; 2 wrong before breaths beside a
stronger rhythm too fast for a Mayer wave were counted, 3 before a rhythm at 6-9/min
beside more HF power than its own had to have a heart at rest, and 4 before breaths were
counted at all); on the NSR2DB Holter days' 5-minute windows, none under
6/min (was 144 of 546); 2-minute windows, none of 1,367 (was 16, then 5); simulated
extreme Mayer waves under threat: 28 right, 32 unknown, none wrong (was 35 wrong);
Mayer waves of 3-8 beats/min beside breathing at 10-25/min over 16 seeds: 1,724 right, 3
unknown, 1 wrong of 1,728 (was 30 wrong; the one, breathing at 10/min beside a Mayer wave at
6.2 nearly as strong, is counted at 9.0); a weak RSA (0.5, 0.7 and 1 beats/min at 12/min)
breathing at 10-26/min, 200 sessions each: 0, 3 and 0 wrong (was 23, 16 and 2, the Mayer
rhythm read as slow breathing), paced at 4.5-6.5/min, 120 each: 6, 2 and 1 unknown. Read
from the whole window, the peak's readings of 1,728 sessions held out from the tuning went
from 12 wrong to none (a person's breathing quicker by 1.5/min in the middle of 2 minutes
read for all of them) and their 90th centile error from 0.40 to 0.23/min.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from heartsease.signal.coherence import coherence_from_spectrum, coherence_ratios
from heartsease.signal.hrv import (
    RESAMPLING_HZ,
    TachogramSpectrum,
    band_slice,
    beat_times_s,
    tachogram_spectrum,
)
from heartsease.signal.interpolation import FloatArray
from heartsease.signal.phase_locking import harmonic_phase_locking
from heartsease.signal.rolling import median
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
MIN_SEPARATE_HEIGHT = 0.03
# Above the ripple of a mean spectrum; the share a faster peak must hold keeps noise out.
# Measured on 2,900 simulations (``bench/honest_analysis.py``'s wide sweep): 0.1 % left
# breathing at 20-25/min beside Mayer waves of 5-8 beats/min unread (it stands at 0.06-0.11
# %) and the Mayer rhythm read instead; 0.01 % read one threat simulation's ripple; 0.03 %
# none, and 0.05 % two more wrong.
MIN_OFF_HARMONIC_HEIGHT = 0.0003
HARMONIC_TOLERANCE = 0.15
# A peak where a harmonic would be is the harmonic only when its phase keeps in step with
# the slow rhythm's (:func:`~heartsease.signal.phase_locking.harmonic_phase_locking`).
# Measured on the peaks at 0.4-3 % of a Mayer rhythm's height near its second harmonic in
# 2- and 5-minute simulations (Mayer waves of 4-10 beats/min, paced breathing, threat):
# those that were not the breathing 0.16-1.00, median 0.97 (7 of 191 under 0.5); breathing
# that happened to sit there 0.04-0.92, median 0.62. Under 0.5 is a rhythm of its own: in
# the wide sweep 27 readings went right by it and none wrong (0.6 made one wrong). The
# nearer a peak stands to the height a harmonic may reach, the less likely it is one, so
# the locking asked rises from half that height to 0.7 at it: breathing at 15/min beside a
# Mayer wave at 7.0-7.1/min, 0.79-0.99 of the height, locked 0.55-0.59 and was read as its
# harmonic. Measured: no peak that was not the breathing stood over half that height near
# a second harmonic (356 peaks in 800 simulations of Mayer waves of 3-10 beats/min beside
# breathing); the wide sweep's last 2 wrong go right, and 3 of 288 with Mayer waves of 10
# beats/min; nothing else changes.
MIN_HARMONIC_PHASE_LOCKING = 0.5
HARMONIC_PHASE_LOCKING_RISE = 0.2
# The Task Force's LF/HF boundary: the baroreflex (Mayer) rhythm stays below it.
HF_LOW_HZ = 0.15
SLOWEST_SPONTANEOUS_HZ = 0.1
# Two rhythms are told apart when they are a Hann main lobe apart in a 64-s window.
MIN_SEPARATION_HZ = 2.0 / BREATHING_WINDOW_S
MAX_HF_BESIDE_SLOW = 0.05
# A rhythm at 6-9/min beside more power in the HF band than its own, with the heart quicker
# than at rest, is the baroreflex rhythm beside uneven breathing: NeuroKit's 5-minute rest,
# belt 15.6/min, heart 86/min, read 7.7 from its 180-300 s window (1.16 times the slow
# rhythm's power in the HF band). At rest slow breathers' uneven breaths put that much
# there too (NeuroKit's 8-minute rest whole, belt 9.3/min, heart 57/min: 1.08, read 9.7).
MAX_HF_BESIDE_SLOW_ROUSED = 1.0
# McCraty & Zayas' coherence ratio (peak power over the rest of 0.0033-0.4 Hz) of 1: the
# peak holds at least half the heart rhythm's power.
MIN_SLOW_COHERENCE_RATIO = 1.0
MIN_FASTER_PEAK = 0.4
# A coherence ratio of 1 alone leaves slow waves of a Holter day read (ratios 1.01-1.41,
# swings of 31-59 ms at 2.8-4.6/min); slow breathing on purpose is either more coherent
# (simulated paced 4.5-6.5/min: 4.1-7.6; the Polar H10's slow windows 2.5-4.2 but one) or
# swings the heart further (that one, the Polar's 5.0/min window: ratio 1.09, 63 ms).
# Issue 26 puts resonance breathing's RR swing at 100-300 ms peak to trough (its source not
# checked here; Lehrer et al. 2000 give the 4-10-fold rise over normal breathing): a sine
# of 60-ms amplitude, 120 ms from peak to trough, has a power of 60^2 / 2 = 1,800 ms^2. A
# ratio of 2 puts two thirds of the heart's power in the peak. Both are measured splits
# with thin margins (amplitudes 59 against 63 ms; ratios 1.41 against 2.47).
STRONG_SLOW_COHERENCE_RATIO = 2.0
MIN_SLOW_BREATHING_POWER_MS2 = 1800.0
# However coherent, a slow rhythm alone must swing the heart more than a Mayer wave does
# beside breathing the heart hardly shows (low vagal tone): simulated breathing at 18-26/min
# with RSA 0.5-1 beats/min at 12/min left the Mayer rhythm alone, coherent (ratios 2.0-2.4)
# and read as slow breathing, at 79-127 ms^2 (an RR swing of 13-16 ms); the same people
# breathing at 4.5-6.5/min put 244-5,294 ms^2 there (weakest 0.5 beats/min), the Polar H10's
# slow windows 1,991-5,685. 175 ms^2, an RR swing of 19 ms, sits between (1.4 times the one,
# 0.7 times the other).
MIN_SLOW_SWING_POWER_MS2 = 175.0
# Above this mean heart rate a slow rhythm standing alone is not read as breathing (see
# :func:`_slow_rhythm_is_breathing`): measured, no source gives it. The slow rhythms that
# were breathing ran at 57-70/min (Polar H10 59-64, NeuroKit's belt rest 57-58, simulated
# paced 4.5-6.5/min 67-70); the simulated extreme Mayer waves under threat, which look
# like slow breathing in every other way, at 79-84. 75 sits between.
MAX_SLOW_BREATHING_HR_BPM = 75.0
# A peak this close below the band's lower edge (a fraction of the 0.03-Hz resolution of a
# 64-s window) is the same rhythm as one at the edge: breathing at 3/min, a bin away.
EDGE_MARGIN_HZ = 0.005
RECORDING_STEP_S = 10.0
MIN_RECORDING_CONCENTRATION = 0.25
# The band around the breathing peak whose RSA cycles are counted, as multiples of the peak's
# frequency: a person's breath-to-breath rate at rest spreads about that far around the
# dominant one (NeuroKit's 8-minute rest: 5.3-14.0/min in 2-minute windows whose peaks lie
# at 6.7-13.0/min).
CYCLE_BAND = (0.6, 1.6)
# Faster breathing is read from its peak: RSA shrinks as breathing quickens (Hirsch & Bishop
# 1981), the beats' noise then crosses zero too, and the count runs high (NeuroKit's
# event-related recording, belt 18.4-18.7/min and 16.6-16.9 breaths a minute: counted
# 19.1-19.3, its peak 18.3-18.5). Slower breathing is where a changing pace pulls the peak.
MAX_COUNTED_HZ = 0.25
# The baroreflex (Mayer) rhythm runs near 0.1 Hz in people (Julien 2006, Cardiovasc Res
# 70:12). A stronger rhythm above this beside the breathing peak is slower breaths of a
# person whose pace changes, and the breaths are counted across both (NeuroKit's 8-minute
# rest, 290-410 s: rhythms at 8.6 and 12.1/min of equal height, belt median 9.7, counted
# 10.0). Measured: beside the simulator's Mayer waves (0.1 Hz, wandering by 0.01; Mayer
# waves of 3-10 beats/min beside breathing at 10-25/min) the stronger rhythm stood at
# 5.3-7.2/min in all 3,672 sessions whose breathing was the faster peak; the belt's
# alternating paces put it at 8.1-8.8/min. No reading of the bench's sweeps, Holter days
# or the Polar H10 changes.
MAX_MAYER_HZ = 0.125
# The share of a recording tapered at its two ends when its breathing peak is read as a
# rate over the whole of it (:func:`whole_window_peak_rate`): the rest, three quarters,
# weighs every moment alike, and the taper keeps a strong slower rhythm's leakage out of
# the band (a rectangular window's sidelobes fall off as 1/f from -13 dB). Measured on the
# bench's simulated 2- and 5-minute sessions: 0.25 and 0.5 read alike.
WHOLE_WINDOW_TAPER = 0.25


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


def _share(spectrum: Spectrum, peak_hz: float, low_hz: float, high_hz: float,
           also_hz: float | None = None) -> float:
    """Share of the power in ``[low_hz, high_hz]`` within +/-0.015 Hz of ``peak_hz`` (of
    ``peak_hz`` and ``also_hz`` and what lies between them, if given)."""
    reference = spectrum.power(low_hz, high_hz)
    if reference <= 0:
        return 0.0
    lowest, highest = min(peak_hz, also_hz or peak_hz), max(peak_hz, also_hz or peak_hz)
    return spectrum.power(lowest - PEAK_HALF_WIDTH_HZ, highest + PEAK_HALF_WIDTH_HZ) / reference


def _breathing_peak(
    spectrum: Spectrum, band_hz: tuple[float, float], min_share: float,
    coherence_ratio: float, mean_hr_bpm: float | None = None,
    tachogram: Callable[[], TachogramSpectrum] | None = None,
) -> tuple[float | None, float]:
    """The breathing peak (``None`` when two rhythms leave it open) and its share.

    The highest peak is the breathing when it lies in the HF band (from
    :data:`HF_LOW_HZ`, above the baroreflex rhythm's reach). A slower one is the breathing
    unless a separate faster rhythm exists: a peak in the HF band at 1.5 times its
    frequency or more (Mayer waves sit near 0.1 Hz, spontaneous breathing mostly at
    0.2-0.3 Hz) that is not a trace of its harmonics (:func:`_is_separate`). The highest
    such peak that holds :data:`MIN_CONCENTRATION` of the power above the midpoint between
    the two (``min_share`` if more) is the breathing; one that does not but reaches
    :data:`MIN_FASTER_PEAK` of the slow one's height, or holds it together with a separate
    peak within :data:`MIN_SEPARATION_HZ` (one breath split by its wandering) beside a slow
    rhythm standing alone, leaves the answer open. A slow rhythm
    left alone is the breathing only as :func:`_slow_rhythm_is_breathing` tells: under
    6/min, or under the HF band with nothing beside it, only as deliberate slow breathing
    shows it (nothing breathing in the HF band, the heart coherent and at rest,
    ``mean_hr_bpm`` at most :data:`MAX_SLOW_BREATHING_HR_BPM`).

    Why coherence: slow breathing on purpose drives the heart into one large, narrow
    oscillation (the coherence of McCraty & Zayas 2014, Front Psychol 5:1090, which
    breathing at about 6/min produces: Lehrer et al. 2000). A slow wave that comes and goes
    on a Holter day holds less of the power: measured on the 16 NSR2DB 2-minute windows
    that read 2.8-4.6/min with an empty HF band, a median 64-s window ratio of 0.42-1.41
    (11 under 1); the Polar H10's slow windows 1.09-4.17, simulated paced 4.5-6.5/min
    4.1-7.6. The two overlap: this rule left 5 of the 16 read; the band's edge and a ratio
    of 2 or a large swing (:func:`_slow_rhythm_is_breathing`) leave none.
    """
    low, high = band_hz
    peaks = spectral_peaks(spectrum, low - EDGE_MARGIN_HZ, high)
    slow = peaks[0]
    if slow >= HF_LOW_HZ:
        return slow, _share(spectrum, slow, low, high)
    # The faster peaks that are rhythms of their own, highest first (a slower one, or a trace
    # of the slow rhythm's harmonic, can stand higher; neither is the breathing). A leak of
    # the slow peak's wandering (0.1-0.2 % of it, 1.6-1.8 times its rate) can stand above a
    # faint breath's, so each is asked in turn: the first that holds the faster power is
    # the breathing, a strong one that does not leaves the answer open.
    lowest = max(slow + MIN_SEPARATION_HZ, HF_LOW_HZ)
    candidates = [f for f in peaks[1:] if f >= lowest]

    @functools.cache
    def separate(faster: float) -> bool:
        locking = (None if tachogram is None
                   else lambda order: harmonic_phase_locking(tachogram(), slow, faster, order))
        return _is_separate(_height(spectrum, faster) / _height(spectrum, slow),
                            faster / slow, locking)

    for faster in candidates:
        if not separate(faster):
            continue
        share = _share(spectrum, faster, (slow + faster) / 2.0, high)
        # It must hold the faster power as clearly as one window's breathing must: real slow
        # breathers' uneven breaths leave 8-11 % peaks holding 0.29-0.37 of it (NeuroKit's
        # 8-minute rest), and an irregular breather's several 40-90 % peaks 0.25-0.35
        # (NeuroKit's 5-minute rest, belt 16.4-16.6/min, read 9.4, 15.0 and 29.6 before).
        if share >= max(min_share, MIN_CONCENTRATION):
            return faster, share
        if _height(spectrum, faster) >= MIN_FASTER_PEAK * _height(spectrum, slow):
            return None, share
        # A breath whose rate wanders over a recording can split into two peaks, neither
        # holding the faster power though together they do: then something breathes in the
        # HF band, and a slow rhythm standing alone there is no deliberate slow breathing
        # (simulated breathing at 25/min beside a Mayer wave at 6.4/min, each peak just
        # under 0.4, together 0.69: the Mayer rhythm was read, 3 of 1,728 sessions). Asked
        # only where the slow rhythm stands alone: beside HF power, two small faster peaks
        # (2 % of the band's power each) nulled 2 right readings of NeuroKit's 8-minute rest.
        split = [f for f in candidates if 0 < abs(f - faster) <= MIN_SEPARATION_HZ
                 and separate(f)]
        if split and _hf_band_is_empty(spectrum, slow, high) and _share(
                spectrum, faster, (slow + faster) / 2.0, high,
                also_hz=min(split, key=lambda f: abs(f - faster))) >= max(
                    min_share, MIN_CONCENTRATION):
            return None, share
    share = _share(spectrum, slow, low, high)
    if not _slow_rhythm_is_breathing(spectrum, slow, band_hz, coherence_ratio, mean_hr_bpm):
        return None, share
    return slow, share


def _slow_rhythm_is_breathing(
    spectrum: Spectrum, slow_hz: float, band_hz: tuple[float, float],
    coherence_ratio: float, mean_hr_bpm: float | None,
) -> bool:
    """Whether a dominant rhythm with no faster one read beside it is the breathing.

    Never under the band's lower edge: :func:`spectral_peaks` looks
    :data:`EDGE_MARGIN_HZ` below it only so that the edge's bin is not taken for a peak,
    and a rhythm found there (NSR2DB 2-minute windows at 2.8-2.9/min) is the edge.

    A rhythm under 6/min (:data:`SLOWEST_SPONTANEOUS_HZ`), and one under the HF band
    standing alone (:func:`_hf_band_is_empty`), is read only as deliberate slow breathing
    shows it: the HF band empty; the heart coherent with it, ``coherence_ratio`` at least
    :data:`MIN_SLOW_COHERENCE_RATIO`, and either :data:`STRONG_SLOW_COHERENCE_RATIO` or a
    swing as large as resonance breathing's (a peak of :data:`MIN_SLOW_BREATHING_POWER_MS2`
    or more), and in any case more than a Mayer wave's beside breathing the heart hardly
    shows (:data:`MIN_SLOW_SWING_POWER_MS2`); and the heart at rest, ``mean_hr_bpm`` at most
    :data:`MAX_SLOW_BREATHING_HR_BPM` (``None``: not known, not asked). Why the heart rate:
    threat quickens the heart and withdraws vagal tone (Thayer & Lane 2000, J Affect Disord
    61:201; Porges 2007, Biol Psychol 74:116), so RSA can shrink to nothing beside the
    baroreflex (Mayer) rhythm at about 0.1 Hz (Julien 2006, Cardiovasc Res 70:12), and the
    heart then shows one large, coherent rhythm near 6/min just as resonance breathing
    does: the simulator's extreme Mayer waves under threat put the breathing at 0.01-1.7 %
    of the Mayer peak's height, an RR amplitude of 21-96 ms and a coherence ratio of 3-7,
    the range of simulated paced breathing (46-177 ms, 4-8). Only the heart rate told them
    apart (79-84 against 67-70 beats/min). Between 6 and 9/min a rhythm beside power in
    the HF band stays read: people do breathe that slowly at rest (NeuroKit's 8-minute rest,
    belt 7.3 and 7.7/min, read 6.7 and 8.7). Beside more HF power than its own
    (:data:`MAX_HF_BESIDE_SLOW_ROUSED`) it is read only at a heart at rest, for the same
    reason: the baroreflex rhythm of a quickened heart stands out beside uneven breathing.
    """
    low, high = band_hz
    if slow_hz < low:
        return False
    if slow_hz >= HF_LOW_HZ:
        return True
    hf_beside = _hf_power_beside_slow(spectrum, slow_hz, high)
    alone = hf_beside < MAX_HF_BESIDE_SLOW
    at_rest = mean_hr_bpm is None or mean_hr_bpm <= MAX_SLOW_BREATHING_HR_BPM
    if slow_hz >= SLOWEST_SPONTANEOUS_HZ and not alone:
        return at_rest or hf_beside < MAX_HF_BESIDE_SLOW_ROUSED
    slow_power = spectrum.power(slow_hz - PEAK_HALF_WIDTH_HZ, slow_hz + PEAK_HALF_WIDTH_HZ)
    coherent = (coherence_ratio >= MIN_SLOW_COHERENCE_RATIO
                and slow_power >= MIN_SLOW_SWING_POWER_MS2
                and (coherence_ratio >= STRONG_SLOW_COHERENCE_RATIO
                     or slow_power >= MIN_SLOW_BREATHING_POWER_MS2))
    return alone and coherent and at_rest


def _hf_band_is_empty(spectrum: Spectrum, slow_hz: float, high_hz: float) -> bool:
    """Whether nothing breathes in the HF band beside a slow rhythm, as in deliberate slow
    breathing.

    Spontaneous breathing at rest is far faster: 16.6 +/- 2.8/min awake (Tobin et al. 1983,
    Chest 84:202), hardly slower asleep (Douglas et al. 1982, Thorax 37:840); under 6/min a
    person breathes so only on purpose, as in the resonance breathing heartsease coaches
    (Lehrer et al. 2000, Appl Psychophysiol Biofeedback 25:177: resonance at 4.5-7/min).
    Then nobody breathes in the HF band: what is there beyond the slow rhythm's harmonics
    is the beats' own noise, under :data:`MAX_HF_BESIDE_SLOW` of the slow rhythm's power
    (measured: simulated paced 4.5-6.5/min 0.1-1 %, the Polar H10's slow 2-minute windows
    3 %). A person breathing at 12-20/min puts RSA there, and a slow maximum beside it is
    the baroreflex or very-low-frequency rhythm (the NSR2DB Holter days' 2- and 5-minute
    windows that read under 6/min: a median 40 % and at least 6 %)."""
    return _hf_power_beside_slow(spectrum, slow_hz, high_hz) < MAX_HF_BESIDE_SLOW


def _hf_power_beside_slow(spectrum: Spectrum, slow_hz: float, high_hz: float) -> float:
    """The power in the HF band away from a slow rhythm's harmonics, as a multiple of the
    slow rhythm's own (``inf`` when it has none)."""
    slow_power = spectrum.power(slow_hz - PEAK_HALF_WIDTH_HZ, slow_hz + PEAK_HALF_WIDTH_HZ)
    if slow_power <= 0:
        return float("inf")
    band = band_slice(spectrum.df_hz, spectrum.psd.size, HF_LOW_HZ, high_hz)
    f = spectrum.f_hz[band]
    order = np.round(f / slow_hz)
    off_harmonic = np.abs(f - order * slow_hz) > PEAK_HALF_WIDTH_HZ
    return float(spectrum.psd[band][off_harmonic].sum()) * spectrum.df_hz / slow_power


def _is_separate(relative_height: float, ratio: float,
                 locking: Callable[[int], float] | None = None) -> bool:
    """Whether a faster peak is a rhythm of its own, not a trace of the slow one's harmonic.

    Near the slow rhythm's second harmonic it must reach :data:`MIN_SEPARATE_HEIGHT` of the
    slow peak's height (a slow breath's second harmonic stays near 1 % on the simulator's
    paced 4.5-6.5/min). Harmonics fall off geometrically with their order (the reciprocal
    turning heart rate into RR gives the k-th a power of the second's to the k-1; the
    heart's response to breathing falls off above its resonance besides), so near the
    k-th one it must reach that height to the k-1 (third: 0.09 %; measured 0.01-0.03 %),
    unless ``locking`` (the peak's :func:`~heartsease.signal.phase_locking.harmonic_phase_locking`
    to that order, given the beats) shows its phase out of step with the slow rhythm's:
    under :data:`MIN_HARMONIC_PHASE_LOCKING` it is no harmonic (breathing at 14/min beside a
    Mayer wave at 7.1, 2.4 % of its height, read 7.1 before), and over half the height the
    bound rises by up to :data:`HARMONIC_PHASE_LOCKING_RISE`. Anywhere, it must reach
    :data:`MIN_OFF_HARMONIC_HEIGHT`, above the mean spectrum's own ripple: a strong Mayer
    rhythm can dwarf weak RSA to 0.06-0.4 % (simulated Mayer waves of 5-8 beats/min beside
    breathing at 20-25/min); what keeps a noise peak out is the share of the faster power it
    must then hold (:func:`_breathing_peak`)."""
    if relative_height < MIN_OFF_HARMONIC_HEIGHT:
        return False
    order = round(ratio)
    if abs(ratio - order) > HARMONIC_TOLERANCE:
        return True
    bound = MIN_SEPARATE_HEIGHT ** (order - 1)
    if relative_height >= bound:
        return True
    nearness = min(max(2.0 * relative_height / bound - 1.0, 0.0), 1.0)
    return locking is not None and locking(order) < (
        MIN_HARMONIC_PHASE_LOCKING + HARMONIC_PHASE_LOCKING_RISE * nearness)


def _height(spectrum: Spectrum, f_hz: float) -> float:
    return float(spectrum.psd[int(round(f_hz / spectrum.df_hz))])


def breathing_from_spectrum(
    spectrum: Spectrum,
    band_hz: tuple[float, float],
    min_share: float = MIN_CONCENTRATION,
    faster_rhythm: bool = False,
    coherence_ratio: float | None = None,
    mean_hr_bpm: float | None = None,
    tachogram: Callable[[], TachogramSpectrum] | None = None,
) -> BreathingEstimate:
    """The breathing rhythm of a spectrum, when one rhythm clearly holds it.

    Only a true peak counts (:func:`spectral_peaks`), never the band's edge. With
    ``faster_rhythm``, a separate faster rhythm beside a dominant slow one is the breathing,
    or leaves the answer open (:func:`_breathing_peak`): a spontaneously breathing person's
    baroreflex rhythm can outweigh RSA (NeuroKit's event-related recording: 5/min dominant,
    belt 18.4/min). Whole recordings use it, and the rate shown live (the last 2 minutes'
    windows, :class:`~heartsease.signal.streaming.StreamingAnalyzer`); the 64-s reading the
    state classifier compares with the person's own at rest does not, because the coaching
    targets were tuned on it (with it, one simulated backdraft is raised after 31.1 s
    against a 30-s target). ``coherence_ratio`` is the heart's coherence
    over the windows behind a mean spectrum (their median); without it, the spectrum's own.
    ``mean_hr_bpm`` is the mean heart rate behind the spectrum; without it, a slow rhythm
    is read whatever the heart rate (:func:`_slow_rhythm_is_breathing`). ``tachogram``
    gives the :func:`~heartsease.signal.hrv.tachogram_spectrum` of the beats behind the
    spectrum, made when first asked: with it, a faster peak where the slow rhythm's
    harmonic would be is told from it by its phase (:func:`_is_separate`); without it, by
    its height alone.
    """
    low, high = band_hz
    peaks = spectral_peaks(spectrum, low - EDGE_MARGIN_HZ, high)
    if spectrum.power(low, high) <= 0 or not peaks:
        return BreathingEstimate(None, 0.0, None)
    if faster_rhythm:
        if coherence_ratio is None:
            coherence_ratio = coherence_from_spectrum(spectrum).coherence_ratio
        peak_hz, share = _breathing_peak(spectrum, band_hz, min_share, coherence_ratio,
                                         mean_hr_bpm, tachogram)
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
    ratios: list[np.ndarray] = []
    for _, f, psd in recording_window_psds(rr, window_s, step_s):
        f_hz, total, count = f, total + psd.sum(axis=0), count + psd.shape[0]
        ratios.append(coherence_ratios(f, psd))
    if f_hz is None:
        return BreathingEstimate(None, 0.0, None)
    return breathing_from_mean_spectrum(Spectrum(f_hz, total / count), rr, np.concatenate(ratios))


def breath_cycle_rate(
    rr_ms: ArrayLike | TachogramSpectrum, peak_hz: float,
    band: tuple[float, float] = CYCLE_BAND, fs_hz: float = RESAMPLING_HZ,
) -> float | None:
    """Breaths a minute counted one by one: the RSA cycles of the band around ``peak_hz``.

    The tachogram is resampled at ``fs_hz`` and detrended
    (:func:`~heartsease.signal.hrv.detrended_tachogram`), filtered to ``band`` times
    ``peak_hz``, and its upward zero crossings counted over the time from the first to the
    last, as Schäfer & Kratky (2008, Ann Biomed Eng 36:476) count breaths in RSA. A spectral
    peak gives the pace that holds the most power; slower breaths swing the heart further
    (Hirsch & Bishop 1981, Am J Physiol 241:H620), so when a person's pace changes it leans
    towards the slow breaths, where the count gives the breaths a minute (NeuroKit's
    8-minute rest breathing 9 and 13/min by turns: peak 9.0, count 10.9, belt median 11.1).
    ``None`` with fewer than three crossings. ``rr_ms`` may be their
    :func:`~heartsease.signal.hrv.tachogram_spectrum` already made (then ``fs_hz`` is its
    own).

    Examples
    --------
    >>> beats = np.arange(150)
    >>> even = 1000 + 60 * np.sin(2 * np.pi * 0.2 * beats)  # 12/min at 60 bpm
    >>> round(breath_cycle_rate(even, 0.2), 1)
    12.0
    """
    x = rr_ms if isinstance(rr_ms, TachogramSpectrum) else tachogram_spectrum(rr_ms, fs_hz)
    f = x.f_hz
    # A pace of 6/min or more is counted from 6/min up: below lie the baroreflex and slower
    # rhythms (a Holter day's 2-minute windows counted 3-5/min where their peaks said 6-9).
    low_hz = band[0] * peak_hz
    if peak_hz >= SLOWEST_SPONTANEOUS_HZ:
        low_hz = max(low_hz, SLOWEST_SPONTANEOUS_HZ)
    spectrum = np.where((f < low_hz) | (f > band[1] * peak_hz), 0.0, x.spectrum)
    cycles = np.fft.irfft(spectrum, x.n_samples)
    up = np.flatnonzero((cycles[:-1] < 0.0) & (cycles[1:] >= 0.0))
    if up.size < 3:
        return None
    return float(60.0 * x.fs_hz * (up.size - 1) / (up[-1] - up[0]))


def whole_window_peak_rate(
    tachogram: TachogramSpectrum, peak_hz: float, slower_rhythm_hz: float | None = None,
) -> float:
    """The rate of the rhythm at ``peak_hz`` over the whole tachogram, every moment weighted
    alike: the power-weighted mean frequency (spectral centroid) within a 64-s window's Hann
    main lobe (:data:`MIN_SEPARATION_HZ`) of the peak, in the tachogram's own spectrum under
    a Tukey window (:data:`WHOLE_WINDOW_TAPER`), in breaths a minute.

    A mean of overlapping Hann windows weights a recording's middle most (in a 2-minute
    one, the middle 8 s lie in all six windows, the ends in one): its peak is the rate
    there. The centroid of a band is the power-weighted mean of the instantaneous frequency
    over the signal (Boashash 1992, Proc IEEE 80:520), so under a window flat over most of
    the recording it is the rate over all of it. ``slower_rhythm_hz``, a stronger rhythm
    below the peak (a Mayer wave beside the breathing), bounds the band at the midpoint
    between the two.

    Examples
    --------
    >>> beats = np.arange(150)
    >>> rr = 1000 + 60 * np.sin(2 * np.pi * 0.3 * beats)  # 18/min at 60 bpm
    >>> round(whole_window_peak_rate(tachogram_spectrum(rr), 0.3), 1)
    18.0
    """
    samples = tachogram.detrended * _tukey(tachogram.n_samples, WHOLE_WINDOW_TAPER)
    nfft = 4 * samples.size
    power = np.abs(np.fft.rfft(samples, nfft)) ** 2
    f = np.fft.rfftfreq(nfft, 1.0 / tachogram.fs_hz)
    low = peak_hz - MIN_SEPARATION_HZ
    if slower_rhythm_hz is not None:
        low = max(low, (slower_rhythm_hz + peak_hz) / 2.0)
    near = (f >= low) & (f <= peak_hz + MIN_SEPARATION_HZ)
    total = float(power[near].sum())
    if total <= 0:
        return 60.0 * peak_hz
    return 60.0 * float((f[near] * power[near]).sum()) / total


def _tukey(n: int, alpha: float) -> FloatArray:
    """The Tukey (tapered cosine) window of ``n`` points: flat but for a Hann taper over
    ``alpha`` of its length (scipy's ``windows.tukey(n, alpha)``)."""
    x = np.linspace(0.0, 1.0, n)
    w = np.ones(n)
    edge = alpha / 2.0
    rising, falling = x < edge, x > 1.0 - edge
    w[rising] = 0.5 * (1.0 - np.cos(np.pi * x[rising] / edge))
    w[falling] = 0.5 * (1.0 - np.cos(np.pi * (1.0 - x[falling]) / edge))
    return w


def breathing_from_mean_spectrum(
    mean: Spectrum, rr_ms: ArrayLike, window_coherence_ratios: ArrayLike | None = None,
    tachogram: Callable[[], TachogramSpectrum] | None = None,
) -> BreathingEstimate:
    """The breathing peak of a recording's mean window spectrum (see
    :func:`breathing_rate_over_recording`); the band's top is half the mean heart rate.
    ``window_coherence_ratios`` are the coherence ratios of the windows averaged
    (:func:`~heartsease.signal.coherence.coherence_ratios`): a slow rhythm is read only
    when their median shows the heart coherent (without them, the mean spectrum's own
    ratio, lower when the peak wanders). ``tachogram`` gives the beats'
    :func:`~heartsease.signal.hrv.tachogram_spectrum`, asked only if a phase or the count
    needs it (the live analyzer makes it from the spline it has); without it, it is made
    from ``rr_ms`` then."""
    mean_rr_ms = float(np.mean(np.asarray(rr_ms, dtype=np.float64)))
    band = (MIN_RATE_HZ, min(MAX_RATE_HZ, 1000.0 / mean_rr_ms / 2.0))
    ratio = (None if window_coherence_ratios is None
             else median(window_coherence_ratios))
    # The phase locking of each peak asked about and the breath count filter one tachogram.
    tachogram_of = functools.cache(tachogram or functools.partial(tachogram_spectrum, rr_ms))
    estimate = breathing_from_spectrum(mean, band, MIN_RECORDING_CONCENTRATION,
                                       faster_rhythm=True, coherence_ratio=ratio,
                                       mean_hr_bpm=60000.0 / mean_rr_ms,
                                       tachogram=tachogram_of)
    # Counted only where the breathing is the heart's strongest rhythm or the one stronger
    # is too fast for a Mayer wave (beside a Mayer wave, its leak into the band is counted
    # too: simulated Mayer waves beside breathing at 10-25/min, 205 of 1,728 counts more
    # than 1/min off), and slower than :data:`MAX_COUNTED_HZ`; elsewhere, and where too few
    # breaths cross, the peak's rate over the whole window.
    if estimate.peak_hz is None or estimate.rate_bpm is None:
        return estimate
    strongest = spectral_peaks(mean, band[0] - EDGE_MARGIN_HZ, band[1])[0]
    rate_bpm = None
    if (estimate.peak_hz == strongest or strongest > MAX_MAYER_HZ) and (
            estimate.peak_hz < MAX_COUNTED_HZ):
        rate_bpm = breath_cycle_rate(tachogram_of(), estimate.peak_hz)
    if rate_bpm is None:
        beside = strongest if strongest < estimate.peak_hz else None
        rate_bpm = whole_window_peak_rate(tachogram_of(), estimate.peak_hz, beside)
    return BreathingEstimate(rate_bpm, estimate.confidence, estimate.peak_hz)


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
