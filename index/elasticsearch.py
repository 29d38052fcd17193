"""The Elasticsearch search backend (official ``elasticsearch`` Python client, 8.x/9.x clusters).

Layout on the cluster (``prefix`` defaults to ``blgw-articles``)
    * a composable index template ``{prefix}`` for ``{prefix}-*`` with the settings and mappings
      below (:func:`index_template`), priority ``1000 + len(prefix)`` so that a longer prefix
      (``blgw-test-x``) never collides with a shorter one at the same priority;
    * concrete indices ``{prefix}-v{SCHEMA_VERSION}-{UTC timestamp}``, created with the same
      settings and mappings explicitly (so another, higher-priority template cannot change them);
    * the alias ``{prefix}``, through which every read and write goes.

    :meth:`ElasticsearchIndex.rebuild` (and :meth:`~ElasticsearchIndex.clear`, which is
    ``rebuild([])``) creates a new concrete index, bulk-loads it with refreshes disabled,
    restores the refresh interval, refreshes, then moves the alias in ONE ``_aliases`` call
    (``remove`` the old indices + ``add`` the new one) and deletes the old indices. Readers use
    the alias, so they see the old contents until the swap, and never an empty index.

Text analysis (``title`` and ``body_text``)
    ``blgw_cjk`` (default) is the documented rebuild of the built-in ``cjk`` analyzer
    (``standard`` tokenizer, ``cjk_width``, ``lowercase``, ``cjk_bigram``) WITHOUT its English
    stop filter (the contract finds ``"and"``) and with a ``pattern_replace`` char filter that
    turns every character that is not a letter, digit, mark or space into a space, so the
    standard tokenizer cannot glue runs together at ``.`` ``_`` ``'`` ``:`` (``2024.03.15`` is
    three tokens, as in :mod:`index.tokenize`). The ``.chars`` sub-field (same without
    ``cjk_bigram``: one token per CJK character) serves one-character CJK queries (``险`` must
    find 保险, whose 险 the bigrams only hold as a second half).

    With ``analyzer="ik"`` (plugin analysis-ik) the main fields use ``ik_max_word`` for indexing
    and ``ik_smart`` for search; with ``"smartcn"`` (plugin analysis-smartcn) ``smartcn``. Word
    segmenters do not find arbitrary substrings (社保 inside 社会保险…), so matching always uses
    the bigram sub-field ``.cjk`` and the segmenter only adds a ``should`` clause to the score.
    ``"auto"`` asks ``_cat/plugins`` (ik, then smartcn, else cjk). The analyzer an index was built
    with is recorded in its mapping ``_meta`` and the queries follow the index, not the setting.

Queries
    Built only from the validated :class:`SearchQuery` (:func:`build_search_body`): every clause
    of :func:`index.tokenize.parse_query` is a ``bool.should`` of ``match_phrase`` on the title
    (boost 3) and on the body (``minimum_should_match: 1``), all clauses in ``bool.must`` (AND);
    the user's text is only ever a ``match_phrase`` ``query`` string (analyzed, never parsed),
    never a ``query_string``. Filters are ``bool.filter``; sorting, paging and facets are fixed
    structures. Highlighting is :mod:`index.highlight` on the returned ``_source`` text, exactly
    as in the embedded backend (Elasticsearch's own highlighter does not escape the text).

Suggest
    An exact ``prefix`` query (``case_insensitive``) on ``title.keyword`` sorted by
    ``published_at`` desc (missing last), ``title.keyword``, ``id`` — the contract's order,
    computed by the cluster. The completion suggester was not used: it only orders by weight, so
    "newest first, then title, then id" could not be exact at the ``size`` boundary, and its
    input is capped at ``max_input_length`` (50) characters.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import re
import threading
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit

from elasticsearch import ApiError, Elasticsearch, NotFoundError, TransportError
from elasticsearch.helpers import streaming_bulk

from index.base import (
    FACET_KEYS,
    FACET_SIZE,
    DocumentsRejected,
    FacetValue,
    IndexClosedError,
    IndexSchemaError,
    IndexUnavailableError,
    SearchHit,
    SearchIndex,
    SearchIndexError,
    SearchQuery,
    SearchResult,
    Suggestion,
    ascii_lower,
    check_suggest_size,
    suggest_prefix,
)
from index.highlight import Highlighter
from index.tokenize import ANALYZER_VERSION, Clause, ParsedQuery, parse_query
from normalizers.models import SHANGHAI, Article, Category

__all__ = [
    "ANALYZER_CHOICES",
    "DEFAULT_PREFIX",
    "SCHEMA_VERSION",
    "BulkWriteError",
    "ElasticsearchIndex",
    "ElasticsearchIndexError",
    "alias_swap_actions",
    "analysis_settings",
    "article_source",
    "build_completion_body",
    "build_search_body",
    "build_suggest_body",
    "bulk_delete_actions",
    "bulk_index_actions",
    "index_mappings",
    "index_settings",
    "index_template",
    "parse_completion_response",
    "parse_search_response",
    "parse_suggest_response",
    "tally_bulk_results",
]

log = logging.getLogger(__name__)

SCHEMA_VERSION = "1"
"""Bump when the mappings/settings change; indices of another version must be rebuilt."""

DEFAULT_PREFIX = "blgw-articles"
ANALYZER_CHOICES = ("auto", "cjk", "ik", "smartcn")

TITLE_BOOST = 3.0
CHUNK_SIZE = 500
MAX_RETRIES = 5
INITIAL_BACKOFF = 2.0
COMPLETION_MAX_INPUT = 50  # Elasticsearch's default: completion inputs are cut to this
COMPLETION_OVERSAMPLE = 4  # candidates asked of the completion suggester per wanted suggestion
_EPOCH_DAY = dt.date(2000, 1, 1)
KEYWORD_IGNORE_ABOVE = 8191  # characters: 32766 bytes (the Lucene term limit) / 4

_SOURCE_FIELDS = ["id", "site_code", "column_path", "category", "title", "url",
                  "published_at_exact", "body_text"]
_FACET_FIELDS = {"site": "site_code", "category": "category", "column": "column", "year": "year"}
_PREFIX_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,199}$")


class ElasticsearchIndexError(SearchIndexError):
    """The cluster refused or failed a request (the message names the request and the reason)."""


class ElasticsearchUnavailableError(ElasticsearchIndexError, IndexUnavailableError):
    """The cluster cannot be reached (connection refused, timeout, TLS failure)."""


class BulkWriteError(ElasticsearchIndexError, DocumentsRejected):
    """Some documents of a bulk write failed; the others were written. ``failures`` lists
    ``(id, reason)`` pairs."""


def _transient(result: Mapping[str, Any]) -> bool:
    """A failed bulk item that says the cluster could not take it now (429: rejected execution;
    5xx: a shard unavailable; a cluster block: the index read-only after the disk filled up), not
    that the document is wrong."""
    status, error = result.get("status"), result.get("error")
    if isinstance(error, Mapping) and error.get("type") == "cluster_block_exception":
        return True
    return isinstance(status, int) and (status == 429 or status >= 500)


# --------------------------------------------------------------------------------------------
# Settings, mappings, template (pure)


def _main_analysis(analyzer: str) -> dict[str, str]:
    """Analyzer parameters of the main ``title`` / ``body_text`` fields."""
    if analyzer == "cjk":
        return {"analyzer": "blgw_cjk"}
    if analyzer == "ik":
        return {"analyzer": "ik_max_word", "search_analyzer": "ik_smart"}
    if analyzer == "smartcn":
        return {"analyzer": "smartcn"}
    raise ValueError(f"unknown analyzer {analyzer!r}: one of cjk, ik, smartcn")


def analysis_settings() -> dict[str, Any]:
    """The ``index.analysis`` settings (the same for every analyzer choice: the plugin
    analyzers are built in by their plugins)."""
    return {
        "char_filter": {
            "blgw_separators": {
                "type": "pattern_replace",
                # Same length replacement: offsets stay exact; runs split as index.tokenize does.
                "pattern": "[^\\p{L}\\p{N}\\p{M}\\s]",
                "replacement": " ",
            },
        },
        "analyzer": {
            "blgw_cjk": {
                "type": "custom",
                "char_filter": ["blgw_separators"],
                "tokenizer": "standard",
                "filter": ["cjk_width", "lowercase", "cjk_bigram"],
            },
            "blgw_suggest": {  # the whole title as one lower-cased term: prefix completion
                "type": "custom",
                "tokenizer": "keyword",
                "filter": ["lowercase"],
            },
            "blgw_chars": {
                "type": "custom",
                "char_filter": ["blgw_separators"],
                "tokenizer": "standard",
                "filter": ["cjk_width", "lowercase"],
            },
        },
    }


def index_settings(*, shards: int = 1, replicas: str | int = "0-1") -> dict[str, Any]:
    """Index settings. One shard by default: scores (and facet counts) are then exact, and an
    index of a district's sites (10⁵–10⁶ articles) fits one shard easily."""
    settings: dict[str, Any] = {"number_of_shards": shards, "analysis": analysis_settings()}
    if isinstance(replicas, str):
        settings["auto_expand_replicas"] = replicas
    else:
        settings["number_of_replicas"] = replicas
    return {"index": settings}


