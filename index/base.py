"""The search index interface: the contract every backend (embedded SQLite FTS5 now,
Elasticsearch later) implements, and passes ``tests/test_index_conformance.py`` against.

Documents are :class:`~normalizers.models.Article` items of the exchange standard, keyed by
their ``id``. Only ``title`` and ``body_text`` are searched; ``site_code``, ``column_path`` and
``published_at`` are filters. Text analysis is :mod:`index.tokenize` (CJK bigrams, like the
Elasticsearch ``cjk`` analyzer, plus one-character matching); query parsing is
:func:`index.tokenize.parse_query` and its docstring is part of this contract.
"""

from __future__ import annotations

import abc
import datetime as dt
from collections.abc import Iterable
from types import TracebackType
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from normalizers.models import Article, Category

__all__ = [
    "SUPPORTED_SCHEMES",
    "IndexClosedError",
    "IndexSchemaError",
    "SearchHit",
    "SearchIndex",
    "SearchIndexError",
    "SearchQuery",
    "SearchResult",
    "open_index",
]

SUPPORTED_SCHEMES = ("sqlite:///<path>", "sqlite://:memory:")


class SearchIndexError(Exception):
    """Base class of the errors a search index raises on its own account."""


class IndexSchemaError(SearchIndexError):
    """The index storage was written by another (older or newer) version of this program.
    The message tells the operator to run ``blgw index rebuild``."""


class IndexClosedError(SearchIndexError):
    """The index was used after :meth:`SearchIndex.close`."""


QueryText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class SearchQuery(BaseModel):
    """One search request.

    ``q`` is plain user text (1–200 characters after stripping), never a query language; see
    :func:`index.tokenize.parse_query`: quoted text is a phrase, everything else is an AND of
    terms, other engines' operators are ignored, and no input can cause a syntax error. A ``q``
    with no searchable text (only punctuation, emoji, ``AND``/``OR``…) is valid and matches
    nothing (``total == 0``).

    Filters, all combined with AND:

    * ``site_codes``: the document's ``site_code`` is one of these (empty list: any site);
    * ``column``: equals (exactly, after stripping) any element of the document's
      ``column_path`` — so ``通知公告`` matches ``['政务公开', '通知公告']``;
    * ``date_from`` / ``date_to``: inclusive calendar days of ``published_at`` read in
      Asia/Shanghai. Documents without ``published_at`` are excluded as soon as either bound is
      set. ``date_from`` after ``date_to`` is a validation error.

    Paging: ``page`` (1–100) of ``size`` (1–50) hits. Order: ``relevance`` (score descending,
    then newest first, then id) or ``date`` (newest ``published_at`` first, documents without a
    date last, then score descending, then id).
    """

    model_config = ConfigDict(extra="forbid")

    q: QueryText
    site_codes: list[str] = Field(default_factory=list)
    column: str | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    page: int = Field(1, ge=1, le=100)
    size: int = Field(10, ge=1, le=50)
    order: Literal["relevance", "date"] = "relevance"

    @field_validator("site_codes")
    @classmethod
    def _unique_sites(cls, value: list[str]) -> list[str]:
        return list(dict.fromkeys(s.strip() for s in value if s.strip()))

    @field_validator("column")
    @classmethod
    def _strip_column(cls, value: str | None) -> str | None:
        if value is None:
            return None
        return value.strip() or None

    @model_validator(mode="after")
    def _date_range(self) -> SearchQuery:
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise ValueError(f"date_from {self.date_from} is after date_to {self.date_to}")
        return self

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.size


class SearchHit(BaseModel):
    """One result. ``title_html`` and ``snippet_html`` are HTML-safe fragments: the original
    text HTML-escaped (``html.escape`` with quotes), in which only the matched query terms are
    wrapped in ``<mark>``…``</mark>``; no other markup ever appears. The snippet is a window of
    about 120 characters of ``body_text`` around the densest cluster of matches (white space
    collapsed, ``…`` where cut); if the body has no match, it is the start of the body.
    ``score`` is backend-specific: higher is better, comparable only within one result."""

    id: str
    site_code: str
    column_path: list[str]
    category: Category
    title: str
    title_html: str
    url: str
    published_at: dt.datetime | None
    score: float
    snippet_html: str


class SearchResult(BaseModel):
    """One page of hits; ``total`` counts all matching documents, whatever the page."""

    total: int
    hits: list[SearchHit]
    page: int
    size: int


