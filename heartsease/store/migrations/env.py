"""Alembic environment: migrations run on the connection heartsease hands over."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from heartsease.store.models import Base

connection = context.config.attributes.get("connection")
if connection is None:  # the alembic command line: HEARTSEASE_DATABASE_URL or the default
    from heartsease.store.db import default_url

    with create_engine(default_url()).begin() as connection:
        context.configure(connection=connection, target_metadata=Base.metadata,
                          render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
else:
    context.configure(connection=connection, target_metadata=Base.metadata,
                      render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
