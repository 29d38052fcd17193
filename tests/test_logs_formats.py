"""Access logs, every format: files written as the real servers write them
(:mod:`fixture_sites.access_logs`) are ingested, and every row of ``log_counts`` and the unique
visitors of each day must equal the ground truth computed from the events (docs/logs.md), exactly.
Then the incremental rules: a second ingest changes nothing, a rotated file counts each line
once, a line still being written waits until it is complete."""

from __future__ import annotations

import datetime as dt
import gzip
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from fixture_sites import access_logs as al
from gateway.ops.accesslog.ingest import LogSite, ingest_paths
from gateway.store.models import LogCount, LogVisitor
from gateway.store.session import Store
from normalizers.urls import canonicalize_url
from plugins.spec import LogRules

BASE = "http://rsj.bl.gov.cn/"
KEY = b"test-key"
DAY = dt.date(2026, 12, 6)
N = 1500

EVENTS = al.scenario(7, DAY, N, BASE)

W3C_EARLY = ["date", "time", "s-ip", "cs-method", "cs-uri-stem", "cs-uri-query", "s-port", "cs-username", "c-ip",
             "cs(User-Agent)", "sc-status", "sc-substatus", "sc-win32-status", "sc-bytes"]
W3C_LATER = ["date", "time", "s-sitename", "s-computername", "s-ip", "cs-method", "cs-uri-stem", "cs-uri-query",
             "s-port", "cs-username", "c-ip", "cs-version", "cs(User-Agent)", "cs(Cookie)", "cs(Referer)", "cs-host",
             "sc-status", "sc-substatus", "sc-win32-status", "sc-bytes", "cs-bytes", "time-taken"]
W3C_LAST = ["date", "time", "c-ip", "X-Forwarded-For", "cs-method", "cs-uri-stem", "cs-uri-query", "sc-status",
            "time-taken", "sc-bytes", "cs(Referer)", "cs(User-Agent)", "cs-host"]
LAYOUTS = [(0, W3C_EARLY), (400, W3C_LATER), (900, W3C_LAST)]

NGINX_FORMAT = ('$remote_addr - $remote_user [$time_iso8601] "$request_method $request_uri" $status '
                '$body_bytes_sent $request_time "$http_referer" "$http_user_agent" "$http_x_forwarded_for" $host')
APACHE_FORMAT = '%a %l %u %t "%r" %>s %B %D "%{Referer}i" "%{User-Agent}i" "%{X-Forwarded-For}i" %v'
MALFORMED = [0 + 3, 250, 251, 777, 1200]


def _store(tmp_path: Path) -> Store:
    store = Store(f"sqlite:///{tmp_path / 's.sqlite'}")
    store.migrate()
    return store


def _site(fmt: str, forwarded: bool = False) -> LogSite:
    return LogSite(code="rsj", base_url=BASE, rules=LogRules(format=fmt, timezone="Asia/Shanghai", forwarded=forwarded))


def _ingest(store: Store, site: LogSite, paths: list[Path]) -> Any:
    return ingest_paths(store, site, paths, key=KEY, crawler_token="blgw/", batch_lines=1000, flood_per_minute=300)


def _stored(store: Store) -> tuple[dict[tuple[str, str, str], tuple[int, int]], dict[str, set[str]]]:
    with store.session() as session:
        counts = {(r.day, r.kind, r.key): (r.hits, r.bytes)
                  for r in session.scalars(select(LogCount).where(LogCount.site_code == "rsj"))}
        visitors: dict[str, set[str]] = defaultdict(set)
        for v in session.scalars(select(LogVisitor).where(LogVisitor.site_code == "rsj")):
            visitors[v.day].add(v.visitor)
    return counts, dict(visitors)


def _truth(seen: list[al.Event], forwarded: bool, malformed: int = 0) -> al.Truth:
    return al.expected(seen, BASE, key=KEY, forwarded=forwarded, canonicalize=canonicalize_url, malformed=malformed)


def _diff(got: dict[Any, Any], want: dict[Any, Any]) -> str:
    lines = []
    for k in sorted(set(got) | set(want), key=repr):
        if got.get(k) != want.get(k):
            lines.append(f"  {k!r}: got {got.get(k)!r}, want {want.get(k)!r}")
    return "\n".join(lines[:60]) + (f"\n  … {len(lines) - 60} more" if len(lines) > 60 else "")


