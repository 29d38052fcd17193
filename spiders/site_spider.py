"""The one generic spider: it runs any site plugin (columns, list pages, paging, detail pages).

Each registered site becomes a subclass named by its site code (see ``spiders.loader``), so
``scrapy crawl rsj`` works. Spider arguments: ``columns`` (comma-separated column names to
limit the crawl) and ``max_pages`` (list pages per column, overriding the plugin's cap).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import AsyncIterator, Iterator
from typing import Any, ClassVar
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

import scrapy
from parsel import Selector
from scrapy.http import Request, Response
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from gateway.settings import get_settings, parse_origins
from normalizers.encoding import decode_html
from normalizers.models import SHANGHAI
from normalizers.urls import canonicalize_url, rebase
from plugins.manager import SiteRegistry
from plugins.spec import (
    Column,
    ListEntry,
    ListRules,
    NextLinkPaging,
    QueryParamPaging,
    SiteSpec,
)
from spiders.items import CrawlProblem, FetchedPage


def select_all(root: Selector, selector: str) -> list[Selector]:
    """CSS, or XPath when the selector starts with '/' or '(' (or './')."""
    if selector.startswith(("/", "(", "./")):
        return list(root.xpath(selector))
    return list(root.css(selector))


def select_text(root: Selector, selector: str | None) -> str | None:
    """The text of the first match: an attribute / text node value, or an element's text."""
    if not selector:
        return None
    for node in select_all(root, selector):
        value = node.get()
        if value is None:
            continue
        if isinstance(node.root, str):
            text = value
        else:
            text = " ".join(node.xpath(".//text()").getall())
        text = " ".join(text.split())
        if text:
            return text
    return None


