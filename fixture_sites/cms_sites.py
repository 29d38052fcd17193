"""Four fixture subsites on the default templates of four PHP CMSes: PbootCMS, DedeCMS 5.7, PHPCMS v9
and EmpireCMS 7 (帝国), each served by PHP's built-in server (``php -S``) the way the CMS serves it.

The article content is :func:`fixture_sites.generator.build` (seeded), re-mapped onto each site's columns
and re-branded; the Python side writes a data folder per site, the PHP routers in ``cms_php/<cms>/`` serve
it::

    data = generate_pbootcms(tmp / "kjj")     # truth.json, site.json, static/upload/...
    with pbootcms_server(data) as base_url:   # "http://127.0.0.1:54321"
        ...
    read_counters(data)                        # {"count": {...}}: the view counters' hits, by key

Foreground use: ``python -m fixture_sites.cms_sites pbootcms|dedecms|phpcms|empirecms DATA_DIR
[--port N] [--generate]``.  The dynamic CMSes (PbootCMS, PHPCMS) render every page in PHP from
``site.json``; the static-publishing ones (DedeCMS, EmpireCMS) are published to ``DATA_DIR/www/`` by
this module (as their 生成 HTML step does), and PHP serves those files and the CMS's dynamic scripts
(view counters, EmpireCMS's dynamic list).  Written after the vendors' public default templates
(PbootCMS ``template/default/html/{newslist,news,about}.html`` and ``comm/page.html`` with
``core/view/Paging.php``; DedeCMS 5.7 ``templets/default/{list_article,article_article,index_article,
singlepage}.htm``; PHPCMS v9 ``phpcms/templates/default/content/{list,show,page}.html`` and ``pages()``;
EmpireCMS 7 默认模板: list and content templates with ``[!--show.listpage--]``, ``[!--newstext--]``,
``[!--page.url--]``); nothing of them is copied.

Site 1 - PbootCMS (``kjj``, 北仑区科学技术局, ``http://kjj.bl.gov.cn``), UTF-8, 兼容模式 URLs
----------------------------------------------------------------------------------------------------
* ``/`` (and ``/index.php``): bootstrap nav ``{pboot:nav}`` to ``/?jgzn/`` 机构职能 and ``/?lxwm/``
  联系我们 (single pages: the column page is the content), ``/?tzgg/`` 通知公告, ``/?zcfg/`` 政策法规,
  ``/?gzdt/`` 工作动态; home boxes of the 5 newest of each list column; resources under
  ``/template/default/``, images in ``/static/upload/image/``, ``/core/qrcode.php?string=…`` QR code,
  ``/?member/login/``.  No generator meta and no "Powered by" (the default has neither).
* Lists ``/?gzdt/``, ``/?gzdt_2/`` … (6 a page, newest first; a page past the end shows the last page, as
  ``Paging::page()`` clamps): ``<li class="lh-3 border-bottom-dashed"><a href="/?gzdt/23.html"><span
  class="d-none d-md-inline">[list:title lencn=30]</span><span class="d-inline d-md-none">[list:title
  lencn=11]</span><span class="float-end">2024-01-05</span></a></li>``; ``lencn`` cuts at N characters
  and appends ``···`` (a title attribute never carries the full title).  Pager
  (``comm/page.html``): 首页 / 上一页 / numbar (5 numbers, ``<span class="page-num">···</span>``) / 下一页 /
  尾页, unavailable ones ``href="javascript:;"``.
* Detail ``/?gzdt/23.html`` (ids are global): ``<h2>`` title, ``时间：2024-01-05&nbsp;…访问量：N`` (day),
  ``div.content`` body (attachments as ``<a href="/static/upload/file/20240105/….pdf">`` paragraphs at its
  end), 上一篇/下一篇 (``没有了！`` at the ends).  An unknown column or id is a 404 page.
* ``/robots.txt`` (none shipped by PbootCMS: the fixture's disallows ``/admin.php`` and ``/?member/``).

Site 2 - DedeCMS 5.7 GBK (``kx``, 北仑区科学技术协会, ``http://kx.bl.gov.cn``), static HTML
------------------------------------------------------------------------------------------------
* ``/index.html``: top nav ``{dede:channel type='top'}`` 学会动态 ``/a/xhdt/``, 通知公告 ``/a/tzgg/``,
  政务公开 ``/a/zwgk/`` (a 频道封面 cover) and a custom link to ``/a/jgzn.html`` (a 单页文档); 网站地图
  ``/data/sitemap.html``; footer ``Powered by DedeCMS_V57_GBK_SP2``.  GBK bytes, ``<meta … charset=gb2312>``,
  ``Content-Type: text/html`` without charset (Apache's default).
* The cover ``/a/zwgk/`` (``index_article.htm``) has no list of its own: a box per sub-column, 政策文件
  ``/a/zwgk/zcwj/`` and 人事任免 ``/a/zwgk/rsrm/``, with 更多 links and the 5 newest; those sub-columns
  are NOT in the home nav (only the cover, ``/data/sitemap.html`` and ``/sitemap.xml`` name them).
* Lists ``/a/xhdt/`` (= ``index.html``), ``list_1_1.html``, ``list_1_2.html`` … (``list_{tid}_{page}``, 6 a
  page, newest first): ``div.listbox > ul.e2 > li`` with ``[<b><a href='/a/xhdt/'>学会动态</a></b>]`` first
  (the column's link), then ``<a href="/a/xhdt/2024/0105/73.html" class="title">`` with the title cut at
  ``titlelen=60`` bytes (30 Chinese characters, no mark), ``<span class="info"><small>日期：</small>2024-01-05
  14:29:32…``; pager ``div.dede_pages ul.pagelist``: 共N页M条, 首页, 上一页, numbers (``li.thisclass``), 下一页
  and 末页, unavailable ones as plain ``<li>`` text.
* Detail ``/a/<col>/YYYY/MMDD/<aid>.html``; multi-page articles (``{dede:pagebreak}``) continue in
  ``<aid>_2.html``, ``<aid>_3.html``: ``div.title h2`` (the same on every part), ``div.info`` with
  ``时间:2024-01-05 14:29`` (minute), ``<script src="/plus/count.php?view=yes&aid=73&mid=1">`` (the click
  counter: counts every request, HEAD too), the body in ``div.content > table td`` followed by the bare text
  ``(责任编辑：admin)`` (on every part), then ``div.dede_pages`` with the parts' links (``共3页:``, 上一页,
  numbers, 下一页; ``href='#'`` where unavailable).  ``/robots.txt`` is DedeCMS's (``/plus/count.php``,
  ``/plus/search.php``… ``/include``, ``/templets`` disallowed).
* A directory without its slash (``/a/xhdt``) is a 301 to ``/a/xhdt/``; a missing file is Apache's 404.

Site 3 - PHPCMS v9 GBK (``fl``, 北仑区妇女联合会, ``http://fl.bl.gov.cn``), dynamic
---------------------------------------------------------------------------------
* Every link is absolute (``APP_PATH``: the host the request came to, or with ``generate_phpcms(…, app_path=
  "http://fl.bl.gov.cn/")`` the configured address, as an install sets it, so that a mirror's pages link to
  the public host): home ``index.php``; lists
  ``index.php?m=content&c=index&a=lists&catid=6`` 工作动态, ``catid=7`` 通知公告, ``catid=8`` 政策法规,
  ``catid=9`` 妇联简介 (a 单网页: the column page is the content); page N ``…&catid=6&page=N`` (8 a page,
  newest first; a page past the end is an empty list).  List ``ul.list li``: ``<span class="rt">2024-01-05
  14:29:32</span>·<a href="…a=show&catid=6&id=87" target="_blank">full title</a>``; pager ``div#pages``
  (``pages()``): ``<a class="a1">N条</a>``, 上一页, ``<span>`` current, numbers, 下一页 - which on the last
  page links to the last page itself.
* Detail ``index.php?m=content&c=index&a=show&catid=6&id=87`` (parameters in any order); multi-page articles
  (``[page]``) add ``&page=2``, ``&page=3``: ``div#Article > h1`` holds the title and
  ``<br /><span>2024-01-05 14:29:32 来源：… 点击：</span><span id="hits">``; body ``#Article .content``;
  parts' pager ``div#pages``; ``<script src="…/api.php?op=count&id=87&modelid=1">`` (the view counter:
  counts every request, HEAD too); footer ``Powered by PHPCMS v9``.  Unknown ids answer 200 with
  PHPCMS's 提示信息 message page (a soft error).  ``/robots.txt`` is PHPCMS's (``/api``, ``/phpcms``,
  ``/caches``… disallowed).  GBK bytes, header and meta ``charset=gbk``.

Site 4 - EmpireCMS 7 GBK (``cxjd``, 北仑区春晓街道, ``http://cxjd.bl.gov.cn``), static + dynamic
------------------------------------------------------------------------------------------------------
* ``/index.html``: nav 街道动态 ``/news/jddt/`` and 政策法规 ``/news/zcfg/`` (static lists), 通知公告
  ``/e/action/ListInfo/?classid=3`` (a column set to dynamic lists), 街道概况 ``/about/jdgk.html`` (a
  自定义页面: single page); ``/skin/default/css/``, ``/e/data/js/ajax.js``, ``/e/search/`` form, footer
  ``Powered by <strong>Empire</strong><strong>CMS</strong>``.  GBK bytes, meta ``gb2312``, header
  ``text/html`` without charset.
* Static lists ``index.html``, ``index_2.html`` … (7 a page): ``ul.news_list li``: ``<span>2024-01-05</span><a
  href="/news/jddt/2024-01-05/123.html" title="full title" target="_blank">`` title cut at 26 characters (no
  mark); pager ``div.listpage`` (``[!--show.listpage--]``): total, 首页, 上一页, numbers (``<b>`` current),
  下一页, 尾页 - the unavailable ones left out.  The dynamic list ``/e/action/ListInfo/?classid=3``
  (rendered by PHP from ``site.json``, the same markup) pages with a 0-based ``page``:
  ``/e/action/ListInfo/index.php?page=1&classid=3&totalnum=N`` is the second page.
* Detail ``/news/<col>/YYYY-MM-DD/<id>.html``, multi-page ``<id>_2.html``, ``<id>_3.html``: ``h1`` title,
  ``div.info`` with ``发布时间：2024-01-05 14:29:32`` (second) and ``<script
  src=/e/public/ViewClick/?classid=2&id=123&addclick=1>`` (the click counter: counts every request, HEAD
  too), the body ``div#text`` (``[!--newstext--]``, attachments in ``/d/file/p/YYYY-MM-DD/….pdf``) ending,
  as the default template does, with the parts' pager ``<p align="center" class="pageLink">[!--page.url--]</p>``
  inside it (``<b>`` current, numbered links, 下一页; empty on a one-page article).  ``/robots.txt`` disallows the system
  folders under ``/e/`` and ``/e/public/`` (the counter), not ``/e/action/`` (the dynamic lists).

truth.json (every site)
-----------------------
As :mod:`fixture_sites.legacy_sites`: ``{"seed", "site": {code, name, platform, origin}, "columns":
[{name, url, count, pages}], "articles": [{id, column, path, title, published_at, published_at_precision,
index_number, publisher, written_date, document_number, body_paragraphs, attachments: [{name, path,
file_type}]}], "single_pages": [{column, path, title, body_paragraphs}]}``; articles sorted by id; each
article also has ``parts``: the paths of all its pages (``[path]`` for a one-page article).  ``title`` is
the full title (the detail page's); ``body_paragraphs`` are the whitespace-normalised texts of every
non-empty ``<p>`` of ALL parts, in order, without the boilerplate (``(责任编辑：admin)``) and without the
paragraphs that only hold attachment links; ``body_blocks`` is the same with the rows of the body's
data tables among them (each row's cells joined by ``" | "``) and the attachment lines at its end
(``附件1：政策解读.xls``: the 公文 layout's attachment lines are the document's own text), in order: the
body's whole text, one block a paragraph.  ``columns`` lists the list columns only, in the order a plugin
names them, with ``url`` the column's link as the site prints it.  No disclosure fields on these sites
(``null``).
"""

