"""What the commands share: the settings, the plugins, the store and the index of this
process, and the parsing of ``--origin`` and ``-s`` options."""

from __future__ import annotations

import html

import click

from gateway.settings import GatewaySettings, SettingsError, get_settings, parse_origins
from gateway.store.session import Store, open_store
from index.base import SearchIndex
from index.factory import open_index
from plugins.manager import SiteRegistry, registry_from_settings

__all__ = ["index", "origins_option", "overrides_option", "registry", "settings", "store", "terminal"]


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
