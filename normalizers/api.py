"""The one-call form of the normalizers: raw page bytes plus URL (and optional plugin hints)
to an exchange-standard item, with no Scrapy, store or network."""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import urlsplit

from normalizers.encoding import decode_html
from normalizers.items import normalize_item
from normalizers.models import SITE_CODE_MAX, Article, Letter, Organisation, ServiceGuide
from normalizers.page import ExtractionHints, PageContext, RawPage
from normalizers.taxonomy import classify
from normalizers.urls import served_url


def normalize(body: bytes, url: str, hints: ExtractionHints | None = None, *, content_type: str | None = None,
              site_code: str | None = None, column: str | None = None, column_path: list[str] | None = None,
              item_type: str | None = None, public_url: str | None = None,
              fetched_at: dt.datetime | None = None) -> Article | ServiceGuide | Letter | Organisation:
    """Turn one page into an item of the exchange standard.

    ``site_code`` defaults to the first label of the host (``rsj`` for ``rsj.bl.gov.cn``, ``j`` for
    ``j.example.com``; letters and digits only, at most 31, a leading ``s`` before a digit);
    the taxonomy (category, article kind, item type) is classified from ``column`` /
    ``column_path``, the URL and the page unless ``item_type`` is given. ``public_url`` is the
    page's public address when ``url`` is a mirror. Raises
    :class:`normalizers.article.NormalizationError` for a page that is not of the kind at all.
    """
    host = urlsplit(public_url or url).hostname or ""
    code = site_code or re.sub(r"[^a-z0-9]", "", host.split(".")[0].lower()) or "site"
    if not re.match(r"^[a-z]", code):
        code = "s" + code
    code = code[:SITE_CODE_MAX]  # a DNS label may have 63 characters
    path = list(column_path or ([column] if column else []))
    html = decode_html(body, content_type).text
    taxonomy = classify(column or (path[-1] if path else ""), path, public_url or url, html)
    if not path:
        path = [taxonomy.category.value]
    elif path[0] not in ("政务公开", "政民互动", "网上服务"):
        path = [taxonomy.category.value, *path]
    page = RawPage(url=url, body=body, content_type=content_type, fetched_at=fetched_at)
    context = PageContext(site_code=code, column_path=tuple(path), category=taxonomy.category,
                          public_url=served_url(public_url or url))
    item = normalize_item(page, context, hints or ExtractionHints(), item_type=item_type or taxonomy.item_type)
    if isinstance(item, Article) and taxonomy.kind is not None and item.kind != taxonomy.kind:
        item = Article.model_validate({**item.model_dump(), "kind": taxonomy.kind})
    return item
