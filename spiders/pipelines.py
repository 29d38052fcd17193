"""The pipeline from fetched page to store: normalize (pure), let plugins adjust, upsert.

It also owns the run: it opens a ``crawl_runs`` row when the spider opens and closes it with
the crawl's stats, and it records every problem (HTTP, network, field) against the run.
Items that pass through come out as exchange-standard dicts, so ``scrapy crawl rsj -O x.jsonl``
writes the standard too.
"""

from __future__ import annotations

from typing import Any

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem
from sqlalchemy import update
from twisted.internet import task

from gateway.store.repository import (
    finish_run,
    record_error,
    upsert_article,
    upsert_site,
)
from gateway.store.models import CrawlRun, Document
from gateway.store.session import Store, open_store
from normalizers.article import NormalizationError
from normalizers.models import Article
from normalizers.page import RawPage
from plugins.runtime import normalize_for_site
from spiders.crawlstate import CrawlState, SiteBusy
from spiders.items import CrawlProblem, FetchedPage


class _Normalizing:
    """Turns a :class:`FetchedPage` into an exchange-standard item with the site's hints and hooks."""

    crawler: Crawler

    @property
    def spider(self):
        return self.crawler.spider

    def _problem(self, url: str, kind: str, message: str, field: str | None = None) -> None:
        raise NotImplementedError

    def _drop_problem(self, item: Any) -> None:
        """A :class:`CrawlProblem` is recorded, then dropped: it is not an item of the standard."""
        if isinstance(item, CrawlProblem):
            self._problem(item.url, item.kind, item.message, item.field)
            raise DropItem(f"{item.kind} problem at {item.url}: {item.message}")

    def _normalize(self, item: FetchedPage) -> Article:
        site = self.spider.site
        page = RawPage(url=item.fetch_url, body=item.body, content_type=item.content_type,
                       status=item.status, fetched_at=item.fetched_at)
        try:
            result = normalize_for_site(self.spider.registry.hook, site, site.column(item.column), page,
                                        item.public_url, item.list_title, item.list_date)
        except NormalizationError as exc:
            self._problem(item.public_url, "extraction", str(exc), getattr(exc, "field", None))
            raise DropItem(f"cannot normalize {item.public_url}: {exc}") from exc
        for kind, message in result.problems:
            self._problem(item.public_url, kind, message)
        return result.item


