"""templates: a trust request keeps a snapshot of the version's unsafe parts; the approved one is the last trusted

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-03
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('template_trust_snapshot',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('template_id', sa.Integer(), nullable=False),
    sa.Column('version', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('source_url', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
    sa.Column('mirror_ref', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('files', sa.JSON(), nullable=False),
    sa.Column('file_hashes', sa.JSON(), nullable=False),
    sa.Column('content_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('size_bytes', sa.Integer(), nullable=False),
    sa.Column('requested_by_id', sa.Integer(), nullable=False),
    sa.Column('requested_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('approved_by_id', sa.Integer(), nullable=True),
    sa.Column('approved_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['approved_by_id'], ['portal_user.id'], ),
    sa.ForeignKeyConstraint(['requested_by_id'], ['portal_user.id'], ),
    sa.ForeignKeyConstraint(['template_id'], ['template_entry.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('template_trust_snapshot', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_template_trust_snapshot_template_id'), ['template_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('template_trust_snapshot', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_template_trust_snapshot_template_id'))
    op.drop_table('template_trust_snapshot')
