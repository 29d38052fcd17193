"""list titles: what a column's list showed for each stored document

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 20:00:00

New nullable column ``documents.list_title``: the title the list showed when the document was
last stored. An incremental run's "unchanged" check compares the list's title with it (lists cut
titles with ``···``, ``…`` or at a fixed length, or decorate them with ``[栏目]``: alike on both
sides), so a title cut or decorated differently from the page is no longer a change, and a title
extended at the end is one. Documents stored before have none until their next store; for them
the old check (a prefix of the page's title) applies.
"""
import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('documents') as batch:
        batch.add_column(sa.Column('list_title', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('documents') as batch:
        batch.drop_column('list_title')
