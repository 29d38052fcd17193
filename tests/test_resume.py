"""Crash-safe resume, site locks and the stale-document purge, end to end: the real `blgw crawl`
in a subprocess against the PHP fixture subsite (`php -S`), the store in SQLite.

* ``kill -9`` in the middle of a crawl, run again: the same run continues from the store's
  frontier; every article is stored exactly once (all counted new, none changed or unchanged:
  no detail page was fetched twice), nothing is left pending.
* While a crawl of a site runs, a second crawl of the same site is refused, naming the holder.
* An article deleted from the subsite is re-checked after BLGW_PURGE_AFTER_RUNS full runs that
  no longer list it, marked gone in the store (raw page kept) and deleted from the index.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest
from conftest import BLGW, WORKDIR

from gateway.store.models import CrawlRun, Document, FrontierEntry, SiteLock
from gateway.store.session import Store

REPO = Path(__file__).resolve().parent.parent
SLOW = ["-q", "--no-index", "-s", "DOWNLOAD_DELAY=0.06", "-s", "AUTOTHROTTLE_ENABLED=False",
        "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=1", "-s", "DOWNLOAD_DELAY_JITTER=0"]
FAST = ["-q", "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False"]


def _blgw(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*BLGW, *args], cwd=WORKDIR, env=env,
                          capture_output=True, text=True, timeout=300)


def _count(db: Path) -> int:
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(db, timeout=5) as c:
            return c.execute("SELECT count(*) FROM documents").fetchone()[0]
    except sqlite3.OperationalError:  # not migrated yet
        return 0


@pytest.fixture()
def own_php_site(php_site, tmp_path):
    """A PHP fixture subsite of its own (the test changes its data), 40 articles."""
    from fixture_sites.generator import generate
    from fixture_sites.servers import php_bureau_server

    data_dir = generate(tmp_path / "site", seed=7, n_articles=40)
    truth = json.loads((data_dir / "truth.json").read_text(encoding="utf-8"))
    with php_bureau_server(data_dir) as base_url:
        yield base_url, data_dir, truth


def test_kill_9_then_the_run_continues_without_losing_or_repeating_a_page(php_site, tmp_path):
    base_url, _data_dir, truth = php_site
    total = len(truth["articles"])
    data = tmp_path / "data"
    env = {**os.environ, "BLGW_DATA_DIR": str(data)}
    db = data / "gateway.sqlite"
    crawl = subprocess.Popen([*BLGW, "crawl", "rsj", "--origin", f"rsj={base_url}",
                              *SLOW], cwd=WORKDIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True, start_new_session=True)
    try:
        deadline = time.monotonic() + 90
        while _count(db) < total // 3:
            assert crawl.poll() is None, crawl.communicate()
            assert time.monotonic() < deadline, "the crawl stored too few articles in 90 s"
            time.sleep(0.05)
        # the site is locked while it runs: a second crawl is refused and names the holder
        busy = _blgw(env, "crawl", "rsj", "--origin", f"rsj={base_url}", *SLOW)
        assert busy.returncode != 0
        assert f"pid {crawl.pid}" in busy.stderr and "not crawled" in busy.stderr
    finally:
        os.killpg(crawl.pid, signal.SIGKILL)
        crawl.wait(timeout=30)
    stored_before = _count(db)
    assert 0 < stored_before < total

    store = Store(f"sqlite:///{db}")
    try:
        with store.session() as s:
            (run,) = s.query(CrawlRun).all()
            assert run.status == "running"  # left behind by the killed process
            assert s.get(SiteLock, "rsj").pid == crawl.pid
            assert s.query(FrontierEntry).filter_by(run_id=run.id, state="pending").count() > 0

        again = _blgw(env, "crawl", "rsj", "--origin", f"rsj={base_url}", *SLOW)
        assert again.returncode == 0, again.stderr[-3000:]

        with store.session() as s:
            runs = s.query(CrawlRun).all()
            assert len(runs) == 1  # the same run, continued
            run = runs[0]
            assert (run.status, run.resumes) == ("finished", 1)
            # every article stored exactly once: none refetched (it would count unchanged)
            assert (run.items_new, run.items_changed, run.items_unchanged) == (total, 0, 0)
            # the pages of both parts are counted: at least every detail page and one list page per column
            assert run.pages_fetched >= total + len(truth["columns"]), run.pages_fetched
            assert s.query(FrontierEntry).filter_by(run_id=run.id, state="pending").count() == 0
            assert s.get(SiteLock, "rsj") is None  # released
            docs = s.query(Document).filter_by(site_code="rsj").all()
        paths = sorted(d.url.split("bl.gov.cn", 1)[1] for d in docs)
        assert paths == sorted(a["path"] for a in truth["articles"])
    finally:
        store.dispose()


def test_articles_deleted_from_the_site_are_purged_after_n_full_runs(own_php_site, tmp_path):
    base_url, data_dir, truth = own_php_site
    total = len(truth["articles"])
    data = tmp_path / "data"
    env = {**os.environ, "BLGW_DATA_DIR": str(data)}
    first = _blgw(env, "crawl", "rsj", "--origin", f"rsj={base_url}", *FAST)
    assert first.returncode == 0, first.stderr[-3000:]

    removed = truth["articles"][:2]
    with sqlite3.connect(data_dir / "site.sqlite") as c:
        for a in removed:
            c.execute("DELETE FROM attachment WHERE article_id = ?", (a["id"],))
            c.execute("DELETE FROM article WHERE id = ?", (a["id"],))
    query = removed[0]["title"]

    def found(title: str) -> bool:
        out = _blgw(env, "search", "--json", title)
        assert out.returncode == 0, out.stderr
        return any(h["title"] == title for h in json.loads(out.stdout)["hits"])

    assert found(query)
    # N = 2 (the default): the first full run without them only counts a miss
    second = _blgw(env, "crawl", "rsj", "--full", "--origin", f"rsj={base_url}", *FAST)
    assert second.returncode == 0, second.stderr[-3000:]
    store = Store(f"sqlite:///{data / 'gateway.sqlite'}")
    try:
        ids = {}
        with store.session() as s:
            for a in removed:
                doc = s.query(Document).filter(Document.url.endswith(a["path"])).one()
                assert (doc.status, doc.missed_runs) == ("active", 1)
                ids[a["id"]] = doc.id
            assert s.query(Document).filter_by(status="active", missed_runs=0).count() == total - 2
        assert found(query)

        third = _blgw(env, "crawl", "rsj", "--full", "--origin", f"rsj={base_url}", *FAST)
        assert third.returncode == 0, third.stderr[-3000:]
        with store.session() as s:
            run = s.query(CrawlRun).order_by(CrawlRun.id.desc()).first()
            assert run.items_gone == 2 and run.full
            for doc_id in ids.values():
                doc = s.get(Document, doc_id)
                assert doc.status == "gone" and doc.gone_reason == "HTTP 404 on re-check"
                assert doc.raw_page  # the emergency copy is kept
            assert s.query(Document).filter_by(status="active").count() == total - 2
        assert not found(query)  # deleted from the index through the outbox
        exported = _blgw(env, "export", "rsj")
        assert len([line for line in exported.stdout.splitlines() if line.strip()]) == total - 2
    finally:
        store.dispose()
