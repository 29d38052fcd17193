"""Site health (检查指标) in the API and the portal: the score cards as JSON
(``GET /api/site-health``, ``GET /api/site-health/{site}``), as an XLSX workbook
(``GET /api/site-health.xlsx``) and as pages (``GET /site-health``: the district roll-up with a
chart; ``GET /site-health/{site}``: one site's card).  ``at`` evaluates at another time (ISO)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request, Response
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse
from sqlalchemy import select

from gateway.api.deps import SitesDep, StoreDep, TemplatesDep
from gateway.ops.health import (
    STATUS_ZH,
    SiteHealth,
    attach_trend,
    aware,
    health_workbook,
    rollup,
    site_health,
)
from gateway.store.models import Site
from normalizers.models import SHANGHAI, SITE_CODE_PATTERN
from plugins.spec import SiteSpec

__all__ = ["router"]

router = APIRouter()

SiteCode = Annotated[str, PathParam(pattern=SITE_CODE_PATTERN, max_length=32, description="Site code, e.g. rsj")]
At = Annotated[dt.datetime | None, Query(description="Evaluate at this time (ISO 8601; default now)")]


def _at(at: dt.datetime | None) -> dt.datetime:
    if at is None:
        return dt.datetime.now(dt.UTC)
    return aware(at)


def _cards(store: StoreDep, sites: list[SiteSpec], at: dt.datetime, code: str | None = None) -> list[SiteHealth]:
    with store.session() as session:
        known = set(session.scalars(select(Site.code)))
        chosen = [s for s in sites if (s.code == code if code else s.code in known)]
        if code and not chosen:
            raise HTTPException(404, detail=f"no site {code!r}")
        cards = [site_health(session, s, at) for s in chosen]
        attach_trend(session, cards)
        return cards


@router.get("/api/site-health", tags=["site health"], summary="检查指标: every crawled site's score card and the roll-up")
def api_site_health(store: StoreDep, sites: SitesDep, at: At = None) -> dict[str, Any]:
    when = _at(at)
    cards = _cards(store, sites, when)
    return {"at": when.astimezone(SHANGHAI).isoformat(), "rollup": rollup(cards), "sites": [c.to_dict() for c in cards]}


@router.get("/api/site-health.xlsx", tags=["site health"], summary="检查指标 as an XLSX workbook",
            response_class=Response)
def api_site_health_xlsx(store: StoreDep, sites: SitesDep, at: At = None) -> Response:
    when = _at(at)
    body = health_workbook(_cards(store, sites, when))
    name = f"site-health-{when.astimezone(SHANGHAI):%Y%m%d}.xlsx"
    return Response(body, media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.get("/api/site-health/{site_code}", tags=["site health"], summary="检查指标: one site's score card",
            responses={404: {"description": "Unknown site"}})
def api_site_health_one(store: StoreDep, sites: SitesDep, site_code: SiteCode, at: At = None) -> dict[str, Any]:
    return _cards(store, sites, _at(at), site_code)[0].to_dict()


@router.get("/site-health", response_class=HTMLResponse, tags=["pages"], summary="网站健康度 page (district)")
def site_health_page(request: Request, store: StoreDep, sites: SitesDep, templates: TemplatesDep,
                     at: At = None) -> HTMLResponse:
    when = _at(at)
    cards = _cards(store, sites, when)
    return templates.TemplateResponse(request, "site_health.html", {
        "cards": cards, "rollup": rollup(cards), "at": when.astimezone(SHANGHAI), "labels": STATUS_ZH, "one": None})


@router.get("/site-health/{site_code}", response_class=HTMLResponse, tags=["pages"],
            summary="网站健康度 page (one site)", responses={404: {"description": "Unknown site"}})
def site_health_site_page(request: Request, store: StoreDep, sites: SitesDep, templates: TemplatesDep,
                          site_code: SiteCode, at: At = None) -> HTMLResponse:
    when = _at(at)
    cards = _cards(store, sites, when, site_code)
    return templates.TemplateResponse(request, "site_health.html", {
        "cards": cards, "rollup": rollup(cards), "at": when.astimezone(SHANGHAI), "labels": STATUS_ZH,
        "one": cards[0]})
