"""Detail pages normalized in worker processes, off the crawl's event loop.

A crawl process runs one reactor on one core: everything it does per page (parse the page,
extract the item, read its links, write the store) is time the downloader waits. Normalizing a
page (``normalizers.items.normalize_item``) and reading its links
(``normalizers.links.links_from_body``) are pure functions of the page's bytes and the plugin's
hints, and together they are most of the crawl's CPU per page; on a machine with a second core
they run in a worker process instead (``BLGW_NORMALIZE_WORKERS``; default: one worker when the
machine has two cores or more, none on one core). The crawl process keeps everything with a
side effect: the plugin's Python hooks (they run in the crawl process as before, around the
worker's part), the store's transactions and the frontier, so crash safety is what it was: a
page is done only when its item is committed, in the crawl process.

The pool is one per process (every site crawled by the process shares it), started with
``spawn`` (no fork of a process running a reactor and threads). A call the pool cannot serve
(its worker died, an argument that does not pickle) is run in the crawl process instead and
logged once: the page is normalized either way, identically (the functions are pure).
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import logging
import multiprocessing
import os
import pickle
import threading
from collections.abc import Callable
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

from normalizers.items import normalize_item
from normalizers.links import Link, links_from_body
from normalizers.models import Article, Letter, Organisation, ServiceGuide
from normalizers.page import ExtractionHints, PageContext, PagePart, RawPage

__all__ = ["NormalizePool", "default_workers", "normalize_with_links", "shared_pool"]

log = logging.getLogger(__name__)

T = TypeVar("T")


def default_workers() -> int:
    """One worker when the crawl process can have a second core to itself, else none."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    return 1 if cores >= 2 else 0


def _warm() -> None:
    """The worker's initializer: unpickling it imports this module, and with it the
    normalizers, so a new worker is ready before its first page."""


def normalize_with_links(fetch_origin: str | None, page: RawPage, context: PageContext,
                         hints: ExtractionHints | None,
                         item_type: str | None) -> tuple[Article | ServiceGuide | Letter | Organisation, list[Link]]:
    """A detail page's item (``normalize_item(page, context, hints, item_type)``) and its links
    (``links_from_body``, read at its public URL): what the crawl asks a worker for each page,
    in one call so the page's bytes cross to the worker once."""
    item = normalize_item(page, context, hints, item_type)
    return item, page_links(page.body, page.content_type, context.public_url, page.parts, fetch_origin)


def page_links(body: bytes, content_type: str | None, public_url: str, parts: tuple[PagePart, ...],
               fetch_origin: str | None) -> list[Link]:
    """The links of a detail page read at its public URL, and of a multi-page article's other
    pages (``parts``) at theirs."""
    links = links_from_body(body, content_type, public_url, fetch_origin=fetch_origin)
    for part in parts:
        links += links_from_body(part.body, part.content_type, part.public_url, fetch_origin=fetch_origin)
    return links


class NormalizePool:
    """Worker processes that run pure functions (see the module documentation)."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self._lock = threading.Lock()
        self._executor: concurrent.futures.ProcessPoolExecutor | None = None
        self._warned = False

    def _pool(self) -> concurrent.futures.ProcessPoolExecutor:
        with self._lock:
            if self._executor is None:
                self._executor = concurrent.futures.ProcessPoolExecutor(
                    self.workers, mp_context=multiprocessing.get_context("spawn"), initializer=_warm)
            return self._executor

    def submit(self, fn: Callable[..., T], *args: Any) -> concurrent.futures.Future[T]:
        """``fn(*args)`` in a worker."""
        try:
            return self._pool().submit(fn, *args)
        except (BrokenProcessPool, RuntimeError) as exc:  # a dead pool (or shut down): a new one next time
            self._reset(exc)
            done: concurrent.futures.Future[T] = concurrent.futures.Future()
            done.set_exception(exc)
            return done

    async def call(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(*args)`` in a worker, awaited (the event loop goes on meanwhile); when the pool
        cannot serve it, run here (a pure function: the same result, or the same exception, as
        the worker's)."""
        future = self.submit(fn, *args)
        try:
            return await asyncio.wrap_future(future)
        except BrokenProcessPool as exc:
            self._reset(exc)
        except Exception as exc:  # the function's own error is raised again below, here
            if not self._transport_error(exc):
                raise
            self._note(exc)
        return fn(*args)

    @staticmethod
    def _transport_error(exc: BaseException) -> bool:
        return isinstance(exc, (pickle.PicklingError, BrokenProcessPool)) or (
            isinstance(exc, (TypeError, AttributeError)) and "pickle" in str(exc).lower())

    def _note(self, exc: BaseException) -> None:
        if not self._warned:
            self._warned = True
            log.warning("a page was normalized in the crawl process, not in a worker: %s: %s",
                        type(exc).__name__, exc)

    def _reset(self, exc: BaseException) -> None:
        self._note(exc)
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=False, cancel_futures=True)

    def close(self) -> None:
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)


_SHARED: dict[int, NormalizePool] = {}
_SHARED_LOCK = threading.Lock()


def shared_pool(workers: int) -> NormalizePool | None:
    """The process's pool of ``workers`` workers (None for 0: normalize in the crawl process)."""
    if workers <= 0:
        return None
    with _SHARED_LOCK:
        pool = _SHARED.get(workers)
        if pool is None:
            pool = _SHARED[workers] = NormalizePool(workers)
        return pool


@atexit.register
def _close_all() -> None:
    for pool in list(_SHARED.values()):
        pool.close()
