"""One detail page → one exchange-standard Article (the normalizers' public entry point).

URLs: everything on the page is resolved against ``page.url`` (where it was fetched). When
that origin (scheme, host, port) differs from ``context.public_url``'s — a mirror or a test
server — attachment and body links on the fetch origin are moved to the public origin, so the
stored item never points at the mirror; links to other hosts are left alone.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, cast
from urllib.parse import urljoin

import lxml.html
from lxml import etree
from lxml.html import HtmlElement  # what every etree._Element here is
from pydantic import HttpUrl

from normalizers.dates import (
    DateProblem,
    ParsedDate,
    Precision,
    date_problem,
    find_datetime,
    implausible,
    parse_datetime,
    slashed_dates_day_first,
)
from normalizers.disclosure import find_disclosure_block, parse_disclosure_block
from normalizers.encoding import DecodedText, decode_html
from normalizers.extract import (
    MAX_DEPTH,
    MAX_ELEMENTS,
    TitleMatch,
    attachment_blocks,
    bounded_markup,
    clean_body,
    extract_attachments,
    find_body,
    find_title,
    flatten_deep_markup,
    heading_text,
    inline_text,
    meta_content,
    post_heading,
    select,
    select_text,
    truncate_tree,
)
from normalizers.models import (
    SHANGHAI,
    Article,
    Attachment,
    DisclosureMetadata,
    FieldError,
    Image,
    document_id,
)
from normalizers.page import ExtractionHints, PageContext, RawPage
from normalizers.sanitize import drop_document_end_tags, sanitize_html, unnest_void_content
from normalizers.text import DROPPED_TAGS, clean_text, html_to_text, tag_name
from normalizers.urls import canonicalize_url, origin, rebase

_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# A label and its colon, or one of the longer labels followed by the date itself (发布时间 2024-01-02,
# 发表于 2023-10-27 16:40:12): a bare 日期/时间 without a colon is too common in prose.
_DATE_LABEL = re.compile(r"(发布时间|发布日期|发表时间|发文日期|更新时间|更新日期|日期|时间)\s*[:：]"
                         r"|(发布时间|发布日期|发表时间|发文日期|更新时间|更新日期|发表于)\s*(?=\d)")
_STRONG_DATE_LABELS = ("发布时间", "发布日期", "发表时间", "发表于")
_LINE_MAX = 200
_UNLABELLED_LOOKAHEAD = 15
_INFO_LINE_MAX = 100
_SHORT_INFO_LINE = 60
_STARTS_WITH_DATE = re.compile(r"^[\[【（(［]?\s*(?:\d{4}\s*[-/.年]|\d{2}-\d{1,2}-\d{1,2})")
_SENTENCE_PUNCT = re.compile(r"[，。；！？,;!?]")
_INFO_LABELS = re.compile(r"(?:来源|作者|编辑|点击|浏览|阅读|访问|录入|发布者|发布人)\s*[:：]|字[号体]")
# Disclosure-table labels that state the title (kept in DisclosureMetadata.extra).
_DISCLOSURE_TITLE_LABELS = ("标题", "文件标题", "信息名称", "名称")


class NormalizationError(ValueError):
    """A page that cannot become an Article (only a missing title, which is required)."""

    def __init__(self, message: str, *, field: str, url: str) -> None:
        super().__init__(f"{message} ({field}) at {url}")
        self.message = message
        self.field = field
        self.url = url

    def __reduce__(self) -> tuple[Any, ...]:
        # raised in a worker process (spiders.normalize_pool, spiders.budget) and re-raised in
        # the crawl's: pickle rebuilds it from its keyword arguments
        return _rebuild_normalization_error, (self.message, self.field, self.url)


def _rebuild_normalization_error(message: str, field: str, url: str) -> NormalizationError:
    return NormalizationError(message, field=field, url=url)


def parse_html(text: str, bounds: list[str] | None = None) -> etree._Element:
    """The ``<html>`` element of a decoded page; an empty document for empty input.

    No element truncates the page: stray ``</body>``/``</html>`` end tags are ignored and void
    elements hold nothing (:mod:`normalizers.sanitize` says why libxml2 needs both). The cost is
    bounded (:mod:`normalizers.extract`: ``MAX_PAGE_CHARS``, ``MAX_DEPTH``, ``MAX_ELEMENTS``;
    lxml's ``huge_tree`` stays off): a page over a bound is read up to it, and each bound hit is
    appended to ``bounds``, in words."""
    # lxml refuses str input with an encoding declaration, and NULs/controls in any input.
    text, hit = bounded_markup(drop_document_end_tags(_CONTROL.sub("", _XML_DECLARATION.sub("", text))))
    if not text.strip():
        return lxml.html.document_fromstring("<html><body></body></html>")
    try:
        root = _parse_within_depth(text, hit)
    except (etree.ParserError, ValueError):
        return lxml.html.document_fromstring(f"<html><body>{html.escape(text)}</body></html>")
    unnest_void_content(root)
    if (count := truncate_tree(root)) is not None:
        hit.append(f"the page has {count:,} elements, over MAX_ELEMENTS ({MAX_ELEMENTS:,}): read up to there")
    if bounds is not None:
        bounds.extend(hit)
    return root


def html_parser() -> etree.HTMLParser:
    """lxml's HTML parser with its elements of ``lxml.html``'s classes (``HtmlElement``,
    ``HtmlComment``…) chosen in C: ``lxml.html.HTMLParser`` asks a Python function for the class
    of every element it hands out, a tenth of the normalizer's time (its form-specific classes
    are not used here)."""
    parser = etree.HTMLParser()
    parser.set_element_class_lookup(etree.ElementDefaultClassLookup(
        element=lxml.html.HtmlElement, comment=lxml.html.HtmlComment,
        pi=lxml.html.HtmlProcessingInstruction, entity=lxml.html.HtmlEntity))
    return parser


def _document(text: str, parser: etree.HTMLParser) -> etree._Element:
    """``lxml.html.document_fromstring`` with ``parser``: the document element, or ParserError."""
    root = etree.fromstring(text, parser)
    if root is None:
        raise etree.ParserError("Document is empty")
    return root


def _parse_within_depth(text: str, hit: list[str]) -> etree._Element:
    """libxml2 stops at its depth limit (256) and drops the rest of the page: past it, the page
    is parsed again with what is deeper than MAX_DEPTH flattened."""
    parser = html_parser()
    root = _document(text, parser)
    if any("depth" in entry.message.lower() for entry in parser.error_log):
        root = _document(flatten_deep_markup(text), html_parser())
        hit.append(f"the page nests elements deeper than libxml2 reads (256): what is deeper than "
                   f"MAX_DEPTH ({MAX_DEPTH}) is flattened, its text kept")
    return root


def extraction_errors(bounds: list[str], url: str) -> list[FieldError]:
    """The bounds a page hit (:func:`parse_html`), as errors of the page's extraction."""
    return [FieldError(field="extraction", message=f"extraction bound hit at {url}: {bound}") for bound in bounds]


