"""site health snapshots: each day's status of each indicator of each site (the trend)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 15:10:00

New table ``health_snapshots`` (site, indicator, day in Asia/Shanghai, status, value, when
recorded): ``blgw health --record`` (run daily by ``blgw scheduler``) keeps the score cards' trend.
"""
import sqlalchemy as sa
from alembic import op

from gateway.store.models import UTCDateTime

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'health_snapshots',
        sa.Column('site_code', sa.String(length=32), nullable=False),
        sa.Column('indicator', sa.String(length=40), nullable=False),
        sa.Column('day', sa.String(length=10), nullable=False),
        sa.Column('status', sa.String(length=8), nullable=False),
        sa.Column('value', sa.Float(), nullable=True),
        sa.Column('recorded_at', UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('site_code', 'indicator', 'day'),
    )


def downgrade() -> None:
    op.drop_table('health_snapshots')
