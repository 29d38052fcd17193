"""The search index interface: the contract every backend (embedded SQLite FTS5 now,
Elasticsearch later) implements, and passes ``tests/test_index_conformance.py`` against.

Documents are :class:`~normalizers.models.Article` items of the exchange standard, keyed by
their ``id``. Only ``title`` and ``body_text`` are searched; ``site_code``, ``column_path``,
``category`` and ``published_at`` are filters and facets (:class:`SearchResult`). Text analysis is :mod:`index.tokenize` (CJK bigrams, like the
Elasticsearch ``cjk`` analyzer, plus one-character matching); query parsing is
:func:`index.tokenize.parse_query` and its docstring is part of this contract.

Operations: :meth:`SearchIndex.upsert` / :meth:`~SearchIndex.delete` / :meth:`~SearchIndex.get` /
:meth:`~SearchIndex.count`; :meth:`~SearchIndex.search` (hits, ``total`` and the four facets
``site`` / ``category`` / ``column`` / ``year``); :meth:`~SearchIndex.suggest` (title-prefix
completion for the search box); :meth:`~SearchIndex.rebuild` (a complete new index from an
iterable, swapped in atomically: readers see the old contents until it is complete);
:meth:`~SearchIndex.clear`; :meth:`~SearchIndex.close`.
"""

from __future__ import annotations

import abc
import datetime as dt
from collections.abc import Iterable
from types import TracebackType
from typing import Annotated, Literal

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
    "FACET_KEYS",
    "FACET_SIZE",
    "FILE_KINDS",
    "SEARCH_DATE_MAX",
    "SEARCH_DATE_MIN",
    "SUGGEST_MAX_SIZE",
    "DocumentsRejected",
    "FacetValue",
    "IndexClosedError",
    "IndexSchemaError",
    "IndexUnavailableError",
    "SearchHit",
    "SearchIndex",
    "SearchIndexError",
    "SearchQuery",
    "SearchResult",
    "Suggestion",
    "file_kinds",
]

FACET_KEYS = ("site", "category", "column", "year")
"""The keys of :attr:`SearchResult.facets`, always all present."""
FACET_SIZE = 20
"""At most this many values per facet."""
SUGGEST_MAX_SIZE = 20
"""The largest ``size`` of :meth:`SearchIndex.suggest`."""
SEARCH_DATE_MIN = dt.date(1900, 1, 1)
SEARCH_DATE_MAX = dt.date(2999, 12, 31)
"""The range of ``date_from`` / ``date_to`` of a :class:`SearchQuery` (inclusive): wider than
any publication date a page can carry, narrow enough that every backend computes its day
bounds without overflow (``date.max`` has no next day)."""


class SearchIndexError(Exception):
    """Base class of the errors a search index raises on its own account."""


class IndexSchemaError(SearchIndexError):
    """The index storage was written by another (older or newer) version of this program.
    The message tells the operator to run ``blgw index rebuild``."""


class IndexClosedError(SearchIndexError):
    """The index was used after :meth:`SearchIndex.close`."""


class IndexUnavailableError(SearchIndexError):
    """The index cannot be reached or opened (the cluster refuses connections or does not
    answer, the file cannot be opened): nothing about the documents; the same call may succeed
    later. The message names the index (never its credentials)."""


class DocumentsRejected(SearchIndexError):
    """The index refused some documents of a write for what they are (a per-document error of a
    bulk request: a field the mapping cannot take, a document too large…), and wrote the others.
    ``failures`` lists ``(id, reason)`` of the refused documents; ``written`` counts what the
    call did write (for a delete: the documents it removed)."""

    def __init__(self, operation: str, failures: list[tuple[str, str]], written: int) -> None:
        self.failures = failures
        self.written = written
        shown = "; ".join(f"{id_}: {reason}" for id_, reason in failures[:20])
        more = f" (and {len(failures) - 20} more)" if len(failures) > 20 else ""
        super().__init__(f"{operation}: {len(failures)} document(s) failed, {written} written: "
                         f"{shown}{more}")


QueryText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


FILE_KINDS: dict[str, frozenset[str]] = {
    "pdf": frozenset({"pdf"}),
    "word": frozenset({"doc", "docx", "wps", "rtf", "odt"}),
    "excel": frozenset({"xls", "xlsx", "et", "csv", "ods"}),
    "ofd": frozenset({"ofd"}),
    "archive": frozenset({"zip", "rar", "7z"}),
}
"""The file types a search can be narrowed to (an item with an attachment of that type), by the
attachment links' extensions: what the public knows a file by (PDF, Word, Excel, OFD, 压缩包)."""


