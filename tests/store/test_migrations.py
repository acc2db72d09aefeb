"""The migrations build exactly the schema the models describe, on SQLite and PostgreSQL,
and upgrade a database that holds data."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from heartsease.store.db import MIGRATIONS, make_engine, migrate
from heartsease.store.models import Base


def test_migrations_match_the_models(db_url: str) -> None:
    engine = make_engine(db_url)
    migrate(engine)
    with engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []
    migrate(engine)  # idempotent
    engine.dispose()


def test_upgrading_keeps_the_beats(db_url: str) -> None:
    engine = make_engine(db_url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0001")
    with engine.begin() as c:
        c.execute(text("INSERT INTO users (id, email, name, role, password_hash, created_at, "
                       "baselines) VALUES ('u1', 'a@b.c', 'A', 'client', 'x', "
                       "CURRENT_TIMESTAMP, '[]')"))
        c.execute(text("INSERT INTO sessions (id, client_id, protocol, pace_bpm, source, "
                       "source_detail, status, started_at, summary) VALUES ('s1', 'u1', "
                       "'srb', 6.0, 'remote', '', 'active', CURRENT_TIMESTAMP, '{}')"))
        c.execute(text("INSERT INTO beats (session_id, seq, t_s, rr_ms, arrival_s) VALUES "
                       "('s1', 1, 0.9, 900.0, 1.0)"))
    migrate(engine)
    assert "label" in {c["name"] for c in inspect(engine).get_columns("beats")}
    with engine.connect() as c:
        assert c.execute(text("SELECT rr_ms, label FROM beats")).one() == (900.0, None)
        assert not c.execute(text("SELECT demo FROM sessions")).scalar_one()  # 0004_page
    engine.dispose()
