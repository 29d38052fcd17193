"""Dead-link report (死链检测): every link seen on a subsite is checked, politely, and a per-site
report lists the broken ones with the pages that contain them.

The parts, in the order a link travels:

- :func:`extract_links` (pure) reads the links of one page: ``<a href>``, ``<area href>``,
  ``<iframe src>``/``<frame src>``, ``<img src>``, ``<link rel=stylesheet href>``,
  ``<script src>``, embedded files (``<embed src>``, ``<object data>``, ``<source src>``,
  ``<video src>``, ``<audio src>``) and attachments (which are ``<a href>`` links), resolved
  against the page URL or its ``<base href>``, fragments stripped, canonicalized with
  :func:`normalizers.urls.canonicalize_url`, de-duplicated, each with its anchor text.
  ``javascript:``, ``mailto:``, ``tel:``, ``data:`` and pure ``#fragment`` links are skipped —
  except a ``javascript:window.open('…')`` href or an ``onclick="location.href='…'"`` handler,
  which is how the classic ASP subsites link every article: the URL it opens is the link.
  :func:`links_from_body` decodes page bytes first (:func:`normalizers.encoding.decode_html`).
- :func:`record_links` stores them: one :class:`~gateway.store.models.LinkTarget` per URL and
  one :class:`~gateway.store.models.LinkSource` per (URL, page); the page's set of links is
  replaced, so a link the page no longer has stops counting for it. The crawl pipeline calls it
  for every page it fetches.
- :func:`check_links` (async, httpx) checks every target linked from the given sites that is
  due: ``HEAD``, then a streamed ``GET`` (at most :data:`GET_READ_LIMIT` bytes read) when the
  server refuses ``HEAD`` (400, 403, 405, 501) or drops the connection; redirects followed by
  hand (at most :data:`MAX_REDIRECTS`, loops reported as "redirect loop"). Politeness: per host
  at most ``concurrency_per_host`` (≤ 2) requests in flight, and a new request starts no sooner
  than ``delay`` seconds after the previous request to that host started or finished; a global
  cap on requests in flight; the gateway's User-Agent. A subsite's public URL is fetched from
  its origin override when one is given (``--origin rsj=http://127.0.0.1:8080``, as the spider
  does) and the result is recorded under the public URL; other hosts are fetched as they are.
- :func:`dead_link_report` (JSON-ready) and :func:`format_report` (text) for one site;
  ``blgw links check`` / ``blgw links report`` (the :data:`links` click group) and the API page
  (``gateway/api_links.py``).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import re
import socket
import ssl
import sys
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urldefrag, urljoin, urlsplit

import click

from normalizers.urls import canonicalize_url, rebase

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from gateway.store.session import Store

__all__ = [
    "CheckResult",
    "CheckSummary",
    "Link",
    "check_links",
    "dead_link_report",
    "extract_links",
    "format_report",
    "links",
    "links_from_body",
    "record_links",
    "run_check",
]

ANCHOR_MAX = 200  # characters of link text kept
URL_MAX = 4096  # longer "URLs" are not links worth checking (inline data, broken markup)
MAX_REDIRECTS = 10
GET_READ_LIMIT = 8192  # bytes read from a GET before the connection is closed
HEAD_REFUSED = frozenset({400, 403, 405, 501})  # HEAD answers that mean "ask me with GET"
REDIRECTS = frozenset({301, 302, 303, 307, 308})
SAVE_EVERY = 50  # check results written to the store in batches of this many

# --- extraction ---------------------------------------------------------------------------------

# tag → the attribute holding its URL (``link`` only when rel=stylesheet)
_URL_ATTRIBUTES = {
    "a": "href", "area": "href", "iframe": "src", "frame": "src", "img": "src", "script": "src",
    "link": "href", "embed": "src", "object": "data", "source": "src", "video": "src", "audio": "src",
}
_SKIPPED_SCHEMES = ("javascript:", "mailto:", "tel:", "data:", "about:", "sms:", "callto:", "file:")
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>", re.IGNORECASE)
_WHITESPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class Link:
    """One link of a page: its canonical absolute URL (no fragment), its text, and the tag."""

    url: str
    anchor: str = ""
    tag: str = "a"


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _collapse(text: str | None) -> str:
    """Link text as shown: whitespace runs as one space, control characters (NUL cannot be
    stored in PostgreSQL text) dropped, at most :data:`ANCHOR_MAX` characters."""
    return _WHITESPACE.sub(" ", _CONTROL.sub("", text or "")).strip()[:ANCHOR_MAX]


def _anchor(element, tag: str) -> str:
    """The visible name of a link: its text, else its title, else an image's alt text."""
    if tag in ("a", "area"):
        text = _collapse(element.text_content()) if tag == "a" else ""
        if not text:
            text = _collapse(element.get("title")) or _collapse(element.get("alt"))
        if not text and tag == "a":
            for img in element.iter("img"):
                if text := _collapse(img.get("alt")) or _collapse(img.get("title")):
                    break
        return text
    if tag in ("img", "iframe", "frame", "embed", "object"):
        return _collapse(element.get("alt")) or _collapse(element.get("title"))
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


