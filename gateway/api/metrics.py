"""Prometheus metrics of the gateway: ``GET /metrics`` (text exposition format).

Everything about crawls is read from the store when Prometheus scrapes (a custom collector;
nothing is counted in memory, so every API worker and every restart tells the same story):

==================================================  ===============================================
``blgw_store_up``                                   1 when the store could be read
``blgw_site_last_run_status{site,status}``          1 for the status of the site's last run
                                                    (running, finished, failed, interrupted), 0 for
                                                    the others
``blgw_site_last_run_start_timestamp_seconds``      when the last run started
``blgw_site_last_run_end_timestamp_seconds``        when it ended (not while it runs)
``blgw_site_last_run_duration_seconds``             how long it took (not while it runs)
``blgw_site_last_run_pages_fetched``                pages fetched by the last run
``blgw_site_last_run_items{site,outcome}``          items new / changed / unchanged / gone
``blgw_site_last_run_errors{site,kind}``            errors of the last run by kind
``blgw_site_last_success_timestamp_seconds``        end of the site's last finished run
``blgw_site_next_due_timestamp_seconds``            when its schedule makes it due (not 'manual')
``blgw_documents{site,status}``                     stored documents, active and gone
``blgw_attachments{site,status}``                   attachment files pending, stored, failed, too-large
``blgw_attachment_bytes{site}``                     bytes of the site's kept files
``blgw_attachment_text{site,status}``               kept files by text status (ok, empty,
                                                    unsupported, error)
``blgw_site_links{site}``, ``blgw_site_dead_links``  links on the site's pages and the broken ones
                                                    (only once links have been recorded)
``blgw_site_health_status{site,indicator}``         site health (检查指标): 0 pass, 1 warn, 2 veto
``blgw_site_health_age_seconds{site}``              seconds since the site's health figures were computed
``blgw_site_health_value{site,indicator}``          the indicator's value (from the newest snapshot
                                                    the scheduler records hourly; a site with none
                                                    is evaluated, at most every 10 minutes)
``blgw_log_pageviews{site}``                        access logs (访问日志) of each site whose logs
                                                    were read, the last complete day (yesterday,
                                                    Asia/Shanghai): page views (PV)
``blgw_log_visitors{site}``                         … unique visitors (UV)
``blgw_log_hits{site,class}``                       … requests by class (human, bot, crawler)
``blgw_log_notfound{site}``                         … 404 answers to non-crawler requests
``blgw_log_security{site,signal}``                  … scan and injection requests, flood minutes
``blgw_log_ingested_lines{site}``                   lines of the site's log files counted so far
``blgw_log_malformed_lines{site}``                  … of which could not be read
``blgw_index_outbox_length``                        changes waiting for the search index
``blgw_index_outbox_quarantined``                   changes the index refused
                                                    ``BLGW_OUTBOX_MAX_ATTEMPTS`` times, kept and no
                                                    longer sent (``blgw index sync`` lists them)
``blgw_index_documents``                            documents in the search index
==================================================  ===============================================

and, counted by a middleware for ``/api/search`` and ``/api/suggest``:
``blgw_http_requests_total{path,method,status}`` and the latency histogram
``blgw_http_request_duration_seconds{path}``.

Each app has its own :class:`~prometheus_client.CollectorRegistry` (``app.state.metrics``), so
two apps (tests) never share counters. Alert examples are in the README ("Scheduling and alerts").
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Iterable, Iterator, Sequence

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import distinct, func, select
from sqlalchemy.orm import Session
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.api.deps import Resources
from gateway.ops.accesslog.report import SIGNALS, today_shanghai
from gateway.ops.health import SiteHealth, latest_snapshots, site_health
from gateway.ops.scheduling import decide, store_state
from gateway.store.models import (
    AttachmentFile,
    CrawlError,
    CrawlRun,
    Document,
    IndexOutbox,
    LinkSource,
    LinkTarget,
    LogCount,
    LogFile,
    LogVisitor,
    Site,
)
from gateway.store.session import Store

__all__ = ["TIMED_PATHS", "StoreCollector", "instrument", "router"]

log = logging.getLogger(__name__)

TIMED_PATHS = ("/api/search", "/api/suggest")
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH"})
RUN_STATUSES = ("running", "finished", "failed", "interrupted")
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

router = APIRouter()


@router.get("/metrics", tags=["health"], summary="Prometheus metrics (text exposition format)",
            response_class=Response, responses={200: {"content": {CONTENT_TYPE_LATEST: {}}}})
def metrics(request: Request) -> Response:
    return Response(generate_latest(request.app.state.metrics), media_type=CONTENT_TYPE_LATEST)


class StoreCollector(Collector):
    """Reads the crawl, document, link and index figures at scrape time."""

    HEALTH_SECONDS = 600.0  # the site-health cards are computed at most this often (they read every item)

    def __init__(self, resources: Resources):
        self.resources = resources  # the app's store, index and plugins
        self.lock_stale = dt.timedelta(seconds=resources.settings.lock_stale_seconds)
        self._health: tuple[float, list[SiteHealth]] | None = None

    def describe(self) -> Iterable[Metric]:
        return []  # names vary with the store's contents; nothing to check at registration

    def collect(self) -> Iterator[Metric]:
        self.resources.open()
        up = GaugeMetricFamily("blgw_store_up", "1 when the store could be read at this scrape")
        families: list[Metric] = []
        store = self.resources.store
        if store is not None:
            try:
                with store.session() as session:
                    families = list(self._store_families(session, store))
            except Exception as exc:  # noqa: BLE001 - a scrape reports the outage, it does not fail
                log.warning("metrics: the store cannot be read: %s", exc)
                store = None
        up.add_metric([], 1 if store is not None else 0)
        yield up
        yield from families
        index = self.resources.index
        if index is not None:
            try:
                count = index.count()
            except Exception as exc:  # noqa: BLE001
                log.warning("metrics: the index cannot be read: %s", exc)
            else:
                yield _gauge("blgw_index_documents", "Documents in the search index", [], [([], count)])

    def _store_families(self, session: Session, store: Store) -> Iterator[Metric]:
        last_ids = select(func.max(CrawlRun.id)).group_by(CrawlRun.site_code)
        runs = list(session.scalars(select(CrawlRun).where(CrawlRun.id.in_(last_ids)).order_by(CrawlRun.site_code)))
        status = _gauge("blgw_site_last_run_status", "1 for the status of the site's last crawl run",
                        ["site", "status"])
        start = _gauge("blgw_site_last_run_start_timestamp_seconds", "Start of the site's last run", ["site"])
        end = _gauge("blgw_site_last_run_end_timestamp_seconds", "End of the site's last run", ["site"])
        duration = _gauge("blgw_site_last_run_duration_seconds", "Duration of the site's last run", ["site"])
        pages = _gauge("blgw_site_last_run_pages_fetched", "Pages fetched by the site's last run", ["site"])
        items = _gauge("blgw_site_last_run_items", "Items of the site's last run by outcome", ["site", "outcome"])
        errors = _gauge("blgw_site_last_run_errors", "Errors of the site's last run by kind", ["site", "kind"])
        for run in runs:
            site = run.site_code
            for name in RUN_STATUSES:
                status.add_metric([site, name], 1 if run.status == name else 0)
            start.add_metric([site], run.started_at.timestamp())
            if run.finished_at is not None and run.status != "running":
                end.add_metric([site], run.finished_at.timestamp())
                duration.add_metric([site], (run.finished_at - run.started_at).total_seconds())
            pages.add_metric([site], run.pages_fetched or 0)
            for outcome, value in (("new", run.items_new), ("changed", run.items_changed),
                                   ("unchanged", run.items_unchanged), ("gone", run.items_gone)):
                items.add_metric([site, outcome], value or 0)
        by_site = {run.id: run.site_code for run in runs}
        for run_id, kind, n in session.execute(
                select(CrawlError.run_id, CrawlError.kind, func.count())
                .where(CrawlError.run_id.in_(list(by_site))).group_by(CrawlError.run_id, CrawlError.kind)
                .order_by(CrawlError.run_id, CrawlError.kind)):
            errors.add_metric([by_site[run_id], kind], n)
        yield from (status, start, end, duration, pages, items, errors)

        success = _gauge("blgw_site_last_success_timestamp_seconds", "End of the site's last finished run",
                         ["site"], [([site], when.timestamp()) for site, when in session.execute(
                             select(CrawlRun.site_code, func.max(CrawlRun.finished_at))
                             .where(CrawlRun.status == "finished").group_by(CrawlRun.site_code)
                             .order_by(CrawlRun.site_code)) if when is not None])
        yield success

        # the decisions of `blgw crawl --due` (an interrupted run makes its site due at once)
        now = dt.datetime.now(dt.UTC)
        starts, locks, unfinished = store_state(store, now, lock_stale=self.lock_stale)
        due = _gauge("blgw_site_next_due_timestamp_seconds",
                     "When the site's schedule makes it due (the past: due now)", ["site"])
        for decision in decide(self.resources.sites(), starts, now, locks=locks, unfinished=unfinished):
            if decision.next_at is not None:
                due.add_metric([decision.code], decision.next_at.timestamp())
        yield due

        yield _gauge("blgw_documents", "Stored documents by site and status", ["site", "status"],
                     [([site, state], n) for site, state, n in session.execute(
                         select(Document.site_code, Document.status, func.count())
                         .group_by(Document.site_code, Document.status)
                         .order_by(Document.site_code, Document.status))])

        yield _gauge("blgw_attachments", "Attachment files by site and status (pending, stored, failed, too-large)",
                     ["site", "status"],
                     [([site, state], n) for site, state, n in session.execute(
                         select(AttachmentFile.site_code, AttachmentFile.status, func.count())
                         .group_by(AttachmentFile.site_code, AttachmentFile.status)
                         .order_by(AttachmentFile.site_code, AttachmentFile.status))])
        yield _gauge("blgw_attachment_bytes", "Bytes of the site's kept attachment files", ["site"],
                     [([site], int(n or 0)) for site, n in session.execute(
                         select(AttachmentFile.site_code, func.sum(AttachmentFile.size))
                         .where(AttachmentFile.status == "stored")
                         .group_by(AttachmentFile.site_code).order_by(AttachmentFile.site_code))])
        yield _gauge("blgw_attachment_text", "Kept attachment files by site and text status (ok, empty, "
                     "unsupported, error)", ["site", "status"],
                     [([site, state or "unknown"], n) for site, state, n in session.execute(
                         select(AttachmentFile.site_code, AttachmentFile.text_status, func.count())
                         .where(AttachmentFile.status == "stored")
                         .group_by(AttachmentFile.site_code, AttachmentFile.text_status)
                         .order_by(AttachmentFile.site_code, AttachmentFile.text_status))])

        if session.scalar(select(LinkTarget.id).limit(1)) is not None:
            links = session.execute(
                select(LinkSource.site_code, func.count(distinct(LinkTarget.id)))
                .join(LinkTarget, LinkSource.target_id == LinkTarget.id)
                .group_by(LinkSource.site_code).order_by(LinkSource.site_code)).all()
            dead = dict(session.execute(
                select(LinkSource.site_code, func.count(distinct(LinkTarget.id)))
                .join(LinkTarget, LinkSource.target_id == LinkTarget.id)
                .where(LinkTarget.ok.is_(False)).group_by(LinkSource.site_code)).all())
            yield _gauge("blgw_site_links", "Distinct links on the site's pages", ["site"],
                         [([site], n) for site, n in links])
            yield _gauge("blgw_site_dead_links", "Links on the site's pages whose last check failed",
                         ["site"], [([site], dead.get(site, 0)) for site, _ in links])

        yield from self._health_families(session)
        yield from self._log_families(session)

        outbox = dict(session.execute(select(IndexOutbox.state, func.count()).group_by(IndexOutbox.state)).all())
        yield _gauge("blgw_index_outbox_length", "Document changes waiting for the search index", [],
                     [([], outbox.get("pending", 0))])
        yield _gauge("blgw_index_outbox_quarantined",
                     "Document changes the search index refused too often, kept and no longer sent", [],
                     [([], outbox.get("quarantined", 0))])


    def _log_families(self, session: Session) -> Iterator[Metric]:
        """Access logs: yesterday's (Asia/Shanghai: the last complete day) PV, UV, hits by class,
        404s and security signals of each site whose logs were read, and the lines of its files.
        A few indexed queries on the day's counters (their keys start with the site)."""
        files = session.execute(select(LogFile.site_code, func.sum(LogFile.lines), func.sum(LogFile.malformed))
                                .group_by(LogFile.site_code).order_by(LogFile.site_code)).all()
        if not files:
            return
        codes = [code for code, _, _ in files]
        day = (today_shanghai() - dt.timedelta(days=1)).isoformat()
        traffic: dict[str, dict[str, int]] = {c: {} for c in codes}
        security: dict[str, dict[str, int]] = {c: dict.fromkeys(SIGNALS, 0) for c in codes}
        notfound = dict.fromkeys(codes, 0)
        for code, kind, key, hits in session.execute(
                select(LogCount.site_code, LogCount.kind, LogCount.key, LogCount.hits)
                .where(LogCount.site_code.in_(codes), LogCount.day == day, LogCount.kind.in_(("traffic", "security")))):
            if kind == "traffic":
                traffic[code][key] = int(hits)
            else:
                signal = key.partition("\t")[0]
                security[code][signal] = security[code].get(signal, 0) + int(hits)
        for code, hits in session.execute(
                select(LogCount.site_code, func.sum(LogCount.hits))
                .where(LogCount.site_code.in_(codes), LogCount.day == day, LogCount.kind == "notfound")
                .group_by(LogCount.site_code)):
            notfound[code] = int(hits or 0)
        visitors = dict(session.execute(
            select(LogVisitor.site_code, func.count()).where(LogVisitor.site_code.in_(codes), LogVisitor.day == day)
            .group_by(LogVisitor.site_code)).all())
        yield _gauge("blgw_log_pageviews", "Access logs: page views (PV) of the last complete day (Asia/Shanghai)",
                     ["site"], [([c], traffic[c].get("pageviews", 0)) for c in codes])
        yield _gauge("blgw_log_visitors", "Access logs: unique visitors (UV) of the last complete day", ["site"],
                     [([c], visitors.get(c, 0)) for c in codes])
        yield _gauge("blgw_log_hits", "Access logs: requests of the last complete day by class (human, bot, crawler)",
                     ["site", "class"], [([c, k], traffic[c].get(k, 0)) for c in codes
                                         for k in ("human", "bot", "crawler")])
        yield _gauge("blgw_log_notfound", "Access logs: 404 answers to non-crawler requests of the last complete day",
                     ["site"], [([c], notfound[c]) for c in codes])
        yield _gauge("blgw_log_security", "Access logs: scan and injection requests, flood minutes, of the last "
                     "complete day", ["site", "signal"],
                     [([c, signal], n) for c in codes for signal, n in sorted(security[c].items())])
        yield _gauge("blgw_log_ingested_lines", "Access logs: lines of the site's log files counted", ["site"],
                     [([c], int(lines or 0)) for c, lines, _ in files])
        yield _gauge("blgw_log_malformed_lines", "Access logs: lines of the site's log files that could not be read",
                     ["site"], [([c], int(bad or 0)) for c, _, bad in files])

    def _health_families(self, session: Session) -> Iterator[Metric]:
        """Site health (检查指标) per crawled site and indicator: status 0 pass, 1 warn, 2 veto,
        and the indicator's value, from each site's newest snapshot (`blgw scheduler` records
        one every hour); a site without one is evaluated here (cached for HEALTH_SECONDS).
        ``blgw_site_health_age_seconds`` says how old each site's figures are."""
        known = set(session.scalars(select(Site.code)))
        recorded = latest_snapshots(session)
        missing = [s for s in self.resources.sites() if s.code in known and s.code not in recorded]
        now = time.monotonic()
        if missing and (self._health is None or now - self._health[0] > self.HEALTH_SECONDS
                        or {c.code for c in self._health[1]} != {s.code for s in missing}):
            at = dt.datetime.now(dt.UTC)
            self._health = (now, [site_health(session, s, at) for s in missing])
        wall = dt.datetime.now(dt.UTC)
        rows: list[tuple[str, str, str, float | None]] = []
        ages: list[tuple[list[str], float]] = []
        for code, (at, values) in sorted(recorded.items()):
            if code in known:
                rows.extend((code, key, status, value) for key, (status, value) in values.items())
                ages.append(([code], max(0.0, (wall - at).total_seconds())))
        when, cards = self._health if missing and self._health else (now, [])
        for card in cards:
            rows.extend((card.code, i.key, i.status, None if i.value is None else float(i.value))
                        for i in card.indicators)
            ages.append(([card.code], max(0.0, now - when)))
        if not rows:
            return
        levels = {"pass": 0, "warn": 1, "veto": 2}
        yield _gauge("blgw_site_health_status", "Site health (检查指标): 0 pass, 1 warn, 2 veto (单项否决)",
                     ["site", "indicator"], [([c, k], levels[st]) for c, k, st, _ in rows])
        yield _gauge("blgw_site_health_value", "Site health: the indicator's value (counts, days, failed share)",
                     ["site", "indicator"], [([c, k], v) for c, k, _, v in rows if v is not None])
        yield _gauge("blgw_site_health_age_seconds", "Site health: seconds since the site's figures were computed",
                     ["site"], ages)


