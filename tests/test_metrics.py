"""GET /metrics (gateway/metrics.py): the Prometheus series read from a populated store, and the
request counter and latency histogram of the search endpoints."""

from __future__ import annotations

import datetime as dt
import warnings

import pytest
from conftest import make_article, site_row
from prometheus_client.parser import text_string_to_metric_families

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

T0 = dt.datetime(2026, 3, 1, 2, 0, tzinfo=dt.UTC)


def populate(store, index_url: str) -> None:
    """Two sites: rsj with a finished then a failed run, jyj with one finished run; documents
    (one gone), links (one dead), and one change still in the index outbox."""
    from gateway.ops.indexing import sync_index
    from gateway.store.models import CrawlError, CrawlRun, LinkSource, LinkTarget
    from gateway.store.repository import mark_gone, upsert_article, upsert_site
    from index.factory import open_index
    from plugins.manager import build_registry

    registry = build_registry([])
    with store.session() as s:
        for code in ("rsj", "jyj"):
            upsert_site(s, **site_row(registry.get(code)))
        s.add(CrawlRun(site_code="rsj", status="finished", started_at=T0 - dt.timedelta(days=1),
                       finished_at=T0 - dt.timedelta(days=1) + dt.timedelta(seconds=60), pages_fetched=40,
                       items_new=4, stats={}))
        failed = CrawlRun(site_code="rsj", status="failed", finish_reason="finished", started_at=T0,
                          finished_at=T0 + dt.timedelta(seconds=30), pages_fetched=0, error_count=3, stats={})
        s.add(failed)
        s.add(CrawlRun(site_code="jyj", status="finished", started_at=T0 + dt.timedelta(hours=1),
                       finished_at=T0 + dt.timedelta(hours=1, seconds=90), pages_fetched=7, items_new=3,
                       items_changed=1, items_unchanged=2, items_gone=1, error_count=1, stats={}))
        s.flush()
        jyj_run = s.query(CrawlRun).filter_by(site_code="jyj").one()
        for kind in ("connection", "connection", "site"):
            s.add(CrawlError(run_id=failed.id, url="http://rsj.bl.gov.cn/", kind=kind, message="refused"))
        s.add(CrawlError(run_id=jyj_run.id, url="http://jyj.bl.gov.cn/a", kind="field", message="date"))
        for code, n in (("rsj", 4), ("jyj", 4)):
            for i in range(n):
                url = f"http://{code}.bl.gov.cn/show.php?id={i}"
                upsert_article(s, make_article(url, site_code=code, title=f"{code}社保{i}"), fetch_url=url,
                               raw_body=b"", content_type=None, http_status=200, run_id=None)
        s.add_all([LinkTarget(id=f"t{i}", url=f"http://x.example/{i}", ok=ok) for i, ok in
                   enumerate([True, False, None])])
        s.flush()
        s.add_all([LinkSource(target_id=f"t{i}", source_id="p1", site_code="rsj",
                              source_url="http://rsj.bl.gov.cn/show.php?id=1") for i in range(3)])
        s.add(LinkSource(target_id="t1", source_id="p2", site_code="jyj", source_url="http://jyj.bl.gov.cn/"))
    with store.session() as s:
        mark_gone(s, make_article("http://jyj.bl.gov.cn/show.php?id=3", site_code="jyj").id)
    with open_index(index_url) as index:
        sync_index(store, index)
    with store.session() as s:  # one change not yet synced
        url = "http://rsj.bl.gov.cn/show.php?id=0"
        upsert_article(s, make_article(url, title="改过的标题"), fetch_url=url, raw_body=b"", content_type=None,
                       http_status=200, run_id=None)


def make_app(tmp_path, database_url: str):
    from gateway.api import create_app
    from gateway.settings import GatewaySettings

    settings = GatewaySettings(data_dir=tmp_path, database_url=database_url,
                               index_url=f"sqlite:///{tmp_path / 'index.sqlite'}", plugin_dirs=[], load_plugins=[])
    return create_app(settings)


