"""Server-free unit tests of the Elasticsearch backend's PURE parts: the index template,
settings and mappings, the query DSL built from SearchQuery values, bulk actions, the alias
swap, and the parsing of responses shaped like Elasticsearch's. No server is started or
imitated here; the behaviour against a cluster is tests/test_index_conformance.py with
BLGW_TEST_ELASTICSEARCH_URL set."""

from __future__ import annotations

import datetime as dt
import html
import json
import re
from typing import Any

import pytest

from index import elasticsearch as es
from index.base import (
    FACET_KEYS,
    FacetValue,
    IndexClosedError,
    SearchQuery,
    Suggestion,
)
from index.factory import open_index
from index.highlight import Highlighter
from index.tokenize import clause_tokens, parse_query, token_text
from normalizers.models import SHANGHAI, Article, Category, document_id


def art(slug: str, title: str = "关于调整2024年度社保缴费基数的通知",
        body: str = "根据有关规定，现就调整社保缴费基数有关事项通知如下。",
        *, site: str = "rsj", column: tuple[str, ...] = ("政务公开", "通知公告"),
        published: dt.datetime | None = dt.datetime(2024, 3, 15, 10, 0, tzinfo=SHANGHAI),
        category: Category = Category.GOVERNMENT_INFORMATION) -> Article:
    url = f"http://{site}.bl.gov.cn/art/{slug}.html"
    return Article(id=document_id(url), site_code=site, column_path=list(column), category=category,
                   title=title, published_at=published, body_text=body, body_html=f"<p>{html.escape(body)}</p>",
                   source_url=url, fetched_at=dt.datetime(2024, 5, 1, tzinfo=dt.UTC))


