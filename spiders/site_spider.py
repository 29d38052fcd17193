"""The one generic spider: it runs any site plugin (columns, list pages, paging, detail pages).

Each registered site becomes a subclass named by its site code (see ``spiders.loader``), so
``scrapy crawl rsj`` works. Spider arguments: ``columns`` (comma-separated column names to
limit the crawl) and ``max_pages`` (list pages per column, overriding the plugin's cap).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Iterator
from typing import Any, ClassVar
from urllib.parse import urljoin, urlsplit

import scrapy
from parsel import Selector
from scrapy.http import FormRequest, Request, Response
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from gateway.settings import get_settings, parse_origins
from normalizers.encoding import decode_html
from normalizers.models import SHANGHAI
from normalizers.urls import canonicalize_url, rebase
from plugins.manager import SiteRegistry
from plugins.spec import XPATH_PREFIXES, Column, ListEntry, PostbackPaging, SiteSpec
from spiders.listing import (
    VIEWSTATE_ERROR,
    ListPage,
    ListRequest,
    datastore,
    entries_from_rules,
    frame_urls,
    next_list_pages,
    url_from_script,
)
from spiders.items import CrawlProblem, FetchedPage


class SiteSpider(scrapy.Spider):
    """Crawls one site as its plugin describes. Subclasses set ``name``, ``site`` and ``registry``."""

    name = "site"
    site: ClassVar[SiteSpec]
    registry: ClassVar[SiteRegistry]

    def __init__(self, *args: Any, columns: str | None = None, max_pages: str | None = None,
                 max_items: str | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.max_items = int(max_items) if max_items else None  # detail pages per column (dry runs)
        self._items_requested: dict[str, int] = {}
        self.only_columns = {c.strip() for c in columns.split(",")} if columns else None
        self.max_pages_override = int(max_pages) if max_pages else None
        self.fetch_origin: str | None = None
        self._seen_in_column: dict[str, set[str]] = {}
        self._list_pages_requested: dict[str, set] = {}
        self.decisions: list[tuple[str, int, str, int, str]] = []  # column, page, url, new entries, why

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

    def render_in_browser(self, column: Column) -> bool:
        return (column.render or self.site.site.render) == "browser"

    def _list_request(self, url: str, column: Column, page_number: int,
                      list_request: ListRequest | None = None, restarts: int = 0) -> Request:
        list_request = list_request or ListRequest(url, page_number)
        meta: dict[str, Any] = {"blgw_column": column.name, "blgw_list": list_request, "blgw_restarts": restarts}
        kwargs: dict[str, Any] = {
            "callback": self.parse_list, "errback": self.on_list_error, "priority": -page_number,
            "cb_kwargs": {"column": column, "page_number": page_number}, "meta": meta,
        }
        if list_request.method == "POST":
            # each postback carries its own ViewState: never deduplicated, never retried blindly
            meta["dont_retry"] = list_request.kind == "postback"
            return FormRequest(list_request.url, formdata=list(list_request.formdata), dont_filter=True, **kwargs)
        if self.render_in_browser(column):
            self._browserize(meta, self.site.list_rules(column).wait_for or self.site.list_rules(column).item)
        return Request(url, dont_filter=list_request.kind == "restart", **kwargs)

    def _browserize(self, meta: dict[str, Any], wait_for: str | None) -> None:
        from scrapy_playwright.page import PageMethod

        meta["playwright"] = True
        if wait_for:
            state = {"state": "attached", "timeout": self.settings.getint("BLGW_BROWSER_WAIT_MS", 15000)}
            if wait_for.startswith(XPATH_PREFIXES):
                wait_for = "xpath=" + wait_for
            else:
                wait_for = wait_for.split("::")[0]  # parsel pseudo-elements are not CSS
            meta["playwright_page_methods"] = [PageMethod("wait_for_selector", wait_for, **state)]

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
        list_request: ListRequest | None = response.meta.get("blgw_list")
        paging = self.site.list_rules(column).paging
        if isinstance(paging, PostbackPaging) and list_request and list_request.method == "POST" \
                and VIEWSTATE_ERROR.search(text):
            yield from self._restart_list(column, response.meta, f"the server rejected the ViewState at {response.url}")
            return
        page = self.read_list_page(response.url, text, column, page_number, list_request)
        self.decisions.append((column.name, page_number, response.url, len(page.entries), page.decision))
        if not page.entries:
            self.logger.info("no new list entries on %s (column %s)", response.url, column.name)
        self.crawler.stats.inc_value("blgw/list_pages")
        for entry in page.entries:
            if self.max_items is not None:
                done = self._items_requested.get(column.name, 0)
                if done >= self.max_items:
                    break
                self._items_requested[column.name] = done + 1
            yield self._detail_request(entry, column)
        for nxt in page.next:
            yield self._list_request(nxt.url, column, nxt.page_number, nxt,
                                     restarts=response.meta.get("blgw_restarts", 0))

    def _detail_request(self, entry: ListEntry, column: Column) -> Request:
        meta: dict[str, Any] = {"blgw_column": column.name}
        if self.render_in_browser(column):
            rules = self.site.detail_rules(column)
            self._browserize(meta, rules.wait_for or rules.title)
        return Request(entry.url, callback=self.parse_detail, errback=self.on_error, priority=10,
                       cb_kwargs={"column": column, "entry": entry}, meta=meta)

    def _restart_list(self, column: Column, meta: dict[str, Any], why: str) -> Iterator[Any]:
        paging = self.site.list_rules(column).paging
        restarts = meta.get("blgw_restarts", 0) + 1
        limit = getattr(paging, "max_restarts", 0)
        if restarts > limit:
            yield CrawlProblem(url=self.fetch_url(column.url), kind="paging",
                               message=f"{why}; gave up after {limit} restarts of column {column.name}")
            return
        self.logger.warning("%s; restarting column %s from its first page (%d/%d)", why, column.name, restarts, limit)
        self.crawler.stats.inc_value("blgw/list_restarts")
        self.decisions.append((column.name, 1, self.fetch_url(column.url), 0, f"restart {restarts}/{limit}: {why}"))
        first = ListRequest(self.fetch_url(column.url), 1, kind="restart")
        yield self._list_request(first.url, column, 1, first, restarts=restarts)

    def on_list_error(self, failure: Failure) -> Iterator[Any]:
        request = failure.request  # type: ignore[attr-defined]
        list_request: ListRequest | None = request.meta.get("blgw_list")
        column = self.site.column(request.meta["blgw_column"])
        if list_request is not None and list_request.kind == "postback" and failure.check(HttpError):
            status = failure.value.response.status
            yield from self._restart_list(column, request.meta, f"HTTP {status} on a postback to {request.url}")
            return
        yield from self.on_error(failure)

    def read_list_page(self, url: str, text: str, column: Column, page_number: int,
                       list_request: ListRequest | None = None) -> ListPage:
        """The detail pages new to this column, and the list pages to fetch next, for one
        list page. No I/O: usable on saved pages (see ``plugins.testing``)."""
        rules = self.site.list_rules(column)
        root = Selector(text=text)
        entries = self.registry.hook.list_entries(site=self.site, column=column, url=url, html=text)
        if entries is None:
            store = datastore(text)  # Hanweb: the entries are CDATA records, not page markup
            entries = list(entries_from_rules(Selector(text=store[0]) if store else root, rules))
        seen = self._seen_in_column.setdefault(column.name, set())
        details: list[ListEntry] = []
        for entry in entries:
            href = (entry.url or "").strip()
            if href.lower().startswith("javascript:"):
                href = url_from_script(href) or ""
            if not href or href.lower().startswith(("mailto:", "#")):
                continue
            detail_url = self.fetch_url(urljoin(url, href))
            key = self.public_url(detail_url)
            if key in seen:
                continue
            seen.add(key)
            details.append(ListEntry(detail_url, entry.title, entry.date))
        hooked = self.registry.hook.next_list_pages(
            site=self.site, column=column, url=url, html=text, page_number=page_number)
        if hooked is not None:
            nxt = [ListRequest(self.fetch_url(urljoin(url, u)), page_number + 1) for u in hooked]
            decision = f"next_list_pages hook: {len(nxt)} page(s)"
        elif not entries and page_number == 1 and rules.follow_frames and (frames := frame_urls(root, url)):
            nxt = [ListRequest(u, 1, kind="frame") for u in frames]
            decision = f"no entries; reading {len(frames)} frame(s): {', '.join(frames)}"
        else:
            max_pages = self.max_pages_override or getattr(rules.paging, "max_pages", 1)
            nxt, decision = next_list_pages(url, text, root, rules, page_number, len(details), max_pages, list_request)
        fresh = []
        requested = self._list_pages_requested.setdefault(column.name, set())
        for request in nxt:
            key = (request.method, request.url, request.formdata if request.kind != "postback" else page_number)
            if request.method == "GET" and key in requested:
                continue
            requested.add(key)
            fresh.append(request)
        return ListPage(details, fresh, decision)

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
