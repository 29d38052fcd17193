"""Run the ASP.NET fixture subsite (北仑区交通运输局, ``jtj``) locally on Mono's System.Web.

``aspnet_server(data_dir)`` serves the WebForms application in ``aspnet_site/www/`` reading the data that
:func:`fixture_sites.aspnet_generator.generate` wrote into *data_dir*, and yields its base URL::

    with aspnet_server(data_dir) as base_url:                    # "http://127.0.0.1:54321"
        ...
    with aspnet_server(data_dir, cookieless=True) as base_url:   # every page URL gets /(S(...))/
        ...

How: ``aspnet_site/Host.cs`` (a small HttpListener + ``System.Web.Hosting.ApplicationHost`` server) is compiled
with ``mcs`` once per source version into ``~/.cache/blgw-fixtures/`` (``$BLGW_FIXTURE_CACHE`` overrides);
each server gets a fresh run directory (a copy of ``www/`` with the host in ``bin/``, ``UploadFiles`` linked to
*data_dir*, and for ``cookieless=True`` ``<sessionState cookieless="UseUri">``), and System.Web compiles the
pages into that run directory on the warm-up request (a few seconds), before the URL is yielded.

Foreground use: ``python -m fixture_sites.aspnet_server DATA_DIR [--cookieless] [--port N] [--generate]``.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import NoReturn

from fixture_sites.servers import _answers, _stop, free_port, serve_in_foreground

ASPNET_SITE_DIR = Path(__file__).resolve().parent / "aspnet_site"
HOST_SOURCE = ASPNET_SITE_DIR / "Host.cs"
WWW_DIR = ASPNET_SITE_DIR / "www"
HOST_EXE = "JtjHost.exe"
DEBIAN_PACKAGES = ("mono-runtime", "mono-mcs", "libmono-system-web4.0-cil", "libmono-i18n-cjk4.0-cil")
INSTALL_HINT = (f"install the Debian packages {' '.join(DEBIAN_PACKAGES)} "
                f"(apt-get install --no-install-recommends {' '.join(DEBIAN_PACKAGES)})")
STARTUP_TIMEOUT = 30.0  # mono start + System.Web application domain
WARMUP_TIMEOUT = 120.0  # System.Web compiles App_Code, the master page and all pages on the first page request


def find_mono() -> tuple[str, str]:
    """Paths of ``mono`` and ``mcs`` (``$MONO``/``$MCS`` override); RuntimeError naming the packages if missing."""
    mono = os.environ.get("MONO") or shutil.which("mono")
    mcs = os.environ.get("MCS") or shutil.which("mcs")
    missing = [name for name, path in (("mono", mono), ("mcs", mcs)) if not path]
    if missing:
        raise RuntimeError(f"{' and '.join(missing)} not found on PATH: {INSTALL_HINT}")
    assert mono is not None and mcs is not None  # else missing above
    return mono, mcs


def mono_available() -> bool:
    try:
        find_mono()
    except RuntimeError:
        return False
    return True


def cache_dir() -> Path:
    if os.environ.get("BLGW_FIXTURE_CACHE"):
        return Path(os.environ["BLGW_FIXTURE_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "blgw-fixtures"


def _mono_version(mono: str) -> str:
    out = subprocess.run([mono, "--version"], capture_output=True, text=True, timeout=30,
                         check=False).stdout
    return out.splitlines()[0] if out else "?"


def build_host(mono: str | None = None, mcs: str | None = None) -> Path:
    """Compile Host.cs with mcs unless the cache already has this version; return the path of JtjHost.exe."""
    if mono is None or mcs is None:
        mono, mcs = find_mono()
    source = HOST_SOURCE.read_bytes()
    key = hashlib.sha256(source + b"\0" + _mono_version(mono).encode()).hexdigest()[:16]
    out_dir = cache_dir() / f"aspnet-host-{key}"
    exe = out_dir / HOST_EXE
    if exe.is_file():
        return exe
    out_dir.mkdir(parents=True, exist_ok=True)
    build_dir = Path(tempfile.mkdtemp(prefix=".build-", dir=out_dir))
    tmp = build_dir / HOST_EXE  # the file name is the assembly name: it must be JtjHost.exe
    try:
        proc = subprocess.run(
            [mcs, "-nologo", "-target:exe", "-optimize+", f"-out:{tmp}", "-r:System.Web.dll", str(HOST_SOURCE)],
            capture_output=True, text=True, timeout=300, check=False,
        )
        if proc.returncode != 0 or not tmp.is_file():
            output = (proc.stdout + proc.stderr).strip()
            hint = f"\n({INSTALL_HINT})" if "System.Web" in output else ""
            raise RuntimeError(f"mcs failed to compile {HOST_SOURCE} (exit {proc.returncode}):\n{output}{hint}")
        os.replace(tmp, exe)  # atomic: a concurrent build of the same version writes the same bytes
    finally:
        shutil.rmtree(build_dir, ignore_errors=True)
    return exe


def prepare_app(run_dir: Path, data_dir: Path, host_exe: Path, cookieless: bool = False) -> Path:
    """Lay out the application for one server in *run_dir*; return its root (``run_dir/www``)."""
    app = run_dir / "www"
    shutil.copytree(WWW_DIR, app)
    config = app / "Web.config"
    text = config.read_text(encoding="utf-8")
    if cookieless:
        if 'cookieless="UseCookies"' not in text:
            raise RuntimeError(f'{WWW_DIR / "Web.config"}: expected cookieless="UseCookies" on the sessionState line')
        text = text.replace('cookieless="UseCookies"', 'cookieless="UseUri"')
        config.write_text(text, encoding="utf-8")
    (app / "bin").mkdir(exist_ok=True)
    shutil.copy2(host_exe, app / "bin" / HOST_EXE)  # ApplicationHost loads the host type from the app's bin/
    uploads = data_dir / "UploadFiles"
    uploads.mkdir(exist_ok=True)
    (app / "UploadFiles").symlink_to(uploads, target_is_directory=True)
    return app


RUN_DIR_PREFIX = "blgw-jtj-aspnet-"


def _remove_stale_run_dirs() -> None:
    """Run directories of servers whose Python process was killed (the host exits by itself: --watch-pid)."""
    for d in Path(tempfile.gettempdir()).glob(RUN_DIR_PREFIX + "*"):
        try:
            pid = int((d / "owner.pid").read_text())
        except (OSError, ValueError):
            continue
        if not Path(f"/proc/{pid}").exists():
            shutil.rmtree(d, ignore_errors=True)


def _fetch_status(url: str, timeout: float) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


@contextmanager
def aspnet_server(data_dir: Path, cookieless: bool = False, host: str = "127.0.0.1",
                  port: int | None = None) -> Iterator[str]:
    """Serve the ASP.NET bureau site for *data_dir*; yield ``http://host:port``; stop the server on exit."""
    data_dir = Path(data_dir).resolve()
    if not (data_dir / "articles.tsv").is_file():
        raise FileNotFoundError(f"{data_dir}/articles.tsv not found; run: python -m fixture_sites.aspnet_generator {data_dir}")
    mono, mcs = find_mono()
    exe = build_host(mono, mcs)
    if port is None:
        port = free_port(host)
    else:
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
                # the port of a just-stopped server has connections in TIME_WAIT: that is no conflict
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                s.bind((host, port))
        except OSError as e:
            raise RuntimeError(f"cannot serve the ASP.NET bureau site on {host}:{port}: {e}") from e
    base_url = f"http://{host}:{port}"
    _remove_stale_run_dirs()
    run_dir = Path(tempfile.mkdtemp(prefix=RUN_DIR_PREFIX))
    try:
        (run_dir / "owner.pid").write_text(str(os.getpid()))
        app = prepare_app(run_dir, data_dir, exe, cookieless=cookieless)
        tmp = run_dir / "tmp"  # System.Web's "Temporary ASP.NET Files" (compiled pages) live and die with the run
        tmp.mkdir()
        env = dict(os.environ, TMPDIR=str(tmp), LANG="C.UTF-8", LC_ALL="C.UTF-8")
        with tempfile.TemporaryFile(dir=run_dir) as log:
            proc = subprocess.Popen(
                [mono, str(app / "bin" / HOST_EXE), "--root", str(app), "--data", str(data_dir),
                 "--host", host, "--port", str(port), "--watch-pid", str(os.getpid())],
                cwd=run_dir, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )

            def fail(why: str) -> RuntimeError:
                _stop(proc)
                log.seek(0)
                output = log.read().decode("utf-8", "replace").strip()
                if len(output) > 6000:
                    output = output[:3000] + "\n[...]\n" + output[-3000:]
                return RuntimeError(f"ASP.NET fixture host on {host}:{port} {why}; output:\n{output or '(none)'}")

            try:
                deadline = time.monotonic() + STARTUP_TIMEOUT
                while True:
                    exited = proc.poll() is not None
                    if not exited and _answers(base_url + "/robots.txt") and proc.poll() is None:
                        break
                    if exited or time.monotonic() > deadline:
                        raise fail(f"exited with code {proc.returncode}" if exited
                                   else f"did not answer within {STARTUP_TIMEOUT:.0f}s")
                    time.sleep(0.05)
                # warm-up: System.Web compiles the application now, and compile errors surface here
                try:
                    status, body = _fetch_status(base_url + "/Default.aspx", WARMUP_TIMEOUT)
                except OSError as e:
                    raise fail(f"failed the warm-up request /Default.aspx ({e})") from e
                if status not in (200, 302):
                    text = body.decode("utf-8", "replace")
                    raise fail(f"answered the warm-up request /Default.aspx with HTTP {status}:\n{text[:4000]}")
                yield base_url
            finally:
                _stop(proc)
    finally:
        shutil.rmtree(run_dir, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m fixture_sites.aspnet_server",
                                 description="Serve the ASP.NET bureau fixture site (jtj) in the foreground.")
    ap.add_argument("data_dir", type=Path, help="directory with articles.tsv (see fixture_sites.aspnet_generator)")
    ap.add_argument("--cookieless", action="store_true", help='<sessionState cookieless="UseUri">: /(S(...))/ URLs')
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=None, help="default: a free port")
    ap.add_argument("--generate", action="store_true", help="(re)generate DATA_DIR first (seed 2024, 120 articles)")
    args = ap.parse_args(argv)
    if args.generate:
        from fixture_sites.aspnet_generator import generate
        generate(args.data_dir)
    # `kill`/`timeout` as well as Ctrl-C stop the server cleanly
    def terminate(signum: int, frame: FrameType | None) -> NoReturn:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, terminate)
    server = aspnet_server(args.data_dir, cookieless=args.cookieless, host=args.host, port=args.port)
    note = f"ASP.NET on Mono{', cookieless' if args.cookieless else ''}; data: {Path(args.data_dir).resolve()}"
    return serve_in_foreground(server, "jtj", note=note)


if __name__ == "__main__":
    raise SystemExit(main())