def _text_field(analyzer: str, *, keyword: bool) -> dict[str, Any]:
    fields: dict[str, Any] = {"chars": {"type": "text", "analyzer": "blgw_chars"}}
    if analyzer != "cjk":
        fields["cjk"] = {"type": "text", "analyzer": "blgw_cjk"}
    if keyword:
        fields["keyword"] = {"type": "keyword", "ignore_above": KEYWORD_IGNORE_ABOVE}
    return {"type": "text", **_main_analysis(analyzer), "fields": fields}


def index_mappings(analyzer: str) -> dict[str, Any]:
    """The mappings (``dynamic: strict``: a field this program does not know is an error)."""
    return {
        "dynamic": "strict",
        "_meta": {"blgw_schema_version": SCHEMA_VERSION, "analyzer": analyzer,
                  "analyzer_version": ANALYZER_VERSION},
        "properties": {
            "id": {"type": "keyword"},
            "site_code": {"type": "keyword"},
            "category": {"type": "keyword"},
            "column_path": {"type": "keyword"},
            "column": {"type": "keyword"},
            "year": {"type": "keyword"},
            "published_at": {"type": "date"},
            "published_at_exact": {"type": "keyword", "index": False, "doc_values": False},
            "url": {"type": "keyword", "index": False, "doc_values": False},
            "title": _text_field(analyzer, keyword=True),
            "body_text": _text_field(analyzer, keyword=False),
            "title_suggest": {"type": "completion", "analyzer": "blgw_suggest",
                              "max_input_length": COMPLETION_MAX_INPUT},
            "article": {"type": "object", "enabled": False},
        },
    }


