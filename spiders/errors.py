"""What went wrong with a request, as an error kind and a message an operator can act on.

:func:`classify` turns the failure a request's errback receives (a twisted ``Failure``, or the
exception itself) into a :class:`Problem`: one of :data:`KINDS` and a one-line message naming
the URL. Scrapy wraps Twisted's errors in its own (``DownloadFailedError`` around
``ResponseNeverReceived`` around ``ConnectionLost``…); the whole chain is read, so the kind is
the root cause, not the wrapper.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, cast

from scrapy.exceptions import IgnoreRequest
from twisted.internet.error import DNSLookupError

from gateway.scope import Refusal

# The kinds a failed request is reported by (the run report's "errors by kind"). The spider and
# the pipeline add: paging-cap (a column stopped at its max_pages), paging, extraction, field,
# plugin, site (the site could not be crawled at all).
KINDS: dict[str, str] = {
    "http": "the server answered with an HTTP error status (5xx/408/429 after the retries)",
    "timeout": "no complete answer within DOWNLOAD_TIMEOUT (after the retries)",
    "connection": "the connection was refused, reset or closed before an answer",
    "dns": "the host name does not resolve",
    "tls": "the TLS handshake failed",
    "truncated": "the body ended before its Content-Length (data loss): not stored",
    "redirect": "a redirect loop, or more redirects than REDIRECT_MAX_TIMES",
    "too-large": "larger than the page size limit (BLGW_MAX_PAGE_BYTES): not downloaded",
    "robots": "forbidden by the site's robots.txt",
    "offsite": "refused: a URL outside the site's origins (scheme, host and port; gateway.scope)",
    "scope": "refused: a URL or an address never fetched (not http(s), credentials in it, an internal address)",
    "network": "any other download failure",
}


class OutOfScope(IgnoreRequest):
    """A request the scope policy refuses (:mod:`gateway.scope`): another origin than the
    site's (kind ``offsite``), or a URL or address never fetched (kind ``scope``)."""

    def __init__(self, refusal: Refusal):
        self.refusal = refusal
        super().__init__(f"refused: {refusal.reason}")


class RedirectLoop(IgnoreRequest):
    """A redirect back to a URL already in the request's redirect chain."""

    def __init__(self, chain: list[str]):
        self.chain = chain
        super().__init__("redirect loop: " + " → ".join(chain))


class ScopeDNSRefusal(DNSLookupError):
    """A host name that resolved to an address the scope policy refuses (kind ``scope``)."""

    def __init__(self, refusal: Refusal):
        self.refusal = refusal
        super().__init__(f"refused: {refusal.reason}")


@dataclass(frozen=True)
class Problem:
    kind: str
    message: str
    url: str  # the URL the spider asked for (before redirects)


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """The exception, what it explicitly wraps (``__cause__``), and the failures inside
    Twisted's ``ResponseFailed``/``ResponseNeverReceived`` (``reasons``), depth first."""
    seen: set[int] = set()
    stack: list[BaseException | None] = [exc]
    while stack:
        e = stack.pop(0)
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        yield e
        inner: list[Any] = [getattr(r, "value", r) for r in getattr(e, "reasons", None) or []]
        stack[:0] = [*inner, e.__cause__]


def _is(exc: BaseException, *names: str) -> bool:
    """Whether ``exc`` is an instance of a class with one of these names (by name, so that
    optional or private classes — ``twisted.web._newclient._DataLoss`` — need no import)."""
    return any(cls.__name__ in names for cls in type(exc).__mro__)


