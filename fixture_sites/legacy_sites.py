"""Two more fixture subsites: a classic ASP site (``dqjd``) and a TRS WCM site (``fgj``).

Both reuse the seeded article content of :mod:`fixture_sites.generator` (``build(seed, n)``), re-mapped
onto the columns of the two sites, and both are served by one small stdlib HTTP server
(``ThreadingHTTPServer`` in a background thread)::

    data = generate_asp(tmp / "dqjd")            # truth.json, site.json, UploadFiles/
    with asp_server(data) as base_url:           # "http://127.0.0.1:54321"
        ...
    data = generate_trs(tmp / "fgj")             # truth.json, www/ (the published static site)
    with trs_server(data) as base_url:
        ...

Foreground use: ``python -m fixture_sites.legacy_sites asp|trs DATA_DIR [--port N] [--generate]``.

Site 1 - 北仑区大碶街道 (``dqjd``, ``http://dqjd.bl.gov.cn``): a home-made 动易-style classic ASP site
-------------------------------------------------------------------------------------------------------
* ``/``, ``/index.asp``, ``/default.asp``: a ``<frameset>`` of ``top.asp`` (banner) and ``main.asp``
  (nav to ``news.asp?classid=1|2|3``, an ``<iframe src="list.asp?classid=2">`` 最新动态 block).
* ``news.asp?classid=N``: no article links; the list is ``<iframe src="list.asp?classid=N&page=1">``.
* ``list.asp?classid=N[&page=M]``: 12 rows per page in ``table.listtable``, newest first;
  ``td.title`` holds one of three link styles (per page a seeded shuffle, all three on every page with
  three or more rows): ``href="javascript:window.open('ShowArticle.asp?ArticleID=N')"``,
  ``href="#" onclick="location.href='ShowArticle.asp?ArticleID=N';return false;"`` and plain
  ``href="ShowArticle.asp?ArticleID=N" target="_blank"``.  Titles longer than 26 characters are cut to
  24 + ``...`` (no title attribute: the full title is only on the detail page).  ``td.date`` is
  ``[2024-01-05]``.  Pager: ``共N条 页次：M/P 每页12条 首页 上一页 下一页 尾页`` where unavailable
  entries are plain text, links are ``list.asp?classid=N&page=K``, plus a ``<select>`` page jump whose
  option values are page numbers.  Out-of-range pages are clamped (as the real script does).
* ``ShowArticle.asp?ArticleID=N``: ``td.articletitle`` (full title), ``td.articleinfo`` with
  ``作者：… 文章来源：… 点击数：… 更新时间：…`` (formats: ``2017-5-15 9:05:03`` (second, hour not padded),
  ``2017/5/15 14:29`` (minute), ``2017年05月15日`` (day), ``17-05-15`` (yy-mm-dd, day)), the body in
  ``td#fontzoom.articlecontent`` with Word cruft (``<!--[if gte mso 9]>`` blocks, ``<?xml:namespace>``,
  ``<o:p>``, ``<st1:chsdate>``, ``mso-`` styles, ``&nbsp;`` runs, full-width spaces), attachments as
  ``<p><a href="/UploadFiles/2019/20190517142932123.doc">附件1：….doc</a></p>`` at the end of the body,
  the ``【字体：大 中 小】【打印此文】【关闭窗口】`` toolbar and 上一篇/下一篇 links.  On about a third of
  the detail pages the 上一篇/下一篇 links carry ``&ASPSESSIONIDQSRTBCDA=<token>`` (old cookieless links);
  any extra query parameter is ignored, so they serve the same bytes as the canonical URL.
* IIS behaviour: paths and query parameter names are case-insensitive (``/showarticle.asp?articleid=5``
  works); every response sets ``ASPSESSIONIDQSRTBCDA=<random>; path=/`` (the value sent by the client
  is kept), nothing needs the cookie; ``Server: Microsoft-IIS/6.0``, ``X-Powered-By: ASP.NET``;
  an unknown ArticleID / classid answers 200 with an ``alert()`` script (a soft error, like 动易);
  unknown paths are a real 404.  ``/robots.txt`` disallows ``/admin/`` only (the footer links
  ``/admin/Admin_Login.asp``, which exists).
* Charsets - every page is GBK bytes (GBK-only characters such as 镕 occur), and the declarations are:
  frameset, ``top.asp``, ``main.asp``, ``news.asp``: header ``text/html`` without charset, meta
  ``gb2312`` (right, modulo GBK ⊃ GB2312); ``list.asp``: header without charset, ``<meta charset="utf-8">``
  (WRONG); ``ShowArticle.asp``: per article (``charset_style`` in site.json, all three used): ``ok``
  (header and meta ``gb2312``), ``header_latin1`` (header ``charset=iso-8859-1`` - WRONG - and meta
  ``gb2312``), ``meta_utf8`` (header without charset, ``<meta charset="utf-8">`` - WRONG).

Site 2 - 北仑区发展和改革局 (``fgj``, ``http://fgj.bl.gov.cn``): TRS WCM, static HTML published to disk
-------------------------------------------------------------------------------------------------------
* ``/index.html`` (and ``/``): nav to ``/col/jggk/index.html`` (a single page, not a list),
  ``/col/tzgg/index.html`` 通知公告, ``/col/zcwj/index.html`` 政策文件, ``/col/gzdt/index.html`` 工作动态;
  ``<meta name="generator" content="TRS WCM">`` and ``<!--TRS …-->`` comments.
* Column lists ``index.html``, ``index_1.html``, … (20 per page, newest first).  No pager links in the
  HTML: the page count is only in ``<script>var countPage = 5; createPageHTML(countPage, 0, "index",
  "html");</script>`` (2nd argument: 0-based current page) and ``/js/page.js`` writes the pager with
  ``document.write``.  Items: ``<ul class="list"><li><a href="./202401/t20240105_123456.html"
  target="_blank" title="full title">title</a><span>2024-01-05</span></li>``; the link text is cut to 29
  characters + ``...`` when longer than 30; about one item in five links ``../../col/<col>/YYYYMM/….html``.
* Detail ``/col/<col>/YYYYMM/tYYYYMMDD_ID.html``: ``div.title``, ``div.info`` with ``发布日期：2024-01-05``
  (day) or ``发布日期：2024-01-05 14:29:32`` (second) and ``来源：…``; 政策文件 pages have
  ``table.xxgk-table`` (索引号 / 发布机构 / 成文日期 ``2024-01-05`` / 发文字号 (empty or ``无`` = none) /
  有效性) before the title.  The body is ``div.TRS_Editor`` (with the TRS ``<style>`` block *inside* it,
  attachments as ``<p>`` links at its end) or ``div.TRS_UEDITOR`` (attachments in ``div.fujian`` after
  it), both inside ``div#zoom``.  Attachment links are ``<a href="./P020240105123456789.pdf"
  OLDSRC="/protect/P020240105123456789.pdf">报名登记表.pdf</a>``, the file being in the article's
  folder (``/protect/`` is not served).  UTF-8 with a correct meta charset.
* ``/search/index.html`` exists but nothing links to it (the header has a search ``<form>`` only).

truth.json (both sites)
-----------------------
``{"seed", "site": {code, name, platform, origin}, "columns": [{name, url, count, pages}],
"articles": [{id, column, path, title, published_at, published_at_precision, index_number, publisher,
written_date, document_number, body_paragraphs, attachments: [{name, path, file_type}]}]}``, articles
sorted by id.  ``published_at`` is what the detail page's date line shows (Asia/Shanghai, ``+08:00``,
truncated to its precision).  ``body_paragraphs`` is the whitespace-normalised text of every non-empty
``<p>`` of the body except the paragraphs that only hold attachment links (ASP, TRS_Editor).
Disclosure fields exist only on TRS 政策文件 pages; they are ``null`` everywhere else (the ASP site has
no disclosure table: 作者/文章来源 are not 发布机构).  Attachment ``name`` is the link text, ``path``
the absolute path on the origin.  ASP content is ``build(seed, n)``; TRS content is ``build(seed + 1, n)``
so the two sites do not share articles.
"""

