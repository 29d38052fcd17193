"""``blgw plugin check``: normalize like a crawl, write nothing."""

from __future__ import annotations

from typing import Any

from scrapy.crawler import Crawler

from spiders.items import CrawlProblem, FetchedPage
from spiders.pipelines import NormalizingPipeline

__all__ = ["CheckPipeline"]


class CheckPipeline(NormalizingPipeline):
    """Keeps the items (``items``: (column, item)), the titles their list entries showed
    (``list_titles``: by item id) and the problems (``problems``) of a dry run for its report
    (``crawler.get_item_pipeline(CheckPipeline)``)."""

    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        self.items: list[tuple[str, Any]] = []
        self.problems: list[CrawlProblem] = []
        self.list_titles: dict[str, str] = {}  # item id → the title its list entry showed

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CheckPipeline:
        return cls(crawler)

    def process_item(self, item: Any) -> Any:
        self.drop_problem(item)
        if not isinstance(item, FetchedPage):
            return item
        if self.budgeted(item):
            return self._keep_budgeted(item)
        return self._keep(item, *self.normalize(item))

    async def _keep_budgeted(self, item: FetchedPage) -> Any:
        return self._keep(item, *(await self.normalize_in_budget(item)))

    def _keep(self, item: FetchedPage, article: Any, problems: list[CrawlProblem]) -> Any:
        self.problems.extend(problems)
        self.items.append((item.column, article))
        if item.list_title:
            self.list_titles[article.id] = item.list_title
        return self.exported(article)

    def problem(self, problem: CrawlProblem) -> None:
        self.problems.append(problem)
