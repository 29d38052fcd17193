"""The pipeline from fetched page to store: normalize (pure), let plugins adjust, upsert.

Every problem (HTTP, network, extraction, field) is recorded against the run; a page's
outcome (its item stored, or the problem that stopped it) and its frontier entry marked done
are written in one transaction, so a crash leaves both or neither.
"""

from __future__ import annotations

from typing import Any

from scrapy.exceptions import DropItem
from sqlalchemy import update

from gateway.store.models import Document
from gateway.store.repository import record_error, upsert_article
from spiders.crawlstate import StoreFailed, UsesCrawlState
from spiders.items import CrawlProblem, FetchedPage
from spiders.pipelines import NormalizingPipeline

__all__ = ["StorePipeline"]


class StorePipeline(UsesCrawlState, NormalizingPipeline):
    """Normalizes each :class:`FetchedPage` and upserts it into the store of the crawl's
    :class:`~spiders.crawlstate.CrawlState`."""

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
        if self.budgeted(item):
            return self._store_budgeted(item)
        return self._store(item, *self.normalize(item))

    async def _store_budgeted(self, item: FetchedPage) -> Any:
        try:
            return self._store(item, *(await self.normalize_in_budget(item)))
        except StoreFailed as exc:
            raise DropItem(f"not stored, the store failed: {exc}") from None

    def _store(self, item: FetchedPage, article: Any, problems: list[CrawlProblem]) -> Any:
        for problem in problems:
            self.problem(problem)
        state = self.state
        with state.session() as session:
            outcome = upsert_article(
                session, article, fetch_url=item.fetch_url, raw_body=item.body,
                content_type=item.content_type, http_status=item.status, run_id=state.run_id,
            )
            for error in article.field_errors:
                message = f"{error.message}: {error.raw!r}" if error.raw else error.message
                record_error(session, self._run_id(), item.public_url, "field", message, error.field)
            # listed in this run (the purge counts on it), and its frontier entry done, in
            # the transaction that stores it: a crash leaves either both or neither
            session.execute(update(Document).where(Document.id == article.id)
                            .values(column=item.column, last_listed_run_id=state.run_id, missed_runs=0))
            state.record_links(item.public_url, item.body, item.content_type, self.spider.fetch_origin,
                               session=session)
            state.done(session, item.frontier_key)
        self.crawler.stats.inc_value(f"blgw/items_{outcome.value}")
        return self.exported(article)

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
