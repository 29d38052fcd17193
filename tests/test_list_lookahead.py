"""The next list page is fetched while the previous page's last details are, and the queue stays
bounded (``spiders.spidermiddlewares.lookahead``).

A real ``blgw crawl`` of a stdlib site of 14 list pages of 12 entries, with the crawl's and the
site's concurrency at 2 and no delay (when the crawl's is higher than the site's, Scrapy's
downloader queues a few requests per site itself, which hides the wait); the server records the
order of the requests it gets. Without
the lookahead every list page is requested only once all details found so far are (the
downloader waits on one request per list page); without its bound the crawl would page ahead
of the details as fast as the site answers (its queue growing with the site).
"""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import threading
from http.server import BaseHTTPRequestHandler

import pytest
from conftest import BLGW, WORKDIR

from fixture_sites.servers import threaded_http_server
from spiders.spidermiddlewares.lookahead import low_water

PAGES, PER_PAGE, CONCURRENCY = 14, 12, 2

PLUGIN = """[site]
code = "look"
name = "预取测试站"
base_url = "http://look.bl.gov.cn/"
obey_robots = false

[list]
item = "ul.list li"
paging = { type = "next_link", next = "//a[.='下一页']/@href" }

[detail]
title = "h1"
body = "#zoom"

[[columns]]
name = "通知公告"
url = "/list?page=1"
"""


def _handler(log: list[str], lock: threading.Lock) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            with lock:
                log.append(self.path)
            if m := re.fullmatch(r"/list\?page=(\d+)", self.path):
                n = int(m.group(1))
                items = "".join(f'<li><a href="/show?id={n}-{k}">第{n}页 通知{k}</a></li>' for k in range(PER_PAGE))
                nxt = f'<a href="/list?page={n + 1}">下一页</a>' if n < PAGES else ""
                html = f"<html><body><ul class='list'>{items}</ul>{nxt}</body></html>"
            elif m := re.fullmatch(r"/show\?id=(\d+)-(\d+)", self.path):
                html = (f"<html><body><h1>第{m[1]}页 通知{m[2]}</h1><div id='zoom'><p>正文 {m[1]} {m[2]}，"
                        f"关于做好有关工作的通知。</p></div></body></html>")
            else:
                self.send_error(404)
                return
            body = html.encode("utf-8")
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler


@pytest.fixture()
def crawled(tmp_path):
    log: list[str] = []
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "look.toml").write_text(PLUGIN, encoding="utf-8")
    env = {**os.environ, "BLGW_DATA_DIR": str(tmp_path / "data"), "BLGW_PLUGIN_DIRS": str(plugins)}
    with threaded_http_server(_handler(log, threading.Lock()), label="lookahead") as base_url:
        out = subprocess.run([*BLGW, "crawl", "look", "--origin", f"look={base_url}", "-q", "--no-index",
                              "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False",
                              "-s", f"CONCURRENT_REQUESTS={CONCURRENCY}",
                              "-s", f"CONCURRENT_REQUESTS_PER_DOMAIN={CONCURRENCY}"],
                             cwd=WORKDIR, env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-3000:]
    return log, tmp_path / "data" / "gateway.sqlite"


def _unrequested_before(log: list[str], page: int) -> tuple[int, int]:
    """When list page ``page`` is requested: how many details of the page before it, and of all
    pages before it, have not been requested yet."""
    at = log.index(f"/list?page={page}")
    asked = set(log[:at])
    previous = sum(f"/show?id={page - 1}-{k}" not in asked for k in range(PER_PAGE))
    earlier = sum(f"/show?id={p}-{k}" not in asked for p in range(1, page) for k in range(PER_PAGE))
    return previous, earlier


def test_list_pages_are_fetched_ahead_of_the_last_details_and_the_queue_stays_bounded(crawled):
    log, db = crawled
    details = [p for p in log if p.startswith("/show")]
    assert len(set(details)) == PAGES * PER_PAGE  # every detail page, each once
    assert len(details) == len(set(details))
    with sqlite3.connect(db) as c:
        assert c.execute("SELECT count(*) FROM documents").fetchone()[0] == PAGES * PER_PAGE
        assert c.execute("SELECT count(*) FROM frontier WHERE state = 'pending'").fetchone()[0] == 0

    counts = [_unrequested_before(log, n) for n in range(2, PAGES + 1)]
    # ahead: most list pages are asked for while details of the page before are still to come
    ahead = sum(previous > 0 for previous, _ in counts)
    assert ahead >= (PAGES - 1) // 2, counts
    # bounded: never more waiting than one list page's entries plus the low water
    assert max(earlier for _, earlier in counts) <= PER_PAGE + low_water(CONCURRENCY), counts
