"""``blgw health``: the score card of each site against the national 检查指标 (site health)."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path

import click
from sqlalchemy import select

from gateway.cli.common import registry, store
from gateway.ops.health import (
    Thresholds,
    annual_workbook,
    attach_trend,
    aware,
    format_health,
    health_workbook,
    record_snapshots,
    site_health,
)
from gateway.store.models import Site
from normalizers.models import SHANGHAI

__all__ = ["health"]


def _moment(value: str | None) -> dt.datetime:
    if value is None:
        return dt.datetime.now(dt.UTC)
    try:
        when = dt.datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is no ISO date or time (2026-12-01, 2026-12-01T08:00+08:00)",
                                 param_hint="--at") from None
    return aware(when)


@click.command("health")
@click.argument("codes", nargs=-1)
@click.option("--at", "at", metavar="WHEN", help="Evaluate at this time (ISO; Asia/Shanghai when no offset); default now.")
@click.option("--default-days", type=click.IntRange(min=1), default=Thresholds.default_days, show_default=True,
              help="Update window of columns that are neither 动态/要闻 nor 通知公告/政策文件.")
@click.option("--reply-rule", type=click.IntRange(min=1), default=Thresholds.reply_rule_working_days,
              show_default=True, help="Local rule: letters answered within this many working days.")
@click.option("--json", "as_json", is_flag=True, help="Print the score cards as JSON.")
@click.option("--xlsx", "xlsx", type=click.Path(dir_okay=False, writable=True, path_type=Path),
              help="Also write the score cards as an XLSX workbook (汇总, 指标明细, 证据).")
@click.option("--annual", "annual", type=click.Path(dir_okay=False, writable=True, path_type=Path),
              help="Also write the 《政府网站工作年度报表》 counts of --year as an XLSX workbook.")
@click.option("--year", type=click.IntRange(2000, 2100), default=None, help="The annual report's year (default: this year).")
@click.option("--record", is_flag=True, help="Keep the cards as the day's snapshot (the trend; `blgw scheduler` "
                                            "records one a day).")
@click.option("--max-evidence", default=5, show_default=True, type=click.IntRange(min=0),
              help="Evidence lines printed per indicator (text output).")
def health(codes: tuple[str, ...], at: str | None, default_days: int, reply_rule: int, as_json: bool,
           xlsx: Path | None, annual: Path | None, year: int | None, record: bool, max_evidence: int) -> None:
    """Site health (检查指标): each site's score card from what the store holds.

    \b
    Indicators: 首页不更新, 栏目不更新 (动态/要闻 14 days, 通知公告/政策文件 183 days, others
    --default-days; a column's update_days in its plugin wins), 空白栏目, 互动回应 (letters of the
    last year unanswered over 90 days; reply time in PRC working days), 服务不实用 (办事指南 key
    elements).  With no CODE, every site that has a plugin and is in the store.

    Exits 1 when a site has a veto (单项否决), else 0."""
    sites = registry()
    source = store()
    if codes:
        wanted = list(codes)
    else:  # the sites with a plugin that the store knows (crawled at least once)
        with source.session() as session:
            known = set(session.scalars(select(Site.code)))
        wanted = [s.code for s in sites if s.code in known]
    unknown = [c for c in wanted if c not in sites.sites]
    if unknown:
        raise click.BadParameter(f"no site plugin {', '.join(map(repr, unknown))} (see `blgw sites`)",
                                 param_hint="CODES")
    thresholds = Thresholds(default_days=default_days, reply_rule_working_days=reply_rule)
    when = _moment(at)
    with source.session() as session:
        cards = [site_health(session, sites.get(code), when, thresholds) for code in wanted]
        if record:
            record_snapshots(session, cards)
            session.commit()
        attach_trend(session, cards)
        if annual is not None:
            annual.write_bytes(annual_workbook(session, [sites.get(c) for c in wanted],
                                               year or when.astimezone(SHANGHAI).year))
    if xlsx is not None:
        xlsx.write_bytes(health_workbook(cards))
    if as_json:
        click.echo(json.dumps([c.to_dict() for c in cards], ensure_ascii=False, indent=1))
    else:
        click.echo("\n\n".join(format_health(c, max_evidence=max_evidence) for c in cards))
    sys.exit(1 if any(c.status == "veto" for c in cards) else 0)
