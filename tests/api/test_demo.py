"""The demo people, made before the service answers, and the demo client's history, made
behind it."""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path

from sqlalchemy import func, select

from heartsease.api.demo import DemoHistory, fill_demo_history, seed_demo_people
from heartsease.store.db import make_engine, migrate, session_factory
from heartsease.store.models import BreathingSession, User


def test_the_history_is_made_behind_the_people_once(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'demo.db'}")
    migrate(engine)
    factory = session_factory(engine)
    with factory() as db, db.begin():
        assert seed_demo_people(db)
    with factory() as db, db.begin():
        assert not seed_demo_people(db)  # a restart never duplicates them
    history = DemoHistory(factory, days=4)
    assert history.state == "filling"
    history.start()
    for _ in range(600):
        if history.state != "filling":
            break
        time.sleep(0.1)
    assert history.state == "ready"
    with factory() as db:
        made = db.scalar(select(func.count()).select_from(BreathingSession))
        client = db.scalars(select(User).where(User.email == "client@example.org")).one()
        assert made and client.baselines
    assert not fill_demo_history(factory, 4, date.today())  # never made twice
    assert DemoHistory(factory, days=0).state == "ready"
