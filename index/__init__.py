"""Full-text search over the exchange-standard articles.

``index.base`` is the backend-neutral contract (:class:`SearchIndex`, :class:`SearchQuery`,
:func:`open_index`); ``index.embedded`` the SQLite FTS5 backend; ``index.tokenize`` the shared
analyzer and query parser; ``index.highlight`` the highlighter.
"""

from index.base import (
    IndexClosedError,
    IndexSchemaError,
    SearchHit,
    SearchIndex,
    SearchIndexError,
    SearchQuery,
    SearchResult,
    open_index,
)

__all__ = [
    "IndexClosedError", "IndexSchemaError", "SearchHit", "SearchIndex", "SearchIndexError",
    "SearchQuery", "SearchResult", "open_index",
]
