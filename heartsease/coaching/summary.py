"""A session's record from its events: state segments, the shift log and a summary.

The same events a live front end consumed are enough to rebuild the whole session, so the
terminal's end screen, ``heartsease replay --json`` and (later) the store's reports all come
from :func:`session_record`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from heartsease.coaching.events import Event

EPOCH_S = 5.0


def state_segments(events: Sequence[Event | dict[str, Any]], end_s: float
                   ) -> list[dict[str, Any]]:
    """Contiguous stretches of one state, from the state changes.

    Examples
    --------
    >>> from heartsease.coaching.events import StateChanged
    >>> state_segments([StateChanged(t_s=30.0, state="neutral", previous="unknown", reason=""),
    ...                 StateChanged(t_s=90.0, state="soothing", previous="neutral", reason="")],
    ...                120.0)
    ... # doctest: +NORMALIZE_WHITESPACE
    [{'state': 'unknown', 'start_s': 0.0, 'end_s': 30.0},
     {'state': 'neutral', 'start_s': 30.0, 'end_s': 90.0},
     {'state': 'soothing', 'start_s': 90.0, 'end_s': 120.0}]
    """
    segments: list[dict[str, Any]] = []
    state, since = "unknown", 0.0
    for e in _dicts(events):
        if e["kind"] != "state":
            continue
        if e["t_s"] > since:
            segments.append({"state": state, "start_s": since, "end_s": e["t_s"]})
        state, since = e["state"], e["t_s"]
    if end_s > since:
        segments.append({"state": state, "start_s": since, "end_s": end_s})
    return segments


def _dicts(events: Sequence[Event | dict[str, Any]]) -> list[dict[str, Any]]:
    return [e if isinstance(e, dict) else e.as_dict() for e in events]


def session_record(events: Sequence[Event | dict[str, Any]], include_phases: bool = False,
                   n_beats: int | None = None) -> dict[str, Any]:
    """The whole session as one JSON-ready object, from its events (or their dicts).

    Keys: ``protocol``, ``duration_s``, ``n_beats``, ``ended``, ``steps``, ``metrics`` (every
    5-s update), ``states`` (segments), ``shifts``, ``backdrafts``, ``cues``,
    ``annotations``, ``gaps``, ``baseline``, ``resonance`` and ``summary``. Pacer phases are
    left out unless asked for (a UI draws them; a record does not need them). ``n_beats``
    counts the beats where their events were not kept (a long live session's).
    """
    rows = _dicts(events)

    def of(kind: str) -> list[dict[str, Any]]:
        return [e for e in rows if e["kind"] == kind]

    started = next(iter(of("session-started")), None)
    ended = next(iter(of("session-ended")), None)
    end_s = ended["t_s"] if ended is not None else max((e["t_s"] for e in rows), default=0.0)
    record: dict[str, Any] = {
        "protocol": None if started is None else started["protocol"],
        "pace_bpm": None if started is None else started["pace_bpm"],
        "duration_s": end_s,
        "n_beats": len(of("beat")) if n_beats is None else n_beats,
        "ended": None if ended is None else ended["reason"],
        "steps": of("step"),
        "metrics": of("metrics"),
        "states": state_segments(rows, end_s),
        "shifts": of("shift"),
        "backdrafts": of("backdraft"),
        "cues": of("cue"),
        "annotations": of("annotation"),
        "gaps": of("gap"),
        "baseline": next(iter(of("baseline")), None),
        "resonance": next(iter(of("resonance")), None),
    }
    if include_phases:
        record["pacer_phases"] = of("pacer-phase")
    record["summary"] = summarize(record)
    return record


def summarize(record: dict[str, Any]) -> dict[str, Any]:
    """Minutes in each state, shift and backdraft counts, and the typical heart measures of
    each step."""
    minutes = {s: 0.0 for s in ("threat", "neutral", "soothing", "unknown")}
    for seg in record["states"]:
        minutes[seg["state"]] += (seg["end_s"] - seg["start_s"]) / 60.0
    by_step = []
    steps = record["steps"]
    for i, step in enumerate(steps):
        end = steps[i + 1]["t_s"] if i + 1 < len(steps) else record["duration_s"]
        inside = [m for m in record["metrics"] if step["t_s"] <= m["t_s"] < end]
        by_step.append({"step": step["name"], "start_s": step["t_s"], "end_s": end,
                        **{f"median_{k}": _median(inside, k) for k in
                           ("hr_bpm", "rmssd_ms", "coherence_ratio", "breathing_rate_bpm")}})
    shifts = record["shifts"]
    return {
        "minutes_by_state": {k: round(v, 2) for k, v in minutes.items()},
        "threat_to_soothing_shifts": sum(s["direction"] == "threat-to-soothing" for s in shifts),
        "soothing_to_threat_returns": sum(s["direction"] == "soothing-to-threat" for s in shifts),
        "backdrafts": len(record["backdrafts"]),
        "gaps": len(record["gaps"]),
        "by_step": by_step,
    }


def _median(rows: list[dict[str, Any]], key: str) -> float | None:
    values = [r[key] for r in rows if r.get(key) is not None]
    return float(np.median(values)) if values else None
