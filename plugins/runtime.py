"""One detail page through a site plugin: hints, taxonomy, the right normalizer, the hooks.

The crawl's pipeline, ``blgw plugin check`` and the integrator's test helpers all call
:func:`normalize_for_site`, so a saved page becomes exactly the item a crawl would store.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from normalizers.items import normalize_item
from normalizers.models import Article, Letter, Organisation, ServiceGuide
from normalizers.page import PageContext, RawPage
from plugins.manager import SiteRegistry
from plugins.spec import Column, SiteSpec


def _here(fn: Callable[..., Any], *args: Any) -> Any:
    return fn(*args)


@dataclass
class Normalized:
    item: Article | ServiceGuide | Letter | Organisation  # an exchange-standard item
    problems: list[tuple[str, str]] = field(default_factory=list)  # (kind, message) for the run report


def normalize_for_site(registry: SiteRegistry, site: SiteSpec, column: Column, page: RawPage, public_url: str,
                       list_title: str | None = None, list_date: str | None = None,
                       run: Callable[..., Any] | None = None) -> Normalized:
    """Normalize one fetched detail page of ``column``. Raises
    :class:`normalizers.article.NormalizationError` when the page cannot be read at all, and
    :class:`plugins.manager.HookFailed` when a plugin's hook raises (the page is not stored).
    ``run`` runs the normalizer with the plugin's selectors (``spiders.budget``: in a worker
    with a time budget, for selectors with regular expressions); default: here.

    The three steps are also callable one by one (the crawl runs the middle one in a worker
    process, ``spiders.normalize_pool``): :func:`normalizer_call` (the plugin's hints; hooks),
    ``normalize_item(*args)`` (pure), :func:`finish_for_site` (the taxonomy's kind; hooks)."""
    args = normalizer_call(registry, site, column, page, public_url, list_title, list_date)
    return finish_for_site(registry, site, column, page, (run or _here)(normalize_item, *args))


def normalizer_call(registry: SiteRegistry, site: SiteSpec, column: Column, page: RawPage, public_url: str,
                    list_title: str | None = None, list_date: str | None = None) -> tuple[Any, ...]:
    """The arguments of :func:`normalizers.items.normalize_item` for one page of ``column``:
    the page, its context, the plugin's hints (its ``extraction_hints`` hook, else its rules)
    and the column's item type."""
    taxonomy = column.classification
    context = PageContext(site_code=site.code, column_path=column.column_path, category=taxonomy.category,
                          public_url=public_url, list_title=list_title, list_date=list_date)
    hints = registry.call("extraction_hints", site, page.url, column=column)
    if hints is None:
        hints = site.detail_rules(column).hints()
    return page, context, hints, taxonomy.item_type


def finish_for_site(registry: SiteRegistry, site: SiteSpec, column: Column, page: RawPage,
                    item: Article | ServiceGuide | Letter | Organisation) -> Normalized:
    """The normalizer's item, given the column's kind and passed through the plugin's
    ``process_article`` hook (articles) and ``process_item`` hook (every item type)."""
    taxonomy = column.classification
    problems: list[tuple[str, str]] = []
    if isinstance(item, Article):
        if taxonomy.kind is not None and item.kind != taxonomy.kind:
            item = Article.model_validate({**item.model_dump(), "kind": taxonomy.kind})
        replaced = registry.call("process_article", site, page.url, article=item, page=page)
        if replaced is not None:
            item = Article.model_validate(replaced.model_dump())
    changed = registry.call("process_item", site, page.url, item=item, page=page)
    if changed is not None:  # validated again as the same item type
        item = type(item).model_validate(changed.model_dump())
    return Normalized(item, problems)
