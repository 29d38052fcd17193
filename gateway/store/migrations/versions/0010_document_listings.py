"""document listings: every column whose list shows a document

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 08:00:00

New table ``document_listings`` (document id, column, site, first listed, last run listed): a
document listed in several columns (a parent column and its child) is recorded in each, and
``documents.column`` becomes the primary one (the column the document's URL names, else the most
specific). Filled from ``documents.column`` for the documents stored before.
"""
import sqlalchemy as sa
from alembic import op

from gateway.store.models import UTCDateTime

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'document_listings',
        sa.Column('document_id', sa.String(length=32), nullable=False),
        sa.Column('column', sa.String(length=200), nullable=False),
        sa.Column('site_code', sa.String(length=32), nullable=False),
        sa.Column('first_listed_at', UTCDateTime(), nullable=False),
        sa.Column('last_listed_run_id', sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint('document_id', 'column'),
    )
    op.create_index('ix_document_listings_site_code', 'document_listings', ['site_code'])
    op.execute('INSERT INTO document_listings (document_id, "column", site_code, first_listed_at, last_listed_run_id) '
               'SELECT id, "column", site_code, first_seen_at, last_listed_run_id FROM documents '
               'WHERE "column" IS NOT NULL')


def downgrade() -> None:
    op.drop_index('ix_document_listings_site_code', table_name='document_listings')
    op.drop_table('document_listings')
