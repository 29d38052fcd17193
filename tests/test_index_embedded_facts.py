"""The embedded backend's narrow ``facts`` table (schema version 2): it must hold exactly one
row per ``documents`` row with the same values, whatever the write path (upsert insert and
update, delete, clear, rebuild), because searches filter, facet and order on it alone.
Also: the exact column filter, the version-1 upgrade path, and a search reading one snapshot."""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading

import pytest

from index.base import IndexSchemaError, SearchQuery
from index.embedded import SCHEMA_VERSION, EmbeddedIndex, _year_sql
from normalizers.models import SHANGHAI, Article, Category, document_id

COLUMNS = [["政务公开", "通知公告"], ["政务公开", "政策法规"], ["政民互动", "咨询回复"], [],
           ['引号"通知公告', "反斜杠\\"], ["通知公告\t"]]
SITES = ["rsj", "wjw", "zjj"]


def art(n: int, *, site: str | None = None, column: list[str] | None = None,
        published: dt.datetime | str | None = "auto",
        title: str = "关于做好社保缴费工作的通知") -> Article:
    url = f"http://x.bl.gov.cn/art/{n}.html"
    if published == "auto":  # undated every 7th; the others spread over 2015-12-31 … 2019
        published = None if n % 7 == 0 else (
            dt.datetime(2015, 12, 31, 23, 30, tzinfo=SHANGHAI) + dt.timedelta(days=n * 40))
    return Article(
        id=document_id(url), site_code=site or SITES[n % 3],
        column_path=column if column is not None else COLUMNS[n % len(COLUMNS)],
        category=list(Category)[n % 3], title=title,
        body_text=f"各参保单位：请按时缴纳社会保险费。第{n}号", body_html="<p/>",
        published_at=published, source_url=url,
        fetched_at=dt.datetime(2024, 6, 1, tzinfo=SHANGHAI))


def assert_facts_match_documents(idx: EmbeddedIndex, expected: dict[str, Article]) -> None:
    conn = idx._db()
    documents = conn.execute("SELECT count(*) FROM documents").fetchone()[0]
    facts = conn.execute("SELECT count(*) FROM facts").fetchone()[0]
    assert documents == facts == len(expected)
    # Row by row, joined on docid: every value equal to what the facets used to compute.
    same = conn.execute(
        "SELECT count(*) FROM documents AS d JOIN facts AS f ON f.docid = d.docid"
        " WHERE f.id = d.id AND f.site_code = d.site_code AND f.category = d.category"
        " AND f.column_path = d.column_path AND f.published_at IS d.published_at"
        " AND f.col IS json_extract(d.column_path, '$[#-1]')"
        f" AND f.year IS ({_year_sql('d.published_at')})").fetchone()[0]
    assert same == documents
    # And against the articles themselves, computed in Python.
    rows = conn.execute("SELECT id, site_code, category, col, year, published_at FROM facts").fetchall()
    got = {r[0]: r[1:] for r in rows}
    want = {
        a.id: (a.site_code, a.category.value, a.column_path[-1] if a.column_path else None,
               str(a.published_at.astimezone(SHANGHAI).year) if a.published_at else None,
               None if a.published_at is None else
               round((a.published_at - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)).total_seconds() * 1_000_000))
        for a in expected.values()
    }
    assert got == want
    leftovers = conn.execute("SELECT name FROM sqlite_master WHERE name LIKE '%_next'").fetchall()
    assert leftovers == []


@pytest.fixture(params=["file", "memory"])
def idx(request, tmp_path):
    with EmbeddedIndex(tmp_path / "i.sqlite" if request.param == "file" else ":memory:") as index:
        yield index


