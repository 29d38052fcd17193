"""``blgw logs``: the subsites' access logs (访问日志) read into the store's counters (docs/logs.md)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from gateway.cli.common import registry, settings, store
from gateway.cli.logs_report import report
from gateway.ops.accesslog.ingest import (
    FileResult,
    IngestSummary,
    LogSite,
    crawler_token,
    ingest_paths,
    known_files,
    log_key,
    watched_files,
)
from gateway.ops.exits import EXIT_ERRORS
from plugins.spec import SiteSpec

__all__ = ["logs"]


@click.group("logs")
def logs() -> None:
    """Access logs: ingest the subsites' log files, list them, report on them (docs/logs.md)."""


def log_site(spec: SiteSpec) -> LogSite:
    """A site plugin as the ingest sees it: its code, base URL, [logs] rules and own hosts."""
    hosts = frozenset(h for h in spec.site.allowed_domains if h)
    return LogSite(spec.code, spec.site.base_url, spec.logs, hosts)


@logs.command("ingest")
@click.argument("code", required=False)
@click.argument("paths", nargs=-1, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--watched", is_flag=True, help="Read the watched folder ([logs] folder) of every site that has one "
                                              "(what `blgw scheduler` runs).")
@click.option("--format", "fmt", default=None, metavar="FORMAT",
              help="The files' format, replacing the plugin's [logs] format (w3c, iis, combined, common, auto, "
                   "'apache:…', 'nginx:…').")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def ingest(code: str | None, paths: tuple[Path, ...], watched: bool, fmt: str | None, as_json: bool) -> None:
    """Count the lines of log files not counted yet into a site's daily counters.

    CODE PATH… reads the files named (plain or .gz, any order; a file rotated, compressed or
    delivered again is recognised and read on from where it was counted). --watched reads every
    site's [logs] folder. Exits 1 when a file could not be read (named), else 0; malformed lines
    are counted and sampled, never an error."""
    config = settings()
    sites = registry(config)
    jobs: list[tuple[SiteSpec, list[Path]]] = []
    if watched:
        if code or paths:
            raise click.UsageError("--watched reads the plugins' folders: name no site or file")
        jobs = [(s, watched_files(s.logs)) for s in sites if s.logs.folder]
        if not jobs:
            click.echo("no site plugin declares a [logs] folder")
            return
    else:
        if not code or not paths:
            raise click.UsageError("name a site code and at least one log file (or --watched)")
        if code not in sites.sites:
            raise click.BadParameter(f"no site plugin {code!r} (see `blgw sites`)", param_hint="CODE")
        jobs = [(sites.get(code), list(paths))]
    source = store(config)
    key = log_key(config.data_dir, config.log_key.get_secret_value() if config.log_key else None)
    token = crawler_token(config.user_agent)
    summaries: list[IngestSummary] = []
    for spec, files in jobs:
        site = log_site(spec)
        if fmt:
            try:
                site = LogSite(site.code, site.base_url, spec.logs.model_copy(update={"format": fmt}), site.hosts)
                type(spec.logs).model_validate(site.rules.model_dump())
            except ValueError as exc:
                raise click.BadParameter(str(exc), param_hint="--format") from exc

        def show(result: FileResult) -> None:
            if result.status in ("error", "busy") and not as_json:
                click.secho(f"{result.status}: {result.path}: {result.message}", fg="red", err=True)

        summaries.append(ingest_paths(source, site, files, key=key, crawler_token=token,
                                      batch_lines=config.log_batch_lines,
                                      flood_per_minute=config.log_flood_per_minute, progress=show))
    if as_json:
        click.echo(json.dumps([s.as_json() for s in summaries], ensure_ascii=False, indent=1))
    else:
        for summary in summaries:
            click.echo(summary.format())
    sys.exit(EXIT_ERRORS if any(s.errors for s in summaries) else 0)


@logs.command("files")
@click.argument("code")
@click.option("--json", "as_json", is_flag=True, help="Print the files as JSON.")
def files(code: str, as_json: bool) -> None:
    """The log files ingested for a site: identity, last path, format, offset, lines, malformed."""
    source = store()
    with source.session() as session:
        rows = [{"identity": f.identity[:16], "path": f.path, "format": f.format, "offset": f.offset,
                 "lines": f.lines, "malformed": f.malformed, "updated_at": f.updated_at.isoformat()}
                for f in known_files(session, code)]
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=1))
        return
    if not rows:
        click.echo(f"{code}: no log file ingested yet")
    for r in rows:
        click.echo(f"{r['identity']}  {r['format']:<9} {r['lines']:>10} lines {r['malformed']:>6} malformed  "
                   f"{r['path']}")


logs.add_command(report)
