"""Main content of a detail page: title, body element and attachments.

Plugin selectors (hints) win; without them, heuristics tuned on government CMS pages: known
body containers (``#zoom``, ``.TRS_Editor``, ``#UCAP-CONTENT``…; of two with one id, the one
with text), else a readability-style score (text and Chinese punctuation of paragraphs,
credited to their container, scaled down by link density and by navigation-like class names;
text in a list of records - comments, replies, threads, recommended articles - counts little
and only inside its list). Hidden elements and share widgets are never title candidates. A
page of several posts in one repeated block (an archive or blog page of full posts, a forum
thread and its replies) is its first post, or the post holding the title: :func:`main_post`.
"""

from __future__ import annotations

import copy
import functools
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from pathlib import PurePosixPath
from typing import cast
from urllib.parse import parse_qsl, unquote, urljoin, urlsplit

from lxml import etree
from lxml.html import HtmlElement  # what every etree._Element here is
from parsel.csstranslator import css2xpath
from pydantic import HttpUrl, ValidationError

from normalizers.dates import find_datetime, parse_datetime
from normalizers.models import Attachment
from normalizers.sanitize import VOID_ELEMENTS
from normalizers.text import BLOCK_TAGS, DROPPED_TAGS, clean_text, paragraphs, tag_name

# ----------------------------------------------------------------------------------- bounded cost
# What one page may cost the heuristics (every pass is about linear in these; a 10 MB page took
# half a minute, a page nested 200,000 deep lost everything after libxml2's depth limit of 256).
# A page over a bound is read up to it, and the normalizer reports the bound it hit.
MAX_PAGE_CHARS = 1_000_000  # decoded characters of markup read (a long policy page has ~100,000)
MAX_ELEMENTS = 40_000  # elements kept, in document order
MAX_DEPTH = 200  # nesting kept; deeper elements are flattened into their ancestor, text kept
INLINE_DATA_MAX = 2048  # longer data: URIs (inline images) are emptied first: no content, only size

_INLINE_DATA = re.compile(r"""(["'])\s*data:[^"']{""" + str(INLINE_DATA_MAX) + r""",}\1""", re.IGNORECASE)
_MARKUP_TOKEN = re.compile(
    r"<!--.*?-->"
    r"|<(script|style|textarea|title|xmp|iframe|noembed|noframes|noscript)\b[^>]*>.*?</\1\s*>"
    r"|<(/?)([A-Za-z][^\s/>]*)[^>]*?(/?)>", re.DOTALL | re.IGNORECASE)


def bounded_markup(text: str) -> tuple[str, list[str]]:
    """``text`` within :data:`MAX_PAGE_CHARS` (cut before the tag the bound falls in; long inline
    ``data:`` URIs emptied first) and the bounds it hit, in words."""
    hit: list[str] = []
    if len(text) > MAX_PAGE_CHARS:
        text = _INLINE_DATA.sub(r"\1data:,\1", text)
    if len(text) > MAX_PAGE_CHARS:
        cut = text.rfind("<", 0, MAX_PAGE_CHARS)
        cut = cut if cut > MAX_PAGE_CHARS // 2 else MAX_PAGE_CHARS
        hit.append(f"the page has {len(text):,} characters, over MAX_PAGE_CHARS ({MAX_PAGE_CHARS:,}): "
                   f"read up to character {cut:,}")
        text = text[:cut]
    return text, hit


def flatten_deep_markup(text: str, max_depth: int = MAX_DEPTH) -> str:
    """``text`` without the tags of elements nested deeper than ``max_depth`` (their text stays,
    in order). The depth is counted as a browser would without its implied end tags (so never
    less than the parser's): comments and raw-text elements are opaque, void and self-closed
    elements do not nest, an end tag closes up to its open element and a stray one nothing."""
    out: list[str] = []
    stack: list[str] = []
    dropped: dict[str, int] = {}
    at = 0
    for match in _MARKUP_TOKEN.finditer(text):
        name = (match.group(3) or "").lower()
        if not name:
            continue  # a comment or a raw-text element: kept whole
        keep = True
        if match.group(2):  # an end tag
            if dropped.get(name):
                dropped[name] -= 1
                keep = False
            elif name in stack:
                del stack[len(stack) - 1 - stack[::-1].index(name):]
        elif len(stack) >= max_depth:
            keep = False
            if name not in VOID_ELEMENTS and not match.group(4):
                dropped[name] = dropped.get(name, 0) + 1
        elif name not in VOID_ELEMENTS and not match.group(4):
            stack.append(name)
        if not keep:
            out.append(text[at:match.start()])
            at = match.end()
    out.append(text[at:])
    return "".join(out)


def truncate_tree(root: etree._Element, max_elements: int = MAX_ELEMENTS) -> int | None:
    """Keep the first ``max_elements`` elements of ``root`` in document order, in place; the
    number there were, or None when there were not more."""
    cut = None
    count = 0
    for count, el in enumerate(root.iter(), 1):
        if count == max_elements:
            cut = el
    if cut is None or count <= max_elements:
        return None
    for child in list(cut):
        cut.remove(child)
    for el in [cut, *cut.iterancestors()]:
        parent = el.getparent()
        while (later := el.getnext()) is not None and parent is not None:
            parent.remove(later)
    return count


# --------------------------------------------------------------------------------------- selectors


