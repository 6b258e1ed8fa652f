"""catalog: a revision number on each model card, so a stale edit is refused instead of silently lost

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03
"""

from alembic import op
import sqlalchemy as sa


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Existing cards start at revision 1, as new ones do.
    op.add_column('catalog_model', sa.Column('revision', sa.Integer(), server_default='1', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('catalog_model', schema=None) as batch_op:
        batch_op.drop_column('revision')