from __future__ import annotations

import argparse
import contextlib
import html
import itertools
import json
import math
import os
import random
import re
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from fixture_sites.generator import SITE_NAME as RSJ_NAME
from fixture_sites.generator import _attachment_bytes, build, norm_text
from fixture_sites.servers import _stop, find_php, free_port, serve_in_foreground

CMS_PHP_DIR = Path(__file__).resolve().parent / "cms_php"
STARTUP_TIMEOUT = 10.0
N_ARTICLES = 48
GIF_1PX = bytes.fromhex("47494638396101000100800000ffffff00000021f90401000000002c00000000010001000002024401003b")


@dataclass(frozen=True)
class SiteIdentity:
    cms: str
    code: str
    name: str
    origin: str
    office: str  # what replaces the generator's bureau name in the content


PBOOT = SiteIdentity("pbootcms", "kjj", "北仑区科学技术局", "http://kjj.bl.gov.cn", "北仑区科学技术局")
DEDE = SiteIdentity("dedecms", "kx", "北仑区科学技术协会", "http://kx.bl.gov.cn", "北仑区科学技术协会")
PHPCMS = SiteIdentity("phpcms", "fl", "北仑区妇女联合会", "http://fl.bl.gov.cn", "北仑区妇女联合会")
EMPIRE = SiteIdentity("empirecms", "cxjd", "北仑区春晓街道", "http://cxjd.bl.gov.cn", "北仑区春晓街道办事处")


@dataclass
class Item:
    """One article as a CMS stores it: its parts (pages) of body HTML and what the truth says of it."""

    id: int
    column: str  # the site's column key
    title: str
    published: datetime
    source: str
    hits: int
    parts: list[str]
    paragraphs: list[str]
    attachments: list[dict[str, Any]] = field(default_factory=list)  # name, path, file_type
    multipage: bool = False


def _esc(s: str) -> str:
    return html.escape(s, quote=True)


def _iso(d: datetime, precision: str) -> str:
    if precision == "minute":
        d = d.replace(second=0)
    elif precision == "day":
        d = d.replace(hour=0, minute=0, second=0)
    return d.strftime("%Y-%m-%dT%H:%M:%S+08:00")


def _pages(count: int, per_page: int) -> int:
    return max(1, math.ceil(count / per_page))


def _write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def _newest_first(items: list[Item]) -> list[Item]:
    return sorted(items, key=lambda it: (it.published, it.id), reverse=True)


_TEXT_BLOCK = re.compile(r"<p\b[^>]*>(.*?)</p>", re.S)


def _block_has_text(block: str) -> bool:
    found = _TEXT_BLOCK.search(block)
    if not found:
        return False
    text = re.sub(r"<[^>]+>", "", found.group(1)).replace("&nbsp;", " ")
    return bool(norm_text(html.unescape(text)))


