"""Store → index through the outbox: a change reaches the index only once its transaction
committed, nothing is lost while the index is down, gone documents leave the index, and the
outbox is empty after a successful sync. The index is always a real EmbeddedIndex (failures are
a closed index or a wrapper that lets the real index's calls fail). Every test runs on SQLite and
on PostgreSQL."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterable

import pytest
import sqlalchemy as sa
from sqlalchemy import select

from gateway.ops.indexing import quarantined_rows, rebuild_index, search_document, sync_index
from gateway.store.models import Document, IndexOutbox, Site
from gateway.store.repository import (
    iter_items,
    mark_gone,
    upsert_article,
)
from gateway.store.session import Store
from index.base import (
    DocumentsRejected,
    IndexClosedError,
    IndexUnavailableError,
    SearchIndex,
    SearchQuery,
    SearchResult,
    Suggestion,
)
from index.embedded import EmbeddedIndex
from normalizers.models import Article


@pytest.fixture
def store_url(store_url_any: str) -> str:
    return store_url_any  # every test here runs on SQLite and on PostgreSQL


@pytest.fixture
def site_store(store: Store) -> Store:
    with store.session() as s:
        s.add(Site(code="rsj", name="北仑区人力资源和社会保障局", base_url="http://rsj.bl.gov.cn/"))
    return store


@pytest.fixture
def index(tmp_path) -> EmbeddedIndex:
    idx = EmbeddedIndex(tmp_path / "index.sqlite")
    yield idx
    idx.close()


def doc(n: int, make, **overrides) -> Article:
    return make(f"http://rsj.bl.gov.cn/show.php?id={n}", title=f"关于第{n}号社保通知", **overrides)


def save(store: Store, *articles: Article) -> None:
    with store.session() as s:
        for a in articles:
            upsert_article(s, a, fetch_url=str(a.source_url), raw_body=b"<html></html>",
                           content_type="text/html", http_status=200, run_id=None)


def outbox(store: Store) -> list[tuple[str, str]]:
    with store.session() as s:
        return [(r.document_id, r.action) for r in s.scalars(select(IndexOutbox).order_by(IndexOutbox.id))]


def assert_index_equals_store(store: Store, index: SearchIndex) -> None:
    with store.session() as s:
        expected = {item.id: search_document(item) for item in iter_items(s)}
        gone = list(s.scalars(select(Document.id).where(Document.status == "gone")))
    assert index.count() == len(expected)
    for id_, article in expected.items():
        assert index.get(id_) == article
    for id_ in gone:
        assert index.get(id_) is None


class Flaky(SearchIndex):
    """The real embedded index, whose upserts (or deletes) fail while ``failures`` > 0 — as when
    the index service is unreachable; every call is recorded."""

    def __init__(self, inner: SearchIndex, *, upsert_failures: int = 0, delete_failures: int = 0):
        self.inner = inner
        self.upsert_failures = upsert_failures
        self.delete_failures = delete_failures
        self.calls: list[tuple[str, list[str]]] = []

    def upsert(self, articles: Iterable[Article]) -> int:
        articles = list(articles)
        self.calls.append(("upsert", [a.id for a in articles]))
        if self.upsert_failures > 0:
            self.upsert_failures -= 1
            raise ConnectionError("index unreachable")
        return self.inner.upsert(articles)

    def delete(self, ids: Iterable[str]) -> int:
        ids = list(ids)
        self.calls.append(("delete", ids))
        if self.delete_failures > 0:
            self.delete_failures -= 1
            raise ConnectionError("index unreachable")
        return self.inner.delete(ids)

    def get(self, id: str) -> Article | None:
        return self.inner.get(id)

    def search(self, query: SearchQuery) -> SearchResult:
        return self.inner.search(query)

    def suggest(self, prefix: str, size: int = 8, site_codes: list[str] | None = None) -> list[Suggestion]:
        return self.inner.suggest(prefix, size, site_codes)

    def rebuild(self, documents: Iterable[Article]) -> int:
        return self.inner.rebuild(documents)

    def count(self) -> int:
        return self.inner.count()

    def clear(self) -> None:
        self.inner.clear()

    def close(self) -> None:
        self.inner.close()


# --------------------------------------------------------------------------------------------


def test_a_document_reaches_the_index_only_after_its_transaction_commits(site_store, index, article_factory):
    a = doc(1, article_factory)
    with pytest.raises(RuntimeError), site_store.session() as s:
        upsert_article(s, a, fetch_url=str(a.source_url), raw_body=b"x", content_type=None,
                       http_status=200, run_id=None)
        s.flush()
        raise RuntimeError("the crawl died before the commit")
    assert outbox(site_store) == []
    assert sync_index(site_store, index).upserted == 0
    assert index.count() == 0

    save(site_store, a)
    assert outbox(site_store) == [(a.id, "upsert")]
    assert index.get(a.id) is None  # committed but not synced yet
    result = sync_index(site_store, index)
    assert (result.upserted, result.deleted) == (1, 0)
    assert index.get(a.id) == a
    assert index.search(SearchQuery(q="社保")).total == 1
    assert outbox(site_store) == []


def test_only_new_and_changed_documents_are_queued(site_store, index, article_factory):
    a = doc(1, article_factory)
    save(site_store, a)
    sync_index(site_store, index)
    save(site_store, a.model_copy(update={"fetched_at": a.fetched_at.replace(year=2025)}))  # same content
    assert outbox(site_store) == []
    changed = a.model_copy(update={"title": "关于第1号医保通知"})
    save(site_store, changed)
    assert outbox(site_store) == [(a.id, "upsert")]
    sync_index(site_store, index)
    assert index.get(a.id) == changed
    assert index.search(SearchQuery(q="医保")).total == 1


def test_closed_index_loses_nothing_and_the_next_sync_catches_up(site_store, tmp_path, article_factory):
    docs = [doc(n, article_factory) for n in range(1, 8)]
    save(site_store, *docs)
    down = EmbeddedIndex(tmp_path / "index.sqlite")
    down.close()  # the index is down
    with pytest.raises(IndexClosedError):
        sync_index(site_store, down, batch=3)
    assert len(outbox(site_store)) == len(docs)

    with site_store.session() as s:
        assert mark_gone(s, docs[0].id)
    with pytest.raises(IndexClosedError):
        sync_index(site_store, down)
    assert len(outbox(site_store)) == len(docs) + 1

    with EmbeddedIndex(tmp_path / "index.sqlite") as up:
        result = sync_index(site_store, up, batch=3)
        assert result.upserted == len(docs) - 1  # docs[0] is gone by now: deleted, not sent
        assert_index_equals_store(site_store, up)
        assert outbox(site_store) == []


def test_failure_midway_keeps_the_unapplied_rows(site_store, index, article_factory):
    docs = [doc(n, article_factory) for n in range(1, 8)]
    save(site_store, *docs)
    flaky = Flaky(index)
    flaky.upsert_failures = 0
    # First batch goes through, the second fails.
    original = flaky.upsert

    def second_fails(articles):
        if len(flaky.calls) == 1:
            flaky.upsert_failures = 1
        return original(articles)

    flaky.upsert = second_fails  # type: ignore[method-assign]
    with pytest.raises(ConnectionError):
        sync_index(site_store, flaky, batch=3)
    assert index.count() == 3
    assert [d for d, _ in outbox(site_store)] == [d.id for d in docs[3:]]

    result = sync_index(site_store, Flaky(index), batch=3)
    assert result.upserted == 4
    assert_index_equals_store(site_store, index)
    assert outbox(site_store) == []


def test_index_down_for_several_syncs_while_the_store_changes(site_store, index, article_factory):
    flaky = Flaky(index, upsert_failures=3, delete_failures=1)
    docs = [doc(n, article_factory) for n in range(1, 5)]
    save(site_store, *docs)
    with pytest.raises(ConnectionError):
        sync_index(site_store, flaky)
    save(site_store, docs[1].model_copy(update={"title": "关于第2号医保通知"}), doc(5, article_factory))
    with site_store.session() as s:
        mark_gone(s, docs[2].id)
    with pytest.raises(ConnectionError):
        sync_index(site_store, flaky)
    with pytest.raises(ConnectionError):
        sync_index(site_store, flaky)
    assert index.count() == 0
    assert len(outbox(site_store)) == 7
    with pytest.raises(ConnectionError):
        sync_index(site_store, flaky)  # upserts work again, the delete fails once
    # (the batch's upsert went through, its delete did not: all its rows stay)
    assert index.count() == 4
    assert len(outbox(site_store)) == 7
    result = sync_index(site_store, flaky)
    assert (result.upserted, result.deleted) == (4, 0)  # docs[2] never made it into the index
    assert_index_equals_store(site_store, index)
    assert outbox(site_store) == []


def test_gone_documents_are_deleted_from_the_index_and_kept_in_the_store(site_store, index, article_factory):
    a, b = doc(1, article_factory), doc(2, article_factory)
    save(site_store, a, b)
    sync_index(site_store, index)
    assert index.count() == 2
    with site_store.session() as s:
        assert mark_gone(s, a.id) is True
        assert mark_gone(s, a.id) is False  # already gone: nothing queued twice
        assert mark_gone(s, "0" * 32) is False
    assert outbox(site_store) == [(a.id, "delete")]
    result = sync_index(site_store, index)
    assert (result.upserted, result.deleted) == (0, 1)
    assert index.get(a.id) is None and index.get(b.id) == b
    with site_store.session() as s:
        row = s.get(Document, a.id)
        assert row is not None and row.status == "gone"
    # A gone page that comes back is indexed again.
    save(site_store, a)
    assert outbox(site_store) == [(a.id, "upsert")]
    sync_index(site_store, index)
    assert_index_equals_store(site_store, index)


def test_a_gone_document_rolled_back_stays_in_the_index(site_store, index, article_factory):
    a = doc(1, article_factory)
    save(site_store, a)
    sync_index(site_store, index)
    with pytest.raises(RuntimeError), site_store.session() as s:
        mark_gone(s, a.id)
        raise RuntimeError("rolled back")
    assert outbox(site_store) == []
    sync_index(site_store, index)
    assert index.get(a.id) == a


def test_rows_of_one_document_coalesce_in_a_batch(site_store, index, article_factory):
    a, b = doc(1, article_factory), doc(2, article_factory)
    save(site_store, a, b)
    for title in ("关于第1号医保通知", "关于第1号医疗通知"):
        save(site_store, a.model_copy(update={"title": title}))
    with site_store.session() as s:
        mark_gone(s, b.id)
    save(site_store, b)  # back again
    with site_store.session() as s:
        mark_gone(s, b.id)  # and gone for good
    assert len(outbox(site_store)) == 7
    flaky = Flaky(index)
    result = sync_index(site_store, flaky)
    assert flaky.calls == [("upsert", [a.id]), ("delete", [b.id])]
    assert (result.upserted, result.deleted) == (1, 0)  # b never reached the index
    assert index.get(a.id).title == "关于第1号医疗通知"
    assert_index_equals_store(site_store, index)


def test_rebuild_from_the_store_clears_the_outbox(site_store, index, article_factory):
    docs = [doc(n, article_factory) for n in range(1, 6)]
    save(site_store, *docs)
    with site_store.session() as s:
        mark_gone(s, docs[4].id)
    stray = doc(99, article_factory)  # in the index, not in the store
    index.upsert([stray, docs[4]])
    result = rebuild_index(site_store, index)
    assert result.indexed == 4 and result.skipped == []
    assert index.get(stray.id) is None
    assert_index_equals_store(site_store, index)
    assert outbox(site_store) == []


def test_changes_queued_during_a_rebuild_are_left_for_the_next_sync(site_store, index, article_factory):
    docs = [doc(n, article_factory) for n in range(1, 4)]
    save(site_store, *docs)
    late = doc(4, article_factory)

    class Meanwhile(Flaky):
        def rebuild(self, documents):
            def consume():
                for i, article in enumerate(documents):
                    if i == 1:
                        save(site_store, late)  # the crawler commits during the rebuild
                    yield article
            return super().rebuild(consume())

    # The store is read in short transactions: the rebuild may or may not see the late document
    # (by where its id falls); either way its outbox row stays for the next sync.
    assert rebuild_index(site_store, Meanwhile(index)).indexed == 3 + (index.get(late.id) is not None)
    assert outbox(site_store) == [(late.id, "upsert")]
    sync_index(site_store, index)
    assert_index_equals_store(site_store, index)
    assert outbox(site_store) == []


def test_rebuild_failure_keeps_the_index_and_the_outbox(site_store, index, article_factory):
    docs = [doc(n, article_factory) for n in range(1, 4)]
    save(site_store, *docs[:2])
    sync_index(site_store, index)
    save(site_store, docs[2])

    class Broken(Flaky):
        def rebuild(self, documents):
            def consume():
                yield from list(documents)[:1]
                raise ConnectionError("index unreachable")
            return super().rebuild(consume())

    with pytest.raises(ConnectionError):
        rebuild_index(site_store, Broken(index))
    assert index.count() == 2
    assert outbox(site_store) == [(docs[2].id, "upsert")]
    sync_index(site_store, index)
    assert_index_equals_store(site_store, index)


def test_concurrent_syncs_on_postgresql_apply_the_outbox_in_order(postgres_database, index, article_factory):
    """Two syncs at once (two crawls finishing together): the second waits for the first one's
    batch (its rows are locked), so a document gone meanwhile is deleted after, not before, the
    first sync's upsert reaches the index. (PostgreSQL only: SQLite has no row locks.)"""
    store = Store(postgres_database)
    store.migrate()
    with store.session() as s:
        s.add(Site(code="rsj", name="北仑区人力资源和社会保障局", base_url="http://rsj.bl.gov.cn/"))
    docs = [doc(n, article_factory) for n in range(1, 4)]
    save(store, *docs)
    inside, release = threading.Event(), threading.Event()

    class Slow(Flaky):
        def upsert(self, articles):
            articles = list(articles)
            inside.set()
            assert release.wait(30)
            return super().upsert(articles)

    errors: list[BaseException] = []

    def run(target: SearchIndex) -> None:
        try:
            sync_index(store, target)
        except BaseException as exc:  # reported below
            errors.append(exc)

    first, second = Slow(index), Flaky(index)
    a = threading.Thread(target=run, args=(first,))
    a.start()
    assert inside.wait(30)  # the first sync has read its batch and is sending it
    with store.session() as s:
        assert mark_gone(s, docs[0].id)
    b = threading.Thread(target=run, args=(second,))
    b.start()
    b.join(1.0)
    assert b.is_alive() and second.calls == []  # waiting for the first sync's rows
    release.set()
    a.join(30)
    b.join(30)
    assert not errors
    assert first.calls == [("upsert", [d.id for d in docs])]
    assert second.calls == [("delete", [docs[0].id])]
    assert_index_equals_store(store, index)
    assert outbox(store) == []
    store.dispose()


