"""Test helpers for plugin authors (a pytest plugin, loaded automatically once installed).

They run a plugin's saved pages through the same code as a crawl: the spider's list reading
and the pipeline's normalizing, with the site's own hints and hook plugins, and no network.

Fixtures:

``site_registry``
    The registry of every plugin found (built-in folder, ``BLGW_PLUGIN_DIRS``, entry points).
``plugin_page``
    A function ``plugin_page(site_code, column_name, path_or_bytes, url)`` that runs a saved
    detail page through the normalizer with the site's own hints (and its hook plugins), as
    a crawl would, and returns the :class:`~normalizers.models.Article`.
``plugin_list``
    A function ``plugin_list(site_code, column_name, path_or_bytes, url)`` that returns the
    :class:`~plugins.spec.ListEntry` objects the spider would find on a saved list page, and
    ``.next_pages`` the list pages it would fetch next.

Example (in an integrator's tests)::

    def test_notice_page(plugin_page):
        article = plugin_page("rsj", "通知公告", "tests/pages/rsj_show_102.html",
                              "http://rsj.bl.gov.cn/show.php?id=102")
        assert article.disclosure.index_number == "20200312-763331"
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from normalizers.encoding import decode_html
from normalizers.models import SHANGHAI, Article, Letter, Organisation, ServiceGuide
from normalizers.page import RawPage
from normalizers.urls import served_url
from plugins.manager import SiteRegistry, registry_from_settings
from plugins.runtime import normalize_for_site
from plugins.spec import ListEntry
from spiders.listing import ListRequest
from spiders.loader import spider_class


def _read(source: str | Path | bytes) -> bytes:
    return source if isinstance(source, bytes) else Path(source).read_bytes()


def normalize_saved_page(registry: SiteRegistry, site_code: str, column_name: str,
                         source: str | Path | bytes, url: str,
                         content_type: str | None = None) -> Article | ServiceGuide | Letter | Organisation:
    """Normalize a saved detail page the way the crawl's pipeline does (an :class:`Article`
    for an article column)."""
    site = registry.get(site_code)
    column = site.column(column_name)
    page = RawPage(url=url, body=_read(source), content_type=content_type,
                   fetched_at=dt.datetime(2024, 1, 1, tzinfo=SHANGHAI))
    return normalize_for_site(registry, site, column, page, served_url(url)).item


@dataclass
class ListPageResult:
    entries: list[ListEntry]
    next_pages: list[str] = field(default_factory=list)  # URLs (GET or POST) of the next list pages
    next_requests: list[ListRequest] = field(default_factory=list)  # with their POST forms
    decision: str = ""  # the paging decision, as `blgw plugin check` prints it


def read_saved_list(registry: SiteRegistry, site_code: str, column_name: str,
                    source: str | Path | bytes, url: str, page_number: int = 1) -> ListPageResult:
    """What the spider finds on a saved list page: entries, and the next list pages."""
    site = registry.get(site_code)
    column = site.column(column_name)
    spider = spider_class(site, registry)()
    text = decode_html(_read(source)).text
    page = spider.read_list_page(url, text, column, page_number)
    return ListPageResult(page.entries, [r.url for r in page.next], page.next, page.decision)


@pytest.fixture(scope="session")
def site_registry() -> SiteRegistry:
    """Every plugin found, as the gateway would load them."""
    return registry_from_settings()


@pytest.fixture
def plugin_page(site_registry: SiteRegistry) -> Callable[..., Article | ServiceGuide | Letter | Organisation]:
    """``plugin_page(site_code, column, path_or_bytes, url)`` → Article (see module doc)."""
    return lambda code, column, source, url, content_type=None: normalize_saved_page(
        site_registry, code, column, source, url, content_type)


@pytest.fixture
def plugin_list(site_registry: SiteRegistry) -> Callable[..., ListPageResult]:
    """``plugin_list(site_code, column, path_or_bytes, url)`` → ListPageResult (see module doc)."""
    return lambda code, column, source, url, page_number=1: read_saved_list(
        site_registry, code, column, source, url, page_number)
