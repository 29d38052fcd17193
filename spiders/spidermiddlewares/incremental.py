"""Incremental crawls: what the store already has is not fetched again.

:class:`IncrementalMiddleware` sits between the spider and the frontier:

* at the start of a scheduled run (``BLGW_ADAPTIVE_REVISIT``), the list requests of columns
  whose adaptive revisit is not due yet are dropped;
* on a list page's output, the detail requests whose document is stored, active, listed with
  the same title and fetched less than ``BLGW_REFETCH_DAYS`` ago are dropped and the documents
  marked listed (they count as unchanged items of the run); after ``BLGW_INCREMENTAL_STOP`` list
  pages in a row holding only such entries, the next list pages are dropped too (not in a full
  run: it reads every page, so that it can purge);
* whatever makes a column's reading incomplete (a 304 list, the paging cap, an incremental stop)
  is noted, so the purge never takes an unread page for a withdrawn item;
* a detail page answered 304 (conditional GET) marks its document listed and verified;
* a single-page column's page, once stored, is not fetched again within the refetch window
  (the re-verification comes to it);
* after the start requests, the rolling re-verification's detail requests: stored pages
  verified longest ago, fetched again whatever their lists say (a body edited in place).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from scrapy.http import Request, Response

from gateway.store.models import utcnow
from normalizers.models import document_id
from spiders import meta
from spiders.crawlstate import ColumnProgress
from spiders.items import CrawlProblem
from spiders.spidermiddlewares import PageOutputMiddleware

__all__ = ["IncrementalMiddleware"]


class IncrementalMiddleware(PageOutputMiddleware):

    async def process_start(self, start: AsyncIterator[Any]) -> AsyncIterator[Any]:
        async for out in start:
            if isinstance(out, Request) and out.meta.get(meta.KIND) == "list" \
                    and not self.state.column_due(out.meta[meta.COLUMN]):
                self.spider.decide(out.meta[meta.COLUMN], 0, out.url, 0, "not due (adaptive revisit)")
                self.crawler.stats.inc_value("blgw/columns_not_due")
                continue
            if isinstance(out, Request) and out.meta.get(meta.KIND) == "detail" and self._single_page_known(out):
                continue
            yield out
        for request in self._reverify():
            yield request

    def _single_page_known(self, request: Request) -> bool:
        """A single-page column (``layout = "page"``) has no list to say it changed: once stored,
        it is not fetched again until the rolling re-verification or the refetch window comes
        to it (it counts as an unchanged item of the run)."""
        state = self.state
        public = self.spider.public_url(request.url)
        known = state.known([public]).get(public)
        if known is None or known.status != "active" or state.refetch_after.total_seconds() <= 0:
            return False
        if utcnow() - known.last_seen_at > state.refetch_after:
            return False
        state.listed(request.meta[meta.COLUMN], [known.id])
        self.crawler.stats.inc_value("blgw/single_pages_known")
        return True

    def _reverify(self) -> list[Request]:
        """The detail requests of this run's rolling re-verification (see
        :meth:`spiders.crawlstate.CrawlState.reverify_batch`): stored pages of the columns this
        crawl reads, fetched again (a conditional GET when the server gave validators)."""
        state = self.state
        if state.busy or state.resumed:  # a continued run's batch is in its frontier already
            return []
        columns = {c.name for c in self.spider.columns()}
        requests = []
        for page in state.reverify_batch():
            if page.column not in columns:
                continue
            payload = {"column": page.column, "entry": {"url": self.spider.fetch_url(page.url), "title": page.title,
                                                        "date": None}}
            requests.append(self.spider.request_from_frontier("detail", payload))
        if requests:
            self.crawler.stats.inc_value("blgw/reverify/requests", len(requests))
            self.spider.logger.info("re-verifying %d stored page(s), verified longest ago", len(requests))
        return requests

    def page_output(self, response: Response, outputs: list[Any]) -> list[Any]:
        request = response.request
        assert request is not None
        kind = request.meta.get(meta.KIND)
        if kind == "detail" and response.status == 304:  # unchanged: its stored item stands, verified now
            ids = [document_id(self.spider.public_url(response.url))]
            self.state.listed(request.meta[meta.COLUMN], ids)
            self.state.verified(ids)
            return outputs
        if kind != "list":
            return outputs
        column = request.meta[meta.COLUMN]
        progress = self.state.progress(column)
        if response.status == 304:  # the list is as it was: paging stops here, so not a complete reading
            progress.complete = False
            return outputs
        return self._known_left_out(outputs, column, progress)

    def _known_left_out(self, outputs: list[Any], column: str, progress: ColumnProgress) -> list[Any]:
        state, stats = self.state, self.crawler.stats
        details = [o for o in outputs if isinstance(o, Request) and o.meta.get(meta.KIND) == "detail"]
        publics = [self.spider.public_url(o.url) for o in details]
        known = state.known(publics)
        state.record_listings(column, [document_id(p) for p in publics])  # every listing, stored or not
        drop: set[int] = set()
        listed, owned = [], []
        for request, public in zip(details, publics, strict=True):
            k = known.get(public)
            primary = state.primary_column(self.spider.site, document_id(public), public, column)
            # a document stored under another column than its primary one is read again, under it
            settled = k is None or k.column is None or k.column == primary or primary != column
            if settled and state.unchanged(request.meta[meta.ENTRY].title, k):
                assert k is not None
                listed.append(k.id)
                if primary == column:
                    owned.append(k.id)
                drop.add(id(request))
            elif k is None:
                progress.new_items += 1
        if listed:
            state.listed(column, listed, primary=owned)
            stats.inc_value("blgw/items_listed_unchanged", len(listed))
        if details and len(drop) == len(details):
            progress.known_pages += 1
        elif details:
            progress.known_pages = 0
        if any(isinstance(o, CrawlProblem) and o.kind == "paging-cap" for o in outputs):
            progress.complete = False  # the paging cap, not the list's end: not a complete reading
        # a restart of a postback list is not paging on: never stopped
        nexts = [o for o in outputs if isinstance(o, Request) and o.meta.get(meta.KIND) == "list"
                 and o.meta[meta.LIST].kind != "restart"]
        if (not state.full and nexts and state.incremental_stop > 0
                and progress.known_pages >= state.incremental_stop):
            drop.update(id(o) for o in nexts)
            progress.complete = False
            stats.inc_value("blgw/incremental_stops")
            self.spider.logger.info("column %s: incremental stop: %d list page(s) in a row held only known, "
                                    "unchanged items", column, progress.known_pages)
        return [o for o in outputs if id(o) not in drop]
