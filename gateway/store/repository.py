"""Reads and writes of the store, in one place (the spider pipeline, CLI and API use these)."""

from __future__ import annotations

import datetime as dt
import zlib
from collections.abc import Iterable, Iterator
from enum import StrEnum
from typing import Any, cast

from sqlalchemy import CursorResult, delete, func, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from gateway.store.models import CrawlError, CrawlRun, Document, IndexOutbox, Site, utcnow
from normalizers.models import ExchangeItem, parse_item


class Outcome(StrEnum):
    NEW = "new"
    CHANGED = "changed"
    UNCHANGED = "unchanged"
    KEPT = "kept"  # the new version was worse (error page, no text): the last good one is kept


# Text of the error pages legacy CMSs answer with HTTP 200 ("soft errors"). A short new version
# holding one of these, where the stored version did not, is an error page, not an edit.
SOFT_ERROR_MARKERS = (
    "信息不存在", "信息已删除", "信息已被删除", "文章不存在", "内容不存在", "页面不存在", "记录不存在",
    "数据不存在", "找不到指定的", "您访问的页面", "您要访问的页面", "无法找到该页", "参数错误", "非法参数",
    "非法操作", "系统繁忙", "服务器繁忙", "数据库连接", "数据库错误", "Not Found", "Service Unavailable",
    "Internal Server Error", "Bad Gateway", "Gateway Time", "Runtime Error", "Server Error in",
    "OLE DB Provider", "Microsoft VBScript", "Fatal error:", "Warning: mysql",
)
SOFT_ERROR_MAX_TEXT = 400  # characters: longer bodies are real content even if they say so


def _soft_error(text: str, short: bool = True) -> str | None:
    flat = " ".join(text.split())
    if short and len(flat) > SOFT_ERROR_MAX_TEXT:
        return None
    return next((m for m in SOFT_ERROR_MARKERS if m.lower() in flat.lower()), None)


def _lost_title(item: ExchangeItem) -> bool:
    """The normalizer found no title and let the first words of the body stand in."""
    title = getattr(item, "title", None)
    return any(e.field == "title" and e.raw is not None and e.raw == title for e in item.field_errors)


def degradation(stored: ExchangeItem | dict[str, Any], new: ExchangeItem, http_status: int = 200) -> str | None:
    """Why ``new`` must not replace the ``stored`` version of a document (an item of the
    exchange standard, or its stored JSON), or None when it may. Worse means: an HTTP error
    status; a CMS error page served with 200 (:data:`SOFT_ERROR_MARKERS` in its title, or in a
    short body, that the stored version did not have); no body text where the stored version
    had some; a title lost (the body's first words stand in) where the stored one was real."""
    if http_status >= 400:
        return f"HTTP {http_status}"
    if isinstance(stored, dict):
        try:
            stored = parse_item(stored)
        except ValueError:
            return None  # unreadable stored item: anything readable is better
    old_title, new_title = stored.display_title, new.display_title
    old_text, new_text = stored.search_text() or "", new.search_text() or ""
    marker = _soft_error(new_title, short=False)
    if marker and not _soft_error(old_title, short=False):
        return f"the new title looks like an error page of the site ({marker!r})"
    marker = _soft_error(new_text)
    if marker and not _soft_error(old_text, short=False):
        return f"the new body looks like an error page of the site ({marker!r})"
    if old_text.strip() and not new_text.strip():
        return "the new version has no body text"
    if _lost_title(new) and not _lost_title(stored):
        return "the new version lost its title"
    return None


def upsert_site(session: Session, *, code: str, name: str, base_url: str, platform: str,
                plugin_source: str) -> Site:
    """Create or refresh the row of a site from what its plugin says."""
    site = session.get(Site, code)
    if site is None:
        site = Site(code=code)
        session.add(site)
    site.name = name
    site.base_url = base_url
    site.platform = platform
    site.plugin_source = plugin_source[:500]
    session.flush()  # runs and documents refer to it in the same transaction
    return site


def start_run(session: Session, site_code: str) -> CrawlRun:
    run = CrawlRun(site_code=site_code, status="running", stats={})
    session.add(run)
    session.flush()
    return run


def record_error(
    session: Session, run_id: int, url: str, kind: str, message: str, field: str | None = None
) -> None:
    session.add(CrawlError(run_id=run_id, url=url, kind=kind, field=field, message=message[:4000]))
    session.execute(
        update(CrawlRun).where(CrawlRun.id == run_id).values(error_count=CrawlRun.error_count + 1)
    )


def finish_run(
    session: Session, run_id: int, *, status: str, reason: str | None, stats: dict[str, Any]
) -> CrawlRun:
    run = session.get(CrawlRun, run_id)
    assert run is not None
    run.status = status
    run.finish_reason = reason
    run.finished_at = utcnow()
    run.pages_fetched = int(stats.get("downloader/response_count", 0))
    run.stats = stats
    return run


