"""``blgw``: the gateway's command line. One module per command group; a command's module is
imported only when that command runs (:class:`LazyGroup`), so ``blgw crawl --due`` does not
load the web server and ``blgw search`` does not load Scrapy.

The group also decides, once for every command, how a command that cannot go on ends
(:meth:`LazyGroup.invoke`): a store or index that cannot be reached is one line naming it
(:func:`gateway.cli.common.outage`), any other unexpected error its traceback, both with the
status :data:`~gateway.ops.exits.EXIT_FAILED`; ``blgw -v`` adds the traceback to the one line."""

from __future__ import annotations

import importlib
import sys
import traceback
from typing import Any

import click

from gateway.cli.common import outage
from gateway.ops.exits import EXIT_FAILED

__all__ = ["main"]

# command → "module:object"
COMMANDS = {
    "sites": "gateway.cli.plugin:sites",
    "plugin": "gateway.cli.plugin:plugin",
    "schema": "gateway.cli.schema:schema",
    "settings": "gateway.cli.settings:settings_command",
    "crawl": "gateway.cli.crawl:crawl",
    "runs": "gateway.cli.runs:runs",
    "report": "gateway.cli.runs:report",
    "scheduler": "gateway.cli.scheduler:scheduler",
    "search": "gateway.cli.search:search",
    "export": "gateway.cli.search:export",
    "navigation": "gateway.cli.search:navigation",
    "index": "gateway.cli.index:index_group",
    "restore": "gateway.cli.index:restore",
    "db": "gateway.cli.index:db",
    "links": "gateway.cli.links:links",
    "health": "gateway.cli.health:health",
    "probe": "gateway.cli.probe:probe",
    "logs": "gateway.cli.logs:logs",
    "serve": "gateway.cli.serve:serve",
    "demo": "gateway.cli.demo:demo",
}


class LazyGroup(click.Group):
    """A group whose commands are imported when they are used (click's documented pattern)."""

    def __init__(self, *args: Any, lazy: dict[str, str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy = lazy

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in self.lazy:
            return super().get_command(ctx, name)
        module, _, attribute = self.lazy[name].partition(":")
        command = getattr(importlib.import_module(module), attribute)
        if not isinstance(command, click.Command):
            raise TypeError(f"{self.lazy[name]} is not a click command")
        return command

    def invoke(self, ctx: click.Context) -> Any:
        """Run the command; an error it did not handle ends it with the status EXIT_FAILED: one
        line for a store or index that cannot be used (with its traceback under ``-v``), the
        traceback for anything else. Click's own exceptions (usage errors, exits) pass."""
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except BrokenPipeError:  # the reader went away (`blgw sites | head`): nothing more to say
            sys.stderr.close()  # nor a second error when Python flushes the closed pipe at exit
            ctx.exit(0)
        except Exception as exc:  # noqa: BLE001 - the end of every command that cannot go on
            line = outage(exc)
            if line is None or ctx.params.get("verbose"):
                click.echo("".join(traceback.format_exception(exc)).rstrip(), err=True)
            if line is not None:
                click.secho(f"blgw: {line}", fg="red", err=True)
            ctx.exit(EXIT_FAILED)


@click.group(cls=LazyGroup, lazy=COMMANDS,
             context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="bl-gateway")
@click.option("-v", "--verbose", is_flag=True,
              help="Print the traceback of an error (a store or index that cannot be reached is one line without it).")
def main(verbose: bool) -> None:
    """Beilun site-group gateway: crawl legacy subsites into one exchange standard, one store
    and one search index.

    \b
    Typical use:
      blgw sites                    list the site plugins
      blgw crawl rsj                crawl one site (or --all), then update the index
      blgw report                   the last run's report
      blgw search 社保              search all sites
      blgw export rsj -o rsj.jsonl  the site's items in the exchange standard
      blgw demo                     the whole path on the bundled fixture subsites

    Settings come from BLGW_* environment variables (`blgw settings` lists them with their
    values; docs/settings.md): BLGW_DATA_DIR, BLGW_DATABASE_URL, BLGW_INDEX_URL,
    BLGW_PLUGIN_DIRS, BLGW_ORIGINS, …

    \b
    Exit status of every command:
      0  finished
      1  finished with errors (named in the output: pages fetched again next time,
         skipped items, refused index changes, problems a check found)
      2  usage error (an unknown option or site, a bad setting)
      3  failed (a run failed; the store or the index cannot be reached, named in one
         line, -v for the traceback; an unexpected error)
    """