def test_migration_queues_what_the_old_sync_had_not_sent(store_url):
    from alembic import command

    from gateway.store.session import alembic_config

    s = Store(store_url)
    s.migrate("0001")
    rows = [("a" * 32, "active", "h1", "h1"), ("b" * 32, "active", "h2", None),
            ("c" * 32, "active", "h3", "old"), ("d" * 32, "gone", "h4", "h4"), ("e" * 32, "gone", "h5", None)]
    with s.engine.begin() as c:
        c.execute(sa.text("INSERT INTO sites (code, name, base_url, platform, plugin_source, created_at,"
                          " updated_at) VALUES ('rsj', 'x', 'http://rsj.bl.gov.cn/', 'generic', '', "
                          "'2024-01-01', '2024-01-01')"))
        for id_, status, content_hash, indexed_hash in rows:
            c.execute(sa.text(
                "INSERT INTO documents (id, site_code, url, fetch_url, title, content_hash, item, status,"
                " first_seen_at, last_seen_at, last_changed_at, http_status, raw_page, indexed_hash)"
                " VALUES (:id, 'rsj', 'u', 'u', 't', :ch, '{}', :st, '2024-01-01', '2024-01-01',"
                " '2024-01-01', 200, :raw, :ih)"),
                {"id": id_, "ch": content_hash, "st": status, "ih": indexed_hash, "raw": b"\x00"})
    s.migrate()
    assert outbox(s) == [("b" * 32, "upsert"), ("c" * 32, "upsert"), ("d" * 32, "delete")]
    command.downgrade(alembic_config(s.url), "0001")
    with s.engine.connect() as c:
        got = dict(c.execute(sa.text("SELECT id, indexed_hash FROM documents")).all())
    assert got == {"a" * 32: "h1", "b" * 32: None, "c" * 32: None, "d" * 32: "h4", "e" * 32: None}
    s.dispose()