def decoding_warning(decoded: DecodedText) -> FieldError | None:
    """A warning naming how many characters of the page could not be decoded (each is now
    U+FFFD), with the text around the first; None when nothing was replaced."""
    if not decoded.replacements:
        return None
    at = decoded.text.find("\ufffd")
    return FieldError(field="encoding", severity="warning", raw=clean_text(decoded.text[max(at - 20, 0):at + 20]),
                      message=f"{decoded.replacements} character(s) of the page could not be decoded "
                              f"({decoded.encoding}) and were replaced with U+FFFD")


def _contains(ancestor: etree._Element | None, el: etree._Element | None) -> bool:
    return ancestor is not None and el is not None and (ancestor is el or ancestor in el.iterancestors())


def _line_of(el: etree._Element, keep_out: list[etree._Element | None]) -> etree._Element:
    """The whole short line an element belongs to (e.g. the info bar around a date span),
    never growing into an element that holds the title or body."""
    while True:
        parent = el.getparent()
        if parent is None or tag_name(parent) in ("body", "html"):
            return el
        if any(_contains(parent, k) for k in keep_out if k is not None and k is not el):
            return el
        if len(clean_text(cast(HtmlElement, parent).text_content())) > _LINE_MAX:
            return el
        el = parent


@dataclass
class _DateLine:
    parsed: ParsedDate | None = None
    element: etree._Element | None = None  # the whole line, to keep it out of the body
    text: str | None = None  # what the line printed where the date was read
    unparsed: str | None = None  # what followed a 发布时间-like label when no date could be read
    problem: DateProblem | None = None  # the first date near a label (or alone on a line) that is no date


