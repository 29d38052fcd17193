"""The run's frontier: every list and detail request is in the store before it is scheduled.

:class:`FrontierMiddleware` sits last before the engine (after Scrapy's own filters), so what
it records is what gets scheduled:

* **start**: a new run's start requests are recorded; a continued run (the last one was
  killed or interrupted) schedules its pending frontier entries instead, rebuilt by the
  spider (:meth:`~spiders.site_spider.SiteSpider.request_from_frontier`); a site whose lock is
  held elsewhere is not crawled at all.
* **a page's output**: the requests a list or detail page produced are written ``pending`` and
  the page itself ``done``, in one transaction; requests this run already has are dropped (a
  continued run never fetches a done page again). A detail page's item carries the page's
  frontier key instead: the store pipeline marks it done in the transaction that stores it. A
  multi-page article's other pages (kind ``part``) are not entries: the first page's key travels
  with them (:class:`~spiders.site_spider.ArticleParts`) to the article's item or failure.
* **errbacks**: Scrapy does not pass an errback's output through the spider middlewares when
  the download failed (only when a middleware raised, as for an HTTP error status), so the
  middleware wraps the errback of every request it records and records its output there, once
  (:data:`spiders.meta.ERRBACK_RECORDED`); a failure's problem carries the request's frontier key
  (the pipeline records both in one transaction), and requests an errback makes (a postback
  list restarted) are recorded like any page's.
* **columns**: list requests in flight per column (:class:`~spiders.crawlstate.ColumnProgress`);
  when a column's last one is read, its adaptive revisit interval is updated.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

from scrapy.http import Request, Response
from twisted.python.failure import Failure

from spiders import meta
from spiders.crawlstate import StoreFailed
from spiders.items import CrawlProblem, FetchedPage
from spiders.spidermiddlewares import PageOutputMiddleware

__all__ = ["FrontierMiddleware"]

log = logging.getLogger(__name__)

Errback = Callable[[Failure], Any]


class FrontierMiddleware(PageOutputMiddleware):

    # --- start ------------------------------------------------------------------------------

    async def process_start(self, start: AsyncIterator[Any]) -> AsyncIterator[Any]:
        state = self.state
        if state.busy:
            log.warning("not crawling: %s", state.busy)
            return
        if state.resumed:
            log.warning("continuing run %s of %s after an interruption: %d pending request(s)",
                        state.run_id, state.site_code, len(state.pending))
            self.crawler.stats.set_value("blgw/resumed_pending", len(state.pending))
            for entry in state.pending:
                if entry.kind == "recheck":  # sent by the stale-document purge (spiders.extensions.purge)
                    continue
                request = self._rebuild(entry)
                if request is not None:
                    yield request
            # and the start requests the run never recorded (it died, or the store failed, while
            # recording them): those it has, done or pending, are dropped by the frontier
        try:
            async for out in start:
                for kept in self._record([out]):
                    yield kept
        except StoreFailed:  # the crawl is stopping (CrawlState.session)
            return
        if state.pending and not state.resumed:  # what earlier runs did not get (CrawlState.carry_over), recorded already
            log.warning("run %s of %s: fetching %d page(s) earlier runs did not get",
                        state.run_id, state.site_code, len(state.pending))
            self.crawler.stats.set_value("blgw/carried_over", len(state.pending))
            for entry in state.pending:
                request = self._rebuild(entry)
                if request is not None:
                    request.meta[meta.RETRY] = True
                    yield request

    def _rebuild(self, entry: Any) -> Request | None:
        """A pending request of a continued run, from its frontier entry."""
        try:
            request = self.spider.request_from_frontier(entry.kind, entry.payload or {})
        except (KeyError, TypeError, ValueError) as exc:
            log.error("frontier entry %s of run %s cannot be continued (%s); it is dropped",
                      entry.key, entry.run_id, exc)
            self.state.mark_done(entry.key)
            return None
        request.meta[meta.KEY] = entry.key
        request.dont_filter = True
        if entry.kind == "list":
            self.state.progress(request.meta[meta.COLUMN]).outstanding += 1
        self._wrap_errback(request)
        return request

    # --- a page's output --------------------------------------------------------------------

    def page_output(self, response: Response, outputs: list[Any]) -> list[Any]:
        request = response.request
        assert request is not None
        kind = request.meta.get(meta.KIND)
        if kind not in ("list", "detail") or request.meta.get(meta.ERRBACK_RECORDED):
            return outputs  # not ours, or an errback's output, recorded already
        key = request.meta.get(meta.KEY)
        handed_over = False
        for out in outputs:
            if isinstance(out, FetchedPage) and out.frontier_key in (None, key):
                out.frontier_key = key  # done when the item is stored
                handed_over = True
            elif isinstance(out, Request) and out.meta.get(meta.KIND) == "part":
                handed_over = True  # a multi-page article: its item (or failure) carries the key
            elif isinstance(out, CrawlProblem) and out.outcome and out.frontier_key is None and not handed_over:
                out.frontier_key = key  # closed (failed) when the problem is recorded
                handed_over = True
                if kind == "list":
                    self.state.progress(request.meta[meta.COLUMN]).complete = False
        kept = self._record(outputs, None if handed_over else key)
        if kind == "list":
            column = request.meta[meta.COLUMN]
            progress = self.state.progress(column)
            progress.outstanding -= 1
            if progress.outstanding <= 0:
                interval = self.state.column_visited(column, progress.new_items)
                log.info("column %s read; next visit in %s", column, interval)
        return kept

    # --- errbacks ---------------------------------------------------------------------------

    def _wrap_errback(self, request: Request) -> None:
        original: Errback | None = request.errback

        def errback(failure: Failure) -> list[Any]:
            failed = failure.request  # type: ignore[attr-defined]  # set by Scrapy, undeclared by Twisted
            if isinstance(failure.value, StoreFailed):  # the store, not the page, failed: it stays pending
                failed.meta[meta.ERRBACK_RECORDED] = True
                return []
            outputs = list(original(failure) or ()) if original is not None else []
            key = failed.meta.get(meta.KEY)
            handed_over = False
            for out in outputs:
                if isinstance(out, CrawlProblem) and out.frontier_key is None:
                    out.frontier_key = key  # done when the problem is recorded
                    handed_over = True
            list_column = failed.meta.get(meta.COLUMN) if failed.meta.get(meta.KIND) == "list" else None
            if list_column is not None:
                self.state.progress(list_column).complete = False
            kept = self._record(outputs, None if handed_over else key)
            if list_column is not None:
                self.state.progress(list_column).outstanding -= 1
            failed.meta[meta.ERRBACK_RECORDED] = True
            return kept

        request.errback = errback

    # --- recording --------------------------------------------------------------------------

    def _key(self, request: Request) -> str:
        lr = request.meta.get(meta.LIST)
        restart = f":restart{request.meta.get(meta.RESTARTS, 0)}" if lr is not None and lr.kind == "restart" else ""
        return self.crawler.request_fingerprinter.fingerprint(request).hex() + restart

    def _record(self, outputs: list[Any], parent: str | None = None) -> list[Any]:
        """Record the list and detail requests among ``outputs`` as pending and the parent
        page as done, in one transaction; return the outputs minus requests this run already
        has."""
        children, where = [], []
        for i, out in enumerate(outputs):
            if isinstance(out, Request) and out.meta.get(meta.KIND) in ("list", "detail"):
                if meta.KEY not in out.meta:
                    out.meta[meta.KEY] = self._key(out)
                children.append((out.meta[meta.KEY], out.meta[meta.KIND], out.url, self.spider.frontier_payload(out)))
                where.append(i)
        fresh = self.state.record(children, parent)
        drop = {where[j] for j, is_new in enumerate(fresh) if not is_new}
        kept = [out for i, out in enumerate(outputs) if i not in drop]
        for out in kept:
            if isinstance(out, Request) and out.meta.get(meta.KIND) in ("list", "detail"):
                if out.meta[meta.KIND] == "list":
                    self.state.progress(out.meta[meta.COLUMN]).outstanding += 1
                self._wrap_errback(out)
        return kept