from __future__ import annotations

import argparse
import html
import json
import math
import mimetypes
import random
import re
import secrets
import shutil
import string
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from datetime import datetime
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any, overload
from urllib.parse import parse_qsl, unquote, urlsplit

from fixture_sites.generator import SITE_NAME as RSJ_NAME
from fixture_sites.generator import _attachment_bytes, build
from fixture_sites.servers import serve_in_foreground, threaded_http_server

ASP_CODE, ASP_NAME, ASP_ORIGIN = "dqjd", "北仑区大碶街道", "http://dqjd.bl.gov.cn"
ASP_OFFICE = "北仑区大碶街道办事处"
ASP_PER_PAGE = 12
ASP_COLUMNS = [(1, "街道公告"), (2, "街道动态"), (3, "政策法规")]
ASP_CATMAP = {1: 1, 4: 1, 3: 2, 2: 3, 5: 3}  # generator catid -> classid
SESSION_COOKIE = "ASPSESSIONIDQSRTBCDA"
# 更新时间 styles: (precision, weight)
ASP_DATE_STYLES = {"dash_seconds": ("second", 40), "slash_minutes": ("minute", 15), "cn_day": ("day", 25),
                   "yy_day": ("day", 20)}
ASP_CHARSET_STYLES = ["ok", "header_latin1", "meta_utf8"]

TRS_CODE, TRS_NAME, TRS_ORIGIN = "fgj", "北仑区发展和改革局", "http://fgj.bl.gov.cn"
TRS_PER_PAGE = 20
TRS_COLUMNS = [("tzgg", "通知公告"), ("zcwj", "政策文件"), ("gzdt", "工作动态")]
TRS_CATMAP = {1: "tzgg", 4: "tzgg", 2: "zcwj", 5: "zcwj", 3: "gzdt"}
TRS_DISCLOSURE_COLUMN = "zcwj"
TRS_PUBLISHERS = {RSJ_NAME: TRS_NAME, "区人力社保局": "区发改局", RSJ_NAME + "办公室": TRS_NAME + "办公室"}

CONTENT_TYPES = {"pdf": "application/pdf", "doc": "application/msword", "xls": "application/vnd.ms-excel",
                 "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                 "html": "text/html", "js": "application/javascript", "css": "text/css", "txt": "text/plain",
                 "gif": "image/gif"}
GIF_1PX = bytes.fromhex("47494638396101000100800000ffffff00000021f90401000000002c00000000010001000002024401003b")


def _esc(s: str) -> str:
    return html.escape(s, quote=True)


def _iso(d: datetime, precision: str) -> str:
    if precision == "minute":
        d = d.replace(second=0)
    elif precision == "day":
        d = d.replace(hour=0, minute=0, second=0)
    return d.strftime("%Y-%m-%dT%H:%M:%S+08:00")


def _cut(title: str, limit: int, keep: int) -> str:
    return title if len(title) <= limit else title[:keep] + "..."


def _rebrand(s: str, name: str) -> str:
    return s.replace(RSJ_NAME, name)


def _pages(count: int, per_page: int) -> int:
    return max(1, math.ceil(count / per_page))


def _write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def _truth_article(aid: int, column: str, path: str, title: str, published: datetime, precision: str,
                   paragraphs: list[str], attachments: list[dict[str, Any]], index_number: str | None = None,
                   publisher: str | None = None, written_date: str | None = None,
                   document_number: str | None = None) -> dict[str, Any]:
    return {
        "id": aid, "column": column, "path": path, "title": title,
        "published_at": _iso(published, precision), "published_at_precision": precision,
        "index_number": index_number, "publisher": publisher, "written_date": written_date,
        "document_number": document_number, "body_paragraphs": paragraphs, "attachments": attachments,
    }


_YEAR_CN = re.compile(r"(?<!\d)(20\d\d)年")


def _word_cruft(rng: random.Random, body_html: str) -> str:
    """Wrap an editor body the way a Word paste into an old eWebEditor does (text unchanged)."""
    if rng.random() < 0.5:  # a smart tag around the first year in the text
        body_html = _YEAR_CN.sub(
            lambda m: f'<st1:chsdate year="{m.group(1)}" month="1" day="1" islunardate="False" '
                      f'isrocdate="False" w:st="on">{m.group(1)}</st1:chsdate>年', body_html, count=1)
    head = ""
    if rng.random() < 0.6:
        head += ('<!--[if gte mso 9]><xml><w:WordDocument><w:View>Normal</w:View><w:Zoom>0</w:Zoom>'
                 '<w:PunctuationKerning/><w:DrawingGridVerticalSpacing>7.8 磅</w:DrawingGridVerticalSpacing>'
                 '</w:WordDocument></xml><![endif]-->\n')
    head += '<?xml:namespace prefix = o ns = "urn:schemas-microsoft-com:office:office" />\n'
    return (head + '<div class="Section1" style="layout-grid:15.6pt">\n'
            '<p class="MsoNormal" style="line-height:150%;mso-line-height-rule:exactly"><span lang="EN-US" '
            'style="font-size:12.0pt;mso-bidi-font-size:10.0pt">&nbsp;&nbsp;&nbsp; <o:p>&nbsp;</o:p></span></p>\n'
            + body_html + "\n</div>")


