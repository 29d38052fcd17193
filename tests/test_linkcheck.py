"""Dead-link report (normalizers/links.py, gateway/store/links.py, gateway/ops/linkcheck.py, gateway/api/links.py): link extraction, the store's
link tables (SQLite and PostgreSQL), the polite checker against a real loopback server, the
``blgw links`` commands and the API page. Nothing here leaves 127.0.0.1: name lookups of other
hosts fail (see ``_loopback_only``)."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import itertools
import json
import select
import socket
import struct
import threading
import time
import warnings
from http.server import BaseHTTPRequestHandler

import pytest
from sqlalchemy import select as sql_select
from sqlalchemy import update as sql_update

from fixture_sites.servers import free_port, threaded_http_server
from gateway.ops.linkcheck import agent_token, check_links, format_report, robots_reason, skip_without_request
from gateway.store.links import dead_link_report, record_links
from gateway.store.models import AttachmentFile, Document, LinkSource, LinkTarget, Site, UrlState
from normalizers.links import Link, extract_links, links_from_body
from normalizers.models import document_id
from normalizers.urls import canonicalize_url

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # starlette's TestClient warns about httpx
    from fastapi.testclient import TestClient

SITE = "http://rsj.bl.gov.cn"  # the rsj plugin's base URL: fetched from the loopback server
BASES = {"rsj": f"{SITE}/"}
PAGE = f"{SITE}/list.php?catid=1"


@pytest.fixture(autouse=True)
def _loopback_only(monkeypatch):
    """Name lookups of anything but loopback fail as an unknown host does: the tests can never
    reach the network, and DNS failures are deterministic."""
    real = socket.getaddrinfo

    def getaddrinfo(host, *args, **kwargs):
        name = host.decode() if isinstance(host, bytes) else str(host)
        if name not in ("127.0.0.1", "localhost", "::1"):
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


def urls(links: list[Link]) -> list[str]:
    return [link.url for link in links]


# --- extraction -----------------------------------------------------------------------------


def test_relative_links_resolve_against_the_page_and_are_kept_as_served():
    html = """<html><body>
      <a href="show.php?id=3&amp;utm_source=x">通知</a>
      <a href="../about/index.html">关于</a>
      <a href="/uploadfile/2024/附件1.doc">附件1：申报表.doc</a>
      <a href="//jyj.bl.gov.cn/col/col1/">教育局</a>
      <a href="HTTP://WWW.BL.GOV.CN:80/a/./b/../c.html">门户</a>
    </body></html>"""
    found = extract_links(html, "http://rsj.bl.gov.cn/news/list.php?catid=1")
    assert urls(found) == [
        "http://rsj.bl.gov.cn/news/show.php?id=3",
        "http://rsj.bl.gov.cn/about/index.html",  # as served: the directory may be a 404 there
        "http://rsj.bl.gov.cn/uploadfile/2024/%E9%99%84%E4%BB%B61.doc",
        "http://jyj.bl.gov.cn/col/col1/",
        "http://www.bl.gov.cn/a/c.html",
    ]
    assert [link.anchor for link in found] == ["通知", "关于", "附件1：申报表.doc", "教育局", "门户"]


def test_base_href_is_respected():
    html = """<html><head><base href="http://rsj.bl.gov.cn/zwgk/"></head>
      <body><a href="t1.html">一</a><a href="/t2.html">二</a><img src="img/p.png" alt="图片"></body></html>"""
    found = extract_links(html, "http://127.0.0.1:8080/elsewhere/page.html")
    assert urls(found) == ["http://rsj.bl.gov.cn/zwgk/t1.html", "http://rsj.bl.gov.cn/t2.html",
                           "http://rsj.bl.gov.cn/zwgk/img/p.png"]


def test_one_link_by_canonical_key_in_the_form_first_seen():
    html = """<body><a href="/?tzgg/23.html">通知</a><a href="/col/col1/index.html">栏目</a>
      <a href="/col/col1/">栏目（目录）</a><a href="show.php?b=2&amp;a=1">乙甲</a><a href="show.php?a=1&amp;b=2">甲乙</a></body>"""
    found = extract_links(html, PAGE)
    assert [(link.url, link.anchor) for link in found] == [
        (f"{SITE}/?tzgg/23.html", "通知"),  # a bare query key stays bare
        (f"{SITE}/col/col1/index.html", "栏目"),
        (f"{SITE}/show.php?b=2&a=1", "乙甲"),  # the query's order as written
    ]


def test_a_link_is_stored_as_served_under_its_canonical_key(store):
    with store.session() as session:
        record_links(session, "rsj", f"{SITE}/col/col2/index.html", [Link(f"{SITE}/col/col1/index.html", "栏目")])
        record_links(session, "rsj", PAGE, [f"{SITE}/col/col1/"])  # the same target, another form
    with store.session() as session:
        targets = session.execute(sql_select(LinkTarget.id, LinkTarget.url)).all()
        assert targets == [(document_id(f"{SITE}/col/col1/"), f"{SITE}/col/col1/index.html")]
        assert set(_sources(session, f"{SITE}/col/col2/")) == {f"{SITE}/col/col1/index.html"}
        sources = set(session.scalars(sql_select(LinkSource.source_url)))
    assert sources == {f"{SITE}/col/col2/index.html", PAGE}  # the pages as served too


def test_every_kind_of_link_is_found():
    html = """<html><head>
        <link rel="stylesheet" href="/css/main.css"><link rel="icon" href="/favicon.ico">
        <link rel="alternate stylesheet" href="/css/big.css"><script src="/js/app.js"></script>
      </head><body>
        <map name="m"><area href="/area.html" alt="区域地图"></map>
        <iframe src="/frame.html" title="内嵌"></iframe><frameset><frame src="/left.html"></frameset>
        <img src="/logo.gif" alt="  北仑  区 "><embed src="/flash.swf"><object data="/doc.pdf"></object>
        <video src="/v.mp4"></video><audio><source src="/a.mp3"></audio>
      </body></html>"""
    found = {link.url.removeprefix(SITE): (link.tag, link.anchor) for link in extract_links(html, PAGE)}
    assert found == {
        "/css/main.css": ("link", ""), "/css/big.css": ("link", ""), "/js/app.js": ("script", ""),
        "/area.html": ("area", "区域地图"), "/frame.html": ("iframe", "内嵌"), "/left.html": ("frame", ""),
        "/logo.gif": ("img", "北仑 区"), "/flash.swf": ("embed", ""), "/doc.pdf": ("object", ""),
        "/v.mp4": ("video", ""), "/a.mp3": ("source", ""),
    }  # not the icon


def test_other_schemes_fragments_and_self_links_are_skipped():
    html = """<body>
      <a href="javascript:void(0)">空</a><a href="JavaScript:history.back()">返回</a>
      <a href="mailto:rsj@bl.gov.cn">邮件</a><a href="tel:0574-86888888">电话</a>
      <a href="data:text/html,hi">数据</a><a href="#top">顶部</a><a href="#">井号</a><a href="">空链接</a>
      <a name="anchor">锚点</a><a href="ftp://files.bl.gov.cn/x">FTP</a><a href="http://[::1">坏地址</a>
      <a href="list.php?catid=1#second">本页</a>
      <a href="show.php?id=1#comments">评论</a><a href="show.php?id=1#top">再一次</a>
    </body>"""
    found = extract_links(html, PAGE)
    assert urls(found) == [f"{SITE}/show.php?id=1"]
    assert found[0].anchor == "评论"


def test_script_links_of_classic_asp_sites_are_followed():
    html = """<body>
      <a href="javascript:window.open('/html/2024/0105/123.html')">打开</a>
      <a href="#" onclick="location.href='show.asp?id=7'">点击</a>
      <a href="javascript:;" onclick="return false">无</a>
    </body>"""
    assert urls(extract_links(html, "http://dqjd.bl.gov.cn/list.asp")) == [
        "http://dqjd.bl.gov.cn/html/2024/0105/123.html", "http://dqjd.bl.gov.cn/show.asp?id=7"]


def test_duplicates_collapse_to_one_link_with_the_first_anchor_text():
    html = """<body>
      <a href="show.php?id=2"><img src="/icon.gif"></a>
      <a href="show.php?id=2">
          关于做好
          社保工作的通知
      </a>
      <a href="./show.php?id=2&amp;PHPSESSID=abc">另一个文字</a>
      <a href="/uploadfile/a.pdf">%s</a>
    </body>""" % ("长" * 300)
    found = extract_links(html, PAGE)
    assert urls(found) == [f"{SITE}/show.php?id=2", f"{SITE}/icon.gif", f"{SITE}/uploadfile/a.pdf"]
    assert found[0].anchor == "关于做好 社保工作的通知"
    assert found[2].anchor == "长" * 200


def test_gbk_page_bytes_are_decoded_and_queries_encoded_like_a_browser():
    html = ('<html><head><meta http-equiv="Content-Type" content="text/html; charset=gb2312"></head><body>'
            '<a href="show.php?id=9">北仑区人力社保局关于镕字的通知</a>'
            '<a href="search.php?kw=社保">搜索社保</a><a href="/专题/index.html">专题</a></body></html>')
    body = html.encode("gbk")
    found = links_from_body(body, "text/html", PAGE)
    assert [(link.url, link.anchor) for link in found] == [
        (f"{SITE}/show.php?id=9", "北仑区人力社保局关于镕字的通知"),
        (f"{SITE}/search.php?kw=%C9%E7%B1%A3", "搜索社保"),  # GBK bytes, as the browser sends them
        (f"{SITE}/%E4%B8%93%E9%A2%98/index.html", "专题"),  # paths are UTF-8
    ]
    # the decoded text gives the same links (the query in UTF-8 when the codec is not known)
    text_links = extract_links(body.decode("gbk"), PAGE)
    assert [link.anchor for link in text_links] == [link.anchor for link in found]
    # an XML declaration in decoded text does not stop the parser
    assert urls(extract_links('<?xml version="1.0" encoding="gbk"?>' + body.decode("gbk"), PAGE)) \
        == urls(text_links)


def test_links_to_the_fetch_origin_are_moved_to_the_public_one():
    body = (b'<a href="http://127.0.0.1:8080/show.php?id=1">one</a><a href="show.php?id=2">two</a>'
            b'<a href="http://127.0.0.1:9999/x">other port</a>')
    found = links_from_body(body, None, PAGE, fetch_origin="http://127.0.0.1:8080")
    assert urls(found) == [f"{SITE}/show.php?id=1", f"{SITE}/show.php?id=2", "http://127.0.0.1:9999/x"]


def test_bodies_without_links():
    assert links_from_body(b"%PDF-1.4 <a href='x'>", "application/pdf", PAGE) == []
    assert links_from_body(b"", "text/html", PAGE) == []
    assert extract_links("", PAGE) == [] and extract_links("  \n ", PAGE) == []
    assert urls(extract_links("<a href='a.html'>a\x00b</a>", PAGE)) == [f"{SITE}/a.html"]


# --- the store (SQLite and PostgreSQL) ------------------------------------------------------


@pytest.fixture(params=["sqlite", "postgresql"])
def any_store(request, tmp_path):
    """A migrated store on each backend in turn (PostgreSQL: conftest's throwaway server)."""
    from gateway.store.session import Store

    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'links.sqlite'}"
    else:
        url = request.getfixturevalue("postgres_database")  # skips loudly (or fails in CI) without PostgreSQL
    store = Store(url)
    store.migrate()
    yield store
    store.dispose()


