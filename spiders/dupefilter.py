"""Scrapy's duplicate filter, minus the requests the run's frontier already de-duplicated.

A request with a frontier key (:data:`spiders.meta.KEY`) was recorded in the store, whose
unique ``(run_id, key)`` let it through only once per run (spiders.crawlstate); keeping its
fingerprint in memory as well would grow the crawl's memory by one entry per page for
nothing. Other requests (robots.txt, entry pages, dry runs without a store) are filtered as
Scrapy always does.
"""

from __future__ import annotations

from scrapy.dupefilters import RFPDupeFilter
from scrapy.http import Request

from spiders import meta


class FrontierDupeFilter(RFPDupeFilter):
    def request_seen(self, request: Request) -> bool:
        if request.meta.get(meta.KEY):
            return False
        return super().request_seen(request)