def walk(node: Any, path: tuple[str, ...] = ()):
    """Every (path, key, value) of a JSON-like structure."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield path, key, value
            yield from walk(value, (*path, key))
    elif isinstance(node, list):
        for item in node:
            yield from walk(item, path)


# --------------------------------------------------------------------------------------------
# Settings, mappings, template


def test_analysis_splits_the_precomputed_streams_at_spaces_only() -> None:
    analysis = es.analysis_settings()
    assert analysis["analyzer"] == {"blgw_tokens": {"type": "custom", "tokenizer": "blgw_tokens"}}
    assert analysis["tokenizer"]["blgw_tokens"]["type"] == "whitespace"
    assert "filter" not in analysis["analyzer"]["blgw_tokens"]  # Python did NFKC and lower case


@pytest.mark.parametrize("analyzer,words", [
    ("cjk", None),
    ("ik", {"analyzer": "ik_max_word", "search_analyzer": "ik_smart"}),
    ("smartcn", {"analyzer": "smartcn"}),
])
def test_mappings_per_analyzer(analyzer: str, words: dict[str, str] | None) -> None:
    m = es.index_mappings(analyzer)
    assert m["dynamic"] == "strict"
    assert m["_meta"]["blgw_schema_version"] == es.SCHEMA_VERSION == "3" and m["_meta"]["analyzer"] == analyzer
    props = m["properties"]
    for name in ("title_tokens", "title_chars", "body_tokens", "body_chars"):
        assert props[name] == {"type": "text", "analyzer": "blgw_tokens"}
        assert name in m["_source"]["excludes"]  # indexed, not stored twice
    if words is None:
        assert "title_words" not in props and "body_words" not in props
    else:  # word segmenters only add to the score
        assert props["title_words"] == props["body_words"] == {"type": "text", **words}
        assert {"title_words", "body_words"} <= set(m["_source"]["excludes"])
    assert props["title"]["type"] == "keyword"  # suggest and sort
    for name in ("id", "site_code", "category", "column_path", "column", "year"):
        assert props[name] == {"type": "keyword"}
    assert props["published_at"] == {"type": "date"}
    assert props["article"] == {"type": "object", "enabled": False}
    assert "title_suggest" not in props and "body_text" not in props and "url" not in props


def test_mappings_reject_an_unknown_analyzer() -> None:
    with pytest.raises(ValueError):
        es.index_mappings("standard")


def test_settings() -> None:
    s = es.index_settings()["index"]
    assert s["number_of_shards"] == 1 and s["auto_expand_replicas"] == "0-1"
    assert "analysis" in s
    s2 = es.index_settings(shards=3, replicas=2)["index"]
    assert s2["number_of_shards"] == 3 and s2["number_of_replicas"] == 2 and "auto_expand_replicas" not in s2


def test_index_template_is_composable_for_the_prefix() -> None:
    t = es.index_template("blgw-articles", "cjk")
    assert t["index_patterns"] == ["blgw-articles-*"]
    assert t["template"]["mappings"] == es.index_mappings("cjk")
    assert t["template"]["settings"] == es.index_settings()
    # A longer prefix overlapping a shorter one never has the same priority (ES rejects
    # overlapping composable templates of equal priority).
    assert es.index_template("blgw-articles-x", "cjk")["priority"] > t["priority"]
    kwargs = es._es_kwargs(t)
    assert set(kwargs) == {"index_patterns", "priority", "template", "meta"}


def test_concrete_index_names() -> None:
    name = es.concrete_index_name("blgw-articles", dt.datetime(2024, 5, 1, 8, 0, 1, 42, tzinfo=dt.UTC))
    assert name == f"blgw-articles-v{es.SCHEMA_VERSION}-20240501080001000042"
    assert name == name.lower()
    owned = es._owned_index_re("blgw-articles")
    assert owned.match(name)
    assert not owned.match("blgw-articles")
    assert not owned.match("blgw-articles-x-v1-20240501080001000042")  # another prefix's index


@pytest.mark.parametrize("prefix", ["Blgw", "-x", "a b", "a*", "x/y", "", "a-", ".", "a" * 201])
def test_invalid_prefixes(prefix: str) -> None:
    with pytest.raises(ValueError):
        es.ElasticsearchIndex("http://127.0.0.1:9", prefix=prefix, analyzer="cjk")


def test_alias_swap_is_one_call_adding_new_and_deleting_old() -> None:
    actions = es.alias_swap_actions("blgw-articles", ["blgw-articles-v1-2", "blgw-articles-v1-1"],
                                    "blgw-articles-v1-3")
    assert actions == [
        {"add": {"index": "blgw-articles-v1-3", "alias": "blgw-articles", "is_write_index": True}},
        {"remove": {"index": "blgw-articles-v1-3", "alias": "blgw-articles-v1-3-loading"}},
        {"remove_index": {"index": "blgw-articles-v1-1"}},
        {"remove_index": {"index": "blgw-articles-v1-2"}},
    ]
    assert [next(iter(a)) for a in es.alias_swap_actions("a", [], "a-v1-1")] == ["add", "remove"]


# --------------------------------------------------------------------------------------------
# Documents and bulk actions


def test_article_source() -> None:
    a = art("x", title="关于ＰＤＦ附件", published=dt.datetime(2024, 1, 1, 0, 30, 15, 123456, tzinfo=SHANGHAI))
    src = es.article_source(a)
    assert src["id"] == a.id and src["site_code"] == "rsj" and src["category"] == "政务公开"
    assert src["column_path"] == ["政务公开", "通知公告"] and src["column"] == "通知公告"
    assert src["year"] == "2024"  # 2023-12-31 16:30 UTC: the Shanghai year counts
    assert src["published_at"] == "2023-12-31T16:30:15.123Z"  # millisecond date field
    assert src["title"] == a.title
    # The token streams are the embedded index's tokens (NFKC, lower case), aligned.
    assert src["title_tokens"] == "关于 于_ pdf 附件 件_" == token_text(a.title)
    assert src["title_chars"] == "关 于 pdf 附 件"
    assert len(src["body_tokens"].split()) == len(src["body_chars"].split())
    # The stored article round-trips through JSON, field by field.
    assert Article.model_validate_json(json.dumps(src["article"])) == a
    assert set(src) <= set(es.index_mappings("cjk")["properties"])  # dynamic: strict
    ik = es.article_source(a, "ik")
    assert ik["title_words"] == "关于pdf附件" and set(ik) <= set(es.index_mappings("ik")["properties"])


def test_article_source_undated_and_empty_path() -> None:
    src = es.article_source(art("u", published=None, column=()))
    assert src["published_at"] is None and src["year"] is None
    assert src["column"] is None and src["column_path"] == []


def test_bulk_actions() -> None:
    a, b = art("a"), art("b")
    actions = list(es.bulk_index_actions(iter([a, b]), "blgw-articles"))
    assert [(x["_op_type"], x["_index"], x["_id"]) for x in actions] == [
        ("index", "blgw-articles", a.id), ("index", "blgw-articles", b.id)]
    assert actions[0]["_source"] == es.article_source(a)
    assert list(es.bulk_delete_actions(["x", "y"], "al")) == [
        {"_op_type": "delete", "_index": "al", "_id": "x"}, {"_op_type": "delete", "_index": "al", "_id": "y"}]
    with pytest.raises(TypeError):
        list(es.bulk_index_actions([{"id": "x"}], "al"))  # type: ignore[list-item]
    with pytest.raises(TypeError):
        list(es.bulk_delete_actions([1], "al"))  # type: ignore[list-item]


def test_tally_bulk_results() -> None:
    results = [
        (True, {"index": {"_index": "i", "_id": "a", "status": 201, "result": "created"}}),
        (True, {"index": {"_index": "i", "_id": "b", "status": 200, "result": "updated"}}),
        (False, {"index": {"_index": "i", "_id": "c", "status": 400, "error": {
            "type": "document_parsing_exception", "reason": "failed to parse field [published_at]"}}}),
        (False, {"index": {"_index": "i", "_id": "d", "status": 429, "error": {
            "type": "es_rejected_execution_exception", "reason": "rejected execution"}}}),
        (True, {"delete": {"_index": "i", "_id": "e", "status": 200, "result": "deleted"}}),
        (False, {"delete": {"_index": "i", "_id": "f", "status": 404, "result": "not_found"}}),
        (False, {"delete": {"_index": "i", "_id": "g", "status": 404, "error": {
            "type": "index_not_found_exception", "reason": "no such index [i]"}}}),
    ]
    written, failures, removed = es.tally_bulk_results(results)
    assert written == 2 and removed == 1
    # An unknown id is no failure; a delete whose index is missing is one (nothing applied).
    assert failures == [("c", "document_parsing_exception: failed to parse field [published_at]"),
                        ("d", "es_rejected_execution_exception: rejected execution"),
                        ("g", "index_not_found_exception: no such index [i]")]
    err = es.BulkWriteError("upsert", failures, written)
    assert isinstance(err, es.ElasticsearchIndexError) and err.failures == failures
    assert "c: document_parsing_exception" in str(err) and "2 written" in str(err)


# --------------------------------------------------------------------------------------------
# Query DSL


def body(q: str, analyzer: str = "cjk", **kw: Any) -> dict[str, Any]:
    result = es.build_search_body(SearchQuery(q=q, **kw), analyzer)
    assert result is not None
    return result


def fields_of(clause: dict[str, Any]) -> list[tuple[str, Any, float | None]]:
    """(query type and field, what it matches, boost) of the title and body alternatives."""
    shoulds = clause["bool"]["should"]
    assert clause["bool"]["minimum_should_match"] == 1
    out = []
    for s in shoulds:
        ((kind, spec),) = s.items()
        if kind == "span_near":
            assert spec["slop"] == 0 and spec["in_order"] is True
            out.append((kind, [next(iter(c.items())) for c in spec["clauses"]], spec.get("boost")))
            continue
        ((field, inner),) = spec.items()
        out.append((f"{kind} {field}", inner.get("query", inner.get("value")), inner.get("boost")))
    return out


def test_terms_are_anded_phrases_of_tokens_in_title_or_body() -> None:
    b = body("社保 申报")
    must = b["query"]["bool"]["must"]
    assert [fields_of(c) for c in must] == [
        [("match_phrase title_tokens", "社保", 3.0), ("match_phrase body_tokens", "社保", None)],
        [("match_phrase title_tokens", "申报", 3.0), ("match_phrase body_tokens", "申报", None)],
    ]
    assert b["query"]["bool"]["filter"] == []
    # A longer CJK term is the phrase of its bigrams: its literal text, within one field.
    (clause,) = body("社会保险")["query"]["bool"]["must"]
    assert fields_of(clause)[1] == ("match_phrase body_tokens", "社会 会保 保险", None)


def test_one_character_cjk_terms_use_the_per_character_streams() -> None:
    (clause,) = body("险")["query"]["bool"]["must"]
    assert fields_of(clause) == [("term title_chars", "险", 3.0), ("term body_chars", "险", None)]
    # A phrase ending in one CJK character: its last position on the chars stream, masked.
    (clause,) = body('"保险 金"')["query"]["bool"]["must"]
    kind, spans, boost = fields_of(clause)[0]
    assert kind == "span_near" and boost == 3.0
    assert spans == [("span_term", {"title_tokens": "保险"}), ("span_term", {"title_tokens": "险_"}),
                     ("span_field_masking", {"query": {"span_term": {"title_chars": "金"}},
                                             "field": "title_tokens"})]
    (clause,) = body("pdf")["query"]["bool"]["must"]
    assert fields_of(clause)[0] == ("match_phrase title_tokens", "pdf", 3.0)


def test_phrases_and_normalisation() -> None:
    (clause,) = body("“养老保险”")["query"]["bool"]["must"]
    assert fields_of(clause)[1] == ("match_phrase body_tokens", "养老 老保 保险", None)
    (clause,) = body('"2024年度 社保"')["query"]["bool"]["must"]
    assert fields_of(clause)[0] == ("match_phrase title_tokens", "2024 年度 度_ 社保", 3.0)
    (clause,) = body("ＰＤＦ")["query"]["bool"]["must"]
    assert fields_of(clause)[0][1] == "pdf"
    # The same token sequences as the embedded index's FTS5 query.
    for q, tokens in (("社会保险", "社会 会保 保险"), ('"社 保险"', "社_ 保险"), ("①", "1"), ("⼈民", "人民"),
                      ('"第Ⅱ类器械"', "第_ ii 类器 器械")):
        (c,) = parse_query(q).clauses
        assert clause_tokens(c) == (tuple(tokens.split()), False)
        assert es.clause_query(c)["bool"]["should"][1] == {"match_phrase": {"body_tokens": {"query": tokens}}}


def test_operators_are_not_query_syntax() -> None:
    must = body("社保 OR 扬尘 -申报 title:x")["query"]["bool"]["must"]
    assert [fields_of(c)[0][1] for c in must] == ["社保", "扬尘", "申报", "title", "x"]


def test_word_segmenter_only_adds_to_the_score() -> None:
    (clause,) = body("社保", analyzer="ik")["query"]["bool"]["must"]
    (required,) = clause["bool"]["must"]
    assert fields_of(required) == [("match_phrase title_tokens", "社保", 3.0),
                                   ("match_phrase body_tokens", "社保", None)]
    assert clause["bool"]["should"] == [
        {"match": {"title_words": {"query": "社保", "operator": "and", "boost": 3.0}}},
        {"match": {"body_words": {"query": "社保", "operator": "and"}}},
    ]
    (clause,) = body("险", analyzer="smartcn")["query"]["bool"]["must"]
    assert fields_of(clause["bool"]["must"][0])[0][0] == "term title_chars"


def test_filters() -> None:
    b = body("社保", site_codes=["rsj", " wjw "], categories=[Category.ONLINE_SERVICES, "政务公开"],
             column=" 通知公告 ", date_from=dt.date(2024, 1, 10), date_to=dt.date(2024, 3, 31))
    assert b["query"]["bool"]["filter"] == [
        {"terms": {"site_code": ["rsj", "wjw"]}},
        {"terms": {"category": ["网上服务", "政务公开"]}},
        {"term": {"column_path": "通知公告"}},
        {"range": {"published_at": {"format": "strict_date_optional_time",
                                    "gte": "2024-01-10T00:00:00+08:00", "lt": "2024-04-01T00:00:00+08:00"}}},
    ]
    only_to = body("社保", date_to=dt.date(2024, 12, 31))["query"]["bool"]["filter"]
    assert only_to == [{"range": {"published_at": {"format": "strict_date_optional_time",
                                                   "lt": "2025-01-01T00:00:00+08:00"}}}]
    # Shanghai had daylight saving time in 1986-1991: the day starts at +09:00 then.
    summer = body("社保", date_from=dt.date(1988, 7, 1))["query"]["bool"]["filter"]
    assert summer[0]["range"]["published_at"]["gte"] == "1988-07-01T00:00:00+09:00"
    kinds = body("社保", file_kinds=["pdf", "excel"])["query"]["bool"]["filter"]
    assert kinds == [{"terms": {"file_kinds": ["pdf", "excel"]}}]


def test_article_source_has_the_file_kinds_of_its_attachments() -> None:
    from normalizers.models import Attachment

    a = art("f").model_copy(update={"attachments": [
        Attachment(name="表.XLSX", url="http://rsj.bl.gov.cn/a.XLSX", file_type="xlsx"),
        Attachment(name="办法.pdf", url="http://rsj.bl.gov.cn/b.pdf", file_type="pdf"),
        Attachment(name="说明.wps", url="http://rsj.bl.gov.cn/c.wps", file_type="wps")]})
    src = es.article_source(a)
    assert src["file_kinds"] == ["pdf", "word", "excel"]
    assert es.index_mappings("cjk")["properties"]["file_kinds"] == {"type": "keyword"}
    assert es.article_source(art("g"))["file_kinds"] == []


def test_sort_paging_totals_source_and_aggregations() -> None:
    b = body("社保", page=3, size=7)
    assert b["sort"] == [{"_score": {"order": "desc"}},
                         {"published_at": {"order": "desc", "missing": "_last"}},
                         {"id": {"order": "asc"}}]
    assert (b["from"], b["size"]) == (14, 7)
    assert b["track_total_hits"] is True and b["track_scores"] is True
    assert {"article.title", "article.body_text", "article.source_url"} <= set(b["_source"])
    assert "article" not in b["_source"]  # never the whole article (body_html…)
    assert body("社保", order="date")["sort"] == [
        {"published_at": {"order": "desc", "missing": "_last"}},
        {"_score": {"order": "desc"}}, {"id": {"order": "asc"}}]
    aggs = b["aggs"]
    assert set(aggs) == set(FACET_KEYS)
    fields = {"site": "site_code", "category": "category", "column": "column", "year": "year"}
    for name, agg in aggs.items():
        assert agg == {"terms": {"field": fields[name], "size": 20,
                                 "order": [{"_count": "desc"}, {"_key": "asc"}]}}
    kwargs = es._es_kwargs(b)
    assert kwargs["from_"] == 14 and "source" in kwargs and "from" not in kwargs


@pytest.mark.parametrize("q", ["，。！", "AND OR NOT", '"', "😀", "* ( ) ^ :"])
def test_queries_without_searchable_text_build_no_request(q: str) -> None:
    assert es.build_search_body(SearchQuery(q=q)) is None


HOSTILE = ['"社保', 'NEAR(社保 医保, 2)', 'title:社保', '社保^2', '{"match_all": {}}', '*:*', "\\",
           '社保~', '<script>', "' OR 1=1 --", 'query_string', '{{', 'a' * 200, '社' * 200, '_source', '"query"']
ALLOWED_KEYS = {
    "query", "bool", "must", "filter", "should", "minimum_should_match", "match_phrase", "match",
    "operator", "boost", "terms", "term", "range", "format", "gte", "lt", "value",
    "span_near", "span_term", "span_field_masking", "clauses", "slop", "in_order",
    "sort", "order", "missing", "from", "size", "track_total_hits", "track_scores", "_source",
    "aggs", "field", "_score", "_count", "_key",
    "title_tokens", "title_chars", "body_tokens", "body_chars", "title_words", "body_words",
    "id", "published_at", "site_code", "category", "column_path", *FACET_KEYS,
}


@pytest.mark.parametrize("analyzer", ["cjk", "ik"])
@pytest.mark.parametrize("q", HOSTILE)
def test_user_text_never_becomes_dsl(q: str, analyzer: str) -> None:
    b = es.build_search_body(SearchQuery(q=q, site_codes=["rsj"], column="通知公告"), analyzer)
    if b is None:
        return
    clause_texts = {c.text for c in parse_query(q).clauses}
    for path, key, value in walk(b):
        assert key in ALLOWED_KEYS, (path, key)
        assert key not in ("query_string", "simple_query_string", "script", "wildcard", "regexp")
        if key == "query" and isinstance(value, str):
            # tokens of normalised runs (bigrams, end markers) and spaces only, or a clause's text
            assert value in clause_texts or re.fullmatch(r"[^\W_]+_?( [^\W_]+_?)*", value), value


def test_suggest_body() -> None:
    b = es.build_suggest_body("关于*%_", 8, ["rsj", "wjw"])
    assert b["query"] == {"bool": {"filter": [
        {"prefix": {"title": {"value": "关于*%_", "case_insensitive": True}}},
        {"terms": {"site_code": ["rsj", "wjw"]}}]}}
    assert b["sort"] == [{"published_at": {"order": "desc", "missing": "_last"}},
                         {"title": {"order": "asc"}}, {"id": {"order": "asc"}}]
    assert b["size"] == 8 and "search_after" not in b
    assert b["_source"] == ["id", "site_code", "article.title", "article.source_url"]
    b2 = es.build_suggest_body("x", 3, [], search_after=[1, "x", "y"])
    assert len(b2["query"]["bool"]["filter"]) == 1 and b2["search_after"] == [1, "x", "y"]


# --------------------------------------------------------------------------------------------
# Responses


def source_filtered(src: dict[str, Any], paths: list[str]) -> dict[str, Any]:
    """What Elasticsearch's ``_source`` filtering returns for these dotted paths."""
    out: dict[str, Any] = {}
    for path in paths:
        head, _, rest = path.partition(".")
        if head not in src:
            continue
        if rest:
            out.setdefault(head, {}).update(source_filtered(src[head], [rest]))
        else:
            out[head] = src[head]
    return out