def _split_parts(rng: random.Random, body_html: str, wanted: int) -> list[str]:
    """The body cut into ``wanted`` parts at block boundaries, each with text (as an editor puts
    ``{dede:pagebreak}`` / ``[page]`` markers between paragraphs); fewer parts when it is short."""
    blocks = body_html.split("\n")
    texty = [i for i, b in enumerate(blocks) if _block_has_text(b)]
    if len(texty) < 2:
        return [body_html]
    wanted = min(wanted, len(texty))
    cuts = sorted(rng.sample(texty[1:], wanted - 1))
    bounds = [0, *cuts, len(blocks)]
    return ["\n".join(blocks[a:b]) for a, b in itertools.pairwise(bounds)]


def _items(ident: SiteIdentity, seed: int, catmap: dict[int, str], upload: Callable[[datetime, int, str], str],
           multipage: bool, out_dir: Path, n_articles: int = N_ARTICLES) -> list[Item]:
    """The seeded content on this site's columns: ids in creation (publication) order from 1, names
    re-branded, attachments written under ``out_dir`` at the CMS's upload path, 2–3 parts for about
    a fifth of the long articles when the CMS has multi-page articles."""
    rng = random.Random(f"{seed}-{ident.cms}")
    file_rng = random.Random(f"{seed}-{ident.cms}-files")
    arts = sorted(build(seed, n_articles), key=lambda a: (a.published, a.id))
    items = []
    for n, a in enumerate(arts, start=1):
        body = a.body_html.replace(RSJ_NAME, ident.office)
        paragraphs = [p.replace(RSJ_NAME, ident.office) for p in a.paragraphs]
        parts = [body]
        if multipage and len(paragraphs) >= 4 and rng.random() < 0.45:
            parts = _split_parts(rng, body, rng.choice([2, 3]))
        attachments = []
        for k, att in enumerate(a.attachments):
            path = upload(a.published, n * 10 + k, att["file_type"])
            target = out_dir / path.lstrip("/")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(_attachment_bytes(file_rng, att["file_type"], att["name"]))
            attachments.append({"name": att["name"], "path": path, "file_type": att["file_type"]})
        if attachments:
            parts[-1] += "".join(f'\n<p><a href="{x["path"]}" target="_blank">{_esc(x["name"])}</a></p>'
                                 for x in attachments)
        items.append(Item(id=n, column=catmap[a.catid], title=a.title.replace(RSJ_NAME, ident.office),
                          published=a.published, source=a.source.replace(RSJ_NAME, ident.office), hits=a.hits,
                          parts=parts, paragraphs=paragraphs, attachments=attachments, multipage=len(parts) > 1))
    return items


_BLOCK = re.compile(r"<p\b[^>]*>(.*?)</p>|<table\b[^>]*>(.*?)</table>", re.S)
_ROW = re.compile(r"<tr\b[^>]*>(.*?)</tr>", re.S)
_CELL = re.compile(r"<t[dh]\b[^>]*>(.*?)</t[dh]>", re.S)


def _html_text(fragment: str) -> str:
    return norm_text(html.unescape(re.sub(r"<[^>]+>", "", fragment)))


def _body_blocks(it: Item) -> list[str]:
    """What a reader sees of the article's body, all parts in order: the text of every non-empty
    ``<p>`` and every data-table row (its cells joined by ``" | "``), the attachment-link paragraphs
    (``附件1：….xls``, the 公文 layout's attachment lines) included; the same as ``it.paragraphs`` with
    the table rows and the attachment lines among them."""
    attachment_paths = {a["path"] for a in it.attachments}
    blocks, attachment_lines = [], set()
    for part in it.parts:
        for found in _BLOCK.finditer(part):
            para, table = found.groups()
            if table is not None:
                blocks += [" | ".join(_html_text(c) for c in _CELL.findall(row)) for row in _ROW.findall(table)]
                continue
            text = _html_text(para)
            if not text:
                continue
            if any(f'href="{path}"' in para for path in attachment_paths):
                if not text.startswith("附件"):
                    raise AssertionError(f"article {it.id}: attachment line {text!r} is no 附件 line")
                attachment_lines.add(text)
            blocks.append(text)
    rows = {b for b in blocks if " | " in b}
    if [b for b in blocks if b not in rows and b not in attachment_lines] != it.paragraphs:
        raise AssertionError(f"article {it.id}: the body's blocks are not its paragraphs")
    return blocks


def _truth(ident: SiteIdentity, seed: int, items: list[Item], paths: Callable[[Item], list[str]],
           precision: str, columns: list[dict[str, Any]], single_pages: list[dict[str, Any]]) -> dict[str, Any]:
    articles = []
    for it in sorted(items, key=lambda x: x.id):
        parts = paths(it)
        articles.append({
            "id": it.id, "column": next(c["name"] for c in columns if c["key"] == it.column), "path": parts[0],
            "parts": parts, "title": it.title, "published_at": _iso(it.published, precision),
            "published_at_precision": precision, "index_number": None, "publisher": None, "written_date": None,
            "document_number": None, "body_paragraphs": it.paragraphs, "body_blocks": _body_blocks(it),
            "attachments": it.attachments})
    return {"seed": seed, "site": {"code": ident.code, "name": ident.name, "platform": ident.cms,
                                   "origin": ident.origin},
            "columns": [{k: v for k, v in c.items() if k != "key"} for c in columns],
            "articles": articles, "single_pages": single_pages}


def _single_page(column: str, path: str, title: str, paragraphs: list[str]) -> tuple[dict[str, Any], str]:
    """A single-page column's truth entry and its body HTML."""
    body = "\n".join(f'<p style="text-indent:2em">{_esc(p)}</p>' for p in paragraphs)
    return {"column": column, "path": path, "title": title, "body_paragraphs": paragraphs}, body


def _about(ident: SiteIdentity) -> list[str]:
    return [f"{ident.name}是区委、区政府的工作机构，负责贯彻落实上级部署，统筹推进本领域各项工作。",
            "主要职责：拟订并组织实施本领域发展规划和政策措施；组织开展调查研究，提出工作建议。",
            "内设机构：办公室、业务科、综合科。办公地址：北仑区新碶街道长江路1166号。"]


def _contact(ident: SiteIdentity) -> list[str]:
    return [f"单位名称：{ident.name}", "办公地址：北仑区新碶街道长江路1166号行政中心", "联系电话：0574-86781234",
            "办公时间：工作日上午8:30-12:00，下午14:00-17:30"]


def _gbk_safe(texts: list[str]) -> None:
    """GBK sites: every text must survive GBK bytes decoded as GB18030 (what a reader does)."""
    for text in texts:
        if text.encode("gbk").decode("gb18030") != text:
            raise ValueError(f"not GBK round-trip safe: {text!r}")


# ============================================================================================ PbootCMS
PBOOT_PER_PAGE = 6
PBOOT_COLUMNS = [("tzgg", "通知公告"), ("zcfg", "政策法规"), ("gzdt", "工作动态")]
PBOOT_CATMAP = {1: "tzgg", 4: "tzgg", 2: "zcfg", 5: "zcfg", 3: "gzdt"}


