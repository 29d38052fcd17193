"""The store: Alembic migrations match the models; upserts by id say new/changed/unchanged.
Every test runs on SQLite and on PostgreSQL."""

import datetime as dt
import subprocess
import sys
import time

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from conftest import site_row
from sqlalchemy import func, inspect, select
from sqlalchemy.exc import StatementError

from gateway.ops.navigation import column_counts
from gateway.store.models import Base, CrawlRun, Document
from gateway.store.repository import (
    Outcome,
    count_documents,
    iter_items,
    mark_gone,
    raw_page,
    record_error,
    start_run,
    upsert_article,
    upsert_site,
)
from gateway.store.session import Store
from normalizers.models import SHANGHAI
from plugins.manager import build_registry


@pytest.fixture
def store_url(store_url_any: str) -> str:
    return store_url_any  # every test here runs on SQLite and on PostgreSQL


def schema_differences(store: Store) -> list:
    """What Alembic's autogenerate would change to make the database equal the models
    (tables, columns, types, nullability, server defaults, indexes, keys)."""
    with store.engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "compare_server_default": True})
        return compare_metadata(context, Base.metadata)


def test_migrations_create_exactly_the_models_schema(store):
    assert schema_differences(store) == []
    assert not store.needs_migration()


def test_downgrade_to_base_and_up_again(store_url):
    s = Store(store_url)
    s.migrate()
    from alembic import command

    from gateway.store.session import alembic_config

    command.downgrade(alembic_config(s.url), "base")
    assert set(inspect(s.engine).get_table_names()) <= {"alembic_version"}
    assert s.needs_migration()
    s.migrate()
    assert set(Base.metadata.tables) <= set(inspect(s.engine).get_table_names())
    assert schema_differences(s) == []
    s.dispose()


def test_processes_starting_together_migrate_one_after_the_other(store_url, tmp_path):
    """Several crawls starting at once on a new database (or after an upgrade) all open the
    store; without the migration lock all but one failed (tables created twice)."""
    code = ("import sys, time; from pathlib import Path; from gateway.store.session import open_store\n"
            "ready, go = Path(sys.argv[2]), Path(sys.argv[3]); ready.touch()\n"
            "while not go.exists(): time.sleep(0.01)\n"
            "open_store(sys.argv[1]).dispose()")
    go = tmp_path / "go"
    ready = [tmp_path / f"ready-{n}" for n in range(3)]
    procs = [subprocess.Popen([sys.executable, "-c", code, store_url, str(r), str(go)],
                              stderr=subprocess.PIPE, text=True) for r in ready]
    deadline = time.monotonic() + 60
    while not all(r.exists() for r in ready) and time.monotonic() < deadline:
        time.sleep(0.01)
    go.touch()  # all imported: open the store at the same moment
    failures = [err[-2000:] for p in procs if (err := p.communicate(timeout=120)[1]) and p.returncode]
    assert not failures, failures[0]
    s = Store(store_url)
    assert schema_differences(s) == [] and not s.needs_migration()
    s.dispose()

def _site(store):
    spec = build_registry([], include_builtin=True).get("rsj")
    with store.session() as session:
        upsert_site(session, **site_row(spec))
        return start_run(session, "rsj").id


def test_upsert_reports_new_then_unchanged_then_changed(store, article_factory):
    run_id = _site(store)
    article = article_factory()
    kwargs = {"fetch_url": "http://127.0.0.1:9/show.php?id=1", "raw_body": "正文".encode("gbk"),
              "content_type": "text/html", "http_status": 200, "run_id": run_id}
    with store.session() as s:
        assert upsert_article(s, article, **kwargs) is Outcome.NEW
    # fetched again later: only fetched_at differs, so the content hash is the same
    again = article.model_copy(update={"fetched_at": article.fetched_at + dt.timedelta(days=1)})
    with store.session() as s:
        assert upsert_article(s, again, **kwargs) is Outcome.UNCHANGED
    edited = article_factory(title="关于做好2024年度社会保险缴费基数调整工作的补充通知")
    with store.session() as s:
        assert upsert_article(s, edited, **kwargs) is Outcome.CHANGED
    with store.session() as s:
        doc = s.get(Document, article.id)
        assert doc.title.endswith("补充通知")
        assert doc.first_seen_at <= doc.last_changed_at <= doc.last_seen_at
        assert raw_page(doc).decode("gbk") == "正文"
        run = s.get(CrawlRun, run_id)
        assert (run.items_new, run.items_unchanged, run.items_changed) == (1, 1, 1)
        assert count_documents(s, "rsj") == 1
        (stored,) = list(iter_items(s, "rsj"))
        assert stored == edited


