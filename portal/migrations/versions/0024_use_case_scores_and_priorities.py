"""portfolio: value and feasibility scores of use cases, and the CoE's priority decisions (both kept as history)

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-03
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('use_case_score',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('use_case_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('value', sa.Integer(), nullable=False),
    sa.Column('value_reason', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('feasibility', sa.Integer(), nullable=False),
    sa.Column('feasibility_reason', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('by_id', sa.Integer(), nullable=False),
    sa.Column('at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['by_id'], ['portal_user.id'], ),
    sa.ForeignKeyConstraint(['use_case_id'], ['use_case.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('use_case_id', 'version', name='uq_use_case_score_version')
    )
    op.create_table('use_case_priority_decision',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('use_case_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('priority', sa.Integer(), nullable=True),
    sa.Column('note', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
    sa.Column('by_id', sa.Integer(), nullable=False),
    sa.Column('at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['by_id'], ['portal_user.id'], ),
    sa.ForeignKeyConstraint(['use_case_id'], ['use_case.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('use_case_id', 'version', name='uq_use_case_priority_decision_version')
    )


def downgrade() -> None:
    op.drop_table('use_case_priority_decision')
    op.drop_table('use_case_score')