def _script_url(script: str | None) -> str | None:
    if not script:
        return None
    from spiders.listing import url_from_script

    return url_from_script(script)


def extract_links(html: str, page_url: str, *, encoding: str | None = None,
                  fetch_origin: str | None = None) -> list[Link]:
    """The links of one page (decoded text), in document order, each URL once.

    Relative URLs are resolved against ``<base href>`` when the page has one, else against
    ``page_url``; fragments are dropped and URLs canonicalized; only http(s) URLs are kept, and
    a link to the page itself is left out. ``encoding`` (the page's codec, as
    :func:`links_from_body` passes it) encodes non-ASCII query text the way browsers do.
    ``fetch_origin``: the page was fetched from this origin (a mirror, a test server) while
    ``page_url`` is its public URL; absolute links to the fetch origin are moved back to the
    public one, as the spider does. Never raises on bad markup or odd URLs.
    """
    import lxml.html
    from lxml import etree

    text = _XML_DECLARATION.sub("", (html or "").replace("\x00", ""), count=1)
    if not text.strip():
        return []
    try:
        root = lxml.html.document_fromstring(text)
    except (etree.ParserError, ValueError):
        return []

    base = page_url
    for element in root.iter("base"):
        href = (element.get("href") or "").strip()
        if href:
            with contextlib.suppress(ValueError):
                candidate = urljoin(page_url, href)
                if urlsplit(candidate).scheme.lower() in ("http", "https"):
                    base = candidate
        break
    public = None
    if fetch_origin:
        parts = urlsplit(page_url)
        public = (fetch_origin, f"{parts.scheme}://{parts.netloc}")
    page = _canonical(page_url, None, encoding)

    found: dict[str, Link] = {}
    for element in root.iter(*_URL_ATTRIBUTES):
        tag = element.tag
        if tag == "link" and "stylesheet" not in (element.get("rel") or "").lower().split():
            continue
        raw = (element.get(_URL_ATTRIBUTES[tag]) or "").strip()
        if tag == "a":
            lowered = raw.lower()
            if not raw or raw.startswith("#") or lowered.startswith("javascript:"):
                raw = (_script_url(raw) if lowered.startswith("javascript:") else None) \
                    or _script_url(element.get("onclick")) or ""
        if not raw or raw.startswith("#") or raw.lower().startswith(_SKIPPED_SCHEMES):
            continue
        url = _canonical(raw, base, encoding, public)
        if url is None or url == page:
            continue
        anchor = _anchor(element, tag)
        known = found.get(url)
        if known is None:
            found[url] = Link(url, anchor, tag)
        elif not known.anchor and anchor:
            found[url] = Link(url, anchor, known.tag)
    return list(found.values())


def _canonical(raw: str, base: str | None, encoding: str | None,
               rebase_origins: tuple[str, str] | None = None) -> str | None:
    """The canonical http(s) URL of a link without its fragment, or None."""
    try:
        absolute = urljoin(base, raw) if base else raw
        if rebase_origins:
            absolute = rebase(absolute, *rebase_origins)
        absolute = urldefrag(_encode_query(absolute, encoding))[0]
        url = canonicalize_url(absolute)
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname or len(url) > URL_MAX:
            return None
    except ValueError:
        return None
    return urldefrag(url)[0]  # canonicalize_url keeps a #! route; a link check cannot tell it apart


