"""Label/value pages: the shared reader of service guides, letters and organisation pages.

Such pages print their fields as labels followed by values, in whatever markup the CMS had:
``<th>label</th><td>value</td>`` rows (two or four cells a row), section header rows or
``rowspan`` label cells above data rows, ``<dt>``/``<dd>``, headings followed by paragraphs,
``<strong>label</strong>value`` and ``label：value`` lines (several on one line).

The page is first cut into **units**: one line of text each (a table cell, a list item, a
``<br>``-separated line…), with the inline elements (links, images) it holds and the block
that owns it. A unit that *is* a known label (whole, after numbering such as ``一、`` and
brackets such as ``【】``), or starts with one followed by a colon (or by an element holding
only the label), starts an **entry**; the values that follow belong to it:

* a label cell with a value cell beside it: that cell (``rowspan`` > 1: the rows it spans,
  until the next label);
* a text field (conditions, materials, reply…): every unit until the next label;
* any other field: the rest of its own line, else the next block.

Units that follow no label are kept as orphan entries (a letter's reply paragraphs after
its 回复 heading). Page furniture (header, navigation, footer, sidebars and toolbars) is left
out, and the reading is confined to the smallest element holding every label.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import PurePosixPath
from typing import TypedDict, cast
from urllib.parse import unquote, urljoin, urlsplit

from lxml import etree
from lxml.html import HtmlElement  # what every etree._Element here is
from pydantic import HttpUrl, ValidationError

from normalizers.article import decoding_warning, extraction_errors, parse_html
from normalizers.disclosure import EMPTY_VALUES
from normalizers.encoding import decode_html
from normalizers.extract import attachment_type, select
from normalizers.models import SHANGHAI, Attachment, Category, FieldError, document_id
from normalizers.page import ExtractionHints, PageContext, RawPage
from normalizers.text import (
    BLOCK_TAGS,
    DROPPED_TAGS,
    clean_text,
    fullwidth_to_ascii,
    paragraphs,
    tag_name,
)
from normalizers.urls import canonicalize_url, origin, rebase

# ------------------------------------------------------------------------------------ the page


@dataclass
class ItemPage:
    """A decoded, parsed page and the URL rules of ``normalize_article``: links are resolved
    against the fetch URL, then moved from a mirror's origin to the public one."""

    root: etree._Element
    page: RawPage
    context: PageContext
    hints: ExtractionHints
    errors: list[FieldError] = field(default_factory=list)
    _selections: dict[str, list[etree._Element]] = field(default_factory=dict)

    @classmethod
    def load(cls, page: RawPage, context: PageContext, hints: ExtractionHints | None) -> ItemPage:
        decoded = decode_html(page.body, page.content_type)
        errors = [warning] if (warning := decoding_warning(decoded)) else []
        bounds: list[str] = []
        root = parse_html(decoded.text, bounds)
        return cls(root, page, context, hints or ExtractionHints(), errors + extraction_errors(bounds, context.public_url))

    @property
    def public_url(self) -> str:
        return self.context.public_url

    def absolute(self, href: str | None) -> str | None:
        """``href`` made absolute against the fetch URL and moved to the public origin; None for
        empty, fragment, ``javascript:`` (unless it opens a URL) and ``mailto:`` links."""
        href = clean_text(href)
        if not href:
            return None
        if href.lower().startswith("javascript:"):
            m = _JS_URL.search(href)
            if not m:
                return None
            href = m.group(1)
        if href.startswith("#") or href.lower().startswith(("mailto:", "tel:")):
            return None
        try:
            written = urlsplit(href)
            if written.scheme and not written.netloc:  # "http://" or "http:foo": no host to go to
                return None
            url: str = urljoin(self.page.url, href)
        except ValueError:
            return None
        if urlsplit(url).scheme not in ("http", "https"):
            return None
        if origin(self.page.url) != origin(self.public_url):
            url = rebase(url, self.page.url, self.public_url)
        return url

    def selected(self, selector: str | None, name: str) -> list[etree._Element]:
        """Elements of a hint selector; an invalid selector is a FieldError and matches nothing."""
        if not selector:
            return []
        if selector not in self._selections:
            try:
                found = [el for el in select(self.root, selector) if isinstance(el, etree._Element)]
            except ValueError as exc:
                self.errors.append(FieldError(field=name, message=str(exc), raw=selector))
                found = []
            self._selections[selector] = found
        return self._selections[selector]

    def body(self) -> etree._Element:
        body = next(self.root.iter("body"), None)
        return body if body is not None else self.root


