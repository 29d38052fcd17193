"""The one generic spider: it runs any site plugin (columns, list pages, paging, detail pages).

Each registered site becomes a subclass named by its site code (see ``spiders.loader``), so
``scrapy crawl rsj`` works. Spider arguments: ``columns`` (comma-separated column names to
limit the crawl), ``max_pages`` (list pages per column, overriding the plugin's cap),
``max_items`` (detail pages per column, for dry runs), ``full`` (read every list page) and
``decisions`` (keep the paging decisions, for ``blgw plugin check``).

The spider only reads pages: what the store knows and records (the frontier, known items,
links, the run) is the business of the components in ``spiders.spidermiddlewares``,
``spiders.extensions`` and ``spiders.crawlstate``, so the same spider runs a dry run with no
store at all.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import threading
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar
from urllib.parse import urljoin, urlsplit

import scrapy
from parsel import Selector
from scrapy.crawler import Crawler
from scrapy.http import FormRequest, Request, Response
from scrapy.settings import SETTINGS_PRIORITIES, BaseSettings
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from gateway.scope import Refusal, Scope
from gateway.settings import from_scrapy
from normalizers.encoding import decode_html
from normalizers.links import url_from_script
from normalizers.models import SHANGHAI
from normalizers.page import PagePart
from normalizers.urls import canonicalize_url, rebase, served_url
from plugins.manager import HookFailed, SiteRegistry
from plugins.spec import XPATH_PREFIXES, Column, ListEntry, PostbackPaging, SiteSpec
from spiders import meta
from spiders.budget import Budget, BudgetExceeded, direct
from spiders.config import crawl_config
from spiders.downloadermiddlewares.browser import BrowserRecycleMiddleware
from spiders.downloadermiddlewares.scope import BrowserGuard
from spiders.errors import classify
from spiders.items import FINAL_KINDS, CrawlProblem, FetchedPage
from spiders.listing import (
    VIEWSTATE_ERROR,
    ListPage,
    ListRequest,
    frame_urls,
    list_rules_use_regex,
    rule_entries,
    rule_next_pages,
    select_all,
)

__all__ = ["PLAYWRIGHT_HANDLER", "SiteSpider"]

PLAYWRIGHT_HANDLER = "scrapy_playwright.handler.ScrapyPlaywrightDownloadHandler"

Decision = tuple[str, int, str, int, str]  # column, page number, URL, new entries, why
Runner = Callable[..., Any]  # how a plugin's rules are run: direct, or Budget.run



class RecentKeys:
    """The last ``size`` distinct keys seen (the least recently seen forgotten first)."""

    def __init__(self, size: int = 4096) -> None:
        self._keys: OrderedDict[int, None] = OrderedDict()
        self._size = size

    def add(self, key: int) -> bool:
        """Remember ``key``; whether it was new (not among the recent keys)."""
        if key in self._keys:
            self._keys.move_to_end(key)
            return False
        self._keys[key] = None
        if len(self._keys) > self._size:
            self._keys.popitem(last=False)
        return True

    def __len__(self) -> int:
        return len(self._keys)

@dataclass
class ArticleParts:
    """A multi-page article being read (``[detail] pages``): its first page, the other pages
    fetched so far (in reading order) and those still to fetch, fetched one at a time so the
    article's pages never add to the site's concurrency."""

    first: FetchedPage
    column: Column
    max_pages: int
    frontier_key: str | None  # the first page's frontier entry: done when the article is stored
    fetched: list[PagePart] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)  # fetch URLs, in the order found
    seen: set[str] = field(default_factory=set)  # canonical keys of every page found
    capped: bool = False

    def article(self) -> FetchedPage:
        """The first page carrying the other pages, to hand to the pipeline."""
        return dataclasses.replace(self.first, parts=tuple(self.fetched), frontier_key=self.frontier_key)


class SiteSpider(scrapy.Spider):
    """Crawls one site as its plugin describes. Subclasses set ``name``, ``site`` and ``registry``."""

    name = "site"
    site: ClassVar[SiteSpec]
    registry: ClassVar[SiteRegistry]
    allowed_domains: list[str]  # set by from_crawler; read by Scrapy's offsite filtering

    def __init__(self, *args: Any, columns: str | None = None, max_pages: str | None = None,
                 max_items: str | None = None, full: str | bool | None = None,
                 decisions: str | bool | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        # a full run reads every list page (and so can purge stale documents); see spiders.crawlstate
        self.full = _flag(full)
        self.max_items = int(max_items) if max_items else None  # detail pages per column (dry runs)
        self._items_requested: dict[str, int] = {}
        self.only_columns = {c.strip() for c in columns.split(",")} if columns else None
        self.max_pages_override = int(max_pages) if max_pages else None
        self.fetch_origin: str | None = None
        self.scope: Scope = self.site.scope() if hasattr(type(self), "site") else Scope(frozenset())
        # per column, the hashes of the detail URLs listed most recently: entries repeated across
        # list pages (pinned items) are skipped; bounded (memory stays flat on any site), and a
        # repeat older than the window is still dropped by the frontier (one request per run)
        self._seen_in_column: dict[str, RecentKeys] = {}
        self._list_pages_requested: dict[str, set[tuple[Any, ...]]] = {}
        self.keep_decisions = _flag(decisions)
        self._budget: Budget | None = None
        self._read_lock = threading.Lock()
        self.decisions: list[Decision] = []  # kept when keep_decisions (a dry run)

    @classmethod
    def update_settings(cls, settings: BaseSettings) -> None:
        """The site's own settings, on top of the crawl's (``-s`` on the command line still
        wins): its politeness, the User-Agent of ``BLGW_USER_AGENT``, and for a site with
        pages rendered in Chromium scrapy-playwright with the browser-recycling middleware
        added to the crawl's downloader middlewares (never in place of them)."""
        super().update_settings(settings)
        site = cls.site.site
        settings.set("CONCURRENT_REQUESTS_PER_DOMAIN", site.concurrency, priority="spider")
        settings.set("DOWNLOAD_DELAY", site.download_delay, priority="spider")
        settings.set("ROBOTSTXT_OBEY", site.obey_robots, priority="spider")
        config = from_scrapy(settings)
        agent_priority = settings.getpriority("BLGW_USER_AGENT") or 0
        if agent_priority > (settings.getpriority("USER_AGENT") or 0):
            settings.set("USER_AGENT", config.user_agent, priority=agent_priority)
        if not cls.renders_in_browser():
            return
        settings.set("DOWNLOAD_HANDLERS", {**settings.getdict("DOWNLOAD_HANDLERS"), "http": PLAYWRIGHT_HANDLER,
                                           "https": PLAYWRIGHT_HANDLER}, priority="spider")
        settings.set("PLAYWRIGHT_BROWSER_TYPE", "chromium", priority="spider")
        # the browser stays in the site's scope: requests out of it are aborted, connections out of
        # it refused (spiders.downloadermiddlewares.scope.BrowserGuard)
        guard = BrowserGuard(cls.site.scope(config.origins.get(cls.site.code)))
        settings.set("PLAYWRIGHT_ABORT_REQUEST", guard.abort, priority="spider")
        settings.set("PLAYWRIGHT_LAUNCH_OPTIONS", {
            "executable_path": config.chromium,
            "headless": True,
            "args": ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", *guard.launch_args()],
        }, priority="spider")
        settings.set("PLAYWRIGHT_CONTEXTS", {"default": {"service_workers": "block"}}, priority="spider")
        settings.set("PLAYWRIGHT_MAX_CONTEXTS", 1, priority="spider")
        settings.set("PLAYWRIGHT_MAX_PAGES_PER_CONTEXT", config.browser_max_pages, priority="spider")
        settings.set("PLAYWRIGHT_DEFAULT_NAVIGATION_TIMEOUT", 30000, priority="spider")
        # added to the crawl's middlewares at the spider's priority: set_in_component_priority_dict
        # keeps the project's priority, at which CrawlerProcess.crawl(crawler) applies the
        # process's settings over it again (and the middleware is gone)
        middlewares = settings.getdict("DOWNLOADER_MIDDLEWARES")
        middlewares[BrowserRecycleMiddleware] = 950
        settings.set("DOWNLOADER_MIDDLEWARES", middlewares,
                     priority=max(settings.getpriority("DOWNLOADER_MIDDLEWARES") or 0, SETTINGS_PRIORITIES["spider"]))

    @classmethod
    def renders_in_browser(cls) -> bool:
        """Whether any page of the site is rendered in Chromium (``render = "browser"``)."""
        return cls.site.site.render == "browser" or any(c.render == "browser" for c in cls.site.columns)

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> SiteSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.fetch_origin = crawl_config(crawler).origins.get(cls.site.code)
        spider.scope = cls.site.scope(spider.fetch_origin)
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
        """The canonical key of a URL on the site's public origin (identity, de-duplication):
        the canonical form of :meth:`served_url`'s."""
        return canonicalize_url(self.served_url(url))

    def served_url(self, url: str) -> str:
        """A URL on the site's public origin as the server serves it (what is stored and shown;
        :func:`normalizers.urls.served_url`): its canonical key is :meth:`public_url`'s."""
        if self.fetch_origin:
            url = rebase(url, self.fetch_origin, self.site.site.base_url)
        return served_url(url)

    # --- Crawl -------------------------------------------------------------------------------

    def columns(self) -> list[Column]:
        return [c for c in self.site.columns if not self.only_columns or c.name in self.only_columns]

    def decide(self, column: str, page_number: int, url: str, entries: int, why: str) -> None:
        """Note a paging decision (kept for ``blgw plugin check``, else only logged)."""
        self.logger.debug("column %s page %d (%s): %d new entries: %s", column, page_number, url, entries, why)
        if self.keep_decisions:
            self.decisions.append((column, page_number, url, entries, why))

    async def start(self) -> AsyncIterator[Request]:
        for url in self.site.site.start_urls:
            yield Request(self.fetch_url(url), callback=self.parse_start, errback=self.on_error, priority=10)
        for column in self.columns():
            if column.layout == "page":  # the column page is the item: read every run (conditional GET)
                url = self.fetch_url(column.url)
                request = self.detail_request(ListEntry(url, column.name, None), column)
                yield request.replace(dont_filter=True)
            else:
                yield self.list_request(self.fetch_url(column.url), column, 1)

    def list_request(self, url: str, column: Column, page_number: int,
                     list_request: ListRequest | None = None, restarts: int = 0) -> Request:
        """The request of one list page of ``column``."""
        list_request = list_request or ListRequest(url, page_number)
        request_meta: dict[str, Any] = {meta.COLUMN: column.name, meta.LIST: list_request,
                                        meta.RESTARTS: restarts, meta.KIND: "list"}
        budgeted = list_rules_use_regex(self.site.list_rules(column))
        kwargs: dict[str, Any] = {
            "callback": self.parse_list_budgeted if budgeted else self.parse_list,
            "errback": self.on_list_error, "priority": -page_number,
            "cb_kwargs": {"column": column, "page_number": page_number}, "meta": request_meta,
        }
        if list_request.method == "POST":
            # each postback carries its own ViewState: never deduplicated, never retried blindly
            request_meta["dont_retry"] = list_request.kind == "postback"
            return FormRequest(list_request.url, formdata=list(list_request.formdata), dont_filter=True, **kwargs)
        if self.render_in_browser(column):
            rules = self.site.list_rules(column)
            self._browserize(request_meta, rules.wait_for or rules.item)
        return Request(url, dont_filter=list_request.kind == "restart", **kwargs)

    def detail_request(self, entry: ListEntry, column: Column) -> Request:
        """The request of one item's page, linked from a list of ``column``."""
        request_meta: dict[str, Any] = {meta.COLUMN: column.name, meta.KIND: "detail", meta.ENTRY: entry}
        if self.render_in_browser(column):
            rules = self.site.detail_rules(column)
            self._browserize(request_meta, rules.wait_for or rules.title)
        return Request(entry.url, callback=self.parse_detail, errback=self.on_error, priority=10,
                       cb_kwargs={"column": column, "entry": entry}, meta=request_meta)

    # --- Requests as the frontier stores them ---------------------------------------------

    @staticmethod
    def frontier_payload(request: Request) -> dict[str, Any]:
        """What the frontier keeps of a list or detail request to rebuild it in a continued run."""
        request_meta = request.meta
        payload: dict[str, Any] = {"column": request_meta.get(meta.COLUMN)}
        if request_meta[meta.KIND] == "list":
            lr: ListRequest = request_meta[meta.LIST]
            payload.update(page=lr.page_number, restarts=request_meta.get(meta.RESTARTS, 0),
                           list={"url": lr.url, "page_number": lr.page_number, "method": lr.method,
                                 "formdata": [list(p) for p in lr.formdata], "kind": lr.kind})
        elif request_meta[meta.KIND] == "detail":
            entry: ListEntry = request_meta[meta.ENTRY]
            payload["entry"] = {"url": entry.url, "title": entry.title, "date": entry.date}
        return payload

    def request_from_frontier(self, kind: str, payload: dict[str, Any]) -> Request:
        """The list or detail request a frontier payload describes (:meth:`frontier_payload`);
        KeyError, TypeError or ValueError when it cannot be read."""
        column = self.site.column(payload["column"])
        if kind == "list":
            lr = payload["list"]
            list_request = ListRequest(lr["url"], lr["page_number"], lr["method"],
                                       tuple(tuple(p) for p in lr["formdata"]), lr["kind"])
            return self.list_request(list_request.url, column, list_request.page_number, list_request,
                                     restarts=payload.get("restarts", 0))
        if kind == "detail":
            e = payload["entry"]
            return self.detail_request(ListEntry(e["url"], e.get("title"), e.get("date")), column)
        raise ValueError(f"not a list or detail request: {kind!r}")

    def render_in_browser(self, column: Column) -> bool:
        return (column.render or self.site.site.render) == "browser"

    def _browserize(self, request_meta: dict[str, Any], wait_for: str | None) -> None:
        # imported here: scrapy-playwright (and Playwright) load only for sites with browser pages
        from scrapy_playwright.page import PageMethod

        request_meta["playwright"] = True
        guard = BrowserGuard.of(self.crawler)
        if guard is not None:
            request_meta["playwright_page_init_callback"] = guard.init_page
        if wait_for:
            state = {"state": "attached", "timeout": crawl_config(self.crawler).browser_wait_ms}
            if wait_for.startswith(XPATH_PREFIXES):
                wait_for = "xpath=" + wait_for
            else:
                wait_for = wait_for.split("::")[0]  # parsel pseudo-elements are not CSS
            request_meta["playwright_page_methods"] = [PageMethod("wait_for_selector", wait_for, **state)]

    def parse_start(self, response: Response) -> Iterator[Any]:
        """Entry pages are checked, not stored: warn about columns they do not link to."""
        text = decode_html(response.body, (response.headers.get("Content-Type") or b"").decode("latin-1")).text
        links = {self.public_url(urljoin(response.url, href))
                 for href in Selector(text=text).css("a::attr(href)").getall()
                 if not href.lower().startswith(("javascript:", "mailto:"))}
        for column in self.columns():
            if self.public_url(self.fetch_url(column.url)) not in links:
                self.logger.info("column %s (%s) is not linked from %s", column.name, column.url, response.url)
        return iter(())

    def _list_text(self, response: Response, column: Column, page_number: int) -> tuple[str, list[Any] | None]:
        """A list page's text, or what to yield instead of reading it (a 304, a rejected ViewState)."""
        if response.status == 304:  # conditional GET: the list is as it was, so are its items
            self.decide(column.name, page_number, response.url, 0, "not modified (HTTP 304): stop")
            self.crawler.stats.inc_value("blgw/list_not_modified")
            return "", []
        content_type = (response.headers.get("Content-Type") or b"").decode("latin-1")
        text = decode_html(response.body, content_type).text
        list_request: ListRequest | None = response.meta.get(meta.LIST)
        paging = self.site.list_rules(column).paging
        if isinstance(paging, PostbackPaging) and list_request and list_request.method == "POST" \
                and VIEWSTATE_ERROR.search(text):
            return text, list(self._restart_list(column, response.meta,
                                                 f"the server rejected the ViewState at {response.url}"))
        return text, None

    def parse_list(self, response: Response, column: Column, page_number: int) -> Iterator[Any]:
        text, instead = self._list_text(response, column, page_number)
        if instead is not None:
            yield from instead
            return
        try:
            page = self.read_list_page(response.url, text, column, page_number, response.meta.get(meta.LIST))
        except HookFailed as exc:
            yield self._hook_failed(response, column, exc)
            return
        yield from self._list_outputs(response, column, page_number, page)

    async def parse_list_budgeted(self, response: Response, column: Column, page_number: int) -> AsyncIterator[Any]:
        """:meth:`parse_list` for rules with regular expressions: read in the budgeted worker,
        waited for in a thread, so a runaway expression costs its budget and stalls nothing."""
        text, instead = self._list_text(response, column, page_number)
        if instead is not None:
            for out in instead:
                yield out
            return
        try:
            page = await asyncio.to_thread(self._read_in_budget, response.url, text, column, page_number,
                                           response.meta.get(meta.LIST))
        except HookFailed as exc:
            yield self._hook_failed(response, column, exc)
            return
        except BudgetExceeded as exc:
            self.crawler.stats.inc_value("blgw/budget_exceeded")
            yield CrawlProblem(url=self.public_url(response.url), kind="extraction", column=column.name,
                               message=f"list page not read: {exc}", outcome=True)
            return
        for out in self._list_outputs(response, column, page_number, page):
            yield out

    def _hook_failed(self, response: Response, column: Column, exc: HookFailed) -> CrawlProblem:
        """A list page a plugin's hook failed on: not read, its frontier entry closed as failed
        (the next run reads it again)."""
        self.crawler.stats.inc_value("blgw/errors/plugin_hooks")
        self.logger.error("%s", exc)
        return CrawlProblem(url=self.public_url(response.url), kind=exc.kind, column=column.name,
                            message=str(exc), outcome=True)

    def _read_in_budget(self, url: str, text: str, column: Column, page_number: int,
                        list_request: ListRequest | None) -> ListPage:
        with self._read_lock:  # the per-column sets of seen pages are the spider's
            return self.read_list_page(url, text, column, page_number, list_request, self.budget().run)

    def budget(self) -> Budget:
        """The worker of this crawl's regular expressions (made on first use)."""
        if self._budget is None:
            self._budget = Budget(crawl_config(self.crawler).selector_budget_seconds)
        return self._budget

    def closed(self, reason: str) -> None:
        if self._budget is not None:
            self._budget.close()

    def _list_outputs(self, response: Response, column: Column, page_number: int, page: ListPage) -> Iterator[Any]:
        if page.decision.startswith("max_pages"):  # the paging cap, not the list's end: say so
            yield CrawlProblem(url=self.public_url(response.url), kind="paging-cap", column=column.name, message=(
                f"column {column.name}: paging stopped at the cap of {page_number} list pages "
                f"({'--max-pages' if self.max_pages_override else 'the plugin’s max_pages'}); later pages not read"))
        self.decide(column.name, page_number, response.url, len(page.entries), page.decision)
        if not page.entries:
            self.logger.info("no new list entries on %s (column %s)", response.url, column.name)
        self.crawler.stats.inc_value("blgw/list_pages")
        for entry in page.entries:
            if (refusal := self.scope.check(entry.url)) is not None:  # a planted link: named, never fetched
                yield self._refused(refusal, column)
                continue
            if self.max_items is not None:
                done = self._items_requested.get(column.name, 0)
                if done >= self.max_items:
                    break
                self._items_requested[column.name] = done + 1
            yield self.detail_request(entry, column)
        for nxt in page.next:
            if (refusal := self.scope.check(nxt.url)) is not None:
                yield self._refused(refusal, column)
                continue
            yield self.list_request(nxt.url, column, nxt.page_number, nxt,
                                    restarts=response.meta.get(meta.RESTARTS, 0))

    def _refused(self, refusal: Refusal, column: Column) -> CrawlProblem:
        self.crawler.stats.inc_value(f"blgw/refused/{refusal.kind}")
        return CrawlProblem(url=refusal.url, kind=refusal.kind, column=column.name,
                            message=f"refused: {refusal.reason} (linked from column {column.name})")

    def _restart_list(self, column: Column, request_meta: dict[str, Any], why: str) -> Iterator[Any]:
        paging = self.site.list_rules(column).paging
        restarts = request_meta.get(meta.RESTARTS, 0) + 1
        limit = getattr(paging, "max_restarts", 0)
        if restarts > limit:
            yield CrawlProblem(url=self.fetch_url(column.url), kind="paging", column=column.name,
                               message=f"{why}; gave up after {limit} restarts of column {column.name}")
            return
        self.logger.warning("%s; restarting column %s from its first page (%d/%d)", why, column.name, restarts, limit)
        self.crawler.stats.inc_value("blgw/list_restarts")
        self.decide(column.name, 1, self.fetch_url(column.url), 0, f"restart {restarts}/{limit}: {why}")
        first = ListRequest(self.fetch_url(column.url), 1, kind="restart")
        yield self.list_request(first.url, column, 1, first, restarts=restarts)

    def read_list_page(self, url: str, text: str, column: Column, page_number: int,
                       list_request: ListRequest | None = None, run: Runner = direct) -> ListPage:
        """The detail pages new to this column, and the list pages to fetch next, for one
        list page. No I/O: usable on saved pages (see ``spiders.testing``). The plugin's rules
        are evaluated by ``run`` (in a budgeted worker when they use regular expressions)."""
        rules = self.site.list_rules(column)
        root = Selector(text=text)
        entries = self.registry.call("list_entries", self.site, url, column=column, html=text)
        if entries is None:
            entries = run(rule_entries, text, rules)  # Hanweb: the <datastore> records
        seen = self._seen_in_column.setdefault(column.name, RecentKeys())
        details: list[ListEntry] = []
        for entry in entries:
            href = (entry.url or "").strip()
            if href.lower().startswith("javascript:"):
                href = url_from_script(href) or ""
            if not href or href.lower().startswith(("mailto:", "#")):
                continue
            detail_url = self.fetch_url(urljoin(url, href))
            if not seen.add(hash(self.public_url(detail_url))):
                continue
            details.append(ListEntry(detail_url, entry.title, entry.date))
        hooked = self.registry.call("next_list_pages", self.site, url, column=column, html=text,
                                    page_number=page_number)
        if hooked is not None:
            nxt = [ListRequest(self.fetch_url(urljoin(url, u)), page_number + 1) for u in hooked]
            decision = f"next_list_pages hook: {len(nxt)} page(s)"
        elif not entries and page_number == 1 and rules.follow_frames and (frames := frame_urls(root, url)):
            nxt = [ListRequest(u, 1, kind="frame") for u in frames]
            decision = f"no entries; reading {len(frames)} frame(s): {', '.join(frames)}"
        else:
            plugin_pages: int = getattr(rules.paging, "max_pages", 1)  # NoPaging has none: one page
            max_pages = self.max_pages_override or plugin_pages
            nxt, decision = run(rule_next_pages, url, text, rules, page_number, len(details), max_pages, list_request)
        fresh = []
        requested = self._list_pages_requested.setdefault(column.name, set())
        for request in nxt:
            # a CMS that prints every link with its configured public host (PHPCMS's app_path)
            # links the next page there: fetched from the origin the crawl reads the site from
            request = dataclasses.replace(request, url=self.fetch_url(request.url))
            page_key = (request.method, request.url, request.formdata if request.kind != "postback" else page_number)
            if request.method == "GET" and page_key in requested:
                continue
            requested.add(page_key)
            fresh.append(request)
        return ListPage(details, fresh, decision)

    def parse_detail(self, response: Response, column: Column, entry: ListEntry) -> Iterator[Any]:
        if response.status == 304:  # conditional GET: unchanged (the incremental middleware notes it)
            self.crawler.stats.inc_value("blgw/items_not_modified")
            return
        content_type = response.headers.get("Content-Type")
        page = FetchedPage(
            site_code=self.site.code,
            column=column.name,
            fetch_url=response.url,
            public_url=self.served_url(response.url),  # stored as served; the id is its canonical key
            body=response.body,
            content_type=content_type.decode("latin-1") if content_type else None,
            status=response.status,
            fetched_at=dt.datetime.now(SHANGHAI),
            list_title=entry.title,
            list_date=entry.date,
        )
        rules = self.site.detail_rules(column)
        if rules.pages is None:
            yield page
            return
        parts = ArticleParts(page, column, rules.max_pages, response.meta.get(meta.KEY),
                             seen={self.public_url(response.url)})
        yield from self._found_parts(parts, response)
        yield from self._next_part(parts)

    # --- Multi-page articles ([detail] pages) -----------------------------------------------

    def _found_parts(self, parts: ArticleParts, response: Response) -> Iterator[CrawlProblem]:
        """Note the article's pages that ``response`` (one of its pages) links to."""
        selector = self.site.detail_rules(parts.column).pages
        assert selector is not None
        content_type = (response.headers.get("Content-Type") or b"").decode("latin-1")
        root = Selector(text=decode_html(response.body, content_type).text)
        for node in select_all(root, selector):
            href = node.attrib.get("href") if not isinstance(node.root, str) else node.get()
            href = (href or "").strip()
            if not href or href.startswith("#") or href.lower().startswith(("javascript:", "mailto:")):
                continue
            url = self.fetch_url(urljoin(response.url, href))  # linked at the public host: read from the origin
            key = self.public_url(url)
            if key in parts.seen:
                continue
            parts.seen.add(key)
            if (refusal := self.scope.check(url)) is not None:  # a planted pager link: named, never fetched
                yield self._refused(refusal, parts.column)
                continue
            if 1 + len(parts.fetched) + len(parts.pending) >= parts.max_pages:
                if not parts.capped:
                    parts.capped = True
                    yield CrawlProblem(url=parts.first.public_url, kind="paging-cap", column=parts.column.name,
                                       message=f"article {parts.first.public_url}: stopped at the cap of "
                                               f"{parts.max_pages} pages ([detail] max_pages); later pages not read")
                continue
            parts.pending.append(url)

    def _next_part(self, parts: ArticleParts) -> Iterator[Any]:
        """The request of the article's next page, or the whole article when none is left."""
        if not parts.pending:
            if parts.fetched:
                self.crawler.stats.inc_value("blgw/multipage_articles")
            yield parts.article()
            return
        url = parts.pending.pop(0)
        request_meta: dict[str, Any] = {meta.COLUMN: parts.column.name, meta.KIND: "part", meta.PARTS: parts}
        if self.render_in_browser(parts.column):
            rules = self.site.detail_rules(parts.column)
            self._browserize(request_meta, rules.wait_for or rules.title)
        yield Request(url, callback=self.parse_part, errback=self.on_part_error, priority=20, dont_filter=True,
                      meta=request_meta)

    def parse_part(self, response: Response) -> Iterator[Any]:
        parts: ArticleParts = response.meta[meta.PARTS]
        content_type = response.headers.get("Content-Type")
        parts.fetched.append(PagePart(url=response.url, public_url=self.served_url(response.url), body=response.body,
                                      content_type=content_type.decode("latin-1") if content_type else None))
        self.crawler.stats.inc_value("blgw/article_parts")
        yield from self._found_parts(parts, response)
        yield from self._next_part(parts)

    def on_part_error(self, failure: Failure) -> Iterator[Any]:
        """One page of a multi-page article failed. A page that is gone (404, 410) or refused
        is named and the article is stored without it; any other failure fails the whole
        article (its frontier entry), so the next run reads it again."""
        request = failure.request  # type: ignore[attr-defined]  # set by Scrapy, undeclared by Twisted
        parts: ArticleParts = request.meta[meta.PARTS]
        problem = classify(failure, request)
        public = self.public_url(problem.url)
        gone = isinstance(failure.value, HttpError) and failure.value.response.status in (404, 410)
        if gone or problem.kind in FINAL_KINDS:
            yield CrawlProblem(url=public, kind=problem.kind, column=parts.column.name,
                               message=f"page of article {parts.first.public_url} not read, the article is "
                                       f"stored without it: {problem.message}")
            yield from self._next_part(parts)
            return
        yield CrawlProblem(url=parts.first.public_url, kind=problem.kind, column=parts.column.name,
                           frontier_key=parts.frontier_key, outcome=True,
                           message=f"article not stored: its page {public} failed ({problem.message}); "
                                   "the next run reads it again")

    def on_list_error(self, failure: Failure) -> Iterator[Any]:
        """A list page failed: an HTTP error on a postback restarts the column's list (a new
        ViewState), anything else is reported like any failed request."""
        request = failure.request  # type: ignore[attr-defined]  # set by Scrapy, undeclared by Twisted
        list_request: ListRequest | None = request.meta.get(meta.LIST)
        column = self.site.column(request.meta[meta.COLUMN])
        if list_request is not None and list_request.kind == "postback" and isinstance(failure.value, HttpError):
            status = failure.value.response.status
            yield from self._restart_list(column, request.meta, f"HTTP {status} on a postback to {request.url}")
            return
        yield from self.on_error(failure)

    def on_error(self, failure: Failure) -> Iterator[CrawlProblem]:
        """Report a failed request by its kind (``spiders.errors.KINDS``: http, timeout,
        connection, truncated, redirect, too-large…), under the public URL the page was linked
        by, with a message naming the URL fetched; the crawl goes on."""
        request = failure.request  # type: ignore[attr-defined]  # set by Scrapy, undeclared by Twisted
        problem = classify(failure, request)
        yield CrawlProblem(url=self.public_url(problem.url), kind=problem.kind, message=problem.message,
                           column=request.meta.get(meta.COLUMN))


def _flag(value: str | bool | None) -> bool:
    """A spider argument that is a flag: given as a bool, or as ``1``/``true``/``yes``."""
    if isinstance(value, bool):
        return value
    return str(value).lower() in ("1", "true", "yes") if value is not None else False
