"""``blgw index sync|rebuild``, ``blgw restore`` (the emergency copy) and ``blgw db upgrade``."""

from __future__ import annotations

import sqlite3
import sys
import time
from typing import NoReturn

import click

from gateway.cli.common import index, settings, store
from gateway.ops.emergency import (
    SAMPLE,
    CheckReport,
    index_file_problem,
    move_aside,
    restore_index,
    verify_index,
)
from gateway.ops.indexing import rebuild_index, sync_index
from gateway.settings import GatewaySettings
from gateway.store.session import Store, open_store
from index.base import SearchIndexError
from index.factory import embedded_index_path, open_index
from normalizers.urls import redact_url

__all__ = ["db", "index_group", "restore", "sync_index_and_report"]


def sync_index_and_report(config: GatewaySettings | None = None) -> None:
    """Apply the store's outbox to the index and say what it did."""
    with index(config) as search_index:
        result = sync_index(store(config), search_index)
        click.echo(f"index: {result.upserted} upserted, {result.deleted} deleted, {search_index.count()} documents")


@click.group("index")
def index_group() -> None:
    """Search index maintenance (the index is rebuilt from the store)."""


@index_group.command("sync")
def index_sync() -> None:
    """Send documents changed in the store to the index."""
    sync_index_and_report()


@index_group.command("rebuild")
def index_rebuild() -> None:
    """Empty the index and fill it from the store alone."""
    with index() as search_index:
        result = rebuild_index(store(), search_index)
        click.echo(f"index rebuilt: {result.upserted} documents")


@click.group()
def db() -> None:
    """Store maintenance."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply database migrations (also done automatically on first use)."""
    target = Store(settings().database_url)
    target.migrate()
    click.echo(f"store at {redact_url(target.url)} is up to date")  # never print a password


# --- restore ------------------------------------------------------------------------------


def _fail(message: str) -> NoReturn:
    click.secho(f"restore FAILED: {message}", fg="red", err=True)
    sys.exit(1)


def _print_check(report: CheckReport, seconds: float) -> None:
    fine = len(report.sampled) - len(report.missing) - len(report.different) - len(report.unreadable)
    click.echo(f"check: store {report.store_active} active documents ({report.store_gone} gone), "
               f"index {report.indexed} documents; {fine}/{len(report.sampled)} sampled documents fetched back "
               f"identical; {report.gone_sampled - len(report.gone_present)}/{report.gone_sampled} sampled gone "
               f"documents absent ({seconds:.2f} s)")


@click.command("restore")
@click.option("--index-url", metavar="URL", help="The index to restore (default: BLGW_INDEX_URL).")
@click.option("--check", is_flag=True, help="Only verify the index against the store; write nothing.")
@click.option("--sample", default=SAMPLE, show_default=True, type=click.IntRange(0, 100_000),
              help="Stored documents fetched back from the index by id to verify it.")
def restore(index_url: str | None, check: bool, sample: int) -> None:
    """Rebuild the search index from the store alone (the emergency copy), then verify it.

    Every active document's stored item goes into a new index, swapped in atomically; the
    outbox rows it covers are dropped. Afterwards the index must hold as many documents as the
    store has active ones, and a sample of stored documents must come back by id unchanged;
    exit 1 otherwise. An embedded index file SQLite cannot read is moved aside to
    <file>.corrupt-<timestamp> first (never deleted). With --check nothing is written: exit 1
    when the index is missing, unreadable or differs from the store.
    """
    started = time.monotonic()
    config = settings()
    index_url = index_url or config.index_url
    click.echo(f"store {redact_url(config.database_url)}; index {redact_url(index_url)}")
    if check:
        source = Store(config.database_url)
        if source.needs_migration():
            _fail("the store's schema is not up to date (run `blgw db upgrade`); nothing checked")
    else:
        source = open_store(config.database_url)
    path = embedded_index_path(index_url)
    try:
        if path is not None:
            if check and (not path.exists() or path.stat().st_size == 0):
                _fail(f"the index file {path} does not exist or is empty; run `blgw restore`")
            try:
                problem = index_file_problem(path)
            except sqlite3.OperationalError as exc:
                _fail(f"cannot read the index file {path}: {exc}")
            if problem is not None:
                if check:
                    _fail(f"the index file {path} cannot be read ({problem}); run `blgw restore`")
                moved = move_aside(path)
                click.secho(f"the index file could not be read ({problem}); moved it aside to {moved}",
                            fg="yellow", err=True)
        try:
            target = open_index(index_url, config)
        except (SearchIndexError, ValueError) as exc:
            _fail(f"cannot open the index: {exc}")
        with target:
            if not check:
                try:
                    result = restore_index(source, target)
                except SearchIndexError as exc:
                    _fail(f"the index refused the rebuild: {exc}")
                click.echo(f"indexed {result.indexed} documents from the store in {time.monotonic() - started:.2f} s "
                           f"(outbox: {result.outbox_cleared} rows covered and cleared, {result.synced} "
                           "changes made meanwhile applied)")
                for doc_id, why in result.skipped:
                    click.secho(f"skipped {doc_id}: the stored item cannot be read ({why})", fg="red", err=True)
            verify_started = time.monotonic()
            try:
                report = verify_index(source, target, sample=sample)
            except SearchIndexError as exc:
                _fail(f"the index cannot be read: {exc}")
        _print_check(report, time.monotonic() - verify_started)
    finally:
        source.dispose()
    if not report.ok:
        _fail("the index does not match the store:\n  " + "\n  ".join(report.problems))
    click.echo(f"{'check' if check else 'restore'} OK in {time.monotonic() - started:.2f} s: "
               f"{report.indexed} documents searchable")
