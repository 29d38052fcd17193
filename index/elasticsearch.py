"""The Elasticsearch search backend (official ``elasticsearch`` Python client 8.x, which talks
to 8.x and 9.x clusters; see docs/elasticsearch.md for setup, security and the role to create).

Layout on the cluster (``prefix`` defaults to ``blgw-articles``)
    * a composable index template ``{prefix}`` for ``{prefix}-*`` with the settings and mappings
      below (:func:`index_template`), priority ``1000 + len(prefix)`` so that a longer prefix
      (``blgw-test-x``) never collides with a shorter one at the same priority;
    * concrete indices ``{prefix}-v{SCHEMA_VERSION}-{UTC timestamp}``, created with the same
      settings and mappings explicitly (so another, higher-priority template cannot change them);
    * the alias ``{prefix}``, through which every read and write goes. Writes carry
      ``require_alias``: if the alias is missing they fail instead of auto-creating a concrete
      index named like it.

Rebuild (:meth:`ElasticsearchIndex.rebuild`; :meth:`~ElasticsearchIndex.clear` is ``rebuild([])``)
    creates a new concrete index with a private loading alias ``{new}-loading`` (the bulk load
    goes through it with ``require_alias``, so nothing can be auto-created if the index
    disappears meanwhile), loads it with refreshes disabled, restores the refresh interval,
    refreshes, then makes ONE ``_aliases`` call: ``add`` the alias to the new index, ``remove``
    the loading alias, ``remove_index`` every old index behind the alias (old indices go in the
    same atomic call: none is left behind). That call is sent once, never retried (a retry of a
    call the master applied would fail and look like a failure); on ANY error the alias is read
    again and the new index is kept when the alias points to it (the swap happened), deleted
    otherwise. No code path deletes the index behind the alias. A rebuild that crashed leaves
    its half-loaded index: the next rebuild deletes such orphans (owned indices not behind the
    alias, older than :data:`ORPHAN_AGE`), and ``blgw index check`` lists them. Rebuilds and
    index syncs exclude each other through the store (:mod:`gateway.ops.indexing`), so no write
    lands in an index that is about to be replaced.

Text analysis: the same tokens as the embedded index, computed in Python
    ``title_tokens`` / ``body_tokens`` hold :func:`index.tokenize.analyze` of the text (NFKC,
    lower case, CJK bigrams and end markers, word runs) and ``title_chars`` / ``body_chars`` the
    aligned per-character stream (:func:`index.tokenize.char_stream`), joined by spaces and
    indexed with a whitespace tokenizer. Elasticsearch has no NFKC without the ICU plugin, and
    its ``standard`` tokenizer splits runs differently; precomputing the tokens makes both
    backends match exactly the same token sequences (:func:`index.tokenize.clause_tokens`). These
    fields are left out of ``_source`` (the source keeps the filter fields and ``article``).

    With ``analyzer="ik"`` (plugin analysis-ik on every node) or ``"smartcn"`` the fields
    ``title_words`` / ``body_words`` are also indexed with the word segmenter; they only add to
    the score (``should``), never decide a match, so both backends find the same documents.
    ``"auto"`` asks ``GET _nodes/plugins`` (cluster privilege ``monitor``) whether every node
    has analysis-ik, else analysis-smartcn, else uses cjk; without that privilege it fails
    loudly instead of guessing. The analyzer an index was built with is in its mapping
    ``_meta``; queries follow the index, not the setting.

Queries
    Built only from the validated :class:`SearchQuery` (:func:`build_search_body`): every clause
    is a ``bool.should`` over the title (boost 3) and the body of the clause's token sequence:
    ``match_phrase`` on the ``*_tokens`` field, a ``term`` on ``*_chars`` for a one-character
    query, and for a phrase ending in one CJK character a ``span_near`` (slop 0, in order) whose
    last clause is that character on ``*_chars`` masked as ``*_tokens``
    (``span_field_masking``: the streams are aligned, so this is "the token here starts with
    it", FTS5's ``"…"*``). All clauses in ``bool.must`` (AND). Tokens are normalised
    alphanumeric runs, never query syntax. Filters are ``bool.filter``; sorting, paging and
    facets are fixed structures; a ``preference`` string derived from the query keeps the pages
    of one query on the same shard copies. Highlighting is :mod:`index.highlight` on the
    returned text, exactly as in the embedded backend (it escapes the text and marks matches;
    Elasticsearch's highlighter is not used).

Suggest
    An exact ``prefix`` query (``case_insensitive``) on the ``title`` keyword, sorted by
    ``published_at`` desc (missing last), ``title``, ``id`` — the contract's order, computed by
    the cluster (the completion suggester is not used: it orders by weight only and cuts its
    inputs).

Reads never create anything: with no alias yet, searches find nothing, ``count`` is 0 and
``get`` is None (a read-only API key works). What the process knows of the index (its analyzer,
schema error) is re-read every :data:`STATE_TTL` seconds and after any failed request, so a
running ``blgw serve`` follows a rebuild made by another process.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import re
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from elastic_transport import TlsError
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
    file_kinds,
    suggest_prefix,
)
from index.es_connection import DEFAULT_PREFIX, ConnectionSpec, parse_url
from index.highlight import Highlighter
from index.tokenize import ANALYZER_VERSION, ParsedQuery, analyze, char_stream, clause_tokens, normalize, parse_query
from normalizers.models import SHANGHAI, Article, Category

__all__ = [
    "ANALYZER_CHOICES",
    "DEFAULT_PREFIX",
    "GATEWAY_PRIVILEGES",
    "ORPHAN_AGE",
    "READER_PRIVILEGES",
    "SCHEMA_VERSION",
    "STATE_TTL",
    "BulkWriteError",
    "ConnectionSpec",
    "ElasticsearchIndex",
    "ElasticsearchIndexError",
    "IndexCheck",
    "alias_swap_actions",
    "analysis_settings",
    "article_source",
    "build_search_body",
    "build_suggest_body",
    "bulk_delete_actions",
    "bulk_index_actions",
    "clause_query",
    "index_mappings",
    "index_settings",
    "index_template",
    "parse_search_response",
    "parse_suggest_response",
    "parse_url",
    "tally_bulk_results",
]

log = logging.getLogger(__name__)

SCHEMA_VERSION = "3"
"""Bump when the mappings/settings change; indices of another version must be rebuilt.
2: precomputed token streams (the embedded index's tokens), no completion field, title and body
out of ``_source``. 3: ``file_kinds`` (the attachments' types, a filter); ``body_text`` holds the
attachments' text after the body."""

ANALYZER_CHOICES = ("auto", "cjk", "ik", "smartcn")

TITLE_BOOST = 3.0
CHUNK_SIZE = 500
MAX_RETRIES = 5
INITIAL_BACKOFF = 2.0
KEYWORD_IGNORE_ABOVE = 8191  # characters: 32766 bytes (the Lucene term limit) / 4
MAX_TOKEN_LENGTH = 4096  # whitespace tokenizer: longer word runs are split (16 KiB < the term limit)
STATE_TTL = 30.0
"""Seconds a process trusts what it read about the index (analyzer, schema) before reading it
again: a rebuild or a new analyzer made by another process is followed within this time."""
ORPHAN_AGE = dt.timedelta(hours=6)
"""An owned index not behind the alias and older than this is a crashed rebuild's leftover."""
LOADING_SUFFIX = "-loading"

READER_PRIVILEGES = ("read", "view_index_metadata")
"""Index privileges on ``{prefix}`` and ``{prefix}-*`` that ``blgw serve`` needs."""
GATEWAY_PRIVILEGES = ("read", "view_index_metadata", "write", "create_index", "delete_index", "manage")
"""Index privileges that sync, rebuild and restore need (``manage``: the alias swap)."""
GATEWAY_CLUSTER_PRIVILEGES = ("manage_index_templates",)
"""Cluster privileges that rebuild needs; ``monitor`` too when the analyzer is ``auto``."""

_TOKEN_FIELDS = ("title_tokens", "title_chars", "body_tokens", "body_chars")
_WORD_FIELDS = ("title_words", "body_words")
_SOURCE_FIELDS = ["id", "site_code", "column_path", "category", "published_at", "article.title",
                  "article.source_url", "article.published_at", "article.body_text"]
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


def _index_missing(result: Mapping[str, Any]) -> bool:
    """A failed bulk item whose target index (or alias) does not exist: nothing was applied."""
    error = result.get("error")
    return isinstance(error, Mapping) and error.get("type") in ("index_not_found_exception",
                                                                 "alias_not_found_exception")


# --------------------------------------------------------------------------------------------
# Settings, mappings, template (pure)


def _words_analysis(analyzer: str) -> dict[str, str] | None:
    """Analyzer parameters of the score-only ``*_words`` fields (None: no such fields)."""
    if analyzer == "cjk":
        return None
    if analyzer == "ik":
        return {"analyzer": "ik_max_word", "search_analyzer": "ik_smart"}
    if analyzer == "smartcn":
        return {"analyzer": "smartcn"}
    raise ValueError(f"unknown analyzer {analyzer!r}: one of cjk, ik, smartcn")


def analysis_settings() -> dict[str, Any]:
    """The ``index.analysis`` settings: one analyzer that splits the precomputed token streams
    at the spaces between tokens (tokens never contain white space)."""
    return {
        "tokenizer": {"blgw_tokens": {"type": "whitespace", "max_token_length": MAX_TOKEN_LENGTH}},
        "analyzer": {"blgw_tokens": {"type": "custom", "tokenizer": "blgw_tokens"}},
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


def index_mappings(analyzer: str) -> dict[str, Any]:
    """The mappings (``dynamic: strict``: a field this program does not know is an error)."""
    words = _words_analysis(analyzer)
    tokens = {"type": "text", "analyzer": "blgw_tokens"}
    properties: dict[str, Any] = {
        "id": {"type": "keyword"},
        "site_code": {"type": "keyword"},
        "category": {"type": "keyword"},
        "column_path": {"type": "keyword"},
        "column": {"type": "keyword"},
        "year": {"type": "keyword"},
        "published_at": {"type": "date"},
        "file_kinds": {"type": "keyword"},  # index.base.FILE_KINDS of the attachments
        "title": {"type": "keyword", "ignore_above": KEYWORD_IGNORE_ABOVE},  # suggest, sort
        **{name: dict(tokens) for name in _TOKEN_FIELDS},
        "article": {"type": "object", "enabled": False},
    }
    excluded = list(_TOKEN_FIELDS)
    if words is not None:
        properties.update({name: {"type": "text", **words} for name in _WORD_FIELDS})
        excluded.extend(_WORD_FIELDS)
    return {
        "dynamic": "strict",
        "_meta": {"blgw_schema_version": SCHEMA_VERSION, "analyzer": analyzer,
                  "analyzer_version": ANALYZER_VERSION},
        "_source": {"excludes": excluded},
        "properties": properties,
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
    return re.compile(rf"^{re.escape(prefix)}-v\d+-(\d{{20}})$")


def index_created_at(prefix: str, name: str) -> dt.datetime | None:
    """When an owned index was created (from its name), or None for another index."""
    match = _owned_index_re(prefix).match(name)
    if match is None:
        return None
    return dt.datetime.strptime(match.group(1), "%Y%m%d%H%M%S%f").replace(tzinfo=dt.UTC)


def loading_alias(index: str) -> str:
    """The private alias a rebuild loads ``index`` through."""
    return index + LOADING_SUFFIX


def alias_swap_actions(alias: str, old_indices: Iterable[str], new_index: str) -> list[dict[str, Any]]:
    """The ``actions`` of the ONE ``POST _aliases`` call of a rebuild: the alias to the new
    index, its loading alias removed, every old index behind the alias deleted (atomically)."""
    actions: list[dict[str, Any]] = [
        {"add": {"index": new_index, "alias": alias, "is_write_index": True}},
        {"remove": {"index": new_index, "alias": loading_alias(new_index)}},
    ]
    actions.extend({"remove_index": {"index": old}} for old in sorted(set(old_indices)) if old != new_index)
    return actions


# --------------------------------------------------------------------------------------------
# Documents and bulk actions (pure)


def _millis_iso(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _streams(text: str) -> tuple[str, str]:
    tokens = analyze(text)
    return " ".join(tokens), " ".join(char_stream(tokens))


def article_source(article: Article, analyzer: str = "cjk") -> dict[str, Any]:
    """The document sent for one article (``*_tokens``, ``*_chars`` and ``*_words`` are indexed,
    not kept in ``_source``)."""
    if not isinstance(article, Article):
        raise TypeError(f"upsert takes Article items, not {type(article).__name__}")
    published = article.published_at
    title_tokens, title_chars = _streams(article.title)
    body_tokens, body_chars = _streams(article.body_text)
    source: dict[str, Any] = {
        "id": article.id,
        "site_code": article.site_code,
        "category": article.category.value,
        "column_path": list(article.column_path),
        "column": article.column_path[-1] if article.column_path else None,
        "year": str(published.astimezone(SHANGHAI).year) if published is not None else None,
        "published_at": _millis_iso(published) if published is not None else None,
        "file_kinds": file_kinds(article),
        "title": article.title,
        "title_tokens": title_tokens,
        "title_chars": title_chars,
        "body_tokens": body_tokens,
        "body_chars": body_chars,
        "article": json.loads(article.model_dump_json()),
    }
    if _words_analysis(analyzer) is not None:
        source["title_words"] = normalize(article.title)
        source["body_words"] = normalize(article.body_text)
    return source


def bulk_index_actions(articles: Iterable[Article], index: str, analyzer: str = "cjk") -> Iterator[dict[str, Any]]:
    """``index`` actions (create or replace) for :func:`elasticsearch.helpers.streaming_bulk`."""
    for article in articles:
        source = article_source(article, analyzer)
        yield {"_op_type": "index", "_index": index, "_id": source["id"], "_source": source}


def bulk_delete_actions(ids: Iterable[str], index: str) -> Iterator[dict[str, Any]]:
    for id_ in ids:
        if not isinstance(id_, str):
            raise TypeError(f"delete takes string ids, not {type(id_).__name__}")
        yield {"_op_type": "delete", "_index": index, "_id": id_}


# --------------------------------------------------------------------------------------------
# Query DSL (pure)


def _field_query(tokens: tuple[str, ...], prefix: bool, field: str, boost: float | None) -> dict[str, Any]:
    """The token sequence of a clause at consecutive positions of one field (``title`` or
    ``body``); see :func:`index.tokenize.clause_tokens`."""
    token_field, chars_field = f"{field}_tokens", f"{field}_chars"
    boosted = {"boost": boost} if boost is not None else {}
    if not prefix:
        return {"match_phrase": {token_field: {"query": " ".join(tokens), **boosted}}}
    if len(tokens) == 1:
        return {"term": {chars_field: {"value": tokens[0], **boosted}}}
    spans: list[dict[str, Any]] = [{"span_term": {token_field: token}} for token in tokens[:-1]]
    spans.append({"span_field_masking": {"query": {"span_term": {chars_field: tokens[-1]}},
                                         "field": token_field}})
    return {"span_near": {"clauses": spans, "slop": 0, "in_order": True, **boosted}}


def clause_query(clause: Any, analyzer: str = "cjk") -> dict[str, Any]:
    """One required clause: its token sequence in the title or in the body."""
    tokens, prefix = clause_tokens(clause)
    query: dict[str, Any] = {"bool": {"should": [
        _field_query(tokens, prefix, "title", TITLE_BOOST),
        _field_query(tokens, prefix, "body", None),
    ], "minimum_should_match": 1}}
    if _words_analysis(analyzer) is not None:
        # The word segmenter only adds to the score of documents the tokens matched.
        text = clause.text
        return {"bool": {"must": [query], "should": [
            {"match": {"title_words": {"query": text, "operator": "and", "boost": TITLE_BOOST}}},
            {"match": {"body_words": {"query": text, "operator": "and"}}},
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
    if query.file_kinds:
        filters.append({"terms": {"file_kinds": list(query.file_kinds)}})
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


def search_preference(query: SearchQuery) -> str:
    """The ``preference`` of a query: the same for every page of one query (so its pages are
    read from the same shard copies, whose scores agree), different across queries (spreading
    the load over the replicas)."""
    key = query.model_dump_json(exclude={"page"})
    return "blgw-" + hashlib.sha1(key.encode("utf-8"), usedforsecurity=False).hexdigest()[:16]


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


def build_suggest_body(prefix: str, size: int, site_codes: Iterable[str] = (),
                       search_after: list[Any] | None = None) -> dict[str, Any]:
    filters: list[dict[str, Any]] = [
        {"prefix": {"title": {"value": prefix, "case_insensitive": True}}}]
    sites = list(site_codes)
    if sites:
        filters.append({"terms": {"site_code": sites}})
    body: dict[str, Any] = {
        "query": {"bool": {"filter": filters}},
        "sort": [dict(_NEWEST), {"title": {"order": "asc"}}, {"id": {"order": "asc"}}],
        "size": size,
        "track_total_hits": False,
        "_source": ["id", "site_code", "article.title", "article.source_url"],
    }
    if search_after is not None:
        body["search_after"] = search_after
    return body


# --------------------------------------------------------------------------------------------
# Responses (pure)


def _published(source: Mapping[str, Any]) -> dt.datetime | None:
    value = (source.get("article") or {}).get("published_at") or source.get("published_at")
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
        article = src.get("article") or {}
        title, body = article.get("title", ""), article.get("body_text", "")
        title_html, snippet_html, attachment = highlighter.hit(title, body)
        score = hit.get("_score")
        hits.append(SearchHit(
            id=src.get("id", hit.get("_id")), site_code=src["site_code"],
            column_path=list(src.get("column_path") or []), category=src["category"],
            title=title, title_html=title_html, url=article["source_url"], published_at=_published(src),
            score=float(score) if score is not None else 0.0, snippet_html=snippet_html, attachment=attachment))
    return SearchResult(total=total, hits=hits, page=query.page, size=query.size,
                        facets=parse_facets(response.get("aggregations")))


def parse_suggest_response(response: Mapping[str, Any]) -> list[Any]:
    out = []
    for hit in (response.get("hits") or {}).get("hits") or []:
        src = hit["_source"]
        article = src.get("article") or {}
        out.append(Suggestion(id=src["id"], title=article["title"], url=article["source_url"],
                              site_code=src["site_code"]))
    return out


def _es_kwargs(body: Mapping[str, Any]) -> dict[str, Any]:
    """A request body as keyword arguments of the client (``from`` → ``from_``…)."""
    renamed = {"from": "from_", "_source": "source", "_meta": "meta"}
    return {renamed.get(k, k): v for k, v in body.items()}


def tally_bulk_results(results: Iterable[tuple[bool, Mapping[str, Any]]]) -> tuple[int, list[tuple[str, str]], int]:
    """``(written, failures, removed)`` from the ``(ok, {op_type: item})`` pairs that
    :func:`elasticsearch.helpers.streaming_bulk` yields with ``raise_on_error=False``:
    ``written`` counts successful index operations, ``removed`` deletes that found their
    document; a delete of an unknown id (404 with ``result: not_found``) is not a failure, a
    delete whose INDEX is missing (404 ``index_not_found_exception``) is."""
    written, removed = 0, 0
    failures: list[tuple[str, str]] = []
    for ok, item in results:
        op_type, result = next(iter(item.items()))
        if op_type == "delete":
            if ok and result.get("result") == "deleted":
                removed += 1
            if ok or (result.get("status") == 404 and result.get("result") == "not_found"
                      and not result.get("error")):
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


def _auto_analyzer(available: Iterable[str]) -> str:
    """What ``analyzer="auto"`` uses, given the analyzers every node has: ik, else smartcn, else cjk."""
    found = set(available)
    return "ik" if "ik" in found else "smartcn" if "smartcn" in found else "cjk"


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:400]


def _status(exc: BaseException) -> int | None:
    meta = getattr(exc, "meta", None)
    status = getattr(meta, "status", None)
    return status if isinstance(status, int) else None


def _error_type(exc: BaseException) -> str:
    body = getattr(exc, "body", None)
    if isinstance(body, Mapping):
        error = body.get("error")
        if isinstance(error, Mapping):
            return str(error.get("type", ""))
    return ""


# --------------------------------------------------------------------------------------------
# The backend


@dataclass
class _State:
    """What this process read about the index, and when."""

    analyzer: str | None  # of the index behind the alias; None: no index yet
    error: str | None  # schema / foreign index problem
    foreign: bool = False
    indices: tuple[str, ...] = ()
    read_at: float = field(default_factory=time.monotonic)


@dataclass
class IndexCheck:
    """What ``blgw index check`` found: ``lines`` to print, ``problems`` (each one line, empty
    when all is well), ``warnings`` (worth saying, not failures)."""

    lines: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    reachable: bool = True


class ElasticsearchIndex(SearchIndex):
    """The :class:`SearchIndex` on an Elasticsearch cluster (see the module docstring).

    No request is made before the first use. ``client_options`` are the keyword arguments of
    :class:`elasticsearch.Elasticsearch` (hosts or cloud_id, TLS, auth: see
    :func:`index.es_connection.client_options`); ``hosts``, ``basic_auth`` and ``api_key`` are
    the short form for a plain connection."""

    def __init__(self, hosts: str | None = "http://localhost:9200", *, prefix: str = DEFAULT_PREFIX,
                 analyzer: str | None = None, basic_auth: tuple[str, str] | None = None,
                 api_key: str | None = None, client: Any = None, client_options: Mapping[str, Any] | None = None,
                 where: str | None = None, shards: int = 1,
                 replicas: str | int = "0-1", request_timeout: float = 30.0,
                 chunk_size: int = CHUNK_SIZE, max_retries: int = MAX_RETRIES,
                 initial_backoff: float = INITIAL_BACKOFF, state_ttl: float = STATE_TTL) -> None:
        if not _PREFIX_RE.match(prefix) or prefix.endswith(("-", ".")) or prefix in (".", ".."):
            raise ValueError(f"invalid index prefix {prefix!r}: lower-case letters, digits, '-', '_', '.'")
        choice = (analyzer or "auto").strip().lower()
        if choice not in ANALYZER_CHOICES:
            raise ValueError(f"unknown analyzer {choice!r}: one of {', '.join(ANALYZER_CHOICES)}")
        self.prefix = self.alias = prefix
        self.hosts = where or hosts or "Elastic Cloud"
        self.analyzer_choice = choice
        self.shards, self.replicas = shards, replicas
        self.chunk_size, self.max_retries, self.initial_backoff = chunk_size, max_retries, initial_backoff
        self.state_ttl = state_ttl
        if client is None:
            kwargs: dict[str, Any] = {"request_timeout": request_timeout,
                                      "retry_on_timeout": True, "max_retries": 3}
            if client_options is not None:
                kwargs.update(client_options)
            else:
                kwargs["hosts"] = hosts
                if api_key:
                    kwargs["api_key"] = api_key
                elif basic_auth:
                    kwargs["basic_auth"] = basic_auth
            client = Elasticsearch(**kwargs)
        self._client = client
        self._lock = threading.RLock()
        self._closed = False
        self._state: _State | None = None

    @classmethod
    def from_url(cls, url: str, **kwargs: Any) -> ElasticsearchIndex:
        spec = parse_url(url)
        kwargs.setdefault("prefix", spec.prefix)
        if spec.analyzer:
            kwargs.setdefault("analyzer", spec.analyzer)
        if spec.basic_auth and "client_options" not in kwargs:
            kwargs.setdefault("basic_auth", spec.basic_auth)
        return cls(spec.hosts, **kwargs)

    def __repr__(self) -> str:
        return f"ElasticsearchIndex({self.hosts!r}, prefix={self.prefix!r})"

    # -- requests -----------------------------------------------------------------------------

    def _call(self, what: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        """Run a client call, turning the client's errors into SearchIndexError (and forgetting
        what this process knew of the index: the next call reads it again)."""
        try:
            return fn(*args, **kwargs)
        except ApiError as exc:
            self._state = None
            raise ElasticsearchIndexError(f"{what} failed on {self.hosts}: {_status(exc)} {exc}") from exc
        except TransportError as exc:
            self._state = None
            raise ElasticsearchUnavailableError(f"{what}: cannot reach {self.hosts}: {exc}") from exc

    def _once(self) -> Any:
        """The client for a request that must not be retried by the transport."""
        return self._client.options(max_retries=0, retry_on_timeout=False)

    # -- cluster state ------------------------------------------------------------------------

    def available_analyzers(self) -> tuple[str, ...]:
        """The analyzers every node of the cluster can run (``cjk`` always; ``ik`` /
        ``smartcn`` when every node has the plugin). Needs the cluster privilege ``monitor``."""
        try:
            resp = self._client.nodes.info(metric="plugins", filter_path="nodes.*.plugins.name")
        except ApiError as exc:
            if _status(exc) in (401, 403):
                raise ElasticsearchIndexError(
                    f"cannot tell which analysis plugins the nodes of {self.hosts} have: the credentials "
                    "lack the cluster privilege 'monitor' (GET _nodes/plugins); grant it, or set "
                    "BLGW_ES_ANALYZER=cjk|ik|smartcn instead of auto") from exc
            log.warning("GET _nodes/plugins failed on %s (%s): using the cjk analyzer", self.hosts, exc)
            return ("cjk",)
        except TransportError as exc:
            raise ElasticsearchUnavailableError(f"listing the plugins: cannot reach {self.hosts}: {exc}") from exc
        nodes = list(((resp.body or {}).get("nodes") or {}).values())
        found = ["cjk"]
        for plugin, name in (("analysis-ik", "ik"), ("analysis-smartcn", "smartcn")):
            if nodes and all(plugin in {p.get("name") for p in node.get("plugins") or []} for node in nodes):
                found.append(name)
        return tuple(found)

    def _resolve_analyzer(self) -> str:
        if self.analyzer_choice != "auto":
            return self.analyzer_choice
        return _auto_analyzer(self.available_analyzers())

    def _alias_indices(self) -> list[str]:
        """The concrete indices behind the alias ([] when there is no alias)."""
        try:
            resp = self._client.indices.get_alias(name=self.alias)
        except NotFoundError:
            return []
        return sorted(resp.body)

    def _read_state(self) -> _State:
        """Read what the alias points to and its mapping (never creates anything)."""
        rebuild = "run `blgw index rebuild` to recreate it from the store"
        indices = self._call("looking up the alias", self._alias_indices)
        if not indices:
            if self._call("checking the index", self._client.indices.exists, index=self.alias).body:
                return _State(None, f"{self.alias} on {self.hosts} is a concrete index, not the alias "
                                    "this program manages (delete it, then run `blgw index rebuild`; "
                                    "or check BLGW_INDEX_URL)", foreign=True)
            return _State(None, None)
        mappings = self._call("reading the mapping", self._client.indices.get_mapping, index=self.alias).body
        metas = [(m.get("mappings") or {}).get("_meta") or {} for m in mappings.values()]
        if not all("blgw_schema_version" in meta for meta in metas):
            return _State(None, f"the alias {self.alias} on {self.hosts} points to indices that are not "
                                "bl-gateway search indices; check BLGW_INDEX_URL", foreign=True,
                          indices=tuple(indices))
        meta = metas[0]
        analyzer = str(meta.get("analyzer", "cjk"))
        found = (str(meta.get("blgw_schema_version")), str(meta.get("analyzer_version")))
        wanted = (SCHEMA_VERSION, str(ANALYZER_VERSION))
        if found != wanted or analyzer not in ANALYZER_CHOICES[1:]:
            return _State(analyzer, f"the search index {self.alias} on {self.hosts} has schema_version "
                                    f"{found[0]} / analyzer_version {found[1]}, this program needs "
                                    f"{wanted[0]} / {wanted[1]}; {rebuild}", indices=tuple(indices))
        return _State(analyzer, None, indices=tuple(indices))

    def _create_first_index(self) -> _State:
        """A first, empty index behind the alias (the first write of a new installation)."""
        analyzer = self._resolve_analyzer()
        name = self._create_index(analyzer)
        try:
            self._call("creating the alias", self._client.indices.update_aliases,
                       actions=[{"add": {"index": name, "alias": self.alias, "is_write_index": True}}])
        except ElasticsearchIndexError:
            # Another process created its own first index meanwhile: use that one.
            self._delete_unless_live([name])
            state = self._read_state()
            if state.analyzer is None and state.error is None:
                raise
            return state
        return _State(analyzer, None, indices=(name,))

    def _create_index(self, analyzer: str, *, loading: bool = False) -> str:
        name = concrete_index_name(self.prefix)
        template = index_template(self.prefix, analyzer, shards=self.shards, replicas=self.replicas)
        self._call("storing the index template", self._client.indices.put_index_template,
                   name=self.prefix, **_es_kwargs(template))
        settings = index_settings(shards=self.shards, replicas=self.replicas)
        body: dict[str, Any] = {"mappings": index_mappings(analyzer)}
        if loading:
            settings["index"]["refresh_interval"] = "-1"
            body["aliases"] = {loading_alias(name): {}}
        self._call(f"creating the index {name}", self._client.indices.create, index=name,
                   settings=settings, **body)
        return name

    def _ready(self, write: bool = False) -> str | None:
        """The analyzer of the current index (None: there is none yet, and this is a read);
        raises when closed or of another schema. A write creates a first index."""
        with self._lock:
            if self._closed:
                raise IndexClosedError(f"the search index {self!r} is closed")
            state = self._state
            if state is None or time.monotonic() - state.read_at > self.state_ttl:
                state = self._state = self._read_state()
            if state.error is not None:
                raise IndexSchemaError(state.error)
            if state.analyzer is None and write:
                state = self._state = self._create_first_index()
                if state.error is not None:
                    raise IndexSchemaError(state.error)
            return state.analyzer

    def _check_open(self) -> None:
        if self._closed:
            raise IndexClosedError(f"the search index {self!r} is closed")

    # -- writes -------------------------------------------------------------------------------

    def _bulk(self, actions: Iterable[dict[str, Any]], operation: str) -> tuple[int, list[tuple[str, str]], int]:
        """Run bulk actions (``require_alias``: a missing target fails, nothing is created);
        ``(ok count, failures, deletes that removed a document)``. Items the cluster could not
        take now (429, 5xx, after the helper's retries) and items whose index is missing make
        the whole call fail (an :class:`ElasticsearchIndexError`, not a
        :class:`BulkWriteError`): they say nothing about the documents, and the caller retries
        the call."""
        stream = streaming_bulk(
            self._client, actions, chunk_size=self.chunk_size, max_retries=self.max_retries,
            initial_backoff=self.initial_backoff, raise_on_error=False, yield_ok=True, require_alias=True)
        transient: list[str] = []
        missing: list[str] = []

        def watch(results: Iterable[tuple[bool, Mapping[str, Any]]]) -> Iterator[tuple[bool, Mapping[str, Any]]]:
            for ok, item in results:
                result = next(iter(item.values()))
                if not ok and _index_missing(result):
                    missing.append(f"{result.get('_id')}: {_reason(result)}")
                elif not ok and _transient(result):
                    transient.append(f"{result.get('_id')}: {_reason(result)}")
                yield ok, item

        written, failures, removed = self._call(operation, tally_bulk_results, watch(stream))
        if missing:
            self._state = None
            raise ElasticsearchIndexError(f"{operation} on {self.hosts}: the index is missing for "
                                          f"{len(missing)} document(s) (e.g. {missing[0]}); nothing was "
                                          "applied to them; run `blgw index check`")
        if transient:
            raise ElasticsearchIndexError(f"{operation} on {self.hosts}: the cluster could not take "
                                          f"{len(transient)} document(s) now (e.g. {transient[0]}); retry later")
        return written, failures, removed

    def _refresh(self, index: str) -> None:
        self._call("refreshing", self._client.indices.refresh, index=index)

    def upsert(self, articles: Iterable[Article]) -> int:
        analyzer = self._ready(write=True) or "cjk"
        written, failures, _ = self._bulk(bulk_index_actions(articles, self.alias, analyzer), "bulk indexing")
        if written:
            self._refresh(self.alias)
        if failures:
            raise BulkWriteError("upsert", failures, written)
        return written

    def delete(self, ids: Iterable[str]) -> int:
        analyzer = self._ready(write=False)
        ids = list(ids)
        if analyzer is None:  # no index yet: nothing to remove (the ids are still checked)
            list(bulk_delete_actions(ids, self.alias))
            return 0
        _, failures, removed = self._bulk(bulk_delete_actions(ids, self.alias), "bulk deleting")
        if removed:
            self._refresh(self.alias)
        if failures:
            raise BulkWriteError("delete", failures, removed)
        return removed

    def rebuild(self, documents: Iterable[Article]) -> int:
        with self._lock:
            self._check_open()
            state = self._state = self._read_state()
            if state.foreign:
                raise IndexSchemaError(f"refusing to rebuild: {state.error}")
        self.delete_orphans(older_than=ORPHAN_AGE)
        analyzer = self._resolve_analyzer()
        # The load runs without the lock: reads (even from inside the generator) use the alias,
        # which still points to the old index.
        new = self._create_index(analyzer, loading=True)
        try:
            written, failures, _ = self._bulk(
                bulk_index_actions(documents, loading_alias(new), analyzer), "bulk loading")
            if failures:
                raise BulkWriteError("rebuild (nothing swapped)", failures, written)
            self._call("restoring the refresh interval", self._client.indices.put_settings,
                       index=new, settings={"index": {"refresh_interval": None}})
            self._refresh(new)
            with self._lock:
                self._check_open()
                self._swap(new)
                self._state = _State(analyzer, None, indices=(new,))
        except BaseException:
            self._delete_unless_live([new])
            raise
        return written

    def _swap(self, new: str) -> None:
        """Move the alias to ``new`` in one ``_aliases`` call sent once; on any error, read the
        alias again: if it points to ``new``, the call was applied (e.g. it timed out after the
        master applied it) and the swap is done."""
        old = self._call("looking up the alias", self._alias_indices)
        owned = _owned_index_re(self.prefix)
        foreign = [name for name in old if not owned.match(name)]
        if foreign:
            raise IndexSchemaError(f"refusing to swap: the alias {self.alias} on {self.hosts} also points "
                                   f"to {', '.join(foreign)}, which this program did not create")
        try:
            self._once().indices.update_aliases(actions=alias_swap_actions(self.alias, old, new))
        except (ApiError, TransportError) as exc:
            try:
                behind = self._alias_indices_patiently()
            except (ApiError, TransportError) as again:
                raise ElasticsearchUnavailableError(
                    f"swapping the alias {self.alias} on {self.hosts}: {exc}; and the alias cannot be read "
                    f"to see whether the swap happened ({again}); the new index {new} is kept; run "
                    "`blgw index check`, then `blgw index rebuild` again if the alias is not on it") from exc
            if new in behind:
                log.warning("swapping the alias %s on %s reported %s, but the alias points to the new "
                            "index %s: the swap was applied", self.alias, self.hosts, exc, new)
                return
            kind = ElasticsearchIndexError if isinstance(exc, ApiError) else ElasticsearchUnavailableError
            raise kind(f"swapping the alias {self.alias} on {self.hosts} failed: {exc}; the alias still "
                       f"points to {', '.join(behind) or 'nothing'}") from exc

    def _alias_indices_patiently(self, attempts: int = 4, pause: float = 1.0) -> list[str]:
        """The alias's indices, asked up to ``attempts`` times (after a timeout the cluster may
        need a moment)."""
        for attempt in range(attempts):
            try:
                return self._alias_indices()
            except (ApiError, TransportError):
                if attempt == attempts - 1:
                    raise
                time.sleep(pause * (attempt + 1))
        raise AssertionError("unreachable")

    def _delete_unless_live(self, names: list[str]) -> None:
        """Delete indices this program created, never one the alias points to (read again now;
        if it cannot be read, nothing is deleted)."""
        try:
            live = set(self._alias_indices_patiently())
        except (ApiError, TransportError) as exc:
            log.warning("not deleting %s on %s: the alias cannot be read (%s)", ", ".join(names), self.hosts, exc)
            return
        owned = _owned_index_re(self.prefix)
        self._delete_indices([n for n in names if n not in live and owned.match(n)])

    def _delete_indices(self, names: list[str]) -> None:
        for name in names:
            try:
                self._client.indices.delete(index=name, ignore_unavailable=True)
            except (ApiError, TransportError) as exc:
                log.warning("could not delete the index %s on %s: %s", name, self.hosts, exc)

    def orphans(self) -> list[str]:
        """Indices this program created that the alias does not point to (a crashed rebuild's,
        or one being loaded right now)."""
        live = set(self._call("looking up the alias", self._alias_indices))
        found = self._call("listing indices", self._client.indices.get, index=f"{self.prefix}-v*",
                           expand_wildcards="all", allow_no_indices=True, filter_path="*.settings.index.uuid").body
        owned = _owned_index_re(self.prefix)
        return sorted(n for n in (found or {}) if owned.match(n) and n not in live)

    def delete_orphans(self, older_than: dt.timedelta = ORPHAN_AGE) -> list[str]:
        """Delete the :meth:`orphans` created more than ``older_than`` ago; return their names."""
        now = dt.datetime.now(dt.UTC)
        old = [n for n in self.orphans()
               if (created := index_created_at(self.prefix, n)) is not None and now - created > older_than]
        if old:
            log.warning("deleting %d index(es) left by an unfinished rebuild on %s: %s",
                        len(old), self.hosts, ", ".join(old))
            self._delete_unless_live(old)
        return old

    def clear(self) -> None:
        """``rebuild([])``: a new empty index of the current schema behind the alias."""
        self.rebuild([])

    def drop(self) -> None:
        """Delete the alias's indices, every ``{prefix}-v*-*`` index of this program and the
        template (test clean-up, decommissioning). Other indices are never touched."""
        self._check_open()
        owned = _owned_index_re(self.prefix)
        live = self._call("looking up the alias", self._alias_indices)
        self._delete_indices(sorted({n for n in live if owned.match(n)} | set(self.orphans())))
        try:
            self._client.indices.delete_index_template(name=self.prefix)
        except NotFoundError:
            pass
        except (ApiError, TransportError) as exc:
            raise ElasticsearchIndexError(f"deleting the template {self.prefix} on {self.hosts}: {exc}") from exc
        with self._lock:
            self._state = None

    # -- reads --------------------------------------------------------------------------------

    def get(self, id: str) -> Article | None:
        if self._ready() is None:
            return None
        try:
            resp = self._client.get(index=self.alias, id=id, source_includes=["article"])
        except NotFoundError:
            return None
        except TransportError as exc:
            self._state = None
            raise ElasticsearchUnavailableError(f"get {id!r}: cannot reach {self.hosts}: {exc}") from exc
        except ApiError as exc:
            self._state = None
            raise ElasticsearchIndexError(f"get {id!r} failed on {self.hosts}: {exc}") from exc
        return Article.model_validate_json(json.dumps(resp.body["_source"]["article"]))

    def count(self) -> int:
        if self._ready() is None:
            return 0
        return int(self._call("count", self._client.count, index=self.alias).body["count"])

    def search(self, query: SearchQuery) -> SearchResult:
        analyzer = self._ready()
        parsed = parse_query(query.q)
        body = build_search_body(query, analyzer or "cjk", parsed)
        if body is None or analyzer is None:
            return SearchResult(total=0, hits=[], page=query.page, size=query.size,
                                facets={key: [] for key in FACET_KEYS})
        resp = self._call("search", self._client.search, index=self.alias, preference=search_preference(query),
                          **_es_kwargs(body))
        return parse_search_response(resp.body, query, parsed)

    def suggest(self, prefix: str, size: int = 8, site_codes: list[str] | None = None) -> list[Any]:
        size = check_suggest_size(size)
        if self._ready() is None:
            return []
        text = suggest_prefix(prefix)
        if text is None:
            return []
        sites = list(dict.fromkeys(s.strip() for s in site_codes or () if isinstance(s, str) and s.strip()))
        if len(text) > KEYWORD_IGNORE_ABOVE:
            return []  # longer than any title in the keyword index
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
                if exc.__cause__ is not None and _status(exc.__cause__) == 400:
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

    # -- check --------------------------------------------------------------------------------

    def check(self, *, read_only: bool = False) -> IndexCheck:
        """Connect and report: the server, the analyzers available and in use, the schema, the
        documents, the privileges the credentials have against those this program needs (a
        reader's only with ``read_only``), leftover indices. Never writes anything."""
        report = IndexCheck()
        self._check_open()
        try:
            info = self._client.info().body
        except TlsError as exc:
            report.reachable = False
            report.problems.append(
                f"cannot reach {self.hosts}: TLS failed, the server's certificate is not trusted "
                f"({_one_line(exc)}); set BLGW_ES_CA_CERTS to the cluster's CA file (http_ca.crt) or "
                "BLGW_ES_SSL_FINGERPRINT to its SHA-256 fingerprint")
            return report
        except TransportError as exc:
            report.reachable = False
            report.problems.append(f"cannot reach {self.hosts}: {_one_line(exc)}")
            return report
        except ApiError as exc:
            if _status(exc) in (401,):
                report.problems.append(f"{self.hosts} refused the credentials (401): check the API key "
                                       "(BLGW_ES_API_KEY) or the user:password of BLGW_INDEX_URL")
                return report
            report.warnings.append(f"server version unknown ({_status(exc)}: {_error_type(exc) or exc})")
            info = {}
        version = (info.get("version") or {}) if isinstance(info, Mapping) else {}
        if version:
            flavor = version.get("build_flavor", "")
            report.lines.append(f"server: Elasticsearch {version.get('number', '?')}"
                                f"{f' ({flavor})' if flavor and flavor != 'default' else ''} at {self.hosts}")
        self._check_privileges(report, read_only)
        try:
            available = self.available_analyzers()
            report.lines.append(f"analyzers available on every node: {', '.join(available)}")
        except ElasticsearchIndexError as exc:
            available = ()
            (report.warnings if read_only or self.analyzer_choice != "auto" else report.problems).append(str(exc))
        try:
            state = self._read_state()
        except SearchIndexError as exc:
            report.problems.append(str(exc))
            return report
        self._state = state
        if state.error is not None:
            report.problems.append(state.error)
        elif state.analyzer is None:
            report.warnings.append(f"no index behind the alias {self.alias} yet: searches find nothing until "
                                   "the first sync or `blgw index rebuild`")
        else:
            count = self.count()
            report.lines.append(f"index: alias {self.alias} -> {', '.join(state.indices)}; schema "
                                f"{SCHEMA_VERSION}, analyzer {state.analyzer}; {count} documents")
            wanted = self.analyzer_choice
            if wanted == "auto" and available:
                wanted = _auto_analyzer(available)
            if wanted != "auto" and wanted != state.analyzer:
                report.warnings.append(f"the index was built with the {state.analyzer} analyzer, the setting "
                                       f"asks for {wanted}: `blgw index rebuild` switches it")
        try:
            orphans = self.orphans()
        except SearchIndexError as exc:
            report.warnings.append(f"cannot list leftover indices: {exc}")
        else:
            if orphans:
                report.warnings.append(f"{len(orphans)} index(es) not behind the alias (an unfinished or running "
                                       f"rebuild; the next rebuild deletes those older than "
                                       f"{int(ORPHAN_AGE.total_seconds() // 3600)} h): {', '.join(orphans)}")
        return report

    def _check_privileges(self, report: IndexCheck, read_only: bool) -> None:
        wanted_index = READER_PRIVILEGES if read_only else GATEWAY_PRIVILEGES
        wanted_cluster = () if read_only else GATEWAY_CLUSTER_PRIVILEGES + (
            ("monitor",) if self.analyzer_choice == "auto" else ())
        names = [self.alias, f"{self.prefix}-*"]
        try:
            resp = self._client.security.has_privileges(
                cluster=list(wanted_cluster) or ["monitor"],
                index=[{"names": names, "privileges": list(wanted_index)}]).body
        except ApiError as exc:
            text = str(exc).lower()
            if "security" in text and ("not enabled" in text or "disabled" in text or "must be" in text):
                report.warnings.append(f"security is disabled on {self.hosts}: anyone who reaches it can "
                                       "read and change the index")
            else:
                report.warnings.append(f"cannot check the privileges ({_status(exc)}: {_error_type(exc) or exc})")
            return
        except TransportError as exc:
            report.problems.append(f"cannot check the privileges: {exc}")
            return
        missing_cluster = [p for p in wanted_cluster if not (resp.get("cluster") or {}).get(p)]
        missing_index = sorted({p for name in names for p in wanted_index
                                if not ((resp.get("index") or {}).get(name) or {}).get(p)})
        role = "read-only (blgw serve)" if read_only else "gateway (sync, rebuild, restore)"
        if missing_cluster or missing_index:
            parts = []
            if missing_index:
                parts.append(f"index privileges {', '.join(missing_index)} on {', '.join(names)}")
            if missing_cluster:
                parts.append(f"cluster privileges {', '.join(missing_cluster)}")
            report.problems.append(f"the credentials lack what the {role} role needs: {'; '.join(parts)} "
                                   "(docs/elasticsearch.md, 'The role to create')")
        else:
            report.lines.append(f"privileges: everything the {role} role needs")

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
