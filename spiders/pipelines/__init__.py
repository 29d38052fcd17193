"""Item pipelines: a fetched detail page becomes an item of the exchange standard (pure
normalizers, with the site plugin's hints and hooks), then is stored (:mod:`.store`) or, in a
dry run, kept for the report (:mod:`.check`). Problems (:class:`~spiders.items.CrawlProblem`)
are recorded and dropped: they are not items of the standard."""

from __future__ import annotations

from typing import Any

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem

from normalizers.article import NormalizationError
from normalizers.models import Article
from normalizers.page import RawPage
from plugins.runtime import normalize_for_site
from spiders.crawlstate import CrawlSpider, running_spider
from spiders.items import CrawlProblem, FetchedPage

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
        site = self.spider.site
        page = RawPage(url=item.fetch_url, body=item.body, content_type=item.content_type,
                       status=item.status, fetched_at=item.fetched_at)
        try:
            result = normalize_for_site(self.spider.registry.hook, site, site.column(item.column), page,
                                        item.public_url, item.list_title, item.list_date)
        except NormalizationError as exc:
            self.problem(CrawlProblem(url=item.public_url, kind="extraction", message=str(exc),
                                      field=getattr(exc, "field", None), column=item.column,
                                      frontier_key=item.frontier_key))
            raise DropItem(f"cannot normalize {item.public_url}: {exc}") from exc
        problems = [CrawlProblem(url=item.public_url, kind=kind, message=message, column=item.column)
                    for kind, message in result.problems]
        return result.item, problems

    @staticmethod
    def exported(article: Article) -> dict[str, Any]:
        """What leaves the pipeline: the item as JSON, so ``scrapy crawl -O x.jsonl`` writes the
        exchange standard."""
        return article.model_dump(mode="json")
