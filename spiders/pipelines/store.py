"""The pipeline from fetched page to store: normalize (pure), let plugins adjust, upsert.

Every problem (HTTP, network, extraction, field) is recorded against the run; a page's
outcome (its item stored, or the problem that stopped it) and its frontier entry marked done
are written in one transaction, so a crash leaves both or neither.

Stored pages are committed in batches (:data:`BATCH_ITEMS` pages, or whatever has waited
:data:`BATCH_SECONDS`, and everything when the spider closes): one transaction per batch
instead of one per page. Crash safety is unchanged: each page's item and its frontier entry
are in the same transaction, so after ``kill -9`` the pages of the batch that was not committed
are still pending and the continued run fetches them again. If a batch fails for a reason that
is not the store's (a bug, one odd item), its pages are written one by one, so only that page
fails (its frontier entry stays pending, named ``unfinished`` at the end of the run).
"""

from __future__ import annotations

import contextlib
import logging
import time
from dataclasses import dataclass
from typing import Any

from scrapy import signals
from scrapy.exceptions import DontCloseSpider, DropItem
from sqlalchemy import select
from sqlalchemy.orm import Session
from twisted.internet import task

from gateway.store.attachments import enriched, link_attachments, linked_files, recheck_attachments, rows_for
from gateway.store.models import Document
from gateway.store.repository import Outcome, count_outcomes, record_error, upsert_article
from normalizers.links import Link
from normalizers.models import document_id
from spiders.attachments import AttachmentFetcher
from spiders.config import crawl_config
from spiders.crawlstate import StoreFailed, UsesCrawlState
from spiders.items import CrawlProblem, FetchedPage
from spiders.normalize_pool import NormalizePool, default_workers, page_links, shared_pool
from spiders.pipelines import NormalizingPipeline

__all__ = ["BATCH_ITEMS", "BATCH_SECONDS", "StorePipeline"]

log = logging.getLogger(__name__)

BATCH_ITEMS = 50
"""Pages committed together."""
BATCH_SECONDS = 0.5
"""The longest a stored page waits for its batch's commit (a slow, polite crawl)."""


@dataclass(frozen=True, slots=True)
class _Pending:
    """A page waiting for its batch's transaction: its item, the links read with it (None:
    read them at the write) and the item as exported (dumped once, stored as it is)."""

    item: FetchedPage
    article: Any
    links: list[Link] | None
    exported: dict[str, Any]


