"""The ASP.NET fixture subsite (jtj, 北仑区交通运输局) on Mono's System.Web serves exactly what its truth.json says.

Plain urllib + lxml, not the project's spider: page 1 of a column by GET, every other page only by a WebForms
postback carrying the previous response's hidden fields; a tampered ViewState is System.Web's HTTP 500; detail
pages are GB2312; the cookieless variant moves every page under /(S(session id))/.
"""

from __future__ import annotations

import json
import os
import re
import urllib.error
import urllib.parse
import urllib.request
from datetime import datetime

import pytest

from fixture_sites.aspnet_generator import PER_PAGE, generate
from fixture_sites.generator import norm_text

GRIDVIEW = "ctl00$Main$GridView1"  # UniqueID of the GridView (master page Site.master, placeholder "Main")
GRID_XPATH = "//table[@id='ctl00_Main_GridView1']"
HIDDEN = ("__VIEWSTATE", "__VIEWSTATEGENERATOR", "__EVENTVALIDATION", "__EVENTTARGET", "__EVENTARGUMENT")
SESSION_SEGMENT = re.compile(r"^/\(S\([a-z0-5]{24}\)\)/")


# ------------------------------------------------------------------------------------------- helpers
class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


_opener = urllib.request.build_opener(_NoRedirect)


def fetch(url: str, data: dict | None = None, method: str | None = None) -> tuple[int, dict[str, str], bytes]:
    """One request, redirects not followed; (status, lower-cased headers, body)."""
    body = urllib.parse.urlencode(data).encode("ascii") if data is not None else None
    req = urllib.request.Request(url, data=body, method=method)
    if body is not None:
        req.add_header("Content-Type", "application/x-www-form-urlencoded")
    try:
        with _opener.open(req, timeout=30) as resp:
            return resp.status, {k.lower(): v for k, v in resp.headers.items()}, resp.read()
    except urllib.error.HTTPError as e:
        return e.code, {k.lower(): v for k, v in e.headers.items()}, e.read()


def html(body: bytes, encoding: str = "gb2312"):
    import lxml.html

    return lxml.html.document_fromstring(body.decode(encoding))


def form_fields(doc) -> dict[str, str]:
    form = doc.xpath("//form[@id='form1']")[0]
    return {i.get("name"): i.get("value") or "" for i in form.xpath(".//input[@type='hidden']")}


def list_rows(doc) -> list[tuple[str, str, str]]:
    """(href, title attribute, date cell) of every article row of the GridView."""
    rows = []
    for tr in doc.xpath(GRID_XPATH + "/tr[not(@class='pager')]"):
        a = tr.xpath("./td[1]/a")[0]
        rows.append((a.get("href"), a.get("title"), tr.xpath("string(./td[2])").strip()))
    return rows


def pager_targets(doc) -> dict[str, tuple[str, str]]:
    """Link text of the pager -> (__EVENTTARGET, __EVENTARGUMENT) of its __doPostBack."""
    out = {}
    for a in doc.xpath(GRID_XPATH + "/tr[@class='pager']//a"):
        m = re.fullmatch(r"javascript:__doPostBack\('([^']+)','([^']+)'\)", a.get("href"))
        assert m, a.get("href")
        out[a.text_content().strip()] = (m.group(1), m.group(2))
    return out


def walk_column(page_url: str) -> tuple[list[tuple[str, str, str]], int]:
    """All rows of a column: GET page 1, then postback Page$2, Page$3 … from each previous response."""
    status, _, body = fetch(page_url)
    assert status == 200, page_url
    doc = html(body)
    rows, pages, url = list_rows(doc), 1, page_url
    while str(pages + 1) in pager_targets(doc):
        target, argument = pager_targets(doc)[str(pages + 1)]
        assert (target, argument) == (GRIDVIEW, f"Page${pages + 1}")
        fields = form_fields(doc)
        assert set(HIDDEN) <= set(fields)
        fields.update(__EVENTTARGET=target, __EVENTARGUMENT=argument)
        url = urllib.parse.urljoin(url, doc.xpath("//form[@id='form1']/@action")[0])
        status, _, body = fetch(url, fields)
        assert status == 200, (url, argument)
        doc = html(body)
        pages += 1
        assert f"当前第 {pages}/" in doc.xpath("string(//p[@class='total'])")
        rows += list_rows(doc)
    return rows, pages


