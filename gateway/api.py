"""The gateway's HTTP face: the JSON API the portal (北仑之窗) uses for unified search, the
navigation map, the emergency copy of every item and the data-sharing feed (信息报送), plus the
portal search page ``/`` and the navigation map page ``/navigation``.

``create_app(settings)`` opens the store, the index and the plugin registry once per app (in the
lifespan, or lazily on first use when the app runs without one) and closes them on shutdown.
Search input is only ever turned into an :class:`index.base.SearchQuery` — no query language of
the user's reaches the index. Highlight fragments (``title_html``, ``snippet_html``) are passed
on because the index contract guarantees they are escaped text with ``<mark>`` tags only; as a
second line of defence any fragment holding other markup is escaped whole (:func:`safe_fragment`).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import datetime as dt
import html
import math
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from fastapi import FastAPI, HTTPException, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from markupsafe import Markup
from pydantic import BaseModel, Field, ValidationError
from sqlalchemy import and_, or_, select

from gateway.settings import GatewaySettings, get_settings
from normalizers.models import Category

__all__ = ["create_app", "decode_cursor", "encode_cursor", "safe_fragment"]

WEB_DIR = Path(__file__).with_name("web")
PORTAL_URL = "http://www.bl.gov.cn/"
SITE_GROUP_NAME = "北仑区政府网站群"
FACET_KEYS = ("site", "category", "column", "year")

_MARK = re.compile(r"</?mark>")


def safe_fragment(fragment: str) -> str:
    """A highlight fragment that is escaped text plus ``<mark>``/``</mark>``, as the index
    contract promises; anything else (a backend bug) is escaped whole, so it shows as text."""
    rest = _MARK.sub("", fragment)
    if "<" in rest or ">" in rest or '"' in rest:
        return html.escape(fragment, quote=True)
    return fragment


# --- response models (the OpenAPI document) ------------------------------------------------


class FacetValueOut(BaseModel):
    value: str
    count: int
    label: str | None = Field(None, description="Display name (the site name for site facets)")


class HitOut(BaseModel):
    id: str
    title_html: str = Field(description="Escaped title; only <mark>…</mark> tags")
    snippet_html: str = Field(description="Escaped snippet; only <mark>…</mark> tags")
    url: str
    site_code: str
    site_name: str
    column_path: list[str]
    category: str | None = None
    published_at: dt.datetime | None


class SearchOut(BaseModel):
    q: str
    total: int
    page: int
    size: int
    pages: int
    hits: list[HitOut]
    facets: dict[str, list[FacetValueOut]] = Field(
        default_factory=dict, description="Keys: site, category, column, year (when the index provides them)")


class SuggestionOut(BaseModel):
    id: str
    title: str
    url: str
    site_code: str


class SuggestOut(BaseModel):
    prefix: str
    suggestions: list[SuggestionOut]


class DocumentOut(BaseModel):
    id: str
    status: str = Field(description="active, or gone (the page disappeared from the subsite)")
    site_code: str
    url: str
    title: str
    first_seen_at: dt.datetime
    last_seen_at: dt.datetime
    last_changed_at: dt.datetime
    item: dict[str, Any] = Field(description="The item in the exchange standard, as stored")


class FeedEntry(BaseModel):
    id: str
    status: str
    site_code: str
    url: str
    last_changed_at: dt.datetime
    item: dict[str, Any]


class FeedOut(BaseModel):
    items: list[FeedEntry]
    next_cursor: str | None = Field(description="Pass as `since` for the next page (same cursor when nothing new)")
    has_more: bool


class HealthOut(BaseModel):
    status: str
    store: str
    index: str
    documents: int | None = None
    indexed: int | None = None
    errors: dict[str, str] = Field(default_factory=dict)


# --- resources ----------------------------------------------------------------------------


class Resources:
    """The store, index and plugin registry of one app, opened once."""

    def __init__(self, settings: GatewaySettings):
        self.settings = settings
        self.store = None
        self.index = None
        self.registry = None
        self.errors: dict[str, str] = {}
        self._lock = threading.Lock()
        self._opened = False

    def open(self) -> None:
        with self._lock:
            if self._opened:
                return
            self._opened = True
            from gateway.store.session import open_store
            from index.base import open_index
            from plugins.manager import registry_from_settings

            try:
                self.store = open_store(self.settings.database_url)
            except Exception as exc:  # noqa: BLE001 - reported by /health
                self.errors["store"] = f"{type(exc).__name__}: {exc}"
            try:
                self.index = open_index(self.settings.index_url)
            except Exception as exc:  # noqa: BLE001
                self.errors["index"] = f"{type(exc).__name__}: {exc}"
            try:
                self.registry = registry_from_settings(self.settings)
            except Exception as exc:  # noqa: BLE001
                self.errors["plugins"] = f"{type(exc).__name__}: {exc}"

    def close(self) -> None:
        with self._lock:
            if self.index is not None:
                self.index.close()
            if self.store is not None:
                self.store.dispose()
            self.index = self.store = None
            self._opened = False
            self.errors = {}

    def need_store(self):
        self.open()
        if self.store is None:
            raise HTTPException(503, detail=f"the store cannot be opened: {self.errors.get('store')}")
        return self.store

    def need_index(self):
        self.open()
        if self.index is None:
            raise HTTPException(503, detail=f"the search index cannot be opened: {self.errors.get('index')}")
        return self.index

    def sites(self) -> list:
        self.open()
        return list(self.registry) if self.registry is not None else []

    def site_names(self) -> dict[str, str]:
        names = {}
        if self.store is not None:
            from gateway.store.models import Site

            with contextlib.suppress(Exception), self.store.session() as session:
                names.update({code: name for code, name in session.execute(select(Site.code, Site.name))})
        names.update({s.code: s.name for s in self.sites()})
        return names


# --- search -------------------------------------------------------------------------------


class InputError(Exception):
    """Bad search input: the messages, as FastAPI's 422 ``detail`` list."""

    def __init__(self, errors: list[dict]):
        super().__init__("; ".join(e["msg"] for e in errors))
        self.errors = errors


