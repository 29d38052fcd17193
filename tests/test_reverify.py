"""Rolling re-verification: a body edited in place (its list entry unchanged) is found within the
refetch window at a small, even cost per run.

* the rule itself (:meth:`spiders.crawlstate.CrawlState.reverify_batch`) simulated over 90 daily
  runs of a 120-document site first crawled in one day: every document is re-verified within
  ``BLGW_REFETCH_DAYS``, no run re-fetches more than ``BLGW_REVERIFY_MAX_SHARE`` of them, and
  the cost spreads (no day-30 spike of the whole site);
* end to end with the real ``blgw crawl`` against the TRS fixture subsite (ETag, 304): after the
  store is aged as a month of daily runs would leave it, an incremental run whose lists answer
  304 still fetches the oldest-verified pages, finds the edited one changed and reports the
  extra requests.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import subprocess

import pytest
from conftest import BLGW, WORKDIR, make_article, site_row
from sqlalchemy import select, update

from gateway.settings import load
from gateway.store.models import CrawlRun, Document
from gateway.store.repository import upsert_article, upsert_site
from gateway.store.session import Store
from plugins.declarative import parse_site_toml
from spiders.crawlstate import CrawlState

FAST = ["-q", "--no-index", "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False"]
DAY = dt.timedelta(days=1)

SITE = """\
[site]
code = "rsj"
name = "人社局"
base_url = "http://rsj.bl.gov.cn/"

[list]
item = "li"

