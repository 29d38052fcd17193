"""``blgw demo``: the main job on the embedded defaults, on the bundled fixture subsites."""

from __future__ import annotations

import contextlib
import shutil
import sys
from collections.abc import Callable
from pathlib import Path

import click

from fixture_sites import aspnet_generator, attachment_site, generator, legacy_sites, modern_sites
from fixture_sites.aspnet_server import aspnet_server, mono_available
from fixture_sites.servers import php_bureau_server
from gateway.cli.common import registry, settings
from gateway.cli.crawl import crawl_config, crawl_sites, print_runs
from gateway.cli.index import sync_index_and_report
from gateway.cli.search import search
from gateway.cli.serve import serve
from gateway.ops.exits import EXIT_FAILED

__all__ = ["DEMO_SITES", "demo"]

DEMO_SITES = ("rsj", "jtj", "dqjd", "fgj", "jyj", "wlj", "sfj")
"""The codes of the fixture subsites ``blgw demo`` starts (``--site`` takes these)."""


def _demo_fixtures(root: Path, seed: int, articles: int, only: tuple[str, ...]
                   ) -> list[tuple[str, str, contextlib.AbstractContextManager[str]]]:
    """(code, platform label, context manager yielding the base URL) of each fixture subsite,
    its data generated under *root*. A site whose runtime is missing (Mono, Chromium) is left
    out with a message, not an error: the others still make the demo."""
    plan: list[tuple[str, str, Callable[..., Path], Callable[[Path], contextlib.AbstractContextManager[str]], bool]] = [
        ("rsj", "PHP (php -S, GBK)", generator.generate, php_bureau_server, True),
        ("jtj", "ASP.NET WebForms (Mono System.Web)", aspnet_generator.generate, aspnet_server,
         mono_available()),
        ("dqjd", "classic ASP (frames, GB2312)", legacy_sites.generate_asp, legacy_sites.asp_server, True),
        ("fgj", "TRS WCM (index_N.html)", legacy_sites.generate_trs, legacy_sites.trs_server, True),
        ("jyj", "Hanweb (dataproxy.jsp XML)", modern_sites.generate_hanweb, modern_sites.hanweb_server, True),
        ("wlj", "JavaScript app (Chromium)", modern_sites.generate_jsapp, modern_sites.jsapp_server,
         bool(shutil.which("chromium") or Path("/usr/bin/chromium").exists())),
        ("sfj", "JSP, documents as attachments (PDF, DOCX, RTF, XLSX, OFD, ZIP)", attachment_site.generate,
         attachment_site.site_server, True),
    ]
    out = []
    for code, label, generate_fn, server, available in plan:
        if only and code not in only:
            continue
        if not available:
            click.echo(f"  {code}: {label} left out: its runtime is not installed (see bootstrap.sh)", err=True)
            continue
        data = root / f"fixture-{code}"
        generate_fn(data, seed=seed, n_articles=articles)
        out.append((code, label, server(data)))
    return out


@click.command()
@click.option("--query", "-q", "queries", multiple=True, default=("社保", "就业"), show_default=True,
              help="Searches to run after the crawl.")
@click.option("--articles", default=60, show_default=True, help="Articles each fixture generator writes.")
@click.option("--seed", default=2024, show_default=True)
@click.option("--site", "only", multiple=True, type=click.Choice(DEMO_SITES),
              help="Only these fixture subsites (default: all seven).")
@click.option("--serve/--no-serve", "serve_after", default=True, show_default=True,
              help="Serve the portal search page and API after the crawl (Ctrl-C stops).")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535))
def demo(queries: tuple[str, ...], articles: int, seed: int, only: tuple[str, ...], serve_after: bool,
         host: str, port: int) -> None:
    """The main job on the embedded defaults: start the fixture subsites (PHP, ASP.NET, classic
    ASP, TRS, Hanweb, a JavaScript app, a JSP site of attachments), crawl them all into the store in one run, build the
    index, answer searches, and serve the portal search page and the API."""
    with contextlib.ExitStack() as stack:
        origins = {}
        for code, label, server in _demo_fixtures(settings().data_dir, seed, articles, only):
            origins[code] = stack.enter_context(server)
            click.echo(f"fixture subsite {code:5} {label:40} at {origins[code]}")
        if not origins:
            raise click.ClickException("no fixture subsite could be started")
        scrapy_settings, config = crawl_config({"BLGW_PROGRESS_ENABLED": True, "LOG_LEVEL": "WARNING"}, origins)
        run_ids = crawl_sites(registry(config), sorted(origins), scrapy_settings)
        status = print_runs(run_ids, config=config)
    sync_index_and_report(config)
    ctx = click.get_current_context()
    for query in queries:
        click.echo()
        ctx.invoke(search, query=query, sites_=(), column=None, date_from=None, date_to=None,
                   order="relevance", page=1, size=3, as_json=False)
    if status >= EXIT_FAILED or not run_ids:  # a fixture's run finished with errors still makes a demo
        sys.exit(EXIT_FAILED)
    if serve_after:
        click.echo(f"\nportal search page: http://{host}:{port}/   navigation map: http://{host}:{port}/navigation"
                   f"   API: http://{host}:{port}/docs   (Ctrl-C stops)")
        ctx.invoke(serve, host=host, port=port)
