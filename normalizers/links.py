"""The links of a page, for the dead-link report (死链检测): pure functions, no I/O.

:func:`extract_links` reads the links of one page: ``<a href>``, ``<area href>``,
``<iframe src>``/``<frame src>``, ``<img src>``, ``<link rel=stylesheet href>``, ``<script src>``,
embedded files (``<embed src>``, ``<object data>``, ``<source src>``, ``<video src>``,
``<audio src>``) and attachments (which are ``<a href>`` links), resolved against the page URL
or its ``<base href>``, fragments stripped, cleaned as the server serves them
(:func:`normalizers.urls.served_url`: what the checker requests and the report shows; a default
document such as ``index.html`` and the query's order stay), de-duplicated by their canonical
key (:func:`normalizers.urls.canonicalize_url`), each with its anchor text.
``javascript:``, ``mailto:``, ``tel:``, ``data:`` and pure ``#fragment`` links are skipped —
except a ``javascript:window.open('…')`` href or an ``onclick="location.href='…'"`` handler,
which is how the classic ASP subsites link every article: the URL it opens
(:func:`url_from_script`) is the link; and a ``<meta http-equiv="refresh">`` target
(:func:`meta_refresh`, tag ``meta``). :func:`links_from_body` decodes page bytes first
(:func:`normalizers.encoding.decode_html`).

Each link keeps the element that linked it (``Link.tag``): the checker never requests a URL the
pages only load as a script. A URL linked by several elements keeps the most navigational one
(:func:`most_navigational`: ``a`` > ``iframe`` > ``img`` > ``link`` > ``script``).

:func:`meta_refresh` also tells the crawl whether a refresh replaces the page: only a page with
no content of its own (:data:`REFRESH_ONLY_TEXT_MAX`) is a redirect; on any other the target
is just a link.

The crawl records these links in the store (``gateway.store.links``) and the checker
(``gateway.ops.linkcheck``) checks them.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass
from typing import cast
from urllib.parse import urldefrag, urljoin, urlsplit

import lxml.html
from lxml import etree

from normalizers.encoding import decode_html
from normalizers.sanitize import drop_document_end_tags
from normalizers.urls import canonicalize_url, rebase, served_url

__all__ = ["ANCHOR_MAX", "REFRESH_ONLY_TEXT_MAX", "TAG_RANK", "URL_MAX", "Link", "MetaRefresh", "canonical_link",
           "collapse_anchor", "extract_links", "links_from_body", "meta_refresh", "most_navigational",
           "served_link", "url_from_script"]

ANCHOR_MAX = 200  # characters of link text kept
URL_MAX = 4096  # longer "URLs" are not links worth checking (inline data, broken markup)

# tag → the attribute holding its URL (``link`` only when rel=stylesheet)
_URL_ATTRIBUTES = {
    "a": "href", "area": "href", "iframe": "src", "frame": "src", "img": "src", "script": "src",
    "link": "href", "embed": "src", "object": "data", "source": "src", "video": "src", "audio": "src",
}
# how navigational an element's link is (lower: more): what a user follows, then what a page
# shows inside itself, then what it only loads; an element not listed ranks with ``img``
TAG_RANK = {
    "a": 0, "area": 0, "meta": 0,
    "iframe": 1, "frame": 1,
    "img": 2, "embed": 2, "object": 2, "source": 2, "video": 2, "audio": 2,
    "link": 3,
    "script": 4,
}
_SKIPPED_SCHEMES = ("javascript:", "mailto:", "tel:", "data:", "about:", "sms:", "callto:", "file:")
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>", re.IGNORECASE)
_WHITESPACE = re.compile(r"\s+")
REFRESH_ONLY_TEXT_MAX = 100  # characters of text outside links (whitespace aside) a refresh-only page may have
_REFRESH_HINT = re.compile(r"http-equiv\s*=\s*[\"']?\s*refresh", re.IGNORECASE)
_REFRESH_CONTENT = re.compile(r"^\s*(\d*)(\.[\d.]*)?\s*(?:[;,]\s*|\s+|$)(.*)$", re.DOTALL)
_REFRESH_URL_PREFIX = re.compile(r"^url\s*=\s*", re.IGNORECASE)
# elements whose text is no content of a page (what a refresh stub may still carry)
_NOT_CONTENT = ("script", "style", "noscript", "template", "title", "head", "select", "option", "textarea",
                "button", "iframe", "object", "a")
_CONTENT_TEXT = etree.XPath(".//text()[not(" + " or ".join(f"ancestor::{t}" for t in _NOT_CONTENT) + ")]")


@dataclass(frozen=True)
class Link:
    """One link of a page: its absolute URL as served (no fragment), its text, and the tag."""

    url: str
    anchor: str = ""
    tag: str = "a"


def most_navigational(first: str | None, second: str | None) -> str | None:
    """Of two elements linking one URL, the more navigational (:data:`TAG_RANK`); an unknown
    element (None) is a link, as navigational as ``a``."""
    def rank(tag: str | None) -> int:
        return 0 if tag is None else TAG_RANK.get(tag, TAG_RANK["img"])

    return second if rank(second) < rank(first) else first


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def collapse_anchor(text: str | None) -> str:
    """Link text as shown: whitespace runs as one space, control characters (NUL cannot be
    stored in PostgreSQL text) dropped, at most :data:`ANCHOR_MAX` characters."""
    return _WHITESPACE.sub(" ", _CONTROL.sub("", text or "")).strip()[:ANCHOR_MAX]


def _anchor(element: lxml.html.HtmlElement, tag: str) -> str:
    """The visible name of a link: its text, else its title, else an image's alt text."""
    if tag in ("a", "area"):
        text = collapse_anchor(element.text_content()) if tag == "a" else ""
        if not text:
            text = collapse_anchor(element.get("title")) or collapse_anchor(element.get("alt"))
        if not text and tag == "a":
            for img in element.iter("img"):
                if text := collapse_anchor(img.get("alt")) or collapse_anchor(img.get("title")):
                    break
        return text
    if tag in ("img", "iframe", "frame", "embed", "object"):
        return collapse_anchor(element.get("alt")) or collapse_anchor(element.get("title"))
    return ""


