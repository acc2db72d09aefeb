"""The database: an embedded SQLite file by default, PostgreSQL by URL; migrations by Alembic.

``HEARTSEASE_DATABASE_URL`` picks the database (``postgresql+psycopg://...`` for a clinic).
Without it, heartsease keeps a SQLite file in its data directory, in WAL mode with full
synchronous commits, so a committed beat survives a crash of the process or the machine.
"""

from __future__ import annotations

import json
import logging
import math
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS = Path(__file__).with_name("migrations")
log = logging.getLogger(__name__)


def data_dir() -> Path:
    """Where heartsease keeps its files (``HEARTSEASE_HOME``, else the XDG data folder)."""
    home = os.environ.get("HEARTSEASE_HOME")
    if home:
        return Path(home)
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "heartsease"


def default_url() -> str:
    return os.environ.get("HEARTSEASE_DATABASE_URL") or f"sqlite:///{data_dir() / 'heartsease.db'}"


def make_engine(url: str | None = None) -> Engine:
    """An engine for ``url`` (the default database when ``None``)."""
    url = url or default_url()
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30},
                               json_serializer=finite_json)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, json_serializer=finite_json)


def finite_json(value: Any, default: Callable[[Any], Any] | None = None) -> str:
    """JSON for a column (or a file). A measure that could not be computed (NaN, say, for
    RMSSD of a flat series) is stored as null: JSON has no NaN, PostgreSQL refuses it, and
    a response carrying one could not be sent. ``default`` as for :func:`json.dumps`.

    >>> finite_json({"rmssd_ms": float("nan"), "beats": [800.0, float("inf")]})
    '{"rmssd_ms": null, "beats": [800.0, null]}'
    """
    try:  # almost always finite: one pass in C, the walk only when it is not
        return json.dumps(value, allow_nan=False, default=default)
    except ValueError:
        return json.dumps(_finite(value), allow_nan=False, default=default)


def _finite(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    # What is deleted is overwritten with zeros, not left in free pages: an erased person's
    # beats and name must not be readable from the file afterwards.
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.close()


def forget_erased(engine: Engine) -> None:
    """After an erasure is committed, no copy of what was erased is left in the files.

    SQLite: ``secure_delete`` has zeroed the rows in the database's pages, but the
    write-ahead log still holds the pages as they were, until a checkpoint; this one folds
    the log into the database and empties the log file (waiting, up to the connection's busy
    timeout, for readers to finish). PostgreSQL keeps dead rows until ``VACUUM`` reclaims
    them (autovacuum, or ``VACUUM`` by the operator: README, "Data rights")."""
    if engine.dialect.name != "sqlite":
        return
    with engine.connect() as connection:
        busy = connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").scalar()
    if busy:
        log.warning("the write-ahead log could not be emptied after an erasure (a reader "
                    "held it); the next checkpoint empties it")


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest migration."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)
