"""The dead-link report in the API: ``GET /api/links/{site_code}`` (JSON, the same as
``blgw links report SITE --json``) and the page ``GET /links/{site_code}`` (死链报告).

A site is known when a plugin or the store names it, or when links were recorded for it (404
otherwise).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field

from gateway.api.deps import Resources, ResourcesDep, StoreDep, TemplatesDep
from gateway.store.links import dead_link_report, site_has_links
from gateway.store.session import Store
from normalizers.models import SHANGHAI, SITE_CODE_PATTERN

__all__ = ["router"]

router = APIRouter()

SiteCode = Annotated[str, PathParam(pattern=SITE_CODE_PATTERN, max_length=32, description="Site code, e.g. rsj")]

# the checker's error texts, for the Chinese page
ERROR_LABELS = {
    "timeout": "超时",
    "connection refused": "连接被拒绝",
    "DNS lookup failed": "域名解析失败",
    "TLS error": "TLS/证书错误",
    "redirect loop": "重定向循环",
    "too many redirects": "重定向次数过多",
    "redirect to a non-HTTP URL": "重定向到非网页地址",
    "invalid redirect": "无效的重定向",
    "connection reset": "连接被重置",
    "server disconnected": "服务器断开连接",
    "protocol error": "协议错误",
    "connection error": "连接错误",
    "connection failed": "连接失败",
    "invalid URL": "无效地址",
    "refused (private address)": "已拒绝（内网地址）",
}


# why a link was not requested, for the Chinese page
SKIP_LABELS = {
    "robots": "robots.txt 不允许",
    "robots-unavailable": "robots.txt 无法读取，本次未访问该站",
    "script": "仅作为脚本加载",
    "counter": "计数器或统计接口（访问会改变站点数据）",
}


class LinkPageOut(BaseModel):
    url: str = Field(description="A page of the site that contains the link")
    anchor: str = Field(description="The link text on that page ('' when none)")


class BrokenLinkOut(BaseModel):
    url: str
    status: int | None = Field(description="HTTP status of the last check (after redirects); null when none")
    error: str | None = Field(description="timeout, connection refused, DNS lookup failed, TLS error, redirect loop…")
    final_url: str | None = None
    method: str | None = Field(None, description="HEAD, or GET when the server refused HEAD")
    checked_at: dt.datetime | None
    failures: int = Field(description="Consecutive failed checks")
    pages: list[LinkPageOut]


class SkippedLinkOut(BaseModel):
    url: str
    skip_kind: str = Field(description="robots, robots-unavailable, script or counter")
    skip_reason: str | None = Field(description="Why it was not requested (the robots.txt line, the counter pattern…)")
    skipped_at: dt.datetime | None
    pages: list[LinkPageOut]


class LinkReportOut(BaseModel):
    site: str
    site_name: str | None
    total: int = Field(description="Distinct links on the site's pages")
    checked: int
    unchecked: int
    ok: int
    broken_count: int
    last_checked_at: dt.datetime | None
    broken: list[BrokenLinkOut] = Field(description="Broken links, those on most pages first")
    skipped_count: int = Field(0, description="Links not checked on purpose (never requested)")
    skipped_by_kind: dict[str, int] = Field(default_factory=dict)
    skipped: list[SkippedLinkOut] = Field(default_factory=list,
                                          description="Links not checked on purpose: not broken, not requested")


def _when(iso: str | None) -> str:
    """An ISO timestamp as Beijing time for the page: 2026-01-05 14:29."""
    if not iso:
        return ""
    try:
        return dt.datetime.fromisoformat(iso).astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return iso


def _report(store: Store, resources: Resources, site_code: str) -> dict[str, Any]:
    known = site_code in resources.site_names()
    with store.session() as session:
        if not known and not site_has_links(session, site_code):
            raise HTTPException(404, detail=f"no site {site_code!r}")
        report = dead_link_report(session, site_code)
    if not report["site_name"]:
        report["site_name"] = resources.site_names().get(site_code)
    return report


@router.get("/api/links/{site_code}", response_model=LinkReportOut, tags=["links"],
            summary="死链报告: a site's broken links and the pages that contain them",
            responses={404: {"description": "Unknown site"}})
def api_links(store: StoreDep, resources: ResourcesDep, site_code: SiteCode) -> dict[str, Any]:
    return _report(store, resources, site_code)


@router.get("/links/{site_code}", response_class=HTMLResponse, tags=["pages"], summary="死链报告 page",
            responses={404: {"description": "Unknown site"}})
def links_page(request: Request, store: StoreDep, resources: ResourcesDep, templates: TemplatesDep,
               site_code: SiteCode) -> HTMLResponse:
    report = _report(store, resources, site_code)
    return templates.TemplateResponse(request, "links.html", {"report": report, "error_labels": ERROR_LABELS,
                                                            "skip_labels": SKIP_LABELS, "when": _when})
