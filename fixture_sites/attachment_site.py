"""A fixture subsite whose documents are their attachments: 北仑区司法局 (``sfj``), a JSP-style CMS.

District notices are often two lines and ``附件：1.xxx.pdf``; this site serves the files of
:func:`fixture_sites.attachment_files.attachment_set` the way such sites do, each under one
article of its 政策文件 column::

    with attachment_server(seed=7) as (base_url, truth):
        ...  # truth: every article and each attachment's URL, name, bytes and ground-truth text

Pages (UTF-8): ``/`` (home: nav to the column), ``/col/zcwj.jsp?page=N`` (10 entries a page,
newest first, ``下一页`` link), ``/art/N.jsp`` (``h1.title``, ``div.info`` with 发布日期,
``div.content``: two paragraphs, then ``附件：`` links). The first article links two files, and one
file is linked by two articles (kept once).

Attachments, three ways in turn, as real installs serve them:

* ``/uploadfile/2024/N.ext``: a static file, its type guessed by the server from the link's
  extension (so a ``.doc`` that is RTF or HTML is served as ``application/msword``: the bytes tell);
* ``/downfile.jsp?filename=N.ext``: ``application/octet-stream`` with the Chinese name as raw GBK
  bytes in ``Content-Disposition: attachment; filename="…"`` (what old Java download servlets send);
* ``/download.php?id=N``: ``application/octet-stream`` with RFC 5987 ``filename*=UTF-8''…``.

Every file answers with an ``ETag`` and ``Last-Modified`` and honours ``If-None-Match`` (304).
Hostile files: the endless one streams forever (no ``Content-Length``; the server stops after
256 MiB or when the client hangs up); the truncated one announces its whole length and closes the
connection halfway (a download cut short); the PDF bomb is served as it is. ``requests`` counts
the requests per path (a test reads what was fetched again).

Foreground use: ``python -m fixture_sites.attachment_site [--port N] [--seed S]``.
"""

from __future__ import annotations

import argparse
import hashlib
import html
import json
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlsplit

from fixture_sites.attachment_files import FixtureFile, attachment_set
from fixture_sites.servers import serve_in_foreground, threaded_http_server

__all__ = ["SFJ_CODE", "SFJ_ORIGIN", "AttachmentSite", "attachment_server", "build_site", "generate", "site_server"]

SFJ_CODE = "sfj"
SFJ_NAME = "北仑区司法局"
SFJ_ORIGIN = "http://sfj.bl.gov.cn"
PER_PAGE = 10
ENDLESS_LIMIT = 256 * 1024 * 1024
LAST_MODIFIED = "Tue, 12 Mar 2024 01:30:00 GMT"
TYPES_BY_EXT = {"pdf": "application/pdf", "doc": "application/msword", "docx": "application/vnd.openxmlformats-"
                "officedocument.wordprocessingml.document", "xls": "application/vnd.ms-excel",
                "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "rtf": "application/rtf",
                "zip": "application/zip", "ofd": "application/ofd"}


@dataclass
class Served:
    """One attachment as the site serves it."""

    number: int
    file: FixtureFile
    path: str  # the link's path and query
    style: str  # static, gbk-disposition, rfc5987

    @property
    def ext(self) -> str:
        return self.file.name.rsplit(".", 1)[-1].lower()

    @property
    def etag(self) -> str:
        return '"' + hashlib.sha1(self.file.data or b"endless").hexdigest()[:16] + '"'

    def truth(self, origin: str) -> dict[str, Any]:
        return {"url": origin + self.path, "name": self.file.name, "family": self.file.family,
                "truth": self.file.truth, "kind": self.file.kind, "expect": self.file.expect,
                "endless": self.file.endless, "truncated": "截断" in self.file.name,
                "sha256": hashlib.sha256(self.file.data).hexdigest() if not self.file.endless else None,
                "style": self.style}


@dataclass
class AttachmentSite:
    """The site's articles (newest first) and files; ``requests`` counts requests per path."""

    articles: list[dict[str, Any]]
    files: dict[str, Served]  # by path (and query)
    requests: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)
    file_delay: float = 0.0  # seconds each file takes to start (a slow file server)
    offsite_entry: str | None = None  # a list entry linking off the site (a compromised or careless CMS)
    list_titles: dict[int, str] = field(default_factory=dict)  # article id → another title its list shows

    def truth(self, origin: str = SFJ_ORIGIN) -> dict[str, Any]:
        return {"site": {"code": SFJ_CODE, "name": SFJ_NAME, "origin": SFJ_ORIGIN},
                "articles": [{"id": a["id"], "url": f"{origin}/art/{a['id']}.jsp", "title": a["title"],
                              "date": a["date"], "attachments": [self.files[p].truth(origin) for p in a["files"]]}
                             for a in self.articles]}