_JS_URL = re.compile(r"""(?:window\.open|location(?:\.href)?\s*=|location\.replace)\s*\(?\s*['"]([^'"]+)['"]""")


def link_href(a: etree._Element) -> str | None:
    """The target written on a link: ``href``, else an ``onclick="location.href='…'"``."""
    href = (a.get("href") or "").strip()
    if href and not href.lower().startswith("javascript:void") and href != "#":
        return href
    m = _JS_URL.search(a.get("onclick") or "")
    return m.group(1) if m else (href or None)


# ----------------------------------------------------------------------------- page furniture

# A class or id token naming page furniture: header, nav_1, site-footer, g-crumb… (not
# qa-header or section-footer, which are parts of the content).
_CHROME_TOKEN = re.compile(
    r"^(?:(?:site|page|g|m|main|global|common|pub|public|top)[-_])?(?:header|topbar|banner|logo|nav|navbar|menu|"
    r"footer|foot|bottom|copyright|crumbs?|breadcrumbs?|position|location|dqwz|toolbar|share|bdshare|sidebar|"
    r"aside)(?:[-_]?(?:\d+|wrap|box|bar|con|inner|main|list))?$")
_SIDE_NAMES = re.compile(r"(?:^|[\s_-])(?:left|right|side|sidebar|aside)(?:$|[\s_\-\d])")
_FOOTER_TEXT = re.compile(r"版权所有|ICP备|ICP证|公网安备|网站标识码|Copyright|©", re.IGNORECASE)
_HIDDEN = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)
_TOOLBAR = re.compile(r"^[\s【】\[\]|()（）]*(?:(?:打印本页|打印此页|打印|关闭窗口|关闭|返回顶部|返回列表|返回|加入收藏|收藏本页|"
                      r"分享到|字号|[大中小]|我要纠错)[\s【】\[\]|:：()（）]*)+$")
_PREV_NEXT = re.compile(r"^[【\[（(]?\s*(?:上一篇|下一篇|上一条|下一条)")


def _class_id(el: etree._Element) -> str:
    return f"{el.get('class', '')} {el.get('id', '')}".lower()


def _text_len(el: etree._Element) -> int:
    return len(clean_text(cast(HtmlElement, el).text_content()))


def is_chrome(el: etree._Element) -> bool:
    """Header, navigation, footer, toolbar, hidden element, or a sidebar column (a left/right/
    side column, or a narrow table column, beside a sibling holding more text)."""
    if _HIDDEN.search(el.get("style", "")):
        return True
    names = _class_id(el)
    if any(_CHROME_TOKEN.match(token) for token in names.split()):
        return True
    tag = tag_name(el)
    side = bool(_SIDE_NAMES.search(names))
    narrow = tag == "td" and (el.get("width") or "").rstrip("px").isdigit() and int(
        (el.get("width") or "0").rstrip("px")) <= 300 and any(
        tag_name(d) in ("div", "ul", "table", "dl") for d in el.iterdescendants())
    if side or narrow:
        parent = el.getparent()
        if parent is not None:
            mine = _text_len(el)
            if any(tag_name(s) and s is not el and _text_len(s) > 2 * mine for s in parent):
                return True
    if tag in ("div", "table", "td", "p", "center"):
        raw = cast(HtmlElement, el).text_content()
        if len(raw) <= 2000 and _FOOTER_TEXT.search(raw) and len(clean_text(raw)) <= 400 and not any(
                True for _ in el.iterdescendants("table")):
            return True
    return False


# --------------------------------------------------------------------------------------- units


