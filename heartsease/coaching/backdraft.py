"""The backdraft guard: watches practice for a sustained return to threat.

Turning kindness towards oneself can stir up old pain (Gilbert's "backdraft"). The guard
reads each epoch's state and arousal during practice steps and says when the session must
stop and ground (a backdraft) and when the person has come back (eased). The session then
stops the pacer (slowing it further can add air hunger), holds the protocol, and offers
grounding in the senses rather than reassurance it cannot give. The person may raise the same
moment themselves ("this is a lot"), and every such moment is kept for their clinician with
what preceded it and how the body changed.
"""

from __future__ import annotations

from array import array
from enum import Enum

import numpy as np

from heartsease.coaching import events as ev
from heartsease.coaching.classifier import ENTER_Z, EXIT_Z, AutonomicState
from heartsease.coaching.protocols import Step
from heartsease.coaching.shifts import ShiftLog

# What preceded a backdraft, for the clinician: the steps, cues and notes of the last minute
# before its onset.
PRECEDING_S = 60.0
# The body's change: the last epoch against the minute before the onset.
BEFORE_ONSET_S = 60.0


class BackdraftContext:
    """What the shift log knows around a backdraft: what preceded it and the body's change."""

    def __init__(self, shifts: ShiftLog) -> None:
        self._shifts = shifts

    def preceding(self, onset_s: float) -> tuple[ev.Preceding, ...]:
        return self._shifts.preceding_within(onset_s - PRECEDING_S, onset_s)

    def delta_hr_bpm(self, onset_s: float, t_s: float) -> float | None:
        return self._shifts.change(lambda e: e.hr_bpm, onset_s - BEFORE_ONSET_S, onset_s, t_s)

    def delta_ln_rmssd(self, onset_s: float, t_s: float) -> float | None:
        return self._shifts.change(lambda e: e.ln_rmssd, onset_s - BEFORE_ONSET_S, onset_s, t_s)

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

CUE_GROUNDING = ("Let's pause the guide. You might notice the room around you, the chair "
                 "under you, the floor beneath your feet. You can open your eyes.")
CUE_PAUSE = ("Strong feelings can come up when we turn kindness towards ourselves. That "
             "makes sense. It's fine to pause, or to stop for today.")
CUE_WELCOME_BACK = "Welcome back. Go gently, at whatever pace feels right."
CUE_CHECK_IN = ("Earlier, things felt like a lot. How are you now? If you like, you can send a "
                "few words to your clinician.")

_SETTLED = (AutonomicState.NEUTRAL, AutonomicState.SOOTHING)


class Verdict(Enum):
    """What an epoch tells the guard."""

    NOTHING = "nothing"
    BACKDRAFT = "backdraft"
    EASED = "eased"


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
        self.raised = 0  # how many moments this session: a check-in at the end if any
        self._told = False  # the person raised it: it ends when they say they are ready

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
            # The heart cannot tell that someone who said "this is a lot" is ready again.
            return Verdict.NOTHING if self._told else self._watch_return(t_s, state)
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

    def backdraft(self, t_s: float, step: str, raised_by: str,
                  context: BackdraftContext) -> ev.Backdraft:
        """Raise a backdraft: the one the last epoch showed (``raised_by="body"``) or the one
        the person told of (``"client"``: "this is a lot"), which begins now."""
        self._backdraft_at = t_s
        self._rising_epochs = 0
        self._calm_since_s = None
        self.raised += 1
        self._told = raised_by == "client"
        onset = self._threat_since_s if (raised_by == "body"
                                          and self._threat_since_s is not None) else t_s
        return ev.Backdraft(t_s=t_s, onset_s=onset, step=step, raised_by=raised_by,
                            preceded_by=context.preceding(onset),
                            delta_hr_bpm=context.delta_hr_bpm(onset, t_s),
                            delta_ln_rmssd=context.delta_ln_rmssd(onset, t_s))

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