def _sources(session, page_url: str) -> dict[str, str | None]:
    from sqlalchemy import select

    from gateway.store.models import LinkSource, LinkTarget

    rows = session.execute(select(LinkTarget.url, LinkSource.anchor)
                           .join(LinkSource, LinkSource.target_id == LinkTarget.id)
                           .where(LinkSource.source_id == document_id(page_url)))
    return dict(rows.all())


def test_record_links_replaces_the_pages_set(any_store):
    from sqlalchemy import func, select

    from gateway.store.models import LinkTarget

    page2 = f"{SITE}/show.php?id=1"
    with any_store.session() as session:
        result = record_links(session, "rsj", PAGE, [Link(f"{SITE}/a.html", "甲"), Link(f"{SITE}/b.html", "乙"),
                                                      Link(f"{SITE}/c.html", "")])
        record_links(session, "rsj", page2, [Link(f"{SITE}/a.html", "甲 另一页")])
    assert (result.links, result.removed) == (3, 0)
    with any_store.session() as session:
        result = record_links(session, "rsj", PAGE + "&utm_source=feed",  # same page, canonically
                              [Link(f"{SITE}/b.html", "乙 改了"), f"{SITE}/d.html#x", "mailto:x@y"])
    assert (result.links, result.removed) == (2, 2)
    with any_store.session() as session:
        assert _sources(session, PAGE) == {f"{SITE}/b.html": "乙 改了", f"{SITE}/d.html": None}
        assert _sources(session, page2) == {f"{SITE}/a.html": "甲 另一页"}  # other pages untouched
        # targets keep their rows (and check history); only what pages link to counts
        assert session.scalar(select(func.count()).select_from(LinkTarget)) == 4
        record_links(session, "rsj", PAGE, [f"{SITE}/e.html"], replace=False)  # adds, keeps the rest
    with any_store.session() as session:
        assert set(_sources(session, PAGE)) == {f"{SITE}/b.html", f"{SITE}/d.html", f"{SITE}/e.html"}
        record_links(session, "rsj", PAGE, [])
    with any_store.session() as session:
        assert _sources(session, PAGE) == {}
        report = dead_link_report(session, "rsj")
    assert (report["total"], report["checked"], report["broken"]) == (1, 0, [])


