"""A fault-injecting fixture subsite: 北仑区审计局 (``sjj``, ``http://sjj.bl.gov.cn``).

A small home-made PHP-style site (``list.php?catid=N`` lists with "下一页" links, ``show.php?id=N``
detail pages) whose detail pages each exhibit one fault a real legacy server shows sooner or
later, with healthy pages around them. It is a real HTTP server (stdlib, threaded, loopback,
free port)::

    with faults_server() as base_url:             # "http://127.0.0.1:54321"
        write_plugin(plugin_dir)                  # plugin_dir/sjj.toml (never into plugins/sites/)
        ...
    GROUND_TRUTH                                  # healthy pages (titles, text) and faults (expected kind)

Pages
-----
* ``/robots.txt`` (disallows ``/admin/`` only), ``/`` and ``/index.php``: the home page, linking
  the three columns.
* ``list.php?catid=1`` 审计公告 (two pages, "下一页"), ``list.php?catid=2`` 审计动态 (one page):
  ``ul.list li`` entries ``<a href="show.php?id=N">title</a><span>2024-03-05</span>``.
* ``calendar.php?date=YYYY-MM-DD`` 审计日历: an **infinite calendar**. Every day has a "下一页"
  link to the next day, forever; each day lists the same 工作安排 page (``show.php?id=120``).
  The plugin caps the column at ``CALENDAR_MAX_PAGES`` list pages.
* ``show.php?id=N``: a healthy detail page (``h1`` title, ``div.info`` 发布时间, ``#zoom`` body), or
  a fault:

  ======================  ======================================================  ==============
  URL                     what the server does                                     expected kind
  ======================  ======================================================  ==============
  show.php?id=102         HTTP 500 on every request                                ``http``
  show.php?id=104         HTTP 503 twice, then the page (retry/backoff wins)       (healthy)
  show.php?id=105         sleeps ``hang`` seconds (longer than the crawl's timeout) ``timeout``
  show.php?id=106         sleeps ``slow`` seconds, then the page                   (healthy)
  show.php?id=107         closes the socket with SO_LINGER 0 (a TCP reset)          ``connection``
  show.php?id=109         Content-Length 6000, 1000 bytes sent, then close          ``truncated``
  show.php?id=103         GBK bytes served as ``text/html; charset=utf-8``          (healthy)
  show.php?id=108         UTF-8 bytes with ``<meta … charset=gb2312>``              (healthy)
  go.php?id=a             302 → go.php?id=b → 302 → go.php?id=a (a loop)           ``redirect``
  download.php?id=1       a 50 MB file, Content-Length given, streamed              ``too-large``
  download.php?id=2       a 50 MB file, no Content-Length (read until close)        ``too-large``
  calendar.php            the infinite calendar (list column)                      ``paging-cap``
  ======================  ======================================================  ==============

  The 50 MB bodies come from a generator in 64 KB chunks: the server never holds them in memory.
  The 503 page counts its requests per server (a new server starts again at two 503s).

``faults_server(all_500=True)`` answers HTTP 500 to every request instead (a site that cannot be
crawled at all).

Foreground use: ``python -m fixture_sites.faults [--port N] [--hang S] [--slow S]``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import html
import socket
import struct
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from fixture_sites.servers import serve_in_foreground, threaded_http_server

SITE_CODE, SITE_NAME, PUBLIC_ORIGIN = "sjj", "北仑区审计局", "http://sjj.bl.gov.cn"
CALENDAR_MAX_PAGES = 5
CALENDAR_START = dt.date(2024, 1, 1)
BIG_FILE_BYTES = 50 * 1024 * 1024
CHUNK = 64 * 1024
HANG_SECONDS = 3.0  # the timeout page: longer than the test's DOWNLOAD_TIMEOUT (2 s)
SLOW_SECONDS = 1.0  # the slow page: below it
TRANSIENT_FAILURES = 2  # show.php?id=104 answers 503 this many times, then 200

COLUMNS = {1: "审计公告", 2: "审计动态"}
CALENDAR_COLUMN = "审计日历"

# id: (column, title, date, paragraphs, charset style)
# charset styles: gbk (GBK bytes, header charset=gbk, meta gb2312), gbk_says_utf8 (GBK bytes,
# header charset=utf-8, no meta), utf8_says_gb2312 (UTF-8 bytes, header without charset, meta
# gb2312), utf8 (UTF-8, declared).
ARTICLES: dict[int, tuple[str, str, str, list[str], str]] = {
    101: ("审计公告", "北仑区审计局关于2023年度区级预算执行和其他财政收支审计工作报告的公告", "2024-03-05",
          ["根据《中华人民共和国审计法》规定，区审计局对2023年度区级预算执行和其他财政收支情况进行了审计。",
           "审计结果表明，区级各部门预算执行情况总体较好，财政资金使用效益进一步提高。"], "gbk"),
    103: ("审计公告", "关于开展2024年度经济责任审计工作的通知", "2024-02-28",
          ["各镇（街道）、区级各部门：为进一步加强干部管理监督，经区委审计委员会同意，现就开展经济责任审计工作通知如下。",
           "请被审计单位于三月十五日前报送有关资料，联系人王镕，电话86781234。"], "gbk_says_utf8"),
    104: ("审计公告", "区审计局召开2024年审计工作会议", "2024-02-20",
          ["二月二十日，区审计局召开2024年审计工作会议，总结2023年审计工作，部署2024年重点任务。",
           "会议要求，全局上下要聚焦主责主业，做深做实研究型审计。"], "gbk"),
    106: ("审计公告", "关于征集2024年度审计项目计划建议的公告", "2024-01-30",
          ["为科学编制2024年度审计项目计划，现面向社会公开征集审计项目计划建议。",
           "建议可通过电子邮件或信函方式提交，征集时间截至二月十日。"], "utf8"),
    108: ("审计公告", "北仑区审计局2023年法治政府建设工作情况报告", "2024-01-15",
          ["2023年，区审计局坚持以习近平新时代中国特色社会主义思想为指导，全面推进依法审计。",
           "一是健全审计质量控制体系；二是加强审计普法宣传；三是规范行政执法行为。"], "utf8_says_gb2312"),
    110: ("审计公告", "关于公布区级部门预算执行审计整改情况的公告", "2024-01-08",
          ["对审计查出的问题，各相关部门高度重视，认真落实整改，截至目前已整改问题金额一千二百万元。",
           "区审计局将继续跟踪检查整改情况，确保问题整改到位。"], "gbk"),
    120: (CALENDAR_COLUMN, "北仑区审计局2024年度审计工作安排", "2024-01-01",
          ["2024年，区审计局计划安排审计项目二十三个，涵盖预算执行、经济责任、政府投资和民生资金等领域。",
           "各项目的实施时间以审计通知书为准。"], "utf8"),
    201: ("审计动态", "区审计局开展“审计进社区”宣传活动", "2024-03-12",
          ["三月十二日，区审计局干部走进新碶街道社区，开展审计法律法规宣传活动。",
           "活动现场发放宣传资料三百余份，解答群众咨询四十余人次。"], "gbk"),
    202: ("审计动态", "区审计局赴大碶街道开展政府投资项目审计调研", "2024-03-01",
          ["为提升政府投资项目审计质效，区审计局一行赴大碶街道开展专题调研。",
           "调研组实地察看了在建项目现场，并与街道相关负责人进行了座谈。"], "gbk_says_utf8"),
}

# the entries of each list, in page order: (href, list title)
FAULT_TITLES = {
    "show.php?id=102": "关于2023年度区本级预算执行审计查出问题整改情况的报告",
    "show.php?id=105": "区审计局关于开展专项审计调查的公告",
    "show.php?id=107": "北仑区审计局2023年度政府信息公开工作年度报告",
    "show.php?id=109": "关于区级部门决算审计结果的公告",
    "go.php?id=a": "区审计局领导班子成员分工调整",
    "download.php?id=1": "2023年度审计工作报告（全文下载）",
    "download.php?id=2": "审计档案汇编（压缩包下载）",
}
LIST_PAGES: dict[int, list[list[str]]] = {
    1: [["show.php?id=101", "show.php?id=102", "show.php?id=103", "show.php?id=104", "show.php?id=105",
         "show.php?id=106"],
        ["show.php?id=107", "show.php?id=108", "show.php?id=109", "show.php?id=110"]],
    2: [["show.php?id=201", "go.php?id=a", "download.php?id=1", "download.php?id=2", "show.php?id=202"]],
}


def _calendar_url(day: dt.date) -> str:
    return f"calendar.php?date={day.isoformat()}"


GROUND_TRUTH: dict[str, Any] = {
    "site": {"code": SITE_CODE, "name": SITE_NAME, "origin": PUBLIC_ORIGIN},
    # every page that must be stored, with its text (id 104 only after two 503s)
    "healthy": [
        {"path": f"/show.php?id={aid}", "column": col, "title": title, "date": date,
         "paragraphs": paragraphs, "charset": charset}
        for aid, (col, title, date, paragraphs, charset) in sorted(ARTICLES.items())
    ],
    # every fault and the error kind the run report must name it by
    "faults": [
        {"path": "/show.php?id=102", "kind": "http", "what": "HTTP 500 on every request"},
        {"path": "/show.php?id=105", "kind": "timeout", "what": f"no answer for {HANG_SECONDS:g} s"},
        {"path": "/show.php?id=107", "kind": "connection", "what": "connection reset (SO_LINGER 0) before answering"},
        {"path": "/show.php?id=109", "kind": "truncated", "what": "Content-Length 6000, 1000 bytes, then close"},
        {"path": "/go.php?id=a", "kind": "redirect", "what": "redirect loop a → b → a"},
        {"path": "/download.php?id=1", "kind": "too-large", "what": "50 MB, Content-Length given"},
        {"path": "/download.php?id=2", "kind": "too-large", "what": "50 MB, no Content-Length"},
        {"path": "/" + _calendar_url(CALENDAR_START + dt.timedelta(days=CALENDAR_MAX_PAGES - 1)),
         "kind": "paging-cap", "what": f"infinite calendar, capped at {CALENDAR_MAX_PAGES} list pages"},
    ],
    "transient": [{"path": "/show.php?id=104", "what": f"HTTP 503 {TRANSIENT_FAILURES} times, then 200"}],
    "slow": [{"path": "/show.php?id=106", "what": f"answers after {SLOW_SECONDS:g} s"}],
    "columns": [{"name": "审计公告", "url": "/list.php?catid=1", "pages": 2},
                {"name": "审计动态", "url": "/list.php?catid=2", "pages": 1},
                {"name": CALENDAR_COLUMN, "url": "/" + _calendar_url(CALENDAR_START), "pages": None}],
}

PLUGIN_TOML = f"""\
# 北仑区审计局 — sjj.bl.gov.cn: the fault-injecting fixture site (fixture_sites/faults.py).
[site]
code = "{SITE_CODE}"
name = "{SITE_NAME}"
base_url = "{PUBLIC_ORIGIN}/"
start_urls = ["/"]