@dataclass
class Unit:
    """One line of the page: its cleaned text, the block element that holds it and the inline
    elements on it; ``lead`` is the text of a leading inline element (``<strong>受理条件</strong>``)."""

    text: str
    owner: etree._Element
    inline: list[etree._Element]
    lead: str | None = None
    link_only: bool = False

    @cached_property
    def cell(self) -> etree._Element | None:
        for el in [self.owner, *self.owner.iterancestors()]:
            tag = tag_name(el)
            if tag in ("td", "th"):
                return el
            if tag in ("table", "body"):
                return None
        return None

    @property
    def row(self) -> etree._Element | None:
        cell = self.cell
        return cell.getparent() if cell is not None else None

    def links(self) -> list[etree._Element]:
        out = []
        for el in self.inline:
            if tag_name(el) == "a":
                out.append(el)
            out.extend(a for a in el.iterdescendants("a"))
        return out

    def images(self) -> list[etree._Element]:
        out = []
        for el in self.inline:
            if tag_name(el) == "img":
                out.append(el)
            out.extend(el.iterdescendants("img"))
        return out

    def within(self, el: etree._Element) -> bool:
        return self.owner is el or el in self.owner.iterancestors()


def _inline_text(el: etree._Element) -> str:
    parts = [el.text or ""]
    for child in el:
        if tag_name(child) not in DROPPED_TAGS and tag_name(child) is not None:
            parts.append(_inline_text(child))
        parts.append(child.tail or "")
    return "".join(parts)


def _has_block(el: etree._Element) -> bool:
    return any(tag_name(d) in BLOCK_TAGS for d in el.iterdescendants())


class _LineState(TypedDict):
    """What ``units_of`` holds of the line being read."""

    owner: etree._Element | None
    lead: str | None
    link_chars: int


def units_of(scope: etree._Element, skip: Callable[[etree._Element], bool] = lambda el: False) -> list[Unit]:
    """The lines of ``scope`` in document order (see the module docstring)."""
    units: list[Unit] = []
    parts: list[str] = []
    inline: list[etree._Element] = []
    state: _LineState = {"owner": None, "lead": None, "link_chars": 0}

    def add(text: str | None, owner: etree._Element) -> None:
        if text:
            if state["owner"] is None:
                state["owner"] = owner
            parts.append(text)

    def flush() -> None:
        text = clean_text("".join(parts))
        media = any(tag_name(el) in ("a", "img") or any(True for _ in el.iterdescendants("img", "a"))
                    for el in inline)
        if (text or media) and state["owner"] is not None:
            owner = state["owner"]
            link_only = bool(text) and int(state["link_chars"]) >= len(text.replace(" ", "")) > 0
            links = [el for el in inline if tag_name(el) == "a" and clean_text(_inline_text(el))]
            if link_only and len(links) > 1:  # a row of buttons or a menu: one unit per link
                for a in links:
                    label = clean_text(_inline_text(a))
                    units.append(Unit(label, owner, [a], label, True))
            else:
                units.append(Unit(text, owner, list(inline), state["lead"], link_only))
        parts.clear()
        inline.clear()
        state.update({"owner": None, "lead": None, "link_chars": 0})

    def visit(el: etree._Element, owner: etree._Element) -> None:
        tag = tag_name(el)
        if tag is None or tag in DROPPED_TAGS or (el is not scope and skip(el)):
            return
        if tag in ("br", "hr"):
            flush()
            return
        if tag in BLOCK_TAGS:
            flush()
            add(el.text, el)
            for child in el:
                visit(child, el)
                add(child.tail, el)
            flush()
            return
        if _has_block(el):  # an inline wrapper around blocks (<font><p>…</p></font>)
            add(el.text, owner)
            for child in el:
                visit(child, owner)
                add(child.tail, owner)
            return
        text = _inline_text(el)
        if state["owner"] is None:
            state["owner"] = owner
        if not clean_text("".join(parts)) and clean_text(text):
            state["lead"] = clean_text(text)
        parts.append(text)
        inline.append(el)
        if tag == "a" or any(True for _ in el.iterdescendants("a")):
            state["link_chars"] = int(state["link_chars"]) + len(clean_text(text).replace(" ", ""))

    visit(scope, scope)
    flush()
    return units


# -------------------------------------------------------------------------------------- labels

_NUMBERING = re.compile(
    r"^\s*(?:[一二三四五六七八九十]+\s*[、.．]|[（(]\s*[一二三四五六七八九十\d]+\s*[)）]|\d{1,2}\s*[、.．](?!\d)|"
    r"[■●◆◇□○▶►·•※★☆▪◎]+)\s*")
_STRIP = re.compile(r"[\s:：\[\]【】〔〕]+")
_COLON = "[:：]"


def normalize_label(text: str) -> str:
    """A label as compared: no numbering, whitespace, colons or brackets."""
    return _STRIP.sub("", _NUMBERING.sub("", clean_text(text)))


