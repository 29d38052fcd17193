"""``blgw search``, ``blgw export`` and ``blgw navigation``: what the store and the index hold."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import click
from pydantic import ValidationError

from gateway.cli.common import index, registry, store, terminal
from gateway.ops.navigation import build_navigation, column_counts, format_tree
from gateway.store.repository import iter_items
from index.base import SearchQuery

__all__ = ["export", "navigation", "search"]


@click.command()
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
    try:
        q = SearchQuery(q=query, site_codes=list(sites_), column=column,
                        date_from=date_from.date() if date_from else None,
                        date_to=date_to.date() if date_to else None, order=order, page=page, size=size)
    except ValidationError as exc:
        raise click.BadParameter("; ".join(e["msg"] for e in exc.errors())) from exc
    with index() as search_index:
        result = search_index.search(q)
    if as_json:
        click.echo(result.model_dump_json(indent=1))
        return
    click.echo(f"{result.total} results for {query!r}")
    for n, hit in enumerate(result.hits, start=(page - 1) * size + 1):
        date = hit.published_at.strftime("%Y-%m-%d") if hit.published_at else "—"
        click.echo(f"{n:>3}. {terminal(hit.title_html)}  [{hit.site_code} · {' > '.join(hit.column_path)} · {date}]")
        click.echo(f"     {hit.url}")
        where = f"附件《{hit.attachment}》：" if hit.attachment else ""
        click.echo(f"     {where}{terminal(hit.snippet_html)}")


@click.command()
@click.argument("code")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="File (default: stdout).")
def export(code: str, output: Path | None) -> None:
    """Export a site's stored items as JSON Lines in the exchange standard."""
    out = output.open("w", encoding="utf-8") if output else sys.stdout
    n = 0
    try:
        with store().session() as session:
            for item in iter_items(session, code):
                out.write(item.model_dump_json() + "\n")
                n += 1
    finally:
        if output:
            out.close()
    click.echo(f"exported {n} items of site {code}" + (f" to {output}" if output else ""), err=True)


@click.command()
@click.argument("codes", nargs=-1)
@click.option("--json", "as_json", is_flag=True, help="JSON Lines of navigation items (the exchange standard).")
def navigation(codes: tuple[str, ...], as_json: bool) -> None:
    """网站导航: each site's column tree with URLs and item counts (default: every site)."""
    loaded = registry()
    sites = [loaded.get(c) for c in codes] if codes else list(loaded)
    with store().session() as session:
        for site in sites:
            nav = build_navigation(site, column_counts(session, site.code, site))
            click.echo(nav.model_dump_json() if as_json else format_tree(nav))
