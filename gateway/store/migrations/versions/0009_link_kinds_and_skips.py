"""link kinds and skips: the element of each recorded link, and links the checker must not request

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-10 10:00:00

New nullable column ``link_sources.tag``: the element a page links a URL with (``a``, ``img``,
``script``…; the most navigational one when a page has several); links recorded before have
none (unknown: treated as a link, not as a script). New nullable columns ``link_targets.skip_kind``,
``skip_reason`` and ``skipped_at``: the dead-link checker did not request the URL on purpose
(robots.txt disallows it or could not be read, a page only loads it as a script or beacon, a
counter endpoint); such a link is reported as not checked, never as broken.
"""
import sqlalchemy as sa
from alembic import op

from gateway.store.models import UTCDateTime

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('link_sources') as batch:
        batch.add_column(sa.Column('tag', sa.String(length=16), nullable=True))
    with op.batch_alter_table('link_targets') as batch:
        batch.add_column(sa.Column('skip_kind', sa.String(length=20), nullable=True))
        batch.add_column(sa.Column('skip_reason', sa.Text(), nullable=True))
        batch.add_column(sa.Column('skipped_at', UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('link_targets') as batch:
        batch.drop_column('skipped_at')
        batch.drop_column('skip_reason')
        batch.drop_column('skip_kind')
    with op.batch_alter_table('link_sources') as batch:
        batch.drop_column('tag')