def es_hit(a: Article, score: float | None, sort: list[Any]) -> dict[str, Any]:
    src = es.article_source(a)
    return {"_index": "blgw-articles-v2-20240501080001000042", "_id": a.id, "_score": score,
            "_source": source_filtered(src, es._SOURCE_FIELDS), "sort": sort}


def terms_agg(buckets: list[tuple[str, int]]) -> dict[str, Any]:
    return {"doc_count_error_upper_bound": 0, "sum_other_doc_count": 0,
            "buckets": [{"key": k, "doc_count": c} for k, c in buckets]}


def test_parse_search_response() -> None:
    evil = art("evil", "<script>alert('社保')</script> & 通知",
               "正文<script>alert(1)</script>提到社保 & <b>医保</b> \"引号\"。",
               published=dt.datetime(2024, 3, 31, 23, 30, tzinfo=SHANGHAI))
    undated = art("u", "社保卡办理", "社保卡。", published=None, category=Category.ONLINE_SERVICES,
                  site="zjj", column=())
    response = {
        "took": 3, "timed_out": False,
        "_shards": {"total": 1, "successful": 1, "skipped": 0, "failed": 0},
        "hits": {"total": {"value": 12, "relation": "eq"}, "max_score": 2.5, "hits": [
            es_hit(evil, 2.5, [2.5, 1711899000000, evil.id]),
            es_hit(undated, 1.25, [1.25, -9223372036854775808, undated.id]),
        ]},
        "aggregations": {
            "site": terms_agg([("rsj", 7), ("zjj", 5)]),
            "category": terms_agg([("政务公开", 11), ("网上服务", 1)]),
            "column": terms_agg([("通知公告", 11)]),
            "year": terms_agg([("2024", 11)]),
        },
    }
    query = SearchQuery(q="社保", page=2, size=2)
    result = es.parse_search_response(response, query)
    assert (result.total, result.page, result.size) == (12, 2, 2)
    assert result.facets == {
        "site": [FacetValue(value="rsj", count=7), FacetValue(value="zjj", count=5)],
        "category": [FacetValue(value="政务公开", count=11), FacetValue(value="网上服务", count=1)],
        "column": [FacetValue(value="通知公告", count=11)],
        "year": [FacetValue(value="2024", count=11)],
    }
    first, second = result.hits
    assert (first.id, first.score, second.id, second.score) == (evil.id, 2.5, undated.id, 1.25)
    # Highlighting is index.highlight on the source text: identical to the embedded backend.
    expected = Highlighter(parse_query("社保")).document(evil.title, evil.body_text)
    assert (first.title_html, first.snippet_html) == expected
    assert "<script>" not in first.title_html + first.snippet_html
    assert "&lt;script&gt;" in first.title_html and "<mark>社保</mark>" in first.title_html
    assert first.published_at == evil.published_at and first.published_at.utcoffset() == dt.timedelta(hours=8)
    assert first.column_path == evil.column_path and first.category == Category.GOVERNMENT_INFORMATION
    assert first.url == str(evil.source_url)
    assert second.published_at is None and second.column_path == [] and second.category == Category.ONLINE_SERVICES