# ================================================================================================ ASP
def generate_asp(out_dir: Path, seed: int = 2024, n_articles: int = 100) -> Path:
    """Write truth.json, site.json (what asp_server renders) and UploadFiles/ into *out_dir*."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(out_dir / "UploadFiles", ignore_errors=True)
    rng = random.Random(f"{seed}-asp")
    file_rng = random.Random(f"{seed}-asp-files")
    arts = sorted(build(seed, n_articles), key=lambda a: a.id)
    charset_styles = [ASP_CHARSET_STYLES[i % 3] for i in range(len(arts))]
    rng.shuffle(charset_styles)
    authors = ["佚名", "本站", "admin", "党政办", "大碶街道", "宣传办"]
    sources = ["大碶街道", "大碶街道党政办", "本站原创", "北仑新闻网", "大碶街道宣传办", "区人力社保局"]
    names = dict(ASP_COLUMNS)
    records, truth_articles = [], []
    for a in arts:
        classid = ASP_CATMAP[a.catid]
        style = rng.choices(list(ASP_DATE_STYLES), [w for _, w in ASP_DATE_STYLES.values()])[0]
        title = _rebrand(a.title, ASP_OFFICE)
        paragraphs = [_rebrand(p, ASP_OFFICE) for p in a.paragraphs]
        body = _word_cruft(rng, _rebrand(a.body_html, ASP_OFFICE))
        attachments = []
        for att in a.attachments:
            fname = att["path"].rsplit("/", 1)[1]
            path = f"/UploadFiles/{a.published:%Y}/{fname}"
            attachments.append({"name": att["name"], "path": path, "file_type": att["file_type"]})
            f = out_dir / path.lstrip("/")
            f.parent.mkdir(parents=True, exist_ok=True)
            f.write_bytes(_attachment_bytes(file_rng, att["file_type"], att["name"]))
            body += (f'\n<p class="MsoNormal"><span style="font-size:12.0pt">&nbsp;</span><a href="{path}" '
                     f'target="_blank"><span style="color:blue">{_esc(att["name"])}</span></a></p>')
        records.append({
            "id": a.id, "classid": classid, "title": title, "published": a.published.isoformat(),
            "date_style": style, "author": rng.choice(authors), "source": rng.choice(sources), "hits": a.hits,
            "body_html": body, "charset_style": charset_styles.pop(), "legacy_links": rng.random() < 0.33,
        })
        truth_articles.append(_truth_article(
            a.id, names[classid], f"/ShowArticle.asp?ArticleID={a.id}", title, a.published,
            ASP_DATE_STYLES[style][0], paragraphs, attachments))
    counts = {c: sum(1 for r in records if r["classid"] == c) for c, _ in ASP_COLUMNS}
    _write_json(out_dir / "site.json", {
        "seed": seed, "session_token": "".join(rng.choice(string.ascii_uppercase) for _ in range(24)),
        "columns": [{"classid": c, "name": n} for c, n in ASP_COLUMNS], "articles": records,
    })
    _write_json(out_dir / "truth.json", {
        "seed": seed,
        "site": {"code": ASP_CODE, "name": ASP_NAME, "platform": "asp", "origin": ASP_ORIGIN},
        "columns": [{"name": n, "url": f"/list.asp?classid={c}", "count": counts[c],
                     "pages": _pages(counts[c], ASP_PER_PAGE)} for c, n in ASP_COLUMNS],
        "articles": truth_articles,
    })
    return out_dir


def _asp_date(d: datetime, style: str) -> str:
    if style == "dash_seconds":
        return f"{d.year}-{d.month}-{d.day} {d.hour}:{d:%M:%S}"
    if style == "slash_minutes":
        return f"{d.year}/{d.month}/{d.day} {d:%H:%M}"
    if style == "cn_day":
        return f"{d:%Y}年{d:%m}月{d:%d}日"
    return f"{d:%y-%m-%d}"


class _AspSite:
    def __init__(self, data_dir: Path):
        data = json.loads((data_dir / "site.json").read_text(encoding="utf-8"))
        self.data_dir = data_dir
        self.seed = data["seed"]
        self.token = data["session_token"]
        self.columns = {c["classid"]: c["name"] for c in data["columns"]}
        self.articles = {}
        for r in data["articles"]:
            r["published"] = datetime.fromisoformat(r["published"])
            self.articles[r["id"]] = r
        self.lists = {c: sorted((r for r in self.articles.values() if r["classid"] == c),
                                key=lambda r: (r["published"], r["id"]), reverse=True) for c in self.columns}
        # IIS is case-insensitive: lower-cased relative path -> file
        self.files = {}
        up = data_dir / "UploadFiles"
        if up.is_dir():
            for f in up.rglob("*"):
                if f.is_file():
                    self.files["/" + f.relative_to(data_dir).as_posix().lower()] = f


def _asp_head(title: str, meta: str = '<meta http-equiv="Content-Type" content="text/html; charset=gb2312">') -> str:
    return f"""<html>
<head>
{meta}
<title>{_esc(title)}</title>
<meta name="keywords" content="大碶,大碶街道,北仑,街道公告,街道动态">
<link href="Skin/DefaultSkin.css" rel="stylesheet" type="text/css">
<script language="JavaScript" type="text/JavaScript">
<!--
function fontZoom(size){{document.getElementById('fontzoom').style.fontSize=size+'px';}}
//-->
</script>
</head>
"""


def _asp_nav(current: int = 0) -> str:
    items = ['<a href="main.asp" target="_self">网站首页</a>']
    for cid, name in ASP_COLUMNS:
        cls = ' class="menu_on"' if cid == current else ""
        items.append(f'<a href="news.asp?classid={cid}"{cls}>{name}</a>')
    items.append("<a href=\"javascript:alert('栏目建设中，敬请期待！')\">便民服务</a>")
    items.append('<a href="javascript:window.open(\'http://www.bl.gov.cn\')">北仑之窗</a>')
    return ('<table width="778" border="0" align="center" cellpadding="0" cellspacing="0" class="nav">\n'
            '  <tr><td height="30" class="menu" align="center">' + " | ".join(items) + "</td></tr>\n</table>\n")


ASP_FOOT = """<table width="778" border="0" align="center" cellpadding="0" cellspacing="0" class="bottom">
  <tr><td align="center" height="24"><a href="main.asp">网站首页</a> | <a href="javascript:window.external.AddFavorite('http://dqjd.bl.gov.cn','北仑区大碶街道')">加入收藏</a> | <a href="/admin/Admin_Login.asp" target="_blank">管理登录</a></td></tr>
  <tr><td align="center" height="60">版权所有：北仑区大碶街道办事处　　地址：宁波市北仑区大碶街道通山路188号　　邮编：315800<br>
  电话：0574-86100000　　传真：0574-86100001　　浙ICP备05012345号<br>
  建议使用IE6.0以上版本、800×600分辨率浏览　　技术支持：北仑区信息中心</td></tr>
</table>
</body>
</html>
"""


def _asp_frameset() -> str:
    return """<html>
<head>
<meta http-equiv="Content-Type" content="text/html; charset=gb2312">
<title>北仑区大碶街道</title>
</head>
<frameset rows="146,*" cols="*" frameborder="no" border="0" framespacing="0">
  <frame src="top.asp" name="topFrame" scrolling="no" noresize>
  <frame src="main.asp" name="mainFrame">