def select(root: etree._Element, selector: str) -> list[object]:
    """Elements (or strings, for ``::text``/``::attr()``/XPath text) matched by ``selector``.

    CSS by default (with parsel's ``::text`` and ``::attr(name)``); XPath when the selector
    starts with ``/`` or ``(``. Raises ValueError for an invalid selector.
    """
    selector = selector.strip()
    try:
        result = _compiled(selector)(root)
    except Exception as exc:  # cssselect and lxml raise several unrelated types
        raise ValueError(f"invalid selector {selector!r}: {exc}") from exc
    return result if isinstance(result, list) else [result]


@functools.lru_cache(maxsize=512)
def _compiled(selector: str) -> etree.XPath:
    """A selector's XPath, compiled once (a plugin's few selectors run on every page)."""
    return etree.XPath(selector if selector.startswith(("/", "(", "./")) else css2xpath(selector))


def join_lines(lines: Iterable[str]) -> str:
    """Lines of one value (a title broken by ``<br>``) joined as Chinese is written: a space only
    between two Latin letters or digits (``Annual`` / ``Report``), nothing elsewhere
    (``关于印发《北仑区`` / ``管理办法》``, ``北仑区`` / ``2024年``)."""
    out = ""
    for line in (line.strip() for line in lines):
        if not line:
            continue
        if out and out[-1].isascii() and out[-1].isalnum() and line[0].isascii() and line[0].isalnum():
            out += " "
        out += line
    return out


def select_text(root: etree._Element, selector: str) -> tuple[str | None, etree._Element | None]:
    """(cleaned text, element) of the first non-empty match of ``selector``."""
    for found in select(root, selector):
        if isinstance(found, etree._Element):
            text = clean_text(join_lines(paragraphs(found)))
            if text:
                return text, found
        elif text := clean_text(str(found)):
            parent = found.getparent() if hasattr(found, "getparent") else None
            return text, parent
    return None, None


def _class_id(el: etree._Element) -> str:
    return f"{el.get('class', '')} {el.get('id', '')}".lower()


def _within(el: etree._Element, pattern: re.Pattern[str]) -> bool:
    return any(pattern.search(_class_id(a)) for a in [el, *el.iterancestors()] if tag_name(a))


def _contains(ancestor: etree._Element, el: etree._Element) -> bool:
    return ancestor is el or ancestor in el.iterancestors()


def _index_path(ancestor: etree._Element, el: etree._Element) -> list[int] | None:
    path = []
    while el is not ancestor:
        parent = el.getparent()
        if parent is None:
            return None
        path.append(parent.index(el))
        el = parent
    return path[::-1]


# ------------------------------------------------------------------------------------------ title

_TITLE_SEPARATORS = re.compile(r"\s*(?:--+|__+|_|\||｜|—+|–|-|::|·)\s*")
_TITLE_CLASS = re.compile(r"title|biaoti|headline|(?:^|[\s_-])(?:tit|bt)(?:$|[\s_\d-])")
_CHROME = re.compile(r"header|logo|banner|(?:^|[\s_-])nav|menu|footer|copyright|crumb|location|position|"
                     r"(?:^|[\s_-])dqwz")
_ELLIPSIS = re.compile(r"(?:…+|\.{3,}|。。。)$")
_TAG_BONUS = {"h1": 0.15, "title-like": 0.12, "h2": 0.08, "h3": 0.04}


@dataclass(frozen=True)
class TitleMatch:
    """A title and the element it was read from (None when it came from metadata)."""

    text: str
    element: etree._Element | None
    source: str  # "hint", "heading", "meta", "title-tag", "list"


def meta_content(root: etree._Element, name: str) -> str | None:
    """The cleaned content of ``<meta name=…>`` (case-insensitive), or None."""
    for el in root.iter("meta"):
        if (el.get("name") or el.get("property") or "").strip().lower() == name.lower():
            value = clean_text(el.get("content"))
            if value:
                return value
    return None


def is_truncated(title: str) -> bool:
    """True for list-style shortened titles ending with … or ..."""
    return bool(_ELLIPSIS.search(title.strip()))


def _bare(title: str) -> str:
    return re.sub(r"\s+", "", _ELLIPSIS.sub("", title.strip()))


@functools.lru_cache(maxsize=2048)  # the same candidates are compared with the same titles
def title_similarity(a: str, b: str) -> float:
    """0…1: how much two titles are the same title (containment and truncation count)."""
    a, b = _bare(a), _bare(b)
    if not a or not b:
        return 0.0
    if a == b:
        return 1.0
    ratio = SequenceMatcher(None, a, b, autojunk=False).ratio()
    short, long_ = sorted((a, b), key=len)
    if len(short) >= 4 and short in long_:
        ratio = max(ratio, 0.6 + 0.4 * len(short) / len(long_))
    return ratio


def prefer_complete(found: str, list_title: str | None) -> str:
    """Of two forms of one title, the one that is not cut short with …/... ."""
    if not list_title:
        return found
    if is_truncated(list_title) and _bare(found).startswith(_bare(list_title)):
        return found
    if is_truncated(found) and _bare(list_title).startswith(_bare(found)) and not is_truncated(list_title):
        return list_title
    return found


# A line of a heading that is the info line, not the title (PHPCMS v9 prints
# "2015-09-21 15:40:12 来源：… 点击：" in a <span> inside the <h1>).
_INFO_LABEL = re.compile(r"(?:来源|作者|编辑|点击|浏览|阅读|发布|时间|日期)\s*[:：]")
_CJK_END = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]$")
_CJK_START = re.compile(r"^[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")


def _join_lines(lines: Iterable[str]) -> str:
    """Lines of one heading as one line: a title broken by <br> between two CJK characters is
    joined without a space."""
    out = ""
    for line in lines:
        if out and not (_CJK_END.search(out) and _CJK_START.search(line)):
            out += " "
        out += line
    return clean_text(out)