def test_record_links_is_a_few_statements_for_a_hundred_links(any_store):
    from sqlalchemy import event

    statements = []
    links = [Link(f"{SITE}/show.php?id={i}", f"第{i}条 \x00") for i in range(120)]
    with any_store.session() as session:
        record_links(session, "rsj", PAGE, links)
    def count(_conn, _cursor, statement, *_args):
        statements.append(statement)

    with any_store.session() as session:
        event.listen(any_store.engine, "before_cursor_execute", count)
        try:
            record_links(session, "rsj", PAGE, [*links[10:], Link(f"{SITE}/new.html", "新")])
        finally:
            event.remove(any_store.engine, "before_cursor_execute", count)
    statements = [s for s in statements if not s.lstrip().upper().startswith(("BEGIN", "SAVEPOINT", "RELEASE"))]
    assert len(statements) <= 5, statements
    with any_store.session() as session:
        found = _sources(session, PAGE)
    assert len(found) == 111 and found[f"{SITE}/show.php?id=10"] == "第10条"


def _set_result(session, url: str, **values) -> None:
    from sqlalchemy import update

    from gateway.store.models import LinkTarget

    values.setdefault("checked_at", dt.datetime(2026, 1, 5, 6, 29, tzinfo=dt.UTC))
    session.execute(update(LinkTarget).where(LinkTarget.id == document_id(url)).values(**values))


def test_report_lists_broken_links_with_their_pages_most_pages_first(any_store):
    pages = [f"{SITE}/show.php?id={i}" for i in range(3)]
    with any_store.session() as session:
        record_links(session, "rsj", pages[0], [Link(f"{SITE}/gone.html", "旧通知"), Link(f"{SITE}/ok.html", "好"),
                                                Link("http://www.example.org/x", "外链")])
        record_links(session, "rsj", pages[1], [Link(f"{SITE}/gone.html", "已过期的通知")])
        record_links(session, "rsj", pages[2], [Link(f"{SITE}/gone.html", ""), Link(f"{SITE}/never.html", "")])
        record_links(session, "jyj", "http://jyj.bl.gov.cn/a.html", [Link("http://www.example.org/x", "教育局外链")])
        _set_result(session, f"{SITE}/gone.html", status=404, ok=False, method="HEAD", failures=2)
        _set_result(session, f"{SITE}/ok.html", status=200, ok=True, method="HEAD")
        _set_result(session, "http://www.example.org/x", status=None, ok=False, error="timeout",
                    checked_at=dt.datetime(2026, 1, 6, tzinfo=dt.UTC), failures=1)
    with any_store.session() as session:
        report = dead_link_report(session, "rsj")
    assert {k: report[k] for k in ("site", "total", "checked", "unchecked", "ok", "broken_count")} == \
        {"site": "rsj", "total": 4, "checked": 3, "unchecked": 1, "ok": 1, "broken_count": 2}
    assert report["last_checked_at"] == "2026-01-06T00:00:00+00:00"
    gone, external = report["broken"]
    assert gone == {"url": f"{SITE}/gone.html", "status": 404, "error": None, "final_url": None, "method": "HEAD",
                    "checked_at": "2026-01-05T06:29:00+00:00", "failures": 2,
                    "pages": [{"url": pages[0], "anchor": "旧通知"}, {"url": pages[1], "anchor": "已过期的通知"},
                              {"url": pages[2], "anchor": ""}]}
    assert external["error"] == "timeout" and external["pages"] == [{"url": pages[0], "anchor": "外链"}]
    json.dumps(report)  # JSON-ready
    text = format_report(report)
    assert "2 broken of 4 links" in text and "HTTP 404" in text and "「旧通知」" in text and "timeout" in text
    with any_store.session() as session:  # the other site sees only its own pages
        jyj = dead_link_report(session, "jyj")
    assert jyj["broken"][0]["pages"] == [{"url": "http://jyj.bl.gov.cn/a.html", "anchor": "教育局外链"}]


# --- the checker against a loopback server -------------------------------------------------


class ServerLog:
    """What a test server saw: requests (time, method, path, User-Agent) and the most
    requests it was answering at once."""

    def __init__(self):
        self.lock = threading.Lock()
        self.in_flight = 0
        self.max_in_flight = 0
        self.requests: list[tuple[float, str, str, str]] = []

    def enter(self, method: str, path: str, agent: str) -> None:
        with self.lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            self.requests.append((time.monotonic(), method, path, agent))

    def leave(self) -> None:
        with self.lock:
            self.in_flight -= 1

    def paths(self, method: str | None = None) -> list[str]:
        return [p for _, m, p, _ in self.requests if method is None or m == method]


def make_handler(log: ServerLog, slow_seconds: float = 5.0) -> type:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):  # quiet
            pass

        def do_HEAD(self):
            self.serve(head=True)

        def do_GET(self):
            self.serve(head=False)

        def send(self, status: int, body: bytes = b"", head: bool = False, **headers: str) -> None:
            self.leave()  # before the answer: the client cannot send its next request earlier
            self.send_response(status)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            for name, value in headers.items():
                self.send_header(name.replace("_", "-"), value)
            self.end_headers()
            if not head:
                with contextlib.suppress(OSError):  # the checker stops reading after a few KB
                    self.wfile.write(body)

        def leave(self) -> None:
            if not self.left:
                self.left = True
                log.leave()

        def wait_for_client_to_leave(self, seconds: float) -> None:
            deadline = time.monotonic() + seconds
            while time.monotonic() < deadline:
                ready, _, _ = select.select([self.connection], [], [], 0.002)
                if ready and not self.connection.recv(1, socket.MSG_PEEK):
                    return  # the client gave up and closed the connection

        def serve(self, head: bool) -> None:
            path = self.path
            self.left = False
            log.enter(self.command, path, self.headers.get("User-Agent", ""))
            try:
                time.sleep(0.06)  # longer than the test delays: requests overlap when they may
                if path.startswith("/ok"):
                    self.send(200, b"<p>ok</p>", head)
                elif path == "/missing":
                    self.send(404, b"not found", head)
                elif path == "/gone":
                    self.send(410, b"gone", head)
                elif path == "/error":
                    self.send(500, b"error", head)
                elif path == "/head405":
                    if head:
                        self.send(405, b"", head, Allow="GET")
                    else:
                        self.send(200, b"x" * 200_000, head)
                elif path == "/moved":
                    self.send(301, b"", head, Location="/missing")
                elif path == "/moved-public":
                    self.send(302, b"", head, Location=f"{SITE}/ok-after-redirect")
                elif path == "/loop-a":
                    self.send(302, b"", head, Location="/loop-b")
                elif path == "/loop-b":
                    self.send(302, b"", head, Location="/loop-a")
                elif path == "/cookie":
                    if "visited=1" in (self.headers.get("Cookie") or ""):
                        self.send(200, b"welcome", head)
                    else:
                        self.send(302, b"", head, Location="/cookie", Set_Cookie="visited=1; Path=/")
                elif path == "/slow":
                    self.wait_for_client_to_leave(slow_seconds)
                elif path == "/reset":
                    self.leave()
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    self.close_connection = True
                    self.connection.close()
                else:
                    self.send(404, b"no route", head)
            finally:
                self.leave()

    return Handler