def _find_date_line(root: etree._Element, title_el: etree._Element | None, body_el: etree._Element | None,
                    disclosure_el: etree._Element | None, title_text: str = "") -> _DateLine:
    """The 发布时间/发布日期/日期 line (also ``发布时间 2024-01-02`` and ``发表于 …`` without a
    colon) between the title and the body; else an unlabelled date there (a line that is a date,
    or an info line starting with one, carrying 来源/作者/点击 labels, or short and without
    sentence punctuation; also such a line inside the heading); else a labelled line further
    after the title (past the body: a date printed under the text); else the nearest labelled
    one before the title, with a 发布时间-like label only, as headers print today's date. Never
    inside the disclosure block or the body. Slashed ``a/b/yyyy`` dates are read month or day
    first as the page's own dates say (:func:`normalizers.dates.slashed_dates_day_first`)."""
    found = _DateLine()
    order = {el: i for i, el in enumerate(root.iter())}
    title_pos = order.get(title_el, -1) if title_el is not None else -1
    body_has_title = _contains(body_el, title_el)
    body_pos = order.get(body_el, -1) if body_el is not None and not body_has_title else -1
    # the gap between the title and the body, where the page's own date line is printed
    gap_end = body_pos if body_pos > title_pos else len(order)
    day_first = slashed_dates_day_first(cast(HtmlElement, root).text_content())
    gap: list[tuple[etree._Element, str, re.Match[str]]] = []
    after: list[tuple[etree._Element, str, re.Match[str]]] = []
    before: list[tuple[etree._Element, str, re.Match[str]]] = []
    for el in root.iter():
        tag = tag_name(el)
        if tag is None or tag in ("script", "style", "head", "title", "meta"):
            continue
        if _contains(disclosure_el, el) or _contains(title_el, el):
            continue
        if body_el is not None and not body_has_title and _contains(body_el, el):
            continue
        text = inline_text(el)
        if len(text) > _LINE_MAX or not (m := _DATE_LABEL.search(text)):
            continue
        if order[el] <= title_pos:
            before.append((el, text, m))
        else:
            (gap if order[el] < gap_end else after).append((el, text, m))
    before = [(el, text, m) for el, text, m in before if _label(m) in _STRONG_DATE_LABELS]

    def labelled(lines: list[tuple[etree._Element, str, re.Match[str]]]) -> bool:
        for el, text, m in lines:
            parsed = find_datetime(text[m.end():m.end() + 40], day_first=day_first)
            if parsed is not None:
                found.parsed, found.element = parsed, _line_of(el, [title_el, body_el])
                found.text = clean_text(text[m.end():m.end() + 40])
                return True
            if found.problem is None:
                found.problem = date_problem(text[m.end():m.end() + 40])
            if _label(m) in _STRONG_DATE_LABELS and found.unparsed is None:
                found.unparsed = clean_text(text[m.end():m.end() + 40])
        return False

    if labelled(gap):
        return found
    if title_el is not None and _unlabelled(root, found, order, title_el, body_el, disclosure_el, title_text,
                                            title_pos, body_pos, body_has_title, day_first):
        return found
    labelled(after + before[::-1])
    return found


