"""End to end on PostgreSQL: the real ``blgw`` command crawls the real PHP fixture subsite into a
store on a real PostgreSQL server (``BLGW_DATABASE_URL``), then exports and syncs the index;
every ground-truth article is there exactly once, and a second crawl finds nothing new."""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from conftest import BLGW, WORKDIR, fresh_postgres_database
from sqlalchemy import select

from gateway.store.models import CrawlRun, Document
from gateway.store.repository import count_outbox
from gateway.store.session import Store
from index.embedded import EmbeddedIndex

REPO = Path(__file__).resolve().parent.parent
FAST = ["-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False"]


def blgw(env: dict, *args: str) -> subprocess.CompletedProcess:
    result = subprocess.run([*BLGW, *args], cwd=WORKDIR, env=env,
                            capture_output=True, text=True, timeout=600, check=False)
    if result.returncode != 0:
        raise AssertionError(f"blgw {' '.join(args)} exited {result.returncode}\n"
                             f"stdout:\n{result.stdout}\nstderr:\n{result.stderr[-5000:]}")
    return result


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


@pytest.fixture(scope="module")
def crawled(php_site, postgres_url, tmp_path_factory):
    base_url, _data_dir, truth = php_site
    data = tmp_path_factory.mktemp("gateway-data-postgres")
    with fresh_postgres_database(postgres_url) as database_url:
        env = {k: v for k, v in os.environ.items() if not k.startswith("BLGW_") or k == "BLGW_REQUIRE_FIXTURES"}
        env.update(BLGW_DATA_DIR=str(data), BLGW_DATABASE_URL=database_url)
        first = blgw(env, "crawl", "rsj", "--origin", f"rsj={base_url}", *FAST)
        second = blgw(env, "crawl", "rsj", "--origin", f"rsj={base_url}", *FAST)
        export = data / "rsj.jsonl"
        blgw(env, "export", "rsj", "-o", str(export))
        sync = blgw(env, "index", "sync")
        store = Store(database_url)
        try:
            yield {"truth": truth["articles"], "data": data, "store": store, "first": first,
                   "second": second, "export": export, "sync": sync}
        finally:
            store.dispose()


def test_the_store_is_postgresql_and_holds_every_article_once(crawled):
    assert not (crawled["data"] / "gateway.sqlite").exists()  # nothing went to the default store
    with crawled["store"].session() as s:
        assert s.bind.dialect.name == "postgresql"
        urls = s.scalars(select(Document.url).where(Document.site_code == "rsj",
                                                    Document.status == "active")).all()
        assert count_outbox(s) == 0
    truth = sorted(a["path"] for a in crawled["truth"])
    assert sorted(path_of(u) for u in urls) == truth
    assert len(truth) == len(set(truth)) >= 150


def test_export_has_every_article_exactly_once(crawled):
    lines = crawled["export"].read_text(encoding="utf-8").splitlines()
    items = [json.loads(line) for line in lines]
    assert Counter(path_of(i["source_url"]) for i in items) == Counter(a["path"] for a in crawled["truth"])
    assert len({i["id"] for i in items}) == len(items)
    by_path = {path_of(i["source_url"]): i for i in items}
    assert all(by_path[a["path"]]["title"] == a["title"] for a in crawled["truth"])


def test_the_index_has_every_article_exactly_once(crawled):
    total = len(crawled["truth"])
    assert re.search(rf"index: 0 upserted, 0 deleted, {total} documents", crawled["sync"].stdout)
    with crawled["store"].session() as s:
        ids = s.scalars(select(Document.id).where(Document.site_code == "rsj")).all()
    with EmbeddedIndex(crawled["data"] / "index.sqlite") as index:
        assert index.count() == total
        assert all(index.get(i) is not None for i in ids)


def test_second_crawl_reports_no_new_items(crawled):
    total = len(crawled["truth"])
    with crawled["store"].session() as s:
        first, second = s.scalars(select(CrawlRun).order_by(CrawlRun.id)).all()
    assert (first.status, first.items_new, first.items_changed) == ("finished", total, 0)
    assert (second.status, second.items_new, second.items_changed) == ("finished", 0, 0)
    assert first.started_at < first.finished_at <= second.started_at < second.finished_at
    assert f"{total} new, 0 changed" in crawled["first"].stdout
    assert re.search(r"\b0 new, 0 changed\b", crawled["second"].stdout)
