"""``blgw probe``: one availability probe round (站点无法访问) over the sites."""

from __future__ import annotations

import datetime as dt
import sys

import click

from gateway.cli.common import origins_option, registry, settings, store
from gateway.ops.probes import probe_due, probe_targets, run_round

__all__ = ["probe"]


@click.command("probe")
@click.argument("codes", nargs=-1)
@click.option("--origin", "origins", multiple=True, metavar="CODE=URL",
              help="Probe a site at another origin (recorded on its public URLs).")
@click.option("--due", is_flag=True, help="Only when a round is due (BLGW_PROBES_PER_DAY a day); what the "
                                          "scheduler runs.")
@click.option("--delay", type=click.FloatRange(min=0), default=1.0, show_default=True,
              help="Seconds between the probes of one site.")
def probe(codes: tuple[str, ...], origins: tuple[str, ...], due: bool, delay: float) -> None:
    """Probe each site's home page and its first BLGW_PROBE_PAGES column pages: one GET each,
    redirects not followed, BLGW_PROBE_TIMEOUT seconds at most, recorded in the store for the
    availability indicator of `blgw health`. A control target (BLGW_PROBE_CONTROL_URL) is
    probed first; when it fails the round is discarded and no site is probed.

    Exits 1 when a probe failed or the round was discarded, else 0."""
    config = settings()
    sites = registry(config)
    unknown = [c for c in codes if c not in sites.sites]
    if unknown:
        raise click.BadParameter(f"no site plugin {', '.join(map(repr, unknown))} (see `blgw sites`)",
                                 param_hint="CODES")
    mapping = {**config.origins, **origins_option(origins)}
    source = store(config)
    if due:
        with source.session() as session:
            if not probe_due(session, dt.datetime.now(dt.UTC), config.probes_per_day):
                click.echo("no probe round is due")
                return
    targets = [t for code in (codes or [s.code for s in sites])
               for t in probe_targets(sites.get(code), config.probe_pages, mapping)]
    result = run_round(source, targets, control_url=config.probe_control_url, timeout=config.probe_timeout,
                       delay=delay, user_agent=config.user_agent)
    if not result.control_ok:
        click.secho(f"round {result.round_id} discarded: {result.control_error}", fg="yellow", err=True)
        sys.exit(1)
    for r in result.results:
        status = "ok  " if r.ok else "FAIL"
        detail = f"HTTP {r.status}" if r.ok else r.error
        click.echo(f"{status} {r.target.site_code:8} {r.elapsed_ms or 0:6d} ms  {r.target.url}  {detail}")
    failed = sum(not r.ok for r in result.results)
    click.echo(f"round {result.round_id}: {len(result.results)} probe(s), {failed} failed")
    sys.exit(1 if failed else 0)
