"""A client's practice plan: what their suitability allows, and the pace they breathe at.

The plan also says what the client practises: a protocol (soothing rhythm breathing, the
resonance assessment, or the clinician's own copy of one, checked as a protocol file is
checked), the pace, the in:out ratio and holds, the practice's minutes, the optional stages,
and what the client sees during practice (quiet by default: no numbers, no state words).
Until a clinician sets one, it is soothing rhythm breathing at 6 a minute, quiet.

Slow paced breathing is not for everyone as it comes. Until a clinician has confirmed that it
suits the client, and for anyone whose heart rhythm the strap cannot read (a pacemaker, or
frequent arrhythmia: heart-rate feedback is meaningless then), the practice is the pacer and
the cues only. Slow breathing lowers blood pressure a little, so someone on blood-pressure
medication or with low blood pressure breathes within gentler limits (never slower than
:data:`GENTLE_LIMITS_BPM`'s lower bound). Within whatever limits apply (and any the clinician
sets), the pace is the client's own: the one they chose, else the plan's (the clinician's,
or the resonance rate the clinician confirmed), else 6 a minute.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from heartsease.coaching.pacer import BreathPattern
from heartsease.coaching.protocols import (
    BUILT_IN,
    DEFAULT_PACE_BPM,
    Protocol,
    ProtocolError,
    load_protocol,
    protocol_from_text,
)

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
    >>> PracticePlan().pace_bpm(), PracticePlan().protocol().name
    (6.0, 'srb')
    >>> plan = PracticePlan(confirmed=True, pacemaker_or_arrhythmia=False,
    ...                     low_blood_pressure_or_medication=False, min_pace_bpm=5.0,
    ...                     plan_pace_bpm=4.5, hold_in=1.0, practice_minutes=3.0)
    >>> plan.pace_limits_bpm(), plan.pace_bpm(), plan.heart_feedback
    ((5.0, 7.0), 5.0, True)
    >>> plan.protocol().pattern, plan.protocol().steps[2].seconds
    (BreathPattern(inhale=4.0, exhale=6.0, hold_in=1.0, hold_out=0.0), 180.0)
    """

    confirmed: bool = False
    pacemaker_or_arrhythmia: bool | None = None
    low_blood_pressure_or_medication: bool | None = None
    min_pace_bpm: float | None = None
    max_pace_bpm: float | None = None
    show_states: bool = False
    chosen_pace_bpm: float | None = None
    protocol_name: str = "srb"  # "srb", "resonance" or "custom"
    custom_protocol: str | None = None  # the custom protocol's TOML text
    plan_pace_bpm: float | None = None  # the clinician's pace (or confirmed resonance rate)
    inhale: float | None = None  # the breath's pattern; None: the protocol's own
    exhale: float | None = None
    hold_in: float | None = None
    hold_out: float | None = None
    practice_minutes: float | None = None  # None: the protocol's own
    stages: tuple[str, ...] = ()
    show_numbers: bool = False

    @property
    def heart_feedback(self) -> bool:
        """Whether the heart's rhythm may guide anything the client meets."""
        return self.confirmed and self.pacemaker_or_arrhythmia is False

    @property
    def states_shown(self) -> bool:
        """State words during practice: only when the clinician's plan turns them on."""
        return self.heart_feedback and self.show_states

    @property
    def numbers_shown(self) -> bool:
        """Heart rate, coherence and breathing rate during practice: only when turned on."""
        return self.heart_feedback and self.show_numbers

    @property
    def assessment_allowed(self) -> bool:
        """Whether the resonance assessment suits the client: it needs the heart's feedback
        and the usual limits (it paces down to 4.5 a minute)."""
        return self.heart_feedback and self.pace_limits_bpm()[0] <= USUAL_LIMITS_BPM[0]

    def check_rates(self, protocol: Protocol) -> None:
        """Refuse (:class:`ProtocolError`, in words) a protocol that paces a fixed rate
        slower than this plan allows (a clinician's own copy may name any rate)."""
        low = self.pace_limits_bpm()[0]
        for step in protocol.steps:
            for spec in (step.pacer, step.glide_to):
                if isinstance(spec, float) and spec < low:
                    raise ProtocolError(
                        f"Step {step.name} paces {spec:g} breaths a minute, slower than this "
                        f"plan allows (no slower than {low:g} a minute).")

    def base_protocol(self) -> Protocol:
        """The protocol the plan names, as written (its own pattern, minutes and stages)."""
        if self.protocol_name == "custom":
            if not self.custom_protocol:
                raise ProtocolError("The custom protocol is empty: start from a copy of a "
                                    "built-in one.")
            return protocol_from_text(self.custom_protocol, "the custom protocol")
        if self.protocol_name not in BUILT_IN:
            raise ProtocolError(f"unknown protocol {self.protocol_name!r}")
        return load_protocol(self.protocol_name)

    def pattern(self, protocol: Protocol) -> BreathPattern:
        """The breath's pattern: the plan's parts where set, else the protocol's."""
        own = protocol.pattern
        try:
            return BreathPattern(
                inhale=own.inhale if self.inhale is None else self.inhale,
                exhale=own.exhale if self.exhale is None else self.exhale,
                hold_in=own.hold_in if self.hold_in is None else self.hold_in,
                hold_out=own.hold_out if self.hold_out is None else self.hold_out)
        except ValueError as exc:
            raise ProtocolError(str(exc)) from None

    def protocol(self) -> Protocol:
        """What the client practises: the protocol with the plan's pattern, stages and
        practice minutes (raises :class:`ProtocolError`, in words, when they do not fit)."""
        protocol = self.base_protocol().with_stages(self.stages)
        if self.practice_minutes is not None:
            protocol = protocol.with_practice_minutes(self.practice_minutes)
        return replace(protocol, pattern=self.pattern(protocol))

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

    def pace_bpm(self) -> float:
        """The pace the session breathes at: the client's choice, else the plan's (the
        clinician's, or the resonance rate they confirmed), else 6 a minute, kept within
        the limits."""
        wanted = next((p for p in (self.chosen_pace_bpm, self.plan_pace_bpm) if p is not None),
                      DEFAULT_PACE_BPM)
        low, high = self.pace_limits_bpm()
        return min(max(wanted, low), high)