def links_from_body(body: bytes, content_type: str | None, page_url: str, *,
                    fetch_origin: str | None = None) -> list[Link]:
    """The links of a fetched page (``page_url``: its public URL): its bytes decoded (BOM,
    HTTP and meta charsets, GBK sniffing), then :func:`extract_links` (``fetch_origin``: where
    the page was really fetched from, when that is an origin override). A response that is not
    HTML (a PDF, an image, JSON) has no links."""
    from normalizers.encoding import decode_html

    if content_type:
        mime = content_type.split(";", 1)[0].strip().lower()
        if mime and mime not in ("text/html", "application/xhtml+xml", "application/octet-stream") \
                and not mime.endswith("+xml"):
            return []
    if not body:
        return []
    decoded = decode_html(body, content_type)
    return extract_links(decoded.text, page_url, encoding=decoded.encoding, fetch_origin=fetch_origin)


# --- the store ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RecordResult:
    """What :func:`record_links` did for one page."""

    source_id: str
    links: int  # links the page has now
    removed: int  # links it no longer has


_CHUNK = 400  # rows per multi-row statement (well under SQLite's and PostgreSQL's parameter limits)


def _chunks(rows: list, size: int = _CHUNK) -> Iterator[list]:
    for start in range(0, len(rows), size):
        yield rows[start:start + size]


def _dialect_insert(session: Session):
    name = session.get_bind().dialect.name
    if name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    elif name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:
        return None
    return insert


def record_links(session: Session, site_code: str, source_url: str, links: Iterable[Link | str],
                 *, seen_at: dt.datetime | None = None, replace: bool = True) -> RecordResult:
    """Store the links of one page (``source_url``, public) of ``site_code``, replacing the
    page's previous set: a link the page no longer contains is removed from its sources.

    A few statements per page whatever its number of links (one select, at most one delete,
    one multi-row insert per table, on SQLite and PostgreSQL ``ON CONFLICT``); rows are written
    in id order so concurrent writers lock them in the same order. Runs in the caller's
    transaction (the crawl pipeline's). ``links`` are :class:`Link` objects or URL strings
    (canonicalized here; URLs other than http(s) are ignored). A target no page links to any
    more keeps its row (and its check history) but is neither checked nor reported.
    ``replace=False`` adds to the page's set instead (several responses under one URL, such as
    the pages of an ASP.NET postback list).
    """
    from sqlalchemy import delete, select

    from gateway.store.models import LinkSource, LinkTarget, utcnow
    from normalizers.models import document_id

    seen_at = seen_at or utcnow()
    source = canonicalize_url(source_url)
    source_id = document_id(source)
    wanted: dict[str, tuple[str, str | None]] = {}
    for link in links:
        url, anchor = (link, None) if isinstance(link, str) else (link.url, _collapse(link.anchor) or None)
        url = _canonical(url, None, None)
        if url is None:
            continue
        target_id = document_id(url)
        if target_id not in wanted or (anchor and not wanted[target_id][1]):
            wanted[target_id] = (url, anchor)

    existing = set(session.scalars(select(LinkSource.target_id).where(LinkSource.source_id == source_id)))
    stale = sorted(existing - set(wanted)) if replace else []
    for chunk in _chunks(stale):
        session.execute(delete(LinkSource).where(LinkSource.source_id == source_id,
                                                 LinkSource.target_id.in_(chunk)))
    ids = sorted(wanted)
    targets = [{"id": i, "url": wanted[i][0], "failures": 0} for i in ids]
    sources = [{"target_id": i, "source_id": source_id, "site_code": site_code, "source_url": source,
                "anchor": wanted[i][1], "last_seen_at": seen_at} for i in ids]
    insert = _dialect_insert(session)
    if insert is not None:
        for chunk in _chunks(targets):
            session.execute(insert(LinkTarget).values(chunk).on_conflict_do_nothing(index_elements=["id"]))
        for chunk in _chunks(sources):
            stmt = insert(LinkSource).values(chunk)
            session.execute(stmt.on_conflict_do_update(
                index_elements=["target_id", "source_id"],
                set_={"site_code": stmt.excluded.site_code, "source_url": stmt.excluded.source_url,
                      "anchor": stmt.excluded.anchor, "last_seen_at": stmt.excluded.last_seen_at}))
    else:  # another database: plain statements, same result
        have: set[str] = set()
        for chunk in _chunks(ids):
            have.update(session.scalars(select(LinkTarget.id).where(LinkTarget.id.in_(chunk))))
        new_targets = [t for t in targets if t["id"] not in have]
        if new_targets:
            session.execute(LinkTarget.__table__.insert(), new_targets)
        keep = sorted(existing & set(wanted))
        for chunk in _chunks(keep):
            session.execute(delete(LinkSource).where(LinkSource.source_id == source_id,
                                                     LinkSource.target_id.in_(chunk)))
        if sources:
            session.execute(LinkSource.__table__.insert(), sources)
    return RecordResult(source_id=source_id, links=len(wanted), removed=len(stale))


