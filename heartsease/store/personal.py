"""A person's data, found from the schema itself: the rows of every table that refers to the
users table (theirs) or to the sessions table (their sessions'), and the audit log's lines
about them. The account export and erasure both walk it, so a table added later (letters,
reflections, suitability answers) is exported and erased as soon as its foreign key names a
person or a session, without being listed here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Column, Table, delete, or_, select, update
from sqlalchemy.orm import Session

from heartsease.store.models import AuditEntry, Base, BreathingSession, User

PERSON_KEY: Column[Any] = User.__table__.c.id
SESSION_KEY: Column[Any] = BreathingSession.__table__.c.id
# Left out of an export: the password's hash only serves to check a password, and handing
# it out would help whoever intercepts the file guess it.
WITHHELD = {"users": frozenset({"password_hash"}),
            "password_links": frozenset({"token_sha256"}),
            "stream_codes": frozenset({"code_hash"})}
# What an audit line says in place of a session that was erased (the line itself stays:
# who did what, when, to whose data; the database allows no other change to it).
ERASED = "erased"


def tables_referring_to(key: Column[Any]) -> list[tuple[Table, list[Column[Any]]]]:
    """Each table with a foreign key to ``key``, with the columns that hold it, in an order
    where a table comes before any table it refers to (safe for deleting)."""
    found = []
    for table in reversed(Base.metadata.sorted_tables):
        columns = [fk.parent for fk in table.foreign_keys if fk.column is key]
        if columns and table is not key.table:
            found.append((table, columns))
    return found


def as_dict(table: Table, row: Any, implied: frozenset[str] = frozenset()
            ) -> dict[str, Any]:
    """A row's columns, less those withheld and those ``implied`` by where it is shown."""
    left_out = WITHHELD.get(table.name, frozenset()) | implied
    return {k: v for k, v in row._mapping.items() if k not in left_out}


def _rows(db: Session, table: Table, columns: Sequence[Column[Any]], value: Any,
          implied: frozenset[str] = frozenset()) -> list[dict[str, Any]]:
    query = select(table).where(or_(*(c == value for c in columns)))
    return [as_dict(table, r, implied) for r in db.execute(query.order_by(*table.primary_key))]


def session_ids_of(db: Session, person_id: str) -> list[str]:
    return list(db.scalars(select(BreathingSession.id).where(
        BreathingSession.client_id == person_id).order_by(BreathingSession.started_at)))


def personal_data(db: Session, person_id: str) -> dict[str, Any]:
    """Everything the store holds about a person: ``you`` (their row), a list per table that
    names them (``sessions`` among them, each session with a list per table that names the
    session) and ``audit_log``, the lines about them or by them."""
    person = db.execute(select(User.__table__).where(User.id == person_id)).one()
    out: dict[str, Any] = {"you": as_dict(User.__table__, person)}
    session_tables = tables_referring_to(SESSION_KEY)
    for table, columns in tables_referring_to(PERSON_KEY):
        out[table.name] = _rows(db, table, columns, person_id)
    for session in out[SESSION_KEY.table.name]:
        for table, columns in session_tables:
            # Each row under its session, without the session's id again (a beat's row
            # would be half that id).
            session[table.name] = _rows(db, table, columns, session["id"],
                                        frozenset(c.name for c in columns))
    out[AuditEntry.__tablename__] = [
        as_dict(AuditEntry.__table__, r) for r in db.execute(
            select(AuditEntry.__table__).where(or_(AuditEntry.subject_id == person_id,
                                                   AuditEntry.actor_id == person_id))
            .order_by(AuditEntry.id))]
    return out


def erase_sessions(db: Session, session_ids: Sequence[str]) -> None:
    """Sessions and every row that names them; the audit log's lines about them stay, with
    the session's id replaced by :data:`ERASED`."""
    if not session_ids:
        return
    for table, columns in tables_referring_to(SESSION_KEY):
        db.execute(delete(table).where(or_(*(c.in_(session_ids) for c in columns))))
    db.execute(update(AuditEntry).where(AuditEntry.object_type == "session",
                                        AuditEntry.object_id.in_(session_ids))
               .values(object_id=ERASED))
    db.execute(delete(BreathingSession).where(BreathingSession.id.in_(session_ids)))


def erase_person(db: Session, person_id: str) -> None:
    """A person and every row that names them or their sessions (GDPR erasure). A row that
    only mentions them in passing (a note they wrote about someone else's session) loses
    the mention, as its foreign key says (``ON DELETE SET NULL``); the audit log keeps its
    lines, which name no health data."""
    erase_sessions(db, session_ids_of(db, person_id))
    for table, columns in tables_referring_to(PERSON_KEY):
        for column in columns:
            if any(fk.ondelete == "SET NULL" for fk in column.foreign_keys):
                db.execute(update(table).where(column == person_id).values({column: None}))
            else:
                db.execute(delete(table).where(column == person_id))
    db.execute(delete(User).where(User.id == person_id))