def index_template(prefix: str, analyzer: str, *, shards: int = 1,
                   replicas: str | int = "0-1") -> dict[str, Any]:
    """The body of ``PUT _index_template/{prefix}``."""
    return {
        "index_patterns": [f"{prefix}-*"],
        "priority": 1000 + len(prefix),
        "template": {"settings": index_settings(shards=shards, replicas=replicas),
                     "mappings": index_mappings(analyzer)},
        "_meta": {"description": "bl-gateway article index", "blgw_schema_version": SCHEMA_VERSION},
    }


def concrete_index_name(prefix: str, now: dt.datetime | None = None) -> str:
    now = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
    return f"{prefix}-v{SCHEMA_VERSION}-{now.strftime('%Y%m%d%H%M%S%f')}"


def _owned_index_re(prefix: str) -> re.Pattern[str]:
    return re.compile(rf"^{re.escape(prefix)}-v\d+-\d{{20}}$")


def alias_swap_actions(alias: str, old_indices: Iterable[str], new_index: str) -> list[dict[str, Any]]:
    """The ``actions`` of ONE ``POST _aliases`` call moving ``alias`` to ``new_index``."""
    actions: list[dict[str, Any]] = [{"remove": {"index": old, "alias": alias}}
                                     for old in sorted(set(old_indices)) if old != new_index]
    actions.append({"add": {"index": new_index, "alias": alias, "is_write_index": True}})
    return actions


# --------------------------------------------------------------------------------------------
# Documents and bulk actions (pure)


