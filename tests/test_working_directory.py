"""``blgw`` run from any folder is the same gateway: the crawl of every bundled site is built
with the same components from a temporary directory as from the repository (the browser site
used to lose the retry, page-size, conditional-GET and redirect-loop middlewares outside the
repository), and a real browser crawl started elsewhere runs with all of them."""

from __future__ import annotations

import json
import os
import re
import subprocess

import pytest
from conftest import BLGW, REPO, WORKDIR

from plugins.manager import build_registry

CODES = sorted(spec.code for spec in build_registry())
OURS = {
    "spiders.downloadermiddlewares.retry.BackoffRetryMiddleware",
    "spiders.downloadermiddlewares.pagesize.PageSizeLimitMiddleware",
    "spiders.downloadermiddlewares.conditional.ConditionalGetMiddleware",
    "spiders.downloadermiddlewares.redirect.RedirectLoopMiddleware",
}


def _env(tmp_path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BLGW_") or k.startswith("BLGW_TEST")}
    env["BLGW_DATA_DIR"] = str(tmp_path / "data")
    return env


def _components(code: str, cwd, env) -> dict:
    out = subprocess.run([*BLGW, "settings", "--crawl", code, "--json"], cwd=cwd, env=env, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout)


@pytest.mark.parametrize("code", CODES)
def test_a_crawl_has_the_same_components_wherever_blgw_runs(code, tmp_path):
    env = _env(tmp_path)
    here, there = _components(code, REPO, env), _components(code, WORKDIR, env)
    assert here["crawl"] == there["crawl"]
    assert here["settings"] == there["settings"]
    crawl = there["crawl"]
    assert set(crawl["DOWNLOADER_MIDDLEWARES"]) >= OURS, crawl["DOWNLOADER_MIDDLEWARES"]
    assert "scrapy.downloadermiddlewares.retry.RetryMiddleware" not in crawl["DOWNLOADER_MIDDLEWARES"]
    assert {"spiders.spidermiddlewares.frontier.FrontierMiddleware",
            "spiders.spidermiddlewares.incremental.IncrementalMiddleware"} <= set(crawl["SPIDER_MIDDLEWARES"])
    assert crawl["ITEM_PIPELINES"] == ["spiders.pipelines.store.StorePipeline"]
    browser = "spiders.downloadermiddlewares.browser.BrowserRecycleMiddleware" in crawl["DOWNLOADER_MIDDLEWARES"]
    playwright = crawl["DOWNLOAD_HANDLERS"].get("http", "").startswith("scrapy_playwright.")
    assert browser == playwright == (code == "wlj")


def test_a_browser_crawl_started_elsewhere_runs_every_middleware(tmp_path):
    from fixture_sites.modern_sites import generate_jsapp, jsapp_server

    js_dir = generate_jsapp(tmp_path / "js", seed=2024, n_articles=12)
    with jsapp_server(js_dir) as js_base:
        result = subprocess.run(
            [*BLGW, "crawl", "wlj", "--origin", f"wlj={js_base}", "--max-pages", "1", "-q", "--no-index",
             "--log-level", "INFO", "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False"],
            cwd=WORKDIR, env=_env(tmp_path), capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-4000:]
    block = re.search(r"Enabled downloader middlewares:\n(\[.*?\])", result.stderr, re.S)
    assert block, result.stderr[-3000:]
    enabled = set(re.findall(r"'([\w.]+)'", block.group(1)))
    assert OURS | {"spiders.downloadermiddlewares.browser.BrowserRecycleMiddleware"} <= enabled, enabled
    assert "finished" in result.stdout and "new 0 " not in result.stdout
