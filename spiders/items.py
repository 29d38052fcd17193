"""What the spider hands to the pipeline: raw fetched pages and crawl problems, not items of
the exchange standard (normalizing is the pipeline's job, through pure normalizers)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass
class FetchedPage:
    """A detail page as fetched, with where it sits on its site."""

    site_code: str
    column: str
    fetch_url: str
    public_url: str
    body: bytes
    content_type: str | None
    status: int
    fetched_at: dt.datetime
    list_title: str | None = None
    list_date: str | None = None
    frontier_key: str | None = None  # its entry in the run's frontier, marked done when stored


@dataclass
class CrawlProblem:
    """A failure to report in the run (the page is skipped, the run goes on)."""

    url: str
    kind: str  # http, network, extraction, plugin
    message: str
    field: str | None = None
