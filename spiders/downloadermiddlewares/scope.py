"""The scope policy (:mod:`gateway.scope`) on every request of a crawl.

* :class:`ScopeMiddleware` (the first downloader middleware) refuses any request outside the
  site's origins before it is sent: a planted link, a redirect hop (Scrapy sends each hop through
  the middlewares again), a meta refresh, a script link; and any response whose final URL left
  them (a browser page that navigated away). The errback reports it (kind ``offsite`` or
  ``scope``, with the URL).
* :class:`BrowserGuard` keeps Chromium in the same scope for the sites rendered in the browser:
  every request a page makes (navigation, image, script, XHR/fetch) is checked by
  scrapy-playwright's ``PLAYWRIGHT_ABORT_REQUEST`` and aborted when out of scope; and whatever
  slips past that (WebSockets, beacons, service workers, prefetches) cannot connect at all:
  Chromium sends every connection that is not to the site's origins to a proxy of ours that
  refuses it (``--proxy-server`` with ``--proxy-bypass-list`` of the origins and
  ``<-loopback>``), and resolves no host name but the site's (``--host-resolver-rules``). Both
  refusals are recorded and reported like the others.
* :class:`ScopedResolver` (``TWISTED_DNS_RESOLVER``) refuses a host name that resolves to an
  internal address (loopback, private, link-local, CGNAT, metadata…) unless the name is one of the
  configured sites' own hosts.
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import re
import socketserver
import threading
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.http import Request, Response
from scrapy.resolver import CachingThreadedResolver
from twisted.internet.defer import Deferred

from gateway.scope import Refusal, Scope, address_refusal, canonical_host
from gateway.settings import from_scrapy
from plugins.manager import registry_from_settings
from spiders.crawlstate import CrawlState, running_spider
from spiders.errors import OutOfScope, ScopeDNSRefusal

__all__ = ["BrowserGuard", "ScopeMiddleware", "ScopedResolver"]

log = logging.getLogger(__name__)

# the hosts Chromium itself calls (sign-in, component updates, safe browsing): refused like any
# other, but counted apart (page requests to them are aborted, and reported, before they get here)
_BROWSER_OWN = re.compile(r"(^|\.)(google\.com|googleapis\.com|gstatic\.com|gvt1\.com|googleusercontent\.com|"
                          r"chrome\.com|chromium\.org)$")


class ScopeMiddleware:
    """Refuses requests and responses outside the spider's ``scope``; reports what the
    browser guard of a browser site refused."""

    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        state = crawler.get_extension(CrawlState)
        if state is not None:  # the browser's last refusals belong to the run: reported before it closes
            state.before_close(self.report_browser_refusals)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ScopeMiddleware:
        return cls(crawler)

    def _scope(self) -> Scope:
        return running_spider(self.crawler).scope

    def _refuse(self, refusal: Refusal) -> OutOfScope:
        self.crawler.stats.inc_value(f"blgw/refused/{refusal.kind}")
        return OutOfScope(refusal)

    def process_request(self, request: Request) -> None:
        refusal = self._scope().check(request.url)
        if refusal is not None:
            raise self._refuse(refusal)

    def process_response(self, request: Request, response: Response) -> Response:
        self.report_browser_refusals()
        refusal = self._scope().check(response.url)
        if refusal is not None:  # a browser page that went elsewhere: its content is not the site's
            raise self._refuse(refusal)
        return response

    def report_browser_refusals(self) -> None:
        guard = BrowserGuard.of(self.crawler)
        if guard is None:
            return
        state = self.crawler.get_extension(CrawlState)
        for refusal in guard.drain():
            self.crawler.stats.inc_value(f"blgw/refused/{refusal.kind}")
            if state is not None and state.run_id is not None:
                state.record_problem(refusal.url, refusal.kind, f"refused in the browser: {refusal.reason}")

    def spider_closed(self, spider: Any, reason: str) -> None:
        self.report_browser_refusals()
        guard = BrowserGuard.of(self.crawler)
        if guard is not None:
            self.crawler.stats.set_value("blgw/browser_own_connections_refused", guard.browser_own)
            guard.close()


class _RefusingProxy(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, guard: BrowserGuard):
        self.guard = guard
        super().__init__(("127.0.0.1", 0), _RefusingHandler)


class _RefusingHandler(socketserver.StreamRequestHandler):
    """Answers every proxy request with 403 and records its target: nothing is forwarded."""

    def handle(self) -> None:
        try:
            line = self.rfile.readline(8192).decode("latin-1").strip()
        except OSError:
            return
        method, _, rest = line.partition(" ")
        target = rest.rsplit(" ", 1)[0] if rest else ""
        if method.upper() == "CONNECT":
            target = f"https://{target}/" if not target.endswith(":80") else f"http://{target[:-3]}/"
        server: _RefusingProxy = self.server  # type: ignore[assignment]  # socketserver types it loosely
        host = (urlsplit(target).hostname or "") if target else ""
        if _BROWSER_OWN.search(host):  # Chromium's own calls home (sign-in, updates): refused, not the site's doing
            server.guard.browser_own += 1
        else:
            server.guard.record(Refusal("offsite", "a connection of the browser outside the site's origins "
                                                   "(not forwarded)", target or line[:200]))
        with contextlib.suppress(OSError):
            self.wfile.write(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")


class BrowserGuard:
    """Keeps one browser site's Chromium inside its scope (see the module documentation)."""

    def __init__(self, scope: Scope):
        self.scope = scope
        self._refusals: list[Refusal] = []
        self.browser_own = 0  # Chromium's own connections refused (not reported as the site's)
        self._lock = threading.Lock()
        self._proxy = _RefusingProxy(self)
        threading.Thread(target=self._proxy.serve_forever, name="blgw-refusing-proxy", daemon=True).start()

    @staticmethod
    def of(crawler: Crawler) -> BrowserGuard | None:
        """The guard of a crawl (its abort predicate is the guard's method), or None."""
        abort = crawler.settings.get("PLAYWRIGHT_ABORT_REQUEST")
        guard = getattr(abort, "__self__", None)
        return guard if isinstance(guard, BrowserGuard) else None

    def record(self, refusal: Refusal) -> None:
        with self._lock:
            self._refusals.append(refusal)
        log.warning("browser request refused: %s", refusal)

    def drain(self) -> list[Refusal]:
        with self._lock:
            out, self._refusals = self._refusals, []
        return out

    async def init_page(self, page: Any, request: Any) -> None:
        """``playwright_page_init_callback``: route every request of the page through the scope
        first. An off-scope navigation of the page itself is answered 204 (a browser stays on the
        page then, as if nothing happened: a planted ``location.href`` neither replaces the page
        nor leaves an error page in its place); any other off-scope request is aborted."""

        async def route(route: Any, pw_request: Any) -> None:
            refusal = self.scope.check(pw_request.url)
            if refusal is None:
                await route.fallback()  # to scrapy-playwright's own handler
                return
            self.record(refusal)
            if pw_request.is_navigation_request() and pw_request.frame == page.main_frame:
                await route.fulfill(status=204, body="")
            else:
                await route.abort("blockedbyclient")

        await page.route("**", route)

    def abort(self, request: Any) -> bool:
        """``PLAYWRIGHT_ABORT_REQUEST``: True (abort) for a request outside the scope."""
        refusal = self.scope.check(request.url)
        if refusal is None:
            return False
        self.record(refusal)
        return True

    def launch_args(self) -> list[str]:
        """Chromium's switches: direct connections only to the site's origins, everything else
        to the refusing proxy; no name resolved but the site's hosts; no WebRTC over UDP."""
        direct = [f"{o.host if ':' not in o.host else f'[{o.host}]'}:{o.port}" for o in sorted(self.scope.origins)]
        # the rules apply to address literals too: the site's own are excluded like its names
        rules = "MAP * ~NOTFOUND" + "".join(f", EXCLUDE {host}" for host in sorted(self.scope.hosts))
        port = self._proxy.server_address[1]
        return [
            f"--proxy-server=http://127.0.0.1:{port}",
            "--proxy-bypass-list=<-loopback>;" + ";".join(direct),
            f"--host-resolver-rules={rules}",
            "--force-webrtc-ip-handling-policy=disable_non_proxied_udp",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--disable-domain-reliability", "--no-first-run", "--no-pings", "--dns-prefetch-disable",
            "--disable-client-side-phishing-detection", "--no-service-autorun", "--disable-default-apps",
            "--disable-features=OptimizationHints,MediaRouter,DialMediaRouteProvider,Translate,"
            "AutofillServerCommunication,CertificateTransparencyComponentUpdater,InterestFeedContentSuggestions",
        ]

    def close(self) -> None:
        self._proxy.shutdown()
        self._proxy.server_close()