def heading_text(el: etree._Element) -> str:
    """The text of a title candidate, without the lines that are an info line (only a date, or
    a 来源/作者/点击… label) when the element has other lines."""
    lines = paragraphs(el)
    if len(lines) > 1:
        kept = [line for line in lines if not (_INFO_LABEL.search(line) or parse_datetime(line))]
        lines = kept or lines
    return _join_lines(lines)


def _document_order(root: etree._Element) -> dict[etree._Element, int]:
    return {el: i for i, el in enumerate(root.iter())}


def _heading_nearest(root: etree._Element, content: etree._Element,
                     headings: list[tuple[etree._Element, str]]) -> tuple[etree._Element, str] | None:
    """Of ``headings``, the first inside ``content`` above its first sentence of text, else the
    last one before ``content``."""
    order = _document_order(root)
    start = order.get(content, -1)
    text_start = next((order[el] for el in content.iter() if tag_name(el) and len(inline_text(el)) >= 20),
                      len(order))
    top = [h for h in headings if start < order[h[0]] < text_start and _contains(content, h[0])]
    if top:
        return top[0]
    before = [h for h in headings if order[h[0]] < start and not _contains(h[0], content)]
    return before[-1] if before else None


def invisible(el: etree._Element) -> bool:
    """Whether an element is not shown as a part of the page: it or an ancestor is hidden
    (``style="display:none"``, ``visibility:hidden``, the ``hidden`` attribute,
    ``aria-hidden="true"``, a hiding class such as Bootstrap's ``d-none``) or is a share widget
    (bdshare, jiathis, 分享 popups), whose copy of the title is no heading of the page."""
    for a in [el, *el.iterancestors()]:
        if not tag_name(a):
            continue
        if (_HIDDEN.search(a.get("style", "")) or a.get("hidden") is not None
                or not _HIDING_CLASSES.isdisjoint((a.get("class") or "").lower().split())
                or a.get("aria-hidden", "").lower() == "true" or _SHARE.search(_class_id(a))):
            return True
    return False


def _title_candidates(root: etree._Element) -> Iterable[tuple[etree._Element, str]]:
    for el in root.iter():
        tag = tag_name(el)
        if tag in ("h1", "h2", "h3"):
            kind = tag
        elif tag not in (None, "html", "body", "meta", "title") and _TITLE_CLASS.search(_class_id(el)):
            kind = "title-like"
        else:
            continue
        if not invisible(el):
            yield el, kind


def find_title(root: etree._Element, hint: str | None = None, list_title: str | None = None,
               exclude: Iterable[str] = (), *, references: Iterable[str] = (),
               body: Callable[[], etree._Element | None] | None = None) -> TitleMatch | None:
    """The article title and where it was found; see ``extract_title``.

    ``references`` are further statements of the title on the page (the disclosure table's
    标题): a heading that repeats one wins, else the first of them is the title (source
    ``"meta"``). ``body`` returns the main content: when no heading matches any reference, the
    heading closest before it is the title (box headings of sidebars come earlier).
    """
    if hint:
        text, el = select_text(root, hint)
        if text:
            return TitleMatch(prefer_complete(text, list_title), el, "hint")
    meta_title = meta_content(root, "ArticleTitle")
    site_names = {clean_text(n) for n in exclude if n}
    site_names |= {n for n in (meta_content(root, "SiteName"), meta_content(root, "ColumnName")) if n}
    candidates = []
    for el, kind in _title_candidates(root):
        text = heading_text(el)
        if 2 <= len(text) <= 300 and text not in site_names:
            candidates.append((el, kind, text, _within(el, _CHROME)))

    # <title> is "article - column - site" in some order: its article part is the one a
    # heading on the page repeats (first part on ties); the other parts are site/column names.
    title_tag = next(root.iter("title"), None)
    title_parts = [p for p in (_TITLE_SEPARATORS.split(clean_text(cast(HtmlElement, title_tag).text_content()))
                               if title_tag is not None else []) if p and p not in site_names]
    main_part = None
    if title_parts:
        def repeated(part: str) -> float:
            return max((title_similarity(t, part) for _, _, t, chrome in candidates if not chrome), default=0.0)

        main_part = max(title_parts, key=lambda p: (round(repeated(p), 2), -title_parts.index(p)))
        site_names |= {p for p in title_parts if p != main_part}
    stated = [clean_text(r) for r in references if r and clean_text(r)]
    refs = [r for r in (meta_title, main_part, list_title, *stated) if r and r not in site_names]

    best: tuple[float, etree._Element, str] | None = None
    first_heading: tuple[etree._Element, str] | None = None
    for el, kind, text, chrome in candidates:
        if text in site_names:
            continue
        if first_heading is None and not chrome and len(text) >= 4 and kind in ("h1", "title-like"):
            first_heading = (el, text)
        if not refs:
            continue
        sim = max(title_similarity(text, r) for r in refs)
        score = sim + _TAG_BONUS[kind] - (0.5 if chrome else 0)
        if sim >= 0.6 and (best is None or score > best[0]):
            best = (score, el, text)
    if best is None and refs:  # old layouts: a bold <td> or <font> that matches the metadata
        for el in root.iter("td", "font", "strong", "b", "div", "span", "p"):
            text = clean_text(cast(HtmlElement, el).text_content())
            if 4 <= len(text) <= 300 and text not in site_names:
                sim = max(title_similarity(text, r) for r in refs[:2]) if refs[:2] else 0.0
                if sim >= 0.8 and (best is None or sim > best[0]) and not invisible(el):
                    best = (sim, el, text)
    if best is not None:
        return TitleMatch(prefer_complete(best[2], list_title), best[1], "heading")
    if meta_title and meta_title not in site_names:
        return TitleMatch(prefer_complete(meta_title, list_title), None, "meta")
    if stated and stated[0] not in site_names:
        return TitleMatch(prefer_complete(stated[0], list_title), None, "meta")
    if body is not None and (content := body()) is not None:
        # No heading repeats the metadata: the title is the heading at the top of the main
        # content, else the one nearest before it (sidebar box headings come earlier).
        nearest = _heading_nearest(root, content, [(el, text) for el, _, text, chrome in candidates
                                                    if not chrome and len(text) >= 4 and text not in site_names
                                                    and not _INFO_LABEL.search(text)])
        first_heading = nearest or first_heading
    if first_heading is not None:
        return TitleMatch(prefer_complete(first_heading[1], list_title), first_heading[0], "heading")
    if main_part and len(title_parts) > 1 and len(main_part) >= 4:
        return TitleMatch(prefer_complete(main_part, list_title), None, "title-tag")
    if list_title and clean_text(list_title):
        return TitleMatch(clean_text(list_title), None, "list")
    return None