def _title(file: FixtureFile) -> str:
    stem = file.name.rsplit(".", 1)[0]
    for prefix in ("附件1：", "附件2：", "附件3：", "附件："):
        stem = stem.removeprefix(prefix)
    return stem if len(stem) >= 6 else f"关于印发{stem}的通知"


def build_site(seed: int = 0, *, hostile: bool = True) -> AttachmentSite:
    """The site for ``seed``: one article per file of the attachment set (the first article
    links the first two files; the last article links the first file again); ``hostile``
    False: without the bomb, the endless and the truncated file."""
    files = [f for f in attachment_set(seed) if hostile or f.kind != "hostile"]
    served: dict[str, Served] = {}
    styles = ("static", "gbk-disposition", "rfc5987")
    for n, f in enumerate(files, start=1):
        style = "gbk-disposition" if f.endless else styles[n % 3]
        ext = f.name.rsplit(".", 1)[-1].lower()
        path = {"static": f"/uploadfile/2024/{20240300 + n}.{ext}",
                "gbk-disposition": f"/downfile.jsp?filename={20240300 + n}.{ext}",
                "rfc5987": f"/download.php?id={n}"}[style]
        served[path] = Served(n, f, path, style)
    paths = list(served)
    groups = [paths[:2]] + [[p] for p in paths[2:]] + [[paths[0]]]
    articles = []
    for i, group in enumerate(groups, start=1):
        first = served[group[0]].file
        title = _title(first) if i < len(groups) else f"{_title(first)}（再次公布）"
        articles.append({"id": 100 + i, "title": title, "date": f"2024-{(i % 12) + 1:02d}-{(i % 27) + 1:02d}",
                         "files": group})
    articles.sort(key=lambda a: (a["date"], a["id"]), reverse=True)
    return AttachmentSite(articles, served)


