"""网站导航 in the API: ``GET /api/navigation`` (every site's column tree with counts and URLs)
and ``GET /api/navigation/{site}``."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException
from fastapi import Path as PathParam

from gateway.api.deps import SitesDep, StoreDep
from gateway.ops.navigation import build_navigation, column_counts
from gateway.store.session import Store
from normalizers.models import Navigation
from plugins.spec import SiteSpec

__all__ = ["navigation_items", "router"]

router = APIRouter(tags=["navigation"])


def _navigation_json(nav: Navigation) -> dict[str, Any]:
    """A navigation item as JSON, re-validated (build_navigation assigns plain str URLs)."""
    clean = type(nav).model_validate(nav.model_dump(exclude={"content_hash"}, warnings=False))
    return clean.model_dump(mode="json")


def navigation_items(store: Store, sites: list[SiteSpec], code: str | None = None) -> list[dict[str, Any]]:
    """The navigation items of every site (or of the site ``code``: 404 when unknown)."""
    if code is not None:
        sites = [s for s in sites if s.code == code]
        if not sites:
            raise HTTPException(404, detail=f"no site {code!r}")
    with store.session() as session:
        return [_navigation_json(build_navigation(s, column_counts(session, s.code, s))) for s in sites]


@router.get("/api/navigation", summary="网站导航: every site's column tree")
def api_navigation(store: StoreDep, sites: SitesDep) -> dict[str, list[dict[str, Any]]]:
    return {"sites": navigation_items(store, sites)}


@router.get("/api/navigation/{site_code}", summary="One site's column tree")
def api_site_navigation(store: StoreDep, sites: SitesDep,
                        site_code: Annotated[str, PathParam(max_length=32)]) -> dict[str, Any]:
    return navigation_items(store, sites, site_code)[0]