def generate_pbootcms(out_dir: Path, seed: int = 2024) -> Path:
    """Write ``site.json`` (what ``cms_php/pbootcms/router.php`` renders), ``static/upload/`` and
    ``truth.json`` into *out_dir*."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(out_dir / "static", ignore_errors=True)

    def upload(d: datetime, n: int, ext: str) -> str:
        return f"/static/upload/file/{d:%Y%m%d}/{int(d.timestamp())}{n:06d}.{ext}"

    items = _items(PBOOT, seed, PBOOT_CATMAP, upload, False, out_dir)
    (out_dir / "static/upload/image/20180412").mkdir(parents=True, exist_ok=True)
    (out_dir / "static/upload/image/20180412/1523501459462835.jpg").write_bytes(GIF_1PX)
    singles = []
    pages = {}
    for key, name, paras in (("jgzn", "机构职能", _about(PBOOT)), ("lxwm", "联系我们", _contact(PBOOT))):
        truth, body = _single_page(name, f"/?{key}/", name, paras)
        singles.append(truth)
        pages[key] = {"name": name, "content": body}
    columns = []
    for key, name in PBOOT_COLUMNS:
        count = sum(1 for it in items if it.column == key)
        columns.append({"key": key, "name": name, "url": f"/?{key}/", "count": count,
                        "pages": _pages(count, PBOOT_PER_PAGE)})
    _write_json(out_dir / "site.json", {
        "name": PBOOT.name, "per_page": PBOOT_PER_PAGE,
        "nav": [("jgzn", "机构职能"), *PBOOT_COLUMNS, ("lxwm", "联系我们")],
        "columns": dict(PBOOT_COLUMNS), "pages": pages,
        "articles": [{"id": it.id, "scode": it.column, "title": it.title, "date": f"{it.published:%Y-%m-%d %H:%M:%S}",
                      "source": it.source, "visits": it.hits, "content": it.parts[0]}
                     for it in _newest_first(items)],
    })
    _write_json(out_dir / "truth.json", _truth(PBOOT, seed, items, lambda it: [f"/?{it.column}/{it.id}.html"],
                                               "day", columns, singles))
    return out_dir


# ============================================================================================ DedeCMS
DEDE_PER_PAGE = 6
# key: (typeid, name, typedir, in the top nav)
DEDE_TYPES = {"xhdt": (1, "学会动态", "/a/xhdt"), "tzgg": (2, "通知公告", "/a/tzgg"), "zwgk": (3, "政务公开", "/a/zwgk"),
              "zcwj": (4, "政策文件", "/a/zwgk/zcwj"), "rsrm": (5, "人事任免", "/a/zwgk/rsrm")}
DEDE_LISTS = ["xhdt", "tzgg", "zcwj", "rsrm"]
DEDE_COVER_CHILDREN = ["zcwj", "rsrm"]
DEDE_TOP = ["xhdt", "tzgg", "zwgk"]
DEDE_CATMAP = {3: "xhdt", 1: "tzgg", 2: "zcwj", 5: "zcwj", 4: "rsrm"}
DEDE_POWERBY = ('Powered by <a href="http://www.dedecms.com" title="织梦内容管理系统(DedeCms)--国内最专业的PHP网站管理系统，'
                '轻松建站的首选利器。" target="_blank"><strong>DedeCMS_V57_GBK_SP2</strong></a> &copy; 2004-2011 '
                '<a href="http://www.desdev.cn/" target="_blank">DesDev</a> Inc.')
DEDE_ROBOTS = """User-agent: *
Disallow: /plus/ad_js.php
Disallow: /plus/advancedsearch.php
Disallow: /plus/car.php
Disallow: /plus/carbuyaction.php
Disallow: /plus/shops_buyaction.php
Disallow: /plus/erraddsave.php
Disallow: /plus/posttocar.php
Disallow: /plus/disdls.php
Disallow: /plus/feedback_js.php
Disallow: /plus/mytag_js.php
Disallow: /plus/rss.php
Disallow: /plus/search.php
Disallow: /plus/recommend.php
Disallow: /plus/stow.php
Disallow: /plus/count.php
Disallow: /include
Disallow: /templets
"""


def _dede_cut(title: str, nbytes: int = 60) -> str:
    """``cn_substr``: at most ``nbytes`` GBK bytes, no mark."""
    out, used = "", 0
    for ch in title:
        size = len(ch.encode("gbk"))
        if used + size > nbytes:
            break
        out, used = out + ch, used + size
    return out


def _dede_head(title: str, extra: str = "") -> str:
    nav = "".join(f"<li><a href='{DEDE_TYPES[k][2]}/'><span>{DEDE_TYPES[k][1]}</span></a></li>" for k in DEDE_TOP)
    return f"""<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">
<html xmlns="http://www.w3.org/1999/xhtml">
<head>
<meta http-equiv="Content-Type" content="text/html; charset=gb2312" />
<title>{_esc(title)}</title>
<meta name="keywords" content="" />
<meta name="description" content="" />
<link href="/templets/default/style/dedecms.css" rel="stylesheet" media="screen" type="text/css" />
{extra}</head>
<body>
<div class="header_top">
  <div class="w960 center">
    <span id="time" class="time">织梦CMS - 轻松建站从此开始！</span>
    <div class="toplinks"><a href="/plus/heightsearch.php" target="_blank">高级搜索</a>|<a href="/data/sitemap.html" target="_blank">网站地图</a>|<a href="/tags.php">TAG标签</a><a href="/data/rssmap.html" class="rss">RSS订阅</a></div>
  </div>
</div>
<div class="header">
  <div class="top w960 center">
    <div class="title"><h1><a href="/"><img src="/templets/default/images/logo.gif" height="54" width="216" alt="{DEDE.name}"/></a></h1></div>
  </div>
  <div class="module blue mT10 wrapper w963">
    <div id="navMenu">
      <ul>
        <li><a href='/'><span>主页</span></a></li>
        {nav}<li><a href='/a/jgzn.html'><span>机构职能</span></a></li>
      </ul>
    </div>
    <div class="search">
      <form name="formsearch" action="/plus/search.php"><div class="form"><h4>搜索</h4><input type="hidden" name="kwtype" value="0" /><input name="q" type="text" class="search-keyword" id="search-keyword" value="在这里搜索..." /><button type="submit" class="search-submit">搜索</button></div></form>
    </div>
  </div>
</div>
"""


DEDE_FOOT = f"""<div class="footer w960 center mt1 clear">
  <div class="footer_left"></div>
  <div class="footer_body">
    <p class="powered">{DEDE_POWERBY}<br /><div class="copyright">Copyright &copy; 2002-2024 {DEDE.name} 版权所有&nbsp;&nbsp;浙ICP备05012345号</div></p>
  </div>
  <div class="footer_right"></div>
</div>
</body>
</html>
"""


def _dede_place(key: str) -> str:
    _typeid, name, typedir = DEDE_TYPES[key]
    trail = "<a href='/'>主页</a> > "
    if typedir.count("/") > 2:
        parent = DEDE_TYPES["zwgk"]
        trail += f"<a href='{parent[2]}/'>{parent[1]}</a> > "
    return trail + f"<a href='{typedir}/'>{name}</a> > "


def _dede_pagelist(typeid: int, page: int, pages: int, total: int) -> str:
    def rule(k: int) -> str:
        return f"list_{typeid}_{k}.html"

    out = [f'<li><span class="pageinfo">共 <strong>{pages}</strong>页<strong>{total}</strong>条</span></li>\n']
    if page != 1:
        out.append(f"<li><a href='{rule(1)}'>首页</a></li>\n<li><a href='{rule(page - 1)}'>上一页</a></li>\n")
    else:
        out.append("<li>首页</li>\n")
    for k in range(1, pages + 1):
        out.append(f'<li class="thisclass">{k}</li>\n' if k == page else f"<li><a href='{rule(k)}'>{k}</a></li>\n")
    if page != pages and pages > 1:
        out.append(f"<li><a href='{rule(page + 1)}'>下一页</a></li>\n<li><a href='{rule(pages)}'>末页</a></li>\n")
    else:
        out.append("<li>末页</li>\n")
    return "".join(out)


def _dede_article_url(it: Item, part: int = 1) -> str:
    tail = "" if part == 1 else f"_{part}"
    return f"{DEDE_TYPES[it.column][2]}/{it.published:%Y}/{it.published:%m%d}/{it.id}{tail}.html"


def _dede_list(key: str, rows: list[Item], page: int, pages: int, total: int) -> str:
    typeid, name, typedir = DEDE_TYPES[key]
    lis = "".join(
        f"<li>[<b><a href='{typedir}/'>{name}</a></b>] <a href=\"{_dede_article_url(it)}\" class=\"title\">"
        f"{_esc(_dede_cut(it.title))}</a><span class=\"info\"><small>日期：</small>{it.published:%Y-%m-%d %H:%M:%S}"
        f"<small>点击：</small>{it.hits}<small>好评：</small>0</span><p class=\"intro\">{_esc(it.paragraphs[0][:60])}..."
        f"</p></li>\n" for it in rows)
    return (_dede_head(f"{name}_{DEDE.name}") + f"""<div class="channel-nav w960 center clear"><div class="sonnav"></div></div>
