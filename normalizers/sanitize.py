"""Sanitized body HTML: structure kept, presentation, scripts and Word cruft dropped.

Two passes: lxml removes what an allow-list cannot see (Word's ``<o:p>``/``<xml>``, conditional
comments, hidden elements, empty spans) and makes links absolute; nh3 (ammonia) then applies
the allow-list, which is the security boundary.

No element truncates the text. libxml2's HTML parser does not know every void element of
HTML5 (``<embed>``, ``<wbr>``, ``<source>``, ``<track>``, ``<keygen>``…): it parses what follows
one as its content, which a removal with its content then lost (``<p>a</p><embed src=x.swf>
<p>b</p>`` kept only "a"). :func:`unnest_void_content` moves such content out after the element,
where it belongs; it runs on every parsed page (``normalizers.article.parse_html``) and here.
Stray ``</body>``/``</html>`` end tags (pasted documents, included templates) make libxml2 stop
or drop what follows; HTML5 ignores them, and so does :func:`drop_document_end_tags`.
What is removed with its content on purpose is :data:`REMOVED_WITH_CONTENT` (scripts, styles,
forms, frames, embedded objects, Word's data islands), hidden elements and VML drawings.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from typing import cast
from urllib.parse import urljoin

import lxml.html
import nh3
from lxml import etree
from lxml.html import HtmlElement  # what every etree._Element here is

from normalizers.text import clean_text, tag_name

ALLOWED_TAGS = frozenset({
    "p", "br", "div", "span", "table", "thead", "tbody", "tfoot", "tr", "td", "th", "caption",
    "ul", "ol", "li", "h1", "h2", "h3", "h4", "h5", "h6", "strong", "b", "em", "i", "u", "a", "img",
    "sub", "sup", "blockquote", "pre", "hr",
})
ALLOWED_ATTRIBUTES = {"a": {"href"}, "img": {"src", "alt"}, "td": {"colspan", "rowspan"}, "th": {"colspan", "rowspan"}}
URL_SCHEMES = frozenset({"http", "https", "mailto"})
# Removed with their content (nh3 strips other disallowed tags but keeps their text).
REMOVED_WITH_CONTENT = frozenset({
    "script", "style", "xml", "noscript", "template", "iframe", "object", "embed", "head", "title", "select",
    "textarea", "button", "math", "svg", "frame", "frameset", "applet"})
# Elements that never have content (HTML5's void elements and the legacy ones its parser treats
# so): whatever a parser put inside one follows it.
VOID_ELEMENTS = frozenset({
    "area", "base", "basefont", "bgsound", "br", "col", "embed", "frame", "hr", "image", "img", "input",
    "isindex", "keygen", "link", "meta", "param", "source", "track", "wbr"})
# Legacy elements whose content is raw text (lxml serializes it escaped, an HTML5 parser would
# then read the escapes literally): kept as the preformatted or plain block they show as.
_RAW_TEXT_RENAMED = {"xmp": "pre", "plaintext": "pre", "listing": "pre", "noembed": "div", "noframes": "div"}
_DOCUMENT_END_TAG = re.compile(r"</(?:body|html)\s*>", re.IGNORECASE)
# what an HTML5 parser makes of the end tag of a paragraph lxml nested in another one
_EMPTY_PARAGRAPH = re.compile(r"<p></p>")
# Word: <!--[if gte mso 9]>…<![endif]--> hides content; <![if !supportLists]>…<![endif]> shows it.
# (to the comment's end: an unterminated one must not swallow the text up to a later <![endif]-->)
_DOWNLEVEL_HIDDEN = re.compile(r"<!--\[if[^\]]*\]>.*?-->", re.DOTALL | re.IGNORECASE)
_DOWNLEVEL_REVEALED = re.compile(r"<!\[(?:if[^\]]*|endif)\]>", re.IGNORECASE)
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)


def drop_document_end_tags(html_text: str) -> str:
    """``html_text`` without ``</body>`` and ``</html>`` end tags: libxml2 drops what follows a
    ``</html>`` (and a fragment's parse what follows a ``</body>``); HTML5 parsers go on."""
    return _DOCUMENT_END_TAG.sub("", html_text)


def unnest_void_content(root: etree._Element) -> None:
    """Move what the parser put inside a void element (text, elements) out after it, in place.

    libxml2 parses ``<embed src=x><p>after</p>`` as an ``embed`` holding the paragraph (it only
    knows the void elements of HTML 4); a void element has no content, so the paragraph is the
    embed's next sibling in every browser, and here after this."""
    for el in list(root.iter(*VOID_ELEMENTS)):
        parent = el.getparent()
        if parent is None or (not el.text and not len(el)):
            continue
        tail, children = el.tail, list(el)
        el.tail, el.text = el.text, None
        at = parent.index(el)
        for offset, child in enumerate(children, 1):
            parent.insert(at + offset, child)  # moves the child with its tail
        last = children[-1] if children else el
        last.tail = ((last.tail or "") + (tail or "")) or None


def _resolve(value: str, base_url: str, url_map: Callable[[str], str] | None) -> str | None:
    value = value.strip()
    if not value or value.startswith("#"):
        return None
    try:
        absolute = urljoin(base_url, value)
    except ValueError:
        return None
    if absolute.split(":", 1)[0].lower() not in URL_SCHEMES:
        return None
    return url_map(absolute) if url_map else absolute


def _is_blank(el: etree._Element) -> bool:
    return len(el) == 0 and not clean_text(el.text)


def _prune(container: etree._Element, base_url: str, url_map: Callable[[str], str] | None) -> None:
    for el in list(container.iter()):
        if el is container:
            continue
        tag = tag_name(el)
        if tag is None:  # comments, processing instructions
            if el.getparent() is not None:
                cast(HtmlElement, el).drop_tree()
            continue
        if ":" in tag:  # Word/VML namespaced elements: <o:p>, <v:shape>, <w:sdt>
            if tag.startswith("v:"):
                cast(HtmlElement, el).drop_tree()
            else:
                cast(HtmlElement, el).drop_tag()
            continue
        if tag in REMOVED_WITH_CONTENT or _HIDDEN_STYLE.search(el.get("style", "")):
            cast(HtmlElement, el).drop_tree()
            continue
        if tag in _RAW_TEXT_RENAMED:
            el.tag = _RAW_TEXT_RENAMED[tag]
        for attr in ("href", "src"):
            if (value := el.get(attr)) is not None:
                resolved = _resolve(value, base_url, url_map)
                if resolved is None:
                    del el.attrib[attr]
                else:
                    el.set(attr, resolved)
    # Bottom-up, so a span emptied by removing its <o:p> goes too (its whitespace stays),
    # and then a paragraph left with nothing but &nbsp; (Word's spacer lines).
    for el in reversed(list(container.iter("span"))):
        if _is_blank(el):
            cast(HtmlElement, el).drop_tag()
    for el in list(container.iter("p")):
        if _is_blank(el):
            cast(HtmlElement, el).drop_tree()


def _allow_list(html_text: str) -> str:
    cleaned = nh3.clean(
        html_text,
        tags=set(ALLOWED_TAGS),
        attributes={"*": set(), **{tag: set(attrs) for tag, attrs in ALLOWED_ATTRIBUTES.items()}},
        url_schemes=set(URL_SCHEMES),
        clean_content_tags=set(REMOVED_WITH_CONTENT),
        strip_comments=True,
        link_rel=None,
    )
    return _EMPTY_PARAGRAPH.sub("", cleaned).strip()


def sanitize_html(fragment_html: str, base_url: str, url_map: Callable[[str], str] | None = None) -> str:
    """Sanitize an HTML fragment for storage and display.

    Keeps structural tags (p, br, div, span, tables with colspan/rowspan, lists, h1-h6,
    strong/b/em/i/u, a[href], img[src, alt]); drops scripts, styles, event handlers, inline
    styles, class/id/lang, Word cruft (``<o:p>``, ``<xml>``, conditional comments, ``mso-``
    styles), hidden elements, empty spans and blank paragraphs. ``href``/``src`` are made
    absolute against ``base_url`` and then passed through ``url_map`` (e.g. to move them from
    a mirror to the public origin); only http, https and mailto links survive. Text is only
    ever removed with the elements of :data:`REMOVED_WITH_CONTENT`, hidden elements and VML
    drawings: void, unknown and legacy elements keep what follows them (module docstring).
    """
    if not fragment_html or not fragment_html.strip():
        return ""
    fragment_html = _DOWNLEVEL_REVEALED.sub("", _DOWNLEVEL_HIDDEN.sub("", fragment_html))
    try:
        container = lxml.html.fragment_fromstring(drop_document_end_tags(fragment_html), create_parent="div")
    except (etree.ParserError, ValueError):  # unparseable for lxml: the allow-list alone still applies
        return _allow_list(fragment_html)
    unnest_void_content(container)
    _prune(container, base_url, url_map)
    inner = (html.escape(container.text, quote=False) if container.text else "") + "".join(
        lxml.html.tostring(child, encoding="unicode") for child in container)
    return _allow_list(inner)
