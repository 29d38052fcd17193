"""Access-log reports on a fixed range of days: the counters are written as the ingester writes
them (``log_counts``, ``log_visitors``, ``log_files``) beside documents stored as a crawl stores
them, and the report's figures, its join with the crawl, the API, the pages, the workbook, the
gauges and ``blgw logs report`` are checked exactly, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import subprocess
import warnings

import pytest
from conftest import BLGW, WORKDIR
from sqlalchemy import update

from gateway.ops.accesslog.report import district_traffic, report_range, site_traffic, traffic_workbook
from gateway.store.models import AttachmentFile, Document, DocumentListing, LogCount, LogFile, LogVisitor
from gateway.store.repository import upsert_article, upsert_site
from normalizers.models import SHANGHAI, Article, Category, document_id
from normalizers.urls import canonicalize_url
from plugins.declarative import parse_site_toml

AT = dt.datetime(2026, 11, 5, 10, 0, tzinfo=SHANGHAI)
START, END = dt.date(2026, 11, 1), dt.date(2026, 11, 3)
BASE = "http://lga.bl.gov.cn/"


PLUGIN = f"""
[site]
code = "lga"
name = "日志测试站"
base_url = "{BASE}"
allowed_domains = ["www.lga.bl.gov.cn"]

[list]
item = "li"

[detail]
title = "h1"
body = "div.content"

[[columns]]
name = "工作动态"
url = "/gzdt/"

[[columns]]
name = "通知公告"
url = "/tzgg/"

[[columns]]
name = "专题"
url = "/zt/"

