"""What only the embedded backend has: open_index URLs, the SQLite file, schema versions,
the generated FTS5 queries and thread safety. Behaviour is in test_index_conformance.py."""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading

import pytest

from index.base import (
    IndexClosedError,
    IndexSchemaError,
    SearchIndexError,
    SearchQuery,
)
from index.embedded import SCHEMA_VERSION, EmbeddedIndex, fts5_query
from index.factory import open_index
from index.tokenize import parse_query
from normalizers.models import SHANGHAI, Article, Category, document_id


def art(n: int, title: str = "关于做好社保缴费工作的通知", body: str = "各参保单位：请按时缴纳社会保险费。") -> Article:
    url = f"http://rsj.bl.gov.cn/art/{n}.html"
    return Article(id=document_id(url), site_code="rsj", column_path=["政务公开", "通知公告"],
                   category=Category.GOVERNMENT_INFORMATION, title=title, body_text=body, body_html="<p/>",
                   published_at=dt.datetime(2024, 1, 1, tzinfo=SHANGHAI) + dt.timedelta(days=n),
                   source_url=url, fetched_at=dt.datetime(2024, 6, 1, tzinfo=SHANGHAI))


# --------------------------------------------------------------------------------------------
# open_index


def test_open_index_sqlite_file(tmp_path) -> None:
    path = tmp_path / "sub" / "index.sqlite"
    with open_index(f"sqlite:///{path.as_posix()}") as idx:  # absolute: sqlite:////tmp/…
        assert isinstance(idx, EmbeddedIndex)
        assert idx.path == str(path)
        idx.upsert([art(1)])
    assert path.exists()
    with open_index(f"sqlite:///{path.as_posix()}") as idx:
        assert idx.count() == 1


def test_open_index_relative_path(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    with open_index("sqlite:///data/index.sqlite") as idx:
        assert idx.count() == 0
    assert (tmp_path / "data" / "index.sqlite").exists()


@pytest.mark.parametrize("url", ["sqlite://:memory:", "sqlite:///:memory:", "sqlite://"])
def test_open_index_in_memory(url: str) -> None:
    with open_index(url) as idx:
        assert isinstance(idx, EmbeddedIndex) and idx.path == ":memory:"
        idx.upsert([art(1)])
        assert idx.search(SearchQuery(q="社保")).total == 1


@pytest.mark.parametrize("url", ["http://localhost:9200/blgw", "https://es.example:9200"])
def test_open_index_http_urls_open_the_elasticsearch_backend(url: str) -> None:
    from index.elasticsearch import ElasticsearchIndex

    idx = open_index(url)  # nothing is sent to the cluster before first use
    try:
        assert isinstance(idx, ElasticsearchIndex)
    finally:
        idx.close()


@pytest.mark.parametrize("url", ["postgres://db/x", "index.sqlite", "", "ftp://x"])
def test_open_index_unknown_scheme(url: str) -> None:
    with pytest.raises(ValueError) as info:
        open_index(url)
    message = str(info.value)
    assert repr(url) in message and "sqlite:///" in message and "sqlite://:memory:" in message


def test_open_index_bad_sqlite_url() -> None:
    with pytest.raises(ValueError, match="sqlite:///"):
        open_index("sqlite://host/x")


def test_open_index_hides_passwords() -> None:
    with pytest.raises(ValueError) as info:
        open_index("redis://user:s3cret@host/0")
    assert "s3cret" not in str(info.value)


# --------------------------------------------------------------------------------------------
# The file


def test_wal_mode_and_meta(tmp_path) -> None:
    path = tmp_path / "i.sqlite"
    EmbeddedIndex(path).close()
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    meta = dict(conn.execute("SELECT key, value FROM meta"))
    assert meta["schema_version"] == SCHEMA_VERSION == "3"
    conn.close()


def _set_version(path, version: str) -> None:
    conn = sqlite3.connect(path)
    conn.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (version,))
    conn.commit()
    conn.close()


def test_other_schema_version_is_a_clear_error_and_rebuild_recovers(tmp_path) -> None:
    path = tmp_path / "i.sqlite"
    with EmbeddedIndex(path) as idx:
        idx.upsert([art(1)])
    _set_version(path, "0")
    idx = EmbeddedIndex(path)  # opening succeeds so that `blgw index rebuild` can clear it
    for call in (idx.count, lambda: idx.get(art(1).id), lambda: idx.search(SearchQuery(q="社保")),
                 lambda: idx.search(SearchQuery(q="!!")), lambda: idx.upsert([art(2)]),
                 lambda: idx.delete([art(1).id])):
        with pytest.raises(IndexSchemaError, match="blgw index rebuild") as info:
            call()
        assert "schema_version 0" in str(info.value)
    idx.clear()
    assert idx.count() == 0
    idx.upsert([art(2)])
    idx.close()
    with EmbeddedIndex(path) as again:
        assert again.count() == 1


