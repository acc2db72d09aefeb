"""erasure: the audit log lets an erased session's id be replaced, and nothing else change

Revision ID: 0004_rights
Revises: 0003

The audit log stays append-only, but for one change: a line about a session that was
erased may have the session's id replaced by 'erased' (its who, what, when and whose stay as
they were), so that no id of an erased session is left in the database.
"""

from alembic import op

revision = '0004_rights'
down_revision = '0003'
branch_labels = None
depends_on = None

_UNCHANGED = ("id", "at", "actor_id", "action", "object_type", "subject_id", "detail")
_REDACTION = ("NEW.object_id = 'erased' AND OLD.object_type = 'session' AND "
              + " AND ".join(f"NEW.{c} IS OLD.{c}" for c in _UNCHANGED))
_PG_REDACTION = ("NEW.object_id = 'erased' AND OLD.object_type = 'session' AND "
                 + " AND ".join(f"NEW.{c} IS NOT DISTINCT FROM OLD.{c}" for c in _UNCHANGED))


def _sqlite_no_update(when: str) -> None:
    op.execute("DROP TRIGGER audit_log_no_update")
    op.execute(f"CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log {when}"
               "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END")


def _pg_function(allowed: str) -> None:
    op.execute("CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger AS $$ "
               f"BEGIN {allowed}"
               "RAISE EXCEPTION 'the audit log is append-only'; END $$ LANGUAGE plpgsql")


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        _sqlite_no_update(f"WHEN NOT ({_REDACTION}) ")
    elif dialect == "postgresql":
        _pg_function(f"IF TG_OP = 'UPDATE' AND {_PG_REDACTION} THEN RETURN NEW; END IF; ")


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        _sqlite_no_update("")
    elif dialect == "postgresql":
        _pg_function("")
