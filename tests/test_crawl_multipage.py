"""Multi-page articles (``[detail] pages``) and single-page columns (``layout = "page"``), end to
end with the real ``blgw crawl`` against a small Python fixture subsite on loopback.

The site imitates what CMS installs do: an article split over ``a1.html``, ``a1_2.html``,
``a1_3.html`` with a pager under the body on each page (上一页, the page numbers, 下一页), a
planted pager link to another host, and a 机构职能 column whose page is the content itself. The
tests assert the article is one item (page 1's URL, the bodies in reading order, each part
fetched once), the single page stored every run without being lost to the dupefilter, a failed
part failing the article by name (never a silent first-page-only item) and the next ordinary run
storing it whole.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
from pathlib import Path

import pytest
from conftest import BLGW, WORKDIR

from fixture_sites.servers import PagesSite, threaded_http_server

FAST = ["-q", "--no-index", "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False"]

PLUGIN = """\
[site]
code = "mpt"
name = "多页测试站"
base_url = "http://mpt.bl.gov.cn/"

[list]
item = "ul.list > li"
date = "span"

[detail]
title = "h1"
body = "div.content"
pages = "div.pages a"

[[columns]]
name = "工作动态"
url = "/list.html"

[[columns]]
name = "机构职能"
url = "/about.html"
layout = "page"

