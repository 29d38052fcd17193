"""Pure functions from raw subsite pages to the exchange standard (no I/O, no Scrapy).

``normalize_article`` is the entry point; the modules beside it are its parts: ``encoding``
(bytes → text), ``dates``, ``text``, ``disclosure`` (政府信息公开 metadata), ``extract`` (title,
body, attachments), ``sanitize`` (body HTML) and ``urls``.
"""

from normalizers.article import NormalizationError, normalize_article

__all__ = ["NormalizationError", "normalize_article"]
