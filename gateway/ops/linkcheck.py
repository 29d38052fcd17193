"""Dead-link checking (死链检测): every link the crawl recorded is checked, politely, and the
per-site report lists the broken ones with the pages that contain them.

The crawl records each page's links (:func:`normalizers.links.extract_links` →
:func:`gateway.store.links.record_links`). :func:`check_links` (async, httpx) checks every
target linked from the given sites that is due: ``HEAD``, then a streamed ``GET`` (at most
:data:`GET_READ_LIMIT` bytes read) when the server refuses ``HEAD`` (400, 403, 405, 501) or
drops the connection; redirects followed by hand (at most :data:`MAX_REDIRECTS`, loops reported
as "redirect loop"). Politeness: per host at most ``concurrency_per_host`` (≤ 2) requests in
flight, and a new request starts no sooner than ``delay`` seconds after the previous request to
that host started or finished; a global cap on requests in flight; the gateway's User-Agent. A
subsite's public URL is fetched from its origin override when one is given (``--origin
rsj=http://127.0.0.1:8080``, as the spider does) and the result is recorded under the public
URL; other hosts are fetched as they are.

Checking must not change the sites it checks, so some links are never requested:

- **robots.txt** (Protego, Scrapy's parser): fetched once per host and run, through the origin
  mapping and the host's politeness (it counts as a request); matched with the User-Agent's
  product token (``blgw``). 2xx: obeyed, a disallowed URL is skipped (``robots``, the reason
  names the ``Disallow`` line and its ``User-agent``), and its ``Crawl-delay`` slows the host
  (the larger of it and ``delay``, at most :data:`CRAWL_DELAY_MAX`); 4xx: everything allowed;
  5xx, a timeout, a reset or too many redirects: nothing of the host is requested this run
  (``robots-unavailable``). When no server answers at all (DNS lookup failed, connection
  refused, TLS error, an address refused by the scope policy), every link of the host is
  broken for that reason, without another request. Every redirect hop is checked too.
- **counters and beacons** (``counter``): URLs matching :data:`COUNTER_URLS` (PHPCMS
  ``api.php?op=count``, EmpireCMS ``/e/public/ViewClick/``, ``count.asp``, ``hits.php``, stats
  services…), or, for links only loaded by a page (images, frames), :data:`BEACON_WORDS`
  (``stat``, ``tongji``, ``counter``, ``click``…); PHP runs a counter on ``HEAD`` too.
- **scripts** (``script``): a URL that every page linking it loads with ``<script src>``.

And what the crawl fetched successfully within ``recheck_after`` (a page, a stored document or
attachment, by canonical key) is ok from the store without a request. Skipped links are
reported as "not checked (reason)", never as broken. The report itself is
:func:`gateway.store.links.dead_link_report` (JSON-ready); :func:`format_report` is its text.
``blgw links check|report`` and the API page ``/links/{site}`` use these.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import functools
import re
import socket
import ssl
import time
import tomllib
from collections import Counter, deque
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urldefrag, urljoin, urlsplit

import httpcore
import httpx
from protego import Protego
from sqlalchemy import select

from gateway.scope import Origin, Refusal, Scope, address_refusal, canonical_host, parse_origin, resolve
from gateway.settings import get_settings
from gateway.store.links import (
    VISITOR_404_DAYS,
    DueLink,
    FetchedByCrawl,
    due_link_targets,
    fetched_recently,
    save_link_checks,
)
from gateway.store.models import Site
from gateway.store.session import Store
from normalizers.encoding import decode_html
from normalizers.urls import rebase
from plugins.manager import registry_from_settings
from plugins.spec import SiteSpec

__all__ = ["BEACON_WORDS", "COUNTER_URLS", "CheckResult", "CheckSummary", "agent_token", "check_links", "counter_kind",
           "describe_error", "format_report", "robots_reason", "run_check", "site_base_urls", "skip_without_request"]

MAX_REDIRECTS = 10
GET_READ_LIMIT = 8192  # bytes read from a GET before the connection is closed
HEAD_REFUSED = frozenset({400, 403, 405, 501})  # HEAD answers that mean "ask me with GET"
REDIRECTS = frozenset({301, 302, 303, 307, 308})
SAVE_EVERY = 50  # check results written to the store in batches of this many

ROBOTS_READ_LIMIT = 500 * 1024  # bytes of a robots.txt read (what Google reads)
ROBOTS_MAX_REDIRECTS = 5
CRAWL_DELAY_MAX = 30.0  # seconds: a larger Crawl-delay is honoured as this much

# URLs that count hits or report visits: requesting one changes the site (PHP runs a counter
# on HEAD too; every check would add one view to every article), so none is ever requested,
# whatever element links it. (name shown in the report, pattern searched in the URL)
COUNTER_URLS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("PHPCMS hit counter (api.php?op=count)", re.compile(r"/api\.php\?(?:[^#]*&)?op=count\b", re.I)),
    ("EmpireCMS click counter (/e/public/ViewClick/)", re.compile(r"/e/public/viewclick\b", re.I)),
    ("DedeCMS click counter (/plus/count.php)", re.compile(r"/plus/(?:count|disdls)\.php\b", re.I)),
    ("counter script (count.asp, counter.php, viewcount.aspx…)",
     re.compile(r"/(?:[\w-]*[_-]|view|hit|visit|add|click|page|art|news)?count(?:er|s)?\."
                r"(?:asp|aspx|php|jsp|cgi|ashx|do|js)\b", re.I)),
    ("hit counter script (hits.php, addhits.asp…)",
     re.compile(r"/(?:[\w-]*[_-]|add|view|get|update|set)?hits?\.(?:asp|aspx|php|jsp|cgi|ashx|do)\b", re.I)),
    ("click counter script (click.php, addclick.asp…)",
     re.compile(r"/(?:[\w-]*[_-]|add|view|get|update|set|do)?clicks?\.(?:asp|aspx|php|jsp|cgi|ashx|do)\b", re.I)),
    ("counter action in the query (op=count, action=hits…)",
     re.compile(r"[?&](?:op|action|act|ac|a|m|do|c)=(?:count|counter|hits?|click|clicks|addclick|addhits|"
                r"viewcount|stat|stats|tongji)(?:&|#|$)", re.I)),
    ("statistics service (hm.baidu.com, cnzz.com, 51.la…)",
     re.compile(r"^https?://(?:[\w-]+\.)*(?:hm\.baidu\.com|cnzz\.com|51\.la|51yes\.com|google-analytics\.com|"
                r"googletagmanager\.com|statcounter\.com)(?::\d+)?/", re.I)),
)
# words of a URL that a page only loads (an image, a frame, an embed: never one users follow)
# makes a stats beacon or a counter image: /tongji/pv.gif, /stat.php?id=3, /images/counter.gif
BEACON_WORDS = re.compile(r"(?:^|[/._-])(?:stat|stats|statistics|tongji|counter|count|click|hits?|beacon|"
                          r"tracker|tracking)(?=[/._?&=-]|$)", re.I)
NAVIGATIONAL_TAGS = frozenset({"a", "area", "meta"})  # elements a user follows (None, unknown, too)

SKIP_KINDS = ("robots", "robots-unavailable", "script", "counter")
# failures of a robots.txt request that no server answered (the host is down, unknown, refused):
# every link of the host is broken the same way, with no further request
_HOST_FAILURES = frozenset({"DNS lookup failed", "connection refused", "connection failed", "TLS error",
                            "invalid URL"})


def counter_kind(url: str, tags: Iterable[str | None] = ("a",)) -> str | None:
    """Why ``url`` is a counter or a stats beacon (the name of the :data:`COUNTER_URLS` pattern
    it matches, or, when no element that links it is one users follow, of
    :data:`BEACON_WORDS`), or None."""
    for name, pattern in COUNTER_URLS:
        if pattern.search(url):
            return name
    if not any(tag is None or tag in NAVIGATIONAL_TAGS for tag in tags):
        parts = urlsplit(url)
        if BEACON_WORDS.search(parts.path + ("?" + parts.query if parts.query else "")):
            return "a statistics/counter word in a URL only loaded by the page"
    return None


def skip_without_request(url: str, tags: Iterable[str | None]) -> tuple[str, str] | None:
    """(skip kind, reason) when a link must not be requested whatever robots.txt says: a
    counter or stats beacon (``counter``), or a URL every page loads only as a script
    (``script``); None otherwise."""
    tags = set(tags) or {None}
    reason = counter_kind(url, tags)
    if reason is not None:
        return "counter", reason
    if tags == {"script"}:
        return "script", "only loaded as a script (<script src>)"
    return None


def agent_token(user_agent: str) -> str:
    """The product token robots.txt groups are matched against: ``blgw`` of ``blgw/0.1 (+…)``."""
    return (re.split(r"[/\s;(]", user_agent.strip(), maxsplit=1)[0] or user_agent).strip() or "*"


def _robots_groups(text: str) -> list[tuple[list[str], list[tuple[str, str]]]]:
    """The groups of a robots.txt as written: (user agents, [(field, value)] of its rules), for
    naming the line that disallows a URL (Protego decides)."""
    groups: list[tuple[list[str], list[tuple[str, str]]]] = []
    in_agents = False
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        field_, sep, value = line.partition(":")
        if not sep:
            continue
        field_, value = field_.strip().lower(), value.strip()
        if field_ in ("user-agent", "useragent", "user agent"):
            if not in_agents:
                groups.append(([], []))
                in_agents = True
            groups[-1][0].append(value)
        elif field_ in ("allow", "disallow") and groups:
            in_agents = False
            groups[-1][1].append((field_, value))
        else:
            in_agents = False
    return groups


def robots_reason(text: str, token: str, url: str) -> str:
    """The robots.txt line (and its group's user agent) that disallows ``url`` for ``token``:
    ``robots.txt: Disallow: /api.php (User-agent: *)``."""
    groups = _robots_groups(text)
    lowered = token.lower()
    named = [(len(a), a) for agents, _ in groups for a in agents
             if a != "*" and a.lower().replace("*", "") and a.lower().replace("*", "") in lowered]
    agent = max(named)[1] if named else "*"
    rules = [v for agents, group in groups if agent in agents for f, v in group if f == "disallow" and v]
    for value in sorted(rules, key=len, reverse=True):
        if not Protego.parse(f"User-agent: *\nDisallow: {value}").can_fetch(url, "*"):
            return f"robots.txt: Disallow: {value} (User-agent: {agent})"
    return f"robots.txt disallows it (User-agent: {agent})"


@dataclass
class _HostRobots:
    """What one host's robots.txt says for this run: ``parser`` (None: allow all), or the
    host is ``unavailable`` (robots.txt answered 5xx or failed: nothing is requested) or
    ``down`` (no server answered: every link of the host is broken for that reason)."""

    parser: Protego | None = None
    text: str = ""
    unavailable: str | None = None
    down: str | None = None


class _Skip(Exception):
    """A link not requested on purpose (robots.txt)."""

    def __init__(self, kind: str, reason: str):
        super().__init__(reason)
        self.kind = kind
        self.reason = reason


CONTENT_READ = 32 * 1024  # what is read of an outbound page for 外链变异

DEFAULT_OUTBOUND_WORDS = Path(__file__).with_name("outbound_words.toml")


@dataclass(frozen=True)
class ContentRule:
    """One kind of content an outbound page that changed hands serves: ``min`` different ``words``."""

    kind: str
    min: int
    pattern: re.Pattern[str]


@functools.cache
def outbound_rules(path: str = "") -> tuple[ContentRule, ...]:
    """The 外链变异 word lists: the file ``BLGW_OUTBOUND_WORDS`` names, else the packaged
    ``outbound_words.toml`` (kinds in file order, each ``min`` and ``words``). A bad file raises
    ValueError naming the file and the field."""
    source = Path(path) if path else DEFAULT_OUTBOUND_WORDS
    try:
        data = tomllib.loads(source.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ValueError(f"{source}: cannot read the outbound word list: {exc}") from exc
    rules = []
    for kind, table in data.items():
        if not isinstance(table, dict):
            raise ValueError(f"{source}: [{kind}] must be a table with min and words")
        words, least = table.get("words"), table.get("min", 1)
        if not isinstance(words, list) or not words or not all(isinstance(w, str) and w.strip() for w in words):
            raise ValueError(f"{source}: [{kind}] words must be a non-empty list of strings")
        if not isinstance(least, int) or isinstance(least, bool) or least < 1:
            raise ValueError(f"{source}: [{kind}] min must be a whole number of at least 1")
        alternatives = "|".join(re.escape(w.strip()).replace(r"\ ", r"\s+") for w in
                                sorted(words, key=len, reverse=True))
        rules.append(ContentRule(kind, least, re.compile(alternatives, re.I)))
    if not rules:
        raise ValueError(f"{source}: no kind of content is defined")
    return tuple(rules)


def content_flag(body: bytes, rules: tuple[ContentRule, ...] | None = None) -> tuple[str, str] | None:
    """What an outbound page now holds, from its first bytes: ``(kind, words)`` for the first kind of
    :func:`outbound_rules` whose ``min`` different words it holds (gambling and adult 2, parked 1 by
    default), else None."""
    text = decode_html(body[:CONTENT_READ]).text
    for rule in rules if rules is not None else outbound_rules(get_settings().outbound_words):
        words = sorted({re.sub(r"\s+", " ", m.group(0).lower()) for m in rule.pattern.finditer(text)})
        if len(words) >= rule.min:
            return rule.kind, "、".join(words[:8])
    return None


@dataclass
class CheckResult:
    """The outcome of checking one link (recorded under its public URL)."""

    target_id: str
    url: str
    ok: bool
    status: int | None = None
    error: str | None = None
    final_url: str | None = None
    method: str | None = None
    checked_at: dt.datetime | None = None
    failures: int = 0  # consecutive failed checks, this one included
    skip_kind: str | None = None  # not requested on purpose: robots | robots-unavailable | script | counter
    skip_reason: str | None = None
    reused: str | None = None  # ok from what the crawl fetched (page | document | attachment), not requested
    content_flag: str | None = None  # an outbound page's content: gambling | adult | parked (外链变异)
    content_words: str | None = None

    def row(self) -> dict[str, Any]:
        """The store's columns of this result (:func:`gateway.store.links.save_link_checks`)."""
        if self.skip_kind is not None:
            return {"id": self.target_id, "status": None, "ok": None, "error": None, "final_url": None,
                    "method": None, "checked_at": None, "failures": self.failures, "skip_kind": self.skip_kind,
                    "skip_reason": self.skip_reason, "skipped_at": self.checked_at, "content_flag": None,
                    "content_words": None}
        return {"id": self.target_id, "status": self.status, "ok": self.ok, "error": self.error,
                "final_url": self.final_url, "method": self.method, "checked_at": self.checked_at,
                "failures": self.failures, "skip_kind": None, "skip_reason": None, "skipped_at": None,
                "content_flag": self.content_flag, "content_words": self.content_words}


@dataclass
class CheckSummary:
    """What one :func:`check_links` run did."""

    sites: list[str]
    due: int = 0  # links that were due for a check
    checked: int = 0  # requested (or broken with their host: no server answered its robots.txt)
    ok: int = 0  # of the checked and the reused
    broken: int = 0
    reused: int = 0  # ok from what the crawl fetched within the check interval, not requested
    skipped: Counter[str] = field(default_factory=Counter)  # not requested on purpose: skip kind → count
    robots_requests: int = 0  # robots.txt requests (one per host and run)
    errors: Counter[str] = field(default_factory=Counter)  # error text or "HTTP <status>" → count
    seconds: float = 0.0
    results: list[CheckResult] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {"sites": self.sites, "due": self.due, "checked": self.checked, "ok": self.ok,
                "broken": self.broken, "reused": self.reused, "skipped": dict(self.skipped.most_common()),
                "robots_requests": self.robots_requests, "errors": dict(self.errors.most_common()),
                "seconds": round(self.seconds, 2)}

    def format(self) -> str:
        line = (f"checked {self.checked} of {self.due} due links of {', '.join(self.sites) or 'no site'} "
                f"in {self.seconds:.1f}s: {self.ok} ok, {self.broken} broken")
        if self.errors:
            line += " (" + ", ".join(f"{k}: {v}" for k, v in self.errors.most_common()) + ")"
        if self.reused:
            line += f"; {self.reused} ok from the crawl's own fetches"
        if self.skipped:
            line += "; not checked: " + ", ".join(f"{k} {v}" for k, v in self.skipped.most_common())
        return line


class _HostGate:
    """Politeness for one host: at most ``per_host`` requests in flight, and a request starts
    no sooner than ``delay`` after the previous one to the host started or finished."""

    def __init__(self, per_host: int, delay: float):
        self.semaphore = asyncio.Semaphore(per_host)
        self.delay = delay
        self.next_start = 0.0

    @contextlib.asynccontextmanager
    async def slot(self, global_cap: asyncio.Semaphore) -> AsyncIterator[None]:
        loop = asyncio.get_running_loop()
        async with self.semaphore, global_cap:
            now = loop.time()
            start = max(now, self.next_start)
            self.next_start = start + self.delay
            if start > now:
                await asyncio.sleep(start - now)
            try:
                yield
            finally:
                self.next_start = max(self.next_start, loop.time() + self.delay)


class _Failure(Exception):
    """A check that ended without a usable answer; ``retry_with_get`` when the server may
    just dislike HEAD (it dropped the connection)."""

    def __init__(self, message: str, retry_with_get: bool = False):
        super().__init__(message)
        self.message = message
        self.retry_with_get = retry_with_get


def _causes(exc: BaseException | None) -> Iterator[BaseException]:
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or exc.__context__


def describe_error(exc: BaseException) -> _Failure:
    """A short, stable error text for a failed request (what the report shows)."""
    chain = list(_causes(exc))
    text = " ".join(str(e) for e in chain).lower()
    if any(isinstance(e, _Refused) for e in chain):
        return _Failure("refused (private address)")
    if any(isinstance(e, (httpx.TimeoutException, TimeoutError, asyncio.TimeoutError)) for e in chain):
        return _Failure("timeout")
    if any(isinstance(e, ssl.SSLError) for e in chain) or "ssl" in text or "certificate" in text:
        return _Failure("TLS error")
    if any(isinstance(e, socket.gaierror) for e in chain) or "name or service not known" in text \
            or "nodename nor servname" in text or "temporary failure in name resolution" in text \
            or "no address associated" in text:
        return _Failure("DNS lookup failed")
    if any(isinstance(e, ConnectionRefusedError) for e in chain) or "connection refused" in text:
        return _Failure("connection refused")
    if any(isinstance(e, ConnectionResetError) for e in chain) or "connection reset" in text:
        return _Failure("connection reset", retry_with_get=True)
    if any(isinstance(e, httpx.RemoteProtocolError) for e in chain):
        if "disconnected" in text or "without sending" in text:
            return _Failure("server disconnected", retry_with_get=True)
        return _Failure("protocol error", retry_with_get=True)
    if any(isinstance(e, (httpx.UnsupportedProtocol, httpx.InvalidURL, httpx.LocalProtocolError,
                          UnicodeError, ValueError)) for e in chain):
        return _Failure("invalid URL")
    if any(isinstance(e, (httpx.ReadError, httpx.WriteError)) for e in chain):
        return _Failure("connection error", retry_with_get=True)
    if any(isinstance(e, httpx.ConnectError) for e in chain):
        return _Failure("connection failed")
    return _Failure(f"{type(exc).__name__}: {exc}"[:200])


class _Refused(httpcore.ConnectError):
    """A connection the scope policy refuses (an internal address)."""

    def __init__(self, refusal: Refusal):
        super().__init__(str(refusal))
        self.refusal = refusal


class _ScopedBackend(httpcore.AsyncNetworkBackend):
    """The network under httpx: each connection's host is resolved here, checked
    (:func:`gateway.scope.address_refusal`: no internal address but the configured sites'
    origins) and connected to by the address checked, so a name cannot resolve to a public
    address for the check and to an internal one for the connection (DNS rebinding)."""

    def __init__(self, inner: httpcore.AsyncNetworkBackend, trusted: frozenset[tuple[str, int]]):
        self.inner = inner
        self.trusted = trusted

    async def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                          local_address: str | None = None,
                          socket_options: Iterable[Any] | None = None) -> httpcore.AsyncNetworkStream:
        name = canonical_host(host)
        literal = parse_origin(f"http://{host}:{port}/")
        if isinstance(literal, Origin) and literal.address is not None:
            addresses = [literal.address]
        else:
            addresses = await asyncio.to_thread(resolve, host, port)
            if not addresses:
                raise httpcore.ConnectError(f"name or service not known: {host}")
        refusal = address_refusal(f"//{host}:{port}", host, addresses, trusted=(name, port) in self.trusted)
        if refusal is not None:
            raise _Refused(refusal)
        return await self.inner.connect_tcp(str(addresses[0]), port, timeout=timeout, local_address=local_address,
                                            socket_options=socket_options)

    async def connect_unix_socket(self, path: str, timeout: float | None = None,
                                  socket_options: Iterable[Any] | None = None) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("no unix sockets")

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


