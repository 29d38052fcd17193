"""The emergency copy in the portal: a read-only page of a stored article for when its subsite
is down (``GET /cached/{id}``), and a link that goes to the subsite while it answers and to the
copy while it does not (``GET /go/{id}``).

The copy is made from the store only (the last GOOD version of the item, see
:func:`gateway.store.repository.degradation`): title, metadata and the body's *sanitized* HTML
(``body_html``, made by :func:`normalizers.sanitize.sanitize_html` at crawl time and passed
through it once more here as a second line of defence); the raw page is never rendered.
Everything else is text, escaped by the templates. Gone documents answer 410 (withdrawn
from the subsite: kept in the store, not shown), unknown ids 404.

Whether a subsite answers is asked of its *fetch* origin (``BLGW_ORIGINS``, as the spider
does: :func:`normalizers.urls.rebase`) with one HEAD (GET when HEAD is not allowed) and a
short timeout; any answer below 500 counts as up. The result is kept per origin for
:data:`PROBE_TTL` seconds, so a dead subsite costs one timeout a minute, not one per click.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable
from typing import Annotated, Any, overload

import httpx
from fastapi import APIRouter, Request
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, HTMLResponse, PlainTextResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from markupsafe import Markup

from gateway.api.deps import DOCUMENT_ID, Resources, ResourcesDep, StoreDep, TemplatesDep
from gateway.scope import Scope, ScopeRefused
from gateway.store.attachments import content_disposition, file_url, linked_by_active, linked_files
from gateway.store.blobs import FolderBlobStore
from gateway.store.models import AttachmentFile, Document, DocumentAttachment, Site
from gateway.store.session import Store
from normalizers.models import ExchangeItem, document_id, parse_item
from normalizers.sanitize import sanitize_html
from normalizers.urls import origin, rebase

__all__ = ["PROBE_TIMEOUT", "PROBE_TTL", "SiteProbe", "router"]

PROBE_TIMEOUT = 2.0  # seconds for one probe of a subsite
PROBE_TTL = 60.0  # seconds a probe's answer is reused for the same origin
SHANGHAI_OFFSET = dt.timezone(dt.timedelta(hours=8), "CST")

# The copy is a page of ours showing someone else's text: no scripts at all, images from anywhere.
PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; img-src http: https: data:; style-src 'self' 'unsafe-inline'; "
                               "base-uri 'none'; form-action 'self'; frame-ancestors 'self'",
    "X-Robots-Tag": "noindex, nofollow",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-cache",
}

router = APIRouter(tags=["emergency copy"])


class SiteProbe:
    """Whether a subsite answers, asked of its origin and remembered for ``ttl`` seconds."""

    def __init__(self, *, ttl: float = PROBE_TTL, timeout: float = PROBE_TIMEOUT,
                 user_agent: str | None = None, clock: Callable[[], float] = time.monotonic):
        self.ttl = ttl
        self.timeout = timeout
        self.user_agent = user_agent
        self.clock = clock
        self.checks = 0  # probes actually sent (the rest came from the cache)
        self._answers: dict[str, tuple[float, bool]] = {}
        self._lock = threading.Lock()

    def is_up(self, url: str) -> bool:
        key = origin(url)
        with self._lock:
            seen = self._answers.get(key)
            if seen is not None and self.clock() - seen[0] < self.ttl:
                return seen[1]
        up = self._check(url)
        with self._lock:
            self._answers[key] = (self.clock(), up)
            self.checks += 1
        return up

    def _check(self, url: str) -> bool:
        headers = {"User-Agent": self.user_agent} if self.user_agent else {}
        try:
            # trust_env=False: no proxy settings of the environment between us and the subsite
            with httpx.Client(timeout=self.timeout, follow_redirects=False, trust_env=False,
                              headers=headers) as client:
                response = client.head(url)
                if response.status_code in (405, 501):  # HEAD not implemented by the server
                    with client.stream("GET", url) as streamed:
                        return streamed.status_code < 500
                return response.status_code < 500
        except (httpx.HTTPError, OSError, ValueError):
            return False


_probe_lock = threading.Lock()


def site_probe(request: Request) -> SiteProbe:
    """The app's probe (``app.state.site_probe``; made on first use)."""
    state = request.app.state
    with _probe_lock:
        probe = getattr(state, "site_probe", None)
        if probe is None:
            probe = state.site_probe = SiteProbe(user_agent=state.resources.settings.user_agent)
    return probe


