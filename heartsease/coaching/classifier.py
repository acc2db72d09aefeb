"""An estimate of arousal and settling every 5 seconds, relative to the person's own resting
baseline, named ``threat``, ``neutral`` or ``soothing`` (the names are a contract of the
command line's JSON and stay).

What the heart can show is limited: arousal tends to show as a faster rate with less vagal
variability, and settling as a slower rate, more vagal variability and, with slow breathing,
a smooth rhythm locked to the breath (Porges 2007; Thayer & Lane 2000; Kirby, Doty, Petrocchi
& Gilbert 2017, "The current and future role of heart rate variability for assessing and
training compassion", Front Public Health 5:40). The heart cannot tell CFT's threat system
from the drive system (both arouse), nor soothing from shutdown; so ``threat`` here means
"aroused relative to their baseline" and ``soothing`` "settled relative to it": an estimate
for biofeedback used alongside therapy, not a diagnosis. People differ far more from each other
than from themselves, so every feature is read as a distance from the person's own resting
baseline in units of its own resting spread (a z-score):

- ``z_hr``: heart rate over the last 15 s;
- ``z_vagal``: ln RMSSD over the last 30 s (the log makes RMSSD's spread even; Plews et al.
  2013 use ln RMSSD for the same reason);
- ``z_coherence``: ln coherence ratio over the last 64 s;
- ``z_slow_breathing``: how much slower than at rest the person breathes, from the RSA rate
  of the last 64 s (slow, even breathing is how settling shows in the heart, whatever the
  person feels; fast breathing is not read as arousal, because RSA rarely shows the rate
  then).

``arousal = (z_hr - z_vagal) / 2`` rises in threat; ``calm`` rises in soothing: the larger of
``(z_vagal - z_hr) / 2`` and the mean of all four (coherence and breathing, when they can be
read, only add evidence). A state is
held until two consecutive epochs ask to leave it, then the state the latest epoch asks
for is taken; a state is asked for when its score passes :data:`ENTER_Z`, and a held state
keeps being asked for until its score falls under :data:`EXIT_Z` (hysteresis: no flapping
on noise). The spreads have
floors (:data:`MIN_HR_SPREAD_BPM` etc.) set from the within-person variability of these
measures at rest, so a baseline that happened to be very still does not make every breath
look like a change of state.

When the signal cannot be trusted (more than 10 % of the last 30 s corrected as artifacts,
too few beats since a gap, no baseline yet) the state is ``unknown``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum

import numpy as np

# Floors on the resting spreads. Within one resting session, heart rate wanders by 2-3
# beats/min between half-minutes and 30-s ln RMSSD by about 0.15-0.25 (Esco & Flatt 2014,
# ultra-short-term ln RMSSD); from day to day, resting heart rate varies by about 3 beats/min
# and ln RMSSD by about 0.25 (a coefficient of variation of 7-10 %, Plews et al. 2012, "Heart
# rate variability in elite triathletes", Eur J Appl Physiol 112:3729; Buchheit 2014,
# "Monitoring training status with HR measures", Front Physiol 5:73). A session lasts long
# enough (15-30 min) for heart rate to drift as far as it does between days, so the
# day-to-day floors hold for an in-session baseline too. ln coherence varies by about
# 0.3-0.5 between 64-s windows.
MIN_HR_SPREAD_BPM = 3.0
MIN_LN_RMSSD_SPREAD = 0.25
MIN_LN_COHERENCE_SPREAD = 0.35
# A resting person's breathing rate wanders by about 2 breaths/min from minute to minute
# (Tobin et al. 1983, "Breathing patterns. 1. Normal subjects", Chest 84:202).
BREATHING_SPREAD_BPM = 2.0
# Two epochs' confirmation; thresholds in resting spreads (z). A resting person passes 2.0 on
# both averaged features in well under 1 % of epochs; the hysteresis gap (1.0) is the width
# of one resting spread.
ENTER_Z = 2.0
EXIT_Z = 1.0
CONFIRM_EPOCHS = 2
MIN_BASELINE_EPOCHS = 6


class AutonomicState(Enum):
    """The estimate of one epoch: aroused (``threat``), steady (``neutral``) or settled
    (``soothing``) relative to the person's own baseline, or ``unknown`` when the signal
    cannot be trusted. The heart cannot tell threat from drive arousal, nor soothing from
    shutdown: these are estimates, not the CFT systems themselves."""

    THREAT = "threat"
    NEUTRAL = "neutral"
    SOOTHING = "soothing"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class EpochFeatures:
    """What the heart says in one 5-second epoch. ``None`` where it cannot be measured."""

    t_s: float
    hr_bpm: float | None
    ln_rmssd: float | None
    coherence_ratio: float | None
    artifact_share: float
    signal_ok: bool
    breathing_bpm: float | None = None


@dataclass(frozen=True, slots=True)
class RestingBaseline:
    """A person's resting reference: typical values and their spreads (robust)."""

    hr_bpm: float
    ln_rmssd: float
    ln_coherence: float
    hr_spread_bpm: float
    ln_rmssd_spread: float
    ln_coherence_spread: float
    n_epochs: int
    breathing_bpm: float | None = None

    @classmethod
    def from_epochs(cls, epochs: Sequence[EpochFeatures]) -> RestingBaseline | None:
        """Median and MAD-based spread of clean resting epochs; ``None`` if too few.

        Examples
        --------
        >>> eps = [EpochFeatures(5.0 * i, 65 + i % 3, 3.6, 1.0, 0.0, True) for i in range(12)]
        >>> b = RestingBaseline.from_epochs(eps)
        >>> b.hr_bpm, b.hr_spread_bpm, round(b.ln_rmssd, 2)
        (66.0, 3.0, 3.6)
        """
        good = [e for e in epochs if e.signal_ok and e.hr_bpm is not None
                and e.ln_rmssd is not None]
        if len(good) < MIN_BASELINE_EPOCHS:
            return None
        hr = np.array([e.hr_bpm for e in good])
        vagal = np.array([e.ln_rmssd for e in good])
        coh = np.log([e.coherence_ratio for e in good if e.coherence_ratio])
        if coh.size == 0:
            coh = np.zeros(1)
        breathing = [e.breathing_bpm for e in good if e.breathing_bpm is not None]
        return cls(
            hr_bpm=float(np.median(hr)),
            ln_rmssd=float(np.median(vagal)),
            ln_coherence=float(np.median(coh)),
            hr_spread_bpm=max(_spread(hr), MIN_HR_SPREAD_BPM),
            ln_rmssd_spread=max(_spread(vagal), MIN_LN_RMSSD_SPREAD),
            ln_coherence_spread=max(_spread(coh), MIN_LN_COHERENCE_SPREAD),
            n_epochs=len(good),
            breathing_bpm=float(np.median(breathing)) if breathing else None,
        )

    def as_dict(self) -> dict[str, float]:
        return {k: getattr(self, k) for k in self.__slots__}


