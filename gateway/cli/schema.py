"""``blgw schema write|check``: the exchange standard's JSON Schema and interface document."""

from __future__ import annotations

import sys

import click

from normalizers import schema as standard

__all__ = ["schema"]


@click.group()
def schema() -> None:
    """The exchange standard's JSON Schema files and interface document (接口文档)."""


@schema.command("write")
def schema_write() -> None:
    """Regenerate schema/*.schema.json and docs/exchange-standard.md from the models."""
    changed = standard.write()
    for path in changed:
        click.echo(f"wrote {path}")
    if not changed:
        click.echo("schema files and interface document are up to date")


@schema.command("check")
def schema_check() -> None:
    """Exit 1 when the committed schema files or interface document differ from the models."""
    stale = standard.drift()
    for path in stale:
        click.secho(f"out of date: {path} (run `blgw schema write`)", fg="red", err=True)
    sys.exit(1 if stale else 0)