def _size(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MB" if n >= 1024 * 1024 else f"{n} bytes"


def _retries(request: Any) -> str:
    n = (getattr(request, "meta", None) or {}).get("retry_times", 0)
    return f" (gave up after {n} retr{'y' if n == 1 else 'ies'})" if n else ""


def classify(error: Any, request: Any = None) -> Problem:
    """The kind and message of a failed request. *error* is a ``Failure`` or an exception;
    *request* defaults to the failure's ``request`` (set by Scrapy on errback failures)."""
    exc: BaseException = getattr(error, "value", error)
    request = request if request is not None else getattr(error, "request", None)
    meta = getattr(request, "meta", None) or {}
    fetched = getattr(request, "url", "") or ""
    url = (meta.get("redirect_urls") or [fetched])[0]
    at = f" at {fetched}" if fetched else ""
    chain = list(_chain(exc))

    def kind(*names: str) -> BaseException | None:
        return next((e for e in chain if _is(e, *names)), None)

    if e := kind("HttpError"):
        response = getattr(e, "response", None)
        status = getattr(response, "status", 0)
        try:
            phrase = HTTPStatus(status).phrase
        except ValueError:
            phrase = "unknown status"
        return Problem("http", f"HTTP {status} {phrase}{at}{_retries(request)}", url)
    if (e := kind("OutOfScope", "ScopeDNSRefusal")) is not None:
        refusal = cast(OutOfScope | ScopeDNSRefusal, e).refusal
        return Problem(refusal.kind, f"refused: {refusal.reason}{at}", url)
    if e := kind("RedirectLoop"):
        return Problem("redirect", f"redirect loop: {' → '.join(cast(RedirectLoop, e).chain)}", url)
    if (e := kind("IgnoreRequest")) is not None:
        text = str(e)
        if "redirect" in text:
            hops = " → ".join([*meta.get("redirect_urls", []), fetched])
            return Problem("redirect", f"too many redirects ({meta.get('redirect_times', '?')}): {hops}", url)
        if "robots.txt" in text:
            return Problem("robots", f"forbidden by robots.txt{at}", url)
        if "offsite" in text.lower():
            return Problem("offsite", f"{text}{at}", url)
        return Problem("network", f"request ignored: {text or type(e).__name__}{at}", url)
    if e := kind("DownloadTimeoutError", "TimeoutError", "TCPTimedOutError", "UserTimeout"):
        timeout = meta.get("download_timeout")
        took = f"no complete answer within {timeout:g} s" if isinstance(timeout, (int, float)) else "timed out"
        return Problem("timeout", f"{took}{at}{_retries(request)}", url)
    if e := kind("DownloadCancelledError", "CancelledError"):
        # Scrapy cancels a download only when it outgrows the size limit (a timeout is its own error)
        limit = meta.get("download_maxsize")
        sizes = re.search(r"(Expected to receive|Received) (\d+) bytes.*?max size \((\d+)\)", str(e))
        if sizes:
            limit = int(sizes.group(3))
        limit_text = f"the {_size(limit)} page limit (BLGW_MAX_PAGE_BYTES)" if limit else "the download size limit"
        if sizes and sizes.group(1).startswith("Expected"):
            what = f"refused: Content-Length {_size(int(sizes.group(2)))} is over {limit_text}; not downloaded"
        else:
            what = f"refused: the body outgrew {limit_text}; download stopped"
        return Problem("too-large", f"{what}{at}", url)
    if kind("ResponseDataLossError", "_DataLoss"):
        return Problem("truncated", f"body cut short: the connection closed before the announced Content-Length "
                                    f"was received{at}{_retries(request)}", url)
    if kind("DownloadConnectionRefusedError", "ConnectionRefusedError"):
        return Problem("connection", f"connection refused{at}{_retries(request)}", url)
    if e := kind("CannotResolveHostError", "DNSLookupError"):
        return Problem("dns", f"host name does not resolve{at}: {e}", url)
    if e := next((x for x in chain if _is(x, "SSLError") or type(x).__module__.startswith("OpenSSL")), None):
        return Problem("tls", f"TLS failure{at}: {e}", url)
    if kind("ConnectionLost", "ConnectionResetError", "ConnectionAborted"):
        return Problem("connection", f"connection reset: lost before a complete answer{at}{_retries(request)}", url)
    if kind("ConnectionDone", "ResponseNeverReceived"):
        return Problem("connection", f"the server closed the connection without answering{at}{_retries(request)}", url)
    if kind("ConnectError", "ConnectionError", "DownloadFailedError", "ResponseFailed"):
        return Problem("connection", f"connection failed{at}: {exc}{_retries(request)}", url)
    return Problem("network", f"{type(exc).__name__}: {exc}{at}{_retries(request)}", url)