_FIELD_NAMES = {"site_codes": "site", "categories": "category"}


def build_query(*, q: str, sites: list[str] | None = None, categories: list[str] | None = None,
                column: str | None = None, date_from: Any = None, date_to: Any = None,
                order: str = "relevance", page: Any = 1, size: Any = 10):
    """The :class:`SearchQuery` of request parameters, or :class:`InputError`."""
    from index.base import SearchQuery

    try:
        return SearchQuery(q=q, site_codes=list(sites or []), categories=[c for c in categories or [] if c],
                           column=column or None, date_from=date_from or None, date_to=date_to or None,
                           order=order, page=page, size=size)
    except ValidationError as exc:
        errors = []
        for e in exc.errors(include_url=False):
            loc = [_FIELD_NAMES.get(str(p), str(p)) for p in e.get("loc", ())]
            msg = e["msg"]
            if loc:
                msg = f"{loc[0]}: {msg}"
            errors.append({"loc": ["query", *loc], "msg": msg, "type": e.get("type", "value_error")})
        raise InputError(errors) from None


def run_search(resources: Resources, query) -> SearchOut:
    index = resources.need_index()
    result = index.search(query)
    names = resources.site_names()
    hits = [
        HitOut(id=h.id, title_html=safe_fragment(h.title_html), snippet_html=safe_fragment(h.snippet_html),
               url=h.url, site_code=h.site_code, site_name=names.get(h.site_code, h.site_code),
               column_path=list(h.column_path), category=str(h.category) if h.category else None,
               published_at=h.published_at)
        for h in result.hits
    ]
    facets: dict[str, list[FacetValueOut]] = {}
    for key, values in result.facets.items():
        facets[key] = [
            FacetValueOut(value=str(v.value), count=int(v.count),
                          label=names.get(str(v.value)) if key == "site" else None)
            for v in values
        ]
    pages = min(100, math.ceil(result.total / query.size)) if result.total else 0
    return SearchOut(q=query.q, total=result.total, page=query.page, size=query.size, pages=pages,
                     hits=hits, facets=facets)


