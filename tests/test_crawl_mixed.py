"""A browser site and a plain site crawled in one process: the asyncio reactor serves both,
and only the browser site's requests go through Chromium."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
from pathlib import Path

from conftest import BLGW, WORKDIR

REPO = Path(__file__).resolve().parent.parent


def test_plain_and_browser_sites_in_one_process(php_site, tmp_path):
    from fixture_sites.modern_sites import generate_jsapp, jsapp_server

    php_base, _, _ = php_site
    js_dir = generate_jsapp(tmp_path / "js", seed=2024)
    env = {**os.environ, "BLGW_DATA_DIR": str(tmp_path / "data")}
    with jsapp_server(js_dir) as js_base:
        result = subprocess.run(
            [*BLGW, "crawl", "rsj", "wlj", "--origin", f"rsj={php_base}",
             "--origin", f"wlj={js_base}", "--max-pages", "1", "-q", "--no-index",
             "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False"],
            cwd=WORKDIR, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 1, result.stderr[-4000:]  # finished with errors: the --max-pages cap is named
    with sqlite3.connect(tmp_path / "data" / "gateway.sqlite") as con:
        runs = {code: (status, new, json.loads(stats)) for code, status, new, stats in con.execute(
            "SELECT site_code, status, items_new, stats FROM crawl_runs")}
    assert runs["rsj"][0] == runs["wlj"][0] == "finished"
    assert runs["rsj"][1] >= 15 and runs["wlj"][1] >= 10
    assert not any(k.startswith("playwright/") for k in runs["rsj"][2]), "the PHP site went through the browser"
    assert runs["wlj"][2].get("playwright/page_count", 0) > 0
