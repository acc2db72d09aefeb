"""A physiological heart model that makes beats, with ground truth.

Instantaneous heart rate, in beats/min, is the sum of

- a baseline set by the autonomic state (threat raises it, soothing lowers it),
- respiratory sinus arrhythmia: the breath drives heart rate up on the in-breath, through
  the baroreflex, which resonates. The RSA amplitude is that of a damped second-order
  system driven at the breathing rate (Vaschillo et al. 2002, "Heart rate variability
  biofeedback as a method for assessing baroreflex function"): largest at the resonance
  rate (default 5.5 breaths/min), several times smaller at 12/min (Lehrer & Vaschillo report
  4-10 times). Vagal tone scales it; threat suppresses it;
- a ~0.1 Hz Mayer (baroreflex/vasomotor) rhythm whose phase wanders, stronger under threat;
- slow drift (an Ornstein-Uhlenbeck process, tau 60 s).

Beats come from integral pulse-frequency modulation (Bayly 1968; Mateo & Laguna 2000): the
integral of heart rate / 60 is tracked on a 20 Hz grid and each whole crossing is a beat,
its time found by linear interpolation inside the step.

The breather follows a pacer with a lag and breath-to-breath jitter, breathes freely at
their own rate, or does not follow at all.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from enum import Enum

import numpy as np
from numpy.typing import NDArray

STEP_S = 0.05


class AutonomicState(Enum):
    """The ground-truth state of a stretch of simulated heartbeat (CFT's systems)."""

    THREAT = "threat"
    NEUTRAL = "neutral"
    SOOTHING = "soothing"


class Breathing(Enum):
    """How the simulated person breathes in a segment."""

    FREE = "free"  # their own spontaneous rate
    PACED = "paced"  # following the pacer, with lag and jitter
    NOT_FOLLOWING = "not-following"  # a pacer runs but they breathe at their own rate


@dataclass(frozen=True, slots=True)
class Physiology:
    """One simulated person. Rates in breaths/min, heart rates in beats/min."""

    resting_hr_bpm: float = 68.0
    resonance_bpm: float = 5.5
    # 0.25 puts the swing at resonance 6.9x the swing at 12/min, the middle of Lehrer &
    # Vaschillo's 4-10x; adjacent assessment rates (0.5/min apart) then differ by 5-20 % in
    # swing, as the assessment literature expects of a person with a clear resonance.
    damping: float = 0.25
    rsa_at_12_bpm: float = 2.0  # peak RSA swing amplitude (beats/min) breathing at 12/min
    spontaneous_breathing_bpm: float = 13.0
    mayer_amplitude_bpm: float = 1.2
    drift_sd_bpm: float = 1.5
    state_time_constant_s: float = 15.0
    pacer_lag_s: float = 1.0
    breath_jitter: float = 0.04  # relative breath-to-breath variation of the breathing rate

    def rsa_gain(self, breathing_bpm: float) -> float:
        """RSA amplitude relative to breathing at 12/min: the resonance curve."""
        return _resonance(breathing_bpm, self) / _resonance(12.0, self)


def _resonance(breathing_bpm: float, p: Physiology) -> float:
    # A damped oscillator's amplitude peaks below its natural frequency, at
    # f_n * sqrt(1 - 2 zeta^2); the natural frequency is set so that the peak, the rate an
    # assessment finds, is ``resonance_bpm``.
    natural_bpm = p.resonance_bpm / math.sqrt(1.0 - 2.0 * p.damping**2)
    ratio = breathing_bpm / natural_bpm
    return 1.0 / math.sqrt((1.0 - ratio**2) ** 2 + (2.0 * p.damping * ratio) ** 2)


# How each state moves heart rate (offset, beats/min), vagal tone (multiplies RSA) and the
# sympathetic Mayer rhythm: threat is fast with little vagal variability, soothing slower
# with more (Porges 2007; Thayer & Lane 2000).
STATE_EFFECTS: dict[AutonomicState, tuple[float, float, float]] = {
    AutonomicState.THREAT: (14.0, 0.35, 1.6),
    AutonomicState.NEUTRAL: (0.0, 1.0, 1.0),
    AutonomicState.SOOTHING: (-5.0, 1.3, 0.7),
}


@dataclass(frozen=True, slots=True)
class Segment:
    """A stretch of a scenario: how long, in which state, breathing how."""

    seconds: float
    state: AutonomicState
    breathing: Breathing = Breathing.FREE
    pacer_bpm: float | None = None


@dataclass(slots=True)
class SimulatedBeats:
    """Beats with their ground truth, one row per beat (the interval ending at it)."""

    t_s: NDArray[np.float64]
    rr_ms: NDArray[np.float64]
    state: list[str]
    breathing_rate_bpm: NDArray[np.float64]
    pacer_bpm: NDArray[np.float64]
    artifact: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.artifact:
            self.artifact = [""] * self.rr_ms.size


def simulate_beats(
    segments: list[Segment], physiology: Physiology, rng: np.random.Generator
) -> SimulatedBeats:
    """Run the model over ``segments`` and return the beats with their ground truth.

    Examples
    --------
    >>> beats = simulate_beats([Segment(120, AutonomicState.NEUTRAL)], Physiology(),
    ...                        np.random.default_rng(0))
    >>> 120 < beats.rr_ms.size < 150, set(beats.state)
    (True, {'neutral'})
    """
    p = physiology
    total_s = sum(s.seconds for s in segments)
    n = int(math.ceil(total_s / STEP_S))
    bounds = np.cumsum([s.seconds for s in segments])
    index = np.minimum(np.searchsorted(bounds, np.arange(n) * STEP_S, side="right"),
                       len(segments) - 1)
    seg = [segments[i] for i in index]

    effects = np.array([STATE_EFFECTS[s.state] for s in segments])[index]
    target_offset, target_vagal, target_mayer = effects.T
    alpha = STEP_S / p.state_time_constant_s
    offset = _smooth(target_offset, alpha)
    vagal = _smooth(target_vagal, alpha)
    mayer_gain = _smooth(target_mayer, alpha)

    breathing_bpm = _breathing_rates(seg, p, rng)
    breath_phase = 2 * np.pi * np.cumsum(breathing_bpm / 60.0) * STEP_S
    # The RSA amplitude follows the breathing rate's resonance gain.
    rates, at_rate = np.unique(np.round(breathing_bpm, 2), return_inverse=True)
    gain = np.array([p.rsa_gain(b) for b in rates])[at_rate]
    rsa = p.rsa_at_12_bpm * vagal * gain * np.sin(breath_phase)

    mayer_freq = 0.1 + 0.01 * _ou(n, 30.0, 1.0, rng)
    mayer = p.mayer_amplitude_bpm * mayer_gain * np.sin(2 * np.pi * np.cumsum(mayer_freq)
                                                        * STEP_S + rng.uniform(0, 2 * np.pi))
    drift = p.drift_sd_bpm * _ou(n, 60.0, 1.0, rng)
    hr = np.maximum(p.resting_hr_bpm + offset + rsa + mayer + drift, 30.0)

    beat_times = _ipfm(hr, rng)
    rr = np.diff(beat_times) * 1000.0
    t = beat_times[1:]
    at = np.minimum((t / STEP_S).astype(int), n - 1)
    return SimulatedBeats(
        t_s=t,
        rr_ms=rr,
        state=[seg[i].state.value for i in at],
        breathing_rate_bpm=breathing_bpm[at],
        pacer_bpm=np.array([seg[i].pacer_bpm or np.nan for i in at]),
    )


def _smooth(target: NDArray[np.float64], alpha: float) -> NDArray[np.float64]:
    """First-order approach to a piecewise-constant target (states change gradually)."""
    # Python floats: the same arithmetic as numpy's scalars, several times faster.
    values = itertools.accumulate(target.tolist(),
                                  lambda value, goal: value + alpha * (goal - value),
                                  initial=float(target[0]))
    return np.fromiter(itertools.islice(values, 1, None), float, target.size)


def _ou(n: int, tau_s: float, sd: float, rng: np.random.Generator) -> NDArray[np.float64]:
    """A stationary Ornstein-Uhlenbeck process of standard deviation ``sd``."""
    a = math.exp(-STEP_S / tau_s)
    noise = rng.standard_normal(n) * sd * math.sqrt(1 - a * a)
    values = itertools.accumulate(noise.tolist(), lambda value, step: a * value + step,
                                  initial=float(rng.standard_normal() * sd))
    return np.fromiter(itertools.islice(values, 1, None), float, n)


def _breathing_rates(
    seg: list[Segment], p: Physiology, rng: np.random.Generator
) -> NDArray[np.float64]:
    """Breathing rate at each step: the pacer's (lagged, jittered) or the person's own."""
    n = len(seg)
    own = p.spontaneous_breathing_bpm * (1 + p.breath_jitter * _ou(n, 10.0, 1.0, rng))
    wanted = np.array([
        s.pacer_bpm if s.breathing is Breathing.PACED and s.pacer_bpm else np.nan for s in seg
    ])
    lag = int(round(p.pacer_lag_s / STEP_S))
    lagged = np.r_[np.full(lag, np.nan), wanted[: n - lag]] if lag else wanted
    follow = (1 + 0.25 * p.breath_jitter * _ou(n, 10.0, 1.0, rng)) * lagged
    rate = np.where(np.isnan(follow), own, follow)
    # The breath does not jump between rates: smooth over ~5 s.
    return _smooth(rate, STEP_S / 5.0)


def _ipfm(hr_bpm: NDArray[np.float64], rng: np.random.Generator) -> NDArray[np.float64]:
    """Beat times (s) where the integral of heart rate crosses whole numbers of beats."""
    beats_so_far = np.cumsum(hr_bpm / 60.0 * STEP_S) + rng.uniform(0, 1)
    whole = np.floor(beats_so_far)
    crossing = np.flatnonzero(np.diff(whole) > 0) + 1
    before = beats_so_far[crossing - 1]
    after = beats_so_far[crossing]
    frac = (whole[crossing] - before) / (after - before)
    return (crossing - 1 + frac) * STEP_S + STEP_S