def test_errors_are_counted_on_the_run(store):
    run_id = _site(store)
    with store.session() as s:
        record_error(s, run_id, "http://rsj.bl.gov.cn/show.php?id=9", "http", "HTTP 404")
        record_error(s, run_id, "http://rsj.bl.gov.cn/show.php?id=8", "field", "bad date", "published_at")
    with store.session() as s:
        run = s.get(CrawlRun, run_id)
        assert run.error_count == 2
        assert [(e.kind, e.field) for e in run.errors] == [("http", None), ("field", "published_at")]
        assert s.scalars(select(CrawlRun)).all() == [run]


def test_times_come_back_aware_and_in_utc(store):
    """PostgreSQL answers timestamptz in the session's time zone (the test server's is
    Asia/Shanghai), SQLite without one: the store gives UTC either way, and refuses naive times."""
    run_id = _site(store)
    started = dt.datetime(2024, 1, 5, 14, 29, 7, 123456, tzinfo=SHANGHAI)
    with store.session() as s:
        s.get(CrawlRun, run_id).started_at = started
    with store.session() as s:
        got = s.get(CrawlRun, run_id).started_at
        assert got == started and got.utcoffset() == dt.timedelta(0)
        assert got.isoformat() == "2024-01-05T06:29:07.123456+00:00"
        # comparisons with aware times of any zone
        assert s.scalar(select(func.count()).where(CrawlRun.started_at < started + dt.timedelta(seconds=1))) == 1
        assert s.scalar(select(func.count()).where(CrawlRun.started_at > started)) == 0
    with pytest.raises(StatementError, match="naive datetime"), store.session() as s:
        s.get(CrawlRun, run_id).finished_at = dt.datetime(2024, 1, 5, 14, 29)
        s.flush()


def test_text_is_stored_alike_on_every_backend(store, article_factory):
    """Too long for a VARCHAR(n) column: cut to n characters (PostgreSQL would refuse the row,
    SQLite keep it whole); NUL characters, which PostgreSQL text cannot hold, are dropped from
    text columns; the item JSON comes back exactly as stored, NULs and key order included."""
    run_id = _site(store)
    article = article_factory(body_text="第一段\x00第二段 𠮷")
    with store.session() as s:
        upsert_article(s, article, fetch_url="http://127.0.0.1:9/show.php?id=1\x00", raw_body=b"\x00\xff",
                       content_type="text/html; " + "x" * 300, http_status=200, run_id=run_id)
        record_error(s, run_id, "http://rsj.bl.gov.cn/show.php?id=1", "field", "bad\x00value", "f" * 150)
    with store.session() as s:
        doc = s.get(Document, article.id)
        assert doc.raw_content_type == ("text/html; " + "x" * 300)[:200]
        assert doc.fetch_url == "http://127.0.0.1:9/show.php?id=1"
        assert raw_page(doc) == b"\x00\xff"
        assert doc.item == article.model_dump(mode="json")
        assert list(doc.item) == list(article.model_dump(mode="json"))  # as stored, in order
        assert doc.item["body_text"] == "第一段\x00第二段 𠮷"
        (error,) = s.get(CrawlRun, run_id).errors
        assert (error.message, error.field) == ("badvalue", "f" * 100)


