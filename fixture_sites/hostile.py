"""A compromised subsite (被篡改的子站), and a canary that must never hear from the gateway.

:class:`Canary` listens on another port of the subsite's own loopback address and on another
loopback address (``127.0.0.2``): the "internal services" a planted link would reach. It records
every connection it accepts, whatever is sent (HTTP, a WebSocket upgrade, a TLS hello).

:func:`hostile_server` serves 北仑区某街道 (code ``hos``), a plain HTML subsite whose pages carry
every trick a defaced legacy site can play to send a crawler elsewhere: links to the canary in
every spelling of its address (integer, hex, octal, short, IPv4-mapped IPv6, full-width dots,
percent-escapes, a trailing dot, ``localhost``), with credentials in front of the host or a
backslash in the authority, scheme-relative, ``javascript:window.open(…)`` and ``onclick``
links, 301/302 redirects and a redirect chain into the canary, a meta refresh, ``file:``,
``ftp:`` and ``data:`` links, a cloud metadata address, a next-page link into the canary, and
embedded images, frames, scripts, stylesheets and attachments pointing at it. Two articles are
real: ``/ok/1.html`` and ``/ok/2.html``.

:func:`hostile_js_server` serves ``hosjs``, the same story rendered by JavaScript in the
browser: a list page that calls ``fetch()``, ``XMLHttpRequest``, ``new Image()``, ``WebSocket``,
``EventSource``, ``navigator.sendBeacon``, ``window.open``, a prefetch and an iframe at the
canary, and articles that navigate away: after rendering (``/js/1.html``: the browser stays on
the page, which is stored), while loading (``/js/2.html``: ``location.href``) and by posting a
form (``/js/3.html``) — those two never finish loading and are named as failed pages.

``plugin_toml(code, base_url)`` is each site's plugin.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from urllib.parse import urlsplit

from fixture_sites.servers import free_port, threaded_http_server

__all__ = ["Canary", "canary", "hostile_js_server", "hostile_server", "planted_urls", "plugin_toml"]

CANARY_OTHER_ADDRESS = "127.0.0.2"


@dataclass
class Canary:
    """Where the canary listens, and every connection it got (peer address, first bytes)."""

    same_host_port: int  # on 127.0.0.1, beside the subsite
    other_address_port: int  # on 127.0.0.2
    hits: list[tuple[str, bytes]] = field(default_factory=list)

    @property
    def same_host(self) -> str:
        return f"http://127.0.0.1:{self.same_host_port}"

    @property
    def other(self) -> str:
        return f"http://{CANARY_OTHER_ADDRESS}:{self.other_address_port}"


def _listen(address: str, port: int, record: list[tuple[str, bytes]], stop: threading.Event) -> socket.socket:
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind((address, port))
    server.listen(64)
    server.settimeout(0.1)

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, peer = server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with conn:
                conn.settimeout(1.0)
                try:
                    data = conn.recv(2048)
                except OSError:
                    data = b""
                record.append((f"{address}:{port} from {peer[0]}", data))
                with contextlib.suppress(OSError):
                    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 36\r\n\r\n"
                                 b"<html><title>INTERNAL</title></html>")

    threading.Thread(target=serve, name=f"canary-{address}-{port}", daemon=True).start()
    return server


@contextlib.contextmanager
def canary() -> Iterator[Canary]:
    """A canary on another port of 127.0.0.1 and on 127.0.0.2 (see the module documentation)."""
    bird = Canary(free_port("127.0.0.1"), free_port(CANARY_OTHER_ADDRESS))
    stop = threading.Event()
    sockets = [_listen("127.0.0.1", bird.same_host_port, bird.hits, stop),
               _listen(CANARY_OTHER_ADDRESS, bird.other_address_port, bird.hits, stop)]
    try:
        yield bird
    finally:
        stop.set()
        time.sleep(0.15)
        for s in sockets:
            s.close()


def planted_urls(bird: Canary, site_port: int) -> dict[str, str]:
    """Every planted list-entry link, by what it tries."""
    p1, p2 = bird.same_host_port, bird.other_address_port
    return {
        "another port of the site's host": f"{bird.same_host}/p/port",
        "another loopback address": f"{bird.other}/p/address",
        "the address as one integer": f"http://2130706434:{p2}/p/integer",
        "the address in hex": f"http://0x7f000002:{p2}/p/hex",
        "the address in octal": f"http://0177.0.0.2:{p2}/p/octal",
        "the address with fewer parts": f"http://127.2:{p2}/p/short",
        "IPv4-mapped IPv6": f"http://[::ffff:127.0.0.2]:{p2}/p/mapped",
        "full-width dots": f"http://127。0。0。2:{p2}/p/fullwidth",
        "percent-escaped host": f"http://%31%32%37.0.0.2:{p2}/p/escaped",
        "a trailing dot": f"http://127.0.0.2.:{p2}/p/trailing-dot",
        "localhost": f"http://localhost:{p1}/p/localhost",
        "credentials before the host": f"http://hos.bl.gov.cn@127.0.0.2:{p2}/p/userinfo",
        "a backslash in the authority": f"http://127.0.0.1:{site_port}\\@127.0.0.2:{p2}/p/backslash",
        "scheme-relative": f"//127.0.0.2:{p2}/p/scheme-relative",
        "cloud metadata": "http://169.254.169.254/latest/meta-data/",
        "ftp": f"ftp://127.0.0.2:{p2}/p/ftp",
        "an endless URL": "/p/long?" + "x" * 3000,
    }


def _list_page(bird: Canary, site_port: int) -> str:
    items = [f'<li><a href="{url}">{what}</a><span>2024-05-0{i % 9 + 1}</span></li>'
             for i, (what, url) in enumerate(planted_urls(bird, site_port).items())]
    items += [
        '<li><a href="/ok/1.html">北仑区某街道关于开展安全检查的通知</a><span>2024-05-01</span></li>',
        '<li><a href="/ok/2.html">北仑区某街道工作动态</a><span>2024-05-02</span></li>',
        f'<li><a href="javascript:window.open(\'{bird.other}/p/window-open\')">弹出窗口</a><span>2024-05-03</span></li>',
        f'<li><a href="#" onclick="location.href=\'{bird.other}/p/onclick\'">点击跳转</a><span>2024-05-03</span></li>',
        '<li><a href="/redirect/301">已迁移</a><span>2024-05-04</span></li>',
        '<li><a href="/redirect/chain">多次跳转</a><span>2024-05-04</span></li>',
        '<li><a href="/meta-refresh.html">自动跳转</a><span>2024-05-05</span></li>',
        '<li><a href="file:///etc/passwd">本地文件</a><span>2024-05-05</span></li>',
        '<li><a href="data:text/html,&lt;h1&gt;x&lt;/h1&gt;">数据地址</a><span>2024-05-06</span></li>',
    ]
    return ("<html><head><meta charset='utf-8'><title>通知公告 - 北仑区某街道</title></head><body>"
            "<ul class='list'>" + "".join(items) + "</ul>"
            f"<a class='next' href='{bird.other}/p/next-page'>下一页</a></body></html>")


def _article(n: int, bird: Canary) -> str:
    return (f"<html><head><meta charset='utf-8'><title>文章{n}</title>"
            f"<link rel='stylesheet' href='{bird.other}/s/style.css'>"
            f"<script src='{bird.same_host}/s/script.js'></script></head><body>"
            f"<h1>{'北仑区某街道关于开展安全检查的通知' if n == 1 else '北仑区某街道工作动态'}</h1>"
            "<div class='info'>发布时间：2024-05-0%d</div>" % n +
            "<div id='zoom'><p>各社区：为做好安全生产工作，现将有关事项通知如下。</p>"
            f"<p>详见<a href='{bird.other}/s/planted.html'>相关链接</a>。</p>"
            f"<img src='{bird.other}/s/image.png'><iframe src='{bird.same_host}/s/frame.html'></iframe>"
            f"<embed src='http://2130706434:{bird.other_address_port}/s/movie.swf'>"
            f"<p>附件：<a href='{bird.other}/s/attachment.pdf'>1.安全检查表.pdf</a></p></div>"
            "</body></html>")


def _handler(bird: Canary, site_port: int) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def _send(self, status: int, body: str = "", headers: dict[str, str] | None = None) -> None:
            data = body.encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        def do_HEAD(self) -> None:
            self.do_GET()

        def do_GET(self) -> None:
            path = urlsplit(self.path).path
            if path in ("/", "/index.html"):
                self._send(200, "<html><body><a href='/list.html'>通知公告</a></body></html>")
            elif path == "/list.html":
                self._send(200, _list_page(bird, site_port))
            elif path in ("/ok/1.html", "/ok/2.html"):
                self._send(200, _article(int(path[4]), bird))
            elif path == "/redirect/301":
                self._send(301, "", {"Location": f"{bird.same_host}/p/redirect-301"})
            elif path == "/redirect/chain":
                self._send(302, "", {"Location": "/redirect/chain-2"})
            elif path == "/redirect/chain-2":
                self._send(302, "", {"Location": f"http://0x7f000002:{bird.other_address_port}/p/redirect-chain"})
            elif path == "/meta-refresh.html":
                self._send(200, f"<html><head><meta http-equiv='refresh' content='0;url={bird.other}/p/refresh'>"
                                "</head><body></body></html>")
            elif path == "/robots.txt":
                self._send(200, "User-agent: *\nDisallow:\n")
            else:
                self._send(404, "<html><body>not found</body></html>")

    return Handler


@contextlib.contextmanager
def hostile_server(bird: Canary) -> Iterator[str]:
    """Serve the compromised HTML subsite ``hos`` on 127.0.0.1; yield its URL."""
    port = free_port()
    with threaded_http_server(_handler(bird, port), port=port, label="hostile") as url:
        yield url


_JS_LIST = """<!doctype html><html><head><meta charset="utf-8"><title>通知公告</title>
<link rel="prefetch" href="{other}/js/prefetch">
<link rel="dns-prefetch" href="{other}">
</head><body><div id="app" data-state="loading"></div>
<iframe src="{other}/js/iframe"></iframe>
<script>
document.getElementById('app').innerHTML =
  '<ul id="list"><li><a href="/js/1.html">北仑区某街道通知（脚本页）</a><span class="date">2024-05-01</span></li>' +
  '<li><a href="/js/2.html">立即跳走的文章</a><span class="date">2024-05-02</span></li>' +
  '<li><a href="/js/3.html">提交表单的文章</a><span class="date">2024-05-03</span></li></ul>';
