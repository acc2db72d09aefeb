"""The shift log: moves between the arousal and settling estimates (named ``threat`` and
``soothing``, relative to the person's own baseline), when they began and what preceded them.

A shift is logged when the classifier confirms settling after arousal (or arousal after
settling), passing over neutral and unknown stretches in between. Its onset is dated back to
when the old state's score began to fall, and it names what came just before that onset: a
protocol step, a cue or a clinician's annotation.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from heartsease.coaching import events as ev
from heartsease.coaching.classifier import AutonomicState

# How far back a shift looks for the state it came from, and for what preceded it.
SHIFT_LOOKBACK_S = 300.0
# The onset of a shift: when the old state's score had fallen this share of the way from
# its typical level during that state towards the person's baseline.
ONSET_FALL_SHARE = 0.25
# A shift's size: the new state now against the old state's last 10 s before the onset.
SHIFT_SIZE_WINDOW_S = 10.0
REFLECTION_EVERY_S = 180.0

_EMOTIONAL = (AutonomicState.THREAT, AutonomicState.SOOTHING)


@dataclass(frozen=True, slots=True)
class Epoch:
    """One 5-s epoch as the shift log keeps it."""

    t_s: float
    state: AutonomicState
    arousal: float | None
    calm: float | None
    hr_bpm: float | None
    ln_rmssd: float | None
    coherence: float | None

    def score(self, old: AutonomicState) -> float | None:
        """The score of the state a shift leaves: arousal for threat, calm for soothing."""
        return self.arousal if old is AutonomicState.THREAT else self.calm


class ShiftLog:
    """The recent epochs and what preceded them, from which shifts are logged.

    Examples
    --------
    >>> log = ShiftLog()
    >>> calm = AutonomicState.SOOTHING
    >>> for t, state, arousal in [(0.0, AutonomicState.THREAT, 3.0),
    ...                           (5.0, AutonomicState.THREAT, 2.0), (10.0, calm, 0.5)]:
    ...     log.record(Epoch(t, state, arousal, None, 80.0 - t, 3.0 + t / 10, None))
    >>> log.remember(ev.Preceding(kind="cue", label="kindness", at_s=4.0))
    >>> shift = log.state_changed(10.0, calm)
    >>> shift.direction, shift.onset_s, shift.preceded_by.label, shift.delta_hr_bpm
    ('threat-to-soothing', 10.0, 'kindness', -7.5)
    """

    def __init__(self) -> None:
        self._epochs: deque[Epoch] = deque()
        self._preceding: deque[ev.Preceding] = deque()
        self._last_reflection_s = -math.inf

    def record(self, epoch: Epoch) -> None:
        """Keep an epoch (the newest); epochs beyond two look-backs are let go."""
        self._epochs.append(epoch)
        while self._epochs and self._epochs[0].t_s < epoch.t_s - 2 * SHIFT_LOOKBACK_S:
            self._epochs.popleft()

    def remember(self, preceding: ev.Preceding) -> None:
        """A step, cue or annotation that a later shift may name as what preceded it."""
        self._preceding.append(preceding)
        while self._preceding and self._preceding[0].at_s < preceding.at_s - SHIFT_LOOKBACK_S:
            self._preceding.popleft()

    def preceding_within(self, from_s: float, to_s: float) -> tuple[ev.Preceding, ...]:
        """The steps, cues and notes remembered from ``from_s`` up to ``to_s``."""
        return tuple(p for p in self._preceding if from_s <= p.at_s <= to_s)

    def change(self, measure: Callable[[Epoch], float | None], from_s: float, to_s: float,
               now_s: float) -> float | None:
        """``measure`` of the epoch at ``now_s`` (the newest up to then) minus its mean over
        the epochs from ``from_s`` to ``to_s``; None when either is not known."""
        latest = [e for e in self._epochs if e.t_s <= now_s]
        before = [measure(e) for e in self._epochs if from_s <= e.t_s <= to_s]
        return _delta(measure(latest[-1]) if latest else None, before)

    def state_changed(self, t_s: float, state: AutonomicState) -> ev.Shift | None:
        """The shift that the newest epoch's new state confirms, if it is one: from the
        last emotional state before it, passing over neutral and unknown."""
        if state not in _EMOTIONAL:
            return None
        came_from = self._last_emotional_state(t_s)
        if state is AutonomicState.SOOTHING and came_from is AutonomicState.THREAT:
            return self._shift(t_s, "threat-to-soothing", AutonomicState.THREAT)
        if state is AutonomicState.THREAT and came_from is AutonomicState.SOOTHING:
            return self._shift(t_s, "soothing-to-threat", AutonomicState.SOOTHING)
        return None

    def reflection_due(self, t_s: float) -> bool:
        """Whether a settling shift at ``t_s`` earns a reflection (at most one in 3 min)."""
        if t_s - self._last_reflection_s < REFLECTION_EVERY_S:
            return False
        self._last_reflection_s = t_s
        return True

    def _last_emotional_state(self, t_s: float) -> AutonomicState | None:
        """Threat or soothing, whichever the person was last in before the newest epoch
        (within the look-back), passing over neutral and unknown stretches."""
        epochs = list(self._epochs)[:-1]
        for e in reversed(epochs):
            if e.t_s < t_s - SHIFT_LOOKBACK_S:
                return None
            if e.state in _EMOTIONAL:
                return e.state
        return None

    def _shift(self, t_s: float, direction: str, old: AutonomicState) -> ev.Shift:
        epochs = [e for e in self._epochs if e.t_s >= t_s - SHIFT_LOOKBACK_S]
        old_epochs = [e for e in epochs[:-1] if e.state is old]
        onset = _onset(epochs, old_epochs, old)
        before = [e for e in old_epochs if onset - SHIFT_SIZE_WINDOW_S <= e.t_s < onset] or \
            old_epochs[-1:]
        now = epochs[-1]
        preceded = next((p for p in reversed(self._preceding) if p.at_s <= onset), None)
        return ev.Shift(
            t_s=t_s,
            direction=direction,
            onset_s=onset,
            preceded_by=preceded,
            latency_s=None if preceded is None else onset - preceded.at_s,
            delta_hr_bpm=_delta(now.hr_bpm, [e.hr_bpm for e in before]),
            delta_ln_rmssd=_delta(now.ln_rmssd, [e.ln_rmssd for e in before]),
            delta_coherence=_delta(now.coherence, [e.coherence for e in before]),
        )


def _onset(epochs: list[Epoch], old_epochs: list[Epoch], old: AutonomicState) -> float:
    """When the body began to leave the old state: the epoch after the last one (up to the
    old state's end) whose score was still near the old state's typical level."""
    last_old = max(e.t_s for e in old_epochs)
    level = float(np.median([v for v in (e.score(old) for e in old_epochs) if v is not None]))
    onset = last_old
    for e in epochs:
        value = e.score(old)
        if e.t_s <= last_old and value is not None and value >= (1.0 - ONSET_FALL_SHARE) * level:
            onset = e.t_s
    after = [e for e in epochs if e.t_s > onset]
    return after[0].t_s if after else onset


def _delta(now: float | None, before: list[float | None]) -> float | None:
    values = [v for v in before if v is not None]
    if now is None or not values:
        return None
    return float(now - np.mean(values))
