"""Canonical URLs, so that one page has one id however it was linked.

v0 rules: lower-case scheme and host, drop the default port, the fragment, session ids in the
query or path (``PHPSESSID``, ``jsessionid``, ``ASPSESSIONID…``, ``sid``) and tracking
parameters (``utm_*``, ``spm``), and resolve ``.``/``..`` segments. Query parameter order is
kept: legacy CMSs sometimes read parameters positionally.
"""

from __future__ import annotations

import posixpath
import re
from urllib.parse import (
    parse_qsl,
    quote,
    unquote,
    urlencode,
    urljoin,
    urlsplit,
    urlunsplit,
)

_SESSION_PARAMS = re.compile(r"^(phpsessid|jsessionid|aspsessionid\w*|sid|sessionid|utm_\w+|spm)$", re.IGNORECASE)
_PATH_SESSION = re.compile(r";jsessionid=[^/?#]*", re.IGNORECASE)
_DEFAULT_PORTS = {"http": 80, "https": 443}


def canonicalize_url(url: str, base: str | None = None) -> str:
    """The canonical form of ``url`` (resolved against ``base`` when relative)."""
    if base:
        url = urljoin(base, url.strip())
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower().rstrip(".")
    port = parts.port
    netloc = host if port is None or _DEFAULT_PORTS.get(scheme) == port else f"{host}:{port}"
    path = _PATH_SESSION.sub("", parts.path) or "/"
    normalized = posixpath.normpath(path)
    if path.endswith("/") and normalized != "/":
        normalized += "/"
    path = quote(unquote(normalized), safe="/%:@!$&'()*+,;=~-._")
    query = urlencode(
        [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _SESSION_PARAMS.match(k)],
        doseq=True,
    )
    return urlunsplit((scheme, netloc, path, query, ""))


def origin(url: str) -> str:
    """``scheme://host[:port]`` of a URL."""
    parts = urlsplit(url)
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}"


def rebase(url: str, from_origin: str, to_origin: str) -> str:
    """Move ``url`` from one origin to another when it lives on ``from_origin``; else unchanged."""
    if origin(url) == origin(from_origin):
        parts = urlsplit(url)
        target = urlsplit(to_origin)
        return urlunsplit((target.scheme, target.netloc, parts.path, parts.query, parts.fragment))
    return url
