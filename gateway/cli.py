"""``blgw``: the gateway's command line."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path

import click

from gateway.settings import GatewaySettings, get_settings, parse_origins


def _settings() -> GatewaySettings:
    return get_settings()


def _registry():
    from plugins.manager import registry_from_settings

    registry = registry_from_settings(_settings())
    for error in registry.errors:
        click.secho(f"warning: plugin not loaded: {error}", fg="yellow", err=True)
    return registry


def _store():
    from gateway.store.session import open_store

    return open_store(_settings().database_url)


def _index():
    from index.base import open_index

    return open_index(_settings().index_url)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="bl-gateway")
def main() -> None:
    """Beilun site-group gateway: crawl legacy subsites into one exchange standard, one store
    and one search index.

    \b
    Typical use:
      blgw sites                    list the site plugins
      blgw crawl rsj                crawl one site (or --all), then update the index
      blgw report                   the last run's report
      blgw search 社保              search all sites
      blgw export rsj -o rsj.jsonl  the site's items in the exchange standard
      blgw demo                     the whole path on the bundled PHP fixture subsite

    Settings come from BLGW_* environment variables (see gateway/settings.py): BLGW_DATA_DIR,
    BLGW_DATABASE_URL, BLGW_INDEX_URL, BLGW_PLUGIN_DIRS, BLGW_ORIGINS.
    """


# --- sites and plugins ------------------------------------------------------------------


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def sites(as_json: bool) -> None:
    """List the site plugins that loaded."""
    registry = _registry()
    rows = [
        {"code": s.code, "name": s.name, "base_url": s.site.base_url, "platform": s.site.platform,
         "schedule": s.site.schedule, "columns": [c.name for c in s.columns], "source": s.source}
        for s in registry
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


@main.group()
def plugin() -> None:
    """Plugin tools for integrators."""


@plugin.command("validate")
@click.argument("files", nargs=-1, type=click.Path(exists=True, dir_okay=False, path_type=Path))
def plugin_validate(files: tuple[Path, ...]) -> None:
    """Validate plugin files (default: every plugin found); exit 1 on any problem."""
    from plugins.declarative import PluginError, load_site_file

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
        registry = _registry()
        for spec in registry:
            click.echo(f"ok: {spec.source}: site {spec.code}, {len(spec.columns)} columns")
        problems = len(registry.errors)
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
    from gateway.plugin_tools import run_check

    registry = _registry()
    if code not in registry.sites:
        raise click.UsageError(f"no site {code!r}; known: {', '.join(sorted(registry.sites)) or 'none'}")
    report = run_check(code, origins=_origins(origins), columns=columns, pages=pages, items=items,
                       log_level=log_level, overrides=_overrides(overrides))
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
    from gateway.plugin_tools import scaffold
    from plugins.declarative import PluginError

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


@main.group()
def schema() -> None:
    """The exchange standard's JSON Schema files and interface document (接口文档)."""


@schema.command("write")
def schema_write() -> None:
    """Regenerate schema/*.schema.json and docs/exchange-standard.md from the models."""
    from normalizers import schema as standard

    changed = standard.write()
    for path in changed:
        click.echo(f"wrote {path}")
    if not changed:
        click.echo("schema files and interface document are up to date")


@schema.command("check")
def schema_check() -> None:
    """Exit 1 when the committed schema files or interface document differ from the models."""
    from normalizers import schema as standard

    stale = standard.drift()
    for path in stale:
        click.secho(f"out of date: {path} (run `blgw schema write`)", fg="red", err=True)
    sys.exit(1 if stale else 0)


# --- crawling ---------------------------------------------------------------------------


def run_crawl(codes: list[str], *, origins: dict[str, str] | None = None,
              columns: str | None = None, max_pages: int | None = None,
              progress: bool = True, log_level: str = "WARNING",
              overrides: dict[str, str] | None = None, full: bool = False) -> list[int]:
    """Crawl the given sites in this process; return the ids of the runs it made."""
    from scrapy.crawler import CrawlerProcess
    from scrapy.settings import Settings

    from spiders.loader import PluginSpiderLoader

    settings = Settings()
    settings.setmodule("spiders.settings", priority="project")
    settings.set("BLGW_PROGRESS_ENABLED", progress, priority="cmdline")
    settings.set("LOG_LEVEL", log_level, priority="cmdline")
    settings.set("BLGW_DATABASE_URL", _settings().database_url, priority="cmdline")
    for name, value in (overrides or {}).items():
        settings.set(name, value, priority="cmdline")
    if origins:
        settings.set("BLGW_ORIGINS", ",".join(f"{k}={v}" for k, v in origins.items()), priority="cmdline")
    loader = PluginSpiderLoader(_registry())
    process = CrawlerProcess(settings)
    crawlers = []
    for code in codes:
        crawler = process.create_crawler(loader.load(code))
        crawlers.append(crawler)
        kwargs = {}
        if columns:
            kwargs["columns"] = columns
        if max_pages:
            kwargs["max_pages"] = str(max_pages)
        if full:
            kwargs["full"] = "1"
        process.crawl(crawler, **kwargs)
    process.start()
    for crawler in crawlers:
        if crawler.stats.get_value("blgw/busy"):
            click.secho(f"{crawler.spider.name}: not crawled: {crawler.stats.get_value('blgw/busy')}",
                        fg="yellow", err=True)
    return [c.stats.get_value("blgw/run_id") for c in crawlers if c.stats.get_value("blgw/run_id")]


