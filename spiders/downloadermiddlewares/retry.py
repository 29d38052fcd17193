"""Retries with exponential backoff."""

from __future__ import annotations

import asyncio
import random
from typing import Any

from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.http import Request

from spiders import meta
from spiders.config import crawl_config

__all__ = ["BackoffRetryMiddleware"]


class BackoffRetryMiddleware(RetryMiddleware):
    """Scrapy's retry, but a retried request waits first: ``BLGW_RETRY_BACKOFF_BASE`` seconds
    times 2^(attempt-1), capped at ``BLGW_RETRY_BACKOFF_MAX``, with ±25 % jitter, so a failing
    small server gets breathing room instead of an immediate second hit."""

    def __init__(self, crawler: Crawler):
        super().__init__(crawler.settings)
        self.crawler = crawler
        config = crawl_config(crawler)
        self.base = config.retry_backoff_base
        self.cap = config.retry_backoff_max

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> BackoffRetryMiddleware:
        return cls(crawler)

    async def process_request(self, request: Request) -> None:
        delay = request.meta.get(meta.BACKOFF)
        if delay:
            await asyncio.sleep(delay)

    def _retry(self, request: Request, reason: Any) -> Request | None:
        retry = super()._retry(request, reason)
        if retry is not None:
            attempt = retry.meta.get("retry_times", 1)
            delay = min(self.cap, self.base * 2 ** (attempt - 1)) * random.uniform(0.75, 1.25)
            retry.meta[meta.BACKOFF] = delay
            self.crawler.stats.inc_value("blgw/retry_backoff_seconds", delay)
        return retry
