"""A compromised subsite cannot turn the gateway against the district's network or its portal
(docs/security.md). The proof is on the wire: a canary on another port of the subsite's host
and on another loopback address records every connection, and a crawl (HTML and browser), a
link check and ``/go`` on the hostile site (fixture_sites/hostile.py) leave it with none;
nothing of it is stored or indexed, and the run report names every refused URL by kind."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest
from conftest import BLGW, WORKDIR

from fixture_sites.hostile import canary, hostile_js_server, hostile_server, planted_urls, plugin_toml

FAST = ["-q", "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False"]


def _env(tmp_path: Path, *codes: str) -> dict[str, str]:
    plugins = tmp_path / "plugins.d"
    plugins.mkdir(exist_ok=True)
    for code in codes:
        (plugins / f"{code}.toml").write_text(plugin_toml(code), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("BLGW_") or k.startswith("BLGW_TEST")}
    env.update(BLGW_DATA_DIR=str(tmp_path / "data"), BLGW_PLUGIN_DIRS=str(plugins))
    return env


def _blgw(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*BLGW, *args], cwd=WORKDIR, env=env, capture_output=True, text=True, timeout=600)


def _documents(tmp_path: Path) -> list[str]:
    with sqlite3.connect(tmp_path / "data" / "gateway.sqlite") as con:
        return sorted(row[0] for row in con.execute("SELECT url FROM documents"))


def _index_text(tmp_path: Path) -> str:
    path = tmp_path / "data" / "index.sqlite"
    return path.read_bytes().decode("utf-8", "replace") if path.exists() else ""


def _report(env: dict[str, str]) -> dict:
    out = _blgw(env, "report", "--json", "--max-errors", "500")
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


@pytest.fixture
def bird():
    with canary() as b:
        yield b


def test_a_crawl_of_the_hostile_html_site_never_leaves_it(bird, tmp_path):
    env = _env(tmp_path, "hos")
    with hostile_server(bird) as site:
        crawl = _blgw(env, "crawl", "hos", "--origin", f"hos={site}", *FAST)
        checked = _blgw(env, "links", "check", "hos", "--origin", f"hos={site}", "--delay", "0", "--timeout", "2")
    assert crawl.returncode == 1, crawl.stderr[-3000:]  # finished with errors: each refusal named
    assert checked.returncode == 0, checked.stderr[-3000:]
    assert bird.hits == [], bird.hits
    # only the two real articles, under the site's public URL
    assert _documents(tmp_path) == ["http://hos.bl.gov.cn/ok/1.html", "http://hos.bl.gov.cn/ok/2.html"]
    assert "INTERNAL" not in _index_text(tmp_path)
    report = _report(env)
    errors = report["errors"]["first"]
    by_kind = report["errors"]["by_kind"]
    assert by_kind.get("offsite", 0) + by_kind.get("scope", 0) >= len(planted_urls(bird, 0)) + 5, by_kind
    messages = " ".join(f"{e['kind']} {e['url']} {e['message']}" for e in errors)
    for fragment in ("/p/port", "/p/address", "2130706434", "0x7f000002", "0177.0.0.2", "/p/mapped",
                     "/p/localhost", "credentials in the URL", "backslash", "169.254.169.254", "not an http(s) URL",
                     "/p/window-open", "/p/onclick", "/p/redirect-301", "/p/redirect-chain", "/p/refresh",
                     "/p/next-page", "file", "data", "longer than 2083 characters"):
        assert fragment in messages, fragment
    # and /metrics counts them by kind, for the operators' alerts
    from fastapi.testclient import TestClient

    from gateway.api import create_app
    from gateway.settings import GatewaySettings

    app = create_app(GatewaySettings(data_dir=tmp_path / "data", plugin_dirs=[Path(env["BLGW_PLUGIN_DIRS"])]))
    with TestClient(app) as client:
        metrics = client.get("/metrics").text
    assert 'blgw_site_last_run_errors{kind="offsite",site="hos"}' in metrics
    assert 'blgw_site_last_run_errors{kind="scope",site="hos"}' in metrics
    # the dead-link report: the planted links inside articles are refused, not checked
    links = json.loads(_blgw(env, "links", "report", "hos", "--json").stdout)
    refused = {b["url"]: b["error"] for b in links["broken"]}
    assert refused, links
    assert all(error == "refused (private address)" or (error or "").startswith("refused (")
               for url, error in refused.items() if "127.0.0.2" in url or str(bird.same_host_port) in url), refused


def test_a_browser_crawl_of_the_hostile_js_site_never_leaves_it(bird, tmp_path):
    if not (shutil.which("chromium") or Path("/usr/bin/chromium").exists()):
        if os.environ.get("BLGW_REQUIRE_FIXTURES"):
            raise RuntimeError("chromium is not installed (apt-get install chromium)")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    env = _env(tmp_path, "hosjs")
    with hostile_js_server(bird) as site:
        crawl = _blgw(env, "crawl", "hosjs", "--origin", f"hosjs={site}", *FAST, "-s", "BLGW_BROWSER_WAIT_MS=3000",
                      "-s", "PLAYWRIGHT_DEFAULT_NAVIGATION_TIMEOUT=5000", "-s", "RETRY_TIMES=0")
    assert crawl.returncode == 1, crawl.stderr[-3000:]  # finished with errors: each refusal named
    assert bird.hits == [], bird.hits
    stored = _documents(tmp_path)
    assert "http://hosjs.bl.gov.cn/js/1.html" in stored
    assert all(url.startswith("http://hosjs.bl.gov.cn/") for url in stored), stored
    assert "INTERNAL" not in _index_text(tmp_path)
    report = _report(env)
    messages = " ".join(f"{e['url']} {e['message']}" for e in report["errors"]["first"])
    assert "refused in the browser" in messages
    for fragment in ("/js/fetch", "/js/xhr", "/js/image", "/js/events", "/js/beacon", "/js/prefetch",
                     "/js/iframe", "/js/window-open", "/js/internal-page", "/js/away-at-once"):
        assert fragment in messages, fragment
    # (the form /js/3.html submits during load is refused when Chromium gets as far as sending it;
    # under load the page's navigation times out first, which is what the next assertion checks)
    # the two articles that never finish loading are named, not lost
    failed = {e["url"] for e in report["errors"]["first"] if e["kind"] in ("timeout", "network")}
    assert {"http://hosjs.bl.gov.cn/js/2.html", "http://hosjs.bl.gov.cn/js/3.html"} <= failed, failed


def test_go_never_sends_the_public_off_the_site(bird, tmp_path):
    from fastapi.testclient import TestClient

    from gateway.api import create_app
    from gateway.settings import GatewaySettings
    from gateway.store.repository import upsert_article, upsert_site
    from gateway.store.session import open_store
    from normalizers.models import Article, Category, document_id

    env = _env(tmp_path, "hos")
    with hostile_server(bird) as site:
        store = open_store(f"sqlite:///{tmp_path / 'store.sqlite'}")
        planted = f"{bird.other}/p/stored"
        with store.session() as session:
            upsert_site(session, code="hos", name="北仑区某街道", base_url="http://hos.bl.gov.cn/", platform="generic",
                        plugin_source="test")
            for url in (planted, "http://hos.bl.gov.cn/ok/1.html"):
                article = Article(id=document_id(url), site_code="hos", column_path=["政务公开", "通知公告"],
                                  category=Category.GOVERNMENT_INFORMATION, title="一篇文章", body_text="正文",
                                  body_html="<p>正文</p>", source_url=url, fetched_at=dt.datetime.now(dt.UTC))
                upsert_article(session, article, fetch_url=url, raw_body=b"", content_type="text/html",
                               http_status=200, run_id=None)
        settings = GatewaySettings(data_dir=tmp_path, database_url=store.url, index_url="sqlite://:memory:",
                                   plugin_dirs=[Path(env["BLGW_PLUGIN_DIRS"])], origins={"hos": site})
        with TestClient(create_app(settings), follow_redirects=False) as client:
            copy = client.get(f"/go/{document_id(planted)}")
            real = client.get(f"/go/{document_id('http://hos.bl.gov.cn/ok/1.html')}")
        store.dispose()
    assert copy.status_code == 200 and "location" not in copy.headers  # the stored copy, not a redirect
    assert real.status_code == 302 and real.headers["location"] == "http://hos.bl.gov.cn/ok/1.html"
    assert bird.hits == [], bird.hits
