"""Guess what a subsite runs on, and where its columns are, from its home page.

``detect_platform(url, html, headers)`` weighs the marks each platform leaves in a page (link
shapes, scripts, generator metas, form fields, cookies, server headers) and returns
:class:`PlatformGuess` es, best first, always ending with ``generic``. ``suggest_columns`` picks
the navigation links that look like column (list) pages, ``frames`` the frame and iframe
pages of framesets, where old sites keep their navigation, ``classify_column`` tells what a
column's page is (a list, a single page, a hub of sub-columns) and ``sitemap_links`` reads a
``sitemap.xml``. Pure functions: no network.

Platforms (the names of ``plugins/presets/*.toml`` where there is one): ``hanweb`` (大汉 JCMS),
``trs`` (TRS WCM), ``dedecms`` (织梦 DedeCMS/DedeBIZ), ``phpcms`` (PHPCMS v9), ``pbootcms``,
``empirecms`` (帝国 EmpireCMS), ``metinfo`` (米拓 MetInfo; no preset), ``zblog`` (Z-Blog/Z-BlogPHP; no
preset), ``wordpress`` (no preset), ``aspnet`` (ASP.NET WebForms), ``asp`` (classic ASP: 动易 PowerEasy
and home-made), ``php`` (home-made PHP), ``js`` (lists rendered by JavaScript), ``generic``. PowerEasy
(动易) has no platform of its own: its classic ASP sites are ``asp`` (the asp preset reads them) and its
ASP.NET ones ``aspnet``, with "PowerEasy (动易)" in the evidence. A platform without a preset still makes
a valid plugin: :func:`plugins.spec.load_preset` gives it nothing, and ``blgw plugin new`` writes a
``[list]`` table to fill in.

How evidence is weighed: every mark adds points to its platform, and a platform's score is
``1 - exp(-points / 4)``. Link shapes count only for links on the page's own host and saturate
at three links; the bare file-extension marks (``.aspx``, ``.asp``, ``.php`` links) are also
scaled by the share of the page's links they make up, so one stray ``.aspx`` link on a TRS
site weighs little against TRS's own marks. Server headers only support what the page
shows: IIS sends ``X-Powered-By: ASP.NET`` for classic ASP pages too, so that header counts for
``aspnet`` only beside ``.aspx`` evidence, and never decides between ``asp`` and ``aspnet``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

import lxml.html
from lxml import etree

from normalizers.encoding import decode_html
from normalizers.urls import canonicalize_url, session_free

GENERIC_SCORE = 0.15
# Most specific first: the order of guesses with equal scores.
PLATFORMS = ("hanweb", "trs", "dedecms", "phpcms", "pbootcms", "empirecms", "metinfo", "zblog", "wordpress",
             "aspnet", "asp", "php", "js", "generic")
# CMSes written in PHP: their marks make the home-made PHP guess less likely
PHP_CMSES = ("dedecms", "phpcms", "pbootcms", "empirecms", "metinfo", "zblog", "wordpress")
# CMSes whose pages are rendered on the server: their marks make a script-rendered guess less likely
SERVER_CMSES = ("hanweb", "trs", *PHP_CMSES)


@dataclass(frozen=True)
class PlatformGuess:
    """One platform guess: ``score`` in 0..1, ``evidence`` short reasons in English."""

    platform: str
    score: float
    evidence: list[str] = field(default_factory=list)


def detect_platform(url: str, html: str | bytes,
                    headers: Mapping[str, str] | None = None) -> list[PlatformGuess]:
    """The platforms ``url``'s page (``html``, with its response ``headers``) may run on,
    best first; ``generic`` is always there, with a low score, as the fallback."""
    page = _Page(url, html, headers)
    found: dict[str, list[tuple[float, str]]] = {name: [] for name in PLATFORMS}
    for platform, points, reason in _evidence(page):
        if points > 0:
            found[platform].append((points, reason))

    # The PHP CMSes are PHP too: their marks make the home-made guess less likely.
    strongest = max(PHP_CMSES, key=lambda name: _total(found[name]))
    if _total(found[strongest]) >= 3 and found["php"]:
        found["php"] = [(p * 0.5, r) for p, r in found["php"]] + [(0.0, f"but {strongest} marks are stronger")]
    # A shell whose lists scripts fill in needs the js preset, whatever the server runs.
    if any(r == _JS_SHELL for _, r in found["js"]):
        for name in ("aspnet", "asp", "php"):
            if found[name]:
                found[name] = [(p * 0.6, r) for p, r in found[name]] + [(0.0, "but scripts render the lists")]
    # A CMS that renders its lists on the server is less likely a script shell, and only strong CMS
    # marks outweigh a plain shell: PbootCMS's thin default home posts its footer form with $.ajax.
    server_cms = max(SERVER_CMSES, key=lambda name: _total(found[name]))
    shell = any(r == _JS_SHELL for _, r in found["js"])
    if found["js"] and _total(found[server_cms]) >= (6 if shell else 3):
        found["js"] = [(p * 0.5, r) for p, r in found["js"]] + [(0.0, f"but {server_cms} renders its lists on the server")]
    # A page full of text and links is not a script-rendered shell, whatever its scripts do.
    if found["js"] and not page.is_thin:
        found["js"] = [(p * 0.3, r) for p, r in found["js"]] + [
            (0.0, f"but the HTML already has {page.text_length} characters of text and {len(page.links)} links")]

    guesses = []
    for name in PLATFORMS[:-1]:
        points = _total(found[name])
        if points > 0:
            reasons = [r for _, r in sorted(found[name], key=lambda pr: -pr[0])]
            guesses.append(PlatformGuess(name, round(1 - math.exp(-points / 4), 3), reasons))
    best = max((g.score for g in guesses), default=0.0)
    guesses.append(PlatformGuess("generic", GENERIC_SCORE, [
        "fallback: no platform-specific marks" if best < GENERIC_SCORE else "fallback"]))
    guesses.sort(key=lambda g: (-g.score, PLATFORMS.index(g.platform)))
    return guesses


def frames(url: str, html: str | bytes) -> list[str]:
    """Absolute URLs of the ``<frame>`` and ``<iframe>`` pages of ``url``'s page on its own
    host, in document order (old sites keep navigation and lists in frames)."""
    page = _Page(url, html, None)
    result: list[str] = []
    if page.root is None:
        return result
    for src in page.root.xpath("//frame/@src | //iframe/@src"):
        absolute = _absolute(url, src)
        if absolute and _same_site(absolute, url) and absolute not in result:
            result.append(absolute)
    return result


def suggest_columns(url: str, html: str | bytes) -> list[tuple[str, str]]:
    """``(name, absolute URL)`` of the links on ``url``'s page that look like columns: Chinese
    link text of 2–8 characters pointing at a list-like page on the same host. In document
    order, one per URL and per name, without session ids; the home page itself is left out.
    For framesets, look into :func:`frames` as well."""
    page = _Page(url, html, None)
    if page.root is None:
        return []
    home = {canonicalize_url(u) for u in (url, _absolute(url, "/")) if u}
    columns: list[tuple[str, str]] = []
    seen_urls: set[str] = set()
    seen_names: set[str] = set()
    for anchor in page.root.iter("a", "area"):
        name = _link_name(anchor)
        if not name:
            continue
        for target in _anchor_targets(anchor):
            absolute = _absolute(url, target)
            if not absolute or not _same_site(absolute, url) or not _is_list_like(absolute):
                continue
            key = canonicalize_url(absolute)
            if key in home or key in seen_urls or name in seen_names:
                break
            seen_urls.add(key)
            seen_names.add(name)
            columns.append((name, session_free(absolute)))
            break
    return columns


# --- the page ------------------------------------------------------------------------------------


class _Page:
    """What the detector looks at: text, tree, on-site links, headers."""

    def __init__(self, url: str, html: str | bytes, headers: Mapping[str, str] | None):
        self.url = url or ""
        self.headers = _lower_headers(headers)
        if isinstance(html, bytes):
            html = decode_html(html, self.headers.get("content-type")).text
        self.html = html or ""
        self.root = _parse(self.html)
        self.links: list[str] = []  # absolute, on this host
        self.all_hrefs: list[str] = []  # every link target as written (incl. off-site)
        self.inline_scripts = ""
        self.text_length = 0
        if self.root is None:
            return
        for target in self._targets():
            self.all_hrefs.append(target)
            absolute = _absolute(self.url, target)
            if absolute and _same_site(absolute, self.url):
                self.links.append(absolute)
        self.inline_scripts = "\n".join(s.text or "" for s in self.root.iter("script") if not s.get("src"))
        text = self.root.xpath("//body//text()[not(ancestor::script or ancestor::style or ancestor::noscript"
                               " or ancestor::template)]")
        self.text_length = len("".join("".join(t.split()) for t in text))

    @property
    def is_thin(self) -> bool:
        """Little text and few links: a shell that scripts fill in."""
        return self.text_length < 300 and len(self.links) < 25

    def _targets(self) -> Iterable[str]:
        assert self.root is not None  # only read once the page parsed
        for element in self.root.iter("a", "area", "frame", "iframe", "form", "link", "script", "img"):
            if element.tag in ("a", "area"):
                yield from _anchor_targets(element)
            elif element.tag == "form":
                if action := element.get("action"):
                    yield action
            elif element.tag == "link":
                if href := element.get("href"):
                    yield href
            elif src := element.get("src"):
                yield src

    def links_matching(self, pattern: re.Pattern[str]) -> list[str]:
        return [link for link in self.links if pattern.search(_path_and_query(link))]

    def search(self, pattern: re.Pattern[str]) -> re.Match[str] | None:
        return pattern.search(self.html)

    def meta(self, name: str) -> str:
        if self.root is None:
            return ""
        values = self.root.xpath(f"//meta[translate(@name, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', "
                                 f"'abcdefghijklmnopqrstuvwxyz')='{name}']/@content")
        return " ".join(values)


def _parse(html: str) -> lxml.html.HtmlElement | None:
    if not html.strip():
        return None
    try:
        parser = lxml.html.HTMLParser(encoding="utf-8")
        root = lxml.html.fromstring(html.encode("utf-8", "surrogatepass"), parser=parser)
    except (etree.ParserError, ValueError, UnicodeError):
        return None
    return root


def _lower_headers(headers: Mapping[Any, Any] | None) -> dict[str, str]:
    """Header names lower-cased; repeated headers (Set-Cookie) joined; bytes decoded."""
    result: dict[str, str] = {}
    if not headers:
        return result
    get_all = getattr(headers, "get_all", None) or getattr(headers, "getlist", None)
    for key in list(headers.keys()):
        name = key.decode("latin-1") if isinstance(key, bytes) else str(key)
        values = get_all(key) if get_all else None
        if not values:
            value = headers[key]
            values = value if isinstance(value, (list, tuple)) else [value]
        decoded = [v.decode("latin-1") if isinstance(v, bytes) else str(v) for v in values]
        previous = result.get(name.lower())
        joined = "; ".join(decoded)
        result[name.lower()] = f"{previous}; {joined}" if previous and joined not in previous else joined
    return result


_JS_TARGET = re.compile(
    r"""(?:window\.open|location\.(?:href|replace|assign)|(?:window\.|document\.|self\.|top\.)?location)"""
    r"""\s*(?:=|\()\s*['"]([^'"]+)['"]""")


def _anchor_targets(anchor: lxml.html.HtmlElement) -> list[str]:
    """The pages an ``<a>`` opens: its href, or the URL in a javascript:/onclick opener."""
    targets = []
    href = (anchor.get("href") or "").strip()
    for source in (href if href.lower().startswith("javascript:") else "", anchor.get("onclick") or ""):
        targets += [m.group(1) for m in _JS_TARGET.finditer(source)]
    if (href and not href.lower().startswith(("javascript:", "mailto:", "tel:", "#"))) or href.startswith("#!"):
        targets.insert(0, href)
    return targets


def _absolute(base: str, href: str) -> str | None:
    href = (href or "").strip()
    if not href or href.lower().startswith(("javascript:", "mailto:", "tel:", "data:", "about:")):
        return None
    try:
        absolute = urljoin(base, href)
        scheme = urlsplit(absolute).scheme.lower()
    except ValueError:
        return None
    return absolute if scheme in ("http", "https") else None


def _host(url: str) -> str:
    try:
        host = (urlsplit(url).hostname or "").lower().rstrip(".")
    except ValueError:
        return ""
    return host.removeprefix("www.")


def _same_site(url: str, page_url: str) -> bool:
    return _host(url) == _host(page_url)


def _path_and_query(url: str) -> str:
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    tail = parts.path + (f"?{parts.query}" if parts.query else "")
    return tail + (f"#{parts.fragment}" if parts.fragment.startswith("!") else "")


def _total(items: list[tuple[float, str]]) -> float:
    return sum(points for points, _ in items)


def _example(link: str) -> str:
    tail = _path_and_query(link)
    return tail if len(tail) <= 60 else tail[:57] + "..."


def _links(page: _Page, pattern: re.Pattern[str], weight: float, kind: str = "",
           share: bool = False, exclude: tuple[re.Pattern[str], ...] = ()) -> tuple[float, str]:
    """Points for on-site links matching ``pattern`` (and none of ``exclude``): ``weight`` at
    three or more links; with ``share``, scaled down when they are a small part of the page's
    links. The reason reads "12 links like /col/col123/index.html"."""
    matches = [link for link in page.links_matching(pattern)
               if not any(p.search(_path_and_query(link)) for p in exclude)]
    if not matches:
        return 0.0, ""
    n = len(matches)
    points = weight * min(n, 3) / 3
    if share:
        points *= min(1.0, max(0.1, n / max(len(page.links), 1) * 2))
    kind = f"{kind} " if kind else ""
    return points, f"{n} {kind}link{'s' if n > 1 else ''} like {_example(matches[0])}"


# --- the marks ---------------------------------------------------------------------------------------

_I = re.IGNORECASE
# Hanweb JCMS
_HANWEB_COL = re.compile(r"/col/col\d+/(?:index\.html?)?(?:$|\?)", _I)
_HANWEB_ART = re.compile(r"/art/\d{4}/\d{1,2}/\d{1,2}/art_\d+_\d+\.html?", _I)
_HANWEB_DATASTORE = re.compile(r"<datastore\b", _I)
_HANWEB_JPAGE_PROXY = re.compile(r"/module/(?:web/)?jpage/", _I)
_HANWEB_JPAGE = re.compile(r"\bjpage\b", _I)
_HANWEB_MODULE = re.compile(r"""["'(]/module/(?:jslib|web|download|search|xxgk|sitesearch)/""", _I)
_HANWEB_NAME = re.compile(r"大汉|hanweb", _I)
# TRS WCM
_TRS_PAGER = re.compile(r"createPageHTML\s*\(")
_TRS_DOC = re.compile(r"/t\d{8}_\d+\.s?html?", _I)
_TRS_EDITOR = re.compile(r"TRS_(?:Editor|UEDITOR)", _I)
_TRS_COMMENT = re.compile(r"<!--\s*TRS", _I)
_TRS_PROTECT = re.compile(r"/protect/P0\d+", _I)
_TRS_INDEX_N = re.compile(r"/index_\d+\.s?html?$", _I)
_TRS_NAME = re.compile(r"拓尔思|TRS\s*WCM", _I)
# ASP.NET
_ASPNET_VIEWSTATE = re.compile(r"""name=["']?__VIEWSTATE["'\s>]""", _I)
_ASPNET_POSTBACK = re.compile(r"__doPostBack\s*\(")
_ASPNET_VALIDATION = re.compile(r"__EVENTVALIDATION|__VIEWSTATEGENERATOR")
_ASPNET_LINK = re.compile(r"\.aspx(?:$|[?#/;])", _I)
_ASPNET_COOKIELESS = re.compile(r"/\((?:[A-Za-z]\([^()/]*\))+\)/")
_ASPNET_AXD = re.compile(r"(?:WebResource|ScriptResource)\.axd", _I)
# classic ASP
_ASP_LINK = re.compile(r"\.asp(?:$|[?#])", _I)
_ASP_SHOW = re.compile(r"/(?:Show(?:Article|News|Info)|Article_?Show|News_?Show)\.asp\b", _I)
_ASP_CLASS_LIST = re.compile(r"\.asp\?(?:.*&)?(?:classid|bigclassid|smallclassid|typeid|lmid)=", _I)
_ASP_SESSION = re.compile(r"ASPSESSIONID[A-Z]*", _I)
_ASP_POWEREASY = re.compile(r"动易|PowerEasy|SiteWeaver", _I)
# DedeCMS
_DEDE_LIST = re.compile(r"/plus/list\.php\?(?:.*&)?tid=", _I)
_DEDE_VIEW = re.compile(r"/plus/view\.php\?(?:.*&)?aid=", _I)
_DEDE_STATIC = re.compile(r"/list_\d+_\d+\.html?$", _I)
_DEDE_POWERED = re.compile(r"Power(?:ed)?\s*by\W*(?:<[^>]*>\W*)*DedeCms", _I)
_DEDE_MARK = re.compile(r"dedecms|dedeajax|/templets/|\bdede_", _I)
_DEDE_PLUS = re.compile(r"/plus/\w+\.php", _I)
# PHPCMS
_PHPCMS_LISTS = re.compile(r"index\.php\?(?=.*\bm=content\b)(?=.*\ba=lists\b)", _I)
_PHPCMS_SHOW = re.compile(r"index\.php\?(?=.*\bm=content\b)(?=.*\ba=show\b)", _I)
_PHPCMS_MARK = re.compile(r"phpcms", _I)
_PHPCMS_STATICS = re.compile(r"""["'(]/?statics/(?:js|css|images)/""", _I)
_PHPCMS_API = re.compile(r"api\.php\?op=", _I)
_PHPCMS_STATIC_SHOW = re.compile(r"/html/\d{4}/\w+_\d{4}/\d+\.html$", _I)
_PHPCMS_UPLOADS = re.compile(r"""["'(]/?uploadfile/\d{4}/\d{4}/""", _I)
# PbootCMS: 兼容模式 routes in the query (/?gzdt/, /?gzdt_2/, /?gzdt/23.html), its upload and template
# folders, the footer's QR code script and the member pages
_PBOOT_ROUTE = re.compile(r"^/(?:index\.php)?\?[A-Za-z][\w-]*(?:_\d+)?/(?:\d+\.html)?(?:&|$)")
_PBOOT_CONTENT = re.compile(r"^/(?:index\.php)?\?[A-Za-z][\w-]*/\d+\.html(?:&|$)")
_PBOOT_UPLOAD = re.compile(r"""["'(]/?static/upload/(?:image|file|other)/\d{8}/""", _I)
_PBOOT_TEMPLATE = re.compile(r"""["'(]/?template/\w+/(?:css|js|images|bootstrap|font-awesome|html)/""", _I)
_PBOOT_QRCODE = re.compile(r"/core/qrcode\.php\?", _I)
_PBOOT_MEMBER = re.compile(r"\?member/(?:login|register|ucenter)/")
_PBOOT_NAME = re.compile(r"PbootCMS", _I)
# EmpireCMS: the /e/ system scripts, skins, uploads and date-folder articles
_EMPIRE_E = re.compile(r"/e/(?:action|public|search|member|data|class|enews|DoInfo|tags|extend|pl)/", _I)
_EMPIRE_LISTINFO = re.compile(r"/e/action/ListInfo/", _I)
_EMPIRE_VIEWCLICK = re.compile(r"/e/public/ViewClick/", _I)
_EMPIRE_POWERED = re.compile(r"Powered\s*by\W*(?:<[^>]*>\W*)*Empire\W*(?:<[^>]*>\W*)*CMS|帝国(?:网站管理系统|CMS)", _I)
_EMPIRE_SKIN = re.compile(r"""["'(]/?skin/\w+/(?:css|images|js)/""", _I)
_EMPIRE_UPLOAD = re.compile(r"""["'(]/?d/file/""", _I)
_EMPIRE_DATE_ART = re.compile(r"/\d{4}-\d{2}-\d{2}/\d+(?:_\d+)?\.html$")
# MetInfo 米拓
_METINFO_NAME = re.compile(r"MetInfo|米拓", _I)
_METINFO_TEMPLATE = re.compile(r"""["'(]/?templates/met\w*/|/public/ui/v\d/|/app/system/""", _I)
_METINFO_LINK = re.compile(r"/(?:news|product|img|download|job|about|case)/(?:show\w*|news|product|img|download|job)\.php"
                           r"\?(?:.*&)?(?:id|class[123]|lang)=", _I)
_METINFO_CLASS = re.compile(r"[?&]class[123]=\d", _I)
# Z-Blog / Z-BlogPHP
_ZBLOG_PATH = re.compile(r"/zb_(?:users|system)/", _I)
_ZBLOG_NAME = re.compile(r"Z-Blog", _I)
# WordPress
_WP_PATH = re.compile(r"/wp-(?:content|includes)/", _I)
_WP_API = re.compile(r"/wp-json/|api\.w\.org|/xmlrpc\.php|/wp-login\.php", _I)
_WP_POST = re.compile(r"/\?p=\d+$")
# home-made PHP
_PHP_LINK = re.compile(r"\.php(?:$|[?#/])", _I)
_PHP_TYPICAL = re.compile(r"/(?:list|show|view|article|content|news|detail)\.php\?(?:.*&)?(?:catid|cid|id|classid)=", _I)
_PHP_SESSION = re.compile(r"PHPSESSID", _I)
# JavaScript-rendered pages
_JS_FETCHES = (
    (re.compile(r"\bfetch\s*\("), "fetch()"),
    (re.compile(r"XMLHttpRequest"), "XMLHttpRequest"),
    (re.compile(r"\$\.(?:ajax|get|getJSON|post)\s*\(|jQuery\.(?:ajax|get|getJSON)\s*\("), "jQuery $.ajax/$.get"),
    (re.compile(r"\baxios\b"), "axios"),
)
_JS_JSON_URL = re.compile(r"""['"][^'"\s]*(?:\.json|/api/)[^'"\s]*['"]|dataType\s*:\s*['"]json|getJSON|\.json\(\)""",
                          _I)
_JS_CONTAINER = re.compile(r"list|news|latest|items|article|content|data|result|tbody", _I)
_JS_FRAMEWORK = re.compile(r"\bv-(?:for|if|bind|model)\b|\bng-(?:app|repeat)\b|\{\{\s*[\w.]+\s*\}\}|\bdata-v-[0-9a-f]{6,}"
                           r"|vue(?:\.min)?\.js|react(?:-dom)?(?:\.production)?(?:\.min)?\.js", _I)
_JS_LOADING = re.compile(r"加载中|正在加载|数据加载|loading\.{0,3}<", _I)
_JS_SHELL = "scripts that load data beside empty list containers"
_JS_NOSCRIPT = re.compile(r"<noscript[^>]*>[^<]*(?:JavaScript|启用|开启|脚本)", _I)


def _evidence(page: _Page) -> Iterable[tuple[str, float, str]]:
    """``(platform, points, reason)`` for every mark found."""
    headers = page.headers
    generator = page.meta("generator")
    server = headers.get("server", "")
    powered = headers.get("x-powered-by", "")
    cookies = headers.get("set-cookie", "")
    url_tail = _path_and_query(page.url)
    url_path = url_tail.split("?", 1)[0].split("#", 1)[0]

    # Hanweb JCMS
    yield ("hanweb", *_links(page, _HANWEB_COL, 3, "column"))
    yield ("hanweb", *_links(page, _HANWEB_ART, 3, "article"))
    if page.search(_HANWEB_DATASTORE):
        yield "hanweb", 3, "a <datastore> block of page-1 records"
    if page.search(_HANWEB_JPAGE_PROXY):
        yield "hanweb", 3, "the Jpage data proxy /module/(web/)jpage/"
    elif page.search(_HANWEB_JPAGE):
        yield "hanweb", 1, "a Jpage pager script"
    if page.search(_HANWEB_MODULE):
        yield "hanweb", 1, "JCMS /module/ resources"
    if re.search(r"hanweb", generator, _I):
        yield "hanweb", 3, f"generator meta {generator!r}"
    elif page.search(_HANWEB_NAME):
        yield "hanweb", 2, "mentions 大汉/Hanweb"

    # TRS WCM
    if page.search(_TRS_PAGER):
        yield "trs", 3, "a createPageHTML() pager script"
    yield ("trs", *_links(page, _TRS_DOC, 3, "document"))
    yield ("trs", *_links(page, _TRS_INDEX_N, 0.5, "list page"))
    if page.search(_TRS_EDITOR):
        yield "trs", 2, "TRS_Editor content blocks"
    if page.search(_TRS_COMMENT):
        yield "trs", 2, "<!--TRS ...--> template comments"
    if page.search(_TRS_PROTECT):
        yield "trs", 2, "/protect/P0... resources"
    if re.search(r"\bTRS\b", generator):
        yield "trs", 3, f"generator meta {generator!r}"
    elif page.search(_TRS_NAME):
        yield "trs", 1.5, "mentions TRS/拓尔思"

    # ASP.NET WebForms
    aspx_points, aspx_reason = _links(page, _ASPNET_LINK, 3, ".aspx", share=True)
    aspnet_page = bool(_ASPNET_LINK.search(url_tail) or _ASPNET_COOKIELESS.search(url_tail))
    viewstate = bool(page.search(_ASPNET_VIEWSTATE))
    if viewstate:
        yield "aspnet", 4, "a __VIEWSTATE form field"
    if page.search(_ASPNET_POSTBACK):
        yield "aspnet", 3, "__doPostBack() links"
    if page.search(_ASPNET_VALIDATION):
        yield "aspnet", 1, "__EVENTVALIDATION/__VIEWSTATEGENERATOR fields"
    yield "aspnet", aspx_points, aspx_reason
    cookieless = page.links_matching(_ASPNET_COOKIELESS) or ([page.url] if _ASPNET_COOKIELESS.search(url_tail) else [])
    if cookieless:
        yield "aspnet", 3, f"cookieless session paths like {_example(cookieless[0])}"
    if page.search(_ASPNET_AXD):
        yield "aspnet", 2, "WebResource.axd/ScriptResource.axd scripts"
    if _ASPNET_LINK.search(url_tail):
        yield "aspnet", 1.5, "the page itself is .aspx"
    if re.search(r"ASP\.NET_SessionId", cookies, _I):
        yield "aspnet", 2, "an ASP.NET_SessionId cookie"
    if "x-aspnet-version" in headers or "x-aspnetmvc-version" in headers:
        yield "aspnet", 1.5, "an X-AspNet-Version header"
    if aspx_points >= 1 or viewstate or aspnet_page:  # not for one stray .aspx link
        # IIS sends these for classic ASP too: they only back up what the page shows.
        if "asp.net" in powered.lower():
            yield "aspnet", 0.5, "X-Powered-By: ASP.NET, beside .aspx marks"
        if "microsoft-iis" in server.lower():
            yield "aspnet", 0.5, f"Server: {server}, beside .aspx marks"

    # classic ASP
    asp_points, asp_reason = _links(page, _ASP_LINK, 3, ".asp", share=True)
    yield "asp", asp_points, asp_reason
    yield ("asp", *_links(page, _ASP_SHOW, 2, "ShowArticle.asp-style"))
    yield ("asp", *_links(page, _ASP_CLASS_LIST, 2, "classid list"))
    if _ASP_SESSION.search(cookies):
        yield "asp", 3, "an ASPSESSIONID... cookie (classic ASP sessions)"
    elif page.links_matching(_ASP_SESSION):
        yield "asp", 2, "ASPSESSIONID... in links"
    if re.search(r"\.asp$", url_path, _I):
        yield "asp", 1.5, "the page itself is .asp"
    if page.search(_ASP_POWEREASY):  # PowerEasy makes classic ASP sites and (SiteFactory) ASP.NET ones
        if aspx_points >= 1 or viewstate or aspnet_page:
            yield "aspnet", 1.5, "PowerEasy/动易 marks, beside .aspx marks"
        else:
            yield "asp", 2, "PowerEasy/动易 marks"
    if asp_points >= 1 and "microsoft-iis" in server.lower():
        yield "asp", 0.5, f"Server: {server}, beside .asp links"

    # DedeCMS
    yield ("dedecms", *_links(page, _DEDE_LIST, 3, "list"))
    yield ("dedecms", *_links(page, _DEDE_VIEW, 3, "article"))
    yield ("dedecms", *_links(page, _DEDE_STATIC, 2, "static list"))
    if page.search(_DEDE_POWERED):
        yield "dedecms", 3, "a 'Powered by DedeCMS' footer"
    elif page.search(_DEDE_MARK):
        yield "dedecms", 1.5, "DedeCMS templates/scripts"
    if page.links_matching(_DEDE_PLUS) and not page.links_matching(_DEDE_LIST) and not page.links_matching(_DEDE_VIEW):
        yield "dedecms", 1, "/plus/*.php links"

    # PHPCMS
    yield ("phpcms", *_links(page, _PHPCMS_LISTS, 3, "list"))
    yield ("phpcms", *_links(page, _PHPCMS_SHOW, 2.5, "article"))
    if page.search(_PHPCMS_MARK):
        yield "phpcms", 2, "mentions PHPCMS"
    if page.search(_PHPCMS_STATICS):
        yield "phpcms", 1.5, "PHPCMS statics/ resources"
    if page.links_matching(_PHPCMS_API):
        yield "phpcms", 1, "api.php?op= links"
    yield ("phpcms", *_links(page, _PHPCMS_STATIC_SHOW, 2, "static article"))
    if page.search(_PHPCMS_UPLOADS):
        yield "phpcms", 1, "uploadfile/YYYY/MMDD/ files"

    # PbootCMS
    yield ("pbootcms", *_links(page, _PBOOT_ROUTE, 3, "?column/ route"))
    yield ("pbootcms", *_links(page, _PBOOT_CONTENT, 1, "?column/N.html article"))
    if page.search(_PBOOT_UPLOAD):
        yield "pbootcms", 1.5, "static/upload/YYYYMMDD/ files"
    if page.search(_PBOOT_TEMPLATE):
        yield "pbootcms", 1, "template/<name>/ resources"
    if page.links_matching(_PBOOT_QRCODE):
        yield "pbootcms", 2, "the core/qrcode.php QR code"
    if page.links_matching(_PBOOT_MEMBER):
        yield "pbootcms", 1.5, "?member/login/ pages"
    if re.search(r"pboot", generator, _I):
        yield "pbootcms", 3, f"generator meta {generator!r}"
    elif page.search(_PBOOT_NAME):
        yield "pbootcms", 2.5, "mentions PbootCMS"

    # EmpireCMS
    yield ("empirecms", *_links(page, _EMPIRE_E, 3, "/e/ system"))
    if page.links_matching(_EMPIRE_LISTINFO):
        yield "empirecms", 1.5, "/e/action/ListInfo/ dynamic lists"
    if page.links_matching(_EMPIRE_VIEWCLICK):
        yield "empirecms", 2, "the /e/public/ViewClick/ counter"
    if page.search(_EMPIRE_POWERED):
        yield "empirecms", 3, "a 'Powered by EmpireCMS' footer"
    if page.search(_EMPIRE_SKIN):
        yield "empirecms", 1, "skin/<name>/ resources"
    if page.search(_EMPIRE_UPLOAD):
        yield "empirecms", 1, "d/file/ uploads"
    yield ("empirecms", *_links(page, _EMPIRE_DATE_ART, 1.5, "date-folder article"))

    # MetInfo
    if re.search(r"metinfo", generator, _I):
        yield "metinfo", 4, f"generator meta {generator!r}"
    elif page.search(_METINFO_NAME):
        yield "metinfo", 2.5, "mentions MetInfo/米拓"
    if page.search(_METINFO_TEMPLATE):
        yield "metinfo", 1.5, "MetInfo templates/met…, public/ui or app/system resources"
    yield ("metinfo", *_links(page, _METINFO_LINK, 2.5, "MetInfo module"))
    yield ("metinfo", *_links(page, _METINFO_CLASS, 1, "class1=/class2= list"))

    # Z-Blog
    if re.search(r"z-?blog", generator, _I):
        yield "zblog", 4, f"generator meta {generator!r}"
    elif page.search(_ZBLOG_NAME):
        yield "zblog", 2, "mentions Z-Blog"
    if page.search(_ZBLOG_PATH):
        yield "zblog", 3, "zb_users/ or zb_system/ resources"

    # WordPress
    if re.search(r"wordpress", generator, _I):
        yield "wordpress", 4, f"generator meta {generator!r}"
    if page.search(_WP_PATH):
        yield "wordpress", 3, "wp-content/ or wp-includes/ resources"
    if page.search(_WP_API):
        yield "wordpress", 1.5, "the wp-json REST API, xmlrpc.php or wp-login.php"
    yield ("wordpress", *_links(page, _WP_POST, 1, "?p=N post"))

    # home-made PHP: .php links that are not those of a PHP CMS
    cms = (_DEDE_LIST, _DEDE_VIEW, _DEDE_PLUS, _PHPCMS_LISTS, _PHPCMS_SHOW, _PHPCMS_API, _METINFO_LINK, _EMPIRE_E,
           _PBOOT_QRCODE, _ZBLOG_PATH, _WP_PATH, _WP_API)
    yield ("php", *_links(page, _PHP_LINK, 3, ".php", share=True, exclude=cms))
    typical_points, typical_reason = _links(page, _PHP_TYPICAL, 1.5, "list/show.php-style", exclude=cms)
    yield "php", 1.5 if typical_points else 0, typical_reason
    if _PHP_SESSION.search(cookies) or page.links_matching(_PHP_SESSION):
        yield "php", 1.5, "PHPSESSID session ids"
    if "php" in powered.lower():
        yield "php", 1, f"X-Powered-By: {powered}"
    if re.search(r"\.php$", url_path, _I):
        yield "php", 1, "the page itself is .php"

    # JavaScript-rendered lists
    yield from (("js", points, reason) for points, reason in _js_evidence(page))


def _js_evidence(page: _Page) -> Iterable[tuple[float, str]]:
    scripts = page.inline_scripts
    fetches = [label for pattern, label in _JS_FETCHES if pattern.search(scripts)]
    if fetches:
        yield min(2.5, 1.25 * len(fetches)), "inline scripts load data with " + ", ".join(fetches)
        if _JS_JSON_URL.search(scripts):
            yield 1, "from JSON/API URLs"
    empty = []
    if page.root is not None:
        for element in page.root.xpath("//body//*[self::ul or self::ol or self::tbody or self::table or self::div"
                                       " or self::section or self::dl][not(*)][normalize-space()='']"):
            label = f"{element.get('id') or ''} {element.get('class') or ''}"
            if _JS_CONTAINER.search(label) or (element.tag in ("ul", "ol", "tbody") and element.get("id")):
                empty.append(element)
    if empty:
        first = empty[0]
        name = f"<{first.tag} id=\"{first.get('id')}\">" if first.get("id") else f"<{first.tag} class=\"{first.get('class')}\">"
        yield 2 * min(len(empty), 2) / 2, f"{len(empty)} empty list container{'s' if len(empty) > 1 else ''} like {name}"
    if page.search(_JS_FRAMEWORK):
        yield 1.5, "client-side template markup (Vue/Angular/React)"
    if any(link for link in page.all_hrefs if link.startswith("#!/")):
        yield 1.5, "hash-bang (#!/) routes"
    if page.search(_JS_LOADING):
        yield 1, "a loading placeholder"
    if page.search(_JS_NOSCRIPT):
        yield 1.5, "a <noscript> asking for JavaScript"
    if page.root is not None and page.is_thin and (fetches or empty):
        yield 1, f"little in the HTML itself ({page.text_length} characters of text, {len(page.links)} links)"
        if fetches and empty:
            yield 2, _JS_SHELL


# --- columns -------------------------------------------------------------------------------------------

_NAV_WORDS = {
    "首页", "网站首页", "返回首页", "本站首页", "主页", "更多", "更多信息", "查看更多", "加入收藏", "收藏本站", "设为首页",
    "管理登录", "后台管理", "用户登录", "网站地图", "联系我们", "上一页", "下一页", "尾页", "末页", "关闭窗口", "打印本页",
    "打印此文", "返回顶部", "返回", "北仑之窗", "无障碍", "繁体", "简体", "繁體", "关怀版", "长者版", "搜索", "高级搜索",
}
_CJK_NAME = re.compile(r"[\u3400-\u9fff]{2,8}")
_NAME_TRIM = " \t\r\n\u00a0\u3000[]【】〔〕<>《》»«·•■□◆◇▪▸►>:：|"
_DETAIL = re.compile(
    r"art_\d+_\d+\.|/t\d{8}_\d+\.|[?&](?:articleid|aid|newsid|infoid|docid|id)=\d|[?&]a=show\b|/\d{3,}\.s?html?$"
    r"|/content_\d+|\.(?:docx?|xlsx?|pdf|zip|rar|7z|jpe?g|png|gif|bmp|mp4|wps|txt|css|js)(?:$|\?)", _I)
_NOT_A_COLUMN = re.compile(r"/(?:admin|manage|login|member|user|search)\w*(?:/|\.|$)", _I)
_DETAIL_FILE = re.compile(r"/(?:show|view|detail|content|article|info)\w*\.(?:asp|aspx|php|jsp|do|s?html?)\b", _I)
_LIST = re.compile(
    r"/col/|list|/lm\d|column|class|categor|channel|/node_|a=lists"
    r"|[?&](?:catid|cid|tid|typeid|cat|lmid|colid|columnid|channelid|nodeid|sortid|type|category)=", _I)
_QUERY_ROUTE = re.compile(r"[A-Za-z][\w-]*/")
_DIRECTORY = re.compile(r"/(?:index(?:_\d+)?\.(?:s?html?|asp|aspx|php|jsp))?$", _I)


def _link_name(anchor: lxml.html.HtmlElement) -> str:
    text = "".join(anchor.itertext()) or anchor.get("title") or ""
    text = "".join(text.split()).strip(_NAME_TRIM)
    if not _CJK_NAME.fullmatch(text) or text in _NAV_WORDS:
        return ""
    return text


def _is_list_like(url: str) -> bool:
    """A column page rather than an article, a file or a form: list-ish names and parameters
    (``/col/``, ``list``, ``classid=``, ``catid=``…), or a directory below the root."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    tail = _path_and_query(url)  # with a hash-bang route: JavaScript sites address columns so
    if _DETAIL.search(tail) or _NOT_A_COLUMN.search(parts.path):
        return False
    if _LIST.search(tail):
        return True
    if _QUERY_ROUTE.fullmatch(parts.query) and parts.path in ("", "/", "/index.php"):
        return not _NOT_A_COLUMN.search("/" + parts.query)  # PbootCMS: /?gzdt/ is the column gzdt
    if _DETAIL_FILE.search(parts.path):
        return False
    # a directory or its default document, below the root: a column of a static site
    return not parts.query and _DIRECTORY.search(parts.path) is not None and _DIRECTORY.sub("", parts.path) != ""


# --- what a column page is ---------------------------------------------------------------------------

_DATE = re.compile(r"(?:19|20)\d{2}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}|(?<![\d-])\d{1,2}-\d{1,2}(?![\d-])")
_PAGER_WORDS = re.compile(r"^(?:\d+|首页|上一页|下一页|尾页|末页|上页|下页|前页|后页|最后一页|第一页|[<>«»]+)$")
_MORE = re.compile(r"^(?:更多|more|查看更多|>>)", _I)
_CRUMB_CLASS = re.compile(r"crumb|place|position|location|weizhi|dqwz|path|daohang", _I)
_CRUMB_TEXT = re.compile(r"当前位置|现在的位置|您的位置|所在位置|当前的位置")
_ENTRY_TAGS = ("li", "tr", "dd", "dt", "p")
_NAV_BOX = re.compile(r"nav|menu|header|footer|top|bottom|copyright|foot", _I)


@dataclass(frozen=True)
class ColumnPage:
    """What a candidate column's page is: ``kind`` is ``list`` (a list of dated entries),
    ``page`` (single-page content: the page is the item, e.g. 机构职能, 联系我们), ``hub`` (a cover
    page that only links sub-columns: never a list itself; its ``children`` are the columns) or
    ``unknown``; ``name`` is the page's own name for itself (its breadcrumb or heading) when it
    prints one; ``entries`` is the size of its longest run of dated entries."""

    kind: str
    name: str = ""
    children: tuple[tuple[str, str], ...] = ()
    entries: int = 0


def classify_column(url: str, html: str | bytes) -> ColumnPage:
    """What the page at ``url`` is as a column (see :class:`ColumnPage`). A hub links two or more
    sub-columns (list-like pages below its own path, or behind 更多 links) and has no pager; a
    list has two or more sibling entries (``li``, ``tr``, ``dd``…) that each hold a link to an
    on-site page and a date, so navigation ``<li>`` s (no dates) are never entries; a single page
    has no such entries and a block of text (two paragraphs or more, 60 characters or more)."""
    page = _Page(url, html, None)
    if page.root is None:
        return ColumnPage("unknown")
    own = canonicalize_url(url)
    home = {canonicalize_url(u) for u in (url, _absolute(url, "/")) if u}
    own_path = _path_and_query(url)
    children: list[tuple[str, str]] = []
    more_targets: set[str] = set()
    has_pager = False
    name = ""
    for anchor in page.root.iter("a"):
        text = "".join("".join(anchor.itertext()).split())
        targets = _anchor_targets(anchor)
        absolute = _absolute(url, targets[0]) if targets else None
        if _PAGER_WORDS.match(text) and text in ("下一页", "下页", "后页", "尾页", "末页", "最后一页"):
            has_pager = True
        if not absolute or not _same_site(absolute, url):
            continue
        key = canonicalize_url(absolute)
        if key == own:
            label = _link_name(anchor)
            if label and not name and _in_breadcrumb(anchor):
                name = label
            continue
        if key in home or not _is_list_like(absolute) or _PAGER_WORDS.match(text):
            continue
        if _MORE.match(text):
            more_targets.add(key)
            continue
        label = _link_name(anchor)
        path = _path_and_query(absolute)
        below = path != own_path and path.startswith(own_path.rstrip("/") + "/") and not _DEDE_STATIC.search(path)
        if label and below and all(u != absolute for _, u in children):
            children.append((label, session_free(absolute)))
    named = {canonicalize_url(u) for _, u in children}
    for anchor in page.root.iter("a"):  # a 更多 link's column, named by its box's heading link
        targets = _anchor_targets(anchor)
        absolute = _absolute(url, targets[0]) if targets else None
        if absolute and canonicalize_url(absolute) in more_targets - named and (label := _link_name(anchor)):
            children.append((label, session_free(absolute)))
            named.add(canonicalize_url(absolute))
    entries = _dated_entries(page, home | {own})
    if len(children) >= 2 and not has_pager:
        return ColumnPage("hub", name, tuple(children), entries)
    if entries >= 2:
        return ColumnPage("list", name, (), entries)
    if _has_text_block(page):
        return ColumnPage("page", name or _heading(page), (), entries)
    return ColumnPage("unknown", name, (), entries)


def _in_breadcrumb(anchor: lxml.html.HtmlElement) -> bool:
    node = anchor.getparent()
    for _ in range(4):
        if node is None:
            return False
        # its own words (当前位置：…), not the text of whatever else it holds
        lead = (node.text or "") + "".join(c.text_content() for c in node
                                       if isinstance(c.tag, str) and not c.xpath("descendant-or-self::a"))
        if _CRUMB_CLASS.search(f"{node.get('class', '')} {node.get('id', '')}") or _CRUMB_TEXT.search(lead[:30]):
            return True
        node = node.getparent()
    return False


def _heading(page: _Page) -> str:
    assert page.root is not None
    for heading in page.root.iter("h1", "h2", "h3"):
        text = "".join("".join(heading.itertext()).split()).strip(_NAME_TRIM)
        if _CJK_NAME.fullmatch(text) and text not in _NAV_WORDS:
            return text
    return ""


def _dated_entries(page: _Page, not_items: set[str]) -> int:
    """The longest run of sibling entries each holding an on-site item link and a date."""
    assert page.root is not None
    groups: dict[Any, int] = {}
    for element in page.root.iter(*_ENTRY_TAGS):
        text = "".join(element.itertext())
        if not _DATE.search(text):
            continue
        for anchor in element.iter("a"):
            targets = _anchor_targets(anchor)
            absolute = _absolute(page.url, targets[0]) if targets else None
            if (absolute and _same_site(absolute, page.url) and canonicalize_url(absolute) not in not_items
                    and not _is_list_like(absolute) and len("".join(anchor.itertext()).strip()) >= 4):
                parent = element.getparent()
                groups[parent] = groups.get(parent, 0) + 1
                break
    return max(groups.values(), default=0)


def _has_text_block(page: _Page) -> bool:
    """A container with two or more text paragraphs (60 characters or more), outside navigation
    and footers."""
    assert page.root is not None
    for container in page.root.iter("div", "td", "article", "section"):
        if any(_NAV_BOX.search(f"{a.get('class', '')} {a.get('id', '')}") for a in container.iterancestors()):
            continue
        paragraphs = ["".join("".join(p.itertext()).split()) for p in container if p.tag == "p"]
        paragraphs = [p for p in paragraphs if len(p) >= 8]
        if len(paragraphs) >= 2 and sum(map(len, paragraphs)) >= 60:
            return True
    return False


_NAV_CLASS = re.compile(r"nav|menu", _I)
_SINGLE_PAGE_WORDS = frozenset({"联系我们", "关于我们", "联系方式"})


def nav_pages(url: str, html: str | bytes) -> list[tuple[str, str]]:
    """``(name, absolute URL)`` of the navigation's links (inside a nav or menu element) to
    on-site pages that are not articles, list-like or not (``/a/jgzn.html``, ``/about/jdgk.html``,
    and 联系我们, which :func:`suggest_columns` leaves out as a navigation word): candidates for
    single-page columns, to be classified."""
    page = _Page(url, html, None)
    if page.root is None:
        return []
    home = {canonicalize_url(u) for u in (url, _absolute(url, "/")) if u}
    found: list[tuple[str, str]] = []
    for anchor in page.root.iter("a"):
        if not any(_NAV_CLASS.search(f"{a.get('class', '')} {a.get('id', '')}") for a in anchor.iterancestors()):
            continue
        text = "".join("".join(anchor.itertext()).split()).strip(_NAME_TRIM)
        name = text if text in _SINGLE_PAGE_WORDS else _link_name(anchor)
        targets = _anchor_targets(anchor)
        absolute = _absolute(url, targets[0]) if targets else None
        if (not name or not absolute or not _same_site(absolute, url) or canonicalize_url(absolute) in home
                or _NOT_A_COLUMN.search(urlsplit(absolute).path)
                or _DETAIL.search(_path_and_query(absolute))):
            continue
        if all(u != absolute for _, u in found):
            found.append((name, session_free(absolute)))
    return found


def is_column_url(url: str) -> bool:
    """Whether ``url`` looks like a column's page (a list or a single page), not an article or a
    file: the test :func:`suggest_columns` applies to links."""
    return _is_list_like(url)


def sitemap_links(text: str | bytes) -> list[str]:
    """The page URLs a ``sitemap.xml`` (``<loc>``) names, in order."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return [loc.strip() for loc in re.findall(r"<loc>\s*([^<\s]+)\s*</loc>", text, _I)]
