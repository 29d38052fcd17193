"""attachments: every attachment URL of a site, its file and its text; which documents link it

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 17:00:00

New table ``attachments`` (one row per attachment URL: status pending | stored | failed |
too-large, the sniffed type, the SHA-256 of its bytes in the blob store, HTTP validators, the
text read from it) and ``document_attachments`` (which stored documents link which attachment).
No existing row changes; the first crawl after the upgrade fills them.
"""
import sqlalchemy as sa
from alembic import op

import gateway.store.models

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('attachments',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('site_code', sa.String(length=32), nullable=False),
    sa.Column('url', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=12), server_default='pending', nullable=False),
    sa.Column('name', sa.Text(), nullable=True),
    sa.Column('sha256', sa.String(length=64), nullable=True),
    sa.Column('size', sa.BigInteger(), nullable=True),
    sa.Column('content_type', sa.String(length=120), nullable=True),
    sa.Column('family', sa.String(length=24), nullable=True),
    sa.Column('etag', sa.String(length=300), nullable=True),
    sa.Column('last_modified', sa.String(length=100), nullable=True),
    sa.Column('fetched_at', gateway.store.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('checked_at', gateway.store.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('text_status', sa.String(length=12), nullable=True),
    sa.Column('text', sa.Text(), nullable=True),
    sa.Column('text_truncated', sa.Boolean(), server_default='0', nullable=False),
    sa.Column('pages', sa.Integer(), nullable=True),
    sa.Column('title', sa.Text(), nullable=True),
    sa.CheckConstraint("status IN ('pending', 'stored', 'failed', 'too-large')", name=op.f('ck_attachments_status')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_attachments'))
    )
    op.create_index('ix_attachments_site_status', 'attachments', ['site_code', 'status'], unique=False)
    op.create_index('ix_attachments_sha256', 'attachments', ['sha256'], unique=False)
    op.create_table('document_attachments',
    sa.Column('document_id', sa.String(length=32), nullable=False),
    sa.Column('attachment_id', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['attachment_id'], ['attachments.id'],
                            name=op.f('fk_document_attachments_attachment_id_attachments'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('document_id', 'attachment_id', name=op.f('pk_document_attachments'))
    )
    op.create_index('ix_document_attachments_attachment_id', 'document_attachments', ['attachment_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_document_attachments_attachment_id', table_name='document_attachments')
    op.drop_table('document_attachments')
    op.drop_index('ix_attachments_sha256', table_name='attachments')
    op.drop_index('ix_attachments_site_status', table_name='attachments')
    op.drop_table('attachments')