def _millis_iso(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def article_source(article: Article) -> dict[str, Any]:
    """The ``_source`` of one article."""
    if not isinstance(article, Article):
        raise TypeError(f"upsert takes Article items, not {type(article).__name__}")
    published = article.published_at
    return {
        "id": article.id,
        "site_code": article.site_code,
        "category": article.category.value,
        "column_path": list(article.column_path),
        "column": article.column_path[-1] if article.column_path else None,
        "year": str(published.astimezone(SHANGHAI).year) if published is not None else None,
        "published_at": _millis_iso(published) if published is not None else None,
        "published_at_exact": published.isoformat() if published is not None else None,
        "url": str(article.source_url),
        "title": article.title,
        "body_text": article.body_text,
        "title_suggest": {"input": [_completion_input(article.title)], "weight": completion_weight(published)},
        "article": json.loads(article.model_dump_json()),
    }


def _completion_input(title: str) -> str:
    """The completion field rejects U+0000, U+001E and U+001F (its internal separators)."""
    return title.translate({0: " ", 0x1E: " ", 0x1F: " "})


def completion_weight(published: dt.datetime | None) -> int:
    """Newer titles weigh more (days since 2000 in Shanghai, undated 0): the completion
    suggester returns its candidates newest first."""
    if published is None:
        return 0
    return max(0, (published.astimezone(SHANGHAI).date() - _EPOCH_DAY).days + 1)


def bulk_index_actions(articles: Iterable[Article], index: str) -> Iterator[dict[str, Any]]:
    """``index`` actions (create or replace) for :func:`elasticsearch.helpers.streaming_bulk`."""
    for article in articles:
        source = article_source(article)
        yield {"_op_type": "index", "_index": index, "_id": source["id"], "_source": source}


def bulk_delete_actions(ids: Iterable[str], index: str) -> Iterator[dict[str, Any]]:
    for id_ in ids:
        if not isinstance(id_, str):
            raise TypeError(f"delete takes string ids, not {type(id_).__name__}")
        yield {"_op_type": "delete", "_index": index, "_id": id_}


# --------------------------------------------------------------------------------------------
# Query DSL (pure)


@dataclass(frozen=True)
class _Fields:
    """Which fields match (bigram / per character) and which only add to the score."""

    analyzer: str

    def match(self, chars: bool) -> tuple[str, str]:
        if chars:
            return "title.chars", "body_text.chars"
        if self.analyzer == "cjk":
            return "title", "body_text"
        return "title.cjk", "body_text.cjk"


def _needs_chars(clause: Clause) -> bool:
    """A one-character CJK run cannot be found with bigrams (its character may only be the
    second half of a bigram): such clauses match per character."""
    return any(run.is_cjk and len(run.text) == 1 for run in clause.runs)


def clause_query(clause: Clause, analyzer: str = "cjk") -> dict[str, Any]:
    """One required clause: a phrase of the clause's normalised runs in the title or the body."""
    fields = _Fields(analyzer)
    title, body = fields.match(_needs_chars(clause))
    text = clause.text  # normalised alphanumeric runs joined by spaces, never syntax
    should: list[dict[str, Any]] = [
        {"match_phrase": {title: {"query": text, "boost": TITLE_BOOST}}},
        {"match_phrase": {body: {"query": text}}},
    ]
    query: dict[str, Any] = {"bool": {"should": should, "minimum_should_match": 1}}
    if analyzer != "cjk":
        # The word segmenter only adds to the score of documents the bigrams matched.
        return {"bool": {"must": [query], "should": [
            {"match": {"title": {"query": text, "operator": "and", "boost": TITLE_BOOST}}},
            {"match": {"body_text": {"query": text, "operator": "and"}}},
        ]}}
    return query


def _day_start(day: dt.date) -> str:
    """00:00 of ``day`` in Asia/Shanghai, as ISO 8601 with its offset."""
    return dt.datetime.combine(day, dt.time(), tzinfo=SHANGHAI).isoformat()


def filter_clauses(query: SearchQuery) -> list[dict[str, Any]]:
    filters: list[dict[str, Any]] = []
    if query.site_codes:
        filters.append({"terms": {"site_code": list(query.site_codes)}})
    categories = getattr(query, "categories", None) or []
    if categories:
        filters.append({"terms": {"category": [Category(c).value for c in categories]}})
    if query.column is not None:
        filters.append({"term": {"column_path": query.column}})
    if query.date_from is not None or query.date_to is not None:
        # Full instants with their offset: no time_zone parameter, and none of the range
        # query's "missing date components" filling (which rounds partial dates UP for some
        # operators) can apply.
        bounds: dict[str, Any] = {"format": "strict_date_optional_time"}
        if query.date_from is not None:
            bounds["gte"] = _day_start(query.date_from)
        if query.date_to is not None:
            bounds["lt"] = _day_start(query.date_to + dt.timedelta(days=1))
        filters.append({"range": {"published_at": bounds}})
    return filters


_NEWEST = {"published_at": {"order": "desc", "missing": "_last"}}
_SORTS = {
    "relevance": [{"_score": {"order": "desc"}}, _NEWEST, {"id": {"order": "asc"}}],
    "date": [_NEWEST, {"_score": {"order": "desc"}}, {"id": {"order": "asc"}}],
}


def facet_aggregations() -> dict[str, Any]:
    return {name: {"terms": {"field": field, "size": FACET_SIZE,
                             "order": [{"_count": "desc"}, {"_key": "asc"}]}}
            for name, field in _FACET_FIELDS.items()}


def build_search_body(query: SearchQuery, analyzer: str = "cjk",
                      parsed: ParsedQuery | None = None) -> dict[str, Any] | None:
    """The ``_search`` body of a query, or None when the query has no searchable text."""
    parsed = parsed if parsed is not None else parse_query(query.q)
    if parsed.is_empty:
        return None
    return {
        "query": {"bool": {"must": [clause_query(c, analyzer) for c in parsed.clauses],
                           "filter": filter_clauses(query)}},
        "sort": [dict(s) for s in _SORTS[query.order]],
        "from": query.offset,
        "size": query.size,
        "track_total_hits": True,
        "track_scores": True,
        "_source": list(_SOURCE_FIELDS),
        "aggs": facet_aggregations(),
    }


def build_completion_body(prefix: str, size: int) -> dict[str, Any]:
    """The completion-suggester request of the fast path of ``suggest`` (FST lookup, no
    query): ``size * COMPLETION_OVERSAMPLE`` candidates with the fields the contract sorts by."""
    return {
        "_source": ["id", "title", "url", "site_code", "published_at", "published_at_exact"],
        "suggest": {"title": {"prefix": prefix, "completion": {
            "field": "title_suggest", "size": size * COMPLETION_OVERSAMPLE, "skip_duplicates": False}}},
    }


def parse_completion_response(response: Mapping[str, Any], size: int, prefix: str) -> list[Any] | None:
    """The suggestions of a completion response in the contract's order (newest first, then
    title, then id), or ``None`` when the candidates may be incomplete (the suggester returned
    as many as asked: more may exist), in which case the exact prefix query must answer."""
    entries = ((response.get("suggest") or {}).get("title") or [{}])
    options = entries[0].get("options") or [] if entries else []
    if len(options) >= size * COMPLETION_OVERSAMPLE:
        return None
    folded = ascii_lower(prefix)
    rows = []
    for option in options:
        src = option.get("_source") or {}
        title = src.get("title", "")
        if not ascii_lower(title).startswith(folded):
            continue  # the analyzer folds more than A–Z; the contract folds only A–Z
        published = _published(src)
        rows.append((-(published.timestamp()) if published else float("inf"), title, src["id"], src))
    rows.sort(key=lambda r: r[:3])
    return [Suggestion(id=src["id"], title=src["title"], url=src["url"], site_code=src["site_code"])
            for *_, src in rows[:size]]


def build_suggest_body(prefix: str, size: int, site_codes: Iterable[str] = (),
                       search_after: list[Any] | None = None) -> dict[str, Any]:
    filters: list[dict[str, Any]] = [
        {"prefix": {"title.keyword": {"value": prefix, "case_insensitive": True}}}]
    sites = list(site_codes)
    if sites:
        filters.append({"terms": {"site_code": sites}})
    body: dict[str, Any] = {
        "query": {"bool": {"filter": filters}},
        "sort": [dict(_NEWEST), {"title.keyword": {"order": "asc"}}, {"id": {"order": "asc"}}],
        "size": size,
        "track_total_hits": False,
        "_source": ["id", "title", "url", "site_code"],
    }
    if search_after is not None:
        body["search_after"] = search_after
    return body


# --------------------------------------------------------------------------------------------
# Responses (pure)


def _published(source: Mapping[str, Any]) -> dt.datetime | None:
    value = source.get("published_at_exact") or source.get("published_at")
    if not value:
        return None
    return dt.datetime.fromisoformat(value).astimezone(SHANGHAI)


def parse_facets(aggregations: Mapping[str, Any] | None) -> dict[str, list[Any]]:
    facets: dict[str, list[Any]] = {key: [] for key in FACET_KEYS}
    for name in FACET_KEYS:
        buckets = ((aggregations or {}).get(name) or {}).get("buckets") or []
        values = [(str(b.get("key_as_string", b["key"])), int(b["doc_count"]))
                  for b in buckets if b.get("doc_count")]
        values.sort(key=lambda vc: (-vc[1], vc[0]))
        facets[name] = [FacetValue(value=v, count=c) for v, c in values[:FACET_SIZE]]
    return facets


def parse_search_response(response: Mapping[str, Any], query: SearchQuery,
                          parsed: ParsedQuery | None = None) -> SearchResult:
    """A :class:`SearchResult` from a ``_search`` response; title/snippet highlighting is
    computed here from the source text (escaped, only matches in ``<mark>``)."""
    parsed = parsed if parsed is not None else parse_query(query.q)
    hits_part = response.get("hits") or {}
    total_part = hits_part.get("total", 0)
    total = int(total_part["value"] if isinstance(total_part, Mapping) else total_part)
    highlighter = Highlighter(parsed)
    hits = []
    for hit in hits_part.get("hits") or []:
        src = hit["_source"]
        title, body = src.get("title", ""), src.get("body_text", "")
        title_html, snippet_html = highlighter.document(title, body)
        score = hit.get("_score")
        hits.append(SearchHit(
            id=src.get("id", hit.get("_id")), site_code=src["site_code"],
            column_path=list(src.get("column_path") or []), category=src["category"],
            title=title, title_html=title_html, url=src["url"], published_at=_published(src),
            score=float(score) if score is not None else 0.0, snippet_html=snippet_html))
    return SearchResult(total=total, hits=hits, page=query.page, size=query.size,
                   facets=parse_facets(response.get("aggregations")))


def parse_suggest_response(response: Mapping[str, Any]) -> list[Any]:
    out = []
    for hit in (response.get("hits") or {}).get("hits") or []:
        src = hit["_source"]
        out.append(Suggestion(id=src["id"], title=src["title"], url=src["url"],
                              site_code=src["site_code"]))
    return out


def _es_kwargs(body: Mapping[str, Any]) -> dict[str, Any]:
    """A request body as keyword arguments of the client (``from`` → ``from_``…)."""
    renamed = {"from": "from_", "_source": "source", "_meta": "meta"}
    return {renamed.get(k, k): v for k, v in body.items()}


# --------------------------------------------------------------------------------------------
# URLs


@dataclass
class ConnectionSpec:
    """What an ``http(s)://[user:password@]host:port[/prefix][?analyzer=…]`` URL says."""

    hosts: str
    prefix: str = DEFAULT_PREFIX
    basic_auth: tuple[str, str] | None = None
    analyzer: str | None = None
    options: dict[str, str] = field(default_factory=dict)


def parse_url(url: str) -> ConnectionSpec:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("an Elasticsearch index URL is http(s)://[user:password@]host:port[/index prefix]")
    host = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
    port = parts.port or 9200
    auth = None
    if parts.username is not None:
        auth = (unquote(parts.username), unquote(parts.password or ""))
    path = parts.path.strip("/")
    options = dict(p.split("=", 1) for p in parts.query.split("&") if "=" in p)
    return ConnectionSpec(hosts=f"{parts.scheme}://{host}:{port}", prefix=unquote(path) or DEFAULT_PREFIX,
                          basic_auth=auth, analyzer=options.get("analyzer"), options=options)


def tally_bulk_results(results: Iterable[tuple[bool, Mapping[str, Any]]]) -> tuple[int, list[tuple[str, str]], int]:
    """``(written, failures, removed)`` from the ``(ok, {op_type: item})`` pairs that
    :func:`elasticsearch.helpers.streaming_bulk` yields with ``raise_on_error=False``:
    ``written`` counts successful index operations, ``removed`` deletes that found their
    document; a delete of an unknown id (404 ``not_found``) is not a failure."""
    written, removed = 0, 0
    failures: list[tuple[str, str]] = []
    for ok, item in results:
        op_type, result = next(iter(item.items()))
        if op_type == "delete":
            if ok and result.get("result") == "deleted":
                removed += 1
            if ok or result.get("status") == 404:
                continue
        if ok:
            written += 1
        else:
            failures.append((str(result.get("_id")), _reason(result)))
    return written, failures, removed


def _reason(item: Mapping[str, Any]) -> str:
    error = item.get("error")
    if isinstance(error, Mapping):
        return f"{error.get('type', 'error')}: {error.get('reason', '')}".strip()
    return str(error or f"status {item.get('status')}")


# --------------------------------------------------------------------------------------------
# The backend


class ElasticsearchIndex(SearchIndex):
    """The :class:`SearchIndex` on an Elasticsearch cluster (see the module docstring).

    No request is made before the first use; then the alias is looked up and, if missing, the
    template and a first concrete index are created."""

    def __init__(self, hosts: str = "http://localhost:9200", *, prefix: str = DEFAULT_PREFIX,
                 analyzer: str | None = None, basic_auth: tuple[str, str] | None = None,
                 api_key: str | None = None, client: Any = None, shards: int = 1,
                 replicas: str | int = "0-1", request_timeout: float = 30.0,
                 chunk_size: int = CHUNK_SIZE, max_retries: int = MAX_RETRIES,
                 initial_backoff: float = INITIAL_BACKOFF) -> None:
        if not _PREFIX_RE.match(prefix) or prefix.endswith(("-", ".")) or prefix in (".", ".."):
            raise ValueError(f"invalid index prefix {prefix!r}: lower-case letters, digits, '-', '_', '.'")
        choice = (analyzer or "auto").strip().lower()
        if choice not in ANALYZER_CHOICES:
            raise ValueError(f"unknown analyzer {choice!r}: one of {', '.join(ANALYZER_CHOICES)}")
        self.prefix = self.alias = prefix
        self.hosts = hosts
        self.analyzer_choice = choice
        self.shards, self.replicas = shards, replicas
        self.chunk_size, self.max_retries, self.initial_backoff = chunk_size, max_retries, initial_backoff
        if client is None:
            api_key = api_key or None
            kwargs: dict[str, Any] = {"request_timeout": request_timeout,
                                      "retry_on_timeout": True, "max_retries": 3}
            if api_key:
                kwargs["api_key"] = api_key
            elif basic_auth:
                kwargs["basic_auth"] = basic_auth
            client = Elasticsearch(hosts, **kwargs)
        self._client = client
        self._lock = threading.RLock()
        self._closed = False
        self._state: tuple[str, str | None] | None = None  # (analyzer of the index, schema error)
        self._foreign: str | None = None

    @classmethod
    def from_url(cls, url: str, **kwargs: Any) -> ElasticsearchIndex:
        spec = parse_url(url)
        kwargs.setdefault("prefix", spec.prefix)
        if spec.analyzer:
            kwargs.setdefault("analyzer", spec.analyzer)
        if spec.basic_auth:
            kwargs.setdefault("basic_auth", spec.basic_auth)
        return cls(spec.hosts, **kwargs)

    def __repr__(self) -> str:
        return f"ElasticsearchIndex({self.hosts!r}, prefix={self.prefix!r})"

    # -- cluster state ------------------------------------------------------------------------

    def _call(self, what: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        """Run a client call, turning the client's errors into SearchIndexError."""
        try:
            return fn(*args, **kwargs)
        except ApiError as exc:
            raise ElasticsearchIndexError(f"{what} failed on {self.hosts}: {exc.meta.status} {exc}") from exc
        except TransportError as exc:
            raise ElasticsearchUnavailableError(f"{what}: cannot reach {self.hosts}: {exc}") from exc

    def _resolve_analyzer(self) -> str:
        if self.analyzer_choice != "auto":
            return self.analyzer_choice
        try:
            plugins = self._client.cat.plugins(format="json")
        except ApiError:  # e.g. serverless: no _cat/plugins
            return "cjk"
        except TransportError as exc:
            raise ElasticsearchUnavailableError(f"listing the plugins: cannot reach {self.hosts}: {exc}") from exc
        components = {str(p.get("component", "")) for p in plugins.body}
        if "analysis-ik" in components:
            return "ik"
        if "analysis-smartcn" in components:
            return "smartcn"
        return "cjk"

    def _alias_indices(self) -> list[str]:
        """The concrete indices behind the alias ([] when there is no alias)."""
        try:
            resp = self._client.indices.get_alias(name=self.alias)
        except NotFoundError:
            return []
        return sorted(resp.body)

    def _inspect(self) -> tuple[str, str | None]:
        """(analyzer of the current index, schema error or None); creates a missing index."""
        rebuild = "run `blgw index rebuild` to recreate it from the store"
        indices = self._call("looking up the alias", self._alias_indices)
        if not indices:
            if self._call("checking the index", self._client.indices.exists, index=self.alias).body:
                self._foreign = (f"{self.alias} on {self.hosts} is a concrete index, not the alias "
                                 "this program manages; check BLGW_INDEX_URL")
                return "cjk", self._foreign
            analyzer = self._resolve_analyzer()
            try:
                self._create_index(analyzer, alias=True)
            except ElasticsearchIndexError:
                # Another process created it first (the alias then has its write index).
                if not self._call("looking up the alias", self._alias_indices):
                    raise
                return self._inspect()
            return analyzer, None
        mappings = self._call("reading the mapping", self._client.indices.get_mapping, index=self.alias).body
        metas = [(m.get("mappings") or {}).get("_meta") or {} for m in mappings.values()]
        if not all("blgw_schema_version" in meta for meta in metas):
            self._foreign = (f"the alias {self.alias} on {self.hosts} points to indices that are not "
                             "bl-gateway search indices; check BLGW_INDEX_URL")
            return "cjk", self._foreign
        meta = metas[0]
        analyzer = str(meta.get("analyzer", "cjk"))
        found = (str(meta.get("blgw_schema_version")), str(meta.get("analyzer_version")))
        wanted = (SCHEMA_VERSION, str(ANALYZER_VERSION))
        if found != wanted or analyzer not in ANALYZER_CHOICES[1:]:
            return analyzer, (f"the search index {self.alias} on {self.hosts} has schema_version "
                              f"{found[0]} / analyzer_version {found[1]}, this program needs "
                              f"{wanted[0]} / {wanted[1]}; {rebuild}")
        return analyzer, None

    def _create_index(self, analyzer: str, *, alias: bool, loading: bool = False) -> str:
        name = concrete_index_name(self.prefix)
        template = index_template(self.prefix, analyzer, shards=self.shards, replicas=self.replicas)
        self._call("storing the index template", self._client.indices.put_index_template,
                   name=self.prefix, **_es_kwargs(template))
        settings = index_settings(shards=self.shards, replicas=self.replicas)
        if loading:
            settings["index"]["refresh_interval"] = "-1"
        body: dict[str, Any] = {"settings": settings, "mappings": index_mappings(analyzer)}
        if alias:
            body["aliases"] = {self.alias: {"is_write_index": True}}
        self._call(f"creating the index {name}", self._client.indices.create, index=name, **body)
        return name

    def _ready(self) -> str:
        """The analyzer of the current index; raises when closed or of another schema."""
        with self._lock:
            if self._closed:
                raise IndexClosedError(f"the search index {self!r} is closed")
            if self._state is None:
                self._state = self._inspect()
            analyzer, error = self._state
            if error is not None:
                raise IndexSchemaError(error)
            return analyzer

    def _check_open(self) -> None:
        if self._closed:
            raise IndexClosedError(f"the search index {self!r} is closed")

    # -- writes -------------------------------------------------------------------------------

    def _bulk(self, actions: Iterable[dict[str, Any]], operation: str) -> tuple[int, list[tuple[str, str]], int]:
        """Run bulk actions; (ok count, failures, deletes that removed a document). Items the
        cluster could not take now (429, 5xx, after the helper's retries) make the whole call
        fail (an :class:`ElasticsearchIndexError`, not a :class:`BulkWriteError`): they say
        nothing about the documents, and the caller retries the call."""
        stream = streaming_bulk(
            self._client, actions, chunk_size=self.chunk_size, max_retries=self.max_retries,
            initial_backoff=self.initial_backoff, raise_on_error=False, yield_ok=True)
        transient: list[str] = []

        def watch(results: Iterable[tuple[bool, Mapping[str, Any]]]) -> Iterator[tuple[bool, Mapping[str, Any]]]:
            for ok, item in results:
                result = next(iter(item.values()))
                if not ok and _transient(result):
                    transient.append(f"{result.get('_id')}: {_reason(result)}")
                yield ok, item

        try:
            written, failures, removed = tally_bulk_results(watch(stream))
        except ApiError as exc:
            raise ElasticsearchIndexError(f"{operation} failed on {self.hosts}: {exc.meta.status} {exc}") from exc
        except TransportError as exc:
            raise ElasticsearchUnavailableError(f"{operation}: cannot reach {self.hosts}: {exc}") from exc
        if transient:
            raise ElasticsearchIndexError(f"{operation} on {self.hosts}: the cluster could not take "
                                          f"{len(transient)} document(s) now (e.g. {transient[0]}); retry later")
        return written, failures, removed

    def _refresh(self, index: str) -> None:
        self._call("refreshing", self._client.indices.refresh, index=index)

    def upsert(self, articles: Iterable[Article]) -> int:
        self._ready()
        written, failures, _ = self._bulk(bulk_index_actions(articles, self.alias), "bulk indexing")
        self._refresh(self.alias)
        if failures:
            raise BulkWriteError("upsert", failures, written)
        return written

    def delete(self, ids: Iterable[str]) -> int:
        self._ready()
        _, failures, removed = self._bulk(bulk_delete_actions(ids, self.alias), "bulk deleting")
        self._refresh(self.alias)
        if failures:
            raise BulkWriteError("delete", failures, removed)
        return removed

    def rebuild(self, documents: Iterable[Article]) -> int:
        with self._lock:
            self._check_open()
            if self._state is None:
                self._state = self._inspect()
            if self._foreign:
                raise IndexSchemaError(f"refusing to rebuild: {self._foreign}")
        analyzer = self._resolve_analyzer()
        # The load runs without the lock: reads (even from inside the generator) use the alias,
        # which still points to the old index.
        new = self._create_index(analyzer, alias=False, loading=True)
        try:
            written, failures, _ = self._bulk(bulk_index_actions(documents, new), "bulk loading")
            if failures:
                raise BulkWriteError("rebuild (nothing swapped)", failures, written)
            self._call("restoring the refresh interval", self._client.indices.put_settings,
                       index=new, settings={"index": {"refresh_interval": None}})
            self._refresh(new)
            with self._lock:
                self._check_open()
                old = self._call("looking up the alias", self._alias_indices)
                self._call("swapping the alias", self._client.indices.update_aliases,
                           actions=alias_swap_actions(self.alias, old, new))
                self._state = (analyzer, None)
        except BaseException:
            self._delete_indices([new])
            raise
        self._delete_indices([i for i in old if i != new])
        return written

    def _delete_indices(self, names: list[str]) -> None:
        for name in names:
            try:
                self._client.indices.delete(index=name, ignore_unavailable=True)
            except (ApiError, TransportError) as exc:
                log.warning("could not delete the index %s on %s: %s", name, self.hosts, exc)

    def clear(self) -> None:
        """``rebuild([])``: a new empty index of the current schema behind the alias."""
        self.rebuild([])

    def drop(self) -> None:
        """Delete the alias's indices, every ``{prefix}-v*-*`` index of this program and the
        template (test clean-up, decommissioning). Other indices are never touched."""
        self._check_open()
        owned = _owned_index_re(self.prefix)
        names = set(self._call("looking up the alias", self._alias_indices))
        found = self._call("listing indices", self._client.indices.get,
                           index=f"{self.prefix}-v*", expand_wildcards="all", allow_no_indices=True).body
        names.update(n for n in found if owned.match(n))
        self._delete_indices(sorted(n for n in names if owned.match(n)))
        with contextlib.suppress(NotFoundError):
            self._client.indices.delete_index_template(name=self.prefix)
        with self._lock:
            self._state = None

    # -- reads --------------------------------------------------------------------------------

    def get(self, id: str) -> Article | None:
        self._ready()
        try:
            resp = self._client.get(index=self.alias, id=id, source_includes=["article"])
        except NotFoundError:
            return None
        except TransportError as exc:
            raise ElasticsearchUnavailableError(f"get {id!r}: cannot reach {self.hosts}: {exc}") from exc
        except ApiError as exc:
            raise ElasticsearchIndexError(f"get {id!r} failed on {self.hosts}: {exc}") from exc
        return Article.model_validate_json(json.dumps(resp.body["_source"]["article"]))

    def count(self) -> int:
        self._ready()
        return int(self._call("count", self._client.count, index=self.alias).body["count"])

    def search(self, query: SearchQuery) -> SearchResult:
        analyzer = self._ready()
        parsed = parse_query(query.q)
        body = build_search_body(query, analyzer, parsed)
        if body is None:
            return SearchResult(total=0, hits=[], page=query.page, size=query.size,
                           facets={key: [] for key in FACET_KEYS})
        resp = self._call("search", self._client.search, index=self.alias, **_es_kwargs(body))
        return parse_search_response(resp.body, query, parsed)

    def suggest(self, prefix: str, size: int = 8, site_codes: list[str] | None = None) -> list[Any]:
        size = check_suggest_size(size)
        self._ready()
        text = suggest_prefix(prefix)
        if text is None:
            return []
        sites = list(dict.fromkeys(s.strip() for s in site_codes or () if isinstance(s, str) and s.strip()))
        if len(text) > KEYWORD_IGNORE_ABOVE:
            return []  # longer than any title in the keyword index
        if not sites and len(text) < COMPLETION_MAX_INPUT:
            # Fast path: the completion suggester (an in-memory FST). Its answer is used only
            # when it is provably complete; otherwise the exact prefix query below answers.
            try:
                resp = self._call("suggest", self._client.search, index=self.alias,
                                  **_es_kwargs(build_completion_body(text, size))).body
            except ElasticsearchIndexError as exc:
                log.warning("completion suggest(%r) failed, using the prefix query: %s", text[:50], exc)
            else:
                quick = parse_completion_response(resp, size, text)
                if quick is not None:
                    return quick
        folded = ascii_lower(text)
        found: list[Any] = []
        search_after = None
        for _ in range(10):  # the post-check below only drops non-ASCII case variants: rare
            body = build_suggest_body(text, size, sites, search_after)
            try:
                resp = self._call("suggest", self._client.search, index=self.alias, **_es_kwargs(body)).body
            except ElasticsearchIndexError as exc:
                # No prefix may raise: a request the cluster rejects (400, e.g. an automaton
                # too complex to build for a pathological prefix) matches nothing.
                if getattr(getattr(exc.__cause__, "meta", None), "status", None) == 400:
                    log.warning("suggest(%r) rejected by the cluster: %s", text[:50], exc)
                    return found
                raise
            hits = resp["hits"]["hits"]
            for suggestion in parse_suggest_response(resp):
                # case_insensitive may fold more than A–Z; the contract folds only A–Z.
                if ascii_lower(suggestion.title).startswith(folded):
                    found.append(suggestion)
                    if len(found) >= size:
                        return found
            if len(hits) < size:
                break
            search_after = hits[-1]["sort"]
        return found

    # -- lifecycle ----------------------------------------------------------------------------

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            try:
                self._client.close()
            except Exception as exc:  # noqa: BLE001 - closing is best effort
                log.debug("closing the Elasticsearch client: %s", exc)
