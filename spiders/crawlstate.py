"""The store's side of a crawl, as a Scrapy component: what a crawl keeps in the store while
it runs, so that it is incremental and crash-safe.

:class:`CrawlState` is an extension (``EXTENSIONS`` in ``spiders.settings``; off in a dry run,
``BLGW_STORE_ENABLED=False``). When the spider opens it takes the site's lock and opens the run;
when it closes it closes the run with the crawl's stats and releases the lock. The other
components find it with ``crawler.get_extension(CrawlState)``: the frontier, incremental and
link-recording spider middlewares (``spiders.spidermiddlewares``), conditional GET
(``spiders.downloadermiddlewares.conditional``), the stale-document purge
(``spiders.extensions.purge``) and the store pipeline. The spider itself knows nothing of it.

* **Lock** (``site_locks``, :mod:`gateway.store.locks`): one running crawl per site. A holder
  that died (``kill -9``, power loss) is taken over when its process is gone (same host) or its
  heartbeat is older than ``BLGW_LOCK_STALE_SECONDS`` (another host).
* **Run and frontier** (``crawl_runs``, ``frontier``): every request the spider schedules is
  written first, ``pending``; a list page is marked ``done`` in the transaction that records
  the requests it produced, a detail page in the transaction that stores its item (or records
  why it could not be). A run left ``running`` by a dead process is *continued*: its pending
  requests are scheduled again and nothing marked done is fetched again, so no page is lost and
  no item is stored twice. Scrapy's JOBDIR is not used: it survives only a graceful stop.
* **What is known** (``documents``): list entries whose document is stored, active, with the
  same title, and fetched less than ``BLGW_REFETCH_DAYS`` ago are not fetched again; they are
  marked listed. After ``BLGW_INCREMENTAL_STOP`` list pages in a row holding only such
  entries, paging of the column stops (not in a full run).
* **Rolling re-verification**: a body edited in place keeps its list entry, so the list says
  nothing of it. Each run also fetches again the stored pages verified longest ago
  (:meth:`CrawlState.reverify_batch`): as many as re-check every active document within
  ``BLGW_REFETCH_DAYS`` at the site's run interval (the median gap between its recent runs, one
  day at first), at most ``BLGW_REVERIFY_MAX_SHARE`` of them per run. A page fetched (or
  answered 304) counts as verified then, so the batch moves on; the run's statistics say how
  many requests it cost (``blgw/reverify/requests``).
* **HTTP validators** (``url_state``): ETag / Last-Modified of every page, for conditional
  GET, and the body hash.
* **Adaptive revisit** (``column_state``): a column's revisit interval halves when a visit
  finds new items and doubles when it finds none, between ``BLGW_REVISIT_MIN_HOURS`` and
  ``BLGW_REVISIT_MAX_HOURS``; an incremental run skips columns not yet due.
* **Stale-document purge**: a full run that read every list page of a column counts, for the
  column's documents it did not list, one more missed run; at ``BLGW_PURGE_AFTER_RUNS`` the
  document is re-checked: 404/410, or still dropped from every list, marks it ``gone`` (kept in
  the store, deleted from the index through the outbox).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import itertools
import logging
import math
import os
import re
import unicodedata
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol, cast

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.http import Request
from scrapy.utils.defer import deferred_from_coro
from sqlalchemy import CursorResult, Table, bindparam, func, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session
from twisted.internet import task
from twisted.python.failure import Failure

from gateway.scope import Scope
from gateway.settings import GatewaySettings
from gateway.store.links import record_links_many
from gateway.store.locks import SiteBusy, acquire_lock, heartbeat_lock, release_lock
from gateway.store.models import ColumnState, CrawlRun, Document, DocumentListing, FrontierEntry, UrlState, utcnow
from gateway.store.repository import finish_run, mark_gone, record_error, start_run, upsert_site
from gateway.store.session import Store, dialect_insert, open_store
from normalizers.links import Link
from normalizers.models import document_id
from plugins.manager import SiteRegistry
from plugins.spec import Column, SiteSpec
from spiders.budget import Budget
from spiders.config import crawl_config
from spiders.items import CrawlProblem

__all__ = ["ColumnProgress", "CrawlSpider", "CrawlState", "Known", "StoreFailed", "UsesCrawlState", "list_titles_agree", "running_spider", "titles_agree"]

log = logging.getLogger(__name__)


_CUT_MARK = re.compile(r"(?:[.．。·・•∙⋯…]{2,}|[…⋯])$")
"""How lists mark a cut title: ``...``, ``…``, ``……``, PbootCMS's ``···``, ``。。。``."""


def _norm_title(text: str | None) -> str:
    """A title compared: NFKC, no white space, no cut mark at its end."""
    text = "".join(unicodedata.normalize("NFKC", text or "").split())
    return _CUT_MARK.sub("", text)


def _one_line(exc: BaseException) -> str:
    """An exception as one line (a database error: the driver's own error, without the SQL)."""
    orig = getattr(exc, "orig", None)  # sqlalchemy.exc.DBAPIError wraps the driver's error
    if isinstance(orig, BaseException):
        exc = orig
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"[:500]


def titles_agree(listed: str | None, stored: str | None) -> bool:
    """A list shows the stored page title: the same, or cut (a prefix of it, with or without a
    cut mark). A list title longer than the page's is not the same: a title extended at the end is
    an edit."""
    a, b = _norm_title(listed), _norm_title(stored)
    if not a or not b:
        return True
    return b.startswith(a)