<div class="w960 center clear mt1">
<div class="pleft">
  <div class="place"><strong>当前位置:</strong> {_dede_place(key)}</div>
  <div class="listbox">
    <ul class="e2">
{lis}    </ul>
  </div>
  <div class="dede_pages">
    <ul class="pagelist">
{_dede_pagelist(typeid, page, pages, total)}    </ul>
  </div>
</div>
<div class="pright"><div class="commend mt1"><dl class="tbox light"><dt class="light"><strong>推荐内容</strong></dt><dd class="light"><ul class="d4"></ul></dd></dl></div></div>
</div>
""" + DEDE_FOOT)


def _dede_pagebreak(it: Item, part: int, total: int) -> str:
    def url(k: int) -> str:
        return f"{it.id}.html" if k == 1 else f"{it.id}_{k}.html"

    out = [f"<li><a>共{total}页: </a></li>"]
    out.append("<li><a href='#'>上一页</a></li>" if part == 1 else f"<li><a href='{url(part - 1)}'>上一页</a></li>")
    for k in range(1, total + 1):
        out.append(f'<li class="thisclass"><a href=\'#\'>{k}</a></li>' if k == part
                   else f"<li><a href='{url(k)}'>{k}</a></li>")
    out.append(f"<li><a href='{url(part + 1)}'>下一页</a></li>" if part < total else "<li><a href='#'>下一页</a></li>")
    return "".join(out)


def _dede_detail(it: Item, part: int, prev: Item | None, nxt: Item | None) -> str:
    key = it.column
    total = len(it.parts)
    pre = (f"上一篇：<a href='{_dede_article_url(prev)}'>{_esc(prev.title)}</a> " if prev else "上一篇：没有了 ")
    nex = (f"下一篇：<a href='{_dede_article_url(nxt)}'>{_esc(nxt.title)}</a> " if nxt else "下一篇：没有了 ")
    pagebreak = _dede_pagebreak(it, part, total) if total > 1 else ""
    return (_dede_head(f"{it.title}_{DEDE.name}") + f"""<div class="w960 center clear mt1">
<div class="pleft">
  <div class="place"><strong>当前位置:</strong> {_dede_place(key)}</div>
  <div class="viewbox">
    <div class="title"><h2>{_esc(it.title)}</h2></div>
    <div class="info">
      <small>时间:</small>{it.published:%Y-%m-%d %H:%M}<small>来源:</small>{_esc(it.source)} <small>作者:</small>admin <small>点击:</small><script src="/plus/count.php?view=yes&aid={it.id}&mid=1" type='text/javascript' language="javascript"></script> 次
    </div>
    <div class="intro">{_esc(it.paragraphs[0][:60])}</div>
    <div class="content">
      <table width='100%'>
        <tr>
          <td>
{it.parts[part - 1]}
(责任编辑：admin)
          </td>
        </tr>
      </table>
    </div>
    <div class="dede_pages">
      <ul class="pagelist">
        {pagebreak}
      </ul>
    </div>
    <div class="boxoff"><strong>------分隔线----------------------------</strong></div>
    <div class="handle">
      <div class="context">
        <ul>
          <li>{pre}</li>
          <li>{nex}</li>
        </ul>
      </div>
      <div class="actbox">
        <ul>
          <li id="act-fav"><a href="/plus/stow.php?aid={it.id}" target="_blank">收藏</a></li>
          <li id="act-pus"><a href="/plus/recommend.php?aid={it.id}" target="_blank">推荐</a></li>
          <li id="act-pnt"><a href="#" onClick="window.print();">打印</a></li>
        </ul>
      </div>
    </div>
  </div>
</div>
</div>
""" + DEDE_FOOT)


def _dede_single(title: str, body: str) -> str:
    return (_dede_head(f"{title}_{DEDE.name}") + f"""<div class="w960 center clear mt1">
<div class="pleft">
  <div class="place"><strong>当前位置:</strong> <a href='/'>主页</a> > {title}</div>
  <div class="viewbox">
    <div class="title"><h2>{_esc(title)}</h2></div>
    <div class="content">
{body}
    </div>
  </div>
</div>
</div>
""" + DEDE_FOOT)


def _dede_box(key: str, rows: list[Item], more: bool = True) -> str:
    _, name, typedir = DEDE_TYPES[key]
    lis = "".join(f"<li><span>{it.published:%m-%d}</span><a href=\"{_dede_article_url(it)}\">"
                  f"{_esc(_dede_cut(it.title, 48))}</a></li>\n" for it in rows[:5])
    more_link = f"<span class=\"more\"><a href=\"{typedir}/\">更多...</a></span>" if more else ""
    return (f"<dl class=\"tbox\"><dt><strong><a href=\"{typedir}/\">{name}</a></strong>{more_link}</dt>"
            f"<dd><ul class=\"d1 ico3\">\n{lis}</ul></dd></dl>\n")


def generate_dedecms(out_dir: Path, seed: int = 2024) -> Path:
    """Publish the DedeCMS site to ``out_dir/www/`` (GBK) and write ``truth.json``."""
    out_dir = Path(out_dir)
    www = out_dir / "www"
    shutil.rmtree(www, ignore_errors=True)
    www.mkdir(parents=True)

    def upload(d: datetime, n: int, ext: str) -> str:
        return f"/uploads/soft/{d:%y%m%d}/1-{d:%y%m%d%H%M}{n % 100:02d}.{ext}"

    items = _items(DEDE, seed, DEDE_CATMAP, upload, True, www)
    _gbk_safe([t for it in items for t in (it.title, it.source, *it.parts)])

    def put(rel: str, text: str) -> None:
        target = www / rel.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(text.encode("gbk"))

    lists = {k: _newest_first([it for it in items if it.column == k]) for k in DEDE_LISTS}
    for rows in lists.values():
        for i, it in enumerate(rows):  # 上一篇 is the older one, as DedeCMS orders by id
            older, newer = (rows[i + 1] if i + 1 < len(rows) else None), (rows[i - 1] if i else None)
            for part in range(1, len(it.parts) + 1):
                put(_dede_article_url(it, part), _dede_detail(it, part, older, newer))
    columns = []
    for key in DEDE_LISTS:
        typeid, name, typedir = DEDE_TYPES[key]
        rows = lists[key]
        pages = _pages(len(rows), DEDE_PER_PAGE)
        for page in range(1, pages + 1):
            text = _dede_list(key, rows[(page - 1) * DEDE_PER_PAGE:page * DEDE_PER_PAGE], page, pages, len(rows))
            put(f"{typedir}/list_{typeid}_{page}.html", text)
            if page == 1:  # the column's default page (默认页名称 index.html)
                put(f"{typedir}/index.html", text)
        columns.append({"key": key, "name": name, "url": f"{typedir}/", "count": len(rows), "pages": pages})
    cover = "".join(_dede_box(k, lists[k]) for k in DEDE_COVER_CHILDREN)
    put("/a/zwgk/index.html", _dede_head(f"政务公开_{DEDE.name}") + f"""<div class="w960 center clear mt1">
