"""outbound links: what their pages hold, and where they ended before

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 15:00:00

New columns of ``link_targets``: ``content_flag`` (gambling | adult | parked: an outbound link's
page read at its check), ``content_words`` (the words that said so) and ``previous_final_url``
(the final URL of an earlier check when the final host has changed since): site health's
外链变异, a partner or government domain that changed hands.
"""
import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('link_targets') as batch:
        batch.add_column(sa.Column('content_flag', sa.String(length=20), nullable=True))
        batch.add_column(sa.Column('content_words', sa.Text(), nullable=True))
        batch.add_column(sa.Column('previous_final_url', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('link_targets') as batch:
        batch.drop_column('previous_final_url')
        batch.drop_column('content_words')
        batch.drop_column('content_flag')
