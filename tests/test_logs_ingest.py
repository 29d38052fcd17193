"""The access-log ingest as an operator runs it: `blgw logs ingest` killed with SIGKILL mid-file
and run again counts every line once; two ingests of one file never both count a batch; the
scheduler reads the watched folders; bad lines are sampled without their addresses."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import BLGW, WORKDIR
from sqlalchemy import func, select

from gateway.ops.accesslog.ingest import LogSite, file_identity, ingest_paths
from gateway.store.models import LogCount, LogFile, LogMalformed, LogVisitor
from gateway.store.session import Store
from plugins.declarative import PluginError, parse_site_toml
from plugins.spec import LogRules

PLUGIN = ('[site]\ncode = "lgs"\nname = "日志站"\nbase_url = "http://lgs.bl.gov.cn/"\n[list]\nitem = "li"\n'
          '[detail]\ntitle = "h1"\nbody = "div"\n[[columns]]\nname = "工作动态"\nurl = "/gzdt/"\n')
AGENTS = ["Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36",
          "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
          "Mozilla/5.0 (compatible; Baiduspider/2.0; +http://www.baidu.com/search/spider.html)"]


def _combined(path: Path, lines: int, seed: int = 7) -> None:
    r = random.Random(seed)
    with path.open("w", encoding="utf-8") as out:
        for i in range(lines):
            second = i // 40
            out.write(f"10.0.{r.randrange(8)}.{r.randrange(200)} - - [06/Dec/2026:{10 + second // 3600:02d}:"
                      f"{second // 60 % 60:02d}:{second % 60:02d} +0800] \"GET /gzdt/{r.randrange(500)}.html HTTP/1.1\" "
                      f"{r.choice((200, 200, 304, 404))} {r.randrange(100, 9000)} \"-\" \"{r.choice(AGENTS)}\"\n")


def _totals(store: Store) -> tuple[dict[tuple[str, str, str], tuple[int, int]], int]:
    with store.session() as session:
        counts = {(c.day, c.kind, c.key): (c.hits, c.bytes) for c in session.scalars(select(LogCount))}
        visitors = session.scalar(select(func.count()).select_from(LogVisitor)) or 0
    return counts, visitors


@pytest.fixture
def site_env(tmp_path):
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "lgs.toml").write_text(PLUGIN, encoding="utf-8")
    url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    env = {**os.environ, "BLGW_DATA_DIR": str(tmp_path / "data"), "BLGW_PLUGIN_DIRS": str(plugins),
           "BLGW_DATABASE_URL": url, "BLGW_LOG_BATCH_LINES": "2000", "BLGW_LOG_KEY": "test-key"}
    return env, url


def test_a_kill_9_mid_ingest_and_a_rerun_count_every_line_once(site_env, tmp_path):
    env, url = site_env
    log = tmp_path / "access.log"
    _combined(log, 50_000)
    # the reference: the same file ingested in one go into another store
    reference = Store(f"sqlite:///{tmp_path / 'reference.sqlite'}")
    reference.migrate()
    ingest_paths(reference, LogSite("lgs", "http://lgs.bl.gov.cn/"), [log], key=b"test-key", batch_lines=2000)
    expected = _totals(reference)
    reference.dispose()
    assert expected[0][("2026-12-06", "traffic", "hits")][0] == 50_000

    store = Store(url)
    store.migrate()
    child = subprocess.Popen([*BLGW, "logs", "ingest", "lgs", str(log)], cwd=WORKDIR, env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    identity = file_identity(log)
    deadline = time.monotonic() + 60
    offset = 0
    while time.monotonic() < deadline and child.poll() is None:
        with store.session() as session:
            row = session.get(LogFile, identity)
            offset = row.offset if row else 0
        if offset > 0:
            break
        time.sleep(0.02)
    assert child.poll() is None, "the ingest ended before it could be killed (make the file longer)"
    os.killpg(child.pid, signal.SIGKILL)
    child.wait(timeout=10)
    counted, _ = _totals(store)
    hits = counted.get(("2026-12-06", "traffic", "hits"), (0, 0))[0]
    assert 0 < hits < 50_000  # killed mid-file, after some batches were committed
    with store.session() as session:
        assert session.get(LogFile, identity).offset < log.stat().st_size
    again = subprocess.run([*BLGW, "logs", "ingest", "lgs", str(log)], cwd=WORKDIR, env=env, capture_output=True,
                           text=True, timeout=120)
    assert again.returncode == 0, again.stderr
    assert "resumed" in again.stdout
    assert _totals(store) == expected
    store.dispose()


def test_two_ingests_of_one_file_never_both_count_a_batch(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 's.sqlite'}")
    store.migrate()
    log = tmp_path / "access.log"
    _combined(log, 3000)
    site = LogSite("lgs", "http://lgs.bl.gov.cn/")
    first = ingest_paths(store, site, [log], key=b"k", batch_lines=1000)
    assert first.files[0].status == "new" and first.requests == 3000
    # another ingest moved the offset after this one read it: the compare-and-set refuses
    from gateway.ops.accesslog import ingest as module

    with store.session() as session, session.begin():
        session.get(LogFile, file_identity(log)).offset = 0  # as if this ingest had read it at 0
    original = module._FileCounter._commit

    def racing(self, identity, path, start, offset, batch, *args):
        with store.session() as session, session.begin():  # the other ingest commits first
            session.get(LogFile, identity).offset = start + 1
        return original(self, identity, path, start, offset, batch, *args)

    module._FileCounter._commit = racing
    try:
        second = ingest_paths(store, site, [log], key=b"k", batch_lines=1000)
    finally:
        module._FileCounter._commit = original
    assert second.files[0].status == "busy" and second.requests == 0
    counts, _ = _totals(store)
    assert counts[("2026-12-06", "traffic", "hits")][0] == 3000
    store.dispose()


def test_bad_lines_are_counted_and_sampled_without_their_addresses(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 's.sqlite'}")
    store.migrate()
    log = tmp_path / "access.log"
    _combined(log, 10)
    with log.open("a", encoding="utf-8") as out:
        for n in range(25):
            out.write(f"192.168.7.{n} broken line {n}\n")
    summary = ingest_paths(store, LogSite("lgs", "http://lgs.bl.gov.cn/"), [log], key=b"k")
    assert (summary.requests, summary.malformed) == (10, 25)
    with store.session() as session:
        samples = list(session.scalars(select(LogMalformed)))
        assert len(samples) == 20  # the first 20 of the file
        assert all("192.168." not in s.sample and "broken line" in s.sample for s in samples)
        assert session.get(LogFile, file_identity(log)).malformed == 25
    store.dispose()


def test_a_file_without_a_request_line_waits_and_a_missing_one_is_named(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 's.sqlite'}")
    store.migrate()
    w3c = tmp_path / "u_ex261206.log"
    w3c.write_text("#Software: Microsoft Internet Information Services 7.5\n#Version: 1.0\n", encoding="ascii")
    site = LogSite("lgs", "http://lgs.bl.gov.cn/", LogRules(format="w3c"))
    summary = ingest_paths(store, site, [w3c, tmp_path / "gone.log"], key=b"k")
    assert [(f.status, f.message) for f in summary.files] == [
        ("waiting", "no complete request line yet"), ("error", "no such file")]
    store.dispose()


def test_unknown_formats_and_sites_are_refused_with_their_name(site_env, tmp_path):
    env, _ = site_env
    log = tmp_path / "a.log"
    _combined(log, 3)
    out = subprocess.run([*BLGW, "logs", "ingest", "lgs", str(log), "--format", "xml"], cwd=WORKDIR, env=env,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 2 and "unknown log format 'xml'" in out.stderr
    out = subprocess.run([*BLGW, "logs", "ingest", "nosuch", str(log)], cwd=WORKDIR, env=env,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 2 and "no site plugin 'nosuch'" in out.stderr
    with pytest.raises(PluginError, match=r"x.toml:14: field 'logs.format': .*unknown log format 'apache'"):
        parse_site_toml(PLUGIN + '[logs]\nformat = "apache"\n', source="x.toml")
    with pytest.raises(ValueError, match="needs the client, the time, the request and the status"):
        from gateway.ops.accesslog.formats import reader

        reader('nginx:$remote_addr $status', "Asia/Shanghai")


def test_the_scheduler_reads_the_watched_folders(site_env, tmp_path):
    from gateway.ops.scheduling import Scheduler

    env, url = site_env
    folder = tmp_path / "incoming"
    folder.mkdir()
    _combined(folder / "access.log", 50)
    _combined(folder / "notes.txt", 5, seed=1)  # not a log by the pattern
    plugins = Path(env["BLGW_PLUGIN_DIRS"])
    text = PLUGIN + f'[logs]\nformat = "combined"\nfolder = "{folder}"\npattern = "*.log*"\n'
    (plugins / "lgs.toml").write_text(text, encoding="utf-8")
    spec = parse_site_toml(text, source="lgs.toml")
    store = Store(url)
    store.migrate()
    scheduler = Scheduler(sites=lambda: [spec], store=store, command=[sys.executable, "-m", "gateway.cli"], env=env)
    scheduler.read_logs()
    assert scheduler.log_reader is not None and scheduler.log_reader.wait(timeout=60) == 0
    first = scheduler.log_reader
    scheduler.read_logs()  # not again before BLGW_LOG_INGEST_MINUTES
    assert scheduler.log_reader is None or scheduler.log_reader is first
    counts, _ = _totals(store)
    assert counts[("2026-12-06", "traffic", "hits")][0] == 50
    store.dispose()


def test_the_counters_add_up_on_sqlite_and_postgresql(store_url_any, tmp_path):
    store = Store(store_url_any)
    store.migrate()
    log = tmp_path / "access.log"
    _combined(log, 5000)
    site = LogSite("lgs", "http://lgs.bl.gov.cn/")
    ingest_paths(store, site, [log], key=b"k", batch_lines=700)  # batches that upsert the same counters
    once = _totals(store)
    assert once[0][("2026-12-06", "traffic", "hits")][0] == 5000
    assert sum(h for (d, k, _), (h, _) in once[0].items() if k == "status") == 5000
    assert ingest_paths(store, site, [log], key=b"k").requests == 0  # a second ingest changes nothing
    assert _totals(store) == once
    store.dispose()


def test_the_dead_links_visitors_met_join_the_dead_link_report(tmp_path):
    import datetime as dt

    from gateway.ops.linkcheck import format_report
    from gateway.store.links import dead_link_report
    from gateway.store.repository import upsert_site

    store = Store(f"sqlite:///{tmp_path / 's.sqlite'}")
    store.migrate()
    with store.session() as session, session.begin():
        upsert_site(session, code="lgs", name="日志站", base_url="http://lgs.bl.gov.cn/", platform="generic",
                    plugin_source="lgs.toml")
    today = dt.datetime.now(dt.timezone(dt.timedelta(hours=8))).strftime("%d/%b/%Y")
    agent = AGENTS[0]
    log = tmp_path / "access.log"
    log.write_text(
        f'1.1.1.1 - - [{today}:10:00:00 +0800] "GET /old/1.html HTTP/1.1" 404 0 "http://lgs.bl.gov.cn/gzdt/" "{agent}"\n'
        f'1.1.1.2 - - [{today}:10:00:01 +0800] "GET /old/1.html HTTP/1.1" 404 0 "http://lgs.bl.gov.cn/gzdt/" "{agent}"\n'
        f'1.1.1.3 - - [{today}:10:00:02 +0800] "GET /old/2.html HTTP/1.1" 404 0 "https://www.baidu.com/s?wd=x" "{agent}"\n',
        encoding="utf-8")
    ingest_paths(store, LogSite("lgs", "http://lgs.bl.gov.cn/"), [log], key=b"k")
    with store.session() as session:
        report = dead_link_report(session, "lgs")
    # the external referrer is a candidate redirect, not a dead link of the site
    assert report["visitor_404s"] == [{"url": "http://lgs.bl.gov.cn/old/1.html",
                                       "referrer": "http://lgs.bl.gov.cn/gzdt/", "hits": 2}]
    assert "dead links visitors met" in format_report(report)
    store.dispose()
