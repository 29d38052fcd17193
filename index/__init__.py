"""Full-text search over the exchange-standard articles.

``index.base`` is the backend-neutral contract (:class:`SearchIndex`, :class:`SearchQuery`);
``index.factory.open_index`` opens the backend a URL names: ``index.embedded`` (SQLite FTS5) or
``index.elasticsearch``; ``index.tokenize`` is the shared analyzer and query parser,
``index.highlight`` the highlighter.
"""

from index.base import (
    IndexClosedError,
    IndexSchemaError,
    SearchHit,
    SearchIndex,
    SearchIndexError,
    SearchQuery,
    SearchResult,
)
from index.factory import open_index

__all__ = [
    "IndexClosedError", "IndexSchemaError", "SearchHit", "SearchIndex", "SearchIndexError",
    "SearchQuery", "SearchResult", "open_index",
]
