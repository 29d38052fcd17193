"""``blgw crawl``: crawl sites into the store, update the index, print the reports."""

from __future__ import annotations

import datetime as dt
import sys

import click
from scrapy.settings import Settings

from gateway.cli.common import origins_option, overrides_option, registry, settings, store
from gateway.cli.index import sync_index_and_report
from gateway.ops.exits import EXIT_FAILED, EXIT_OK, exit_status
from gateway.ops.reports import format_run, format_summary, outcome
from gateway.ops.scheduling import due_codes
from gateway.settings import GatewaySettings, SettingsError, from_scrapy
from gateway.store.models import CrawlRun
from plugins.manager import SiteRegistry
from spiders.runner import crawl_settings, run_crawl

__all__ = ["crawl", "crawl_config", "crawl_sites", "print_runs"]


def crawl_config(overrides: dict[str, object], origins: dict[str, str]) -> tuple[Settings, GatewaySettings]:
    """The Scrapy settings of a crawl and the gateway settings they mean (``-s BLGW_…`` counts
    for the whole command: the crawl, its store, its report and the index sync)."""
    scrapy_settings = crawl_settings(overrides, origins=origins, gateway=settings())
    try:
        return scrapy_settings, from_scrapy(scrapy_settings)
    except SettingsError as exc:
        raise click.BadParameter(str(exc), param_hint="--set") from None


def crawl_sites(sites: SiteRegistry, codes: list[str], scrapy_settings: Settings, *, columns: str | None = None,
                max_pages: int | None = None, full: bool = False) -> list[int]:
    """Crawl the given sites in this process; return the ids of the runs it made (a site whose
    lock is held elsewhere is named on stderr and has none)."""
    args = {}
    if columns:
        args["columns"] = columns
    if max_pages:
        args["max_pages"] = str(max_pages)
    if full:
        args["full"] = "1"
    crawlers = run_crawl(sites, codes, scrapy_settings, **args)
    for crawler in crawlers:
        if crawler.stats.get_value("blgw/busy"):
            assert crawler.spider is not None  # the crawl ran
            click.secho(f"{crawler.spider.name}: not crawled: {crawler.stats.get_value('blgw/busy')}",
                        fg="yellow", err=True)
    return [c.stats.get_value("blgw/run_id") for c in crawlers if c.stats.get_value("blgw/run_id")]


def print_runs(run_ids: list[int], codes: tuple[str, ...] = (), config: GatewaySettings | None = None) -> int:
    """Print each run's report and the crawl's summary; return the exit status they make
    (:mod:`gateway.cli.exits`: the worst run's outcome)."""
    status = EXIT_OK
    with store(config).session() as session:
        for run_id in run_ids:
            run = session.get(CrawlRun, run_id)
            assert run is not None
            click.echo(format_run(run))
            status = max(status, exit_status(outcome(run)))
        click.echo(format_summary(session, run_ids, codes)[0])  # one line per site; the failed ones and why
    return status


@click.command()
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
              help="Override a Scrapy or BLGW_* setting, as `scrapy crawl -s` does (e.g. DOWNLOAD_DELAY=2).")
def crawl(codes: tuple[str, ...], all_sites: bool, due: bool, origins: tuple[str, ...], columns: str | None,
          max_pages: int | None, full: bool, no_index: bool, quiet: bool, log_level: str,
          overrides: tuple[str, ...]) -> None:
    """Crawl sites by code (or --all), store the items, update the index, print the reports.

    Exits 0 when every run finished without errors, 1 when some finished with errors (the
    report names each page; the next run fetches them again), 3 when a run failed or a site
    was not crawled (see README, "Exit statuses")."""
    settings_overrides: dict[str, object] = {"BLGW_PROGRESS_ENABLED": not quiet, "LOG_LEVEL": log_level,
                                             **overrides_option(overrides)}
    if due:  # scheduled runs skip columns whose adaptive revisit is not due yet
        settings_overrides.setdefault("BLGW_ADAPTIVE_REVISIT", "True")
    scrapy_settings, config = crawl_config(settings_overrides, origins_option(origins))
    sites = registry(config)
    if all_sites or (due and not codes):
        codes = tuple(s.code for s in sites)
    if not codes:
        raise click.UsageError("name at least one site code, or --all (see `blgw sites`)")
    for code in codes:
        if code not in sites.sites:
            raise click.BadParameter(f"no site plugin {code!r} (see `blgw sites`)", param_hint="CODES")
    if due:
        codes = tuple(due_codes(sites, store(config), codes, echo=click.echo,
                                lock_stale=dt.timedelta(seconds=config.lock_stale_seconds)))
        if not codes:
            sys.exit(0)
    if config.store_enabled:  # reached (and migrated) before Scrapy starts: an unreachable store is one line
        store(config).dispose()
    run_ids = crawl_sites(sites, list(codes), scrapy_settings, columns=columns, max_pages=max_pages, full=full)
    status = print_runs(run_ids, codes, config)
    if len(run_ids) < len(codes):
        status = EXIT_FAILED
    if not no_index:
        sync_index_and_report(config)
    sys.exit(status)