<div class="pleft">
  <div class="place"><strong>当前位置:</strong> <a href='/'>主页</a> > <a href='/a/zwgk/'>政务公开</a> > </div>
  <div class="listbox">
{cover}  </div>
</div>
</div>
""" + DEDE_FOOT)
    truth_single, body = _single_page("机构职能", "/a/jgzn.html", "机构职能", _about(DEDE))
    put("/a/jgzn.html", _dede_single("机构职能", body))
    home = "".join(_dede_box(k, lists[k]) for k in ("xhdt", "tzgg"))
    put("/index.html", _dede_head(DEDE.name) + f"""<div class="index_box w960 center clear mt1">
<div class="pleft">
{home}</div>
<div class="pright"><dl class="tbox"><dt><strong>政务公开</strong><span class="more"><a href="/a/zwgk/">更多...</a></span></dt></dl></div>
</div>
""" + DEDE_FOOT)
    sitemap = "".join(f"<a href='{DEDE_TYPES[k][2]}/'>{DEDE_TYPES[k][1]}</a>\n" for k in DEDE_TYPES)
    put("/data/sitemap.html", _dede_head(f"网站地图_{DEDE.name}") + f"""<div class="w960 center clear mt1">
<div class="linkbox"><h3>网站地图</h3>
{sitemap}</div>
</div>
""" + DEDE_FOOT)
    put("/data/rssmap.html", _dede_head(f"RSS订阅_{DEDE.name}") + "<div class=\"w960\">RSS</div>\n" + DEDE_FOOT)
    urls = "".join(f"<url><loc>{DEDE.origin}{DEDE_TYPES[k][2]}/</loc></url>\n" for k in DEDE_TYPES)
    urls += "".join(f"<url><loc>{DEDE.origin}{_dede_article_url(it)}</loc><lastmod>{it.published:%Y-%m-%d}</lastmod></url>\n"
                    for it in sorted(items, key=lambda x: x.id))
    (www / "sitemap.xml").write_text('<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/'
                                     f'schemas/sitemap/0.9">\n{urls}</urlset>\n', encoding="utf-8")
    (www / "robots.txt").write_text(DEDE_ROBOTS, encoding="ascii")
    for rel in ("templets/default/style/dedecms.css", "templets/default/images/logo.gif"):
        (www / rel).parent.mkdir(parents=True, exist_ok=True)
    (www / "templets/default/style/dedecms.css").write_text("body{font:12px/1.5 Verdana,宋体;}\n", encoding="gbk")
    (www / "templets/default/images/logo.gif").write_bytes(GIF_1PX)
    _write_json(out_dir / "site.json", {"cms": "dedecms", "ids": [it.id for it in items]})
    _write_json(out_dir / "truth.json", _truth(
        DEDE, seed, items, lambda it: [_dede_article_url(it, k) for k in range(1, len(it.parts) + 1)], "second",
        columns, [truth_single]))
    return out_dir


# ============================================================================================ PHPCMS
PHPCMS_PER_PAGE = 8
PHPCMS_CATS = [(6, "工作动态"), (7, "通知公告"), (8, "政策法规")]
PHPCMS_PAGE_CAT = (9, "妇联简介")
PHPCMS_CATMAP = {3: "6", 1: "7", 4: "7", 2: "8", 5: "8"}


def _phpcms_show(catid: str, aid: int, part: int = 1) -> str:
    tail = "" if part == 1 else f"&page={part}"
    return f"/index.php?m=content&c=index&a=show&catid={catid}&id={aid}{tail}"


def generate_phpcms(out_dir: Path, seed: int = 2024, app_path: str | None = None) -> Path:
    """Write ``site.json`` (what ``cms_php/phpcms/router.php`` renders, in GBK), ``uploadfile/`` and
    ``truth.json`` into *out_dir*; ``app_path`` (e.g. ``"http://fl.bl.gov.cn/"``) is the address
    every link starts with (default: the host each request came to)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(out_dir / "uploadfile", ignore_errors=True)

    def upload(d: datetime, n: int, ext: str) -> str:
        return f"/uploadfile/{d:%Y}/{d:%m%d}/{d:%Y%m%d%H%M%S}{n % 1000:03d}.{ext}"

    items = _items(PHPCMS, seed, PHPCMS_CATMAP, upload, True, out_dir)
    _gbk_safe([t for it in items for t in (it.title, it.source, *it.parts)])
    truth_single, body = _single_page(PHPCMS_PAGE_CAT[1], f"/index.php?m=content&c=index&a=lists&catid={PHPCMS_PAGE_CAT[0]}",
                                      PHPCMS_PAGE_CAT[1], _about(PHPCMS))
    columns = []
    for catid, name in PHPCMS_CATS:
        count = sum(1 for it in items if it.column == str(catid))
        columns.append({"key": str(catid), "name": name, "url": f"/index.php?m=content&c=index&a=lists&catid={catid}",
                        "count": count, "pages": _pages(count, PHPCMS_PER_PAGE)})
    _write_json(out_dir / "site.json", {
        "name": PHPCMS.name, "per_page": PHPCMS_PER_PAGE, **({"app_path": app_path} if app_path else {}),
        "categories": {str(c): n for c, n in PHPCMS_CATS},
        "page": {"catid": str(PHPCMS_PAGE_CAT[0]), "title": PHPCMS_PAGE_CAT[1], "content": body},
        "articles": [{"id": it.id, "catid": it.column, "title": it.title, "inputtime": f"{it.published:%Y-%m-%d %H:%M:%S}",
                      "copyfrom": it.source, "parts": it.parts} for it in _newest_first(items)],
    })
    _write_json(out_dir / "truth.json", _truth(
        PHPCMS, seed, items, lambda it: [_phpcms_show(it.column, it.id, k) for k in range(1, len(it.parts) + 1)],
        "second", columns, [truth_single]))
    return out_dir


# ============================================================================================ EmpireCMS
EMPIRE_PER_PAGE = 7
# key: (classid, name, static classpath or None for a dynamic list)
EMPIRE_CLASSES = {"jddt": (2, "街道动态", "news/jddt"), "tzgg": (3, "通知公告", None), "zcfg": (4, "政策法规", "news/zcfg")}
EMPIRE_CATMAP = {3: "jddt", 1: "tzgg", 4: "tzgg", 2: "zcfg", 5: "zcfg"}
# what EmpireCMS sites commonly publish: the system folders and the counter, not /e/action/ (dynamic lists)
EMPIRE_ROBOTS = """User-agent: *
Disallow: /e/class/
Disallow: /e/data/
Disallow: /e/enews/
Disallow: /e/admin/
Disallow: /e/public/
Disallow: /e/member/
Disallow: /e/search/
Disallow: /d/txt/
"""
EMPIRE_POWERBY = ('Powered by <a href="http://www.phome.net" target="_blank"><strong>Empire</strong></a>'
                  '<strong><font color="#FF9900">CMS</font></strong>')


def _empire_url(it: Item, part: int = 1) -> str:
    tail = "" if part == 1 else f"_{part}"
    classpath = EMPIRE_CLASSES[it.column][2] or f"news/{it.column}"  # content pages are static for every class
    return f"/{classpath}/{it.published:%Y-%m-%d}/{it.id}{tail}.html"


def _empire_list_url(key: str) -> str:
    classid, _, classpath = EMPIRE_CLASSES[key]
    return f"/{classpath}/" if classpath else f"/e/action/ListInfo/?classid={classid}"


