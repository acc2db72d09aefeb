"""the client's own writing (letters, reflections), their plan (suitability, pace limits),
check-ins and reviewed backdraft moments; ratings may be skipped and keep their moment

Revision ID: 0004_cft
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = '0004_cft'
down_revision = '0004_bluetooth'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('writings',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('client_id', sa.String(length=32), nullable=False),
    sa.Column('session_id', sa.String(length=32), nullable=True),
    sa.Column('kind', sa.Enum('letter', 'reflection', name='writingkind', native_enum=False,
                              length=16), nullable=False),
    sa.Column('body', sa.JSON(), nullable=False),
    sa.Column('from_t_s', sa.Float(), nullable=True),
    sa.Column('to_t_s', sa.Float(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('shared_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['client_id'], ['users.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['session_id'], ['sessions.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('writings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_writings_client_id'), ['client_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_writings_session_id'), ['session_id'],
                              unique=False)
    op.create_table('client_plans',
    sa.Column('client_id', sa.String(length=32), nullable=False),
    sa.Column('pacemaker_or_arrhythmia', sa.Boolean(), nullable=True),
    sa.Column('low_blood_pressure_or_medication', sa.Boolean(), nullable=True),
    sa.Column('confirmed_by', sa.String(length=32), nullable=True),
    sa.Column('confirmed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('min_pace_bpm', sa.Float(), nullable=True),
    sa.Column('max_pace_bpm', sa.Float(), nullable=True),
    sa.Column('show_states', sa.Boolean(), nullable=False),
    sa.Column('chosen_pace_bpm', sa.Float(), nullable=True),
    sa.ForeignKeyConstraint(['client_id'], ['users.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['confirmed_by'], ['users.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('client_id')
    )
    op.create_table('check_ins',
    sa.Column('session_id', sa.String(length=32), nullable=False),
    sa.Column('words', sa.Text(), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['session_id'], ['sessions.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('session_id')
    )
    op.create_table('backdraft_reviews',
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('reviewer_id', sa.String(length=32), nullable=True),
    sa.Column('reviewed_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['session_events.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['reviewer_id'], ['users.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('event_id')
    )
    with op.batch_alter_table('self_ratings', schema=None) as batch_op:
        batch_op.alter_column('value', existing_type=sa.Integer(), nullable=True)
        batch_op.add_column(sa.Column('given_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('self_ratings', schema=None) as batch_op:
        batch_op.drop_column('given_at')
        batch_op.alter_column('value', existing_type=sa.Integer(), nullable=False)
    op.drop_table('backdraft_reviews')
    op.drop_table('check_ins')
    op.drop_table('client_plans')
    with op.batch_alter_table('writings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_writings_session_id'))
        batch_op.drop_index(batch_op.f('ix_writings_client_id'))
    op.drop_table('writings')
