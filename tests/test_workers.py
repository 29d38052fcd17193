"""Several workers, one store: two ``blgw scheduler`` processes claiming different host
identities (``BLGW_HOST_ID``) share one real PostgreSQL store.

* They split the due sites between them, and no site is crawled twice (one run per site, each
  made by one of the workers, both workers busy).
* A worker killed with ``kill -9`` in the middle of a crawl leaves its lock; once its heartbeat
  is older than ``BLGW_LOCK_STALE_SECONDS`` the other worker takes the site over and continues
  the same run: every article stored exactly once.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time

import pytest
from conftest import BLGW, WORKDIR
from sqlalchemy import func, select

from gateway.store.models import CrawlRun, Document, SiteLock
from gateway.store.session import Store

FAST = ["-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False"]


@pytest.fixture(scope="module")
def sites(php_site, tmp_path_factory):
    """Three fixture subsites: classic ASP (dqjd), TRS (fgj), PHP (rsj, 40 articles)."""
    from fixture_sites.generator import generate
    from fixture_sites.legacy_sites import asp_server, generate_asp, generate_trs, trs_server
    from fixture_sites.servers import php_bureau_server

    root = tmp_path_factory.mktemp("workers")
    asp = generate_asp(root / "asp", seed=3, n_articles=10)
    trs = generate_trs(root / "trs", seed=3, n_articles=10)
    php = generate(root / "php", seed=5, n_articles=40)
    truth = json.loads((php / "truth.json").read_text(encoding="utf-8"))
    with asp_server(asp) as asp_url, trs_server(trs) as trs_url, php_bureau_server(php) as php_url:
        yield {"dqjd": asp_url, "fgj": trs_url, "rsj": php_url}, truth


def _env(database_url: str, data, host: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BLGW_") or k == "BLGW_REQUIRE_FIXTURES"}
    env.update(BLGW_DATA_DIR=str(data), BLGW_DATABASE_URL=database_url, BLGW_HOST_ID=host, **extra)
    return env


def _scheduler(env: dict, origins: dict[str, str], *extra: str) -> subprocess.Popen:
    args = ["scheduler", "--once", "--max-parallel", "1"]
    for code, url in origins.items():
        args += ["--site", code, "--origin", f"{code}={url}"]
    return subprocess.Popen([*BLGW, *args, *extra], cwd=WORKDIR, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)


def test_two_workers_split_the_due_sites_and_never_crawl_one_twice(sites, postgres_database, tmp_path):
    origins, _truth = sites
    store = Store(postgres_database)
    store.migrate()
    try:
        workers = {host: _scheduler(_env(postgres_database, tmp_path / host, host), origins, *FAST)
                   for host in ("host-a", "host-b")}
        outputs = {host: proc.communicate(timeout=600) for host, proc in workers.items()}
        for host, proc in workers.items():
            assert proc.returncode == 0, f"{host}: {outputs[host][1][-3000:]}"
        with store.session() as s:
            runs = s.scalars(select(CrawlRun).order_by(CrawlRun.id)).all()
            by_site = {}
            for run in runs:
                by_site.setdefault(run.site_code, []).append(run)
            assert sorted(by_site) == ["dqjd", "fgj", "rsj"]
            assert all(len(v) == 1 for v in by_site.values()), {k: len(v) for k, v in by_site.items()}
            assert {run.status for run in runs} == {"finished"}
            hosts = {run.site_code: run.stats.get("blgw/host") for run in runs}
            assert set(hosts.values()) == {"host-a", "host-b"}, hosts  # both workers crawled
            assert s.scalar(select(func.count()).select_from(SiteLock)) == 0  # every claim released
        for host, (_out, err) in outputs.items():
            started = {code for code in origins if f"started `blgw crawl {code}`" in err}
            assert started >= {code for code, h in hosts.items() if h == host}
    finally:
        store.dispose()


def test_a_dead_workers_site_is_taken_over_after_the_stale_time(sites, postgres_database, tmp_path):
    origins, truth = sites
    rsj = {"rsj": origins["rsj"]}
    slow = ["-s", "DOWNLOAD_DELAY=0.15", "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "DOWNLOAD_DELAY_JITTER=0",
            "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=1"]
    stale = {"BLGW_LOCK_STALE_SECONDS": "4", "BLGW_LOCK_HEARTBEAT_SECONDS": "1"}
    store = Store(postgres_database)
    store.migrate()
    total = len(truth["articles"])
    try:
        a = _scheduler(_env(postgres_database, tmp_path / "a", "host-a", **stale), rsj, *slow)
        deadline = time.monotonic() + 120
        child_pid = None
        while True:
            assert a.poll() is None, a.communicate()
            assert time.monotonic() < deadline, "worker a stored too little in 120 s"
            with store.session() as s:
                stored = s.scalar(select(func.count()).select_from(Document)) or 0
                lock = s.get(SiteLock, "rsj")
                child_pid = lock.pid if lock is not None and lock.hostname == "host-a" else None
            if stored >= 10 and child_pid is not None and child_pid != a.pid:
                break
            time.sleep(0.1)
        os.kill(child_pid, signal.SIGKILL)  # the whole worker dies: its crawl and its scheduler
        os.killpg(a.pid, signal.SIGKILL)
        a.wait(timeout=30)
        with store.session() as s:
            (left,) = s.scalars(select(CrawlRun)).all()
            assert left.status == "running" and s.get(SiteLock, "rsj") is not None
        # while the dead worker's heartbeat is fresh, the site is not the other worker's
        b_env = _env(postgres_database, tmp_path / "b", "host-b", **stale)
        early = _scheduler(b_env, rsj, *FAST)
        _out, err = early.communicate(timeout=300)
        assert early.returncode == 0, err[-3000:]
        assert "started `blgw crawl rsj`" not in err
        time.sleep(4.5)  # past BLGW_LOCK_STALE_SECONDS
        b = _scheduler(b_env, rsj, *FAST)
        _out, err = b.communicate(timeout=300)
        assert b.returncode == 0, err[-3000:]
        assert "started `blgw crawl rsj`" in err
        with store.session() as s:
            (run,) = s.scalars(select(CrawlRun)).all()  # the same run, continued
            assert (run.id, run.status, run.resumes) == (left.id, "finished", 1)
            assert run.stats.get("blgw/host") == "host-b"
            assert (run.items_new, run.items_changed, run.items_unchanged) == (total, 0, 0)
            urls = s.scalars(select(Document.url)).all()
            assert s.get(SiteLock, "rsj") is None
        assert sorted(u.split("bl.gov.cn", 1)[1] for u in urls) == sorted(a["path"] for a in truth["articles"])
    finally:
        store.dispose()
