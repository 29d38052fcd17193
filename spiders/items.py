"""What the spider hands to the pipeline: raw fetched pages and crawl problems, not items of
the exchange standard (normalizing is the pipeline's job, through pure normalizers)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from normalizers.page import PagePart


@dataclass
class FetchedPage:
    """A detail page as fetched, with where it sits on its site."""

    site_code: str
    column: str
    fetch_url: str
    public_url: str  # on the site's public origin, as served (SiteSpider.served_url); the id is its canonical key
    body: bytes = field(repr=False)  # logged items (a dropped one) do not print the page
    content_type: str | None
    status: int
    fetched_at: dt.datetime
    list_title: str | None = None
    list_date: str | None = None
    frontier_key: str | None = None  # its entry in the run's frontier, marked done when it is stored
    parts: tuple[PagePart, ...] = field(default=(), repr=False)  # a multi-page article's other pages, in reading order ([detail] pages)


@dataclass
class CrawlProblem:
    """A failure to report in the run (the page is skipped, the run goes on). A problem with a
    ``frontier_key`` is the outcome of that request: its frontier entry is closed in the
    transaction that records the problem, ``failed`` (the next run fetches it again) unless the
    kind is final (:data:`FINAL_KINDS`: a refusal is not retried). A spider callback marks the
    problem that is its page's own outcome with ``outcome`` (the frontier hands it the key)."""

    url: str
    kind: str  # spiders.errors.KINDS, or paging-cap, paging, extraction, field, plugin, site
    message: str
    field: str | None = None
    column: str | None = None
    frontier_key: str | None = None
    outcome: bool = False

    @property
    def retried(self) -> bool:
        """Whether the next run fetches the page again."""
        return self.kind not in FINAL_KINDS


FINAL_KINDS = frozenset({"offsite", "scope", "robots", "too-large"})
"""Problems no later run repairs by fetching again: refusals of the scope policy and robots.txt,
and pages over the size limit."""
