"""availability probes: probe rounds and the probes of each site's pages

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 15:00:00

New tables ``probe_rounds`` (when, the control target and whether it answered) and ``probes``
(round, site, URL, when, ok, status, elapsed milliseconds, error): the availability indicator of
site health (站点无法访问) is the share of failed probes over a week.
"""
import sqlalchemy as sa
from alembic import op

from gateway.store.models import UTCDateTime

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'probe_rounds',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('started_at', UTCDateTime(), nullable=False),
        sa.Column('control_url', sa.Text(), nullable=True),
        sa.Column('control_ok', sa.Boolean(), nullable=False),
        sa.Column('control_error', sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_probe_rounds_started_at', 'probe_rounds', ['started_at'])
    op.create_table(
        'probes',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('round_id', sa.Integer(), nullable=False),
        sa.Column('site_code', sa.String(length=32), nullable=False),
        sa.Column('url', sa.Text(), nullable=False),
        sa.Column('at', UTCDateTime(), nullable=False),
        sa.Column('ok', sa.Boolean(), nullable=False),
        sa.Column('status', sa.Integer(), nullable=True),
        sa.Column('elapsed_ms', sa.Integer(), nullable=True),
        sa.Column('error', sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(['round_id'], ['probe_rounds.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_probes_round_id', 'probes', ['round_id'])
    op.create_index('ix_probes_site_code', 'probes', ['site_code'])


def downgrade() -> None:
    op.drop_index('ix_probes_site_code', table_name='probes')
    op.drop_index('ix_probes_round_id', table_name='probes')
    op.drop_table('probes')
    op.drop_index('ix_probe_rounds_started_at', table_name='probe_rounds')
    op.drop_table('probe_rounds')
