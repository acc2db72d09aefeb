"""session lifecycle: practice with a demo heart marked as such (out of trends and reports)

The new status ``left`` (the client's page went and did not come back) needs no change: the
status is a plain string column.

Revision ID: 0004_page
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = '0004_page'
down_revision = '0004_rights'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN, not a batch: on SQLite a batch copies and drops the table, and
    # dropping it would cascade to every stored beat.
    op.add_column('sessions', sa.Column('demo', sa.Boolean(), server_default=sa.false(),
                                        nullable=False))


def downgrade() -> None:
    op.drop_column('sessions', 'demo')