# --- checking -----------------------------------------------------------------------------------


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


@dataclass
class CheckSummary:
    """What one :func:`check_links` run did."""

    sites: list[str]
    due: int = 0  # links that were due for a check
    checked: int = 0
    ok: int = 0
    broken: int = 0
    errors: Counter = field(default_factory=Counter)  # error text or "HTTP <status>" → count
    seconds: float = 0.0
    results: list[CheckResult] = field(default_factory=list)

    def as_json(self) -> dict:
        return {"sites": self.sites, "due": self.due, "checked": self.checked, "ok": self.ok,
                "broken": self.broken, "errors": dict(self.errors.most_common()),
                "seconds": round(self.seconds, 2)}

    def format(self) -> str:
        line = (f"checked {self.checked} of {self.due} due links of {', '.join(self.sites) or 'no site'} "
                f"in {self.seconds:.1f}s: {self.ok} ok, {self.broken} broken")
        if self.errors:
            line += " (" + ", ".join(f"{k}: {v}" for k, v in self.errors.most_common()) + ")"
        return line


class _HostGate:
    """Politeness for one host: at most ``per_host`` requests in flight, and a request starts
    no sooner than ``delay`` after the previous one to the host started or finished."""

    def __init__(self, per_host: int, delay: float):
        self.semaphore = asyncio.Semaphore(per_host)
        self.delay = delay
        self.next_start = 0.0

    @contextlib.asynccontextmanager
    async def slot(self, global_cap: asyncio.Semaphore):
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


def _causes(exc: BaseException) -> Iterator[BaseException]:
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or exc.__context__


def describe_error(exc: BaseException) -> _Failure:
    """A short, stable error text for a failed request (what the report shows)."""
    import httpx

    chain = list(_causes(exc))
    text = " ".join(str(e) for e in chain).lower()
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
    def __init__(self, client, origin_map: _OriginMap, *, concurrency_per_host: int, delay: float,
                 timeout: float, max_concurrency: int):
        self.client = client
        self.origins = origin_map
        self.per_host = concurrency_per_host
        self.delay = delay
        self.timeout = timeout
        self.global_cap = asyncio.Semaphore(max_concurrency)
        self.gates: dict[str, _HostGate] = {}

    def gate(self, url: str) -> _HostGate:
        parts = urlsplit(url)
        key = f"{parts.scheme.lower()}://{(parts.netloc or '').lower()}"
        if key not in self.gates:
            self.gates[key] = _HostGate(self.per_host, self.delay)
        return self.gates[key]

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
        """Follow redirects from ``public_url``: (final status, final public URL)."""
        fetch = self.origins.to_fetch(public_url)
        visits: Counter = Counter({fetch: 1})
        for _hop in range(MAX_REDIRECTS + 1):
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
        except _Failure as failure:
            result.error = failure.message
        except Exception as exc:  # noqa: BLE001 - an odd URL or answer must not stop the run
            result.error = describe_error(exc).message
        result.checked_at = dt.datetime.now(dt.UTC)
        result.failures = 0 if result.ok else failures + 1
        return result

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


def site_base_urls(store: Store | None = None, registry=None) -> dict[str, str]:
    """{site code: public base URL} of every site the gateway knows: the store's sites,
    overlaid with the loaded plugins (``registry``, default: the settings' plugins)."""
    from sqlalchemy import select

    from gateway.store.models import Site

    bases: dict[str, str] = {}
    if store is not None:
        with store.session() as session:
            bases.update(dict(session.execute(select(Site.code, Site.base_url)).all()))
    if registry is None:
        from plugins.manager import registry_from_settings

        registry = registry_from_settings()
    bases.update({spec.code: spec.site.base_url for spec in registry})
    return bases


