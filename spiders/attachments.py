"""The crawl's attachments: every file linked by a stored item fetched, kept and read.

The store pipeline links each stored item's attachments in the transaction that stores it
(:func:`gateway.store.attachments.link_attachments`): a file not kept yet is a ``pending`` row in
the store, so the store itself is the attachments' frontier and a crawl killed before it fetched
them leaves them pending for the next one. When the spider has nothing else to do (the lists and
pages are done), :class:`AttachmentFetcher` sends a request for every due attachment of the site
(:func:`~gateway.store.attachments.due_attachments`: pending or failed, and kept files whose
document changed or whose last check is older than ``BLGW_REFETCH_DAYS``) through the crawl's own
downloader: the scope policy, the per-site delay and concurrency, the retries with backoff all
apply. A kept file is asked for with its validators (``If-None-Match``, ``If-Modified-Since``):
``304`` costs no transfer.

A response's bytes go to the blob store under their SHA-256 (:class:`~gateway.store.blobs.
FolderBlobStore`: one copy however many items or sites link them); its type is sniffed from the
bytes (:func:`normalizers.filetypes.sniff`), its name read from ``Content-Disposition`` or the URL
(:func:`~normalizers.filetypes.attachment_name`); its text is read once per SHA-256 in a limited
worker process (:func:`spiders.attachment_text.read_text`) on a thread, so the event loop goes
on; the row records it all and every active document linking the file is re-exported with it
(a new file or text is a changed item, queued for the index).

Every way a file can fail is named in the run's report with its URL: ``too-large`` (over the
site's or the global cap, counted as the bytes arrive: an endless response is cut at the cap),
``http`` (an error status), ``network`` (a timeout, a connection lost, a body cut short of its
``Content-Length``), the scope's kinds (a link outside the site), ``extraction`` (the reader's
error: the CPU, memory or time limit, a malformed file; the file is kept). A failed file stays
linked and due: the next crawl fetches it again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DownloadCancelledError, ResponseDataLossError, StopDownload
from scrapy.http import Response
from scrapy.spidermiddlewares.httperror import HttpError
from sqlalchemy import select
from twisted.python.failure import Failure

from gateway.store.attachments import (
    KnownText,
    due_attachments,
    known_text,
    record_failed,
    record_stored,
    refresh_documents,
)
from gateway.store.blobs import BlobError, FolderBlobStore
from gateway.store.models import AttachmentFile, utcnow
from gateway.store.repository import record_error
from normalizers.filetypes import attachment_name, sniff
from spiders import meta
from spiders.attachment_text import Limits, read_text
from spiders.config import crawl_config
from spiders.crawlstate import CrawlState, running_spider
from spiders.errors import OutOfScope

__all__ = ["AttachmentFetcher", "TooLarge"]

log = logging.getLogger(__name__)


class TooLarge(StopDownload):
    """A download stopped at the attachment size cap."""

    def __init__(self, received: int, cap: int) -> None:
        super().__init__(fail=True)
        self.received, self.cap = received, cap

    def __str__(self) -> str:
        return f"larger than the {self.cap:,}-byte cap (stopped after {self.received:,} bytes)"


class AttachmentFetcher:
    """Fetches, keeps and reads the due attachments of the crawl's site (see the module
    documentation); :meth:`schedule` is called by the store pipeline when the spider is idle."""

    def __init__(self, crawler: Crawler, state: CrawlState) -> None:
        config = crawl_config(crawler)
        site = running_spider(crawler).site.site
        self.crawler, self.state = crawler, state
        self.enabled = config.attachments_enabled and site.attachments
        self.cap = min(config.attachment_max_bytes, site.attachment_max_bytes or config.attachment_max_bytes)
        self.blobs = FolderBlobStore(config.blob_root)
        # OCR (a site's opt-in) costs about 5 CPU seconds a page: its budget is on top
        ocr_pages = site.ocr_pages if site.ocr else 0
        cpu = config.attachment_cpu_seconds + 10 * ocr_pages
        self.limits = Limits(cpu_seconds=cpu, memory_bytes=config.attachment_memory_mb * 1024 * 1024,
                             wall_seconds=max(60.0, cpu * 2.0), ocr_pages=ocr_pages)
        self.refetch_after = state.refetch_after
        self.readers = config.attachment_readers
        self.max_attempts = max(1, config.retry_runs)
        self._reading: asyncio.Semaphore | None = None
        self.requested: set[str] = set()  # attachment ids sent by this run (each once)
        self._received: dict[int, int] = {}  # id(request) → bytes so far
        if self.enabled:  # the cap is counted on every chunk of every response: only when files are fetched
            crawler.signals.connect(self._headers, signal=signals.headers_received)
            crawler.signals.connect(self._bytes, signal=signals.bytes_received)

    # -- what is due ----------------------------------------------------------------------------

    def schedule(self) -> int:
        """Send a request for every due attachment this run has not sent yet; how many."""
        if not self.enabled or self.state.run_id is None:
            return 0
        with self.state.session() as session:
            rows = [r for r in due_attachments(session, self.state.site_code,
                                               stale_before=utcnow() - self.refetch_after,
                                               max_attempts=self.max_attempts)
                    if r.id not in self.requested]
            requests = [self.request(r) for r in rows]
        for row, request in zip(rows, requests, strict=True):
            self.requested.add(row.id)
            self.crawler.engine.crawl(request)
        if requests:
            log.info("site %s: fetching %d attachment(s)", self.state.site_code, len(requests))
        return len(requests)

    def request(self, row: AttachmentFile) -> Request:
        """The request of one attachment: its validators when the file is kept."""
        spider = running_spider(self.crawler)
        headers: dict[str, str] = {}
        if row.status == "stored" and row.sha256 and self.blobs.exists(row.sha256):
            if row.etag:
                headers["If-None-Match"] = row.etag
            if row.last_modified:
                headers["If-Modified-Since"] = row.last_modified
        return Request(
            spider.fetch_url(row.url), headers=headers, callback=self.fetched, errback=self.failed,
            dont_filter=True, priority=-10,
            meta={meta.ATTACHMENT: row.id, meta.ATTACHMENT_URL: row.url,
                  "download_maxsize": self.cap * 2 + 1,  # a backstop: the cap is enforced as the bytes arrive
                  "download_warnsize": 0, "handle_httpstatus_list": [304]},
        )

    # -- the cap, as the bytes arrive -----------------------------------------------------------

    def _headers(self, headers: Any, body_length: int, request: Request, spider: Any) -> None:
        if request.meta.get(meta.ATTACHMENT) and body_length > self.cap:
            raise TooLarge(body_length, self.cap)

    def _bytes(self, data: bytes, request: Request, spider: Any) -> None:
        if not request.meta.get(meta.ATTACHMENT):
            return
        key = id(request)
        received = self._received.get(key, 0) + len(data)
        if received > self.cap:
            self._received.pop(key, None)
            raise TooLarge(received, self.cap)
        self._received[key] = received

    # -- outcomes ---------------------------------------------------------------------------------

    async def fetched(self, response: Response) -> AsyncIterator[Any]:
        """A response for an attachment: kept, read, recorded; its documents re-exported."""
        self._received.pop(id(response.request), None)
        att_id: str = response.meta[meta.ATTACHMENT]
        url: str = response.meta[meta.ATTACHMENT_URL]
        stats = self.crawler.stats
        if response.status == 304:
            with self.state.session() as session:
                row = session.get(AttachmentFile, att_id)
                if row is not None:
                    row.checked_at, row.attempts = utcnow(), 0
            stats.inc_value("blgw/attachments/not_modified")
            return
            yield  # an asynchronous generator: Scrapy's callbacks yield
        data = response.body
        if len(data) > self.cap:
            self._fail(att_id, url, "too-large", str(TooLarge(len(data), self.cap)), too_large=True)
            return
        name = attachment_name(url, response.headers.get(b"Content-Disposition"))
        declared = response.headers.get(b"Content-Type")
        filetype = sniff(data, declared=declared.decode("latin-1") if declared else None, filename=name)
        try:
            ref = self.blobs.put_bytes(data)
        except BlobError as exc:  # the blob store is full or gone: named, fetched again next time
            self._fail(att_id, url, "store", f"the file could not be kept: {exc}")
            return
        with self.state.session() as session:
            text = known_text(session, ref.sha256)
        if text is None or (text.status == "empty" and self.limits.ocr_pages):  # read once (a scan: by OCR here)
            text = await self._read(self.blobs.path(ref.sha256), filetype.family, name or url)
        etag = response.headers.get(b"ETag")
        modified = response.headers.get(b"Last-Modified")
        with self.state.session() as session:
            previous = session.scalar(select(AttachmentFile.sha256).where(AttachmentFile.id == att_id))
            changed = record_stored(
                session, att_id, sha256=ref.sha256, size=len(data), content_type=filetype.mime,
                family=filetype.family, name=name, etag=etag.decode("latin-1") if etag else None,
                last_modified=modified.decode("latin-1") if modified else None, text=text)
            if text.status == "error" and self.state.run_id is not None:
                record_error(session, self.state.run_id, url, "extraction", text.error or "unreadable")
            documents = refresh_documents(session, att_id)
        stats.inc_value("blgw/attachments/stored")
        stats.inc_value("blgw/attachments/bytes", len(data))
        stats.inc_value(f"blgw/attachments/text_{text.status}")
        if changed:  # a first copy is new; another SHA-256 than the kept one, a changed file
            stats.inc_value("blgw/attachments/changed" if previous else "blgw/attachments/new")
        if documents:
            stats.inc_value("blgw/attachments/documents_updated", len(documents))

    async def _read(self, path: Path, family: str, label: str) -> KnownText:
        if self._reading is None:
            self._reading = asyncio.Semaphore(self.readers)
        async with self._reading:
            result = await asyncio.to_thread(read_text, path, family, self.limits)
        error = result.error
        if error is not None:
            error = f"{label}: {error.removeprefix(path.name + ': ')}"
        return KnownText(result.status, result.text if result.status == "ok" else None, result.truncated,
                         result.pages, result.title, error)

    def failed(self, failure: Failure) -> None:
        """A fetch of an attachment that failed: named in the run, the row failed (or too-large)."""
        request = failure.request  # type: ignore[attr-defined]  # Scrapy sets it on an errback's failure
        self._received.pop(id(request), None)
        att_id: str = request.meta[meta.ATTACHMENT]
        url: str = request.meta[meta.ATTACHMENT_URL]
        exc = failure.value
        if isinstance(exc, TooLarge):
            self._fail(att_id, url, "too-large", str(exc), too_large=True)
        elif isinstance(exc, DownloadCancelledError):  # Scrapy's own maxsize backstop
            self._fail(att_id, url, "too-large", f"larger than the {self.cap:,}-byte cap", too_large=True)
        elif isinstance(exc, HttpError):
            self._fail(att_id, url, "http", f"HTTP {exc.response.status}")
        elif isinstance(exc, ResponseDataLossError):
            self._fail(att_id, url, "network", "truncated: the connection closed before the file's announced "
                                               "Content-Length arrived")
        elif isinstance(exc, OutOfScope):
            self._fail(att_id, url, exc.refusal.kind, f"refused: {exc.refusal.reason}")
        else:
            self._fail(att_id, url, "network", f"{type(exc).__name__}: {exc}".strip(": "))

    def _fail(self, att_id: str, url: str, kind: str, message: str, *, too_large: bool = False) -> None:
        self.crawler.stats.inc_value(f"blgw/attachments/{'too_large' if too_large else 'failed'}")
        self.crawler.stats.inc_value(f"blgw/errors/{kind}")
        with self.state.session() as session:
            record_failed(session, att_id, error=message, too_large=too_large)
            if self.state.run_id is not None:
                record_error(session, self.state.run_id, url, kind, f"attachment: {message}")
            refresh_documents(session, att_id)  # the items say what became of the file