</frameset>
<noframes><body>
您的浏览器不支持框架，请<a href="main.asp">点击这里</a>进入首页。
</body></noframes>
</html>
"""


def _asp_top() -> str:
    return _asp_head("北仑区大碶街道") + """<body leftmargin="0" topmargin="0" marginwidth="0" marginheight="0">
<table width="778" border="0" align="center" cellpadding="0" cellspacing="0">
  <tr><td height="22" class="topdate"><script language="javascript">var d=new Date();document.write(d.getFullYear()+"年"+(d.getMonth()+1)+"月"+d.getDate()+"日");</script>　<a href="#" onclick="this.style.behavior='url(#default#homepage)';this.setHomePage('http://dqjd.bl.gov.cn');return false;">设为首页</a></td></tr>
  <tr><td><img src="images/top_banner.jpg" width="778" height="120" border="0" alt="北仑区大碶街道"></td></tr>
</table>
</body>
</html>
"""


def _asp_main(site: _AspSite) -> str:
    return _asp_head("北仑区大碶街道") + '<body leftmargin="0" topmargin="0">\n' + _asp_nav() + """<table width="778" border="0" align="center" cellpadding="0" cellspacing="0">
  <tr>
    <td width="200" valign="top" class="left">
      <table width="100%" border="0" cellspacing="0" cellpadding="4">
        <tr><td class="boxtitle">街道概况</td></tr>
        <tr><td class="boxtext">　　大碶街道位于北仑区中部，辖区面积约一百平方公里，下辖若干社区和行政村，是北仑区重要的工业和商贸集聚区。</td></tr>
        <tr><td class="boxtitle">便民服务</td></tr>
        <tr><td class="boxtext"><a href="http://www.zjzwfw.gov.cn" target="_blank">浙江政务服务网</a><br><a href="http://www.bl.gov.cn" target="_blank">北仑之窗</a></td></tr>
      </table>
    </td>
    <td width="578" valign="top">
      <table width="98%" border="0" align="center" cellpadding="0" cellspacing="0">
        <tr><td class="boxtitle">最新动态</td><td class="boxtitle" align="right"><a href="news.asp?classid=2">更多&gt;&gt;</a></td></tr>
        <tr><td colspan="2"><iframe src="list.asp?classid=2" name="newsframe" width="100%" height="330" frameborder="0" scrolling="no"></iframe></td></tr>
      </table>
    </td>
  </tr>
</table>
""" + ASP_FOOT


def _asp_news(site: _AspSite, classid: int) -> str:
    name = site.columns[classid]
    side = "".join(f'        <tr><td><a href="news.asp?classid={c}">{n}</a></td></tr>\n' for c, n in ASP_COLUMNS)
    return (_asp_head(f"{name}--北仑区大碶街道") + '<body leftmargin="0" topmargin="0">\n' + _asp_nav(classid)
            + f"""<table width="778" border="0" align="center" cellpadding="0" cellspacing="0">
  <tr>
    <td width="180" valign="top" bgcolor="#F2F6FB">
      <table width="100%" border="0" cellspacing="0" cellpadding="4">
        <tr><td class="boxtitle">栏目导航</td></tr>
{side}      </table>
    </td>
    <td width="598" valign="top">
      <table width="96%" border="0" align="center" cellpadding="0" cellspacing="0">
        <tr><td height="30">您现在的位置：<a href="main.asp">网站首页</a> &gt;&gt; {name}</td></tr>
        <tr><td><iframe src="list.asp?classid={classid}&page=1" name="listframe" width="100%" height="420" frameborder="0" scrolling="auto"></iframe></td></tr>
      </table>
    </td>
  </tr>
</table>
""" + ASP_FOOT)


def _asp_soft_error(message: str) -> str:
    return (_asp_head("错误信息") + f"<body>\n<script language=\"javascript\">alert('{message}');"
            "history.back();</script>\n</body>\n</html>\n")


def _asp_list(site: _AspSite, classid: int, page: int) -> str:
    rows = site.lists[classid]
    pages = _pages(len(rows), ASP_PER_PAGE)
    page = min(max(page, 1), pages)
    chunk = rows[(page - 1) * ASP_PER_PAGE: page * ASP_PER_PAGE]
    rng = random.Random(f"{site.seed}-asp-list-{classid}-{page}")
    styles = [0, 1, 2]
    rng.shuffle(styles)
    styles += [rng.randrange(3) for _ in range(len(chunk))]
    out = []
    for r, style in zip(chunk, styles, strict=False):
        url = f"ShowArticle.asp?ArticleID={r['id']}"
        text = _esc(_cut(r["title"], 26, 24))
        if style == 0:
            link = f"<a href=\"javascript:window.open('{url}')\">{text}</a>"
        elif style == 1:
            link = f"<a href=\"#\" onclick=\"location.href='{url}';return false;\">{text}</a>"
        else:
            link = f'<a href="{url}" target="_blank">{text}</a>'
        out.append(f'  <tr><td class="title"><img src="images/article_common.gif" width="9" height="9" border="0"> '
                   f'{link}</td><td class="date">[{r["published"]:%Y-%m-%d}]</td></tr>')

    def pl(k: int, label: str, active: bool) -> str:
        return f'<a href="list.asp?classid={classid}&page={k}">{label}</a>' if active else label

    options = "".join(f'<option value="{k}"{" selected" if k == page else ""}>第{k}页</option>' for k in range(1, pages + 1))
    pager = (f"共{len(rows)}条&nbsp;&nbsp;页次：{page}/{pages}&nbsp;&nbsp;每页{ASP_PER_PAGE}条&nbsp;&nbsp;"
             f"{pl(1, '首页', page > 1)} {pl(page - 1, '上一页', page > 1)} "
             f"{pl(page + 1, '下一页', page < pages)} {pl(pages, '尾页', page < pages)}&nbsp;&nbsp;"
             f"转到：<select name=\"page\" onchange=\"javascript:window.location='list.asp?classid={classid}&page='"
             f"+this.options[this.selectedIndex].value;\">{options}</select>")
    return (_asp_head(site.columns[classid], '<meta charset="utf-8">')
            + '<body leftmargin="0" topmargin="0" bgcolor="#FFFFFF">\n'
            '<table class="listtable" width="100%" border="0" cellspacing="0" cellpadding="3">\n'
            + "\n".join(out) + "\n</table>\n"
            '<table class="pager" width="100%" border="0" cellspacing="0" cellpadding="0">\n'
            f'  <tr><td align="center" height="30">{pager}</td></tr>\n</table>\n</body>\n</html>\n')


def _asp_show(site: _AspSite, r: dict[str, Any]) -> str:
    rows = site.lists[r["classid"]]
    i = next(k for k, x in enumerate(rows) if x["id"] == r["id"])
    extra = f"&{SESSION_COOKIE}={site.token}" if r["legacy_links"] else ""

    def neighbour(label: str, k: int) -> str:
        if 0 <= k < len(rows):
            x = rows[k]
            return f'{label}：<a href="ShowArticle.asp?ArticleID={x["id"]}{extra}">{_esc(x["title"])}</a>'
        return f"{label}：没有了"

    meta = ('<meta charset="utf-8">' if r["charset_style"] == "meta_utf8"
            else '<meta http-equiv="Content-Type" content="text/html; charset=gb2312">')
    name = site.columns[r["classid"]]
    return (_asp_head(f"{r['title']}--北仑区大碶街道", meta) + '<body leftmargin="0" topmargin="0">\n'
            + _asp_nav(r["classid"]) + f"""<table width="778" border="0" align="center" cellpadding="0" cellspacing="0">
  <tr><td height="30">您现在的位置：<a href="main.asp">网站首页</a> &gt;&gt; <a href="news.asp?classid={r['classid']}">{name}</a> &gt;&gt; 正文</td></tr>
