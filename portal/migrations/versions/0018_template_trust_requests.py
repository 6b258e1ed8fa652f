"""templates: trust takes two admins, so a template entry keeps who requested trust and for which revision

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-03
"""

from alembic import op
import sqlalchemy as sa


revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('template_entry', schema=None) as batch_op:
        batch_op.add_column(sa.Column('trust_requested_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('trust_requested_revision', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('fk_template_entry_trust_requested_by_id_portal_user',
                                    'portal_user', ['trust_requested_by_id'], ['id'])


def downgrade() -> None:
    with op.batch_alter_table('template_entry', schema=None) as batch_op:
        batch_op.drop_constraint('fk_template_entry_trust_requested_by_id_portal_user', type_='foreignkey')
        batch_op.drop_column('trust_requested_revision')
        batch_op.drop_column('trust_requested_by_id')
