"""Canonical URLs, so that one page has one id however it was linked.

``canonicalize_url`` is the key of every document (the id is ``document_id(canonical URL)``),
so every variant of one page must map to one string. The rules, in the order applied:

- Whitespace: leading/trailing whitespace and control characters are stripped; tabs and
  newlines inside the URL are removed (as browsers do: legacy hrefs are often wrapped).
- Scheme and host lower-cased; a non-ASCII host is IDNA-encoded (``xn--…``); a trailing dot of
  the host is removed; the default port (80 for http, 443 for https) is dropped; user
  information (``user:pass@``) is dropped, so credentials never end up in an id.
- Percent-encoding, one form everywhere (path, query, hash-bang fragment): escapes of
  unreserved characters (``A-Z a-z 0-9 - . _ ~``) are decoded, every other escape is kept with
  upper-case hex digits, and characters that may not appear raw in a URL (spaces, non-ASCII,
  ``"<>\\^`{|}[]``, a ``%`` that starts no escape, and ``'`` in a query, as browsers do) are
  encoded as UTF-8 percent escapes.
  Chinese therefore always ends up as upper-case UTF-8 escapes
  (``/专题/`` and ``/%e4%b8%93%e9%a2%98/`` both become ``/%E4%B8%93%E9%A2%98/``). Escaped
  reserved characters (``%2F``, ``%26``, ``%3D``…) stay escaped: they mean something different
  from the raw character. Escapes that are not UTF-8 (GBK-encoded query values, common on these
  sites) are kept byte for byte, never decoded lossily. ``+`` in a query is kept as ``+``.
- Path: backslashes become slashes (browsers do this for http URLs), empty path → ``/``,
  duplicate slashes are collapsed, ``.``/``..`` segments are removed (RFC 3986 5.2.4).
- Session ids are removed wherever they occur: ``;jsessionid=…`` path parameters (any case),
  ASP.NET cookieless segments such as ``/(S(…))/``, ``/(X(1)S(…))/``, ``/(A(…)S(…)F(…))/``
  anywhere in the path, and the query parameters ``jsessionid``, ``PHPSESSID``,
  ``ASPSESSIONID*``, ``ASP.NET_SessionId``, ``sid``, ``sessionid``, ``CFID``, ``CFTOKEN``
  (names matched case-insensitively).
- Tracking parameters are removed: ``utm_*``, ``spm``, ``spm_id_from``, ``from``,
  ``isappinstalled``, ``share_token``, ``fbclid``, ``gclid``, ``dclid``, ``gbraid``, ``wbraid``,
  ``msclkid``, ``yclid``, ``mc_cid``, ``mc_eid``, ``_hsenc``, ``_hsmi``, ``igshid``, and the cache
  busters ``_``, ``_t`` and ``t`` but only when their value is a 10–13 digit timestamp.
- Every other query parameter is kept, names and values with their case; a parameter without
  ``=`` becomes ``k=``; empty pairs (``&&``) are dropped. Parameters are sorted by name with a
  stable sort (repeated names keep their relative order); ``?`` is dropped when nothing is left.
- Default documents (``index.html``, ``index.htm``, ``index.shtml``, ``default.htm``,
  ``default.html``, ``default.aspx``, ``default.asp``, ``index.asp``, ``index.php``,
  ``index.jsp``, any case) at the end of the path are dropped, leaving the directory
  (``/col/col1/index.html`` → ``/col/col1/``), but only when the (cleaned) query is empty:
  ``/index.php?m=content&c=index&a=show&id=5`` keeps its ``index.php``.
- The fragment is dropped, except a hash-bang route (``#!/…``), which some JavaScript sites use
  to address pages.

Input that cannot be parsed (a bad port, a broken IPv6 literal, ``http:`` without a host) is
returned stripped and otherwise unchanged, and so are URLs of other schemes (``javascript:``,
``mailto:``, ``tel:``…): the spider computes keys for every link it sees and must not crash on
an odd one. Pass ``strict=True`` to get a ``ValueError`` for a non-http(s) scheme instead.
Relative references (no scheme) are normalised as far as they can be without a base.

``session_free`` removes only the session ids and keeps everything else as given, for fetching.
``served_url`` is the URL as the server serves it, for storing, showing and linking: the cleaning
above without the rewriting only identity needs (the query's order and bare keys, default
documents); its canonical form is the original's.
"""

