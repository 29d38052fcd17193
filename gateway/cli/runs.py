"""``blgw runs`` and ``blgw report``: what the crawls did."""

from __future__ import annotations

import json

import click

from gateway.cli.common import store
from gateway.ops.reports import format_run, run_summary
from gateway.store.models import CrawlRun
from gateway.store.repository import latest_run, list_runs

__all__ = ["report", "runs"]


@click.command()
@click.option("--site", help="Only this site's runs.")
@click.option("--limit", default=20, show_default=True)
def runs(site: str | None, limit: int) -> None:
    """List recent crawl runs."""
    with store().session() as session:
        for run in list_runs(session, site, limit):
            click.echo(
                f"{run.id:>5}  {run.site_code:<8} {run.status:<9} {run.started_at:%Y-%m-%d %H:%M:%S}  "
                f"pages {run.pages_fetched:<5} new {run.items_new:<4} changed {run.items_changed:<4} "
                f"unchanged {run.items_unchanged:<4} errors {run.error_count}"
            )


@click.command()
@click.argument("run_id", required=False, type=int)
@click.option("--site", help="The last run of this site.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--max-errors", default=20, show_default=True)
def report(run_id: int | None, site: str | None, as_json: bool, max_errors: int) -> None:
    """Show a run's report (default: the latest run)."""
    with store().session() as session:
        run = session.get(CrawlRun, run_id) if run_id else latest_run(session, site)
        if run is None:
            raise click.ClickException("no such run" if run_id else "no runs yet: run `blgw crawl` first")
        if as_json:
            click.echo(json.dumps(run_summary(run, max_errors), ensure_ascii=False, indent=1))
        else:
            click.echo(format_run(run, max_errors))