[list]
item = "ul.list li"
date = "span"
paging = {{ type = "next_link", next = "//a[normalize-space()='下一页']/@href" }}

[detail]
title = "h1"
body = "#zoom"
published_at = "div.info"

[[columns]]
name = "审计公告"
url = "list.php?catid=1"

[[columns]]
name = "审计动态"
url = "list.php?catid=2"

[[columns]]
name = "{CALENDAR_COLUMN}"
url = "{_calendar_url(CALENDAR_START)}"
[columns.list]
paging = {{ type = "next_link", next = "//a[normalize-space()='下一页']/@href", max_pages = {CALENDAR_MAX_PAGES} }}
"""


def write_plugin(plugin_dir: Path) -> Path:
    """Write ``sjj.toml`` into *plugin_dir* (a ``BLGW_PLUGIN_DIRS`` folder); return its path."""
    plugin_dir = Path(plugin_dir)
    plugin_dir.mkdir(parents=True, exist_ok=True)
    path = plugin_dir / f"{SITE_CODE}.toml"
    path.write_text(PLUGIN_TOML, encoding="utf-8")
    return path


# --- pages ----------------------------------------------------------------------------------

_GB_META = '<meta http-equiv="Content-Type" content="text/html; charset=gb2312">'
_UTF8_META = '<meta charset="utf-8">'
_NAV = ('<div class="nav"><a href="index.php">首页</a> <a href="list.php?catid=1">审计公告</a> '
        f'<a href="list.php?catid=2">审计动态</a> <a href="{_calendar_url(CALENDAR_START)}">审计日历</a></div>')
_FOOT = '<div class="foot">版权所有：北仑区审计局　浙ICP备05001234号</div>'


def _page(title: str, body: str, meta: str = _GB_META) -> str:
    return (f'<!DOCTYPE html>\n<html><head>{meta}<title>{html.escape(title)}</title></head>\n'
            f'<body><div class="top">{SITE_NAME}</div>\n{_NAV}\n{body}\n{_FOOT}\n</body></html>\n')


def _home() -> str:
    return _page(SITE_NAME, "<h2>欢迎访问北仑区审计局网站</h2><p>依法审计，服务大局。</p>")


def _entry(href: str, title: str, date: str) -> str:
    return f'<li><a href="{href}" title="{html.escape(title)}">{html.escape(title)}</a><span>{date}</span></li>'


def _entry_title_date(href: str) -> tuple[str, str]:
    if href.startswith("show.php?id=") and int(href.split("=")[1]) in ARTICLES:
        _, title, date, _, _ = ARTICLES[int(href.split("=")[1])]
        return title, date
    return FAULT_TITLES[href], "2024-02-01"


def _list(catid: int, page: int) -> str | None:
    pages = LIST_PAGES.get(catid)
    if not pages or not 1 <= page <= len(pages):
        return None
    items = "".join(_entry(href, *_entry_title_date(href)) for href in pages[page - 1])
    pager = f"共{sum(map(len, pages))}条 页次：{page}/{len(pages)} "
    pager += f'<a href="list.php?catid={catid}&page={page - 1}">上一页</a> ' if page > 1 else "上一页 "
    pager += f'<a href="list.php?catid={catid}&page={page + 1}">下一页</a>' if page < len(pages) else "下一页"
    return _page(f"{COLUMNS[catid]}_{SITE_NAME}",
                 f'<div class="position">当前位置：首页 &gt; {COLUMNS[catid]}</div>\n'
                 f'<ul class="list">{items}</ul>\n<div class="pager">{pager}</div>')


def _calendar(day: dt.date) -> str:
    _, title, date, _, _ = ARTICLES[120]
    prev_day, next_day = day - dt.timedelta(days=1), day + dt.timedelta(days=1)
    return _page(f"审计日历 {day:%Y年%m月%d日}_{SITE_NAME}",
                 f"<h2>审计日历 {day:%Y年%m月%d日}</h2>\n"
                 f'<ul class="list">{_entry("show.php?id=120", title, date)}</ul>\n'
                 f'<div class="pager"><a href="{_calendar_url(prev_day)}">上一页</a> '
                 f'<a href="{_calendar_url(next_day)}">下一页</a></div>')


def _detail(aid: int) -> tuple[bytes, str]:
    """(body bytes, Content-Type) of a healthy detail page, in its charset style."""
    column, title, date, paragraphs, charset = ARTICLES[aid]
    body = (f'<div class="position">当前位置：首页 &gt; {column}</div>\n<h1>{html.escape(title)}</h1>\n'
            f'<div class="info">发布时间：{date}　来源：{SITE_NAME}</div>\n<div id="zoom">'
            + "".join(f"<p>{html.escape(p)}</p>" for p in paragraphs) + "</div>")
    if charset == "gbk":
        return _page(title, body).encode("gbk"), "text/html; charset=gbk"
    if charset == "gbk_says_utf8":
        return _page(title, body, meta="").encode("gbk"), "text/html; charset=utf-8"
    if charset == "utf8_says_gb2312":
        return _page(title, body, meta=_GB_META).encode("utf-8"), "text/html"
    return _page(title, body, meta=_UTF8_META).encode("utf-8"), "text/html; charset=utf-8"


def _big_chunks(total: int) -> Iterator[bytes]:
    """A large file, produced chunk by chunk (never held whole in memory)."""
    head = b"%PDF-1.4\n% fixture: a large scanned report\n"
    yield head
    sent = len(head)
    filler = bytes(range(256)) * (CHUNK // 256)
    while sent < total:
        chunk = filler[: min(CHUNK, total - sent)]
        sent += len(chunk)
        yield chunk


# --- server ---------------------------------------------------------------------------------

class _FaultHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"  # one request per connection: faults never leak into the next request
    server_version = "Apache/2.2.15 (Unix) PHP/5.2.17"
    sys_version = ""
    # set on the subclass made per server
    hang: float = HANG_SECONDS
    slow: float = SLOW_SECONDS
    all_500: bool = False
    counts: dict[str, int]
    lock: threading.Lock
    log: list[str] | None = None

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def handle(self) -> None:
        try:
            super().handle()
        except OSError:  # the crawler gave up (timeout, size limit) and closed its end
            self.close_connection = True

    def finish(self) -> None:
        with suppress(OSError):
            super().finish()

    def _send(self, status: int, body: bytes, content_type: str = "text/html; charset=gbk",
              headers: tuple[tuple[str, str], ...] = ()) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Powered-By", "PHP/5.2.17")
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _count(self, key: str) -> int:
        with self.lock:
            self.counts[key] = self.counts.get(key, 0) + 1
            return self.counts[key]

    def _error_page(self, status: int, reason: str) -> None:
        self._send(status, _page(reason, f"<h1>{status} {reason}</h1>").encode("gbk"))

    def _reset(self) -> None:
        """Abort the connection before answering: SO_LINGER 0 makes close() send a TCP RST."""
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.connection.close()
        self.close_connection = True

    def _truncated(self) -> None:
        body = _page("关于区级部门决算审计结果的公告", "<h1>关于区级部门决算审计结果的公告</h1>" + "<p>审计结果</p>" * 200)
        data = body.encode("gbk")
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=gbk")
        self.send_header("Content-Length", "6000")
        self.end_headers()
        self.wfile.write(data[:1000])
        self.wfile.flush()
        self.close_connection = True  # close with 5000 bytes still owed

    def _big(self, with_length: bool) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Disposition", 'attachment; filename="report.pdf"')
        if with_length:
            self.send_header("Content-Length", str(BIG_FILE_BYTES))
        self.end_headers()
        if self.command == "HEAD":
            return
        for chunk in _big_chunks(BIG_FILE_BYTES):  # stops with an OSError once the client hangs up
            self.wfile.write(chunk)
        self.close_connection = True

    def do_HEAD(self) -> None:
        self.do_GET()

    def do_GET(self) -> None:
        if self.log is not None:
            with self.lock:
                self.log.append(self.path)
        parts = urlsplit(self.path)
        path = parts.path.lower()
        q = {k: v[0] for k, v in parse_qs(parts.query).items()}
        if self.all_500:
            return self._error_page(500, "Internal Server Error")
        if path == "/robots.txt":
            return self._send(200, b"User-agent: *\nDisallow: /admin/\n", "text/plain")
        if path in ("/", "/index.php"):
            return self._send(200, _home().encode("gbk"))
        if path == "/list.php":
            page = _list(int(q.get("catid", "0") or 0), int(q.get("page", "1") or 1))
            return self._send(200, page.encode("gbk")) if page else self._error_page(404, "Not Found")
        if path == "/calendar.php":
            try:
                day = dt.date.fromisoformat(q.get("date", ""))
            except ValueError:
                day = CALENDAR_START
            return self._send(200, _calendar(day).encode("gbk"))
        if path == "/go.php":
            target = {"a": "go.php?id=b", "b": "go.php?id=a"}.get(q.get("id", ""))
            if target is None:
                return self._error_page(404, "Not Found")
            return self._send(302, b"", "text/html", (("Location", target),))
        if path == "/download.php" and q.get("id") in ("1", "2"):
            return self._big(with_length=q["id"] == "1")
        if path != "/show.php":
            return self._error_page(404, "Not Found")
        aid = q.get("id", "")
        if aid == "102":
            return self._error_page(500, "Internal Server Error")
        if aid == "104" and self._count("104") <= TRANSIENT_FAILURES:
            return self._error_page(503, "Service Unavailable")
        if aid == "105":
            time.sleep(self.hang)
        elif aid == "106":
            time.sleep(self.slow)
        elif aid == "107":
            return self._reset()
        elif aid == "109":
            return self._truncated()
        if aid.isdigit() and int(aid) in ARTICLES:
            body, content_type = _detail(int(aid))
            return self._send(200, body, content_type)
        if aid == "105":  # answered after the crawler gave up; nobody is listening any more
            return self._send(200, _page("区审计局关于开展专项审计调查的公告", "<h1>迟到的页面</h1>").encode("gbk"))
        return self._error_page(404, "Not Found")


@contextmanager
def faults_server(host: str = "127.0.0.1", port: int | None = None, *, hang: float = HANG_SECONDS,
                  slow: float = SLOW_SECONDS, all_500: bool = False, log: list[str] | None = None) -> Iterator[str]:
    """Serve the fault site; yield ``http://host:port``; stop it on exit.

    *hang*: seconds the timeout page waits before answering; *slow*: seconds the slow page
    waits; *all_500*: answer HTTP 500 to every request (a site that cannot be crawled);
    *log*: a list the server appends each request's path (with query) to."""
    handler = type("FaultHandler", (_FaultHandler,), {
        "hang": hang, "slow": slow, "all_500": all_500, "counts": {}, "lock": threading.Lock(), "log": log})
    with threaded_http_server(handler, host, port, "faults") as url:
        yield url


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m fixture_sites.faults",
                                 description="Serve the fault-injecting fixture site (sjj) in the foreground.")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=None, help="default: a free port")
    ap.add_argument("--hang", type=float, default=HANG_SECONDS)
    ap.add_argument("--slow", type=float, default=SLOW_SECONDS)
    args = ap.parse_args(argv)
    return serve_in_foreground(faults_server(args.host, args.port, hang=args.hang, slow=args.slow), SITE_CODE,
                               note="fault injection; plugin: fixture_sites.faults.PLUGIN_TOML")


if __name__ == "__main__":
    raise SystemExit(main())