@pytest.fixture
def servers():
    """Two loopback servers: the rsj subsite's origin and an 'external' host."""
    site_log, other_log = ServerLog(), ServerLog()
    with threaded_http_server(make_handler(site_log), label="linkcheck-site") as site, \
            threaded_http_server(make_handler(other_log), label="linkcheck-other") as other:
        yield site, site_log, other, other_log


def record_fixture_links(store, other: str, closed_port: int) -> dict[str, list[tuple[str, str]]]:
    """The pages of rsj and their links; returns {broken public URL: [(page, anchor)]} expected."""
    list_page, show1, show2 = PAGE, f"{SITE}/show.php?id=1", f"{SITE}/show.php?id=2"
    other_tls = other.replace("http://", "https://")
    pages = {
        list_page: [("/ok1", "正常页面"), ("/missing", "失效页面"), ("/moved", "已搬迁"), ("/head405", "只许GET"),
                    ("/loop-a", "循环跳转"), ("/slow", "慢页面")],
        show1: [("/missing", "另一处失效链接"), ("/gone", "已删除"), ("/error", "服务器错误"), ("/reset", "重置连接"),
                ("/ok2", "正常2"), ("/cookie", "要Cookie"), ("/moved-public", "跳到公开地址")],
        show2: [("/missing", "第三处"), (f"{other}/ok-external", "外部正常"),
                (f"http://127.0.0.1:{closed_port}/x", "拒绝连接"), ("http://nowhere.invalid/", "查无此域"),
                (f"{other_tls}/ok-tls", "证书错误"), (f"http://127.0.0.1:{closed_port + 1}/internal", "内网地址")],
    }
    with store.session() as session:
        for page, links in pages.items():
            record_links(session, "rsj", page, [Link(SITE + u if u.startswith("/") else u, a) for u, a in links])
    expected: dict[str, list[tuple[str, str]]] = {}
    for page, links in pages.items():
        for u, anchor in links:
            url = SITE + u if u.startswith("/") else u
            url = Link(url).url if not url.endswith("/") else url
            expected.setdefault(url, []).append((page, anchor))
    broken = {"/missing", "/moved", "/loop-a", "/slow", "/gone", "/error", "/reset",
              f"http://127.0.0.1:{closed_port}/x", "http://nowhere.invalid/", f"{other_tls}/ok-tls",
              f"http://127.0.0.1:{closed_port + 1}/internal"}
    return {url: found for url, found in expected.items()
            if url.removeprefix(SITE) in broken or url in broken}


def run(coro):
    return asyncio.run(coro)


def test_checker_finds_exactly_the_broken_links_politely(store, servers):
    from sqlalchemy import select

    from gateway.store.models import LinkTarget

    site, site_log, other, other_log = servers
    closed_port = free_port()
    expected = record_fixture_links(store, other, closed_port)
    seen_progress = []
    # a small delay: a new request to a host starts 0.05 s after the previous one ended, so the
    # server has noticed that the client gave up on the slow page before the next one arrives
    # the 'external' server and the closed port stand for hosts out on the internet: configured
    # here as sites' origins, since a loopback address that is no site's origin is never checked
    origins = {"rsj": site, "ext": other, "down": f"http://127.0.0.1:{closed_port}"}
    bases = {**BASES, "ext": "http://ext.bl.gov.cn/", "down": "http://down.bl.gov.cn/"}
    summary = run(check_links(store, ["rsj"], origins=origins, base_urls=bases, delay=0.05, timeout=1.0,
                              user_agent="blgw-test/1", progress=seen_progress.append))
    assert summary.due == summary.checked == 17 == len(seen_progress)
    assert (summary.ok, summary.broken) == (6, 11), summary.format()

    with store.session() as session:
        report = dead_link_report(session, "rsj")
        targets = {t.url: t for t in session.scalars(select(LinkTarget))}
    assert {b["url"] for b in report["broken"]} == set(expected)
    for entry in report["broken"]:
        assert [(p["url"], p["anchor"]) for p in entry["pages"]] == sorted(expected[entry["url"]])
    assert report["broken"][0]["url"] == f"{SITE}/missing" and len(report["broken"][0]["pages"]) == 3
    assert (report["total"], report["checked"], report["ok"]) == (17, 17, 6)

    def result(url):
        t = targets[url if url.startswith("http") else SITE + url]
        return t.status, t.ok, t.error, t.method

    assert result("/ok1") == (200, True, None, "HEAD")
    assert result("/head405") == (200, True, None, "GET")  # HEAD refused, GET answered
    assert result("/missing") == (404, False, None, "HEAD")
    assert result("/gone")[:2] == (410, False) and result("/error")[:2] == (500, False)
    assert result("/moved")[:2] == (404, False) and targets[f"{SITE}/moved"].final_url == f"{SITE}/missing"
    assert result("/moved-public") == (200, True, None, "HEAD")  # followed on the origin, recorded publicly
    assert targets[f"{SITE}/moved-public"].final_url == f"{SITE}/ok-after-redirect"
    assert result("/cookie") == (200, True, None, "HEAD")  # one self-redirect to set a cookie is fine
    assert result("/loop-a") == (None, False, "redirect loop", "HEAD")
    assert result("/slow") == (None, False, "timeout", "HEAD")
    status, ok, error, method = result("/reset")
    assert (status, ok, method) == (None, False, "GET") and error in ("connection reset", "server disconnected")
    assert result(f"http://127.0.0.1:{closed_port}/x")[1:3] == (False, "connection refused")
    assert result("http://nowhere.invalid/")[1:3] == (False, "DNS lookup failed")
    assert result(other.replace("http://", "https://") + "/ok-tls")[1:3] == (False, "TLS error")
    assert result(f"{other}/ok-external") == (200, True, None, "HEAD")
    # another loopback port, no site's origin: never connected to
    assert result(f"http://127.0.0.1:{closed_port + 1}/internal") == (None, False, "refused (private address)", "HEAD")
    assert all(t.checked_at is not None and t.failures == (0 if t.ok else 1) for t in targets.values())

    # politeness: never more than 2 requests at once on a host, and both slots were used
    assert site_log.max_in_flight == 2
    assert other_log.max_in_flight <= 2
    assert {agent for *_, agent in site_log.requests} == {"blgw-test/1"}
    assert site_log.paths("GET").count("/head405") == 1 and "/ok1" not in site_log.paths("GET")
    assert site_log.paths().count("/loop-a") <= 2  # the loop is seen, not walked ten times

    # nothing is due again the same day; --recheck checks all again and counts failures in a row
    again = run(check_links(store, ["rsj"], origins={"rsj": site}, base_urls=BASES, delay=0.0, timeout=1.0))
    assert again.due == 0
    recheck = run(check_links(store, ["rsj"], origins={"rsj": site}, base_urls=BASES, delay=0.0, timeout=1.0, recheck_after=dt.timedelta(0), limit=3))
    assert recheck.checked == 3
    with store.session() as session:
        report = dead_link_report(session, "rsj")
    assert max(b["failures"] for b in report["broken"]) == 2


