"""The database going away mid-session: the recorder keeps every beat in memory and writes
them all, exactly once, when it returns."""

from __future__ import annotations

from sqlalchemy import event, func, select
from sqlalchemy.exc import OperationalError

from heartsease.coaching.events import Beat as BeatEvent
from heartsease.store.db import make_engine, migrate, session_factory
from heartsease.store.models import Beat, BreathingSession, Role, User
from heartsease.store.repository import SessionRecorder


def test_ten_seconds_without_the_database_lose_nothing(db_url: str) -> None:
    engine = make_engine(db_url)
    migrate(engine)
    factory = session_factory(engine)
    with factory() as db, db.begin():
        user = User(email="c@example.org", name="c", role=Role.CLIENT, password_hash="x")
        db.add(user)
        db.flush()
        row = BreathingSession(client_id=user.id, protocol="srb", pace_bpm=6.0,
                               source="remote")
        db.add(row)
        db.flush()
        session_id = row.id
    down = {"now": False}

    @event.listens_for(engine, "before_cursor_execute")
    def refuse(*_: object) -> None:  # what a dropped connection looks like to the store
        if down["now"]:
            raise OperationalError("INSERT", {}, ConnectionRefusedError("server closed"))

    now = {"s": 0.0}
    recorder = SessionRecorder(factory, session_id, clock=lambda: now["s"])
    seq = 0
    for second in range(30):
        down["now"] = 10 <= second < 20  # ten seconds without a database
        for _ in range(2):
            seq += 1
            recorder.add(BeatEvent(second + seq / 10, seq, 800.0, second + 0.5, 75))
        now["s"] = float(second + 1)
        assert recorder.flush() is not down["now"]
    with factory() as db:
        stored = db.scalars(select(Beat.seq).where(Beat.session_id == session_id)
                            .order_by(Beat.seq)).all()
        assert list(stored) == list(range(1, seq + 1))
        assert db.scalar(select(func.count()).select_from(Beat)) == seq
    engine.dispose()
