"""``blgw index sync|rebuild``, ``blgw restore`` (the emergency copy) and ``blgw db upgrade``."""

from __future__ import annotations

import json
import sqlite3
import sys
import time
from dataclasses import asdict
from typing import NoReturn

import click

from gateway.cli.common import index, settings, shown_url, store
from gateway.ops.emergency import (
    SAMPLE,
    CheckReport,
    index_file_problem,
    move_aside,
    restore_index,
    verify_index,
)
from gateway.ops.exits import EXIT_ERRORS, EXIT_FAILED, EXIT_OK
from gateway.ops.indexing import IndexBusy, Rejection, quarantined_rows, rebuild_index, sync_index
from gateway.settings import GatewaySettings
from gateway.store.attachments import refetch_missing, verify_blobs
from gateway.store.blobs import FolderBlobStore
from gateway.store.session import Store, open_store
from index.base import SearchIndexError
from index.factory import embedded_index_path, open_index

__all__ = ["db", "index_group", "restore", "sync_index_and_report"]


SHOWN = 20  # refused rows named on the terminal (--json lists them all)


def _rejection(row: Rejection) -> str:
    return f"row {row.row_id} {row.action} {row.document_id} ({row.attempts} attempt(s)): {row.error}"


def sync_index_and_report(config: GatewaySettings | None = None, *, retry_quarantined: bool = False,
                          as_json: bool = False) -> int:
    """Apply the store's outbox to the index and say what it did: the counts, the changes the
    index refused this time (sent again by the next sync), and every quarantined one (refused
    BLGW_OUTBOX_MAX_ATTEMPTS times: kept, no longer sent). Returns the exit status: EXIT_OK, or
    EXIT_ERRORS when a change was refused or rows are quarantined. An index that
    cannot be reached raises (nothing is lost: every change stays queued)."""
    config = config or settings()
    source = store(config)
    with index(config) as search_index:
        result = sync_index(source, search_index, max_attempts=config.outbox_max_attempts,
                            retry_quarantined=retry_quarantined)
        documents = search_index.count()
    quarantined = quarantined_rows(source)
    retrying = result.retrying
    if as_json:
        click.echo(json.dumps({"upserted": result.upserted, "deleted": result.deleted, "documents": documents,
                               "deferred": result.deferred,
                               "retrying": [asdict(r) for r in retrying],
                               "quarantined": [asdict(r) for r in quarantined]}, ensure_ascii=False, indent=1))
    else:
        if result.deferred:
            click.secho(f"index sync deferred: {result.deferred}", fg="yellow", err=True)
        click.echo(f"index: {result.upserted} upserted, {result.deleted} deleted, {documents} documents")
        if retrying:
            click.secho(f"index: {len(retrying)} change(s) refused, sent again by the next sync:",
                        fg="yellow", err=True)
            for row in retrying[:SHOWN]:
                click.secho(f"  {_rejection(row)}", fg="yellow", err=True)
            if len(retrying) > SHOWN:
                click.secho(f"  … and {len(retrying) - SHOWN} more (blgw index sync --json)", fg="yellow", err=True)
        if quarantined:
            click.secho(f"index: {len(quarantined)} change(s) quarantined (refused {config.outbox_max_attempts} "
                        "times; no longer sent: fix the cause, then `blgw index sync --retry-quarantined`, "
                        "or `blgw index rebuild`):", fg="red", err=True)
            for row in quarantined[:SHOWN]:
                click.secho(f"  {_rejection(row)}", fg="red", err=True)
            if len(quarantined) > SHOWN:
                click.secho(f"  … and {len(quarantined) - SHOWN} more (blgw index sync --json)", fg="red", err=True)
    return EXIT_ERRORS if retrying or quarantined else EXIT_OK


@click.group("index")
def index_group() -> None:
    """Search index maintenance (the index is rebuilt from the store)."""


@index_group.command("sync")
@click.option("--retry-quarantined", is_flag=True,
              help="Send the quarantined changes again too (one more refusal quarantines them again).")
@click.option("--json", "as_json", is_flag=True, help="Print the counts and the refused changes as JSON.")
def index_sync(retry_quarantined: bool, as_json: bool) -> None:
    """Send documents changed in the store to the index.

    A change the index refuses (that document only) is sent again by the next syncs, then
    quarantined after BLGW_OUTBOX_MAX_ATTEMPTS refusals: kept with its error, listed here and
    counted in /metrics, no longer sent. Exit 1 when a change was refused or changes are
    quarantined; exit 3 when the index cannot be reached (every change stays queued)."""
    sys.exit(sync_index_and_report(retry_quarantined=retry_quarantined, as_json=as_json))


@index_group.command("rebuild")
def index_rebuild() -> None:
    """Empty the index and fill it from the store alone.

    A stored item that cannot be read any more is skipped and named (the others are indexed);
    exit 1 then."""
    with index() as search_index:
        try:
            report = rebuild_index(store(), search_index)
        except IndexBusy as exc:
            click.secho(f"index rebuild not started: {exc}", fg="red", err=True)
            sys.exit(EXIT_FAILED)
    click.echo(f"index rebuilt: {report.indexed} documents (outbox: {report.outbox_cleared} rows covered "
               "and cleared)")
    _print_skipped(report.skipped)
    sys.exit(EXIT_ERRORS if report.skipped else EXIT_OK)


