"""The portal's pages: the search page ``/`` (信息检索, with filters, facets and paging) and the
navigation map ``/navigation`` (网站导航). Plain HTML in Chinese that works without JavaScript
(``/static/suggest.js`` adds suggestions)."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse

from gateway.api.deps import ResourcesDep, SitesDep, StoreDep, TemplatesDep, Unavailable
from gateway.api.models import SearchOut
from gateway.api.navigation import navigation_items
from gateway.api.search import InputError, build_query, run_search
from normalizers.models import Category

__all__ = ["router"]

router = APIRouter(tags=["pages"])

FILE_KIND_LABELS = {"pdf": "PDF", "word": "Word 文档", "excel": "Excel 表格", "ofd": "OFD 版式文件", "archive": "压缩包"}
"""The portal's names of the file types a search can be narrowed to (index.base.FILE_KINDS)."""


@router.get("/", response_class=HTMLResponse, summary="The portal search page")
def portal(
    request: Request,
    resources: ResourcesDep,
    templates: TemplatesDep,
    q: Annotated[str, Query(max_length=400)] = "",
    site: Annotated[list[str] | None, Query()] = None,
    category: Annotated[list[str] | None, Query()] = None,
    column: Annotated[str, Query(max_length=400)] = "",
    date_from: Annotated[str, Query(max_length=40)] = "",
    date_to: Annotated[str, Query(max_length=40)] = "",
    file: Annotated[list[str] | None, Query()] = None,
    order: Annotated[str, Query(max_length=40)] = "relevance",
    page: Annotated[str, Query(max_length=40)] = "1",
) -> HTMLResponse:
    sites = [s for s in (site or []) if s]
    categories = [c for c in (category or []) if c]
    files = [f for f in (file or []) if f]
    params: dict[str, Any] = {"q": q, "site": sites, "category": categories, "column": column,
                              "date_from": date_from, "date_to": date_to, "file": files, "order": order}
    result: SearchOut | None = None
    errors: list[str] = []
    status = 200
    if q.strip():
        try:
            query = build_query(q=q, sites=sites, categories=categories, column=column,
                                date_from=date_from, date_to=date_to,
                                order=order if order in ("relevance", "date") else "relevance",
                                page=page if page.isdigit() else 1, size=10, files=files)
            index = resources.get_index()
            result = run_search(index, resources.site_names(), query, resources.results)
        except InputError as exc:
            errors = [e["msg"] for e in exc.errors]
            status = 422
        except Unavailable as exc:
            raise HTTPException(503, detail=f"the search index cannot be opened: {exc.error}") from None

    def link(**changes: Any) -> str:
        merged = {**params, "page": "1", **changes}
        pairs = []
        for key, value in merged.items():
            for v in value if isinstance(value, list) else [value]:
                if v not in (None, "") and not (key == "order" and v == "relevance") \
                        and not (key == "page" and str(v) == "1"):
                    pairs.append((key, str(v)))
        return "/?" + urlencode(pairs)

    return templates.TemplateResponse(request, "search.html", {
        "params": params, "result": result, "errors": errors, "link": link,
        "sites": resources.sites(), "site_names": resources.site_names(), "categories": [c.value for c in Category],
        "file_kinds": FILE_KIND_LABELS,
    }, status_code=status)


@router.get("/navigation", response_class=HTMLResponse, summary="网站导航 page")
def navigation_page(request: Request, store: StoreDep, sites: SitesDep, templates: TemplatesDep) -> HTMLResponse:
    return templates.TemplateResponse(request, "navigation.html", {"navigations": navigation_items(store, sites)})
