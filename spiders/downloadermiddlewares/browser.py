"""Bounded browser memory for the sites rendered in Chromium."""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING

from scrapy.crawler import Crawler
from scrapy.http import Request, Response

from spiders.config import crawl_config

if TYPE_CHECKING:  # Playwright is loaded only for sites with browser pages
    from playwright.async_api import Page

__all__ = ["BrowserRecycleMiddleware"]


class BrowserRecycleMiddleware:
    """Keeps a browser crawl's memory bounded: every ``BLGW_BROWSER_RECYCLE_PAGES`` pages the
    Chromium process is closed once its open pages are done (new browser requests wait for it),
    and scrapy-playwright launches a fresh one for the next request. Pages are closed as soon as
    their HTML is read. Only enabled for sites that render pages in the browser."""

    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        self.recycle_after = crawl_config(crawler).browser_recycle_pages
        self.in_flight = 0
        self.pages = 0
        self.idle = asyncio.Event()
        self.idle.set()
        self.draining = False

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> BrowserRecycleMiddleware:
        return cls(crawler)

    async def process_request(self, request: Request) -> None:
        if not request.meta.get("playwright"):
            return
        while self.draining:
            await self.idle.wait()
        request.meta["playwright_include_page"] = True
        self.in_flight += 1

    async def process_response(self, request: Request, response: Response) -> Response:
        if request.meta.get("playwright"):
            page = request.meta.pop("playwright_page", None)
            await self._done(page)
        return response

    async def process_exception(self, request: Request, exception: Exception) -> None:
        if request.meta.get("playwright"):
            await self._done(request.meta.pop("playwright_page", None))

    async def _done(self, page: Page | None) -> None:
        browser = None
        if page is not None:
            browser = page.context.browser
            with contextlib.suppress(Exception):  # an already-closed page is fine
                await page.close()
        self.in_flight = max(0, self.in_flight - 1)
        self.pages += 1
        if self.pages >= self.recycle_after and not self.draining:
            self.draining = True
            self.idle.clear()
        if self.draining and self.in_flight == 0:
            if browser is not None:
                with contextlib.suppress(Exception):  # a browser already gone is fine
                    await browser.close()  # scrapy-playwright relaunches on the next request
                self.crawler.stats.inc_value("blgw/browser_restarts")
            self.pages = 0
            self.draining = False
            self.idle.set()
