"""catalog: proposed risk changes (risk tier, data classification) that a second reviewer decides

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('catalog_risk_change',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('model_id', sa.Integer(), nullable=False),
    sa.Column('proposed_by_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('from_risk_tier', sa.Integer(), nullable=False),
    sa.Column('to_risk_tier', sa.Integer(), nullable=True),
    sa.Column('from_classification', sa.Integer(), nullable=False),
    sa.Column('to_classification', sa.Integer(), nullable=True),
    sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('decision_note', sa.Text(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['decided_by_id'], ['portal_user.id'], ),
    sa.ForeignKeyConstraint(['model_id'], ['catalog_model.id'], ),
    sa.ForeignKeyConstraint(['proposed_by_id'], ['portal_user.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('catalog_risk_change', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_catalog_risk_change_model_id'), ['model_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_catalog_risk_change_state'), ['state'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('catalog_risk_change', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_catalog_risk_change_state'))
        batch_op.drop_index(batch_op.f('ix_catalog_risk_change_model_id'))
    op.drop_table('catalog_risk_change')