def error_summary(body: bytes) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body.decode("utf-8", "replace")))


# ------------------------------------------------------------------------------------------- fixtures
def _require_mono():
    from fixture_sites.aspnet_server import INSTALL_HINT, mono_available

    if not mono_available():
        if os.environ.get("BLGW_REQUIRE_FIXTURES"):
            pytest.fail(f"mono/mcs are missing but BLGW_REQUIRE_FIXTURES is set: {INSTALL_HINT}")
        pytest.skip(f"mono/mcs not installed: {INSTALL_HINT}")


@pytest.fixture(scope="session")
def jtj_data(tmp_path_factory):
    data = generate(tmp_path_factory.mktemp("jtj-data"))
    return data, json.loads((data / "truth.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def jtj_site(jtj_data):
    """The ASP.NET fixture subsite with session cookies: (base_url, data_dir, truth)."""
    _require_mono()
    from fixture_sites.aspnet_server import aspnet_server

    data, truth = jtj_data
    with aspnet_server(data) as base:
        yield base, data, truth


@pytest.fixture(scope="session")
def jtj_site_cookieless(jtj_data):
    """The same site with <sessionState cookieless="UseUri">: (base_url, data_dir, truth)."""
    _require_mono()
    from fixture_sites.aspnet_server import aspnet_server

    data, truth = jtj_data
    with aspnet_server(data, cookieless=True) as base:
        yield base, data, truth


# ------------------------------------------------------------------------------------------- generator
def test_generator_is_deterministic_and_gb2312(tmp_path):
    a = generate(tmp_path / "a", seed=7, n_articles=60)
    b = generate(tmp_path / "b", seed=7, n_articles=60)
    c = generate(tmp_path / "c", seed=8, n_articles=60)
    for name in ("truth.json", "articles.tsv", "attachments.tsv", "columns.tsv"):
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    assert (a / "truth.json").read_bytes() != (c / "truth.json").read_bytes()
    files = lambda d: {p.relative_to(d): p.read_bytes() for p in (d / "UploadFiles").rglob("*") if p.is_file()}
    assert files(a) == files(b) and files(a)
    # everything the site shows must be GB2312 (not just GBK): the page is served as gb2312
    (a / "articles.tsv").read_text(encoding="utf-8").encode("gb2312")
    (a / "attachments.tsv").read_text(encoding="utf-8").encode("gb2312")


def test_truth_shape(jtj_data):
    _, truth = jtj_data
    assert truth["site"] == {"code": "jtj", "name": "北仑区交通运输局", "platform": "aspnet",
                             "origin": "http://jtj.bl.gov.cn"}
    assert [(c["name"], c["url"]) for c in truth["columns"]] == [
        ("通知公告", "/List.aspx?cid=1"), ("政策文件", "/List.aspx?cid=2"),
        ("交通动态", "/List.aspx?cid=3"), ("人事信息", "/List.aspx?cid=4")]
    arts = truth["articles"]
    assert len(arts) == 120 == sum(c["count"] for c in truth["columns"])
    assert max(c["pages"] for c in truth["columns"]) >= 3 and min(c["pages"] for c in truth["columns"]) == 1
    by_id = {a["id"]: a for a in arts}
    for col in truth["columns"]:
        assert col["pages"] == -(-col["count"] // PER_PAGE)
        assert len(col["article_ids"]) == col["count"]
        assert all(by_id[i]["column"] == col["name"] for i in col["article_ids"])
    keys = {"id", "cid", "column", "path", "title", "published_at", "published_at_precision", "index_number",
            "publisher", "topic", "written_date", "document_number", "validity", "body_paragraphs", "attachments"}
    for a in arts:
        assert set(a) == keys
        assert a["path"] == f"/Show.aspx?id={a['id']}"
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00", a["published_at"])
        assert a["published_at_precision"] in ("second", "minute", "day")
        assert (a["index_number"] is None) == (a["column"] == "交通动态")
        assert all(re.fullmatch(r"/UploadFiles/\d{4}/\d+\.(pdf|docx?|xls)", x["path"]) for x in a["attachments"])
        assert "镕" not in a["title"] and "碶" not in json.dumps(a, ensure_ascii=False)
    assert {a["published_at_precision"] for a in arts} == {"second", "minute", "day"}
    assert any(a["document_number"] for a in arts) and any(a["attachments"] for a in arts)


# ------------------------------------------------------------------------------------------- the site
def test_home_page_links_to_the_columns(jtj_site):
    base, _, truth = jtj_site
    status, headers, body = fetch(base + "/")
    assert status == 200
    assert headers["content-type"] == "text/html; charset=gb2312"
    assert headers["set-cookie"].startswith("ASP.NET_SessionId=")
    assert re.match(r"ASP\.NET_SessionId=[a-z0-5]{24};", headers["set-cookie"])
    doc = html(body)
    assert doc.xpath("string(//title)").strip() == "北仑区交通运输局"
    nav = {a.text_content().strip(): a.get("href") for a in doc.xpath("//ul[@id='nav']//a")}
    for col in truth["columns"]:
        assert nav[col["name"]] == col["url"].lstrip("/")
    known = {a["path"].lstrip("/") for a in truth["articles"]}
    latest = doc.xpath("//div[contains(@class,'box')]//li/a/@href")
    assert len(latest) >= 20 and set(latest) <= known
    assert fetch(base + "/Default.aspx")[0] == 200


def test_robots_and_static_files(jtj_site):
    base, data, truth = jtj_site
    status, headers, body = fetch(base + "/robots.txt")
    assert status == 200 and b"User-agent: *" in body and headers["content-type"].startswith("text/plain")
    assert fetch(base + "/Web.config")[0] == 403  # System.Web's HttpForbiddenHandler
    types = {"pdf": "application/pdf", "doc": "application/msword", "xls": "application/vnd.ms-excel",
             "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document"}
    seen = set()
    for art in truth["articles"]:
        for att in art["attachments"]:
            if att["file_type"] in seen:
                continue
            seen.add(att["file_type"])
            status, headers, body = fetch(base + att["path"])
            assert status == 200, att
            assert headers["content-type"] == types[att["file_type"]]
            assert body == (data / att["path"].lstrip("/")).read_bytes()
    assert seen == set(types)


def test_list_page_one_by_get(jtj_site):
    base, _, truth = jtj_site
    col = truth["columns"][0]
    by_id = {a["id"]: a for a in truth["articles"]}
    status, headers, body = fetch(base + col["url"])
    assert status == 200 and headers["content-type"] == "text/html; charset=gb2312"
    doc = html(body)
    form = doc.xpath("//form")[0]
    assert (form.get("id"), form.get("method"), form.get("action")) == ("form1", "post", "List.aspx?cid=1")
    fields = form_fields(doc)
    assert set(HIDDEN) <= set(fields)
    assert fields["__VIEWSTATE"] and fields["__EVENTVALIDATION"] and re.fullmatch(r"[0-9A-F]{8}", fields["__VIEWSTATEGENERATOR"])
    assert fields["__EVENTTARGET"] == fields["__EVENTARGUMENT"] == ""
    rows = list_rows(doc)
    assert len(rows) == PER_PAGE
    expected = [by_id[i] for i in col["article_ids"][:PER_PAGE]]
    assert [r[0] for r in rows] == [a["path"].lstrip("/") for a in expected]
    assert [r[1] for r in rows] == [a["title"] for a in expected]  # full title in title=""; the text may be cut
    assert [r[2] for r in rows] == [a["published_at"][:10] for a in expected]
    targets = pager_targets(doc)
    assert targets == {str(n): (GRIDVIEW, f"Page${n}") for n in range(2, col["pages"] + 1)}
    assert doc.xpath("string(" + GRID_XPATH + "/tr[@class='pager']//span)") == "1"
    # a GET never pages: the query string knows nothing about pages
    assert list_rows(html(fetch(base + col["url"] + "&page=2")[2])) == rows


def test_walking_every_column_by_postback_yields_the_truth(jtj_site):
    base, _, truth = jtj_site
    by_id = {a["id"]: a for a in truth["articles"]}
    for col in truth["columns"]:
        rows, pages = walk_column(base + col["url"])
        assert pages == col["pages"], col["name"]
        assert [r[0] for r in rows] == [f"Show.aspx?id={i}" for i in col["article_ids"]], col["name"]
        assert [r[1] for r in rows] == [by_id[i]["title"] for i in col["article_ids"]]


def test_postback_without_valid_state_is_refused(jtj_site, jtj_site_cookieless):
    base, _, _ = jtj_site
    url = base + "/List.aspx?cid=1"
    fields = form_fields(html(fetch(url)[2]))
    fields.update(__EVENTTARGET=GRIDVIEW, __EVENTARGUMENT="Page$2")
    assert fetch(url, fields)[0] == 200  # the genuine postback works

    # tampered __VIEWSTATE: the MAC check of System.Web's ObjectStateFormatter fails
    vs = fields["__VIEWSTATE"]
    i = len(vs) // 2
    tampered = dict(fields, __VIEWSTATE=vs[:i] + ("B" if vs[i] != "B" else "C") + vs[i + 1:])
    status, headers, body = fetch(url, tampered)
    assert status == 500 and headers["content-type"].startswith("text/html")
    text = error_summary(body)
    assert "System.Web.HttpException" in text and "Unable to validate data." in text
    assert "ObjectStateFormatter.Deserialize" in text

    # a ViewState from another server process (another auto-generated machine key): the same error
    other = urllib.parse.urljoin(jtj_site_cookieless[0], fetch(jtj_site_cookieless[0] + "/List.aspx?cid=1")[1]["location"])
    status, _, body = fetch(other, fields)
    assert status == 500 and "Unable to validate data." in error_summary(body)

    # no state at all, or no __EVENTVALIDATION, or a page the pager never offered: event validation refuses
    invalid = "Invalid postback or callback argument"
    for data in ({"__EVENTTARGET": GRIDVIEW, "__EVENTARGUMENT": "Page$2"},
                 {k: v for k, v in fields.items() if k != "__EVENTVALIDATION"},
                 dict(fields, __EVENTARGUMENT="Page$9")):
        status, _, body = fetch(url, data)
        assert status == 500 and invalid in error_summary(body) and "System.ArgumentException" in error_summary(body)


def _published_from_page(info: str) -> tuple[str, str]:
    m = re.search(r"发布日期：(.+?)\s*\xa0", info)
    assert m, info
    text = m.group(1)
    for fmt, precision in (("%Y/%m/%d %H:%M:%S", "second"), ("%Y年%m月%d日 %H:%M", "minute"),
                           ("%Y/%m/%d %H:%M", "minute"), ("%Y年%m月%d日", "day"), ("%Y-%m-%d", "day")):
        try:
            dt = datetime.strptime(text, fmt)
        except ValueError:
            continue
        return dt.strftime("%Y-%m-%dT%H:%M:%S+08:00"), precision
    raise AssertionError(f"unknown date format {text!r}")


def test_detail_pages_match_the_truth(jtj_site):
    base, _, truth = jtj_site
    formats = set()
    for art in truth["articles"]:
        status, headers, body = fetch(base + art["path"])
        assert status == 200, art["path"]
        assert headers["content-type"] == "text/html; charset=gb2312"
        assert b'<meta content="text/html; charset=gb2312" http-equiv="Content-Type"' in body
        doc = html(body, "gb2312")  # strict: a byte outside GB2312 fails here
        assert doc.xpath("string(//div[@class='article-title'])") == art["title"]
        info = doc.xpath("string(//div[@class='article-info'])")
        assert _published_from_page(info) == (art["published_at"], art["published_at_precision"])
        formats.add(re.sub(r"\d+", "N", re.search(r"发布日期：(.+?)\s*\xa0", info).group(1)))
        assert "来源：" in info

        table = doc.xpath("//table[@class='gkxx']")
        if art["index_number"] is None:
            assert not table
        else:
            cells = [td.text_content().strip() for td in table[0].xpath(".//td")]
            fields = dict(zip(cells[::2], cells[1::2], strict=False))
            assert set(fields) == {"索引号", "发布机构", "主题分类", "成文日期", "文号", "有效性"}
            assert fields["索引号"] == art["index_number"]
            assert fields["发布机构"] == art["publisher"]
            assert fields["主题分类"] == art["topic"]
            assert datetime.strptime(fields["成文日期"], "%Y年%m月%d日").date().isoformat() == art["written_date"]
            assert (fields["文号"] if fields["文号"] not in ("", "无") else None) == art["document_number"]
            assert (fields["有效性"] or None) == art["validity"]

        paras = [norm_text(p.text_content()) for p in doc.xpath("//div[@id='ArticleContent']//p")]
        assert [p for p in paras if p] == art["body_paragraphs"], art["path"]
        links = [(a.text_content().strip(), a.get("href")) for a in doc.xpath("//div[@class='fujian']//a")]
        assert links == [(x["name"], x["path"]) for x in art["attachments"]]
        assert doc.xpath("string(//div[@class='toolbar'])").strip() == "【打印本页】【关闭窗口】"
    assert {"N/N/N N:N:N", "N年N月N日", "N年N月N日 N:N", "N/N/N N:N", "N-N-N"} == formats


def test_unknown_pages_are_404(jtj_site):
    base, _, _ = jtj_site
    status, _, body = fetch(base + "/Show.aspx?id=999999")
    assert status == 404 and "信息不存在" in body.decode("gb2312")
    assert fetch(base + "/List.aspx?cid=99")[0] == 404
    assert fetch(base + "/Nothing.aspx")[0] == 404
    assert fetch(base + "/UploadFiles/2024/none.pdf")[0] == 404


def test_head_reports_length(jtj_site):
    base, _, _ = jtj_site
    status, headers, body = fetch(base + "/List.aspx?cid=2", method="HEAD")
    assert status == 200 and body == b"" and int(headers["content-length"]) > 1000


# ------------------------------------------------------------------------------------------- cookieless
def test_cookieless_redirects_into_a_session_url(jtj_site_cookieless):
    base, _, truth = jtj_site_cookieless
    status, headers, _ = fetch(base + "/List.aspx?cid=2")
    assert status == 302 and "set-cookie" not in headers
    location = headers["location"]
    assert SESSION_SEGMENT.match(location) and location.endswith("/List.aspx?cid=2")
    status, headers, _ = fetch(base + "/")
    assert status == 302 and SESSION_SEGMENT.match(headers["location"])
    assert headers["location"].endswith("/Default.aspx")
    # static files need no session
    assert fetch(base + "/robots.txt")[0] == 200
    path = next(x["path"] for a in truth["articles"] for x in a["attachments"])
    assert fetch(base + path)[0] == 200


def test_cookieless_pages_keep_the_session_in_their_links(jtj_site_cookieless):
    base, _, truth = jtj_site_cookieless
    home = urllib.parse.urljoin(base, fetch(base + "/")[1]["location"])
    segment = SESSION_SEGMENT.match(urllib.parse.urlsplit(home).path).group(0)
    status, headers, body = fetch(home)
    assert status == 200 and "set-cookie" not in headers
    doc = html(body)
    page_links = [urllib.parse.urljoin(home, h) for h in doc.xpath("//a/@href")
                  if h.startswith(("List.aspx", "Show.aspx", "Default.aspx"))]
    assert len(page_links) > 20
    assert all(urllib.parse.urlsplit(u).path.startswith(segment) for u in page_links)
    for col in truth["columns"]:
        assert urllib.parse.urljoin(home, col["url"].lstrip("/")) in page_links

    # paging by postback inside the session URL gives the same lists as the cookie site
    for col in truth["columns"][:2]:
        rows, pages = walk_column(urllib.parse.urljoin(home, col["url"].lstrip("/")))
        assert [r[0] for r in rows] == [f"Show.aspx?id={i}" for i in col["article_ids"]]
        assert pages == col["pages"]

    # a detail page under the session URL is the canonical page's content
    art = next(a for a in truth["articles"] if a["attachments"])
    status, _, body = fetch(urllib.parse.urljoin(home, art["path"].lstrip("/")))
    assert status == 200
    doc = html(body)
    assert doc.xpath("string(//div[@class='article-title'])") == art["title"]
    assert [a.get("href") for a in doc.xpath("//div[@class='fujian']//a")] == [x["path"] for x in art["attachments"]]

    # a postback to the canonical URL (session segment dropped) starts a new session: page 1 again, not page 2
    list_url = urllib.parse.urljoin(home, "List.aspx?cid=1")
    fields = form_fields(html(fetch(list_url)[2]))
    fields.update(__EVENTTARGET=GRIDVIEW, __EVENTARGUMENT="Page$2")
    assert fetch(list_url, fields)[0] == 200
    status, headers, _ = fetch(base + "/List.aspx?cid=1", fields)
    assert status == 302 and SESSION_SEGMENT.match(headers["location"])
    assert not headers["location"].startswith(segment)