@main.command()
@click.argument("codes", nargs=-1)
@click.option("--all", "all_sites", is_flag=True, help="Crawl every site.")
@click.option("--due", is_flag=True, help="Only the sites (of CODES, default all) whose schedule is due; "
                                          "for cron or a systemd timer. Exits 0 when none is.")
@click.option("--origin", "origins", multiple=True, metavar="CODE=URL",
              help="Fetch a site from another origin (mirror, test server); ids stay on the site's own URLs.")
@click.option("--columns", help="Comma-separated column names to crawl (default: all).")
@click.option("--max-pages", type=int, help="At most this many list pages per column.")
@click.option("--full", is_flag=True,
              help="Read every list page (default: stop paging at known items; a full run is made "
                   "automatically every BLGW_FULL_EVERY_DAYS days and purges stale documents).")
@click.option("--no-index", is_flag=True, help="Do not update the search index afterwards.")
@click.option("--quiet", "-q", is_flag=True, help="No progress lines.")
@click.option("--log-level", default="WARNING", show_default=True,
              type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"]))
@click.option("-s", "--set", "overrides", multiple=True, metavar="NAME=VALUE",
              help="Override a Scrapy setting, as `scrapy crawl -s` does (e.g. DOWNLOAD_DELAY=2).")
def crawl(codes: tuple[str, ...], all_sites: bool, due: bool, origins: tuple[str, ...], columns: str | None,
          max_pages: int | None, full: bool, no_index: bool, quiet: bool, log_level: str,
          overrides: tuple[str, ...]) -> None:
    """Crawl sites by code (or --all), store the items, update the index, print the reports.

    Exits 1 when a site's run failed."""
    registry = _registry()
    if all_sites or (due and not codes):
        codes = tuple(s.code for s in registry)
    if not codes:
        raise click.UsageError("name at least one site code, or --all (see `blgw sites`)")
    for code in codes:
        if code not in registry.sites:
            raise click.BadParameter(f"no site plugin {code!r} (see `blgw sites`)", param_hint="CODES")
    if due:
        from gateway.schedule import due_codes

        codes = tuple(due_codes(registry, _store(), codes))
        if not codes:
            sys.exit(0)
    override = _origins(origins)
    settings_overrides = _overrides(overrides)
    if due:  # scheduled runs skip columns whose adaptive revisit is not due yet
        settings_overrides.setdefault("BLGW_ADAPTIVE_REVISIT", "True")
    run_ids = run_crawl(list(codes), origins=override, columns=columns, max_pages=max_pages,
                        progress=not quiet, log_level=log_level, overrides=settings_overrides, full=full)
    failed = _print_runs(run_ids, codes)
    if not no_index:
        _sync()
    sys.exit(1 if failed or len(run_ids) < len(codes) else 0)


def _origins(origins: tuple[str, ...]) -> dict[str, str]:
    try:
        return parse_origins(",".join(origins))
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--origin") from exc


def _overrides(overrides: tuple[str, ...]) -> dict[str, str]:
    result = {}
    for item in overrides:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise click.BadParameter(f"{item!r} must look like NAME=VALUE", param_hint="--set")
        result[name] = value
    return result


def _print_runs(run_ids: list[int], codes: tuple[str, ...] = ()) -> int:
    from gateway.reports import format_run
    from gateway.schedule import format_summary
    from gateway.store.models import CrawlRun

    store = _store()
    failed = 0
    with store.session() as session:
        for run_id in run_ids:
            run = session.get(CrawlRun, run_id)
            click.echo(format_run(run))
            failed += run.status != "finished"
        click.echo(format_summary(session, run_ids, codes)[0])  # one line per site; the failed ones and why
    return failed


def _sync() -> None:
    from gateway.indexing import sync_index

    with _index() as index:
        result = sync_index(_store(), index)
        click.echo(f"index: {result.upserted} upserted, {result.deleted} deleted, {index.count()} documents")


@main.command()
@click.option("--site", help="Only this site's runs.")
@click.option("--limit", default=20, show_default=True)
def runs(site: str | None, limit: int) -> None:
    """List recent crawl runs."""
    from gateway.store.repository import list_runs

    with _store().session() as session:
        for run in list_runs(session, site, limit):
            click.echo(
                f"{run.id:>5}  {run.site_code:<8} {run.status:<9} {run.started_at:%Y-%m-%d %H:%M:%S}  "
                f"pages {run.pages_fetched:<5} new {run.items_new:<4} changed {run.items_changed:<4} "
                f"unchanged {run.items_unchanged:<4} errors {run.error_count}"
            )


@main.command()
@click.argument("run_id", required=False, type=int)
@click.option("--site", help="The last run of this site.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--max-errors", default=20, show_default=True)
def report(run_id: int | None, site: str | None, as_json: bool, max_errors: int) -> None:
    """Show a run's report (default: the latest run)."""
    from gateway.reports import format_run, run_summary
    from gateway.store.models import CrawlRun
    from gateway.store.repository import latest_run

    with _store().session() as session:
        run = session.get(CrawlRun, run_id) if run_id else latest_run(session, site)
        if run is None:
            raise click.ClickException("no such run" if run_id else "no runs yet: run `blgw crawl` first")
        if as_json:
            click.echo(json.dumps(run_summary(run, max_errors), ensure_ascii=False, indent=1))
        else:
            click.echo(format_run(run, max_errors))


# --- search, export, index --------------------------------------------------------------


@main.command()
@click.argument("query")
@click.option("--site", "sites_", multiple=True, help="Only these sites (repeatable).")
@click.option("--column", help="Only this column (any level of the column path).")
@click.option("--from", "date_from", type=click.DateTime(["%Y-%m-%d"]), help="Published on or after.")
@click.option("--to", "date_to", type=click.DateTime(["%Y-%m-%d"]), help="Published on or before.")
@click.option("--order", type=click.Choice(["relevance", "date"]), default="relevance", show_default=True)
@click.option("--page", default=1, show_default=True)
@click.option("--size", default=10, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def search(query: str, sites_: tuple[str, ...], column: str | None, date_from: dt.datetime | None,
           date_to: dt.datetime | None, order: str, page: int, size: int, as_json: bool) -> None:
    """Search the index from the terminal."""
    from pydantic import ValidationError

    from index.base import SearchQuery

    try:
        q = SearchQuery(q=query, site_codes=list(sites_), column=column,
                        date_from=date_from.date() if date_from else None,
                        date_to=date_to.date() if date_to else None, order=order, page=page, size=size)
    except ValidationError as exc:
        raise click.BadParameter("; ".join(e["msg"] for e in exc.errors())) from exc
    with _index() as index:
        result = index.search(q)
    if as_json:
        click.echo(result.model_dump_json(indent=1))
        return
    click.echo(f"{result.total} results for {query!r}")
    for n, hit in enumerate(result.hits, start=(page - 1) * size + 1):
        date = hit.published_at.strftime("%Y-%m-%d") if hit.published_at else "—"
        click.echo(f"{n:>3}. {_terminal(hit.title_html)}  [{hit.site_code} · {' > '.join(hit.column_path)} · {date}]")
        click.echo(f"     {hit.url}")
        click.echo(f"     {_terminal(hit.snippet_html)}")


def _terminal(fragment: str) -> str:
    """Highlight HTML (escaped text with <mark>) for a terminal: bold the marks."""
    import html

    bold = click.style("\x00", bold=True).split("\x00")
    return html.unescape(fragment.replace("<mark>", bold[0]).replace("</mark>", bold[1]))


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535))
def serve(host: str, port: int) -> None:
    """Serve the portal search page, the navigation map and the JSON API (/docs) with uvicorn."""
    import uvicorn

    from gateway.api import create_app

    uvicorn.run(create_app(_settings()), host=host, port=port)


