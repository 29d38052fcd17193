"""Conditional GET: ask a subsite only for what changed.

For list and detail pages of a crawl with a store, the ETag and Last-Modified the page had
last time (``url_state``) go out as ``If-None-Match`` / ``If-Modified-Since``; a
``304 Not Modified`` answer reaches the spider, which treats the page as unchanged (a list:
paging stops there; a detail: its stored item is kept and marked listed). Every answer's
validators and body hash are recorded for the next run. A full run sends no validators for
list pages: it must read every list to find documents that were dropped. Pages rendered in the
browser are left alone.
"""

from __future__ import annotations

from scrapy.http import Request, Response

from spiders import meta
from spiders.crawlstate import UsesCrawlState

__all__ = ["ConditionalGetMiddleware"]


class ConditionalGetMiddleware(UsesCrawlState):

    def _kind(self, request: Request) -> str | None:
        kind: str | None = request.meta.get(meta.KIND)
        if kind not in ("list", "detail") or request.meta.get("playwright") or request.method != "GET":
            return None
        return kind

    def process_request(self, request: Request) -> None:
        kind = self._kind(request)
        if kind is None or (kind == "list" and self.state.full) or request.meta.get(meta.RETRY):
            return
        etag, last_modified = self.state.validators(self.spider.public_url(request.url))
        if etag:
            request.headers.setdefault(b"If-None-Match", etag.encode("latin-1", "replace"))
        if last_modified:
            request.headers.setdefault(b"If-Modified-Since", last_modified.encode("latin-1", "replace"))
        if etag or last_modified:
            allowed = list(request.meta.get("handle_httpstatus_list", []))
            if 304 not in allowed:
                request.meta["handle_httpstatus_list"] = [*allowed, 304]
            self.crawler.stats.inc_value("blgw/conditional_requests")

    def process_response(self, request: Request, response: Response) -> Response:
        kind = self._kind(request)
        if kind is None:
            return response
        if response.status == 304:
            self.crawler.stats.inc_value("blgw/not_modified")
        elif response.status != 200:
            return response

        def header(name: bytes) -> str | None:
            value = response.headers.get(name)
            return value.decode("latin-1")[:300] if value else None

        self.state.saw_response(self.spider.public_url(request.url), kind, response.status, header(b"ETag"),
                                header(b"Last-Modified"), response.body if response.status == 200 else None)
        return response
