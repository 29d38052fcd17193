"""Crawl settings given in the environment change what a real ``blgw crawl`` does (they used to
be read from Scrapy's settings only, so the environment was silently ignored), and the
scheduler's decisions use the same lock staleness as the crawl. Against the TRS fixture
subsite (static pages with ETag / Last-Modified)."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess

import pytest
from conftest import BLGW, WORKDIR

from gateway.store.models import CrawlRun, Site, SiteLock
from gateway.store.session import Store

FAST = ["-q", "--no-index", "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False"]


@pytest.fixture()
def trs(tmp_path):
    from fixture_sites.legacy_sites import generate_trs, trs_server

    data_dir = generate_trs(tmp_path / "fgj", seed=5, n_articles=20)
    truth = json.loads((data_dir / "truth.json").read_text(encoding="utf-8"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("BLGW_") or k.startswith("BLGW_TEST")}
    env["BLGW_DATA_DIR"] = str(tmp_path / "data")
    store = Store(f"sqlite:///{tmp_path / 'data' / 'gateway.sqlite'}")
    with trs_server(data_dir) as base_url:
        yield base_url, env, store, len(truth["articles"])
    store.dispose()


def _crawl(env: dict, base_url: str, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([*BLGW, "crawl", "fgj", "--origin", f"fgj={base_url}", *FAST, *extra], cwd=WORKDIR,
                          env=env, capture_output=True, text=True, timeout=300)


def _last_run(store: Store) -> CrawlRun:
    with store.session() as s:
        run = s.query(CrawlRun).order_by(CrawlRun.id.desc()).first()
        assert run is not None
        return run


def test_refetch_days_in_the_environment_refetches_known_items(trs):
    base_url, env, store, total = trs
    assert _crawl(env, base_url).returncode == 0
    # a full run with the default (30 days): no known, unchanged item is asked for again
    assert _crawl(env, base_url, "--full").returncode == 0
    assert _last_run(store).stats.get("blgw/items_not_modified", 0) == 0
    # the same run with BLGW_REFETCH_DAYS=0 in the environment: every item is asked for (304 each)
    out = _crawl({**env, "BLGW_REFETCH_DAYS": "0"}, base_url, "--full")
    assert out.returncode == 0, out.stderr[-3000:]
    assert _last_run(store).stats.get("blgw/items_not_modified", 0) == total


def _foreign_lock(store: Store, age: dt.timedelta) -> None:
    """A lock on fgj held by a process on another host whose last heartbeat is ``age`` old."""
    now = dt.datetime.now(dt.UTC)
    with store.session() as s:
        if s.get(Site, "fgj") is None:
            s.add(Site(code="fgj", name="北仑区发展和改革局", base_url="http://fgj.bl.gov.cn/"))
            s.flush()
        s.merge(SiteLock(site_code="fgj", holder="gw9:4242:abcd", hostname="gw9.elsewhere", pid=4242,
                         acquired_at=now - age, heartbeat_at=now - age))


def _due_line(env: dict, base_url: str) -> str:
    out = subprocess.run([*BLGW, "crawl", "--due", "fgj", "--origin", f"fgj={base_url}", *FAST], cwd=WORKDIR,
                         env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    return next(line for line in out.stdout.splitlines() if " fgj " in f" {line} ")


def test_lock_staleness_in_the_environment_for_the_crawl_and_the_scheduler(trs):
    base_url, env, store, _ = trs
    assert _crawl(env, base_url).returncode == 0  # creates the store
    _foreign_lock(store, dt.timedelta(seconds=120))
    # default (900 s): a heartbeat 2 minutes old is alive: the crawl is refused, the decision says who runs it
    refused = _crawl(env, base_url)
    assert refused.returncode == 3 and "being crawled by gw9.elsewhere pid 4242" in refused.stderr
    assert "lock held by gw9:4242:abcd" in _due_line(env, base_url)
    # BLGW_LOCK_STALE_SECONDS=60 in the environment: that lock is dead, for the decision and for the crawl
    stale = {**env, "BLGW_LOCK_STALE_SECONDS": "60"}
    assert "lock held by" not in _due_line(stale, base_url)
    taken = _crawl(stale, base_url)
    assert taken.returncode == 0, taken.stderr[-3000:]
    assert "taking over the lock of gw9.elsewhere pid 4242 (heartbeat stale)" in taken.stderr
    assert _last_run(store).status == "finished"
    with store.session() as s:
        assert s.get(SiteLock, "fgj") is None  # released at the end
