"""templates, training, metering: a revision on template entries, course assignments and budget overrides, so a
stale edit is refused instead of silently lost

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-03
"""

from alembic import op
import sqlalchemy as sa


revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None

TABLES = ('template_entry', 'training_assignment', 'sandbox_budget_override')


def upgrade() -> None:
    # Existing rows start at revision 1, as new ones do.
    for table in TABLES:
        op.add_column(table, sa.Column('revision', sa.Integer(), server_default='1', nullable=False))


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('revision')
