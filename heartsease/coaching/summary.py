"""A session's record from its events: state segments, the shift log and a summary.

The same events a live front end consumed are enough to rebuild the whole session, so the
terminal's end screen, ``heartsease replay --json``, the service's session detail and the
reports all come from :func:`session_record`. The record is typed; :meth:`SessionRecord.as_dict`
is its JSON shape (the one the API and the exports have always sent).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields
from typing import Any, TypeVar

import numpy as np

from heartsease.coaching import events as ev
from heartsease.coaching.classifier import RestingBaseline

EPOCH_S = 5.0
STATES = ("threat", "neutral", "soothing", "unknown")
# Every kind of event, by the kind its dict names.
_EVENT_CLASSES: dict[str, type[ev.Event]] = {
    cls.kind: cls for cls in vars(ev).values()
    if isinstance(cls, type) and issubclass(cls, ev.Event) and cls is not ev.Event}
E = TypeVar("E", bound=ev.Event)


def event_from_dict(data: dict[str, Any]) -> ev.Event:
    """The event a stored (or sent) dict was made from by :meth:`~heartsease.coaching.
    events.Event.as_dict`.

    >>> e = event_from_dict({"kind": "state", "t_s": 30.0, "state": "neutral",
    ...                      "previous": "unknown", "reason": ""})
    >>> e.state, e.as_dict()["kind"]
    ('neutral', 'state')
    """
    cls = _EVENT_CLASSES[data["kind"]]
    # A field added since the event was stored keeps its default.
    values = {f.name: data[f.name] for f in fields(cls) if f.name in data}
    if cls is ev.Shift and values["preceded_by"] is not None:
        values["preceded_by"] = ev.Preceding(**values["preceded_by"])
    elif cls is ev.Backdraft:
        values["preceded_by"] = tuple(ev.Preceding(**p) for p in values.get("preceded_by", ()))
    elif cls is ev.StepStarted:
        values["prompts"] = tuple(values.get("prompts", ()))
    elif cls is ev.BaselineLearned:
        values["baseline"] = RestingBaseline(**values["baseline"])
    elif cls is ev.ResonanceResult:
        values["rates"] = tuple(values["rates"] or ())
    return cls(**values)


@dataclass(frozen=True, slots=True)
class StateSegment:
    """A stretch of one state."""

    state: str
    start_s: float
    end_s: float

    @property
    def minutes(self) -> float:
        return (self.end_s - self.start_s) / 60.0

    def as_dict(self) -> dict[str, Any]:
        return {"state": self.state, "start_s": self.start_s, "end_s": self.end_s}


@dataclass(frozen=True, slots=True)
class StepSummary:
    """The typical heart measures of one protocol step (``None`` where none were made)."""

    step: str
    start_s: float
    end_s: float
    median_hr_bpm: float | None
    median_rmssd_ms: float | None
    median_coherence_ratio: float | None
    median_breathing_rate_bpm: float | None

    def as_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass(frozen=True, slots=True)
class SessionSummary:
    """Minutes in each state, shift and backdraft counts, and each step's measures."""

    minutes_by_state: dict[str, float]
    threat_to_soothing_shifts: int
    soothing_to_threat_returns: int
    backdrafts: int
    gaps: int
    by_step: list[StepSummary]

    def as_dict(self) -> dict[str, Any]:
        return {"minutes_by_state": dict(self.minutes_by_state),
                "threat_to_soothing_shifts": self.threat_to_soothing_shifts,
                "soothing_to_threat_returns": self.soothing_to_threat_returns,
                "backdrafts": self.backdrafts, "gaps": self.gaps,
                "by_step": [s.as_dict() for s in self.by_step]}


@dataclass(frozen=True, slots=True)
class SessionRecord:
    """The whole session: its steps, every 5-s metrics update, state segments, shifts,
    backdrafts, cues, annotations, gaps, the baseline and resonance results, and the
    summary. ``ended`` is the reason it ended (``None`` while it runs)."""

    protocol: str | None
    pace_bpm: float | None
    duration_s: float
    n_beats: int
    ended: str | None
    steps: list[ev.StepStarted]
    metrics: list[ev.Metrics]
    states: list[StateSegment]
    shifts: list[ev.Shift]
    backdrafts: list[ev.Backdraft]
    cues: list[ev.Cue]
    annotations: list[ev.Annotation]
    gaps: list[ev.GapEvent]
    baseline: ev.BaselineLearned | None
    resonance: ev.ResonanceResult | None
    summary: SessionSummary
    pacer_phases: list[ev.PacerPhase] | None = field(default=None)

    def step_end_s(self, i: int) -> float:
        """When step ``i`` ended: the next step's start, or the session's end."""
        return self.steps[i + 1].t_s if i + 1 < len(self.steps) else self.duration_s

    def as_dict(self) -> dict[str, Any]:
        """The JSON-ready record (keys in the order they have always been sent)."""
        out: dict[str, Any] = {
            "protocol": self.protocol, "pace_bpm": self.pace_bpm,
            "duration_s": self.duration_s, "n_beats": self.n_beats, "ended": self.ended,
            "steps": _as_dicts(self.steps), "metrics": _as_dicts(self.metrics),
            "states": _as_dicts(self.states), "shifts": _as_dicts(self.shifts),
            "backdrafts": _as_dicts(self.backdrafts), "cues": _as_dicts(self.cues),
            "annotations": _as_dicts(self.annotations), "gaps": _as_dicts(self.gaps),
            "baseline": None if self.baseline is None else self.baseline.as_dict(),
            "resonance": None if self.resonance is None else self.resonance.as_dict()}
        if self.pacer_phases is not None:
            out["pacer_phases"] = _as_dicts(self.pacer_phases)
        out["summary"] = self.summary.as_dict()
        return out