from __future__ import annotations

import functools
import re
from urllib.parse import SplitResult, urljoin, urlsplit, urlunsplit

_DEFAULT_PORTS = {"http": 80, "https": 443}
_WEB_SCHEMES = frozenset({"http", "https"})

_SESSION_PARAM = re.compile(
    r"(?:jsessionid|phpsessid|aspsessionid\w*|asp\.net_sessionid|sid|sessionid|cfid|cftoken)", re.IGNORECASE
)
_TRACKING_PARAM = re.compile(
    r"(?:utm_\w*|spm|spm_id_from|from|isappinstalled|share_token|fbclid|gclid|dclid|gbraid|wbraid"
    r"|msclkid|yclid|mc_cid|mc_eid|_hsenc|_hsmi|igshid)",
    re.IGNORECASE,
)
_CACHE_BUSTER_PARAM = re.compile(r"(?:_|_t|t)", re.IGNORECASE)
_TIMESTAMP = re.compile(r"\d{10,13}")

# ;jsessionid=… as a path parameter, up to the next segment or parameter.
_PATH_JSESSIONID = re.compile(r";jsessionid=[^/\\;?#]*", re.IGNORECASE)
# An ASP.NET cookieless segment: (S(…)), (X(1)S(…)), (A(…)S(…)F(…)), as a whole path segment.
_COOKIELESS_SEGMENT = re.compile(r"(?<=[/\\])\((?:[A-Za-z]\([^()/\\]*\))+\)(?:[/\\]|$)")

_DEFAULT_DOCUMENT = re.compile(
    r"/(?:index\.(?:html?|shtml|asp|php|jsp)|default\.(?:html?|aspx?))$", re.IGNORECASE
)

_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_SUB_DELIMS = frozenset("!$&'()*+,;=")
# Characters that may stay raw in each component (everything else is percent-encoded).
_PATH_SAFE = _UNRESERVED | _SUB_DELIMS | frozenset(":@/")
# In a query, browsers (WHATWG URL) escape ' for http(s): so do we, and so does pydantic's HttpUrl.
_QUERY_SAFE = (_PATH_SAFE | frozenset("?")) - frozenset("'")
_HEX = frozenset("0123456789abcdefABCDEF")
_INSIDE_WHITESPACE = re.compile(r"[\t\n\r]")
# What browsers strip from both ends of a URL: C0 controls and space.
_EDGE_JUNK = "".join(chr(c) for c in range(0x21))


def canonicalize_url(url: str, base: str | None = None, *, strict: bool = False) -> str:
    """The canonical form of ``url`` (resolved against ``base`` when relative); see the module doc.

    Never raises on odd input: what cannot be parsed, and URLs of other schemes than http(s),
    are returned stripped and otherwise unchanged. With ``strict=True`` a non-http(s) scheme
    raises ``ValueError``.

    A pure function the crawl asks several times per URL (the frontier, the conditional-GET
    middleware, the pipeline, the link recorder): the last results are cached (a bounded LRU).
    """
    return _canonical(url, base, strict)


def served_url(url: str, base: str | None = None) -> str:
    """``url`` as its server serves it (resolved against ``base`` when relative): what is stored,
    shown and linked. The same cleaning as :func:`canonicalize_url` (white space, scheme and host
    case, default port, user information, percent-encoding, backslashes, duplicate slashes, dot
    segments, session ids, tracking parameters, the fragment) but none of the rewriting that only
    identity needs: the query keeps its order and its bare keys (``/?tzgg/23.html`` stays as it
    is), a default document stays (``/col/col1229101/index.html``; a server may not serve the
    directory). ``canonicalize_url(served_url(u)) == canonicalize_url(u)``: the id is unchanged."""
    return _canonical(url, base, False, True)


