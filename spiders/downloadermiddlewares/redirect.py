"""Redirects: loops named as such, never dropped in silence; meta refreshes that only redirect.

:class:`MetaRefreshMiddleware` replaces Scrapy's: a page with content is itself, whatever its
``<meta http-equiv="refresh">`` says (the target is a link of the page,
:func:`normalizers.links.extract_links`); a refresh-only page is followed like a redirect, each
hop through every downloader middleware again (the scope policy of
:class:`spiders.downloadermiddlewares.scope.ScopeMiddleware` first); a refresh to
``javascript:``, ``mailto:``, nothing or the page itself is ignored.
"""

from __future__ import annotations

import re
from urllib.parse import urldefrag, urljoin

from scrapy.downloadermiddlewares.redirect import MetaRefreshMiddleware as ScrapyMetaRefreshMiddleware
from scrapy.http import HtmlResponse, Request, Response
from w3lib.url import safe_url_string

from normalizers.encoding import decode_html
from normalizers.links import meta_refresh
from spiders.errors import RedirectLoop

__all__ = ["MetaRefreshMiddleware", "RedirectLoopMiddleware"]

# "refresh" in the bytes, whatever the encoding of an ASCII-compatible or UTF-16/32 page
_REFRESH_BYTES = re.compile(rb"r\x00{0,3}e\x00{0,3}f\x00{0,3}r\x00{0,3}e\x00{0,3}s\x00{0,3}h", re.IGNORECASE)

_REDIRECTS = {301, 302, 303, 307, 308}


SELF_REDIRECTS = 2
"""How often one URL may appear in its own redirect chain by redirecting to itself."""


class RedirectLoopMiddleware:
    """Fails a request whose redirect leads back into its own redirect chain (a → b → a) with
    :class:`spiders.errors.RedirectLoop`, so the errback reports it (kind ``redirect``).
    Without it, Scrapy's RedirectMiddleware follows b → a and the duplicate filter drops the
    second a silently: the page would vanish from the run without a word. Placed above
    RedirectMiddleware (600), so it sees each 3xx response first."""

    def process_response(self, request: Request, response: Response) -> Request | Response:
        location = response.headers.get(b"Location")
        if response.status not in _REDIRECTS or request.meta.get("dont_redirect") or location is None:
            return response
        target = urljoin(request.url, safe_url_string(location.decode("latin-1")))
        chain = [*request.meta.get("redirect_urls", []), request.url]
        here = urldefrag(request.url)[0]
        if urldefrag(target)[0] == here and sum(urldefrag(u)[0] == here for u in chain) < SELF_REDIRECTS:
            # A redirect to itself: legacy servers set state (an ASP.NET cookieless session, a
            # cookie check) and send the client back to the same URL. Asked again, as a browser
            # would; the same answer again is a loop.
            again = request.replace(dont_filter=True)
            again.meta["redirect_urls"] = chain
            again.meta["redirect_times"] = request.meta.get("redirect_times", 0) + 1
            return again
        _check_loop(request, target)
        return response


def _check_loop(request: Request, target: str) -> None:
    chain = [*request.meta.get("redirect_urls", []), request.url]
    if urldefrag(target)[0] in {urldefrag(u)[0] for u in chain}:
        raise RedirectLoop([*chain, target])


class MetaRefreshMiddleware(ScrapyMetaRefreshMiddleware):
    """Scrapy's meta refresh redirect, only for pages that are nothing but the refresh (see the
    module documentation). Settings as Scrapy's: ``METAREFRESH_ENABLED``,
    ``METAREFRESH_MAXDELAY`` (a longer delay is a reload, never followed), ``REDIRECT_MAX_TIMES``;
    a refresh back into its own redirect chain is a :class:`spiders.errors.RedirectLoop`."""

    def process_response(self, request: Request, response: Response) -> Request | Response:  # type: ignore[override]  # no spider argument (Scrapy ≥ 2.13)
        if (request.meta.get("dont_redirect", False) or request.method == "HEAD"
                or not isinstance(response, HtmlResponse) or not request.url.startswith(("http://", "https://"))
                or not _REFRESH_BYTES.search(response.body)):
            return response
        content_type = (response.headers.get(b"Content-Type") or b"").decode("latin-1")
        refresh = meta_refresh(decode_html(response.body, content_type).text, response.url)
        if refresh is None or refresh.url is None or not refresh.refresh_only or refresh.delay >= self._maxdelay:
            return response  # the page is itself; its refresh target, if any, is one of its links
        _check_loop(request, refresh.url)
        try:
            redirected = self._redirect_request_using_get(request, response, safe_url_string(refresh.url))
        except ValueError:  # a URL Scrapy cannot request: the page stays as it is
            return response
        return self._redirect(redirected, request, "meta refresh")
