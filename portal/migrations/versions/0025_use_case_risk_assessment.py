"""portfolio: the tier-3 risk assessment of a use case (answers, status, latest conclusion)

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-03
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0025'
down_revision = '0024'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('use_case_risk_assessment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('use_case_id', sa.Integer(), nullable=False),
    sa.Column('answers', sa.JSON(), nullable=False),
    sa.Column('questions_version', sa.Integer(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('conclusion', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('concluded_by_id', sa.Integer(), nullable=True),
    sa.Column('concluded_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('conclusion_note', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
    sa.Column('concluded_version', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['concluded_by_id'], ['portal_user.id'], ),
    sa.ForeignKeyConstraint(['updated_by_id'], ['portal_user.id'], ),
    sa.ForeignKeyConstraint(['use_case_id'], ['use_case.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('use_case_id', name='uq_use_case_risk_assessment_use_case')
    )
    op.create_index(op.f('ix_use_case_risk_assessment_status'), 'use_case_risk_assessment', ['status'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_use_case_risk_assessment_status'), table_name='use_case_risk_assessment')
    op.drop_table('use_case_risk_assessment')