</table>
<table width="778" border="0" align="center" cellpadding="0" cellspacing="0" class="article">
  <tr><td class="articletitle" align="center" height="50"><font style="font-size:18px;color:#C00000"><b>{_esc(r['title'])}</b></font></td></tr>
  <tr><td class="articleinfo" align="center" height="24">作者：{_esc(r['author'])}&nbsp;&nbsp;&nbsp;&nbsp;文章来源：{_esc(r['source'])}&nbsp;&nbsp;&nbsp;&nbsp;点击数：<font color="red">{r['hits']}</font>&nbsp;&nbsp;&nbsp;&nbsp;更新时间：{_asp_date(r['published'], r['date_style'])}</td></tr>
  <tr><td height="1" bgcolor="#CCCCCC"></td></tr>
  <tr><td id="fontzoom" class="articlecontent" style="font-size:14px;line-height:180%">
{r['body_html']}
  </td></tr>
  <tr><td align="right" height="30">【字体：<a href="javascript:fontZoom(16)">大</a> <a href="javascript:fontZoom(14)">中</a> <a href="javascript:fontZoom(12)">小</a>】【<a href="javascript:window.print()">打印此文</a>】【<a href="javascript:window.close()">关闭窗口</a>】</td></tr>
  <tr><td height="24">{neighbour('上一篇', i - 1)}</td></tr>
  <tr><td height="24">{neighbour('下一篇', i + 1)}</td></tr>
</table>
""" + ASP_FOOT)


ASP_ROBOTS = "User-agent: *\r\nDisallow: /admin/\r\n"
ASP_STATIC = {
    "/skin/defaultskin.css": ("text/css", b"body{font-size:12px;}td{font-size:12px;}.listtable td{line-height:24px;}\r\n"),
    "/admin/admin_login.asp": ("text/html", "<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; "
                               "charset=gb2312\"><title>管理登录</title></head><body><form method=\"post\" "
                               "action=\"Admin_ChkLogin.asp\">用户名：<input name=\"UserName\"> 密码：<input "
                               "type=\"password\" name=\"Password\"><input type=\"submit\" value=\"登录\"></form>"
                               "</body></html>".encode("gbk")),
}
IIS_404 = ("<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=GB2312\"><title>无法找到该页"
           "</title></head><body><h1>无法找到该页</h1>您正在搜索的页面可能已经删除、更名或暂时不可用。<hr>"
           "<p>HTTP 错误 404 - 文件或目录未找到。<br>Internet 信息服务 (IIS)</p></body></html>")


class _QuietHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, every response has a Content-Length
    timeout = 15  # idle keep-alive connections are closed (and cannot outlive the server for long)
    server_name_header = "nginx"
    do_GET: Callable[[], None]  # each handler below defines it

    def version_string(self) -> str:
        return self.server_name_header

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _send(self, status: int, body: bytes, content_type: str, headers: Sequence[tuple[str, str]] = ()) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_HEAD(self) -> None:
        self.do_GET()


class _AspHandler(_QuietHandler):
    server_name_header = "Microsoft-IIS/6.0"
    site: _AspSite  # set on the subclass made per server

    def _session(self) -> str:
        m = re.search(SESSION_COOKIE + r"=([A-Z]{24})", self.headers.get("Cookie", ""))
        return m.group(1) if m else "".join(secrets.choice(string.ascii_uppercase) for _ in range(24))

    def _page(self, text: str, status: int = 200, content_type: str = "text/html") -> None:
        self._send(status, text.encode("gbk"), content_type, self._iis_headers())

    def _iis_headers(self) -> list[tuple[str, str]]:
        return [("X-Powered-By", "ASP.NET"), ("Set-Cookie", f"{SESSION_COOKIE}={self._session()}; path=/"),
                ("Cache-Control", "private")]

    def do_GET(self) -> None:
        site = self.site
        parts = urlsplit(self.path)
        path = unquote(parts.path).lower()
        q: dict[str, str] = {}
        for k, v in parse_qsl(parts.query, keep_blank_values=True):
            q.setdefault(k.lower(), v)

        @overload
        def num(key: str, default: int) -> int: ...
        @overload
        def num(key: str, default: None = None) -> int | None: ...
        def num(key: str, default: int | None = None) -> int | None:
            m = re.match(r"\s*(\d{1,9})", q.get(key, ""))
            return int(m.group(1)) if m else default

        if path in ("/", "/index.asp", "/default.asp"):
            return self._page(_asp_frameset())
        if path == "/top.asp":
            return self._page(_asp_top())
        if path == "/main.asp":
            return self._page(_asp_main(site))
        if path in ("/news.asp", "/list.asp"):
            classid = num("classid")
            if classid is None or classid not in site.columns:
                return self._page(_asp_soft_error("找不到指定的栏目！"))
            if path == "/news.asp":
                return self._page(_asp_news(site, classid))
            return self._page(_asp_list(site, classid, num("page", 1)))
        if path == "/showarticle.asp":
            r = site.articles.get(num("articleid", 0))
            if r is None:
                return self._page(_asp_soft_error("找不到指定的文章！"))
            ctype = {"ok": "text/html; charset=gb2312", "header_latin1": "text/html; charset=iso-8859-1",
                     "meta_utf8": "text/html"}[r["charset_style"]]
            return self._page(_asp_show(site, r), content_type=ctype)
        if path == "/robots.txt":
            return self._send(200, ASP_ROBOTS.encode(), "text/plain", [("X-Powered-By", "ASP.NET")])
        if path in ASP_STATIC:
            ctype, body = ASP_STATIC[path]
            return self._send(200, body, ctype, self._iis_headers() if ctype == "text/html" else [])
        if path.startswith("/images/"):
            return self._send(200, GIF_1PX, "image/gif")
        f = site.files.get(path)
        if f is not None:
            ext = f.suffix.lstrip(".").lower()
            return self._send(200, f.read_bytes(), CONTENT_TYPES.get(ext, "application/octet-stream"),
                              [("Accept-Ranges", "bytes")])
        return self._send(404, IIS_404.encode("gbk"), "text/html", [("X-Powered-By", "ASP.NET")])


# ================================================================================================ TRS
def _trs_head(title: str, extra_meta: str = "") -> str:
    return f"""<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">