def test_foreign_sqlite_file_is_refused_and_never_cleared(tmp_path) -> None:
    path = tmp_path / "gateway.sqlite"  # e.g. BLGW_INDEX_URL pointing at the store by mistake
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE documents (x)")
    conn.execute("INSERT INTO documents VALUES (1)")
    conn.commit()
    conn.close()
    with EmbeddedIndex(path) as idx:
        with pytest.raises(IndexSchemaError, match="not a search index"):
            idx.count()
        with pytest.raises(IndexSchemaError, match="refusing to clear"):
            idx.clear()
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT count(*) FROM documents").fetchone()[0] == 1
    conn.close()


def test_not_a_database(tmp_path) -> None:
    path = tmp_path / "garbage.sqlite"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(SearchIndexError, match="cannot open"):
        EmbeddedIndex(path)


def test_persistence_and_second_connection(tmp_path) -> None:
    path = tmp_path / "i.sqlite"
    with EmbeddedIndex(path) as writer, EmbeddedIndex(path) as reader:
        writer.upsert([art(1), art(2)])
        assert reader.count() == 2
        assert reader.search(SearchQuery(q="社保")).total == 2
        writer.delete([art(1).id])
        assert reader.search(SearchQuery(q="社保")).total == 1


def test_fts_stays_consistent_after_replace_and_delete(tmp_path) -> None:
    with EmbeddedIndex(tmp_path / "i.sqlite") as idx:
        idx.upsert([art(n) for n in range(20)])
        idx.upsert([art(n, title=f"第{n}号医保通知", body="医保报销。") for n in range(0, 20, 2)])
        idx.delete([art(n).id for n in range(0, 20, 3)])
        conn = idx._db()
        conn.execute("INSERT INTO fts (fts, rank) VALUES ('integrity-check', 1)")
        assert idx.search(SearchQuery(q="社保", size=50)).total == 10 - 3  # odd n, not a multiple of 3
        assert idx.search(SearchQuery(q="医保", size=50)).total == 10 - 4  # even n, not a multiple of 3
        idx.optimize()
        assert idx.count() == 20 - 7


def test_upsert_rejects_non_articles_and_keeps_earlier_batches(tmp_path) -> None:
    with EmbeddedIndex(tmp_path / "i.sqlite") as idx:
        with pytest.raises(TypeError):
            idx.upsert([art(1), {"id": "x"}])  # type: ignore[list-item]
        assert idx.count() == 0  # the failing batch is rolled back


def test_closed_index(tmp_path) -> None:
    idx = EmbeddedIndex(tmp_path / "i.sqlite")
    idx.close()
    idx.close()  # idempotent
    for call in (idx.count, idx.clear, lambda: idx.search(SearchQuery(q="社保")), lambda: idx.upsert([])):
        with pytest.raises(IndexClosedError):
            call()


def test_threads_share_one_instance(tmp_path) -> None:
    errors: list[BaseException] = []
    with EmbeddedIndex(tmp_path / "i.sqlite") as idx:
        def work(k: int) -> None:
            try:
                for n in range(k * 50, k * 50 + 50):
                    idx.upsert([art(n)])
                    idx.search(SearchQuery(q="社保 通知"))
            except BaseException as exc:  # pragma: no cover
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors
        assert idx.count() == 200
        assert idx.search(SearchQuery(q="社保")).total == 200


# --------------------------------------------------------------------------------------------
# Generated FTS5 queries


@pytest.mark.parametrize(("q", "expected"), [
    ("社保", '"社保"'),
    ("社会保险", '"社会 会保 保险"'),  # the literal term: its bigrams adjacent, in one field
    ("保险 社", '"保险" AND "社"*'),
    ("保", '"保"*'),
    ("PDF 2024", '"pdf" AND "2024"'),
    ('"养老保险"', '"养老 老保 保险"'),
    ('"第 3 号"', '"第_ 3 号"*'),
    ('"养老保险、医疗"', '"养老 老保 保险 险_ 医疗"'),
    ("col:x AND NEAR(", '"col" AND "x"'),
])
def test_fts5_query(q: str, expected: str) -> None:
    assert fts5_query(parse_query(q)) == expected
