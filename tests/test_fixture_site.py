"""The PHP fixture subsite (rsj, 北仑区人力资源和社会保障局) serves exactly what its truth.json says."""

from __future__ import annotations

import json
import os
import re
import shutil
import urllib.error
import urllib.request

import pytest

from fixture_sites.generator import generate, norm_text

pytestmark = pytest.mark.php

needs_php = pytest.mark.skipif(shutil.which("php") is None and not os.environ.get("BLGW_REQUIRE_FIXTURES"),
                               reason="php not on PATH (install Debian package php-cli php-sqlite3 php-mbstring); "
                                      ".ci/run installs it and fails instead of skipping")

GBK_ONLY = "镕堃珺喆玥昇"


def fetch(url: str) -> tuple[int, dict[str, str], bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:
            return resp.status, {k.lower(): v for k, v in resp.headers.items()}, resp.read()
    except urllib.error.HTTPError as e:
        return e.code, {k.lower(): v for k, v in e.headers.items()}, e.read()


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    if shutil.which("php") is None:
        if os.environ.get("BLGW_REQUIRE_FIXTURES"):
            pytest.fail("php-cli is missing but BLGW_REQUIRE_FIXTURES is set (.ci/run sets it)")
        pytest.skip("php not on PATH (install Debian package php-cli php-sqlite3 php-mbstring)")
    from fixture_sites.servers import php_bureau_server

    data = generate(tmp_path_factory.mktemp("rsj_data"))
    truth = json.loads((data / "truth.json").read_text(encoding="utf-8"))
    with php_bureau_server(data) as base:
        yield base, truth, data


@pytest.fixture(scope="module")
def detail_pages(site):
    base, truth, _ = site
    pages = {}
    for art in truth["articles"]:
        status, headers, body = fetch(base + art["path"])
        assert status == 200, art["path"]
        pages[art["id"]] = (headers, body)
    return pages


def _html(text: str):
    import lxml.html

    return lxml.html.document_fromstring(text)


# ---------------------------------------------------------------------------------------- generator


def test_generator_is_deterministic(tmp_path):
    a = generate(tmp_path / "a", seed=7, n_articles=60)
    b = generate(tmp_path / "b", seed=7, n_articles=60)
    c = generate(tmp_path / "c", seed=8, n_articles=60)
    assert (a / "truth.json").read_bytes() == (b / "truth.json").read_bytes()
    assert (a / "truth.json").read_bytes() != (c / "truth.json").read_bytes()
    files = lambda d: {p.relative_to(d): p.read_bytes() for p in (d / "uploadfile").rglob("*") if p.is_file()}
    assert files(a) == files(b)


def test_truth_shape_and_invariants(tmp_path):
    truth = json.loads((generate(tmp_path) / "truth.json").read_text(encoding="utf-8"))
    assert truth["seed"] == 2024 and truth["site_code"] == "rsj" and truth["site_name"] == "北仑区人力资源和社会保障局"
    arts = truth["articles"]
    assert len(arts) == 180 == sum(c["article_count"] for c in truth["columns"])
    assert [c["catid"] for c in truth["columns"]] == [1, 2, 3, 4, 5]
    assert 1 <= truth["columns"][4]["article_count"] <= 8  # 年度工作目标: a handful
    keys = {"id", "catid", "column", "path", "title", "published_at", "published_at_precision", "index_number",
            "publisher", "topic", "written_date", "document_number", "validity", "body_paragraphs", "attachments"}
    assert all(set(a) == keys for a in arts)
    ids = [a["id"] for a in arts]
    assert ids == sorted(set(ids)) and ids[-1] - ids[0] + 1 > len(ids)  # unique, with gaps
    assert len({a["title"] for a in arts}) == len(arts)
    assert len({a["index_number"] for a in arts if a["index_number"]}) == sum(1 for a in arts if a["index_number"])
    assert any(ch in a["title"] for a in arts for ch in GBK_ONLY)
    assert any(re.search("[０-９]", a["title"]) for a in arts)
    assert {a["published_at_precision"] for a in arts} == {"second", "minute", "day"}
    for a in arts:
        assert "2019" <= a["published_at"][:4] <= "2024" and a["published_at"].endswith("+08:00")
        if a["published_at_precision"] == "day":
            assert a["published_at"][11:19] == "00:00:00"
        if a["catid"] == 3:
            assert a["index_number"] is None and a["written_date"] is None and a["publisher"] is None
        else:
            assert a["index_number"] and a["written_date"] <= a["published_at"][:10]
        assert (a["validity"] is not None) == (a["catid"] == 2)
        assert len(a["body_paragraphs"]) >= 2 and all(p == norm_text(p) and p for p in a["body_paragraphs"])
        for att in a["attachments"]:
            assert att["path"].startswith("/uploadfile/") and att["path"].endswith("." + att["file_type"])
            assert att["name"].endswith("." + att["file_type"])
    share = sum(bool(a["attachments"]) for a in arts) / len(arts)
    assert 0.3 < share < 0.5
    assert {t["file_type"] for a in arts for t in a["attachments"]} == {"pdf", "doc", "docx", "xls"}


# --------------------------------------------------------------------------------------------- site


@needs_php
def test_home_page_is_gbk_and_declares_it(site):
    base, truth, _ = site
    status, headers, body = fetch(base + "/")
    assert status == 200
    assert headers["content-type"].lower() == "text/html; charset=gbk"
    with pytest.raises(UnicodeDecodeError):
        body.decode("utf-8")
    text = body.decode("gbk")  # strict: every byte is valid GBK
    assert text.startswith("<!DOCTYPE html PUBLIC \"-//W3C//DTD XHTML 1.0 Transitional//EN\"")
    assert '<meta http-equiv="Content-Type" content="text/html; charset=gb2312" />' in text
    assert "北仑区人力资源和社会保障局" in text and "网站标识码：3302060013" in text and "浙ICP备" in text
    assert "12℃～19℃" in text and "1024×768" in text  # no '?' substitutions from the GBK conversion
    for col in truth["columns"]:
        assert f'href="list.php?catid={col["catid"]}"' in text
    assert "更多&gt;&gt;" in text and "http://www.ningbo.gov.cn" in text
    newest = max((a for a in truth["articles"] if a["catid"] == 1), key=lambda a: (a["published_at"], a["id"]))
    assert f'href="show.php?id={newest["id"]}"' in text


@needs_php
def test_robots_and_static(site):
    base, _, _ = site
    status, headers, body = fetch(base + "/robots.txt")
    assert status == 200 and b"Disallow: /admin/" in body and headers["content-type"].startswith("text/plain")
    assert fetch(base + "/admin/")[0] == 200  # exists, but robots.txt forbids it
    assert fetch(base + "/css/style.css")[0] == 200
    for path in ("/router.php", "/inc/common.php", "/nope.html", "/uploadfile/../site.sqlite"):
        assert fetch(base + path)[0] == 404, path


def _list_items(text: str) -> list[tuple[int, str, str, str]]:
    doc = _html(text)
    out = []
    for li in doc.cssselect("ul.list > li"):
        a = li.cssselect("a")[0]
        out.append((int(a.get("href").split("=")[1]), a.get("title"), a.text_content(),
                    li.cssselect("span.date")[0].text_content()))
    return out


@needs_php
def test_list_pages_page_correctly(site):
    base, truth, _ = site
    date_fmt = {1: "[{y}-{m:02d}-{d:02d}]", 2: "{y}/{m}/{d}", 3: "({y}年{m:02d}月{d:02d}日)",
                4: "[{y}-{m:02d}-{d:02d}]", 5: "{y}/{m}/{d}"}
    by_id = {a["id"]: a for a in truth["articles"]}
    for col in truth["columns"]:
        catid, pages = col["catid"], col["pages"]
        seen: list[int] = []
        url, visited = base + col["list_path"], 0
        last_text = ""
        while url:  # follow the pager's 下一页 links from page 1
            status, headers, body = fetch(url)
            assert status == 200 and headers["content-type"].lower() == "text/html; charset=gbk"
            text = body.decode("gbk")
            visited += 1
            assert f"共 {col['article_count']} 条 每页 15 条 页次：{visited}/{pages}" in text
            items = _list_items(text)
            assert len(items) == (15 if visited < pages else col["article_count"] - 15 * (pages - 1))
            for aid, title, shown, date in items:
                art = by_id[aid]
                assert art["catid"] == catid and title == art["title"]
                assert shown == title or (shown.endswith("…") and title.startswith(shown[:-1]))
                y, m, d = (int(x) for x in art["published_at"][:10].split("-"))
                assert date == date_fmt[catid].format(y=y, m=m, d=d)
                seen.append(aid)
            nxt = re.search(r'<a href="(list\.php\?catid=\d+&amp;page=\d+)">下一页</a>', text)
            url = base + "/" + nxt.group(1).replace("&amp;", "&") if nxt else None
            last_text = text
        assert visited == pages
        # last page: 下一页 / 尾页 are plain text
        pager = _html(last_text).cssselect("div.pages")[0]
        assert {a.text_content() for a in pager.cssselect("a")} <= {"首页", "上一页"}
        assert "下一页" in pager.text_content() and "尾页" in pager.text_content()
        assert len(seen) == len(set(seen))  # each article on exactly one page ...
        assert set(seen) == {a["id"] for a in truth["articles"] if a["catid"] == catid}  # ... and all of them
        days = [by_id[i]["published_at"][:10] for i in seen]
        assert days == sorted(days, reverse=True)  # newest first
        # beyond the last page: the last page again
        status, _, body = fetch(f"{base}{col['list_path']}&page={pages + 5}")
        assert status == 200 and f"页次：{pages}/{pages}" in body.decode("gbk")
    assert fetch(base + "/list.php?catid=99")[0] == 404
    assert fetch(base + "/list.php")[0] == 404


_PUB_FORMATS = [
    (r"(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})", "second"),
    (r"(\d{4})年(\d{1,2})月(\d{1,2})日 (\d{2}):(\d{2})", "minute"),
    (r"(\d{4})/(\d{1,2})/(\d{1,2}) (\d{2}):(\d{2})", "minute"),
    (r"(\d{4})年(\d{1,2})月(\d{1,2})日", "day"),
    (r"(\d{4})-(\d{2})-(\d{2})", "day"),
]


def _parse_pub(s: str) -> tuple[str, str]:
    for rx, precision in _PUB_FORMATS:
        m = re.fullmatch(rx, s)
        if m:
            p = [int(x) for x in m.groups()] + [0, 0, 0]
            return f"{p[0]:04d}-{p[1]:02d}-{p[2]:02d}T{p[3]:02d}:{p[4]:02d}:{p[5]:02d}+08:00", precision
    raise AssertionError(f"unknown 发布时间 format: {s!r}")


@needs_php
def test_detail_pages_match_truth(site, detail_pages):
    _, truth, _ = site
    no_charset = 0
    for art in truth["articles"]:
        headers, body = detail_pages[art["id"]]
        assert headers["content-type"] == "text/html"  # no charset in HTTP on detail pages
        text = body.decode("gb18030")
        if art["id"] % 17 == 0:
            assert "charset" not in text.lower()
            no_charset += 1
        else:
            assert '<meta http-equiv="Content-Type" content="text/html; charset=gb2312" />' in text
        doc = _html(text)
        assert doc.cssselect("h1.title")[0].text_content() == art["title"]
        crumbs = doc.cssselect("div.position")[0].text_content()
        assert crumbs == f"当前位置：首页 > {art['column']} > 正文"
        info = doc.cssselect("div.info")[0].text_content()
        m = re.match(r"发布时间：(.+?)\u3000来源：", info)
        assert _parse_pub(m.group(1)) == (art["published_at"], art["published_at_precision"])
        tables = doc.cssselect("table.xxgk_table")
        if art["catid"] == 3:
            assert not tables and art["index_number"] is None
        else:
            cells = [td.text_content().strip() for td in tables[0].cssselect("td")]
            meta = dict(zip(cells[0::2], cells[1::2], strict=False))
            assert meta["索引号"] == art["index_number"]
            assert meta["发布机构"] == art["publisher"]
            assert meta["主题分类"] == art["topic"]
            y, mo, d = art["written_date"].split("-")
            assert meta["成文日期"] == f"{y}年{mo}月{d}日"
            docno = None if meta["发文字号"] in ("", "无") else meta["发文字号"]
            assert docno == art["document_number"]
            assert meta["发布日期"] == "{}年{}月{}日".format(*art["published_at"][:10].split("-"))
            assert meta.get("有效性") == art["validity"]
        paras = [norm_text(p.text_content()) for p in doc.cssselect("div#zoom p")]
        assert [p for p in paras if p] == art["body_paragraphs"]
        links = [(a.text_content(), a.get("href")) for a in doc.cssselect("div.attachment a")]
        assert links == [(t["name"], t["path"]) for t in art["attachments"]]
    assert no_charset >= 3


@needs_php
def test_show_contains_gbk_only_characters(site, detail_pages):
    _, truth, _ = site
    hits = [a for a in truth["articles"] if any(ch in a["title"] for ch in GBK_ONLY)]
    assert hits
    for art in hits:
        body = detail_pages[art["id"]][1]
        with pytest.raises(UnicodeDecodeError):
            body.decode("gb2312")  # declared gb2312, but the bytes need GBK
        assert art["title"] in body.decode("gb18030")
        assert art["title"].encode("gbk") in body


@needs_php
def test_unknown_ids_are_404(site):
    base, truth, _ = site
    ids = {a["id"] for a in truth["articles"]}
    gap = next(i for i in range(min(ids), max(ids)) if i not in ids)
    for path in (f"/show.php?id={gap}", "/show.php?id=999999", "/show.php?id=abc", "/show.php"):
        status, _, body = fetch(base + path)
        assert status == 404, path
        assert "页面不存在" in body.decode("gbk")


@needs_php
def test_attachments_served_with_content_type(site):
    base, truth, data = site
    ctypes = {"pdf": "application/pdf", "doc": "application/msword", "xls": "application/vnd.ms-excel",
              "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document"}
    magic = {"pdf": b"%PDF-1.4", "doc": bytes.fromhex("D0CF11E0A1B11AE1"), "xls": bytes.fromhex("D0CF11E0A1B11AE1"),
             "docx": b"PK\x03\x04"}
    done = set()
    for art in truth["articles"]:
        for att in art["attachments"]:
            if att["file_type"] in done:
                continue
            status, headers, body = fetch(base + att["path"])
            assert status == 200
            assert headers["content-type"] == ctypes[att["file_type"]]
            assert body == (data / att["path"].lstrip("/")).read_bytes() and body.startswith(magic[att["file_type"]])
            assert int(headers["content-length"]) == len(body)
            done.add(att["file_type"])
    assert done == set(ctypes)
    assert fetch(base + "/uploadfile/2019/0101/missing.pdf")[0] == 404