def _encode_query(url: str, encoding: str | None) -> str:
    """Non-ASCII characters of the query in the page's encoding, as a browser sends them
    (``search.php?kw=社保`` on a GBK page is ``kw=%C9%E7%B1%A3``); the path stays UTF-8."""
    if not encoding or url.isascii() or encoding.replace("_", "-").lower() in ("utf-8", "utf8"):
        return url
    head, question, rest = url.partition("?")
    if not question:
        return url
    query, hash_mark, fragment = rest.partition("#")
    out = []
    for char in query:
        if char.isascii():
            out.append(char)
            continue
        try:
            raw = char.encode(encoding)
        except (UnicodeError, LookupError):
            raw = char.encode("utf-8", "surrogatepass")
        out.append("".join(f"%{b:02X}" for b in raw))
    return head + question + "".join(out) + hash_mark + fragment


_SCRIPT_URL = re.compile(
    r"""(?:window\.open|open|(?:window\.|document\.|top\.|parent\.|self\.)?location(?:\.href)?\s*=|"""
    r"""location\.(?:assign|replace)|openWin\w*|showArticle\w*|goUrl|gotoUrl)\s*\(?\s*(['"])([^'"]+)\1""",
    re.I,
)


def url_from_script(script: str | None) -> str | None:
    """The URL a ``javascript:window.open('…')`` href or an ``onclick="location.href='…'"``
    handler navigates to, or None."""
    if not script:
        return None
    match = _SCRIPT_URL.search(script)
    return match.group(2).strip() if match else None


