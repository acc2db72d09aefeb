"""A client's practice plan: what their suitability allows, and the pace they breathe at.

Slow paced breathing is not for everyone as it comes. Until a clinician has confirmed that it
suits the client, and for anyone whose heart rhythm the strap cannot read (a pacemaker, or
frequent arrhythmia: heart-rate feedback is meaningless then), the practice is the pacer and
the cues only. Slow breathing lowers blood pressure a little, so someone on blood-pressure
medication or with low blood pressure breathes within gentler limits (never slower than
:data:`GENTLE_LIMITS_BPM`'s lower bound). Within whatever limits apply (and any the clinician
sets), the pace is the client's own: the one they chose, or their resonance rate.
"""

from __future__ import annotations

from dataclasses import dataclass

from heartsease.coaching.protocols import DEFAULT_PACE_BPM

# The rates a resonance assessment paces (Lehrer, Vaschillo & Vaschillo 2000), a little
# beyond at the top: a pace the client may choose once their plan is confirmed.
USUAL_LIMITS_BPM = (4.5, 7.0)
# Before suitability is confirmed, and with blood-pressure medication or low blood pressure:
# no slower than 5.5 a minute.
GENTLE_LIMITS_BPM = (5.5, 7.0)


@dataclass(frozen=True, slots=True)
class PracticePlan:
    """The plan as the clinician set it (``None``: not answered yet).

    Examples
    --------
    >>> PracticePlan().pace_limits_bpm(), PracticePlan().heart_feedback
    ((5.5, 7.0), False)
    >>> plan = PracticePlan(confirmed=True, pacemaker_or_arrhythmia=False,
    ...                     low_blood_pressure_or_medication=False, min_pace_bpm=5.0)
    >>> plan.pace_limits_bpm(), plan.pace_bpm(4.5), plan.heart_feedback
    ((5.0, 7.0), 5.0, True)
    """

    confirmed: bool = False
    pacemaker_or_arrhythmia: bool | None = None
    low_blood_pressure_or_medication: bool | None = None
    min_pace_bpm: float | None = None
    max_pace_bpm: float | None = None
    show_states: bool = False
    chosen_pace_bpm: float | None = None

    @property
    def heart_feedback(self) -> bool:
        """Whether the heart's rhythm may guide anything the client meets."""
        return self.confirmed and self.pacemaker_or_arrhythmia is False

    @property
    def states_shown(self) -> bool:
        """State words during practice: only when the clinician's plan turns them on."""
        return self.heart_feedback and self.show_states

    def pace_limits_bpm(self) -> tuple[float, float]:
        """The slowest and fastest pace allowed: the clinician's limits within the ones
        suitability sets (the safer bound wins when they disagree)."""
        gentle = not self.confirmed or self.low_blood_pressure_or_medication is not False
        low, high = GENTLE_LIMITS_BPM if gentle else USUAL_LIMITS_BPM
        if self.min_pace_bpm is not None:
            low = max(low, self.min_pace_bpm)
        if self.max_pace_bpm is not None:
            high = min(high, self.max_pace_bpm)
        return low, max(low, high)

    def pace_bpm(self, resonance_bpm: float | None) -> float:
        """The pace the session breathes at: the client's choice, else their resonance
        rate, else 6 a minute, kept within the limits."""
        wanted = next((p for p in (self.chosen_pace_bpm, resonance_bpm) if p is not None),
                      DEFAULT_PACE_BPM)
        low, high = self.pace_limits_bpm()
        return min(max(wanted, low), high)