<html xmlns="http://www.w3.org/1999/xhtml">
<head>
<meta http-equiv="Content-Type" content="text/html; charset=utf-8" />
<meta http-equiv="X-UA-Compatible" content="IE=edge" />
<meta name="generator" content="TRS WCM" />
<meta name="SiteName" content="{TRS_NAME}" />
<meta name="SiteDomain" content="fgj.bl.gov.cn" />
<meta name="SiteIDCode" content="3302060021" />
{extra_meta}<title>{_esc(title)}</title>
<link href="/css/style.css" rel="stylesheet" type="text/css" />
<script type="text/javascript" src="/js/page.js"></script>
</head>
<body>
<!--TRS header begin-->
<div class="top">
  <div class="banner"><img src="/images/banner.jpg" width="1000" height="140" alt="{TRS_NAME}" /></div>
  <div class="nav">
    <a href="/index.html">首页</a>
    <a href="/col/jggk/index.html">机构概况</a>
    <a href="/col/tzgg/index.html">通知公告</a>
    <a href="/col/zcwj/index.html">政策文件</a>
    <a href="/col/gzdt/index.html">工作动态</a>
    <form name="searchform" action="/search/index.html" method="get" target="_blank" onsubmit="return this.searchword.value!='';"><input type="text" name="searchword" class="sousuo" /><input type="submit" value="搜索" /></form>
  </div>
</div>
<!--TRS header end-->
"""


TRS_FOOT = f"""<!--TRS footer begin-->
<div class="footer">
  <p><a href="/index.html">网站首页</a> | <a href="javascript:void(0)" onclick="window.open('http://www.bl.gov.cn')">北仑之窗</a> | <a href="javascript:scroll(0,0)">返回顶部</a></p>
  <p>主办单位：{TRS_NAME}　地址：宁波市北仑区新碶街道明州路700号　邮编：315800　电话：0574-86781000</p>
  <p><a href="http://www.beian.miit.gov.cn" target="_blank">浙ICP备05012345号-2</a>　网站标识码：3302060021　浙公网安备 33020602000123号</p>
  <p>本网站由TRS WCM内容管理系统发布</p>
</div>
<!--TRS footer end-->
<!--<TRS_WCM>Published by TRS WCM 6.5</TRS_WCM>-->
</body>
</html>
"""

TRS_PAGE_JS = r"""/* TRS WCM 分页函数：由发布模板输出的 createPageHTML(总页数, 当前页序号(从0开始), 文件名, 扩展名) 调用 */
function createPageHTML(_nPageCount, _nCurrIndex, _sPageName, _sPageExt){
	if(_nPageCount == null || _nPageCount <= 1){
		return;
	}
	var nCurrIndex = _nCurrIndex || 0;
	document.write("<div class=\"page\">共" + _nPageCount + "页&nbsp;&nbsp;");
	if(nCurrIndex == 0){
		document.write("首页&nbsp;上一页&nbsp;");
	}else{
		var nPreIndex = nCurrIndex - 1;
		var sPreFileName = nPreIndex == 0 ? _sPageName + "." + _sPageExt : _sPageName + "_" + nPreIndex + "." + _sPageExt;
		document.write("<a href=\"" + _sPageName + "." + _sPageExt + "\">首页</a>&nbsp;");
		document.write("<a href=\"" + sPreFileName + "\">上一页</a>&nbsp;");
	}
	if(nCurrIndex == _nPageCount - 1){
		document.write("下一页&nbsp;尾页");
	}else{
		var nNextIndex = nCurrIndex + 1;
		document.write("<a href=\"" + _sPageName + "_" + nNextIndex + "." + _sPageExt + "\">下一页</a>&nbsp;");
		document.write("<a href=\"" + _sPageName + "_" + (_nPageCount - 1) + "." + _sPageExt + "\">尾页</a>");
	}
	document.write("&nbsp;&nbsp;当前第" + (nCurrIndex + 1) + "页</div>");
}
"""

TRS_CSS = ("body{margin:0;font:12px/1.5 \"宋体\";}.top,.main,.footer{width:1000px;margin:0 auto;}"
           ".list li{line-height:28px;}.list li span{float:right;}.title{font-size:22px;text-align:center;}"
           ".xxgk-table{width:100%;border-collapse:collapse;}.xxgk-table th,.xxgk-table td{border:1px solid #ccc;}\n")

TRS_EDITOR_STYLE = ("<style type=\"text/css\">\n.TRS_Editor P{margin-top:0px;margin-bottom:12px;line-height:2;"
                    "font-family:宋体;font-size:12pt;}.TRS_Editor DIV{margin-top:0px;margin-bottom:12px;line-height:2;"
                    "font-family:宋体;font-size:12pt;}.TRS_Editor TD,.TRS_Editor TH{margin-top:0px;margin-bottom:12px;"
                    "line-height:2;font-family:宋体;font-size:12pt;}\n</style>")


def _trs_page_name(k: int) -> str:
    return "index.html" if k == 0 else f"index_{k}.html"


def _trs_list_page(colcode: str, colname: str, items: list[dict[str, Any]], k: int, pages: int, rng: random.Random) -> str:
    lis = []
    for it in items:
        rel = f"./{it['folder']}/{it['file']}"
        if rng.random() < 0.2:
            rel = f"../../col/{colcode}/{it['folder']}/{it['file']}"
        lis.append(f'    <li><a href="{rel}" target="_blank" title="{_esc(it["title"])}">'
                   f'{_esc(_cut(it["title"], 30, 29))}</a><span>{it["published"]:%Y-%m-%d}</span></li>')
    side = "".join(f'      <li><a href="../{c}/index.html">{n}</a></li>\n' for c, n in TRS_COLUMNS)
    return (_trs_head(f"{colname}_{TRS_NAME}", f'<meta name="ColumnName" content="{colname}" />\n')
            + f"""<div class="main">
  <div class="left">
    <div class="lm_title">信息公开</div>
    <ul class="lm_list">
{side}    </ul>
  </div>
  <div class="right">
    <div class="location">当前位置：<a href="../../index.html">首页</a> &gt; <a href="./index.html">{colname}</a></div>
    <!--TRS list begin-->
    <ul class="list">
""" + "\n".join(lis) + f"""
    </ul>
    <!--TRS list end-->
    <div class="pagebar"><script>var countPage = {pages}; createPageHTML(countPage, {k}, "index", "html");</script></div>
  </div>