def extract_title(root: etree._Element, hint: str | None = None, list_title: str | None = None,
                  exclude: Iterable[str] = ()) -> str | None:
    """The article title.

    The ``hint`` selector's text when it matches; else the h1/h2/h3 or ``.title``-like element
    that best matches ``<meta name="ArticleTitle">``, the ``<title>`` minus its site/column
    parts, or ``list_title``; never the site or column name (``<meta name="SiteName">``,
    ``ColumnName``, the other ``<title>`` parts, or any name in ``exclude``). Falls back to
    ArticleTitle, the first heading, the ``<title>`` part, then ``list_title``. When the found
    title and ``list_title`` are the same title and one is cut short with …/..., the complete
    one is returned.
    """
    match = find_title(root, hint, list_title, exclude)
    return match.text if match else None


# ------------------------------------------------------------------------------------------- body

STRONG_CONTAINERS = ("#zoom", "#Zoom", ".zoom", ".TRS_Editor", ".TRS_UEDITOR", "#UCAP-CONTENT",
                     ".article-content", ".article_content", "#article-content", "#article_content",
                     ".art_content", "#fontzoom", ".view.TRS_UEDITOR")
_POSITIVE = re.compile(r"content|article|zoom|text|detail|(?:^|[\s_-])con(?:$|[\s_-])|main|body|news|wz|nr")
_NEGATIVE = re.compile(r"footer|foot|(?:^|[\s_-])nav|menu|header|sidebar|side|copyright|comment|share|"
                       r"link|list|banner|logo|crumb|location|bottom|(?:^|[\s_-])top(?:$|[\s_-])|xglj|related")
_CONTAINER_TAGS = frozenset({"div", "td", "section", "article", "main", "body", "center", "form", "blockquote",
                             "font", "dd"})
_PARAGRAPH_TAGS = frozenset({"p", "pre", "li", "h4", "h5", "h6", "dt"})
_PUNCT = re.compile(r"[，。；！？、,;]")
_SENTENCE_END = re.compile(r"[。！？]")
_CLOSER_SHARE = 0.3

_TOOL_PHRASES = re.compile(
    r"打印本页|打印此页|打印文章|打印本文|打印|关闭窗口|关闭本页|关闭|返回顶部|返回列表|返回|加入收藏|收藏本页|收藏|"
    r"分享到|分享|我要纠错|纠错|保存本页|扫一扫|在手机上?打开|浏览次数|访问次数|阅读次数|点击数|点击率|"
    r"字号|字体|默认|背景色|视力保护色")
_FONT_SIZE = re.compile(r"字[号体]")
_PUNCT_OR_SPACE = re.compile(r"[\s\W\d_]+")
_PREV_NEXT = re.compile(r"^[【\[（(]?\s*(?:上一篇|下一篇|上一条|下一条|上篇|下篇|上一页|下一页)")
# A pager of a paged article: 共 2 页 1 2 下一页 尾页 / 第1页 第2页 / [1] [2] 下一页
_PAGER = re.compile(r"^(?:共\s*\d+\s*页|第\s*\d+\s*页|首页|上一页|下一页|尾页|末页|\d+|[\s\[\]【】|:：,，.·…<>«»])+$")
_RELATED = re.compile(r"^[【\[（(]?\s*(?:相关链接|相关文章|相关阅读|相关信息|相关新闻|相关稿件|友情链接|推荐阅读)")
# An editor line closing the text: （责任编辑：李娜）, 编辑：王晓 审核：陈刚
_EDITOR_LINE = re.compile(r"^[（(【\[]?\s*(?:责任编辑|编辑|审核|校对|责编)\s*[:：][^。，,]*$")
_SHARE = re.compile(r"share|bdshare|jiathis|bshare|fenxiang")
# Related-article boxes by class/id (WordPress jp-relatedposts, gov.cn relevantList, 相关链接 xglj…)
_RELATED_BOX = re.compile(r"related|relevant|(?:^|[\s_-])xg(?:lj|wz|wj|xx|yd)(?:$|[\s_-])")
_FOOTER_STRONG = re.compile(r"网站标识码|ICP备|ICP证|公网安备|版权所有|Copyright|©", re.IGNORECASE)
_FOOTER_WEAK = re.compile(r"主办单位|承办单位|技术支持|联系我们|网站地图|建议使用|分辨率|主办：|承办：")
_HIDDEN = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)
_REMOVED_TAGS = DROPPED_TAGS | {"form"}
_HIDING_CLASSES = frozenset({"hide", "hidden", "d-none", "display-none", "invisible", "sr-only"})