def _as_dicts(items: Iterable[ev.Event | StateSegment]) -> list[dict[str, Any]]:
    return [item.as_dict() for item in items]


def state_segments(events: Sequence[ev.Event], end_s: float) -> list[StateSegment]:
    """Contiguous stretches of one state, from the state changes.

    Examples
    --------
    >>> from heartsease.coaching.events import StateChanged
    >>> segments = state_segments([
    ...     StateChanged(t_s=30.0, state="neutral", previous="unknown", reason=""),
    ...     StateChanged(t_s=90.0, state="soothing", previous="neutral", reason="")], 120.0)
    >>> [s.as_dict() for s in segments]  # doctest: +NORMALIZE_WHITESPACE
    [{'state': 'unknown', 'start_s': 0.0, 'end_s': 30.0},
     {'state': 'neutral', 'start_s': 30.0, 'end_s': 90.0},
     {'state': 'soothing', 'start_s': 90.0, 'end_s': 120.0}]
    """
    segments: list[StateSegment] = []
    state, since = "unknown", 0.0
    for e in events:
        if not isinstance(e, ev.StateChanged):
            continue
        if e.t_s > since:
            segments.append(StateSegment(state, since, e.t_s))
        state, since = e.state, e.t_s
    if end_s > since:
        segments.append(StateSegment(state, since, end_s))
    return segments


def session_record(events: Sequence[ev.Event | dict[str, Any]], include_phases: bool = False,
                   n_beats: int | None = None) -> SessionRecord:
    """The whole session, from its events (or their dicts, as stored).

    Pacer phases are left out unless asked for (a UI draws them; a record does not need
    them). ``n_beats`` counts the beats where their events were not kept (a long live
    session's).
    """
    rows = [e if isinstance(e, ev.Event) else event_from_dict(e) for e in events]

    def of(cls: type[E]) -> list[E]:
        return [e for e in rows if isinstance(e, cls)]

    started = next(iter(of(ev.SessionStarted)), None)
    ended = next(iter(of(ev.SessionEnded)), None)
    end_s = ended.t_s if ended is not None else max((e.t_s for e in rows), default=0.0)
    steps, metrics, states = of(ev.StepStarted), of(ev.Metrics), state_segments(rows, end_s)
    shifts, backdrafts, gaps = of(ev.Shift), of(ev.Backdraft), of(ev.GapEvent)
    return SessionRecord(
        protocol=None if started is None else started.protocol,
        pace_bpm=None if started is None else started.pace_bpm,
        duration_s=end_s,
        n_beats=len(of(ev.Beat)) if n_beats is None else n_beats,
        ended=None if ended is None else ended.reason,
        steps=steps, metrics=metrics, states=states, shifts=shifts, backdrafts=backdrafts,
        cues=of(ev.Cue), annotations=of(ev.Annotation), gaps=gaps,
        baseline=next(iter(of(ev.BaselineLearned)), None),
        resonance=next(iter(of(ev.ResonanceResult)), None),
        summary=summarize(steps, metrics, states, shifts, len(backdrafts), len(gaps), end_s),
        pacer_phases=of(ev.PacerPhase) if include_phases else None)


def summarize(steps: Sequence[ev.StepStarted], metrics: Sequence[ev.Metrics],
              states: Sequence[StateSegment], shifts: Sequence[ev.Shift], backdrafts: int,
              gaps: int, duration_s: float) -> SessionSummary:
    """Minutes in each state, shift and backdraft counts, and the typical heart measures of
    each step."""
    minutes = dict.fromkeys(STATES, 0.0)
    for seg in states:
        minutes[seg.state] += seg.minutes
    by_step = []
    for i, step in enumerate(steps):
        end = steps[i + 1].t_s if i + 1 < len(steps) else duration_s
        inside = [m for m in metrics if step.t_s <= m.t_s < end]
        by_step.append(StepSummary(
            step.name, step.t_s, end, _median(m.hr_bpm for m in inside),
            _median(m.rmssd_ms for m in inside), _median(m.coherence_ratio for m in inside),
            _median(m.breathing_rate_bpm for m in inside)))
    return SessionSummary(
        minutes_by_state={k: round(v, 2) for k, v in minutes.items()},
        threat_to_soothing_shifts=sum(s.direction == "threat-to-soothing" for s in shifts),
        soothing_to_threat_returns=sum(s.direction == "soothing-to-threat" for s in shifts),
        backdrafts=backdrafts, gaps=gaps, by_step=by_step)


def _median(values: Iterable[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return float(np.median(known)) if known else None
