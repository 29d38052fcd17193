"""Meta refresh: a page with content is itself (its refresh target is one of its links); a
refresh-only page is followed like a redirect, under the scope policy; a refresh to
``javascript:``, ``mailto:``, nothing or the page itself is ignored.

The reading (:func:`normalizers.links.meta_refresh`), the downloader middleware with Scrapy's
own requests and responses, and a real ``blgw crawl`` of a small site on loopback with a canary
on another port that the crawl must never reach."""

from __future__ import annotations

import functools
import json
import os
import sqlite3
import subprocess
from http.server import SimpleHTTPRequestHandler
from pathlib import Path

import pytest
from conftest import BLGW, WORKDIR
from scrapy.http import HtmlResponse, Request, TextResponse
from scrapy.utils.test import get_crawler

from fixture_sites.hostile import canary
from fixture_sites.servers import threaded_http_server
from normalizers.links import REFRESH_ONLY_TEXT_MAX, extract_links, meta_refresh
from spiders.downloadermiddlewares.redirect import MetaRefreshMiddleware
from spiders.errors import RedirectLoop

PAGE = "http://zjj.bl.gov.cn/xwzx/a1.html"
CONTENT = "<p>" + "各有关单位：为进一步加强建筑工地安全生产管理，现就开展大检查有关事项通知如下。" * 3 + "</p>"


def html(refresh: str, body: str = "") -> str:
    return (f"<html><head><meta charset='utf-8'><meta http-equiv='refresh' content=\"{refresh}\">"
            f"<title>通知</title></head><body>{body}</body></html>")


# ------------------------------------------------------------------------------- the reading

@pytest.mark.parametrize("content, delay, url", [
    ("0;url=new.html", 0, "http://zjj.bl.gov.cn/xwzx/new.html"),
    ("3; URL='/p/new.html'", 3, "http://zjj.bl.gov.cn/p/new.html"),
    ("5,new.html", 5, "http://zjj.bl.gov.cn/xwzx/new.html"),
    ("0 new.html#top", 0, "http://zjj.bl.gov.cn/xwzx/new.html"),
    ("1.5;url=&quot;http://www.bl.gov.cn/&quot;", 1, "http://www.bl.gov.cn/"),
])
def test_the_refresh_is_read_as_a_browser_reads_it(content, delay, url):
    refresh = meta_refresh(html(content), PAGE)
    assert refresh is not None and (refresh.delay, refresh.url) == (delay, url)


@pytest.mark.parametrize("content", ["0;url=javascript:history.back()", "0; URL=JavaScript:go('x')",
                                     "0;url=mailto:office@bl.gov.cn", "0;url=", "30", "0;url=a1.html",
                                     "0;url=#top", "0;url=ftp://files.bl.gov.cn/x", "0;url=data:text/html,x"])
def test_a_refresh_to_nowhere_to_follow_has_no_url(content):
    refresh = meta_refresh(html(content), PAGE)
    assert refresh is not None and refresh.url is None


def test_a_page_with_content_is_not_refresh_only_and_a_stub_is():
    assert not meta_refresh(html("0;url=new.html", CONTENT), PAGE).refresh_only
    stub = html("0;url=new.html", "<div class='nav'>" + "<a href='/'>首页</a>" * 40 + "</div>"
                "<p>页面正在跳转，请稍候……如果没有自动跳转，<a href='new.html'>请点击这里</a>。</p>"
                "<script>var t = '" + "x" * 500 + "';</script>")
    refresh = meta_refresh(stub, PAGE)
    assert refresh.refresh_only and refresh.content_chars <= REFRESH_ONLY_TEXT_MAX


def test_no_refresh_no_answer():
    assert meta_refresh("<html><body><p>正文</p></body></html>", PAGE) is None
    assert meta_refresh(html("soon"), PAGE) is None