def _page(title: str, body: str) -> bytes:
    return (f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>{html.escape(title)}_{SFJ_NAME}</title>'
            f'</head><body><div class="top"><a href="/">{SFJ_NAME}</a> <a href="/col/zcwj.jsp">政策文件</a></div>'
            f'{body}<div class="footer">版权所有：{SFJ_NAME}</div></body></html>').encode()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 15
    site: AttachmentSite

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def version_string(self) -> str:
        return "Apache-Coyote/1.1"

    def _send(self, status: int, body: bytes, content_type: str, headers: list[tuple[str, str | bytes]] | None = None,
              length: int | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body) if length is None else length))
        self._send_headers(headers or [])
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _send_headers(self, headers: list[tuple[str, str | bytes]]) -> None:
        for key, value in headers:
            if isinstance(value, bytes):  # raw bytes in a header, as old servlets write them
                self._headers_buffer.append(key.encode("latin-1") + b": " + value + b"\r\n")  # type: ignore[attr-defined]
            else:
                self.send_header(key, value)

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        path = unquote(parts.path)
        query = dict(parse_qsl(parts.query))
        full = parts.path + (f"?{parts.query}" if parts.query else "")
        with self.site.lock:
            self.site.requests[full] += 1
        if path in ("/", "/index.jsp"):
            latest = "".join(f'<li><a href="/art/{a["id"]}.jsp">{html.escape(a["title"])}</a></li>'
                             for a in self.site.articles[:5])
            return self._send(200, _page("首页", f'<ul class="latest">{latest}</ul>'), "text/html; charset=utf-8")
        if path == "/col/zcwj.jsp":
            return self._list(int(query.get("page", "1") or 1))
        if path.startswith("/art/") and path.endswith(".jsp"):
            return self._article(path[5:-4])
        if path == "/robots.txt":
            return self._send(200, b"User-agent: *\nDisallow: /admin/\n", "text/plain")
        served = self.site.files.get(full)
        if served is None and path == "/downfile.jsp":
            served = self.site.files.get(f"/downfile.jsp?filename={query.get('filename', '')}")
        if served is None and path == "/download.php":
            served = self.site.files.get(f"/download.php?id={query.get('id', '')}")
        if served is None:
            return self._send(404, _page("404", "<p>您访问的页面不存在</p>"), "text/html; charset=utf-8")
        return self._file(served)

    def _list(self, page: int) -> None:
        arts = self.site.articles
        pages = max(1, -(-len(arts) // PER_PAGE))
        page = min(max(page, 1), pages)
        listed = self.site.list_titles
        rows = "".join(f'<li><a href="/art/{a["id"]}.jsp" title="{html.escape(listed.get(a["id"], a["title"]))}">'
                       f'{html.escape(listed.get(a["id"], a["title"]))}</a><span class="date">{a["date"]}</span></li>'
                       for a in arts[(page - 1) * PER_PAGE: page * PER_PAGE])
        if self.site.offsite_entry and page == 1:
            rows += (f'<li><a href="{html.escape(self.site.offsite_entry)}" title="转载：外部链接">转载：外部链接</a>'
                     '<span class="date">2024-01-01</span></li>')
        pager = f'<a href="/col/zcwj.jsp?page={page + 1}">下一页</a>' if page < pages else ""
        body = f'<h2>政策文件</h2><ul class="list">{rows}</ul><div class="pager">第{page}/{pages}页 {pager}</div>'
        self._send(200, _page("政策文件", body), "text/html; charset=utf-8")

    def _article(self, number: str) -> None:
        art = next((a for a in self.site.articles if str(a["id"]) == number), None)
        if art is None:
            return self._send(404, _page("404", "<p>您访问的页面不存在</p>"), "text/html; charset=utf-8")
        links = "".join(f'<p><a href="{html.escape(p)}">{i}.{html.escape(self.site.files[p].file.name)}</a></p>'
                        for i, p in enumerate(art["files"], start=1))
        body = (f'<h1 class="title">{html.escape(art["title"])}</h1><div class="info">发布日期：{art["date"]}'
                f'　来源：{SFJ_NAME}</div><div class="content"><p>现将《{html.escape(art["title"])}》印发给你们，'
                f'请结合实际，认真贯彻执行。</p><p>特此通知。</p><p>附件：</p>{links}</div>')
        self._send(200, _page(art["title"], body), "text/html; charset=utf-8")
        return None

    def _file(self, served: Served) -> None:
        f = served.file
        if self.site.file_delay:
            time.sleep(self.site.file_delay)
        headers: list[tuple[str, str | bytes]] = [("ETag", served.etag), ("Last-Modified", LAST_MODIFIED)]
        if served.style == "static":
            ctype = TYPES_BY_EXT.get(served.ext, "application/octet-stream")
        else:
            ctype = "application/octet-stream"
            if served.style == "gbk-disposition":
                headers.append(("Content-Disposition", b'attachment; filename="' + f.name.encode("gbk") + b'"'))
            else:
                headers.append(("Content-Disposition", f"attachment; filename*=UTF-8''{quote(f.name)}"))
        if self.headers.get("If-None-Match") == served.etag:
            self.send_response(304)
            self.send_header("ETag", served.etag)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return None
        if f.endless:
            return self._endless(ctype, headers)
        if "截断" in f.name:  # the whole length announced, half of it sent, the connection closed
            self.close_connection = True
            self._send(200, f.data[: len(f.data) // 2], ctype, headers, length=len(f.data))
            return None
        self._send(200, f.data, ctype, headers)
        return None

    def _endless(self, ctype: str, headers: list[tuple[str, str | bytes]]) -> None:
        self.close_connection = True
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Connection", "close")
        self._send_headers(headers)
        self.end_headers()
        chunk = b"%PDF-1.4\n" + b"0" * (64 * 1024 - 9)
        sent = 0
        try:
            while sent < ENDLESS_LIMIT:
                self.wfile.write(chunk)
                sent += len(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def do_HEAD(self) -> None:
        self.do_GET()


@contextmanager
def attachment_server(seed: int = 0, host: str = "127.0.0.1", port: int | None = None,
                      site: AttachmentSite | None = None) -> Iterator[tuple[str, AttachmentSite]]:
    """Serve the site (built from ``seed``, or ``site``); yield its base URL and the site."""
    site = site or build_site(seed)
    handler = type("AttachmentHandler", (_Handler,), {"site": site})
    with threaded_http_server(handler, host, port, "attachments") as url:
        yield url, site


def generate(out_dir: Path, seed: int = 0, n_articles: int = 0, *, hostile: bool = False) -> Path:
    """Write ``site.json`` into *out_dir*: the seed the site is built from when served (its files
    are generated again from it, the same bytes), without the hostile files unless ``hostile``
    (``blgw demo`` shows the main job). ``n_articles`` is ignored: the site has one article per
    file of the attachment set."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "site.json").write_text(json.dumps({"seed": seed, "hostile": hostile}), encoding="utf-8")
    return out_dir


@contextmanager
def site_server(data_dir: Path, host: str = "127.0.0.1", port: int | None = None) -> Iterator[str]:
    """Serve the site *data_dir* describes (:func:`generate`); yield its base URL."""
    conf = json.loads((Path(data_dir) / "site.json").read_text(encoding="utf-8"))
    with attachment_server(host=host, port=port, site=build_site(conf["seed"], hostile=conf["hostile"])) as (url, _):
        yield url


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=None)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    @contextmanager
    def url_only() -> Iterator[str]:
        with attachment_server(args.seed, args.host, args.port) as (url, _):
            yield url

    return serve_in_foreground(url_only(), SFJ_CODE, note=f"seed {args.seed}")


if __name__ == "__main__":
    raise SystemExit(main())
