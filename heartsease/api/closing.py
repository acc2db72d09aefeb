"""A session's end in the store: its rows written if they were not yet, its summary kept,
its beats labelled and placed from the whole of it."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from heartsease.api.recorder import SessionRecorder
from heartsease.coaching.events import Event
from heartsease.coaching.finishing import finish_beats, stored_summary
from heartsease.coaching.summary import SessionRecord, session_record
from heartsease.store import repository
from heartsease.store.models import BreathingSession, SessionStatus


def store_replayed(db: Session, row: BreathingSession, events: list[Event]) -> SessionRecord:
    """A whole session's events, stored at once and the session finished; its record."""
    recorder = SessionRecorder(row.id)
    recorder.add_all(events)
    beats, stored_events = recorder.take()
    repository.insert_beats(db, beats)
    repository.insert_events(db, stored_events)
    record = session_record(events)
    finish_session(db, row, SessionStatus.COMPLETED, record)
    return record


def finish_session(db: Session, row: BreathingSession, status: SessionStatus,
                   record: SessionRecord, source_error: str | None = None) -> None:
    """Close a session: its status, end time, the summary of its record, and its beats'
    labels and times worked out from the whole of it
    (:func:`heartsease.coaching.finishing.finish_beats`)."""
    beats = repository.beats_of(db, row.id)
    repository.close_session(db, row, status, stored_summary(
        record, source_error, [b.rr_ms for b in beats]))
    if not beats:
        return
    gaps = [event["t_s"] for event in repository.events_of(db, row.id, ["gap"])]
    done = finish_beats([b.rr_ms for b in beats], [b.arrival_s for b in beats], gaps)
    repository.set_beat_labels_and_times(beats, done.labels, done.t_s)


def session_out(row: BreathingSession, live: bool) -> dict[str, Any]:
    """A session as the API shows it (:class:`~heartsease.api.schemas.SessionOut`'s fields)."""
    return {"id": row.id, "client_id": row.client_id, "protocol": row.protocol,
            "pace_bpm": row.pace_bpm, "source": row.source, "source_detail": row.source_detail,
            "status": row.status, "started_at": row.started_at, "ended_at": row.ended_at,
            "summary": row.summary or {}, "live": live, "demo": row.demo}