def _unlabelled(root: etree._Element, found: _DateLine, order: dict[etree._Element, int],
                title_el: etree._Element, body_el: etree._Element | None, disclosure_el: etree._Element | None,
                title_text: str, title_pos: int, body_pos: int, body_has_title: bool, day_first: bool) -> bool:
    """An unlabelled date between the title and the body into ``found`` (see _find_date_line):
    never one after the body starts (related-article lists print their dates there)."""
    stop = body_pos if body_pos > title_pos else len(order)
    title_bare = _bare(title_text)
    seen = 0
    for el in root.iter():
        if order[el] <= title_pos or tag_name(el) is None:
            continue
        if order[el] >= stop:
            break
        if _contains(disclosure_el, el) or (not body_has_title and _contains(body_el, el)):
            continue
        if tag_name(el) in ("script", "style"):
            continue
        text = clean_text(cast(HtmlElement, el).text_content())
        if not text:
            continue
        # the title's own lines are not a date line; an info line inside the heading is
        if _contains(title_el, el) and (el is title_el or _bare(text) in title_bare):
            continue
        seen += 1
        if seen > _UNLABELLED_LOOKAHEAD:
            break
        parsed = parse_datetime(text, day_first=day_first) if len(text) <= 40 else None
        if parsed is None and len(text) <= 40 and found.problem is None:
            found.problem = date_problem(text, whole=True)
        if parsed is None and len(text) <= _INFO_LINE_MAX:
            parsed = _info_line_date(text, day_first)
        if parsed is not None:
            found.parsed, found.element, found.text = parsed, _line_of(el, [title_el, body_el]), text
            return True
    if body_el is None or body_has_title:
        return False
    # A meta line printed as the first line of the content block (版主 … 2024-05-15 atop a
    # forum notice): a short line before the first sentence of the text.
    for el in body_el.iter():
        if el is body_el or tag_name(el) is None or tag_name(el) in DROPPED_TAGS:
            continue
        text = inline_text(el)
        if not text:
            continue
        if len(text) > _SHORT_INFO_LINE or _SENTENCE_PUNCT.search(text):
            return False
        if (parsed := _info_line_date(text, day_first)) is not None:
            found.parsed, found.element, found.text = parsed, el, text
            return True
    return False