def run_suggest(resources: Resources, prefix: str, size: int, sites: list[str]) -> list[SuggestionOut]:
    index = resources.need_index()
    prefix = prefix.strip()
    if not prefix:
        return []
    sites = [s for s in dict.fromkeys(s.strip() for s in sites) if s]
    found = index.suggest(prefix, size=size, site_codes=sites or None)
    return [SuggestionOut(id=s.id, title=s.title, url=str(s.url), site_code=s.site_code) for s in found]


def _navigation_json(nav) -> dict:
    """A navigation item as JSON, re-validated (build_navigation assigns plain str URLs)."""
    clean = type(nav).model_validate(nav.model_dump(exclude={"content_hash"}, warnings=False))
    return clean.model_dump(mode="json")


# --- feed cursor --------------------------------------------------------------------------


def encode_cursor(changed_at: dt.datetime, doc_id: str) -> str:
    raw = f"{changed_at.astimezone(dt.UTC).isoformat()}|{doc_id}"
    return base64.urlsafe_b64encode(raw.encode("utf-8")).decode("ascii").rstrip("=")


def decode_cursor(cursor: str) -> tuple[dt.datetime, str]:
    """The (timestamp, id) of a cursor; ValueError when it is not one of ours."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        raw = base64.urlsafe_b64decode(padded.encode("ascii")).decode("utf-8")
        stamp, sep, doc_id = raw.partition("|")
        if not sep:
            raise ValueError("no separator")
        when = dt.datetime.fromisoformat(stamp)
    except (ValueError, UnicodeError, binascii.Error) as exc:
        raise ValueError(f"invalid cursor {cursor[:80]!r}: pass the next_cursor of a previous /api/feed answer") from exc
    if when.tzinfo is None:
        raise ValueError(f"invalid cursor {cursor[:80]!r}: timestamp without time zone")
    return when, doc_id


# --- the app ------------------------------------------------------------------------------


def create_app(settings: GatewaySettings | None = None) -> FastAPI:
    """The gateway's web app over the store and index the settings name."""
    settings = settings or get_settings()
    resources = Resources(settings)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> Iterator[None]:
        resources.open()
        try:
            yield
        finally:
            resources.close()

    app = FastAPI(
        title="北仑区政府网站群 gateway API",
        version="1",
        description="Unified search, navigation map, stored items and change feed of the Beilun "
                    "site group (区级网站群统一数据交换标准).",
        lifespan=lifespan,
    )
    app.state.resources = resources
    from gateway.metrics import instrument, router as metrics_router  # GET /metrics (Prometheus)
    app.include_router(metrics_router)
    instrument(app)  # the app's metrics registry; counts and times /api/search and /api/suggest
    from gateway.api_emergency import router as emergency_router  # /cached/{id}, /go/{id}
    app.include_router(emergency_router)
    from gateway.api_links import router as links_router  # /api/links/{site}, /links/{site}: 死链报告
    app.include_router(links_router)
    app.mount("/static", StaticFiles(directory=WEB_DIR / "static"), name="static")
    templates = Jinja2Templates(directory=str(WEB_DIR / "templates"))
    templates.env.filters["fragment"] = lambda s: Markup(safe_fragment(s))
    templates.env.globals.update(portal_url=PORTAL_URL, site_group_name=SITE_GROUP_NAME)

    @app.exception_handler(InputError)
    async def _input_error(request: Request, exc: InputError) -> JSONResponse:
        return JSONResponse(status_code=422, content={"detail": exc.errors})

    # --- JSON API ---

    @app.get("/api/search", response_model=SearchOut, tags=["search"],
             summary="信息检索: search every subsite")
    def api_search(
        q: Annotated[str, Query(min_length=1, max_length=200, description="Plain search text (no query language)")],
        site: Annotated[list[str] | None, Query(description="Site codes (repeatable)")] = None,
        category: Annotated[list[Category] | None, Query(description="政务公开 / 政民互动 / 网上服务 (repeatable)")] = None,
        column: Annotated[str | None, Query(max_length=200, description="A column name at any level")] = None,
        date_from: Annotated[dt.date | None, Query(description="YYYY-MM-DD, inclusive")] = None,
        date_to: Annotated[dt.date | None, Query(description="YYYY-MM-DD, inclusive")] = None,
        order: Literal["relevance", "date"] = "relevance",
        page: Annotated[int, Query(ge=1, le=100)] = 1,
        size: Annotated[int, Query(ge=1, le=50)] = 10,
    ) -> SearchOut:
        query = build_query(q=q, sites=site, categories=[c.value for c in category or []], column=column,
                            date_from=date_from, date_to=date_to, order=order, page=page, size=size)
        return run_search(resources, query)

    @app.get("/api/suggest", response_model=SuggestOut, tags=["search"], summary="Search suggestions (titles)")
    def api_suggest(
        prefix: Annotated[str, Query(min_length=1, max_length=100)],
        size: Annotated[int, Query(ge=1, le=20)] = 8,
        site: Annotated[list[str] | None, Query(description="Site codes (repeatable)")] = None,
    ) -> SuggestOut:
        return SuggestOut(prefix=prefix, suggestions=run_suggest(resources, prefix, size, site or []))

    def navigation_items(code: str | None = None) -> list[dict]:
        from gateway.navigation import build_navigation, column_counts

        store = resources.need_store()
        sites = resources.sites()
        if code is not None:
            sites = [s for s in sites if s.code == code]
            if not sites:
                raise HTTPException(404, detail=f"no site {code!r}")
        with store.session() as session:
            return [_navigation_json(build_navigation(s, column_counts(session, s.code))) for s in sites]

    @app.get("/api/navigation", tags=["navigation"], summary="网站导航: every site's column tree")
    def api_navigation() -> dict[str, list[dict]]:
        return {"sites": navigation_items()}

    @app.get("/api/navigation/{site_code}", tags=["navigation"], summary="One site's column tree")
    def api_site_navigation(site_code: Annotated[str, PathParam(max_length=32)]) -> dict:
        return navigation_items(site_code)[0]

    @app.get("/api/documents/{doc_id}", response_model=DocumentOut, tags=["documents"],
             summary="The stored item (the emergency copy), from the store",
             responses={404: {"description": "Unknown id"}})
    def api_document(doc_id: Annotated[str, PathParam(max_length=64)]) -> DocumentOut:
        from gateway.store.models import Document

        with resources.need_store().session() as session:
            doc = session.get(Document, doc_id)
            if doc is None:
                raise HTTPException(404, detail=f"no document {doc_id!r}")
            return DocumentOut(id=doc.id, status=doc.status, site_code=doc.site_code, url=doc.url,
                               title=doc.title, first_seen_at=doc.first_seen_at, last_seen_at=doc.last_seen_at,
                               last_changed_at=doc.last_changed_at, item=doc.item)

    @app.get("/api/feed", response_model=FeedOut, tags=["documents"],
             summary="信息报送: items changed since a cursor, in change order",
             responses={400: {"description": "Invalid cursor"}})
    def api_feed(
        since: Annotated[str | None, Query(max_length=400, description="next_cursor of a previous answer; omit to start")] = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
    ) -> FeedOut:
        from gateway.store.models import Document

        stmt = select(Document).order_by(Document.last_changed_at, Document.id).limit(limit + 1)
        if since:
            try:
                when, after = decode_cursor(since)
            except ValueError as exc:
                raise HTTPException(400, detail=str(exc)) from None
            stmt = stmt.where(or_(Document.last_changed_at > when,
                                  and_(Document.last_changed_at == when, Document.id > after)))
        with resources.need_store().session() as session:
            docs = list(session.scalars(stmt))
            more = len(docs) > limit
            docs = docs[:limit]
            items = [FeedEntry(id=d.id, status=d.status, site_code=d.site_code, url=d.url,
                               last_changed_at=d.last_changed_at, item=d.item) for d in docs]
        cursor = encode_cursor(docs[-1].last_changed_at, docs[-1].id) if docs else (since or None)
        return FeedOut(items=items, next_cursor=cursor, has_more=more)

    @app.get("/health", response_model=HealthOut, tags=["health"],
             responses={503: {"model": HealthOut, "description": "The store or the index cannot be used"}})
    def health() -> JSONResponse:
        from gateway.store.repository import count_documents

        resources.open()
        from index.base import _redact

        out = HealthOut(status="ok", store=_redact(settings.database_url), index=_redact(settings.index_url),
                        errors=dict(resources.errors))
        if resources.store is not None:
            try:
                with resources.store.session() as session:
                    out.documents = count_documents(session)
            except Exception as exc:  # noqa: BLE001
                out.errors["store"] = f"{type(exc).__name__}: {exc}"
        if resources.index is not None:
            try:
                out.indexed = resources.index.count()
            except Exception as exc:  # noqa: BLE001
                out.errors["index"] = f"{type(exc).__name__}: {exc}"
        failed = {"store", "index"} & set(out.errors)
        if failed:
            out.status = "error"
        return JSONResponse(status_code=503 if failed else 200, content=out.model_dump(mode="json"))

    # --- HTML pages ---

    @app.get("/", response_class=HTMLResponse, tags=["pages"], summary="The portal search page")
    def portal(
        request: Request,
        q: Annotated[str, Query(max_length=400)] = "",
        site: Annotated[list[str] | None, Query()] = None,
        category: Annotated[list[str] | None, Query()] = None,
        column: Annotated[str, Query(max_length=400)] = "",
        date_from: Annotated[str, Query(max_length=40)] = "",
        date_to: Annotated[str, Query(max_length=40)] = "",
        order: Annotated[str, Query(max_length=40)] = "relevance",
        page: Annotated[str, Query(max_length=40)] = "1",
    ) -> HTMLResponse:
        sites = [s for s in (site or []) if s]
        categories = [c for c in (category or []) if c]
        params = {"q": q, "site": sites, "category": categories, "column": column,
                  "date_from": date_from, "date_to": date_to, "order": order}
        result = None
        errors: list[str] = []
        status = 200
        if q.strip():
            try:
                query = build_query(q=q, sites=sites, categories=categories, column=column,
                                    date_from=date_from, date_to=date_to,
                                    order=order if order in ("relevance", "date") else "relevance",
                                    page=page if page.isdigit() else 1, size=10)
                result = run_search(resources, query)
            except InputError as exc:
                errors = [e["msg"] for e in exc.errors]
                status = 422

        def link(**changes: Any) -> str:
            merged = {**params, "page": "1", **changes}
            pairs = []
            for key, value in merged.items():
                for v in value if isinstance(value, list) else [value]:
                    if v not in (None, "") and not (key == "order" and v == "relevance") \
                            and not (key == "page" and str(v) == "1"):
                        pairs.append((key, str(v)))
            return "/?" + urlencode(pairs)

        names = resources.site_names()
        return templates.TemplateResponse(request, "search.html", {
            "params": params, "result": result, "errors": errors, "link": link,
            "sites": resources.sites(), "site_names": names, "categories": [c.value for c in Category],
        }, status_code=status)

    @app.get("/navigation", response_class=HTMLResponse, tags=["pages"], summary="网站导航 page")
    def navigation_page(request: Request) -> HTMLResponse:
        return templates.TemplateResponse(request, "navigation.html", {"navigations": navigation_items()})

    return app
