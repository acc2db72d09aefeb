"""The breath pacer: where in the breath a person should be, at any moment.

The pacer is a pure function of time. Its position is the number of breaths since it
started, the integral of the breathing rate; every rate change is stored as a new linear
ramp anchored where the previous one was at that moment, so the position at time ``t`` is
computed in closed form from the anchors, never by adding up frame steps. A display can ask
at any frame rate, a late frame costs nothing, and thirty minutes of pacing is exact to
floating-point rounding (the test bounds it under 10 ms).

Rate changes glide: the rate moves linearly to its new value over ``glide_s`` (a breathing
rate that jumps is hard to follow; Lehrer et al. 2000 step their paced rates gently). A
change of pattern (the in:out ratio and pauses) takes effect at the next in-breath, so a
breath already begun keeps its shape.

CFT's soothing rhythm breathing is slow and even, a little longer out than in (Gilbert
2010, "Compassion Focused Therapy"); :data:`SOOTHING_PATTERN` is in 4 : out 6.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass
from enum import Enum

DEFAULT_GLIDE_S = 20.0


class BreathPart(Enum):
    """The four parts of a paced breath, in order."""

    INHALE = "inhale"
    HOLD_IN = "hold-in"
    EXHALE = "exhale"
    HOLD_OUT = "hold-out"


PARTS = (BreathPart.INHALE, BreathPart.HOLD_IN, BreathPart.EXHALE, BreathPart.HOLD_OUT)


@dataclass(frozen=True, slots=True)
class BreathPattern:
    """Relative lengths of the parts of one breath (any units; only the ratios count).

    Examples
    --------
    >>> BreathPattern(4, 6).shares()
    (0.4, 0.0, 0.6, 0.0)
    """

    inhale: float = 4.0
    exhale: float = 6.0
    hold_in: float = 0.0
    hold_out: float = 0.0

    def __post_init__(self) -> None:
        parts = (self.inhale, self.exhale, self.hold_in, self.hold_out)
        if self.inhale <= 0 or self.exhale <= 0 or min(parts) < 0:
            raise ValueError("inhale and exhale must be positive and pauses not negative")

    def shares(self) -> tuple[float, float, float, float]:
        """Shares of the cycle for inhale, hold-in, exhale, hold-out."""
        total = self.inhale + self.hold_in + self.exhale + self.hold_out
        return (self.inhale / total, self.hold_in / total, self.exhale / total,
                self.hold_out / total)


SOOTHING_PATTERN = BreathPattern(4.0, 6.0)


@dataclass(frozen=True, slots=True)
class PacerPhase:
    """Where the pacer is at one moment.

    ``breath`` counts whole breaths since the pacer started; ``progress`` (0-1) is how far
    through the current part; ``lungs`` (0 empty to 1 full) is a smooth shape to draw: a
    half-cosine on the in- and out-breath, flat in pauses, so its slope is zero at every
    turn and nothing jerks.
    """

    t_s: float
    breath: int
    part: BreathPart
    progress: float
    part_s: float
    lungs: float
    rate_bpm: float


@dataclass(frozen=True, slots=True)
class _Ramp:
    """From ``t0_s`` (where ``breaths0`` breaths had been paced) the rate moves linearly
    from ``rate0`` to ``rate1`` over ``glide_s`` and then stays."""

    t0_s: float
    breaths0: float
    rate0_bpm: float
    rate1_bpm: float
    glide_s: float

    def rate_at(self, t_s: float) -> float:
        dt = t_s - self.t0_s
        if dt >= self.glide_s:
            return self.rate1_bpm
        return self.rate0_bpm + (self.rate1_bpm - self.rate0_bpm) * dt / self.glide_s

    def breaths_at(self, t_s: float) -> float:
        dt = t_s - self.t0_s
        if dt <= self.glide_s:
            slope = (self.rate1_bpm - self.rate0_bpm) / self.glide_s if self.glide_s else 0.0
            return self.breaths0 + (self.rate0_bpm * dt + 0.5 * slope * dt * dt) / 60.0
        glided = 0.5 * (self.rate0_bpm + self.rate1_bpm) * self.glide_s
        return self.breaths0 + (glided + self.rate1_bpm * (dt - self.glide_s)) / 60.0

    def time_of(self, breaths: float) -> float:
        """When this ramp reaches ``breaths`` (which must be at or after its start)."""
        need = (breaths - self.breaths0) * 60.0  # breaths x seconds per minute
        slope = (self.rate1_bpm - self.rate0_bpm) / self.glide_s if self.glide_s else 0.0
        glided = 0.5 * (self.rate0_bpm + self.rate1_bpm) * self.glide_s
        if need > glided or self.glide_s == 0:
            return self.t0_s + self.glide_s + (need - glided) / self.rate1_bpm
        if abs(slope) < 1e-12:
            return self.t0_s + need / self.rate0_bpm
        # rate0 dt + slope dt^2 / 2 = need, the root in [0, glide_s]
        root = math.sqrt(self.rate0_bpm**2 + 2.0 * slope * need)
        return self.t0_s + 2.0 * need / (self.rate0_bpm + root)


class BreathPacer:
    """A breath pacer started at ``start_s`` on the caller's monotonic clock.

    Parameters
    ----------
    rate_bpm : breaths per minute (fractional rates such as 5.5 are fine).
    start_s : the clock time of the first in-breath.
    pattern : the in:out ratio and pauses (default in 4 : out 6).
    glide_s : how long a rate change takes.

    Examples
    --------
    >>> pacer = BreathPacer(6.0, start_s=100.0)
    >>> p = pacer.phase(102.0)
    >>> p.part.value, round(p.progress, 2), p.breath
    ('inhale', 0.5, 0)
    >>> pacer.phase(110.0).breath, pacer.phase(104.5).part.value
    (1, 'exhale')
    >>> [round(t, 2) for t, part in pacer.transitions(100.0, 112.0)]
    [104.0, 110.0]
    """

    def __init__(
        self,
        rate_bpm: float,
        start_s: float = 0.0,
        pattern: BreathPattern = SOOTHING_PATTERN,
        glide_s: float = DEFAULT_GLIDE_S,
    ) -> None:
        _check_rate(rate_bpm)
        self.glide_s = glide_s
        self._ramps = [_Ramp(start_s, 0.0, rate_bpm, rate_bpm, 0.0)]
        self._starts = [start_s]
        # (first breath it applies to, pattern), sorted by breath
        self._patterns: list[tuple[int, BreathPattern]] = [(0, pattern)]

    @property
    def start_s(self) -> float:
        return self._starts[0]

    def _ramp(self, t_s: float) -> _Ramp:
        return self._ramps[max(bisect.bisect_right(self._starts, t_s) - 1, 0)]

    def rate_at(self, t_s: float) -> float:
        """The paced rate (breaths/min) at ``t_s``."""
        return self._ramp(t_s).rate_at(t_s)

    def target_rate_bpm(self) -> float:
        """The rate the pacer is at or gliding to."""
        return self._ramps[-1].rate1_bpm

    def breaths_at(self, t_s: float) -> float:
        """Breaths paced since the start (fractional)."""
        return max(self._ramp(t_s).breaths_at(t_s), 0.0)

    def set_rate(self, rate_bpm: float, at_s: float, glide_s: float | None = None) -> None:
        """Glide to ``rate_bpm`` starting at ``at_s`` (not before the last change)."""
        _check_rate(rate_bpm)
        if at_s < self._starts[-1]:
            raise ValueError("rate changes must come in time order")
        last = self._ramps[-1]
        glide = self.glide_s if glide_s is None else glide_s
        self._ramps.append(_Ramp(at_s, last.breaths_at(at_s), last.rate_at(at_s), rate_bpm,
                                 glide))
        self._starts.append(at_s)

    def set_pattern(self, pattern: BreathPattern, at_s: float) -> None:
        """Use ``pattern`` from the next in-breath after ``at_s``."""
        next_breath = math.floor(self.breaths_at(at_s)) + 1
        self._patterns = [p for p in self._patterns if p[0] < next_breath]
        self._patterns.append((next_breath, pattern))

    def pattern_of(self, breath: int) -> BreathPattern:
        """The pattern of breath number ``breath``."""
        index = bisect.bisect_right([b for b, _ in self._patterns], breath) - 1
        return self._patterns[max(index, 0)][1]

    def anchors(self) -> dict[str, list[list[float]]]:
        """Everything the pacer is made of (its ramps and patterns), for a page that joins
        late to build the very same pacer (``pacer.js``: ``BreathPacer.fromAnchors``)."""
        return {"ramps": [[r.t0_s, r.breaths0, r.rate0_bpm, r.rate1_bpm, r.glide_s]
                          for r in self._ramps],
                "patterns": [[breath, p.inhale, p.exhale, p.hold_in, p.hold_out]
                             for breath, p in self._patterns]}

    def time_of(self, breaths: float) -> float:
        """The clock time at which ``breaths`` breaths have been paced."""
        ramps = self._ramps
        i = len(ramps) - 1
        while i > 0 and ramps[i].breaths0 > breaths:
            i -= 1
        return ramps[i].time_of(breaths)

    def phase(self, t_s: float) -> PacerPhase:
        """The pacer's phase at clock time ``t_s``."""
        position = self.breaths_at(t_s)
        breath = math.floor(position)
        within = position - breath
        shares = self.pattern_of(breath).shares()
        # the last part with a share that starts at or before ``within`` (rounding-safe)
        edge, part, share = 0.0, BreathPart.INHALE, shares[0]
        start = 0.0
        for candidate, candidate_share in zip(PARTS, shares, strict=True):
            if candidate_share > 0 and within >= start:
                edge, part, share = start, candidate, candidate_share
            start += candidate_share
        progress = min(max((within - edge) / share, 0.0), 1.0)
        part_s = self.time_of(breath + edge + share) - self.time_of(breath + edge)
        return PacerPhase(t_s, breath, part, progress, part_s, _lungs(part, progress),
                          self.rate_at(t_s))

    def transitions(self, after_s: float, until_s: float) -> list[tuple[float, BreathPart]]:
        """Every start of a part in ``(after_s, until_s]``, with the part that starts."""
        out: list[tuple[float, BreathPart]] = []
        breath = math.floor(self.breaths_at(after_s))
        while True:
            edge = 0.0
            for part, share in zip(PARTS, self.pattern_of(breath).shares(), strict=True):
                if share > 0:
                    t = self.time_of(breath + edge)
                    if t > until_s:
                        return out
                    if t > after_s:
                        out.append((t, part))
                edge += share
            breath += 1


def _lungs(part: BreathPart, progress: float) -> float:
    if part is BreathPart.INHALE:
        return 0.5 - 0.5 * math.cos(math.pi * progress)
    if part is BreathPart.EXHALE:
        return 0.5 + 0.5 * math.cos(math.pi * progress)
    return 1.0 if part is BreathPart.HOLD_IN else 0.0


def _check_rate(rate_bpm: float) -> None:
    if not 2.0 <= rate_bpm <= 30.0:
        raise ValueError(f"a paced breathing rate must be 2-30 breaths/min, not {rate_bpm}")