def test_delay_spaces_requests_to_one_host(store, servers):
    site, site_log, _other, _ = servers
    with store.session() as session:
        record_links(session, "rsj", PAGE, [f"{SITE}/ok{i}" for i in range(6)])
    started = time.monotonic()
    summary = run(check_links(store, ["rsj"], origins={"rsj": site}, base_urls=BASES, delay=0.3, timeout=2))
    assert summary.ok == 6
    assert time.monotonic() - started >= 5 * 0.3
    starts = sorted(t for t, *_ in site_log.requests)
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    # 0.3 s apart as sent; as seen by the server, arrival jitter (thread start-up on a busy
    # machine) may move one start a little, but never makes a burst or shortens the whole run
    assert starts[-1] - starts[0] >= 5 * 0.3 - 0.15, gaps
    assert min(gaps) >= 0.15, gaps
    assert site_log.max_in_flight <= 2


def test_checker_on_every_backend(any_store, servers):
    site, *_ = servers
    with any_store.session() as session:
        record_links(session, "rsj", PAGE, [Link(f"{SITE}/ok", "好"), Link(f"{SITE}/missing", "坏")])
    summary = run(check_links(any_store, ["rsj"], origins={"rsj": site}, base_urls=BASES, delay=0, timeout=2, only_unchecked=True))
    assert (summary.ok, summary.broken) == (1, 1)
    with any_store.session() as session:
        report = dead_link_report(session, "rsj")
    assert [(b["url"], b["status"], b["pages"][0]["anchor"]) for b in report["broken"]] == \
        [(f"{SITE}/missing", 404, "坏")]
    assert report["last_checked_at"] is not None


# --- the command line -----------------------------------------------------------------------


