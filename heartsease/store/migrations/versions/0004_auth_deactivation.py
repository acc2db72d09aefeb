"""deactivated accounts: a person who may no longer sign in

Revision ID: 0004_auth
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = '0004_auth'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('deactivated_at', sa.DateTime(timezone=True),
                                      nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('deactivated_at')