@dataclass(frozen=True)
class LabelMatch:
    label: str  # the label as known (normalised)
    key: str | None  # None: an unknown label (a th/dt), which only ends the previous entry
    rest: str  # what follows the label on its line


class Labels:
    """Printed labels → field keys. Their order is their priority when several labels of one
    field are on a page (事项编码 before 基本编码)."""

    def __init__(self, labels: dict[str, str], text_keys: Iterable[str] = (), link_keys: Iterable[str] = ()):
        self.keys = {normalize_label(k): v for k, v in labels.items()}
        self.priority = {label: i for i, label in enumerate(self.keys)}
        self.text_keys = frozenset(text_keys)
        self.link_keys = frozenset(link_keys)
        spaced = [r"\s*".join(map(re.escape, label)) for label in sorted(self.keys, key=len, reverse=True)]
        alternatives = "|".join(spaced)
        self._start = re.compile(r"^\s*(?:[【\[〔]\s*(" + alternatives + r")\s*[】\]〕]\s*" + _COLON + r"?|(" +
                                 alternatives + r")\s*" + _COLON + r")\s*")
        # A further label on the same line: after whitespace or a separator, followed by a colon.
        self._more = re.compile(r"(?:(?<=\s)|(?<=[|；;]))(" + alternatives + r")\s*" + _COLON)

    def match(self, unit: Unit) -> list[LabelMatch]:
        """The labels a unit starts with (several for ``电话：… 时间：…``); [] when it is a value."""
        text = _NUMBERING.sub("", unit.text)
        if not text:
            return []
        whole = normalize_label(text)
        if unit.link_only and self.keys.get(whole) not in self.link_keys:
            return []
        if whole in self.keys and len(text) <= 24:
            return [] if _column_header(unit) else [LabelMatch(whole, self.keys[whole], "")]
        first: tuple[str, str] | None = None
        if (m := self._start.match(text)) is not None:
            first = (normalize_label(m.group(1) or m.group(2)), text[m.end():])
        elif unit.lead and normalize_label(unit.lead) in self.keys and clean_text(text).startswith(
                clean_text(_NUMBERING.sub("", unit.lead))):
            label = normalize_label(unit.lead)
            first = (label, re.sub(r"^\s*[:：]\s*", "", text[len(clean_text(_NUMBERING.sub("", unit.lead))):]))
        if first is None or _column_header(unit):
            return []
        label, rest = first
        matches = []
        more = list(self._more.finditer(rest))
        if more:
            matches.append(LabelMatch(label, self.keys[label], rest[:more[0].start()].strip()))
            for i, m in enumerate(more):
                end = more[i + 1].start() if i + 1 < len(more) else len(rest)
                more_label = normalize_label(m.group(1))
                matches.append(LabelMatch(more_label, self.keys[more_label], rest[m.end():end].strip()))
        else:
            matches.append(LabelMatch(label, self.keys[label], rest.strip()))
        return matches

    def unknown_label(self, unit: Unit) -> bool:
        """A ``th`` beside a ``td``, or a ``dt``, holding a short text that is no known label."""
        owner_tag = tag_name(unit.owner)
        if owner_tag not in ("th", "dt") or len(normalize_label(unit.text)) > 12:
            return False
        if clean_text(cast(HtmlElement, unit.owner).text_content()) != unit.text:
            return False
        if owner_tag == "th":
            nxt = unit.owner.getnext()
            return nxt is not None and tag_name(nxt) == "td"
        return True


def _column_header(unit: Unit) -> bool:
    """A cell of a table's header row (序号 | 材料名称 | 办理时限 …): a column name, not a label."""
    cell = unit.cell
    if cell is None or clean_text(cast(HtmlElement, cell).text_content()) != unit.text:
        return False
    row = cell.getparent()
    cells = [c for c in row if tag_name(c) in ("td", "th")] if row is not None else []
    if len(cells) < 3:
        return False
    first = normalize_label(cast(HtmlElement, cells[0]).text_content())
    return all(tag_name(c) == "th" for c in cells) or first in ("序号", "编号", "序")