def _assert_matches(store: Store, truth: al.Truth) -> None:
    counts, visitors = _stored(store)
    assert counts == truth.counts, "log_counts differ from the truth:\n" + _diff(counts, truth.counts)
    assert {d: len(v) for d, v in visitors.items()} == truth.visitors
    assert visitors == truth.visitor_hashes, "the visitor hashes are not HMAC-SHA256(key, address NUL UA)[:32]"


# name, writer, options, what the reader sees (logged options), rules format
CASES: list[tuple[str, Any, dict[str, Any], dict[str, Any], str]] = [
    ("w3c-layouts", al.write_w3c, {"layouts": LAYOUTS}, {"fmt": "w3c", "layouts": LAYOUTS}, "w3c"),
    ("iis", al.write_iis, {"tz": "Asia/Shanghai"}, {"fmt": "iis"}, "iis"),
    ("combined", al.write_combined, {}, {"fmt": "combined"}, "combined"),
    ("combined-xff", al.write_combined, {"xff": True}, {"fmt": "combined", "xff": True}, "combined"),
    ("common", al.write_common, {}, {"fmt": "common"}, "common"),
    ("nginx", al.write_nginx_custom, {"log_format": NGINX_FORMAT}, {"fmt": "nginx", "log_format": NGINX_FORMAT},
     f"nginx:{NGINX_FORMAT}"),
    ("apache", al.write_apache_custom, {"log_format": APACHE_FORMAT},
     {"fmt": "apache", "log_format": APACHE_FORMAT}, f"apache:{APACHE_FORMAT}"),
]


@pytest.mark.parametrize("compressed", [False, True], ids=["plain", "gz"])
@pytest.mark.parametrize(("name", "writer", "options", "view", "fmt"), CASES, ids=[c[0] for c in CASES])
def test_format_counts_exactly(tmp_path: Path, name: str, writer: Any, options: dict[str, Any],
                               view: dict[str, Any], fmt: str, compressed: bool) -> None:
    forwarded = "xff" in name or name in ("nginx", "apache", "w3c-layouts")
    path = tmp_path / ("access.log.gz" if compressed else "access.log")
    writer(path, EVENTS, gzip=compressed, malformed=MALFORMED, **options)
    store = _store(tmp_path)
    summary = _ingest(store, _site(fmt, forwarded), [path])
    assert not summary.errors, summary.as_json()
    assert summary.malformed == len(MALFORMED)
    assert summary.requests == len(EVENTS)
    seen = al.logged(EVENTS, **view)
    _assert_matches(store, _truth(seen, forwarded, len(MALFORMED)))


def test_w3c_auto_and_forwarded_off(tmp_path: Path) -> None:
    """``auto`` reads a W3C file; without ``forwarded`` the proxy is one visitor."""
    path = tmp_path / "u_ex261206.log"
    al.write_w3c(path, EVENTS, layouts=LAYOUTS)
    store = _store(tmp_path)
    summary = _ingest(store, _site("auto", forwarded=False), [path])
    assert not summary.errors and summary.malformed == 0
    _assert_matches(store, _truth(al.logged(EVENTS, fmt="w3c", layouts=LAYOUTS), forwarded=False))


def test_scenario_covers_the_contract() -> None:
    """The scenario exercises what it claims (else an exact match proves little)."""
    truth = _truth(EVENTS, forwarded=True)
    kinds: dict[str, set[str]] = defaultdict(set)
    for _day, kind, key in truth.counts:
        kinds[kind].add(key)
    assert {"human", "bot", "crawler", "pageviews", "downloads"} <= kinds["traffic"]
    assert {"desktop", "mobile", "tablet"} <= kinds["device"]
    assert {"Baiduspider", "Googlebot", "bingbot", "360Spider", "Sogou", "YisouSpider", "Bytespider", "-"} <= kinds["bot"]
    assert {"200", "304", "206", "301", "404", "500"} <= kinds["status"]
    assert {"GET", "POST", "HEAD"} <= kinds["method"]
    engines = {k.split("\t")[0] for k in kinds["keyphrase"]}
    assert {"baidu", "sogou", "360", "bing"} <= engines
    assert "baidu\t北仑社保" in kinds["keyphrase"]  # word= in GBK
    assert sum(k.startswith("flood\t") for k in kinds["security"]) == 1  # 320 in a minute, not 300
    assert {k.split("\t")[0] for k in kinds["security"]} == {"scan", "injection", "flood"}
    assert "scan\t/.well-known/security.txt" not in kinds["security"]
    gbk = urljoin_canonical("/%B9%AB%B8%E6/1.html")
    assert gbk == urljoin_canonical("/%E5%85%AC%E5%91%8A/1.html") and gbk in kinds["page"]
    # the midnight pair: 23:30 and 00:30 Shanghai are one UTC day, two Shanghai days
    midnight = [e for e in EVENTS if e.client == "114.55.1.10"]
    assert {e.at.astimezone(dt.UTC).date() for e in midnight} == {DAY}
    assert {al.shanghai_day(e.at) for e in midnight} == {DAY.isoformat(), (DAY + dt.timedelta(days=1)).isoformat()}
    assert truth.visitors[DAY.isoformat()] > 10
    # the proxy: with forwarded, its clients are several visitors
    proxied = {al.client_address(e, True) for e in EVENTS if e.client == "10.0.0.1"}
    assert len(proxied) == 6