def test_the_refresh_target_is_a_link_of_the_page():
    links = extract_links(html("5;url=../tzgg/new.html", CONTENT), PAGE)
    assert [(link.url, link.tag) for link in links] == [("http://zjj.bl.gov.cn/tzgg/new.html", "meta")]
    assert extract_links(html("0;url=javascript:void(0)", CONTENT), PAGE) == []


# ------------------------------------------------------------------------------ the middleware

@pytest.fixture
def middleware():
    return MetaRefreshMiddleware.from_crawler(get_crawler())


def _response(body: str, url: str = PAGE, **meta) -> HtmlResponse:
    return HtmlResponse(url, body=body.encode("utf-8"), encoding="utf-8",
                        headers={"Content-Type": "text/html; charset=utf-8"}, request=Request(url, meta=meta))


def test_a_page_with_content_and_a_delayed_refresh_is_itself(middleware):
    response = _response(html("3;url=/index.html", CONTENT))
    assert middleware.process_response(response.request, response) is response


def test_a_refresh_only_page_is_followed_as_a_redirect(middleware):
    response = _response(html("0;url=/xwzx/real.html", "<p>正在跳转……</p>"))
    followed = middleware.process_response(response.request, response)
    assert isinstance(followed, Request) and followed.url == "http://zjj.bl.gov.cn/xwzx/real.html"
    assert followed.meta["redirect_urls"] == [PAGE] and followed.meta["redirect_reasons"] == ["meta refresh"]


@pytest.mark.parametrize("content", ["0;url=javascript:history.back()", "0;url=mailto:office@bl.gov.cn", "0;url=",
                                     "0;url=a1.html", "0", "500;url=/xwzx/real.html"])
def test_a_refresh_to_nowhere_or_a_reload_leaves_the_page_as_it_is(middleware, content):
    response = _response(html(content))
    assert middleware.process_response(response.request, response) is response  # no error, no request


def test_a_refresh_back_into_its_redirect_chain_is_a_loop(middleware):
    response = _response(html("0;url=/xwzx/a0.html"), redirect_urls=["http://zjj.bl.gov.cn/xwzx/a0.html"])
    with pytest.raises(RedirectLoop):
        middleware.process_response(response.request, response)


def test_a_gbk_stub_without_a_charset_is_read_and_followed(middleware):
    body = html("0;url=/xwzx/real.html", "<p>页面正在跳转</p>").replace("<meta charset='utf-8'>", "").encode("gbk")
    response = HtmlResponse(PAGE, body=body, request=Request(PAGE))
    assert isinstance(middleware.process_response(response.request, response), Request)


def test_not_html_is_left_alone(middleware):
    response = TextResponse(PAGE, body=b'{"refresh": "0;url=x"}', request=Request(PAGE))
    assert middleware.process_response(response.request, response) is response


def test_the_crawl_settings_use_this_middleware_instead_of_scrapys():
    from spiders import settings

    middlewares = settings.DOWNLOADER_MIDDLEWARES
    assert middlewares["scrapy.downloadermiddlewares.redirect.MetaRefreshMiddleware"] is None
    assert "spiders.downloadermiddlewares.redirect.MetaRefreshMiddleware" in middlewares


# ------------------------------------------------------------------------------ a real crawl

PLUGIN = """[site]
code = "zjj"
name = "北仑区住房和城乡建设局"
base_url = "http://zjj.bl.gov.cn/"
obey_robots = false
[list]
item = "ul.news li"
[detail]
body = "#zoom"
[[columns]]
name = "通知公告"
url = "/list.html"
"""


def article(title: str, refresh: str | None = None) -> str:
    head = f"<meta http-equiv='refresh' content=\"{refresh}\">" if refresh else ""
    return (f"<html><head><meta charset='utf-8'>{head}<title>{title}</title></head><body><h1>{title}</h1>"
            f"<div class='info'>发布时间：2024-03-05</div><div id='zoom'>{CONTENT}</div></body></html>")


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass


