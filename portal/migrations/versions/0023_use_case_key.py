"""portfolio: a stable key per use case, which an exported portfolio file names it by

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-03
"""

import re

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None

_UNSAFE = re.compile(r"[^a-z0-9]+")


def _key_of(title: str) -> str:
    # As portfolio.keys.key_of, frozen here: a migration must not change when the application's code does.
    return _UNSAFE.sub("-", (title or "").lower()).strip("-")[:72].strip("-") or "use-case"


def upgrade() -> None:
    with op.batch_alter_table('use_case') as batch_op:
        batch_op.add_column(sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True))
    use_case = sa.table('use_case', sa.column('id', sa.Integer), sa.column('title', sa.String),
                        sa.column('key', sa.String))
    connection = op.get_bind()
    taken: set[str] = set()
    # Oldest first, so the first use case of a title keeps the plain key and later ones are numbered.
    for row_id, title in connection.execute(sa.select(use_case.c.id, use_case.c.title).order_by(use_case.c.id)):
        base = key = _key_of(title)
        n = 2
        while key in taken:
            key, n = f"{base}-{n}", n + 1
        taken.add(key)
        connection.execute(use_case.update().where(use_case.c.id == row_id).values(key=key))
    with op.batch_alter_table('use_case') as batch_op:
        batch_op.alter_column('key', existing_type=sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False)
        batch_op.create_index('ix_use_case_key', ['key'], unique=True)


def downgrade() -> None:
    with op.batch_alter_table('use_case') as batch_op:
        batch_op.drop_index('ix_use_case_key')
        batch_op.drop_column('key')
