"""the practice plan: protocol (a built-in or the clinician's own copy), pace, the breath's
pattern, practice minutes, stages, what the client sees, and the resonance assessment whose
pick became the pace

Revision ID: 0005_plan
Revises: 0005_room
"""

import sqlalchemy as sa
from alembic import op

revision = '0005_plan'
down_revision = '0005_room'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('client_plans', schema=None) as batch_op:
        batch_op.add_column(sa.Column('protocol', sa.String(length=16), nullable=False,
                                      server_default='srb'))
        batch_op.add_column(sa.Column('custom_protocol', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('pace_bpm', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('inhale', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('exhale', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('hold_in', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('hold_out', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('practice_minutes', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('stages', sa.JSON(), nullable=False,
                                      server_default='[]'))
        batch_op.add_column(sa.Column('show_numbers', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
        batch_op.add_column(sa.Column('resonance_session_id', sa.String(length=32),
                                      nullable=True))
        batch_op.create_foreign_key('fk_client_plans_resonance_session', 'sessions',
                                    ['resonance_session_id'], ['id'], ondelete='SET NULL')
    # The defaults were for the rows already there; new rows get theirs from the models.
    with op.batch_alter_table('client_plans', schema=None) as batch_op:
        for column in ('protocol', 'stages', 'show_numbers'):
            batch_op.alter_column(column, server_default=None)


def downgrade() -> None:
    with op.batch_alter_table('client_plans', schema=None) as batch_op:
        batch_op.drop_constraint('fk_client_plans_resonance_session', type_='foreignkey')
        for column in ('resonance_session_id', 'show_numbers', 'stages', 'practice_minutes',
                       'hold_out', 'hold_in', 'exhale', 'inhale', 'pace_bpm',
                       'custom_protocol', 'protocol'):
            batch_op.drop_column(column)
