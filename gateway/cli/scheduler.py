"""``blgw scheduler``: crawl each site when its schedule says, in one long-running process."""

from __future__ import annotations

import datetime as dt
import logging
import signal
import sys
from typing import Any

import click

from gateway.cli.common import origins_option, overrides_option, registry, settings, store
from gateway.ops.scheduling import Scheduler, logger
from plugins.manager import BUILTIN_SITES_DIR, registry_from_settings
from plugins.spec import SiteSpec

__all__ = ["scheduler"]


@click.command("scheduler")
@click.option("--tick", default=60.0, show_default=True, type=click.FloatRange(0.1),
              help="Seconds between looks at the schedules.")
@click.option("--once", is_flag=True, help="One tick: crawl the sites due now, sync the index, exit "
                                            "with 1 when a crawl failed.")
@click.option("--max-parallel", default=2, show_default=True, type=click.IntRange(1),
              help="Crawls (one subprocess per site) running at once.")
@click.option("--site", "sites_", multiple=True, help="Only these sites (default: every site plugin).")
@click.option("--origin", "origins", multiple=True, metavar="CODE=URL", help="Passed to each `blgw crawl`.")
@click.option("-s", "--set", "overrides", multiple=True, metavar="NAME=VALUE", help="Passed to each `blgw crawl`.")
@click.option("--no-probes", is_flag=True, help="Send no availability probes (default: BLGW_PROBES_PER_DAY rounds a "
                                                "day, each a `blgw probe`; not with --once).")
def scheduler(tick: float, once: bool, max_parallel: int, sites_: tuple[str, ...],
                      origins: tuple[str, ...], overrides: tuple[str, ...], no_probes: bool) -> None:
    """Crawl each site when its schedule says (cron or interval, in its plugin), in one
    long-running process: every --tick seconds the due sites are crawled, each by a `blgw crawl
    CODE` subprocess, then the index is synced. SIGTERM or SIGINT stops it after forwarding the
    signal to the running crawls. Decisions are logged to stderr."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s scheduler %(levelname)s %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    config = settings()
    loaded = registry(config)
    for code in sites_:
        if code not in loaded.sites:
            raise click.BadParameter(f"no site plugin {code!r} (see `blgw sites`)", param_hint="--site")
    origins_option(origins)  # validate now rather than in every crawl
    overrides_option(overrides)
    crawl_args = [arg for origin in origins for arg in ("--origin", origin)]
    crawl_args += [arg for item in overrides for arg in ("-s", item)]

    state: dict[str, Any] = {"stamp": None, "sites": list(loaded)}

    def sites() -> list[SiteSpec]:
        """The site plugins, re-read when a plugin file changed: an edited schedule applies
        without a restart (entry-point plugins need one)."""
        stamp: list[tuple[str, int | None]] = []  # (path, mtime; None: unreadable)
        for folder in (BUILTIN_SITES_DIR, *config.plugin_dirs):
            try:
                stamp += [(str(p), p.stat().st_mtime_ns) for p in folder.iterdir() if p.suffix in (".toml", ".py")]
            except OSError:  # a folder or file removed meanwhile: re-read next time
                stamp.append((str(folder), None))
        stamp.sort(key=str)
        if state["stamp"] is None:
            state["stamp"] = stamp
        elif stamp != state["stamp"]:
            state["stamp"], state["sites"] = stamp, list(registry_from_settings(config))
            logger.info("site plugins changed: re-read (%d sites)", len(state["sites"]))
        return list(state["sites"])

    scheduler = Scheduler(sites=sites, store=store(config), tick=tick, max_parallel=max_parallel,
                          crawl_args=crawl_args, codes=sites_ or None,
                          lock_stale=dt.timedelta(seconds=config.lock_stale_seconds),
                          probe_args=None if no_probes else [a for o in origins for a in ("--origin", o)])
    previous = {sig: signal.signal(sig, scheduler.stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    logger.info("scheduler started: %s, tick %ss, at most %d crawls at once",
                "one tick" if once else "until stopped", tick, max_parallel)
    try:
        status = scheduler.run(once=once)
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
    sys.exit(status)