@dataclass
class Entry:
    """A label and its value units; orphans (units after no label) have no label."""

    key: str | None
    label: str | None
    rest: str = ""
    label_unit: Unit | None = None
    values: list[Unit] = field(default_factory=list)
    order: int = 0
    own_links: list[etree._Element] | None = None  # the label line's links when it holds several labels

    def lines(self) -> list[str]:
        lines = [self.rest] if self.rest else []
        lines += [u.text for u in self.values if u.text]
        return [clean_text(line) for line in lines if clean_text(line)]

    def text(self, sep: str = "\n") -> str | None:
        """The value as printed (lines joined by ``sep``); None when empty or 无/—/暂无."""
        value = sep.join(self.lines()).strip()
        return None if value.lower() in EMPTY_VALUES else value

    def units(self) -> list[Unit]:
        return ([self.label_unit] if self.label_unit is not None else []) + self.values

    def links(self) -> list[etree._Element]:
        if self.own_links is not None:
            return self.own_links + [a for u in self.values for a in u.links()]
        return [a for u in self.units() for a in u.links()]

    def images(self) -> list[etree._Element]:
        return [img for u in self.units() for img in u.images()]

    def table(self) -> list[list[str]]:
        """The table the value lies in, as rows of cell texts (rows of a table nested in a value
        cell too). A label cell spanning rows leaves out itself and the cells before it; the
        label's own label/value row is no table."""
        rows: list[etree._Element] = []
        label_cell = self.label_unit.cell if self.label_unit is not None else None
        label_row = label_cell.getparent() if label_cell is not None else None
        spans = label_cell is not None and _int(label_cell.get("rowspan")) > 1
        for u in self.values:
            row = u.row
            if row is None or row in rows or (row is label_row and not spans):
                continue
            rows.append(row)
        table = []
        for row in rows:
            row_cells = cells(row)
            if row is label_row and label_cell in row_cells:
                row_cells = row_cells[row_cells.index(label_cell) + 1:]
            table.append([cell_text(c) for c in row_cells])
        return table


def read_entries(units: Sequence[Unit], labels: Labels) -> list[Entry]:
    """Label/value entries of a sequence of units (see the module docstring)."""
    entries: list[Entry] = []
    matches = [labels.match(u) for u in units]
    unknown = [not m and labels.unknown_label(u) for u, m in zip(units, matches, strict=True)]
    is_label = [bool(m) or x for m, x in zip(matches, unknown, strict=True)]
    i, n = 0, len(units)
    while i < n:
        unit = units[i]
        if not is_label[i]:
            entries.append(Entry(None, None, values=[unit], order=i))
            i += 1
            continue
        found = matches[i] or [LabelMatch(normalize_label(unit.text), None, "")]
        own_links = None
        if len(found) > 1:  # 网上办理：<a>…</a> 网上查询：<a>…</a>: each label keeps the links of its own value
            own_links = [[a for a in unit.links() if clean_text(cast(HtmlElement, a).text_content()) and
                          clean_text(cast(HtmlElement, a).text_content()) in m.rest] for m in found]
        for j, m in enumerate(found[:-1]):
            entries.append(Entry(m.key, m.label, m.rest, unit, order=i,
                                 own_links=own_links[j] if own_links else None))
        last = found[-1]
        entry = Entry(last.key, last.label, last.rest, unit, order=i,
                      own_links=own_links[-1] if own_links else None)
        entries.append(entry)
        i += 1
        cell = unit.cell
        label_cell = cell is not None and clean_text(cast(HtmlElement, cell).text_content()) == unit.text
        sibling = cell.getnext() if cell is not None and label_cell else None
        while sibling is not None and tag_name(sibling) not in ("td", "th"):
            sibling = sibling.getnext()
        if last.key in labels.link_keys and unit.link_only:
            continue  # a button: the link is the value
        spans_rows = label_cell and sibling is not None and cell is not None and _int(cell.get("rowspan")) > 1
        if label_cell and sibling is not None and not last.rest and not spans_rows:
            while i < n and units[i].within(sibling):
                entry.values.append(units[i])
                i += 1
            continue
        if last.key is None or last.key in labels.text_keys or spans_rows:
            while i < n and not is_label[i]:
                entry.values.append(units[i])
                i += 1
            continue
        if last.rest:
            continue
        if i < n and not is_label[i]:
            cell = units[i].cell
            owner = cell if cell is not None else units[i].owner
            while i < n and not is_label[i] and units[i].within(owner):
                entry.values.append(units[i])
                i += 1
    return entries