def inline_text(el: etree._Element) -> str:
    """Cleaned text of ``el`` outside its block-level children (its own line)."""
    parts = [el.text or ""]
    for child in el:
        tag = tag_name(child)
        if tag is not None and tag not in BLOCK_TAGS and tag not in DROPPED_TAGS:
            parts.append(cast(HtmlElement, child).text_content())
        parts.append(child.tail or "")
    return clean_text("".join(parts))


def _paragraph_score(text: str) -> float:
    return 1 + len(_PUNCT.findall(text)) + min(len(text) / 50, 3)


def _link_density(el: etree._Element) -> float:
    total = len(clean_text(cast(HtmlElement, el).text_content()))
    if not total:
        return 1.0
    links = sum(len(clean_text(cast(HtmlElement, a).text_content())) for a in el.iter("a"))
    return min(links / total, 1.0)


def _containers_up(el: etree._Element) -> Iterable[etree._Element]:
    for anc in el.iterancestors():
        if tag_name(anc) in _CONTAINER_TAGS:
            yield anc


def _density_body(root: etree._Element, title: etree._Element | None = None,
                  order: dict[etree._Element, int] | None = None) -> etree._Element | None:
    scores: dict[etree._Element, float] = {}
    lists: dict[etree._Element, bool] = {}

    def credit(el: etree._Element, score: float) -> None:
        scores[el] = scores.get(el, 0.0) + score

    for el in root.iter():
        tag = tag_name(el)
        if tag is None or tag in DROPPED_TAGS:
            continue
        if tag in _PARAGRAPH_TAGS:
            text = clean_text(cast(HtmlElement, el).text_content())
            targets = list(_containers_up(el))[:2]
        elif tag in _CONTAINER_TAGS:
            text = inline_text(el)
            targets = [el, *list(_containers_up(el))[:1]]
        else:
            continue
        if len(text) < 10:
            continue
        score = _paragraph_score(text)
        if (record_list := _record_list_of(el, lists)) is not None:
            # a comment, a reply, a recommended article's summary: it counts little, and only
            # for blocks inside its list (never for the page around the list)
            score *= _RECORD_LIST_WEIGHT
            targets = [t for t in targets if t is not record_list and _contains(record_list, t)]
        for i, target in enumerate(targets):
            credit(target, score if i == 0 else score / 2)
    final: dict[etree._Element, float] = {}
    for el, score in scores.items():
        names = _class_id(el)
        weight = (1.25 if _POSITIVE.search(names) else 1.0) * (0.5 if _NEGATIVE.search(names) else 1.0)
        if (value := score * (1 - _link_density(el)) * weight) > 0:
            final[el] = value
    if not final:
        return None
    best = max(final, key=final.__getitem__)
    if title is None:
        return best
    order = order or _document_order(root)
    follows = _follows(order, title)
    after = [el for el in final if follows(el)]
    if not after:
        return best
    best = max(after, key=final.__getitem__)
    # Reading order: prose that starts between the title and the best block, and is not a
    # part of it, is the article when it scores near it - a short notice followed by a longer
    # sidebar text (街道简介) printed after the main column.
    closer = [el for el in after if order[el] < order[best] and not _contains(el, best)
              and not _contains(best, el) and final[el] >= _CLOSER_SHARE * final[best]
              and _SENTENCE_END.search(cast(HtmlElement, el).text_content())]
    return max(closer, key=final.__getitem__) if closer else best


# A list of records - comments, replies, threads, recommended articles with summaries - is no
# article however much text it has: at least three sibling items of one kind (tag and class)
# that hold most of their parent's text, and each names its own date or links elsewhere.
_RECORD_ITEM_TAGS = frozenset({"li", "div", "dl", "dd", "tr", "tbody", "table", "article", "section"})
_PLAIN_RECORD_TAGS = frozenset({"li", "dl", "dd", "article"})
_RECORD_LIST_MIN = 3
_RECORD_LIST_WEIGHT = 0.2


def _is_record_list(parent: etree._Element) -> bool:
    groups: dict[tuple[str | None, str, str], list[etree._Element]] = {}
    for child in parent:
        if tag_name(child) in _RECORD_ITEM_TAGS:
            sig = _signature(child)
            if sig[1] or sig[2] or sig[0] in _PLAIN_RECORD_TAGS:  # bare <tr>/<div>s: layout
                groups.setdefault(sig, []).append(child)
    items = max(groups.values(), key=len, default=[])
    if len(items) < _RECORD_LIST_MIN:
        return False
    texts = [clean_text(cast(HtmlElement, item).text_content()) for item in items]
    total = len(clean_text(cast(HtmlElement, parent).text_content()))
    if not total or sum(map(len, texts)) < total / 2:
        return False
    # texts of the item's elements apart: <span>网友1000</span><span>2024-05-21</span> is no 10002024
    marked = sum(1 for item in items
                 if next(item.iter("a"), None) is not None or find_datetime(" ".join(item.itertext())) is not None)
    return marked * 3 >= len(items) * 2


def _record_list_of(el: etree._Element, cache: dict[etree._Element, bool]) -> etree._Element | None:
    """The record list (see _is_record_list) ``el`` is or lies in, or None; ``cache`` per page."""
    for anc in [el, *el.iterancestors()]:
        if tag_name(anc) in ("body", "html"):
            return None
        if anc not in cache:
            cache[anc] = _is_record_list(anc)
        if cache[anc]:
            return anc
    return None


