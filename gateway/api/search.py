"""信息检索: ``GET /api/search`` and ``GET /api/suggest``, and the query building the portal
page shares with them.

Search input only ever becomes an :class:`index.base.SearchQuery`: no query language of the
user's reaches the index. Highlight fragments (``title_html``, ``snippet_html``) are passed on
because the index contract guarantees they are escaped text with ``<mark>`` tags only; as a
second line of defence any fragment holding other markup is escaped whole
(:func:`safe_fragment`).
"""

from __future__ import annotations

import datetime as dt
import html
import math
import re
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import ValidationError

from gateway.api.deps import IndexDep, ResourcesDep
from gateway.api.models import FacetValueOut, HitOut, SearchOut, SuggestionOut, SuggestOut
from gateway.api.search_cache import ResultCache
from index.base import SEARCH_DATE_MAX, SEARCH_DATE_MIN, SearchIndex, SearchQuery
from normalizers.models import Category

__all__ = ["InputError", "build_query", "router", "run_search", "run_suggest", "safe_fragment"]

router = APIRouter(tags=["search"])

_MARK = re.compile(r"</?mark>")


def safe_fragment(fragment: str) -> str:
    """A highlight fragment that is escaped text plus ``<mark>``/``</mark>``, as the index
    contract promises; anything else (a backend bug) is escaped whole, so it shows as text."""
    rest = _MARK.sub("", fragment)
    if "<" in rest or ">" in rest or '"' in rest:
        return html.escape(fragment, quote=True)
    return fragment


class InputError(Exception):
    """Bad search input: the messages, as FastAPI's 422 ``detail`` list."""

    def __init__(self, errors: list[dict[str, Any]]):
        super().__init__("; ".join(e["msg"] for e in errors))
        self.errors = errors


_FIELD_NAMES = {"site_codes": "site", "categories": "category", "file_kinds": "file"}
_DATE_HELP = f"YYYY-MM-DD, inclusive, {SEARCH_DATE_MIN} to {SEARCH_DATE_MAX} (else 422)"


def build_query(*, q: str, sites: list[str] | None = None, categories: list[str] | None = None,
                column: str | None = None, date_from: Any = None, date_to: Any = None,
                order: str = "relevance", page: Any = 1, size: Any = 10,
                files: list[str] | None = None) -> SearchQuery:
    """The :class:`SearchQuery` of request parameters, or :class:`InputError`."""
    try:
        return SearchQuery(q=q, site_codes=list(sites or []), categories=[c for c in categories or [] if c],
                           column=column or None, date_from=date_from or None, date_to=date_to or None,
                           file_kinds=list(dict.fromkeys(f for f in files or [] if f)),
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


def run_search(index: SearchIndex, names: dict[str, str], query: SearchQuery,
               cache: ResultCache | None = None) -> SearchOut:
    """One page of results, with the sites' names (``names``: {code: name}); through ``cache``
    when given (never stale, see :mod:`gateway.api.search_cache`)."""
    result = cache.search(index, query) if cache is not None else index.search(query)
    hits = [
        HitOut(id=h.id, title_html=safe_fragment(h.title_html), snippet_html=safe_fragment(h.snippet_html),
               attachment=h.attachment, url=h.url, site_code=h.site_code,
               site_name=names.get(h.site_code, h.site_code),
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


def run_suggest(index: SearchIndex, prefix: str, size: int, sites: list[str],
                cache: ResultCache | None = None) -> list[SuggestionOut]:
    prefix = prefix.strip()
    if not prefix:
        return []
    sites = [s for s in dict.fromkeys(s.strip() for s in sites) if s]
    if cache is not None:
        found = cache.suggest(index, prefix, size, sites or None)
    else:
        found = index.suggest(prefix, size=size, site_codes=sites or None)
    return [SuggestionOut(id=s.id, title=s.title, url=str(s.url), site_code=s.site_code) for s in found]


@router.get("/api/search", response_model=SearchOut, summary="信息检索: search every subsite")
def api_search(
    index: IndexDep,
    resources: ResourcesDep,
    q: Annotated[str, Query(min_length=1, max_length=200, description="Plain search text (no query language)")],
    site: Annotated[list[str] | None, Query(description="Site codes (repeatable)")] = None,
    category: Annotated[list[Category] | None, Query(description="政务公开 / 政民互动 / 网上服务 (repeatable)")] = None,
    column: Annotated[str | None, Query(max_length=200, description="A column name at any level")] = None,
    date_from: Annotated[dt.date | None, Query(description=_DATE_HELP)] = None,
    date_to: Annotated[dt.date | None, Query(description=_DATE_HELP)] = None,
    file: Annotated[list[Literal["pdf", "word", "excel", "ofd", "archive"]] | None,
                    Query(description="Items with an attachment of this type (repeatable)")] = None,
    order: Literal["relevance", "date"] = "relevance",
    page: Annotated[int, Query(ge=1, le=100)] = 1,
    size: Annotated[int, Query(ge=1, le=50)] = 10,
) -> SearchOut:
    query = build_query(q=q, sites=site, categories=[c.value for c in category or []], column=column,
                        date_from=date_from, date_to=date_to, order=order, page=page, size=size,
                        files=list(file or []))
    return run_search(index, resources.site_names(), query, resources.results)


@router.get("/api/suggest", response_model=SuggestOut, summary="Search suggestions (titles)")
def api_suggest(
    index: IndexDep,
    resources: ResourcesDep,
    prefix: Annotated[str, Query(min_length=1, max_length=100)],
    size: Annotated[int, Query(ge=1, le=20)] = 8,
    site: Annotated[list[str] | None, Query(description="Site codes (repeatable)")] = None,
) -> SuggestOut:
    return SuggestOut(prefix=prefix, suggestions=run_suggest(index, prefix, size, site or [], resources.results))
