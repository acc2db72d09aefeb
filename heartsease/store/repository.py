"""Reading and writing the store: who may see what, sessions and their beats, the audit log.

Every function takes a SQLAlchemy session and leaves committing to the caller (for live
sessions, the group committer of ``store/group_commit.py``, which writes their beats within
a second of arriving).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import delete, exists, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from heartsease.coaching.events import Event
from heartsease.sensors.timing import retime
from heartsease.signal.artifacts import ArtifactKind, detect_artifacts
from heartsease.store.models import (
    Annotation,
    Assignment,
    AuditEntry,
    Beat,
    BreathingSession,
    Role,
    SelfRating,
    SessionEvent,
    SessionStatus,
    User,
    utcnow,
)

# Events a UI draws but a record does not need (the pacer's phase is recomputable from the
# pacer events); everything else the loop emits is stored.
NOT_STORED = {"pacer-phase", "beat"}
FLUSH_EVERY_S = 0.5


def audit(db: Session, actor: User | None, action: str, object_type: str, object_id: str,
          subject_id: str | None, detail: str = "") -> None:
    """Append one line to the audit log."""
    db.add(AuditEntry(actor_id=None if actor is None else actor.id, action=action,
                      object_type=object_type, object_id=object_id, subject_id=subject_id,
                      detail=detail))


def is_assigned(db: Session, clinician_id: str, client_id: str) -> bool:
    return bool(db.scalar(select(exists().where(Assignment.clinician_id == clinician_id,
                                                Assignment.client_id == client_id))))


def may_see_client(user: User, client_id: str, assigned: bool) -> bool:
    """Clients see themselves; clinicians their assigned clients; admins no health data.
    ``assigned``: whether ``user`` is assigned to the client, as the caller found it."""
    if user.role is Role.CLIENT:
        return user.id == client_id
    return user.role is Role.CLINICIAN and assigned


def can_see_client(db: Session, user: User, client_id: str) -> bool:
    return may_see_client(user, client_id, user.role is Role.CLINICIAN
                          and is_assigned(db, user.id, client_id))


def assigned_clients(db: Session, clinician_id: str) -> Sequence[User]:
    return db.scalars(select(User).join(Assignment, Assignment.client_id == User.id)
                      .where(Assignment.clinician_id == clinician_id)
                      .order_by(User.name)).all()


def sessions_of(db: Session, client_ids: Iterable[str], limit: int = 200,
                since: datetime | None = None) -> Sequence[BreathingSession]:
    query = select(BreathingSession).where(BreathingSession.client_id.in_(list(client_ids)))
    if since is not None:
        query = query.where(BreathingSession.started_at >= since)
    return db.scalars(query.order_by(BreathingSession.started_at.desc()).limit(limit)).all()


def mark_interrupted(db: Session, keep: Collection[str] = (),
                     started_before: datetime | None = None,
                     only: Collection[str] | None = None) -> int:
    """Sessions left active by a server that stopped: interrupted, beats kept. With several
    workers, ``keep`` names the sessions still running somewhere, ``started_before`` spares
    the ones too new to have been announced yet, and ``only`` limits it to the ones named."""
    query = update(BreathingSession).where(BreathingSession.status == SessionStatus.ACTIVE)
    if only is not None:
        query = query.where(BreathingSession.id.in_(list(only)))
    if keep:
        query = query.where(BreathingSession.id.not_in(list(keep)))
    if started_before is not None:
        query = query.where(BreathingSession.started_at < started_before)
    result = db.execute(query.values(status=SessionStatus.INTERRUPTED, ended_at=utcnow()))
    return int(result.rowcount or 0)


def beats_of(db: Session, session_id: str) -> Sequence[Beat]:
    return db.scalars(select(Beat).where(Beat.session_id == session_id)
                      .order_by(Beat.seq)).all()


def events_of(db: Session, session_id: str, kinds: Iterable[str] | None = None
              ) -> list[dict[str, Any]]:
    query = select(SessionEvent).where(SessionEvent.session_id == session_id)
    if kinds is not None:
        query = query.where(SessionEvent.kind.in_(list(kinds)))
    return [e.data for e in db.scalars(query.order_by(SessionEvent.id))]


def insert_beats(db: Session, rows: list[dict[str, Any]]) -> None:
    """Insert beats, skipping any ``(session, seq)`` already stored (a re-sent beat)."""
    if not rows:
        return
    if db.get_bind().dialect.name == "postgresql":
        # One statement over five arrays, which the driver adapts each in one go: row by row
        # (executemany) took 21 ms of the writer's CPU per thousand beats, this 8 (a
        # thousand live sessions write a thousand beats a second, and the writer shares
        # the interpreter with their event loop).
        db.execute(_INSERT_BEATS_FROM_ARRAYS, {
            column: [r[column] for r in rows] for column in _BEAT_COLUMNS})
        return
    # One cached statement, executed for many rows: compiling a VALUES list per call costs
    # more than the write itself. On the table, not the ORM class: the ORM's bulk path
    # costs more than the insert.
    db.execute(sqlite.insert(Beat.__table__).on_conflict_do_nothing(
        index_elements=["session_id", "seq"]), rows)


# What a live session writes (the label comes once it has ended), typed as the table is.
_BEAT_COLUMNS = {c.name: c.type.compile(dialect=postgresql.dialect())
                 for c in Beat.__table__.columns if c.name != "label"}
_INSERT_BEATS_FROM_ARRAYS = text(
    f"INSERT INTO beats ({', '.join(_BEAT_COLUMNS)}) SELECT * FROM unnest("
    + ", ".join(f"CAST(:{c} AS {t}[])" for c, t in _BEAT_COLUMNS.items())
    + ") ON CONFLICT (session_id, seq) DO NOTHING")


def delete_client_data(db: Session, client_id: str) -> None:
    """Everything about a client's health, and the client (GDPR erasure). The audit log
    keeps its lines, which name no health data."""
    session_ids = select(BreathingSession.id).where(BreathingSession.client_id == client_id)
    for table in (Beat, SessionEvent, Annotation, SelfRating):
        db.execute(delete(table).where(table.session_id.in_(session_ids)))
    db.execute(delete(BreathingSession).where(BreathingSession.client_id == client_id))
    db.execute(delete(Assignment).where((Assignment.client_id == client_id)
                                        | (Assignment.clinician_id == client_id)))
    db.execute(delete(User).where(User.id == client_id))


class SessionRecorder:
    """One live session's rows waiting to be written: every raw beat and every stored event.
    Its owner takes them and commits them within :data:`FLUSH_EVERY_S` of arriving, and puts
    them back when the database cannot be reached, so they are written by a later flush.
    """

    def __init__(self, session_id: str, store_beats: bool = True) -> None:
        self.session_id = session_id
        self.store_beats = store_beats  # False where beats are stored as they arrive (ingest)
        self._beats: list[dict[str, Any]] = []
        self._events: list[dict[str, Any]] = []

    def add(self, event: Event) -> None:
        if event.kind == "beat":
            if not self.store_beats:
                return
            d = event.as_dict()
            self._beats.append({"session_id": self.session_id, "seq": d["seq"], "t_s": d["t_s"],
                                "rr_ms": d["rr_ms"], "arrival_s": d["arrival_s"]})
        elif event.kind not in NOT_STORED:
            self._events.append({"session_id": self.session_id, "t_s": event.t_s,
                                 "kind": event.kind, "data": event.as_dict()})

    def take(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """The beats and events waiting, leaving none: to be written while new ones arrive."""
        batch = (self._beats, self._events)
        self._beats, self._events = [], []
        return batch

    def restore(self, batch: tuple[list[dict[str, Any]], list[dict[str, Any]]]) -> None:
        """Put back a batch that could not be written, ahead of what came since."""
        self._beats, self._events = batch[0] + self._beats, batch[1] + self._events


def label_beats(beats: Sequence[Beat]) -> None:
    """Each stored beat's artifact label (normal, ectopic, long, short, missed, extra) from
    the whole session, with centred windows (Lipponen & Tarvainen 2019): the best labels the
    recording allows, decided once it is complete. The RR values are never changed."""
    if len(beats) < 4:
        return
    labels = detect_artifacts(np.array([b.rr_ms for b in beats]), window="centered")
    for beat, label in zip(beats, labels.tolist(), strict=True):
        beat.label = ArtifactKind(label).name.lower()


def place_beats(db: Session, session_id: str, beats: Sequence[Beat]) -> None:
    """Each stored beat's time from every notification of its stretch between gaps
    (:func:`heartsease.sensors.timing.retime`), once the session is complete: live, a beat
    is placed from what had arrived, and in the first seconds after a connection that can
    be tens of milliseconds late (README, Beat times)."""
    if not beats:
        return
    gaps = [event["t_s"] for event in events_of(db, session_id, ["gap"])]
    placed = retime([b.arrival_s for b in beats], [b.rr_ms for b in beats], gaps)
    for beat, t in zip(beats, placed.tolist(), strict=True):
        beat.t_s = round(t, 9)


def finish_session(db: Session, session: BreathingSession, status: SessionStatus,
                   record: dict[str, Any], source_error: str | None = None) -> None:
    """Close a session: its status, end time, the summary of its record (a
    :func:`heartsease.coaching.summary.session_record`), and its beats' labels."""
    session.status = status
    session.ended_at = utcnow()
    session.summary = record["summary"] | {
        "duration_s": record["duration_s"], "n_beats": record["n_beats"],
        "baseline": record["baseline"], "resonance": record["resonance"],
        "source_error": source_error}
    db.flush()
    beats = beats_of(db, session.id)
    label_beats(beats)
    place_beats(db, session.id, beats)
