"""A document listed in two columns: it belongs to its primary column (the one its URL names,
else the most specific), every listing is recorded and counts in the navigation map, whichever
column's list the crawl reads first.

The primary-column rule (:meth:`plugins.spec.SiteSpec.primary_column`) on URL shapes of real
CMSes, and end to end with the real ``blgw crawl``: a parent column 新闻中心 whose list shows its
own items and its child's (通知公告) is read first; after the next ordinary run every child item
is stored under 通知公告 (its ``column_path`` too), and stays there run after run.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
from collections import Counter

import pytest
from conftest import BLGW, WORKDIR

from fixture_sites.servers import PagesSite, threaded_http_server
from plugins.declarative import parse_site_toml

FAST = ["-q", "--no-index", "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False"]

PLUGIN = """\
[site]
code = "lst"
name = "栏目测试站"
base_url = "http://lst.bl.gov.cn/"

[list]
item = "ul.list > li"
date = "span"

[detail]
title = "h1"
body = "div.content"

[[columns]]
name = "新闻中心"
url = "/xwzx/index.html"

[[columns]]
name = "通知公告"
url = "/xwzx/tzgg/index.html"
path = ["政务公开", "新闻中心", "通知公告"]

[[columns]]
name = "最新信息"
url = "/zxxx.html"
"""

CHILD = [f"/xwzx/tzgg/2026/{n}.html" for n in range(1, 6)]
OWN = [f"/xwzx/2026/{n}.html" for n in range(1, 4)]


def _list(paths: list[str]) -> str:
    items = "".join(f"<li><a href='{p}'>通知{p.rsplit('/', 1)[1][:-5]}（{p.split('/')[2]}）</a><span>2026-11-0{i + 1}</span></li>"
                    for i, p in enumerate(paths))
    return f"<html><head><meta charset='utf-8'></head><body><ul class='list'>{items}</ul></body></html>"


def _page(path: str) -> str:
    title = f"通知{path.rsplit('/', 1)[1][:-5]}（{path.split('/')[2]}）"
    return (f"<html><head><meta charset='utf-8'></head><body><h1>{title}</h1><div>发布时间：2026-11-01</div>"
            f"<div class='content'><p>{title}的正文：请各单位按要求做好相关工作。</p></div></body></html>")


PAGES = {"/xwzx/index.html": _list([*CHILD[:3], *OWN, *CHILD[3:]]), "/xwzx/tzgg/index.html": _list(CHILD),
         "/zxxx.html": _list([CHILD[0], OWN[0]]),
         **{p: _page(p) for p in CHILD + OWN}}


@pytest.mark.parametrize("url, listed_in, primary", [
    ("http://lst.bl.gov.cn/xwzx/tzgg/2026/1.html", ["新闻中心", "通知公告"], "通知公告"),  # the URL names it
    ("http://lst.bl.gov.cn/xwzx/2026/1.html", ["新闻中心", "通知公告"], "新闻中心"),
    ("http://lst.bl.gov.cn/show.php?id=1", ["新闻中心", "通知公告"], "通知公告"),  # the most specific
    ("http://lst.bl.gov.cn/show.php?id=1", ["新闻中心", "已删除的栏目"], "新闻中心"),
    ("http://lst.bl.gov.cn/show.php?id=1", ["已删除的栏目"], None),
])
def test_the_primary_column_is_the_one_the_url_names_else_the_most_specific(url, listed_in, primary):
    assert parse_site_toml(PLUGIN).primary_column(url, listed_in) == primary


def test_a_query_key_names_the_column():
    spec = parse_site_toml(PLUGIN.replace('url = "/xwzx/index.html"', 'url = "/index.php?m=content&a=lists&catid=9"')
                           .replace('url = "/xwzx/tzgg/index.html"', 'url = "/index.php?m=content&a=lists&catid=10"'))
    show = "http://lst.bl.gov.cn/index.php?m=content&c=index&a=show&catid=9&id=87"
    assert spec.primary_column(show, ["新闻中心", "通知公告"]) == "新闻中心"  # catid=9, though less specific


@pytest.fixture()
def site(tmp_path):
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "lst.toml").write_text(PLUGIN, encoding="utf-8")
    served = PagesSite(PAGES)
    requests = served.requests
    with threaded_http_server(served.handler(), label="listings") as base_url:
        env = {**os.environ, "BLGW_DATA_DIR": str(tmp_path / "data"), "BLGW_PLUGIN_DIRS": str(plugins)}
        yield requests, base_url, env, tmp_path / "data" / "gateway.sqlite"


def _crawl(env: dict, base_url: str) -> None:
    out = subprocess.run([*BLGW, "crawl", "lst", "--origin", f"lst={base_url}", *FAST], cwd=WORKDIR, env=env,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout + out.stderr[-3000:]


def _columns(db) -> dict[str, tuple[str, str]]:
    with sqlite3.connect(db) as c:
        return {url.split("bl.gov.cn", 1)[1]: (column, json.loads(item)["column_path"][-1])
                for url, column, item in c.execute('SELECT url, "column", item FROM documents')}


def test_a_document_listed_twice_belongs_to_its_primary_column_and_counts_in_both(site):
    requests, base_url, env, db = site
    _crawl(env, base_url)
    _crawl(env, base_url)  # the next ordinary run settles what the first stored before it read the child's list
    columns = _columns(db)
    assert columns == {**dict.fromkeys(CHILD, ("通知公告", "通知公告")), **dict.fromkeys(OWN, ("新闻中心", "新闻中心"))}
    with sqlite3.connect(db) as c:
        listings = Counter(column for (column,) in c.execute('SELECT "column" FROM document_listings'))
    assert listings == {"新闻中心": len(CHILD) + len(OWN), "通知公告": len(CHILD), "最新信息": 2}
    fetched = sum(requests[p] for p in CHILD + OWN)

    _crawl(env, base_url)  # settled: nothing is fetched again, nothing moves
    assert sum(requests[p] for p in CHILD + OWN) == fetched
    assert _columns(db) == columns

    nav = subprocess.run([*BLGW, "navigation", "lst"], cwd=WORKDIR, env=env, capture_output=True, text=True, timeout=120)
    assert nav.returncode == 0, nav.stderr[-2000:]
    # 通知公告 holds its 5; 新闻中心 its own 3 and its child's 5 (which it lists too: counted once)
    assert "- 通知公告 [5]" in nav.stdout and "- 新闻中心 [8]" in nav.stdout, nav.stdout
    assert "- 最新信息 [2]" in nav.stdout, nav.stdout  # a column of other columns' documents counts them
