"""portfolio: operations fields on use cases, and sign-offs and waivers of graduation criteria

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-03
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('use_case') as batch_op:
        batch_op.add_column(sa.Column('on_call_owner', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False,
                                      server_default=''))
        batch_op.add_column(sa.Column('rollback_plan', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('monitoring_url', sqlmodel.sql.sqltypes.AutoString(length=500),
                                      nullable=False, server_default=''))
    op.create_table('use_case_criterion_decision',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('use_case_id', sa.Integer(), nullable=False),
    sa.Column('criterion', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('to_stage', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('by_id', sa.Integer(), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
    sa.Column('at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['by_id'], ['portal_user.id'], ),
    sa.ForeignKeyConstraint(['use_case_id'], ['use_case.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_use_case_criterion_decision_case', 'use_case_criterion_decision',
                    ['use_case_id', 'to_stage', 'criterion'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_use_case_criterion_decision_case', table_name='use_case_criterion_decision')
    op.drop_table('use_case_criterion_decision')
    with op.batch_alter_table('use_case') as batch_op:
        batch_op.drop_column('monitoring_url')
        batch_op.drop_column('rollback_plan')
        batch_op.drop_column('on_call_owner')
