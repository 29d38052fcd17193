"""outbox rows the index refuses are retried, then quarantined

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-08 10:00:00

``index_outbox`` gains ``state`` (``pending``, or ``quarantined`` after
``BLGW_OUTBOX_MAX_ATTEMPTS`` refusals), ``attempts``, ``last_error`` and ``last_attempt_at``.
Every existing row is pending with no attempt. Downgrading drops the columns; quarantined rows
are kept (as rows to send: the old sync retries them).
"""
import sqlalchemy as sa
from alembic import op

import gateway.store.models

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('index_outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('state', sa.String(length=12), server_default='pending', nullable=False))
        batch_op.add_column(sa.Column('attempts', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('last_error', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('last_attempt_at', gateway.store.models.UTCDateTime(timezone=True),
                                      nullable=True))
        batch_op.create_check_constraint(op.f('ck_index_outbox_state'), "state IN ('pending', 'quarantined')")
        batch_op.create_index('ix_index_outbox_state_id', ['state', 'id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('index_outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_index_outbox_state_id')
        batch_op.drop_constraint(op.f('ck_index_outbox_state'), type_='check')
        batch_op.drop_column('last_attempt_at')
        batch_op.drop_column('last_error')
        batch_op.drop_column('attempts')
        batch_op.drop_column('state')