def test_parse_facets_orders_and_caps_whatever_the_buckets() -> None:
    buckets = [(f"s{i:02d}", 1) for i in range(24, -1, -1)] + [("s07x", 3)]
    facets = es.parse_facets({"site": terms_agg(buckets)})
    assert [v.value for v in facets["site"]][:3] == ["s07x", "s00", "s01"]
    assert len(facets["site"]) == 20
    assert facets["category"] == facets["column"] == facets["year"] == []


def test_parse_empty_response() -> None:
    response = {"hits": {"total": {"value": 0, "relation": "eq"}, "max_score": None, "hits": []},
                "aggregations": {k: terms_agg([]) for k in FACET_KEYS}}
    result = es.parse_search_response(response, SearchQuery(q="鄞州"))
    assert result.total == 0 and result.hits == []
    assert result.facets == {k: [] for k in FACET_KEYS}


def test_parse_suggest_response() -> None:
    a = art("s", "关于印发工作要点的通知")
    response = {"hits": {"total": {"value": 1, "relation": "eq"}, "hits": [
        {"_index": "i", "_id": a.id, "_score": None,
         "_source": {"id": a.id, "site_code": "rsj", "article": {"title": a.title, "source_url": str(a.source_url)}},
         "sort": [1710468000000, a.title, a.id]}]}}
    assert es.parse_suggest_response(response) == [
        Suggestion(id=a.id, title=a.title, url=str(a.source_url), site_code="rsj")]


