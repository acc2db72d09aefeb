"""A store to test against: migrated, with one client and their sessions."""

from __future__ import annotations

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from heartsease.store.db import make_engine, migrate, session_factory
from heartsease.store.models import BreathingSession, Role, User


def store_with_sessions(db_url: str, sources: list[str]
                        ) -> tuple[Engine, sessionmaker[Session], list[BreathingSession]]:
    """A migrated store at ``db_url`` with one client and a session from each of
    ``sources`` (detached rows, usable after their transaction)."""
    engine = make_engine(db_url)
    migrate(engine)
    factory = session_factory(engine)
    with factory() as db, db.begin():
        user = User(email="c@example.org", name="c", role=Role.CLIENT, password_hash="x")
        db.add(user)
        db.flush()
        rows = [BreathingSession(client_id=user.id, protocol="srb", pace_bpm=6.0,
                                 source=source) for source in sources]
        db.add_all(rows)
        db.flush()
        for row in rows:
            db.expunge(row)
    return engine, factory, rows
