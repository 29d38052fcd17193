"""Two more fixture subsites, served by one small Python HTTP server: a Hanweb JCMS site and a JavaScript site.

* **Hanweb JCMS (大汉)**, site code ``jyj`` (北仑区教育局, public origin ``http://jyj.bl.gov.cn``).
  Statically published pages: ``/index.html``, columns ``/col/col1229{01,02,03}/index.html``, articles
  ``/art/{Y}/{M}/{D}/art_{columnid}_{id}.html`` (month and day not zero-padded).  A column page embeds its first
  15 records as ``<div id="{unitid}"><script type="text/xml"><datastore>…<record><![CDATA[<li>…</li>]]></record>``
  followed by the Jpage set-up script (``totalRecord: 44, perPage: 15, groupSize: 3``); the other records only come
  from ``POST /module/web/jpage/dataproxy.jsp?startrecord=&endrecord=&perpage=`` with the form
  ``col, appid, webid, path, columnid, sourceContentType, unitid, webname, permissiontype`` (query-string and body
  parameters are merged, as a servlet's ``getParameter`` does).  The proxy answers ``text/xml`` with
  ``<recordset>``, ``<totalrecord>`` and ``<totalpage>``; it serves any range the client asks for, clamped at the
  last record.  Errors, Tomcat style: GET (or any method but POST) → 405; a POST without a numeric ``columnid`` or
  ``unitid``, or with a non-numeric / non-positive ``startrecord``/``endrecord``/``perpage``, or ``endrecord <
  startrecord`` → 400.  A well-formed request for a column, unit or webid the site does not have → 200 with an
  empty recordset and ``<totalrecord>0</totalrecord>`` (what JCMS does).
  Detail pages: title in ``<td class="title">``, ``发布日期：2024-01-05`` (the day only) in ``<td class="fbxx">``,
  the disclosure table ``table.xxgk_table`` (索引号：/发布机构：/生成日期：/文号：…, labels with a full-width colon)
  on 政策文件 pages only, the body in ``div#zoom`` between the ``<!--ZJEG_RSS.content.begin-->`` markers, attachments
  ``/module/download/downfile.jsp?classid=0&filename=….pdf`` in ``td.fj`` right after the body (outside
  ``#zoom``), served with ``Content-Disposition: attachment``.

* **JavaScript site**, site code ``wlj`` (北仑区文化和广电旅游体育局, public origin ``http://wlj.bl.gov.cn``).
  ``/news/list.html?cat=N&page=M`` and ``/news/detail.html?id=N`` are the same static shells whatever the query:
  ``<ul id="newsList"></ul>`` / empty ``<h1 id="title">``, ``<span id="pubdate">``, ``<div id="content">``, filled by
  ``/static/js/news.js`` from ``/api/news?cat=N&page=M`` (``{"total","pages","page","per_page","cat","cat_name",
  "items":[{"id","title","date","url"}]}``, 10 per page) and ``/api/news/N``.  The pager (``a.prev``, ``a.next``
  ``href="list.html?cat=N&page=M"``, the next link only when there is a next page) is rendered by script too;
  when a page is done the script sets ``data-state="loaded"`` on ``#app``.  ``api_delay`` seconds are slept before
  every API answer.  Column 3 (存档, ``n_filler`` articles) exists but is not linked from anywhere.

Both write ``truth.json`` (``{"site": {code, name, platform}, "columns": [{name, url, count, pages}],
"articles": [...]}``); articles are in list order, column by column, newest first, and follow the conventions of
:mod:`fixture_sites.generator`: ``body_paragraphs`` is the normalised text of every non-empty ``<p>`` in the body
container, ``published_at`` is truncated to what the detail page shows (Hanweb: ``day``; JS site: ``minute``,
``2024-01-05 14:29``), disclosure fields are ``null`` where the page has no disclosure table (everything but
Hanweb 政策文件; the JS site has none), a 文号 of ``""``/``无`` is ``null``.

Use::

    data = generate_hanweb(tmp / "jyj")            # or generate_jsapp(tmp / "wlj", n_filler=400)
    with hanweb_server(data) as base_url:          # jsapp_server(data, api_delay=0.5)
        ...

Foreground: ``python -m fixture_sites.modern_sites hanweb|jsapp DATA_DIR [--generate] [--port N]``.
"""

from __future__ import annotations

import argparse
import dataclasses
import html
import json
import math
import random
import re
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any, overload
from urllib.parse import parse_qsl, quote, unquote, urlsplit

from fixture_sites.generator import Article, _attachment_bytes, build
from fixture_sites.servers import serve_in_foreground, threaded_http_server

MAX_BODY = 1 << 20
SITE_FILE = "site.json"
TRUTH_FILE = "truth.json"


def _esc(s: object) -> str:
    return html.escape(str(s), quote=True)


def _rebrand(articles: list[Article], subs: list[tuple[str, str]]) -> list[Article]:
    """The generator writes for 人力社保局; rename the bureau consistently in every text field."""

    @overload
    def sub(s: str) -> str: ...
    @overload
    def sub(s: None) -> None: ...
    def sub(s: str | None) -> str | None:
        if s is None:
            return None
        for old, new in subs:
            s = s.replace(old, new)
        return s

    out = []
    for a in articles:
        out.append(dataclasses.replace(
            a, title=sub(a.title), source=sub(a.source), body_html=sub(a.body_html),
            paragraphs=[sub(p) for p in a.paragraphs], publisher=sub(a.publisher),
            attachments=[dict(att, name=sub(att["name"])) for att in a.attachments],
        ))
    return out


def _unique_titles(items: list[tuple[int, Article]]) -> list[Article]:
    """(new id, article) pairs → articles whose titles are unique (editors add the id to a duplicate)."""
    seen: set[str] = set()
    out = []
    for new_id, a in items:
        if a.title in seen:
            a = dataclasses.replace(a, title=f"{a.title}（{new_id}）")
        seen.add(a.title)
        out.append(a)
    return out


def _docno(a: Article) -> str | None:
    return a.docno_db if a.docno_db not in (None, "", "无") else None


def _write_json(path: Path, data: object) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