class SearchIndex(abc.ABC):
    """A full-text index of articles.

    Semantics every backend must follow:

    * Documents are identified by ``Article.id``; there is at most one document per id.
    * Writes are visible to ``get``, ``count`` and ``search`` of this instance as soon as the
      call returns (a backend with near-real-time search must refresh before returning).
    * Writes are not guaranteed atomic across a call: if it fails midway, some documents may
      have been written. Every write is idempotent, so the caller retries the whole call.
    * Instances are safe to share between threads. ``close()`` is idempotent; any other call
      after it raises :class:`IndexClosedError`. ``with index:`` closes on exit.
    * Storage written by another schema version raises :class:`IndexSchemaError` on use;
      :meth:`clear` is the exception — it recreates the storage (``blgw index rebuild``).
      Storage that is not a search index at all (someone else's database) is never modified.
    """

    @abc.abstractmethod
    def upsert(self, articles: Iterable[Article]) -> int:
        """Index the articles, replacing any document with the same id (its old text is no
        longer found). The iterable is consumed once and may be a generator. Returns the number
        of articles written; an id appearing twice in one call counts twice, the last wins."""

    @abc.abstractmethod
    def delete(self, ids: Iterable[str]) -> int:
        """Remove the documents with these ids; unknown ids are ignored. Returns the number of
        documents actually removed."""

    @abc.abstractmethod
    def get(self, id: str) -> Article | None:
        """The article as last upserted (equal to it, field by field), or None."""

    @abc.abstractmethod
    def search(self, query: SearchQuery) -> SearchResult:
        """Run a query (see :class:`SearchQuery`). A document matches when every clause of
        ``parse_query(query.q)`` matches its title or its body (a clause may match in either
        field; a phrase must match within one field), and every filter matches.

        Relevance is BM25-like: matches in the title weigh more than in the body, more
        occurrences score higher, rarer terms weigh more. A page past the end has no hits but
        the same ``total``."""

    @abc.abstractmethod
    def count(self) -> int:
        """The number of documents in the index."""

    @abc.abstractmethod
    def clear(self) -> None:
        """Remove every document (recreating the storage with the current schema)."""

    @abc.abstractmethod
    def close(self) -> None:
        """Release resources. Idempotent."""

    def __enter__(self) -> SearchIndex:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


def _redact(url: str) -> str:
    """The URL without a password, for error messages."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return parts._replace(netloc=netloc).geturl()


def _sqlite_path(url: str) -> str:
    """The database path of a ``sqlite:`` URL, SQLAlchemy-style: ``sqlite:///rel/path``,
    ``sqlite:////abs/path``; ``sqlite://``, ``sqlite://:memory:`` and ``sqlite:///:memory:``
    are in memory (returned as ``:memory:``)."""
    rest = url[len("sqlite:"):]
    if rest in ("", "//", "//:memory:", "///:memory:", ":memory:"):
        return ":memory:"
    if not rest.startswith("///"):
        raise ValueError(
            f"cannot read the index URL {_redact(url)!r}: a SQLite index URL is sqlite:///<path> "
            "(sqlite:////<absolute path>) or sqlite://:memory:")
    path = rest[3:].split("?", 1)[0]
    if not path:
        raise ValueError(f"the index URL {_redact(url)!r} names no file")
    return path


def open_index(url: str) -> SearchIndex:
    """The index a URL names.

    * ``sqlite:///<path>`` (relative), ``sqlite:////<absolute path>``: the embedded backend
      (:class:`index.embedded.EmbeddedIndex`) in that file, created with its parent directory
      if missing; ``sqlite://:memory:`` (or ``sqlite://``): a private in-memory index.
    * ``http://`` / ``https://``: reserved for the Elasticsearch backend (not implemented yet:
      raises NotImplementedError). Planned form: ``http(s)://[user:password@]host:port/<index
      name>`` — the conformance suite opens a throw-away index by appending a name to
      BLGW_TEST_ELASTICSEARCH_URL.
    * anything else: ValueError naming the URL and the supported schemes.
    """
    scheme = url.split(":", 1)[0].lower() if ":" in url else ""
    if scheme == "sqlite":
        from index.embedded import EmbeddedIndex

        return EmbeddedIndex(_sqlite_path(url))
    if scheme in ("http", "https", "elasticsearch"):
        raise NotImplementedError(
            f"the Elasticsearch index backend ({_redact(url)}) is not implemented yet; "
            f"use the embedded backend: {' or '.join(SUPPORTED_SCHEMES)}")
    raise ValueError(
        f"unsupported index URL {_redact(url)!r}: supported are {', '.join(SUPPORTED_SCHEMES)} "
        "(embedded SQLite FTS5); http(s):// (Elasticsearch) is planned")
