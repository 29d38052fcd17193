"""What the commands share: the settings, the plugins, the store and the index of this
process, the parsing of ``--origin`` and ``-s`` options, and the one line that names a store or
an index that cannot be reached (:func:`outage`; the exit statuses are
:mod:`gateway.ops.exits`)."""

from __future__ import annotations

import html
import re
from urllib.parse import parse_qsl, urlencode, urlsplit

import click
import sqlalchemy.exc
from sqlalchemy import event
from sqlalchemy.engine import Engine, ExceptionContext

from gateway.settings import GatewaySettings, SettingsError, get_settings, parse_origins
from gateway.store.session import Store, open_store
from index.base import SearchIndex, SearchIndexError
from index.factory import open_index
from normalizers.urls import redact_url
from plugins.manager import SiteRegistry, registry_from_settings

__all__ = ["index", "origins_option", "outage", "overrides_option", "registry", "settings", "shown_url", "store",
           "terminal"]


def settings() -> GatewaySettings:
    """The process's settings; a bad ``BLGW_*`` value is a usage error naming the setting."""
    try:
        return get_settings()
    except SettingsError as exc:
        raise click.UsageError(str(exc)) from None


def registry(config: GatewaySettings | None = None) -> SiteRegistry:
    """The site plugins the settings name; plugins that fail to load are named on stderr."""
    loaded = registry_from_settings(config or settings())
    for error in loaded.errors:
        click.secho(f"warning: plugin not loaded: {error}", fg="yellow", err=True)
    return loaded


def store(config: GatewaySettings | None = None) -> Store:
    """The store of the settings, migrated to the latest schema."""
    return open_store((config or settings()).database_url)


def index(config: GatewaySettings | None = None) -> SearchIndex:
    """The search index of the settings."""
    config = config or settings()
    return open_index(config.index_url, config)


def origins_option(values: tuple[str, ...]) -> dict[str, str]:
    """``--origin CODE=URL`` (repeatable) → {code: origin}; a bad one is a usage error."""
    try:
        return parse_origins(",".join(values))
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--origin") from exc


def overrides_option(values: tuple[str, ...]) -> dict[str, str]:
    """``-s NAME=VALUE`` (repeatable) → {name: value}; a bad one is a usage error."""
    result = {}
    for item in values:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise click.BadParameter(f"{item!r} must look like NAME=VALUE", param_hint="--set")
        result[name] = value
    return result


def terminal(fragment: str) -> str:
    """Highlight HTML (escaped text with <mark>) for a terminal: bold the marks."""
    bold = click.style("\x00", bold=True).split("\x00")
    return html.unescape(fragment.replace("<mark>", bold[0]).replace("</mark>", bold[1]))


# --- an unreachable store or index is one line -----------------------------------------------

_SECRET_PARAM = re.compile(r"pass|secret|token|key", re.IGNORECASE)


def shown_url(url: str) -> str:
    """A store or index URL as it may be shown: no password, in the user part
    (:func:`~normalizers.urls.redact_url`) nor in the query (``?password=…``, libpq's spelling)."""
    url = redact_url(url)
    parts = urlsplit(url)
    if not parts.query:
        return url
    query = [(k, "***" if _SECRET_PARAM.search(k) else v) for k, v in parse_qsl(parts.query, keep_blank_values=True)]
    return parts._replace(query=urlencode(query, safe="*")).geturl()


@event.listens_for(Engine, "handle_error")
def _name_the_store(context: ExceptionContext) -> None:
    """Every error of a store connection remembers which store it was (the error's text does
    not say), for :func:`outage`."""
    if context.engine is not None and context.sqlalchemy_exception is not None:
        context.sqlalchemy_exception.blgw_store_url = shown_url(  # type: ignore[attr-defined]
            context.engine.url.render_as_string(hide_password=False))


def outage(exc: BaseException) -> str | None:
    """The one line that says which store or index cannot be reached or used and why, when
    ``exc`` (or an exception it was raised from) is such an error: an error of the search index
    (:class:`~index.base.SearchIndexError`: unreachable, not openable, another schema…; its
    message names the index) or an operational error of the store's database (it cannot be
    connected to, the file cannot be opened, the server went away…); else None."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, SearchIndexError):
            return f"the search index cannot be used: {_first_line(seen)}"
        if isinstance(seen, (sqlalchemy.exc.OperationalError, sqlalchemy.exc.InterfaceError)):
            where = getattr(seen, "blgw_store_url", None)
            store_name = f"the store {where}" if where else "the store"
            return f"{store_name} cannot be used: {_first_line(seen.orig if seen.orig is not None else seen)}"
        seen = seen.__cause__
    return None


def _first_line(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[0] if lines else type(exc).__name__