def list_titles_agree(listed: str | None, before: str | None) -> bool:
    """A list shows the title it showed when the document was stored (cut alike, decorated
    alike): the same after white space and cut marks."""
    return _norm_title(listed) == _norm_title(before)


class StoreFailed(Exception):
    """The store could not commit a transaction of the crawl (see :meth:`CrawlState.session`)."""


class CrawlSpider(Protocol):
    """What the crawl components use of the spider: :class:`spiders.site_spider.SiteSpider`,
    which sits a layer above them (they cannot import it)."""

    name: str
    site: ClassVar[SiteSpec]
    registry: ClassVar[SiteRegistry]
    full: bool
    fetch_origin: str | None
    scope: Scope

    @property
    def logger(self) -> logging.LoggerAdapter[logging.Logger]: ...
    def public_url(self, url: str) -> str: ...
    def fetch_url(self, url: str) -> str: ...
    def columns(self) -> list[Column]: ...
    def decide(self, column: str, page_number: int, url: str, entries: int, why: str) -> None: ...
    def frontier_payload(self, request: Request) -> dict[str, Any]: ...
    def request_from_frontier(self, kind: str, payload: dict[str, Any]) -> Request: ...
    def on_error(self, failure: Failure) -> Iterator[CrawlProblem]: ...
    def budget(self) -> Budget: ...


def running_spider(crawler: Crawler) -> CrawlSpider:
    """The spider of a running crawl, as the components see it. Scrapy sets
    ``crawler.spider`` before it builds any component, and the gateway's crawls are all of
    :class:`~spiders.site_spider.SiteSpider` (``spiders.loader``)."""
    spider = crawler.spider
    assert spider is not None, "the crawl has no spider yet"
    return cast(CrawlSpider, spider)


@dataclass
class Known:
    """What the store knows of one list entry's document."""

    id: str
    title: str
    status: str
    last_seen_at: dt.datetime
    list_title: str | None = None  # what the list showed when it was stored
    column: str | None = None  # the column it belongs to


@dataclass(frozen=True)
class Reverify:
    """A stored page due for re-verification (:meth:`CrawlState.reverify_batch`)."""

    id: str
    url: str  # as served, on the public origin
    column: str | None
    title: str | None  # what its list showed (or its title)
    verified_at: dt.datetime


@dataclass
class ColumnProgress:
    """List requests of one column in flight, and whether its paging can still count as a
    complete traversal (the stale-document purge needs one)."""

    outstanding: int = 0
    complete: bool = True
    known_pages: int = 0
    new_items: int = 0


