"""Keep the search index in step with the store (the store is the source of truth).

Every document change is queued in the store's outbox (``index_outbox``) in the same
transaction as the change itself (:func:`gateway.store.repository.upsert_article`,
:func:`~gateway.store.repository.mark_gone`), so a committed change is always queued and a
rolled-back one never is. :func:`sync_index` applies the queue in id order, batch by batch, and
deletes a batch's rows only after the index accepted them.

Two kinds of failure, told apart:

* the index cannot be used (unreachable, closed, any error of a whole call): every row of the
  batch stays as it was, the exception propagates, the next sync catches up;
* the index refuses one document (:class:`~index.base.DocumentsRejected`: a per-document error
  of a bulk request), or its stored item cannot be read: that document's row records the
  attempt and the error and stays, the batch's other rows are applied, and later rows go on.
  After ``BLGW_OUTBOX_MAX_ATTEMPTS`` refusals the row is ``quarantined``: kept with its error,
  reported (``blgw index sync``, ``/metrics``), no longer sent until a sync with
  ``retry_quarantined`` (``blgw index sync --retry-quarantined``).

A rebuild and a sync never run at once (on any host): both hold the store's job lock
``index`` (:mod:`gateway.store.locks`). A sync that finds a rebuild running does nothing and
says so (``deferred``): its changes stay queued for the next sync, which writes them into the new
index; otherwise a sync beside a rebuild would write into the old index, which the swap
deletes, and drop the queue rows of writes that are then lost. A sync waits up to
:data:`LOCK_WAIT` seconds for another sync; a rebuild waits as long for a sync and refuses to
start beside another rebuild (:class:`IndexBusy`).

:func:`rebuild_index` builds a new index from the store alone (:meth:`SearchIndex.rebuild`,
swapped in atomically), skipping and naming stored items that cannot be read, and drops the
queue it has covered (quarantined rows included). ``blgw index rebuild`` and ``blgw restore``
both use it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from sqlalchemy import delete, select

from gateway.settings import get_settings
from gateway.store.locks import JobBusy, acquire_job_lock, heartbeat_job_lock, release_job_lock
from gateway.store.models import Document, IndexOutbox, utcnow
from gateway.store.repository import (
    delete_outbox,
    last_outbox_id,
    outbox_batch,
    quarantined_outbox,
)
from gateway.store.session import Store
from index.base import DocumentsRejected, SearchIndex
from index.highlight import with_attachments
from normalizers.models import Article, Letter, Navigation, Organisation, ServiceGuide, parse_item

__all__ = ["BATCH", "LOCK_WAIT", "IndexBusy", "RebuildReport", "Rejection", "SyncResult", "active_documents",
           "index_job", "quarantined_rows", "rebuild_index", "search_document", "sync_index"]

BATCH = 500
UNREADABLE = (ValueError, TypeError, AttributeError)
"""What reading a stored item that no longer fits the exchange standard raises (a pydantic
ValidationError is a ValueError)."""


INDEX_JOB = "index"
LOCK_WAIT = 60.0
"""Seconds a sync waits for another sync (or a rebuild for a sync) to finish."""
HEARTBEAT_EVERY = 10.0


class IndexBusy(Exception):
    """The index job lock is held by a live process (the message names it and what it does)."""

    def __init__(self, message: str, purpose: str) -> None:
        super().__init__(message)
        self.purpose = purpose


@contextlib.contextmanager
def index_job(store: Store, purpose: str, *, wait: float = LOCK_WAIT,
              poll: float = 0.5) -> Iterator[Callable[[], None]]:
    """Hold the store's ``index`` job lock while the block runs (``purpose``: ``sync`` or
    ``rebuild``); yields ``beat()``, which refreshes the heartbeat (at most every 10 s) and must
    be called regularly by long jobs. Waits up to ``wait`` seconds for a sync holding it; a
    rebuild holding it (or a wait that runs out) raises :class:`IndexBusy` at once."""
    config = get_settings()
    hostname, pid = config.worker, os.getpid()
    holder = f"{hostname}:{pid}:{purpose}-{uuid.uuid4().hex[:8]}"
    stale = dt.timedelta(seconds=config.lock_stale_seconds)
    deadline = time.monotonic() + wait
    while True:
        try:
            with store.session() as session:
                acquire_job_lock(session, INDEX_JOB, purpose, holder=holder, hostname=hostname, pid=pid,
                                 stale=stale)
            break
        except JobBusy as exc:
            if exc.purpose == "rebuild" or time.monotonic() >= deadline:
                raise IndexBusy(f"the search index is busy: {exc}", exc.purpose) from exc
            time.sleep(poll)
    last = time.monotonic()

    def beat() -> None:
        nonlocal last
        if time.monotonic() - last >= HEARTBEAT_EVERY:
            with store.session() as session:
                heartbeat_job_lock(session, INDEX_JOB, holder)
            last = time.monotonic()

    try:
        yield beat
    finally:
        with store.session() as session:
            release_job_lock(session, INDEX_JOB, holder)


def search_document(item: Article | Organisation | ServiceGuide | Letter | Navigation) -> Article:
    """What the index holds for an item: articles with their attachments' text after the body
    (searched with the item, a hit in one names it: :meth:`index.highlight.Highlighter.hit`); service guides, letters and
    organisation pages as an article-shaped record of their title and searchable text, so the
    portal's one search box finds them too."""
    if isinstance(item, Article):
        texts = [(a.name, a.text) for a in item.attachments if a.text]
        if not texts:
            return item
        # an attachment's text is searched with its item (index.highlight.with_attachments), held once
        return item.model_copy(update={"body_text": with_attachments(item.body_text, texts), "attachments": [
            a.model_copy(update={"text": None}) for a in item.attachments]})
    return Article(
        id=item.id, site_code=item.site_code, column_path=item.column_path, category=item.category,
        title=item.display_title, published_at=getattr(item, "asked_at", None),
        body_text=item.search_text(), body_html="", source_url=item.source_url, fetched_at=item.fetched_at,
    )


