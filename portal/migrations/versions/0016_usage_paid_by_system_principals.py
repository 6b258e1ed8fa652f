"""metering: a usage event may be paid for by a system principal (the catalog's probes), with no user

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('usage_event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('principal', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False,
                                      server_default=''))
        batch_op.alter_column('user_id', existing_type=sa.Integer(), nullable=True)


def downgrade() -> None:
    op.execute("DELETE FROM usage_event WHERE user_id IS NULL")
    with op.batch_alter_table('usage_event', schema=None) as batch_op:
        batch_op.alter_column('user_id', existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column('principal')
