"""Inputs of the normalizers: a fetched page and what the plugin knows about it.

These are plain data, built by the spider (or by a test from a saved file) and handed to
pure functions; nothing here touches the network, Scrapy or the store.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from normalizers.models import Category


@dataclass(frozen=True)
class PagePart:
    """One more page of a multi-page article (its page 2, 3…), as fetched."""

    url: str  # fetched from (a mirror's URL when the gateway fetches from one)
    public_url: str  # on the site's public origin, as served
    body: bytes
    content_type: str | None = None


@dataclass(frozen=True)
class RawPage:
    """A page as fetched: raw bytes, the URL it was fetched from, and its HTTP Content-Type;
    ``parts``: the article's other pages, in reading order, when it is split over several."""

    url: str
    body: bytes
    content_type: str | None = None  # the HTTP header value, e.g. "text/html; charset=gbk"
    status: int = 200
    fetched_at: dt.datetime | None = None
    parts: tuple[PagePart, ...] = ()


@dataclass(frozen=True)
class PageContext:
    """Where the page sits on its subsite, as the plugin and the spider know it."""

    site_code: str
    column_path: tuple[str, ...]
    category: Category
    # The page's canonical public URL (on the subsite's own origin). It can differ from
    # RawPage.url when the gateway fetches from a mirror or a test server.
    public_url: str
    # Title and date as shown on the list page, used when the detail page lacks them.
    list_title: str | None = None
    list_date: str | None = None


@dataclass(frozen=True)
class ExtractionHints:
    """Selectors from the site plugin. Each is a CSS selector, or XPath when it starts with '/'
    or '('. Any left as None is found by the generic heuristics."""

    title: str | None = None
    body: str | None = None
    published_at: str | None = None
    disclosure_table: str | None = None
    attachments: str | None = None
    # Extra disclosure labels the site uses, mapped to DisclosureMetadata field names,
    # e.g. {"文件编号": "document_number"}.
    disclosure_labels: dict[str, str] = field(default_factory=dict)
    # CSS selectors of boilerplate inside the body to drop (toolbars, share widgets…).
    remove: tuple[str, ...] = ()
    # Regular expressions of boilerplate text inside the body that no selector reaches (a bare
    # text node such as DedeCMS's "(责任编辑：admin)"): each match is removed from the body's text.
    strip_text: tuple[str, ...] = ()
    # Organisation, service-guide and letter pages: field → selector of the element holding it
    # (normalizers.fields), read instead of the labels, e.g. {"address": "td.addr"}.
    fields: dict[str, str] = field(default_factory=dict)