def _has_text(el: etree._Element) -> bool:
    """Whether an element holds text other than a toolbar (字体：大 中 小), a style sheet or a
    script (TRS's editor prints its CSS in a <style> inside an otherwise empty .TRS_Editor)."""
    text = clean_text("".join(cast(list[str], el.xpath(".//text()[not(ancestor::style) and not(ancestor::script)]"))))
    return bool(text) and not _is_toolbar(text)


def _has_content(el: etree._Element) -> bool:
    return bool(clean_text(cast(HtmlElement, el).text_content())) or any(True for _ in el.iter("img", "table", "a"))


def _follows(order: dict[etree._Element, int], title: etree._Element) -> Callable[[etree._Element], bool]:
    """Whether an element holds the title or starts after it (outside it) in document order."""
    title_pos = order.get(title, -1)
    return lambda el: _contains(el, title) or (order.get(el, -1) > title_pos and not _contains(title, el))


def find_body(root: etree._Element, hint: str | None = None, *,
              after: etree._Element | None = None) -> etree._Element | None:
    """The main-content element of the page itself (not a copy); see ``extract_body``.

    ``after`` is the title element, when known: content comes after the title, so a known
    container or a dense block that lies wholly before it (a sidebar of prose printed first)
    is only taken when nothing after the title qualifies.
    """
    if hint:
        found = [el for el in select(root, hint) if isinstance(el, etree._Element)]
        if found:
            # several matches (an empty #zoom of a print template before the text's, a font-size
            # bar's span#zoom): the first with text, as for the known containers below
            return next((el for el in found if _has_text(el)), found[0])
    order = _document_order(root) if after is not None else {}
    follows = _follows(order, after) if after is not None else (lambda el: True)
    first = None
    for selector in STRONG_CONTAINERS:
        # Two elements of one known id (the font-size bar's span#zoom, an empty #zoom in a print
        # template or a picture viewer, then the text's): the one with text wins.
        matched = [el for el in select(root, selector) if isinstance(el, etree._Element) and _has_content(el)]
        for el in sorted(matched, key=lambda el: not _has_text(el)):
            if follows(el):
                return main_post(el, after)
            first = first if first is not None else el
    if first is not None:
        return main_post(first, after)
    dense = _density_body(root, after, order)
    return None if dense is None else main_post(dense, after)


# ------------------------------------------------------------------------------ multi-post pages
# A page of several posts (a blog or archive page of full posts, a forum thread with its
# replies) prints them in one repeated block. The rule: the article is the first post - or the
# post holding the title, when the title was found inside one - its heading, date and text.
_POST_TAGS = frozenset({"div", "article", "section", "table", "dl", "li"})
_POST_MIN_TEXT = 40
_DIGITS = re.compile(r"\d+")


def _signature(el: etree._Element) -> tuple[str | None, str, str]:
    """What repeated blocks share: the tag, the class words without numbers (post-900 differs
    per post), an id with its numbers taken out (post_52001 → post_)."""
    classes = " ".join(sorted(w for w in (el.get("class") or "").split() if not _DIGITS.search(w)))
    ident = el.get("id") or ""
    return tag_name(el), classes, _DIGITS.sub("", ident) if _DIGITS.search(ident) else ident


def _is_post(el: etree._Element) -> bool:
    text = clean_text(cast(HtmlElement, el).text_content())
    return (len(text) >= _POST_MIN_TEXT and bool(_SENTENCE_END.search(text)) and _link_density(el) < 0.5
            and find_datetime(" ".join(el.itertext())) is not None)


def posts_around(el: etree._Element) -> tuple[list[etree._Element], etree._Element] | None:
    """The posts of a multi-post page and the one ``el`` lies in (``el`` or an ancestor): at
    least two sibling blocks of one signature (:func:`_signature`), each a post - a date,
    40 characters or more with a sentence in them, mostly not links; None when ``el`` is in no
    such block."""
    for member in [el, *el.iterancestors()]:
        parent = member.getparent()
        if parent is None or tag_name(member) in ("body", "html"):
            return None
        if tag_name(member) not in _POST_TAGS:
            continue
        sig = _signature(member)
        if not (sig[1] or sig[2] or sig[0] == "article"):
            continue  # plain <div>s: layout columns, not posts
        siblings = [c for c in parent if tag_name(c) and _signature(c) == sig]
        if len(siblings) >= 2 and all(_is_post(c) for c in siblings):
            return siblings, member
    return None


def main_post(body: etree._Element, title: etree._Element | None = None) -> etree._Element:
    """``body``, or on a multi-post page (:func:`posts_around`) its counterpart in the main
    post: the post that holds ``title``, else the first. The counterpart is the post's first
    element of ``body``'s tag and class, else the post itself."""
    found = posts_around(body)
    if found is None:
        return body
    posts, current = found
    target = next((p for p in posts if title is not None and _contains(p, title)), posts[0])
    if target is current:
        return body
    if body is current:
        return target
    sig = _signature(body)[:2]
    return next((el for el in target.iter() if tag_name(el) and _signature(el)[:2] == sig), target)


def post_heading(body: etree._Element, title: etree._Element | None = None) -> etree._Element | None:
    """The heading of the post ``body`` lies in on a multi-post page (its first visible h1-h3
    or title-like element with text), or None: no such page, a post without a heading, or a
    post that holds ``title`` already."""
    found = posts_around(body)
    if found is None or (title is not None and _contains(found[1], title)):
        return None
    for el, _ in _title_candidates(found[1]):
        if len(heading_text(el)) >= 2:
            return el
    return None