def _spread(x: np.ndarray) -> float:
    """Robust standard deviation: 1.4826 x the median absolute deviation."""
    return float(1.4826 * np.median(np.abs(x - np.median(x))))


@dataclass(frozen=True, slots=True)
class Scores:
    """The epoch's distance from baseline, in resting spreads."""

    z_hr: float
    z_vagal: float
    z_coherence: float | None
    z_slow_breathing: float | None
    arousal: float
    calm: float


def score(features: EpochFeatures, baseline: RestingBaseline) -> Scores | None:
    """Arousal and calm scores of one epoch against ``baseline``.

    Examples
    --------
    >>> base = RestingBaseline(65.0, 3.5, 0.0, 2.0, 0.2, 0.4, 24)
    >>> s = score(EpochFeatures(0.0, 79.0, 2.7, 0.5, 0.0, True), base)
    >>> round(s.arousal, 1), round(s.calm, 1)
    (5.5, -4.2)
    """
    if features.hr_bpm is None or features.ln_rmssd is None:
        return None
    z_hr = (features.hr_bpm - baseline.hr_bpm) / baseline.hr_spread_bpm
    z_vagal = (features.ln_rmssd - baseline.ln_rmssd) / baseline.ln_rmssd_spread
    z_coh = None
    if features.coherence_ratio is not None and features.coherence_ratio > 0:
        z_coh = ((math.log(features.coherence_ratio) - baseline.ln_coherence)
                 / baseline.ln_coherence_spread)
    z_slow = None
    if features.breathing_bpm is not None and baseline.breathing_bpm is not None:
        z_slow = (baseline.breathing_bpm - features.breathing_bpm) / BREATHING_SPREAD_BPM
    calm = (z_vagal - z_hr) / 2.0
    support = [z for z in (z_coh, z_slow) if z is not None]
    if support:
        # Coherence and the breathing rate read the last 64 s, four times longer than the
        # other two: they may only add evidence of calm, never hold back a change the heart
        # already shows.
        calm = max(calm, (z_vagal - z_hr + sum(support)) / (2 + len(support)))
    return Scores(z_hr, z_vagal, z_coh, z_slow, (z_hr - z_vagal) / 2.0, calm)