# --- refused documents: retried, then quarantined; an unreachable index loses nothing -------


class Picky(Flaky):
    """The real embedded index, refusing the documents of ``refuse`` one by one (as a bulk
    response's per-document errors do) and writing the others."""

    def __init__(self, inner: SearchIndex, refuse: set[str]):
        super().__init__(inner)
        self.refuse = refuse

    def upsert(self, articles: Iterable[Article]) -> int:
        articles = list(articles)
        self.calls.append(("upsert", [a.id for a in articles]))
        written = self.inner.upsert([a for a in articles if a.id not in self.refuse])
        failures = [(a.id, "mapper_parsing_exception: failed to parse [title]") for a in articles
                    if a.id in self.refuse]
        if failures:
            raise DocumentsRejected("upsert", failures, written)
        return written


def rows(store: Store) -> list[tuple[str, str, int, str | None]]:
    with store.session() as s:
        return [(r.document_id, r.state, r.attempts, r.last_error)
                for r in s.scalars(select(IndexOutbox).order_by(IndexOutbox.id))]


def test_a_refused_document_is_retried_then_quarantined_and_later_rows_go_on(site_store, index, article_factory):
    docs = [doc(n, article_factory) for n in range(1, 6)]
    save(site_store, *docs)
    bad = docs[1].id
    picky = Picky(index, refuse={bad})
    for attempt in (1, 2):
        result = sync_index(site_store, picky, batch=2, max_attempts=3)  # never raises
        assert [r.document_id for r in result.retrying] == [bad] and result.quarantined == []
        assert rows(site_store) == [(bad, "pending", attempt, "mapper_parsing_exception: failed to parse [title]")]
        with site_store.session() as s:
            assert s.get(IndexOutbox, result.rejected[0].row_id).last_attempt_at is not None
    assert index.count() == 4  # every other document went in at the first sync
    later = doc(6, article_factory)
    save(site_store, later)
    result = sync_index(site_store, picky, max_attempts=3)
    assert [(r.document_id, r.attempts) for r in result.quarantined] == [(bad, 3)]
    assert index.get(later.id) == later
    assert rows(site_store) == [(bad, "quarantined", 3, "mapper_parsing_exception: failed to parse [title]")]
    assert [r.document_id for r in quarantined_rows(site_store)] == [bad]

    # Quarantined: kept, not sent again by an ordinary sync.
    picky.calls.clear()
    assert sync_index(site_store, picky, max_attempts=3).rejected == []
    assert picky.calls == []
    assert rows(site_store)[0][1] == "quarantined"

    # Sent again on request: one more refusal quarantines it again, with the new count …
    again = sync_index(site_store, picky, max_attempts=3, retry_quarantined=True)
    assert [(r.document_id, r.attempts, r.quarantined) for r in again.rejected] == [(bad, 4, True)]
    # … and once the index takes it, it is gone from the outbox.
    picky.refuse.clear()
    assert sync_index(site_store, picky, max_attempts=3, retry_quarantined=True).upserted == 1
    assert rows(site_store) == []
    assert_index_equals_store(site_store, index)


