"""Every hook a site plugin can implement, in the order a crawl calls them.

A plugin is any module or object with functions marked ``@hookimpl`` (import it from
``plugins``). Plugins are found in two places: the ``blgw.plugins`` entry-point group of
installed packages, and ``*.py`` files in the plugin folders (``BLGW_PLUGIN_DIRS``). Most
sites need no Python at all: a ``*.toml`` file in a plugin folder is a declarative site
plugin (see docs/plugins.md), registered by the built-in ``plugins.declarative`` plugin
through :func:`register_sites`, the same hook third-party plugins use.

Hooks that act on one site's pages (list_entries, next_list_pages, extraction_hints,
process_article, process_item) receive its :class:`~plugins.spec.SiteSpec` and are called only for the sites
their plugin serves (``GLOBAL = True``, ``SITES = [...]``, the sites it registers, or the site
its file is named after: :class:`plugins.manager.PluginScope`), and should still return
``None`` for sites they do not handle. Hooks marked *first result* stop at the first plugin
that returns something other than ``None``; plugins registered later are asked first. A hook
that raises fails the page it was called for (:class:`plugins.manager.HookFailed`, an error of
kind ``plugin``; the next run fetches the page again).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from normalizers.models import Article, Letter, Organisation, ServiceGuide
    from normalizers.page import ExtractionHints, RawPage
    from plugins.spec import Column, ListEntry, SiteSpec

PROJECT = "blgw"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


# --- Registration -----------------------------------------------------------------------


@hookspec
def register_sites(register: Callable[[SiteSpec], None]) -> None:
    """Contribute site definitions.

    Called once when the plugin manager is built. Call ``register(site)`` once per site with
    a :class:`~plugins.spec.SiteSpec`. The manager validates each one and refuses a second
    site with a code already taken, naming both sources.

    :param register: callback taking a ``SiteSpec``.
    :returns: nothing; results are ignored.
    """


# --- List pages -------------------------------------------------------------------------


@hookspec(firstresult=True)
def list_entries(site: SiteSpec, column: Column, url: str, html: str) -> list[ListEntry] | None:
    """Find the article links on one page of a column's list.

    Called for every list page fetched, before the declarative ``list`` selectors. Return a
    list of :class:`~plugins.spec.ListEntry` (an empty list means "this page has no items")
    to replace the selectors, or ``None`` to let them run.

    :param site: the site being crawled.
    :param column: the column this list page belongs to.
    :param url: the URL the page was fetched from (absolute).
    :param html: the page decoded to text.
    :returns: the entries in page order, or ``None``.
    """


@hookspec(firstresult=True)
def next_list_pages(
    site: SiteSpec, column: Column, url: str, html: str, page_number: int
) -> list[str] | None:
    """Find the URLs of the list pages that follow this one.

    Called for every list page, before the declarative ``paging`` rule. Return absolute or
    relative URLs (resolved against ``url``; already-seen pages are dropped by the spider),
    an empty list when this is the last page, or ``None`` to let the ``paging`` rule run.

    :param site: the site being crawled.
    :param column: the column being paged.
    :param url: the URL of the current list page.
    :param html: the current page decoded to text.
    :param page_number: 1 for the column's first page, 2 for the next, and so on.
    :returns: URLs to fetch next, or ``None``.
    """


# --- Detail pages -----------------------------------------------------------------------


@hookspec(firstresult=True)
def extraction_hints(site: SiteSpec, column: Column, url: str) -> ExtractionHints | None:
    """Choose the selectors the normalizer uses on one detail page.

    Called for every detail page before it is normalized. Return an
    :class:`~normalizers.page.ExtractionHints` to replace the hints built from the plugin's
    ``detail`` table, or ``None`` to keep them.

    :param site: the site being crawled.
    :param column: the column the page was linked from.
    :param url: the URL of the detail page.
    :returns: hints, or ``None``.
    """


@hookspec(firstresult=True)
def process_item(site: SiteSpec, item: Article | ServiceGuide | Letter | Organisation,
                 page: RawPage) -> Article | ServiceGuide | Letter | Organisation | None:
    """Adjust any normalized item (an article, a service guide, a letter, an organisation page)
    before it is stored.

    Called once per detail page after normalization (after :func:`process_article` for an
    article). Return a changed copy (``item.model_copy(update={...})``) to replace it, or
    ``None`` to keep it. The result is validated again as the same item type, so a hook cannot
    store an item that breaks the exchange standard or turn a letter into an article.

    :param site: the site being crawled.
    :param item: the item the normalizer produced.
    :param page: the raw page it came from (URL, bytes, content type).
    :returns: the replacement item, or ``None``.
    """


@hookspec(firstresult=True)
def process_article(site: SiteSpec, article: Article, page: RawPage) -> Article | None:
    """Adjust a normalized article before it is stored.

    Called once per detail page after normalization. Return a changed copy (for example
    ``article.model_copy(update={...})``) to replace it, or ``None`` to keep it. The result
    is validated again, so a hook cannot store an item that breaks the exchange standard.

    :param site: the site being crawled.
    :param article: the item the normalizer produced.
    :param page: the raw page it came from (URL, bytes, content type).
    :returns: the replacement article, or ``None``.
    """