@dataclass(frozen=True)
class MetaRefresh:
    """A page's ``<meta http-equiv="refresh">``: the delay, the target as written, the URL to
    follow, and how much content the page has of its own."""

    delay: float  # seconds
    target: str  # as written ("" for a reload of the page itself)
    url: str | None  # absolute http(s) URL; None for a reload, javascript:, mailto:, other schemes
    content_chars: int  # characters of the body's text outside links, scripts and forms (whitespace aside)

    @property
    def refresh_only(self) -> bool:
        """Whether the page is nothing but the refresh (a redirect stub): at most
        :data:`REFRESH_ONLY_TEXT_MAX` characters of content."""
        return self.content_chars <= REFRESH_ONLY_TEXT_MAX


def _parse_refresh(content: str) -> tuple[float, str] | None:
    """(delay, target as written) of a refresh's ``content``, as HTML's declarative refresh
    reads it (``5``, ``0;url=a.html``, ``0; URL='a.html'``, ``3,a.html``, ``0 a.html``); None
    when it has no delay."""
    match = _REFRESH_CONTENT.match(content)
    if match is None or not (match.group(1) or match.group(2)):
        return None
    delay = float(match.group(1) or 0)
    target = _REFRESH_URL_PREFIX.sub("", match.group(3).strip(), count=1)
    if target[:1] in ("'", '"'):
        quote, target = target[0], target[1:]
        target = target.split(quote, 1)[0]
    return delay, target.strip()


def _base_url(root: etree._Element, page_url: str) -> str:
    """The URL relative links resolve against: the first ``<base href>`` (http or https), else
    the page's own."""
    for element in root.iter("base"):
        href = (element.get("href") or "").strip()
        if href:
            with contextlib.suppress(ValueError):
                candidate = urljoin(page_url, href)
                if urlsplit(candidate).scheme.lower() in ("http", "https"):
                    return candidate
        break
    return page_url


def _parse_document(html: str) -> lxml.html.HtmlElement | None:
    text = drop_document_end_tags(_XML_DECLARATION.sub("", (html or "").replace("\x00", ""), count=1))
    if not text.strip():
        return None
    try:
        return lxml.html.document_fromstring(text)
    except (etree.ParserError, ValueError):
        return None


def _refresh_of(root: etree._Element) -> tuple[float, str] | None:
    for element in root.iter("meta"):
        if (element.get("http-equiv") or "").strip().lower() == "refresh":
            parsed = _parse_refresh(element.get("content") or "")
            if parsed is not None:
                return parsed  # the first one counts, as in a browser
    return None


def meta_refresh(html: str, page_url: str) -> MetaRefresh | None:
    """The page's meta refresh, or None when it has none.

    ``url`` is where the refresh leads, resolved against the page's base: None when it leads
    nowhere to follow (a reload: no target, an empty one, or the page itself; ``javascript:``,
    ``mailto:`` and every other scheme but http and https). ``content_chars`` measures the body
    without links, scripts, styles and form controls: a page with content is itself, whatever
    its refresh says (:attr:`MetaRefresh.refresh_only`)."""
    if not html or not _REFRESH_HINT.search(html):
        return None
    root = _parse_document(html)
    if root is None or (refresh := _refresh_of(root)) is None:
        return None
    delay, target = refresh
    url: str | None = None
    if target:
        with contextlib.suppress(ValueError):
            url = urldefrag(urljoin(_base_url(root, page_url), target))[0]
        if url is not None and (urlsplit(url).scheme.lower() not in ("http", "https")
                                or urldefrag(page_url)[0] == url):
            url = None
    body = root.find("body")
    texts = cast(list[str], _CONTENT_TEXT(body)) if body is not None else []
    return MetaRefresh(delay, target, url, len("".join("".join(texts).split())))