class SiteSpider(scrapy.Spider):
    """Crawls one site as its plugin describes. Subclasses set ``name``, ``site`` and ``registry``."""

    name = "site"
    site: ClassVar[SiteSpec]
    registry: ClassVar[SiteRegistry]

    def __init__(self, *args: Any, columns: str | None = None, max_pages: str | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.only_columns = {c.strip() for c in columns.split(",")} if columns else None
        self.max_pages_override = int(max_pages) if max_pages else None
        self.fetch_origin: str | None = None
        self._seen_in_column: dict[str, set[str]] = {}

    @classmethod
    def from_crawler(cls, crawler, *args: Any, **kwargs: Any):
        spider = super().from_crawler(crawler, *args, **kwargs)
        origins = {**get_settings().origins, **parse_origins(crawler.settings.get("BLGW_ORIGINS"))}
        spider.fetch_origin = origins.get(cls.site.code)
        domains = cls.site.allowed_domains()
        if spider.fetch_origin:
            domains.append(urlsplit(spider.fetch_origin).hostname or "")
        spider.allowed_domains = domains
        if spider.only_columns:
            unknown = spider.only_columns - {c.name for c in cls.site.columns}
            if unknown:
                raise ValueError(f"site {cls.site.code} has no column(s) {', '.join(sorted(unknown))}")
        return spider

    # --- URLs: fetch from the override origin, identify by the public one ----------------

    def fetch_url(self, url: str) -> str:
        absolute = urljoin(self.site.site.base_url, url)
        return rebase(absolute, self.site.site.base_url, self.fetch_origin) if self.fetch_origin else absolute

    def public_url(self, url: str) -> str:
        if self.fetch_origin:
            url = rebase(url, self.fetch_origin, self.site.site.base_url)
        return canonicalize_url(url)

    # --- Crawl -------------------------------------------------------------------------------

    def columns(self) -> list[Column]:
        return [c for c in self.site.columns if not self.only_columns or c.name in self.only_columns]

    async def start(self) -> AsyncIterator[Request]:
        for url in self.site.site.start_urls:
            yield Request(self.fetch_url(url), callback=self.parse_start, errback=self.on_error,
                          priority=10)
        for column in self.columns():
            yield self._list_request(self.fetch_url(column.url), column, 1)

    def _list_request(self, url: str, column: Column, page_number: int) -> Request:
        return Request(
            url, callback=self.parse_list, errback=self.on_error, priority=-page_number,
            cb_kwargs={"column": column, "page_number": page_number},
            meta={"blgw_column": column.name},
        )

    def parse_start(self, response: Response) -> Iterator[Any]:
        """Entry pages are checked, not stored: warn about columns they do not link to."""
        text = decode_html(response.body, response.headers.get("Content-Type", b"").decode("latin-1")).text
        links = {self.public_url(urljoin(response.url, href))
                 for href in Selector(text=text).css("a::attr(href)").getall()
                 if not href.lower().startswith(("javascript:", "mailto:"))}
        for column in self.columns():
            if self.public_url(self.fetch_url(column.url)) not in links:
                self.logger.info("column %s (%s) is not linked from %s", column.name, column.url, response.url)
        return iter(())

    def parse_list(self, response: Response, column: Column, page_number: int) -> Iterator[Any]:
        text = decode_html(response.body, response.headers.get("Content-Type", b"").decode("latin-1")).text
        details, next_pages = self.read_list_page(response.url, text, column, page_number)
        if not details:
            self.logger.info("no new list entries on %s (column %s)", response.url, column.name)
        self.crawler.stats.inc_value("blgw/list_pages")
        for url, entry in details:
            yield Request(url, callback=self.parse_detail, errback=self.on_error, priority=10,
                          cb_kwargs={"column": column, "entry": entry})
        for url in next_pages:
            yield self._list_request(url, column, page_number + 1)

    def read_list_page(self, url: str, text: str, column: Column,
                       page_number: int) -> tuple[list[tuple[str, ListEntry]], list[str]]:
        """The detail pages (fetch URL, entry) new to this column, and the list pages to fetch
        next, for one list page. No I/O: usable on saved pages (see ``plugins.testing``)."""
        rules = self.site.list_rules(column)
        root = Selector(text=text)
        entries = self.registry.hook.list_entries(site=self.site, column=column, url=url, html=text)
        if entries is None:
            entries = list(self._entries_from_rules(root, rules))
        seen = self._seen_in_column.setdefault(column.name, set())
        details: list[tuple[str, ListEntry]] = []
        for entry in entries:
            href = (entry.url or "").strip()
            if not href or href.lower().startswith(("javascript:", "mailto:", "#")):
                continue
            detail_url = self.fetch_url(urljoin(url, href))
            key = self.public_url(detail_url)
            if key in seen:
                continue
            seen.add(key)
            details.append((detail_url, entry))
        next_pages = self._next_pages(url, text, root, column, rules, page_number, len(details))
        return details, next_pages

    def _entries_from_rules(self, root: Selector, rules: ListRules) -> Iterator[ListEntry]:
        for node in select_all(root, rules.item):
            link = select_text(node, rules.link)
            if link:
                yield ListEntry(url=link, title=select_text(node, rules.title), date=select_text(node, rules.date))

    def _next_pages(self, url: str, text: str, root: Selector, column: Column,
                    rules: ListRules, page_number: int, new_on_page: int) -> list[str]:
        hooked = self.registry.hook.next_list_pages(
            site=self.site, column=column, url=url, html=text, page_number=page_number)
        if hooked is not None:
            return [self.fetch_url(urljoin(url, u)) for u in hooked]
        paging = rules.paging
        max_pages = self.max_pages_override or getattr(paging, "max_pages", 1)
        if page_number >= max_pages:
            return []
        if isinstance(paging, NextLinkPaging):
            href = select_text(root, paging.next)
            if href and not href.lower().startswith("javascript:"):
                return [self.fetch_url(urljoin(url, href))]
            return []
        if isinstance(paging, QueryParamPaging):
            if new_on_page == 0:  # a page past the end, or one repeating the last page
                return []
            if paging.last_page:
                last = self._last_page(root, text, paging.last_page)
                if last is not None and page_number >= last:
                    return []
            parts = urlsplit(url)
            query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != paging.param]
            query.append((paging.param, str(paging.first + paging.step * page_number)))
            return [urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), ""))]
        return []

    @staticmethod
    def _last_page(root: Selector, text: str, rule: str) -> int | None:
        if rule.startswith("re:"):
            match = re.search(rule[3:], text)
            value = match.group(1) if match else None
        else:
            value = select_text(root, rule)
        digits = re.search(r"\d+", value or "")
        return int(digits.group()) if digits else None

    def parse_detail(self, response: Response, column: Column, entry: ListEntry) -> Iterator[Any]:
        content_type = response.headers.get("Content-Type")
        yield FetchedPage(
            site_code=self.site.code,
            column=column.name,
            fetch_url=response.url,
            public_url=self.public_url(response.url),
            body=response.body,
            content_type=content_type.decode("latin-1") if content_type else None,
            status=response.status,
            fetched_at=dt.datetime.now(SHANGHAI),
            list_title=entry.title,
            list_date=entry.date,
        )

    def on_error(self, failure: Failure) -> Iterator[CrawlProblem]:
        request = failure.request  # type: ignore[attr-defined]
        if failure.check(HttpError):
            response = failure.value.response
            yield CrawlProblem(url=request.url, kind="http", message=f"HTTP {response.status}")
        else:
            yield CrawlProblem(url=request.url, kind="network",
                               message=f"{failure.type.__name__}: {failure.getErrorMessage()}")
