"""``heartsease backup`` and ``heartsease restore``: a store copied and brought back row for
row; PostgreSQL gets its own tools' commands instead."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select, text
from typer.testing import CliRunner

from heartsease.cli import app
from heartsease.store.db import make_engine
from heartsease.store.models import Base
from heartsease.store.repository import beat_row, insert_beats
from tests.store.stores import store_with_sessions

runner = CliRunner()


def every_row(engine: Engine) -> dict[str, list[Any]]:
    with engine.connect() as c:
        out = {t.name: c.execute(select(t).order_by(*t.primary_key)).all()
               for t in Base.metadata.sorted_tables}
        out["alembic_version"] = c.execute(text("SELECT * FROM alembic_version")).all()
    return out


def test_a_backup_restores_every_row(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'clinic.db'}"
    engine, factory, rows = store_with_sessions(url, ["simulated", "remote"])
    with factory() as db, db.begin():
        insert_beats(db, [beat_row(r.id, seq, seq * 0.8, 800.0 + seq, seq * 0.8 + 0.01)
                          for r in rows for seq in range(1, 301)])
    before = every_row(engine)
    assert len(before["beats"]) == 600 and before["users"] and before["sessions"]
    monkeypatch.setenv("HEARTSEASE_DATABASE_URL", url)
    backup = tmp_path / "backup.db"
    result = runner.invoke(app, ["backup", str(backup)])  # the engine still open, as live
    assert result.exit_code == 0, result.output
    assert runner.invoke(app, ["backup", str(backup)]).exit_code == 2  # never overwritten

    restored_url = f"sqlite:///{tmp_path / 'new-machine' / 'heartsease.db'}"
    monkeypatch.setenv("HEARTSEASE_DATABASE_URL", restored_url)
    result = runner.invoke(app, ["restore", str(backup)])
    assert result.exit_code == 0, result.output
    restored = make_engine(restored_url)
    assert every_row(restored) == before
    restored.dispose()
    engine.dispose()


def test_restore_refuses_a_file_that_is_not_a_backup(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HEARTSEASE_DATABASE_URL", f"sqlite:///{tmp_path / 'h.db'}")
    (tmp_path / "notes.txt").write_text("not a database")
    for path in (tmp_path / "notes.txt", tmp_path / "missing.db"):
        result = runner.invoke(app, ["restore", str(path)])
        assert result.exit_code == 2 and "backup" in result.output
    assert not (tmp_path / "h.db").exists() or (tmp_path / "h.db").stat().st_size == 0


@pytest.mark.parametrize("command", ["backup", "restore"])
def test_postgresql_is_pointed_to_pg_dump(command: str, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HEARTSEASE_DATABASE_URL", "postgresql+psycopg://clinic@db/heartsease")
    result = runner.invoke(app, [command, str(tmp_path / "x.dump")])
    assert result.exit_code == 2
    assert "pg_dump" in result.output and "pg_restore" in result.output
