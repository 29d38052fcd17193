"""The Hanweb (jyj, 北仑区教育局) and JavaScript (wlj, 北仑区文化和广电旅游体育局) fixture subsites serve
exactly what their truth.json says, through the same channels a crawler has to use: the Hanweb column
page's embedded datastore plus dataproxy.jsp POSTs, and the JS site's JSON API / a real browser."""

from __future__ import annotations

import json
import math
import os
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import lxml.etree
import lxml.html
import pytest

from fixture_sites.generator import norm_text
from fixture_sites.modern_sites import (
    generate_hanweb,
    generate_jsapp,
    hanweb_server,
    jsapp_server,
)

CHROMIUM = Path("/usr/bin/chromium")
PROXY = "/module/web/jpage/dataproxy.jsp"
TRUTH_KEYS = {"id", "column", "path", "title", "published_at", "published_at_precision", "index_number",
              "publisher", "written_date", "document_number", "body_paragraphs", "attachments"}


def fetch(url: str, data: bytes | None = None, headers: dict[str, str] | None = None,
          method: str | None = None) -> tuple[int, dict[str, str], bytes]:
    req = urllib.request.Request(url, data=data, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, {k.lower(): v for k, v in resp.headers.items()}, resp.read()
    except urllib.error.HTTPError as e:
        return e.code, {k.lower(): v for k, v in e.headers.items()}, e.read()


def fetch_json(url: str) -> tuple[int, dict]:
    status, headers, body = fetch(url)
    assert headers["content-type"] == "application/json; charset=utf-8", url
    return status, json.loads(body)


def paragraphs(container) -> list[str]:
    """The truth convention: normalised text of every non-empty <p> in the body container."""
    return [t for t in (norm_text(p.text_content()) for p in container.iter("p")) if t]


def by_column(truth: dict) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {c["name"]: [] for c in truth["columns"]}
    for a in truth["articles"]:
        out[a["column"]].append(a)
    return out


def check_truth_shape(truth: dict, platform: str) -> None:
    assert truth["site"]["platform"] == platform and set(truth) == {"site", "columns", "articles"}
    arts = truth["articles"]
    assert all(set(a) == TRUTH_KEYS for a in arts)
    assert len({a["id"] for a in arts}) == len(arts) == sum(c["count"] for c in truth["columns"])
    assert len({a["title"] for a in arts}) == len(arts) and len({a["path"] for a in arts}) == len(arts)
    for c in truth["columns"]:
        assert set(c) == {"name", "url", "count", "pages"}
    for a in arts:
        assert re.fullmatch(r"20(19|2[0-4])-\d\d-\d\dT\d\d:\d\d:00\+08:00", a["published_at"])
        assert a["body_paragraphs"] and all(p == norm_text(p) and p for p in a["body_paragraphs"])
        assert "人力社保局" not in a["title"] + "".join(a["body_paragraphs"])  # rebranded
        for att in a["attachments"]:
            assert set(att) == {"name", "path", "file_type"} and att["name"].endswith("." + att["file_type"])
    cols = by_column(truth)  # list order: newest first within a column
    for arts_of_col in cols.values():
        dates = [a["published_at"] for a in arts_of_col]
        assert dates == sorted(dates, reverse=True)


# ================================================================================================ Hanweb


@pytest.fixture(scope="module")
def hanweb(tmp_path_factory):
    data = generate_hanweb(tmp_path_factory.mktemp("jyj"))
    truth = json.loads((data / "truth.json").read_text(encoding="utf-8"))
    with hanweb_server(data) as base:
        yield base, truth


def column_form(nextgroup_href: str) -> list[tuple[str, str]]:
    """What a crawler POSTs: the nextgroup link's parameters (minus page) plus col and sourceContentType."""
    params = [(k, v) for k, v in urllib.parse.parse_qsl(urllib.parse.urlsplit(nextgroup_href).query) if k != "page"]
    return [("col", "1"), *params[:4], ("sourceContentType", "1"), *params[4:]]


def proxy_post(base: str, start: int | str, end: int | str, form, perpage: int | str = 15):
    query = urllib.parse.urlencode({"startrecord": start, "endrecord": end, "perpage": perpage})
    body = urllib.parse.urlencode(form).encode() if not isinstance(form, bytes) else form
    return fetch(f"{base}{PROXY}?{query}", body, {"Content-Type": "application/x-www-form-urlencoded"})


def records(xml_text: str) -> tuple[list[tuple[str, str, str]], lxml.etree._Element]:
    """(href, title attribute, date) of every <record> in a <datastore>, and the parsed datastore."""
    root = lxml.etree.fromstring(xml_text.encode("utf-8") if isinstance(xml_text, str) else xml_text)
    out = []
    for rec in root.iter("record"):
        li = lxml.html.fragment_fromstring(rec.text.strip())
        a = li.find("a")
        out.append((a.get("href"), a.get("title"), li.findtext("span")))
    return out, root


def test_hanweb_generator_truth(tmp_path):
    a = generate_hanweb(tmp_path / "a", seed=7, n_articles=50)
    b = generate_hanweb(tmp_path / "b", seed=7, n_articles=50)
    assert (a / "truth.json").read_bytes() == (b / "truth.json").read_bytes()
    assert (a / "site.json").read_bytes() == (b / "site.json").read_bytes()
    truth = json.loads((generate_hanweb(tmp_path / "c") / "truth.json").read_text(encoding="utf-8"))
    check_truth_shape(truth, "hanweb")
    assert truth["site"] == {"code": "jyj", "name": "北仑区教育局", "platform": "hanweb"}
    assert [(c["name"], c["url"]) for c in truth["columns"]] == [
        ("通知公告", "/col/col122901/index.html"), ("教育动态", "/col/col122902/index.html"),
        ("政策文件", "/col/col122903/index.html")]
    assert len(truth["articles"]) == 100
    assert all(c["pages"] == math.ceil(c["count"] / 15) and c["count"] > 15 for c in truth["columns"])
    for art in truth["articles"]:
        m = re.fullmatch(r"/art/(\d{4})/([1-9]\d?)/([1-9]\d?)/art_(12290[123])_(\d+)\.html", art["path"])
        assert m, art["path"]
        y, mo, d = (int(x) for x in m.groups()[:3])
        assert art["published_at"].startswith(f"{y:04d}-{mo:02d}-{d:02d}T00:00:00")
        assert art["published_at_precision"] == "day" and int(m.group(5)) == art["id"]
        disclosed = art["column"] == "政策文件"
        assert (art["index_number"] is not None) == disclosed == (art["publisher"] is not None)
        assert (art["written_date"] is not None) == disclosed
        for att in art["attachments"]:
            assert re.fullmatch(r"/module/download/downfile\.jsp\?classid=0&filename=\d+\.\w+", att["path"])
    assert any(a["document_number"] for a in truth["articles"])
    assert any(a["column"] == "政策文件" and a["document_number"] is None for a in truth["articles"])
    assert any(len(a["title"]) > 30 for a in truth["articles"])  # cut in the list, whole in @title


def test_hanweb_home_and_column_page_markup(hanweb):
    base, truth = hanweb
    status, headers, body = fetch(base + "/index.html")
    assert status == 200 and headers["content-type"] == "text/html; charset=UTF-8"
    text = body.decode("utf-8")
    assert "大汉版通发布系统" in text and "技术支持：大汉网络" in text
    assert '<meta name="generator" content="Hanweb JCMS" />' in text
    assert '<script language="javascript" src="/module/jslib/jquery/jquery.js"></script>' in text
    doc = lxml.html.document_fromstring(text)
    hrefs = doc.xpath("//div[@class='nav']/a/@href")
    assert [c["url"] for c in truth["columns"]] == hrefs[1:]
    assert fetch(base + "/")[2] == body

    col = truth["columns"][0]
    text = fetch(base + col["url"])[2].decode("utf-8")
    assert re.search(r'<div id="385762"><script type="text/xml"><datastore>\s*<nextgroup><!\[CDATA\[<a href="'
                     r'/module/web/jpage/dataproxy\.jsp\?page=1&appid=1&webid=3034&path=/&columnid=122901&unitid=385762'
                     r'&webname=北仑区教育局&permissiontype=0"></a>\]\]></nextgroup>\s*<recordset>\s*<record><!\[CDATA\[',
                     text)
    assert '<script language="javascript" src="/module/web/jpage/jpage.js"></script>' in text
    assert re.search(rf"new Jpage\(\{{.*perPage: 15,.*totalRecord: {col['count']},.*totalPage: {col['pages']}", text,
                     re.DOTALL)
    # the page as a crawler sees it: no article link outside the datastore script, no pager links
    doc = lxml.html.document_fromstring(text)
    assert not doc.xpath("//a[contains(@href, '/art/')]")
    assert not doc.xpath("//a[contains(., '下一页') or contains(., '下页')]")
    # Jpage's own URLs (?uid=…&pageNum=N) are the same static page
    assert fetch(base + col["url"] + "?uid=385762&pageNum=2")[2].decode("utf-8") == text
    assert fetch(base + "/module/web/jpage/jpage.js")[0] == 200


def test_hanweb_datastore_plus_dataproxy_yield_the_truth(hanweb):
    base, truth = hanweb
    expected = by_column(truth)
    for col in truth["columns"]:
        doc = lxml.html.document_fromstring(fetch(base + col["url"])[2].decode("utf-8"))
        (script,) = doc.xpath("//div[@id]/script[@type='text/xml']")
        unitid = script.getparent().get("id")
        got, root = records(script.text)
        assert len(got) == 15  # perpage
        nextgroup = root.find("nextgroup").text
        form = column_form(lxml.html.fragment_fromstring(nextgroup).get("href"))
        assert dict(form)["unitid"] == unitid and dict(form)["webname"] == "北仑区教育局"
        start, requests = len(got) + 1, 0
        while start <= col["count"]:
            status, headers, body = proxy_post(base, start, start + 44, form)  # Jpage: 3 pages per request
            assert status == 200 and headers["content-type"] == "text/xml; charset=UTF-8"
            assert body.startswith(b'<?xml version="1.0" encoding="utf-8"?><datastore>')
            page, root = records(body)
            assert int(root.findtext("totalrecord")) == col["count"]
            assert int(root.findtext("totalpage")) == col["pages"]
            assert 0 < len(page) <= 45
            got += page
            start += 45
            requests += 1
        assert requests == math.ceil((col["count"] - 15) / 45)
        assert got == [(a["path"], a["title"], a["published_at"][:10]) for a in expected[col["name"]]], col["name"]


def test_hanweb_dataproxy_ranges(hanweb):
    base, truth = hanweb
    col = truth["columns"][1]
    arts = by_column(truth)[col["name"]]
    form = [("col", "1"), ("appid", "1"), ("webid", "3034"), ("path", "/"), ("columnid", "122902"),
            ("sourceContentType", "1"), ("unitid", "385763"), ("webname", "北仑区教育局"), ("permissiontype", "0")]
    # one page at a time
    got = records(proxy_post(base, 16, 30, form)[2])[0]
    assert [g[0] for g in got] == [a["path"] for a in arts[15:30]]
    # clamped at the end, and past the end: nothing but the totals
    got, root = records(proxy_post(base, col["count"] - 2, col["count"] + 100, form)[2])
    assert [g[0] for g in got] == [a["path"] for a in arts[-3:]]
    got, root = records(proxy_post(base, col["count"] + 1, col["count"] + 45, form)[2])
    assert got == [] and int(root.findtext("totalrecord")) == col["count"]
    # a different perpage changes totalpage only
    root = records(proxy_post(base, 1, 10, form, perpage=10)[2])[1]
    assert len(root.findall(".//record")) == 10 and root.findtext("totalpage") == str(math.ceil(col["count"] / 10))
    # parameters may also come in the query string, as for any servlet
    query = urllib.parse.urlencode([("startrecord", 1), ("endrecord", 5), ("perpage", 15), *form])
    status, _, body = fetch(f"{base}{PROXY}?{query}", b"", {"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 200 and [g[0] for g in records(body)[0]] == [a["path"] for a in arts[:5]]
    # a column (or unit, or site) it does not have: an empty datastore, like JCMS
    for key, value in (("columnid", "999999"), ("unitid", "385762"), ("webid", "1")):
        bad = [(k, value if k == key else v) for k, v in form]
        status, _, body = proxy_post(base, 1, 45, bad)
        got, root = records(body)
        assert status == 200 and got == [] and root.findtext("totalrecord") == "0", key


def test_hanweb_dataproxy_errors(hanweb):
    base, _ = hanweb
    form = [("col", "1"), ("appid", "1"), ("webid", "3034"), ("path", "/"), ("columnid", "122901"),
            ("sourceContentType", "1"), ("unitid", "385762"), ("webname", "北仑区教育局"), ("permissiontype", "0")]
    status, headers, body = fetch(f"{base}{PROXY}?page=1&appid=1&webid=3034&columnid=122901&unitid=385762")
    assert status == 405 and headers["allow"] == "POST" and "HTTP状态 405" in body.decode("utf-8")
    assert headers["content-type"].startswith("text/html")

    def error(status_body) -> str:
        status, headers, body = status_body
        assert status == 400 and headers["content-type"].startswith("text/html"), (status, body[:200])
        return body.decode("utf-8")

    assert "缺少参数 columnid" in error(proxy_post(base, 16, 60, [kv for kv in form if kv[0] != "columnid"]))
    assert "缺少参数 unitid" in error(proxy_post(base, 16, 60, [kv for kv in form if kv[0] != "unitid"]))
    assert "columnid" in error(proxy_post(base, 16, 60, [(k, "abc" if k == "columnid" else v) for k, v in form]))
    assert "startrecord" in error(proxy_post(base, "x", 60, form))
    assert "perpage" in error(proxy_post(base, 16, 60, form, perpage=0))
    assert "endrecord" in error(proxy_post(base, 60, 16, form))
    # not a form post: the servlet sees no parameters at all
    status, _, body = fetch(f"{base}{PROXY}?startrecord=16&endrecord=60&perpage=15",
                            json.dumps(dict(form)).encode(), {"Content-Type": "application/json"})
    assert status == 400 and "缺少参数 columnid" in body.decode("utf-8")
    assert fetch(base + "/module/jpage/dataproxy.jsp", b"", method="POST")[0] == 405  # static site: no other JSP


def test_hanweb_detail_pages_match_truth(hanweb):
    base, truth = hanweb
    for art in truth["articles"]:
        status, headers, body = fetch(base + art["path"])
        assert status == 200 and headers["content-type"] == "text/html; charset=UTF-8", art["path"]
        doc = lxml.html.document_fromstring(body.decode("utf-8"))
        assert doc.xpath("string(//td[@class='title'])") == art["title"]
        info = doc.xpath("string(//td[@class='fbxx'])")
        assert re.search(r"发布日期：(\d{4}-\d\d-\d\d)", info).group(1) == art["published_at"][:10]
        assert "信息来源：" in info and "浏览次数：" in info
        (zoom,) = doc.xpath("//div[@id='zoom']")
        assert paragraphs(zoom) == art["body_paragraphs"], art["path"]
        table = doc.xpath("//table[@class='xxgk_table']")
        assert bool(table) == (art["column"] == "政策文件")
        if table:
            cells = [norm_text(td.text_content()) for td in table[0].iter("td")]
            fields = dict(zip(cells[::2], cells[1::2], strict=True))
            assert fields["索引号："] == art["index_number"] and fields["发布机构："] == art["publisher"]
            assert fields["生成日期："] == art["written_date"]
            assert (fields["文号："] if fields["文号："] not in ("", "无") else None) == art["document_number"]
        links = [(a.text_content(), a.get("href")) for a in doc.xpath("//td[@class='fj']//a")]
        assert links == [(t["name"], t["path"]) for t in art["attachments"]]
        assert doc.xpath("string(//td[@class='toolbar'])") == "【打印】【关闭】"
    # not zero-padded: the padded spelling of a real article does not exist
    art = next(a for a in truth["articles"] if re.search(r"/art/\d{4}/[1-9]/", a["path"]))
    padded = re.sub(r"/art/(\d{4})/(\d)/", r"/art/\1/0\2/", art["path"])
    assert fetch(base + padded)[0] == 404
    assert fetch(base + "/art/2024/1/1/art_122901_1.html")[0] == 404
    assert fetch(base + "/col/col999999/index.html")[0] == 404


def test_hanweb_attachments_download(hanweb):
    base, truth = hanweb
    atts = {t["file_type"]: t for a in truth["articles"] for t in a["attachments"]}
    magic = {"pdf": b"%PDF-", "doc": bytes.fromhex("D0CF11E0"), "xls": bytes.fromhex("D0CF11E0"), "docx": b"PK"}
    assert atts
    for ftype, att in atts.items():
        status, headers, body = fetch(base + att["path"])
        assert status == 200 and body.startswith(magic[ftype])
        filename = att["path"].rsplit("=", 1)[1]
        assert headers["content-disposition"].startswith(f'attachment; filename="{filename}"')
        assert urllib.parse.quote(att["name"]) in headers["content-disposition"]
    assert fetch(base + "/module/download/downfile.jsp?classid=0&filename=nope.pdf")[0] == 404


# ============================================================================================== JS site


@pytest.fixture(scope="module")
def jsapp(tmp_path_factory):
    data = generate_jsapp(tmp_path_factory.mktemp("wlj"), n_filler=25)
    truth = json.loads((data / "truth.json").read_text(encoding="utf-8"))
    with jsapp_server(data) as base:
        yield base, truth, data


def test_jsapp_generator_truth(tmp_path):
    a = generate_jsapp(tmp_path / "a", seed=7, n_articles=30)
    b = generate_jsapp(tmp_path / "b", seed=7, n_articles=30)
    assert (a / "truth.json").read_bytes() == (b / "truth.json").read_bytes()
    truth = json.loads((a / "truth.json").read_text(encoding="utf-8"))
    check_truth_shape(truth, "js")
    assert [c["name"] for c in truth["columns"]] == ["文旅资讯", "通知公告"]  # no filler, no 存档
    truth = json.loads((generate_jsapp(tmp_path / "c", n_filler=40) / "truth.json").read_text(encoding="utf-8"))
    check_truth_shape(truth, "js")
    assert truth["site"] == {"code": "wlj", "name": "北仑区文化和广电旅游体育局", "platform": "js"}
    assert [(c["name"], c["url"]) for c in truth["columns"]] == [
        ("文旅资讯", "/news/list.html?cat=1&page=1"), ("通知公告", "/news/list.html?cat=2&page=1"),
        ("存档", "/news/list.html?cat=3&page=1")]
    assert [c["count"] for c in truth["columns"]][2] == 40 and len(truth["articles"]) == 100
    for art in truth["articles"]:
        assert art["path"] == f"/news/detail.html?id={art['id']}" and art["published_at_precision"] == "minute"
        assert art["index_number"] is art["publisher"] is art["written_date"] is art["document_number"] is None
        assert all(t["path"].startswith("/uploads/") for t in art["attachments"])


def test_jsapp_html_has_no_article_links(jsapp):
    base, truth, _ = jsapp
    status, headers, body = fetch(base + "/")
    assert status == 200 and headers["content-type"] == "text/html; charset=utf-8"
    home = lxml.html.document_fromstring(body.decode("utf-8"))
    nav = home.xpath("//nav/a/@href")
    assert nav == ["/", "/news/list.html?cat=1&page=1", "/news/list.html?cat=2&page=1"]  # 存档 is not linked
    assert not home.xpath("//a[contains(@href, 'detail')]")
    for col in truth["columns"]:
        for page in (1, 2):
            url = col["url"].replace("page=1", f"page={page}")
            doc = lxml.html.document_fromstring(fetch(base + url)[2].decode("utf-8"))
            assert not doc.xpath("//a[contains(@href, 'detail.html')]"), url
            assert not doc.xpath("//a[@class='next' or @class='prev']")
            (ul,) = doc.xpath("//ul[@id='newsList']")
            assert len(ul) == 0 and not (ul.text or "").strip()
            assert doc.xpath("//script/@src") == ["/static/js/news.js"]
    art = truth["articles"][0]
    doc = lxml.html.document_fromstring(fetch(base + art["path"])[2].decode("utf-8"))
    for xpath in ("//h1[@id='title']", "//span[@id='pubdate']", "//div[@id='content']"):
        (node,) = doc.xpath(xpath)
        assert len(node) == 0 and not node.text_content().strip(), xpath
    assert art["title"] not in doc.text_content() and not doc.xpath("//p")
    script = fetch(base + "/static/js/news.js")[2].decode("utf-8")
    assert "fetch(url" in script and "/api/news?cat=" in script and "'/api/news/'" in script


def test_jsapp_api_lists_yield_the_truth(jsapp):
    base, truth, _ = jsapp
    expected = by_column(truth)
    for cat, col in enumerate(truth["columns"], start=1):
        got = []
        for page in range(1, col["pages"] + 1):
            status, data = fetch_json(f"{base}/api/news?cat={cat}&page={page}")
            assert status == 200
            assert (data["total"], data["pages"], data["page"], data["cat_name"]) == (col["count"], col["pages"],
                                                                                    page, col["name"])
            assert 0 < len(data["items"]) <= 10
            got += [(it["url"], it["id"], it["title"], it["date"]) for it in data["items"]]
        assert got == [(a["path"], a["id"], a["title"], a["published_at"][:10]) for a in expected[col["name"]]]
        status, data = fetch_json(f"{base}/api/news?cat={cat}&page={col['pages'] + 1}")
        assert status == 200 and data["items"] == [] and data["total"] == col["count"]


def test_jsapp_api_details_match_truth(jsapp):
    base, truth, data_dir = jsapp
    for art in truth["articles"]:
        status, d = fetch_json(f"{base}/api/news/{art['id']}")
        assert status == 200 and d["title"] == art["title"] and d["cat_name"] == art["column"]
        assert f"{d['published'].replace(' ', 'T')}:00+08:00" == art["published_at"]
        assert paragraphs(lxml.html.fragment_fromstring(d["content"], create_parent="div")) == art["body_paragraphs"]
        assert [(t["name"], t["url"], t["file_type"]) for t in d["attachments"]] == [
            (t["name"], t["path"], t["file_type"]) for t in art["attachments"]]
    att = next(t for a in truth["articles"] for t in a["attachments"])
    status, headers, body = fetch(base + att["path"])
    assert status == 200 and headers["content-disposition"].startswith("attachment;")
    assert body == (data_dir / att["path"].lstrip("/")).read_bytes()


def test_jsapp_api_errors(jsapp):
    base, _, _ = jsapp
    for query in ("cat=9&page=1", "cat=abc&page=1", "page=1", "cat=1&page=0", "cat=1&page=x"):
        status, data = fetch_json(f"{base}/api/news?{query}")
        assert status == 400 and data["code"] == 400 and "invalid" in data["msg"], query
    assert fetch_json(f"{base}/api/news/abc") == (400, {"code": 400, "msg": "invalid id: 'abc'"})
    assert fetch_json(f"{base}/api/news/99999999") == (404, {"code": 404, "msg": "文章不存在"})
    status, headers, _ = fetch(f"{base}/api/news?cat=1&page=1", b"x=1", method="POST")
    assert status == 405 and headers["allow"] == "GET"
    assert fetch(base + "/news/nothing.html")[0] == 404


def test_jsapp_api_delay(jsapp):
    _, _, data_dir = jsapp
    with jsapp_server(data_dir, api_delay=0.3) as base:
        t0 = time.monotonic()
        assert fetch(base + "/news/list.html?cat=1&page=1")[0] == 200
        t1 = time.monotonic()
        assert fetch(base + "/api/news?cat=1&page=1")[0] == 200
        t2 = time.monotonic()
    assert t1 - t0 < 0.3 <= t2 - t1


def test_jsapp_list_and_detail_render_in_chromium(jsapp):
    """The one browser test: headless Chromium runs the page scripts against a slow API."""
    reason = None
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is missing (apt-get install chromium)"
    else:
        try:
            from playwright.sync_api import sync_playwright
        except ImportError:
            reason = "the python package playwright is missing (pip install scrapy-playwright)"
    if reason:
        if os.environ.get("BLGW_REQUIRE_FIXTURES"):
            pytest.fail(f"{reason}, but BLGW_REQUIRE_FIXTURES is set")
        pytest.skip(reason)

    _, truth, data_dir = jsapp
    col = truth["columns"][1]  # 通知公告: several pages
    arts = by_column(truth)[col["name"]]
    with jsapp_server(data_dir, api_delay=0.5) as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                     args=["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"])
        try:
            page = browser.new_page()
            page.goto(f"{base}/news/list.html?cat=2&page=2")
            assert page.locator("#newsList li").count() == 0  # the API is still sleeping
            page.wait_for_selector("#newsList li a", timeout=10_000)
            items = page.eval_on_selector_all(
                "#newsList li", "lis => lis.map(li => [li.querySelector('a').getAttribute('href'), "
                                "li.querySelector('a').title, li.querySelector('span.date').textContent])")
            assert items == [[a["path"], a["title"], a["published_at"][:10]] for a in arts[10:20]]
            assert page.get_attribute("a.next", "href") == "list.html?cat=2&page=3"
            assert page.get_attribute("a.prev", "href") == "list.html?cat=2&page=1"
            assert page.text_content("#catName") == col["name"]

            page.goto(f"{base}/news/list.html?cat=2&page={col['pages']}")
            page.wait_for_selector("#app[data-state='loaded']", timeout=10_000)
            assert page.locator("#newsList li a").count() == col["count"] - 10 * (col["pages"] - 1)
            assert page.locator("a.next").count() == 0

            art = next(a for a in arts if a["attachments"])
            page.goto(base + art["path"])
            page.wait_for_selector("#app[data-state='loaded']", timeout=10_000)
            doc = lxml.html.document_fromstring(page.content())
            assert doc.xpath("string(//h1[@id='title'])") == art["title"]
            assert doc.xpath("string(//span[@id='pubdate'])") == art["published_at"][:16].replace("T", " ")
            assert paragraphs(doc.xpath("//div[@id='content']")[0]) == art["body_paragraphs"]
            assert doc.xpath("//div[@id='attachments']//a/@href") == [t["path"] for t in art["attachments"]]
        finally:
            browser.close()
