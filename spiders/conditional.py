"""Conditional GET: ask a subsite only for what changed.

For list and detail pages of a crawl with a store (``spider.state``), the ETag and
Last-Modified the page had last time (``url_state``) go out as ``If-None-Match`` /
``If-Modified-Since``; a ``304 Not Modified`` answer reaches the spider, which treats the page
as unchanged (a list: paging stops there; a detail: its stored item is kept and marked
listed). Every answer's validators and body hash are recorded for the next run. A full run
sends no validators for list pages: it must read every list to find documents that were
dropped. Pages rendered in the browser are left alone.
"""

from __future__ import annotations

from scrapy.crawler import Crawler
from scrapy.http import Request, Response


class ConditionalGetMiddleware:
    def __init__(self, crawler: Crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ConditionalGetMiddleware:
        return cls(crawler)

    def _applies(self, request: Request):
        spider = self.crawler.spider
        state = getattr(spider, "state", None)
        kind = request.meta.get("blgw_kind")
        if state is None or kind not in ("list", "detail") or request.meta.get("playwright"):
            return None, None, None
        return spider, state, kind

    def process_request(self, request: Request) -> None:
        spider, state, kind = self._applies(request)
        if state is None or request.method != "GET" or (kind == "list" and state.full):
            return None
        etag, last_modified = state.validators(spider.public_url(request.url))
        if etag:
            request.headers.setdefault(b"If-None-Match", etag.encode("latin-1", "replace"))
        if last_modified:
            request.headers.setdefault(b"If-Modified-Since", last_modified.encode("latin-1", "replace"))
        if etag or last_modified:
            allowed = list(request.meta.get("handle_httpstatus_list", []))
            if 304 not in allowed:
                request.meta["handle_httpstatus_list"] = [*allowed, 304]
            self.crawler.stats.inc_value("blgw/conditional_requests")
        return None

    def process_response(self, request: Request, response: Response) -> Response:
        spider, state, kind = self._applies(request)
        if state is None or request.method != "GET":
            return response
        if response.status == 304:
            self.crawler.stats.inc_value("blgw/not_modified")
        elif response.status != 200:
            return response

        def header(name: bytes) -> str | None:
            value = response.headers.get(name)
            return value.decode("latin-1")[:300] if value else None

        state.saw_response(spider.public_url(request.url), kind, response.status, header(b"ETag"),
                           header(b"Last-Modified"), response.body if response.status == 200 else None)
        return response