def _empire_head(title: str) -> str:
    nav = "".join(f'<a href="{_empire_list_url(k)}">{v[1]}</a> | ' for k, v in EMPIRE_CLASSES.items())
    return f"""<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">
<html xmlns="http://www.w3.org/1999/xhtml">
<head>
<meta http-equiv="Content-Type" content="text/html; charset=gb2312" />
<title>{_esc(title)}</title>
<meta name="keywords" content="" />
<meta name="description" content="" />
<link href="/skin/default/css/style.css" rel="stylesheet" type="text/css" />
<script type="text/javascript" src="/e/data/js/ajax.js"></script>
</head>
<body class="listpage">
<table width="100%" border="0" cellspacing="0" cellpadding="0" class="top">
  <tr><td><div class="logo"><a href="/"><img src="/skin/default/images/logo.gif" width="200" height="65" border="0" alt="{EMPIRE.name}" /></a></div>
  <div class="login"><script>document.write('<script src="/e/member/login/loginjs.php?t='+Math.random()+'"><'+'/script>');</script></div></td></tr>
</table>
<table width="100%" border="0" cellspacing="0" cellpadding="0" class="nav">
  <tr><td class="nav_global"><ul><li class="curr" id="nav_index"><a href="/">首页</a></li></ul>
  <a href="/">首页</a> | {nav}<a href="/about/jdgk.html">街道概况</a></td></tr>
</table>
<table width="100%" border="0" cellspacing="10" cellpadding="0">
  <tr><td><form action="/e/search/index.php" method="post" name="searchform" id="searchform"><input name="keyboard" type="text" size="32" id="keyboard" class="inputText" /><input type="hidden" name="show" value="title" /><input type="hidden" name="tempid" value="1" /><input type="submit" value="搜索" /></form></td></tr>
</table>
"""


EMPIRE_FOOT = f"""<table width="100%" border="0" cellspacing="0" cellpadding="0" class="copyright">
  <tr><td align="center">{EMPIRE_POWERBY}<br />Copyright &copy; 2024 {EMPIRE.name} 版权所有 浙ICP备05054321号</td></tr>
</table>
</body>
</html>
"""


def _empire_listpage(page: int, pages: int, total: int, url: Callable[[int], str]) -> str:
    """``[!--show.listpage--]`` (1-based ``page``): total, 首页/上一页 from page 2, numbers with the
    current in ``<b>``, 下一页/尾页 before the last page."""
    out = [f'<a title="总数">&nbsp;<b>{total}</b> </a>&nbsp;&nbsp;']
    if page > 1:
        out.append(f'<a href="{url(1)}">首页</a>&nbsp;<a href="{url(page - 1)}">上一页</a>&nbsp;')
    for k in range(1, pages + 1):
        out.append(f"<b>{k}</b>&nbsp;" if k == page else f'<a href="{url(k)}">{k}</a>&nbsp;')
    if page < pages:
        out.append(f'<a href="{url(page + 1)}">下一页</a>&nbsp;<a href="{url(pages)}">尾页</a>')
    return "".join(out)


def _empire_rows(rows: list[Item]) -> str:
    return "".join(f'<li><span>{it.published:%Y-%m-%d}</span><a href="{_empire_url(it)}" title="{_esc(it.title)}" '
                   f'target="_blank">{_esc(it.title[:26])}</a></li>\n' for it in rows)


def _empire_list(key: str, rows_html: str, pager: str) -> str:
    _, name, _ = EMPIRE_CLASSES[key]
    return (_empire_head(f"{name}_{EMPIRE.name}") + f"""<table width="100%" border="0" cellspacing="10" cellpadding="0">
  <tr valign="top"><td class="list_content">
    <table width="100%" border="0" cellspacing="0" cellpadding="0" class="position"><tr><td>现在的位置：<a href="/">首页</a>&nbsp;>&nbsp;<a href="{_empire_list_url(key)}">{name}</a></td></tr></table>
    <table width="100%" border="0" cellspacing="0" cellpadding="0" class="box"><tr><td>
      <ul class="news_list">
{rows_html}      </ul>
    </td></tr></table>
    <div class="listpage">{pager}</div>
  </td></tr>
</table>
""" + EMPIRE_FOOT)


def _empire_detail(it: Item, part: int, prev: Item | None, nxt: Item | None) -> str:
    classid, name, _ = EMPIRE_CLASSES[it.column]
    total = len(it.parts)
    pager = ""
    if total > 1:
        pager = f'<a title="Page">&nbsp;<b>{part}</b>/<b>{total}</b>&nbsp;</a>&nbsp;&nbsp;'
        if part > 1:
            pager += f'<a href="{_empire_url(it, part - 1)}">上一页</a>&nbsp;'
        for k in range(1, total + 1):
            pager += f"<b>{k}</b>&nbsp;" if k == part else f'<a href="{_empire_url(it, k)}">{k}</a>&nbsp;'
        if part < total:
            pager += f'<a href="{_empire_url(it, part + 1)}">下一页</a>'
    pre = f'<a href="{_empire_url(prev)}">{_esc(prev.title)}</a>' if prev else "没有了"
    nex = f'<a href="{_empire_url(nxt)}">{_esc(nxt.title)}</a>' if nxt else "没有了"
    return (_empire_head(f"{it.title}_{EMPIRE.name}") + f"""<table width="100%" border="0" cellspacing="10" cellpadding="0">
  <tr valign="top"><td class="news_content">
    <table width="100%" border="0" cellspacing="0" cellpadding="0" class="position"><tr><td>现在的位置：<a href="/">首页</a>&nbsp;>&nbsp;<a href="{_empire_list_url(it.column)}">{name}</a></td></tr></table>
    <table width="100%" border="0" cellspacing="0" cellpadding="0" class="box"><tr><td>
      <h1>{_esc(it.title)}</h1>
      <div class="info">发布时间：{it.published:%Y-%m-%d %H:%M:%S}&nbsp;&nbsp;来源：{_esc(it.source)}&nbsp;&nbsp;点击：<script src=/e/public/ViewClick/?classid={classid}&id={it.id}&addclick=1></script>次</div>
      <div id="text">
{it.parts[part - 1]}
<p align="center" class="pageLink">{pager}</p>
      </div>
      <div class="info_pre_next">上一篇：{pre}<br />下一篇：{nex}</div>
    </td></tr></table>
  </td></tr>
</table>
""" + EMPIRE_FOOT)


