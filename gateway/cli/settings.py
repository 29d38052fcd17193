"""``blgw settings``: every ``BLGW_*`` setting with its value and where it came from, and the
components a site's crawl runs with."""

from __future__ import annotations

import json
import os
from typing import Any

import click

from gateway.cli.common import overrides_option, registry, settings
from gateway.settings import GatewaySettings, setting_name
from normalizers.urls import redact_url

__all__ = ["markdown", "settings_command"]


def _shown(field: str, value: Any) -> Any:
    if field == "es_api_key":
        return "***" if value else ""
    if isinstance(value, str) and "://" in value:
        return redact_url(value)
    return value


def rows(config: GatewaySettings) -> list[dict[str, Any]]:
    """Each setting's documentation (:meth:`GatewaySettings.documentation`) with its value here
    (secrets and passwords hidden) and its source (``environment`` or ``default``)."""
    values = config.as_scrapy()
    out = []
    for row in GatewaySettings.documentation():
        field = row["field"]
        value = getattr(config, field) if field in ("database_url", "index_url") else values.get(row["name"], "")
        out.append({**row, "value": _shown(field, value),
                    "source": "environment" if setting_name(field) in os.environ else "default"})
    return out


def markdown() -> str:
    """docs/settings.md: the table of every setting, by group (tests keep it up to date)."""
    lines = ["# Settings", "",
             "Every setting of the gateway is a `BLGW_*` environment variable; for a crawl it can also be given as a",
             "Scrapy setting of the same name (`blgw crawl rsj -s BLGW_REFETCH_DAYS=3`, `scrapy crawl rsj -s …`),",
             "which wins over the environment. `blgw settings` prints the values in effect. This page is generated",
             "from `gateway/settings.py` (`blgw settings --markdown > docs/settings.md`).", ""]
    group = None
    for row in GatewaySettings.documentation():
        if row["group"] != group:
            group = row["group"]
            lines += ["", f"## {group}", "", "| setting | type | default | meaning |", "|---|---|---|---|"]
        default = f"`{row['default']}`" if row["default"] != "" else "(none)"
        lines.append(f"| `{row['name']}` | {row['type'].replace('|', 'or')} | {default} | {row['description']} |")
    return "\n".join(lines).replace("\n\n\n", "\n\n") + "\n"


@click.command("settings")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--markdown", "as_markdown", is_flag=True, help="Print the documentation table (docs/settings.md).")
@click.option("--crawl", "crawl_code", metavar="CODE",
              help="Also list the components (middlewares, extensions, pipelines, download handlers) a crawl "
                   "of this site is built with.")
@click.option("-s", "--set", "overrides", multiple=True, metavar="NAME=VALUE",
              help="As for `blgw crawl`: a Scrapy or BLGW_* setting for the crawl.")
def settings_command(as_json: bool, as_markdown: bool, crawl_code: str | None, overrides: tuple[str, ...]) -> None:
    """Every BLGW_* setting: its value here, its default, and what it means."""
    if as_markdown:
        click.echo(markdown(), nl=False)
        return
    config = settings()
    out: dict[str, Any] = {"settings": rows(config)}
    if crawl_code:
        # imported here: Scrapy is heavy, and only --crawl needs it
        from spiders.runner import crawl_components, crawl_settings

        loaded = registry(config)
        if crawl_code not in loaded.sites:
            raise click.BadParameter(f"no site plugin {crawl_code!r} (see `blgw sites`)", param_hint="--crawl")
        out["crawl"] = {"site": crawl_code,
                        **crawl_components(loaded, crawl_code, crawl_settings(overrides_option(overrides)))}
    if as_json:
        click.echo(json.dumps(out, ensure_ascii=False, indent=1, default=str))
        return
    for row in out["settings"]:
        mark = "*" if row["source"] == "environment" else " "
        click.echo(f"{mark} {row['name']:<28} {row['value']!s:<30} {row['description']}")
    click.echo("(* set in the environment)")
    for name, components in out.get("crawl", {}).items():
        if name == "site":
            continue
        click.echo(f"\n{name} of a crawl of {crawl_code}:")
        items = components.items() if isinstance(components, dict) else enumerate(components, 1)
        for key, value in items:
            click.echo(f"  {key}: {value}")