</div>
""" + TRS_FOOT)


def _trs_detail(it: dict[str, Any], colcode: str, colname: str) -> str:
    pub = it["published"]
    shown = f"{pub:%Y-%m-%d}" if it["precision"] == "day" else f"{pub:%Y-%m-%d %H:%M:%S}"
    table = ""
    if colcode == TRS_DISCLOSURE_COLUMN:
        table = f"""    <table class="xxgk-table" cellspacing="0" cellpadding="4">
      <tr><th width="15%">索引号</th><td width="35%">{_esc(it['index_number'])}</td><th width="15%">发布机构</th><td width="35%">{_esc(it['publisher'])}</td></tr>
      <tr><th>成文日期</th><td>{it['written_date']}</td><th>发文字号</th><td>{_esc(it['docno_db'] or '')}</td></tr>
      <tr><th>有效性</th><td>{_esc(it['validity'] or '有效')}</td><th>公开方式</th><td>主动公开</td></tr>
    </table>
"""
    links = [f'<a href="./{att["file"]}" OLDSRC="/protect/{att["file"]}" target="_blank">{_esc(att["name"])}</a>'
             for att in it["attachments"]]
    if it["editor"] == "TRS_Editor":
        att_html = "".join(f'\n<p style="text-indent:2em">{"附件：" if i == 0 else ""}{a}</p>' for i, a in enumerate(links))
        body = (f'<div class="TRS_Editor">{TRS_EDITOR_STYLE}\n<div class="Custom_UnionStyle">\n{it["body_html"]}'
                f'{att_html}\n</div></div>')
        after = ""
    else:
        body = f'<div class="TRS_UEDITOR trs_paper_default trs_word">\n{it["body_html"]}\n</div>'
        after = ("" if not links else '    <div class="fujian"><span>附件：</span>\n      <ul>\n'
                 + "".join(f"        <li>{a}</li>\n" for a in links) + "      </ul>\n    </div>\n")
    meta = (f'<meta name="ColumnName" content="{colname}" />\n<meta name="ArticleTitle" content="{_esc(it["title"])}" />\n'
            f'<meta name="PubDate" content="{shown}" />\n<meta name="ContentSource" content="{_esc(it["source"])}" />\n')
    return (_trs_head(f"{it['title']}_{colname}_{TRS_NAME}", meta) + f"""<div class="main">
  <div class="location">当前位置：<a href="../../../index.html">首页</a> &gt; <a href="../index.html">{colname}</a> &gt; 正文</div>
  <div class="article">
{table}    <div class="title">{_esc(it['title'])}</div>
    <div class="info"><span>发布日期：{shown}</span>&nbsp;&nbsp;<span>来源：{_esc(it['source'])}</span>&nbsp;&nbsp;<span>【字体：<a href="javascript:doZoom(16)">大</a> <a href="javascript:doZoom(14)">中</a> <a href="javascript:doZoom(12)">小</a>】</span></div>
    <div class="content" id="zoom">
<!--<$[CONTENT]>start-->
{body}
<!--<$[CONTENT]>end-->
    </div>
{after}    <div class="tools">【<a href="javascript:window.print()">打印本页</a>】【<a href="javascript:window.close()">关闭窗口</a>】</div>
  </div>
</div>
""" + TRS_FOOT)


def _trs_home(lists: dict[str, list[dict[str, Any]]]) -> str:
    boxes = []
    for code, name in TRS_COLUMNS:
        lis = "".join(f'      <li><a href="./col/{code}/{it["folder"]}/{it["file"]}" target="_blank" title="{_esc(it["title"])}">'
                      f'{_esc(_cut(it["title"], 24, 23))}</a><span>{it["published"]:%m-%d}</span></li>\n'
                      for it in lists[code][:6])
        boxes.append(f'  <div class="box">\n    <div class="box_title"><span>{name}</span><a href="./col/{code}/index.html" '
                     f'class="more">更多&gt;&gt;</a></div>\n    <ul class="list">\n{lis}    </ul>\n  </div>\n')
    return (_trs_head(TRS_NAME) + '<div class="main">\n<!--TRS index begin-->\n' + "".join(boxes)
            + "<!--TRS index end-->\n</div>\n" + TRS_FOOT)


def _trs_jggk() -> str:
    return (_trs_head(f"机构概况_{TRS_NAME}", '<meta name="ColumnName" content="机构概况" />\n')
            + f"""<div class="main">
  <div class="location">当前位置：<a href="../../index.html">首页</a> &gt; 机构概况</div>
  <div class="TRS_Editor"><p>　　{TRS_NAME}是区政府工作部门，负责全区国民经济和社会发展规划、年度计划、重大项目和价格管理等工作。</p>
  <p>　　内设机构：办公室、综合规划科、投资科、价格科、能源科。</p></div>
