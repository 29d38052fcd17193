"""``blgw sites`` and ``blgw plugin validate|check|new``: the site plugins, for integrators."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from gateway.cli.common import origins_option, overrides_option, registry
from gateway.ops.scaffold import scaffold
from plugins.declarative import PluginError, load_site_file

__all__ = ["plugin", "sites"]


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def sites(as_json: bool) -> None:
    """List the site plugins that loaded."""
    rows = [
        {"code": s.code, "name": s.name, "base_url": s.site.base_url, "platform": s.site.platform,
         "schedule": s.site.schedule, "columns": [c.name for c in s.columns], "source": s.source}
        for s in registry()
    ]
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=1))
        return
    if not rows:
        click.echo("no site plugins loaded")
    for r in rows:
        click.echo(f"{r['code']:<8} {r['name']}  {r['base_url']}  [{r['platform']}; {r['schedule']}]")
        click.echo(f"         columns: {', '.join(r['columns'])}")
        click.echo(f"         from {r['source']}")


@click.group()
def plugin() -> None:
    """Plugin tools for integrators."""


@plugin.command("validate")
@click.argument("files", nargs=-1, type=click.Path(exists=True, dir_okay=False, path_type=Path))
def plugin_validate(files: tuple[Path, ...]) -> None:
    """Validate plugin files (default: every plugin found); exit 1 on any problem."""
    problems = 0
    if files:
        for path in files:
            try:
                spec = load_site_file(path)
                click.echo(f"ok: {path}: site {spec.code} ({spec.name}), {len(spec.columns)} columns")
            except PluginError as exc:
                problems += 1
                click.secho(str(exc), fg="red", err=True)
    else:
        loaded = registry()
        for spec in loaded:
            click.echo(f"ok: {spec.source}: site {spec.code}, {len(spec.columns)} columns")
        problems = len(loaded.errors)
    sys.exit(1 if problems else 0)


@plugin.command("check")
@click.argument("code")
@click.option("--origin", "origins", multiple=True, metavar="CODE=URL",
              help="Fetch the site from another origin (mirror, test server).")
@click.option("--columns", help="Comma-separated column names (default: all).")
@click.option("--pages", default=2, show_default=True, help="List pages per column.")
@click.option("--items", default=3, show_default=True, help="Detail pages per column.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option("--log-level", default="ERROR", show_default=True,
              type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"]))
@click.option("-s", "--set", "overrides", multiple=True, metavar="NAME=VALUE", help="Override a Scrapy setting.")
def plugin_check(code: str, origins: tuple[str, ...], columns: str | None, pages: int, items: int,
                 as_json: bool, log_level: str, overrides: tuple[str, ...]) -> None:
    """Dry run: crawl a few pages of each column of a site, print the paging decisions and the
    extracted items. Writes nothing to the store or the index. Exits 1 when a column yields no
    item or a page cannot be extracted."""
    # imported here: Scrapy is heavy, and only the dry run of this group needs it
    from gateway.ops.plugin_check import run_check

    loaded = registry()
    if code not in loaded.sites:
        raise click.UsageError(f"no site {code!r}; known: {', '.join(sorted(loaded.sites)) or 'none'}")
    report = run_check(loaded, code, origins=origins_option(origins), columns=columns, pages=pages, items=items,
                       log_level=log_level, overrides=overrides_option(overrides))
    if as_json:
        click.echo(json.dumps(report.as_json(), ensure_ascii=False, indent=1))
    else:
        click.echo(report.format())
    sys.exit(0 if report.ok else 1)


@plugin.command("new")
@click.argument("url")
@click.option("--code", help="Site code (default: the first label of the host, e.g. rsj).")
@click.option("--name", help="Site name (default: the home page's title).")
@click.option("--base-url", help="The public origin when URL is a mirror or test server.")
@click.option("--platform", help="Skip detection and use this platform's preset.")
@click.option("--out", "out_dir", default=".", show_default=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder to write CODE.toml into (e.g. a BLGW_PLUGIN_DIRS folder).")
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
def plugin_new(url: str, code: str | None, name: str | None, base_url: str | None, platform: str | None,
               out_dir: Path, force: bool) -> None:
    """Scaffold a site plugin from its home page: detect the platform (Hanweb, TRS, ASP.NET,
    classic ASP, DedeCMS, PHPCMS, PHP, JavaScript, generic), find the columns, write CODE.toml."""
    try:
        result = scaffold(url, code=code, name=name, base_url=base_url, out_dir=out_dir,
                          platform=platform, force=force)
    except (ValueError, FileExistsError, OSError, PluginError) as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo("platform guesses:")
    for guess in result.guesses[:4]:
        click.echo(f"  {guess.platform:<8} {guess.score:.2f}  {'; '.join(guess.evidence[:3])}")
    click.echo(f"columns found: {len(result.columns)}")
    click.echo(f"wrote {result.path} (platform {result.platform}); it validates.")
    click.echo(f"next: BLGW_PLUGIN_DIRS={result.path.parent.resolve()} blgw plugin check "
               f"{result.path.stem}" + (f" --origin {result.path.stem}={url.rstrip('/')}" if base_url else ""))
