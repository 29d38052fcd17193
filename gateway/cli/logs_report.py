"""``blgw logs report``: what a site's access logs say over a range of days, joined with the crawl
(:mod:`gateway.ops.accesslog.report`)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import click
from sqlalchemy import select

from gateway.cli.common import registry, store
from gateway.ops.accesslog.report import (
    DEFAULT_DAYS,
    format_traffic,
    report_range,
    site_traffic,
    today_shanghai,
    traffic_workbook,
)
from gateway.store.models import LogFile

__all__ = ["report"]


def _day(value: str | None, hint: str) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is no date (YYYY-MM-DD)", param_hint=hint) from None


@click.command("report")
@click.argument("codes", nargs=-1)
@click.option("--start", metavar="YYYY-MM-DD", help="First day (Asia/Shanghai); default: --days days before --end.")
@click.option("--end", metavar="YYYY-MM-DD", help="Last day, included; default: yesterday.")
@click.option("--days", type=click.IntRange(min=1), default=None,
              help=f"Days of the range when --start or --end is not given (default {DEFAULT_DAYS}).")
@click.option("--top", type=click.IntRange(min=1), default=20, show_default=True,
              help="Rows of the top lists (pages, columns, downloads, referrers, phrases).")
@click.option("--json", "as_json", is_flag=True, help="Print the reports as JSON.")
@click.option("--xlsx", "xlsx", type=click.Path(dir_okay=False, writable=True, path_type=Path),
              help="Also write the reports as an XLSX workbook (汇总, 每日, 页面, 栏目, 下载, 来源, 404, …).")
@click.option("--lines", default=10, show_default=True, type=click.IntRange(min=0),
              help="Rows printed per list (text output).")
def report(codes: tuple[str, ...], start: str | None, end: str | None, days: int | None, top: int, as_json: bool,
           xlsx: Path | None, lines: int) -> None:
    """Access-log report of each site: PV, UV, downloads, bots, status codes, top pages, columns and
    downloads, referrers and search phrases, 404s (dead links and candidate redirects), time taken,
    security signals, and the join with the crawl (unvisited columns, gone documents still
    requested, pages never crawled, the share of old content).

    \b
    Days are Asia/Shanghai's; the default range is the 30 days up to yesterday.  With no CODE,
    every site with a plugin whose logs were read."""
    try:
        first, last = report_range(_day(start, "--start"), _day(end, "--end"), today_shanghai(), days)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--start/--end/--days") from None
    sites = registry()
    source = store()
    if codes:
        wanted = list(codes)
    else:
        with source.session() as session:
            logged = set(session.scalars(select(LogFile.site_code).distinct()))
        wanted = [s.code for s in sites if s.code in logged]
    unknown = [c for c in wanted if c not in sites.sites]
    if unknown:
        raise click.BadParameter(f"no site plugin {', '.join(map(repr, unknown))} (see `blgw sites`)",
                                 param_hint="CODES")
    with source.session() as session:
        reports = [site_traffic(session, sites.get(code), first, last, top) for code in wanted]
    if xlsx is not None:
        xlsx.write_bytes(traffic_workbook(reports))
    if as_json:
        click.echo(json.dumps(reports, ensure_ascii=False, indent=1))
    elif reports:
        click.echo("\n\n".join(format_traffic(r, lines=lines) for r in reports))
    else:
        click.echo(f"no site's access logs were read ({first} – {last}); see `blgw logs ingest`")
