"""``blgw links check|report``: the dead-link report (死链检测)."""

from __future__ import annotations

import datetime as dt
import json
import sys

import click

from gateway.cli.common import origins_option, registry, settings, store
from gateway.ops.linkcheck import CheckResult, format_report, outbound_rules, run_check, site_base_urls
from gateway.store.links import dead_link_report, site_has_links
from gateway.store.session import Store

__all__ = ["links"]


@click.group("links")
def links() -> None:
    """Dead-link report (死链检测): check every link seen on the subsites, list the broken ones.

    \b
    The crawler records each page's links; then:
      blgw links check rsj            check rsj's links that are due (not checked in 24 h)
      blgw links check --all --recheck
      blgw links report rsj [--json]  the broken links and the pages that contain them
    """


@links.command("check")
@click.argument("codes", nargs=-1)
@click.option("--all", "all_sites", is_flag=True, help="Every site (plugins and sites in the store).")
@click.option("--origin", "origins", multiple=True, metavar="CODE=URL",
              help="Fetch a site's URLs from another origin (mirror, test server); results stay on the public URLs.")
@click.option("--recheck", is_flag=True, help="Check every link now, also those checked recently.")
@click.option("--recheck-after", default=24.0, show_default=True, type=click.FloatRange(min=0),
              metavar="HOURS", help="A link is due again this many hours after its last check.")
@click.option("--only-unchecked", is_flag=True, help="Only links never checked.")
@click.option("--limit", type=click.IntRange(min=1), help="At most this many links.")
@click.option("--concurrency-per-host", default=2, show_default=True, type=click.IntRange(1, 2))
@click.option("--delay", default=0.5, show_default=True, type=click.FloatRange(min=0),
              help="Seconds between requests to one host.")
@click.option("--timeout", default=15.0, show_default=True, type=click.FloatRange(min=0.1),
              help="Seconds per request.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.option("--quiet", "-q", is_flag=True, help="Do not print broken links as they are found.")
def links_check(codes: tuple[str, ...], all_sites: bool, origins: tuple[str, ...], recheck: bool,
                recheck_after: float, only_unchecked: bool, limit: int | None, concurrency_per_host: int,
                delay: float, timeout: float, as_json: bool, quiet: bool) -> None:
    """Check the links of sites by code (or --all): HEAD, else GET; record status or error.

    Politely: at most 2 requests in flight per host, DELAY seconds apart. Exits 0 whatever
    the links' state (see `blgw links report --fail-on-broken`)."""
    source = store()
    known = _known_sites(source)
    if all_sites:
        codes = tuple(sorted(known))
    if not codes:
        raise click.UsageError("name at least one site code, or --all (see `blgw sites`)")
    for code in codes:
        if code not in known:
            raise click.BadParameter(f"no site {code!r} (see `blgw sites`)", param_hint="CODES")
    overrides = {**settings().origins, **origins_option(origins)}
    try:
        outbound_rules(settings().outbound_words)
    except ValueError as exc:
        raise click.ClickException(f"BLGW_OUTBOUND_WORDS: {exc}") from exc

    def show(result: CheckResult) -> None:
        if not result.ok and not quiet:
            what = f"HTTP {result.status}" if result.status is not None else result.error
            click.echo(f"broken: {what:<20} {result.url}", err=True)

    summary = run_check(source, codes, origins=overrides, concurrency_per_host=concurrency_per_host,
                        delay=delay, timeout=timeout,
                        recheck_after=dt.timedelta(0) if recheck else dt.timedelta(hours=recheck_after),
                        only_unchecked=only_unchecked, limit=limit, base_urls=known, progress=show)
    if as_json:
        click.echo(json.dumps(summary.as_json(), ensure_ascii=False, indent=1))
    else:
        click.echo(summary.format())
        for code in codes:
            with source.session() as session:
                report = dead_link_report(session, code)
            click.echo(f"{code}: {report['broken_count']} broken of {report['total']} links "
                       f"({report['unchecked']} not checked yet); details: blgw links report {code}")


def _known_sites(source: Store) -> dict[str, str]:
    """{code: base URL} of the plugins and of the sites in the store."""
    return site_base_urls(source, registry())


@links.command("report")
@click.argument("code")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option("--fail-on-broken", is_flag=True, help="Exit 1 when the site has broken links.")
@click.option("--max-pages", default=5, show_default=True, type=click.IntRange(min=1),
              help="Pages listed per broken link (text output).")
def links_report(code: str, as_json: bool, fail_on_broken: bool, max_pages: int) -> None:
    """The dead-link report of one site: the broken links, the pages that contain them first.

    Exits 0 (also with broken links) unless --fail-on-broken is given."""
    source = store()
    with source.session() as session:
        if code not in _known_sites(source) and not site_has_links(session, code):
            raise click.BadParameter(f"no site {code!r} (see `blgw sites`)", param_hint="CODE")
        report = dead_link_report(session, code)
    if as_json:
        click.echo(json.dumps(report, ensure_ascii=False, indent=1))
    else:
        click.echo(format_report(report, max_pages=max_pages))
    sys.exit(1 if fail_on_broken and report["broken"] else 0)
