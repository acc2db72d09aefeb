"""``heartsease backup PATH`` and ``heartsease restore PATH``: the store, copied whole."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Annotated

import typer

from heartsease.cli.common import console, refuse

PG_DUMP_HELP = (
    "This store is PostgreSQL: back it up with its own tools, which copy a running database "
    "consistently. Backup: pg_dump --format=custom --file=heartsease.dump \"$URL\". "
    "Restore, into an empty database, with the service stopped: pg_restore --no-owner "
    "--dbname=\"$URL\" heartsease.dump. ($URL is HEARTSEASE_DATABASE_URL without "
    "\"+psycopg\".) The service migrates a restored older store when it starts.")

PathArgument = Annotated[Path, typer.Argument(dir_okay=False, help="The backup file")]


def backup(path: PathArgument) -> None:
    """Copy the store (the embedded SQLite file) to PATH while the service may be running:
    SQLite's online backup, a consistent copy of the last commit."""
    source = _sqlite_path()
    if path.exists():
        refuse(f"{path} exists already; give a new file name.")
    _copy(sqlite3.connect(source), sqlite3.connect(path))
    console.print(f"The store at {source} is backed up to {path}.")


def restore(path: PathArgument) -> None:
    """Replace the store (the embedded SQLite file) with the backup at PATH. Stop the service
    first; it migrates an older backup when it starts."""
    target = _sqlite_path()
    if not path.is_file():
        refuse(f"There is no backup at {path}.")
    backup_db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        known = backup_db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND "
                                  "name = 'alembic_version'").fetchone()
    except sqlite3.DatabaseError:
        known = None
    if known is None:
        backup_db.close()
        refuse(f"{path} is not a heartsease backup.")
    target.parent.mkdir(parents=True, exist_ok=True)
    _copy(backup_db, sqlite3.connect(target))
    console.print(f"The store at {target} is restored from {path}.")


def _sqlite_path() -> Path:
    """The configured store's file; for PostgreSQL, the way to do it and exit code 2."""
    from sqlalchemy import make_url

    from heartsease.store.db import default_url

    url = make_url(default_url())
    if url.get_backend_name() != "sqlite":
        refuse(PG_DUMP_HELP)
    if not url.database or url.database == ":memory:":
        refuse("This store lives in memory only; there is nothing to back up or restore.")
    return Path(url.database)


def _copy(source: sqlite3.Connection, target: sqlite3.Connection) -> None:
    """SQLite's online backup from one open database to another, both closed after."""
    try:
        with target:
            source.backup(target)
    finally:
        source.close()
        target.close()