class StorePipeline(UsesCrawlState, NormalizingPipeline):
    """Normalizes each :class:`FetchedPage` and upserts it into the store of the crawl's
    :class:`~spiders.crawlstate.CrawlState` (in batches, see the module documentation)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._batch: list[_Pending] = []
        self._oldest = 0.0
        self._timer: task.LoopingCall | None = None
        workers = crawl_config(self.crawler).normalize_workers
        self.pool = shared_pool(default_workers() if workers < 0 else workers)
        self.fetcher: AttachmentFetcher | None = None

    def open_spider(self) -> None:
        self._timer = task.LoopingCall(self._flush_due)
        self._timer.start(BATCH_SECONDS / 2, now=False)
        fetcher = AttachmentFetcher(self.crawler, self.state)
        if fetcher.enabled:
            self.fetcher = fetcher
            self.crawler.signals.connect(self._idle, signal=signals.spider_idle)

    def _idle(self) -> None:
        """The spider has nothing left to fetch: the waiting pages are committed (their
        attachments linked), then the due attachments are sent; the spider stays open for them."""
        if self.fetcher is None or self.state.busy or self.state.run_id is None:
            return
        try:
            self.flush()
        except StoreFailed:
            return
        if self.fetcher.schedule():
            raise DontCloseSpider

    def close_spider(self) -> None:
        if self._timer is not None and self._timer.running:
            self._timer.stop()
        try:
            self.flush()
        except StoreFailed as exc:  # the run is failed with kind store; the pages stay pending
            log.error("site %s: the last %s page(s) were not stored: %s", self.state.site_code,
                      len(self._batch), exc)

    def _flush_due(self) -> None:
        if self._batch and time.monotonic() - self._oldest >= BATCH_SECONDS:
            with contextlib.suppress(StoreFailed):  # the crawl is stopping; the pages stay pending
                self.flush()

    def process_item(self, item: Any) -> Any:
        try:
            return self._process(item)
        except StoreFailed as exc:  # the crawl stops; the page stays pending and the next run gets it
            raise DropItem(f"not stored, the store failed: {exc}") from None

    def _process(self, item: Any) -> Any:
        self.drop_problem(item)
        if not isinstance(item, FetchedPage):
            return item
        refusal = self.spider.scope.check(item.fetch_url)
        if refusal is not None:  # never stored: the spider and the scope middleware let nothing such through
            self.problem(CrawlProblem(url=item.public_url, kind=refusal.kind, column=item.column,
                                      message=f"refused: {refusal.reason}", frontier_key=item.frontier_key))
            raise DropItem(f"out of scope: {refusal}")
        # listed in several columns: the document belongs to its primary one (plugins.spec.SiteSpec.primary_column)
        key = self.spider.public_url(item.fetch_url)
        item.column = self.state.primary_column(self.spider.site, document_id(key), key, item.column)
        if self.budgeted(item):
            return self._store_budgeted(item)
        if self.pool is not None:
            return self._store_pooled(item, self.pool)
        return self._store(item, *self.normalize(item))

    async def _store_pooled(self, item: FetchedPage, pool: NormalizePool) -> Any:
        """Normalized and its links read in one call to the pool's worker process (the page
        crosses once; the event loop goes on)."""
        try:
            article, problems, links = await self.normalize_in_pool(item, pool)
            return self._store(item, article, problems, links)
        except StoreFailed as exc:
            raise DropItem(f"not stored, the store failed: {exc}") from None

    async def _store_budgeted(self, item: FetchedPage) -> Any:
        try:
            return self._store(item, *(await self.normalize_in_budget(item)))
        except StoreFailed as exc:
            raise DropItem(f"not stored, the store failed: {exc}") from None

    def _store(self, item: FetchedPage, article: Any, problems: list[CrawlProblem],
               links: list[Link] | None = None) -> Any:
        for problem in problems:
            self.problem(problem)
        self._run_id()
        if not self._batch:
            self._oldest = time.monotonic()
        exported = self.exported(article)  # once: the store keeps this same dict
        self._batch.append(_Pending(item, article, links, exported))
        if len(self._batch) >= BATCH_ITEMS:
            self.flush()
        return exported

    def flush(self) -> None:
        """Commit the waiting pages: one transaction; if it fails for a reason that is not the
        store's, one transaction per page (the failing page alone stays pending)."""
        batch, self._batch = self._batch, []
        if not batch:
            return
        try:
            outcomes = self._write_batch(batch)
        except StoreFailed:
            raise
        except Exception:  # noqa: BLE001 - not the store's failure: find the page it belongs to
            outcomes = []
            for one in batch:
                try:
                    outcomes.extend(self._write_batch([one]))
                except StoreFailed:
                    raise
                except Exception:
                    log.exception("site %s: %s could not be stored (it stays pending; the next run "
                                  "fetches it again)", self.state.site_code, one.item.public_url)
        for outcome in outcomes:
            self.crawler.stats.inc_value(f"blgw/items_{outcome.value}")

    def _write_batch(self, batch: list[_Pending]) -> list[Any]:
        """One transaction for the batch: its stored documents read in one query, the ORM
        changes flushed once at the commit (no autoflush before each statement), the pages'
        links, their frontier entries and the run's counters written once for all."""
        state = self.state
        with state.session() as session, session.no_autoflush:
            ids = list(dict.fromkeys(p.article.id for p in batch))
            # into the identity map (which holds its objects weakly: keep them referenced)
            _stored = session.scalars(select(Document).where(Document.id.in_(ids))).all()
            if self.fetcher is not None:
                batch = self._with_files(session, batch)
            outcomes, seen = [], set()
            for pending in batch:
                if pending.article.id in seen:  # the same document twice in a batch: the first must be flushed
                    session.flush()
                seen.add(pending.article.id)
                outcomes.append(self._write(session, pending))
            fetch_origin = self.spider.fetch_origin
            state.record_links(session, [
                (p.item.public_url, p.links if p.links is not None else page_links(
                    p.item.body, p.item.content_type, p.item.public_url, p.item.parts, fetch_origin))
                for p in batch])
            if self.fetcher is not None:
                self._link_files(session, batch, outcomes)
            # their frontier entries done in the transaction that stores them: a crash leaves both or neither
            state.done_many(session, [p.item.frontier_key for p in batch])
            state.flush(session)  # the validators of the pages fetched meanwhile
            if state.run_id is not None:
                count_outcomes(session, state.run_id, outcomes)
        return outcomes

    def _with_files(self, session: Session, batch: list[_Pending]) -> list[_Pending]:
        """Each item carrying what the store knows of its files, so that an unchanged page with
        unchanged files is an unchanged item."""
        rows = rows_for(session, [str(a.url) for p in batch for a in linked_files(p.article)])
        out = []
        for pending in batch:
            article = enriched(pending.article, rows)
            if article is not pending.article:
                pending = _Pending(pending.item, article, pending.links, self.exported(article))
            out.append(pending)
        return out

    def _link_files(self, session: Session, batch: list[_Pending], outcomes: list[Any]) -> None:
        """The stored items' attachment links (a file not kept yet is a pending row: the store
        is the attachments' frontier; a version kept over a worse page keeps its links); the
        kept files of changed items checked again (an edited page may link a new version of a
        file under its old URL)."""
        stored = [(p, o) for p, o in zip(batch, outcomes, strict=True) if o is not Outcome.KEPT]
        link_attachments(session, self.state.site_code,
                         {p.article.id: [str(a.url) for a in linked_files(p.article)] for p, _ in stored})
        recheck_attachments(session, [p.article.id for p, o in stored if o is Outcome.CHANGED])

    def _write(self, session: Session, pending: _Pending) -> Any:
        state, item, article = self.state, pending.item, pending.article
        outcome = upsert_article(
            session, article, exported=pending.exported, fetch_url=item.fetch_url, raw_body=item.body,
            content_type=item.content_type, http_status=item.status, run_id=state.run_id, count=False,
            # listed in this run (the purge counts on it), in the transaction that stores it
            listed_in=(item.column, state.run_id), preloaded=True, list_title=item.list_title,
        )
        for error in article.field_errors:
            message = f"{error.message}: {error.raw!r}" if error.raw else error.message
            record_error(session, self._run_id(), item.public_url, "field", message, error.field)
        return outcome

    def _run_id(self) -> int:
        if self.state.run_id is None:
            raise DropItem("no run is open (the site's lock is held elsewhere)")
        return self.state.run_id

    def problem(self, problem: CrawlProblem) -> None:
        """Record a problem of the run; one that is a request's outcome closes its frontier entry
        in the same transaction (``failed``, fetched again by the next run, unless its kind is
        final)."""
        self.crawler.stats.inc_value(f"blgw/errors/{problem.kind}")
        with self.state.session() as session:
            record_error(session, self._run_id(), problem.url, problem.kind, problem.message, problem.field)
            self.state.done(session, problem.frontier_key, failed=problem.retried)