class CheckPipeline(_Normalizing):
    """``blgw plugin check``: normalize like a crawl, write nothing; the items and problems are
    kept on the spider (``check_items``, ``check_problems``) for the report."""

    def __init__(self, crawler: Crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CheckPipeline:
        return cls(crawler)

    def open_spider(self) -> None:
        self.spider.check_items = []
        self.spider.check_problems = []

    def process_item(self, item: Any) -> Any:
        self._drop_problem(item)
        if not isinstance(item, FetchedPage):
            return item
        article = self._normalize(item)
        self.spider.check_items.append((item.column, article))
        return article.model_dump(mode="json")

    def _problem(self, url: str, kind: str, message: str, field: str | None = None) -> None:
        self.spider.check_problems.append(CrawlProblem(url=url, kind=kind, message=message, field=field))


class StorePipeline(_Normalizing):
    """Normalizes each :class:`FetchedPage` and upserts it into the store. It owns the run:
    the site's lock, a new or continued run, and its :class:`~spiders.crawlstate.CrawlState`
    (frontier, known documents), which it hands to the spider."""

    def __init__(self, crawler: Crawler, store: Store):
        self.crawler = crawler
        self.store = store
        self.run_id: int | None = None
        self.state: CrawlState | None = None
        self._heartbeat: task.LoopingCall | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StorePipeline:
        url = crawler.settings.get("BLGW_DATABASE_URL") or None
        pipeline = cls(crawler, open_store(url))
        # the run is closed on spider_closed, the first moment the close reason is known
        crawler.signals.connect(pipeline.spider_closed, signal=signals.spider_closed)
        return pipeline

    def open_spider(self) -> None:
        spider = self.spider
        with self.store.session() as session:
            upsert_site(session, spider.site)
        state = CrawlState(self.store, spider.site.code, self.crawler.settings, full=spider.full)
        try:
            state.acquire()
        except SiteBusy as exc:
            spider.busy = str(exc)
            self.crawler.stats.set_value("blgw/busy", str(exc))
            spider.logger.warning("%s: not crawled", exc)
            return
        self.state = spider.state = state
        self.run_id = state.open_run()
        self._heartbeat = task.LoopingCall(self._beat)
        self._heartbeat.start(self.crawler.settings.getfloat("BLGW_LOCK_HEARTBEAT_SECONDS", 30.0), now=False)
        self.crawler.stats.set_value("blgw/run_id", self.run_id)
        self.crawler.stats.set_value("blgw/full", state.full)
        if state.resumed:
            self.crawler.stats.set_value("blgw/resumed", True)
        spider.logger.info("run %s %s for site %s (%s)", self.run_id, "continued" if state.resumed else "started",
                           spider.site.code, "full" if state.full else "incremental")

    def _beat(self) -> None:
        try:
            if self.state is not None:
                self.state.heartbeat()
        except Exception as exc:  # noqa: BLE001 - a missed heartbeat must not stop the crawl
            self.spider.logger.warning("lock heartbeat failed: %s", exc)

    def close_spider(self) -> None:
        if self._heartbeat is not None and self._heartbeat.running:
            self._heartbeat.stop()
        if self.state is not None:
            self.state.flush()

    def spider_closed(self, spider, reason: str) -> None:
        """Close the run: ``finished``; ``failed`` when no page of the site could be fetched
        (every request refused, timed out or answered with an error); ``interrupted`` when the
        crawl was stopped (SIGTERM, Ctrl-C: reason ``shutdown``) — the next crawl of the site
        continues an interrupted run from its frontier, as it does a killed one."""
        if self.state is None:  # busy: nothing was started
            self.store.dispose()
            return
        stats = {k: (v.isoformat() if hasattr(v, "isoformat") else v)
                 for k, v in self.crawler.stats.get_stats().items()}
        stats["finish_reason"] = reason
        ok = sum(int(v) for k, v in stats.items() if k.startswith("downloader/response_status_count/")
                 and (k.rsplit("/", 1)[1].startswith("2") or k.endswith("/304")))
        status = {"finished": "finished", "shutdown": "interrupted"}.get(reason, "failed")
        try:
            with self.store.session() as session:
                before = session.get(CrawlRun, self.run_id)
                earlier_pages = before.pages_fetched if self.state.resumed else 0
                earlier_requests = before.requests if self.state.resumed else 0
                run = finish_run(session, self.run_id, status=status, reason=reason, stats=stats)
                run.pages_fetched += earlier_pages
                run.requests = earlier_requests + int(stats.get("downloader/request_count", 0))
                if ok == 0 and status == "finished" and not self.state.resumed:
                    run.status = "failed"
                    record_error(session, self.run_id, self.spider.site.site.base_url, "site",
                                 "no page could be fetched from the site")
        finally:
            self.state.release()
            self.store.dispose()

    def process_item(self, item: Any) -> Any:
        self._drop_problem(item)
        if not isinstance(item, FetchedPage):
            return item
        try:
            article = self._normalize(item)
        except DropItem:
            if self.state is not None:
                self.state.mark_done(item.frontier_key)
            raise
        with self.store.session() as session:
            outcome = upsert_article(
                session, article, fetch_url=item.fetch_url, raw_body=item.body,
                content_type=item.content_type, http_status=item.status, run_id=self.run_id,
            )
            for error in article.field_errors:
                message = f"{error.message}: {error.raw!r}" if error.raw else error.message
                record_error(session, self.run_id, item.public_url, "field", message, error.field)
            if self.state is not None:
                # listed in this run (the purge counts on it), and its frontier entry done, in
                # the transaction that stores it: a crash leaves either both or neither
                session.execute(update(Document).where(Document.id == article.id)
                                .values(column=item.column, last_listed_run_id=self.run_id, missed_runs=0))
                self.state.record_links(item.public_url, item.body, item.content_type, self.spider.fetch_origin,
                                        session=session)
                self.state.done(session, item.frontier_key)
        self.crawler.stats.inc_value(f"blgw/items_{outcome.value}")
        return article.model_dump(mode="json")

    def _problem(self, url: str, kind: str, message: str, field: str | None = None) -> None:
        self.crawler.stats.inc_value(f"blgw/errors/{kind}")
        with self.store.session() as session:
            record_error(session, self.run_id, url, kind, message, field)