@functools.lru_cache(maxsize=4096)  # a URL is asked for again within its page's processing
def _canonical(url: str, base: str | None, strict: bool, served: bool = False) -> str:
    cleaned = _clean(url)
    if base:
        try:
            cleaned = _clean(urljoin(_clean(base), cleaned))
        except ValueError:
            return cleaned
    parts = _split(cleaned)
    if parts is None:
        return cleaned
    scheme = parts.scheme.lower()
    if scheme and scheme not in _WEB_SCHEMES:
        if strict:
            raise ValueError(f"not an http(s) URL: {cleaned!r}")
        return cleaned
    netloc = _canonical_netloc(parts, scheme)
    if netloc is None:
        return cleaned

    path = _normalize_escapes(parts.path.replace("\\", "/"), _PATH_SAFE)
    path = _strip_path_sessions(path)
    path = re.sub(r"/{2,}", "/", path)
    path = _remove_dot_segments(path)
    if netloc or scheme:
        path = path or "/"

    query = _canonical_query(parts.query, served=served)
    if not query and path and not served:
        path = _DEFAULT_DOCUMENT.sub("/", path)

    fragment = ""
    if parts.fragment.startswith("!"):
        fragment = _normalize_escapes(parts.fragment, _QUERY_SAFE)
    return urlunsplit((scheme, netloc, path, query, fragment))


def session_free(url: str) -> str:
    """``url`` without session ids (see the module doc), everything else exactly as given.

    For fetching: a session id in a stored link is stale, and a new one would make the same
    page look new. Never raises; odd input and other schemes come back stripped.
    """
    cleaned = _clean(url)
    parts = _split(cleaned)
    if parts is None or parts.scheme.lower() not in _WEB_SCHEMES | {""} \
            or _canonical_netloc(parts, parts.scheme.lower()) is None:
        return cleaned  # what canonicalize_url leaves alone
    # Cut the string itself rather than re-assembling parts, so nothing else changes.
    head, hash_mark, fragment = cleaned.partition("#")
    before_query, question_mark, query = head.partition("?")
    authority_end = len(parts.scheme) + 1 if parts.scheme else 0
    if before_query.startswith("//", authority_end):
        authority_end += 2 + len(parts.netloc)
    path = _strip_path_sessions(before_query[authority_end:])
    pairs = query.split("&")
    kept = [pair for pair in pairs if not (pair and _SESSION_PARAM.fullmatch(_param_name(pair)))]
    if len(kept) != len(pairs):
        query = "&".join(kept)
        if not query.strip("&"):
            question_mark = query = ""
    freed = before_query[:authority_end] + path + question_mark + query + hash_mark + fragment
    # A removal can leave a space at an end ("a ;jsessionid=1"): escape it rather than lose it.
    body = freed.strip(_EDGE_JUNK)
    start = freed.index(body) if body else len(freed)
    return _escape_all(freed[:start]) + body + _escape_all(freed[start + len(body):])


