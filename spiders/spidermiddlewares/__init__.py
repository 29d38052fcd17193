"""The gateway's spider middlewares, one per module (enabled in ``spiders.settings``): the
crawl's bookkeeping in the store, kept out of the spider."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from typing import Any

from scrapy.http import Response

from spiders.crawlstate import StoreFailed, UsesCrawlState

__all__ = ["PageOutputMiddleware"]


class PageOutputMiddleware(UsesCrawlState):
    """A spider middleware that looks at all a page produced at once: Scrapy's sync and async
    output paths both come to :meth:`page_output` with the outputs as a list."""

    def page_output(self, response: Response, outputs: list[Any]) -> list[Any]:
        raise NotImplementedError

    def _guarded(self, response: Response, outputs: list[Any]) -> list[Any]:
        try:
            return self.page_output(response, outputs)
        except StoreFailed:  # the crawl is stopping (CrawlState.session); the page stays pending
            return []

    def process_spider_output(self, response: Response, result: Iterable[Any]) -> Iterable[Any]:
        return self._guarded(response, list(result))

    async def process_spider_output_async(self, response: Response,
                                          result: AsyncIterator[Any]) -> AsyncIterator[Any]:
        outputs = [out async for out in result]
        for out in self._guarded(response, outputs):
            yield out
