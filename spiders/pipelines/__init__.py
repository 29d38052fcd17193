"""Item pipelines: a fetched detail page becomes an item of the exchange standard (pure
normalizers, with the site plugin's hints and hooks), then is stored (:mod:`.store`) or, in a
dry run, kept for the report (:mod:`.check`). Problems (:class:`~spiders.items.CrawlProblem`)
are recorded and dropped: they are not items of the standard."""

from __future__ import annotations

import asyncio
from typing import Any

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem

from normalizers.article import NormalizationError
from normalizers.links import Link
from normalizers.models import Article, ExchangeItem
from normalizers.page import RawPage
from plugins.manager import HookFailed
from plugins.runtime import finish_for_site, normalize_for_site, normalizer_call
from spiders.budget import BudgetExceeded
from spiders.crawlstate import CrawlSpider, running_spider
from spiders.items import CrawlProblem, FetchedPage
from spiders.listing import detail_rules_use_regex
from spiders.normalize_pool import NormalizePool, normalize_with_links

__all__ = ["NormalizingPipeline"]


class NormalizingPipeline:
    """Turns a :class:`FetchedPage` into an exchange-standard item with the site's hints and
    hooks; subclasses say where problems go (:meth:`problem`)."""

    crawler: Crawler

    @property
    def spider(self) -> CrawlSpider:
        return running_spider(self.crawler)

    def problem(self, problem: CrawlProblem) -> None:
        raise NotImplementedError

    def drop_problem(self, item: Any) -> None:
        """A :class:`CrawlProblem` is recorded, then dropped."""
        if isinstance(item, CrawlProblem):
            self.problem(item)
            raise DropItem(f"{item.kind} problem at {item.url}: {item.message}")

    def normalize(self, item: FetchedPage) -> tuple[Any, list[CrawlProblem]]:
        """The page's item and the problems found on the way; a page that cannot be read at
        all is recorded as an ``extraction`` problem (taking over the page's frontier entry)
        and dropped."""
        try:
            result = self._normalized(item, None)
        except NormalizationError as exc:
            raise self._unreadable(item, str(exc), getattr(exc, "field", None)) from exc
        except HookFailed as exc:
            raise self._unreadable(item, str(exc), None, kind=exc.kind) from exc
        return self._with_problems(item, result)

    async def normalize_in_budget(self, item: FetchedPage) -> tuple[Any, list[CrawlProblem]]:
        """:meth:`normalize` for a site whose detail selectors use regular expressions: in the
        spider's budgeted worker, waited for in a thread (the reactor goes on); over the budget,
        the page is an ``extraction`` problem."""
        try:
            result = await asyncio.to_thread(self._normalized, item, self.spider.budget().run)
        except NormalizationError as exc:
            raise self._unreadable(item, str(exc), getattr(exc, "field", None)) from exc
        except HookFailed as exc:
            raise self._unreadable(item, str(exc), None, kind=exc.kind) from exc
        except BudgetExceeded as exc:
            self.crawler.stats.inc_value("blgw/budget_exceeded")
            raise self._unreadable(item, f"detail page not read: {exc}", None) from exc
        return self._with_problems(item, result)

    async def normalize_in_pool(self, item: FetchedPage,
                                pool: NormalizePool) -> tuple[Any, list[CrawlProblem], list[Link]]:
        """:meth:`normalize` with the pure part in a worker process of ``pool``
        (``spiders.normalize_pool.normalize_with_links``: the item and the page's links, in one
        call), awaited: the plugin's hooks run here, before and after it, on the event loop as
        in :meth:`normalize`. Returns the item, its problems and the page's links."""
        site, column, page = self.spider.site, self.spider.site.column(item.column), self._page(item)
        registry = self.spider.registry
        try:
            args = normalizer_call(registry, site, column, page, item.public_url, item.list_title, item.list_date)
            normalized, links = await pool.call(normalize_with_links, self.spider.fetch_origin, *args)
            result = finish_for_site(registry, site, column, page, normalized)
        except NormalizationError as exc:
            raise self._unreadable(item, str(exc), getattr(exc, "field", None)) from exc
        except HookFailed as exc:
            raise self._unreadable(item, str(exc), None, kind=exc.kind) from exc
        return (*self._with_problems(item, result), links)

    def budgeted(self, item: FetchedPage) -> bool:
        """Whether the page's selectors must run under the time budget."""
        site = self.spider.site
        return detail_rules_use_regex(site.detail_rules(site.column(item.column)))

    @staticmethod
    def _page(item: FetchedPage) -> RawPage:
        return RawPage(url=item.fetch_url, body=item.body, content_type=item.content_type,
                       status=item.status, fetched_at=item.fetched_at, parts=item.parts)

    def _normalized(self, item: FetchedPage, run: Any) -> Any:
        site = self.spider.site
        return normalize_for_site(self.spider.registry, site, site.column(item.column), self._page(item),
                                  item.public_url, item.list_title, item.list_date, run=run)

    def _unreadable(self, item: FetchedPage, message: str, field: str | None, kind: str = "extraction") -> DropItem:
        self.problem(CrawlProblem(url=item.public_url, kind=kind, message=message, field=field,
                                  column=item.column, frontier_key=item.frontier_key))
        return DropItem(f"cannot normalize {item.public_url}: {message}")

    @staticmethod
    def _with_problems(item: FetchedPage, result: Any) -> tuple[Any, list[CrawlProblem]]:
        problems = [CrawlProblem(url=item.public_url, kind=kind, message=message, column=item.column)
                    for kind, message in result.problems]
        return result.item, problems

    @staticmethod
    def exported(article: Article | ExchangeItem) -> dict[str, Any]:
        """What leaves the pipeline: the item as JSON, so ``scrapy crawl -O x.jsonl`` writes the
        exchange standard."""
        return article.model_dump(mode="json")
