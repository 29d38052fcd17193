"""Text clean-up: whitespace as legacy CMSs and Word produce it, and HTML → paragraphs.

``clean_text`` only touches whitespace and invisible characters; Chinese punctuation and
full-width forms are content and stay as printed (``fullwidth_to_ascii`` is the separate,
explicit conversion for digits and Latin letters, used where numbers are parsed).
"""

from __future__ import annotations

import functools
import re
from typing import cast

from lxml import etree
from lxml.html import HtmlElement  # what every etree._Element here is

# Every Unicode space separator plus the ASCII controls that act as whitespace.
_SPACES = "\t\n\v\f\r \u0085\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a" \
          "\u2028\u2029\u202f\u205f\u3000"
_SPACE_RUN = re.compile(f"[{_SPACES}]+")
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u200e\u200f\u2060\ufeff\u00ad"), None)
# Double-escaped entities survive HTML parsing as literal text in many legacy databases.
_LITERAL_NBSP = re.compile(r"&(?:nbsp|#160|#x0*a0);?", re.IGNORECASE)
_FULLWIDTH_ALNUM = {
    **{0xFF10 + i: ord("0") + i for i in range(10)},
    **{0xFF21 + i: ord("A") + i for i in range(26)},
    **{0xFF41 + i: ord("a") + i for i in range(26)},
}

# Elements whose text never belongs to the content.
DROPPED_TAGS = frozenset({"script", "style", "noscript", "template", "head", "title", "meta", "link",
                          "object", "embed", "iframe", "frame", "frameset", "select", "option",
                          "textarea", "button", "input", "xml"})
# Elements that end a paragraph (before and after them).
BLOCK_TAGS = frozenset({
    "p", "div", "br", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "dl", "dt", "dd",
    "table", "thead", "tbody", "tfoot", "caption", "blockquote", "pre", "section", "article", "header",
    "footer", "nav", "aside", "form", "fieldset", "legend", "hr", "address", "figure", "figcaption",
    "center", "main", "details", "summary", "td", "th",
})
CELL_TAGS = frozenset({"td", "th"})
CELL_SEPARATOR = " | "
# A cell holding any of these is page layout, not data: its row is not joined into one line.
_LAYOUT_IN_CELL = ("table", "ul", "ol", "dl", "h1", "h2", "h3", "h4", "h5", "h6", "div", "blockquote")
_LONG_CELL = 300


def clean_text(s: str | None) -> str:
    """Whitespace-normalise one line of text.

    ``&nbsp;`` (also as literal, double-escaped text), U+00A0, U+3000 and every other Unicode
    space become one ASCII space; zero-width characters and soft hyphens are removed; runs are
    collapsed and the ends trimmed. Everything else, including full-width punctuation
    (，。：（）) and full-width digits, is kept as is. Cached (bounded): the extractors clean the
    same runs of a page several times (labels, dates, titles, the body).
    """
    if not s:
        return ""
    return _clean(s)


@functools.lru_cache(maxsize=4096)
def _clean(s: str) -> str:
    s = _LITERAL_NBSP.sub(" ", s).translate(_INVISIBLE)
    return _SPACE_RUN.sub(" ", s).strip()


def fullwidth_to_ascii(s: str) -> str:
    """Convert full-width digits and Latin letters (０-９, Ａ-Ｚ, ａ-ｚ) to ASCII; nothing else."""
    return s.translate(_FULLWIDTH_ALNUM)


def tag_name(el: object) -> str | None:
    """Lower-case tag of an lxml element, or None for comments and processing instructions."""
    tag = getattr(el, "tag", None)
    if tag.__class__ is not str:  # a comment's or PI's tag is a function
        return None
    return _lower(tag)


@functools.lru_cache(maxsize=1024)  # HTML has few tag names: each lower-cased once
def _lower(tag: str) -> str:
    return tag.lower()


class _Paragraphs:
    """Accumulates inline text; ``end()`` closes the current paragraph."""

    def __init__(self) -> None:
        self.done: list[str] = []
        self._parts: list[str] = []

    def add(self, text: str | None) -> None:
        if text:
            self._parts.append(text)

    def end(self) -> None:
        if self._parts:
            paragraph = clean_text("".join(self._parts))
            self._parts = []
            if paragraph:
                self.done.append(paragraph)

    def block(self, text: str) -> None:
        self.end()
        self.add(text)
        self.end()


def _is_data_row(row: etree._Element) -> bool:
    # a row of one cell is layout (DedeCMS's one-cell table around the body): its paragraphs
    # stay paragraphs instead of being joined into one line
    if sum(1 for cell in row if tag_name(cell) in CELL_TAGS) < 2:
        return False
    for cell in row:
        if tag_name(cell) not in CELL_TAGS:
            continue
        if any(tag_name(d) in _LAYOUT_IN_CELL for d in cell.iterdescendants()):
            return False
        if len(cast(HtmlElement, cell).text_content()) > _LONG_CELL:
            return False
    return True


def _cell_text(cell: etree._Element) -> str:
    return " ".join(paragraphs(cell))


def _walk(el: etree._Element, out: _Paragraphs, cells_alone: bool) -> None:
    tag = tag_name(el)
    if tag is None or tag in DROPPED_TAGS:
        return
    if tag == "br" or tag == "hr":
        out.end()
        return
    if tag == "tr" and _is_data_row(el):
        cells = [c for c in el if tag_name(c) in CELL_TAGS]
        if cells_alone:
            for cell in cells:
                out.block(_cell_text(cell))
        else:
            out.block(CELL_SEPARATOR.join(t for t in map(_cell_text, cells) if t))
        return
    if cells_alone and tag in ("dt", "dd", "li") and not any(
            tag_name(d) in ("li", "table", "dl", "ul", "ol") for d in el.iterdescendants()):
        out.block(_cell_text(el))
        return
    block = tag in BLOCK_TAGS
    if block:
        out.end()
    out.add(el.text)
    for child in el:
        _walk(child, out, cells_alone)
        out.add(child.tail)
    if block:
        out.end()


def paragraphs(element: etree._Element, *, cells_alone: bool = False) -> list[str]:
    """The cleaned paragraphs of ``element`` (its own tail excluded), in document order.

    With ``cells_alone`` every table cell, ``dt``/``dd`` and simple ``li`` is its own paragraph
    (what a label/value reader wants); otherwise the cells of a data row are joined by
    ``CELL_SEPARATOR``.
    """
    out = _Paragraphs()
    if tag_name(element) in DROPPED_TAGS:
        return []
    out.add(element.text)
    for child in element:
        _walk(child, out, cells_alone)
        out.add(child.tail)
    out.end()
    return out.done


def html_to_text(element: etree._Element) -> str:
    """Readable text of an element: paragraphs separated by a blank line (``"\\n\\n"``).

    p/div/br/tr/li/h1-h6 and the other block elements end paragraphs; the cells of a data
    table row are joined by ``" | "`` on one line (cells of layout tables, which hold blocks,
    are paragraphs of their own); script, style and other non-content elements are dropped.
    """
    return "\n\n".join(paragraphs(element))

