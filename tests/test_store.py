"""The store: Alembic migrations match the models; upserts by id say new/changed/unchanged."""

import datetime as dt

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, select

from gateway.store.models import Base, CrawlRun, Document
from gateway.store.repository import (
    Outcome,
    count_documents,
    iter_articles,
    raw_page,
    record_error,
    start_run,
    upsert_article,
    upsert_site,
)
from gateway.store.session import Store
from plugins.manager import build_registry


def test_migrations_create_exactly_the_models_schema(store):
    with store.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert diff == []
    assert not store.needs_migration()


def test_downgrade_to_base_and_up_again(tmp_path):
    s = Store(f"sqlite:///{tmp_path / 'x.sqlite'}")
    s.migrate()
    from alembic import command

    from gateway.store.session import alembic_config

    command.downgrade(alembic_config(s.url), "base")
    assert set(inspect(s.engine).get_table_names()) <= {"alembic_version"}
    s.migrate()
    assert {"sites", "crawl_runs", "crawl_errors", "documents"} <= set(inspect(s.engine).get_table_names())


def _site(store):
    spec = build_registry([], include_builtin=True).get("rsj")
    with store.session() as session:
        upsert_site(session, spec)
        return start_run(session, "rsj").id


def test_upsert_reports_new_then_unchanged_then_changed(store, article_factory):
    run_id = _site(store)
    article = article_factory()
    kwargs = dict(fetch_url="http://127.0.0.1:9/show.php?id=1", raw_body="正文".encode("gbk"),
                  content_type="text/html", http_status=200, run_id=run_id)
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
        (stored,) = list(iter_articles(s, "rsj"))
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