def _is_toolbar(text: str) -> bool:
    if len(text) > 80 or not _TOOL_PHRASES.search(text):
        return False
    rest = _TOOL_PHRASES.sub("", text)
    if _FONT_SIZE.search(text):
        rest = re.sub(r"[大中小]", "", rest)
    return not _PUNCT_OR_SPACE.sub("", rest)


def _is_footer(el: etree._Element, text: str) -> bool:
    if len(text) > 400:
        return False
    strong, weak = len(_FOOTER_STRONG.findall(text)), len(_FOOTER_WEAK.findall(text))
    if not (strong or weak >= 2):
        return False
    lines = paragraphs(el) or [text]
    marked = sum(1 for line in lines if _FOOTER_STRONG.search(line) or _FOOTER_WEAK.search(line) or len(line) <= 12)
    return marked / len(lines) >= 0.7


def _boilerplate(el: etree._Element) -> bool:
    if _HIDDEN.search(el.get("style", "")) or _SHARE.search(_class_id(el)):
        return True
    text = clean_text(cast(HtmlElement, el).text_content())
    if not text:
        return False
    if _is_toolbar(text) or _is_footer(el, text):
        return True
    if len(text) < 200 and _PREV_NEXT.match(text):
        return True
    if len(text) < 200 and "页" in text and _PAGER.match(text):
        return True
    if _RELATED.match(text) and (len(text) <= 8 or _link_density(el) >= 0.5):
        return True
    if len(text) <= 40 and _EDITOR_LINE.match(text):
        return True
    # one rule an if, like those above, rather than the last one folded into the return
    if _RELATED_BOX.search(_class_id(el)) and len(text) < 400 and _link_density(el) >= 0.3:  # noqa: SIM103
        return True
    return False


def _drop(el: etree._Element) -> None:
    if el.getparent() is not None:
        cast(HtmlElement, el).drop_tree()


def strip_boilerplate(body: etree._Element) -> None:
    """Remove toolbars (打印本页, 关闭窗口, 字号 大 中 小), share widgets, 上一篇/下一篇,
    相关链接 blocks, site footers, hidden elements, scripts and forms inside ``body``."""
    for el in list(body.iter()):
        if el is body:
            continue
        tag = tag_name(el)
        if tag is None:
            if isinstance(el, etree._Comment):
                _drop(el)
            continue
        if tag in _REMOVED_TAGS:
            _drop(el)
    stack = list(body)
    while stack:
        el = stack.pop(0)
        if tag_name(el) is None:
            continue
        if _boilerplate(el):
            text = clean_text(cast(HtmlElement, el).text_content())
            heading_only = _RELATED.match(text) and len(text) <= 8
            following = list(el.itersiblings()) if heading_only else []
            _drop(el)
            for sibling in following:  # the link list under a 相关链接 heading
                if tag_name(sibling) and _link_density(sibling) >= 0.5:
                    _drop(sibling)
                elif tag_name(sibling):
                    break
            continue
        stack[:0] = list(el)


def clean_body(body: etree._Element, *, remove: Sequence[str] = (),
               exclude: Sequence[etree._Element] = (), strip_text: Sequence[re.Pattern[str]] = ()) -> etree._Element:
    """A cleaned copy of a body element: the ``remove`` selectors' matches (elements, or text
    nodes an XPath ``text()`` selects), the ``exclude``
    elements (those inside ``body``; e.g. the disclosure table, title and date line), scripts
    and boilerplate (see ``strip_boilerplate``) dropped, and every match of the ``strip_text``
    patterns cut from its text nodes (an element left empty by them dropped). The page tree is
    not changed."""
    paths = [p for p in (_index_path(body, el) for el in exclude if el is not None and el is not body) if p]
    cleaned = copy.deepcopy(body)
    cleaned.tail = None
    targets = []
    for path in paths:
        el = cleaned
        for i in path:
            el = el[i]
        targets.append(el)
    for selector in remove:
        for found in select(cleaned, selector):
            if isinstance(found, etree._Element):
                targets.append(found)
            elif (parent := getattr(found, "getparent", lambda: None)()) is not None:  # a text node: cut it
                if getattr(found, "is_tail", False):
                    parent.tail = (parent.tail or "").replace(str(found), "", 1)
                elif getattr(found, "is_text", False):
                    parent.text = (parent.text or "").replace(str(found), "", 1)
    for el in targets:
        if el is not cleaned:
            _drop(el)
    strip_boilerplate(cleaned)
    if strip_text:
        _strip_patterns(cleaned, strip_text)
    return cleaned


def _strip_patterns(root: etree._Element, patterns: Sequence[re.Pattern[str]]) -> None:
    """Cut every match of ``patterns`` from the text and tails under ``root``; drop the
    elements (not ``root``) that are left without text, children or media."""
    emptied = []
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        for attr in ("text", "tail"):
            value = getattr(el, attr)
            if value:
                new = value
                for pattern in patterns:
                    new = pattern.sub("", new)
                if new != value:
                    setattr(el, attr, new)
                    if attr == "text" and el is not root and not new.strip() and len(el) == 0:
                        emptied.append(el)
    for el in emptied:
        if str(el.tag).lower() not in ("img", "br", "hr", "td", "th") and not (el.tail or "").strip():
            _drop(el)