def _gauge(name: str, documentation: str, labels: list[str],
           samples: Iterable[tuple[Sequence[str], float]] = ()) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, documentation, labels=labels)
    for values, value in samples:
        family.add_metric(values, value)
    return family


class RequestMetrics:
    """ASGI middleware: count and time the requests to ``paths``."""

    def __init__(self, app: ASGIApp, *, requests: Counter, latency: Histogram, paths: tuple[str, ...] = TIMED_PATHS):
        self.app = app
        self.requests = requests
        self.latency = latency
        self.paths = paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] not in self.paths:
            await self.app(scope, receive, send)
            return
        status = 500  # unless the app answers

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        began = time.perf_counter()
        try:
            await self.app(scope, receive, send_status)
        finally:
            self.latency.labels(scope["path"]).observe(time.perf_counter() - began)
            method = scope["method"] if scope["method"] in KNOWN_METHODS else "other"  # bounded label values
            self.requests.labels(scope["path"], method, str(status)).inc()


def instrument(app: FastAPI) -> CollectorRegistry:
    """Give the app its metrics registry (``app.state.metrics``): the store collector, and the
    request counter and latency histogram of the search endpoints with their middleware."""
    registry = CollectorRegistry()
    registry.register(StoreCollector(app.state.resources))
    requests = Counter("blgw_http_requests", "HTTP requests to the search API", ["path", "method", "status"],
                       registry=registry)
    latency = Histogram("blgw_http_request_duration_seconds", "Latency of the search API", ["path"],
                        buckets=LATENCY_BUCKETS, registry=registry)
    app.state.metrics = registry
    app.add_middleware(RequestMetrics, requests=requests, latency=latency)
    return registry