def _due_targets(store: Store, site_codes: list[str], *, now: dt.datetime, recheck_after: dt.timedelta,
                 only_unchecked: bool, limit: int | None) -> list[tuple[str, str, int]]:
    from sqlalchemy import or_, select

    from gateway.store.models import LinkSource, LinkTarget

    linked = select(LinkSource.target_id).where(LinkSource.site_code.in_(site_codes))
    stmt = select(LinkTarget.id, LinkTarget.url, LinkTarget.failures).where(LinkTarget.id.in_(linked))
    if only_unchecked:
        stmt = stmt.where(LinkTarget.checked_at.is_(None))
    else:
        stmt = stmt.where(or_(LinkTarget.checked_at.is_(None), LinkTarget.checked_at <= now - recheck_after))
    stmt = stmt.order_by(LinkTarget.checked_at.asc().nulls_first(), LinkTarget.id)
    if limit is not None:
        stmt = stmt.limit(limit)
    with store.session() as session:
        return [(i, u, f or 0) for i, u, f in session.execute(stmt)]


def _save(store: Store, results: list[CheckResult]) -> None:
    from sqlalchemy import update

    from gateway.store.models import LinkTarget

    if not results:
        return
    rows = [{"id": r.target_id, "status": r.status, "ok": r.ok, "error": r.error, "final_url": r.final_url,
             "method": r.method, "checked_at": r.checked_at, "failures": r.failures} for r in results]
    with store.session() as session:
        session.execute(update(LinkTarget), rows)


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
    trust_env: bool = True,
) -> CheckSummary:
    """Check every link of ``site_codes`` that is due, politely, and record the results.

    Due: never checked, or checked more than ``recheck_after`` ago (``only_unchecked``: never
    checked only); never-checked links first, then the oldest; at most ``limit``. ``origins``
    ({site code: origin}) fetches a site's public URLs from another origin; ``base_urls``
    ({site code: public base URL}) defaults to the store's sites and the loaded plugins.
    Results are written to the store as they come, in batches of :data:`SAVE_EVERY`.
    ``concurrency_per_host`` is capped at 2 (the subsites are small, old servers).
    """
    import httpx

    from gateway.settings import get_settings

    started = time.monotonic()
    codes = list(dict.fromkeys(site_codes))
    summary = CheckSummary(sites=codes)
    origins = dict(origins or {})
    if origins and base_urls is None:
        base_urls = site_base_urls(store)
    origin_map = _OriginMap(base_urls or {}, origins)
    now = dt.datetime.now(dt.UTC)
    due = await asyncio.to_thread(_due_targets, store, codes, now=now, recheck_after=recheck_after,
                                  only_unchecked=only_unchecked, limit=limit)
    summary.due = len(due)
    if not due:
        summary.seconds = time.monotonic() - started
        return summary

    per_host = max(1, min(2, concurrency_per_host))
    queues: dict[str, deque] = {}
    for row in due:
        parts = urlsplit(origin_map.to_fetch(row[1]))
        queues.setdefault(f"{parts.scheme}://{parts.netloc.lower()}", deque()).append(row)

    pending: list[CheckResult] = []
    save_lock = asyncio.Lock()

    async def flush(force: bool = False) -> None:
        async with save_lock:
            if pending and (force or len(pending) >= SAVE_EVERY):
                batch = pending[:]
                pending.clear()
                await asyncio.to_thread(_save, store, batch)

    headers = {"User-Agent": user_agent or get_settings().user_agent, "Accept": "*/*"}
    limits = httpx.Limits(max_connections=max(1, max_concurrency), max_keepalive_connections=max(1, max_concurrency))
    async with httpx.AsyncClient(headers=headers, follow_redirects=False, timeout=httpx.Timeout(timeout),
                                 limits=limits, trust_env=trust_env) as client:
        checker = _Checker(client, origin_map, concurrency_per_host=per_host, delay=delay, timeout=timeout,
                           max_concurrency=max(1, max_concurrency))

        async def worker(queue: deque) -> None:
            while queue:
                target_id, url, failures = queue.popleft()
                result = await checker.check(target_id, url, failures)
                summary.results.append(result)
                pending.append(result)
                if progress is not None:
                    progress(result)
                await flush()

        try:
            async with asyncio.TaskGroup() as group:
                for queue in queues.values():
                    for _ in range(min(per_host, len(queue))):
                        group.create_task(worker(queue))
        finally:
            await flush(force=True)

    for result in summary.results:
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


