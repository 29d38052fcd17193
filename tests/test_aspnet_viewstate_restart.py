"""An ASP.NET list whose ViewState stops being valid mid-crawl is started again, and the crawl
still yields exactly the ground truth.

The Mono fixture signs ViewState with a key generated per server process, so restarting the
server (same port) while postbacks are queued makes every queued postback carry a ViewState
the new process rejects (HTTP 500 "Unable to validate data", as an IIS recycle or an expired
session does on a real subsite).
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest
from conftest import BLGW, WORKDIR

REPO = Path(__file__).resolve().parent.parent


def _count(db: Path) -> int:
    try:
        with sqlite3.connect(db) as con:
            return con.execute("SELECT count(*) FROM documents").fetchone()[0]
    except sqlite3.Error:
        return 0


def test_invalid_viewstate_restarts_the_list_and_loses_nothing(tmp_path):
    from fixture_sites.aspnet_generator import generate
    from fixture_sites.aspnet_server import aspnet_server
    from fixture_sites.servers import free_port

    data_dir = generate(tmp_path / "site", seed=2024)
    truth = json.loads((data_dir / "truth.json").read_text(encoding="utf-8"))
    port = free_port()
    env = {**os.environ, "BLGW_DATA_DIR": str(tmp_path / "data")}
    db = tmp_path / "data" / "gateway.sqlite"
    try:
        first = aspnet_server(data_dir, port=port)
        base_url = first.__enter__()
    except (FileNotFoundError, RuntimeError) as exc:
        if os.environ.get("BLGW_REQUIRE_FIXTURES"):
            raise
        pytest.skip(f"the ASP.NET fixture cannot start here: {exc}")
    crawl = subprocess.Popen(
        [*BLGW, "crawl", "jtj", "--origin", f"jtj={base_url}", "-q", "--no-index",
         "-s", "DOWNLOAD_DELAY=0.05", "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "BLGW_RETRY_BACKOFF_BASE=0.5"],
        cwd=WORKDIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        # list pages 1 are in and detail pages are being fetched: the page-2 postbacks wait behind them
        while _count(db) < 8:
            assert crawl.poll() is None, crawl.communicate()
            assert time.monotonic() < deadline, "the crawl did not start storing items"
            time.sleep(0.05)
        assert _count(db) < 60, "too late: postbacks may already have been sent"
        first.__exit__(None, None, None)
        with aspnet_server(data_dir, port=port):  # a new process: a new ViewState key
            _, err = crawl.communicate(timeout=300)
    finally:
        if crawl.poll() is None:
            crawl.kill()
    assert crawl.returncode == 0, err[-4000:]
    with sqlite3.connect(db) as con:
        urls = {row[0] for row in con.execute("SELECT url FROM documents")}
        stats = json.loads(con.execute("SELECT stats FROM crawl_runs").fetchone()[0])
    assert urls == {"http://jtj.bl.gov.cn" + a["path"] for a in truth["articles"]}
    assert stats.get("blgw/list_restarts", 0) >= 1, stats
    assert "rejected" in err or "HTTP 500 on a postback" in err
