"""users: the OpenID Connect identity (issuer + subject) a user signs in with

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('portal_user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('oidc_issuer', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True))
        batch_op.add_column(sa.Column('oidc_subject', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True))
        batch_op.create_index('ix_portal_user_oidc_identity', ['oidc_issuer', 'oidc_subject'], unique=True)


def downgrade() -> None:
    with op.batch_alter_table('portal_user', schema=None) as batch_op:
        batch_op.drop_index('ix_portal_user_oidc_identity')
        batch_op.drop_column('oidc_subject')
        batch_op.drop_column('oidc_issuer')