# --- the report ---------------------------------------------------------------------------------


def _iso(value: dt.datetime | None) -> str | None:
    return value.astimezone(dt.UTC).isoformat() if value else None


def dead_link_report(session: Session, site_code: str) -> dict:
    """The dead-link report of one site, JSON-ready::

        {"site": "rsj", "site_name": "…", "total": 120, "checked": 118, "unchecked": 2, "ok": 115,
         "broken_count": 3, "last_checked_at": "…",
         "broken": [{"url", "status", "error", "final_url", "method", "checked_at", "failures",
                     "pages": [{"url", "anchor"}, …]}, …]}

    ``total`` counts the distinct links on the site's pages; ``broken`` holds the links whose
    last check failed, the ones on most pages first (then by URL), each with the site's pages
    that contain it (by URL) and the link text there.
    """
    from sqlalchemy import case, distinct, func, select

    from gateway.store.models import LinkSource, LinkTarget, Site

    joined = LinkTarget.__table__.join(LinkSource.__table__, LinkSource.target_id == LinkTarget.id)
    counts = session.execute(
        select(func.count(distinct(LinkTarget.id)),
               func.count(distinct(case((LinkTarget.checked_at.is_not(None), LinkTarget.id)))),
               func.count(distinct(case((LinkTarget.ok.is_(True), LinkTarget.id)))),
               func.max(LinkTarget.checked_at))
        .select_from(joined).where(LinkSource.site_code == site_code)
    ).one()
    rows = session.execute(
        select(LinkTarget.id, LinkTarget.url, LinkTarget.status, LinkTarget.error, LinkTarget.final_url,
               LinkTarget.method, LinkTarget.checked_at, LinkTarget.failures,
               LinkSource.source_url, LinkSource.anchor)
        .select_from(joined)
        .where(LinkSource.site_code == site_code, LinkTarget.ok.is_(False))
        .order_by(LinkTarget.id, LinkSource.source_url)
    ).all()
    broken: dict[str, dict] = {}
    for row in rows:
        entry = broken.get(row.id)
        if entry is None:
            entry = broken[row.id] = {
                "url": row.url, "status": row.status, "error": row.error, "final_url": row.final_url,
                "method": row.method, "checked_at": _iso(row.checked_at), "failures": row.failures or 0,
                "pages": [],
            }
        entry["pages"].append({"url": row.source_url, "anchor": row.anchor or ""})
    ordered = sorted(broken.values(), key=lambda e: (-len(e["pages"]), e["url"]))
    name = session.scalar(select(Site.name).where(Site.code == site_code))
    total, checked, ok, last = counts
    last_checked = last if isinstance(last, dt.datetime) or last is None else None
    if last_checked is not None and last_checked.tzinfo is None:
        last_checked = last_checked.replace(tzinfo=dt.UTC)  # SQLite's max() returns naive UTC
    return {
        "site": site_code,
        "site_name": name,
        "total": total,
        "checked": checked,
        "unchecked": total - checked,
        "ok": ok,
        "broken_count": len(ordered),
        "last_checked_at": _iso(last_checked),
        "broken": ordered,
    }


def site_has_links(session: Session, site_code: str) -> bool:
    from sqlalchemy import select

    from gateway.store.models import LinkSource

    return session.scalar(select(LinkSource.target_id).where(LinkSource.site_code == site_code).limit(1)) is not None


def format_report(report: dict, *, max_pages: int = 5) -> str:
    """The report as text for the terminal: a summary line, then each broken link with its
    status or error and the pages (with link text) that contain it."""
    title = f"{report['site']} {report['site_name']}" if report.get("site_name") else report["site"]
    summary = (f"dead links of {title}: {report['broken_count']} broken of {report['total']} links "
               f"({report['checked']} checked, {report['unchecked']} not yet)")
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
    return "\n".join(lines)


# --- the command line ---------------------------------------------------------------------------


@click.group("links")
def links() -> None:
    """Dead-link report (死链检测): check every link seen on the subsites, list the broken ones.

    \b
    The crawler records each page's links; then:
      blgw links check rsj            check rsj's links that are due (not checked in 24 h)
      blgw links check --all --recheck
      blgw links report rsj [--json]  the broken links and the pages that contain them
    """


