"""The next list page fetched while the last detail pages of the previous one are, not after.

Detail requests go before list requests (priority 10 against ``-page_number``): a crawl finishes
what it has found before it pages further, so its queue stays short (a few dozen requests, not
the whole site's) and the crawl's memory flat. Left at that, every list page is requested only
once the scheduler has no detail page left: while it is fetched and read, the downloader has
nothing else to do, and a crawl that is not slowed by its delay (a site that allows some
concurrency) spends a large part of its time waiting on one request. A bare Scrapy spider does
not wait there (its list and detail requests have one priority, so it pages as fast as the
site answers), but its queue grows with the site.

:class:`ListLookahead` keeps both: a list request the spider yields is held (recorded in the
frontier already: a crash or a stop leaves it pending, and the next run fetches it) while the
scheduler has at least :func:`low_water` requests, and let go, ahead of the detail requests,
when the scheduler falls below: it is fetched while the last few detail pages are, and its
entries arrive before the downloader runs dry. The queue stays bounded by one list page's
entries plus the low water. Held requests are let go lowest page first (several columns page
at once); the spider is never closed while one is held.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import AsyncIterator, Iterable
from typing import Any

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DontCloseSpider
from scrapy.http import Request, Response

from spiders import meta

__all__ = ["DETAIL_PRIORITY", "ListLookahead", "low_water"]

DETAIL_PRIORITY = 10  # spiders.site_spider: detail requests go before list requests


def low_water(per_domain: int) -> int:
    """Below this many scheduled requests a held list page is let go: two rounds of the site's
    concurrency, so its response is read before the downloader has nothing left."""
    return max(4, 2 * per_domain)


class ListLookahead:
    """A spider middleware (see the module documentation); it sits closest to the engine, after
    the frontier has recorded the requests."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.low = low_water(crawler.settings.getint("CONCURRENT_REQUESTS_PER_DOMAIN", 8))
        self._held: list[tuple[int, int, Request]] = []  # (page number, order, request)
        self._order = itertools.count()
        crawler.signals.connect(self._release_due, signal=signals.request_reached_downloader)
        crawler.signals.connect(self._on_idle, signal=signals.spider_idle)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ListLookahead:
        return cls(crawler)

    def _scheduled(self) -> int:
        scheduler = self.crawler.engine.scheduler if self.crawler.engine is not None else None
        return len(scheduler) if scheduler is not None and hasattr(scheduler, "__len__") else 0

    def _gate(self, out: Any) -> bool:
        """Whether ``out`` passes now (else it is held)."""
        if not isinstance(out, Request) or out.meta.get(meta.KIND) != "list" or out.method != "GET":
            return True  # a postback's pages carry their ViewState: they go as they come
        if not self._held and self._scheduled() < self.low:
            out.priority = DETAIL_PRIORITY + 1
            return True
        lr = out.meta.get(meta.LIST)
        heapq.heappush(self._held, (getattr(lr, "page_number", 0), next(self._order), out))
        return False

    def process_spider_output(self, response: Response, result: Iterable[Any]) -> Iterable[Any]:
        for out in result:
            if self._gate(out):
                yield out

    async def process_spider_output_async(self, response: Response,
                                          result: AsyncIterator[Any]) -> AsyncIterator[Any]:
        async for out in result:
            if self._gate(out):
                yield out

    def _release(self) -> None:
        _, _, request = heapq.heappop(self._held)
        request.priority = DETAIL_PRIORITY + 1  # next out of the scheduler
        engine = self.crawler.engine
        assert engine is not None  # a request is held only while the crawl runs
        engine.crawl(request)

    def _release_due(self, request: Request, spider: Any) -> None:
        if self._held and self._scheduled() < self.low:
            self._release()

    def _on_idle(self, spider: Any) -> None:
        if self._held:
            while self._held:
                self._release()
            raise DontCloseSpider