class CrawlState:
    """The store's side of one site's crawl (see the module documentation)."""

    def __init__(self, store: Store, site_code: str, config: GatewaySettings, *, full: bool = False) -> None:
        self.store = store
        self.site_code = site_code
        self.full = full
        self.incremental_stop = config.incremental_stop
        self.refetch_after = dt.timedelta(days=config.refetch_days)
        self.reverify_max_share = config.reverify_max_share
        self._warned_reverify = False
        self._listings: dict[str, set[str]] | None = None
        self.full_every = dt.timedelta(days=config.full_every_days)
        self.purge_after = config.purge_after_runs
        # scheduled runs (crawl --due, the scheduler) skip columns whose revisit is not due
        self.adaptive = config.adaptive_revisit
        self.lock_stale = dt.timedelta(seconds=config.lock_stale_seconds)
        self.heartbeat_every = config.lock_heartbeat_seconds
        self.revisit_min = dt.timedelta(hours=config.revisit_min_hours)
        self.revisit_max = dt.timedelta(hours=config.revisit_max_hours)
        self.hostname = config.worker
        self.pid = os.getpid()
        # a crawl the scheduler started adopts the lock the scheduler claimed for it
        self.holder = config.lock_holder or f"{self.hostname}:{self.pid}:{uuid.uuid4().hex[:8]}"
        self.run_id: int | None = None
        self.resumed = False
        self.busy: str | None = None  # why the site is not crawled (its lock is held elsewhere)
        self.pending: list[FrontierEntry] = []  # what a resumed run (or a new run: carried over) must fetch
        self.retry_runs = config.retry_runs
        self.earlier_pages = 0  # what the earlier parts of a continued run fetched
        self.earlier_requests = 0
        self.store_failure: str | None = None  # the store could not commit: the run fails (kind store)
        self.columns: dict[str, ColumnProgress] = {}
        self.purged = False
        self._validators: dict[str, dict[str, Any]] = {}
        self._links: list[tuple[str, list[Link], bool]] = []  # list pages' links, written with the next transaction
        self._has_validators = True  # known after open_run
        self.locked = False
        self.crawler: Crawler | None = None
        self._heartbeat: task.LoopingCall | None = None
        self._before_close: list[Callable[[], None]] = []

    # -- the component ------------------------------------------------------------------------

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CrawlState:
        """The crawl's state over the store ``BLGW_DATABASE_URL`` names; NotConfigured in a
        dry run (``BLGW_STORE_ENABLED`` off)."""
        config = crawl_config(crawler)
        if not config.store_enabled:
            raise NotConfigured
        spider = running_spider(crawler)
        state = cls(open_store(config.database_url), spider.site.code, config,
                    full=bool(getattr(spider, "full", False)))
        state.crawler = crawler
        crawler.signals.connect(state.spider_opened, signal=signals.spider_opened)
        # the run is closed on spider_closed, the first moment the close reason is known
        crawler.signals.connect(state.spider_closed, signal=signals.spider_closed)
        return state

    def spider_opened(self, spider: CrawlSpider) -> None:
        """Take the site's lock (or note why not: :attr:`busy`) and open or continue its run."""
        assert self.crawler is not None
        stats = self.crawler.stats
        site = spider.site
        try:
            with self.session() as session:
                upsert_site(session, code=site.code, name=site.name, base_url=site.site.base_url,
                            platform=site.site.platform, plugin_source=site.source)
            self.acquire()
            self.open_run()
        except SiteBusy as exc:
            self.busy = str(exc)
            stats.set_value("blgw/busy", str(exc))
            spider.logger.warning("%s: not crawled", exc)
            return
        except StoreFailed as exc:  # no run could be opened: nothing is crawled, the command fails
            self.busy, self.run_id = f"the store failed: {exc}", None
            stats.set_value("blgw/busy", self.busy)
            self.release_quietly()
            return
        self._heartbeat = task.LoopingCall(self._beat)
        self._heartbeat.start(self.heartbeat_every, now=False)
        stats.set_value("blgw/run_id", self.run_id)
        stats.set_value("blgw/host", self.hostname)
        stats.set_value("blgw/full", self.full)
        if self.resumed:
            stats.set_value("blgw/resumed", True)
        spider.logger.info("run %s %s for site %s (%s)", self.run_id, "continued" if self.resumed else "started",
                           site.code, "full" if self.full else "incremental")

    def _beat(self) -> None:
        try:
            self.heartbeat()
        except Exception as exc:  # noqa: BLE001 - a missed heartbeat must not stop the crawl
            log.warning("lock heartbeat of site %s failed: %s", self.site_code, exc)

    def spider_closed(self, spider: CrawlSpider, reason: str) -> None:
        """Close the run: ``finished``; ``failed`` when no page of the site could be fetched
        (every request refused, timed out or answered with an error); ``interrupted`` when the
        crawl was stopped (SIGTERM, Ctrl-C: reason ``shutdown``) — the next crawl of the site
        continues an interrupted run from its frontier, as it does a killed one."""
        assert self.crawler is not None
        if self._heartbeat is not None and self._heartbeat.running:
            self._heartbeat.stop()
        for callback in self._before_close:
            try:
                callback()
            except Exception as exc:  # noqa: BLE001 - the run is closed whatever a component does
                log.error("before closing run %s: %s", self.run_id, exc)
        if self.run_id is None:  # busy: nothing was started
            self.store.dispose()
            return
        try:
            self._close_run(spider, reason)
        except Exception as exc:  # noqa: BLE001 - the store is what failed: said in one line, the lock still released
            log.error("run %s of %s could not be closed in the store: %s", self.run_id, self.site_code,
                      _one_line(exc))
            if self.crawler.stats is not None:
                self.crawler.stats.set_value("blgw/store_failure", _one_line(exc))
        finally:
            self.release_quietly()
            self.store.dispose()

    def _close_run(self, spider: CrawlSpider, reason: str) -> None:
        assert self.crawler is not None
        if self.store_failure is None:
            self.flush()
        stats = {k: (v.isoformat() if hasattr(v, "isoformat") else v)
                 for k, v in self.crawler.stats.get_stats().items()}
        stats["finish_reason"] = reason
        ok = sum(int(v) for k, v in stats.items() if k.startswith("downloader/response_status_count/")
                 and (k.rsplit("/", 1)[1].startswith("2") or k.endswith("/304")))
        status = {"finished": "finished", "shutdown": "interrupted"}.get(reason, "failed")
        if self.store_failure is not None:
            status = "failed"
        pages, requests = self.counts()
        run_id = self.run_id
        assert run_id is not None
        with self.store.session() as session:
            run = finish_run(session, run_id, status=status, reason=reason, stats=stats)
            run.pages_fetched, run.requests = pages, requests
            if self.store_failure is not None:
                record_error(session, run.id, spider.site.site.base_url, "store",
                             f"the store failed; pages not committed are fetched again by the next run: "
                             f"{self.store_failure}")
            if status != "interrupted":
                self.close_unfinished(session)
            if ok == 0 and status == "finished" and not self.resumed:
                run.status = "failed"
                record_error(session, run.id, spider.site.site.base_url, "site",
                             "no page could be fetched from the site")

    @contextlib.contextmanager
    def session(self) -> Iterator[Session]:
        """A transaction of the crawl in the store. When the store fails (disk full, the
        database gone, a constraint broken) the crawl stops: the run fails with kind ``store``,
        what was not committed stays pending and the next run fetches it; the failure is raised
        as :class:`StoreFailed`, one line."""
        try:
            with self.store.session() as session:
                yield session
        except StoreFailed:
            raise
        except (SQLAlchemyError, OSError) as exc:
            self.store_failed(exc)
            raise StoreFailed(self.store_failure or _one_line(exc)) from exc

    def store_failed(self, exc: BaseException) -> None:
        """Note the store's failure (the first one is the run's) and stop the crawl."""
        if self.store_failure is not None:
            return
        self.store_failure = _one_line(exc)
        log.error("site %s: the store failed, the crawl stops (pages not stored are fetched again by the "
                  "next run): %s", self.site_code, self.store_failure)
        if self.crawler is None:
            return
        self.crawler.stats.set_value("blgw/store_failure", self.store_failure)
        engine = self.crawler.engine
        if engine is not None and engine.spider is not None:
            deferred_from_coro(engine.close_spider_async(reason="store-failed"))

    def before_close(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` when the spider closes, before the run is closed (a component's
        last problems are part of the run)."""
        self._before_close.append(callback)

    def record_problem(self, url: str, kind: str, message: str) -> None:
        """Record a problem of the run that is no page's outcome (what the browser refused)."""
        assert self.run_id is not None
        with self.session() as session:
            record_error(session, self.run_id, url[:2000], kind, message)

    # -- lock -----------------------------------------------------------------------------------

    def acquire(self) -> None:
        """Take the site's lock or raise :class:`~gateway.store.locks.SiteBusy` naming the holder."""
        with self.session() as session:
            acquire_lock(session, self.site_code, holder=self.holder, hostname=self.hostname, pid=self.pid,
                         stale=self.lock_stale)
        self.locked = True

    def heartbeat(self) -> None:
        """Refresh the lock, and write the run's page and request counts so far (a run killed
        later and continued adds its parts up)."""
        if self.locked:  # a missed beat is no store failure of the crawl (the caller logs it)
            with self.store.session() as session:
                heartbeat_lock(session, self.site_code, self.holder, self.run_id)
                if self.run_id is not None and self.crawler is not None:
                    pages, requests = self.counts()
                    session.execute(update(CrawlRun).where(CrawlRun.id == self.run_id)
                                    .values(pages_fetched=pages, requests=requests))

    def counts(self) -> tuple[int, int]:
        """Pages fetched and requests sent by the run so far, its earlier parts included."""
        assert self.crawler is not None and self.crawler.stats is not None
        stats = self.crawler.stats
        return (self.earlier_pages + int(stats.get_value("downloader/response_count", 0) or 0),
                self.earlier_requests + int(stats.get_value("downloader/request_count", 0) or 0))

    def release_quietly(self) -> None:
        try:
            self.release()
        except Exception as exc:  # noqa: BLE001 - a dead store: its lock goes stale and is taken over
            log.error("the lock of site %s could not be released: %s", self.site_code, _one_line(exc))

    def release(self) -> None:
        if self.locked:
            with self.store.session() as session:
                release_lock(session, self.site_code, self.holder)
            self.locked = False

    # -- run --------------------------------------------------------------------------------------

    def open_run(self) -> int:
        """Continue the site's run left ``running`` by a dead process, or start a new one.
        Call with the lock held."""
        with self.session() as session:
            left = session.scalars(select(CrawlRun).where(CrawlRun.site_code == self.site_code,
                                                          CrawlRun.status.in_(("running", "interrupted")))
                                   .order_by(CrawlRun.id.desc())).first()
            if left is not None:
                left.resumes = (left.resumes or 0) + 1
                left.status, left.finished_at = "running", None
                self.run_id, self.resumed, self.full = left.id, True, bool(left.full)
                self.pending = list(session.scalars(
                    select(FrontierEntry).where(FrontierEntry.run_id == left.id, FrontierEntry.state == "pending")
                    .order_by(FrontierEntry.id)))
                self.purged = session.scalars(select(FrontierEntry.id).where(
                    FrontierEntry.run_id == left.id, FrontierEntry.key == "purge")).first() is not None
                for older in session.scalars(select(CrawlRun).where(
                        CrawlRun.site_code == self.site_code, CrawlRun.status.in_(("running", "interrupted")),
                        CrawlRun.id != left.id)):
                    older.status, older.finish_reason, older.finished_at = "failed", "abandoned", utcnow()
                # what its earlier parts fetched: the last count written (heartbeat, close), or at
                # least the pages that got an outcome (a kill -9 before any heartbeat wrote none)
                answered = session.scalar(select(func.count()).select_from(FrontierEntry).where(
                    FrontierEntry.run_id == left.id, FrontierEntry.state.in_(("done", "failed")),
                    FrontierEntry.kind.in_(("list", "detail", "recheck")))) or 0
                self.earlier_pages = max(left.pages_fetched or 0, answered)
                self.earlier_requests = max(left.requests or 0, answered)
            else:
                if not self.full:
                    self.full = self._full_due(session)
                run = start_run(session, self.site_code)
                run.full = self.full
                self.run_id = run.id
                session.flush()
                self.pending = self.carry_over(session)
            heartbeat_lock(session, self.site_code, self.holder, self.run_id)
            # a site's first crawl has no validators to send: skip the lookup per request
            self._has_validators = session.scalars(
                select(UrlState.id).where(UrlState.site_code == self.site_code).limit(1)).first() is not None
        return self.run_id

    def carry_over(self, session: Session) -> list[FrontierEntry]:
        """A new run takes over what earlier runs of the site did not get: their entries left
        ``failed`` (a fetch, a plugin hook or the store failed) or ``pending`` (the run failed or
        was abandoned before reaching them) become pending entries of this run, and the old ones
        ``carried``, in this transaction, so whatever the list pages say (a 304, an incremental
        stop) the next ordinary run fetches them again. An entry carried ``BLGW_RETRY_RUNS``
        times is given up (``abandoned``) and named in this run's errors."""
        closed = select(CrawlRun.id).where(CrawlRun.site_code == self.site_code, CrawlRun.id != self.run_id,
                                           CrawlRun.status.notin_(("running", "interrupted")))
        left = list(session.scalars(select(FrontierEntry).where(
            FrontierEntry.run_id.in_(closed), FrontierEntry.state.in_(("failed", "pending")),
            FrontierEntry.kind.in_(("list", "detail"))).order_by(FrontierEntry.id)))
        if not left:
            return []
        run_id = self.run_id
        assert run_id is not None
        carried: dict[str, tuple[str, str, dict[str, Any]]] = {}
        for entry in left:
            entry.state, entry.done_at = "carried", utcnow()
            attempts = int((entry.payload or {}).get("attempts", 0)) + 1
            if attempts > self.retry_runs:
                entry.state = "abandoned"
                record_error(session, run_id, self._public(entry.url)[:2000], "abandoned",
                             f"{entry.kind} page not fetched in {self.retry_runs} runs; given up (BLGW_RETRY_RUNS)")
                continue
            carried.setdefault(entry.key, (entry.kind, entry.url, {**(entry.payload or {}), "attempts": attempts}))
        inserted = self._insert_new(session, carried)
        log.warning("run %s of %s: %d page(s) earlier runs did not get are fetched again",
                    self.run_id, self.site_code, len(inserted))
        return list(session.scalars(select(FrontierEntry).where(
            FrontierEntry.run_id == self.run_id, FrontierEntry.state == "pending").order_by(FrontierEntry.id)))

    def _public(self, url: str) -> str:
        """The public URL of a fetched one (errors name the URL the site publishes)."""
        if self.crawler is None or self.crawler.spider is None:
            return url
        return running_spider(self.crawler).public_url(url)

    def close_unfinished(self, session: Session, limit: int = 1000) -> int:
        """At the end of a run that was not interrupted, the frontier entries still pending were
        scheduled and never given an outcome (a component dropped them, the store failed): each
        is closed ``failed`` and named (kind ``unfinished``, up to ``limit`` of them, then one
        line with the count), and the next run fetches it again. Returns how many."""
        rows = list(session.execute(select(FrontierEntry.id, FrontierEntry.kind, FrontierEntry.url).where(
            FrontierEntry.run_id == self.run_id, FrontierEntry.state == "pending",
            FrontierEntry.kind.in_(("list", "detail", "recheck")))))
        run_id = self.run_id
        if not rows or run_id is None:
            return 0
        session.execute(update(FrontierEntry).where(FrontierEntry.id.in_([r.id for r in rows]))
                        .values(state="failed", done_at=utcnow()))
        for row in rows[:limit]:
            record_error(session, run_id, self._public(row.url)[:2000], "unfinished",
                         f"{row.kind} page scheduled but given no outcome in this run; fetched again by the next")
        if len(rows) > limit:
            record_error(session, run_id, self.site_code, "unfinished",
                         f"{len(rows) - limit} more pages scheduled but given no outcome")
        return len(rows)

    def _full_due(self, session: Session) -> bool:
        """A run reads every list page when the site has no finished full run newer than
        ``BLGW_FULL_EVERY_DAYS`` (so its first run is full)."""
        last_full = session.scalars(select(CrawlRun.started_at).where(
            CrawlRun.site_code == self.site_code, CrawlRun.full.is_(True),
            CrawlRun.status == "finished").order_by(CrawlRun.started_at.desc())).first()
        return last_full is None or utcnow() - last_full >= self.full_every

    # -- frontier ---------------------------------------------------------------------------------

    def record(self, children: list[tuple[str, str, str, dict[str, Any]]], parent: str | None = None,
               session: Session | None = None) -> list[bool]:
        """Write the requests a page produced (``(key, kind, url, payload)``) as pending and
        mark the page's own entry done, in one transaction. Returns, per child, whether it is
        new to this run (an old one must not be scheduled again). The store's unique
        ``(run_id, key)`` is the de-duplication: no set of keys grows in memory."""
        first: dict[str, tuple[str, str, dict[str, Any]]] = {}
        for key, kind, url, payload in children:
            first.setdefault(key, (kind, url, payload))
        if not first and parent is None:  # a detail page: its item's transaction closes it
            return []
        if session is not None:
            inserted = self._write(session, first, parent)
        else:
            with self.session() as s:
                inserted = self._write(s, first, parent)
        fresh, given = [], set()
        for key, *_ in children:
            fresh.append(key in inserted and key not in given)
            given.add(key)
        return fresh

    def _insert_new(self, session: Session, first: dict[str, tuple[str, str, dict[str, Any]]]) -> set[str]:
        """Insert the entries whose key this run does not have yet; return their keys."""
        if not first:
            return set()
        rows: list[dict[str, Any]] = [{"run_id": self.run_id, "key": k, "kind": kind, "url": url, "payload": payload,
                 "state": "pending", "created_at": utcnow()} for k, (kind, url, payload) in first.items()]
        insert = dialect_insert(session)
        if insert is not None:
            inserted: set[str] = set()
            for i in range(0, len(rows), 200):
                stmt = insert(FrontierEntry).values(rows[i:i + 200]).on_conflict_do_nothing(
                    index_elements=["run_id", "key"]).returning(FrontierEntry.key)
                inserted.update(session.scalars(stmt))
            return inserted
        have = set(session.scalars(select(FrontierEntry.key).where(  # another database: read, then insert
            FrontierEntry.run_id == self.run_id, FrontierEntry.key.in_(list(first)))))
        new = [r for r in rows if r["key"] not in have]
        if new:
            session.execute(cast(Table, FrontierEntry.__table__).insert(), new)
        return {r["key"] for r in new}

    def _write(self, session: Session, first: dict[str, tuple[str, str, dict[str, Any]]], parent: str | None) -> set[str]:
        inserted = self._insert_new(session, first)
        if parent is not None:
            self.done(session, parent)
        self._flush_remembered(session)
        return inserted

    def done(self, session: Session, key: str | None, *, failed: bool = False) -> None:
        """Close a pending frontier entry: ``done``, or ``failed`` (the next run fetches it again:
        :meth:`carry_over`)."""
        if key is None:
            return
        session.execute(update(FrontierEntry).where(FrontierEntry.run_id == self.run_id, FrontierEntry.key == key,
                                                    FrontierEntry.state == "pending")
                        .values(state="failed" if failed else "done", done_at=utcnow()))

    def done_many(self, session: Session, keys: Iterable[str | None]) -> None:
        """:meth:`done` for many entries, in one statement run over them (executemany)."""
        rows = [{"r": self.run_id, "k": key, "t": utcnow()} for key in dict.fromkeys(keys) if key is not None]
        if not rows:
            return
        table = cast(Table, FrontierEntry.__table__)
        session.execute(table.update().where(table.c.run_id == bindparam("r"), table.c.key == bindparam("k"),
                                             table.c.state == "pending").values(state="done", done_at=bindparam("t")),
                        rows)

    def mark_done(self, key: str | None) -> None:
        if key is None:
            return
        with self.session() as session:
            self.done(session, key)
            self._flush_remembered(session)

    # -- known documents --------------------------------------------------------------------------

    def known(self, public_urls: Iterable[str]) -> dict[str, Known]:
        ids = {document_id(u): u for u in public_urls}
        if not ids:
            return {}
        with self.session() as session:
            rows = session.execute(select(Document.id, Document.title, Document.status, Document.last_seen_at,
                                          Document.list_title, Document.column)
                                   .where(Document.id.in_(list(ids))))
            return {ids[r.id]: Known(r.id, r.title, r.status, r.last_seen_at, r.list_title, r.column) for r in rows}

    def unchanged(self, entry_title: str | None, known: Known | None, now: dt.datetime | None = None) -> bool:
        """Whether a list entry's document need not be fetched again."""
        if known is None or known.status != "active" or self.refetch_after.total_seconds() <= 0:
            return False
        if (now or utcnow()) - known.last_seen_at > self.refetch_after:
            return False
        if known.list_title is not None and entry_title:  # list title against list title
            return list_titles_agree(entry_title, known.list_title)
        return titles_agree(entry_title, known.title)

    def reverify_batch(self, now: dt.datetime | None = None) -> list[Reverify]:
        """The stored pages this run fetches again though their list entries are unchanged,
        oldest-verified first: those that would pass the refetch window before the next run
        (verified more than the window minus the site's run interval ago), and at least the
        share that spreads re-verification evenly over the window (``total × interval /
        window``); at most ``BLGW_REVERIFY_MAX_SHARE`` of the site's active documents. None
        when the window is 0 (everything is fetched then)."""
        window = self.refetch_after.total_seconds()
        if window <= 0 or self.reverify_max_share <= 0 or self.run_id is None:
            return []
        now = now or utcnow()
        with self.session() as session:
            active = (Document.site_code == self.site_code) & (Document.status == "active")
            total = session.scalar(select(func.count()).select_from(Document).where(active)) or 0
            if not total:
                return []
            interval = min(self._run_interval(session), window)
            due = session.scalar(select(func.count()).select_from(Document).where(
                active, Document.last_seen_at < now - dt.timedelta(seconds=window - interval))) or 0
            spread = math.floor(total * interval / window)
            if interval / window > self.reverify_max_share and not self._warned_reverify:
                self._warned_reverify = True
                log.warning("site %s: runs every %.1f h cannot re-verify all %d stored pages within the refetch window "
                            "(%.0f days) at %.0f%% of them per run (BLGW_REVERIFY_MAX_SHARE): edits in place may be "
                            "found later; run more often or raise the share", self.site_code, interval / 3600, total,
                            window / 86400, self.reverify_max_share * 100)
            count = min(math.ceil(total * self.reverify_max_share), max(due, spread))
            if count <= 0:
                return []
            rows = session.execute(select(Document.id, Document.url, Document.column, Document.list_title,
                                          Document.title, Document.last_seen_at)
                                   .where(active, Document.last_seen_at < now - dt.timedelta(seconds=interval / 2))
                                   .order_by(Document.last_seen_at, Document.id).limit(count))
            return [Reverify(r.id, r.url, r.column, r.list_title or r.title, r.last_seen_at) for r in rows]

    def _run_interval(self, session: Session) -> float:
        """Seconds between this site's runs: the median gap between its recent runs' starts
        (this one included), a day when there is no earlier run."""
        starts = list(session.scalars(select(CrawlRun.started_at).where(CrawlRun.site_code == self.site_code)
                                      .order_by(CrawlRun.id.desc()).limit(8)))
        gaps = sorted((a - b).total_seconds() for a, b in itertools.pairwise(starts) if a > b)
        return gaps[len(gaps) // 2] if gaps else 86400.0

    # -- listings: a document listed in several columns ---------------------------------------------

    def listings(self) -> dict[str, set[str]]:
        """{document id: the columns whose lists show it}, of the site (read once per run, then
        kept up to date by :meth:`record_listings`)."""
        if self._listings is None:
            found: dict[str, set[str]] = {}
            with self.session() as session:
                for doc_id, column in session.execute(select(DocumentListing.document_id, DocumentListing.column)
                                                      .where(DocumentListing.site_code == self.site_code)):
                    found.setdefault(doc_id, set()).add(column)
            self._listings = found
        return self._listings

    def record_listings(self, column: str, ids: Iterable[str]) -> None:
        """A list page of ``column`` shows the documents ``ids`` (stored or not yet): each
        listing recorded once, with the run that last saw it."""
        known = self.listings()
        ids = list(dict.fromkeys(ids))
        new = [i for i in ids if column not in known.get(i, ())]
        if not ids:
            return
        with self.session() as session:
            now = utcnow()
            for doc_id in new:
                session.merge(DocumentListing(document_id=doc_id, column=column, site_code=self.site_code,
                                              first_listed_at=now, last_listed_run_id=self.run_id))
            session.execute(update(DocumentListing).where(DocumentListing.document_id.in_(ids),
                                                          DocumentListing.column == column)
                            .values(last_listed_run_id=self.run_id))
        for doc_id in new:
            known.setdefault(doc_id, set()).add(column)

    def primary_column(self, site: SiteSpec, doc_id: str, url: str, column: str) -> str:
        """The column a document belongs to, of those whose lists show it and ``column``
        (:meth:`plugins.spec.SiteSpec.primary_column`)."""
        listed_in = self.listings().get(doc_id)
        if not listed_in or listed_in <= {column}:
            return column
        return site.primary_column(url, listed_in | {column}) or column

    def verified(self, ids: list[str], when: dt.datetime | None = None) -> None:
        """Documents the site confirmed unchanged (a detail page answered 304): verified now."""
        if not ids:
            return
        with self.session() as session:
            session.execute(update(Document).where(Document.id.in_(ids)).values(last_seen_at=when or utcnow()))

    def listed(self, column: str, ids: list[str], session: Session | None = None,
               primary: Iterable[str] | None = None) -> int:
        """Documents a list page of ``column`` shows: listed in this run, missed-run count reset;
        those not yet listed in this run count as unchanged items of the run (the condition is
        in the ``UPDATE``: nothing per document is kept in memory). ``column`` becomes the
        column of those of ``primary`` (default: all of ``ids``; a document listed in several
        columns belongs to its primary one). Returns how many."""
        if not ids:
            return 0
        owned = list(ids if primary is None else primary)

        def write(s: Session) -> int:
            if owned:
                s.execute(update(Document).where(Document.id.in_(owned), Document.column.is_distinct_from(column))
                          .values(column=column))
            result = s.execute(update(Document).where(
                Document.id.in_(ids),
                Document.last_listed_run_id.is_(None) | (Document.last_listed_run_id != self.run_id))
                .values(last_listed_run_id=self.run_id, missed_runs=0))
            count = cast(CursorResult[Any], result).rowcount or 0  # an UPDATE's result is a cursor's
            if count:
                s.execute(update(CrawlRun).where(CrawlRun.id == self.run_id)
                          .values(items_unchanged=CrawlRun.items_unchanged + count))
            return count

        if session is not None:
            return write(session)
        with self.session() as s:
            return write(s)

    # -- columns ----------------------------------------------------------------------------------

    def progress(self, column: str) -> ColumnProgress:
        return self.columns.setdefault(column, ColumnProgress())

    def column_due(self, column: str, now: dt.datetime | None = None) -> bool:
        """An incremental run visits a column when its adaptive interval has passed."""
        if self.full or not self.adaptive:
            return True
        with self.session() as session:
            state = session.get(ColumnState, (self.site_code, column))
        return state is None or state.next_visit_at is None or state.next_visit_at <= (now or utcnow())

    def column_visited(self, column: str, new_items: int, now: dt.datetime | None = None) -> dt.timedelta:
        """Adapt the column's revisit interval to what this visit found; return it."""
        now = now or utcnow()
        with self.session() as session:
            state = session.get(ColumnState, (self.site_code, column))
            if state is None:
                state = ColumnState(site_code=self.site_code, column=column,
                                    revisit_seconds=int(self.revisit_min.total_seconds()), visits=0)
                session.add(state)
            interval = dt.timedelta(seconds=state.revisit_seconds)
            if new_items:
                interval = max(self.revisit_min, interval / 2)
                state.last_new_at = now
            elif state.visits:
                interval = min(self.revisit_max, interval * 2)
            state.revisit_seconds = int(interval.total_seconds())
            state.visits = (state.visits or 0) + 1
            state.last_visited_at = now
            state.next_visit_at = now + interval
        return interval

    # -- HTTP validators ----------------------------------------------------------------------------

    def validators(self, public_url: str) -> tuple[str | None, str | None]:
        if not self._has_validators:
            return None, None
        with self.session() as session:
            row = session.get(UrlState, document_id(public_url))
            return (row.etag, row.last_modified) if row is not None else (None, None)

    def saw_response(self, public_url: str, kind: str, status: int, etag: str | None,
                     last_modified: str | None, body: bytes | None) -> None:
        """Remember a response's validators and body hash (written with the next transaction)."""
        self._validators[document_id(public_url)] = {
            "url": public_url, "kind": kind, "status": status, "etag": etag, "last_modified": last_modified,
            "hash": hashlib.sha256(body).hexdigest() if body is not None and status != 304 else None,
        }
        if len(self._validators) >= 200:
            with self.session() as session:
                self._flush_remembered(session)

    def _flush_remembered(self, session: Session) -> None:
        """Write what was remembered since the last write (list pages' links, validators), in the
        caller's transaction."""
        if self._links:
            pending_links, self._links = self._links, []
            for replace, run in itertools.groupby(pending_links, key=lambda p: p[2]):  # in order
                pages: dict[str, list[Link]] = {}
                for url, links, _ in run:
                    # a page twice: its last set replaces, or both sets add (a postback list's pages)
                    pages[url] = links if replace else [*pages.get(url, []), *links]
                self.record_links(session, list(pages.items()), replace=replace)
        if not self._validators:
            return
        pending, self._validators = self._validators, {}
        now = utcnow()
        rows = {r.id: r for r in session.scalars(select(UrlState).where(UrlState.id.in_(list(pending))))}
        for id_, v in pending.items():
            row = rows.get(id_)
            if row is None:
                row = UrlState(id=id_, site_code=self.site_code, url=v["url"], kind=v["kind"],
                               fetches=0, changes=0, not_modified=0)
                session.add(row)
            row.fetches = (row.fetches or 0) + 1
            row.last_status = v["status"]
            row.last_fetched_at = now
            if v["status"] == 304:
                row.not_modified = (row.not_modified or 0) + 1
                continue
            row.etag, row.last_modified = v["etag"], v["last_modified"]
            if v["hash"] and v["hash"] != row.body_hash:
                row.changes = (row.changes or 0) + (1 if row.body_hash else 0)
                row.body_hash = v["hash"]
                row.last_changed_at = now

    def flush(self, session: Session | None = None) -> None:
        """Write what is remembered in memory (validators, list pages' links), in ``session``'s
        transaction or in one of its own."""
        if session is not None:
            self._flush_remembered(session)
            return
        with self.session() as s:
            self._flush_remembered(s)

    # -- links (dead-link report) ------------------------------------------------------------------

    def remember_links(self, public_url: str, links: list[Link], *, replace: bool = True) -> None:
        """Remember a list page's links, written with the next transaction: the one that marks
        the page done in the frontier (``record``), so a crash leaves both or neither."""
        self._links.append((public_url, links, replace))
        if len(self._links) >= 50:
            with self.session() as session:
                self._flush_remembered(session)

    def record_links(self, session: Session, pages: list[tuple[str, list[Link]]], *, replace: bool = True) -> None:
        """Remember the links of pages (``(public URL, links)``) for the dead-link report, in
        ``session``'s transaction, in a few statements whatever their number
        (:func:`gateway.store.links.record_links_many`)."""
        if pages:
            record_links_many(session, self.site_code, pages, replace=replace)

    # -- stale documents ------------------------------------------------------------------------

    def stale_documents(self) -> list[FrontierEntry]:
        """Once per full run, after its list traversal: the documents of completely read
        columns that this run did not list get one more missed run, and those at
        ``BLGW_PURGE_AFTER_RUNS`` get a pending ``recheck`` frontier entry (returned). The
        frontier's ``purge`` entry, written in the same transaction, keeps a continued run from
        counting twice."""
        if self.purged:
            return []
        self.purged = True
        complete = sorted(c for c, p in self.columns.items() if p.complete)
        if not self.full or not complete or self.purge_after <= 0:
            return []
        rechecks: list[FrontierEntry] = []
        with self.session() as session:
            not_listed = ((Document.site_code == self.site_code) & (Document.status == "active")
                          & Document.column.in_(complete)
                          & (Document.last_listed_run_id.is_(None) | (Document.last_listed_run_id != self.run_id)))
            session.execute(update(Document).where(not_listed).values(missed_runs=Document.missed_runs + 1))
            for row in session.execute(select(Document.id, Document.url, Document.fetch_url, Document.missed_runs)
                                       .where(not_listed, Document.missed_runs >= self.purge_after)
                                       .order_by(Document.id)):
                key = f"recheck:{row.id}"
                rechecks.append(FrontierEntry(run_id=self.run_id, key=key, kind="recheck", url=row.fetch_url,
                                              payload={"doc": row.id, "url": row.url, "missed": row.missed_runs}))
            inserted = self._insert_new(session, {e.key: (e.kind, e.url, e.payload) for e in rechecks})
            rechecks = [e for e in rechecks if e.key in inserted]
            session.add(FrontierEntry(run_id=self.run_id, key="purge", kind="purge", url="", state="done",
                                      payload={"columns": complete}, done_at=utcnow()))
        return rechecks

    def gone(self, doc_id: str, reason: str, key: str | None) -> bool:
        with self.session() as session:
            changed = mark_gone(session, doc_id, reason=reason)
            if changed:
                session.execute(update(CrawlRun).where(CrawlRun.id == self.run_id)
                                .values(items_gone=CrawlRun.items_gone + 1))
            self.done(session, key)
        return changed


class UsesCrawlState:
    """Base of the crawl components that work on the :class:`CrawlState` (middlewares, the
    store pipeline): built with the crawler and its state, and not configured at all in a dry
    run (there is no state then)."""

    def __init__(self, crawler: Crawler, state: CrawlState):
        self.crawler = crawler
        self.state = state

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Any:
        state = crawler.get_extension(CrawlState)
        if state is None:
            raise NotConfigured(f"{cls.__name__} works on the crawl state, and a dry run has none")
        return cls(crawler, state)

    @property
    def spider(self) -> CrawlSpider:
        return running_spider(self.crawler)
