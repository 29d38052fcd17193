"""The links of every list page, recorded for the dead-link report (detail pages' links are
recorded by the store pipeline, in the transaction that stores the item)."""

from __future__ import annotations

from scrapy.http import Response

from normalizers.links import links_from_body
from spiders import meta
from spiders.crawlstate import StoreFailed, UsesCrawlState

__all__ = ["LinkRecorderMiddleware"]


class LinkRecorderMiddleware(UsesCrawlState):
    """Records the links of each list page the spider reads (a GET replaces the page's set of
    links; a POST — the pages of a postback list share one URL — adds to it), in the transaction
    that marks the page done (``CrawlState.remember_links``)."""

    def process_spider_input(self, response: Response) -> None:
        request = response.request
        if request is None or request.meta.get(meta.KIND) != "list" or response.status == 304:
            return
        spider = self.spider
        content_type = (response.headers.get("Content-Type") or b"").decode("latin-1") or None
        try:
            public_url = spider.public_url(response.url)
            links = links_from_body(response.body, content_type, public_url, fetch_origin=spider.fetch_origin)
            self.state.remember_links(public_url, links, replace=request.method == "GET")
        except StoreFailed:  # the crawl is stopping (CrawlState.session); the page stays pending
            return
