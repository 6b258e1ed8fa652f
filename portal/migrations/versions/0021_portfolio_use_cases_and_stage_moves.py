"""portfolio: use cases (drafts, risk answers, tier, stage) and their stage moves with approvals

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-03
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade() -> None:
    
    op.create_table('use_case',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('problem', sa.Text(), nullable=False),
    sa.Column('who_has_it', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('department', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('team', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=True),
    sa.Column('proposed_by_id', sa.Integer(), nullable=False),
    sa.Column('value_amount', sa.Float(), nullable=True),
    sa.Column('value_unit', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('value_assumption', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
    sa.Column('classification', sa.Integer(), nullable=True),
    sa.Column('people_affected', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
    sa.Column('human_review', sa.Boolean(), nullable=True),
    sa.Column('autonomy', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
    sa.Column('models', sa.JSON(), nullable=False),
    sa.Column('prompts', sa.JSON(), nullable=False),
    sa.Column('templates', sa.JSON(), nullable=False),
    sa.Column('draft', sa.Boolean(), nullable=False),
    sa.Column('stage', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('paused_from', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
    sa.Column('stage_reason', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
    sa.Column('proposed_tier', sa.Integer(), nullable=True),
    sa.Column('reviewer_tier', sa.Integer(), nullable=True),
    sa.Column('tier_reason', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
    sa.Column('tier', sa.Integer(), nullable=True),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['owner_id'], ['portal_user.id'], ),
    sa.ForeignKeyConstraint(['proposed_by_id'], ['portal_user.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('use_case', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_use_case_department'), ['department'], unique=False)
        batch_op.create_index(batch_op.f('ix_use_case_draft'), ['draft'], unique=False)
        batch_op.create_index(batch_op.f('ix_use_case_owner_id'), ['owner_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_use_case_proposed_by_id'), ['proposed_by_id'], unique=False)
        batch_op.create_index('ix_use_case_stage_tier', ['stage', 'tier'], unique=False)
        batch_op.create_index(batch_op.f('ix_use_case_title'), ['title'], unique=False)

    op.create_table('use_case_stage_move',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('use_case_id', sa.Integer(), nullable=False),
    sa.Column('from_stage', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('to_stage', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('requested_by_id', sa.Integer(), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
    sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('decided_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['requested_by_id'], ['portal_user.id'], ),
    sa.ForeignKeyConstraint(['use_case_id'], ['use_case.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('use_case_stage_move', schema=None) as batch_op:
        batch_op.create_index('ix_use_case_stage_move_case_state', ['use_case_id', 'state'], unique=False)
        batch_op.create_index(batch_op.f('ix_use_case_stage_move_state'), ['state'], unique=False)

    op.create_table('use_case_move_approval',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('move_id', sa.Integer(), nullable=False),
    sa.Column('approver_id', sa.Integer(), nullable=False),
    sa.Column('risk_reviewer', sa.Boolean(), nullable=False),
    sa.Column('note', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
    sa.Column('at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['approver_id'], ['portal_user.id'], ),
    sa.ForeignKeyConstraint(['move_id'], ['use_case_stage_move.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('move_id', 'approver_id', name='uq_use_case_move_approval')
    )
    with op.batch_alter_table('use_case_move_approval', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_use_case_move_approval_move_id'), ['move_id'], unique=False)




def downgrade() -> None:
    
    with op.batch_alter_table('use_case_move_approval', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_use_case_move_approval_move_id'))

    op.drop_table('use_case_move_approval')
    with op.batch_alter_table('use_case_stage_move', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_use_case_stage_move_state'))
        batch_op.drop_index('ix_use_case_stage_move_case_state')

    op.drop_table('use_case_stage_move')
    with op.batch_alter_table('use_case', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_use_case_title'))
        batch_op.drop_index('ix_use_case_stage_tier')
        batch_op.drop_index(batch_op.f('ix_use_case_proposed_by_id'))
        batch_op.drop_index(batch_op.f('ix_use_case_owner_id'))
        batch_op.drop_index(batch_op.f('ix_use_case_draft'))
        batch_op.drop_index(batch_op.f('ix_use_case_department'))

    op.drop_table('use_case')

