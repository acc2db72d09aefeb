"""each person's time zone: their trend days are their own

Revision ID: 0005_room
Revises: 0004_cft
"""

import sqlalchemy as sa
from alembic import op

revision = '0005_room'
down_revision = '0004_cft'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('time_zone', sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('time_zone')