def extract_body(root: etree._Element, hint: str | None = None, *, remove: Sequence[str] = (),
                 exclude: Sequence[etree._Element] = ()) -> etree._Element | None:
    """The main content, as a cleaned copy of its element (the page tree is not changed).

    The ``hint`` selector's first element; else the first non-empty known container
    (``#zoom``, ``.TRS_Editor``, ``#UCAP-CONTENT``, ``.article-content``…); else the element
    with the best text-density score (paragraph text and punctuation credited to their
    container, penalised by link density). Inside it, toolbars (打印本页, 关闭窗口, 字号 大 中
    小), share widgets, 上一篇/下一篇, 相关链接 blocks, footers and scripts are dropped, as are
    the ``remove`` selectors' matches and the ``exclude`` elements. None when the page has no
    content at all.
    """
    body = find_body(root, hint)
    return None if body is None else clean_body(body, remove=remove, exclude=exclude)


# ------------------------------------------------------------------------------------ attachments

DOCUMENT_EXTENSIONS = frozenset({"pdf", "doc", "docx", "rtf", "xls", "xlsx", "ppt", "pptx", "wps", "et", "dps",
                                 "odt", "ods", "zip", "rar", "7z", "txt", "ofd", "csv"})
IMAGE_EXTENSIONS = frozenset({"jpg", "jpeg", "png"})
_DOWNLOAD_URL = re.compile(r"download|downfile|down\.|attach|getfile|filedown|fujian", re.IGNORECASE)
_EXT_IN_TEXT = re.compile(r"\.([A-Za-z0-9]{1,5})\s*(?:[)）\]】]|$)")
_NAV_AREAS = re.compile(r"footer|(?:^|[\s_-])foot|header|(?:^|[\s_-])nav|menu|copyright|bottom")


def _extension(name: str) -> str | None:
    suffix = PurePosixPath(unquote(name)).suffix.lower().lstrip(".")
    return suffix or None


def attachment_type(url: str, text: str) -> str | None:
    """The file type of a link if it is an attachment, else None."""
    parts = urlsplit(url)
    ext = _extension(parts.path)
    says_attachment = "附件" in text
    if ext in DOCUMENT_EXTENSIONS:
        return ext
    if ext in IMAGE_EXTENSIONS:
        return ext if says_attachment else None
    # download.php?id=3, downfile.jsp?filename=x.pdf: the type is in the query or the link text
    for _, value in parse_qsl(parts.query):
        if (qext := _extension(value)) in DOCUMENT_EXTENSIONS:
            return qext
    if _DOWNLOAD_URL.search(parts.path + "?" + parts.query):
        m = _EXT_IN_TEXT.search(text)
        if m and m.group(1).lower() in DOCUMENT_EXTENSIONS | (IMAGE_EXTENSIONS if says_attachment else set()):
            return m.group(1).lower()
    return None


def extract_attachments(root: etree._Element, base_url: str, hint: str | None = None) -> list[Attachment]:
    """Attachment links under ``root`` (or under the ``hint`` selector's elements), in order.

    A link is an attachment when its path ends with a document extension (pdf, doc, docx, rtf,
    xls, xlsx, ppt, pptx, wps, et, dps, odt, ods, zip, rar, 7z, txt, ofd, csv; jpg/png only when the link
    text says 附件), or when it is a download-style URL (``download.php?``, ``attach``…) whose
    query or link text names such a file. Name: the cleaned link text (else its title, else
    the file name); URL: absolute against ``base_url``; file_type: the lower-case extension.
    De-duplicated by URL; links in headers, footers and menus are skipped when there is no hint.
    """
    if hint:
        scopes = [el for el in select(root, hint) if isinstance(el, etree._Element)]
    else:
        scopes = [root]
    found: list[Attachment] = []
    seen: set[str] = set()
    for scope in scopes:
        links = [scope] if tag_name(scope) == "a" else list(scope.iter("a"))
        for a in links:
            href = (a.get("href") or "").strip()
            if not href or href.startswith(("#", "javascript:", "mailto:")):
                continue
            if not hint and _within(a, _NAV_AREAS):
                continue
            try:
                url = urljoin(base_url, href)
            except ValueError:
                continue
            if urlsplit(url).scheme not in ("http", "https"):
                continue
            text = clean_text(cast(HtmlElement, a).text_content()) or clean_text(a.get("title"))
            file_type = attachment_type(url, text)
            if file_type is None or url in seen:
                continue
            name = text or unquote(PurePosixPath(urlsplit(url).path).name) or url
            try:
                found.append(Attachment(name=name, url=cast(HttpUrl, url), file_type=file_type))  # pydantic parses the str
            except ValidationError:
                continue
            seen.add(url)
    return found


def attachment_blocks(body: etree._Element, base_url: str) -> list[etree._Element]:
    """The attachment lists under ``body``: for each attachment link, its highest ancestor
    whose text is little more than link texts and an 附件 label. A link inside prose
    (``详见附件：<a>…</a>。…``) is not a list and stays."""
    blocks: list[etree._Element] = []
    for a in body.iter("a"):
        try:
            url = urljoin(base_url, (a.get("href") or "").strip())
        except ValueError:
            continue
        if attachment_type(url, clean_text(cast(HtmlElement, a).text_content())) is None:
            continue
        chosen = None
        for anc in a.iterancestors():
            if anc is body:
                break
            text = clean_text(cast(HtmlElement, anc).text_content())
            for link in anc.iter("a"):
                text = text.replace(clean_text(cast(HtmlElement, link).text_content()), "")
            if len(re.sub(r"(?:相关)?附件(?:下载)?|下载|[\s\d\W_]", "", text)) > 0:
                break
            chosen = anc
        if chosen is not None and not any(chosen is b or b in chosen.iterancestors() for b in blocks):
            blocks = [b for b in blocks if chosen not in b.iterancestors()] + [chosen]
    return blocks
