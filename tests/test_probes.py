"""Availability probes (站点无法访问) against fixture servers that answer, stop, hang, answer
slowly and fail: one request per probe, one at a time per site, a failed control target discards
the round without a request to any site, and the week's failed share is the indicator (veto at
5 %)."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from contextlib import ExitStack
from http.server import BaseHTTPRequestHandler

import pytest
from conftest import BLGW, WORKDIR

from fixture_sites.servers import free_port, threaded_http_server
from gateway.ops.health import SHANGHAI, Thresholds, site_health
from gateway.ops.probes import availability_share, probe_due, probe_targets, run_round
from gateway.ops.scheduling import Scheduler
from gateway.store.models import HealthSnapshot, Probe, ProbeRound
from gateway.store.session import Store
from plugins.declarative import parse_site_toml


class Site:
    """A fixture server whose pages answer after ``delay`` seconds with ``status``; counts the
    requests per path and the most in flight at once."""

    def __init__(self, delay: float = 0.0, status: int = 200):
        self.delay, self.status = delay, status
        self.requests: Counter[str] = Counter()
        self.in_flight = self.max_in_flight = 0
        self.lock = threading.Lock()

    def handler(self) -> type[BaseHTTPRequestHandler]:
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                with site.lock:
                    site.requests[self.path] += 1
                    site.in_flight += 1
                    site.max_in_flight = max(site.max_in_flight, site.in_flight)
                try:
                    time.sleep(site.delay)
                    body = "<html><body>首页</body></html>".encode()
                    self.send_response(site.status)
                    self.send_header("Content-Type", "text/html; charset=utf-8")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:
                    pass  # the prober gave up
                finally:
                    with site.lock:
                        site.in_flight -= 1

            def log_message(self, *args: object) -> None:
                pass

        return Handler


def _spec(code: str):
    return parse_site_toml(f'[site]\ncode = "{code}"\nname = "{code}站"\nbase_url = "http://{code}.bl.gov.cn/"\n'
                           '[list]\nitem = "li"\n[detail]\ntitle = "h1"\nbody = "div"\n'
                           '[[columns]]\nname = "工作动态"\nurl = "/gzdt/"\n'
                           '[[columns]]\nname = "通知公告"\nurl = "/tzgg/index.html"\n'
                           '[[columns]]\nname = "政策文件"\nurl = "/zcwj/"\n', source=f"{code}.toml")


@pytest.fixture
def db(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'store.sqlite'}")
    store.migrate()
    yield store
    store.dispose()


@pytest.fixture
def servers():
    sites = {"good": Site(), "slowok": Site(delay=0.2), "slow": Site(delay=2.5), "broken": Site(status=503)}
    with ExitStack() as stack:
        urls = {code: stack.enter_context(threaded_http_server(s.handler())) for code, s in sites.items()}
        urls["stopped"] = f"http://127.0.0.1:{free_port()}"  # nothing listens
        yield sites, urls


def test_each_page_is_one_request_one_at_a_time_and_failures_are_named(db, servers):
    sites, urls = servers
    targets = [t for code in urls for t in probe_targets(_spec(code), 2, {code: urls[code]})]
    assert [t.url for t in targets[:3]] == ["http://good.bl.gov.cn/", "http://good.bl.gov.cn/gzdt/",
                                            "http://good.bl.gov.cn/tzgg/index.html"]
    result = run_round(db, targets, timeout=1.0, delay=0.05)
    assert result.control_ok
    by_site: dict[str, list] = {}
    for r in result.results:
        by_site.setdefault(r.target.site_code, []).append(r)
    assert all(r.ok and r.status == 200 for r in by_site["good"] + by_site["slowok"])
    hung = by_site["slow"]  # the first gets no answer; the others are not sent to the hung server
    assert [r.error for r in hung] == ["no answer within 1 s", *["not sent: http://slow.bl.gov.cn/ got no answer "
                                                                  "in this round"] * 2] and not any(r.ok for r in hung)
    assert all(not r.ok and r.status == 503 and r.error == "HTTP 503" for r in by_site["broken"])
    assert all(not r.ok and r.status is None and "Connect" in r.error for r in by_site["stopped"])
    for code, site in sites.items():  # one request per probe, never two at once on a site
        assert sorted(site.requests.values()) == ([1] if code == "slow" else [1, 1, 1]) and site.max_in_flight == 1
    with db.session() as session:
        assert session.query(Probe).count() == 15
        failed, total, evidence = availability_share(session, "broken", dt.datetime.now(dt.UTC))
        assert (failed, total) == (3, 3) and evidence[0].endswith("HTTP 503")


def test_a_failed_control_target_discards_the_round_without_a_request_to_any_site(db, servers):
    sites, urls = servers
    targets = [t for code in ("good", "broken") for t in probe_targets(_spec(code), 1, {code: urls[code]})]
    result = run_round(db, targets, control_url=f"http://127.0.0.1:{free_port()}/", timeout=1.0, delay=0)
    assert not result.control_ok and result.results == [] and "control" in result.control_error
    assert sum(sum(s.requests.values()) for s in sites.values()) == 0
    with db.session() as session:
        assert session.query(ProbeRound).one().control_ok is False
        assert availability_share(session, "broken", dt.datetime.now(dt.UTC))[:2] == (0, 0)
    # a control that answers: the round counts
    assert run_round(db, targets, control_url=urls["good"] + "/", timeout=1.0, delay=0).control_ok


def test_every_site_failing_without_a_control_is_the_gateways_network(db):
    targets = [t for code in ("a", "b", "c") for t in
               probe_targets(_spec(code), 0, {code: f"http://127.0.0.1:{free_port()}"})]
    result = run_round(db, targets, timeout=1.0, delay=0)
    assert not result.control_ok and "every probe of 3 sites failed" in result.control_error
    with db.session() as session:
        assert availability_share(session, "a", dt.datetime.now(dt.UTC))[:2] == (0, 0)


AT = dt.datetime(2026, 11, 30, 10, 0, tzinfo=SHANGHAI)


def _history(db, code: str, failed: int, total: int, discarded_failures: int = 0) -> None:
    with db.session() as session, session.begin():
        for n in range(total):
            when = AT - dt.timedelta(hours=n + 1)
            r = ProbeRound(started_at=when, control_ok=True)
            session.add(r)
            session.flush()
            session.add(Probe(round_id=r.id, site_code=code, url=f"http://{code}.bl.gov.cn/", at=when,
                              ok=n >= failed, status=200 if n >= failed else None,
                              error=None if n >= failed else "no answer within 15 s"))
        for n in range(discarded_failures):
            when = AT - dt.timedelta(minutes=30 + n)
            r = ProbeRound(started_at=when, control_ok=False, control_error="control down")
            session.add(r)
            session.flush()
            session.add(Probe(round_id=r.id, site_code=code, url=f"http://{code}.bl.gov.cn/", at=when, ok=False))
        old = AT - dt.timedelta(days=8)  # outside the week
        r = ProbeRound(started_at=old, control_ok=True)
        session.add(r)
        session.flush()
        session.add(Probe(round_id=r.id, site_code=code, url=f"http://{code}.bl.gov.cn/", at=old, ok=False))


@pytest.mark.parametrize("failed, status", [(7, "veto"), (5, "veto"), (4, "warn"), (0, "pass")])
def test_the_weeks_failed_share_is_the_availability_indicator(db, failed, status):
    _history(db, "avl", failed, 100, discarded_failures=20)
    with db.session() as session:
        card = site_health(session, _spec("avl"), AT, Thresholds())
    indicator = next(i for i in card.indicators if i.key == "availability")
    assert indicator.status == status and indicator.value == failed / 100
    assert indicator.summary.startswith(f"{failed} of 100 probe(s) failed in 7 days")
    assert len(indicator.evidence) == failed


def test_blgw_probe_records_a_round_and_the_scheduler_starts_one_when_due(tmp_path, servers):
    _, urls = servers
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "good.toml").write_text(
        '[site]\ncode = "good"\nname = "好站"\nbase_url = "http://good.bl.gov.cn/"\n[list]\nitem = "li"\n'
        '[detail]\ntitle = "h1"\nbody = "div"\n[[columns]]\nname = "工作动态"\nurl = "/gzdt/"\n', encoding="utf-8")
    url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    env = {**os.environ, "BLGW_DATA_DIR": str(tmp_path / "data"), "BLGW_PLUGIN_DIRS": str(plugins),
           "BLGW_DATABASE_URL": url, "BLGW_PROBE_TIMEOUT": "2"}
    out = subprocess.run([*BLGW, "probe", "good", "--origin", f"good={urls['good']}", "--delay", "0"], cwd=WORKDIR,
                         env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "ok   good" in out.stdout and "round 1: 2 probe(s), 0 failed" in out.stdout
    store = Store(url)
    try:
        with store.session() as session:
            assert not probe_due(session, dt.datetime.now(dt.UTC), 24)
            assert probe_due(session, dt.datetime.now(dt.UTC) + dt.timedelta(hours=1), 24)
        later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
        spec = parse_site_toml((plugins / "good.toml").read_text(encoding="utf-8"), source="good.toml")
        scheduler = Scheduler(sites=lambda: [spec], store=store, command=[sys.executable, "-m", "gateway.cli"],
                              env={**env, "BLGW_ORIGINS": f"good={urls['good']}"}, clock=lambda: later,
                              probe_args=["--delay", "0"])
        scheduler.probe()
        assert scheduler.prober is not None and scheduler.prober.wait(timeout=60) == 0
        scheduler.probe()  # the round just sent: no other is due (the store says so)
        with store.session() as session:
            assert session.query(ProbeRound).count() == 2 and session.query(Probe).count() == 4
        scheduler.codes = {"good"}
        # the snapshot's day is the child's (real) day: the scheduler's clock must agree (the hour
        # ahead used above may be tomorrow in Asia/Shanghai)
        scheduler.clock = lambda: dt.datetime.now(dt.UTC)
        scheduler.snapshot()  # the day's site-health snapshot, once
        assert scheduler.snapshotter is not None and scheduler.snapshotter.wait(timeout=60) in (0, 1)
        scheduler.snapshot()
        assert scheduler.snapshotter.poll() is not None  # not started again: today's is recorded
        with store.session() as session:
            assert {r.site_code for r in session.query(HealthSnapshot)} == {"good"}
    finally:
        store.dispose()