def upsert_article(
    session: Session,
    article: ExchangeItem,  # any exchange-standard item (Article, ServiceGuide, Letter, Organisation)
    *,
    fetch_url: str,
    raw_body: bytes,
    content_type: str | None,
    http_status: int,
    run_id: int | None,
    seen_at: dt.datetime | None = None,
    count: bool = True,
    listed_in: tuple[str | None, int | None] | None = None,
    preloaded: bool = False,
    exported: dict[str, Any] | None = None,
    list_title: str | None = None,
) -> Outcome:
    """Insert or update the document of ``article`` by id; say whether it was new, changed or
    unchanged (by content hash). The raw page is kept either way: it is the emergency copy.
    A new or changed document is queued for the search index (an ``upsert`` row of the outbox,
    in this same transaction).

    The store keeps the last GOOD version: a change that is worse than the stored item (see
    :func:`degradation`: an error page, no text, a lost title) leaves the document untouched
    (item, raw page, status, times), is recorded as a ``degraded`` error of the run and
    returns :attr:`Outcome.KEPT`.

    ``count=False``: the run's new/changed/unchanged counters are left to the caller
    (:func:`count_outcomes`, once for a batch of pages). ``listed_in=(column, run_id)``: the
    crawl listed the document in this column and run (recorded whatever the outcome, ``kept``
    included: the stale-document purge counts on it). ``preloaded``: the caller has loaded
    the document into the session if it exists (a batch reads them in one query), so one that
    is not in the session is new (no query). ``exported``: ``article.model_dump(mode="json")``
    when the caller has it (stored as it is, not dumped again)."""
    seen_at = seen_at or utcnow()
    if preloaded:
        document = cast(Document | None, session.identity_map.get(identity_key(Document, article.id)))
    else:
        document = session.get(Document, article.id)
    if listed_in is not None and document is not None:
        document.column, document.last_listed_run_id, document.missed_runs = *listed_in, 0
    if list_title is not None and document is not None:  # what the list showed, whatever the outcome
        document.list_title = list_title
    new_hash = exported["content_hash"] if exported is not None else article.content_hash
    if document is not None and document.content_hash != new_hash:
        why = degradation(document.item, article, http_status)
        if why is not None:
            if run_id is not None:
                record_error(session, run_id, str(article.source_url), "degraded",
                             f"kept the last good version (fetched {document.last_seen_at:%Y-%m-%d %H:%M} UTC): {why}")
            return Outcome.KEPT
    if document is None:
        outcome = Outcome.NEW
        document = Document(
            id=article.id, site_code=article.site_code, first_seen_at=seen_at,
            last_changed_at=seen_at,
        )
        if listed_in is not None:
            document.column, document.last_listed_run_id, document.missed_runs = *listed_in, 0
        document.list_title = list_title
        session.add(document)
    elif document.content_hash != new_hash or document.status != "active":
        outcome = Outcome.CHANGED
        document.last_changed_at = seen_at
    else:
        outcome = Outcome.UNCHANGED
    if outcome is not Outcome.UNCHANGED:
        document.item = exported if exported is not None else article.model_dump(mode="json")
        document.title = article.display_title
        document.content_hash = new_hash
        enqueue_index(session, article.id, "upsert")
    document.url = str(article.source_url)
    document.fetch_url = fetch_url
    document.status = "active"
    document.last_seen_at = seen_at
    document.last_run_id = run_id
    document.http_status = http_status
    document.raw_content_type = content_type
    document.raw_page = zlib.compress(raw_body, 6)
    if run_id is not None and count:
        count_outcomes(session, run_id, [outcome])
    return outcome


_OUTCOME_COLUMNS = {
    Outcome.NEW: CrawlRun.items_new,
    Outcome.CHANGED: CrawlRun.items_changed,
    Outcome.UNCHANGED: CrawlRun.items_unchanged,
}


def count_outcomes(session: Session, run_id: int, outcomes: Iterable[Outcome]) -> None:
    """Add ``outcomes`` to the run's new/changed/unchanged counters (one statement)."""
    tally: dict[Any, int] = {}
    for outcome in outcomes:
        if (column := _OUTCOME_COLUMNS.get(outcome)) is not None:
            tally[column] = tally.get(column, 0) + 1
    if tally:
        session.execute(update(CrawlRun).where(CrawlRun.id == run_id)
                        .values({column: column + n for column, n in tally.items()}))


def raw_page(document: Document) -> bytes:
    """The last raw page of a document, as fetched."""
    return zlib.decompress(document.raw_page)


def iter_items(
    session: Session, site_code: str | None = None, *, status: str = "active", batch: int = 500
) -> Iterator[ExchangeItem]:
    """Stored items of every kind (of one site, or all), in id order, read in batches."""
    stmt = select(Document.item).where(Document.status == status).order_by(Document.id)
    if site_code is not None:
        stmt = stmt.where(Document.site_code == site_code)
    for item in session.scalars(stmt.execution_options(yield_per=batch)):
        yield parse_item(item)