[[columns]]
name = "联系我们"
url = "/contact.html"
layout = "page"
"""

PARTS = {1: "第一部分：会议听取了全区安全生产工作情况汇报，研究部署下一阶段重点工作。",
         2: "第二部分：会议强调，要压实企业主体责任，深入开展隐患排查整治。",
         3: "第三部分：会议要求，各街道、各部门要加强值班值守，确保信息畅通。"}
SINGLE = "负责全区应急管理工作，指导各地区各部门应对安全生产类、自然灾害类等突发事件。"
CONTACT = "地址：北仑区新大路1号，邮编315800，值班电话0574-86781234，欢迎来信来电。"


def _pager(current: int) -> str:
    links = ["<a href='a1.html'>1</a>" if current != 1 else "<span>1</span>"]
    links += [f"<a href='a1_{n}.html'>{n}</a>" if current != n else f"<span>{n}</span>" for n in (2, 3)]
    if current < 3:
        links.append(f"<a href='a1_{current + 1}.html'>下一页</a>")
    links.append("<a href='http://evil.example.com/a1_9.html'>更多</a>")  # planted: refused, never fetched
    return "<div class='pages'>" + "".join(links) + "</div>"


def _article(current: int) -> str:
    return ("<html><head><meta charset='utf-8'><title>全区安全生产工作会议召开</title></head><body>"
            "<div class='nav'><a href='/'>首页</a><a href='/list.html'>工作动态</a></div>"
            "<h1>全区安全生产工作会议召开</h1><div class='info'>发布时间：2026-11-20</div>"
            f"<div class='content'><p>{PARTS[current]}</p></div>{_pager(current)}</body></html>")


PAGES = {
    "/list.html": ("<html><head><meta charset='utf-8'><title>工作动态</title></head><body><ul class='list'>"
                   "<li><a href='a1.html'>全区安全生产工作会议召开</a><span>2026-11-20</span></li>"
                   "<li><a href='a2.html'>防汛防台演练举行</a><span>2026-11-18</span></li>"
                   "</ul></body></html>"),
    "/a1.html": _article(1), "/a1_2.html": _article(2), "/a1_3.html": _article(3),
    "/a2.html": ("<html><head><meta charset='utf-8'><title>防汛防台演练举行</title></head><body>"
                 "<h1>防汛防台演练举行</h1><div class='info'>发布时间：2026-11-18</div>"
                 "<div class='content'><p>近日，区应急管理局组织开展防汛防台应急演练，检验预案的可操作性。</p></div>"
                 "</body></html>"),
    "/about.html": ("<html><head><meta charset='utf-8'><title>机构职能</title></head><body>"
                    "<div class='nav'><a href='/'>首页</a><a href='/list.html'>工作动态</a></div>"
                    "<h1>北仑区应急管理局机构职能</h1><div class='content'><p>主要职责：</p>"
                    f"<p>{SINGLE}</p><p>联系电话：0574-86781234</p></div></body></html>"),
    "/contact.html": ("<html><head><meta charset='utf-8'><title>联系我们</title></head><body>"
                      f"<h1>联系我们</h1><div class='content'><p>{CONTACT}</p></div></body></html>"),
}


@pytest.fixture()
def site(tmp_path):
    served = PagesSite(PAGES)
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "mpt.toml").write_text(PLUGIN, encoding="utf-8")
    with threaded_http_server(served.handler(), label="multipage") as base_url:
        env = {**os.environ, "BLGW_DATA_DIR": str(tmp_path / "data"), "BLGW_PLUGIN_DIRS": str(plugins)}
        yield served, base_url, env, tmp_path / "data" / "gateway.sqlite"


def _crawl(env: dict, base_url: str, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([*BLGW, "crawl", "mpt", "--origin", f"mpt={base_url}", *FAST, *extra],
                          cwd=WORKDIR, env=env, capture_output=True, text=True, timeout=300)


def _items(db: Path) -> dict[str, dict]:
    with sqlite3.connect(db) as c:
        return {url.split("bl.gov.cn", 1)[1]: json.loads(item) for url, item in c.execute("SELECT url, item FROM documents")}


def _errors(env: dict) -> list[dict]:
    out = subprocess.run([*BLGW, "report", "--site", "mpt", "--json"], cwd=WORKDIR, env=env,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout)["errors"]["first"]


def test_a_multi_page_article_is_one_item_and_a_single_page_column_is_stored(site):
    served, base_url, env, db = site
    result = _crawl(env, base_url)
    assert result.returncode == 1, result.stdout + result.stderr[-3000:]  # the planted link is named
    assert "Warning" not in result.stderr, result.stderr[-3000:]  # no deprecation warning in a crawl's output
    items = _items(db)
    assert set(items) == {"/a1.html", "/a2.html", "/about.html", "/contact.html"}
    merged = items["/a1.html"]
    assert merged["body_text"] == "\n\n".join(PARTS[n] for n in (1, 2, 3))
    assert merged["title"] == "全区安全生产工作会议召开"
    assert merged["source_url"] == "http://mpt.bl.gov.cn/a1.html"
    assert not [e for e in merged.get("field_errors", []) if e["field"] == "body_text"]
    assert items["/contact.html"]["body_text"] == CONTACT
    organisation = items["/about.html"]  # 机构职能: an organisation item
    assert SINGLE in organisation["functions"] and organisation["phones"] == ["0574-86781234"]
    # every page fetched once: the pager's repeated links are not fetched again
    assert {p: served.requests[p] for p in ("/a1.html", "/a1_2.html", "/a1_3.html", "/about.html")} == \
        {"/a1.html": 1, "/a1_2.html": 1, "/a1_3.html": 1, "/about.html": 1}
    errors = _errors(env)
    assert [(e["kind"], e["url"]) for e in errors] == [("offsite", "http://evil.example.com/a1_9.html")]

    # the next ordinary run: the list is unchanged, so the article is not fetched again; the
    # single pages, stored and verified within the refetch window, neither (the rolling
    # re-verification comes to them)
    again = _crawl(env, base_url)
    assert again.returncode in (0, 1), again.stdout + again.stderr[-3000:]
    assert served.requests["/a1_2.html"] == 1 and served.requests["/about.html"] == 1
    assert served.requests["/contact.html"] == 1
    assert set(_items(db)) == {"/a1.html", "/a2.html", "/about.html", "/contact.html"}
    with sqlite3.connect(db) as c:  # they are items of the run, unchanged
        (unchanged,) = c.execute("SELECT items_unchanged FROM crawl_runs ORDER BY id DESC LIMIT 1").fetchone()
    assert unchanged >= 2
    # past the window, a single page is read again
    refetch = _crawl(env, base_url, "-s", "BLGW_REFETCH_DAYS=0")
    assert refetch.returncode in (0, 1) and served.requests["/contact.html"] == 2


def test_a_failed_part_fails_the_article_by_name_and_the_next_run_stores_it_whole(site):
    served, base_url, env, db = site
    served.failing.add("/a1_3.html")
    first = _crawl(env, base_url, "-s", "RETRY_TIMES=0")
    assert first.returncode == 1, first.stdout + first.stderr[-3000:]
    assert "/a1.html" not in _items(db)  # never stored with page 1 and 2 only
    errors = _errors(env)
    named = [e for e in errors if e["url"] == "http://mpt.bl.gov.cn/a1.html"]
    assert named and "http://mpt.bl.gov.cn/a1_3.html" in named[0]["message"], errors
    with sqlite3.connect(db) as c:
        states = dict(c.execute("SELECT url, state FROM frontier WHERE url LIKE '%a1.html'").fetchall())
    assert list(states.values()) == ["failed"], states

    served.failing.clear()
    second = _crawl(env, base_url)
    assert second.returncode in (0, 1), second.stdout + second.stderr[-3000:]
    assert _items(db)["/a1.html"]["body_text"] == "\n\n".join(PARTS[n] for n in (1, 2, 3))