def urljoin_canonical(target: str) -> str:
    return al.canonical_url(BASE, target, canonicalize_url)


def test_second_ingest_changes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "access.log"
    al.write_combined(path, EVENTS, xff=True, malformed=MALFORMED)
    store = _store(tmp_path)
    site = _site("combined", forwarded=True)
    _ingest(store, site, [path])
    before = _stored(store)
    again = _ingest(store, site, [path])
    assert again.requests == 0 and again.malformed == 0
    assert _stored(store) == before
    _assert_matches(store, _truth(al.logged(EVENTS, fmt="combined", xff=True), True, len(MALFORMED)))


def test_rotated_file_counts_each_line_once(tmp_path: Path) -> None:
    """The first half is read as access.log; the whole file comes back as access.log.1.gz."""
    half = len(EVENTS) // 2
    live = tmp_path / "access.log"
    al.write_combined(live, EVENTS[:half])
    store = _store(tmp_path)
    site = _site("combined")
    first = _ingest(store, site, [live])
    assert first.requests == half
    rotated = tmp_path / "access.log.1.gz"
    al.write_combined(rotated, EVENTS, gzip=True)
    live.unlink()
    second = _ingest(store, site, [rotated])
    assert second.requests == len(EVENTS) - half
    _assert_matches(store, _truth(al.logged(EVENTS, fmt="combined"), False))


def test_w3c_rotated_and_renamed(tmp_path: Path) -> None:
    """W3C files all start with the same #Software line: rotation still resumes the same file,
    and another day's file is another file."""
    half = 700
    first_day = [e for e in EVENTS if e.at.astimezone(dt.UTC).date() == DAY]
    other_day = [e for e in EVENTS if e.at.astimezone(dt.UTC).date() != DAY]
    live = tmp_path / "u_ex261206.log"
    al.write_w3c(live, first_day[:half])
    other = tmp_path / "u_ex261207.log"
    al.write_w3c(other, other_day)
    store = _store(tmp_path)
    site = _site("w3c")
    _ingest(store, site, [live, other])
    rotated = tmp_path / "u_ex261206.log.gz"
    al.write_w3c(rotated, first_day, gzip=True)
    live.unlink()
    _ingest(store, site, [rotated, other])
    _assert_matches(store, _truth(al.logged(first_day + other_day, fmt="w3c"), False))


def test_partial_last_line_waits(tmp_path: Path) -> None:
    path = tmp_path / "access.log"
    al.write_combined(path, EVENTS[:100])
    data = path.read_bytes()
    lines = data.split(b"\n")
    cut = len(b"\n".join(lines[:99])) + 1 + len(lines[99]) // 2  # in the middle of the 100th line
    path.write_bytes(data[:cut])
    store = _store(tmp_path)
    site = _site("combined")
    first = _ingest(store, site, [path])
    assert first.requests == 99 and first.malformed == 0
    _assert_matches(store, _truth(al.logged(EVENTS[:99], fmt="combined"), False))
    path.write_bytes(data)  # the line is complete now
    second = _ingest(store, site, [path])
    assert second.requests == 1 and second.malformed == 0
    _assert_matches(store, _truth(al.logged(EVENTS[:100], fmt="combined"), False))


def test_gzip_writer_is_gzip(tmp_path: Path) -> None:
    path = tmp_path / "a.log.gz"
    al.write_iis(path, EVENTS[:5], gzip=True)
    text = gzip.decompress(path.read_bytes()).decode()
    first = text.split("\r\n")[0]
    assert first.endswith(",") and first.count(", ") == 14