@overload
def _shanghai(when: dt.datetime) -> dt.datetime: ...
@overload
def _shanghai(when: dt.datetime | None) -> dt.datetime | None: ...
def _shanghai(when: dt.datetime | None) -> dt.datetime | None:
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return when.astimezone(SHANGHAI_OFFSET)


def _published(item: ExchangeItem) -> str | None:
    when: dt.datetime | None = getattr(item, "published_at", None) or getattr(item, "asked_at", None)
    if when is None:
        return None
    when = _shanghai(when)
    precision = getattr(item, "published_precision", None)
    if precision == "day" or (precision is None and (when.hour, when.minute, when.second) == (0, 0, 0)):
        return when.strftime("%Y-%m-%d")
    return when.strftime("%Y-%m-%d %H:%M" if precision != "second" else "%Y-%m-%d %H:%M:%S")


def _metadata(item: ExchangeItem, site_name: str) -> list[tuple[str, str]]:
    """(label, text) pairs shown above the body, in the order of a 政府信息公开 page."""
    rows: list[tuple[str, Any]] = []
    disclosure = getattr(item, "disclosure", None)
    if disclosure is not None:
        rows += [("索引号", disclosure.index_number), ("发布机构", disclosure.publisher),
                 ("发文字号", disclosure.document_number), ("主题分类", disclosure.topic),
                 ("成文日期", disclosure.written_date and disclosure.written_date.isoformat())]
    rows += [("发布日期", _published(item)), ("来源网站", site_name),
             ("所属栏目", " › ".join(item.column_path))]
    if disclosure is not None:
        rows.append(("有效性", disclosure.validity))
    return [(label, str(value)) for label, value in rows if value]


def _paragraphs(text: str) -> list[str]:
    return [p.strip() for p in text.split("\n\n") if p.strip()]


def _body(item: ExchangeItem) -> tuple[Markup | None, list[str]]:
    """The sanitized HTML body (sanitized again here), else the text as paragraphs."""
    html = getattr(item, "body_html", "") or ""
    if html.strip():
        return Markup(sanitize_html(html, str(item.source_url))), []
    return None, _paragraphs(item.search_text() or "")


def _page(request: Request, templates: Jinja2Templates, status: int, **context: Any) -> HTMLResponse:
    response = templates.TemplateResponse(request, "cached.html", {"active": None, **context},
                                          status_code=status)
    response.headers.update(PAGE_HEADERS)
    return response


def _load(store: Store, doc_id: str) -> dict[str, Any] | None:
    """What the page and the redirect need of a stored document, or None when unknown."""
    with store.session() as session:
        doc = session.get(Document, doc_id) if DOCUMENT_ID.fullmatch(doc_id) else None
        if doc is None:
            return None
        site = session.get(Site, doc.site_code)
        facts = {"id": doc.id, "status": doc.status, "url": doc.url, "site_code": doc.site_code,
                 "base_url": site.base_url if site is not None else None,
                 "last_seen_at": doc.last_seen_at, "item": doc.item}
    return facts


def _cached_response(request: Request, resources: Resources, templates: Jinja2Templates, doc_id: str,
                     facts: dict[str, Any] | None) -> HTMLResponse:
    if not facts:
        return _page(request, templates, 404, state="missing", doc_id=doc_id)
    if facts["status"] != "active":
        return _page(request, templates, 410, state="gone", doc_id=doc_id, url=facts["url"])
    item = parse_item(facts["item"])
    names = resources.site_names()
    site_name = names.get(facts["site_code"], facts["site_code"])
    body_html, paragraphs = _body(item)
    attachments = [_attachment_link(doc_id, a) for a in
                   list(getattr(item, "attachments", []) or []) + list(getattr(item, "forms", []) or [])]
    return _page(request, templates, 200, state="copy", doc_id=doc_id, url=facts["url"], title=item.display_title,
                 fetched_at=_shanghai(facts["last_seen_at"]), metadata=_metadata(item, site_name),
                 body_html=body_html, paragraphs=paragraphs, attachments=attachments, site_name=site_name)