@main.command()
@click.argument("code")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="File (default: stdout).")
def export(code: str, output: Path | None) -> None:
    """Export a site's stored items as JSON Lines in the exchange standard."""
    from gateway.store.repository import iter_items

    out = output.open("w", encoding="utf-8") if output else sys.stdout
    n = 0
    try:
        with _store().session() as session:
            for item in iter_items(session, code):
                out.write(item.model_dump_json() + "\n")
                n += 1
    finally:
        if output:
            out.close()
    click.echo(f"exported {n} items of site {code}" + (f" to {output}" if output else ""), err=True)


@main.command()
@click.argument("codes", nargs=-1)
@click.option("--json", "as_json", is_flag=True, help="JSON Lines of navigation items (the exchange standard).")
def navigation(codes: tuple[str, ...], as_json: bool) -> None:
    """网站导航: each site's column tree with URLs and item counts (default: every site)."""
    from gateway.navigation import build_navigation, column_counts, format_tree

    registry = _registry()
    sites = [registry.get(c) for c in codes] if codes else list(registry)
    with _store().session() as session:
        for site in sites:
            nav = build_navigation(site, column_counts(session, site.code))
            click.echo(nav.model_dump_json() if as_json else format_tree(nav))


@main.group("index")
def index_group() -> None:
    """Search index maintenance (the index is rebuilt from the store)."""