# =============================================================================================== Hanweb
HANWEB_CODE = "jyj"
HANWEB_NAME = "北仑区教育局"
HANWEB_ORIGIN = "http://jyj.bl.gov.cn"
HANWEB_WEBID = 3034
HANWEB_PER_PAGE = 15
HANWEB_GROUP = 3  # Jpage asks for 3 pages of records per proxy request
HANWEB_SUBS = [
    ("北仑区人力资源和社会保障局", HANWEB_NAME),
    ("区人力社保局", "区教育局"),
    ("人力社保", "教育"),
]
# (columnid, name, unitid, generator catids, has the disclosure table)
HANWEB_COLUMNS = [
    (122901, "通知公告", 385762, (1, 4), False),
    (122902, "教育动态", 385763, (3,), False),
    (122903, "政策文件", 385764, (2, 5), True),
]


def _hanweb_path(colid: int, aid: int, published: str) -> str:
    y, m, d = (int(x) for x in published[:10].split("-"))
    return f"/art/{y}/{m}/{d}/art_{colid}_{aid}.html"


def generate_hanweb(out_dir: Path, seed: int = 2024, n_articles: int = 100) -> Path:
    """Write ``site.json``, ``files/`` (attachments) and ``truth.json`` for the Hanweb site into *out_dir*."""
    out_dir = Path(out_dir)
    (out_dir / "files").mkdir(parents=True, exist_ok=True)
    gen = _rebrand(build(seed, n_articles), HANWEB_SUBS)
    file_rng = random.Random(f"{seed}-hanweb-files")
    by_cat = {cat: col for col in HANWEB_COLUMNS for cat in col[3]}
    pairs = [(3_456_700 + a.id * 3, a) for a in gen]
    gen = _unique_titles(pairs)

    site_articles: dict[int, list[dict[str, Any]]] = {c[0]: [] for c in HANWEB_COLUMNS}
    truth_articles: dict[int, list[dict[str, Any]]] = {c[0]: [] for c in HANWEB_COLUMNS}
    for (aid, _), a in zip(pairs, gen, strict=True):
        colid, colname, _, _, disclosure = by_cat[a.catid]
        published = a.published.strftime("%Y-%m-%d %H:%M:%S")
        atts = []
        for att in a.attachments:
            filename = att["path"].rsplit("/", 1)[1]
            (out_dir / "files" / filename).write_bytes(_attachment_bytes(file_rng, att["file_type"], att["name"]))
            atts.append({"name": att["name"], "filename": filename, "file_type": att["file_type"]})
        rec = {
            "id": aid, "colid": colid, "title": a.title, "published": published, "source": a.source,
            "hits": a.hits, "body_html": a.body_html, "attachments": atts,
            "disclosure": None,
        }
        written = a.written_date.isoformat() if a.written_date else None
        assert written is not None or not disclosure  # the disclosure categories (2, 5) have a written date
        if disclosure:
            rec["disclosure"] = {
                "index_number": a.index_number, "publisher": a.publisher,
                "written_date": written, "docno": a.docno_db or "",
            }
        site_articles[colid].append(rec)
        path = _hanweb_path(colid, aid, published)
        truth_articles[colid].append({
            "id": aid, "column": colname, "path": path, "title": a.title,
            "published_at": f"{published[:10]}T00:00:00+08:00", "published_at_precision": "day",
            "index_number": a.index_number if disclosure else None,
            "publisher": a.publisher if disclosure else None,
            "written_date": written if disclosure else None,
            "document_number": _docno(a) if disclosure else None,
            "body_paragraphs": a.paragraphs,
            "attachments": [{"name": t["name"], "path": f"/module/download/downfile.jsp?classid=0&filename={t['filename']}",
                             "file_type": t["file_type"]} for t in atts],
            "_key": (published, aid),
        })
    columns, truth_list = [], []
    for colid, name, _unitid, _, _ in HANWEB_COLUMNS:
        site_articles[colid].sort(key=lambda r: (r["published"], r["id"]), reverse=True)
        arts = sorted(truth_articles[colid], key=lambda r: r.pop("_key"), reverse=True) if truth_articles[colid] else []
        truth_list.extend(arts)
        columns.append({"name": name, "url": f"/col/col{colid}/index.html", "count": len(arts),
                        "pages": max(1, math.ceil(len(arts) / HANWEB_PER_PAGE))})
    site = {
        "platform": "hanweb", "code": HANWEB_CODE, "name": HANWEB_NAME, "origin": HANWEB_ORIGIN,
        "webid": HANWEB_WEBID, "per_page": HANWEB_PER_PAGE,
        "columns": [{"id": c, "name": n, "unitid": u, "disclosure": d} for c, n, u, _, d in HANWEB_COLUMNS],
        "articles": [r for c in HANWEB_COLUMNS for r in site_articles[c[0]]],
    }
    _write_json(out_dir / SITE_FILE, site)
    _write_json(out_dir / TRUTH_FILE, {
        "site": {"code": HANWEB_CODE, "name": HANWEB_NAME, "platform": "hanweb"},
        "columns": columns, "articles": truth_list,
    })
    return out_dir


# ============================================================================================ JS site
JS_CODE = "wlj"
JS_NAME = "北仑区文化和广电旅游体育局"
JS_ORIGIN = "http://wlj.bl.gov.cn"
JS_PER_PAGE = 10
JS_SUBS = [
    ("北仑区人力资源和社会保障局", JS_NAME),
    ("区人力社保局", "区文旅体局"),
    ("人力社保", "文旅"),
]
# cat -> (name, generator catids); cat 3 holds the filler articles
JS_COLUMNS = {1: ("文旅资讯", (3, 5)), 2: ("通知公告", (1, 2, 4)), 3: ("存档", ())}