def _bare(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _label(m: re.Match[str]) -> str:
    return m.group(1) or m.group(2)


def _info_line_date(text: str, day_first: bool = False) -> ParsedDate | None:
    """The date of an unlabelled info line: one that starts with the date
    (``2021-01-18 | 来源：… | 点击：1863``, ``[2023-11-02] 来源：…``), that carries 来源/作者/
    点击-style labels around it (``来源：宁波日报 2018-12-20 08:35 编辑：…``), or a short line of
    words without sentence punctuation (``宁波日报　2022年8月19日　记者 徐静``)."""
    if (_STARTS_WITH_DATE.match(text) or _INFO_LABELS.search(text)
            or (len(text) <= _SHORT_INFO_LINE and not _SENTENCE_PUNCT.search(text))):
        return find_datetime(text, day_first=day_first)
    return None


def _compiled_strip_text(patterns: Sequence[str], errors: list[FieldError]) -> list[re.Pattern[str]]:
    """The plugin's ``strip_text`` patterns, compiled (one that does not compile is an error of
    the item, never a crash)."""
    out = []
    for text in patterns:
        try:
            out.append(re.compile(text))
        except re.error as exc:
            errors.append(FieldError(field="body_text", message=f"strip_text pattern does not compile: {exc}", raw=text))
    return out


def _title_line(body_el: etree._Element, title: str, skip: list[etree._Element | None]) -> etree._Element | None:
    """The body's first line when it only repeats the title (documents pasted with their
    heading, e.g. the centred title atop a gov.cn #UCAP-CONTENT); ``skip``: elements already
    left out of the body (disclosure block, title, date line)."""
    for el in body_el.iter():
        if el is body_el or tag_name(el) is None or tag_name(el) in DROPPED_TAGS:
            continue
        if any(_contains(k, el) for k in skip):
            continue
        if inline_text(el):
            return el if _bare(clean_text(cast(HtmlElement, el).text_content())) == _bare(title) else None
    return None


# the 公文 layout's attachment lines (附件：1.关于….doc / 2.….xls) are the document's own text;
# a download widget (附件下载：, 相关附件, a bare file list after the text) is not
_DOCUMENT_ATTACHMENT_LINE = re.compile(r"^附\s*件\s*[：:]?\s*(?:\d+\s*[.、．]|[^下载]|$)")
_NUMBERED = re.compile(r"^\d+\s*[.、．]")
_BARE_LABEL = re.compile(r"^(?:相关)?附\s*件(?:下载)?\s*[：:]?$")


def _attachment_chrome(blocks: list[etree._Element]) -> list[etree._Element]:
    """Of the attachment lists in a body (:func:`normalizers.extract.attachment_blocks`), those
    that are download chrome, to leave out of the body text, with the label left bare before
    them (``<p>附件：</p>`` then the list): never a bare 附件： in the text. The 公文 layout's
    lines (``附件：1.关于….doc``, the numbered lines after it) are the document's text and stay."""
    chrome, kept = [], set()
    for block in blocks:
        text = clean_text(cast(HtmlElement, block).text_content())
        previous = block.getprevious()
        if _DOCUMENT_ATTACHMENT_LINE.match(text) and "下载" not in text[:6]:
            kept.add(block)
            continue
        if _NUMBERED.match(text) and previous is not None and (
                previous in kept or _DOCUMENT_ATTACHMENT_LINE.match(clean_text(cast(HtmlElement, previous).text_content()))):
            kept.add(block)
            continue
        chrome.append(block)
        if previous is not None and _BARE_LABEL.match(clean_text(cast(HtmlElement, previous).text_content())):
            chrome.append(previous)
    return chrome


def _select_safely(root: etree._Element, selector: str | None, name: str, errors: list[FieldError],
                   ) -> str | None:
    """The selector if it is valid; else a FieldError and None (heuristics take over)."""
    if not selector:
        return None
    try:
        select(root, selector)
    except ValueError as exc:
        errors.append(FieldError(field=name, message=str(exc), raw=selector))
        return None
    return selector


def _at_midnight(date: dt.date) -> dt.datetime:
    return dt.datetime(date.year, date.month, date.day, tzinfo=SHANGHAI)


@dataclass
class _DateSource:
    """One place a publication date can come from, and what it printed."""

    name: str  # as the report says it: "the date line", "the list page"…
    raw: str | None  # what it printed (None: nothing)
    parsed: ParsedDate | None = None
    problem: str | None = None  # why its date cannot be used
    definite: bool = False  # a date that cannot be right (impossible, out of range), not just no date


def _date_source(name: str, raw: str | None, parsed: ParsedDate | None, fetched_at: dt.datetime,
                 problem: DateProblem | None = None) -> _DateSource:
    source = _DateSource(name, raw, parsed)
    if parsed is not None:
        if (why := implausible(parsed.value, fetched_at)) is not None:
            source.parsed, source.problem, source.definite = None, f"{parsed.value.date().isoformat()} is {why}", True
    elif problem is not None:
        source.problem, source.definite = f"{problem.reason} ({problem.raw})", True
    elif raw:
        source.problem = "no date"
    return source


def _plausible_disclosure_dates(disclosure: DisclosureMetadata, fetched_at: dt.datetime,
                                errors: list[FieldError]) -> DisclosureMetadata:
    """The disclosure metadata without dates out of the sane range, each a field error."""
    wrong: dict[str, None] = {}
    for name in ("written_date", "published_date"):
        value = getattr(disclosure, name)
        if value is not None and (why := implausible(value, fetched_at)) is not None:
            errors.append(FieldError(field=f"disclosure.{name}", raw=value.isoformat(),
                                     message=f"implausible date: {value.isoformat()} is {why}"))
            wrong[name] = None
    return disclosure.model_copy(update=wrong) if wrong else disclosure


def _published_at(root: etree._Element, selector: str | None, context: PageContext,
                  disclosure: DisclosureMetadata, date_line: _DateLine, errors: list[FieldError],
                  fetched_at: dt.datetime) -> tuple[dt.datetime | None, Precision | None]:
    """(publication time, precision printed: day / minute / second), from the first source
    with a plausible date: the hint selector, the date line, ``<meta name=PubDate>``, the
    disclosure block's 发布日期, the list page; when a later source prints the same day more
    precisely (a date line to the day, Hanweb's ``<meta name="PubDate">`` to the minute), its time.

    A source that printed a date that cannot be right (no such day, a year out of range, a
    date out of :func:`normalizers.dates.implausible`'s sane range) is a field error even when
    a later source gives the date (the message names the one used); one that printed no date
    at all is an error when it is the hint selector, or when no source gives a date."""
    sources: list[_DateSource] = []
    if selector:
        text, _ = select_text(root, selector)
        if text:
            sources.append(_date_source("the published_at selector", text, find_datetime(text), fetched_at,
                                        date_problem(text)))
    line_raw = date_line.unparsed or (date_line.problem.raw if date_line.problem else None)
    if date_line.parsed is not None:
        if date_line.problem is not None:  # an impossible date near another label, before this one
            sources.append(_date_source("a date line", date_line.problem.raw, None, fetched_at, date_line.problem))
        sources.append(_date_source("the date line", date_line.text, date_line.parsed, fetched_at))
    elif line_raw:
        sources.append(_date_source("the date line", line_raw, None, fetched_at, date_line.problem))
    if pub_meta := meta_content(root, "PubDate") or meta_content(root, "publishdate"):
        sources.append(_date_source("<meta name=PubDate>", pub_meta,
                                    parse_datetime(pub_meta) or find_datetime(pub_meta), fetched_at,
                                    date_problem(pub_meta)))
    if disclosure.published_date is not None:
        sources.append(_date_source("the disclosure block's 发布日期", disclosure.published_date.isoformat(),
                                    ParsedDate(_at_midnight(disclosure.published_date), "day"), fetched_at))
    if context.list_date:
        sources.append(_date_source("the list page", context.list_date,
                                    parse_datetime(context.list_date) or find_datetime(context.list_date),
                                    fetched_at, date_problem(context.list_date)))
    used = next((s for s in sources if s.parsed is not None), None)
    for source in sources:
        if source is used:
            break
        if source.problem is None:
            continue
        if not (source.definite or used is None or source.name == "the published_at selector"):
            continue
        instead = f"; the date of {used.name} used instead" if used is not None else ""
        errors.append(FieldError(field="published_at", raw=source.raw,
                                 message=f"unreadable publication date in {source.name}: {source.problem}{instead}"))
    if used is None or used.parsed is None:
        return None, None
    finer = _PRECISION_RANK.get(used.parsed.precision or "", 0)
    for source in sources:  # another source printing the same day to the minute (Hanweb's <meta name=PubDate>)
        other = source.parsed
        if other is None or source is used or _PRECISION_RANK.get(other.precision or "", 0) <= finer:
            continue
        if other.value.astimezone(SHANGHAI).date() == used.parsed.value.astimezone(SHANGHAI).date():
            return other.value, other.precision
    return used.parsed.value, used.parsed.precision


_PRECISION_RANK = {"day": 1, "minute": 2, "second": 3}


def _lowest_common_ancestor(a: etree._Element | None, b: etree._Element | None) -> etree._Element | None:
    if a is None or b is None:
        return None
    ancestors_a = [a, *a.iterancestors()]
    for anc in [b, *b.iterancestors()]:
        if anc in ancestors_a:
            return anc
    return None


def _inner_html(el: etree._Element) -> str:
    return (html.escape(el.text, quote=False) if el.text else "") + "".join(
        lxml.html.tostring(cast(HtmlElement, child), encoding="unicode") for child in el)


def _images(body: etree._Element, page_url: str, to_public: Callable[[str], str], errors: list[FieldError],
            ) -> list[Image]:
    """The content images of the body (not spacers, icons or tracking pixels), public URLs."""
    found: list[Image] = []
    seen: set[str] = set()
    for img in body.iter("img"):
        src = (img.get("src") or img.get("data-src") or img.get("oldsrc") or "").strip()
        if not src or src.startswith("data:") or re.search(r"(spacer|blank|dot|icon|pixel|arrow)\.(gif|png)$", src, re.I):
            continue
        width, height = img.get("width", ""), img.get("height", "")
        if (width.isdigit() and int(width) < 32) or (height.isdigit() and int(height) < 32):
            continue
        url = to_public(urljoin(page_url, src))
        if url in seen:
            continue
        seen.add(url)
        try:
            found.append(Image(url=cast(HttpUrl, url),  # pydantic parses the str
                               alt=(img.get("alt") or img.get("title") or "").strip() or None))
        except ValueError:
            errors.append(FieldError(field="images", message="invalid image URL", raw=url))
    return found


def _title_from_body(body_el: etree._Element | None, limit: int = 30) -> str | None:
    """The first clause of the main text, at most ``limit`` characters, as a stand-in title."""
    if body_el is None:
        return None
    text = " ".join(html_to_text(body_el).split())
    if not text:
        return None
    clause = re.split(r"[。！？；：:!?;]", text, maxsplit=1)[0].strip() or text
    return clause if len(clause) <= limit else clause[: limit - 1] + "…"


def normalize_article(page: RawPage, context: PageContext, hints: ExtractionHints | None = None) -> Article:
    """Turn one fetched detail page into an Article of the exchange standard.

    Decodes the bytes (``decode_html``), then reads: the title (``hints.title`` or the title
    heuristics; ``context.list_title`` when the page has none); the publication time
    (``hints.published_at``; else the 发布时间/发布日期/日期 line near the title; else
    ``<meta name="PubDate">``; else the disclosure 发布日期; else ``context.list_date`` — the
    索引号 is never a source); the disclosure metadata; the body as text and sanitized HTML
    (without the disclosure block, title, date line, attachment list and boilerplate); and the
    attachments, re-based onto the public origin (see the module docstring).

    Values that cannot be read become ``field_errors`` and are left empty; bytes that could not
    be decoded are a warning (``field="encoding"``) naming how many characters were replaced;
    only a page without any title raises ``NormalizationError(field="title")``.
    """
    hints = hints or ExtractionHints()
    fetched_at = page.fetched_at or dt.datetime.now(SHANGHAI)
    decoded = decode_html(page.body, page.content_type)
    errors = [warning] if (warning := decoding_warning(decoded)) else []
    bounds: list[str] = []
    root = parse_html(decoded.text, bounds)
    errors += extraction_errors(bounds, context.public_url)
    public_url = context.public_url
    moved = origin(page.url) != origin(public_url)

    def to_public(url: str) -> str:
        return rebase(url, page.url, public_url) if moved else url

    title_hint = _select_safely(root, hints.title, "title", errors)
    body_hint = _select_safely(root, hints.body, "body_text", errors)
    date_hint = _select_safely(root, hints.published_at, "published_at", errors)
    disclosure_hint = _select_safely(root, hints.disclosure_table, "disclosure", errors)
    attachments_hint = _select_safely(root, hints.attachments, "attachments", errors)
    remove = tuple(s for s in hints.remove if _select_safely(root, s, "body_text", errors))

    disclosure_el = find_disclosure_block(root, disclosure_hint, hints.disclosure_labels)
    disclosure, disclosure_errors = parse_disclosure_block(disclosure_el, hints.disclosure_labels)
    disclosure = _plausible_disclosure_dates(disclosure, fetched_at, disclosure_errors)

    stated = [disclosure.extra[label] for label in _DISCLOSURE_TITLE_LABELS if disclosure.extra.get(label)]
    title = find_title(root, title_hint, context.list_title, exclude=context.column_path, references=stated,
                       body=lambda: find_body(root, body_hint))
    if title is None:
        # keep the item: its first words stand in for the title, and the report says so
        stand_in = _title_from_body(find_body(root, body_hint))
        if stand_in is None:
            raise NormalizationError("no title and no main text on the page", field="title", url=public_url)
        errors.append(FieldError(field="title", message="no title on the page or in the list; "
                                 "the first words of the body stand in", raw=stand_in))
        title = TitleMatch(stand_in, None, "body")
    # A title or body selector that stops matching means the site changed: worth a report.
    if title_hint and title.source != "hint":
        errors.append(FieldError(field="title", message="title selector matched nothing; heuristics used",
                                 raw=title_hint))
    if body_hint:
        matched = [el for el in select(root, body_hint) if isinstance(el, etree._Element)]
        if not matched:
            errors.append(FieldError(field="body_text", message="body selector matched nothing; heuristics used",
                                     raw=body_hint))
        elif len(matched) > 1 and not any(b in a.iterancestors() for a in matched for b in matched):
            errors.append(FieldError(field="body_text", severity="warning", raw=body_hint,
                                     message=f"body selector matched {len(matched)} separate elements; "
                                             "the first with text is the body (make the selector match one)"))

    errors.extend(disclosure_errors)

    body_el = find_body(root, body_hint, after=title.element)
    # a page of several posts is its main post (normalizers.extract.main_post): its heading is
    # the title when the title found is outside it (an archive's 月份：2024年4月)
    if (body_el is not None and body_hint is None and title.source not in ("hint", "meta")
            and (heading := post_heading(body_el, title.element)) is not None):
        title = TitleMatch(heading_text(heading), heading, "heading")
    date_line = _find_date_line(root, title.element, body_el, disclosure_el, title.text)
    published_at, published_precision = _published_at(root, date_hint, context, disclosure, date_line, errors,
                                                      fetched_at)

    attachment_scope = root
    if attachments_hint is None:
        lca = _lowest_common_ancestor(title.element, body_el)
        if lca is not None and lca is body_el:
            lca = lca.getparent()
        if lca is not None and tag_name(lca) not in ("html", "body"):
            attachment_scope = lca
    found = extract_attachments(attachment_scope, page.url, attachments_hint)
    attachments: list[Attachment] = []
    for attachment in found:
        url = to_public(str(attachment.url))
        try:
            attachments.append(Attachment(name=attachment.name, url=cast(HttpUrl, url), file_type=attachment.file_type))
        except ValueError:
            errors.append(FieldError(field="attachments", message="invalid attachment URL", raw=url))

    images: list[Image] = []
    if body_el is None:
        body_text = body_html = ""
        errors.append(FieldError(field="body_text", message="no main content found"))
    else:
        exclude = [disclosure_el, title.element, date_line.element]
        exclude.append(_title_line(body_el, title.text, exclude))
        if attachments_hint:
            exclude += [el for el in select(root, attachments_hint) if isinstance(el, etree._Element)]
        exclude += _attachment_chrome(attachment_blocks(body_el, page.url))
        cleaned = clean_body(body_el, remove=remove, exclude=[el for el in exclude if el is not None],
                             strip_text=_compiled_strip_text(hints.strip_text, errors))
        body_text = html_to_text(cleaned)
        body_html = sanitize_html(_inner_html(cleaned), page.url, url_map=to_public if moved else None)
        images = _images(cleaned, page.url, to_public, errors)

    return Article(
        id=document_id(canonicalize_url(public_url)),  # identity: the canonical key; stored: as served
        site_code=context.site_code,
        column_path=list(context.column_path),
        category=context.category,
        title=title.text,
        published_at=published_at,
        published_precision=published_precision,
        images=images,
        body_text=body_text,
        body_html=body_html,
        disclosure=disclosure,
        attachments=attachments,
        source_url=cast(HttpUrl, public_url),  # pydantic parses the strs of URL fields
        fetched_at=fetched_at,
        field_errors=errors,
    )
