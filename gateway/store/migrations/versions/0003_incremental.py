"""incremental crawling, crash-safe resume, site locks, dead links

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 21:00:53

New tables: ``site_locks`` (no two runs of one site at once), ``frontier`` (every request of a
run, pending or done: a killed run continues from it), ``url_state`` (HTTP validators and body
hashes for conditional GET and change detection), ``column_state`` (adaptive revisit),
``link_targets`` / ``link_sources`` (the dead-link report). Runs gain ``items_gone``,
``requests``, ``full`` and ``resumes``; documents gain their ``column``, the last run that
listed them, ``missed_runs`` and ``gone_reason`` (stale-document purge).
"""
import sqlalchemy as sa
from alembic import op

import gateway.store.models


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('column_state',
    sa.Column('site_code', sa.String(length=32), nullable=False),
    sa.Column('column', sa.String(length=200), nullable=False),
    sa.Column('revisit_seconds', sa.Integer(), nullable=False),
    sa.Column('last_visited_at', gateway.store.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('next_visit_at', gateway.store.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_new_at', gateway.store.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('visits', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('site_code', 'column', name=op.f('pk_column_state'))
    )
    op.create_table('link_targets',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('url', sa.Text(), nullable=False),
    sa.Column('status', sa.Integer(), nullable=True),
    sa.Column('ok', sa.Boolean(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('final_url', sa.Text(), nullable=True),
    sa.Column('method', sa.String(length=8), nullable=True),
    sa.Column('checked_at', gateway.store.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_link_targets'))
    )
    op.create_table('url_state',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('site_code', sa.String(length=32), nullable=False),
    sa.Column('url', sa.Text(), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('etag', sa.String(length=300), nullable=True),
    sa.Column('last_modified', sa.String(length=100), nullable=True),
    sa.Column('body_hash', sa.String(length=64), nullable=True),
    sa.Column('last_status', sa.Integer(), nullable=True),
    sa.Column('last_fetched_at', gateway.store.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_changed_at', gateway.store.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('fetches', sa.Integer(), nullable=False),
    sa.Column('changes', sa.Integer(), nullable=False),
    sa.Column('not_modified', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_url_state'))
    )
    with op.batch_alter_table('url_state', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_url_state_site_code'), ['site_code'], unique=False)

    op.create_table('link_sources',
    sa.Column('target_id', sa.String(length=32), nullable=False),
    sa.Column('source_id', sa.String(length=32), nullable=False),
    sa.Column('site_code', sa.String(length=32), nullable=False),
    sa.Column('source_url', sa.Text(), nullable=False),
    sa.Column('anchor', sa.Text(), nullable=True),
    sa.Column('last_seen_at', gateway.store.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['target_id'], ['link_targets.id'], name=op.f('fk_link_sources_target_id_link_targets'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('target_id', 'source_id', name=op.f('pk_link_sources'))
    )
    with op.batch_alter_table('link_sources', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_link_sources_site_code'), ['site_code'], unique=False)
        batch_op.create_index('ix_link_sources_source_id', ['source_id'], unique=False)

    op.create_table('site_locks',
    sa.Column('site_code', sa.String(length=32), nullable=False),
    sa.Column('holder', sa.String(length=200), nullable=False),
    sa.Column('hostname', sa.String(length=200), nullable=False),
    sa.Column('pid', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=True),
    sa.Column('acquired_at', gateway.store.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('heartbeat_at', gateway.store.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['site_code'], ['sites.code'], name=op.f('fk_site_locks_site_code_sites')),
    sa.PrimaryKeyConstraint('site_code', name=op.f('pk_site_locks'))
    )
    op.create_table('frontier',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=80), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('url', sa.Text(), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('state', sa.String(length=8), nullable=False),
    sa.Column('created_at', gateway.store.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('done_at', gateway.store.models.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['run_id'], ['crawl_runs.id'], name=op.f('fk_frontier_run_id_crawl_runs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_frontier')),
    sa.UniqueConstraint('run_id', 'key', name='uq_frontier_run_key')
    )
    with op.batch_alter_table('frontier', schema=None) as batch_op:
        batch_op.create_index('ix_frontier_run_state', ['run_id', 'state'], unique=False)

    with op.batch_alter_table('crawl_runs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('items_gone', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('requests', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('full', sa.Boolean(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('resumes', sa.Integer(), server_default='0', nullable=False))

    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('column', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('last_listed_run_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('missed_runs', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('gone_reason', sa.String(length=200), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.drop_column('gone_reason')
        batch_op.drop_column('missed_runs')
        batch_op.drop_column('last_listed_run_id')
        batch_op.drop_column('column')

    with op.batch_alter_table('crawl_runs', schema=None) as batch_op:
        batch_op.drop_column('resumes')
        batch_op.drop_column('full')
        batch_op.drop_column('requests')
        batch_op.drop_column('items_gone')

    with op.batch_alter_table('frontier', schema=None) as batch_op:
        batch_op.drop_index('ix_frontier_run_state')

    op.drop_table('frontier')
    op.drop_table('site_locks')
    with op.batch_alter_table('link_sources', schema=None) as batch_op:
        batch_op.drop_index('ix_link_sources_source_id')
        batch_op.drop_index(batch_op.f('ix_link_sources_site_code'))

    op.drop_table('link_sources')
    with op.batch_alter_table('url_state', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_url_state_site_code'))

    op.drop_table('url_state')
    op.drop_table('link_targets')
    op.drop_table('column_state')
