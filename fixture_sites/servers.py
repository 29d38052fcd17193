"""Run the fixture subsites locally.

``php_bureau_server(data_dir)`` starts PHP's built-in web server on the legacy PHP site in ``php_bureau/``
(北仑区人力资源和社会保障局, site code ``rsj``) reading ``data_dir/site.sqlite`` and ``data_dir/uploadfile/``
(write both with :func:`fixture_sites.generator.generate`), and yields its base URL::

    with php_bureau_server(data_dir) as base_url:   # "http://127.0.0.1:54321"
        ...

Foreground use: ``python -m fixture_sites.servers DATA_DIR [--port N] [--generate]``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler
from pathlib import Path

PHP_BUREAU_DIR = Path(__file__).resolve().parent / "php_bureau"
INSTALL_HINT = "install Debian package php-cli php-sqlite3 php-mbstring (apt-get install php-cli php-sqlite3 php-mbstring)"
STARTUP_TIMEOUT = 10.0


def find_php() -> str:
    """Path of the ``php`` CLI binary (``$PHP_BINARY`` overrides); RuntimeError if it is missing."""
    php = os.environ.get("PHP_BINARY") or shutil.which("php")
    if not php:
        raise RuntimeError(f"php not found on PATH: {INSTALL_HINT}")
    return php


def _check_php_modules(php: str) -> None:
    out = subprocess.run([php, "-m"], capture_output=True, text=True, timeout=30).stdout.lower().split()
    missing = [m for m in ("pdo_sqlite", "mbstring") if m not in out]
    if missing:
        raise RuntimeError(f"php is missing module(s) {', '.join(missing)}: {INSTALL_HINT}")


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        port: int = s.getsockname()[1]
        return port


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as resp:
            ok: bool = resp.status == 200
            return ok
    except urllib.error.HTTPError:
        return True  # the server is up, even if it is unhappy
    except OSError:
        return False


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """Terminate php and anything it forked (PHP_CLI_SERVER_WORKERS) - its own process group only."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=5)


@contextmanager
def php_bureau_server(data_dir: Path, host: str = "127.0.0.1", port: int | None = None,
                      workers: int = 1) -> Iterator[str]:
    """Serve the PHP bureau site for *data_dir*; yield ``http://host:port``; stop the server on exit.

    *workers* > 1 sets ``PHP_CLI_SERVER_WORKERS`` (concurrent requests); the default 1 is a small, old,
    single-threaded server, like the real ones.
    """
    data_dir = Path(data_dir).resolve()
    if not (data_dir / "site.sqlite").is_file():
        raise FileNotFoundError(f"{data_dir}/site.sqlite not found; run: python -m fixture_sites.generator {data_dir}")
    php = find_php()
    _check_php_modules(php)
    if port is None:
        port = free_port(host)
    else:
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
                s.bind((host, port))
        except OSError as e:
            raise RuntimeError(f"cannot serve the PHP bureau site on {host}:{port}: {e}") from e
    env = dict(os.environ, RSJ_DATA_DIR=str(data_dir))
    env.pop("PHP_CLI_SERVER_WORKERS", None)
    if workers > 1:
        env["PHP_CLI_SERVER_WORKERS"] = str(workers)
    base_url = f"http://{host}:{port}"
    # php -S logs every request to stderr: send it to a file so a full pipe can never block the server
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen(
            [php, "-S", f"{host}:{port}", "-t", str(PHP_BUREAU_DIR), str(PHP_BUREAU_DIR / "router.php")],
            cwd=PHP_BUREAU_DIR, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            deadline = time.monotonic() + STARTUP_TIMEOUT
            while True:
                exited = proc.poll() is not None
                if not exited and _answers(base_url + "/robots.txt") and proc.poll() is None:
                    break
                if exited or time.monotonic() > deadline:
                    why = (f"exited with code {proc.returncode}" if exited
                           else f"did not answer within {STARTUP_TIMEOUT:.0f}s")
                    _stop(proc)
                    log.seek(0)
                    output = log.read().decode("utf-8", "replace").strip()
                    raise RuntimeError(f"php -S on {host}:{port} {why}; php output:\n{output or '(none)'}")
                time.sleep(0.05)
            yield base_url
        finally:
            _stop(proc)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m fixture_sites.servers",
                                 description="Serve the PHP bureau fixture site (rsj) in the foreground.")
    ap.add_argument("data_dir", type=Path, help="directory with site.sqlite (see fixture_sites.generator)")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=None, help="default: a free port")
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--generate", action="store_true", help="(re)generate DATA_DIR first (seed 2024, 180 articles)")
    args = ap.parse_args(argv)
    if args.generate:
        from fixture_sites.generator import generate
        generate(args.data_dir)
    return serve_in_foreground(php_bureau_server(args.data_dir, host=args.host, port=args.port,
                                                 workers=args.workers), "rsj", args.data_dir)



@contextlib.contextmanager
def threaded_http_server(handler: type[BaseHTTPRequestHandler], host: str = "127.0.0.1", port: int | None = None,
                         label: str = "fixture") -> Iterator[str]:
    """Serve a ``BaseHTTPRequestHandler`` class from a background thread; yield ``http://host:port``.

    The Python fixture sites (classic ASP, TRS, Hanweb, JavaScript) share this: a threading
    stdlib server, ready to accept before the URL is handed out, shut down on exit."""
    from http.server import ThreadingHTTPServer

    if port is None:
        port = free_port(host)
    try:
        httpd = ThreadingHTTPServer((host, port), handler)
    except OSError as e:
        raise RuntimeError(f"cannot serve the {label} fixture site on {host}:{port}: {e}") from e
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05},
                              name=f"{label}-fixture-server", daemon=True)
    thread.start()
    try:
        with socket.create_connection((host, port), timeout=5):
            pass
        yield f"http://{host}:{port}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


class PagesSite:
    """A small site of in-memory pages (path → HTML, UTF-8) for tests of one crawl behaviour:
    it counts the requests per path (``requests``), and paths in ``failing`` answer 503. Serve
    it with ``threaded_http_server(site.handler())``."""

    def __init__(self, pages: dict[str, str]) -> None:
        self.pages = pages
        self.requests: Counter[str] = Counter()
        self.failing: set[str] = set()
        self.lock = threading.Lock()

    def handler(self) -> type[BaseHTTPRequestHandler]:
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                path = self.path.split("?")[0]
                with site.lock:
                    site.requests[path] += 1
                if path in site.failing:
                    self.send_response(503)
                    self.send_header("Content-Length", "0")
                    self.send_header("Retry-After", "0")
                    self.end_headers()
                    return
                page = site.pages.get(path)
                body = (page or "<html><body>not found</body></html>").encode("utf-8")
                self.send_response(200 if page else 404)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        return Handler


def serve_in_foreground(server: contextlib.AbstractContextManager[str], code: str, data_dir: Path | None = None,
                        note: str = "") -> int:
    """``python -m fixture_sites.…``: run a fixture server until Ctrl-C; print where it serves
    (and its data folder, or ``note``)."""
    with server as url:
        about = f"data: {Path(data_dir).resolve()}" if data_dir is not None else note
        print(f"{code} fixture site: {url}/  ({about}); Ctrl-C to stop", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