# --------------------------------------------------------------------------------------------
# The object without a cluster (no request is made before first use); URLs: test_es_connection.py


def test_open_index_opens_the_elasticsearch_backend_lazily() -> None:
    idx = open_index("http://127.0.0.1:9/blgw-unit")  # nothing listens there: no request yet
    assert isinstance(idx, es.ElasticsearchIndex) and idx.prefix == idx.alias == "blgw-unit"
    idx.close()
    idx.close()
    with pytest.raises(IndexClosedError):
        idx.count()
    with pytest.raises(IndexClosedError):
        idx.search(SearchQuery(q="社保"))
    with pytest.raises(IndexClosedError):
        idx.upsert([])
    with pytest.raises(IndexClosedError):
        idx.rebuild([])
    with pytest.raises(ValueError):
        idx.suggest("关于", size=0)  # validated before anything else


def test_analyzer_choice(monkeypatch: pytest.MonkeyPatch) -> None:
    from gateway.settings import SettingsError, get_settings

    monkeypatch.setenv("BLGW_ES_ANALYZER", "smartcn")  # the setting, read by the factory
    get_settings.cache_clear()
    try:
        with open_index("http://127.0.0.1:9") as idx:
            assert idx.analyzer_choice == "smartcn"
        with open_index("http://127.0.0.1:9/blgw?analyzer=ik") as idx:  # the URL's own choice wins
            assert idx.analyzer_choice == "ik"
        with es.ElasticsearchIndex("http://127.0.0.1:9", analyzer="IK") as idx:
            assert idx.analyzer_choice == "ik"
        with pytest.raises(ValueError, match="jieba"):
            es.ElasticsearchIndex("http://127.0.0.1:9", analyzer="jieba")
        monkeypatch.setenv("BLGW_ES_ANALYZER", "jieba")
        get_settings.cache_clear()
        with pytest.raises(SettingsError, match="BLGW_ES_ANALYZER"):
            open_index("http://127.0.0.1:9")
    finally:
        monkeypatch.delenv("BLGW_ES_ANALYZER")
        get_settings.cache_clear()


def test_the_api_key_setting_reaches_the_client(monkeypatch: pytest.MonkeyPatch) -> None:
    from gateway.settings import get_settings

    monkeypatch.setenv("BLGW_ES_API_KEY", "a2V5OnNlY3JldA==")
    get_settings.cache_clear()
    try:
        with open_index("http://127.0.0.1:9/blgw") as idx:
            assert idx._client._headers["authorization"] == "ApiKey a2V5OnNlY3JldA=="
    finally:
        monkeypatch.delenv("BLGW_ES_API_KEY")
        get_settings.cache_clear()
    with open_index("http://127.0.0.1:9/blgw") as idx:
        assert "authorization" not in idx._client._headers