def test_a_later_change_that_the_index_takes_clears_the_refused_rows_of_its_document(
        site_store, index, article_factory):
    a = doc(1, article_factory)
    save(site_store, a)
    picky = Picky(index, refuse={a.id})
    sync_index(site_store, picky, max_attempts=1)
    assert rows(site_store)[0][:2] == (a.id, "quarantined")
    changed = a.model_copy(update={"title": "关于第1号医保通知"})
    save(site_store, changed)
    picky.refuse.clear()
    sync_index(site_store, picky, max_attempts=1)
    assert rows(site_store) == []  # the quarantined row is covered: the index holds the document as stored
    assert index.get(a.id) == changed


def test_rows_of_a_refused_document_collapse_to_one(site_store, index, article_factory):
    a = doc(1, article_factory)
    save(site_store, a)
    save(site_store, a.model_copy(update={"title": "关于第1号医保通知"}))
    assert len(outbox(site_store)) == 2
    sync_index(site_store, Picky(index, refuse={a.id}), max_attempts=5)
    assert [(d, state, n) for d, state, n, _ in rows(site_store)] == [(a.id, "pending", 1)]


def test_an_unreadable_stored_item_is_refused_like_a_document_the_index_refuses(site_store, index, article_factory):
    docs = [doc(n, article_factory) for n in range(1, 4)]
    save(site_store, *docs)
    with site_store.session() as s:
        s.execute(sa.update(Document).where(Document.id == docs[0].id).values(item={"item_type": "article"}))
    result = sync_index(site_store, index, max_attempts=2)
    assert [r.document_id for r in result.retrying] == [docs[0].id]
    assert "the stored item cannot be read: ValidationError" in result.rejected[0].error
    assert index.count() == 2
    assert [r.document_id for r in sync_index(site_store, index, max_attempts=2).quarantined] == [docs[0].id]


