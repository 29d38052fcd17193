"""Incremental recrawls against the TRS fixture subsite (static pages served like nginx, with
ETag / Last-Modified and 304 answers): a second run stops at the first list page (HTTP 304),
a full run reads every list but fetches no known detail page, a full re-fetch of every detail
page gets 304 for all of them, and an edited page is found changed by its content hash."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from conftest import BLGW, WORKDIR

from gateway.store.models import CrawlRun, Document, UrlState
from gateway.store.session import Store

REPO = Path(__file__).resolve().parent.parent
FAST = ["-q", "--no-index", "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False"]


def _crawl(env: dict, base_url: str, *extra: str) -> subprocess.CompletedProcess:
    out = subprocess.run([*BLGW, "crawl", "fgj", "--origin", f"fgj={base_url}",
                          *FAST, *extra], cwd=WORKDIR, env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    return out


def test_recrawls_ask_only_for_what_changed(trs, tmp_path):
    base_url, data_dir, truth = trs
    total = len(truth["articles"])
    env = {**os.environ, "BLGW_DATA_DIR": str(tmp_path / "data")}
    store = Store(f"sqlite:///{tmp_path / 'data' / 'gateway.sqlite'}")

    def last_run() -> CrawlRun:
        with store.session() as s:
            return s.query(CrawlRun).order_by(CrawlRun.id.desc()).first()

    try:
        _crawl(env, base_url)
        first = last_run()
        assert (first.items_new, first.full) == (total, True)

        # incremental: each column's first list page answers 304, paging stops there
        _crawl(env, base_url)
        second = last_run()
        assert (second.items_new, second.items_changed, second.full) == (0, 0, False)
        assert second.stats.get("blgw/not_modified", 0) >= 1
        assert second.stats.get("blgw/list_not_modified", 0) >= 1
        assert second.requests <= 0.10 * first.requests, (second.requests, first.requests)

        # full run: every list page read (no validators sent for lists), no known detail fetched
        _crawl(env, base_url, "--full")
        third = last_run()
        assert (third.items_new, third.items_changed, third.items_unchanged) == (0, 0, total)
        assert third.stats.get("blgw/list_not_modified", 0) == 0
        with store.session() as s:
            assert s.query(Document).filter(Document.last_listed_run_id == third.id).count() == total

        # every detail page asked again, conditionally: all 304, nothing re-normalized
        _crawl(env, base_url, "--full", "-s", "BLGW_REFETCH_DAYS=0")
        fourth = last_run()
        assert fourth.stats.get("blgw/items_not_modified", 0) == total
        assert (fourth.items_new, fourth.items_changed) == (0, 0)
        with store.session() as s:
            not_modified = s.query(UrlState).filter(UrlState.kind == "detail", UrlState.not_modified == 1).count()
        assert not_modified == total

        # one page edited on the server: a new ETag, fetched, found changed by its content hash
        edited = truth["articles"][0]
        page = data_dir / "www" / edited["path"].lstrip("/")
        html = page.read_bytes()
        marker = edited["body_paragraphs"][0].encode("utf-8")
        assert marker in html
        page.write_bytes(html.replace(marker, marker + "（已更新）".encode(), 1))
        os.utime(page, (page.stat().st_atime + 10, page.stat().st_mtime + 10))
        _crawl(env, base_url, "--full", "-s", "BLGW_REFETCH_DAYS=0")
        fifth = last_run()
        assert (fifth.items_new, fifth.items_changed) == (0, 1)
        assert fifth.stats.get("blgw/items_not_modified", 0) == total - 1
    finally:
        store.dispose()


# --- the "unchanged" check of a list entry (spiders.crawlstate) ----------------------------------


@pytest.mark.parametrize(("listed", "page", "agree"), [
    ("关于开展2024年度高校毕业生就业见习申报工作的通知", "关于开展2024年度高校毕业生就业见习申报工作的通知", True),
    ("关于开展2024年度高校毕业生就业···", "关于开展2024年度高校毕业生就业见习申报工作的通知", True),  # PbootCMS
    ("关于开展2024年度高校毕业生就业...", "关于开展2024年度高校毕业生就业见习申报工作的通知", True),
    ("关于开展2024年度高校毕业生就业……", "关于开展2024年度高校毕业生就业见习申报工作的通知", True),
    ("关于开展2024年度高校毕业生就业见习", "关于开展2024年度高校毕业生就业见习申报工作的通知", True),  # a fixed-length cut
    ("关于开展2024年度高校毕业生就业见习申报工作的通知（第二批）", "关于开展2024年度高校毕业生就业见习申报工作的通知", False),  # extended
    ("关于调整社保缴费基数的通知", "关于开展2024年度高校毕业生就业见习申报工作的通知", False),
])
def test_a_list_title_agrees_with_the_page_title_it_is_cut_from(listed, page, agree):
    from spiders.crawlstate import titles_agree

    assert titles_agree(listed, page) is agree


def test_list_titles_are_compared_with_the_list_title_stored_when_there_is_one(tmp_path):
    """A list that decorates its titles (DedeCMS's [栏目]) or cuts them its own way shows the same
    title run after run: unchanged; a list title that changed is a change."""
    import datetime as dt

    from gateway.settings import load
    from spiders.crawlstate import CrawlState, Known

    state = CrawlState(Store(f"sqlite:///{tmp_path / 's.sqlite'}"), "rsj", load(data_dir=tmp_path))
    seen = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
    decorated = Known("a" * 32, "北仑区召开2024年安全生产工作会议", "active", seen, "[工作动态]北仑区召开2024年安全生产工作会···")
    assert state.unchanged("[工作动态]北仑区召开2024年安全生产工作会···", decorated)
    assert not state.unchanged("[工作动态]北仑区召开2024年安全生产工作会议（补充）", decorated)
    # without a stored list title (stored before they were kept): the page's title, cut
    legacy = Known("a" * 32, "北仑区召开2024年安全生产工作会议", "active", seen)
    assert state.unchanged("北仑区召开2024年安全生产工作会···", legacy)
    assert not state.unchanged("北仑区召开2024年安全生产工作会议（补充）", legacy)
    state.store.dispose()
