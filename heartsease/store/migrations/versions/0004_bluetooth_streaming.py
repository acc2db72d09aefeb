"""streaming from the page: a streamed session's clock offset (late beats are placed on it
after the session ended), and the single-use codes that start the Python streamer

Revision ID: 0004_bluetooth
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = '0004_bluetooth'
down_revision = '0004_accounts'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('sessions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('stream_offset_s', sa.Float(), nullable=True))
    op.create_table('stream_codes',
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.String(length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('code_hash')
    )
    with op.batch_alter_table('stream_codes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stream_codes_user_id'), ['user_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('stream_codes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_stream_codes_user_id'))
    op.drop_table('stream_codes')
    with op.batch_alter_table('sessions', schema=None) as batch_op:
        batch_op.drop_column('stream_offset_s')
