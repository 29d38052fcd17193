"""The gateway's HTTP face: the JSON API the portal (北仑之窗) uses for unified search, the
navigation map, the emergency copy of every item and the data-sharing feed (信息报送), plus the
portal's pages.

One router per area (:mod:`.search`, :mod:`.navigation`, :mod:`.documents`, :mod:`.health`,
:mod:`.metrics`, :mod:`.emergency`, :mod:`.links`, :mod:`.site_health`, :mod:`.traffic`,
:mod:`.pages`); the store, the index and the plugins reach them through the dependencies of
:mod:`.deps`, so a resource that was down when the app started is picked up when it comes back,
and a test overrides one dependency.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from markupsafe import Markup
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.api import documents, emergency, health, links, metrics, navigation, pages, search, site_health, traffic
from gateway.api.deps import Resources
from gateway.api.search import InputError, safe_fragment
from gateway.settings import GatewaySettings, get_settings

__all__ = ["PORTAL_URL", "SITE_GROUP_NAME", "WEB_DIR", "create_app"]

WEB_DIR = Path(__file__).with_name("web")
PORTAL_URL = "http://www.bl.gov.cn/"
SITE_GROUP_NAME = "北仑区政府网站群"


def templates() -> Jinja2Templates:
    """The portal's page templates, with the site group's name and the portal link."""
    found = Jinja2Templates(directory=str(WEB_DIR / "templates"))
    found.env.filters["fragment"] = lambda s: Markup(safe_fragment(s))
    found.env.globals.update(portal_url=PORTAL_URL, site_group_name=SITE_GROUP_NAME)
    return found


# Every HTML page of the portal: its own scripts, styles and images only (the emergency copy sets
# a stricter one: no scripts at all); the API explorer (/docs, /redoc) loads FastAPI's assets
# from their CDN.
PAGE_CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
            "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'self'")
DOCS_CSP = ("default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
            "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; img-src 'self' data: https:; "
            "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'self'")


class SecurityHeaders:
    """ASGI middleware: a Content-Security-Policy (and nosniff, a referrer policy) on every HTML
    response that has none of its own."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        docs = scope["path"].startswith(("/docs", "/redoc"))

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                if headers.get("content-type", "").startswith("text/html"):
                    headers.setdefault("Content-Security-Policy", DOCS_CSP if docs else PAGE_CSP)
                    headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
                headers.setdefault("X-Content-Type-Options", "nosniff")
            await send(message)

        await self.app(scope, receive, send_with_headers)


def create_app(settings: GatewaySettings | None = None) -> FastAPI:
    """The gateway's web app over the store and index the settings name."""
    resources = Resources(settings or get_settings())

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
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
    app.state.templates = templates()
    for module in (search, navigation, documents, health, metrics, emergency, links, site_health, traffic, pages):
        app.include_router(module.router)
    metrics.instrument(app)  # the app's metrics registry; counts and times /api/search and /api/suggest
    app.add_middleware(SecurityHeaders)
    app.mount("/static", StaticFiles(directory=WEB_DIR / "static"), name="static")

    @app.exception_handler(InputError)
    async def _input_error(request: Request, exc: InputError) -> JSONResponse:
        return JSONResponse(status_code=422, content={"detail": exc.errors})

    return app