@index_group.command("check")
@click.option("--read-only", is_flag=True,
              help="Check the privileges of a read-only key (blgw serve) instead of the gateway's.")
def index_check(read_only: bool) -> None:
    """Connect to the index and report what it is: for Elasticsearch the server version, the
    analyzers available and in use, the schema, the documents, the privileges the credentials
    have against those the gateway needs, and indices left by an unfinished rebuild; for the
    embedded index its file, schema and documents. Writes nothing. Exit 1 on a problem (one
    line each), 3 when the index cannot be reached or opened."""
    config = settings()
    click.echo(f"index {shown_url(config.index_url)}")
    try:
        target = open_index(config.index_url, config)
    except (SearchIndexError, ValueError) as exc:
        click.secho(f"index check FAILED: {exc}", fg="red", err=True)
        sys.exit(EXIT_FAILED)
    with target:
        check = getattr(target, "check", None)
        if check is None:
            try:
                click.echo(f"embedded index: {target.count()} documents, schema up to date")
            except SearchIndexError as exc:
                click.secho(f"problem: {exc}", fg="red", err=True)
                sys.exit(EXIT_ERRORS)
            sys.exit(EXIT_OK)
        report = check(read_only=read_only)
    for line in report.lines:
        click.echo(line)
    for line in report.warnings:
        click.secho(f"warning: {line}", fg="yellow", err=True)
    for line in report.problems:
        click.secho(f"problem: {line}", fg="red", err=True)
    if not report.reachable:
        sys.exit(EXIT_FAILED)
    if report.problems:
        sys.exit(EXIT_ERRORS)
    click.echo("index check OK")
    sys.exit(EXIT_OK)


def _print_skipped(skipped: list[tuple[str, str]]) -> None:
    for doc_id, why in skipped:
        click.secho(f"skipped {doc_id}: the stored item cannot be read ({why})", fg="red", err=True)
    if skipped:
        click.secho(f"{len(skipped)} stored item(s) skipped", fg="red", err=True)


@click.group()
def db() -> None:
    """Store maintenance."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply database migrations (also done automatically on first use)."""
    target = Store(settings().database_url)
    target.migrate()
    click.echo(f"store at {shown_url(target.url)} is up to date")  # never print a password


# --- restore ------------------------------------------------------------------------------


def _fail(message: str, status: int = EXIT_FAILED) -> NoReturn:
    click.secho(f"restore FAILED: {message}", fg="red", err=True)
    sys.exit(status)


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
    exit 1 otherwise (a stored item that cannot be read is skipped and named: exit 1 too). An
    embedded index file SQLite cannot read is moved aside to <file>.corrupt-<timestamp> first
    (never deleted). Every kept attachment file of an active document must be in the blob
    folder with its SHA-256 (exit 1 naming the ones that are not). With --check nothing is written: exit 1 when the index is missing,
    unreadable or differs from the store. Exit 3 when the index cannot be opened or refuses the
    rebuild, or the store cannot be used.
    """
    started = time.monotonic()
    config = settings()
    index_url = index_url or config.index_url
    click.echo(f"store {shown_url(config.database_url)}; index {shown_url(index_url)}")
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
                _fail(f"the index file {path} does not exist or is empty; run `blgw restore`", EXIT_ERRORS)
            try:
                problem = index_file_problem(path)
            except sqlite3.OperationalError as exc:
                _fail(f"cannot read the index file {path}: {exc}")
            if problem is not None:
                if check:
                    _fail(f"the index file {path} cannot be read ({problem}); run `blgw restore`",
                          EXIT_ERRORS)
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
                except IndexBusy as exc:
                    _fail(f"{exc}; run the restore again when it has finished")
                click.echo(f"indexed {result.indexed} documents from the store in {time.monotonic() - started:.2f} s "
                           f"(outbox: {result.outbox_cleared} rows covered and cleared, {result.synced} "
                           "changes made meanwhile applied)")
                _print_skipped(result.skipped)
            verify_started = time.monotonic()
            try:
                report = verify_index(source, target, sample=sample)
            except SearchIndexError as exc:
                _fail(f"the index cannot be read: {exc}")
        _print_check(report, time.monotonic() - verify_started)
        files_started = time.monotonic()
        blobs = FolderBlobStore(config.blob_root)
        with source.session() as session:
            checked, missing = verify_blobs(session, blobs)
            if missing and not check:
                refetch_missing(session, missing)
        click.echo(f"attachments: {checked - len({m.sha256 for m in missing})}/{checked} kept files of active "
                   f"documents present with their SHA-256 in {blobs.root} ({time.monotonic() - files_started:.2f} s)")
        for lost in missing[:20]:
            click.secho(f"  {lost.why}: {lost.attachment_url} (document {lost.document_id}, sha256 {lost.sha256})",
                        fg="red", err=True)
    finally:
        source.dispose()
    if not report.ok:
        _fail("the index does not match the store:\n  " + "\n  ".join(report.problems), EXIT_ERRORS)
    if missing:
        _fail(f"{len(missing)} attachment file(s) of active documents are missing or corrupt in {blobs.root} "
              "(restore the blob folder from its backup; the next crawl fetches them again)", EXIT_ERRORS)
    click.echo(f"{'check' if check else 'restore'} OK in {time.monotonic() - started:.2f} s: "
               f"{report.indexed} documents searchable")
