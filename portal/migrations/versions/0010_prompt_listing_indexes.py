"""prompt listing indexes: shared prompts by status, visibility and age; a person's own by status

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-26 04:11:22.382840
"""

from alembic import op


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


# Plain index operations, not a batch: a batch may copy the table on SQLite, and the copy would lose the
# keyword index's triggers on `prompt`.
def upgrade() -> None:
    op.drop_index('ix_prompt_owner_id', table_name='prompt')
    op.create_index('ix_prompt_owner_status', 'prompt', ['owner_id', 'status', 'visibility'], unique=False)
    op.create_index('ix_prompt_shared_newest', 'prompt', ['status', 'visibility', 'created_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_prompt_shared_newest', table_name='prompt')
    op.drop_index('ix_prompt_owner_status', table_name='prompt')
    op.create_index('ix_prompt_owner_id', 'prompt', ['owner_id'], unique=False)
