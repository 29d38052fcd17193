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
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from markupsafe import Markup

from gateway.api.deps import DOCUMENT_ID, Resources, ResourcesDep, StoreDep, TemplatesDep
from gateway.scope import Scope, ScopeRefused
from gateway.store.models import Document, Site
from gateway.store.session import Store
from normalizers.models import ExchangeItem, parse_item
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
    attachments = list(getattr(item, "attachments", []) or []) + list(getattr(item, "forms", []) or [])
    return _page(request, templates, 200, state="copy", doc_id=doc_id, url=facts["url"], title=item.display_title,
                 fetched_at=_shanghai(facts["last_seen_at"]), metadata=_metadata(item, site_name),
                 body_html=body_html, paragraphs=paragraphs, attachments=attachments, site_name=site_name)


DocId = Annotated[str, PathParam(max_length=64, description="The document id (32 hex digits)")]


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