def test_facts_follow_upserts_deletes_and_rebuilds(idx: EmbeddedIndex) -> None:
    articles = {a.id: a for a in (art(n) for n in range(30))}
    idx.upsert(articles.values())
    assert_facts_match_documents(idx, articles)

    # Updates that change site, column and date (to undated, from undated, across a year end,
    # before 1992 where the year comes from Python's zoneinfo), and the text.
    changed = [
        art(1, site="new"), art(2, column=["网上服务", "办事指南"]), art(3, column=[]),
        # (The last millisecond only: SQLite's strftime rounds to milliseconds, so the final
        # 0.5 ms of a year count as the next one, in facts as in the facets before them.)
        art(4, published=None), art(7, published=dt.datetime(2024, 12, 31, 23, 59, 59, 999000, tzinfo=SHANGHAI)),
        art(8, published=dt.datetime(1988, 7, 1, tzinfo=SHANGHAI)), art(9, title="全新的标题", site="wjw"),
        art(10, site="zjj", column=["政民互动", "咨询回复"], published=dt.datetime(2025, 1, 1, tzinfo=SHANGHAI)),
    ]
    idx.upsert(changed)
    articles.update((a.id, a) for a in changed)
    assert_facts_match_documents(idx, articles)

    gone = [art(n).id for n in (0, 5, 11, 12)] + ["no-such-id"]
    assert idx.delete(gone) == 4
    for id_ in gone:
        articles.pop(id_, None)
    assert_facts_match_documents(idx, articles)

    rebuilt = {a.id: a for a in [art(n, site="rsj") for n in range(20, 45)] + [art(21, column=["x"])]}
    assert idx.rebuild(iter([art(n, site="rsj") for n in range(20, 45)] + [art(21, column=["x"])])) == 26
    assert_facts_match_documents(idx, rebuilt)
    # Searches see the rebuilt facts.
    result = idx.search(SearchQuery(q="社保", size=50))
    assert result.total == 25
    assert {f.value for f in result.facets["site"]} == {"rsj"}
    assert idx.search(SearchQuery(q="社保", column="x")).total == 1

    idx.clear()
    assert_facts_match_documents(idx, {})
    idx.upsert([art(1)])
    assert_facts_match_documents(idx, {art(1).id: art(1)})


def test_failed_rebuild_leaves_facts_untouched(idx: EmbeddedIndex) -> None:
    articles = {a.id: a for a in (art(n) for n in range(10))}
    idx.upsert(articles.values())

    def failing():
        yield art(50)
        raise RuntimeError("store went away")

    with pytest.raises(RuntimeError):
        idx.rebuild(failing())
    assert_facts_match_documents(idx, articles)


def test_column_filter_is_exact_element_equality(idx: EmbeddedIndex) -> None:
    # Column names whose JSON text contains that of another (quotes, backslashes, tabs).
    idx.upsert(art(n) for n in range(30))
    by_column: dict[str, set[str]] = {}
    for n in range(30):
        a = art(n)
        for element in a.column_path:
            by_column.setdefault(element, set()).add(a.id)
    for column in ["通知公告", '引号"通知公告', "反斜杠\\", "通知公告\t", "政务公开", "反斜杠", "引号"]:
        hits = idx.search(SearchQuery(q="社保", column=column, size=50)).hits
        assert {h.id for h in hits} == by_column.get(column.strip(), set()), column


def test_a_version_1_index_asks_for_a_rebuild(tmp_path) -> None:
    path = tmp_path / "i.sqlite"
    with EmbeddedIndex(path) as index:
        index.upsert([art(1)])
    # What a file of schema version 1 looks like: no facts table.
    conn = sqlite3.connect(path)
    conn.execute("DROP TABLE facts")
    conn.execute("UPDATE meta SET value = '1' WHERE key = 'schema_version'")
    conn.commit()
    conn.close()
    assert SCHEMA_VERSION == "3"
    index = EmbeddedIndex(path)
    try:
        with pytest.raises(IndexSchemaError, match="blgw index rebuild") as info:
            index.search(SearchQuery(q="社保"))
        assert "schema_version 1" in str(info.value)
        assert index.rebuild([art(1), art(2)]) == 2
        assert index.search(SearchQuery(q="社保")).total == 2
        assert_facts_match_documents(index, {a.id: a for a in (art(1), art(2))})
    finally:
        index.close()


def test_search_reads_one_snapshot_while_documents_are_deleted(tmp_path) -> None:
    # The page's documents are read after the match: without one read transaction around both,
    # a concurrent delete in between made search() fail (KeyError on the vanished docid).
    errors: list[BaseException] = []
    stop = threading.Event()
    with EmbeddedIndex(tmp_path / "i.sqlite") as idx:
        idx.upsert(art(n) for n in range(140))
        churn = [art(n) for n in range(140, 200)]  # the newest: the first page of equal scores
        idx.upsert(churn)

        def writer() -> None:
            while not stop.is_set():
                idx.delete([a.id for a in churn])
                idx.upsert(churn)

        def reader() -> None:
            try:
                for _ in range(150):
                    result = idx.search(SearchQuery(q="社保", size=50))
                    assert len(result.hits) == min(50, result.total)
            except BaseException as exc:  # reported by the assertion below
                errors.append(exc)

        threads = [threading.Thread(target=writer), *(threading.Thread(target=reader) for _ in range(2))]
        for t in threads:
            t.start()
        for t in threads[1:]:
            t.join()
        stop.set()
        threads[0].join()
    assert errors == []