[[columns]]
name = "联系我们"
url = "/lxwm.html"
layout = "page"
"""
OTHER = PLUGIN.replace('code = "lga"', 'code = "lgb"').replace("lga.bl.gov.cn", "lgb.bl.gov.cn").replace(
    "日志测试站", "无日志站")


def url(path: str) -> str:
    return canonicalize_url(path, BASE)


# path → (column, published) of the stored documents; /tzgg/2.html is gone
DOCS = {"/gzdt/1.html": ("工作动态", dt.datetime(2026, 10, 20, 9, tzinfo=SHANGHAI)),
        "/gzdt/2.html": ("工作动态", dt.datetime(2024, 1, 1, 9, tzinfo=SHANGHAI)),
        "/gzdt/3.html": ("工作动态", dt.datetime(2026, 10, 1, 9, tzinfo=SHANGHAI)),  # also listed in 通知公告
        "/tzgg/1.html": ("通知公告", dt.datetime(2025, 11, 1, 9, tzinfo=SHANGHAI)),  # 365 days before 11-01
        "/tzgg/2.html": ("通知公告", dt.datetime(2020, 1, 1, 9, tzinfo=SHANGHAI))}

# day → path → page views
PAGES = {"2026-11-01": {"/": 10, "/gzdt/": 5, "/gzdt/1.html": 8, "/gzdt/2.html": 6, "/tzgg/1.html": 4,
                        "/tzgg/2.html": 2, "/never/a.html": 3, "/never/b.html": 2},
         "2026-11-02": {"/index.html": 5, "/gzdt/2.html": 3, "/never/a.html": 4, "/gzdt/3.html": 8},
         "2026-11-03": {"/tzgg/1.html": 6, "/lxwm.html": 4}}
TRAFFIC = {"2026-11-01": {"hits": (100, 10000), "human": (60, 0), "bot": (30, 0), "crawler": (10, 0),
                          "pageviews": (40, 0), "downloads": (5, 0)},
           "2026-11-02": {"hits": (50, 5000), "human": (30, 0), "bot": (15, 0), "crawler": (5, 0),
                          "pageviews": (20, 0), "downloads": (2, 0)},
           "2026-11-03": {"hits": (10, 1000), "human": (10, 0), "pageviews": (10, 0)},
           "2026-10-31": {"hits": (999, 0), "pageviews": (999, 0)}}  # outside the range
OTHERS = [  # (day, kind, key, hits, bytes)
    ("2026-11-01", "notfound", f"{url('/old/x.html')}\t{url('/gzdt/')}", 5, 0),
    ("2026-11-02", "notfound", f"{url('/old/x.html')}\t{url('/gzdt/')}", 2, 0),
    ("2026-11-01", "notfound", f"{url('/old/x.html')}\thttps://www.baidu.com/s?wd=x", 3, 0),
    ("2026-11-01", "notfound", f"{url('/tzgg/2.html')}\t-", 4, 0),
    ("2026-11-02", "notfound", f"{url('/y.html')}\thttps://www.lga.bl.gov.cn/a.html", 1, 0),
    ("2026-11-01", "download", url("/files/a.pdf"), 5, 50000),
    ("2026-11-02", "download", url("/files/b.doc"), 2, 8000),
    ("2026-11-01", "time", "10", 20, 0), ("2026-11-01", "time", "50", 30, 0),
    ("2026-11-02", "time", "250", 40, 0), ("2026-11-02", "time", "1000", 9, 0), ("2026-11-03", "time", "inf", 1, 0),
    ("2026-11-01", "security", "scan\t/admin", 3, 0), ("2026-11-02", "security", "injection\t/x.php?id=1 union select", 1, 0),
    ("2026-11-02", "security", "flood\tabcd", 2, 0),
    ("2026-11-01", "referrer", "www.baidu.com", 6, 0), ("2026-11-02", "referrer", "www.bl.gov.cn", 4, 0),
    ("2026-11-01", "keyphrase", "baidu\t社保缴费", 5, 0),
    ("2026-11-01", "device", "desktop", 50, 0), ("2026-11-02", "device", "mobile", 20, 0),
    ("2026-11-01", "status", "200", 140, 0), ("2026-11-01", "status", "304", 5, 0),
    ("2026-11-02", "status", "404", 15, 0), ("2026-11-01", "method", "GET", 158, 0),
    ("2026-11-01", "method", "HEAD", 2, 0), ("2026-11-01", "bot", "Baiduspider", 30, 3000),
    ("2026-11-01", "os", "Windows", 50, 0), ("2026-11-01", "browser", "Chrome", 50, 0),
]
VISITORS = {"2026-11-01": ["v1", "v2", "v3"], "2026-11-02": ["v1", "v4"], "2026-11-03": ["v1"], "2026-10-31": ["v9"]}


def _store_site(session, text: str) -> None:
    spec = parse_site_toml(text, source="x.toml")
    upsert_site(session, code=spec.code, name=spec.site.name, base_url=spec.site.base_url, platform="generic",
                plugin_source=f"{spec.code}.toml")


@pytest.fixture
def stored(store_url_any, tmp_path):
    from gateway.store.session import Store

    store = Store(store_url_any)
    store.migrate()
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "lga.toml").write_text(PLUGIN, encoding="utf-8")
    (plugins / "lgb.toml").write_text(OTHER, encoding="utf-8")
    with store.session() as session, session.begin():
        _store_site(session, PLUGIN)
        _store_site(session, OTHER)
        for n, (path, (column, published)) in enumerate(DOCS.items()):
            source = BASE.rstrip("/") + path
            item = Article(id=document_id(canonicalize_url(source)), site_code="lga", source_url=source,
                           column_path=[Category.GOVERNMENT_INFORMATION.value, column],
                           category=Category.GOVERNMENT_INFORMATION, fetched_at=AT, title=f"文章{n}",
                           published_at=published, body_text="正文。", body_html="<p>正文。</p>")
            upsert_article(session, item, fetch_url=source, raw_body=b"<html></html>", content_type="text/html",
                           http_status=200, run_id=None, seen_at=AT, listed_in=(column, None))
        session.flush()
        session.add(DocumentListing(document_id=document_id(url("/gzdt/3.html")), column="通知公告", site_code="lga"))
        session.execute(update(Document).where(Document.id == document_id(url("/tzgg/2.html")))
                        .values(status="gone", gone_reason="404"))
        session.add(AttachmentFile(id=document_id(BASE + "files/a.pdf"), site_code="lga", url=BASE + "files/a.pdf",
                                   status="stored", name="a.pdf", title="申请表"))
        for day, paths in PAGES.items():
            for path, n in paths.items():
                session.add(LogCount(site_code="lga", day=day, kind="page", key=url(path), hits=n, bytes=n * 100))
        for day, keys in TRAFFIC.items():
            for key, (n, sent) in keys.items():
                session.add(LogCount(site_code="lga", day=day, kind="traffic", key=key, hits=n, bytes=sent))
        for day, kind, key, n, sent in OTHERS:
            session.merge(LogCount(site_code="lga", day=day, kind=kind, key=key, hits=n, bytes=sent))
        for day, visitors in VISITORS.items():
            session.add_all(LogVisitor(site_code="lga", day=day, visitor=v) for v in visitors)
        session.add(LogFile(identity="a" * 64, site_code="lga", path="/logs/lga/access.log", format="combined",
                            offset=1000, lines=120, malformed=3, state={}))
    specs = {code: parse_site_toml(text, source=f"{code}.toml") for code, text in (("lga", PLUGIN), ("lgb", OTHER))}
    yield store, specs, plugins, store_url_any
    store.dispose()


@pytest.fixture
def report(stored):
    store, specs, _, _ = stored
    with store.session() as session:
        return site_traffic(session, specs["lga"], START, END)


def test_the_totals_and_the_daily_series(report):
    assert report["totals"] == {"hits": 160, "human": 100, "bot": 45, "crawler": 15, "pageviews": 70, "downloads": 7,
                                "bytes": 16000, "uv": 6, "visitors": 4, "notfound": 15, "security": 6}
    assert [(d["day"], d["pageviews"], d["uv"], d["hits"], d["bot"]) for d in report["daily"]] == [
        ("2026-11-01", 40, 3, 100, 30), ("2026-11-02", 20, 2, 50, 15), ("2026-11-03", 10, 1, 10, 0)]
    assert report["status_classes"] == {"2xx": 140, "3xx": 5, "4xx": 15, "5xx": 0, "other": 0}
    assert report["methods"] == [{"key": "GET", "hits": 158}, {"key": "HEAD", "hits": 2}]
    assert report["devices"] == [{"key": "desktop", "hits": 50}, {"key": "mobile", "hits": 20}]
    assert report["bots"] == [{"name": "Baiduspider", "hits": 30, "bytes": 3000}]
    assert report["referrers"] == [{"host": "www.baidu.com", "hits": 6}, {"host": "www.bl.gov.cn", "hits": 4}]
    assert report["keyphrases"] == [{"engine": "baidu", "phrase": "社保缴费", "hits": 5}]


def test_the_time_taken_percentiles_are_bucket_bounds(report, stored):
    assert {k: report["time"][k] for k in ("count", "p50", "p90", "p99")} == {"count": 100, "p50": 50, "p90": 250,
                                                                              "p99": 1000}
    store, specs, _, _ = stored
    with store.session() as session:  # a range without any logged time
        empty = site_traffic(session, specs["lga"], dt.date(2026, 10, 1), dt.date(2026, 10, 2))
    assert (empty["time"]["p50"], empty["time"]["p99"], empty["totals"]["pageviews"]) == (None, None, 0)


def test_top_pages_columns_and_downloads_join_the_crawl(report):
    assert [(p["url"], p["pageviews"], p["kind"]) for p in report["top_pages"][:4]] == [
        (BASE, 15, "home"), (url("/tzgg/1.html"), 10, "document"), (url("/gzdt/2.html"), 9, "document"),
        (url("/gzdt/1.html"), 8, "document")]
    assert report["top_pages"][1]["title"] == "文章3" and report["top_pages"][1]["column"] == "通知公告"
    assert [(c["name"], c["list_views"], c["document_views"], c["views"]) for c in report["columns"]] == [
        ("工作动态", 5, 25, 30), ("通知公告", 0, 20, 20), ("联系我们", 4, 0, 4), ("专题", 0, 0, 0)]
    assert [c["name"] for c in report["top_columns"]] == ["工作动态", "通知公告", "联系我们"]
    assert report["unvisited_columns"] == [{"name": "专题", "url": url("/zt/")}]
    assert [(d["url"], d["hits"], d["bytes"], (d["attachment"] or {}).get("title")) for d in report["top_downloads"]] == [
        (url("/files/a.pdf"), 5, 50000, "申请表"), (url("/files/b.doc"), 2, 8000, None)]


def test_gone_never_crawled_and_old_content(report):
    assert report["gone_requested"] == [{"url": BASE + "tzgg/2.html", "title": "文章4", "gone_reason": "404",
                                         "pageviews": 2, "notfound": 4}]
    assert report["never_crawled"] == [{"url": url("/never/a.html"), "pageviews": 7},
                                       {"url": url("/never/b.html"), "pageviews": 2}]
    assert report["never_crawled_count"] == 2
    # /gzdt/2.html (2024) on every day: 9; /tzgg/1.html (2025-11-01) on 11-03 only (367 days, not 365): 6;
    # the gone /tzgg/2.html (2020): 2
    assert report["old_content"] == {"share": round(17 / 70, 4), "pageviews_old": 17, "pageviews_documents": 37,
                                     "pageviews": 70}


def test_404s_are_dead_links_or_candidate_redirects(report):
    rows = [(r["url"], r["referrer"], r["hits"], r["source"], r["internal"]) for r in report["notfound_urls"]]
    assert rows == [(url("/old/x.html"), url("/gzdt/"), 7, "internal", True),
                    (url("/tzgg/2.html"), "-", 4, "none", False),
                    (url("/old/x.html"), "https://www.baidu.com/s?wd=x", 3, "external", False),
                    (url("/y.html"), "https://www.lga.bl.gov.cn/a.html", 1, "internal", True)]
    assert (report["notfound_internal"], report["notfound_external"]) == (8, 7)
    assert report["security"]["counts"] == {"scan": 3, "injection": 1, "flood": 2}
    assert report["security"]["scan"] == [{"key": "/admin", "hits": 3}]


def test_the_district_and_the_workbook(stored, report):
    from openpyxl import load_workbook

    store, specs, _, _ = stored
    with store.session() as session:
        district = district_traffic(session, [specs["lga"], specs["lgb"]], START, END)
    lga, lgb = district["sites"]
    assert (lga["code"], lga["pageviews"], lga["uv"], lga["visitors"], lga["unvisited_columns"], lga["gone_requested"],
            lga["never_crawled"], lga["old_content_share"], lga["notfound_internal"]) == (
        "lga", 70, 6, 4, 1, 1, 2, 0.2429, 8)
    assert (lgb["pageviews"], lgb["unvisited_columns"], lgb["old_content_share"]) == (0, 3, None)
    assert district["totals"]["pageviews"] == 70 and (district["start"], district["end"]) == ("2026-11-01", "2026-11-03")
    book = load_workbook(io.BytesIO(traffic_workbook([report])))
    assert book.sheetnames == ["汇总", "每日", "页面", "栏目", "下载", "来源", "404", "终端", "安全", "已删除仍被访问",
                               "未收录页面"]
    header, row = list(book["汇总"].iter_rows(values_only=True))
    summary = dict(zip(header, row, strict=True))
    assert (summary["站点代码"], summary["浏览量（PV）"], summary["访客数（去重）"], summary["起始日"]) == ("lga", 70, 4, "2026-11-01")
    assert [r[1:] for r in book["未收录页面"].iter_rows(min_row=2, values_only=True)] == [
        (url("/never/a.html"), 7), (url("/never/b.html"), 2)]
    columns = {r[1]: r for r in book["栏目"].iter_rows(min_row=2, values_only=True)}
    assert columns["专题"][-1] == "是" and columns["工作动态"][6] == 30
    assert [r[3] for r in book["404"].iter_rows(min_row=2, values_only=True)][:2] == ["站内（死链）", "无来源（可设重定向）"]


def test_the_range_rules():
    today = dt.date(2026, 12, 6)
    assert report_range(None, None, today) == (dt.date(2026, 11, 6), dt.date(2026, 12, 5))
    assert report_range(None, None, today, 7) == (dt.date(2026, 11, 29), dt.date(2026, 12, 5))
    assert report_range(dt.date(2026, 12, 1), None, today) == (dt.date(2026, 12, 1), dt.date(2026, 12, 5))
    assert report_range(None, dt.date(2026, 11, 3), today, 3) == (START, END)
    for start, end in ((END, START), (START, dt.date(2026, 12, 7)), (dt.date(2025, 1, 1), END)):
        with pytest.raises(ValueError):
            report_range(start, end, today)


def test_the_api_the_pages_and_the_gauges(stored, tmp_path):
    from openpyxl import load_workbook

    from gateway.api import create_app
    from gateway.settings import GatewaySettings

    warnings.simplefilter("ignore")  # starlette's TestClient warns about httpx
    from fastapi.testclient import TestClient

    store, _, plugins, store_url = stored
    yesterday = (dt.datetime.now(SHANGHAI).date() - dt.timedelta(days=1)).isoformat()
    with store.session() as session, session.begin():  # the last complete day, for the gauges
        session.add_all([LogCount(site_code="lga", day=yesterday, kind="traffic", key=k, hits=n, bytes=0)
                         for k, n in (("pageviews", 7), ("human", 9), ("bot", 4), ("crawler", 1))])
        session.add_all([LogCount(site_code="lga", day=yesterday, kind="notfound", key=f"{url('/z.html')}\t-", hits=2),
                         LogCount(site_code="lga", day=yesterday, kind="security", key="scan\t/admin", hits=3),
                         LogCount(site_code="lga", day=yesterday, kind="security", key="scan\t/.env", hits=1)])
        session.add_all(LogVisitor(site_code="lga", day=yesterday, visitor=v) for v in ("a", "b"))
    settings = GatewaySettings(data_dir=tmp_path / "data", database_url=store_url,
                               index_url=f"sqlite:///{tmp_path / 'index.sqlite'}", plugin_dirs=[plugins],
                               load_plugins=[])
    span = {"start": START.isoformat(), "end": END.isoformat()}
    with TestClient(create_app(settings)) as client:
        body = client.get("/api/logs", params=span).json()
        assert [(s["code"], s["pageviews"], s["never_crawled"]) for s in body["sites"]] == [("lga", 70, 2),
                                                                                            ("lgb", 0, 0)]
        one = client.get("/api/logs/lga", params=span).json()
        assert one["totals"]["pageviews"] == 70 and one["old_content"]["pageviews_old"] == 17
        assert one["time"]["p90"] == 250 and one["unvisited_columns"][0]["name"] == "专题"
        default = client.get("/api/logs/lga").json()  # the 30 days up to yesterday
        assert (default["days"], default["end"], default["totals"]["pageviews"]) == (30, yesterday, 7)
        assert client.get("/api/logs/nosuch").status_code == 404
        for bad in ({"start": "2026-11-03", "end": "2026-11-01"}, {"start": "2020-01-01", "end": "2026-11-01"},
                    {"end": "2999-01-01"}, {"start": "yesterday"}):
            assert client.get("/api/logs", params=bad).status_code == 422, bad
        assert client.get("/logs/lga", params={"start": "2026-11-03", "end": "2026-11-01"}).status_code == 422
        for path in ("/logs", "/logs/lga"):
            page = client.get(path, params=span)
            assert page.status_code == 200 and "<svg" in page.text and "cdn" not in page.text.lower()
            assert "<script" not in page.text and "<caption>" in page.text and 'scope="col"' in page.text
        site_page = client.get("/logs/lga", params=span).text
        assert "<title id=\"daily-title\">" in site_page and url("/never/a.html") in site_page and "专题" in site_page
        assert "日志测试站" in client.get("/logs", params=span).text
        xlsx = client.get("/api/logs.xlsx", params=span)
        assert xlsx.headers["content-type"].startswith("application/vnd.openxmlformats")
        metrics = client.get("/metrics").text
    book = load_workbook(io.BytesIO(xlsx.content))
    assert [r[0] for r in book["汇总"].iter_rows(min_row=2, values_only=True)] == ["lga", "lgb"]
    for line in ('blgw_log_pageviews{site="lga"} 7.0', 'blgw_log_visitors{site="lga"} 2.0',
                 'blgw_log_hits{class="human",site="lga"} 9.0', 'blgw_log_hits{class="bot",site="lga"} 4.0',
                 'blgw_log_hits{class="crawler",site="lga"} 1.0', 'blgw_log_notfound{site="lga"} 2.0',
                 'blgw_log_security{signal="scan",site="lga"} 4.0', 'blgw_log_security{signal="flood",site="lga"} 0.0',
                 'blgw_log_ingested_lines{site="lga"} 120.0', 'blgw_log_malformed_lines{site="lga"} 3.0'):
        assert line in metrics, line


def test_the_report_command(stored, tmp_path):
    _, _, plugins, store_url = stored
    env = {**os.environ, "BLGW_DATA_DIR": str(tmp_path / "data"), "BLGW_PLUGIN_DIRS": str(plugins),
           "BLGW_DATABASE_URL": store_url}
    run = [*BLGW, "logs", "report"]
    text = subprocess.run([*run, "lga", "--start", "2026-11-01", "--end", "2026-11-03", "--xlsx",
                           str(tmp_path / "logs.xlsx")], cwd=WORKDIR, env=env, capture_output=True, text=True,
                          timeout=120)
    assert text.returncode == 0, text.stderr
    assert text.stdout.startswith("lga 日志测试站: 2026-11-01 – 2026-11-03 (3 day(s))")
    assert "PV 70  UV 6 (distinct 4)" in text.stdout and "unvisited columns:" in text.stdout
    assert (tmp_path / "logs.xlsx").stat().st_size > 0
    # no CODE: the sites whose logs were read (lga; lgb has none)
    out = subprocess.run([*run, "--end", "2026-11-03", "--days", "3", "--json"], cwd=WORKDIR, env=env,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert [(r["code"], r["totals"]["pageviews"]) for r in json.loads(out.stdout)] == [("lga", 70)]
    bad = subprocess.run([*run, "lga", "--start", "2026-11-03", "--end", "2026-11-01"], cwd=WORKDIR, env=env,
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "after end" in bad.stderr