def test_an_unreachable_index_leaves_every_row_pending_and_fails_with_one_error(site_store, index, article_factory):
    docs = [doc(n, article_factory) for n in range(1, 4)]
    save(site_store, *docs)

    class Down(Flaky):
        def upsert(self, articles):
            raise IndexUnavailableError("cannot reach http://127.0.0.1:9: connection refused")

    for _ in range(3):
        with pytest.raises(IndexUnavailableError, match="cannot reach"):
            sync_index(site_store, Down(index), max_attempts=1)
    assert rows(site_store) == [(d.id, "pending", 0, None) for d in docs]  # no attempt counted
    sync_index(site_store, index)
    assert_index_equals_store(site_store, index)


def test_an_elasticsearch_cluster_on_a_closed_port_is_unreachable_not_a_refusal(site_store, article_factory):
    from index.factory import open_index

    docs = [doc(n, article_factory) for n in range(1, 3)]
    save(site_store, *docs)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed once the block ends
    cluster = open_index(f"http://elastic:secret@127.0.0.1:{port}/blgw-test")
    with pytest.raises(IndexUnavailableError, match=f"cannot reach http://127.0.0.1:{port}") as caught:
        sync_index(site_store, cluster, max_attempts=1)
    assert "secret" not in str(caught.value)
    assert rows(site_store) == [(d.id, "pending", 0, None) for d in docs]


