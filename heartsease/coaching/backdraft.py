"""The backdraft guard: watches practice for a sustained return to threat.

Turning kindness towards oneself can stir up old pain (Gilbert's "backdraft"). The guard
reads each epoch's state and arousal during practice steps and says when the session must
slow down (a backdraft) and when the person has come back (eased); the session then slows
the pacer, holds the protocol and offers grounding.
"""

from __future__ import annotations

from array import array
from enum import Enum

import numpy as np

from heartsease.coaching import events as ev
from heartsease.coaching.classifier import ENTER_Z, EXIT_Z, AutonomicState
from heartsease.coaching.protocols import Step

# The backdraft guard fires on either of two signs of a sustained return to threat during
# practice, once the person had settled there:
# - the classifier confirms threat (two epochs, 10 s, asking to leave the previous state)
#   and arousal has risen by at least ENTER_Z resting spreads above its median so far in
#   the practice (a return, not a practice that hovered at the edge of threat all along);
# - a sudden return: for two epochs in a row, arousal is above the person's resting level
#   by a resting spread (the classifier's exit level for threat) and has risen by at least
#   BACKDRAFT_RISE_Z resting spreads above its median so far in the practice. Someone deep
#   in soothing who springs back to threat crosses this well before the threshold for threat
#   proper, which is measured from rest; a flat or drifting practice never rises this far.
BACKDRAFT_CONFIRM_EPOCHS = 2
BACKDRAFT_RISE_Z = 4.0
# After a backdraft, this long out of threat counts as having come back.
BACKDRAFT_EASE_S = 20.0
BACKDRAFT_SLOWING = 0.9  # the pacer slows by 10 %, and never below 4 breaths/min
MIN_SLOWED_BPM = 4.0

_SETTLED = (AutonomicState.NEUTRAL, AutonomicState.SOOTHING)


class Verdict(Enum):
    """What an epoch tells the guard."""

    NOTHING = "nothing"
    BACKDRAFT = "backdraft"
    EASED = "eased"


def slowed_rate_bpm(rate_bpm: float, pace_bpm: float) -> float:
    """The pacer's rate during a backdraft: 10 % below the slower of its rate and the
    person's pace, and never below 4 breaths/min."""
    return max(min(rate_bpm, pace_bpm) * BACKDRAFT_SLOWING, MIN_SLOWED_BPM)


class BackdraftGuard:
    """The guard's memory of one session.

    Examples
    --------
    >>> guard = BackdraftGuard()
    >>> calm, threat = AutonomicState.NEUTRAL, AutonomicState.THREAT
    >>> [guard.watch(t, s, a, practice=True).value
    ...  for t, s, a in [(0.0, calm, 0.5), (5.0, calm, 0.6), (10.0, threat, 4.0)]]
    ['nothing', 'nothing', 'backdraft']
    """

    def __init__(self) -> None:
        self._settled_in_practice = False
        self._practice_arousal: array[float] = array("d")
        self._rising_epochs = 0
        self._threat_since_s: float | None = None
        self._backdraft_at: float | None = None
        self._calm_since_s: float | None = None

    @property
    def active(self) -> bool:
        """A backdraft was raised and the person has not come back yet."""
        return self._backdraft_at is not None

    def step_begun(self, step: Step) -> None:
        """A step outside practice ends what the guard knew of the practice before it."""
        if not step.practice:
            self._settled_in_practice = False
            self._practice_arousal = array("d")
            self._rising_epochs = 0

    def state_changed(self, t_s: float, previous: AutonomicState, state: AutonomicState) -> None:
        """Track since when the person has been in threat (a backdraft's onset)."""
        if state is AutonomicState.THREAT:
            self._threat_since_s = t_s
        elif previous is AutonomicState.THREAT:
            self._threat_since_s = None

    def watch(
        self, t_s: float, state: AutonomicState, arousal: float | None, practice: bool
    ) -> Verdict:
        """One epoch of a running (not paused) step: its state and arousal score."""
        if self._backdraft_at is not None:
            return self._watch_return(t_s, state)
        if not practice:
            return Verdict.NOTHING
        if state in _SETTLED:
            self._settled_in_practice = True
        if not self._settled_in_practice or arousal is None:
            return Verdict.NOTHING
        level = float(np.median(self._practice_arousal)) if self._practice_arousal else arousal
        if state is AutonomicState.THREAT and arousal - level >= ENTER_Z:
            return Verdict.BACKDRAFT
        rising = arousal >= EXIT_Z and arousal - level >= BACKDRAFT_RISE_Z
        self._rising_epochs = self._rising_epochs + 1 if rising else 0
        if self._rising_epochs >= BACKDRAFT_CONFIRM_EPOCHS:
            return Verdict.BACKDRAFT
        if not rising:
            self._practice_arousal.append(arousal)
        return Verdict.NOTHING

    def backdraft(self, t_s: float, step: str, pacer_rate_bpm: float | None) -> ev.Backdraft:
        """Raise the backdraft the last epoch showed; the pacer now runs at
        ``pacer_rate_bpm`` (``None`` when it is off)."""
        self._backdraft_at = t_s
        self._rising_epochs = 0
        self._calm_since_s = None
        onset = self._threat_since_s if self._threat_since_s is not None else t_s
        return ev.Backdraft(t_s=t_s, onset_s=onset, step=step, pacer_rate_bpm=pacer_rate_bpm)

    def ease(self, t_s: float) -> ev.BackdraftEased:
        """The person has come back from the backdraft."""
        assert self._backdraft_at is not None
        eased = ev.BackdraftEased(t_s=t_s, lasted_s=t_s - self._backdraft_at)
        self._backdraft_at = None
        return eased

    def _watch_return(self, t_s: float, state: AutonomicState) -> Verdict:
        if state not in _SETTLED:
            self._calm_since_s = None
            return Verdict.NOTHING
        if self._calm_since_s is None:
            self._calm_since_s = t_s
        return Verdict.EASED if t_s - self._calm_since_s >= BACKDRAFT_EASE_S else Verdict.NOTHING
