"""Crawl progress on the terminal (``BLGW_PROGRESS_ENABLED``; the CLI turns it on)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from twisted.internet import task

from spiders.config import crawl_config
from spiders.crawlstate import running_spider


class Progress:
    """Prints one line per site every ``BLGW_PROGRESS_INTERVAL`` seconds and when it ends:
    pages fetched, items new / changed / unchanged, errors."""

    def __init__(self, crawler: Crawler, interval: float):
        self.crawler = crawler
        self.interval = interval
        self.loop: task.LoopingCall | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Progress:
        config = crawl_config(crawler)
        if not config.progress_enabled:
            raise NotConfigured
        ext = cls(crawler, config.progress_interval)
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def line(self) -> str:
        stats = self.crawler.stats
        get: Callable[[str], Any] = lambda key: stats.get_value(key, 0)
        errors = sum(v for k, v in stats.get_stats().items() if k.startswith("blgw/errors/"))
        return (
            f"[{running_spider(self.crawler).name}] pages {get('downloader/response_count')}"
            f" | lists {get('blgw/list_pages')}"
            f" | items new {get('blgw/items_new')} changed {get('blgw/items_changed')}"
            f" unchanged {get('blgw/items_unchanged')} | errors {errors}"
        )

    def spider_opened(self, spider: Spider) -> None:
        self.loop = task.LoopingCall(lambda: print(self.line(), file=sys.stderr, flush=True))
        self.loop.start(self.interval, now=False)

    def spider_closed(self, spider: Spider, reason: str) -> None:
        if self.loop and self.loop.running:
            self.loop.stop()
        print(f"{self.line()} | {reason}", file=sys.stderr, flush=True)