def _scoped_transport(limits: httpx.Limits, trusted: frozenset[tuple[str, int]]) -> httpx.AsyncHTTPTransport:
    transport = httpx.AsyncHTTPTransport(limits=limits)
    pool = transport._pool  # httpx offers no network-backend option: the pool's backend is wrapped
    backend = getattr(pool, "_network_backend", None)
    if not isinstance(backend, httpcore.AsyncNetworkBackend):  # pragma: no cover - a changed httpx
        raise RuntimeError("cannot apply the scope policy to httpx's connections (httpx/httpcore changed)")
    pool._network_backend = _ScopedBackend(backend, trusted)
    return transport


class _OriginMap:
    """Public URLs of the sites with an origin override ↔ the URLs they are fetched from (the
    spider's own mapping: :func:`normalizers.urls.rebase`)."""

    def __init__(self, base_urls: Mapping[str, str], origins: Mapping[str, str]):
        self.pairs = [(base_urls[code], override) for code, override in origins.items() if base_urls.get(code)]

    def to_fetch(self, url: str) -> str:
        for public, fetch in self.pairs:
            moved = rebase(url, public, fetch)
            if moved != url:
                return moved
        return url

    def to_public(self, url: str) -> str:
        for public, fetch in self.pairs:
            moved = rebase(url, fetch, public)
            if moved != url:
                return moved
        return url