@pytest.fixture
def client(tmp_path, store):
    populate(store, f"sqlite:///{tmp_path / 'index.sqlite'}")
    with TestClient(make_app(tmp_path, store.url)) as c:
        yield c


def scrape(client) -> dict[tuple, float]:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=")
    out = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            out[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return out


def value(series: dict, name: str, **labels) -> float:
    return series[(name, tuple(sorted(labels.items())))]


def test_last_run_of_each_site(client):
    m = scrape(client)
    assert value(m, "blgw_store_up") == 1
    assert value(m, "blgw_site_last_run_status", site="rsj", status="failed") == 1
    assert value(m, "blgw_site_last_run_status", site="rsj", status="finished") == 0
    assert value(m, "blgw_site_last_run_status", site="jyj", status="finished") == 1
    assert value(m, "blgw_site_last_run_start_timestamp_seconds", site="rsj") == T0.timestamp()
    assert value(m, "blgw_site_last_run_end_timestamp_seconds", site="rsj") == T0.timestamp() + 30
    assert value(m, "blgw_site_last_run_duration_seconds", site="rsj") == 30
    assert value(m, "blgw_site_last_run_duration_seconds", site="jyj") == 90
    assert value(m, "blgw_site_last_run_pages_fetched", site="jyj") == 7
    assert {o: value(m, "blgw_site_last_run_items", site="jyj", outcome=o)
            for o in ("new", "changed", "unchanged", "gone")} == {"new": 3, "changed": 1, "unchanged": 2, "gone": 1}
    assert value(m, "blgw_site_last_run_items", site="rsj", outcome="new") == 0  # the failed run's
    assert value(m, "blgw_site_last_run_errors", site="rsj", kind="connection") == 2
    assert value(m, "blgw_site_last_run_errors", site="rsj", kind="site") == 1
    assert value(m, "blgw_site_last_run_errors", site="jyj", kind="field") == 1
    assert ("blgw_site_last_run_errors", (("kind", "field"), ("site", "rsj"))) not in m
    # the last success of rsj is the run before the failed one
    assert value(m, "blgw_site_last_success_timestamp_seconds", site="rsj") == (T0 - dt.timedelta(days=1)).timestamp() + 60


def test_next_due_time_follows_the_plugin_schedule(client):
    from plugins.cron import next_fire

    m = scrape(client)
    # rsj: "0 2 * * *" Beijing time; last start T0 → the next 02:00 in Beijing
    assert value(m, "blgw_site_next_due_timestamp_seconds", site="rsj") == next_fire("0 2 * * *", T0).timestamp()
    # a site that never ran is due since the epoch
    assert value(m, "blgw_site_next_due_timestamp_seconds", site="fgj") == 0


def test_documents_links_and_index(client):
    m = scrape(client)
    assert value(m, "blgw_documents", site="rsj", status="active") == 4
    assert value(m, "blgw_documents", site="jyj", status="active") == 3
    assert value(m, "blgw_documents", site="jyj", status="gone") == 1
    assert value(m, "blgw_site_links", site="rsj") == 3 and value(m, "blgw_site_dead_links", site="rsj") == 1
    assert value(m, "blgw_site_links", site="jyj") == 1 and value(m, "blgw_site_dead_links", site="jyj") == 1
    assert value(m, "blgw_index_outbox_length") == 1
    assert value(m, "blgw_index_outbox_quarantined") == 0
    assert value(m, "blgw_index_documents") == 7


def test_quarantined_outbox_rows_are_a_gauge_of_their_own(client, store):
    from sqlalchemy import select, update

    from gateway.store.models import IndexOutbox

    with store.session() as s:
        row = s.scalars(select(IndexOutbox)).one()
        s.execute(update(IndexOutbox).where(IndexOutbox.id == row.id)
                  .values(state="quarantined", attempts=5, last_error="mapper_parsing_exception"))
    m = scrape(client)
    assert value(m, "blgw_index_outbox_quarantined") == 1
    assert value(m, "blgw_index_outbox_length") == 0  # no longer waiting to be sent


def test_no_link_series_before_links_are_recorded(tmp_path, store):
    with TestClient(make_app(tmp_path, store.url)) as c:
        m = scrape(c)
    assert not any(name.startswith(("blgw_site_links", "blgw_site_dead_links")) for name, _ in m)
    assert value(m, "blgw_index_outbox_length") == 0 and value(m, "blgw_store_up") == 1


def test_search_requests_are_counted_and_timed(client):
    for _ in range(3):
        assert client.get("/api/search", params={"q": "社保"}).status_code == 200
    assert client.get("/api/search", params={"q": ""}).status_code == 422
    for _ in range(2):
        assert client.get("/api/suggest", params={"prefix": "rsj"}).status_code == 200
    client.get("/health")
    m = scrape(client)
    assert value(m, "blgw_http_requests_total", path="/api/search", method="GET", status="200") == 3
    assert value(m, "blgw_http_requests_total", path="/api/search", method="GET", status="422") == 1
    assert value(m, "blgw_http_requests_total", path="/api/suggest", method="GET", status="200") == 2
    assert value(m, "blgw_http_request_duration_seconds_count", path="/api/search") == 4
    assert value(m, "blgw_http_request_duration_seconds_count", path="/api/suggest") == 2
    assert value(m, "blgw_http_request_duration_seconds_bucket", path="/api/search", le="+Inf") == 4
    assert 0 < value(m, "blgw_http_request_duration_seconds_sum", path="/api/search") < 10
    assert not any(dict(labels).get("path") in ("/health", "/metrics") for _, labels in m)


def test_each_app_has_its_own_registry(tmp_path, store):
    first, second = make_app(tmp_path, store.url), make_app(tmp_path, store.url)
    with TestClient(first) as a, TestClient(second) as b:
        a.get("/api/search", params={"q": "社保"})
        assert value(scrape(a), "blgw_http_request_duration_seconds_count", path="/api/search") == 1
        assert ("blgw_http_request_duration_seconds_count", (("path", "/api/search"),)) not in scrape(b)


def test_a_store_outage_is_a_series_not_an_error(tmp_path):
    with TestClient(make_app(tmp_path, "postgresql+psycopg://blgw:x@127.0.0.1:1/blgw")) as c:
        m = scrape(c)
    assert value(m, "blgw_store_up") == 0
    assert not any(name.startswith("blgw_site_") for name, _ in m)


def test_attachments_by_status_bytes_and_text(client, store):
    from gateway.store.attachments import KnownText, link_attachments, record_failed, record_stored
    from normalizers.models import document_id

    doc = make_article("http://rsj.bl.gov.cn/show.php?id=1").id
    pdf, doc_file, big = (f"http://rsj.bl.gov.cn/f/{n}" for n in ("a.pdf", "b.doc", "c.zip"))
    with store.session() as s:
        link_attachments(s, "rsj", {doc: [pdf, doc_file, big]})
        record_stored(s, document_id(pdf), sha256="a" * 64, size=1200, content_type="application/pdf", family="pdf",
                      name="a.pdf", etag=None, last_modified=None, text=KnownText("ok", "正文", False, 1, None))
        record_failed(s, document_id(big), error="larger than the cap", too_large=True)
    m = scrape(client)
    assert value(m, "blgw_attachments", site="rsj", status="stored") == 1
    assert value(m, "blgw_attachments", site="rsj", status="pending") == 1
    assert value(m, "blgw_attachments", site="rsj", status="too-large") == 1
    assert value(m, "blgw_attachment_bytes", site="rsj") == 1200
    assert value(m, "blgw_attachment_text", site="rsj", status="ok") == 1