class ScopedResolver(CachingThreadedResolver):
    """Scrapy's caching resolver, refusing a name that resolves to an internal address unless
    it is one of the configured sites' hosts (the crawl's plugins and ``BLGW_ORIGINS``)."""

    trusted: frozenset[str] = frozenset()

    @classmethod
    def from_crawler(cls, crawler: Any, reactor: Any) -> ScopedResolver:
        resolver = super().from_crawler(crawler, reactor)
        config = from_scrapy(crawler.settings)
        hosts: set[str] = set()
        for spec in registry_from_settings(config):
            hosts |= spec.scope().hosts
        for origin in config.origins.values():
            hosts |= Scope.of(origin).hosts
        resolver.trusted = frozenset(hosts)
        return resolver

    def getHostByName(self, name: str, timeout: Sequence[int] = ()) -> Deferred[str]:
        resolved = super().getHostByName(name, timeout)
        resolved.addCallback(self._check, name)
        return resolved

    def _check(self, address: str, name: str) -> str:
        try:
            trusted = canonical_host(name) in self.trusted
        except ValueError:
            trusted = False
        refusal = address_refusal(f"//{name}", name, [ipaddress.ip_address(address)], trusted=trusted)
        if refusal is not None:
            raise ScopeDNSRefusal(refusal)
        return address