class _Checker:
    def __init__(self, client: httpx.AsyncClient, origin_map: _OriginMap, *, concurrency_per_host: int, delay: float,
                 timeout: float, max_concurrency: int, agent: str = "*", own_hosts: frozenset[str] = frozenset()):
        self.client = client
        self.own_hosts = own_hosts  # the site group's hosts: a link elsewhere is outbound (外链)
        self.origins = origin_map
        self.per_host = concurrency_per_host
        self.delay = delay
        self.timeout = timeout
        self.global_cap = asyncio.Semaphore(max_concurrency)
        self.gates: dict[str, _HostGate] = {}
        self.agent = agent  # the product token robots.txt groups are matched against
        self.robots: dict[str, _HostRobots] = {}
        self.robots_locks: dict[str, asyncio.Lock] = {}
        self.robots_requests = 0

    @staticmethod
    def host_key(url: str) -> str:
        parts = urlsplit(url)
        return f"{parts.scheme.lower()}://{(parts.netloc or '').lower()}"

    def gate(self, url: str) -> _HostGate:
        key = self.host_key(url)
        if key not in self.gates:
            self.gates[key] = _HostGate(self.per_host, self.delay)
        return self.gates[key]

    async def robots_of(self, fetch_url: str) -> _HostRobots:
        """The robots.txt of the host ``fetch_url`` is fetched from, requested once per run."""
        key = self.host_key(fetch_url)
        lock = self.robots_locks.setdefault(key, asyncio.Lock())
        async with lock:
            if key not in self.robots:
                self.robots[key] = await self._fetch_robots(key)
            return self.robots[key]

    async def _fetch_robots(self, host: str) -> _HostRobots:
        """2xx: parsed (its Crawl-delay slows the host's gate); 4xx: allow all; 5xx, a failed
        request or too many redirects: nothing of the host is requested this run; no server
        answering at all: every link of the host is broken for that reason."""
        fetch = f"{host}/robots.txt"
        try:
            for _hop in range(ROBOTS_MAX_REDIRECTS + 1):
                origin = parse_origin(fetch)
                if isinstance(origin, Refusal):
                    raise _Failure(f"refused ({origin.reason})")
                self.robots_requests += 1
                status, location, body = await self._get(fetch, ROBOTS_READ_LIMIT)
                if status in REDIRECTS and location:
                    try:
                        fetch = urldefrag(urljoin(fetch, location.strip()))[0]
                    except ValueError:
                        return _HostRobots(unavailable="robots.txt: invalid redirect")
                    continue
                break
            else:
                return _HostRobots(unavailable="robots.txt: too many redirects")
        except _Failure as failure:
            if failure.message in _HOST_FAILURES or failure.message.startswith("refused"):
                return _HostRobots(down=failure.message)
            return _HostRobots(unavailable=f"robots.txt could not be read ({failure.message})")
        if status >= 500:
            return _HostRobots(unavailable=f"robots.txt answered HTTP {status}")
        if status >= 300:  # 4xx (and a redirect without a Location): no robots.txt, everything allowed
            return _HostRobots()
        text = body.decode("utf-8", errors="replace").lstrip("\ufeff")
        parser = Protego.parse(text)
        crawl_delay = parser.crawl_delay(self.agent)
        if crawl_delay:
            gate = self.gate(host)
            gate.delay = min(max(gate.delay, float(crawl_delay)), CRAWL_DELAY_MAX)
        return _HostRobots(parser=parser, text=text)

    async def obey_robots(self, fetch_url: str) -> None:
        """Raise :class:`_Skip` when robots.txt keeps the checker from ``fetch_url`` (or the
        host's robots.txt is unavailable), :class:`_Failure` when the host has no server."""
        robots = await self.robots_of(fetch_url)
        if robots.down is not None:
            raise _Failure(robots.down)
        if robots.unavailable is not None:
            raise _Skip("robots-unavailable", robots.unavailable)
        if robots.parser is not None and not robots.parser.can_fetch(fetch_url, self.agent):
            raise _Skip("robots", robots_reason(robots.text, self.agent, fetch_url))

    async def _get(self, url: str, limit: int) -> tuple[int, str | None, bytes]:
        """(status, Location, at most ``limit`` bytes of the body) of one GET, politely."""
        async with self.gate(url).slot(self.global_cap):
            try:
                async with asyncio.timeout(self.timeout), self.client.stream("GET", url) as response:
                    body = bytearray()
                    if response.status_code not in REDIRECTS:
                        async for chunk in response.aiter_bytes():
                            body += chunk
                            if len(body) >= limit:
                                break
                    return response.status_code, response.headers.get("location"), bytes(body[:limit])
            except Exception as exc:  # every failure becomes an error text
                raise describe_error(exc) from exc

    async def request(self, method: str, url: str) -> tuple[int, str | None, bool]:
        """(status, Location, whether the answer set a cookie) of one request, politely."""
        async with self.gate(url).slot(self.global_cap):
            try:
                async with asyncio.timeout(self.timeout):
                    if method == "HEAD":
                        response = await self.client.head(url)
                        return (response.status_code, response.headers.get("location"),
                                "set-cookie" in response.headers)
                    async with self.client.stream("GET", url) as response:
                        if response.status_code not in REDIRECTS:
                            read = 0
                            async for chunk in response.aiter_raw():
                                read += len(chunk)
                                if read >= GET_READ_LIMIT:
                                    break
                        return (response.status_code, response.headers.get("location"),
                                "set-cookie" in response.headers)
            except Exception as exc:  # every failure becomes an error text
                raise describe_error(exc) from exc

    async def follow(self, public_url: str, method: str) -> tuple[int, str]:
        """Follow redirects from ``public_url``: (final status, final public URL). Every hop's
        URL must be one any fetch may follow (:func:`gateway.scope.parse_origin`); its address is
        checked when it is connected to (:class:`_ScopedBackend`)."""
        fetch = self.origins.to_fetch(public_url)
        visits: Counter[str] = Counter({fetch: 1})
        for _hop in range(MAX_REDIRECTS + 1):
            origin = parse_origin(fetch)
            if isinstance(origin, Refusal):
                raise _Failure(f"refused ({origin.reason})")
            await self.obey_robots(fetch)  # every hop: a redirect may lead where robots.txt forbids
            status, location, set_cookie = await self.request(method, fetch)
            if status not in REDIRECTS or not location:
                return status, self.origins.to_public(fetch)
            try:
                target = urldefrag(urljoin(fetch, location.strip()))[0]
            except ValueError:
                raise _Failure("invalid redirect") from None
            if urlsplit(target).scheme.lower() not in ("http", "https"):
                raise _Failure("redirect to a non-HTTP URL")
            target = self.origins.to_fetch(self.origins.to_public(target))
            # a page may redirect to itself once to set a session cookie (classic ASP); twice is a loop
            if visits[target] >= 2 or (visits[target] == 1 and not set_cookie):
                raise _Failure("redirect loop")
            visits[target] += 1
            fetch = target
        raise _Failure("too many redirects")

    async def check(self, target_id: str, url: str, failures: int) -> CheckResult:
        result = CheckResult(target_id=target_id, url=url, ok=False, method="HEAD")
        try:
            await self._check(result, url)
        except _Skip as skip:
            result.skip_kind, result.skip_reason, result.ok, result.method = skip.kind, skip.reason, False, None
            result.status = result.final_url = None
            result.checked_at = dt.datetime.now(dt.UTC)
            result.failures = failures  # a skip is no failure, nor a success
            return result
        except _Failure as failure:
            result.error = failure.message
        except Exception as exc:  # noqa: BLE001 - an odd URL or answer must not stop the run
            result.error = describe_error(exc).message
        if result.ok and result.final_url and canonical_host(urlsplit(url).hostname or "") not in self.own_hosts:
            await self._read_outbound(result)
        result.checked_at = dt.datetime.now(dt.UTC)
        result.failures = 0 if result.ok else failures + 1
        return result

    async def _read_outbound(self, result: CheckResult) -> None:
        """外链变异: read the first :data:`CONTENT_READ` bytes of an outbound link's final page
        (one GET, robots.txt already obeyed on the way there) for what it now holds."""
        assert result.final_url is not None
        try:
            status, _, body = await self._get(self.origins.to_fetch(result.final_url), CONTENT_READ)
        except _Failure:
            return
        if 200 <= status < 300:
            found = content_flag(body)
            if found is not None:
                result.content_flag, result.content_words = found

    async def _check(self, result: CheckResult, url: str) -> None:
        try:
            status, final = await self.follow(url, "HEAD")
            if status in HEAD_REFUSED:
                result.method = "GET"
                status, final = await self.follow(url, "GET")
        except _Failure as failure:
            if not failure.retry_with_get:
                raise
            result.method = "GET"
            status, final = await self.follow(url, "GET")
        result.status, result.final_url = status, final
        result.ok = 200 <= status < 400


