"""Redirect loops named as such, never dropped in silence."""

from __future__ import annotations

from urllib.parse import urldefrag, urljoin

from scrapy.http import Request, Response
from w3lib.url import safe_url_string

from spiders.errors import RedirectLoop

__all__ = ["RedirectLoopMiddleware"]

_REDIRECTS = {301, 302, 303, 307, 308}


class RedirectLoopMiddleware:
    """Fails a request whose redirect leads back into its own redirect chain (a → b → a) with
    :class:`spiders.errors.RedirectLoop`, so the errback reports it (kind ``redirect``).
    Without it, Scrapy's RedirectMiddleware follows b → a and the duplicate filter drops the
    second a silently: the page would vanish from the run without a word. Placed above
    RedirectMiddleware (600), so it sees each 3xx response first."""

    def process_response(self, request: Request, response: Response) -> Response:
        location = response.headers.get(b"Location")
        if response.status not in _REDIRECTS or request.meta.get("dont_redirect") or location is None:
            return response
        target = urljoin(request.url, safe_url_string(location.decode("latin-1")))
        chain = [*request.meta.get("redirect_urls", []), request.url]
        if urldefrag(target)[0] in {urldefrag(u)[0] for u in chain}:
            raise RedirectLoop([*chain, target])
        return response
