"""Access-log reports (访问日志) in the API and the portal: the district roll-up and each site's
report as JSON (``GET /api/logs``, ``GET /api/logs/{site}``), every site's report as an XLSX
workbook (``GET /api/logs.xlsx``) and as pages (``GET /logs``: the district, with a chart;
``GET /logs/{site}``: one site's report with its charts and tables).  ``start`` and ``end``
(inclusive days, Asia/Shanghai) default to the 30 days up to yesterday; a reversed range, one
ending after today or longer than 366 days is refused (422)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request, Response
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.api.deps import SitesDep, StoreDep, TemplatesDep
from gateway.ops.accesslog.report import (
    district_rollup,
    report_range,
    site_traffic,
    today_shanghai,
    traffic_workbook,
)
from gateway.store.models import LogFile, Site
from normalizers.models import SITE_CODE_PATTERN
from plugins.spec import SiteSpec

__all__ = ["router"]

router = APIRouter()

SiteCode = Annotated[str, PathParam(pattern=SITE_CODE_PATTERN, max_length=32, description="Site code, e.g. rsj")]
Start = Annotated[dt.date | None, Query(description="First day (YYYY-MM-DD, Asia/Shanghai; default: 30 days "
                                                    "before end)")]
End = Annotated[dt.date | None, Query(description="Last day, included (default: yesterday)")]
Top = Annotated[int, Query(ge=1, le=500, description="Rows of the top lists (pages, columns, downloads, referrers)")]


def _range(start: dt.date | None, end: dt.date | None) -> tuple[dt.date, dt.date]:
    try:
        return report_range(start, end, today_shanghai())
    except ValueError as exc:
        raise HTTPException(422, detail=str(exc)) from None


def _chosen(session: Session, sites: list[SiteSpec], code: str | None) -> list[SiteSpec]:
    """The site asked for (404 when no plugin has it), else every site with a plugin that the
    store knows (crawled) or whose logs were read."""
    if code:
        chosen = [s for s in sites if s.code == code]
        if not chosen:
            raise HTTPException(404, detail=f"no site {code!r}")
        return chosen
    known = set(session.scalars(select(Site.code))) | set(session.scalars(select(LogFile.site_code).distinct()))
    return [s for s in sites if s.code in known]


def _reports(store: StoreDep, sites: list[SiteSpec], start: dt.date, end: dt.date, code: str | None = None,
             top: int = 20) -> list[dict[str, Any]]:
    with store.session() as session:
        return [site_traffic(session, s, start, end, top) for s in _chosen(session, sites, code)]


def _district(reports: list[dict[str, Any]], start: dt.date, end: dt.date) -> dict[str, Any]:
    out = district_rollup(reports)
    out.update(start=start.isoformat(), end=end.isoformat())
    return out


@router.get("/api/logs", tags=["access logs"], summary="访问日志: the district roll-up (a row per site)",
            responses={422: {"description": "A bad range"}})
def api_logs(store: StoreDep, sites: SitesDep, start: Start = None, end: End = None) -> dict[str, Any]:
    first, last = _range(start, end)
    return _district(_reports(store, sites, first, last), first, last)


@router.get("/api/logs.xlsx", tags=["access logs"], summary="访问日志 of every site as an XLSX workbook",
            response_class=Response, responses={422: {"description": "A bad range"}})
def api_logs_xlsx(store: StoreDep, sites: SitesDep, start: Start = None, end: End = None,
                  top: Top = 100) -> Response:
    first, last = _range(start, end)
    body = traffic_workbook(_reports(store, sites, first, last, top=top))
    name = f"access-logs-{first:%Y%m%d}-{last:%Y%m%d}.xlsx"
    return Response(body, media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.get("/api/logs/{site_code}", tags=["access logs"], summary="访问日志: one site's report",
            responses={404: {"description": "Unknown site"}, 422: {"description": "A bad range"}})
def api_logs_one(store: StoreDep, sites: SitesDep, site_code: SiteCode, start: Start = None, end: End = None,
                 top: Top = 20) -> dict[str, Any]:
    first, last = _range(start, end)
    return _reports(store, sites, first, last, site_code, top)[0]


def _page(request: Request, templates: TemplatesDep, reports: list[dict[str, Any]], start: dt.date, end: dt.date,
          one: dict[str, Any] | None) -> HTMLResponse:
    return templates.TemplateResponse(request, "traffic.html", {
        "district": _district(reports, start, end), "one": one, "start": start, "end": end,
        "query": f"start={start.isoformat()}&end={end.isoformat()}"})


@router.get("/logs", response_class=HTMLResponse, tags=["pages"], summary="访问统计 page (district)",
            responses={422: {"description": "A bad range"}})
def logs_page(request: Request, store: StoreDep, sites: SitesDep, templates: TemplatesDep,
              start: Start = None, end: End = None) -> HTMLResponse:
    first, last = _range(start, end)
    return _page(request, templates, _reports(store, sites, first, last), first, last, None)


@router.get("/logs/{site_code}", response_class=HTMLResponse, tags=["pages"], summary="访问统计 page (one site)",
            responses={404: {"description": "Unknown site"}, 422: {"description": "A bad range"}})
def logs_site_page(request: Request, store: StoreDep, sites: SitesDep, templates: TemplatesDep,
                   site_code: SiteCode, start: Start = None, end: End = None) -> HTMLResponse:
    first, last = _range(start, end)
    reports = _reports(store, sites, first, last, site_code)
    return _page(request, templates, reports, first, last, reports[0])
