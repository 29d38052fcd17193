"""job locks: an index rebuild and an index sync never run at once

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 19:00:00

New table ``job_locks`` (one row per running job by name, its holder and heartbeat): a rebuild
of the search index holds ``index`` while it loads and swaps, and an index sync holds it while
it writes, so no write lands in an index that is being replaced.
"""
import sqlalchemy as sa
from alembic import op

import gateway.store.models

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('job_locks',
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('purpose', sa.String(length=40), nullable=False),
    sa.Column('holder', sa.String(length=200), nullable=False),
    sa.Column('hostname', sa.String(length=200), nullable=False),
    sa.Column('pid', sa.Integer(), nullable=False),
    sa.Column('acquired_at', gateway.store.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('heartbeat_at', gateway.store.models.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_job_locks'))
    )


def downgrade() -> None:
    op.drop_table('job_locks')
