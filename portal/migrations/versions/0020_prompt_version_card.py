"""prompt library: each version keeps its card, so a save after approval changes what readers see only when
that version is approved

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-03
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None

_CARD = ('title', 'description', 'category', 'department', 'tags', 'classification', 'recommended_models')


def upgrade() -> None:
    with op.batch_alter_table('prompt_version', schema=None) as batch_op:
        batch_op.add_column(sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=200), server_default='',
                                      nullable=False))
        batch_op.add_column(sa.Column('description', sa.Text(), server_default='', nullable=False))
        batch_op.add_column(sa.Column('category', sqlmodel.sql.sqltypes.AutoString(length=80), server_default='',
                                      nullable=False))
        batch_op.add_column(sa.Column('department', sqlmodel.sql.sqltypes.AutoString(length=120),
                                      server_default='', nullable=False))
        batch_op.add_column(sa.Column('tags', sa.JSON(), server_default='[]', nullable=False))
        batch_op.add_column(sa.Column('classification', sa.Integer(), server_default='2', nullable=False))
        batch_op.add_column(sa.Column('recommended_models', sa.JSON(), server_default='[]', nullable=False))
    # Until now only the prompt row held a card: every existing version gets it (earlier cards were not kept).
    copies = ", ".join(f"{name} = (SELECT p.{name} FROM prompt p WHERE p.id = prompt_version.prompt_id)"
                       for name in _CARD)
    op.execute(f"UPDATE prompt_version SET {copies}")


def downgrade() -> None:
    with op.batch_alter_table('prompt_version', schema=None) as batch_op:
        for name in reversed(_CARD):
            batch_op.drop_column(name)
