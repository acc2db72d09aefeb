"""The database going away mid-session, or as it ends: every beat waits in memory and is
written, exactly once, when it returns."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import Engine, event, func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from heartsease.api.fanout import LocalHub
from heartsease.api.recorder import SessionRecorder
from heartsease.api.running import SessionManager
from heartsease.coaching.events import Beat as BeatEvent
from heartsease.coaching.protocols import load_protocol
from heartsease.coaching.session import CoachingSession
from heartsease.sensors.source import LiveClock, Measurement
from heartsease.simulator.scenarios import beats_as_source, simulate
from heartsease.sources import OpenedSource
from heartsease.store.models import Beat, BreathingSession
from tests.store.stores import store_with_sessions

pytestmark = pytest.mark.both_databases  # each server's own failures


def _store_that_can_go_away(db_url: str, source: str
                            ) -> tuple[Engine, sessionmaker[Session], BreathingSession,
                                       dict[str, bool]]:
    """A store with one client's session, and a switch: while ``down["now"]`` every
    statement fails as a dropped connection does."""
    engine, factory, (row,) = store_with_sessions(db_url, [source])
    down = {"now": False}

    @event.listens_for(engine, "before_cursor_execute")
    def refuse(*_: object) -> None:
        if down["now"]:
            raise OperationalError("INSERT", {}, ConnectionRefusedError("server closed"))

    return engine, factory, row, down


def test_ten_seconds_without_the_database_lose_nothing(db_url: str) -> None:
    engine, factory, row, down = _store_that_can_go_away(db_url, "remote")
    session_id = row.id

    async def run() -> int:
        manager = SessionManager(factory, LocalHub())
        recorder = SessionRecorder(session_id)
        seq = 0
        for second in range(30):
            down["now"] = 10 <= second < 20  # ten seconds without a database
            for _ in range(2):
                seq += 1
                recorder.add(BeatEvent(t_s=second + seq / 10, seq=seq, rr_ms=800.0,
                                       arrival_s=second + 0.5, hr_bpm=75))
            assert await manager.flush([recorder]) is not down["now"]
        await manager.writer.close()
        return seq

    sent = asyncio.run(run())
    with factory() as db:
        stored = db.scalars(select(Beat.seq).where(Beat.session_id == session_id)
                            .order_by(Beat.seq)).all()
        assert list(stored) == list(range(1, sent + 1))
        assert db.scalar(select(func.count()).select_from(Beat)) == sent
    engine.dispose()


def test_a_session_ending_while_the_database_is_away_is_written_when_it_returns(
        db_url: str) -> None:
    engine, factory, row, down = _store_that_can_go_away(db_url, "simulated")

    beats = simulate("rest", 90, seed=3)

    async def source() -> AsyncIterator[Measurement]:
        async for m in beats_as_source(beats):
            await asyncio.sleep(0.001)
            yield m
        down["now"] = True  # the strap stops as the database goes

    async def run() -> str:
        manager = SessionManager(factory, LocalHub())
        await manager.start_background()
        session = CoachingSession(load_protocol("srb"), pace_bpm=6.0)
        running = manager.start(row, session, OpenedSource(source(), LiveClock(1000.0)))
        while not down["now"]:
            await asyncio.sleep(0.01)
        await asyncio.sleep(1.5)  # a few tries while it is away
        assert not running.task.done()
        down["now"] = False
        await asyncio.wait_for(running.task, 30)
        await manager.shutdown()
        with factory() as db:
            return db.get(BreathingSession, row.id).status.value

    assert asyncio.run(run()) == "stopped"
    with factory() as db:
        stored = db.scalars(select(Beat.seq).where(Beat.session_id == row.id)
                            .order_by(Beat.seq)).all()
        assert list(stored) == list(range(1, beats.rr_ms.size + 1))
        finished = db.get(BreathingSession, row.id)
        assert finished.summary["n_beats"] == beats.rr_ms.size
    engine.dispose()
