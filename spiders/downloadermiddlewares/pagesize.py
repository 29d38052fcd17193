"""The page size limit: a list or detail page is never read past ``BLGW_MAX_PAGE_BYTES``."""

from __future__ import annotations

from scrapy.crawler import Crawler
from scrapy.http import Request

from spiders import meta
from spiders.config import crawl_config

__all__ = ["PageSizeLimitMiddleware"]


class PageSizeLimitMiddleware:
    """A list or detail page larger than ``BLGW_MAX_PAGE_BYTES`` (10 MB) is refused: Scrapy
    cancels the download as soon as the Content-Length announces more, or once more has
    arrived, and the errback reports it (kind ``too-large``). A 50 MB file linked where a page
    was expected is never read into memory. Requests marked as attachments
    (:data:`spiders.meta.ATTACHMENT`) keep the general ``DOWNLOAD_MAXSIZE``; a request's own
    ``download_maxsize`` meta wins."""

    def __init__(self, limit: int):
        self.limit = limit

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> PageSizeLimitMiddleware:
        limit = crawl_config(crawler).max_page_bytes
        overall = crawler.settings.getint("DOWNLOAD_MAXSIZE", 0)
        return cls(min(limit, overall) if overall > 0 else limit)

    def process_request(self, request: Request) -> None:
        if not request.meta.get(meta.ATTACHMENT):
            request.meta.setdefault("download_maxsize", self.limit)