def file_kinds(article: Article) -> list[str]:
    """The :data:`FILE_KINDS` of an item's attachments, in that order."""
    exts = {a.file_type.lower() for a in article.attachments}
    return [kind for kind, members in FILE_KINDS.items() if exts & members]


class SearchQuery(BaseModel):
    """One search request.

    ``q`` is plain user text (1–200 characters after stripping), never a query language; see
    :func:`index.tokenize.parse_query`: quoted text is a phrase, everything else is an AND of
    terms, other engines' operators are ignored, and no input can cause a syntax error. A ``q``
    with no searchable text (only punctuation, emoji, ``AND``/``OR``…) is valid and matches
    nothing (``total == 0``).

    Filters, all combined with AND:

    * ``site_codes``: the document's ``site_code`` is one of these (empty list: any site);
    * ``categories``: the document's ``category`` is one of these (empty list: any category);
    * ``column``: equals (exactly, after stripping) any element of the document's
      ``column_path`` — so ``通知公告`` matches ``['政务公开', '通知公告']``;
    * ``date_from`` / ``date_to``: inclusive calendar days of ``published_at`` read in
      Asia/Shanghai, each from :data:`SEARCH_DATE_MIN` to :data:`SEARCH_DATE_MAX` (a day
      outside is a validation error of that field). Documents without ``published_at`` are
      excluded as soon as either bound is set. ``date_from`` after ``date_to`` is a validation
      error;
    * ``file_kinds``: the document has an attachment of one of these :data:`FILE_KINDS`
      (empty list: any document).

    Paging: ``page`` (1–100) of ``size`` (1–50) hits. Order: ``relevance`` (score descending,
    then newest first, then id) or ``date`` (newest ``published_at`` first, documents without a
    date last, then score descending, then id).
    """

    model_config = ConfigDict(extra="forbid")

    q: QueryText
    site_codes: list[str] = Field(default_factory=list)
    categories: list[Category] = Field(default_factory=list)
    column: str | None = None
    date_from: dt.date | None = Field(None, ge=SEARCH_DATE_MIN, le=SEARCH_DATE_MAX)
    date_to: dt.date | None = Field(None, ge=SEARCH_DATE_MIN, le=SEARCH_DATE_MAX)
    file_kinds: list[Literal["pdf", "word", "excel", "ofd", "archive"]] = Field(default_factory=list)
    page: int = Field(1, ge=1, le=100)
    size: int = Field(10, ge=1, le=50)
    order: Literal["relevance", "date"] = "relevance"

    @field_validator("site_codes")
    @classmethod
    def _unique_sites(cls, value: list[str]) -> list[str]:
        return list(dict.fromkeys(s.strip() for s in value if s.strip()))

    @field_validator("categories")
    @classmethod
    def _unique_categories(cls, value: list[Category]) -> list[Category]:
        return list(dict.fromkeys(value))

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
    attachment: str | None = None
    """The name of the attachment the snippet is from: the query matched inside one of the
    item's attachments and not in its body (the indexed ``body_text`` of an item is its body and
    its attachments' text, :func:`index.highlight.with_attachments`)."""


class FacetValue(BaseModel):
    """One value of a facet and the number of matching documents that have it."""

    value: str
    count: int


class SearchResult(BaseModel):
    """One page of hits; ``total`` counts all matching documents, whatever the page.

    ``facets`` always has the four keys of :data:`FACET_KEYS` (missing ones are filled in with
    empty lists), counted over ALL documents matching ``q`` and every filter of the query (not
    just the page; the facets do not ignore their own filter):

    * ``site``: ``site_code``;
    * ``category``: the category's value (``政务公开`` …);
    * ``column``: the LAST element of ``column_path`` (documents with an empty path are not
      counted);
    * ``year``: the year of ``published_at`` read in Asia/Shanghai, as a string (``"2024"``);
      documents without a date are not counted.

    Each list holds at most :data:`FACET_SIZE` (20) values, sorted by count descending, then
    value ascending (code point order); a query that matches nothing has four empty lists.
    """

    total: int
    hits: list[SearchHit]
    page: int
    size: int
    facets: dict[str, list[FacetValue]] = Field(default_factory=dict)

    @field_validator("facets")
    @classmethod
    def _all_facet_keys(cls, value: dict[str, list[FacetValue]]) -> dict[str, list[FacetValue]]:
        return {**{key: [] for key in FACET_KEYS}, **value}