def _attachment_link(doc_id: str, attachment: Any) -> dict[str, Any]:
    """What the copy shows of one attachment: its gateway copy when the file is kept."""
    kept = getattr(attachment, "status", None) == "stored" and getattr(attachment, "sha256", None)
    return {"name": attachment.name, "file_type": getattr(attachment, "file_type", None),
            "size": getattr(attachment, "size", None), "url": str(attachment.url),
            "kept_url": file_url(doc_id, document_id(str(attachment.url))) if kept else None}


DocId = Annotated[str, PathParam(max_length=64, description="The document id (32 hex digits)")]
AttachmentId = Annotated[str, PathParam(max_length=64, description="The attachment id (32 hex digits)")]

# never rendered by the browser whatever the bytes are: a download, a type it may not guess past
FILE_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; sandbox",
    "X-Robots-Tag": "noindex, nofollow",
    "Cache-Control": "private, max-age=3600",
}
ACTIVE_TYPES = ("text/html", "application/xhtml+xml", "image/svg+xml", "text/xml", "application/xml",
                "text/javascript", "application/javascript")


def _download_name(link_name: str, file_name: str | None, ext: str | None) -> str:
    """The file's original name: the server's (``Content-Disposition``), unless it is only a
    number or code and the link shows the Chinese name; the sniffed extension kept."""
    name = file_name or link_name
    if file_name and file_name.isascii() and not link_name.isascii():
        name = link_name
    _, dot, old_ext = name.rpartition(".")
    if ext and not (dot and 1 <= len(old_ext) <= 5 and old_ext.isascii() and old_ext.isalnum()):
        name = f"{name}.{ext}"  # the link's name without an extension: the file's
    return name


def _kept_file(store: Store, doc_id: str, att_id: str) -> tuple[AttachmentFile, str] | None:
    """The kept file of an attachment of an active document (and the link's visible name)."""
    if not DOCUMENT_ID.fullmatch(doc_id) or not DOCUMENT_ID.fullmatch(att_id):
        return None
    with store.session() as session:
        doc = session.get(Document, doc_id)
        link = session.get(DocumentAttachment, (doc_id, att_id))
        row = session.get(AttachmentFile, att_id)
        if doc is None or doc.status != "active" or link is None or row is None or row.status != "stored":
            return None
        session.expunge(row)
        item = parse_item(doc.item)
    entry = next((a for a in linked_files(item) if document_id(str(a.url)) == att_id), None)
    return row, entry.name if entry is not None else (row.name or "attachment")


@router.get("/cached/{doc_id}/attachments/{att_id}", summary="应急副本: an attachment's kept file, as a download",
            response_class=FileResponse,
            responses={404: {"description": "Unknown document or attachment, or the file is not kept"}})
def cached_attachment(store: StoreDep, resources: ResourcesDep, doc_id: DocId, att_id: AttachmentId) -> Response:
    """The file as the gateway kept it (its SHA-256 checked when it was stored): its original
    Chinese name (RFC 6266 / RFC 5987), its sniffed type, always a download."""
    kept = _kept_file(store, doc_id, att_id)
    if kept is None:
        return PlainTextResponse("附件不存在或未保存", status_code=404, headers={"X-Content-Type-Options": "nosniff"})
    row, link_name = kept
    assert row.sha256 is not None
    path = FolderBlobStore(resources.settings.blob_root).path(row.sha256)
    if not path.is_file():
        return PlainTextResponse("附件文件缺失（请运行 blgw restore 检查）", status_code=404,
                                 headers={"X-Content-Type-Options": "nosniff"})
    media = row.content_type or "application/octet-stream"
    if media.split(";")[0].strip().lower() in ACTIVE_TYPES or media.startswith("text/"):
        media = "application/octet-stream"  # a page saved as .doc is downloaded, never shown as ours
    ext = None
    if row.name and "." in row.name:
        ext = row.name.rsplit(".", 1)[1].lower()
    name = _download_name(link_name, row.name, ext)
    headers = {**FILE_HEADERS, "Content-Disposition": content_disposition(name)}
    if row.etag:
        headers["X-Origin-ETag"] = row.etag
    return FileResponse(path, media_type=media, headers=headers)