@links.command("check")
@click.argument("codes", nargs=-1)
@click.option("--all", "all_sites", is_flag=True, help="Every site (plugins and sites in the store).")
@click.option("--origin", "origins", multiple=True, metavar="CODE=URL",
              help="Fetch a site's URLs from another origin (mirror, test server); results stay on the public URLs.")
@click.option("--recheck", is_flag=True, help="Check every link now, also those checked recently.")
@click.option("--recheck-after", default=24.0, show_default=True, type=click.FloatRange(min=0),
              metavar="HOURS", help="A link is due again this many hours after its last check.")
@click.option("--only-unchecked", is_flag=True, help="Only links never checked.")
@click.option("--limit", type=click.IntRange(min=1), help="At most this many links.")
@click.option("--concurrency-per-host", default=2, show_default=True, type=click.IntRange(1, 2))
@click.option("--delay", default=0.5, show_default=True, type=click.FloatRange(min=0),
              help="Seconds between requests to one host.")
@click.option("--timeout", default=15.0, show_default=True, type=click.FloatRange(min=0.1),
              help="Seconds per request.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.option("--quiet", "-q", is_flag=True, help="Do not print broken links as they are found.")
def links_check(codes: tuple[str, ...], all_sites: bool, origins: tuple[str, ...], recheck: bool,
                recheck_after: float, only_unchecked: bool, limit: int | None, concurrency_per_host: int,
                delay: float, timeout: float, as_json: bool, quiet: bool) -> None:
    """Check the links of sites by code (or --all): HEAD, else GET; record status or error.

    Politely: at most 2 requests in flight per host, DELAY seconds apart. Exits 0 whatever
    the links' state (see `blgw links report --fail-on-broken`)."""
    from gateway import cli

    store = cli._store()
    known = _known_sites(store)
    if all_sites:
        codes = tuple(sorted(known))
    if not codes:
        raise click.UsageError("name at least one site code, or --all (see `blgw sites`)")
    for code in codes:
        if code not in known:
            raise click.BadParameter(f"no site {code!r} (see `blgw sites`)", param_hint="CODES")
    overrides = {**cli._settings().origins, **cli._origins(origins)}

    def show(result: CheckResult) -> None:
        if not result.ok and not quiet:
            what = f"HTTP {result.status}" if result.status is not None else result.error
            click.echo(f"broken: {what:<20} {result.url}", err=True)

    summary = run_check(store, codes, origins=overrides, concurrency_per_host=concurrency_per_host,
                        delay=delay, timeout=timeout,
                        recheck_after=dt.timedelta(0) if recheck else dt.timedelta(hours=recheck_after),
                        only_unchecked=only_unchecked, limit=limit, base_urls=known, progress=show)
    if as_json:
        click.echo(json.dumps(summary.as_json(), ensure_ascii=False, indent=1))
    else:
        click.echo(summary.format())
        for code in codes:
            with store.session() as session:
                report = dead_link_report(session, code)
            click.echo(f"{code}: {report['broken_count']} broken of {report['total']} links "
                       f"({report['unchecked']} not checked yet); details: blgw links report {code}")


def _known_sites(store: Store) -> dict[str, str]:
    """{code: base URL} of the plugins and of the sites in the store."""
    from gateway import cli

    return site_base_urls(store, cli._registry())


@links.command("report")
@click.argument("code")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option("--fail-on-broken", is_flag=True, help="Exit 1 when the site has broken links.")
@click.option("--max-pages", default=5, show_default=True, type=click.IntRange(min=1),
              help="Pages listed per broken link (text output).")
def links_report(code: str, as_json: bool, fail_on_broken: bool, max_pages: int) -> None:
    """The dead-link report of one site: the broken links, the pages that contain them first.

    Exits 0 (also with broken links) unless --fail-on-broken is given."""
    from gateway import cli

    store = cli._store()
    with store.session() as session:
        if code not in _known_sites(store) and not site_has_links(session, code):
            raise click.BadParameter(f"no site {code!r} (see `blgw sites`)", param_hint="CODE")
        report = dead_link_report(session, code)
    if as_json:
        click.echo(json.dumps(report, ensure_ascii=False, indent=1))
    else:
        click.echo(format_report(report, max_pages=max_pages))
    sys.exit(1 if fail_on_broken and report["broken"] else 0)
