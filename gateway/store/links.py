"""The links of every crawled page, and what their last check found (死链检测).

One :class:`~gateway.store.models.LinkTarget` per URL (with its last check) and one
:class:`~gateway.store.models.LinkSource` per (URL, page that contains it). The crawl records a
page's links (:func:`record_links`, links read by :func:`normalizers.links.extract_links`); the
checker (:mod:`gateway.ops.linkcheck`) reads the due targets (:func:`due_link_targets`, with the
elements that link each one), what the crawl itself fetched recently (:func:`fetched_recently`)
and saves what it found or why it did not ask (:func:`save_link_checks`); the report
(:func:`dead_link_report`) lists the broken links with the pages that contain them, and apart
from them the links not checked on purpose (robots.txt, scripts, counters).

Only what pages link to now counts: a page's set is replaced whenever it is read again, a
target no page links to any more is neither checked nor reported, and the links of a page the
store knows is gone (its document marked ``gone``) count no more either.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar, cast
from urllib.parse import urlsplit

from sqlalchemy import Table, bindparam, case, distinct, func, or_, select, update
from sqlalchemy.orm import Session

from gateway.store.models import AttachmentFile, Document, LinkSource, LinkTarget, LogCount, Site, UrlState, utcnow
from gateway.store.session import dialect_insert
from normalizers.links import Link, collapse_anchor, most_navigational, served_link
from normalizers.models import SHANGHAI, document_id
from normalizers.urls import canonicalize_url, served_url

__all__ = ["DueLink", "FetchedByCrawl", "RecordResult", "dead_link_report", "due_link_targets", "fetched_recently",
           "record_links", "record_links_many", "save_link_checks", "site_has_links"]

@dataclass(frozen=True)
class RecordResult:
    """What :func:`record_links` did for one page."""

    source_id: str
    links: int  # links the page has now
    removed: int  # links it no longer has


_CHUNK = 400  # rows per multi-row statement (well under SQLite's and PostgreSQL's parameter limits)


_T = TypeVar("_T")


def _chunks(rows: list[_T], size: int = _CHUNK) -> Iterator[list[_T]]:
    for start in range(0, len(rows), size):
        yield rows[start:start + size]


_UPSERTS: dict[str, tuple[Any, Any]] = {}


def _upserts(session: Session) -> tuple[Any, Any] | None:
    """The ``INSERT … ON CONFLICT`` statements of the session's database (built once): link
    targets inserted if new, link sources inserted or refreshed."""
    name = session.get_bind().dialect.name
    if name not in _UPSERTS:
        insert = dialect_insert(session)
        if insert is None:
            return None
        targets = insert(LinkTarget).on_conflict_do_nothing(index_elements=["id"])
        sources = insert(LinkSource)
        sources = sources.on_conflict_do_update(
            index_elements=["target_id", "source_id"],
            set_={"site_code": sources.excluded.site_code, "source_url": sources.excluded.source_url,
                  "anchor": sources.excluded.anchor, "tag": sources.excluded.tag,
                  "last_seen_at": sources.excluded.last_seen_at})
        _UPSERTS[name] = (targets, sources)
    return _UPSERTS[name]


def record_links(session: Session, site_code: str, source_url: str, links: Iterable[Link | str],
                 *, seen_at: dt.datetime | None = None, replace: bool = True) -> RecordResult:
    """Store the links of one page (``source_url``, public) of ``site_code``, replacing the
    page's previous set: a link the page no longer contains is removed from its sources.

    Runs in the caller's transaction (the crawl pipeline's). ``links`` are :class:`Link`
    objects or URL strings (canonicalized here; URLs other than http(s) are ignored; a string's
    element is unknown, which counts as a link). Each source row keeps the element that linked
    the URL (the most navigational when the page links it several ways). A target
    no page links to any more keeps its row (and its check history) but is neither checked nor
    reported. ``replace=False`` adds to the page's set instead (several responses under one
    URL, such as the pages of an ASP.NET postback list). :func:`record_links_many` does the
    same for many pages in one set of statements."""
    return record_links_many(session, site_code, [(source_url, links)], seen_at=seen_at, replace=replace)[0]


_Wanted = dict[str, tuple[str, str | None, str | None]]


def _wanted(links: Iterable[Link | str]) -> _Wanted:
    """target id (of the canonical key) -> (URL as served, anchor, element) of one page's links
    (the first form and non-empty anchor, the most navigational element)."""
    wanted: _Wanted = {}
    for link in links:
        if isinstance(link, str):
            raw, anchor, tag = link, None, None
        else:
            raw, anchor, tag = link.url, collapse_anchor(link.anchor) or None, link.tag or None
        url = served_link(raw, None, None)
        if url is None:
            continue
        target_id = document_id(canonicalize_url(url))
        known = wanted.get(target_id)
        if known is None:
            wanted[target_id] = (url, anchor, tag)
        else:
            wanted[target_id] = (known[0], known[1] or anchor, most_navigational(known[2], tag))
    return wanted


def record_links_many(session: Session, site_code: str, pages: Sequence[tuple[str, Iterable[Link | str]]],
                      *, seen_at: dt.datetime | None = None, replace: bool = True) -> list[RecordResult]:
    """:func:`record_links` for many pages (``(source_url, links)``, a page given twice: its last
    set counts) in a few statements whatever their number (the crawl pipeline's batch): one
    select of the pages' current links, one delete of those they no longer have, one ``ON
    CONFLICT`` statement per table run over all rows (executemany, on SQLite and PostgreSQL).
    Rows are written in id order so concurrent writers lock them in the same order."""
    seen_at = seen_at or utcnow()
    by_source: dict[str, tuple[str, _Wanted]] = {}
    order: list[str] = []
    for source_url, links in pages:
        source = served_url(source_url)
        source_id = document_id(canonicalize_url(source))
        order.append(source_id)
        by_source[source_id] = (source, _wanted(links))

    existing: dict[str, set[str]] = {s: set() for s in by_source}
    for chunk in _chunks(sorted(by_source)):
        for target_id, source_id in session.execute(select(LinkSource.target_id, LinkSource.source_id)
                                                    .where(LinkSource.source_id.in_(chunk))):
            existing[source_id].add(target_id)
    stale = sorted((t, s) for s, (_, wanted) in by_source.items() for t in existing[s] - set(wanted)) \
        if replace else []
    if stale:
        table = cast(Table, LinkSource.__table__)
        session.execute(table.delete().where(table.c.source_id == bindparam("s"), table.c.target_id == bindparam("t")),
                        [{"s": s, "t": t} for t, s in stale])
    targets: dict[str, dict[str, Any]] = {}
    sources: list[dict[str, Any]] = []
    for source_id, (source, wanted) in by_source.items():
        for target_id, (url, anchor, tag) in wanted.items():
            targets.setdefault(target_id, {"id": target_id, "url": url, "failures": 0})
            sources.append({"target_id": target_id, "source_id": source_id, "site_code": site_code,
                            "source_url": source, "anchor": anchor, "tag": tag, "last_seen_at": seen_at})
    target_rows = [targets[i] for i in sorted(targets)]
    sources.sort(key=lambda r: (r["target_id"], r["source_id"]))
    statements = _upserts(session)
    if statements is not None:
        # one statement each, compiled once per process and run over all rows (executemany)
        insert_targets, upsert_sources = statements
        if target_rows:
            session.execute(insert_targets, target_rows)
        if sources:
            session.execute(upsert_sources, sources)
    else:  # another database: plain statements, same result
        have: set[str] = set()
        for chunk in _chunks(sorted(targets)):
            have.update(session.scalars(select(LinkTarget.id).where(LinkTarget.id.in_(chunk))))
        new_targets = [t for t in target_rows if t["id"] not in have]
        if new_targets:
            session.execute(cast(Table, LinkTarget.__table__).insert(), new_targets)
        keep = [{"s": r["source_id"], "t": r["target_id"]} for r in sources
                if r["target_id"] in existing[r["source_id"]]]
        if keep:
            table = cast(Table, LinkSource.__table__)
            session.execute(table.delete().where(table.c.source_id == bindparam("s"),
                                                 table.c.target_id == bindparam("t")), keep)
        if sources:
            session.execute(cast(Table, LinkSource.__table__).insert(), sources)
    removed: dict[str, int] = {}
    for _, s in stale:
        removed[s] = removed.get(s, 0) + 1
    return [RecordResult(source_id=s, links=len(by_source[s][1]), removed=removed.get(s, 0)) for s in order]


def _live_sources() -> Any:
    """The condition a link source must meet to count: its page is not one the store knows is
    gone (a deleted page no longer links anywhere)."""
    return LinkSource.source_id.not_in(select(Document.id).where(Document.status == "gone"))


@dataclass(frozen=True)
class DueLink:
    """A link target due for a check: its id, URL, consecutive failures, and the elements its
    live sources link it with (``None``: unknown, counts as a link)."""

    id: str
    url: str
    failures: int
    tags: frozenset[str | None]


def due_link_targets(session: Session, site_codes: list[str], *, now: dt.datetime,
                     recheck_after: dt.timedelta, only_unchecked: bool, limit: int | None) -> list[DueLink]:
    """The links of ``site_codes`` due for a check: never checked nor skipped (first), or last
    checked or skipped more than ``recheck_after`` ago (oldest first); at most ``limit``. Each
    with the elements that link it, from every site's live pages."""
    linked = select(LinkSource.target_id).where(LinkSource.site_code.in_(site_codes), _live_sources())
    decided = func.coalesce(LinkTarget.checked_at, LinkTarget.skipped_at)
    stmt = select(LinkTarget.id, LinkTarget.url, LinkTarget.failures).where(LinkTarget.id.in_(linked))
    if only_unchecked:
        stmt = stmt.where(LinkTarget.checked_at.is_(None), LinkTarget.skipped_at.is_(None))
    else:
        stmt = stmt.where(or_(decided.is_(None), decided <= now - recheck_after))
    stmt = stmt.order_by(decided.asc().nulls_first(), LinkTarget.id)
    if limit is not None:
        stmt = stmt.limit(limit)
    rows = session.execute(stmt).all()
    tags: dict[str, set[str | None]] = {i: set() for i, _, _ in rows}
    for chunk in _chunks(list(tags)):
        for target_id, tag in session.execute(select(LinkSource.target_id, LinkSource.tag).distinct()
                                              .where(LinkSource.target_id.in_(chunk), _live_sources())):
            tags[target_id].add(tag)
    return [DueLink(i, u, f or 0, frozenset(tags[i])) for i, u, f in rows]


@dataclass(frozen=True)
class FetchedByCrawl:
    """A link target the crawl itself fetched successfully: when, with which status, as what."""

    status: int
    at: dt.datetime
    what: str  # page | document | attachment


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


def fetched_recently(session: Session, target_ids: Iterable[str], *,
                     since: dt.datetime) -> dict[str, FetchedByCrawl]:
    """{target id: what the crawl fetched} for the link targets that the crawl
    fetched successfully at ``since`` or later: a list or detail page answered 200 or 304
    (:class:`~gateway.store.models.UrlState`), an active document stored from a 2xx answer, or
    an attachment whose bytes are stored and whose last answer is that recent. Matched by the
    canonical key (:func:`normalizers.urls.canonicalize_url`), whatever form the row's URL has;
    the most recent fetch wins."""
    wanted = set(target_ids)
    found: dict[str, FetchedByCrawl] = {}

    def offer(target_id: str, status: int | None, at: dt.datetime | None, what: str) -> None:
        if target_id not in wanted or status is None or at is None:
            return
        at = _aware(at)
        if at >= since and (target_id not in found or found[target_id].at < at):
            found[target_id] = FetchedByCrawl(status, at, what)

    for chunk in _chunks(list(wanted)):
        for row in session.execute(select(UrlState.url, UrlState.last_status, UrlState.last_fetched_at)
                                   .where(UrlState.id.in_(chunk), UrlState.last_status.in_((200, 304)))):
            offer(document_id(canonicalize_url(row.url)), 200, row.last_fetched_at, "page")
        for row in session.execute(select(Document.url, Document.http_status, Document.last_seen_at)
                                   .where(Document.id.in_(chunk), Document.status == "active",
                                          Document.http_status.between(200, 299))):
            offer(document_id(canonicalize_url(row.url)), row.http_status, row.last_seen_at, "document")
    # an attachment's id is the key of the URL it was linked by, which may not be canonical: the
    # recent ones are matched by their URL's canonical key
    for url, checked_at, fetched_at in session.execute(
            select(AttachmentFile.url, AttachmentFile.checked_at, AttachmentFile.fetched_at)
            .where(AttachmentFile.status == "stored",
                   func.coalesce(AttachmentFile.checked_at, AttachmentFile.fetched_at) >= since)):
        offer(document_id(canonicalize_url(url)), 200, checked_at or fetched_at, "attachment")
    return found


def save_link_checks(session: Session, rows: list[dict[str, Any]]) -> None:
    """Record check results: one dict per link target with its ``id`` and the new ``status``,
    ``ok``, ``error``, ``final_url``, ``method``, ``checked_at``, ``failures``, ``skip_kind``,
    ``skip_reason`` and ``skipped_at`` (a link not requested on purpose: the check columns
    empty, the skip columns set; a link checked: the skip columns empty)."""
    before: dict[str, tuple[str | None, str | None]] = {}
    for chunk in _chunks(rows):
        before.update({i: (f, p) for i, f, p in session.execute(
            select(LinkTarget.id, LinkTarget.final_url, LinkTarget.previous_final_url)
            .where(LinkTarget.id.in_([r["id"] for r in chunk])))})
    rows = [{**r, "previous_final_url": _previous_final(r.get("final_url"), *before.get(r["id"], (None, None)))}
            for r in rows]
    for chunk in _chunks(rows):
        if chunk:
            session.execute(update(LinkTarget), chunk)


def _previous_final(new: str | None, old: str | None, previous: str | None) -> str | None:
    """The final URL of an earlier check whose host differs from the new final URL's (外链变异:
    the link now ends elsewhere), kept until the link ends there again."""
    if new is None or old is None:
        return previous
    new_host, old_host = urlsplit(new).hostname, urlsplit(old).hostname
    if new_host != old_host:
        return old
    return previous if previous is not None and urlsplit(previous).hostname != new_host else None


def _iso(value: dt.datetime | None) -> str | None:
    return value.astimezone(dt.UTC).isoformat() if value else None


def dead_link_report(session: Session, site_code: str) -> dict[str, Any]:
    """The dead-link report of one site, JSON-ready::

        {"site": "rsj", "site_name": "…", "total": 120, "checked": 118, "unchecked": 2, "ok": 115,
         "broken_count": 3, "skipped_count": 2, "skipped_by_kind": {"robots": 1, "counter": 1},
         "last_checked_at": "…",
         "broken": [{"url", "status", "error", "final_url", "method", "checked_at", "failures",
                     "pages": [{"url", "anchor"}, …]}, …],
         "skipped": [{"url", "skip_kind", "skip_reason", "skipped_at", "pages": […]}, …]}

    ``total`` counts the distinct links on the site's live pages; ``broken`` holds the links
    whose last check failed, the ones on most pages first (then by URL), each with the site's
    pages that contain it (by URL) and the link text there. ``skipped`` holds the links the
    checker did not request on purpose (``skip_kind``: robots, robots-unavailable, script,
    counter; ``skip_reason`` says why): they are not broken, and not counted as checked.
    """
    joined = LinkTarget.__table__.join(LinkSource.__table__, LinkSource.target_id == LinkTarget.id)
    live = _live_sources()
    skipped_now = LinkTarget.skip_kind.is_not(None)
    counts = session.execute(
        select(func.count(distinct(LinkTarget.id)),
               func.count(distinct(case((LinkTarget.checked_at.is_not(None) & ~skipped_now, LinkTarget.id)))),
               func.count(distinct(case((LinkTarget.ok.is_(True) & ~skipped_now, LinkTarget.id)))),
               func.max(LinkTarget.checked_at))
        .select_from(joined).where(LinkSource.site_code == site_code, live)
    ).one()
    rows = session.execute(
        select(LinkTarget.id, LinkTarget.url, LinkTarget.status, LinkTarget.error, LinkTarget.final_url,
               LinkTarget.method, LinkTarget.checked_at, LinkTarget.failures, LinkTarget.skip_kind,
               LinkTarget.skip_reason, LinkTarget.skipped_at, LinkSource.source_url, LinkSource.anchor)
        .select_from(joined)
        .where(LinkSource.site_code == site_code, live, or_(LinkTarget.ok.is_(False), skipped_now))
        .order_by(LinkTarget.id, LinkSource.source_url)
    ).all()
    broken: dict[str, dict[str, Any]] = {}
    skipped: dict[str, dict[str, Any]] = {}
    for row in rows:
        if row.skip_kind is not None:
            entry = skipped.get(row.id)
            if entry is None:
                entry = skipped[row.id] = {"url": row.url, "skip_kind": row.skip_kind, "skip_reason": row.skip_reason,
                                           "skipped_at": _iso(_aware(row.skipped_at) if row.skipped_at else None),
                                           "pages": []}
        else:
            entry = broken.get(row.id)
            if entry is None:
                entry = broken[row.id] = {
                    "url": row.url, "status": row.status, "error": row.error, "final_url": row.final_url,
                    "method": row.method, "checked_at": _iso(row.checked_at), "failures": row.failures or 0,
                    "pages": [],
                }
        entry["pages"].append({"url": row.source_url, "anchor": row.anchor or ""})
    ordered = sorted(broken.values(), key=lambda e: (-len(e["pages"]), e["url"]))
    not_checked = sorted(skipped.values(), key=lambda e: (e["skip_kind"], -len(e["pages"]), e["url"]))
    by_kind: dict[str, int] = {}
    for entry in not_checked:
        by_kind[entry["skip_kind"]] = by_kind.get(entry["skip_kind"], 0) + 1
    name = session.scalar(select(Site.name).where(Site.code == site_code))
    total, checked, ok, last = counts
    last_checked = last if isinstance(last, dt.datetime) or last is None else None
    if last_checked is not None and last_checked.tzinfo is None:
        last_checked = last_checked.replace(tzinfo=dt.UTC)  # SQLite's max() returns naive UTC
    return {
        "site": site_code,
        "site_name": name,
        "total": total,
        "checked": checked,
        "unchecked": total - checked - len(not_checked),
        "ok": ok,
        "broken_count": len(ordered),
        "skipped_count": len(not_checked),
        "skipped_by_kind": by_kind,
        "last_checked_at": _iso(last_checked),
        "broken": ordered,
        "skipped": not_checked,
        "visitor_404s": visitor_404s(session, site_code),
    }


VISITOR_404_DAYS = 30


def visitor_404s(session: Session, site_code: str, days: int = VISITOR_404_DAYS,
                 limit: int = 100) -> list[dict[str, Any]]:
    """Dead links the site's visitors met (its access logs, docs/logs.md): the 404s of the last
    ``days`` days whose referrer is a page of the site itself, most met first:
    ``[{"url", "referrer", "hits"}]``. The link checker may not know them (a link in a page the
    crawl never reached, a script-built link)."""
    base = session.scalar(select(Site.base_url).where(Site.code == site_code))
    host = (urlsplit(base).hostname or "").lower() if base else ""
    if not host:
        return []
    since = (dt.datetime.now(SHANGHAI) - dt.timedelta(days=days)).date().isoformat()
    found: list[dict[str, Any]] = []
    for key, hits in session.execute(
            select(LogCount.key, func.sum(LogCount.hits)).where(
                LogCount.site_code == site_code, LogCount.kind == "notfound", LogCount.day >= since)
            .group_by(LogCount.key)):
        url, _, referrer = key.partition("\t")
        try:
            internal = (urlsplit(referrer).hostname or "").lower() == host
        except ValueError:
            internal = False
        if internal:
            found.append({"url": url, "referrer": referrer, "hits": int(hits)})
    found.sort(key=lambda e: (-e["hits"], e["url"], e["referrer"]))
    return found[:limit]


def site_has_links(session: Session, site_code: str) -> bool:
    """Whether links were recorded for pages of ``site_code``."""
    return session.scalar(select(LinkSource.target_id).where(LinkSource.site_code == site_code).limit(1)) is not None
