"""a clinician's recorded cues: each cue's words in their own voice, for their clients'
eyes-closed practice

Revision ID: 0005_care
Revises: 0005_plan
"""

import sqlalchemy as sa
from alembic import op

revision = '0005_care'
down_revision = '0005_plan'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('voice_recordings',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('clinician_id', sa.String(length=32), nullable=False),
    sa.Column('cue_sha256', sa.String(length=64), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('media_type', sa.String(length=64), nullable=False),
    sa.Column('audio', sa.LargeBinary(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['clinician_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('voice_recordings', schema=None) as batch_op:
        batch_op.create_index('ix_voice_recordings_clinician_cue',
                              ['clinician_id', 'cue_sha256'], unique=True)


def downgrade() -> None:
    with op.batch_alter_table('voice_recordings', schema=None) as batch_op:
        batch_op.drop_index('ix_voice_recordings_clinician_cue')
    op.drop_table('voice_recordings')
