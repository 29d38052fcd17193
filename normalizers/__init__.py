"""Pure functions from raw subsite pages to the exchange standard (no I/O, no Scrapy).

``normalize(body, url, hints=None)`` is the one-call form: raw page bytes and URL in, an item
of the exchange standard out, with the taxonomy classified from the column and the page.
``normalize_item`` is the entry point for every kind of page (it detects the kind with
``detect_item_type`` when not told): ``normalize_article`` for articles, and
``normalize_service_guide`` (``guides``), ``normalize_letter`` (``letters``) and
``normalize_organisation`` (``organisation``) for the label/value pages read by ``labelled``.
The modules beside them are their parts: ``encoding`` (bytes → text), ``dates``, ``text``,
``disclosure`` (政府信息公开 metadata), ``extract`` (title, body, attachments), ``sanitize`` (body
HTML), ``privacy`` (masking letters) and ``urls``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from normalizers.api import normalize
    from normalizers.article import NormalizationError, normalize_article
    from normalizers.guides import normalize_service_guide
    from normalizers.items import detect_item_type, normalize_item
    from normalizers.letters import normalize_letter
    from normalizers.organisation import normalize_organisation

__all__ = ["NormalizationError", "detect_item_type", "normalize", "normalize_article", "normalize_item", "normalize_letter",
           "normalize_organisation", "normalize_service_guide"]

_HOMES = {"normalize": "api", "NormalizationError": "article", "normalize_article": "article",
          "normalize_service_guide": "guides", "detect_item_type": "items", "normalize_item": "items",
          "normalize_letter": "letters", "normalize_organisation": "organisation"}


def __getattr__(name: str) -> Any:
    # imported on first use (PEP 562): a process that needs one module of the package (the
    # attachment readers' worker, normalizers.documents) does not pay for the whole pipeline
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'normalizers' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"normalizers.{home}"), name)
    globals()[name] = value
    return value