def generate_jsapp(out_dir: Path, seed: int = 2024, n_articles: int = 60, n_filler: int = 0) -> Path:
    """Write ``site.json``, ``uploads/`` and ``truth.json`` for the JS site into *out_dir*.

    *n_filler* more articles go to column 3 (存档), linked from nowhere, for big benchmark crawls."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    file_rng = random.Random(f"{seed}-jsapp-files")
    main_arts = _rebrand(build(seed, n_articles), JS_SUBS)
    cat_of = {g: cat for cat, (_, gs) in JS_COLUMNS.items() for g in gs}
    pairs = [(1000 + a.id, cat_of[a.catid], a) for a in main_arts]
    if n_filler > 0:
        base = max(i for i, _, _ in pairs) + 1000
        filler = sorted(_rebrand(build(seed + 7919, max(n_filler, 5)), JS_SUBS), key=lambda a: a.id)[:n_filler]
        pairs += [(base + a.id, 3, a) for a in filler]
    arts = _unique_titles([(i, a) for i, _, a in pairs])

    site_articles: dict[int, list[dict[str, Any]]] = {c: [] for c in JS_COLUMNS}
    truth_articles: dict[int, list[dict[str, Any]]] = {c: [] for c in JS_COLUMNS}
    for (aid, cat, _), a in zip(pairs, arts, strict=True):
        atts = []
        for att in a.attachments:
            filename = att["path"].rsplit("/", 1)[1]
            path = f"/uploads/{a.published:%Y}/{a.published:%m}/{filename}"
            f = out_dir / path.lstrip("/")
            f.parent.mkdir(parents=True, exist_ok=True)
            f.write_bytes(_attachment_bytes(file_rng, att["file_type"], att["name"]))
            atts.append({"name": att["name"], "path": path, "file_type": att["file_type"]})
        published = a.published.strftime("%Y-%m-%d %H:%M")
        site_articles[cat].append({"id": aid, "cat": cat, "title": a.title, "published": published,
                                   "source": a.source, "hits": a.hits, "content": a.body_html,
                                   "attachments": atts})
        truth_articles[cat].append({
            "id": aid, "column": JS_COLUMNS[cat][0], "path": f"/news/detail.html?id={aid}", "title": a.title,
            "published_at": f"{published[:10]}T{published[11:16]}:00+08:00", "published_at_precision": "minute",
            "index_number": None, "publisher": None, "written_date": None, "document_number": None,
            "body_paragraphs": a.paragraphs, "attachments": atts, "_key": (a.published.isoformat(), aid),
        })
    columns, truth_list = [], []
    for cat, (name, _) in JS_COLUMNS.items():
        site_articles[cat].sort(key=lambda r: (r["published"], r["id"]), reverse=True)
        ordered = sorted(truth_articles[cat], key=lambda r: r.pop("_key"), reverse=True)
        if cat == 3 and not ordered:
            continue
        truth_list.extend(ordered)
        columns.append({"name": name, "url": f"/news/list.html?cat={cat}&page=1", "count": len(ordered),
                        "pages": max(1, math.ceil(len(ordered) / JS_PER_PAGE))})
    site = {
        "platform": "js", "code": JS_CODE, "name": JS_NAME, "origin": JS_ORIGIN, "per_page": JS_PER_PAGE,
        "columns": [{"cat": c, "name": n, "linked": c != 3} for c, (n, _) in JS_COLUMNS.items()],
        "articles": [r for c in JS_COLUMNS for r in site_articles[c]],
    }
    _write_json(out_dir / SITE_FILE, site)
    _write_json(out_dir / TRUTH_FILE, {
        "site": {"code": JS_CODE, "name": JS_NAME, "platform": "js"},
        "columns": columns, "articles": truth_list,
    })
    return out_dir


# ========================================================================================= HTTP plumbing
@dataclasses.dataclass
class Request:
    method: str
    path: str
    query: list[tuple[str, str]]
    headers: dict[str, str]
    body: bytes

    def form(self) -> list[tuple[str, str]]:
        """Query-string parameters, then url-encoded body parameters (servlet ``getParameter`` order)."""
        params = list(self.query)
        ctype = self.headers.get("content-type", "").split(";")[0].strip().lower()
        if self.method == "POST" and ctype == "application/x-www-form-urlencoded":
            params += parse_qsl(self.body.decode("utf-8", "replace"), keep_blank_values=True)
        return params

    def param(self, name: str) -> str | None:
        for k, v in self.form():
            if k == name:
                return v
        return None


@dataclasses.dataclass
class Response:
    status: int
    body: bytes
    content_type: str = "text/html; charset=UTF-8"
    headers: dict[str, str] = dataclasses.field(default_factory=dict)


class _Handler(BaseHTTPRequestHandler):
    site: _Site  # set on the subclass

    def version_string(self) -> str:
        return self.server_version

    def _handle(self, method: str) -> None:
        length = self.headers.get("Content-Length")
        try:
            n = int(length) if length else 0
        except ValueError:
            n = -1
        if n < 0 or n > MAX_BODY:
            self._send(method, Response(400 if n < 0 else 413, b"bad request body\n", "text/plain; charset=UTF-8"))
            return
        body = self.rfile.read(n) if n else b""
        parts = urlsplit(self.path)
        req = Request(method, unquote(parts.path), parse_qsl(parts.query, keep_blank_values=True),
                      {k.lower(): v for k, v in self.headers.items()}, body)
        try:
            resp = self.site.handle(req)
        except Exception as e:  # noqa: BLE001 - a fixture bug must show up as a 500, not a hang
            resp = Response(500, f"internal error: {e!r}\n".encode(), "text/plain; charset=UTF-8")
        self._send(method, resp)

    def _send(self, method: str, resp: Response) -> None:
        self.send_response(resp.status)
        self.send_header("Content-Type", resp.content_type)
        self.send_header("Content-Length", str(len(resp.body)))
        for k, v in resp.headers.items():
            self.send_header(k, v)
        self.send_header("Connection", "close")
        self.end_headers()
        if method != "HEAD":
            self.wfile.write(resp.body)

    def do_GET(self) -> None:
        self._handle("GET")

    def do_HEAD(self) -> None:
        self._handle("HEAD")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_PUT(self) -> None:
        self._handle("PUT")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    def log_message(self, format: str, *args: object) -> None:
        pass  # quiet: tests and benchmarks hammer it


class _Site:
    server_version = "fixture"

    def __init__(self, data_dir: Path):
        self.data_dir = Path(data_dir).resolve()
        self.data = json.loads((self.data_dir / SITE_FILE).read_text(encoding="utf-8"))

    def handle(self, req: Request) -> Response:  # pragma: no cover - abstract
        raise NotImplementedError

    def file(self, path: Path, download_name: str) -> Response:
        ctype = {"pdf": "application/pdf", "doc": "application/msword", "xls": "application/vnd.ms-excel",
                 "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document"}
        ext = path.suffix.lstrip(".").lower()
        ascii_name = path.name
        return Response(200, path.read_bytes(), ctype.get(ext, "application/octet-stream"), {
            "Content-Disposition": f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(download_name)}",
        })


def _load_site(data_dir: Path, platform: str) -> Path:
    data_dir = Path(data_dir).resolve()
    f = data_dir / SITE_FILE
    gen = "generate_hanweb" if platform == "hanweb" else "generate_jsapp"
    cmd = "hanweb" if platform == "hanweb" else "jsapp"
    if not f.is_file():
        raise FileNotFoundError(f"{f} not found; create it with fixture_sites.modern_sites.{gen}() or "
                                f"python -m fixture_sites.modern_sites {cmd} {data_dir} --generate")
    found = json.loads(f.read_text(encoding="utf-8")).get("platform")
    if found != platform:
        raise ValueError(f"{f} is the data of a {found!r} site, not {platform!r}")
    return data_dir


def _serve(site: _Site, host: str, port: int | None) -> AbstractContextManager[str]:
    handler = type("Handler", (_Handler,), {"site": site, "server_version": site.server_version})
    return threaded_http_server(handler, host, port, site.data["code"])


# ======================================================================================= Hanweb pages
_TOMCAT_DESC = {
    400: ("错误的请求", "由于被认为是客户端对错误（例如：畸形的请求语法、无效的请求信息帧或者虚拟的请求路由），服务器无法或不会处理当前请求。"),
    404: ("未找到", "源服务器未能找到目标资源的表示或者是不愿公开一个已经存在的资源表示。"),
    405: ("方法不允许", "请求行中接收的方法由源服务器知道，但目标资源不支持"),
}


def _tomcat_error(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    title, desc = _TOMCAT_DESC[status]
    body = (f'<!doctype html><html lang="zh"><head><title>HTTP状态 {status} - {title}</title>'
            '<style type="text/css">body {font-family:Tahoma,Arial,sans-serif;} h1 {font-size:22px;} '
            '.line {height:1px;background-color:#525D76;border:none;}</style></head><body>'
            f'<h1>HTTP状态 {status} - {title}</h1><hr class="line" /><p><b>类型</b> 状态报告</p>'
            f'<p><b>消息</b> {_esc(message)}</p><p><b>描述</b> {desc}</p><hr class="line" />'
            '<h3>Apache Tomcat/8.5.57</h3></body></html>')
    return Response(status, body.encode("utf-8"), "text/html;charset=utf-8", headers or {})


_HANWEB_STYLE = """<style type="text/css">
body{margin:0;font:12px/1.8 "宋体",SimSun,Arial;color:#333;background:#f2f2f2}
a{color:#333;text-decoration:none}a:hover{color:#c00}
.top{width:1000px;margin:0 auto;height:110px;background:#1d5fa8;color:#fff;font:bold 30px/110px "微软雅黑"}
.nav{width:1000px;margin:0 auto;background:#0f4c8f}.nav a{display:inline-block;color:#fff;padding:0 22px;line-height:40px;font-size:14px}
.main{background:#fff}.right ul{list-style:none;margin:0;padding:10px}.right li{border-bottom:1px dashed #ddd;line-height:32px}
.right li span{float:right;color:#999}.title{font:bold 22px/1.6 "微软雅黑";padding:20px 0 10px}
#zoom{font-size:16px;line-height:2;padding:10px 30px}.xxgk_table td{border:1px solid #ccc;padding:4px 8px}
.footer{width:1000px;margin:0 auto;text-align:center;padding:20px 0;background:#e5e5e5;line-height:24px}
</style>"""


class HanwebSite(_Site):
    server_version = "Apache-Coyote/1.1"
    art_re = re.compile(r"^/art/(\d{4})/([1-9]\d?)/([1-9]\d?)/art_(\d+)_(\d+)\.html$")
    col_re = re.compile(r"^/col/col(\d+)/(?:index\.html)?$")

    def __init__(self, data_dir: Path):
        super().__init__(_load_site(data_dir, "hanweb"))
        d = self.data
        self.name = d["name"]
        self.columns = {c["id"]: c for c in d["columns"]}
        self.by_column: dict[int, list[dict[str, Any]]] = {c: [] for c in self.columns}
        for a in d["articles"]:  # already in list order
            self.by_column[a["colid"]].append(a)
        self.by_path = {_hanweb_path(a["colid"], a["id"], a["published"]): a for a in d["articles"]}
        self.files = {att["filename"] for a in d["articles"] for att in a["attachments"]}

    # ------------------------------------------------------------------------------------ routing
    def handle(self, req: Request) -> Response:
        p = req.path
        if p == "/module/web/jpage/dataproxy.jsp":
            return self.dataproxy(req)
        if req.method not in ("GET", "HEAD"):
            return _tomcat_error(405, f"此URL不支持Http方法[{req.method}]", {"Allow": "GET, HEAD"})
        if p in ("/", "/index.html"):
            return self.html(self.home())
        if p == "/robots.txt":
            return Response(200, b"User-agent: *\nDisallow: /jcms/\nDisallow: /module/visitcount/\n",
                            "text/plain; charset=UTF-8")
        if p == "/module/web/jpage/jpage.js":
            return Response(200, JPAGE_JS.encode("utf-8"), "application/javascript; charset=UTF-8")
        if p == "/module/jslib/jquery/jquery.js":
            return Response(200, b"/* jQuery is not needed by this fixture's jpage.js */\n",
                            "application/javascript; charset=UTF-8")
        if p == "/module/visitcount/articlehits.jsp":
            art = next((a for a in self.data["articles"] if str(a["id"]) == (req.param("artid") or "")), None)
            return Response(200, f'document.write("{art["hits"] if art else 0}");'.encode(),
                            "text/javascript;charset=UTF-8")
        if p == "/module/download/downfile.jsp":
            name = req.param("filename") or ""
            if name not in self.files:
                return _tomcat_error(404, f"文件不存在：{name}")
            att = next(t for a in self.data["articles"] for t in a["attachments"] if t["filename"] == name)
            return self.file(self.data_dir / "files" / name, att["name"])
        m = self.col_re.match(p)
        if m and int(m.group(1)) in self.columns:
            return self.html(self.column_page(self.columns[int(m.group(1))]))
        if p in self.by_path:
            return self.html(self.detail(self.by_path[p]))
        return self.not_found()

    @staticmethod
    def html(text: str) -> Response:
        return Response(200, text.encode("utf-8"))

    def not_found(self) -> Response:
        body = ("<html><head><title>404 Not Found</title></head><body bgcolor=\"white\"><center><h1>404 Not Found"
                "</h1></center><hr><center>nginx</center></body></html>")
        return Response(404, body.encode(), "text/html")

    # ------------------------------------------------------------------------------------- pieces
    def head(self, title: str, metas: dict[str, str]) -> str:
        meta = "\n".join(f'<meta name="{k}" content="{_esc(v)}" />' for k, v in metas.items())
        return f"""<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">
<html xmlns="http://www.w3.org/1999/xhtml">
<head>
<meta http-equiv="Content-Type" content="text/html; charset=utf-8" />
<meta http-equiv="X-UA-Compatible" content="IE=edge" />
<title>{_esc(title)}</title>
<meta name="generator" content="Hanweb JCMS" />
<meta name="SiteName" content="{_esc(self.name)}" />
<meta name="SiteDomain" content="jyj.bl.gov.cn" />
<meta name="SiteIDCode" content="3302060018" />
{meta}
{_HANWEB_STYLE}
<script language="javascript" src="/module/jslib/jquery/jquery.js"></script>
</head>
<body>
<div class="top">{_esc(self.name)}</div>
<div class="nav"><a href="/index.html">首页</a>""" + "".join(
            f'<a href="/col/col{c["id"]}/index.html">{_esc(c["name"])}</a>' for c in self.columns.values()
        ) + "</div>\n"

    def foot(self) -> str:
        return f"""<div class="footer">
<a href="/index.html">网站首页</a> | <a href="javascript:void(0)" onclick="window.external.addFavorite(location.href,document.title)">加入收藏</a> | <a href="/col/col122901/index.html">联系我们</a><br />
主办单位：{_esc(self.name)}　地址：宁波市北仑区新碶街道明州路1号　邮编：315800　<br />
浙ICP备05011234号-1　<img src="/images/gaba.png" alt="" />浙公网安备 33020602000456号　网站标识码：3302060018<br />
技术支持：大汉网络　<span class="hanweb">大汉版通发布系统</span>
</div>
</body>
</html>
"""

    @staticmethod
    def record(a: dict[str, Any]) -> str:
        title = a["title"]
        short = title if len(title) <= 30 else title[:29] + "…"
        return (f'<li><a href="{_hanweb_path(a["colid"], a["id"], a["published"])}" target="_blank" '
                f'title="{_esc(title)}">{_esc(short)}</a><span>{a["published"][:10]}</span></li>')

    def nextgroup(self, col: dict[str, Any]) -> str:
        return (f'<a href="/module/web/jpage/dataproxy.jsp?page=1&appid=1&webid={self.data["webid"]}&path=/'
                f'&columnid={col["id"]}&unitid={col["unitid"]}&webname={self.name}&permissiontype=0"></a>')

    # -------------------------------------------------------------------------------------- pages
    def home(self) -> str:
        blocks = []
        for c in self.columns.values():
            items = "\n".join(self.record(a) for a in self.by_column[c["id"]][:7])
            blocks.append(f"""<td width="33%" valign="top" class="right">
<div class="lmtitle"><span>{_esc(c["name"])}</span><a class="more" href="/col/col{c["id"]}/index.html">更多&gt;&gt;</a></div>
<ul>
{items}
</ul></td>""")
        return (self.head(self.name, {"ColumnName": "首页", "ColumnType": "首页"})
                + '<table width="1000" border="0" align="center" cellpadding="0" cellspacing="10" class="main"><tr>\n'
                + "\n".join(blocks) + "\n</tr></table>\n" + self.foot())

    def column_page(self, col: dict[str, Any]) -> str:
        arts = self.by_column[col["id"]]
        per = self.data["per_page"]
        total = len(arts)
        records = "\n".join(f"<record><![CDATA[\n{self.record(a)}]]></record>" for a in arts[:per])
        side = "".join(f'<li><a href="/col/col{c["id"]}/index.html">{_esc(c["name"])}</a></li>'
                       for c in self.columns.values())
        unit = f"""<div id="{col["unitid"]}"><script type="text/xml"><datastore>
<nextgroup><![CDATA[{self.nextgroup(col)}]]></nextgroup>
<recordset>
{records}
</recordset>
</datastore>
</script><script language="javascript" src="/module/web/jpage/jpage.js"></script>
<script type="text/javascript">
var jpage = new Jpage({{
	unitid: "{col["unitid"]}",
	proxyUrl: "/module/web/jpage/dataproxy.jsp",
	params: {{col: "1", appid: "1", webid: "{self.data["webid"]}", path: "/", columnid: "{col["id"]}", sourceContentType: "1", unitid: "{col["unitid"]}", webname: "{self.name}", permissiontype: "0"}},
	perPage: {per},
	groupSize: {HANWEB_GROUP},
	totalRecord: {total},
	totalPage: {max(1, math.ceil(total / per))}
}});
</script></div>"""
        return (self.head(f"{col['name']} - {self.name}", {"ColumnName": col["name"], "ColumnType": col["name"]})
                + f"""<table width="1000" border="0" align="center" cellpadding="0" cellspacing="0" class="main">
<tr>
<td width="200" valign="top" class="left"><div class="lmname">{_esc(col["name"])}</div><ul class="sidebar">{side}</ul></td>
<td width="800" valign="top" class="right">
<div class="position">当前位置：<a href="/index.html">首页</a> &gt; <a href="/col/col{col["id"]}/index.html">{_esc(col["name"])}</a></div>
{unit}
</td>
</tr>
</table>
""" + self.foot())

    def detail(self, a: dict[str, Any]) -> str:
        col = self.columns[a["colid"]]
        table = ""
        d = a["disclosure"]
        if d:
            table = f"""<table class="xxgk_table" width="100%" border="0" cellspacing="0" cellpadding="0">
<tr><td width="15%" class="xxgk_label">索引号：</td><td width="35%">{_esc(d["index_number"])}</td><td width="15%" class="xxgk_label">发布机构：</td><td width="35%">{_esc(d["publisher"])}</td></tr>
<tr><td class="xxgk_label">生成日期：</td><td>{d["written_date"]}</td><td class="xxgk_label">文号：</td><td>{_esc(d["docno"])}</td></tr>
<tr><td class="xxgk_label">公开方式：</td><td>主动公开</td><td class="xxgk_label">公开范围：</td><td>面向社会</td></tr>
</table>
"""
        fj = ""
        if a["attachments"]:
            links = "<br />\n".join(
                f'<a href="/module/download/downfile.jsp?classid=0&amp;filename={t["filename"]}">{_esc(t["name"])}</a>'
                for t in a["attachments"])
            fj = f'<tr><td class="fj">相关附件：<br />\n{links}</td></tr>\n'
        hits = (f'<script language="javascript" src="/module/visitcount/articlehits.jsp?colid={col["id"]}'
                f'&amp;artid={a["id"]}"></script>')
        return (self.head(f"{a['title']} - {self.name}", {
            "ColumnName": col["name"], "ColumnType": col["name"], "ArticleTitle": a["title"],
            "ContentSource": a["source"]})
                + f"""<table width="1000" border="0" align="center" cellpadding="0" cellspacing="0" class="main">
<tr><td class="position">当前位置：<a href="/index.html">首页</a> &gt; <a href="/col/col{col["id"]}/index.html">{_esc(col["name"])}</a></td></tr>
<tr><td valign="top">
{table}<table width="96%" border="0" align="center" cellpadding="0" cellspacing="0" class="article">
<tr><td class="title" align="center">{_esc(a["title"])}</td></tr>
<tr><td class="fbxx" align="center">发布日期：{a["published"][:10]}　　信息来源：{_esc(a["source"])}　　浏览次数：{hits}</td></tr>
<tr><td class="bt_content"><div id="zoom"><!--ZJEG_RSS.content.begin--><meta name="ContentStart" />
{a["body_html"]}
<meta name="ContentEnd" /><!--ZJEG_RSS.content.end--></div></td></tr>
{fj}<tr><td class="toolbar" align="right">【<a href="javascript:window.print()">打印</a>】【<a href="javascript:window.close()">关闭</a>】</td></tr>
</table>
</td></tr>
</table>
""" + self.foot())

    # --------------------------------------------------------------------------------- dataproxy
    def dataproxy(self, req: Request) -> Response:
        if req.method != "POST":
            return _tomcat_error(405, f"dataproxy.jsp 不支持 {req.method} 请求，请使用 POST", {"Allow": "POST"})

        @overload
        def number(name: str, default: int) -> int: ...
        @overload
        def number(name: str, default: None) -> int | None: ...
        def number(name: str, default: int | None) -> int | None:
            raw = req.param(name)
            if raw is None or raw == "":
                return default
            if not raw.strip().isdigit():
                raise ValueError(f"参数 {name} 不是有效的数字：{raw!r}")
            return int(raw)

        try:
            columnid = number("columnid", None)
            unitid = number("unitid", None)
            if columnid is None:
                raise ValueError("缺少参数 columnid")
            if unitid is None:
                raise ValueError("缺少参数 unitid")
            per = number("perpage", self.data["per_page"])
            start = number("startrecord", 1)
            if per < 1:
                raise ValueError("参数 perpage 必须大于 0")
            end = number("endrecord", start + per * HANWEB_GROUP - 1)
            start = max(1, start)
            if end < start:
                raise ValueError(f"参数错误：endrecord({end}) 小于 startrecord({start})")
            webid = number("webid", self.data["webid"])
        except ValueError as e:
            return _tomcat_error(400, str(e))
        col = self.columns.get(columnid)
        if col is None or col["unitid"] != unitid or webid != self.data["webid"]:
            arts: list[dict[str, Any]] = []
            group = ""
        else:
            arts = self.by_column[columnid]
            group = self.nextgroup(col)
        total = len(arts)
        records = "\n".join(f"<record><![CDATA[\n{self.record(a)}]]></record>" for a in arts[start - 1:end])
        body = (f'<?xml version="1.0" encoding="utf-8"?><datastore>\n<nextgroup><![CDATA[{group}]]></nextgroup>\n'
                f"<recordset>\n{records}\n</recordset>\n<totalrecord>{total}</totalrecord>\n"
                f"<totalpage>{math.ceil(total / per)}</totalpage>\n</datastore>\n")
        return Response(200, body.encode("utf-8"), "text/xml; charset=UTF-8")


JPAGE_JS = r"""/* Jpage: 大汉 JCMS 信息列表分页 (fixture rewrite, no jQuery) */
function Jpage(opts) {
  var unit = document.getElementById(String(opts.unitid));
  if (!unit) { return; }
  var perPage = opts.perPage, total = opts.totalRecord, groupSize = opts.groupSize || 3;
  var totalPage = Math.max(1, Math.ceil(total / perPage));
  var records = [];
  var xmlScript = unit.querySelector('script[type="text/xml"]');
  function parse(text) {
    var doc = new DOMParser().parseFromString(text, 'text/xml');
    return Array.prototype.map.call(doc.getElementsByTagName('record'), function (r) { return r.textContent; });
  }
  parse(xmlScript ? xmlScript.textContent : '<datastore/>').forEach(function (h, i) { records[i] = h; });
  var box = document.createElement('div'); box.className = 'default_pgContainer';
  var pager = document.createElement('div'); pager.className = 'default_pgPanel';
  unit.appendChild(box); unit.appendChild(pager);
  function encode(params) {
    return Object.keys(params).map(function (k) { return encodeURIComponent(k) + '=' + encodeURIComponent(params[k]); }).join('&');
  }
  function load(page, done) {
    var start = (page - 1) * perPage + 1, end = Math.min(total, start + perPage * groupSize - 1);
    var xhr = new XMLHttpRequest();
    xhr.open('POST', opts.proxyUrl + '?startrecord=' + start + '&endrecord=' + end + '&perpage=' + perPage);
    xhr.setRequestHeader('Content-Type', 'application/x-www-form-urlencoded');
    xhr.onload = function () {
      parse(xhr.responseText).forEach(function (h, i) { records[start - 1 + i] = h; });
      done();
    };
    xhr.send(encode(opts.params));
  }
  function btn(label, page, enabled) {
    return enabled ? '<a href="javascript:;" class="default_pgBtn" data-page="' + page + '">' + label + '</a>'
                   : '<span class="default_pgBtn default_pgDisabled">' + label + '</span>';
  }
  function show(page) {
    page = Math.min(Math.max(1, page), totalPage);
    var first = (page - 1) * perPage;
    if (total > first && !records[first]) { load(page, function () { show(page); }); return; }
    box.innerHTML = '<ul class="list">' + records.slice(first, first + perPage).join('') + '</ul>';
    pager.innerHTML = '<span class="default_pgTotalRecord">共' + total + '条</span> ' +
      '<span class="default_pgCurrentPage">' + page + '/' + totalPage + '页</span> ' +
      btn('首页', 1, page > 1) + btn('上页', page - 1, page > 1) +
      btn('下页', page + 1, page < totalPage) + btn('尾页', totalPage, page < totalPage);
    Array.prototype.forEach.call(pager.querySelectorAll('a[data-page]'), function (a) {
      a.onclick = function () { show(parseInt(a.getAttribute('data-page'), 10)); return false; };
    });
    if (window.history && history.replaceState) {
      history.replaceState(null, '', location.pathname + '?uid=' + opts.unitid + '&pageNum=' + page);
    }
  }
  var m = /[?&]pageNum=(\d+)/.exec(location.search);
  show(m ? parseInt(m[1], 10) : 1);
}
"""


# ====================================================================================== JS site pages
_JS_STYLE = """<style>
*{box-sizing:border-box}body{margin:0;font:14px/1.7 -apple-system,"PingFang SC","Microsoft YaHei",sans-serif;color:#222;background:#f6f7f9}
.site-header{background:#b0332b;color:#fff;padding:0 calc(50% - 560px)}.site-header .logo{color:#fff;font-size:24px;line-height:80px;text-decoration:none}
.site-header nav a{color:#fff;margin-right:24px;text-decoration:none}main{max-width:1120px;margin:24px auto;background:#fff;padding:24px 32px;min-height:420px}
#newsList{list-style:none;padding:0}#newsList li{display:flex;justify-content:space-between;border-bottom:1px solid #eee;line-height:44px}
#newsList a{color:#222;text-decoration:none}.date{color:#999}.pager a,.pager span{margin-right:12px}
.loading{color:#999}footer{text-align:center;color:#888;padding:24px}
</style>"""


class JsSite(_Site):
    server_version = "nginx/1.20.1"

    def __init__(self, data_dir: Path, api_delay: float = 0.0):
        super().__init__(_load_site(data_dir, "js"))
        self.api_delay = api_delay
        d = self.data
        self.name = d["name"]
        self.cats = {c["cat"]: c for c in d["columns"]}
        self.by_cat: dict[int, list[dict[str, Any]]] = {c: [] for c in self.cats}
        for a in d["articles"]:
            self.by_cat[a["cat"]].append(a)
        self.by_id = {a["id"]: a for a in d["articles"]}
        self.uploads = {t["path"] for a in d["articles"] for t in a["attachments"]}

    def handle(self, req: Request) -> Response:
        p = req.path
        if req.method not in ("GET", "HEAD"):
            if p.startswith("/api/"):
                return self.json({"code": 405, "msg": "Method Not Allowed"}, 405, {"Allow": "GET"})
            return Response(405, b"<html><body><h1>405 Not Allowed</h1></body></html>", "text/html",
                            {"Allow": "GET, HEAD"})
        if p == "/api/news":
            self.delay()
            return self.api_list(req)
        m = re.fullmatch(r"/api/news/([^/]+)", p)
        if m:
            self.delay()
            return self.api_detail(m.group(1))
        if p in ("/", "/index.html"):
            return self.page("首页", self.home_main(), "NewsApp.home();")
        if p == "/news/list.html":
            return self.page("新闻列表", '<h2 id="catName"></h2>\n<div id="loading" class="loading">加载中…</div>\n'
                                         '<ul id="newsList"></ul>\n<div id="pager" class="pager"></div>',
                             "NewsApp.list();")
        if p == "/news/detail.html":
            return self.page("正文", '<div id="loading" class="loading">加载中…</div>\n<article class="detail">\n'
                                    '<h1 id="title"></h1>\n<div class="meta">发布时间：<span id="pubdate"></span>　'
                                    '来源：<span id="source"></span></div>\n<div id="content"></div>\n'
                                    '<div id="attachments"></div>\n</article>', "NewsApp.detail();")
        if p == "/static/js/news.js":
            return Response(200, NEWS_JS.replace("__SITE__", self.name).encode("utf-8"),
                            "application/javascript; charset=utf-8")
        if p == "/robots.txt":
            return Response(200, b"User-agent: *\nDisallow: /admin/\n", "text/plain; charset=utf-8")
        if p in self.uploads:
            att = next(t for a in self.data["articles"] for t in a["attachments"] if t["path"] == p)
            return self.file(self.data_dir / p.lstrip("/"), att["name"])
        return Response(404, b"<html><head><title>404 Not Found</title></head><body><center><h1>404 Not Found</h1>"
                             b"</center><hr><center>nginx/1.20.1</center></body></html>", "text/html")

    def delay(self) -> None:
        if self.api_delay > 0:
            time.sleep(self.api_delay)

    @staticmethod
    def json(obj: object, status: int = 200, headers: dict[str, str] | None = None) -> Response:
        return Response(status, json.dumps(obj, ensure_ascii=False).encode("utf-8"),
                        "application/json; charset=utf-8", headers or {})

    def api_list(self, req: Request) -> Response:
        cat_raw, page_raw = req.param("cat"), req.param("page") or "1"
        if not cat_raw or not cat_raw.isdigit() or int(cat_raw) not in self.cats:
            return self.json({"code": 400, "msg": f"invalid cat: {cat_raw!r}"}, 400)
        if not page_raw.isdigit() or int(page_raw) < 1:
            return self.json({"code": 400, "msg": f"invalid page: {page_raw!r}"}, 400)
        cat, page, per = int(cat_raw), int(page_raw), self.data["per_page"]
        arts = self.by_cat[cat]
        items = [{"id": a["id"], "title": a["title"], "date": a["published"][:10],
                  "url": f"/news/detail.html?id={a['id']}"} for a in arts[(page - 1) * per:page * per]]
        return self.json({"code": 200, "cat": cat, "cat_name": self.cats[cat]["name"], "page": page,
                          "per_page": per, "total": len(arts), "pages": max(1, math.ceil(len(arts) / per)),
                          "items": items})

    def api_detail(self, raw: str) -> Response:
        if not raw.isdigit():
            return self.json({"code": 400, "msg": f"invalid id: {raw!r}"}, 400)
        a = self.by_id.get(int(raw))
        if a is None:
            return self.json({"code": 404, "msg": "文章不存在"}, 404)
        return self.json({"code": 200, "id": a["id"], "cat": a["cat"], "cat_name": self.cats[a["cat"]]["name"],
                          "title": a["title"], "date": a["published"][:10], "published": a["published"],
                          "source": a["source"], "hits": a["hits"], "content": a["content"],
                          "attachments": [{"name": t["name"], "url": t["path"], "file_type": t["file_type"]}
                                          for t in a["attachments"]]})

    def home_main(self) -> str:
        blocks = "\n".join(
            f'<section class="block"><h3><a href="/news/list.html?cat={c}&amp;page=1">{_esc(self.cats[c]["name"])}</a>'
            f'</h3><ul class="latest" id="latest{c}" data-cat="{c}"></ul></section>'
            for c in self.cats if self.cats[c]["linked"])
        return '<div id="loading" class="loading">加载中…</div>\n' + blocks

    def page(self, title: str, main: str, call: str) -> Response:
        nav = "".join(f'<a href="/news/list.html?cat={c}&amp;page=1">{_esc(v["name"])}</a>'
                      for c, v in self.cats.items() if v["linked"])
        text = f"""<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{_esc(title)} - {_esc(self.name)}</title>
{_JS_STYLE}
</head>
<body>
<div id="app" data-state="loading">
<header class="site-header"><a class="logo" href="/">{_esc(self.name)}</a>
<nav><a href="/">首页</a>{nav}</nav></header>
<main>
{main}
</main>
<footer>主办：{_esc(self.name)}　浙ICP备05011234号-3　<noscript>请启用浏览器的 JavaScript 以浏览本站内容。</noscript></footer>
</div>
<script src="/static/js/news.js"></script>
<script>{call}</script>
</body>
</html>
"""
        return Response(200, text.encode("utf-8"), "text/html; charset=utf-8")


NEWS_JS = r"""/* news.js - 列表与正文由接口渲染 */
(function () {
  'use strict';
  var SITE = '__SITE__';
  function $(id) { return document.getElementById(id); }
  function qs(name) { return new URLSearchParams(location.search).get(name); }
  function getJSON(url) {
    return fetch(url, {headers: {'Accept': 'application/json'}}).then(function (r) {
      return r.json().then(function (data) {
        if (!r.ok) { throw new Error(data.msg || ('HTTP ' + r.status)); }
        return data;
      });
    });
  }
  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    if (text !== undefined) { e.textContent = text; }
    return e;
  }
  function finish(err) {
    var loading = $('loading');
    if (loading) {
      if (err) { loading.textContent = '加载失败：' + err.message; } else { loading.style.display = 'none'; }
    }
    $('app').setAttribute('data-state', err ? 'error' : 'loaded');
  }
  function items(ul, list) {
    list.forEach(function (it) {
      var li = el('li');
      li.appendChild(el('a', {href: it.url, title: it.title}, it.title));
      li.appendChild(el('span', {'class': 'date'}, it.date));
      ul.appendChild(li);
    });
  }
  window.NewsApp = {
    home: function () {
      var lists = Array.prototype.slice.call(document.querySelectorAll('ul.latest'));
      Promise.all(lists.map(function (ul) {
        return getJSON('/api/news?cat=' + ul.getAttribute('data-cat') + '&page=1').then(function (d) {
          items(ul, d.items.slice(0, 8));
        });
      })).then(function () { finish(); }, finish);
    },
    list: function () {
      var cat = qs('cat') || '1', page = parseInt(qs('page') || '1', 10) || 1;
      getJSON('/api/news?cat=' + encodeURIComponent(cat) + '&page=' + page).then(function (d) {
        document.title = d.cat_name + ' - ' + SITE;
        $('catName').textContent = d.cat_name;
        items($('newsList'), d.items);
        var pager = $('pager');
        if (d.page > 1) {
          pager.appendChild(el('a', {'class': 'prev', href: 'list.html?cat=' + d.cat + '&page=' + (d.page - 1)}, '上一页'));
        }
        pager.appendChild(el('span', {'class': 'info'}, '第' + d.page + '/' + d.pages + '页 共' + d.total + '条'));
        if (d.page < d.pages) {
          pager.appendChild(el('a', {'class': 'next', href: 'list.html?cat=' + d.cat + '&page=' + (d.page + 1)}, '下一页'));
        }
        if (!d.items.length) { throw new Error('暂无数据'); }
        finish();
      }).catch(finish);
    },
    detail: function () {
      getJSON('/api/news/' + encodeURIComponent(qs('id') || '')).then(function (d) {
        document.title = d.title + ' - ' + SITE;
        $('title').textContent = d.title;
        $('pubdate').textContent = d.published;
        $('source').textContent = d.source;
        $('content').innerHTML = d.content;
        var box = $('attachments');
        if (d.attachments.length) {
          box.appendChild(el('span', {}, '附件：'));
          d.attachments.forEach(function (t) {
            var p = el('p');
            p.appendChild(el('a', {href: t.url, download: ''}, t.name));
            box.appendChild(p);
          });
        }
        finish();
      }).catch(finish);
    }
  };
})();
"""


# ============================================================================================ servers
@contextmanager
def hanweb_server(data_dir: Path, host: str = "127.0.0.1", port: int | None = None) -> Iterator[str]:
    """Serve the Hanweb site (jyj) of *data_dir* (see :func:`generate_hanweb`); yield ``http://host:port``."""
    with _serve(HanwebSite(data_dir), host, port) as url:
        yield url


@contextmanager
def jsapp_server(data_dir: Path, host: str = "127.0.0.1", port: int | None = None,
                 api_delay: float = 0.0) -> Iterator[str]:
    """Serve the JS site (wlj) of *data_dir* (see :func:`generate_jsapp`); yield ``http://host:port``.

    *api_delay* seconds are slept before every ``/api/`` answer (to exercise a browser crawl's waiting)."""
    with _serve(JsSite(data_dir, api_delay=api_delay), host, port) as url:
        yield url


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m fixture_sites.modern_sites",
                                 description="Serve the Hanweb (jyj) or the JS (wlj) fixture site in the foreground.")
    ap.add_argument("site", choices=["hanweb", "jsapp"])
    ap.add_argument("data_dir", type=Path)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=None, help="default: a free port")
    ap.add_argument("--generate", action="store_true", help="(re)generate DATA_DIR first")
    ap.add_argument("--seed", type=int, default=2024)
    ap.add_argument("--articles", type=int, default=None, help="default: 100 (hanweb), 60 (jsapp)")
    ap.add_argument("--filler", type=int, default=0, help="jsapp: articles in the unlinked column 3 (存档)")
    ap.add_argument("--api-delay", type=float, default=0.0, help="jsapp: seconds before every API answer")
    args = ap.parse_args(argv)
    if args.site == "hanweb":
        if args.generate:
            generate_hanweb(args.data_dir, seed=args.seed, n_articles=args.articles or 100)
        server = hanweb_server(args.data_dir, host=args.host, port=args.port)
    else:
        if args.generate:
            generate_jsapp(args.data_dir, seed=args.seed, n_articles=args.articles or 60, n_filler=args.filler)
        server = jsapp_server(args.data_dir, host=args.host, port=args.port, api_delay=args.api_delay)
    code = "jyj" if args.site == "hanweb" else "wlj"
    return serve_in_foreground(server, code, args.data_dir)


if __name__ == "__main__":
    raise SystemExit(main())
