"""Downloader middlewares of the gateway."""

from __future__ import annotations

import asyncio
import random

from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.http import Request


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
