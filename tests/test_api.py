"""The HTTP API and the portal pages (gateway/api.py) over a real store and a real embedded
index, filled the way a crawl fills them (upsert_article, then sync_index)."""

from __future__ import annotations

import base64
import datetime as dt
import re
import warnings

import pytest
from conftest import make_article, site_row

from normalizers.models import SHANGHAI, Category

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # starlette's TestClient warns about httpx
    from fastapi.testclient import TestClient

XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'
N_RSJ, N_JYJ = 14, 9  # articles mentioning 社保, per site


def populate(store, index_url: str) -> dict:
    """Fill the store with two sites' articles (one title carries an XSS attempt, one document
    is gone) and sync the index; return facts the tests check against."""
    from gateway.ops.indexing import sync_index
    from gateway.store.models import Document
    from gateway.store.repository import upsert_article, upsert_site
    from index.factory import open_index
    from plugins.manager import build_registry

    registry = build_registry([])
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    ids: list[str] = []
    with store.session() as session:
        for code in ("rsj", "jyj"):
            upsert_site(session, **site_row(registry.get(code)))
        n = 0
        for code, count in (("rsj", N_RSJ), ("jyj", N_JYJ)):
            for i in range(count):
                url = f"http://{code}.bl.gov.cn/show.php?id={i}"
                year = 2023 + i % 2
                article = make_article(
                    url, site_code=code, title=f"{code}社保政策解读第{i}号",
                    published_at=dt.datetime(year, 3, 1 + i, 9, 0, tzinfo=SHANGHAI),
                    column_path=["政务公开", "通知公告"] if i % 3 else ["网上服务", "办事指南"],
                    category=Category.GOVERNMENT_INFORMATION if i % 3 else Category.ONLINE_SERVICES,
                )
                # several documents share a change time: the cursor must break ties by id
                upsert_article(session, article, fetch_url=url, raw_body=b"<html></html>",
                               content_type="text/html", http_status=200, run_id=None,
                               seen_at=start + dt.timedelta(minutes=n // 3))
                ids.append(article.id)
                n += 1
        xss = make_article("http://rsj.bl.gov.cn/show.php?id=999", title=f"医保{XSS}公告",
                           body_text=f"医保 正文 {XSS} 结束")
        upsert_article(session, xss, fetch_url=str(xss.source_url), raw_body=b"", content_type=None,
                       http_status=200, run_id=None, seen_at=start + dt.timedelta(hours=1))
        ids.append(xss.id)
        gone = make_article("http://jyj.bl.gov.cn/show.php?id=gone", site_code="jyj", title="已撤下的页面")
        upsert_article(session, gone, fetch_url=str(gone.source_url), raw_body=b"", content_type=None,
                       http_status=200, run_id=None, seen_at=start + dt.timedelta(hours=2))
        ids.append(gone.id)
    with store.session() as session:
        from gateway.store import repository

        if hasattr(repository, "mark_gone"):
            repository.mark_gone(session, gone.id)
        else:
            session.get(Document, gone.id).status = "gone"
    with open_index(index_url) as index:
        sync_index(store, index)
    return {"ids": ids, "xss_id": xss.id, "gone_id": gone.id}


def make_client(tmp_path, store):
    from gateway.api import create_app
    from gateway.settings import GatewaySettings

    index_url = f"sqlite:///{tmp_path / 'index.sqlite'}"
    facts = populate(store, index_url)
    settings = GatewaySettings(data_dir=tmp_path, database_url=store.url, index_url=index_url,
                               plugin_dirs=[], load_plugins=[])
    return TestClient(create_app(settings)), facts


@pytest.fixture
def api(tmp_path, store):
    client, facts = make_client(tmp_path, store)
    with client:
        client.facts = facts
        yield client


def unsafe_markup(fragment: str) -> bool:
    """True when the fragment holds markup other than <mark>…</mark>."""
    return bool(re.search(r"[<>]", re.sub(r"</?mark>", "", fragment)))


# --- /api/search ---------------------------------------------------------------------------


def test_search_returns_highlighted_hits_with_site_names(api):
    body = api.get("/api/search", params={"q": "社保", "size": 5}).json()
    assert body["total"] == N_RSJ + N_JYJ
    assert (body["page"], body["size"], body["pages"]) == (1, 5, 5)
    assert len(body["hits"]) == 5
    hit = body["hits"][0]
    assert set(hit) >= {"id", "title_html", "snippet_html", "url", "site_code", "site_name",
                        "column_path", "published_at"}
    assert "<mark>社保</mark>" in hit["title_html"]
    assert hit["site_name"] in ("北仑区人力资源和社会保障局", "北仑区教育局")


def test_search_facets_count_every_match(api):
    facets = api.get("/api/search", params={"q": "社保", "size": 1}).json()["facets"]
    assert set(facets) == {"site", "category", "column", "year"}
    as_dict = {key: {v["value"]: v["count"] for v in values} for key, values in facets.items()}
    guides = len(range(0, N_RSJ, 3)) + len(range(0, N_JYJ, 3))
    assert as_dict["site"] == {"rsj": N_RSJ, "jyj": N_JYJ}
    assert as_dict["category"] == {"政务公开": N_RSJ + N_JYJ - guides, "网上服务": guides}
    assert as_dict["column"] == {"通知公告": N_RSJ + N_JYJ - guides, "办事指南": guides}
    assert as_dict["year"] == {"2023": 7 + 5, "2024": 7 + 4}
    labels = {v["value"]: v["label"] for v in facets["site"]}
    assert labels == {"rsj": "北仑区人力资源和社会保障局", "jyj": "北仑区教育局"}


def test_search_filters_by_site_column_dates_and_orders_by_date(api):
    only = api.get("/api/search", params={"q": "社保", "site": "jyj", "size": 50}).json()
    assert only["total"] == N_JYJ and {h["site_code"] for h in only["hits"]} == {"jyj"}
    both = api.get("/api/search", params=[("q", "社保"), ("site", "jyj"), ("site", "rsj")]).json()
    assert both["total"] == N_RSJ + N_JYJ
    guides = api.get("/api/search", params={"q": "社保", "column": "办事指南", "size": 50}).json()
    assert guides["total"] == len(range(0, N_RSJ, 3)) + len(range(0, N_JYJ, 3))
    y2024 = api.get("/api/search", params={"q": "社保", "date_from": "2024-01-01",
                                            "date_to": "2024-12-31", "size": 50}).json()
    assert y2024["total"] == N_RSJ // 2 + N_JYJ // 2
    assert all(h["published_at"].startswith("2024") for h in y2024["hits"])
    dated = api.get("/api/search", params={"q": "社保", "order": "date", "size": 50}).json()
    stamps = [h["published_at"] for h in dated["hits"]]
    assert stamps == sorted(stamps, reverse=True)


def test_search_by_category(api):
    body = api.get("/api/search", params={"q": "社保", "category": "网上服务", "size": 50}).json()
    assert body["total"] == len(range(0, N_RSJ, 3)) + len(range(0, N_JYJ, 3))
    assert all(h["category"] == "网上服务" for h in body["hits"])


def test_search_pages_through_every_hit_once(api):
    seen = []
    for page in range(1, 5):
        body = api.get("/api/search", params={"q": "社保", "size": 7, "page": page}).json()
        seen += [h["id"] for h in body["hits"]]
    assert len(seen) == len(set(seen)) == N_RSJ + N_JYJ
    past = api.get("/api/search", params={"q": "社保", "size": 7, "page": 9}).json()
    assert past["hits"] == [] and past["total"] == N_RSJ + N_JYJ


@pytest.mark.parametrize("params, field", [
    ({}, "q"),
    ({"q": ""}, "q"),
    ({"q": "   "}, "q"),
    ({"q": "x" * 201}, "q"),
    ({"q": "社保", "page": 0}, "page"),
    ({"q": "社保", "page": 101}, "page"),
    ({"q": "社保", "size": 51}, "size"),
    ({"q": "社保", "order": "random"}, "order"),
    ({"q": "社保", "category": "其他"}, "category"),
    ({"q": "社保", "date_from": "2024-13-01"}, "date_from"),
    ({"q": "社保", "date_from": "yesterday"}, "date_from"),
    ({"q": "a", "date_to": "9999-12-31"}, "date_to"),  # has no next day: once a 500
    ({"q": "a", "date_from": "0001-01-01"}, "date_from"),
    ({"q": "a", "date_from": "1899-12-31"}, "date_from"),
    ({"q": "a", "date_to": "3000-01-01"}, "date_to"),
])
def test_search_rejects_bad_input_with_422(api, params, field):
    response = api.get("/api/search", params=params)
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert any(field in [str(p) for p in d["loc"]] or field in d["msg"] for d in detail), detail


def test_search_takes_every_day_of_the_date_range(api):
    from index.base import SEARCH_DATE_MAX, SEARCH_DATE_MIN

    for params in ({"date_from": SEARCH_DATE_MIN.isoformat(), "date_to": SEARCH_DATE_MAX.isoformat()},
                   {"date_from": SEARCH_DATE_MAX.isoformat()}, {"date_to": SEARCH_DATE_MIN.isoformat()}):
        response = api.get("/api/search", params={"q": "社保", **params})
        assert response.status_code == 200, response.text
    assert api.get("/api/search", params={"q": "社保", "date_from": "1900-01-01",
                                          "date_to": "2999-12-31"}).json()["total"] == N_RSJ + N_JYJ


def test_search_rejects_reversed_date_range_with_a_clear_message(api):
    response = api.get("/api/search", params={"q": "社保", "date_from": "2024-05-01", "date_to": "2024-01-01"})
    assert response.status_code == 422
    assert "date_from 2024-05-01 is after date_to 2024-01-01" in response.json()["detail"][0]["msg"]


@pytest.mark.parametrize("q", ['title:社保 OR 1=1', '社保 AND NOT', '{"query": {"match_all": {}}}',
                               '社保*', 'NEAR(社保 政策)', '"', "'); DROP TABLE documents; --"])
def test_query_language_never_reaches_the_index(api, q):
    response = api.get("/api/search", params={"q": q})
    assert response.status_code == 200
    assert response.json()["total"] <= N_RSJ + N_JYJ
    assert api.get("/health").json()["documents"] == N_RSJ + N_JYJ + 1


def test_xss_in_query_and_stored_title_is_escaped(api):
    body = api.get("/api/search", params={"q": "医保"}).json()
    assert body["total"] == 1
    hit = body["hits"][0]
    for fragment in (hit["title_html"], hit["snippet_html"]):
        assert not unsafe_markup(fragment), fragment
        assert "&lt;script&gt;" in fragment
    page = api.get("/", params={"q": "医保"}).text
    assert "<script>alert" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page or "&lt;script&gt;alert(&quot;x&quot;)" in page
    echoed = api.get("/", params={"q": XSS})
    assert XSS not in echoed.text and "&lt;script&gt;" in echoed.text
    api_echo = api.get("/api/search", params={"q": XSS})
    assert api_echo.status_code == 200 and api_echo.headers["content-type"].startswith("application/json")
    suggestions = api.get("/api/suggest", params={"prefix": "医保"}).json()["suggestions"]
    assert suggestions and suggestions[0]["title"] == f"医保{XSS}公告"  # plain text; the page uses textContent


def test_safe_fragment_escapes_markup_a_backend_should_never_send():
    from gateway.api.search import safe_fragment

    assert safe_fragment("a <mark>b</mark> &lt;i&gt;") == "a <mark>b</mark> &lt;i&gt;"
    assert safe_fragment("<mark>b</mark><script>x</script>") == \
        "&lt;mark&gt;b&lt;/mark&gt;&lt;script&gt;x&lt;/script&gt;"


# --- /api/suggest --------------------------------------------------------------------------


def test_suggest(api):
    body = api.get("/api/suggest", params={"prefix": "rsj社保", "size": 3}).json()
    assert body["prefix"] == "rsj社保"
    assert len(body["suggestions"]) == 3
    assert set(body["suggestions"][0]) == {"id", "title", "url", "site_code"}
    assert all(s["title"].startswith("rsj社保") for s in body["suggestions"])
    only = api.get("/api/suggest", params={"prefix": "jyj", "site": "jyj", "size": 20}).json()["suggestions"]
    assert len(only) == N_JYJ and {s["site_code"] for s in only} == {"jyj"}
    assert api.get("/api/suggest", params={"prefix": "jyj", "site": "rsj"}).json()["suggestions"] == []
    assert api.get("/api/suggest", params={"prefix": ""}).status_code == 422
    assert api.get("/api/suggest", params={"prefix": "社保", "size": 0}).status_code == 422
    assert api.get("/api/suggest", params={"prefix": "社保", "size": 21}).status_code == 422
    assert api.get("/api/suggest", params={"prefix": "   "}).json()["suggestions"] == []


# --- /api/navigation -----------------------------------------------------------------------


def test_navigation_of_every_site_with_counts(api):
    sites = api.get("/api/navigation").json()["sites"]
    codes = [s["site_code"] for s in sites]
    assert {"rsj", "jyj"} <= set(codes) and codes == sorted(codes)
    rsj = next(s for s in sites if s["site_code"] == "rsj")
    assert rsj["item_type"] == "navigation" and rsj["site_name"] == "北仑区人力资源和社会保障局"
    assert next(c["name"] for c in rsj["columns"]) == "政务公开"
    total = sum(c["document_count"] or 0 for c in rsj["columns"])
    assert total >= 1
    one = api.get("/api/navigation/rsj").json()
    assert one["site_code"] == "rsj" and one["columns"] == rsj["columns"]
    missing = api.get("/api/navigation/nosuchsite")
    assert missing.status_code == 404 and "nosuchsite" in missing.json()["detail"]


# --- /api/documents ------------------------------------------------------------------------


def test_document_from_the_store(api):
    doc_id = api.facts["ids"][0]
    body = api.get(f"/api/documents/{doc_id}").json()
    assert body["id"] == doc_id and body["status"] == "active"
    assert body["item"]["id"] == doc_id and body["item"]["title"] == "rsj社保政策解读第0号"
    from normalizers.models import parse_item

    assert parse_item(body["item"]).id == doc_id  # the exchange standard, as stored
    gone = api.get(f"/api/documents/{api.facts['gone_id']}").json()
    assert gone["status"] == "gone"
    assert api.get("/api/documents/0123456789abcdef0123456789abcdef").status_code == 404
    assert api.get("/api/documents/..%2F..%2Fetc").status_code == 404


# --- /api/feed -----------------------------------------------------------------------------


def test_feed_pages_through_every_item_exactly_once_in_change_order(api):
    seen, stamps, cursor, pages = [], [], None, 0
    while True:
        params = {"limit": 4} | ({"since": cursor} if cursor else {})
        body = api.get("/api/feed", params=params).json()
        pages += 1
        seen += [(e["last_changed_at"], e["id"]) for e in body["items"]]
        stamps += [e["status"] for e in body["items"]]
        cursor = body["next_cursor"]
        if not body["has_more"]:
            break
        assert pages < 50
    ids = [i for _, i in seen]
    assert sorted(ids) == sorted(api.facts["ids"]) and len(ids) == len(set(ids))
    order = [(dt.datetime.fromisoformat(t), i) for t, i in seen]
    assert order == sorted(order)
    assert stamps.count("gone") == 1
    # nothing new: an empty page and the same cursor
    again = api.get("/api/feed", params={"since": cursor}).json()
    assert again == {"items": [], "next_cursor": cursor, "has_more": False}


def test_feed_sees_later_changes_after_the_cursor(api, store):
    from gateway.store.repository import upsert_article

    cursor = api.get("/api/feed", params={"limit": 500}).json()["next_cursor"]
    changed = make_article("http://rsj.bl.gov.cn/show.php?id=3", site_code="rsj", title="改过的标题")
    with store.session() as session:
        upsert_article(session, changed, fetch_url=str(changed.source_url), raw_body=b"",
                       content_type=None, http_status=200, run_id=None)
    body = api.get("/api/feed", params={"since": cursor}).json()
    assert [e["id"] for e in body["items"]] == [changed.id]
    assert body["items"][0]["item"]["title"] == "改过的标题"


def cursor_of(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode("utf-8", "surrogateescape")).decode()


@pytest.mark.parametrize("cursor", [
    "zzz", "!!!", cursor_of("no-separator"), cursor_of("not a date|abc"), cursor_of("2024-01-01T00:00:00|abc"),
    base64.urlsafe_b64encode(b"\xff\xfe|x").decode(),
    # times no change can have; the first two have no UTC time at all (once a 500)
    cursor_of("0001-01-01T00:00:00+05:00|0123456789abcdef0123456789abcdef"), cursor_of("9999-12-31T23:59:59-05:00|0123456789abcdef0123456789abcdef"),
    cursor_of("0001-01-01T00:00:00+00:00|0123456789abcdef0123456789abcdef"), cursor_of("1969-12-31T23:59:59+00:00|0123456789abcdef0123456789abcdef"),
    # no document has such an id (PostgreSQL refuses a NUL in a text parameter: once a 500 there)
    cursor_of("2026-01-01T00:00:00+00:00|abc"), cursor_of("2026-01-01T00:00:00+00:00|\x00"),
    cursor_of("2026-01-01T00:00:00+00:00|"),
])
def test_feed_rejects_a_bad_cursor_with_422_naming_it(api, cursor):
    response = api.get("/api/feed", params={"since": cursor})
    assert response.status_code == 422, response.text
    (error,) = response.json()["detail"]
    assert error["loc"] == ["query", "since"] and "cursor" in error["msg"]


@pytest.mark.parametrize("stamp", ["1970-01-01T00:00:00+00:00", "9999-12-31T23:59:59.999999+00:00",
                                   "9999-12-31T23:59:59+00:00"])
def test_feed_takes_a_cursor_at_either_end_of_time(api, stamp):
    response = api.get("/api/feed", params={"since": cursor_of(f"{stamp}|0123456789abcdef0123456789abcdef")})
    assert response.status_code == 200, response.text


def test_feed_limit_is_validated(api):
    assert api.get("/api/feed", params={"limit": 0}).status_code == 422
    assert api.get("/api/feed", params={"limit": 501}).status_code == 422


# --- /health, lifespan, OpenAPI ------------------------------------------------------------


def test_health(api):
    body = api.get("/health").json()
    assert body["status"] == "ok" and body["documents"] == N_RSJ + N_JYJ + 1
    assert body["indexed"] == N_RSJ + N_JYJ + 1
    assert body["store"].startswith("sqlite:///") and body["index"].startswith("sqlite:///")


def test_health_is_503_when_the_index_cannot_be_opened(tmp_path, store):
    from gateway.api import create_app
    from gateway.settings import GatewaySettings

    settings = GatewaySettings(data_dir=tmp_path, database_url=store.url,
                               index_url="ftp://nowhere/index", plugin_dirs=[])
    with TestClient(create_app(settings)) as client:
        response = client.get("/health")
        assert response.status_code == 503
        body = response.json()
        assert body["status"] == "error" and "index" in body["errors"]
        assert body["documents"] == 0
        assert client.get("/api/search", params={"q": "社保"}).status_code == 503


def test_a_store_and_an_index_down_at_start_up_are_picked_up_when_they_come_back(tmp_path, store):
    """Both are unreachable when the app starts (their folder cannot be created: a file is in the
    way); the API answers 503 naming them, and once the folder can be made it serves without a
    restart (a failed resource is tried again, at most every RETRY_SECONDS)."""
    from gateway.api import create_app
    from gateway.settings import GatewaySettings

    index_url = f"sqlite:///{tmp_path / 'index.sqlite'}"
    facts = populate(store, index_url)
    blocked = tmp_path / "later"
    blocked.write_text("not a folder")
    settings = GatewaySettings(data_dir=tmp_path, database_url=f"sqlite:///{blocked / 'store.sqlite'}",
                               index_url=f"sqlite:///{blocked / 'index.sqlite'}", plugin_dirs=[], load_plugins=[])
    now = [0.0]
    app = create_app(settings)
    app.state.resources.clock = lambda: now[0]
    with TestClient(app) as client:
        health = client.get("/health")
        assert health.status_code == 503 and {"store", "index"} <= set(health.json()["errors"])
        search = client.get("/api/search", params={"q": "社保"})
        assert search.status_code == 503 and "search index" in search.json()["detail"]
        assert client.get(f"/api/documents/{facts['ids'][0]}").status_code == 503
        blocked.unlink()  # now the folder is there (with the data: a link to where it is)
        blocked.symlink_to(tmp_path, target_is_directory=True)
        # not before the retry interval: a dead resource is not hammered on every request
        assert client.get("/api/search", params={"q": "社保"}).status_code == 503
        now[0] += 10
        assert client.get("/api/search", params={"q": "社保"}).json()["total"] == N_RSJ + N_JYJ
        assert client.get(f"/api/documents/{facts['ids'][0]}").status_code == 200
        assert client.get("/health").status_code == 200


def test_resources_are_opened_once_and_closed_on_shutdown(tmp_path, store):
    client, _ = make_client(tmp_path, store)
    resources = client.app.state.resources
    with client:
        index = resources.index
        assert index is not None and resources.store is not None
        client.get("/api/search", params={"q": "社保"})
        client.get("/health")
        assert resources.index is index
    assert resources.index is None and resources.store is None
    from index.base import IndexClosedError

    with pytest.raises(IndexClosedError):
        index.count()


def test_openapi_documents_every_endpoint(api):
    spec = api.get("/openapi.json").json()
    for path in ("/api/search", "/api/suggest", "/api/navigation", "/api/navigation/{site_code}",
                 "/api/documents/{doc_id}", "/api/feed", "/health"):
        assert path in spec["paths"], path
    names = {p["name"] for p in spec["paths"]["/api/search"]["get"]["parameters"]}
    assert names == {"q", "site", "category", "column", "date_from", "date_to", "file", "order", "page", "size"}
    for path in ("/cached/{doc_id}/attachments/{att_id}", "/api/attachments/{att_id}/text"):
        assert path in spec["paths"], path


# --- the portal pages ----------------------------------------------------------------------


def test_portal_page_without_a_query_is_the_search_form(api):
    page = api.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    html = page.text
    assert '<html lang="zh-CN">' in html
    assert 'href="http://www.bl.gov.cn/"' in html and "北仑区政府网站群" in html
    assert '<label for="q">' in html and 'role="search"' in html and "<main" in html
    assert "全部站点" in html and "搜索" in html and "网站导航" in html
    assert "北仑区教育局" in html  # the site list
    assert "/static/suggest.js" in html


def test_portal_page_renders_results_with_marks_and_pages(api):
    html = api.get("/", params={"q": "社保"}).text
    assert "<mark>社保</mark>" in html
    assert f"找到 {N_RSJ + N_JYJ} 条结果" in html
    assert "下一页" in html and "上一页" not in html
    page2 = api.get("/", params={"q": "社保", "page": 2}).text
    assert "上一页" in page2 and "下一页" in page2
    last = api.get("/", params={"q": "社保", "page": 3}).text
    assert "上一页" in last and "下一页" not in last
    filtered = api.get("/", params={"q": "社保", "site": "jyj"}).text
    assert f"找到 {N_JYJ} 条结果" in filtered
    assert '<option value="jyj" selected>' in filtered


def test_portal_page_facet_links_narrow_the_search(api):
    html = api.get("/", params={"q": "社保"}).text
    assert "/?q=%E7%A4%BE%E4%BF%9D&amp;site=jyj" in html
    assert "date_from=2024-01-01&amp;date_to=2024-12-31" in html
    assert "category=%E7%BD%91%E4%B8%8A%E6%9C%8D%E5%8A%A1" in html  # 网上服务
    narrowed = api.get("/", params={"q": "社保", "date_from": "2024-01-01", "date_to": "2024-12-31"}).text
    assert "找到 11 条结果" in narrowed and "取消" in narrowed


def test_portal_page_shows_input_errors(api):
    response = api.get("/", params={"q": "社保", "date_from": "2024-05-01", "date_to": "2024-01-01"})
    assert response.status_code == 422
    assert "请检查搜索条件" in response.text and "is after" in response.text
    for field, day in (("date_to", "9999-12-31"), ("date_from", "0001-01-01")):
        response = api.get("/", params={"q": "a", field: day})
        assert response.status_code == 422, response.text  # once a 500
        assert "请检查搜索条件" in response.text and f"{field}:" in response.text
    assert api.get("/", params={"q": "社保", "page": "abc"}).status_code == 200


def test_navigation_page(api):
    response = api.get("/navigation")
    assert response.status_code == 200
    html = response.text
    assert "<h1>网站导航</h1>" in html and '<html lang="zh-CN">' in html
    assert 'href="http://rsj.bl.gov.cn/"' in html and "北仑区人力资源和社会保障局" in html
    assert 'id="site-jyj"' in html
    assert 'href="http://www.bl.gov.cn/"' in html


def test_every_html_page_has_a_content_security_policy(api):
    for path in ("/", "/?q=社保", "/navigation", "/links/rsj", "/docs"):
        response = api.get(path)
        assert response.headers["content-type"].startswith("text/html"), path
        csp = response.headers["content-security-policy"]
        assert "object-src 'none'" in csp and "base-uri 'none'" in csp and "frame-ancestors 'self'" in csp, path
        assert "script-src 'self'" in csp, path
        assert response.headers["x-content-type-options"] == "nosniff"
    assert "'unsafe-inline'" not in api.get("/").headers["content-security-policy"].split("script-src", 1)[1].split(";")[0]


def test_metrics_label_values_are_bounded(api):
    for method in ("GET", "BREW", "PROPFIND", "X" * 40):
        api.request(method, "/api/search", params={"q": "社保"})
    text = api.get("/metrics").text
    methods = set(re.findall(r'blgw_http_requests_total\{[^}]*method="([^"]+)"', text))
    assert methods == {"GET", "other"}, methods


def test_static_files(api):
    assert api.get("/static/portal.css").status_code == 200
    js = api.get("/static/suggest.js")
    assert js.status_code == 200 and "/api/suggest" in js.text and "innerHTML" not in js.text


def test_serve_command_is_registered():
    from click.testing import CliRunner

    from gateway.cli import main

    result = CliRunner().invoke(main, ["serve", "--help"])
    assert result.exit_code == 0
    assert "--host" in result.output and "--port" in result.output


# --- planted markup in every stored field the portal shows ----------------------------------

PLANTED = [
    '"><svg onload=evil()>',
    "</mark><script>evil()</script><mark>",
    "'-evil()-'",
    '<a href="javascript:evil()">点此</a>',
    "<iframe src=//127.0.0.2/></iframe>",
    "{{ 7*7 }}{% raw %}",
    "\u202e<img src=x onerror=evil()>",
]


@pytest.mark.parametrize("vector", PLANTED)
def test_planted_markup_in_any_shown_field_stays_text(tmp_path, store, vector):
    """A compromised subsite controls every field of its articles: title, body, column, publisher,
    attachment names. Whatever it plants is text on every portal page and in every API answer."""
    from gateway.api import create_app
    from gateway.ops.indexing import sync_index
    from gateway.settings import GatewaySettings
    from gateway.store.repository import upsert_article, upsert_site
    from index.factory import open_index
    from normalizers.models import Attachment, DisclosureMetadata
    from plugins.manager import build_registry

    index_url = f"sqlite:///{tmp_path / 'index.sqlite'}"
    article = make_article("http://rsj.bl.gov.cn/show.php?id=planted", title=f"公告{vector}结束",
                           body_text=f"公告 正文 {vector} 结束", body_html=f"<p>公告 正文 {vector} 结束</p>",
                           column_path=[f"栏目{vector}"],
                           disclosure=DisclosureMetadata(publisher=f"发布{vector}"),
                           attachments=[Attachment(name=f"附件{vector}.pdf", url="http://rsj.bl.gov.cn/a.pdf",
                                                    file_type="pdf")])
    with store.session() as session:
        upsert_site(session, **site_row(build_registry([]).get("rsj")))
        upsert_article(session, article, fetch_url=str(article.source_url), raw_body=b"", content_type=None,
                       http_status=200, run_id=None)
    with open_index(index_url) as index:
        sync_index(store, index)
    settings = GatewaySettings(data_dir=tmp_path, database_url=store.url, index_url=index_url,
                               plugin_dirs=[], load_plugins=[])
    with TestClient(create_app(settings)) as client:
        hits = client.get("/api/search", params={"q": "公告"}).json()["hits"]
        assert [h["id"] for h in hits] == [article.id]
        for fragment in (hits[0]["title_html"], hits[0]["snippet_html"]):
            assert not unsafe_markup(fragment), fragment
        pages = {path: client.get(path, params=params).text for path, params in (
            ("/", {"q": "公告"}), ("/", {"q": vector}), ("/", {"q": "公告", "column": f"栏目{vector}"}),
            (f"/cached/{article.id}", {}), ("/navigation", {}))}
    for path, page in pages.items():
        for bad in ("<svg onload", "<script>evil", "<iframe", 'href="javascript:', "<img src=x"):
            assert bad not in page, (path, bad)
        # template syntax in data is never evaluated
        if vector.startswith("{{"):
            assert "{{ 7*7 }}" in page or path == "/navigation", path


@pytest.mark.parametrize("field", ["source_url", "attachment"])
def test_a_stored_link_is_always_http(field):
    """A link the portal renders as href comes from a field the exchange standard types as an
    http(s) URL: a planted javascript: or data: link cannot be stored at all."""
    from pydantic import ValidationError

    from normalizers.models import Attachment

    for bad in ("javascript:evil()", "data:text/html,<script>evil()</script>", "file:///etc/passwd"):
        with pytest.raises(ValidationError):
            if field == "source_url":
                make_article(bad)
            else:
                make_article(attachments=[Attachment(name="a.pdf", url=bad, file_type="pdf")])
