"""The one stream of events a coaching session emits.

The terminal, the API's WebSockets and the store all consume the same events. Each has a
``kind`` and a session time ``t_s`` (seconds since the session started, on the source's
clock) and turns into a plain dict with :meth:`Event.as_dict` (JSON-ready). Events are
built with keyword arguments only: most carry several numbers of the same type.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, ClassVar

from heartsease.coaching.classifier import RestingBaseline


@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    """Base of every event."""

    kind: ClassVar[str] = "event"
    t_s: float

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind}
        for f in fields(self):
            value = getattr(self, f.name)
            out[f.name] = _plain(value)
        return out


def _plain(value: Any) -> Any:
    if hasattr(value, "as_dict"):
        return value.as_dict()
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return value


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionStarted(Event):
    kind: ClassVar[str] = "session-started"
    protocol: str
    title: str
    pace_bpm: float
    baseline_from: str  # "stored" (the person's resting profile) or a step name


@dataclass(frozen=True, slots=True, kw_only=True)
class StepStarted(Event):
    kind: ClassVar[str] = "step"
    name: str
    title: str
    seconds: float
    practice: bool
    pacer_from_bpm: float | None
    pacer_to_bpm: float | None
    pacer_fade: bool = False  # the guide fades out across the step
    workspace: str | None = None  # "letter": a writing workspace, with these prompts
    prompts: tuple[dict[str, str], ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class PacerChanged(Event):
    """The pacer started, stopped, or began gliding to a new rate."""

    kind: ClassVar[str] = "pacer"
    rate_bpm: float | None  # None: the pacer is off
    glide_s: float
    inhale_share: float
    exhale_share: float
    hold_in_share: float = 0.0
    hold_out_share: float = 0.0


@dataclass(frozen=True, slots=True, kw_only=True)
class PacerPhase(Event):
    """A part of the paced breath begins (inhale, hold-in, exhale, hold-out)."""

    kind: ClassVar[str] = "pacer-phase"
    part: str
    breath: int
    rate_bpm: float
    part_s: float


@dataclass(frozen=True, slots=True, kw_only=True)
class Beat(Event):
    """One raw RR interval as the strap delivered it, before any correction."""

    kind: ClassVar[str] = "beat"
    seq: int
    rr_ms: float
    arrival_s: float
    hr_bpm: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Metrics(Event):
    """The 5-second update of what the heart shows."""

    kind: ClassVar[str] = "metrics"
    hr_bpm: float | None
    rmssd_ms: float | None
    sdnn_ms: float | None
    ln_rmssd: float | None
    coherence_ratio: float | None
    coherence_peak_hz: float | None
    breathing_rate_bpm: float | None
    pacer_adherence: float | None
    lf_ms2: float | None
    hf_ms2: float | None
    artifact_pct: float
    state: str
    arousal: float | None
    calm: float | None


@dataclass(frozen=True, slots=True, kw_only=True)
class StateChanged(Event):
    kind: ClassVar[str] = "state"
    state: str
    previous: str
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Preceding:
    """What came before a shift: a protocol step, a cue or a clinician's annotation."""

    kind: str
    label: str
    at_s: float

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "label": self.label, "at_s": self.at_s}


@dataclass(frozen=True, slots=True, kw_only=True)
class Shift(Event):
    """A move between the arousal and settling estimates (``threat``, ``soothing``):
    ``onset_s`` is when the body began to change, ``t_s`` when the new state was
    confirmed."""

    kind: ClassVar[str] = "shift"
    direction: str  # "threat-to-soothing" or "soothing-to-threat"
    onset_s: float
    preceded_by: Preceding | None
    latency_s: float | None  # from what preceded it to the onset
    delta_hr_bpm: float | None
    delta_ln_rmssd: float | None
    delta_coherence: float | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Backdraft(Event):
    """A sustained return to threat during practice (``raised_by="body"``), or the person
    saying "this is a lot" (``"client"``). The pacer has stopped and the protocol holds;
    ``preceded_by`` (the steps, cues and notes of the minute before the onset) and the body's
    change since then are kept for the clinician."""

    kind: ClassVar[str] = "backdraft"
    onset_s: float
    step: str
    raised_by: str = "body"
    preceded_by: tuple[Preceding, ...] = ()
    delta_hr_bpm: float | None = None
    delta_ln_rmssd: float | None = None
    needs_attention: bool = True


@dataclass(frozen=True, slots=True, kw_only=True)
class BackdraftEased(Event):
    kind: ClassVar[str] = "backdraft-eased"
    lasted_s: float


@dataclass(frozen=True, slots=True, kw_only=True)
class Cue(Event):
    """Words for the person. ``cue_kind``: guidance, grounding, pause, signal, reflection."""

    kind: ClassVar[str] = "cue"
    cue_kind: str
    text: str
    step: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class GapEvent(Event):
    """No beats from ``t_s`` to ``end_s`` (link or contact lost). Never filled."""

    kind: ClassVar[str] = "gap"
    end_s: float
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Annotation(Event):
    kind: ClassVar[str] = "annotation"
    author: str
    text: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Paused(Event):
    kind: ClassVar[str] = "paused"
    paused: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class ResonanceResult(Event):
    kind: ClassVar[str] = "resonance"
    resonance_bpm: float | None
    confidence: str
    margin: float | None
    explanation: str
    rates: tuple[dict[str, Any], ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class BaselineLearned(Event):
    """The resting reference measured in the protocol's baseline step."""

    kind: ClassVar[str] = "baseline"
    baseline: RestingBaseline
    own_breathing_bpm: float | None


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionEnded(Event):
    kind: ClassVar[str] = "session-ended"
    reason: str  # "completed", "stopped", "left" (the client's page went), "source-ended"