def test_elasticsearch_per_document_errors_are_refusals_and_busy_items_fail_the_call(
        site_store, article_factory, monkeypatch):
    """The backend's bulk results (the client's streaming_bulk, replaced here by its answers): a
    400 of one document is that document's refusal; a 429 after the helper's retries fails the
    whole call (the cluster is busy, nothing says the document is wrong)."""
    import index.elasticsearch as es

    docs = [doc(n, article_factory) for n in range(1, 4)]
    save(site_store, *docs)
    answers: dict[str, tuple[int, str]] = {docs[1].id: (400, "document_parsing_exception")}

    def streaming_bulk(client, actions, **_):
        for action in actions:
            status, error = answers.get(action["_id"], (201, ""))
            result = {"_index": "i", "_id": action["_id"], "status": status}
            if error:
                result["error"] = {"type": error, "reason": "refused"}
            yield status < 300, {action["_op_type"]: result}

    monkeypatch.setattr(es, "streaming_bulk", streaming_bulk)
    cluster = es.ElasticsearchIndex("http://127.0.0.1:9", client=object())
    monkeypatch.setattr(cluster, "_ready", lambda write=False: "cjk")
    monkeypatch.setattr(cluster, "_refresh", lambda index: None)
    result = sync_index(site_store, cluster, max_attempts=5)
    assert result.upserted == 2
    assert [(r.document_id, r.error) for r in result.rejected] == [
        (docs[1].id, "document_parsing_exception: refused")]

    for busy in ((429, "es_rejected_execution_exception"), (403, "cluster_block_exception"),
                 (503, "unavailable_shards_exception")):
        answers[docs[1].id] = busy
        with pytest.raises(es.ElasticsearchIndexError, match="could not take 1 document") as caught:
            sync_index(site_store, cluster, max_attempts=5)
        assert not isinstance(caught.value, DocumentsRejected)
        assert rows(site_store)[0][:3] == (docs[1].id, "pending", 1)  # a busy answer counts no attempt


