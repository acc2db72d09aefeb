"""What is worked out once a session is complete: the best labels and times its beats
allow, and the summary that is kept with it.

Live, a beat is labelled and placed from what had arrived so far; once the recording is
whole, each beat's artifact label can use the beats on both sides of it, and each beat's
time every notification of its stretch between gaps. The raw RR values are never changed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from heartsease.coaching.summary import SessionRecord
from heartsease.sensors.timing import retime
from heartsease.signal.artifacts import ArtifactKind, detect_artifacts
from heartsease.signal.quality import recording_quality

MIN_BEATS_TO_LABEL = 4


@dataclass(frozen=True, slots=True)
class FinishedBeats:
    """For each stored beat, in sequence order: its artifact label (``None`` when there are
    too few beats to tell) and its time in the session (seconds, rounded to the
    nanosecond)."""

    labels: list[str] | None
    t_s: list[float]


def finish_beats(rr_ms: Sequence[float], arrival_s: Sequence[float],
                 gap_starts_s: Sequence[float]) -> FinishedBeats:
    """The labels and times of a complete session's beats.

    Labels (normal, ectopic, long, short, missed, extra) come from the whole session with
    centred windows (Lipponen & Tarvainen 2019). Times come from every notification of each
    stretch between gaps (:func:`heartsease.sensors.timing.retime`): live, a beat is placed
    from what had arrived, and in the first seconds after a connection that can be tens of
    milliseconds late (README, Beat times).

    Examples
    --------
    >>> done = finish_beats([1000.0] * 4, [1.002, 2.003, 10.004, 11.002], [5.0])
    >>> done.labels, [round(t, 4) for t in done.t_s]
    (['normal', 'normal', 'normal', 'normal'], [1.002, 2.002, 10.002, 11.002])
    """
    labels = None
    if len(rr_ms) >= MIN_BEATS_TO_LABEL:
        kinds = detect_artifacts(np.asarray(rr_ms, dtype=np.float64), window="centered")
        labels = [ArtifactKind(k).name.lower() for k in kinds.tolist()]
    placed = retime(list(arrival_s), list(rr_ms), list(gap_starts_s)) if len(rr_ms) else []
    return FinishedBeats(labels, [round(t, 9) for t in np.asarray(placed).tolist()])


def stored_summary(record: SessionRecord, source_error: str | None = None,
                   beats_rr_ms: Sequence[float] = ()) -> dict[str, Any]:
    """What is kept with a finished session (the ``summary`` the API sends): the record's
    summary, its length, beats, baseline and resonance results, why its source failed if it
    did, and whether its HRV can be read (issue 26: ``hrv_interpretable`` and
    ``quality_notes``, judged from the raw beats as ``heartsease analyze`` judges a file;
    ``None`` and no notes for a session without beats).

    Examples
    --------
    >>> from heartsease.coaching.summary import session_record
    >>> kept = stored_summary(session_record([]), beats_rr_ms=[800.0] * 30)
    >>> kept["hrv_interpretable"], kept["quality_notes"][0][:10]
    (False, 'too short:')
    """
    quality = recording_quality(list(beats_rr_ms)) if len(beats_rr_ms) else None
    return record.summary.as_dict() | {
        "duration_s": record.duration_s, "n_beats": record.n_beats,
        "baseline": None if record.baseline is None else record.baseline.as_dict(),
        "resonance": None if record.resonance is None else record.resonance.as_dict(),
        "source_error": source_error,
        "hrv_interpretable": None if quality is None else quality.interpretable,
        "quality_notes": [] if quality is None else list(quality.notes)}