def mark_gone(session: Session, document_id: str, *, seen_at: dt.datetime | None = None,
              reason: str | None = None) -> bool:
    """Mark a document ``gone`` (its page disappeared; the row and its raw page are kept), with
    why (``reason``), and queue its removal from the search index, in this transaction. Returns
    False (and does nothing) when there is no such document or it is already gone."""
    document = session.get(Document, document_id)
    if document is None or document.status == "gone":
        return False
    document.status = "gone"
    document.gone_reason = reason
    document.last_changed_at = seen_at or utcnow()
    enqueue_index(session, document_id, "delete")
    return True


def enqueue_index(session: Session, document_id: str, action: str) -> None:
    """Queue ``upsert`` or ``delete`` of a document for the search index (the outbox); the row
    is committed, or rolled back, with the caller's transaction."""
    if action not in ("upsert", "delete"):
        raise ValueError(f"outbox action must be 'upsert' or 'delete', not {action!r}")
    session.add(IndexOutbox(document_id=document_id, action=action))


def outbox_batch(session: Session, limit: int = 500, up_to: int | None = None, *, after: int = 0,
                 quarantined: bool = False) -> list[IndexOutbox]:
    """The oldest pending outbox rows (in id order; with ``quarantined``, the quarantined ones
    too), at most ``limit``, of ids above ``after`` and none above ``up_to``.

    On PostgreSQL the rows are locked (``FOR UPDATE``) until the transaction ends, so a second
    sync running at the same time waits for this batch instead of applying the same rows, or
    later ones, before it (then finds them deleted and goes on with the rest). Not ``SKIP
    LOCKED``: rows of one document must reach the index in order. SQLite has no row locks
    (SQLAlchemy leaves the clause out there)."""
    states = ("pending", "quarantined") if quarantined else ("pending",)
    stmt = (select(IndexOutbox).where(IndexOutbox.state.in_(states), IndexOutbox.id > after)
            .order_by(IndexOutbox.id).limit(limit).with_for_update())
    if up_to is not None:
        stmt = stmt.where(IndexOutbox.id <= up_to)
    return list(session.scalars(stmt))


def last_outbox_id(session: Session) -> int:
    """The highest outbox id (0 when empty)."""
    return int(session.scalar(select(func.max(IndexOutbox.id))) or 0)


def delete_outbox(session: Session, ids: list[int] | None = None, *, up_to: int | None = None) -> int:
    """Remove applied outbox rows: these ``ids``, or every row up to id ``up_to`` (pending
    and quarantined alike)."""
    stmt = delete(IndexOutbox)
    if ids is not None:
        if not ids:
            return 0
        stmt = stmt.where(IndexOutbox.id.in_(ids))
    if up_to is not None:
        stmt = stmt.where(IndexOutbox.id <= up_to)
    return int(cast(CursorResult[Any], session.execute(stmt)).rowcount or 0)  # a DELETE's result is a cursor's


def delete_superseded_outbox(session: Session, applied: dict[str, int]) -> int:
    """Remove, for each ``{document id: outbox id}`` the index has just applied, every row of
    that document up to that id (the ones a retry left behind, quarantined ones included):
    the index holds the document as stored now."""
    removed = 0
    for document_id, up_to in applied.items():
        stmt = delete(IndexOutbox).where(IndexOutbox.document_id == document_id, IndexOutbox.id <= up_to)
        removed += int(cast(CursorResult[Any], session.execute(stmt)).rowcount or 0)
    return removed


def count_outbox(session: Session, state: str | None = "pending") -> int:
    """Outbox rows in ``state`` (``pending``, ``quarantined``; None: all)."""
    stmt = select(func.count()).select_from(IndexOutbox)
    if state is not None:
        stmt = stmt.where(IndexOutbox.state == state)
    return int(session.scalar(stmt) or 0)


def quarantined_outbox(session: Session) -> list[IndexOutbox]:
    """The quarantined outbox rows, oldest first."""
    return list(session.scalars(select(IndexOutbox).where(IndexOutbox.state == "quarantined")
                                .order_by(IndexOutbox.id)))


def count_documents(session: Session, site_code: str | None = None, status: str = "active") -> int:
    stmt = select(func.count()).select_from(Document).where(Document.status == status)
    if site_code is not None:
        stmt = stmt.where(Document.site_code == site_code)
    return int(session.scalar(stmt) or 0)


def latest_run(session: Session, site_code: str | None = None) -> CrawlRun | None:
    stmt = select(CrawlRun).order_by(CrawlRun.id.desc()).limit(1)
    if site_code is not None:
        stmt = stmt.where(CrawlRun.site_code == site_code)
    return session.scalars(stmt).first()


def list_runs(session: Session, site_code: str | None = None, limit: int = 20) -> list[CrawlRun]:
    stmt = select(CrawlRun).order_by(CrawlRun.id.desc()).limit(limit)
    if site_code is not None:
        stmt = stmt.where(CrawlRun.site_code == site_code)
    return list(session.scalars(stmt))