def unreadable_reason(exc: BaseException) -> str:
    """One line saying why a stored item cannot be read (the first lines of the error)."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return f"{type(exc).__name__}: {': '.join(lines[:3])}"[:300]


@dataclass
class Rejection:
    """An outbox row whose document the index refused (or whose stored item cannot be read)."""

    row_id: int
    document_id: str
    action: str
    attempts: int
    error: str
    quarantined: bool

    @classmethod
    def of(cls, row: IndexOutbox) -> Rejection:
        return cls(row_id=row.id, document_id=row.document_id, action=row.action, attempts=row.attempts,
                   error=row.last_error or "", quarantined=row.state == "quarantined")


@dataclass
class SyncResult:
    upserted: int = 0
    deleted: int = 0
    rejected: list[Rejection] = field(default_factory=list)  # refused by this sync
    deferred: str | None = None  # why nothing was sent (a rebuild is running); the queue waits

    @property
    def quarantined(self) -> list[Rejection]:
        """The rows this sync quarantined (or left quarantined, retrying them)."""
        return [r for r in self.rejected if r.quarantined]

    @property
    def retrying(self) -> list[Rejection]:
        """The rows this sync was refused that the next sync sends again."""
        return [r for r in self.rejected if not r.quarantined]


def sync_index(store: Store, index: SearchIndex, batch: int = BATCH, *, max_attempts: int | None = None,
               retry_quarantined: bool = False) -> SyncResult:
    """Apply the outbox to the index, oldest rows first, ``batch`` rows per store transaction;
    return the counts (``deleted``: documents the index actually removed) and the rows refused.

    Within a batch, the rows of one document collapse to one: the document as stored now is
    sent (``upsert``), or removed when it is gone by now or no longer stored (``delete``). The
    rows of the documents the index took are deleted (with any older row of theirs that an
    earlier refusal left behind) in the transaction that read them, after the index calls
    returned. A document the index refuses keeps one row (its newest), which records the
    attempt and the error and is ``quarantined`` at ``max_attempts`` (default
    ``BLGW_OUTBOX_MAX_ATTEMPTS``); see the module documentation. If the index raises anything
    else, that transaction rolls back, the batch's rows stay as they were and the exception
    propagates (batches applied before it stay applied). Each row is tried at most once per
    sync, and rows queued while it runs are left for the next one, so it always ends.
    ``retry_quarantined``: quarantined rows are sent too (one refusal more quarantines them
    again). While a rebuild runs nothing is sent and ``deferred`` says why (module docs)."""
    max_attempts = max_attempts or get_settings().outbox_max_attempts
    result = SyncResult()
    try:
        with index_job(store, "sync"):
            _sync(store, index, batch, max_attempts, retry_quarantined, result)
    except IndexBusy as exc:
        result.deferred = f"{exc}; the queued changes wait for the next sync"
    return result


def _sync(store: Store, index: SearchIndex, batch: int, max_attempts: int, retry_quarantined: bool,
          result: SyncResult) -> None:
    with store.session() as session:
        up_to = last_outbox_id(session)
    after = 0
    while True:
        with store.session() as session:
            rows = outbox_batch(session, limit=batch, up_to=up_to, after=after, quarantined=retry_quarantined)
            if not rows:
                break
            after = rows[-1].id
            newest: dict[str, IndexOutbox] = {}
            for row in rows:
                newest.pop(row.document_id, None)  # keep the order of the last occurrence
                newest[row.document_id] = row
            stored = {d.id: d for d in session.scalars(select(Document).where(Document.id.in_(list(newest))))}
            refused: dict[str, str] = {}
            upserts: list[Article] = []
            for doc_id in newest:
                document = stored.get(doc_id)
                if document is not None and document.status == "active":
                    try:
                        upserts.append(search_document(parse_item(document.item)))
                    except UNREADABLE as exc:
                        refused[doc_id] = f"the stored item cannot be read: {unreadable_reason(exc)}"
            active = {a.id for a in upserts} | set(refused)
            deletes = [doc_id for doc_id in newest if doc_id not in active]
            if upserts:
                try:
                    result.upserted += index.upsert(upserts)
                except DocumentsRejected as exc:
                    result.upserted += exc.written
                    refused.update((id_, why) for id_, why in exc.failures if id_ in newest)
            if deletes:
                try:
                    result.deleted += index.delete(deletes)
                except DocumentsRejected as exc:
                    result.deleted += exc.written
                    refused.update((id_, why) for id_, why in exc.failures if id_ in newest)
            applied = [doc_id for doc_id in newest if doc_id not in refused]
            if applied:
                session.execute(delete(IndexOutbox).where(IndexOutbox.document_id.in_(applied),
                                                          IndexOutbox.id <= after))
            now = utcnow()
            for doc_id, why in refused.items():
                keep = newest[doc_id]
                mine = [r for r in rows if r.document_id == doc_id]
                keep.attempts = max(r.attempts for r in mine) + 1
                keep.last_error = why[:4000]
                keep.last_attempt_at = now
                keep.state = "quarantined" if keep.attempts >= max_attempts else "pending"
                delete_outbox(session, [r.id for r in mine if r is not keep])
                result.rejected.append(Rejection.of(keep))


def quarantined_rows(store: Store) -> list[Rejection]:
    """Every quarantined outbox row, oldest first, with its attempts and last error."""
    with store.session() as session:
        return [Rejection.of(row) for row in quarantined_outbox(session)]


@dataclass
class RebuildReport:
    indexed: int = 0  # documents in the new index
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (id, why) of unreadable stored items
    outbox_cleared: int = 0  # outbox rows covered by the rebuild (quarantined ones included)


def active_documents(store: Store, skipped: list[tuple[str, str]], *, batch: int = BATCH,
                     beat: Callable[[], None] | None = None) -> Iterator[Article]:
    """Every active document as the index holds it, in id order, read ``batch`` rows per short
    store transaction (keyset paging: no long-running read, nothing held in memory). A stored
    item that cannot be read is not yielded: its ``(id, why)`` is appended to ``skipped``."""
    after = ""
    while True:
        with store.session() as session:
            rows = session.execute(
                select(Document.id, Document.item)
                .where(Document.status == "active", Document.id > after)
                .order_by(Document.id).limit(batch)).all()
        if not rows:
            return
        if beat is not None:
            beat()
        for doc_id, item in rows:
            try:
                document = search_document(parse_item(item))
            except UNREADABLE as exc:
                skipped.append((doc_id, unreadable_reason(exc)))
                continue
            yield document
        after = rows[-1][0]


def rebuild_index(store: Store, index: SearchIndex, *, batch: int = BATCH) -> RebuildReport:
    """Build a new index from the store alone (active documents whose stored item can be read;
    the others are skipped and named in ``skipped``) and swap it in
    (:meth:`SearchIndex.rebuild`; searches see the old index until then), then drop the outbox
    rows that existed when the rebuild started (changes queued during it stay for the next
    sync). If the index fails, the old index and the outbox stay as they were. Holds the
    ``index`` job lock (no sync writes meanwhile); :class:`IndexBusy` if another rebuild runs."""
    report = RebuildReport()
    with index_job(store, "rebuild") as beat:
        with store.session() as session:
            up_to = last_outbox_id(session)
        report.indexed = index.rebuild(active_documents(store, report.skipped, batch=batch, beat=beat))
        with store.session() as session:
            report.outbox_cleared = delete_outbox(session, up_to=up_to)
    return report