def extract_links(html: str, page_url: str, *, encoding: str | None = None,
                  fetch_origin: str | None = None) -> list[Link]:
    """The links of one page (decoded text), in document order, each URL once.

    Relative URLs are resolved against ``<base href>`` when the page has one, else against
    ``page_url``; fragments are dropped and URLs cleaned as served (:func:`served_link`); only
    http(s) URLs are kept, a URL once (by canonical key, in the form first seen), and a link to
    the page itself is left out. A URL linked twice keeps its first non-empty text
    and its most navigational element (:func:`most_navigational`). ``encoding`` (the page's codec, as
    :func:`links_from_body` passes it) encodes non-ASCII query text the way browsers do.
    ``fetch_origin``: the page was fetched from this origin (a mirror, a test server) while
    ``page_url`` is its public URL; absolute links to the fetch origin are moved back to the
    public one, as the spider does. Never raises on bad markup or odd URLs.
    """
    root = _parse_document(html)
    if root is None:
        return []
    base = _base_url(root, page_url)
    public = None
    if fetch_origin:
        parts = urlsplit(page_url)
        public = (fetch_origin, f"{parts.scheme}://{parts.netloc}")
    page = canonical_link(page_url, None, encoding)

    found: dict[str, Link] = {}
    refresh = _refresh_of(root)
    for element in root.iter(*_URL_ATTRIBUTES, "meta"):
        tag = cast(str, element.tag)  # iter() by tag names yields elements, whose tags are str
        if tag == "link" and "stylesheet" not in (element.get("rel") or "").lower().split():
            continue
        if tag == "meta":  # the refresh's target (the first refresh's, as a browser reads it)
            if refresh is None or (element.get("http-equiv") or "").strip().lower() != "refresh" \
                    or _parse_refresh(element.get("content") or "") != refresh:
                continue
            raw = refresh[1]
            refresh = None
        else:
            raw = (element.get(_URL_ATTRIBUTES[tag]) or "").strip()
        if tag == "a":
            lowered = raw.lower()
            if not raw or raw.startswith("#") or lowered.startswith("javascript:"):
                raw = (url_from_script(raw) if lowered.startswith("javascript:") else None) \
                    or url_from_script(element.get("onclick")) or ""
        if not raw or raw.startswith("#") or raw.lower().startswith(_SKIPPED_SCHEMES):
            continue
        url = served_link(raw, base, encoding, public)
        if url is None:
            continue
        key = urldefrag(canonicalize_url(url))[0]
        if key == page:
            continue
        anchor = _anchor(element, tag)
        known = found.get(key)
        if known is None:
            found[key] = Link(url, anchor, tag)
        else:
            found[key] = Link(known.url, known.anchor or anchor, most_navigational(known.tag, tag) or tag)
    return list(found.values())


def canonical_link(raw: str, base: str | None, encoding: str | None,
               rebase_origins: tuple[str, str] | None = None) -> str | None:
    """The canonical key of a link's http(s) URL without its fragment (identity), or None."""
    url = served_link(raw, base, encoding, rebase_origins)
    return urldefrag(canonicalize_url(url))[0] if url is not None else None


def served_link(raw: str, base: str | None, encoding: str | None,
                rebase_origins: tuple[str, str] | None = None) -> str | None:
    """A link's http(s) URL as its server serves it (:func:`normalizers.urls.served_url`),
    without its fragment, or None."""
    try:
        absolute = urljoin(base, raw) if base else raw
        if rebase_origins:
            absolute = rebase(absolute, *rebase_origins)
        absolute = urldefrag(_encode_query(absolute, encoding))[0]
        url = served_url(absolute)
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname or len(url) > URL_MAX:
            return None
    except ValueError:
        return None
    return urldefrag(url)[0]  # a #! route is kept by served_url; a link check cannot tell it apart


def links_from_body(body: bytes, content_type: str | None, page_url: str, *,
                    fetch_origin: str | None = None) -> list[Link]:
    """The links of a fetched page (``page_url``: its public URL): its bytes decoded (BOM,
    HTTP and meta charsets, GBK sniffing), then :func:`extract_links` (``fetch_origin``: where
    the page was really fetched from, when that is an origin override). A response that is not
    HTML (a PDF, an image, JSON) has no links."""
    if content_type:
        mime = content_type.split(";", 1)[0].strip().lower()
        if mime and mime not in ("text/html", "application/xhtml+xml", "application/octet-stream") \
                and not mime.endswith("+xml"):
            return []
    if not body:
        return []
    decoded = decode_html(body, content_type)
    return extract_links(decoded.text, page_url, encoding=decoded.encoding, fetch_origin=fetch_origin)