@router.get("/api/attachments/{att_id}/text", summary="An attachment's whole text (as read from its file)",
            response_class=PlainTextResponse, tags=["documents"],
            responses={404: {"description": "Unknown attachment, or no text read from it"}})
def attachment_text(store: StoreDep, att_id: AttachmentId) -> Response:
    """The text read from a kept attachment of an active document (UTF-8 plain text)."""
    with store.session() as session:
        row = session.get(AttachmentFile, att_id) if DOCUMENT_ID.fullmatch(att_id) else None
        active = row is not None and session.scalar(
            linked_by_active().where(DocumentAttachment.attachment_id == att_id).limit(1)) is not None
        text = row.text if row is not None and active and row.status == "stored" else None
    if text is None:
        return PlainTextResponse("no text", status_code=404, headers={"X-Content-Type-Options": "nosniff"})
    return PlainTextResponse(text, headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "no-cache"})


@router.get("/cached/{doc_id}", response_class=HTMLResponse, summary="应急副本: the stored copy of an item",
            responses={404: {"description": "Unknown id"},
                       410: {"description": "The page was withdrawn from its subsite (kept in the store)"}})
def cached(request: Request, store: StoreDep, resources: ResourcesDep, templates: TemplatesDep,
           doc_id: DocId) -> HTMLResponse:
    """A read-only page of the stored item: banner, title, metadata, sanitized body, attachments."""
    return _cached_response(request, resources, templates, doc_id, _load(store, doc_id))


def _probe_url(facts: dict[str, Any], origins: dict[str, str]) -> str:
    """The subsite's home page on the origin the gateway fetches it from."""
    base = facts["base_url"] or origin(facts["url"]) + "/"
    fetch_origin = origins.get(facts["site_code"])
    return rebase(base, base, fetch_origin) if fetch_origin else base


def _in_scope(facts: dict[str, Any], resources: Resources) -> bool:
    """Whether the stored URL is one of its site's public origins: the portal never sends the
    public anywhere else (a stored item of a compromised subsite may name any URL)."""
    spec = next((s for s in resources.sites() if s.code == facts["site_code"]), None)
    try:
        scope = spec.scope() if spec is not None else Scope.of(facts["base_url"] or facts["url"])
    except ScopeRefused:
        return False
    return scope.allows(facts["url"])


@router.get("/go/{doc_id}", summary="To the original page while its subsite answers, else the copy",
            response_class=HTMLResponse,
            responses={302: {"description": "The subsite answers: to the original URL"},
                       200: {"description": "The subsite does not answer: the emergency copy"},
                       404: {"description": "Unknown id"}, 410: {"description": "Withdrawn"}})
def go(request: Request, store: StoreDep, resources: ResourcesDep, templates: TemplatesDep,
       doc_id: DocId) -> Response:
    """A result link that keeps working when a subsite is down: 302 to the original URL when
    the subsite answers (checked at most once a minute per site), otherwise the copy."""
    facts = _load(store, doc_id)
    if (facts and facts["status"] == "active" and _in_scope(facts, resources)
            and site_probe(request).is_up(_probe_url(facts, resources.settings.origins))):
        return RedirectResponse(facts["url"], status_code=302, headers={"Cache-Control": "no-store"})
    response = _cached_response(request, resources, templates, doc_id, facts)
    response.headers["Cache-Control"] = "no-store"
    return response
