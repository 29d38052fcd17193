"""The classic ASP (dqjd) and TRS WCM (fgj) fixture subsites serve what their truth.json says.

Plain urllib + lxml, following only the paging each platform documents (frames/iframes and 下一页 links on
the ASP site; the ``createPageHTML(countPage, …)`` script on the TRS site).
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from collections import Counter
from datetime import datetime
from urllib.parse import urljoin, urlsplit

import lxml.html
import pytest

from fixture_sites.generator import norm_text
from fixture_sites.legacy_sites import (
    asp_server,
    generate_asp,
    generate_trs,
    trs_server,
)

MAGIC = {"pdf": b"%PDF", "doc": b"\xd0\xcf\x11\xe0", "xls": b"\xd0\xcf\x11\xe0", "docx": b"PK"}
ARTICLE_KEYS = {"id", "column", "path", "title", "published_at", "published_at_precision", "index_number",
                "publisher", "written_date", "document_number", "body_paragraphs", "attachments"}


def fetch(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, {k.lower(): v for k, v in resp.headers.items()}, resp.read()
    except urllib.error.HTTPError as e:
        return e.code, {k.lower(): v for k, v in e.headers.items()}, e.read()


def get(url: str, **kw) -> tuple[dict[str, str], bytes]:
    status, headers, body = fetch(url, **kw)
    assert status == 200, url
    return headers, body


def doc(body: bytes, encoding: str):
    return lxml.html.document_fromstring(body.decode(encoding))


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def paragraphs(container) -> list[str]:
    """Text of every non-empty <p> that is not just an attachment link (the truth convention)."""
    out = []
    for p in container.iter("p"):
        if p.xpath(".//a[contains(@href,'/UploadFiles/') or @oldsrc]"):
            continue
        text = norm_text(p.text_content())
        if text:
            out.append(text)
    return out


def shown_date(text: str) -> tuple[str, str]:
    """The date formats the two fixtures print, to (ISO, precision) - independent of normalizers.dates."""
    for pattern, precision, yy in (
        (r"(\d{4})-(\d{1,2})-(\d{1,2}) (\d{1,2}):(\d{2}):(\d{2})", "second", False),
        (r"(\d{4})/(\d{1,2})/(\d{1,2}) (\d{1,2}):(\d{2})", "minute", False),
        (r"(\d{4})年(\d{2})月(\d{2})日", "day", False),
        (r"(\d{4})-(\d{2})-(\d{2})", "day", False),
        (r"(\d{2})-(\d{2})-(\d{2})", "day", True),
    ):
        m = re.fullmatch(pattern, text.strip())
        if m:
            nums = [int(x) for x in m.groups()]
            if yy:
                nums[0] += 2000
            return datetime(*nums).strftime("%Y-%m-%dT%H:%M:%S+08:00"), precision
    raise AssertionError(f"unexpected date format {text!r}")


def check_truth_shape(truth: dict, platform: str, n: int) -> None:
    assert truth["site"]["platform"] == platform
    assert set(truth["site"]) >= {"code", "name", "platform"}
    arts = truth["articles"]
    assert len(arts) == n == sum(c["count"] for c in truth["columns"])
    assert [a["id"] for a in arts] == sorted({a["id"] for a in arts})
    assert len({a["path"] for a in arts}) == n
    for a in arts:
        assert set(a) == ARTICLE_KEYS
        assert a["published_at"].endswith("+08:00") and a["published_at_precision"] in ("day", "minute", "second")
        assert a["body_paragraphs"] and all(p == norm_text(p) and p for p in a["body_paragraphs"])
        for att in a["attachments"]:
            assert set(att) == {"name", "path", "file_type"} and att["path"].startswith("/")
    assert {a["column"] for a in arts} == {c["name"] for c in truth["columns"]}


# ================================================================================================ ASP
@pytest.fixture(scope="module")
def asp(tmp_path_factory):
    data = generate_asp(tmp_path_factory.mktemp("dqjd"))
    truth = json.loads((data / "truth.json").read_text(encoding="utf-8"))
    with asp_server(data) as base:
        yield base, truth


@pytest.fixture(scope="module")
def asp_crawl(asp):
    """Follow frameset -> main.asp nav -> news.asp iframe -> list.asp pages by 下一页."""
    base, truth = asp
    _, body = get(base + "/")
    frames = doc(body, "gb18030").xpath("//frameset/frame/@src")
    assert frames == ["top.asp", "main.asp"]
    main_url = urljoin(base + "/", frames[1])
    main = doc(get(main_url)[1], "gb18030")
    assert main.xpath("//iframe/@src") == ["list.asp?classid=2"]
    news = {a.text_content().strip(): urljoin(main_url, a.get("href"))
            for a in main.xpath("//table[@class='nav']//a[starts-with(@href,'news.asp?classid=')]")}
    assert list(news) == [c["name"] for c in truth["columns"]]
    result = {}
    for name, news_url in news.items():
        page = doc(get(news_url)[1], "gb18030")
        assert not page.xpath("//a[contains(@href,'ShowArticle.asp')]")  # the column page itself has no articles
        (src,) = page.xpath("//iframe/@src")
        url = urljoin(news_url, src)
        pages = []
        while url:
            headers, body = get(url)
            pages.append((url, headers, body))
            nxt = doc(body, "gb18030").xpath("//table[@class='pager']//a[normalize-space()='下一页']/@href")
            url = urljoin(url, nxt[0]) if nxt else None
            assert len(pages) < 50
        result[name] = pages
    return result


def asp_rows(body: bytes) -> list[tuple[int, str, str, str]]:
    """(ArticleID, link style, link text, date cell) for every row of a list page."""
    rows = []
    for tr in doc(body, "gb18030").xpath("//table[@class='listtable']//tr"):
        (a,) = tr.xpath("./td[@class='title']/a")
        href, onclick = a.get("href", ""), a.get("onclick", "")
        if m := re.fullmatch(r"javascript:window\.open\('ShowArticle\.asp\?ArticleID=(\d+)'\)", href):
            style = "window.open"
        elif href == "#" and (m := re.fullmatch(r"location\.href='ShowArticle\.asp\?ArticleID=(\d+)';return false;", onclick)):
            style = "onclick"
        elif (m := re.fullmatch(r"ShowArticle\.asp\?ArticleID=(\d+)", href)) and a.get("target") == "_blank":
            style = "plain"
        else:
            raise AssertionError(f"unexpected link {lxml.html.tostring(a)!r}")
        rows.append((int(m.group(1)), style, a.text_content(), tr.xpath("string(./td[@class='date'])")))
    return rows


def test_asp_truth_shape(asp):
    _, truth = asp
    check_truth_shape(truth, "asp", 100)
    assert truth["site"]["code"] == "dqjd" and truth["site"]["name"] == "北仑区大碶街道"
    assert [(c["name"], c["url"]) for c in truth["columns"]] == [
        ("街道公告", "/list.asp?classid=1"), ("街道动态", "/list.asp?classid=2"), ("政策法规", "/list.asp?classid=3")]
    for c in truth["columns"]:
        assert c["pages"] == -(-c["count"] // 12) and c["pages"] >= 2
    for a in truth["articles"]:
        assert a["path"] == f"/ShowArticle.asp?ArticleID={a['id']}"
        assert (a["index_number"], a["publisher"], a["written_date"], a["document_number"]) == (None,) * 4
        assert all(re.fullmatch(r"/UploadFiles/\d{4}/\d+\.(pdf|docx?|xls)", x["path"]) for x in a["attachments"])


def test_asp_every_article_is_reachable_by_paging(asp, asp_crawl):
    base, truth = asp
    for col in truth["columns"]:
        pages = asp_crawl[col["name"]]
        assert len(pages) == col["pages"]
        ids = [r[0] for _, _, body in pages for r in asp_rows(body)]
        assert len(ids) == len(set(ids)) == col["count"]
        want = {a["id"] for a in truth["articles"] if a["column"] == col["name"]}
        assert set(ids) == want
        for m, (_, _, body) in enumerate(pages, start=1):
            text = doc(body, "gb18030").xpath("string(//table[@class='pager'])")
            assert f"共{col['count']}条" in text and f"页次：{m}/{col['pages']}" in text and "每页12条" in text
            assert len(asp_rows(body)) == (12 if m < col["pages"] else col["count"] - 12 * (col["pages"] - 1))
        # the truth's list URL is page 1; the iframe's &page=1 is the same page
        assert get(base + col["url"])[1] == pages[0][2]


def test_asp_list_quirks(asp, asp_crawl):
    _, truth = asp
    by_id = {a["id"]: a for a in truth["articles"]}
    truncated = 0
    for col in truth["columns"]:
        pages = asp_crawl[col["name"]]
        for m, (_, _, body) in enumerate(pages, start=1):
            rows = asp_rows(body)
            if len(rows) >= 3:
                assert {r[1] for r in rows} == {"window.open", "onclick", "plain"}
            for aid, _, text, date in rows:
                full = by_id[aid]["title"]
                if text.endswith("..."):
                    truncated += 1
                    assert len(full) > 26 and full.startswith(text[:-3]) and text[:-3] != full
                else:
                    assert text == full
                assert date == f"[{by_id[aid]['published_at'][:10]}]"
            pager = doc(body, "gb18030").xpath("//table[@class='pager']")[0]
            links = {a.text_content(): a.get("href") for a in pager.iter("a")}
            text = pager.text_content()
            if m == len(pages):
                assert "下一页" in text and "尾页" in text and "下一页" not in links and "尾页" not in links
            else:
                assert re.fullmatch(r"list\.asp\?classid=\d&page=\d+", links["尾页"])
            if m == 1:
                assert "首页" not in links and "上一页" not in links
    assert truncated >= 10


def test_asp_headers_cookies_and_charsets(asp, asp_crawl):
    base, truth = asp
    status, headers, body = fetch(base + "/ShowArticle.asp?ArticleID=" + str(truth["articles"][0]["id"]))
    assert status == 200 and headers["server"] == "Microsoft-IIS/6.0" and headers["x-powered-by"] == "ASP.NET"
    cookie = re.fullmatch(r"ASPSESSIONIDQSRTBCDA=([A-Z]{24}); path=/", headers["set-cookie"])
    assert cookie
    # the cookie is not needed, but a client that sends it keeps its session
    _, h2, body2 = fetch(base + truth["articles"][0]["path"], {"Cookie": f"ASPSESSIONIDQSRTBCDA={cookie.group(1)}"})
    assert h2["set-cookie"].startswith(f"ASPSESSIONIDQSRTBCDA={cookie.group(1)};") and body2 == body
    for path in ("/", "/main.asp", "/list.asp?classid=1", "/news.asp?classid=3"):
        assert "ASPSESSIONIDQSRTBCDA=" in fetch(base + path)[1]["set-cookie"]
    # old links carry the session id in the query; IIS is case-insensitive
    aid = truth["articles"][5]["id"]
    canonical = get(base + f"/ShowArticle.asp?ArticleID={aid}")[1]
    assert get(base + f"/ShowArticle.asp?ArticleID={aid}&ASPSESSIONIDQSRTBCDA=XYZXYZXYZXYZXYZXYZXYZXYZ")[1] == canonical
    assert get(base + f"/showarticle.asp?articleid={aid}")[1] == canonical
    # robots.txt
    status, _, robots = fetch(base + "/robots.txt")
    assert status == 200 and robots.decode().split() == ["User-agent:", "*", "Disallow:", "/admin/"]
    assert fetch(base + "/no/such/page.asp")[0] == 404
    # a wrong declared charset: list pages say utf-8 but are GBK
    for pages in asp_crawl.values():
        for _, headers, body in pages:
            assert headers["content-type"] == "text/html" and b'<meta charset="utf-8">' in body
            with pytest.raises(UnicodeDecodeError):
                body.decode("utf-8")
    kinds = Counter()
    for a in truth["articles"]:
        headers, body = get(base + a["path"])
        meta_utf8 = b'<meta charset="utf-8">' in body
        kinds[(headers["content-type"], meta_utf8)] += 1
        body.decode("gbk")
    assert set(kinds) == {("text/html; charset=gb2312", False), ("text/html; charset=iso-8859-1", False),
                          ("text/html", True)}


def test_asp_detail_pages_carry_the_truth(asp):
    base, truth = asp
    cruft = Counter()
    precisions = Counter()
    legacy_links = 0
    for a in truth["articles"]:
        _, body = get(base + a["path"])
        text = body.decode("gb18030")
        page = lxml.html.document_fromstring(text)
        assert norm_text(page.xpath("string(//td[@class='articletitle'])")) == a["title"]
        info = norm_text(page.xpath("string(//td[@class='articleinfo'])"))
        assert re.match(r"作者：.+ 文章来源：.+ 点击数：\d+ 更新时间：", info), info
        assert shown_date(info.split("更新时间：")[1]) == (a["published_at"], a["published_at_precision"])
        precisions[a["published_at_precision"]] += 1
        (body_td,) = page.xpath("//td[@id='fontzoom'][@class='articlecontent']")
        assert paragraphs(body_td) == a["body_paragraphs"], a["path"]
        links = body_td.xpath(".//a[starts-with(@href,'/UploadFiles/')]")
        got = [(norm_text(x.text_content()), x.get("href"), x.get("href").rsplit(".", 1)[1]) for x in links]
        assert got == [(x["name"], x["path"], x["file_type"]) for x in a["attachments"]]
        for x in a["attachments"]:
            status, _headers, data = fetch(base + x["path"])
            assert status == 200 and data.startswith(MAGIC[x["file_type"]])
        assert "【字体：大 中 小】【打印此文】【关闭窗口】" in norm_text(page.text_content())
        assert "上一篇：" in text and "下一篇：" in text
        legacy_links += "&ASPSESSIONIDQSRTBCDA=" in text
        for marker in ("<o:p>", "mso-", "&nbsp;&nbsp;", "\u3000", "<st1:chsdate", "<!--[if gte mso 9]>"):
            cruft[marker] += marker in text
    assert all(cruft[m] > 0 for m in ("<o:p>", "mso-", "&nbsp;&nbsp;", "\u3000", "<st1:chsdate", "<!--[if gte mso 9]>"))
    assert set(precisions) == {"day", "minute", "second"}
    assert 10 <= legacy_links <= 60
    assert sum(bool(a["attachments"]) for a in truth["articles"]) >= 10
    assert any(re.search("[镕堃珺喆玥昇]", a["title"] + "".join(a["body_paragraphs"])) for a in truth["articles"])


def test_asp_soft_errors_and_clamped_pages(asp):
    base, truth = asp
    status, _, body = fetch(base + "/ShowArticle.asp?ArticleID=999999")
    assert status == 200 and "alert(" in body.decode("gbk")
    last = truth["columns"][0]
    assert get(base + "/list.asp?classid=1&page=99")[1] == get(base + f"/list.asp?classid=1&page={last['pages']}")[1]


# ================================================================================================ TRS
@pytest.fixture(scope="module")
def trs(tmp_path_factory):
    data = generate_trs(tmp_path_factory.mktemp("fgj"))
    truth = json.loads((data / "truth.json").read_text(encoding="utf-8"))
    with trs_server(data) as base:
        yield base, truth


PAGER = re.compile(r'<script>var countPage = (\d+); createPageHTML\(countPage, (\d+), "index", "html"\);</script>')


@pytest.fixture(scope="module")
def trs_crawl(trs):
    """Home nav -> column index.html -> index_k.html for k < countPage (from the script only)."""
    base, truth = trs
    home_url = base + "/index.html"
    home = doc(get(home_url)[1], "utf-8")
    nav = {a.text_content().strip(): urljoin(home_url, a.get("href")) for a in home.xpath("//div[@class='nav']/a")}
    result = {}
    for col in truth["columns"]:
        first = nav[col["name"]]
        assert path_of(first) == col["url"]
        _, body = get(first)
        count, current = map(int, PAGER.search(body.decode("utf-8")).groups())
        assert current == 0
        pages = [(first, body)]
        for k in range(1, count):
            url = urljoin(first, f"index_{k}.html")
            _, b = get(url)
            assert tuple(map(int, PAGER.search(b.decode("utf-8")).groups())) == (count, k)
            pages.append((url, b))
        assert fetch(urljoin(first, f"index_{count}.html"))[0] == 404
        result[col["name"]] = pages
    return result


def test_trs_truth_shape(trs):
    _, truth = trs
    check_truth_shape(truth, "trs", 100)
    assert truth["site"]["code"] == "fgj" and truth["site"]["name"] == "北仑区发展和改革局"
    assert [(c["name"], c["url"]) for c in truth["columns"]] == [
        ("通知公告", "/col/tzgg/index.html"), ("政策文件", "/col/zcwj/index.html"), ("工作动态", "/col/gzdt/index.html")]
    for a in truth["articles"]:
        m = re.fullmatch(r"/col/(tzgg|zcwj|gzdt)/(\d{6})/t(\d{8})_(\d+)\.html", a["path"])
        assert m and int(m.group(4)) == a["id"] and m.group(3).startswith(m.group(2))
        assert m.group(3) == a["published_at"][:10].replace("-", "")
        for x in a["attachments"]:
            assert re.fullmatch(rf"/col/{m.group(1)}/{m.group(2)}/P0{m.group(3)}\d+\.(pdf|docx?|xls)", x["path"])
        if a["column"] == "政策文件":
            assert a["index_number"] and a["publisher"] and a["written_date"]
        else:
            assert (a["index_number"], a["publisher"], a["written_date"], a["document_number"]) == (None,) * 4
    assert any(a["document_number"] for a in truth["articles"])


def test_trs_every_article_is_reachable_by_the_page_script(trs, trs_crawl):
    _, truth = trs
    by_path = {a["path"]: a for a in truth["articles"]}
    relative_styles = Counter()
    for col in truth["columns"]:
        pages = trs_crawl[col["name"]]
        assert len(pages) == col["pages"]
        found = []
        for url, body in pages:
            page = doc(body, "utf-8")
            # no pager links in the HTML: page.js writes them
            assert not page.xpath("//a[contains(@href,'index_')]")
            assert not page.xpath("//a[normalize-space()='下一页' or normalize-space()='尾页']")
            for li in page.xpath("//ul[@class='list']/li"):
                (a,) = li.xpath("./a")
                href = a.get("href")
                relative_styles[href.split("/")[0]] += 1
                assert re.fullmatch(r"(\./|\.\./\.\./col/\w+/)\d{6}/t\d{8}_\d+\.html", href) and a.get("target") == "_blank"
                path = path_of(urljoin(url, href))
                t = by_path[path]
                assert a.get("title") == t["title"] and t["column"] == col["name"]
                assert a.text_content() == t["title"] or (a.text_content().endswith("...")
                                                          and t["title"].startswith(a.text_content()[:-3]))
                assert li.xpath("string(./span)") == t["published_at"][:10]
                found.append(path)
        assert len(found) == len(set(found)) == col["count"]
        assert set(found) == {a["path"] for a in truth["articles"] if a["column"] == col["name"]}
    assert relative_styles["."] > 0 and relative_styles[".."] > 0


def test_trs_page_script_search_and_boilerplate(trs, trs_crawl):
    base, _truth = trs
    _, js = get(base + "/js/page.js")
    assert b"function createPageHTML(_nPageCount, _nCurrIndex, _sPageName, _sPageExt)" in js and b"document.write" in js
    _, home = get(base + "/index.html")
    assert b'<meta name="generator" content="TRS WCM" />' in home and b"<!--TRS" in home
    assert get(base + "/")[1] == home
    assert fetch(base + "/search/index.html")[0] == 200
    for pages in [[(base + "/index.html", home)], *trs_crawl.values()]:
        for url, body in pages:
            hrefs = [urljoin(url, h) for h in doc(body, "utf-8").xpath("//a/@href")]
            assert not [h for h in hrefs if "/search/" in h or "calendar" in h.lower()]


def test_trs_detail_pages_carry_the_truth(trs):
    base, truth = trs
    editors = Counter()
    for a in truth["articles"]:
        url = base + a["path"]
        _headers, body = get(url)
        text = body.decode("utf-8")
        assert '<meta http-equiv="Content-Type" content="text/html; charset=utf-8" />' in text
        page = lxml.html.document_fromstring(text)
        assert norm_text(page.xpath("string(//div[@class='title'])")) == a["title"]
        info = norm_text(page.xpath("string(//div[@class='info'])"))
        m = re.match(r"发布日期：(\S+(?: \d\d:\d\d:\d\d)?) 来源：", info)
        assert m and shown_date(m.group(1)) == (a["published_at"], a["published_at_precision"])
        table = page.xpath("//table[@class='xxgk-table']")
        if a["column"] == "政策文件":
            cells = {th.text_content(): norm_text(th.getnext().text_content()) for th in table[0].iter("th")}
            assert cells["索引号"] == a["index_number"] and cells["发布机构"] == a["publisher"]
            assert cells["成文日期"] == a["written_date"] and cells["有效性"]
            assert (cells["发文字号"] if cells["发文字号"] not in ("", "无") else None) == a["document_number"]
        else:
            assert not table
        (editor,) = page.xpath("//div[@id='zoom']/div[contains(concat(' ',@class,' '),' TRS_Editor ') or "
                               "contains(concat(' ',@class,' '),' TRS_UEDITOR ')]")
        kind = editor.get("class").split()[0]
        editors[kind] += 1
        if kind == "TRS_Editor":
            assert editor[0].tag == "style"
        assert paragraphs(editor) == a["body_paragraphs"], a["path"]
        links = page.xpath("//a[@oldsrc]")
        got = [(x.text_content(), path_of(urljoin(url, x.get("href"))), x.get("href").rsplit(".", 1)[1]) for x in links]
        assert got == [(x["name"], x["path"], x["file_type"]) for x in a["attachments"]]
        for x in links:
            assert x.get("href").startswith("./P0") and x.get("oldsrc") == "/protect/" + x.get("href")[2:]
        for x in a["attachments"]:
            status, _, data = fetch(base + x["path"])
            assert status == 200 and data.startswith(MAGIC[x["file_type"]])
        if links:
            assert fetch(base + links[0].get("oldsrc"))[0] == 404
    assert editors["TRS_Editor"] > 10 and editors["TRS_UEDITOR"] > 10
    assert {a["published_at_precision"] for a in truth["articles"]} == {"day", "second"}
    assert sum(bool(a["attachments"]) for a in truth["articles"]) >= 10


# ========================================================================================= generators
@pytest.mark.parametrize("generate", [generate_asp, generate_trs])
def test_generators_are_deterministic(tmp_path, generate):
    def snapshot(d):
        return {p.relative_to(d): p.read_bytes() for p in d.rglob("*") if p.is_file()}

    a = snapshot(generate(tmp_path / "a", seed=7, n_articles=30))
    assert a == snapshot(generate(tmp_path / "b", seed=7, n_articles=30))
    assert a != snapshot(generate(tmp_path / "c", seed=8, n_articles=30))
    assert snapshot(generate(tmp_path / "a", seed=7, n_articles=30)) == a  # regenerating in place


def test_servers_need_generated_data(tmp_path):
    with pytest.raises(FileNotFoundError), asp_server(tmp_path):
        pass
    with pytest.raises(FileNotFoundError), trs_server(tmp_path):
        pass