def generate_empirecms(out_dir: Path, seed: int = 2024) -> Path:
    """Publish the EmpireCMS site to ``out_dir/www/`` (GBK), write ``site.json`` (the dynamic list
    and the counters' classes) and ``truth.json``."""
    out_dir = Path(out_dir)
    www = out_dir / "www"
    shutil.rmtree(www, ignore_errors=True)
    www.mkdir(parents=True)

    def upload(d: datetime, n: int, ext: str) -> str:
        return f"/d/file/p/{d:%Y-%m-%d}/{random.Random(f'{d}-{n}').getrandbits(128):032x}.{ext}"

    items = _items(EMPIRE, seed, EMPIRE_CATMAP, upload, True, www)
    _gbk_safe([t for it in items for t in (it.title, it.source, *it.parts)])

    def put(rel: str, text: str) -> None:
        target = www / rel.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(text.encode("gbk"))

    lists = {k: _newest_first([it for it in items if it.column == k]) for k in EMPIRE_CLASSES}
    for rows in lists.values():
        for i, it in enumerate(rows):
            older, newer = (rows[i + 1] if i + 1 < len(rows) else None), (rows[i - 1] if i else None)
            for part in range(1, len(it.parts) + 1):
                put(_empire_url(it, part), _empire_detail(it, part, older, newer))
    columns = []
    dynamic = {}
    for key, (classid, name, classpath) in EMPIRE_CLASSES.items():
        rows = lists[key]
        pages = _pages(len(rows), EMPIRE_PER_PAGE)
        if classpath:
            for page in range(1, pages + 1):
                def url(k: int, classpath: str = classpath) -> str:
                    return f"/{classpath}/index.html" if k == 1 else f"/{classpath}/index_{k}.html"
                rows_html = _empire_rows(rows[(page - 1) * EMPIRE_PER_PAGE:page * EMPIRE_PER_PAGE])
                put(url(page), _empire_list(key, rows_html, _empire_listpage(page, pages, len(rows), url)))
        else:  # rendered by PHP: the page's head and foot, and its rows
            shell = _empire_list(key, "<!--rows-->", "<!--pager-->")
            dynamic[str(classid)] = {"shell": shell, "rows": [_empire_rows([it]) for it in rows]}
        columns.append({"key": key, "name": name, "url": _empire_list_url(key), "count": len(rows), "pages": pages})
    truth_single, body = _single_page("街道概况", "/about/jdgk.html", "街道概况", _about(EMPIRE))
    put("/about/jdgk.html", _empire_head(f"街道概况_{EMPIRE.name}") + f"""<table width="100%" border="0" cellspacing="10" cellpadding="0">
  <tr valign="top"><td class="news_content">
      <h1>街道概况</h1>
      <div id="text">
{body}
      </div>
  </td></tr>
</table>
""" + EMPIRE_FOOT)
    boxes = "".join(f'<div class="box"><h3><a href="{_empire_list_url(k)}">{EMPIRE_CLASSES[k][1]}</a></h3><ul>'
                    + _empire_rows(lists[k][:5]) + "</ul></div>\n" for k in EMPIRE_CLASSES)
    put("/index.html", _empire_head(EMPIRE.name) + boxes + EMPIRE_FOOT)
    (www / "robots.txt").write_text(EMPIRE_ROBOTS, encoding="ascii")
    for rel, data in (("skin/default/css/style.css", b"body{font:12px/1.6 \"\xcb\xce\xcc\xe5\";}\n"),
                      ("skin/default/images/logo.gif", GIF_1PX), ("e/data/js/ajax.js", b"function ajaxShowPost(){}\n")):
        (www / rel).parent.mkdir(parents=True, exist_ok=True)
        (www / rel).write_bytes(data)
    _write_json(out_dir / "site.json", {"cms": "empirecms", "per_page": EMPIRE_PER_PAGE, "dynamic": dynamic})
    _write_json(out_dir / "truth.json", _truth(
        EMPIRE, seed, items, lambda it: [_empire_url(it, k) for k in range(1, len(it.parts) + 1)], "second",
        columns, [truth_single]))
    return out_dir


# ============================================================================================ servers
def read_counters(data_dir: Path) -> dict[str, dict[str, int]]:
    """The view counters the site's pages load as scripts (DedeCMS ``/plus/count.php``, PHPCMS
    ``api.php?op=count``, EmpireCMS ``/e/public/ViewClick/``): ``{"count": {key: hits}}``, by
    article; every request counts, HEAD included. Empty before the first hit."""
    path = Path(data_dir) / "counters.json"
    if not path.is_file():
        return {"count": {}}
    data: dict[str, dict[str, int]] = json.loads(path.read_text(encoding="utf-8") or "{}")
    data.setdefault("count", {})
    return data


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as resp:
            return bool(resp.status)
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False


@contextmanager
def cms_server(cms: str, data_dir: Path, host: str = "127.0.0.1", port: int | None = None) -> Iterator[str]:
    """Serve the *cms* fixture site for *data_dir* with ``php -S`` and ``cms_php/<cms>/router.php``;
    yield ``http://host:port``; stop the server (its process group) on exit."""
    data_dir = Path(data_dir).resolve()
    if not (data_dir / "site.json").is_file():
        raise FileNotFoundError(f"{data_dir}/site.json not found; run: python -m fixture_sites.cms_sites {cms} "
                                f"{data_dir} --generate")
    php = find_php()
    if port is None:
        port = free_port(host)
    else:
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
                s.bind((host, port))
        except OSError as e:
            raise RuntimeError(f"cannot serve the {cms} fixture site on {host}:{port}: {e}") from e
    root = CMS_PHP_DIR / cms
    env = dict(os.environ, CMS_DATA_DIR=str(data_dir))
    env.pop("PHP_CLI_SERVER_WORKERS", None)
    base_url = f"http://{host}:{port}"
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen([php, "-S", f"{host}:{port}", "-t", str(root), str(root / "router.php")],
                                cwd=root, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)
        try:
            deadline = time.monotonic() + STARTUP_TIMEOUT
            while not (_answers(base_url + "/robots.txt") and proc.poll() is None):
                if proc.poll() is not None or time.monotonic() > deadline:
                    _stop(proc)
                    log.seek(0)
                    output = log.read().decode("utf-8", "replace").strip()
                    raise RuntimeError(f"php -S for {cms} on {host}:{port} did not start; php output:\n{output or '(none)'}")
                time.sleep(0.05)
            yield base_url
        finally:
            _stop(proc)


def pbootcms_server(data_dir: Path, host: str = "127.0.0.1", port: int | None = None) -> contextlib.AbstractContextManager[str]:
    """Serve the PbootCMS site (kjj) of :func:`generate_pbootcms`; yield its base URL."""
    return cms_server("pbootcms", data_dir, host, port)


def dedecms_server(data_dir: Path, host: str = "127.0.0.1", port: int | None = None) -> contextlib.AbstractContextManager[str]:
    """Serve the DedeCMS site (kx) of :func:`generate_dedecms`; yield its base URL."""
    return cms_server("dedecms", data_dir, host, port)


def phpcms_server(data_dir: Path, host: str = "127.0.0.1", port: int | None = None) -> contextlib.AbstractContextManager[str]:
    """Serve the PHPCMS site (fl) of :func:`generate_phpcms`; yield its base URL."""
    return cms_server("phpcms", data_dir, host, port)


def empirecms_server(data_dir: Path, host: str = "127.0.0.1", port: int | None = None) -> contextlib.AbstractContextManager[str]:
    """Serve the EmpireCMS site (cxjd) of :func:`generate_empirecms`; yield its base URL."""
    return cms_server("empirecms", data_dir, host, port)


GENERATORS: dict[str, Callable[..., Path]] = {"pbootcms": generate_pbootcms, "dedecms": generate_dedecms,
                                              "phpcms": generate_phpcms, "empirecms": generate_empirecms}
IDENTITIES = {i.cms: i for i in (PBOOT, DEDE, PHPCMS, EMPIRE)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m fixture_sites.cms_sites",
                                 description="Serve a CMS fixture site (PbootCMS, DedeCMS, PHPCMS, EmpireCMS) in the foreground.")
    ap.add_argument("cms", choices=sorted(GENERATORS))
    ap.add_argument("data_dir", type=Path)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=None, help="default: a free port")
    ap.add_argument("--generate", action="store_true", help="(re)generate DATA_DIR first")
    ap.add_argument("--seed", type=int, default=2024)
    args = ap.parse_args(argv)
    if args.generate:
        GENERATORS[args.cms](args.data_dir, seed=args.seed)
    return serve_in_foreground(cms_server(args.cms, args.data_dir, host=args.host, port=args.port),
                               IDENTITIES[args.cms].code, args.data_dir)


if __name__ == "__main__":
    raise SystemExit(main())