def _int(value: str | None, default: int = 1) -> int:
    try:
        return int(str(value).strip())
    except ValueError:
        return default


def lowest_common_ancestor(elements: Sequence[etree._Element]) -> etree._Element | None:
    if not elements:
        return None
    common = [elements[0], *elements[0].iterancestors()]
    for el in elements[1:]:
        ancestors = {id(a) for a in [el, *el.iterancestors()]}
        common = [a for a in common if id(a) in ancestors]
    return common[0] if common else None


@dataclass
class Reading:
    """Entries of a page, with the element they were read from."""

    scope: etree._Element
    entries: list[Entry]
    labels: Labels

    def all(self, key: str) -> list[Entry]:
        """Entries of ``key`` with a value, by label priority then page order."""
        found = [e for e in self.entries if e.key == key and (e.lines() or e.links() or e.images())]
        return sorted(found, key=lambda e: (self.labels.priority.get(e.label or "", 999), e.order))

    def first(self, key: str) -> Entry | None:
        found = self.all(key)
        return found[0] if found else None

    def text(self, key: str, sep: str = "\n") -> str | None:
        for entry in self.all(key):
            if (value := entry.text(sep)) is not None:
                return value
        return None

    def keys(self) -> set[str]:
        return {e.key for e in self.entries if e.key}


def _skipper(removed: Sequence[etree._Element]) -> Callable[[etree._Element], bool]:
    removed_ids = {id(el) for el in removed}
    return lambda el: id(el) in removed_ids or is_chrome(el) or _is_toolbar(el)


def _is_toolbar(el: etree._Element) -> bool:
    if tag_name(el) not in ("div", "p", "span", "td", "table", "ul"):
        return False
    raw = cast(HtmlElement, el).text_content()
    if len(raw) > 1000:
        return False
    text = clean_text(raw)
    return bool(text) and len(text) <= 80 and (bool(_TOOLBAR.match(text)) or (
        len(text) < 200 and bool(_PREV_NEXT.match(text))))


_SCOPE_TAGS = frozenset({"table", "div", "td", "body", "dl", "section", "article", "form", "main", "center", "ul",
                         "ol"})


def read_page(item: ItemPage, labels: Labels, within: etree._Element | None = None,
              exclude: Sequence[etree._Element] = ()) -> Reading:
    """Read a page's label/value entries: inside the ``hints.body`` element when the plugin
    names one, else inside the smallest element holding every label (furniture left out)."""
    removed = [el for sel in item.hints.remove for el in item.selected(sel, "body_text")] + list(exclude)
    skip = _skipper(removed)
    scope = within
    if scope is None:
        hinted = item.selected(item.hints.body, "body_text")
        scope = hinted[0] if hinted else None
    if scope is None:
        body = item.body()
        units = units_of(body, skip)
        owners = [u.owner for u in units if labels.match(u) and not u.link_only]
        scope = lowest_common_ancestor(owners) if owners else body
        if scope is None:
            scope = body
        elif tag_name(scope) not in _SCOPE_TAGS:
            scope = next((a for a in scope.iterancestors() if tag_name(a) in _SCOPE_TAGS), body)
    units = units_of(scope, skip) if scope is not None else []
    return Reading(scope, read_entries(units, labels), labels)


def label_hits(units: Sequence[Unit], labels: Labels) -> list[tuple[Unit, LabelMatch]]:
    """Known labels used as labels on non-link lines (for detecting the kind of a page)."""
    return [(u, m) for u in units if not u.link_only for m in labels.match(u) if m.key]


# ------------------------------------------------------------------------------- value helpers

def header_index(cells: list[str], words: tuple[str, ...]) -> int | None:
    for i, text in enumerate(cells):
        if any(w in text for w in words):
            return i
    return None


def cells(row: etree._Element) -> list[etree._Element]:
    return [c for c in row if tag_name(c) in ("td", "th")]


def cell_text(cell: etree._Element) -> str:
    return clean_text(" ".join(paragraphs(cell)))


def is_serial(text: str) -> bool:
    return bool(re.fullmatch(r"\d{1,3}|[一二三四五六七八九十]+|序号", text))


