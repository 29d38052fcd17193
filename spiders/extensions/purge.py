"""The stale-document purge: documents a full run's lists stopped showing are re-checked.

After the list traversal of a full run (the spider is idle and no column has a list request in
flight), :meth:`spiders.crawlstate.CrawlState.stale_documents` counts one more missed run for
the documents of completely read columns that the run did not list, and returns those missed
``BLGW_PURGE_AFTER_RUNS`` times; each is fetched again: 404/410, or a page still dropped from
every list, marks it gone (kept in the store, deleted from the index). A 5xx or a timeout keeps
it. A continued run first sends the re-checks its interrupted process left pending.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DontCloseSpider
from scrapy.http import Request, Response
from twisted.python.failure import Failure

from spiders import meta
from spiders.crawlstate import CrawlState, running_spider
from spiders.items import CrawlProblem

__all__ = ["StalePurge"]

log = logging.getLogger(__name__)


class StalePurge:
    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        self.state: CrawlState | None = None
        self._resent = False

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StalePurge:
        ext = cls(crawler)
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_idle, signal=signals.spider_idle)
        return ext

    def spider_opened(self, spider: Spider) -> None:
        # extensions cannot look each other up while they are being built: now they can
        self.state = self.crawler.get_extension(CrawlState)

    def spider_idle(self, spider: Spider) -> None:
        """Re-check the documents no longer listed, once per full run; the spider stays open
        for them."""
        state = self.state
        if state is None or state.busy or state.run_id is None:
            return
        if state.resumed and not self._resent:
            self._resent = True
            left = [e for e in state.pending if e.kind == "recheck"]
            for entry in left:
                self.crawler.engine.crawl(self.request(entry.key, entry.url, entry.payload or {}))
            if left:
                raise DontCloseSpider
        if state.purged or not state.full or any(p.outstanding for p in state.columns.values()):
            return
        rechecks = state.stale_documents()
        for entry in rechecks:
            self.crawler.engine.crawl(self.request(entry.key, entry.url, entry.payload))
        if rechecks:
            log.info("re-checking %d document(s) no longer listed", len(rechecks))
            raise DontCloseSpider

    def request(self, key: str, url: str, payload: dict[str, Any]) -> Request:
        """The re-check of one document (its frontier entry ``key``)."""
        return Request(url, callback=self.parse_recheck, errback=self.recheck_failed, dont_filter=True,
                       meta={meta.KEY: key, meta.KIND: "recheck", "handle_httpstatus_list": [404, 410],
                             meta.DOC: payload.get("doc"), meta.MISSED: payload.get("missed", 0)})

    def parse_recheck(self, response: Response) -> Iterator[Any]:
        assert self.state is not None
        request_meta = response.meta
        if response.status in (404, 410):
            reason = f"HTTP {response.status} on re-check"
        else:
            reason = f"dropped from every list of its column for {request_meta.get(meta.MISSED)} full run(s)"
        if self.state.gone(request_meta[meta.DOC], reason, request_meta[meta.KEY]):
            log.info("document %s gone: %s (%s)", request_meta[meta.DOC], reason, response.url)
            self.crawler.stats.inc_value("blgw/items_gone")
        return iter(())

    def recheck_failed(self, failure: Failure) -> Iterator[Any]:
        """A re-check that failed (5xx, timeout…) keeps the document; the failure is reported."""
        request = failure.request  # type: ignore[attr-defined]  # set by Scrapy, undeclared by Twisted
        problems = list(running_spider(self.crawler).on_error(failure))
        for problem in problems:
            if isinstance(problem, CrawlProblem):
                problem.message = f"re-check of a document no longer listed: {problem.message} (kept)"
                problem.frontier_key = request.meta.get(meta.KEY)
        return iter(problems)