def site_base_urls(store: Store | None = None, registry: Iterable[SiteSpec] | None = None) -> dict[str, str]:
    """{site code: public base URL} of every site the gateway knows: the store's sites,
    overlaid with the loaded plugins (``registry``, default: the settings' plugins)."""
    bases: dict[str, str] = {}
    if store is not None:
        with store.session() as session:
            bases.update(dict(session.execute(select(Site.code, Site.base_url)).all()))
    if registry is None:
        registry = registry_from_settings()
    bases.update({spec.code: spec.site.base_url for spec in registry})
    return bases


def _save(store: Store, results: list[CheckResult]) -> None:
    with store.session() as session:
        save_link_checks(session, [r.row() for r in results])


def _due(store: Store, codes: list[str], **options: Any) -> list[DueLink]:
    with store.session() as session:
        return due_link_targets(session, codes, **options)


def _fetched(store: Store, target_ids: list[str], since: dt.datetime) -> dict[str, FetchedByCrawl]:
    with store.session() as session:
        return fetched_recently(session, target_ids, since=since)


async def check_links(
    store: Store,
    site_codes: Iterable[str],
    *,
    origins: Mapping[str, str] | None = None,
    concurrency_per_host: int = 2,
    delay: float = 0.5,
    timeout: float = 15,
    recheck_after: dt.timedelta = dt.timedelta(days=1),
    only_unchecked: bool = False,
    limit: int | None = None,
    max_concurrency: int = 16,
    user_agent: str | None = None,
    base_urls: Mapping[str, str] | None = None,
    progress: Callable[[CheckResult], None] | None = None,
    own_hosts: Iterable[str] | None = None,
) -> CheckSummary:
    """Check every link of ``site_codes`` that is due, politely, and record the results.

    Due: never checked, or checked more than ``recheck_after`` ago (``only_unchecked``: never
    checked only); never-checked links first, then the oldest; at most ``limit``. ``origins``
    ({site code: origin}) fetches a site's public URLs from another origin; ``base_urls``
    ({site code: public base URL}) defaults to the store's sites and the loaded plugins.
    Results are written to the store as they come, in batches of :data:`SAVE_EVERY`.
    ``concurrency_per_host`` is capped at 2 (the subsites are small, old servers).

    Not requested: a counter or stats beacon and a URL only loaded as a script
    (:func:`skip_without_request`); a URL robots.txt disallows for the User-Agent's token, or
    any URL of a host whose robots.txt is unavailable (recorded as skipped, with the reason);
    a URL the crawl fetched successfully within ``recheck_after`` (ok from the store).
    ``progress`` is called with each result but the skipped ones.

    An outbound link (its host none of ``own_hosts``, by default the hosts of ``base_urls``)
    that answers is read once more, its final page's first 32 KB (:func:`content_flag`: gambling,
    adult or parked content, 外链变异); the final URL of the check before is kept when the final
    host has changed. The word lists are read first (:func:`outbound_rules`), so a bad
    ``BLGW_OUTBOUND_WORDS`` file stops the check before any request, naming the file.
    """
    started = time.monotonic()
    outbound_rules(get_settings().outbound_words)
    codes = list(dict.fromkeys(site_codes))
    summary = CheckSummary(sites=codes)
    origins = dict(origins or {})
    if base_urls is None:
        base_urls = site_base_urls(store)
    origin_map = _OriginMap(base_urls or {}, origins)
    now = dt.datetime.now(dt.UTC)
    due = await asyncio.to_thread(_due, store, codes, now=now, recheck_after=recheck_after,
                                  only_unchecked=only_unchecked, limit=limit)
    summary.due = len(due)
    if not due:
        summary.seconds = time.monotonic() - started
        return summary

    # decided without a request: counters and scripts never asked, what the crawl fetched reused
    decided: list[CheckResult] = []
    to_ask: list[DueLink] = []
    for link in due:
        skip = skip_without_request(link.url, link.tags)
        if skip is None:
            to_ask.append(link)
            continue
        decided.append(CheckResult(target_id=link.id, url=link.url, ok=False, checked_at=now, failures=link.failures,
                                   skip_kind=skip[0], skip_reason=skip[1]))
    fetched = await asyncio.to_thread(_fetched, store, [link.id for link in to_ask], now - recheck_after)
    queues: dict[str, deque[DueLink]] = {}
    for link in to_ask:
        crawl = fetched.get(link.id)
        if crawl is not None:
            decided.append(CheckResult(target_id=link.id, url=link.url, ok=True, status=crawl.status,
                                       method="crawl", checked_at=crawl.at, reused=crawl.what))
            continue
        parts = urlsplit(origin_map.to_fetch(link.url))
        queues.setdefault(f"{parts.scheme}://{parts.netloc.lower()}", deque()).append(link)

    pending: list[CheckResult] = []
    save_lock = asyncio.Lock()

    async def flush(force: bool = False) -> None:
        async with save_lock:
            if pending and (force or len(pending) >= SAVE_EVERY):
                batch = pending[:]
                pending.clear()
                await asyncio.to_thread(_save, store, batch)

    def done(result: CheckResult) -> None:
        summary.results.append(result)
        pending.append(result)
        if progress is not None and result.skip_kind is None:
            progress(result)

    for result in decided:
        done(result)
    await flush()

    agent = user_agent or get_settings().user_agent
    headers = {"User-Agent": agent, "Accept": "*/*"}
    per_host = max(1, min(2, concurrency_per_host))
    limits = httpx.Limits(max_connections=max(1, max_concurrency), max_keepalive_connections=max(1, max_concurrency))
    # the configured sites' origins (and their fetch origins) may be internal: nothing else may
    trusted: set[tuple[str, int]] = set()
    for base in (base_urls or {}).values():
        trusted |= {(o.host, o.port) for o in Scope.of(base).origins}
    for override in origins.values():
        trusted |= {(o.host, o.port) for o in Scope.of(override).origins}
    # no proxy from the environment: a proxy would resolve and connect for us, past the checks
    async with httpx.AsyncClient(headers=headers, follow_redirects=False, timeout=httpx.Timeout(timeout),
                                 transport=_scoped_transport(limits, frozenset(trusted)),
                                 trust_env=False) as client:
        hosts = own_hosts if own_hosts is not None else [urlsplit(b).hostname or "" for b in (base_urls or {}).values()]
        checker = _Checker(client, origin_map, concurrency_per_host=per_host, delay=delay, timeout=timeout,
                           max_concurrency=max(1, max_concurrency), agent=agent_token(agent),
                           own_hosts=frozenset(canonical_host(h) for h in hosts if h))

        async def worker(queue: deque[DueLink]) -> None:
            while queue:
                link = queue.popleft()
                done(await checker.check(link.id, link.url, link.failures))
                await flush()

        try:
            async with asyncio.TaskGroup() as group:
                for queue in queues.values():
                    for _ in range(min(per_host, len(queue))):
                        group.create_task(worker(queue))
        finally:
            await flush(force=True)
        summary.robots_requests = checker.robots_requests

    for result in summary.results:
        if result.skip_kind is not None:
            summary.skipped[result.skip_kind] += 1
            continue
        if result.reused is not None:
            summary.reused += 1
        else:
            summary.checked += 1
        if result.ok:
            summary.ok += 1
        else:
            summary.broken += 1
            summary.errors[result.error or f"HTTP {result.status}"] += 1
    summary.seconds = time.monotonic() - started
    return summary


