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
from scrapy import signals
from scrapy.exceptions import DontCloseSpider
from scrapy.http import FormRequest, Request, Response
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from gateway.settings import get_settings, parse_origins
from normalizers.encoding import decode_html
from normalizers.models import SHANGHAI, document_id
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
from spiders.errors import classify
from spiders.items import CrawlProblem, FetchedPage


class SiteSpider(scrapy.Spider):
    """Crawls one site as its plugin describes. Subclasses set ``name``, ``site`` and ``registry``."""

    name = "site"
    site: ClassVar[SiteSpec]
    registry: ClassVar[SiteRegistry]

    def __init__(self, *args: Any, columns: str | None = None, max_pages: str | None = None,
                 max_items: str | None = None, full: str | bool | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        # a full run reads every list page (and so can purge stale documents); see spiders.crawlstate
        self.full = str(full).lower() in ("1", "true", "yes") if full is not None else False
        self.state = None  # spiders.crawlstate.CrawlState, set by the store pipeline (None in dry runs)
        self.busy: str | None = None  # why the site was not crawled (its lock is held)
        self.max_items = int(max_items) if max_items else None  # detail pages per column (dry runs)
        self._items_requested: dict[str, int] = {}
        self.only_columns = {c.strip() for c in columns.split(",")} if columns else None
        self.max_pages_override = int(max_pages) if max_pages else None
        self.fetch_origin: str | None = None
        self._seen_in_column: dict[str, set[int]] = {}  # hashes of public URLs (8 bytes, not a string)
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
        crawler.signals.connect(spider._on_idle, signal=signals.spider_idle)
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
        if self.busy:
            self.logger.warning("not crawling: %s", self.busy)
            return
        state = self.state
        if state is not None and state.resumed:
            self.logger.warning("continuing run %s of %s after an interruption: %d pending request(s)",
                                state.run_id, self.site.code, len(state.pending))
            self.crawler.stats.set_value("blgw/resumed_pending", len(state.pending))
            for entry in state.pending:
                request = self._from_frontier(entry)
                if request is not None:
                    yield request
            return
        for url in self.site.site.start_urls:
            yield Request(self.fetch_url(url), callback=self.parse_start, errback=self.on_error,
                          priority=10)
        for column in self.columns():
            if state is not None and not state.column_due(column.name):
                self.decisions.append((column.name, 0, column.url, 0, "not due (adaptive revisit)"))
                self.crawler.stats.inc_value("blgw/columns_not_due")
                continue
            for request in self._recorded([self._list_request(self.fetch_url(column.url), column, 1)]):
                yield request

    # --- Frontier (crash-safe resume; spiders.crawlstate) -----------------------------------

    def _key(self, request: Request) -> str:
        return self.crawler.request_fingerprinter.fingerprint(request).hex()

    def _recorded(self, outputs: list[Any], parent: Request | None = None) -> list[Any]:
        """Record the requests among ``outputs`` in the run's frontier (pending) and the
        parent page as done, in one transaction; return the outputs minus requests this run
        already knows (a continued run must not fetch a done page again)."""
        state = self.state
        if state is None:
            return outputs
        children, where = [], []
        for i, out in enumerate(outputs):
            if isinstance(out, Request) and out.meta.get("blgw_kind"):
                if "blgw_key" not in out.meta:
                    lr = out.meta.get("blgw_list")
                    restart = f":restart{out.meta.get('blgw_restarts', 0)}" if lr is not None and lr.kind == "restart" else ""
                    out.meta["blgw_key"] = self._key(out) + restart
                key = out.meta["blgw_key"]
                children.append((key, out.meta["blgw_kind"], out.url, self._payload(out)))
                where.append(i)
        fresh = state.record(children, parent.meta.get("blgw_key") if parent is not None else None)
        drop = {where[j] for j, is_new in enumerate(fresh) if not is_new}
        kept = [out for i, out in enumerate(outputs) if i not in drop]
        for out in kept:
            if isinstance(out, Request) and out.meta.get("blgw_kind") == "list":
                state.progress(out.meta["blgw_column"]).outstanding += 1
        return kept

    @staticmethod
    def _payload(request: Request) -> dict[str, Any]:
        meta = request.meta
        payload: dict[str, Any] = {"column": meta.get("blgw_column")}
        if meta["blgw_kind"] == "list":
            lr: ListRequest = meta["blgw_list"]
            payload.update(page=lr.page_number, restarts=meta.get("blgw_restarts", 0),
                           list={"url": lr.url, "page_number": lr.page_number, "method": lr.method,
                                 "formdata": [list(p) for p in lr.formdata], "kind": lr.kind})
        elif meta["blgw_kind"] == "detail":
            entry: ListEntry = meta["blgw_entry"]
            payload["entry"] = {"url": entry.url, "title": entry.title, "date": entry.date}
        return payload

    def _from_frontier(self, entry: Any) -> Request | None:
        """Rebuild a pending request of a continued run from its frontier entry."""
        payload = entry.payload or {}
        try:
            if entry.kind == "recheck":
                return self._recheck_request(entry.key, entry.url, payload)
            column = self.site.column(payload["column"])
            if entry.kind == "list":
                lr = payload["list"]
                list_request = ListRequest(lr["url"], lr["page_number"], lr["method"],
                                           tuple(tuple(p) for p in lr["formdata"]), lr["kind"])
                request = self._list_request(list_request.url, column, list_request.page_number, list_request,
                                             restarts=payload.get("restarts", 0))
                self.state.progress(column.name).outstanding += 1
            else:
                e = payload["entry"]
                request = self._detail_request(ListEntry(e["url"], e.get("title"), e.get("date")), column)
        except (KeyError, TypeError, ValueError) as exc:
            self.logger.error("frontier entry %s of run %s cannot be continued (%s); it is dropped",
                              entry.key, entry.run_id, exc)
            self.state.mark_done(entry.key)
            return None
        request.meta["blgw_key"] = entry.key
        request.dont_filter = True
        return request

    def _on_idle(self) -> None:
        """After the list traversal of a full run: re-check the documents its columns stopped
        listing (stale-document purge); the spider stays open for them."""
        state = self.state
        if state is None or self.busy or state.purged or not state.full:
            return
        if any(p.outstanding for p in state.columns.values()):
            return
        rechecks = state.stale_documents()
        for entry in rechecks:
            self.crawler.engine.crawl(self._recheck_request(entry.key, entry.url, entry.payload))
        if rechecks:
            self.logger.info("re-checking %d document(s) no longer listed", len(rechecks))
            raise DontCloseSpider

    def _recheck_request(self, key: str, url: str, payload: dict[str, Any]) -> Request:
        return Request(url, callback=self.parse_recheck, errback=self._recheck_error, dont_filter=True,
                       meta={"blgw_key": key, "blgw_kind": "recheck", "handle_httpstatus_list": [404, 410],
                             "blgw_doc": payload.get("doc"), "blgw_missed": payload.get("missed", 0)})

    def parse_recheck(self, response: Response) -> Iterator[Any]:
        meta = response.meta
        if response.status in (404, 410):
            reason = f"HTTP {response.status} on re-check"
        else:
            reason = f"dropped from every list of its column for {meta.get('blgw_missed')} full run(s)"
        if self.state.gone(meta["blgw_doc"], reason, meta["blgw_key"]):
            self.logger.info("document %s gone: %s (%s)", meta["blgw_doc"], reason, response.url)
            self.crawler.stats.inc_value("blgw/items_gone")
        return iter(())

    def _recheck_error(self, failure: Failure) -> Iterator[Any]:
        request = failure.request  # type: ignore[attr-defined]
        out = list(self.on_error(failure))
        self.state.mark_done(request.meta.get("blgw_key"))
        for problem in out:
            if isinstance(problem, CrawlProblem):
                problem.message = f"re-check of a document no longer listed: {problem.message} (kept)"
        return iter(out)

    def render_in_browser(self, column: Column) -> bool:
        return (column.render or self.site.site.render) == "browser"

    def _list_request(self, url: str, column: Column, page_number: int,
                      list_request: ListRequest | None = None, restarts: int = 0) -> Request:
        list_request = list_request or ListRequest(url, page_number)
        meta: dict[str, Any] = {"blgw_column": column.name, "blgw_list": list_request, "blgw_restarts": restarts,
                                "blgw_kind": "list"}
        kwargs: dict[str, Any] = {
            "callback": self.parse_list, "errback": self._list_error, "priority": -page_number,
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
        outputs = list(self._parse_list(response, column, page_number))
        state = self.state
        if state is not None:
            progress = state.progress(column.name)
            outputs = self._recorded(outputs, response)
            progress.outstanding -= 1
            if progress.outstanding <= 0:
                interval = state.column_visited(column.name, progress.new_items)
                self.logger.info("column %s read; next visit in %s", column.name, interval)
        yield from outputs

    def _parse_list(self, response: Response, column: Column, page_number: int) -> Iterator[Any]:
        if response.status == 304:  # conditional GET: the list is as it was, so are its items
            self.decisions.append((column.name, page_number, response.url, 0, "not modified (HTTP 304): stop"))
            self.crawler.stats.inc_value("blgw/list_not_modified")
            if self.state is not None:
                self.state.progress(column.name).complete = False
            return
        content_type = response.headers.get("Content-Type", b"").decode("latin-1")
        text = decode_html(response.body, content_type).text
        list_request: ListRequest | None = response.meta.get("blgw_list")
        if self.state is not None:  # every link seen on the site, for the dead-link report
            self.state.record_links(self.public_url(response.url), response.body, content_type or None,
                                    self.fetch_origin, replace=response.request.method == "GET")
        paging = self.site.list_rules(column).paging
        if isinstance(paging, PostbackPaging) and list_request and list_request.method == "POST" \
                and VIEWSTATE_ERROR.search(text):
            yield from self._restart_list(column, response.meta, f"the server rejected the ViewState at {response.url}")
            return
        page = self.read_list_page(response.url, text, column, page_number, list_request)
        if page.decision.startswith("max_pages"):  # the paging cap, not the list's end: say so
            yield CrawlProblem(url=self.public_url(response.url), kind="paging-cap", message=(
                f"column {column.name}: paging stopped at the cap of {page_number} list pages "
                f"({'--max-pages' if self.max_pages_override else 'the plugin’s max_pages'}); later pages not read"))
        if self.state is not None:
            page = self._incremental(page, column, page_number)
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
        meta: dict[str, Any] = {"blgw_column": column.name, "blgw_kind": "detail", "blgw_entry": entry}
        if self.render_in_browser(column):
            rules = self.site.detail_rules(column)
            self._browserize(meta, rules.wait_for or rules.title)
        return Request(entry.url, callback=self.parse_detail, errback=self._detail_error, priority=10,
                       cb_kwargs={"column": column, "entry": entry}, meta=meta)

    def _incremental(self, page: ListPage, column: Column, page_number: int) -> ListPage:
        """Leave out entries whose documents are stored and unchanged (marked listed instead),
        and stop paging after ``BLGW_INCREMENTAL_STOP`` pages holding only such entries."""
        state = self.state
        progress = state.progress(column.name)
        publics = [self.public_url(e.url) for e in page.entries]
        known = state.known(publics)
        fetch, listed = [], []
        for entry, public in zip(page.entries, publics):
            k = known.get(public)
            if state.unchanged(entry.title, k):
                listed.append(k.id)
            else:
                fetch.append(entry)
                if k is None:
                    progress.new_items += 1
        if listed:
            state.listed(column.name, listed)
            self.crawler.stats.inc_value("blgw/items_listed_unchanged", len(listed))
        decision = page.decision
        nxt = page.next
        if page.entries and not fetch:
            progress.known_pages += 1
        elif fetch:
            progress.known_pages = 0
        if "max_pages" in decision:  # the paging cap, not the list's end: not a complete traversal
            progress.complete = False
        if (not state.full and nxt and state.incremental_stop > 0
                and progress.known_pages >= state.incremental_stop):
            nxt = []
            progress.complete = False
            decision = (f"incremental stop: {progress.known_pages} page(s) in a row held only known, "
                        f"unchanged items (was: {decision})")
            self.crawler.stats.inc_value("blgw/incremental_stops")
        if listed:
            decision += f"; {len(listed)} known item(s) not fetched again"
        return ListPage(fetch, nxt, decision)

    def _list_error(self, failure: Failure) -> Iterator[Any]:
        request = failure.request  # type: ignore[attr-defined]
        outputs = list(self.on_list_error(failure))
        state = self.state
        if state is not None:
            column = request.meta.get("blgw_column")
            progress = state.progress(column)
            progress.complete = False
            outputs = self._recorded(outputs, request)
            progress.outstanding -= 1
        return iter(outputs)

    def _detail_error(self, failure: Failure) -> Iterator[Any]:
        request = failure.request  # type: ignore[attr-defined]
        outputs = list(self.on_error(failure))
        if self.state is not None:
            self.state.mark_done(request.meta.get("blgw_key"))
        return iter(outputs)

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
            key = hash(self.public_url(detail_url))
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
        if response.status == 304 and self.state is not None:  # conditional GET: unchanged
            public = self.public_url(response.url)
            self.state.listed(column.name, [document_id(public)])
            self.state.mark_done(response.meta.get("blgw_key"))
            self.crawler.stats.inc_value("blgw/items_not_modified")
            return
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
            frontier_key=response.meta.get("blgw_key"),
        )

    def on_error(self, failure: Failure) -> Iterator[CrawlProblem]:
        """Report a failed request by its kind (``spiders.errors.KINDS``: http, timeout,
        connection, truncated, redirect, too-large…), under the public URL the page was linked
        by, with a message naming the URL fetched; the crawl goes on."""
        problem = classify(failure, failure.request)  # type: ignore[attr-defined]
        yield CrawlProblem(url=self.public_url(problem.url), kind=problem.kind, message=problem.message)
