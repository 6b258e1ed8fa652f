"""prompt library: the version a reviewer approved, so a save after approval is not seen until it is reviewed

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03
"""

from alembic import op
import sqlalchemy as sa


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('prompt', sa.Column('approved_version', sa.Integer(), server_default='0', nullable=False))
    # The newest version any approved review named; a published prompt without one (imported) keeps what
    # readers saw until now, its latest version.
    op.execute("UPDATE prompt SET approved_version = COALESCE((SELECT MAX(v.number) FROM prompt_review r "
               "JOIN prompt_version v ON v.id = r.version_id WHERE r.prompt_id = prompt.id "
               "AND r.state = 'approved'), 0)")
    op.execute("UPDATE prompt SET approved_version = latest_version "
               "WHERE approved_version = 0 AND status = 'published'")


def downgrade() -> None:
    with op.batch_alter_table('prompt', schema=None) as batch_op:
        batch_op.drop_column('approved_version')
