"""Reading and writing the store: who may see what, sessions and their beats, the audit log.

Every function takes a SQLAlchemy session and leaves committing to the caller (for live
sessions, the group committer of ``store/group_commit.py``, which writes their beats within
a second of arriving).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Collection, Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import exists, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from heartsease.store.models import (
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

log = logging.getLogger(__name__)


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


def active_sessions_of(db: Session, client_id: str) -> Sequence[BreathingSession]:
    """A client's sessions not yet ended, the latest first."""
    return db.scalars(select(BreathingSession).where(
        BreathingSession.client_id == client_id,
        BreathingSession.status == SessionStatus.ACTIVE)
        .order_by(BreathingSession.started_at.desc())).all()


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


def beat_row(session_id: str, seq: int, t_s: float, rr_ms: float, arrival_s: float
             ) -> dict[str, Any]:
    """One beat as :func:`insert_beats` takes it (a plain dict: a thousand live sessions
    write a thousand a second, and the driver takes dicts as they are)."""
    return {"session_id": session_id, "seq": seq, "t_s": t_s, "rr_ms": rr_ms,
            "arrival_s": arrival_s}


def insert_beats(db: Session, rows: list[dict[str, Any]]) -> None:
    """Insert beats (each a :func:`beat_row`), skipping any ``(session, seq)`` already
    stored (a re-sent beat), and refusing any whose time or interval is not a finite
    number (left out, the others written)."""
    rows = finite_rows(rows, ("t_s", "rr_ms", "arrival_s"), "beats")
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


def insert_events(db: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Insert events, each ``{"session_id", "t_s", "kind", "data"}``; one whose time is not
    a finite number is refused (left out, the others written). A NaN inside ``data`` is
    stored as null (:func:`heartsease.store.db.finite_json`)."""
    rows = finite_rows(rows, ("t_s",), "events")
    if rows:
        db.execute(SessionEvent.__table__.insert(), rows)


def finite_rows(rows: Sequence[dict[str, Any]], columns: Sequence[str], what: str
                ) -> list[dict[str, Any]]:
    """``rows`` without those where a number in ``columns`` is NaN or infinite. The store
    refuses such a row one by one, here, rather than the column type refusing the whole
    batch: the beats and events of other sessions share the batch (the group commit).

    >>> finite_rows([{"t_s": 1.0}, {"t_s": float("nan")}], ["t_s"], "beats")
    [{'t_s': 1.0}]
    """
    kept = [r for r in rows if all(math.isfinite(r[c]) for c in columns)]
    if len(kept) < len(rows):
        # Counted, never shown: the values are a person's health data.
        log.warning("%d %s refused: a time or value that is not a finite number",
                    len(rows) - len(kept), what)
    return kept


def close_session(db: Session, session: BreathingSession, status: SessionStatus,
                  summary: dict[str, Any]) -> None:
    """A session's status, end time and summary, once it is over."""
    session.status = status
    session.ended_at = utcnow()
    session.summary = summary
    db.flush()


def set_beat_labels_and_times(beats: Sequence[Beat], labels: Sequence[str] | None,
                              t_s: Sequence[float]) -> None:
    """Each stored beat's artifact label (left as it is when ``labels`` is ``None``) and
    time, in the order of ``beats``. The RR values are never changed."""
    if labels is not None:
        for beat, label in zip(beats, labels, strict=True):
            beat.label = label
    for beat, t in zip(beats, t_s, strict=True):
        beat.t_s = t


def sessions_between(db: Session, client_id: str, start: datetime, end: datetime
                     ) -> Sequence[BreathingSession]:
    """A client's sessions started from ``start`` to before ``end``."""
    return db.scalars(select(BreathingSession).where(
        BreathingSession.client_id == client_id, BreathingSession.started_at >= start,
        BreathingSession.started_at < end)).all()


def ratings_of(db: Session, session_ids: Collection[str]) -> dict[str, dict[str, list[int]]]:
    """Each session's self-ratings by scale, in the order given (skipped ones left out)."""
    out: dict[str, dict[str, list[int]]] = {}
    for r in db.scalars(select(SelfRating).where(SelfRating.session_id.in_(list(session_ids)),
                                                 SelfRating.value.is_not(None))
                        .order_by(SelfRating.id)):
        out.setdefault(r.session_id, {}).setdefault(r.scale, []).append(r.value)
    return out