document.getElementById('app').setAttribute('data-state', 'loaded');
try {{ fetch('{same}/js/fetch'); }} catch (e) {{}}
try {{ var x = new XMLHttpRequest(); x.open('GET', '{other}/js/xhr'); x.send(); }} catch (e) {{}}
try {{ new Image().src = 'http://2130706434:{p2}/js/image'; }} catch (e) {{}}
try {{ new WebSocket('ws://127.0.0.2:{p2}/js/ws'); }} catch (e) {{}}
try {{ new EventSource('{other}/js/events'); }} catch (e) {{}}
try {{ navigator.sendBeacon('{other}/js/beacon', 'x'); }} catch (e) {{}}
try {{ window.open('{other}/js/window-open'); }} catch (e) {{}}
</script></body></html>"""

_JS_ARTICLE = """<!doctype html><html><head><meta charset="utf-8"><title>文章</title></head><body>
<div id="app" data-state="loading"></div>
<script>
{navigate_first}
document.getElementById('app').innerHTML =
  '<h1 id="title">北仑区某街道通知（脚本页）</h1><div id="pubdate">2024-05-01</div>' +
  '<div id="content"><p>请各社区按要求做好相关工作。</p></div>';
document.getElementById('app').setAttribute('data-state', 'loaded');
setTimeout(function () {{ location.href = '{other}/js/internal-page'; }}, 50);
</script></body></html>"""


def _js_handler(bird: Canary) -> type[BaseHTTPRequestHandler]:
    values = {"same": bird.same_host, "other": bird.other, "p2": bird.other_address_port}

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            path = urlsplit(self.path).path
            if path == "/js/list.html":
                body = _JS_LIST.format(**values)
            elif path == "/js/1.html":
                body = _JS_ARTICLE.format(navigate_first="", **values)
            elif path == "/js/2.html":
                body = _JS_ARTICLE.format(navigate_first=f"location.href = '{bird.other}/js/away-at-once';",
                                          **values)
            elif path == "/js/3.html":
                body = _JS_ARTICLE.format(navigate_first=(
                    f"var f = document.createElement('form'); f.method = 'post'; f.action = '{bird.other}/js/form';"
                    " document.body.appendChild(f); f.submit();"), **values)
            else:
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            data = body.encode("utf-8")
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    return Handler


@contextlib.contextmanager
def hostile_js_server(bird: Canary) -> Iterator[str]:
    """Serve the compromised JavaScript subsite ``hosjs`` on 127.0.0.1; yield its URL."""
    with threaded_http_server(_js_handler(bird), label="hostile-js") as url:
        yield url


def plugin_toml(code: str = "hos") -> str:
    """The plugin of ``hos`` (plain HTML) or ``hosjs`` (rendered in the browser)."""
    if code == "hosjs":
        return """[site]
code = "hosjs"
name = "北仑区某街道（脚本站）"
base_url = "http://hosjs.bl.gov.cn/"
render = "browser"
obey_robots = false

[list]
item = "#list li"
date = "span.date"
wait_for = "#app[data-state='loaded']"

[detail]
title = "#title"
published_at = "#pubdate"
body = "#content"
wait_for = "#app[data-state='loaded']"

[[columns]]
name = "通知公告"
url = "/js/list.html"
"""
    return """[site]
code = "hos"
name = "北仑区某街道"
base_url = "http://hos.bl.gov.cn/"

[list]
item = "ul.list li"
date = "span"
paging = { type = "next_link", next = "a.next::attr(href)" }

[detail]
title = "h1"
body = "#zoom"

[[columns]]
name = "通知公告"
url = "/list.html"
"""