def _site(root: Path, away: str) -> None:
    titles = {"a1": "关于做好住房公积金年度结算工作的通知", "a2": "关于开展建筑工地安全生产大检查的通知",
              "a3": "关于物业服务企业消防设施检查的通知", "a4": "关于转发省住建厅文件的通知"}
    (root / "list.html").write_text(
        "<html><head><meta charset='utf-8'></head><body><ul class='news'>"
        + "".join(f"<li><a href='{name}.html'>{title}</a></li>" for name, title in titles.items())
        + "</ul></body></html>", encoding="utf-8")
    pages = {
        "a1": article(titles["a1"], "5;url=/elsewhere.html"),  # content and a delayed refresh: itself
        "a2": html("0;url=real.html", "<p>页面正在跳转，请稍候……</p>"),  # refresh-only: followed
        "real": article(titles["a2"]),
        "a3": article(titles["a3"], "0;url=javascript:history.back()"),  # ignored, no network error
        "a4": html(f"0;url={away}/p/refresh", "<p>正在跳转</p>"),  # refresh-only, out of scope: refused
    }
    for name, text in pages.items():
        (root / f"{name}.html").write_text(text, encoding="utf-8")


def test_a_crawl_stores_pages_with_content_follows_refresh_only_ones_and_stays_in_scope(tmp_path):
    root = tmp_path / "www"
    root.mkdir()
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "zjj.toml").write_text(PLUGIN, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("BLGW_") or k.startswith("BLGW_TEST")}
    env.update(BLGW_DATA_DIR=str(tmp_path / "data"), BLGW_PLUGIN_DIRS=str(plugins))
    with canary() as bird:
        _site(root, bird.same_host)
        handler = functools.partial(QuietHandler, directory=str(root))
        with threaded_http_server(handler, label="meta-refresh") as base:
            crawl = subprocess.run([*BLGW, "crawl", "zjj", "--origin", f"zjj={base}", "-q", "--no-index",
                                    "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False"],
                                   cwd=WORKDIR, env=env, capture_output=True, text=True, timeout=300)
    # the refused refresh is a page error: the run finishes (with errors, exit 1, where the exit
    # status tells them apart)
    assert crawl.returncode in (0, 1) and "Traceback" not in crawl.stderr, crawl.stderr[-3000:]
    assert "finished" in crawl.stdout, crawl.stdout[-3000:]
    assert bird.hits == [], bird.hits  # the out-of-scope refresh was never fetched
    with sqlite3.connect(tmp_path / "data" / "gateway.sqlite") as con:
        stored = {url.rsplit("/", 1)[-1]: json.loads(item) for url, item in con.execute("SELECT url, item FROM documents")}
        links = {(source.rsplit("/", 1)[-1], target) for source, target in con.execute(
            "SELECT s.source_url, t.url FROM link_sources s JOIN link_targets t ON t.id = s.target_id")}
    assert set(stored) == {"a1.html", "real.html", "a3.html"}
    assert stored["a1.html"]["title"] == "关于做好住房公积金年度结算工作的通知"  # not replaced by /elsewhere.html
    assert stored["real.html"]["title"] == "关于开展建筑工地安全生产大检查的通知"
    assert "大检查" in stored["a3.html"]["body_text"]
    assert ("a1.html", "http://zjj.bl.gov.cn/elsewhere.html") in links  # the refresh target is a link of the page
    report = json.loads(subprocess.run([*BLGW, "report", "--json", "--max-errors", "100"], cwd=WORKDIR, env=env,
                                       capture_output=True, text=True, check=True).stdout)
    errors = report["errors"]["first"]
    assert not [e for e in errors if e["kind"] == "network"], errors
    refused = [e for e in errors if e["kind"] in ("offsite", "scope")]
    assert any("/p/refresh" in f"{e['url']} {e['message']}" for e in refused), errors