@index_group.command("sync")
def index_sync() -> None:
    """Send documents changed in the store to the index."""
    _sync()


@index_group.command("rebuild")
def index_rebuild() -> None:
    """Empty the index and fill it from the store alone."""
    from gateway.indexing import rebuild_index

    with _index() as index:
        result = rebuild_index(_store(), index)
        click.echo(f"index rebuilt: {result.upserted} documents")


@main.group()
def db() -> None:
    """Store maintenance."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply database migrations (also done automatically on first use)."""
    from gateway.store.session import Store

    store = Store(_settings().database_url)
    store.migrate()
    from index.base import _redact

    click.echo(f"store at {_redact(store.url)} is up to date")  # never print a password


# --- demo -------------------------------------------------------------------------------


def _demo_fixtures(root: Path, seed: int, articles: int, only: tuple[str, ...]) -> list[tuple[str, str, object]]:
    """(code, platform label, context manager yielding the base URL) of each fixture subsite,
    its data generated under *root*. A site whose runtime is missing (Mono, Chromium) is left
    out with a message, not an error: the others still make the demo."""
    import shutil

    from fixture_sites import aspnet_generator, generator, legacy_sites, modern_sites
    from fixture_sites.aspnet_server import aspnet_server, mono_available
    from fixture_sites.servers import php_bureau_server

    plan = [
        ("rsj", "PHP (php -S, GBK)", generator.generate, php_bureau_server, True),
        ("jtj", "ASP.NET WebForms (Mono System.Web)", aspnet_generator.generate, aspnet_server,
         mono_available()),
        ("dqjd", "classic ASP (frames, GB2312)", legacy_sites.generate_asp, legacy_sites.asp_server, True),
        ("fgj", "TRS WCM (index_N.html)", legacy_sites.generate_trs, legacy_sites.trs_server, True),
        ("jyj", "Hanweb (dataproxy.jsp XML)", modern_sites.generate_hanweb, modern_sites.hanweb_server, True),
        ("wlj", "JavaScript app (Chromium)", modern_sites.generate_jsapp, modern_sites.jsapp_server,
         bool(shutil.which("chromium") or Path("/usr/bin/chromium").exists())),
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


@main.command()
@click.option("--query", "-q", "queries", multiple=True, default=("社保", "就业"), show_default=True,
              help="Searches to run after the crawl.")
@click.option("--articles", default=60, show_default=True, help="Articles each fixture generator writes.")
@click.option("--seed", default=2024, show_default=True)
@click.option("--site", "only", multiple=True, help="Only these fixture subsites (default: all six).")
@click.option("--serve/--no-serve", "serve_after", default=True, show_default=True,
              help="Serve the portal search page and API after the crawl (Ctrl-C stops).")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535))
def demo(queries: tuple[str, ...], articles: int, seed: int, only: tuple[str, ...], serve_after: bool,
         host: str, port: int) -> None:
    """The main job on the embedded defaults: start the fixture subsites (PHP, ASP.NET, classic
    ASP, TRS, Hanweb, a JavaScript app), crawl them all into the store in one run, build the
    index, answer searches, and serve the portal search page and the API."""
    import contextlib

    settings = _settings()
    with contextlib.ExitStack() as stack:
        origins = {}
        for code, label, server in _demo_fixtures(settings.data_dir, seed, articles, only):
            origins[code] = stack.enter_context(server)
            click.echo(f"fixture subsite {code:5} {label:38} at {origins[code]}")
        if not origins:
            raise click.ClickException("no fixture subsite could be started")
        run_ids = run_crawl(sorted(origins), origins=origins)
        failed = _print_runs(run_ids)
    _sync()
    ctx = click.get_current_context()
    for query in queries:
        click.echo()
        ctx.invoke(search, query=query, sites_=(), column=None, date_from=None, date_to=None,
                   order="relevance", page=1, size=3, as_json=False)
    if failed or not run_ids:
        sys.exit(1)
    if serve_after:
        click.echo(f"\nportal search page: http://{host}:{port}/   navigation map: http://{host}:{port}/navigation"
                   f"   API: http://{host}:{port}/docs   (Ctrl-C stops)")
        ctx.invoke(serve, host=host, port=port)


from gateway.emergency import restore  # noqa: E402 - blgw restore (the emergency copy)

main.add_command(restore)

from gateway.linkcheck import links  # noqa: E402 - blgw links check|report (dead-link report)

main.add_command(links)


from gateway.schedule import scheduler_command  # noqa: E402 - blgw scheduler

main.add_command(scheduler_command)


if __name__ == "__main__":
    main()