[[columns]]
name = "通知公告"
url = "/list.html"
"""


def _store_of(tmp_path, documents: int, fetched: dt.datetime) -> Store:
    store = Store(f"sqlite:///{tmp_path / 's.sqlite'}")
    store.migrate()
    with store.session() as session:
        upsert_site(session, **site_row(parse_site_toml(SITE)))
        for n in range(documents):
            url = f"http://rsj.bl.gov.cn/show.php?id={n}"
            upsert_article(session, make_article(url, title=f"通知{n}"), fetch_url=url, raw_body=b"x",
                           content_type="text/html", http_status=200, run_id=None, seen_at=fetched, count=False)
    return store


def _start_run(store: Store, state: CrawlState, when: dt.datetime) -> None:
    with store.session() as session:
        run = CrawlRun(site_code="rsj", started_at=when, status="finished")
        session.add(run)
        session.flush()
        state.run_id = run.id


@pytest.mark.parametrize("refetch_days, every_days", [(30, 1), (60, 2), (40, 1)])
def test_every_page_is_reverified_within_the_window_at_an_even_bounded_cost(tmp_path, refetch_days, every_days):
    total, first = 120, dt.datetime(2026, 1, 1, 2, 0, tzinfo=dt.UTC)
    store = _store_of(tmp_path, total, first)
    config = load(data_dir=tmp_path, refetch_days=refetch_days)
    state = CrawlState(store, "rsj", config)
    cap = math.ceil(total * config.reverify_max_share)
    _start_run(store, state, first)
    costs, oldest_age = [], dt.timedelta(0)
    try:
        for day in range(every_days, 90 + 1, every_days):
            now = first + day * DAY
            _start_run(store, state, now)
            batch = state.reverify_batch(now=now)
            costs.append(len(batch))
            state.verified([page.id for page in batch], when=now)
            with store.session() as session:
                oldest = session.scalar(select(Document.last_seen_at).order_by(Document.last_seen_at).limit(1))
            oldest_age = max(oldest_age, now - oldest)
    finally:
        store.dispose()
    assert max(costs) <= cap, costs
    # every document verified within the window: the oldest never older than the window plus one run
    assert oldest_age <= dt.timedelta(days=refetch_days) + every_days * DAY, (oldest_age, costs)
    # spread: after the first window, runs cost about the same (no spike of the whole site)
    settled = costs[len(costs) // 2:]
    assert max(settled) - min(settled) <= 2, costs


def test_a_run_interval_the_share_cannot_cover_is_said(tmp_path, caplog):
    """Weekly runs with a 30-day window need 23 % per run: the cap holds and the log says so."""
    first = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    store = _store_of(tmp_path, 100, first)
    state = CrawlState(store, "rsj", load(data_dir=tmp_path))
    try:
        _start_run(store, state, first)
        _start_run(store, state, first + 7 * DAY)
        with caplog.at_level("WARNING", logger="spiders.crawlstate"):
            batch = state.reverify_batch(now=first + 7 * DAY)
    finally:
        store.dispose()
    assert len(batch) == 5  # the cap
    assert "cannot re-verify all 100 stored pages within the refetch window" in caplog.text


def test_nothing_is_reverified_when_everything_is_fetched_or_the_share_is_zero(tmp_path):
    now = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
    store = _store_of(tmp_path, 20, now - 60 * DAY)
    try:
        for settings in ({"refetch_days": 0}, {"reverify_max_share": 0}):
            state = CrawlState(store, "rsj", load(data_dir=tmp_path, **settings))
            _start_run(store, state, now)
            assert state.reverify_batch(now=now) == []
        state = CrawlState(store, "rsj", load(data_dir=tmp_path))
        _start_run(store, state, now)
        batch = state.reverify_batch(now=now)  # all 20 are past the window: the cap, oldest first
        assert len(batch) == math.ceil(20 * 0.05) and all(p.column is None for p in batch)
    finally:
        store.dispose()


# --- end to end -------------------------------------------------------------------------------


def _crawl(env: dict, base_url: str) -> subprocess.CompletedProcess:
    out = subprocess.run([*BLGW, "crawl", "fgj", "--origin", f"fgj={base_url}", *FAST], cwd=WORKDIR, env=env,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout + out.stderr[-3000:]
    return out


def test_an_edited_body_is_found_by_the_rolling_reverification(trs, tmp_path):
    base_url, data_dir, truth = trs
    env = {**os.environ, "BLGW_DATA_DIR": str(tmp_path / "data")}
    store = Store(f"sqlite:///{tmp_path / 'data' / 'gateway.sqlite'}")
    try:
        _crawl(env, base_url)
        now = dt.datetime.now(dt.UTC)
        with store.session() as session:
            first = session.scalars(select(CrawlRun).order_by(CrawlRun.id)).one()
            first_requests = first.requests
            # a month of daily runs: the run a day ago, the documents verified 0.8 days apart
            session.execute(update(CrawlRun).values(started_at=now - DAY, finished_at=now - DAY))
            ids = list(session.scalars(select(Document.id).order_by(Document.id)))
            for k, doc_id in enumerate(ids):
                session.execute(update(Document).where(Document.id == doc_id)
                                .values(last_seen_at=now - dt.timedelta(days=0.8 * k)))
            oldest = session.get(Document, ids[-1])
            oldest_url = oldest.url
        # the oldest-verified page is edited in place: same title, same list entry
        edited = next(a for a in truth["articles"] if oldest_url.endswith(a["path"]))
        page = data_dir / "www" / edited["path"].lstrip("/")
        marker = edited["body_paragraphs"][0].encode("utf-8")
        page.write_bytes(page.read_bytes().replace(marker, marker + "（已更新）".encode(), 1))
        os.utime(page, (page.stat().st_atime + 10, page.stat().st_mtime + 10))

        out = _crawl(env, base_url)
        with store.session() as session:
            second = session.scalars(select(CrawlRun).order_by(CrawlRun.id.desc()).limit(1)).one()
            body = session.get(Document, ids[-1]).item["body_text"]
        reverified = second.stats.get("blgw/reverify/requests", 0)
        # 40 documents: the 3 older than 29 days are due, the cap (5 %) takes the 2 oldest
        assert reverified == 2, second.stats
        assert reverified <= 0.05 * first_requests, (reverified, first_requests)
        assert second.stats.get("blgw/list_not_modified", 0) >= 1  # the lists said nothing
        assert (second.items_new, second.items_changed) == (0, 1)
        assert "（已更新）" in body
        report = subprocess.run([*BLGW, "report", "--site", "fgj"], cwd=WORKDIR, env=env, capture_output=True,
                                text=True, timeout=120)
        assert "2 stored page(s) fetched again to find edits" in report.stdout, report.stdout + out.stdout
    finally:
        store.dispose()
