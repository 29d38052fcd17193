"""The embedded index's fast query plan against a straightforward reference computation, and
the generation that keys the API's result cache.

The search statement (facets counted by combination key, column filters decided per
combination, the page as a bounded sort of bm25) and the suggestion statement (covering index,
bounded sort) must answer exactly what the contract defines: here the contract is computed the
plain way, in Python over the articles themselves (filters, facets, order, paging) and with
FTS5 asked only which documents match and their bm25, on a sample of the benchmark's generated
documents and its query mix plus variations. Then: every write changes the generation, in every
process, reads do not, and the result cache never serves a result of an older generation.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import sqlite3
from pathlib import Path

import pytest
from conftest import make_article

from gateway.api.search_cache import ResultCache
from index.base import FACET_SIZE, SearchQuery, Suggestion, ascii_lower
from index.embedded import EmbeddedIndex, fts5_query
from index.highlight import Highlighter
from index.tokenize import parse_query
from normalizers.models import SHANGHAI, Article, Category

_BENCH = Path(__file__).resolve().parent.parent / "bench" / "search_latency.py"
_spec = importlib.util.spec_from_file_location("search_latency_bench", _BENCH)
assert _spec is not None and _spec.loader is not None
bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench)

N_DOCS = 1500


def article(n: int) -> Article:
    """A small article whose title starts with 关于 and whose body says 社保."""
    return make_article(f"http://rsj.bl.gov.cn/show.php?id={n}")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> tuple[EmbeddedIndex, dict[str, Article]]:
    docs = list(bench.documents(N_DOCS, seed=11))
    path = tmp_path_factory.mktemp("ref") / "index.sqlite"
    index = EmbeddedIndex(path)
    # A rebuild with repeated ids (the last wins), then replacing upserts and deletes, so that
    # combinations without documents are left behind in combos.
    changed = [a.model_copy(update={"site_code": "new", "column_path": ["新栏目", a.column_path[-1]]})
               for a in docs[:40]]
    assert index.rebuild(docs + changed[:20]) == N_DOCS + 20
    index.upsert(changed[20:])
    index.delete([a.id for a in docs[40:60]])
    articles = {a.id: a for a in docs}
    articles.update({a.id: a for a in changed})
    for a in docs[40:60]:
        del articles[a.id]
    yield index, articles
    index.close()


def _shanghai_year(a: Article) -> str | None:
    return None if a.published_at is None else str(a.published_at.astimezone(SHANGHAI).year)


def _filters_match(a: Article, q: SearchQuery) -> bool:
    if q.site_codes and a.site_code not in q.site_codes:
        return False
    if q.categories and a.category not in q.categories:
        return False
    if q.column is not None and q.column not in a.column_path:
        return False
    if q.date_from is not None or q.date_to is not None:
        if a.published_at is None:
            return False
        day = a.published_at.astimezone(SHANGHAI).date()
        if q.date_from is not None and day < q.date_from:
            return False
        if q.date_to is not None and day > q.date_to:
            return False
    return True


def reference_search(index: EmbeddedIndex, articles: dict[str, Article], q: SearchQuery) -> dict:
    """The contract computed plainly: FTS5 says which documents match and their bm25, the rest
    is Python over the articles."""
    parsed = parse_query(q.q)
    conn = sqlite3.connect(f"file:{index.path}?mode=ro", uri=True)
    try:
        rows = conn.execute(
            "SELECT d.id, bm25(fts, 5.0, 1.0) FROM fts JOIN documents AS d ON d.docid = fts.rowid"
            " WHERE fts MATCH ?", (fts5_query(parsed),)).fetchall()
    finally:
        conn.close()
    matched = [(articles[id_], -rank) for id_, rank in rows if _filters_match(articles[id_], q)]
    facets: dict[str, dict[str, int]] = {"site": {}, "category": {}, "column": {}, "year": {}}
    for a, _ in matched:
        for key, value in (("site", a.site_code), ("category", a.category.value),
                           ("column", a.column_path[-1] if a.column_path else None),
                           ("year", _shanghai_year(a))):
            if value is not None:
                facets[key][value] = facets[key].get(value, 0) + 1

    def date_key(a: Article) -> tuple[bool, float]:
        return (a.published_at is None, -a.published_at.timestamp() if a.published_at else 0.0)

    if q.order == "relevance":
        matched.sort(key=lambda m: (-m[1], *date_key(m[0]), m[0].id))
    else:
        matched.sort(key=lambda m: (*date_key(m[0]), -m[1], m[0].id))
    page = matched[q.offset:q.offset + q.size]
    highlighter = Highlighter(parsed)
    return {
        "total": len(matched),
        "facets": {key: sorted(counts.items(), key=lambda vc: (-vc[1], vc[0]))[:FACET_SIZE]
                   for key, counts in facets.items()},
        "hits": [(a.id, score, *highlighter.document(a.title, a.body_text)) for a, score in page],
    }


def _queries() -> list[SearchQuery]:
    out = []
    for _, kw in bench.QUERIES:
        for extra in ({}, {"order": "date"}, {"page": 2, "size": 7}, {"page": 40, "size": 50}):
            out.append(SearchQuery(**{**kw, **extra}))
    for text in ["社保 通知", "险 工作", "\"社 保险\"", "pdf 附件", "霞浦 防汛"]:
        for extra in ({"site_codes": ["new", "rsj"]}, {"column": "新栏目"}, {"column": "政务公开", "order": "date"},
                      {"categories": [Category.INTERACTION, Category.ONLINE_SERVICES]},
                      {"date_from": dt.date(2016, 3, 1), "date_to": dt.date(2021, 2, 28)}):
            out.append(SearchQuery(q=text, **extra))
    return out


@pytest.mark.parametrize("query", _queries(), ids=lambda q: q.model_dump_json(exclude_defaults=True))
def test_search_equals_the_reference(corpus, query: SearchQuery) -> None:
    index, articles = corpus
    got = index.search(query)
    want = reference_search(index, articles, query)
    assert got.total == want["total"]
    assert {k: [(v.value, v.count) for v in vs] for k, vs in got.facets.items()} == want["facets"]
    assert [(h.id, h.score, h.title_html, h.snippet_html) for h in got.hits] == want["hits"]
    for hit in got.hits:
        a = articles[hit.id]
        assert (hit.site_code, hit.column_path, hit.category, hit.title, hit.url, hit.published_at) == (
            a.site_code, a.column_path, a.category, a.title, str(a.source_url), a.published_at)


@pytest.mark.parametrize("prefix", [*bench.SUGGEST_PREFIXES, "PDF", "关于开展2", "区"])
@pytest.mark.parametrize("size", [1, 8, 20])
@pytest.mark.parametrize("sites", [None, ["rsj"], ["new", "wjw"]])
def test_suggest_equals_the_reference(corpus, prefix: str, size: int, sites: list[str] | None) -> None:
    index, articles = corpus
    folded = ascii_lower(prefix)
    found = [a for a in articles.values()
             if ascii_lower(a.title).startswith(folded) and (not sites or a.site_code in sites)]
    found.sort(key=lambda a: (a.published_at is None, -a.published_at.timestamp() if a.published_at else 0,
                              a.title, a.id))
    want = [Suggestion(id=a.id, title=a.title, url=str(a.source_url), site_code=a.site_code)
            for a in found[:size]]
    assert index.suggest(prefix, size=size, site_codes=sites) == want


def test_every_write_changes_the_generation_in_every_process(tmp_path) -> None:
    path = tmp_path / "i.sqlite"
    with EmbeddedIndex(path) as one, EmbeddedIndex(path) as other:
        seen = [one.generation()]

        def changed() -> str:
            now = one.generation()
            assert now not in seen and other.generation() == now
            seen.append(now)
            return now

        one.upsert([article(1)])
        changed()
        other.upsert([article(2)])  # another connection (as another process would)
        changed()
        one.search(SearchQuery(q="社保"))
        one.suggest("关于")
        one.get(article(1).id)
        one.count()
        assert one.generation() == seen[-1]  # reads change nothing
        other.delete([article(2).id])
        changed()
        other.delete(["not-there"])  # a write transaction all the same
        changed()
        other.rebuild([article(3)])
        changed()
        other.optimize()
        changed()
        other.clear()
        changed()
        generation, result = one.search_at(SearchQuery(q="社保"))
        assert generation == seen[-1] and result.total == 0
    counters = [int(g.split(".")[0]) for g in seen]
    assert counters == sorted(counters) and len(set(counters)) == len(counters)


def test_generation_differs_for_a_new_file(tmp_path) -> None:
    with EmbeddedIndex(tmp_path / "a.sqlite") as a, EmbeddedIndex(tmp_path / "b.sqlite") as b:
        assert a.generation() != b.generation()
    with EmbeddedIndex(":memory:") as m:
        before = m.generation()
        m.clear()
        assert m.generation() != before


def test_result_cache_never_serves_an_older_generation(tmp_path) -> None:
    path = tmp_path / "i.sqlite"
    cache = ResultCache()
    query = SearchQuery(q="社保")
    with EmbeddedIndex(path) as served, EmbeddedIndex(path) as writer:
        writer.upsert([article(1)])
        first = cache.search(served, query)
        assert first.total == 1 and cache.misses == 1
        assert cache.search(served, query) is first and cache.hits == 1
        assert cache.suggest(served, "关于", 8, None) == served.suggest("关于")
        assert cache.suggest(served, "关于", 8, None) == served.suggest("关于") and cache.hits == 2
        writer.upsert([article(2)])  # another writer: the served index's generation changed
        assert cache.search(served, query).total == 2
        assert len(cache.suggest(served, "关于", 8, None)) == 2
        writer.delete([article(1).id, article(2).id])
        assert cache.search(served, query).total == 0
        assert cache.suggest(served, "关于", 8, None) == []
        cache.enabled = False
        writer.upsert([article(3)])
        assert cache.search(served, query).total == 1 and len(cache) == 2


def test_result_cache_is_bounded() -> None:
    cache = ResultCache(max_entries=3)
    with EmbeddedIndex(":memory:") as index:
        for q in ["社保", "医保", "公示", "通知", "社保"]:
            cache.search(index, SearchQuery(q=q))
        assert len(cache) == 3 and cache.hits == 0
