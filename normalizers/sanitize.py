"""Sanitized body HTML: structure kept, presentation, scripts and Word cruft dropped.

Two passes: lxml removes what an allow-list cannot see (Word's ``<o:p>``/``<xml>``, conditional
comments, hidden elements, empty spans) and makes links absolute; nh3 (ammonia) then applies
the allow-list, which is the security boundary.
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
_CONTENT_TAGS = {"script", "style", "xml", "noscript", "template", "iframe", "object", "embed", "head",
                 "title", "select", "textarea", "button", "math", "svg", "frame", "frameset", "applet"}
# Word: <!--[if gte mso 9]>…<![endif]--> hides content; <![if !supportLists]>…<![endif]> shows it.
_DOWNLEVEL_HIDDEN = re.compile(r"<!--\[if[^\]]*\]>.*?<!\[endif\]-->", re.DOTALL | re.IGNORECASE)
_DOWNLEVEL_REVEALED = re.compile(r"<!\[(?:if[^\]]*|endif)\]>", re.IGNORECASE)
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)


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
        if tag in _CONTENT_TAGS or _HIDDEN_STYLE.search(el.get("style", "")):
            cast(HtmlElement, el).drop_tree()
            continue
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
    return nh3.clean(
        html_text,
        tags=set(ALLOWED_TAGS),
        attributes={"*": set(), **{tag: set(attrs) for tag, attrs in ALLOWED_ATTRIBUTES.items()}},
        url_schemes=set(URL_SCHEMES),
        clean_content_tags=set(_CONTENT_TAGS),
        strip_comments=True,
        link_rel=None,
    ).strip()


def sanitize_html(fragment_html: str, base_url: str, url_map: Callable[[str], str] | None = None) -> str:
    """Sanitize an HTML fragment for storage and display.

    Keeps structural tags (p, br, div, span, tables with colspan/rowspan, lists, h1-h6,
    strong/b/em/i/u, a[href], img[src, alt]); drops scripts, styles, event handlers, inline
    styles, class/id/lang, Word cruft (``<o:p>``, ``<xml>``, conditional comments, ``mso-``
    styles), hidden elements, empty spans and blank paragraphs. ``href``/``src`` are made
    absolute against ``base_url`` and then passed through ``url_map`` (e.g. to move them from
    a mirror to the public origin); only http, https and mailto links survive.
    """
    if not fragment_html or not fragment_html.strip():
        return ""
    fragment_html = _DOWNLEVEL_REVEALED.sub("", _DOWNLEVEL_HIDDEN.sub("", fragment_html))
    try:
        container = lxml.html.fragment_fromstring(fragment_html, create_parent="div")
    except (etree.ParserError, ValueError):  # unparseable for lxml: the allow-list alone still applies
        return _allow_list(fragment_html)
    _prune(container, base_url, url_map)
    inner = (html.escape(container.text, quote=False) if container.text else "") + "".join(
        lxml.html.tostring(child, encoding="unicode") for child in container)
    return _allow_list(inner)