@pytest.fixture
def cli_env(tmp_path, monkeypatch, store):
    from gateway.settings import get_settings

    monkeypatch.setenv("BLGW_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("BLGW_DATABASE_URL", store.url)
    monkeypatch.setenv("BLGW_INDEX_URL", f"sqlite:///{tmp_path / 'index.sqlite'}")
    monkeypatch.delenv("BLGW_ORIGINS", raising=False)
    get_settings.cache_clear()
    yield store
    get_settings.cache_clear()


def test_cli_check_and_report(cli_env, servers):
    from click.testing import CliRunner

    from gateway.cli import main

    store = cli_env
    site, site_log, *_ = servers
    page = ('<html><head><meta charset="gbk"><title>列表</title></head><body>'
            '<a href="/ok-a">正常</a><a href="/missing">失效的通知</a><a href="/head405">附件下载</a></body></html>')
    with store.session() as session:
        for i in range(3):
            url = f"{SITE}/show.php?id={i}"
            record_links(session, "rsj", url, links_from_body(page.encode("gbk"), "text/html", url))
    runner = CliRunner()
    checked = runner.invoke(main, ["links", "check", "rsj", "--origin", f"rsj={site}", "--delay", "0",
                                   "--timeout", "2"])
    assert checked.exit_code == 0, checked.output
    assert "checked 3 of 3 due links of rsj" in checked.output and "2 ok, 1 broken" in checked.output
    assert "broken: HTTP 404" in checked.output
    assert site_log.max_in_flight <= 2

    report = runner.invoke(main, ["links", "report", "rsj", "--json"])
    assert report.exit_code == 0, report.output
    body = json.loads(report.output)
    assert (body["site"], body["total"], body["checked"], body["broken_count"]) == ("rsj", 3, 3, 1)
    assert body["broken"][0]["url"] == f"{SITE}/missing"
    assert [p["anchor"] for p in body["broken"][0]["pages"]] == ["失效的通知"] * 3

    text = runner.invoke(main, ["links", "report", "rsj"])
    assert text.exit_code == 0 and "HTTP 404" in text.output and "「失效的通知」" in text.output
    assert runner.invoke(main, ["links", "report", "rsj", "--fail-on-broken"]).exit_code == 1
    assert runner.invoke(main, ["links", "check", "nosuchsite"]).exit_code == 2
    assert runner.invoke(main, ["links", "check"]).exit_code == 2
    assert runner.invoke(main, ["links", "report", "nosuchsite"]).exit_code == 2
    nothing_due = runner.invoke(main, ["links", "check", "rsj", "--origin", f"rsj={site}", "--json"])
    assert json.loads(nothing_due.output)["due"] == 0


# --- the API --------------------------------------------------------------------------------


XSS = '<script>alert("x")</script>'


@pytest.fixture
def api(tmp_path, store):
    from gateway.api import create_app
    from gateway.settings import GatewaySettings
    from gateway.store.models import LinkSource, LinkTarget

    with store.session() as session:
        record_links(session, "rsj", PAGE, [Link(f"{SITE}/gone.html", f"旧通知{XSS}")])
        _set_result(session, f"{SITE}/gone.html", status=404, ok=False, method="HEAD")
        # a URL that did not come through canonicalization, to prove the page escapes it
        raw = f'{SITE}/"><script>alert(1)</script>'
        session.add(LinkTarget(id="x" * 32, url=raw, status=None, ok=False, error="timeout", failures=3,
                               checked_at=dt.datetime(2026, 1, 5, tzinfo=dt.UTC)))
        session.flush()
        session.add(LinkSource(target_id="x" * 32, source_id=document_id(PAGE), site_code="rsj",
                               source_url=f"javascript:alert('{XSS}')", anchor=XSS))
    settings = GatewaySettings(data_dir=tmp_path, database_url=store.url,
                               index_url=f"sqlite:///{tmp_path / 'index.sqlite'}", plugin_dirs=[], load_plugins=[])
    with TestClient(create_app(settings)) as client:
        yield client


def test_api_report_json(api):
    response = api.get("/api/links/rsj")
    assert response.status_code == 200
    body = response.json()
    assert (body["site"], body["site_name"], body["total"], body["broken_count"]) == \
        ("rsj", "北仑区人力资源和社会保障局", 2, 2)
    assert {b["url"] for b in body["broken"]} == {f"{SITE}/gone.html", f'{SITE}/"><script>alert(1)</script>'}
    assert api.get("/api/links/nosuch").status_code == 404
    assert api.get("/api/links/jyj").json()["broken"] == []  # a known site without links
    assert api.get("/api/links/BAD%20CODE").status_code == 422


def test_api_report_page_escapes_everything(api):
    response = api.get("/links/rsj")
    assert response.status_code == 200
    page = response.text
    assert "死链报告" in page and "北仑区人力资源和社会保障局" in page and "HTTP 404" in page
    assert "超时" in page and "连续 3 次失败" in page
    assert "<script>" not in page and "alert(1)</script>" not in page
    assert "&lt;script&gt;" in page
    assert 'href="javascript:' not in page  # a non-http URL is shown, not linked
    assert f'<a href="{SITE}/gone.html">' in page
    assert api.get("/links/nosuch").status_code == 404


def test_list_pages_links_remembered_are_written_with_the_next_transaction(any_store):
    """The crawl remembers a list page's links (``CrawlState.remember_links``) and writes them in
    the transaction that marks the page done: in order, a GET's set replacing the page's, the
    pages of a postback list (one URL, POST) adding to it."""
    from gateway.settings import get_settings
    from spiders.crawlstate import CrawlState

    state = CrawlState(any_store, "rsj", get_settings())
    postback = f"{SITE}/list.aspx"
    state.remember_links(PAGE, [Link(f"{SITE}/a.html", "甲"), Link(f"{SITE}/b.html", "乙")])
    state.remember_links(postback, [Link(f"{SITE}/p1.html", "第一页的")], replace=False)
    state.remember_links(postback, [Link(f"{SITE}/p2.html", "第二页的")], replace=False)
    state.remember_links(PAGE, [Link(f"{SITE}/b.html", "乙"), Link(f"{SITE}/c.html", "丙")])  # read again
    with any_store.session() as session:
        assert _sources(session, PAGE) == {}  # nothing written yet
    with any_store.session() as session:
        state.flush(session)
    with any_store.session() as session:
        assert _sources(session, PAGE) == {f"{SITE}/b.html": "乙", f"{SITE}/c.html": "丙"}
        assert set(_sources(session, postback)) == {f"{SITE}/p1.html", f"{SITE}/p2.html"}
    state.remember_links(postback, [Link(f"{SITE}/p3.html", "第三页的")], replace=False)
    with any_store.session() as session:
        state.flush(session)
    with any_store.session() as session:
        assert set(_sources(session, postback)) == {f"{SITE}/p1.html", f"{SITE}/p2.html", f"{SITE}/p3.html"}


# --- politeness: robots.txt, counters, scripts, what the crawl fetched (issue 18) ---------------


def test_links_keep_their_most_navigational_element(store):
    html = """<html><head><script src="/shared.js"></script><link rel="stylesheet" href="/p.gif">
      <script src="/app.js"></script></head><body><img src="/p.gif" alt="图"><a href="/shared.js">脚本下载</a>
      <iframe src="/frame.html"></iframe><a href="/frame.html">框架页</a></body></html>"""
    found = {link.url.removeprefix(SITE): link.tag for link in extract_links(html, PAGE)}
    assert found == {"/shared.js": "a", "/p.gif": "img", "/app.js": "script", "/frame.html": "a"}
    with store.session() as session:
        record_links(session, "rsj", PAGE, [*extract_links(html, PAGE), f"{SITE}/plain.html"])
    with store.session() as session:
        stored = dict(session.execute(sql_select(LinkSource.target_id, LinkSource.tag)).all())
    assert stored == {document_id(f"{SITE}/shared.js"): "a", document_id(f"{SITE}/p.gif"): "img",
                      document_id(f"{SITE}/app.js"): "script", document_id(f"{SITE}/frame.html"): "a",
                      document_id(f"{SITE}/plain.html"): None}  # a bare URL: element unknown


@pytest.mark.parametrize(("url", "tags", "kind"), [
    (f"{SITE}/api.php?op=count&id=87&modelid=1", {"script"}, "counter"),  # PHPCMS 点击 counter
    (f"{SITE}/api.php?op=count&id=87&modelid=1", {"a"}, "counter"),  # whatever element links it
    (f"{SITE}/e/public/ViewClick/?classid=2&id=31&addclick=1", {"script"}, "counter"),  # EmpireCMS
    (f"{SITE}/plus/count.php?view=yes&aid=73&mid=1", {"script"}, "counter"),  # DedeCMS
    (f"{SITE}/count.asp?id=5", {"img"}, "counter"),
    (f"{SITE}/inc/hits.php?id=5", {"a"}, "counter"),
    (f"{SITE}/news/addclick.aspx?id=5", {"a"}, "counter"),
    (f"{SITE}/show.php?action=hits&id=5", {"a"}, "counter"),
    ("https://hm.baidu.com/hm.js?0123abcd", {"script"}, "counter"),
    (f"{SITE}/tongji/pv.gif?page=1", {"img"}, "counter"),  # a beacon image
    (f"{SITE}/js/jquery.min.js", {"script"}, "script"),
    (f"{SITE}/js/jquery.min.js", {"script", "a"}, None),  # also a link users follow
    (f"{SITE}/tongji/2024/report.html", {"a"}, None),  # the statistics bureau's column is a page
    (f"{SITE}/account.php", {"a"}, None),
    (f"{SITE}/static/logo.png", {"img"}, None),
    (f"{SITE}/statistics.html", {None}, None),  # element unknown: a link
])
def test_counters_beacons_and_scripts_are_never_requested(url, tags, kind):
    skip = skip_without_request(url, tags)
    assert (skip[0] if skip else None) == kind, skip


def test_the_robots_line_and_agent_are_named():
    text = "User-agent: *\nDisallow: /admin/\n\nUser-agent: Blgw\nDisallow: /api.php\nDisallow: /api\n"
    assert agent_token("blgw/0.1 (+https://www.bl.gov.cn; Beilun site-group gateway)") == "blgw"
    assert robots_reason(text, "blgw", "http://x/api.php?op=count") == \
        "robots.txt: Disallow: /api.php (User-agent: Blgw)"
    assert robots_reason(text, "otherbot", "http://x/admin/a") == "robots.txt: Disallow: /admin/ (User-agent: *)"


class PoliteSite:
    """A loopback subsite whose robots.txt is set by the test; a PHP-style hit counter
    (``/api.php?op=count``) that counts every request, HEAD included, as PHP does."""

    def __init__(self, robots: tuple[int, str] | None):
        self.robots = robots
        self.log = ServerLog()
        self.hits = 0

    def handler(self) -> type:
        site = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def do_HEAD(self):
                self.serve(head=True)

            def do_GET(self):
                self.serve(head=False)

            def serve(self, head: bool) -> None:
                site.log.enter(self.command, self.path, self.headers.get("User-Agent", ""))
                try:
                    if self.path == "/robots.txt" and site.robots is not None:
                        status, body = site.robots[0], site.robots[1].encode()
                    elif self.path.startswith("/api.php") and "op=count" in self.path:
                        with site.log.lock:
                            site.hits += 1
                        status, body = 200, b"$('#hits').html('88');"
                    elif self.path.startswith("/redirect?to="):
                        self.send_response(302)
                        self.send_header("Location", self.path.split("=", 1)[1])
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                        return
                    elif self.path.startswith("/missing") or self.path == "/robots.txt":
                        status, body = 404, b"not found"
                    else:
                        status, body = 200, b"<p>ok</p>"
                    self.send_response(status)
                    self.send_header("Content-Type", "text/plain" if "robots" in self.path else "text/html")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    if not head:
                        self.wfile.write(body)
                finally:
                    site.log.leave()

        return Handler


@contextlib.contextmanager
def polite_site(robots: tuple[int, str] | None):
    site = PoliteSite(robots)
    with threaded_http_server(site.handler(), label="linkcheck-polite") as url:
        yield url, site


def _targets(store) -> dict[str, object]:
    with store.session() as session:
        return {t.url.removeprefix(SITE): t for t in session.scalars(sql_select(LinkTarget))}


ROBOTS = "User-agent: *\nDisallow: /admin/\n\nUser-agent: blgw\nDisallow: /private/\nDisallow: /api.php\n"


def test_robots_txt_disallowed_paths_are_never_requested(store):
    with polite_site((200, ROBOTS)) as (origin, site), store.session() as session:
        record_links(session, "rsj", PAGE, [Link(f"{SITE}/ok1", "正常"), Link(f"{SITE}/private/a.html", "内部"),
                                            Link(f"{SITE}/private/b.html", "内部2"), Link(f"{SITE}/admin/x", "后台"),
                                            Link(f"{SITE}/missing", "失效")])
        session.commit()
        summary = run(check_links(store, ["rsj"], origins={"rsj": origin}, base_urls=BASES, delay=0, timeout=2,
                                  user_agent="blgw/0.1 (+https://www.bl.gov.cn)"))
        paths = site.log.paths()
    assert sorted(paths) == ["/admin/x", "/missing", "/ok1", "/robots.txt"]  # the blgw group has no /admin/ rule
    assert paths.count("/robots.txt") == 1 and paths[0] == "/robots.txt"
    assert summary.robots_requests == 1
    assert (summary.checked, summary.ok, summary.broken, dict(summary.skipped)) == (3, 2, 1, {"robots": 2})
    targets = _targets(store)
    private = targets["/private/a.html"]
    assert (private.skip_kind, private.skip_reason, private.status, private.ok, private.checked_at) == \
        ("robots", "robots.txt: Disallow: /private/ (User-agent: blgw)", None, None, None)
    assert private.skipped_at is not None
    with store.session() as session:
        report = dead_link_report(session, "rsj")
    assert [b["url"] for b in report["broken"]] == [f"{SITE}/missing"]  # skipped links are not broken
    assert report["skipped_count"] == 2 and report["skipped_by_kind"] == {"robots": 2}
    assert (report["total"], report["checked"], report["unchecked"]) == (5, 3, 0)
    assert report["skipped"][0]["pages"] == [{"url": PAGE, "anchor": "内部"}]
    text = format_report(report)
    assert "not checked (robots: robots.txt: Disallow: /private/ (User-agent: blgw))" in text
    assert "1 broken of 5 links" in text


def test_a_404_robots_txt_allows_everything(store):
    with polite_site((404, "")) as (origin, site), store.session() as session:
        record_links(session, "rsj", PAGE, [f"{SITE}/ok1", f"{SITE}/private/a.html", f"{SITE}/missing"])
        session.commit()
        summary = run(check_links(store, ["rsj"], origins={"rsj": origin}, base_urls=BASES, delay=0, timeout=2))
        paths = site.log.paths()
    assert sorted(paths) == ["/missing", "/ok1", "/private/a.html", "/robots.txt"]
    assert (summary.checked, summary.ok, summary.broken, sum(summary.skipped.values())) == (3, 2, 1, 0)


def test_a_failing_robots_txt_keeps_the_checker_off_the_host(store):
    with polite_site((500, "oops")) as (origin, site), store.session() as session:
        record_links(session, "rsj", PAGE, [f"{SITE}/ok1", f"{SITE}/ok2", f"{SITE}/missing"])
        session.commit()
        summary = run(check_links(store, ["rsj"], origins={"rsj": origin}, base_urls=BASES, delay=0, timeout=2))
        paths = site.log.paths()
    assert paths == ["/robots.txt"]  # one request, and nothing else on that host
    assert (summary.checked, summary.broken, dict(summary.skipped)) == (0, 0, {"robots-unavailable": 3})
    assert {t.skip_reason for t in _targets(store).values()} == {"robots.txt answered HTTP 500"}
    with store.session() as session:
        report = dead_link_report(session, "rsj")
    assert report["broken"] == [] and report["skipped_by_kind"] == {"robots-unavailable": 3}
    assert "not checked (robots-unavailable: robots.txt answered HTTP 500)" in format_report(report)
    # the next run asks again (the decision is per run) once the links are due again
    with polite_site((404, "")) as (origin, site):
        again = run(check_links(store, ["rsj"], origins={"rsj": origin}, base_urls=BASES, delay=0, timeout=2,
                                recheck_after=dt.timedelta(0)))
    assert (again.checked, again.broken) == (3, 1)
    assert all(t.skip_kind is None and t.checked_at is not None for t in _targets(store).values())


def test_crawl_delay_is_honoured(store):
    with polite_site((200, "User-agent: *\nCrawl-delay: 0.4\n")) as (origin, site), store.session() as session:
        record_links(session, "rsj", PAGE, [f"{SITE}/ok{i}" for i in range(4)])
        session.commit()
        summary = run(check_links(store, ["rsj"], origins={"rsj": origin}, base_urls=BASES, delay=0.0, timeout=2))
        requests = list(site.log.requests)
    assert summary.ok == 4
    starts = [t for t, _m, path, _a in requests if path != "/robots.txt"]
    gaps = [b - a for a, b in itertools.pairwise(sorted(starts))]
    # 0.4 s apart as sent (configured delay 0); as seen by the server, arrival jitter may move a start a little
    assert len(starts) == 4 and min(gaps) >= 0.3 and max(starts) - min(starts) >= 3 * 0.4 - 0.1, gaps


def test_a_script_only_counter_is_never_requested(store):
    """The PHPCMS case: every article loads ``api.php?op=count`` as a script; checking it would
    add a view to the article (PHP counts HEAD requests too)."""
    pages = {f"{SITE}/index.php?m=content&c=index&a=show&catid=9&id={i}": (
        f'<html><body><p>正文</p><script src="/api.php?op=count&id={i}&modelid=1"></script>'
        '<script src="/statics/js/jquery.min.js"></script><img src="/e/public/ViewClick/?classid=2&id=3">'
        '<a href="/ok-list.html">返回列表</a></body></html>') for i in range(3)}
    with polite_site(None) as (origin, site), store.session() as session:
        for url, html in pages.items():
            record_links(session, "rsj", url, extract_links(html, url))
        session.commit()
        summary = run(check_links(store, ["rsj"], origins={"rsj": origin}, base_urls=BASES, delay=0, timeout=2))
        paths = site.log.paths()
        hits = site.hits
    assert hits == 0
    assert sorted(paths) == ["/ok-list.html", "/robots.txt"]
    assert dict(summary.skipped) == {"counter": 4, "script": 1} and summary.ok == 1
    targets = _targets(store)
    assert targets["/api.php?op=count&id=0&modelid=1"].skip_reason == "PHPCMS hit counter (api.php?op=count)"
    assert targets["/statics/js/jquery.min.js"].skip_kind == "script"


def test_what_the_crawl_fetched_is_not_requested_again(store):
    now = dt.datetime.now(dt.UTC)
    fresh, old, attachment = f"{SITE}/show.php?id=1", f"{SITE}/show.php?id=2", f"{SITE}/uploadfile/附件.pdf"
    with polite_site(None) as (origin, site), store.session() as session:
        record_links(session, "rsj", PAGE, [fresh, old, attachment, f"{SITE}/ok-never-fetched"])
        session.add(UrlState(id=document_id(fresh), site_code="rsj", url=fresh, kind="detail", last_status=200,
                             last_fetched_at=now - dt.timedelta(hours=2), fetches=1, changes=0, not_modified=0))
        session.add(UrlState(id=document_id(old), site_code="rsj", url=old, kind="detail", last_status=200,
                             last_fetched_at=now - dt.timedelta(days=3), fetches=1, changes=0, not_modified=0))
        # stored under the URL as linked (not canonical): matched by its canonical key
        session.add(AttachmentFile(id=document_id(attachment), site_code="rsj", url=attachment, status="stored",
                                   fetched_at=now - dt.timedelta(hours=1), checked_at=now - dt.timedelta(hours=1)))
        session.commit()
        summary = run(check_links(store, ["rsj"], origins={"rsj": origin}, base_urls=BASES, delay=0, timeout=2))
        paths = site.log.paths()
    assert sorted(paths) == ["/ok-never-fetched", "/robots.txt", "/show.php?id=2"]
    assert (summary.reused, summary.checked, summary.ok) == (2, 2, 4)
    reused = _targets(store)["/show.php?id=1"]
    assert (reused.ok, reused.status, reused.method) == (True, 200, "crawl")
    assert _targets(store)["/uploadfile/%E9%99%84%E4%BB%B6.pdf"].method == "crawl"


def test_a_recrawled_pages_dropped_link_leaves_the_report(store):
    with polite_site(None) as (origin, _site), store.session() as session:
        record_links(session, "rsj", PAGE, [Link(f"{SITE}/missing-old", "旧链接"), Link(f"{SITE}/ok1", "好")])
        record_links(session, "rsj", f"{SITE}/show.php?id=1", [Link(f"{SITE}/missing-kept", "另一页")])
        session.commit()
        run(check_links(store, ["rsj"], origins={"rsj": origin}, base_urls=BASES, delay=0, timeout=2))
    with store.session() as session:
        assert {b["url"] for b in dead_link_report(session, "rsj")["broken"]} == \
            {f"{SITE}/missing-old", f"{SITE}/missing-kept"}
        # the page is crawled again and no longer has the broken link
        record_links(session, "rsj", PAGE, [Link(f"{SITE}/ok1", "好")])
    with store.session() as session:
        report = dead_link_report(session, "rsj")
    assert [(b["url"], [p["url"] for p in b["pages"]]) for b in report["broken"]] == \
        [(f"{SITE}/missing-kept", [f"{SITE}/show.php?id=1"])]
    assert report["total"] == 2


def test_the_links_of_a_gone_page_leave_the_report(store):
    now = dt.datetime.now(dt.UTC)
    gone = f"{SITE}/show.php?id=9"
    with store.session() as session:
        if session.get(Site, "rsj") is None:
            session.add(Site(code="rsj", name="北仑区人力资源和社会保障局", base_url=f"{SITE}/"))
            session.flush()
        record_links(session, "rsj", gone, [Link(f"{SITE}/missing", "旧")])
        record_links(session, "rsj", PAGE, [Link(f"{SITE}/ok1", "好")])
        _set_result(session, f"{SITE}/missing", status=404, ok=False, method="HEAD")
        session.add(Document(id=document_id(gone), site_code="rsj", url=gone, fetch_url=gone, title="已删除",
                             content_hash="0" * 64, item={}, status="gone", first_seen_at=now, last_seen_at=now,
                             last_changed_at=now, raw_page=b""))
    with store.session() as session:
        report = dead_link_report(session, "rsj")
    assert report["broken"] == [] and report["total"] == 1


def test_api_shows_skipped_links_apart_from_broken_ones(api, store):
    with store.session() as session:
        record_links(session, "rsj", PAGE, [Link(f"{SITE}/gone.html", "旧通知"),
                                            Link(f"{SITE}/api.php?op=count&id=1", "")])
        counter_id = document_id(canonicalize_url(f"{SITE}/api.php?op=count&id=1"))  # ids are canonical keys
        session.execute(sql_update(LinkTarget).where(LinkTarget.id == counter_id)
                        .values(skip_kind="counter", skip_reason="PHPCMS hit counter (api.php?op=count)",
                                skipped_at=dt.datetime(2026, 1, 5, tzinfo=dt.UTC)))
    body = api.get("/api/links/rsj").json()
    assert f"{SITE}/api.php?op=count&id=1" not in {b["url"] for b in body["broken"]}
    assert (body["skipped_count"], body["skipped_by_kind"]) == (1, {"counter": 1})
    assert body["skipped"][0]["skip_reason"] == "PHPCMS hit counter (api.php?op=count)"
    page = api.get("/links/rsj").text
    assert "未检查的链接" in page and "计数器或统计接口" in page and "PHPCMS hit counter" in page


def test_a_redirect_into_a_disallowed_path_is_not_followed(store):
    with polite_site((200, ROBOTS)) as (origin, site), store.session() as session:
        record_links(session, "rsj", PAGE, [f"{SITE}/redirect?to=/private/a.html"])
        session.commit()
        summary = run(check_links(store, ["rsj"], origins={"rsj": origin}, base_urls=BASES, delay=0, timeout=2))
        paths = site.log.paths()
    assert paths == ["/robots.txt", "/redirect?to=/private/a.html"]  # the hop to /private/ is never made
    assert dict(summary.skipped) == {"robots": 1} and summary.broken == 0