class Suggestion(BaseModel):
    """A completion of the search box: a document whose title starts with the typed text."""

    id: str
    title: str
    url: str
    site_code: str


def suggest_prefix(prefix: object) -> str | None:
    """The prefix :meth:`SearchIndex.suggest` looks for (stripped), or None when nothing can
    match: not a string, blank, or not encodable text (lone surrogates, NUL)."""
    if not isinstance(prefix, str):
        return None
    prefix = prefix.strip()
    if not prefix or "\x00" in prefix:
        return None
    try:
        prefix.encode("utf-8")
    except UnicodeEncodeError:
        return None
    return prefix


def check_suggest_size(size: int) -> int:
    """``size`` of :meth:`SearchIndex.suggest`, or ValueError when it is not 1–20."""
    if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= SUGGEST_MAX_SIZE:
        raise ValueError(f"suggest size must be an integer from 1 to {SUGGEST_MAX_SIZE}, not {size!r}")
    return size


def ascii_lower(text: str) -> str:
    """``text`` with only the Latin letters A–Z lower-cased (how suggest compares)."""
    return text.translate(_ASCII_LOWER)


_ASCII_LOWER = {c: c + 32 for c in range(ord("A"), ord("Z") + 1)}


class SearchIndex(abc.ABC):
    """A full-text index of articles.

    Semantics every backend must follow:

    * Documents are identified by ``Article.id``; there is at most one document per id.
    * Writes are visible to ``get``, ``count`` and ``search`` of this instance as soon as the
      call returns (a backend with near-real-time search must refresh before returning).
    * Writes are not guaranteed atomic across a call: if it fails midway, some documents may
      have been written. Every write is idempotent, so the caller retries the whole call.
    * A write that cannot reach the index raises :class:`IndexUnavailableError`; one whose
      documents the index refuses one by one (a bulk request's per-document errors) writes the
      others and raises :class:`DocumentsRejected` naming the refused ones.
    * Instances are safe to share between threads. ``close()`` is idempotent; any other call
      after it raises :class:`IndexClosedError`. ``with index:`` closes on exit.
    * Storage written by another schema version raises :class:`IndexSchemaError` on use;
      :meth:`clear` and :meth:`rebuild` are the exceptions — they recreate the storage
      (``blgw index rebuild``).
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
        ``parse_query(query.q)`` matches its title or its body, and every filter matches. A
        clause matches a field where its :func:`index.tokenize.clause_tokens` occur at
        consecutive positions (each clause in either field, independently; one clause never
        spans both): a multi-character CJK term is its literal text, not bigrams scattered.

        Relevance is BM25-like: matches in the title weigh more than in the body, more
        occurrences score higher, rarer terms weigh more. A page past the end has no hits but
        the same ``total`` and the same facets (see :class:`SearchResult`)."""

    @abc.abstractmethod
    def suggest(self, prefix: str, size: int = 8,
                site_codes: list[str] | None = None) -> list[Suggestion]:
        """Title completions: documents whose ``title`` starts with ``prefix`` stripped of
        surrounding white space (Latin letters A–Z compare case-insensitively, everything else
        exactly; ``%``, ``_``, ``*``, quotes… are plain characters), of one of ``site_codes``
        (None or empty: any site). Newest ``published_at`` first (undated last), then title,
        then id; at most ``size`` (1–20, else ValueError). A blank prefix returns ``[]``; no
        prefix ever raises (odd text simply matches nothing)."""

    @abc.abstractmethod
    def rebuild(self, documents: Iterable[Article]) -> int:
        """Replace the whole index with ``documents``: build a complete new index from them and
        only then swap it in atomically, so every read made while the iterable is consumed
        (from any thread, even from inside the generator) sees the OLD contents, and afterwards
        only the new ones exist (documents not in ``documents`` are gone). If the iterable
        raises, or the build fails, the old contents stay and the exception propagates. Works
        on storage of another schema version (like :meth:`clear`). Returns the number of
        articles written, counted as :meth:`upsert` counts them; ``rebuild([])`` empties the
        index and returns 0. Writes made through this interface by others while a rebuild runs
        may be lost: the gateway never makes any (its rebuilds and syncs exclude each other
        through the store, :mod:`gateway.ops.indexing`)."""

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