def run_check(store: Store, site_codes: Iterable[str], **options: Any) -> CheckSummary:
    """:func:`check_links` from synchronous code."""
    return asyncio.run(check_links(store, site_codes, **options))


def format_report(report: dict[str, Any], *, max_pages: int = 5) -> str:
    """The report as text for the terminal: a summary line, then each broken link with its
    status or error and the pages (with link text) that contain it, then the links not checked
    on purpose, each as "not checked (kind: reason)" (never as broken)."""
    title = f"{report['site']} {report['site_name']}" if report.get("site_name") else report["site"]
    summary = (f"dead links of {title}: {report['broken_count']} broken of {report['total']} links "
               f"({report['checked']} checked, {report['unchecked']} not yet)")
    skipped = report.get("skipped", [])
    if skipped:
        summary += f"; {len(skipped)} not checked on purpose"
    lines = [summary]
    for entry in report["broken"]:
        what = f"HTTP {entry['status']}" if entry["status"] is not None else (entry["error"] or "failed")
        if entry["status"] is not None and entry["error"]:
            what += f" ({entry['error']})"
        lines.append("")
        lines.append(f"{what:<20} {entry['url']}")
        details = [f"checked {entry['checked_at'] or 'never'}"]
        if entry.get("failures", 0) > 1:
            details.append(f"failed {entry['failures']} times in a row")
        if entry.get("final_url") and entry["final_url"] != entry["url"]:
            details.append(f"ends at {entry['final_url']}")
        lines.append(" " * 21 + "; ".join(details))
        pages = entry["pages"]
        for page in pages[:max_pages]:
            anchor = f"  「{page['anchor']}」" if page["anchor"] else ""
            lines.append(f"{'':21}on {page['url']}{anchor}")
        if len(pages) > max_pages:
            lines.append(f"{'':21}… and {len(pages) - max_pages} more pages")
    if not report["broken"]:
        lines.append("no broken links" + ("" if report["checked"] else " (none checked yet: run `blgw links check`)"))
    if skipped:
        lines.append("")
        lines.append("not checked on purpose (never requested):")
    for entry in skipped:
        lines.append(f"  not checked ({entry['skip_kind']}: {entry['skip_reason'] or 'no reason'}) {entry['url']}")
        pages = entry["pages"]
        for page in pages[:max_pages]:
            lines.append(f"{'':21}on {page['url']}")
        if len(pages) > max_pages:
            lines.append(f"{'':21}… and {len(pages) - max_pages} more pages")
    met = report.get("visitor_404s") or []
    if met:
        lines.append("")
        lines.append(f"dead links visitors met (access logs, {VISITOR_404_DAYS} days: a 404 from a page of the site):")
        for entry in met[:20]:
            lines.append(f"  {entry['hits']:>6}  {entry['url']}  ← {entry['referrer']}")
        if len(met) > 20:
            lines.append(f"  … and {len(met) - 20} more (blgw links report --json)")
    return "\n".join(lines)
