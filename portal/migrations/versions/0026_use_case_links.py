"""portfolio: a use case's links in their own table (use_case_link), instead of JSON lists on the use case;
an index for the board (draft, stage, id)

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-03
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0026'
down_revision = '0025'
branch_labels = None
depends_on = None

# The JSON columns this replaces, and the link kind each held.
COLUMNS = {'models': 'model', 'prompts': 'prompt', 'templates': 'template'}


def upgrade() -> None:
    link = op.create_table('use_case_link',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('use_case_id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('ref', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.ForeignKeyConstraint(['use_case_id'], ['use_case.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('use_case_id', 'kind', 'ref', name='uq_use_case_link')
    )
    op.create_index('ix_use_case_link_kind_ref', 'use_case_link', ['kind', 'ref'], unique=False)
    op.create_index('ix_use_case_board', 'use_case', ['draft', 'stage', 'id'], unique=False)
    use_case = sa.table('use_case', sa.column('id', sa.Integer()),
                        *(sa.column(name, sa.JSON()) for name in COLUMNS))
    connection = op.get_bind()
    rows = []
    for row in connection.execute(sa.select(use_case).order_by(use_case.c.id)).mappings():
        for name, kind in COLUMNS.items():
            names = dict.fromkeys(str(n).strip() for n in row[name] or [] if n and str(n).strip())
            rows += [{'use_case_id': row['id'], 'kind': kind, 'ref': ref} for ref in names]
    if rows:
        op.bulk_insert(link, rows)
    # Dropped in place, not by batch mode's copy of the table: SQLite (3.35+ drops a plain column itself) would
    # refuse to drop the old use_case table while the new links and the stage moves point at it.
    for name in COLUMNS:
        op.drop_column('use_case', name)


def downgrade() -> None:
    op.drop_index('ix_use_case_board', table_name='use_case')
    for name in COLUMNS:
        op.add_column('use_case', sa.Column(name, sa.JSON(), nullable=False, server_default='[]'))
    link = sa.table('use_case_link', sa.column('id', sa.Integer()), sa.column('use_case_id', sa.Integer()),
                    sa.column('kind', sa.String()), sa.column('ref', sa.String()))
    use_case = sa.table('use_case', sa.column('id', sa.Integer()), *(sa.column(name, sa.JSON()) for name in COLUMNS))
    connection = op.get_bind()
    held: dict[int, dict[str, list[str]]] = {}
    for use_case_id, kind, ref in connection.execute(sa.select(link.c.use_case_id, link.c.kind, link.c.ref)
                                                     .order_by(link.c.id)):
        held.setdefault(use_case_id, {name: [] for name in COLUMNS})
        name = next((n for n, k in COLUMNS.items() if k == kind), None)
        if name:  # forks, courses and documents had no column before; they go with the table
            held[use_case_id][name].append(ref)
    for use_case_id, lists in held.items():
        connection.execute(use_case.update().where(use_case.c.id == use_case_id).values(**lists))
    op.drop_index('ix_use_case_link_kind_ref', table_name='use_case_link')
    op.drop_table('use_case_link')