def row_items(rows: list[list[str]], name_words: tuple[str, ...]) -> list[str] | None:
    """One entry per data row of a table (rows of cell texts): the column a header names, else
    the first cell that is not a serial number. None when the value is no table."""
    rows = [r for r in rows if any(r)]
    if not rows or all(len(r) < 2 for r in rows):
        return None
    header = None
    column = None
    for i, texts in enumerate(rows[:2]):
        if (idx := header_index(texts, name_words)) is not None and all(len(t) <= 12 for t in texts):
            header, column = i, idx
            break
    items = []
    for texts in rows[(header + 1) if header is not None else 0:]:
        if column is not None and column < len(texts):
            value = texts[column]
        else:
            value = next((t for t in texts if t and not is_serial(t)), "")
        if value:
            items.append(value)
    return items


_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7,
              "八": 8, "九": 9}
_CN_UNITS = {"十": 10, "百": 100, "千": 1000}
CN_NUMBER = r"[零〇一二两三四五六七八九十百千]+"


def parse_cn_int(text: str) -> int | None:
    """``二十`` → 20, ``十五`` → 15, ``一百二十`` → 120, ``30`` → 30; None when it is no number."""
    text = fullwidth_to_ascii(text.strip())
    if text.isdigit():
        return int(text)
    if not text or any(c not in _CN_DIGITS and c not in _CN_UNITS for c in text):
        return None
    total, digit = 0, None
    for c in text:
        if c in _CN_DIGITS:
            digit = _CN_DIGITS[c]
        else:
            total += (1 if digit is None else digit) * _CN_UNITS[c]
            digit = None
    return total + (digit or 0)


_PHONE = re.compile(r"(?<![\d-])(?:\(?0\d{2,3}\)?[-－—‐\s]?)?\d{7,8}(?:[-转]\d{1,5})?(?![\d])|(?<!\d)1[3-9]\d{9}(?!\d)|"
                    r"(?<![\d-])0\d{2,3}-\d{5}(?!\d)|"  # an area code and a hotline: 0574-12345
                    r"(?<!\d)\d{5}(?!\d)|(?<!\d)\d{3,4}-\d{3}-\d{4}(?!\d)")


def phone_numbers(text: str | None) -> list[str]:
    """The phone numbers in a value, as printed (``0574-86781234``, ``12345``)."""
    if not text:
        return []
    return [m.group(0).strip() for m in _PHONE.finditer(fullwidth_to_ascii(text))]


def strip_numbering(line: str) -> str:
    """``1. 受理`` → ``受理``; also ``（一）``, ``一、``, ``第一步：``, bullets."""
    line = re.sub(r"^\s*(?:第\s*(?:\d+|" + CN_NUMBER + r")\s*[步条项]\s*[:：、.．]?|步骤\s*(?:\d+|" + CN_NUMBER +
                  r")\s*[:：、.．]?)\s*", "", line)
    line = re.sub(r"^\s*(?:\d{1,2}\s*[、.．)）](?!\d)|[（(]\s*(?:\d{1,2}|" + CN_NUMBER + r")\s*[)）]|" + CN_NUMBER +
                  r"\s*[、.．]|[■●◆◇□○▶►·•※★☆▪◎-]+)\s*", "", line)
    return line.strip()


def attachment_from_link(item: ItemPage, a: etree._Element, field_name: str) -> Attachment | None:
    """An Attachment of a link (forms): name, public absolute URL and file type ('unknown' when
    neither the URL nor the text names one). An unusable URL is a FieldError."""
    href = link_href(a)
    url = item.absolute(href)
    if url is None:
        if href and not href.startswith(("#", "javascript:void")):
            item.errors.append(FieldError(field=field_name, message="unusable link", raw=href))
        return None
    text = clean_text(cast(HtmlElement, a).text_content()) or clean_text(a.get("title"))
    file_type = attachment_type(url, text) or attachment_type(url, clean_text(a.get("title")))
    if file_type is None:
        suffix = PurePosixPath(unquote(urlsplit(url).path)).suffix.lower().lstrip(".")
        file_type = suffix if suffix and suffix.isalnum() and len(suffix) <= 5 and suffix not in (
            "html", "htm", "asp", "aspx", "php", "jsp", "do", "shtml") else "unknown"
    name = text or unquote(PurePosixPath(urlsplit(url).path).name) or url
    try:
        return Attachment(name=name, url=cast(HttpUrl, url), file_type=file_type)  # pydantic parses the str
    except ValidationError:
        item.errors.append(FieldError(field=field_name, message="invalid link URL", raw=url))
        return None


