"""access logs: the files ingested, the daily counters, the visitors, samples of bad lines

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 18:00:00

New tables ``log_files`` (each file by identity, with how far it is counted), ``log_counts``
(per site, day, kind and key: hits and bytes), ``log_visitors`` (keyed hashes, for unique
visitors) and ``log_malformed`` (samples of lines that could not be read). See docs/logs.md.
"""
import sqlalchemy as sa
from alembic import op

from gateway.store.models import UTCDateTime

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'log_files',
        sa.Column('identity', sa.String(length=64), nullable=False),
        sa.Column('site_code', sa.String(length=32), nullable=False),
        sa.Column('path', sa.Text(), nullable=False),
        sa.Column('format', sa.String(length=16), nullable=False),
        sa.Column('offset', sa.BigInteger(), nullable=False),
        sa.Column('lines', sa.BigInteger(), nullable=False),
        sa.Column('malformed', sa.BigInteger(), nullable=False),
        sa.Column('state', sa.JSON(), nullable=False),
        sa.Column('first_seen_at', UTCDateTime(), nullable=False),
        sa.Column('updated_at', UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('identity'),
    )
    op.create_table(
        'log_counts',
        sa.Column('site_code', sa.String(length=32), nullable=False),
        sa.Column('day', sa.String(length=10), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('key', sa.String(length=400), nullable=False),
        sa.Column('hits', sa.BigInteger(), nullable=False),
        sa.Column('bytes', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('site_code', 'day', 'kind', 'key'),
    )
    op.create_index('ix_log_counts_site_kind', 'log_counts', ['site_code', 'kind', 'day'])
    op.create_table(
        'log_visitors',
        sa.Column('site_code', sa.String(length=32), nullable=False),
        sa.Column('day', sa.String(length=10), nullable=False),
        sa.Column('visitor', sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint('site_code', 'day', 'visitor'),
    )
    op.create_table(
        'log_malformed',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('identity', sa.String(length=64), nullable=False),
        sa.Column('site_code', sa.String(length=32), nullable=False),
        sa.Column('line_no', sa.BigInteger(), nullable=False),
        sa.Column('reason', sa.String(length=200), nullable=False),
        sa.Column('sample', sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )


def downgrade() -> None:
    op.drop_table('log_malformed')
    op.drop_table('log_visitors')
    op.drop_index('ix_log_counts_site_kind', table_name='log_counts')
    op.drop_table('log_counts')
    op.drop_table('log_files')