def test_column_counts_group_active_items_by_path(store, article_factory):
    _site(store)
    paths = [["政务公开", "通知公告"], ["政务公开", "通知公告"], ["政务公开", "政策法规"], ["政务公开", "政策法规"]]
    articles = [article_factory(f"http://rsj.bl.gov.cn/show.php?id={n}", column_path=path)
                for n, path in enumerate(paths)]
    with store.session() as s:
        for a in articles:
            upsert_article(s, a, fetch_url=str(a.source_url), raw_body=b"", content_type=None,
                           http_status=200, run_id=None)
        mark_gone(s, articles[3].id)
    with store.session() as s:
        assert column_counts(s, "rsj") == {("政务公开", "通知公告"): 2, ("政务公开", "政策法规"): 1}
        assert column_counts(s, "jyj") == {}


def test_stored_urls_move_to_the_served_form_and_ids_stay(store_url, article_factory):
    """Revision 0007: a document stored under its canonical key (``/col/col1/`` for the page
    fetched as ``/col/col1/index.html``, ``?tzgg/23.html=`` for ``?tzgg/23.html``) gets the URL
    its server serves, from its fetch URL (rebased from a mirror origin), with the same id and an
    item whose content hash matches it; a downgrade writes the keys back."""
    import json

    import sqlalchemy as sa
    from alembic import command

    from gateway.store.session import alembic_config
    from normalizers.models import document_id, parse_item
    from normalizers.urls import canonicalize_url

    s = Store(store_url)
    command.upgrade(alembic_config(s.url), "0006")
    cases = {  # canonical key stored before → fetched from (a mirror) → expected after
        "http://jyj.bl.gov.cn/col/col1229101/": ("http://127.0.0.1:8001/col/col1229101/index.html",
                                                 "http://jyj.bl.gov.cn/col/col1229101/index.html"),
        "http://jyj.bl.gov.cn/?tzgg/23.html=": ("http://jyj.bl.gov.cn/?tzgg/23.html", "http://jyj.bl.gov.cn/?tzgg/23.html"),
        "http://jyj.bl.gov.cn/list.php?catid=1&page=2": ("http://jyj.bl.gov.cn/list.php?page=2&catid=1",
                                                         "http://jyj.bl.gov.cn/list.php?page=2&catid=1"),
        "http://jyj.bl.gov.cn/show.php?id=9": ("http://other.example/elsewhere", "http://jyj.bl.gov.cn/show.php?id=9"),
    }
    with s.engine.begin() as c:
        c.execute(sa.text("INSERT INTO sites (code, name, base_url, platform, plugin_source, created_at, updated_at)"
                          " VALUES ('jyj', 'x', 'http://jyj.bl.gov.cn/', 'generic', '', '2024-01-01', '2024-01-01')"))
        for key, (fetched, _) in cases.items():
            item = article_factory(key, site_code="jyj").model_dump(mode="json")
            c.execute(sa.text(
                "INSERT INTO documents (id, site_code, url, fetch_url, title, content_hash, item, status,"
                " first_seen_at, last_seen_at, last_changed_at, http_status, raw_page)"
                " VALUES (:id, 'jyj', :url, :fetch, 't', :ch, :item, 'active', '2024-01-01', '2024-01-01',"
                " '2024-01-01', 200, :raw)"),
                {"id": document_id(key), "url": key, "fetch": fetched, "ch": item["content_hash"],
                 "item": json.dumps(item, ensure_ascii=False), "raw": b"\x00"})
    s.migrate()

    def stored() -> dict[str, tuple[str, dict, str]]:
        with s.engine.connect() as c:
            rows = c.execute(sa.text("SELECT id, url, item, content_hash FROM documents")).all()
        return {i: (u, it if isinstance(it, dict) else json.loads(it), h) for i, u, it, h in rows}

    after = stored()
    for key, (_, want) in cases.items():
        url, item, content_hash = after[document_id(key)]
        assert url == want and item["source_url"] == want and canonicalize_url(url) == canonicalize_url(key)
        assert parse_item(item).content_hash == content_hash == item["content_hash"]
    command.downgrade(alembic_config(s.url), "0006")
    assert {i: u for i, (u, _, _) in stored().items()} == {document_id(k): k for k in cases}
    s.dispose()