</div>
""" + TRS_FOOT)


def _trs_search() -> str:
    return (_trs_head(f"站内检索_{TRS_NAME}") + '<div class="main">\n  <div class="search">请输入检索词。'
            '（本页由检索系统动态生成）</div>\n</div>\n' + TRS_FOOT)


def generate_trs(out_dir: Path, seed: int = 2024, n_articles: int = 100) -> Path:
    """Write truth.json and the published static site ``www/`` into *out_dir*."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    www = out_dir / "www"
    shutil.rmtree(www, ignore_errors=True)
    rng = random.Random(f"{seed}-trs")
    file_rng = random.Random(f"{seed}-trs-files")
    arts = sorted(build(seed + 1, n_articles), key=lambda a: a.id)
    names = dict(TRS_COLUMNS)
    sources = ["区发改局", TRS_NAME, "区发改局办公室", "北仑新闻网", "区物价检查所"]
    docid = rng.randint(300000, 400000)
    items, truth_articles, used_files = [], [], set()
    for a in arts:
        docid += rng.randint(1, 400)
        col = TRS_CATMAP[a.catid]
        folder, file = f"{a.published:%Y%m}", f"t{a.published:%Y%m%d}_{docid}.html"
        precision = "day" if rng.random() < 0.7 else "second"
        title = _rebrand(a.title, TRS_NAME)
        paragraphs = [_rebrand(p, TRS_NAME) for p in a.paragraphs]
        atts, truth_atts = [], []
        for att in a.attachments:
            while True:
                fname = f"P0{a.published:%Y%m%d}{file_rng.randint(10 ** 11, 10 ** 12 - 1)}.{att['file_type']}"
                if fname not in used_files:
                    break
            used_files.add(fname)
            label = re.sub(r"^附件\d+：", "", att["name"])
            atts.append({"name": label, "file": fname})
            apath = f"/col/{col}/{folder}/{fname}"
            truth_atts.append({"name": label, "path": apath, "file_type": att["file_type"]})
            f = www / apath.lstrip("/")
            f.parent.mkdir(parents=True, exist_ok=True)
            f.write_bytes(_attachment_bytes(file_rng, att["file_type"], label))
        disclosure = col == TRS_DISCLOSURE_COLUMN
        it: dict[str, Any] = {
              "id": docid, "col": col, "folder": folder, "file": file, "title": title, "published": a.published,
              "precision": precision, "source": rng.choice(sources), "body_html": _rebrand(a.body_html, TRS_NAME),
              "editor": "TRS_Editor" if rng.random() < 0.6 else "TRS_UEDITOR", "attachments": atts,
              "index_number": a.index_number, "publisher": TRS_PUBLISHERS.get(a.publisher or "", a.publisher),
              "written_date": a.written_date.isoformat() if a.written_date else None, "docno_db": a.docno_db,
              "validity": a.validity}
        items.append(it)
        docno = a.docno_db if a.docno_db not in (None, "", "无") else None
        truth_articles.append(_truth_article(
            docid, names[col], f"/col/{col}/{folder}/{file}", title, a.published, precision, paragraphs, truth_atts,
            index_number=it["index_number"] if disclosure else None,
            publisher=it["publisher"] if disclosure else None,
            written_date=it["written_date"] if disclosure else None,
            document_number=docno if disclosure else None))
    lists = {c: sorted((it for it in items if it["col"] == c), key=lambda x: (x["published"], x["id"]), reverse=True)
             for c, _ in TRS_COLUMNS}

    def put(rel: str, text: str) -> None:
        p = www / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text, encoding="utf-8")

    for it in items:
        put(f"col/{it['col']}/{it['folder']}/{it['file']}", _trs_detail(it, it["col"], names[it["col"]]))
    columns = []
    for code, name in TRS_COLUMNS:
        rows = lists[code]
        pages = _pages(len(rows), TRS_PER_PAGE)
        for k in range(pages):
            chunk = rows[k * TRS_PER_PAGE:(k + 1) * TRS_PER_PAGE]
            put(f"col/{code}/{_trs_page_name(k)}", _trs_list_page(code, name, chunk, k, pages, rng))
        columns.append({"name": name, "url": f"/col/{code}/index.html", "count": len(rows), "pages": pages})
    put("index.html", _trs_home(lists))
    put("col/jggk/index.html", _trs_jggk())
    put("search/index.html", _trs_search())
    put("js/page.js", TRS_PAGE_JS)
    put("css/style.css", TRS_CSS)
    put("robots.txt", "User-agent: *\nDisallow: /search/\nDisallow: /protect/\n")
    (www / "images").mkdir(exist_ok=True)
    (www / "images" / "banner.jpg").write_bytes(GIF_1PX)
    _write_json(out_dir / "truth.json", {
        "seed": seed,
        "site": {"code": TRS_CODE, "name": TRS_NAME, "platform": "trs", "origin": TRS_ORIGIN},
        "columns": columns,
        "articles": sorted(truth_articles, key=lambda t: t["id"]),
    })
    return out_dir


TRS_404 = ("<html><head><meta charset=\"utf-8\"><title>404 Not Found</title></head><body><center><h1>404 Not Found"
           "</h1></center><hr><center>nginx</center></body></html>\n")


class _TrsHandler(_QuietHandler):
    www: Path  # set on the subclass made per server

    def do_GET(self) -> None:
        path = unquote(urlsplit(self.path).path)
        if "\x00" in path or "\\" in path:
            return self._send(400, b"bad request", "text/plain")
        target = (self.www / path.lstrip("/")).resolve()
        if not target.is_relative_to(self.www):
            return self._send(404, TRS_404.encode(), "text/html")
        if target.is_dir():
            if not path.endswith("/"):  # like nginx: /col/tzgg -> /col/tzgg/
                return self._send(301, b"", "text/html", [("Location", path + "/")])
            target = target / "index.html"
        if not target.is_file():
            return self._send(404, TRS_404.encode(), "text/html")
        ext = target.suffix.lstrip(".").lower()
        ctype = CONTENT_TYPES.get(ext) or mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        stat = target.stat()
        mtime = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(stat.st_mtime))
        etag = f'"{int(stat.st_mtime):x}-{stat.st_size:x}"'  # nginx's form
        # like nginx: If-None-Match wins; else If-Modified-Since an exact match of Last-Modified
        inm, ims = self.headers.get("If-None-Match"), self.headers.get("If-Modified-Since")
        if (inm is not None and etag in [t.strip() for t in inm.split(",")]) or (inm is None and ims == mtime):
            return self._send(304, b"", ctype, [("Last-Modified", mtime), ("ETag", etag)])
        return self._send(200, target.read_bytes(), ctype, [("Last-Modified", mtime), ("ETag", etag), ("Accept-Ranges", "bytes")])


# ============================================================================================ servers
def _serve(handler: type[BaseHTTPRequestHandler], host: str, port: int | None, label: str) -> AbstractContextManager[str]:
    return threaded_http_server(handler, host, port, label)


@contextmanager
def asp_server(data_dir: Path, host: str = "127.0.0.1", port: int | None = None) -> Iterator[str]:
    """Serve the classic ASP site (dqjd) for *data_dir* (see :func:`generate_asp`); yield its base URL."""
    data_dir = Path(data_dir).resolve()
    if not (data_dir / "site.json").is_file():
        raise FileNotFoundError(f"{data_dir}/site.json not found; run: python -m fixture_sites.legacy_sites asp "
                                f"{data_dir} --generate")
    handler = type("AspHandler", (_AspHandler,), {"site": _AspSite(data_dir)})
    with _serve(handler, host, port, "ASP") as url:
        yield url


@contextmanager
def trs_server(data_dir: Path, host: str = "127.0.0.1", port: int | None = None) -> Iterator[str]:
    """Serve the TRS WCM site (fgj) for *data_dir* (see :func:`generate_trs`); yield its base URL."""
    data_dir = Path(data_dir).resolve()
    www = data_dir / "www"
    if not (www / "index.html").is_file():
        raise FileNotFoundError(f"{www}/index.html not found; run: python -m fixture_sites.legacy_sites trs "
                                f"{data_dir} --generate")
    handler = type("TrsHandler", (_TrsHandler,), {"www": www})
    with _serve(handler, host, port, "TRS") as url:
        yield url


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m fixture_sites.legacy_sites",
                                 description="Serve the classic ASP (dqjd) or TRS WCM (fgj) fixture site in the foreground.")
    ap.add_argument("platform", choices=["asp", "trs"])
    ap.add_argument("data_dir", type=Path)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=None, help="default: a free port")
    ap.add_argument("--generate", action="store_true", help="(re)generate DATA_DIR first")
    ap.add_argument("--seed", type=int, default=2024)
    ap.add_argument("--articles", type=int, default=100)
    args = ap.parse_args(argv)
    gen, serve, code = ((generate_asp, asp_server, ASP_CODE) if args.platform == "asp"
                        else (generate_trs, trs_server, TRS_CODE))
    if args.generate:
        gen(args.data_dir, seed=args.seed, n_articles=args.articles)
    return serve_in_foreground(serve(args.data_dir, host=args.host, port=args.port), code, args.data_dir)


if __name__ == "__main__":
    raise SystemExit(main())
