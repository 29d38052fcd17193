"""index outbox replaces documents.indexed_hash

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30 10:00:00

Store → index sync goes through ``index_outbox`` rows written in the same transaction as each
document change. Documents whose indexed version was behind (``indexed_hash`` NULL or not the
``content_hash``) are queued for an upsert, gone ones still in the index for a delete, and
``indexed_hash`` (read by nothing else) is dropped. Downgrading restores the column from what is
still queued.
"""
import sqlalchemy as sa
from alembic import op

import gateway.store.models

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('index_outbox',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('document_id', sa.String(length=32), nullable=False),
    sa.Column('action', sa.String(length=8), nullable=False),
    sa.Column('created_at', gateway.store.models.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("action IN ('upsert', 'delete')", name=op.f('ck_index_outbox_action')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_index_outbox'))
    )
    with op.batch_alter_table('index_outbox', schema=None) as batch_op:
        batch_op.create_index('ix_index_outbox_id', ['id'], unique=False)

    # What the old sync had not sent yet, in document id order.
    now = sa.func.current_timestamp()
    documents = sa.table('documents', sa.column('id'), sa.column('status'),
                         sa.column('content_hash'), sa.column('indexed_hash'))
    outbox = sa.table('index_outbox', sa.column('document_id'), sa.column('action'),
                      sa.column('created_at'))
    behind = sa.or_(documents.c.indexed_hash.is_(None),
                    documents.c.indexed_hash != documents.c.content_hash)
    op.execute(outbox.insert().from_select(
        ['document_id', 'action', 'created_at'],
        sa.select(documents.c.id, sa.literal('upsert'), now)
        .where(documents.c.status == 'active', behind).order_by(documents.c.id)))
    op.execute(outbox.insert().from_select(
        ['document_id', 'action', 'created_at'],
        sa.select(documents.c.id, sa.literal('delete'), now)
        .where(documents.c.status == 'gone', documents.c.indexed_hash.is_not(None))
        .order_by(documents.c.id)))

    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.drop_index('ix_documents_pending_index')
        batch_op.drop_column('indexed_hash')


def downgrade() -> None:
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('indexed_hash', sa.String(length=64), nullable=True))
        batch_op.create_index('ix_documents_pending_index', ['indexed_hash'], unique=False)
    # Back to "indexed_hash == content_hash means in the index": active documents with nothing
    # queued are indexed; gone ones with something queued are still in the index (to delete).
    op.execute(
        "UPDATE documents SET indexed_hash = content_hash WHERE "
        "(status = 'active' AND id NOT IN (SELECT document_id FROM index_outbox)) OR "
        "(status = 'gone' AND id IN (SELECT document_id FROM index_outbox))")

    with op.batch_alter_table('index_outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_index_outbox_id')

    op.drop_table('index_outbox')