@functools.lru_cache(maxsize=1024)
def origin(url: str) -> str:
    """``scheme://host[:port]`` of a URL, compared as browsers do: case-insensitive, without a
    host's trailing dot or the scheme's default port (``http://X.gov.cn.:80`` is
    ``http://x.gov.cn``); cached (bounded), a crawl asks it of every URL several times."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    netloc = parts.netloc.lower()
    userinfo, at, hostport = netloc.rpartition("@")
    host, colon, port = hostport.rpartition(":") if not hostport.endswith("]") else (hostport, "", "")
    if not colon or not port.isdigit():
        host, port = hostport, ""
    if port and int(port) == {"http": 80, "https": 443}.get(scheme):
        port = ""
    host = host.rstrip(".")
    return f"{scheme}://{userinfo}{at}{host}{':' + port if port else ''}"


def rebase(url: str, from_origin: str, to_origin: str) -> str:
    """Move ``url`` from one origin to another when it lives on ``from_origin``; else unchanged."""
    if origin(url) == origin(from_origin):
        parts = urlsplit(url)
        target = urlsplit(to_origin)
        return urlunsplit((target.scheme, target.netloc, parts.path, parts.query, parts.fragment))
    return url


# --- parts ------------------------------------------------------------------------------------


def redact_url(url: str) -> str:
    """The URL without its password (``postgresql://blgw:***@db/blgw``), for logs, messages and
    pages; a URL without one is returned as it is."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return parts._replace(netloc=netloc).geturl()


def _clean(url: str) -> str:
    return _INSIDE_WHITESPACE.sub("", str(url).strip(_EDGE_JUNK))


def _escape_all(text: str) -> str:
    return "".join(f"%{byte:02X}" for byte in text.encode("utf-8"))


def _split(url: str) -> SplitResult | None:
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - validates the port (raises ValueError when out of range)
    except ValueError:
        return None
    return parts


def _canonical_netloc(parts: SplitResult, scheme: str) -> str | None:
    """``host[:port]``, or None when there is nothing sensible to canonicalize (a host that
    cannot be encoded, or an http URL without a host such as ``http:show.php``)."""
    if scheme and not parts.netloc:
        return None
    host = (parts.hostname or "").rstrip(".")
    if not host:
        return "" if not parts.netloc.strip("@:") else None
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            return None
    host = host.lower()
    if not re.fullmatch(r"[a-z0-9._~!$&'()*+,;=%:-]+", host):
        return None
    if ":" in host:
        host = f"[{host}]"  # IPv6 literal
    port = parts.port
    if port is None or _DEFAULT_PORTS.get(scheme) == port:
        return host
    return f"{host}:{port}"


def _normalize_escapes(text: str, safe: frozenset[str]) -> str:
    """One percent-encoding of ``text``: unreserved escapes decoded, other escapes upper-cased,
    characters outside ``safe`` encoded as UTF-8 escapes."""
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if char == "%" and i + 2 < n and text[i + 1] in _HEX and text[i + 2] in _HEX:
            decoded = chr(int(text[i + 1:i + 3], 16))
            out.append(decoded if decoded in _UNRESERVED else "%" + text[i + 1:i + 3].upper())
            i += 3
            continue
        if char in safe:
            out.append(char)
        else:
            out.extend(f"%{byte:02X}" for byte in char.encode("utf-8", "surrogatepass"))
        i += 1
    return "".join(out)


def _strip_path_sessions(path: str) -> str:
    stripped = _PATH_JSESSIONID.sub("", path)
    while True:  # segments can follow each other: /(S(a))/(S(b))/
        shorter = _COOKIELESS_SEGMENT.sub("", stripped)
        if shorter == stripped:
            break
        stripped = shorter
    return stripped


def _remove_dot_segments(path: str) -> str:
    """RFC 3986 section 5.2.4, on a path whose duplicate slashes are already collapsed."""
    if "." not in path:
        return path
    absolute = path.startswith("/")
    segments = path.split("/")
    if absolute:
        segments = segments[1:]
    output: list[str] = []
    for index, segment in enumerate(segments):
        last = index == len(segments) - 1
        if segment == ".":
            if last:
                output.append("")
        elif segment == "..":
            if output and (absolute or output[-1] != ".."):
                output.pop()
            elif not absolute:
                output.append("..")  # a relative reference cannot climb without a base
            if last:
                output.append("")
        else:
            output.append(segment)
    result = "/".join(output)
    return "/" + result if absolute else result


def _param_name(pair: str) -> str:
    """The decoded name of a ``name=value`` pair, for matching against the removal lists."""
    name = pair.split("=", 1)[0]
    return re.sub(r"%([0-9A-Fa-f]{2})", lambda m: chr(int(m.group(1), 16)), name)


def _canonical_query(query: str, *, served: bool = False) -> str:
    pairs: list[tuple[str, str]] = []
    bare: set[int] = set()  # served: the parameters written without "=", kept so
    for pair in query.split("&"):
        if not pair:
            continue
        name, equals, value = pair.partition("=")
        name = _normalize_escapes(name, _QUERY_SAFE)
        value = _normalize_escapes(value, _QUERY_SAFE)
        plain = _param_name(name)
        if _SESSION_PARAM.fullmatch(plain) or _TRACKING_PARAM.fullmatch(plain):
            continue
        if _CACHE_BUSTER_PARAM.fullmatch(plain) and _TIMESTAMP.fullmatch(value):
            continue
        if not equals:
            bare.add(len(pairs))
        pairs.append((name, value))
    if served:  # the order and form the site wrote
        return "&".join(name if n in bare else f"{name}={value}" for n, (name, value) in enumerate(pairs))
    pairs.sort(key=lambda pair: pair[0])  # stable: repeated names keep their order
    return "&".join(f"{name}={value}" for name, value in pairs)
