"""What a request is (docs/logs.md, "What is counted"): who sent it (human, bot, the gateway's
own crawler; the device, OS and browser), what it asked for (a page, a download, an asset; its
canonical URL; scan and injection signals) and where it came from (an internal or external
referrer, a search engine's phrase). Each answer is cached per distinct text: a log repeats its
User-Agents, targets and referrers many times.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from typing import TypeVar
from urllib.parse import quote, unquote_to_bytes, urljoin, urlsplit

import crawleruseragents
from ua_parser import parse as parse_agent

from gateway.scope import canonical_host
from normalizers.urls import canonicalize_url

K = TypeVar("K")
V = TypeVar("V")

PAGE_EXTENSIONS = frozenset({"", "html", "htm", "shtml", "shtm", "xhtml", "asp", "aspx", "php", "jsp", "do", "action",
                             "cgi"})  # docs/logs.md lists them
DOWNLOAD_EXTENSIONS = frozenset({"pdf", "doc", "docx", "xls", "xlsx", "ppt", "pptx", "wps", "et", "dps", "ofd", "zip",
                                 "rar", "7z", "txt", "csv"})

_SCAN = re.compile(r"\.(?:mdb|bak|sql|old|swp|env)$|\.tar\.gz$|/\.git(?:/|$)|(?:^|/)web\.config$|"
                   r"^/(?:admin|manage|phpmyadmin|wp-login\.php|wp-admin)", re.I)
_INJECTION = re.compile(r"union(?:\s|/\*.*?\*/)+(?:all\s+)?select|'\s*or\s*'?1'?\s*=\s*'?1|sleep\s*\(|xp_cmdshell|;\s*--|"
                        r"<script|javascript:|\.\./|\.\.%2f|\.\.\\", re.I)
_HIGH_ESCAPES = re.compile(r"(?:%[89A-Fa-f][0-9A-Fa-f])+")

# search engines' result pages: host suffix → the parameters holding the phrase
ENGINES = (("baidu.com", "baidu", ("wd", "word")), ("sogou.com", "sogou", ("query", "keyword")),
           ("so.com", "360", ("q",)), ("bing.com", "bing", ("q",)), ("google.", "google", ("q",)),
           ("sm.cn", "shenma", ("q",)))

CACHE_LIMIT = 100_000


def cached(function: Callable[[K], V]) -> Callable[[K], V]:
    """A dict cache cleared when it holds :data:`CACHE_LIMIT` entries (memory stays flat)."""
    cache: dict[K, V] = {}

    def lookup(key: K) -> V:
        try:
            return cache[key]
        except KeyError:
            if len(cache) >= CACHE_LIMIT:
                cache.clear()
            value = cache[key] = function(key)
            return value

    return lookup


def decode_escapes(text: str) -> str:
    """Percent-escapes read as UTF-8, else as GB18030 (old IIS sites send GBK-encoded paths);
    ``+`` is kept (it is a space only in a query, which :func:`decode_query_value` handles)."""
    if "%" not in text:
        return text
    raw = unquote_to_bytes(text)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("gb18030", errors="replace")


def utf8_path(target: str) -> str:
    """The target with a path percent-encoded in GBK re-encoded as UTF-8 (what the crawl's keys
    hold: a browser encodes a path in UTF-8), its ASCII escapes (``%2F``, ``%20``) and its query
    untouched (a query is encoded in the page's charset, and kept so by the canonical key)."""
    path, sep, query = target.partition("?")
    if "%" not in path:
        return target
    try:
        unquote_to_bytes(path).decode("utf-8")
        return target
    except UnicodeDecodeError:
        path = _HIGH_ESCAPES.sub(lambda m: quote(unquote_to_bytes(m.group()).decode("gb18030", errors="replace"),
                                                 safe=""), path)
    return path + sep + query


def decode_query_value(text: str) -> str:
    return decode_escapes(text.replace("+", " ")).strip()


def bot_name(agent: str) -> str:
    """The name of a bot: the text its first matching crawler-user-agents pattern matches
    (``Baiduspider``, ``Googlebot``…), or ``-`` for a request without a User-Agent."""
    if not agent:
        return "-"
    for index in crawleruseragents.matching_crawlers(agent):
        pattern = crawleruseragents.CRAWLER_USER_AGENTS_DATA[index]["pattern"]
        found = re.search(pattern, agent)
        if found and found.group(0).strip(" /;,"):
            return found.group(0).strip(" /;,")
    return "bot"


def device_of(agent: str) -> tuple[str, str, str]:
    """``(device type, OS family, browser family)`` by ua-parser: a tablet (iPad, Android
    without ``Mobile``, a ``Tablet`` token), a mobile (iPhone, iPod, Android ``Mobile``, Windows
    Phone, a ``Mobile`` token), else a desktop."""
    parsed = parse_agent(agent)
    os_family = parsed.os.family if parsed.os else "Other"
    browser = parsed.user_agent.family if parsed.user_agent else "Other"
    device = parsed.device.family if parsed.device else "Other"
    if device == "iPad" or "Tablet" in agent or (os_family == "Android" and "Mobile" not in agent):
        kind = "tablet"
    elif device in ("iPhone", "iPod") or os_family in ("iOS", "Android", "Windows Phone") or "Mobile" in agent:
        kind = "mobile"
    else:
        kind = "desktop"
    return kind, os_family, browser


def _host(host: str) -> str:
    try:
        return canonical_host(host) if host else ""
    except ValueError:
        return ""


class Classifier:
    """The cached answers for one site: ``agent(ua)``, ``target(t)``, ``referrer(r)``, ``visitor(ip, ua)``."""

    def __init__(self, base_url: str, key: bytes, crawler_token: str, hosts: set[str] | None = None):
        self.base_url = base_url
        self.key = key
        self.crawler_token = crawler_token
        self.hosts = {_host(h) for h in (hosts or set())} | {_host(urlsplit(base_url).hostname or "")}
        self.agent = cached(self._agent)
        self.target = cached(self._target)
        self.referrer = cached(self._referrer)
        self._visitors: dict[str, str] = {}
        self.client = cached(lambda address: visitor_hash(self.key, f"{address}\x00"))  # one address, any agent

    def _agent(self, agent: str | None) -> tuple[str, str, str, str, str]:
        """``(class, bot name, device, os, browser)``; class human, bot or crawler."""
        if agent and self.crawler_token in agent:
            return "crawler", "", "", "", ""
        if not agent or crawleruseragents.is_crawler(agent):
            return "bot", bot_name(agent or ""), "", "", ""
        kind, os_family, browser = device_of(agent)
        return "human", "", kind, os_family, browser

    def _target(self, target: str) -> tuple[str, str, tuple[str, ...]]:
        """``(page | download | asset, canonical URL, security signals)``: the type from the
        extension of the decoded path's last segment; the URL the site's base URL joined with
        the target (its GBK path re-encoded: :func:`utf8_path`) in canonical form; the signals
        ``scan<TAB>path`` and ``injection<TAB>path`` (both may hold)."""
        raw_path = target.partition("?")[0]
        path = decode_escapes(raw_path)
        last = path.rsplit("/", 1)[-1]
        extension = last.rsplit(".", 1)[-1].lower() if "." in last.lstrip(".") else ""
        kind = "page" if extension in PAGE_EXTENSIONS else "download" if extension in DOWNLOAD_EXTENSIONS else "asset"
        signals = []
        if not path.lower().startswith("/.well-known/") and _SCAN.search(path):
            signals.append(f"scan\t{path[:300]}")
        if _INJECTION.search(" ".join(decode_escapes(target).replace("+", " ").split())):
            signals.append(f"injection\t{path[:300]}")
        fixed = utf8_path(target)
        try:
            url = canonicalize_url(urljoin(self.base_url, fixed if fixed.startswith("/") else "/" + fixed))
        except ValueError:
            url = fixed
        return kind, url[:400], tuple(signals)

    def _referrer(self, referrer: str | None) -> tuple[bool, str | None, str | None]:
        """``(internal, external host, engine<TAB>phrase)``."""
        if not referrer:
            return False, None, None
        try:
            parts = urlsplit(referrer)
        except ValueError:
            return False, None, None
        host = _host(parts.hostname or "")
        if not host:
            return False, None, None
        if host in self.hosts:
            return True, None, None
        phrase = None
        for suffix, engine, params in ENGINES:
            if host == suffix or host.endswith("." + suffix) or (suffix.endswith(".") and suffix in host):
                for pair in parts.query.split("&"):
                    name, _, value = pair.partition("=")
                    if name in params and value:
                        text = decode_query_value(value)
                        if text:
                            phrase = f"{engine}\t{text[:200]}"
                            break
                break
        return False, host, phrase

    def visitor(self, client: str, agent: str | None) -> str:
        """The keyed hash of a visitor (its address and User-Agent), never the address:
        :func:`visitor_hash`."""
        text = f"{client}\x00{agent or ''}"
        found = self._visitors.get(text)
        if found is None:
            if len(self._visitors) >= CACHE_LIMIT:
                self._visitors.clear()
            found = self._visitors[text] = visitor_hash(self.key, text)
        return found


def visitor_hash(key: bytes, text: str) -> str:
    """BLAKE2b keyed with ``key`` (a MAC, RFC 7693), 16 bytes as 32 hex digits, of
    ``address NUL User-Agent``: without the key no guessed address can be tested against it."""
    if len(key) > 64:  # BLAKE2b's longest key
        key = hashlib.sha256(key).digest()
    return hashlib.blake2b(text.encode("utf-8", "surrogateescape"), key=key, digest_size=16).hexdigest()