def test_migration_keeps_queued_rows_pending(store_url):
    s = Store(store_url)
    s.migrate("0003")
    with s.engine.begin() as c:
        c.execute(sa.text("INSERT INTO index_outbox (document_id, action, created_at) VALUES "
                          "('a', 'upsert', '2024-01-01'), ('b', 'delete', '2024-01-01')"))
    s.migrate()
    assert rows(s) == [("a", "pending", 0, None), ("b", "pending", 0, None)]
    s.dispose()


# --- blgw index sync / rebuild -----------------------------------------------------------------


@pytest.fixture
def blgw(tmp_path, site_store, monkeypatch):
    """Run ``blgw …`` in this process against this test's store and an embedded index."""
    from click.testing import CliRunner

    from gateway.cli import main
    from gateway.settings import get_settings

    monkeypatch.setenv("BLGW_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("BLGW_DATABASE_URL", site_store.url)
    monkeypatch.setenv("BLGW_INDEX_URL", f"sqlite:///{tmp_path / 'cli-index.sqlite'}")
    monkeypatch.setenv("BLGW_OUTBOX_MAX_ATTEMPTS", "2")
    get_settings.cache_clear()

    def run(*args: str):
        return CliRunner().invoke(main, list(args), catch_exceptions=False)

    yield run
    get_settings.cache_clear()


def break_item(store: Store, doc_id: str, item: dict | None = None) -> None:
    with store.session() as s:
        s.execute(sa.update(Document).where(Document.id == doc_id).values(item=item or {"item_type": "article"}))


def test_index_sync_names_refused_and_quarantined_changes_and_retries_them(site_store, blgw, article_factory):
    docs = [doc(n, article_factory) for n in range(1, 4)]
    save(site_store, *docs)
    with site_store.session() as s:
        good_item = s.get(Document, docs[0].id).item
    break_item(site_store, docs[0].id)

    first = blgw("index", "sync")
    assert first.exit_code == 1, first.output
    assert "index: 2 upserted, 0 deleted, 2 documents" in first.stdout
    assert "1 change(s) refused, sent again by the next sync" in first.stderr
    assert f"upsert {docs[0].id} (1 attempt(s)): the stored item cannot be read" in first.stderr

    second = blgw("index", "sync")
    assert second.exit_code == 1
    assert "1 change(s) quarantined (refused 2 times" in second.stderr
    assert f"upsert {docs[0].id} (2 attempt(s))" in second.stderr and "--retry-quarantined" in second.stderr

    listed = blgw("index", "sync", "--json")
    assert listed.exit_code == 1
    body = json.loads(listed.stdout)
    assert body["retrying"] == [] and body["documents"] == 2
    assert [(q["document_id"], q["attempts"], q["quarantined"]) for q in body["quarantined"]] == [(docs[0].id, 2, True)]
    assert body["quarantined"][0]["error"].startswith("the stored item cannot be read: ValidationError")

    break_item(site_store, docs[0].id, good_item)  # the cause is fixed
    assert blgw("index", "sync").exit_code == 1  # still quarantined: an ordinary sync leaves it
    retried = blgw("index", "sync", "--retry-quarantined")
    assert retried.exit_code == 0, retried.output
    assert "index: 1 upserted, 0 deleted, 3 documents" in retried.stdout and retried.stderr == ""
    assert outbox(site_store) == []


def test_index_rebuild_skips_and_names_an_unreadable_stored_item(site_store, blgw, tmp_path, article_factory):
    docs = [doc(n, article_factory) for n in range(1, 4)]
    save(site_store, *docs)
    break_item(site_store, docs[1].id)
    result = blgw("index", "rebuild")
    assert result.exit_code == 1, result.output
    assert "index rebuilt: 2 documents (outbox: 3 rows covered and cleared)" in result.stdout
    assert f"skipped {docs[1].id}: the stored item cannot be read (ValidationError" in result.stderr
    assert "1 stored item(s) skipped" in result.stderr
    with EmbeddedIndex(tmp_path / "cli-index.sqlite") as built:
        assert built.count() == 2 and built.get(docs[0].id) == docs[0]
    assert outbox(site_store) == []


# --- a rebuild and a sync never run at once --------------------------------------------------------


def test_a_sync_beside_a_rebuild_is_deferred_and_the_next_sync_applies_it(site_store, article_factory, tmp_path):
    """While a rebuild holds the store's index job lock (here: this process, mid-rebuild), a sync
    writes nothing and keeps every row, instead of writing into the index being replaced and
    dropping the rows; once the rebuild is over the next sync applies them."""
    from gateway.ops.indexing import IndexBusy, index_job

    index = EmbeddedIndex(tmp_path / "i.sqlite")
    docs = [doc(n, article_factory) for n in range(1, 4)]
    save(site_store, *docs)
    with index_job(site_store, "rebuild"):
        result = sync_index(site_store, index)
        assert result.deferred and "rebuild" in result.deferred and result.upserted == 0
        assert [r[0] for r in rows(site_store)] == [d.id for d in docs]  # nothing dropped
        assert index.count() == 0
        with pytest.raises(IndexBusy, match="rebuild"):
            rebuild_index(site_store, index)  # a second rebuild refuses to start
    result = sync_index(site_store, index)
    assert result.deferred is None and result.upserted == 3 and rows(site_store) == []
    index.close()


def test_a_dead_rebuilders_lock_is_taken_over(site_store, article_factory, tmp_path):
    from gateway.settings import get_settings
    from gateway.store.models import JobLock, utcnow

    with site_store.session() as s:  # a rebuild on this host whose process is gone (kill -9)
        s.add(JobLock(name="index", purpose="rebuild", holder="x:1:gone", hostname=get_settings().worker,
                      pid=2**22 + 12345, acquired_at=utcnow(), heartbeat_at=utcnow()))
    index = EmbeddedIndex(tmp_path / "i.sqlite")
    save(site_store, doc(1, article_factory))
    result = sync_index(site_store, index)
    assert result.deferred is None and result.upserted == 1
    index.close()