_URL_IN_TEXT = re.compile(r"https?://[\w\-.:%/?#\[\]@!$&'()*+,;=~]+")


def url_of(item: ItemPage, entry: Entry | None, field_name: str, prefer: Callable[[str], bool] | None = None,
           images: bool = False) -> str | None:
    """The URL an entry points at: its first usable link (one ``prefer`` likes first), image
    (with ``images``), or a URL written as text. A URL that cannot be read is a FieldError."""
    if entry is None:
        return None
    candidates: list[str] = []
    unusable: list[str] = []
    for a in entry.links():
        href = link_href(a)
        if (url := item.absolute(href)) is not None:
            candidates.append(url)
        elif href and not href.lower().startswith(("#", "javascript:", "mailto:", "tel:")):
            unusable.append(href)
    if images:
        candidates += [u for img in entry.images() if (u := item.absolute(img.get("src"))) is not None]
    if not candidates and unusable:
        item.errors.append(FieldError(field=field_name, message="invalid URL", raw=unusable[0]))
        return None
    if not candidates:
        candidates = [m.group(0).rstrip("。，,;；)）") for m in _URL_IN_TEXT.finditer(" ".join(entry.lines()))]
    if prefer is not None:
        candidates.sort(key=lambda u: not prefer(u))
    for url in candidates:
        parts = urlsplit(url)
        if parts.scheme in ("http", "https") and parts.hostname:
            return url
        item.errors.append(FieldError(field=field_name, message="invalid URL", raw=url))
        return None
    return None


_TITLE_CLASS = re.compile(r"title|biaoti|headline|(?:^|[\s_-])(?:tit|bt)(?:$|[\s_\d-])")


def _in_chrome(el: etree._Element) -> bool:
    return any(is_chrome(a) for a in [el, *el.iterancestors()] if tag_name(a) not in (None, "html", "body"))


def heading_title(item: ItemPage, scope: etree._Element, labels: Labels,
                  reject: Callable[[str], bool] = lambda text: False) -> str | None:
    """The item's own heading: the first h1–h3 (or element whose class says title) inside the
    read scope, else the nearest one before it, outside page furniture; never a label, a column
    name or the site's name."""
    names = {clean_text(n) for n in item.context.column_path}
    for meta in item.root.iter("meta"):
        if (meta.get("name") or "").lower() in ("sitename", "columnname"):
            names.add(clean_text(meta.get("content")))

    def usable(el: etree._Element) -> str | None:
        text = clean_text(cast(HtmlElement, el).text_content())
        if not 2 <= len(text) <= 120 or text in names or normalize_label(text) in labels.keys or reject(text):
            return None
        if el.getparent() is not None and _in_chrome(el):
            return None
        return text

    candidates = [el for el in item.body().iter() if tag_name(el) in ("h1", "h2", "h3") or (
        tag_name(el) in ("div", "td", "p", "span", "strong", "font") and _TITLE_CLASS.search(_class_id(el))
        and not any(tag_name(d) in BLOCK_TAGS for d in el.iterdescendants()))]
    inside = [el for el in candidates if el is scope or scope in el.iterancestors()]
    before = [el for el in candidates if el not in inside]
    order = {el: i for i, el in enumerate(item.body().iter())}
    scope_pos = order.get(scope, 0)
    before = sorted((el for el in before if order.get(el, 0) < scope_pos), key=lambda el: -order[el])
    for el in inside + before:
        if (text := usable(el)) is not None:
            return text
    return None


class ItemHeader(TypedDict):
    """What ``item_header`` returns: keyword arguments of every item model."""

    id: str
    site_code: str
    column_path: list[str]
    category: Category
    source_url: HttpUrl  # a str, which pydantic parses
    fetched_at: dt.datetime


def item_header(page: RawPage, context: PageContext) -> ItemHeader:
    """The fields every exchange-standard item takes from its page and context."""
    return {
        "id": document_id(canonicalize_url(context.public_url)), "site_code": context.site_code,
        "column_path": list(context.column_path), "category": context.category,
        "source_url": cast(HttpUrl, context.public_url), "fetched_at": page.fetched_at or dt.datetime.now(SHANGHAI),
    }
