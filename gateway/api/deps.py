"""The resources of the API (the store, the search index, the site plugins) and the FastAPI
dependencies that hand them to the routers.

:class:`Resources` opens each one on first use. One that cannot be opened (a database or a
cluster down when the app starts) is not given up on: a later request tries again, at most
every :data:`RETRY_SECONDS`, so the API recovers when the resource does, without a restart.
Until then the endpoints that need it answer 503 naming it, and ``/health`` reports it.
"""

from __future__ import annotations

import contextlib
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request
from fastapi.templating import Jinja2Templates
from sqlalchemy import select

from gateway.api.search_cache import ResultCache
from gateway.settings import GatewaySettings
from gateway.store.models import Site
from gateway.store.session import Store, open_store
from index.base import SearchIndex
from index.factory import open_index
from plugins.manager import SiteRegistry, registry_from_settings
from plugins.spec import SiteSpec

__all__ = ["DOCUMENT_ID", "RETRY_SECONDS", "IndexDep", "Resources", "ResourcesDep", "SettingsDep", "SitesDep", "StoreDep",
           "TemplatesDep", "Unavailable", "resources"]

RETRY_SECONDS = 5.0
"""A resource that could not be opened is tried again after this long (not on every request)."""

DOCUMENT_ID = re.compile(r"[0-9a-f]{32}")
"""What every document id looks like (``normalizers.models.document_id``): any other text names
no document and never reaches the store (PostgreSQL refuses a NUL in a text parameter)."""


class Unavailable(Exception):
    """A resource cannot be opened now; ``what`` is ``store``, ``index`` or ``plugins``."""

    def __init__(self, what: str, error: str):
        super().__init__(f"{what}: {error}")
        self.what = what
        self.error = error


@dataclass
class _Slot:
    value: Any = None
    error: str | None = None
    failed_at: float | None = None


class Resources:
    """The store, index and plugin registry of one app, each opened once (and again after a
    failure, see the module documentation); closed on shutdown."""

    def __init__(self, settings: GatewaySettings, *, retry_after: float = RETRY_SECONDS,
                 clock: Callable[[], float] = time.monotonic):
        self.settings = settings
        self.retry_after = retry_after
        self.clock = clock
        self._lock = threading.Lock()
        self._slots = {name: _Slot() for name in ("store", "index", "plugins")}
        self.results = ResultCache()
        """Search results and suggestions of the index, never stale (:mod:`.search_cache`)."""
        self._openers: dict[str, Callable[[], Any]] = {
            "store": lambda: open_store(settings.database_url),
            "index": lambda: open_index(settings.index_url, settings),
            "plugins": lambda: registry_from_settings(settings),
        }

    def _get(self, name: str) -> Any:
        slot = self._slots[name]
        if slot.value is not None:
            return slot.value
        with self._lock:
            if slot.value is None:
                if slot.failed_at is not None and self.clock() - slot.failed_at < self.retry_after:
                    raise Unavailable(name, slot.error or "unavailable")
                try:
                    slot.value = self._openers[name]()
                except Exception as exc:  # reported by /health and as 503
                    slot.error, slot.failed_at = f"{type(exc).__name__}: {exc}", self.clock()
                    raise Unavailable(name, slot.error) from exc
                slot.error = slot.failed_at = None
        return slot.value

    def open(self) -> None:
        """Try every resource now (the app's start); failures are kept for /health."""
        for name in self._slots:
            with contextlib.suppress(Unavailable):
                self._get(name)

    @property
    def store(self) -> Store | None:
        """The store if it is open (no attempt to open it)."""
        store: Store | None = self._slots["store"].value
        return store

    @property
    def index(self) -> SearchIndex | None:
        """The index if it is open (no attempt to open it)."""
        index: SearchIndex | None = self._slots["index"].value
        return index

    def get_store(self) -> Store:
        """The store, opened now if need be; :class:`Unavailable` when it cannot be."""
        store: Store = self._get("store")
        return store

    def get_index(self) -> SearchIndex:
        """The index, opened now if need be; :class:`Unavailable` when it cannot be."""
        index: SearchIndex = self._get("index")
        return index

    def sites(self) -> list[SiteSpec]:
        """The site plugins (none when they cannot be loaded)."""
        try:
            registry: SiteRegistry = self._get("plugins")
        except Unavailable:
            return []
        return list(registry)

    def errors(self) -> dict[str, str]:
        """What could not be opened, and why."""
        return {name: slot.error for name, slot in self._slots.items() if slot.error}

    def site_names(self) -> dict[str, str]:
        """{site code: name} from the store's sites and the plugins."""
        names: dict[str, str] = {}
        store = self.store
        if store is not None:
            with contextlib.suppress(Exception), store.session() as session:
                names.update(session.execute(select(Site.code, Site.name)).all())
        names.update({s.code: s.name for s in self.sites()})
        return names

    def close(self) -> None:
        with self._lock:
            index, store = self._slots["index"].value, self._slots["store"].value
            if index is not None:
                index.close()
            if store is not None:
                store.dispose()
            self._slots = {name: _Slot() for name in self._slots}
            self.results.clear()


def resources(request: Request) -> Resources:
    """The app's :class:`Resources`."""
    found: Resources = request.app.state.resources
    return found


ResourcesDep = Annotated[Resources, Depends(resources)]


def _store(res: ResourcesDep) -> Store:
    try:
        return res.get_store()
    except Unavailable as exc:
        raise HTTPException(503, detail=f"the store cannot be opened: {exc.error}") from None


def _index(res: ResourcesDep) -> SearchIndex:
    try:
        return res.get_index()
    except Unavailable as exc:
        raise HTTPException(503, detail=f"the search index cannot be opened: {exc.error}") from None


def _sites(res: ResourcesDep) -> list[SiteSpec]:
    return res.sites()


def _settings(res: ResourcesDep) -> GatewaySettings:
    return res.settings


def _templates(request: Request) -> Jinja2Templates:
    templates: Jinja2Templates = request.app.state.templates
    return templates


StoreDep = Annotated[Store, Depends(_store)]
IndexDep = Annotated[SearchIndex, Depends(_index)]
SitesDep = Annotated[list[SiteSpec], Depends(_sites)]
SettingsDep = Annotated[GatewaySettings, Depends(_settings)]
TemplatesDep = Annotated[Jinja2Templates, Depends(_templates)]
