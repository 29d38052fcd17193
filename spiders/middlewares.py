"""Downloader middlewares of the gateway."""

from __future__ import annotations

import asyncio
import random
from urllib.parse import urldefrag, urljoin

from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.exceptions import NotConfigured
from scrapy.http import Request, Response
from w3lib.url import safe_url_string

from spiders.errors import RedirectLoop


class BackoffRetryMiddleware(RetryMiddleware):
    """Scrapy's retry, but a retried request waits first: ``BLGW_RETRY_BACKOFF_BASE`` seconds
    times 2^(attempt-1), capped at ``BLGW_RETRY_BACKOFF_MAX``, with ±25 % jitter, so a failing
    small server gets breathing room instead of an immediate second hit."""

    def __init__(self, settings):
        super().__init__(settings)
        self.base = settings.getfloat("BLGW_RETRY_BACKOFF_BASE", 2.0)
        self.cap = settings.getfloat("BLGW_RETRY_BACKOFF_MAX", 60.0)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> BackoffRetryMiddleware:
        mw = cls(crawler.settings)
        mw.crawler = crawler
        return mw

    async def process_request(self, request: Request) -> None:
        delay = request.meta.get("blgw_backoff")
        if delay:
            await asyncio.sleep(delay)

    def _retry(self, request: Request, reason) -> Request | None:
        retry = super()._retry(request, reason)
        if retry is not None:
            attempt = retry.meta.get("retry_times", 1)
            delay = min(self.cap, self.base * 2 ** (attempt - 1)) * random.uniform(0.75, 1.25)
            retry.meta["blgw_backoff"] = delay
            self.crawler.stats.inc_value("blgw/retry_backoff_seconds", delay)
        return retry


class PageSizeLimitMiddleware:
    """A list or detail page larger than ``BLGW_MAX_PAGE_BYTES`` (10 MB) is refused: Scrapy
    cancels the download as soon as the Content-Length announces more, or once more has
    arrived, and the errback reports it (kind ``too-large``). A 50 MB file linked where a page
    was expected is never read into memory. Requests marked ``blgw_attachment`` in their meta
    keep the general ``DOWNLOAD_MAXSIZE``; a request's own ``download_maxsize`` meta wins."""

    def __init__(self, limit: int):
        self.limit = limit

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> PageSizeLimitMiddleware:
        limit = crawler.settings.getint("BLGW_MAX_PAGE_BYTES", 10 * 1024 * 1024)
        overall = crawler.settings.getint("DOWNLOAD_MAXSIZE", 0)
        if limit <= 0:
            raise NotConfigured
        return cls(min(limit, overall) if overall > 0 else limit)

    def process_request(self, request: Request) -> None:
        if not request.meta.get("blgw_attachment"):
            request.meta.setdefault("download_maxsize", self.limit)
        return None


_REDIRECTS = {301, 302, 303, 307, 308}


class RedirectLoopMiddleware:
    """Fails a request whose redirect leads back into its own redirect chain (a → b → a) with
    :class:`spiders.errors.RedirectLoop`, so the errback reports it (kind ``redirect``).
    Without it, Scrapy's RedirectMiddleware follows b → a and the duplicate filter drops the
    second a silently: the page would vanish from the run without a word. Placed above
    RedirectMiddleware (600), so it sees each 3xx response first."""

    def process_response(self, request: Request, response: Response) -> Response:
        if (response.status not in _REDIRECTS or request.meta.get("dont_redirect")
                or b"Location" not in response.headers):
            return response
        target = urljoin(request.url, safe_url_string(response.headers[b"Location"].decode("latin-1")))
        chain = [*request.meta.get("redirect_urls", []), request.url]
        if urldefrag(target)[0] in {urldefrag(u)[0] for u in chain}:
            raise RedirectLoop([*chain, target])
        return response


class BrowserRecycleMiddleware:
    """Keeps a browser crawl's memory bounded: every ``BLGW_BROWSER_RECYCLE_PAGES`` pages the
    Chromium process is closed once its open pages are done (new browser requests wait for it),
    and scrapy-playwright launches a fresh one for the next request. Pages are closed as soon as
    their HTML is read. Only enabled for sites that render pages in the browser."""

    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        self.recycle_after = crawler.settings.getint("BLGW_BROWSER_RECYCLE_PAGES", 100)
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
            return None
        while self.draining:
            await self.idle.wait()
        request.meta["playwright_include_page"] = True
        self.in_flight += 1
        return None

    async def process_response(self, request: Request, response):
        if request.meta.get("playwright"):
            page = request.meta.pop("playwright_page", None)
            await self._done(page)
        return response

    async def process_exception(self, request: Request, exception: Exception) -> None:
        if request.meta.get("playwright"):
            await self._done(request.meta.pop("playwright_page", None))
        return None

    async def _done(self, page) -> None:
        browser = None
        if page is not None:
            browser = page.context.browser
            try:
                await page.close()
            except Exception:  # noqa: BLE001 - an already-closed page is fine
                pass
        self.in_flight = max(0, self.in_flight - 1)
        self.pages += 1
        if self.pages >= self.recycle_after and not self.draining:
            self.draining = True
            self.idle.clear()
        if self.draining and self.in_flight == 0:
            if browser is not None:
                try:
                    await browser.close()  # scrapy-playwright relaunches on the next request
                except Exception:  # noqa: BLE001
                    pass
                self.crawler.stats.inc_value("blgw/browser_restarts")
            self.pages = 0
            self.draining = False
            self.idle.set()
