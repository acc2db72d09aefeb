"""The migrations build exactly the schema the models describe, on SQLite and PostgreSQL,
and upgrade a database that holds data."""

from __future__ import annotations

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from fastapi.testclient import TestClient
from sqlalchemy import Engine, inspect, text

from heartsease.api.app import create_app
from heartsease.api.settings import Settings
from heartsease.store.db import MIGRATIONS, make_engine, migrate
from heartsease.store.models import Base

pytestmark = pytest.mark.both_databases  # each store's own DDL


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


# A row in every table of the first schema, as a store made by the first release held them.
FIRST_RELEASE_ROWS = {
    "users": [{"id": "u1", "email": "a@b.c", "name": "Ada", "role": "client",
               "password_hash": "x", "created_at": "2025-01-02 03:04:05", "pace_bpm": 5.5,
               "pace_confidence": "clear", "baselines": '[{"hr_bpm": 61.0}]'},
              {"id": "u2", "email": "d@e.f", "name": "Dr. D", "role": "clinician",
               "password_hash": "y", "created_at": "2025-01-02 03:04:05", "pace_bpm": None,
               "pace_confidence": None, "baselines": "[]"}],
    "assignments": [{"clinician_id": "u2", "client_id": "u1"}],
    "sessions": [{"id": "s1", "client_id": "u1", "protocol": "srb", "pace_bpm": 5.5,
                  "source": "remote", "source_detail": "phone", "status": "completed",
                  "started_at": "2025-01-02 04:00:00", "ended_at": "2025-01-02 04:15:00",
                  "summary": '{"gaps": 0}'}],
    "beats": [{"session_id": "s1", "seq": seq, "t_s": seq * 0.9, "rr_ms": 900.0 + seq,
               "arrival_s": seq * 0.9 + 0.01} for seq in (1, 2, 3)],
    "session_events": [{"id": 1, "session_id": "s1", "t_s": 5.0, "kind": "cue",
                        "data": '{"kind": "cue", "t_s": 5.0, "text": "Breathe."}'}],
    "annotations": [{"id": 1, "session_id": "s1", "author_id": "u2", "t_s": 60.0,
                     "text": "settling", "created_at": "2025-01-02 04:01:00"}],
    "self_ratings": [{"id": 1, "session_id": "s1", "t_s": 0.0, "scale": "inner-critic",
                      "value": 6}],
    "audit_log": [{"id": 1, "at": "2025-01-02 04:02:00", "actor_id": "u2",
                   "action": "read-session", "object_type": "session", "object_id": "s1",
                   "subject_id": "u1", "detail": ""}],
}


def _rows(engine: Engine, table: str, columns: list[str]) -> list[tuple[object, ...]]:
    with engine.connect() as c:
        return [tuple(r) for r in c.execute(text(
            f"SELECT {', '.join(columns)} FROM {table} ORDER BY {columns[0]}, {columns[1]}"))]


def test_the_service_upgrades_a_first_release_store_on_start(db_url: str) -> None:
    engine = make_engine(db_url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0001")
    assert set(FIRST_RELEASE_ROWS) == set(inspect(engine).get_table_names()) - {
        "alembic_version"}  # a row in every table there was
    with engine.begin() as c:
        for table, rows in FIRST_RELEASE_ROWS.items():
            columns = list(rows[0])
            c.execute(text(f"INSERT INTO {table} ({', '.join(columns)}) VALUES "
                           f"({', '.join(':' + k for k in columns)})"), rows)
    before = {t: _rows(engine, t, list(rows[0])) for t, rows in FIRST_RELEASE_ROWS.items()}
    with TestClient(create_app(Settings(database_url=db_url, demo_data=False))):
        pass  # started once: migrated on start
    with engine.connect() as c:
        assert c.execute(text("SELECT version_num FROM alembic_version")).scalar() == \
            ScriptDirectory.from_config(config).get_current_head()
    for table, rows in FIRST_RELEASE_ROWS.items():
        assert _rows(engine, table, list(rows[0])) == before[table], table
    with engine.connect() as c:  # and the columns added since have their defaults
        assert c.execute(text("SELECT label FROM beats")).scalars().all() == [None] * 3
        assert c.execute(text("SELECT tokens_valid_after FROM users")).scalars().all() == \
            [None, None]
    engine.dispose()