class StateClassifier:
    """Turns epochs into states with hysteresis.

    Examples
    --------
    >>> base = RestingBaseline(65.0, 3.5, 0.0, 2.0, 0.2, 0.4, 24)
    >>> c = StateClassifier(base)
    >>> [c.update(EpochFeatures(5.0 * i, hr, 3.5, 1.0, 0.0, True)).value
    ...  for i, hr in enumerate([65, 66, 80, 81, 80, 70, 66, 65])]
    ['neutral', 'neutral', 'neutral', 'threat', 'threat', 'threat', 'threat', 'neutral']
    """

    def __init__(self, baseline: RestingBaseline | None = None) -> None:
        self.baseline = baseline
        self.state = AutonomicState.UNKNOWN
        self.scores: Scores | None = None
        self._pending: AutonomicState | None = None
        self._pending_count = 0

    def update(self, features: EpochFeatures) -> AutonomicState:
        """Classify one epoch; returns the (possibly unchanged) state."""
        scores = None
        if features.signal_ok and self.baseline is not None:
            scores = score(features, self.baseline)
        self.scores = scores
        if scores is None:
            self.state, self._pending, self._pending_count = AutonomicState.UNKNOWN, None, 0
            return self.state
        wanted = self._wanted(scores)
        if wanted is self.state:
            self._pending, self._pending_count = None, 0
            return self.state
        if self.state is AutonomicState.UNKNOWN:
            self.state = wanted  # first reading after unknown: no state to hold on to
            return self.state
        # Leaving the held state needs two epochs in a row that ask to leave it; the state
        # then taken is what the latest asks for (soothing -> neutral -> threat within two
        # epochs is one confirmed move to threat).
        self._pending_count += 1
        self._pending = wanted
        if self._pending_count >= CONFIRM_EPOCHS:
            self.state, self._pending, self._pending_count = wanted, None, 0
        return self.state

    def _wanted(self, s: Scores) -> AutonomicState:
        """The state these scores ask for, given the state held (hysteresis)."""
        threat_held = self.state is AutonomicState.THREAT and s.arousal >= EXIT_Z
        soothing_held = self.state is AutonomicState.SOOTHING and s.calm >= EXIT_Z
        calm_wins = s.calm >= ENTER_Z and s.calm > s.arousal
        if (s.arousal >= ENTER_Z or threat_held) and not calm_wins:
            return AutonomicState.THREAT
        if s.calm >= ENTER_Z or soothing_held:
            return AutonomicState.SOOTHING
        return AutonomicState.NEUTRAL
