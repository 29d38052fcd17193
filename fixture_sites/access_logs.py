"""Access logs as district subsites' servers write them, with the counters a perfect reader keeps.

An :class:`Event` is one request as the client made it. The writers put events into a file
exactly as the real server writes them:

* :func:`write_w3c`: IIS W3C extended (``#Software/#Version/#Date/#Fields`` directives, UTC
  ``date time``, ``+`` for the spaces of every field, ``-`` for empty, ``time-taken`` in ms,
  CRLF line ends); ``layouts=[(n, fields), …]`` writes a new directive block before event ``n``
  (as IIS does after a restart), so the field set and order change in the middle of a file;
  the custom field ``X-Forwarded-For`` is supported;
* :func:`write_iis`: IIS native "IIS log file format" (comma and space separated, local time in
  ``tz``, ``M/D/YYYY`` and ``H:MM:SS``, a trailing comma, CRLF);
* :func:`write_combined` (Apache's combined, or nginx's ``main`` with ``xff=True``) and
  :func:`write_common` (Apache's common), local time with its offset;
* :func:`write_nginx_custom` and :func:`write_apache_custom` for a ``log_format`` / ``LogFormat``
  made of the variables and directives docs/logs.md lists.

Every writer takes ``gzip=True`` (the bytes gzip-compressed; the caller names the file ``.gz``)
and ``malformed=[i, …]`` (a garbage line before event ``i``: a truncated line, binary junk, or a
line of another format, in turn).

A format does not log everything an event carries (the common format has no User-Agent, the
IIS native format no Referer, W3C turns spaces into ``+``): :func:`logged` returns the events as
a reader of the file sees them, and :func:`expected` computes the counters of docs/logs.md from
those events, independently of any parser. :func:`scenario` is a deterministic mix of the
requests a 政府网站 receives; :func:`big_log` streams millions of lines for benchmarks.

This package imports nothing of the gateway (nor ``normalizers``): :func:`expected` is given
the store's canonicalizer (``normalizers.urls.canonicalize_url``) by its caller.
"""

from __future__ import annotations

import dataclasses
import functools
import gzip as gzip_module
import hashlib
import itertools
import posixpath
import random
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import IO, Any
from urllib.parse import quote, unquote_to_bytes, urljoin, urlsplit
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")
CRAWLER_UA = "blgw/0.1 (+https://www.bl.gov.cn; Beilun site-group gateway)"
CRAWLER_TOKEN = "blgw/"


@dataclass(frozen=True)
class Event:
    """One request as the client made it and the server answered it."""

    at: datetime  # aware, whole seconds
    client: str  # the TCP peer (a proxy's address when behind one)
    method: str
    target: str  # the raw request target: path and optional ?query, percent-encoded as sent
    status: int
    bytes: int | None  # body bytes sent
    time_ms: int | None
    referrer: str | None
    user_agent: str | None
    forwarded_for: str | None  # the X-Forwarded-For header, e.g. "1.2.3.4, 10.0.0.1"
    host: str | None


# --------------------------------------------------------------------------------------------
# writing


class _Out:
    """A line sink: plain or gzip, with the server's line end."""

    def __init__(self, path: Path, gzip: bool, newline: str) -> None:
        self._raw: IO[bytes] = open(path, "wb")  # noqa: SIM115 - closed in close()
        self._file: Any = (gzip_module.GzipFile(fileobj=self._raw, mode="wb", mtime=0)
                                 if gzip else self._raw)
        self._newline = newline.encode()

    def line(self, text: str | bytes) -> None:
        data = text.encode("utf-8") if isinstance(text, str) else text
        self._file.write(data + self._newline)

    def close(self) -> None:
        if self._file is not self._raw:
            self._file.close()
        self._raw.close()


def _split_target(target: str) -> tuple[str, str]:
    path, _, query = target.partition("?")
    return path, query


def _dash(value: str | int | None) -> str:
    return "-" if value is None or value == "" else str(value)


_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@functools.lru_cache(maxsize=4096)
def _clf_time(at: datetime, tz: ZoneInfo) -> str:
    local = at.astimezone(tz)
    offset = local.utcoffset() or timedelta(0)
    minutes = int(offset.total_seconds()) // 60
    sign = "+" if minutes >= 0 else "-"
    minutes = abs(minutes)
    return (f"{local.day:02d}/{_MONTHS[local.month - 1]}/{local.year}:{local:%H:%M:%S} "
            f"{sign}{minutes // 60:02d}{minutes % 60:02d}")


def _iso_time(at: datetime, tz: ZoneInfo) -> str:
    return at.astimezone(tz).isoformat(timespec="seconds")


def _request_line(event: Event) -> str:
    return f"{event.method} {event.target} HTTP/1.1"


def _apache_escape(value: str) -> str:
    """What Apache does to ``"`` ``\\`` and control characters in quoted fields."""
    out = []
    for char in value:
        if char in '"\\':
            out.append("\\" + char)
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            out.append(f"\\x{ord(char):02x}")
        else:
            out.append(char)
    return "".join(out)


def _nginx_escape(value: str) -> str:
    """What nginx does (``escape=default``): ``"``, ``\\``, controls and bytes ≥ 0x7F as ``\\xHH``."""
    out = []
    for byte in value.encode("utf-8"):
        if byte in b'"\\' or byte < 0x20 or byte >= 0x7F:
            out.append(f"\\x{byte:02X}")
        else:
            out.append(chr(byte))
    return "".join(out)


_JUNK = b"\x00\x1f\x8b\x08\xff\xfe GET \x80\x81\x82 \xc3\x28 \x07\x1b[0m"


def _write(
    path: Path,
    events: Iterable[Event],
    render: Callable[[Event, int], str],
    *,
    gzip: bool,
    newline: str,
    malformed: Sequence[int],
    truncate: Callable[[str], str],
    foreign: Callable[[Event], str],
    before: Callable[[_Out, Event, int], None] | None = None,
) -> None:
    bad = set(malformed)
    out = _Out(path, gzip, newline)
    try:
        kind = 0
        for index, event in enumerate(events):
            if before is not None:
                before(out, event, index)
            if index in bad:
                choice = kind % 3
                kind += 1
                if choice == 0:
                    out.line(truncate(render(event, index)))
                elif choice == 1:
                    out.line(_JUNK)
                else:
                    out.line(foreign(event))
            out.line(render(event, index))
    finally:
        out.close()


def _cut_middle(line: str) -> str:
    return line[: max(1, len(line) // 2)]


def _combined_line(event: Event) -> str:
    return (f'{event.client} - - [{_clf_time(event.at, SHANGHAI)}] "{_request_line(event)}" {event.status} '
            f'{_dash(event.bytes)} "{_dash(event.referrer)}" "{_dash(event.user_agent)}"')


def _w3c_data_line(event: Event) -> str:
    return (f"{event.at.astimezone(UTC):%Y-%m-%d %H:%M:%S} 10.0.0.5 {event.method} "
            f"{_split_target(event.target)[0]} - 80 - {event.client} - {event.status} 0 0 15")


# W3C --------------------------------------------------------------------------------------------

W3C_DEFAULT_FIELDS = ["date", "time", "s-ip", "cs-method", "cs-uri-stem", "cs-uri-query", "s-port",
                      "cs-username", "c-ip", "cs(User-Agent)", "cs(Referer)", "sc-status", "sc-substatus",
                      "sc-win32-status", "sc-bytes", "time-taken"]
"""IIS 7.5's default field set, with ``sc-bytes`` and ``cs(Referer)`` turned on."""

W3C_FIELDS = frozenset(W3C_DEFAULT_FIELDS) | {"s-sitename", "s-computername", "cs-version", "cs(Cookie)",
                                              "cs-host", "cs-bytes", "X-Forwarded-For"}


def _w3c_value(event: Event, name: str) -> str:
    path, query = _split_target(event.target)
    at = event.at.astimezone(UTC)
    value: str | int | None
    if name == "date":
        value = f"{at:%Y-%m-%d}"
    elif name == "time":
        value = f"{at:%H:%M:%S}"
    elif name == "s-sitename":
        value = "W3SVC1"
    elif name == "s-computername":
        value = "WEB01"
    elif name == "s-ip":
        value = "10.0.0.5"
    elif name == "cs-method":
        value = event.method
    elif name == "cs-uri-stem":
        value = path
    elif name == "cs-uri-query":
        value = query
    elif name == "s-port":
        value = 80
    elif name == "cs-username":
        value = None
    elif name == "c-ip":
        value = event.client
    elif name == "cs-version":
        value = "HTTP/1.1"
    elif name == "cs(User-Agent)":
        value = event.user_agent
    elif name == "cs(Cookie)":
        value = None
    elif name == "cs(Referer)":
        value = event.referrer
    elif name == "cs-host":
        value = event.host
    elif name == "sc-status":
        value = event.status
    elif name in ("sc-substatus", "sc-win32-status"):
        value = 0
    elif name == "sc-bytes":
        value = event.bytes or 0
    elif name == "cs-bytes":
        value = 300 + len(event.target)
    elif name == "time-taken":
        value = event.time_ms
    elif name == "X-Forwarded-For":
        value = event.forwarded_for
    else:
        raise ValueError(f"unknown W3C field {name!r}")
    return _dash(value).replace(" ", "+")


def _w3c_layout(index: int, layouts: Sequence[tuple[int, Sequence[str]]]) -> Sequence[str]:
    current: Sequence[str] = W3C_DEFAULT_FIELDS
    for start, fields in layouts:
        if start <= index:
            current = fields
    return current


def write_w3c(
    path: Path,
    events: Iterable[Event],
    *,
    gzip: bool = False,
    layouts: Sequence[tuple[int, Sequence[str]]] = ((0, W3C_DEFAULT_FIELDS),),
    malformed: Sequence[int] = (),
    newline: str = "\r\n",
) -> None:
    """IIS W3C extended. ``layouts``: ``(n, fields)``, the field list from event ``n`` on, each
    announced by a new ``#Software/#Version/#Date/#Fields`` block (the first should start at 0)."""
    for _, fields in layouts:
        unknown = set(fields) - W3C_FIELDS
        if unknown:
            raise ValueError(f"unknown W3C fields {sorted(unknown)}")
    starts = {start: list(fields) for start, fields in layouts}
    if 0 not in starts:
        starts[0] = list(W3C_DEFAULT_FIELDS)

    def before(out: _Out, event: Event, index: int) -> None:
        if index in starts:
            out.line("#Software: Microsoft Internet Information Services 7.5")
            out.line("#Version: 1.0")
            out.line(f"#Date: {event.at.astimezone(UTC):%Y-%m-%d %H:%M:%S}")
            out.line("#Fields: " + " ".join(starts[index]))

    def render(event: Event, index: int) -> str:
        return " ".join(_w3c_value(event, name) for name in _w3c_layout(index, layouts))

    def truncate(line: str) -> str:
        tokens = line.split(" ")
        return " ".join(tokens[: max(2, len(tokens) // 2)])

    def foreign(event: Event) -> str:
        line = _combined_line(event)
        while any(len(line.split(" ")) == len(fields) for _, fields in layouts):
            line += ' "-"'  # never a layout's field count by chance
        return line

    _write(path, events, render, gzip=gzip, newline=newline, malformed=malformed, truncate=truncate,
           foreign=foreign, before=before)


# IIS native -------------------------------------------------------------------------------------


def write_iis(
    path: Path,
    events: Iterable[Event],
    *,
    gzip: bool = False,
    tz: str = "Asia/Shanghai",
    malformed: Sequence[int] = (),
    newline: str = "\r\n",
) -> None:
    """IIS native log file format: ``client, user, date, time, service, server, server IP, time
    taken, bytes received, bytes sent, status, Windows status, method, target, parameters,``."""
    zone = ZoneInfo(tz)

    def render(event: Event, index: int) -> str:
        local = event.at.astimezone(zone)
        target, query = _split_target(event.target)
        fields = [event.client, "-", f"{local.month}/{local.day}/{local.year}",
                  f"{local.hour}:{local:%M:%S}", "W3SVC1", "WEB01", "10.0.0.5", _dash(event.time_ms),
                  str(300 + len(event.target)), str(event.bytes or 0), str(event.status), "0", event.method,
                  target, _dash(query)]
        return ", ".join(fields) + ","

    def truncate(line: str) -> str:
        return ", ".join(line.split(", ")[:6])

    _write(path, events, render, gzip=gzip, newline=newline, malformed=malformed, truncate=truncate,
           foreign=_combined_line)


# Apache / nginx ---------------------------------------------------------------------------------


def write_combined(
    path: Path,
    events: Iterable[Event],
    *,
    gzip: bool = False,
    tz: str = "Asia/Shanghai",
    xff: bool = False,
    malformed: Sequence[int] = (),
) -> None:
    """Apache's combined format; with ``xff=True`` nginx's default ``main`` format (which also
    writes ``0``, not ``-``, for an empty body, and escapes as nginx does)."""
    zone = ZoneInfo(tz)
    escape = _nginx_escape if xff else _apache_escape

    def render(event: Event, index: int) -> str:
        size = str(event.bytes or 0) if xff else _dash(event.bytes or None)
        line = (f'{event.client} - - [{_clf_time(event.at, zone)}] "{escape(_request_line(event))}" '
                f'{event.status} {size} "{escape(_dash(event.referrer))}" "{escape(_dash(event.user_agent))}"')
        if xff:
            line += f' "{escape(_dash(event.forwarded_for))}"'
        return line

    _write(path, events, render, gzip=gzip, newline="\n", malformed=malformed, truncate=_cut_middle,
           foreign=_w3c_data_line)


def write_common(
    path: Path,
    events: Iterable[Event],
    *,
    gzip: bool = False,
    tz: str = "Asia/Shanghai",
    malformed: Sequence[int] = (),
) -> None:
    """Apache's common format: ``%h %l %u %t "%r" %>s %b``."""
    zone = ZoneInfo(tz)

    def render(event: Event, index: int) -> str:
        return (f'{event.client} - - [{_clf_time(event.at, zone)}] "{_apache_escape(_request_line(event))}" '
                f'{event.status} {_dash(event.bytes or None)}')

    _write(path, events, render, gzip=gzip, newline="\n", malformed=malformed, truncate=_cut_middle,
           foreign=_w3c_data_line)


NGINX_MAIN = ('$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent '
              '"$http_referer" "$http_user_agent" "$http_x_forwarded_for"')
HEADER_BYTES = 230
"""What ``$bytes_sent`` / ``%O`` add to the body for the response headers."""

_NGINX_VARIABLE = re.compile(r"\$(?:\{(\w+)\}|(\w+))")


def _nginx_value(event: Event, name: str, zone: ZoneInfo) -> str:
    path, query = _split_target(event.target)
    seconds = None if event.time_ms is None else f"{event.time_ms / 1000:.3f}"
    values: dict[str, Callable[[], str | int | None]] = {
        "remote_addr": lambda: event.client,
        "remote_user": lambda: None,
        "time_local": lambda: _clf_time(event.at, zone),
        "time_iso8601": lambda: _iso_time(event.at, zone),
        "request": lambda: _request_line(event),
        "status": lambda: event.status,
        "body_bytes_sent": lambda: event.bytes or 0,
        "bytes_sent": lambda: (event.bytes or 0) + HEADER_BYTES,
        "http_referer": lambda: event.referrer,
        "http_user_agent": lambda: event.user_agent,
        "http_x_forwarded_for": lambda: event.forwarded_for,
        "request_time": lambda: seconds,
        "upstream_response_time": lambda: seconds,
        "host": lambda: event.host or "localhost",
        "request_method": lambda: event.method,
        "request_uri": lambda: event.target,
        "uri": lambda: path,
        "args": lambda: query,
    }
    if name not in values:
        raise ValueError(f"nginx variable ${name} is not one docs/logs.md lists")
    return _nginx_escape(_dash(values[name]()))


def write_nginx_custom(
    path: Path,
    events: Iterable[Event],
    log_format: str = NGINX_MAIN,
    *,
    gzip: bool = False,
    tz: str = "Asia/Shanghai",
    malformed: Sequence[int] = (),
) -> None:
    """An nginx ``log_format`` (``$request_time`` in seconds with ms precision)."""
    zone = ZoneInfo(tz)

    def render(event: Event, index: int) -> str:
        return _NGINX_VARIABLE.sub(lambda m: _nginx_value(event, m.group(1) or m.group(2), zone), log_format)

    _write(path, events, render, gzip=gzip, newline="\n", malformed=malformed, truncate=_cut_middle,
           foreign=_w3c_data_line)


APACHE_COMBINED = '%h %l %u %t "%r" %>s %b "%{Referer}i" "%{User-Agent}i"'
_APACHE_DIRECTIVE = re.compile(r"%(?:\{([^}]*)\})?([<>]?)([a-zA-Z%])")


def _apache_value(event: Event, argument: str | None, letter: str, zone: ZoneInfo) -> str:
    path, query = _split_target(event.target)
    if letter == "%":
        return "%"
    if letter == "i":
        header = (argument or "").lower()
        headers = {"referer": event.referrer, "user-agent": event.user_agent,
                   "x-forwarded-for": event.forwarded_for, "host": event.host}
        if header not in headers:
            raise ValueError(f"request header {argument!r} is not one the events carry")
        return _apache_escape(_dash(headers[header]))
    values: dict[str, Callable[[], str | int | None]] = {
        "h": lambda: event.client,
        "a": lambda: event.client,
        "l": lambda: None,
        "u": lambda: None,
        "t": lambda: f"[{_clf_time(event.at, zone)}]",
        "r": lambda: _apache_escape(_request_line(event)),
        "s": lambda: event.status,
        "b": lambda: event.bytes or None,
        "B": lambda: event.bytes or 0,
        "D": lambda: None if event.time_ms is None else event.time_ms * 1000,
        "T": lambda: None if event.time_ms is None else event.time_ms // 1000,
        "v": lambda: event.host or "localhost",
        "U": lambda: path,
        "q": lambda: f"?{query}" if query else "",
        "m": lambda: event.method,
        "H": lambda: "HTTP/1.1",
        "I": lambda: 300 + len(event.target),
        "O": lambda: (event.bytes or 0) + HEADER_BYTES,
    }
    if letter not in values:
        raise ValueError(f"Apache directive %{letter} is not one docs/logs.md lists")
    return _dash(values[letter]())


def write_apache_custom(
    path: Path,
    events: Iterable[Event],
    log_format: str = APACHE_COMBINED,
    *,
    gzip: bool = False,
    tz: str = "Asia/Shanghai",
    malformed: Sequence[int] = (),
) -> None:
    """An Apache ``LogFormat`` (``%D`` in microseconds, ``%T`` in seconds)."""
    zone = ZoneInfo(tz)

    def one(event: Event, match: re.Match[str]) -> str:
        argument, _, letter = match.groups()
        if letter == "q":
            _, query = _split_target(event.target)
            return f"?{query}" if query else ""
        return _apache_value(event, argument, letter, zone)

    def render(event: Event, index: int) -> str:
        return _APACHE_DIRECTIVE.sub(lambda m: one(event, m), log_format)

    _write(path, events, render, gzip=gzip, newline="\n", malformed=malformed, truncate=_cut_middle,
           foreign=_w3c_data_line)


# --------------------------------------------------------------------------------------------
# what a reader of each format sees


def _plus(value: str | None) -> str | None:
    """A W3C field read back: ``+`` is a space."""
    return None if value is None or value == "" else value.replace("+", " ")


def logged(events: Iterable[Event], fmt: str, *, layouts: Sequence[tuple[int, Sequence[str]]] | None = None,
           log_format: str | None = None, xff: bool = False) -> list[Event]:
    """The events as a reader of a file of ``fmt`` sees them: what the format does not log is
    None (no User-Agent: a bot; no time taken: no ``time`` bucket), W3C's ``+`` read back as
    spaces (so a ``+`` of the User-Agent or Referer becomes a space), ``%T`` whole seconds.
    ``fmt``: w3c (with its ``layouts``), iis, combined (``xff``), common, nginx, apache (with
    their ``log_format``)."""
    out = []
    for index, event in enumerate(events):
        if fmt == "w3c":
            fields = set(_w3c_layout(index, layouts or ((0, W3C_DEFAULT_FIELDS),)))
            event = dataclasses.replace(
                event,
                user_agent=_plus(event.user_agent) if "cs(User-Agent)" in fields else None,
                referrer=_plus(event.referrer) if "cs(Referer)" in fields else None,
                forwarded_for=_plus(event.forwarded_for) if "X-Forwarded-For" in fields else None,
                time_ms=event.time_ms if "time-taken" in fields else None,
                bytes=event.bytes if "sc-bytes" in fields else None,
                host=event.host if "cs-host" in fields else None,
            )
        elif fmt == "iis":
            event = dataclasses.replace(event, user_agent=None, referrer=None, forwarded_for=None, host=None)
        elif fmt == "combined":
            event = dataclasses.replace(event, time_ms=None, host=None,
                                        forwarded_for=event.forwarded_for if xff else None)
        elif fmt == "common":
            event = dataclasses.replace(event, time_ms=None, host=None, user_agent=None, referrer=None,
                                        forwarded_for=None)
        elif fmt in ("nginx", "apache"):
            text = log_format or (NGINX_MAIN if fmt == "nginx" else APACHE_COMBINED)
            if fmt == "nginx":
                names = {m.group(1) or m.group(2) for m in _NGINX_VARIABLE.finditer(text)}
                has_ua, has_ref = "http_user_agent" in names, "http_referer" in names
                has_xff, has_host = "http_x_forwarded_for" in names, "host" in names
                has_bytes = bool(names & {"body_bytes_sent", "bytes_sent"})
                time_ms = event.time_ms if names & {"request_time", "upstream_response_time"} else None
                if "body_bytes_sent" not in names and "bytes_sent" in names:
                    event = dataclasses.replace(event, bytes=(event.bytes or 0) + HEADER_BYTES)
            else:
                found = [(m.group(1) or "").lower() + m.group(3) for m in _APACHE_DIRECTIVE.finditer(text)]
                has_ua, has_ref = "user-agenti" in found, "refereri" in found
                has_xff, has_host = "x-forwarded-fori" in found, ("hosti" in found or "v" in found)
                has_bytes = bool({"b", "B", "O"} & set(found))
                if "D" in found:
                    time_ms = event.time_ms
                elif "T" in found:
                    time_ms = None if event.time_ms is None else event.time_ms // 1000 * 1000
                else:
                    time_ms = None
                if "b" not in found and "B" not in found and "O" in found:
                    event = dataclasses.replace(event, bytes=(event.bytes or 0) + HEADER_BYTES)
            event = dataclasses.replace(
                event,
                user_agent=event.user_agent if has_ua else None,
                referrer=event.referrer if has_ref else None,
                forwarded_for=event.forwarded_for if has_xff else None,
                host=event.host if has_host else None,
                bytes=event.bytes if has_bytes else None,
                time_ms=time_ms,
            )
        else:
            raise ValueError(f"unknown format {fmt!r}")
        out.append(event)
    return out


# --------------------------------------------------------------------------------------------
# the ground truth: docs/logs.md in code

TIME_BUCKETS = (10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000)
PAGE_EXTENSIONS = frozenset({"", ".html", ".htm", ".shtml", ".shtm", ".xhtml", ".asp", ".aspx", ".php", ".jsp", ".do",
                             ".action", ".cgi"})
DOWNLOAD_EXTENSIONS = frozenset({".pdf", ".doc", ".docx", ".xls", ".xlsx", ".ppt", ".pptx", ".wps", ".et", ".dps",
                                 ".ofd", ".zip", ".rar", ".7z", ".txt", ".csv"})
SCAN_SUFFIXES = (".mdb", ".bak", ".sql", ".old", ".swp", ".tar.gz", ".env")
SCAN_PREFIXES = ("/admin", "/manage", "/phpmyadmin", "/wp-login.php", "/wp-admin")
INJECTIONS = ("union select", "' or '1'='1", "sleep(", "xp_cmdshell", ";--", "<script", "javascript:", "../",
              "..%2f")
SEARCH_ENGINES = (
    # (engine, host suffixes, query parameters in order of preference)
    ("baidu", ("baidu.com",), ("wd", "word")),
    ("sogou", ("sogou.com",), ("query",)),
    ("360", ("so.com",), ("q",)),
    ("bing", ("bing.com",), ("q",)),
    ("google", ("google.com", "google.com.hk", "google.cn"), ("q",)),
    ("shenma", ("sm.cn",), ("q",)),
)


@dataclass
class Truth:
    counts: dict[tuple[str, str, str], tuple[int, int]]
    visitors: dict[str, int]
    visitor_hashes: dict[str, set[str]] = field(default_factory=dict)
    malformed: int = 0


def shanghai_day(at: datetime) -> str:
    """The day a request is counted on: its Asia/Shanghai date."""
    return at.astimezone(SHANGHAI).date().isoformat()


def percent_decode(text: str) -> str:
    """The percent-encoding of ``text`` read as UTF-8 (strict), else as GB18030 (undecodable
    bytes replaced). ``+`` stays ``+``."""
    raw = unquote_to_bytes(text)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("gb18030", errors="replace")


_HIGH_ESCAPES = re.compile(r"(?:%[89A-Fa-f][0-9A-Fa-f])+")


def utf8_target(target: str) -> str:
    """The target with a non-UTF-8 (GBK) encoded **path** re-encoded as UTF-8, the rest unchanged.

    If the percent-decoded path is valid UTF-8 the target is returned as it is. Otherwise every
    run of escapes of bytes ≥ 0x80 in the path is decoded as GB18030 and percent-encoded again as
    UTF-8; escapes of ASCII characters (``%2F``, ``%20``…) are left alone, and so is the query
    (``canonicalize_url`` keeps its GBK escapes byte for byte, as the crawl's keys do: browsers
    encode a query in the page's charset, a path always in UTF-8)."""
    path, sep, query = target.partition("?")
    try:
        unquote_to_bytes(path).decode("utf-8")
    except UnicodeDecodeError:
        path = _HIGH_ESCAPES.sub(
            lambda m: quote(unquote_to_bytes(m.group()).decode("gb18030", errors="replace"), safe=""), path)
    return path + sep + query


def canonical_url(base_url: str, target: str, canonicalize: Callable[[str], str]) -> str:
    """A request's URL: ``canonicalize(urljoin(base_url, utf8_target(target)))``."""
    return canonicalize(urljoin(base_url, utf8_target(target)))


def request_type(target: str) -> str:
    """``page``, ``download`` or ``asset``, from the extension (lower-cased) of the last segment of
    the percent-decoded path (``posixpath.splitext``: ``/.env`` has none, so it is a page)."""
    path = percent_decode(_split_target(target)[0])
    extension = posixpath.splitext(path.rsplit("/", 1)[-1])[1].lower()
    if extension in PAGE_EXTENSIONS:
        return "page"
    if extension in DOWNLOAD_EXTENSIONS:
        return "download"
    return "asset"


def user_agent_class(user_agent: str | None) -> str:
    """``crawler`` (contains ``blgw/``), ``bot`` (none, ``-``, or
    ``crawleruseragents.is_crawler(ua)``, case-sensitive as its default), else ``human``."""
    if user_agent and CRAWLER_TOKEN in user_agent:
        return "crawler"
    if not user_agent or user_agent == "-":
        return "bot"
    return "bot" if _is_crawler(user_agent) else "human"


@functools.lru_cache(maxsize=8192)
def _is_crawler(user_agent: str) -> bool:
    import crawleruseragents

    return bool(crawleruseragents.is_crawler(user_agent))


@functools.lru_cache(maxsize=8192)
def bot_name(user_agent: str | None) -> str:
    """The name of a bot: ``-`` when it sent no User-Agent; else the text of the User-Agent that
    the first matching pattern of the list (the lowest index ``matching_crawlers`` returns)
    matched (``re.search(pattern, ua).group(0)``), stripped of spaces and ``/;,`` at its ends:
    ``Baiduspider``, ``Googlebot`` (the pattern is ``Googlebot\\/``), ``bingbot``, ``360Spider``,
    ``Sogou``, ``YisouSpider``, ``Bytespider``, ``curl``. The list has no name field; its patterns
    are regular expressions, and the matched text is the bot's own spelling."""
    import crawleruseragents

    if not user_agent or user_agent == "-":
        return "-"
    matches = crawleruseragents.matching_crawlers(user_agent)
    if not matches:
        return "-"
    pattern = crawleruseragents.CRAWLER_USER_AGENTS_DATA[matches[0]]["pattern"]
    found = re.search(pattern, user_agent)
    return found.group(0).strip(" /;,") if found else pattern


MOBILE_OSES = frozenset({"iOS", "Android", "Windows Phone", "BlackBerry OS", "Symbian OS", "KaiOS", "HarmonyOS",
                         "Firefox OS", "Tizen"})


@functools.lru_cache(maxsize=8192)
def ua_families(user_agent: str) -> tuple[str, str, str]:
    """(device type, OS family, browser family) through ``ua_parser.parse(ua).with_defaults()``.

    Device type: ``tablet`` if the device family is ``iPad`` or contains ``Tablet`` or
    ``Kindle``, or the OS is Android and the User-Agent has no ``Mobile`` token; else ``mobile``
    if the OS family is a mobile one (:data:`MOBILE_OSES`) or the device family is neither
    ``Other`` nor ``Mac`` nor ``Spider``, or the User-Agent contains ``Mobile``; else
    ``desktop``."""
    import ua_parser

    result = ua_parser.parse(user_agent).with_defaults()
    device, os_family, browser = result.device.family, result.os.family, result.user_agent.family
    if device == "iPad" or "Tablet" in device or "Kindle" in device or (
            os_family == "Android" and "Mobile" not in user_agent):
        kind = "tablet"
    elif os_family in MOBILE_OSES or device not in ("Other", "Mac", "Spider") or "Mobile" in user_agent:
        kind = "mobile"
    else:
        kind = "desktop"
    return kind, os_family, browser


def visitor_hash(key: bytes, client: str, user_agent: str | None) -> str:
    """BLAKE2b keyed with ``key`` (SHA-256 of a key longer than 64 bytes), 16 bytes in hex, of
    ``client NUL User-Agent``."""
    if len(key) > 64:
        key = hashlib.sha256(key).digest()
    return hashlib.blake2b(f"{client}\x00{user_agent or ''}".encode(), key=key, digest_size=16).hexdigest()


def client_address(event: Event, forwarded: bool) -> str:
    """The client: with ``forwarded``, the first address of X-Forwarded-For (split on ``,``,
    stripped of spaces; W3C's ``+`` read as a space) when there is one (not empty, not ``-``),
    else the TCP peer."""
    if forwarded and event.forwarded_for and event.forwarded_for != "-":
        first = event.forwarded_for.split(",")[0].strip(" +")
        if first:
            return first
    return event.client


def _query_params(query: str) -> list[tuple[str, str]]:
    """``k=v`` pairs, split on ``&`` and the first ``=``, still encoded."""
    pairs = []
    for part in query.split("&"):
        name, _, value = part.partition("=")
        pairs.append((name, value))
    return pairs


def keyphrase(referrer: str | None) -> tuple[str, str] | None:
    """(engine, phrase) of a search engine's result page: the host is the engine's domain or a
    subdomain of it; the phrase is the first of the engine's parameters present and not empty,
    ``+`` read as a space, percent-decoded as UTF-8 (strict) else GB18030, whitespace collapsed
    to single spaces and stripped (the ``ie``/``oe`` parameters are ignored)."""
    if not referrer or referrer == "-":
        return None
    try:
        parts = urlsplit(referrer)
        host = (parts.hostname or "").lower()
    except ValueError:
        return None
    for engine, domains, names in SEARCH_ENGINES:
        if not any(host == d or host.endswith("." + d) for d in domains):
            continue
        params = dict(reversed(_query_params(parts.query)))  # the first of a repeated name wins
        for name in names:
            value = params.get(name)
            if value:
                phrase = " ".join(percent_decode(value.replace("+", " ")).split())
                if phrase:
                    return engine, phrase
        return None
    return None


def referrer_host(referrer: str | None) -> str | None:
    """The referring host: ``urlsplit(referrer).hostname`` (lower-cased, without port); None when
    there is no Referer or it has no host."""
    if not referrer or referrer == "-":
        return None
    try:
        return urlsplit(referrer).hostname or None
    except ValueError:
        return None


def security_findings(target: str) -> list[str]:
    """``scan`` and/or ``injection`` for a target.

    ``path`` is the percent-decoded path (UTF-8 else GB18030), ``lowered`` it lower-cased.
    scan: ``lowered`` ends with one of :data:`SCAN_SUFFIXES`, or contains ``/.git/`` or ends with
    ``/.git``, or its last segment is ``web.config``, or it starts with one of
    :data:`SCAN_PREFIXES`; never when it starts with ``/.well-known/``.
    injection: the whole percent-decoded target, lower-cased, ``+`` read as a space and runs of
    white space collapsed to one space, contains one of :data:`INJECTIONS`."""
    raw_path, _ = _split_target(target)
    lowered = percent_decode(raw_path).lower()
    found = []
    if not lowered.startswith("/.well-known/") and (
            lowered.endswith(SCAN_SUFFIXES) or "/.git/" in lowered or lowered.endswith("/.git")
            or lowered.rsplit("/", 1)[-1] == "web.config" or lowered.startswith(SCAN_PREFIXES)):
        found.append("scan")
    text = " ".join(percent_decode(target).lower().replace("+", " ").split())
    if any(pattern in text for pattern in INJECTIONS):
        found.append("injection")
    return found


def time_bucket(time_ms: int) -> str:
    """The smallest bound of :data:`TIME_BUCKETS` at least ``time_ms``, else ``inf``."""
    for bound in TIME_BUCKETS:
        if time_ms <= bound:
            return str(bound)
    return "inf"


def expected(
    events: Iterable[Event],
    base_url: str,
    *,
    key: bytes,
    forwarded: bool,
    canonicalize: Callable[[str], str],
    flood_per_minute: int = 300,
    crawler_token: str = CRAWLER_TOKEN,
    malformed: int = 0,
) -> Truth:
    """The counters docs/logs.md defines, of ``events`` as the reader sees them (:func:`logged`).

    Rules (the parser must follow the same):

    * day: :func:`shanghai_day` of the request's time; bytes: ``bytes`` with None as 0;
    * class: :func:`user_agent_class`; ``traffic/hits`` and ``traffic/<class>``, ``status``,
      ``method`` for every request;
    * URL: :func:`canonical_url`; type: :func:`request_type`;
    * PV: human ``GET`` page answered 2xx or 304 → ``traffic/pageviews``, ``page/URL``,
      ``device``/``os``/``browser`` (:func:`ua_families`), ``referrer/host`` when
      :func:`referrer_host` is not the base URL's host, ``keyphrase/engine<TAB>phrase``
      (:func:`keyphrase`), and the visitor (:func:`visitor_hash` of :func:`client_address` and
      the User-Agent) into the day's UV;
    * download: human ``GET`` download answered 2xx or 304 → ``traffic/downloads``,
      ``download/URL``;
    * ``notfound/URL<TAB>referrer`` for every non-crawler 404 (the Referer as logged, ``-`` when
      none);
    * ``bot/<name>`` (:func:`bot_name`) for every bot request;
    * ``time/<bucket>`` (:func:`time_bucket`) for every request with a time taken;
    * ``security/scan<TAB>path`` and ``security/injection<TAB>path`` (:func:`security_findings`;
      ``path`` the percent-decoded path of the target) for every request, whatever its class;
    * ``security/flood<TAB>client``: per client address (its hash with no User-Agent: one
      address flooding with changing User-Agents is one flood), per minute (the request time
      truncated to the minute), when it sent more than ``flood_per_minute`` non-crawler
      requests in it: hits 1 per such minute, bytes 0, on the day of the minute.
    """
    counts: dict[tuple[str, str, str], list[int]] = defaultdict(lambda: [0, 0])
    hashes: dict[str, set[str]] = defaultdict(set)
    minutes: dict[tuple[datetime, str], list[int]] = defaultdict(lambda: [0, 0])
    site_host = (urlsplit(base_url).hostname or "").lower()

    def add(day: str, kind: str, name: str, size: int) -> None:
        entry = counts[(day, kind, name)]
        entry[0] += 1
        entry[1] += size

    for event in events:
        day = shanghai_day(event.at)
        size = event.bytes or 0
        ua = event.user_agent if event.user_agent not in (None, "", "-") else None
        klass = ("crawler" if ua and crawler_token in ua else user_agent_class(ua))
        add(day, "traffic", "hits", size)
        add(day, "traffic", klass, size)
        add(day, "status", str(event.status), size)
        add(day, "method", event.method, size)
        url = canonical_url(base_url, event.target, canonicalize)
        kind = request_type(event.target)
        answered = 200 <= event.status <= 299 or event.status == 304
        visitor = visitor_hash(key, client_address(event, forwarded), ua)
        if klass == "human" and event.method == "GET" and answered and kind == "page":
            add(day, "traffic", "pageviews", size)
            add(day, "page", url, size)
            device, os_family, browser = ua_families(ua or "")
            add(day, "device", device, size)
            add(day, "os", os_family, size)
            add(day, "browser", browser, size)
            host = referrer_host(event.referrer)
            if host and host.lower() != site_host:
                add(day, "referrer", host.lower(), size)
            phrase = keyphrase(event.referrer)
            if phrase:
                add(day, "keyphrase", f"{phrase[0]}\t{phrase[1]}", size)
            hashes[day].add(visitor)
        if klass == "human" and event.method == "GET" and answered and kind == "download":
            add(day, "traffic", "downloads", size)
            add(day, "download", url, size)
        if klass != "crawler" and event.status == 404:
            add(day, "notfound", f"{url}\t{event.referrer or '-'}", size)
        if klass == "bot":
            add(day, "bot", bot_name(ua), size)
        if event.time_ms is not None:
            add(day, "time", time_bucket(event.time_ms), size)
        if klass == "crawler":
            continue  # the gateway's own requests are no security signal
        path = percent_decode(_split_target(event.target)[0])
        for finding in security_findings(event.target):
            add(day, "security", f"{finding}\t{path}", size)
        who = visitor_hash(key, client_address(event, forwarded), None)
        minute = minutes[(event.at.astimezone(UTC).replace(second=0, microsecond=0), who)]
        minute[0] += 1

    for (minute_at, who), (hits, _) in minutes.items():
        if hits > flood_per_minute:
            add(shanghai_day(minute_at), "security", f"flood\t{who}", 0)

    return Truth(
        counts={k: (v[0], v[1]) for k, v in counts.items()},
        visitors={day: len(v) for day, v in hashes.items()},
        visitor_hashes=dict(hashes),
        malformed=malformed,
    )


# --------------------------------------------------------------------------------------------
# a scenario

HUMAN_UAS = {
    "chrome": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
              "Chrome/120.0.0.0 Safari/537.36",
    "firefox": "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0",
    "ie": "Mozilla/5.0 (Windows NT 6.1; WOW64; Trident/7.0; rv:11.0) like Gecko",
    "ie8": "Mozilla/4.0 (compatible; MSIE 8.0; Windows NT 6.1; Trident/4.0; .NET CLR 2.0.50727)",
    "iphone": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
              "Version/17.1 Mobile/15E148 Safari/604.1",
    "android": "Mozilla/5.0 (Linux; Android 13; SM-S9080) AppleWebKit/537.36 (KHTML, like Gecko) "
               "Chrome/120.0.6099.144 Mobile Safari/537.36",
    "ipad": "Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
            "Version/16.6 Mobile/15E148 Safari/604.1",
    "wechat": "Mozilla/5.0 (iPhone; CPU iPhone OS 16_3 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
              "Mobile/15E148 MicroMessenger/8.0.33(0x18002129) NetType/WIFI Language/zh_CN",
    "android_tablet": "Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 (KHTML, like Gecko) "
                      "Chrome/120.0.0.0 Safari/537.36",
    "mac": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
           "Version/17.1 Safari/605.1.15",
}
BOT_UAS = {
    "baidu": "Mozilla/5.0 (compatible; Baiduspider/2.0; +http://www.baidu.com/search/spider.html)",
    "google": "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "bing": "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    "360": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
           "Chrome/89.0.4389.82 Safari/537.36 360Spider",
    "sogou": "Sogou web spider/4.0(+http://www.sogou.com/docs/help/webmasters.htm#07)",
    "yisou": "Mozilla/5.0 (compatible; YisouSpider/5.0; +http://www.yisou.com/help/webmaster/spider_guide.html)",
    "byte": "Mozilla/5.0 (Linux; Android 5.0) AppleWebKit/537.36 (KHTML, like Gecko) Mobile Safari/537.36 "
            "(compatible; Bytespider; spider-feedback@bytedance.com)",
    "none": None,
}

PAGES = ["/", "/col/col123/index.html", "/col/col124/index.html", "/art/2024/1/5/art_1_9.html",
         "/art/2024/3/8/art_1_27.html", "/zwgk/list.aspx", "/news.php?id=3", "/hdjl/index.jsp", "/bsfw/",
         "/col/col125/index.html?uid=7&pageNum=2"]
ASSETS = ["/css/main.css", "/js/jquery.min.js", "/images/logo.png", "/images/banner.jpg", "/favicon.ico"]
DOWNLOADS = ["/module/download/2024/附件1.pdf", "/attach/2024/申报表.docx", "/attach/2024/budget.xls"]
CHINESE = "/公告/1.html"
SEARCH_REFERRERS = [
    "https://www.baidu.com/s?wd=" + quote("北仑区人社局", safe="") + "&rsv_spt=1",
    "https://www.baidu.com/s?ie=gbk&word=" + quote("北仑社保".encode("gbk"), safe=""),
    "https://www.sogou.com/web?query=" + quote("公告", safe="") + "&ie=utf8",
    "https://www.so.com/s?q=" + quote("北仑 公积金", safe="") + "&src=srp",
    "https://cn.bing.com/search?q=beilun+social+security&form=QBLH",
    "https://m.sm.cn/s?q=" + quote("北仑招聘", safe=""),
]


def _utf8_path(path: str) -> str:
    return quote(path, safe="/?=&%")


def scenario(seed: int, day: date, n: int, base_url: str) -> list[Event]:
    """At least ``n`` events over two Asia/Shanghai days (``day`` and the next), in time order,
    deterministic from ``seed``: the special cases (midnight, GBK and UTF-8 Chinese paths, every
    status, POST and HEAD, search referrers, 404s from inside and outside, a scanner, injections,
    proxied clients, a flood of 320 requests in one minute and a client with exactly 300 in
    another), then a random mix of humans, bots and the crawler up to ``n``."""
    rng = random.Random(seed)
    host = urlsplit(base_url).hostname or "localhost"
    internal = urljoin(base_url, "/col/col123/index.html")
    day2 = day + timedelta(days=1)

    def at(d: date, hh: int, mm: int, ss: int = 0) -> datetime:
        return datetime.combine(d, time(hh, mm, ss), SHANGHAI)

    events: list[Event] = []

    def add(when: datetime, client: str, target: str, *, method: str = "GET", status: int = 200,
            size: int | None = None, ms: int | None = -1, referrer: str | None = None,
            ua: str | None = HUMAN_UAS["chrome"], xff: str | None = None) -> None:
        events.append(Event(at=when, client=client, method=method, target=target, status=status,
                            bytes=size if size is not None else (0 if status == 304 else rng.randint(200, 90000)),
                            time_ms=rng.choice((3, 12, 40, 90, 180, 420, 800, 1800, 4200, 9000, 25000, 45000))
                            if ms == -1 else ms,
                            referrer=referrer, user_agent=ua, forwarded_for=xff, host=host))

    # around midnight: 23:30 and 00:30 Shanghai are 15:30 and 16:30 UTC of the same UTC day
    add(at(day, 23, 30, 5), "114.55.1.10", "/", ua=HUMAN_UAS["iphone"])
    add(at(day2, 0, 30, 5), "114.55.1.10", "/", ua=HUMAN_UAS["iphone"])
    add(at(day, 7, 59, 59), "114.55.1.11", "/col/col123/index.html", ua=HUMAN_UAS["firefox"])  # 23:59:59 UTC
    add(at(day, 8, 0, 0), "114.55.1.11", "/col/col124/index.html", ua=HUMAN_UAS["firefox"])  # 00:00 UTC
    # one page, its Chinese path in UTF-8 and in GBK (old IE), and raw UTF-8 bytes
    utf8 = quote(CHINESE)
    gbk = quote(CHINESE.encode("gbk"), safe="/.")
    add(at(day, 9, 1), "221.12.3.4", utf8, ua=HUMAN_UAS["chrome"], referrer=internal)
    add(at(day, 9, 2), "221.12.3.5", gbk, ua=HUMAN_UAS["ie8"], referrer=internal)
    add(at(day2, 9, 3), "221.12.3.6", gbk, ua=HUMAN_UAS["ie"])
    add(at(day, 9, 4), "221.12.3.7", "/search.asp?kw=" + quote("公告".encode("gbk"), safe=""),
        ua=HUMAN_UAS["ie8"])
    # statuses
    add(at(day, 10, 0), "60.190.2.1", "/art/2024/1/5/art_1_9.html", status=304, ua=HUMAN_UAS["wechat"])
    add(at(day, 10, 1), "60.190.2.1", DOWNLOADS[0] and _utf8_path(DOWNLOADS[0]), status=206,
        ua=HUMAN_UAS["android"])
    add(at(day, 10, 2), "60.190.2.2", "/col/col123", status=301, ua=HUMAN_UAS["ipad"])
    add(at(day, 10, 3), "60.190.2.3", "/zwgk/list.aspx?page=2", status=500, ua=HUMAN_UAS["chrome"])
    add(at(day, 10, 4), "60.190.2.3", "/hdjl/submit.php", method="POST", ua=HUMAN_UAS["chrome"],
        referrer=urljoin(base_url, "/hdjl/index.jsp"))
    add(at(day, 10, 5), "60.190.2.3", "/", method="HEAD", ua=HUMAN_UAS["chrome"], size=0)
    # search referrers and external referrers
    for i, ref in enumerate(SEARCH_REFERRERS):
        browser = (HUMAN_UAS["android"], HUMAN_UAS["chrome"], HUMAN_UAS["iphone"], HUMAN_UAS["firefox"],
              HUMAN_UAS["mac"], HUMAN_UAS["android_tablet"])[i]
        add(at(day, 11, i), f"36.{i}.7.8", PAGES[i % 4], referrer=ref, ua=browser)
    add(at(day2, 11, 30), "36.9.7.8", "/art/2024/3/8/art_1_27.html", referrer="https://www.zj.gov.cn/col/col1.html")
    add(at(day2, 11, 31), "36.9.7.9", "/", referrer="http://www.nbbl.gov.cn/")
    # 404s: a dead internal link, an old external link, an asset
    add(at(day, 12, 0), "58.100.1.1", "/art/2019/3/1/art_1_1.html", status=404, referrer=internal)
    add(at(day, 12, 1), "58.100.1.2", "/old/page.htm", status=404, referrer="https://www.nb.gov.cn/links.html")
    add(at(day2, 12, 2), "58.100.1.3", "/images/missing.gif", status=404)
    add(at(day2, 12, 3), "58.100.1.3", "/robots.txt", status=404, ua=BOT_UAS["google"])
    add(at(day2, 12, 4), "10.9.9.9", "/art/2019/3/1/art_1_1.html", status=404, ua=CRAWLER_UA)
    # a scanner
    for i, target in enumerate(["/admin/", "/data/data.mdb", "/web.bak", "/.env", "/.git/config",
                                "/phpmyadmin/index.php", "/web.config", "/.well-known/security.txt",
                                "/backup/site.tar.gz"]):
        add(at(day, 13, 0, i), "185.220.101.5", target, status=404, ua="Mozilla/5.0 zgrab/0.x")
    add(at(day, 13, 1), "185.220.101.6", "/manage/login.asp", status=404, ua=HUMAN_UAS["firefox"])
    # injections
    add(at(day, 14, 0), "45.9.1.2", "/news.php?id=1%20union%20select%201,2", ua=HUMAN_UAS["chrome"])
    add(at(day, 14, 1), "45.9.1.2", "/search.aspx?q=%3Cscript%3Ealert(1)%3C/script%3E", ua=HUMAN_UAS["chrome"])
    add(at(day, 14, 2), "45.9.1.2", "/download.jsp?file=../../etc/passwd", status=403, ua=HUMAN_UAS["chrome"])
    add(at(day2, 14, 3), "45.9.1.3", "/news.php?id=3%27%20or%20%271%27=%271", status=500, ua=BOT_UAS["none"])
    # proxied clients: one proxy address, different X-Forwarded-For
    for i in range(6):
        add(at(day, 15, i), "10.0.0.1", PAGES[i % 3], ua=HUMAN_UAS["chrome"],
            xff=f"183.{i}.20.{i + 1}, 10.0.0.1" if i < 5 else None)
    add(at(day, 15, 9), "10.0.0.1", "/", ua=HUMAN_UAS["chrome"], xff="-")
    # the crawler
    for i in range(5):
        add(at(day, 16, 0, i), "10.9.9.9", PAGES[i], ua=CRAWLER_UA)
    # bots
    for i, bot in enumerate(BOT_UAS.values()):
        add(at(day, 17, i), f"123.125.71.{i + 1}", PAGES[i % len(PAGES)], ua=bot)
    # a flood (320 in one minute) and a client at exactly the threshold (300 in one minute)
    for i in range(320):
        add(at(day2, 10, 15, i * 59 // 320), "103.2.3.4", PAGES[i % 3], ua=HUMAN_UAS["chrome"], ms=5)
    for i in range(300):
        add(at(day2, 10, 20, i * 59 // 300), "103.2.3.5", PAGES[i % 3], ua=HUMAN_UAS["chrome"], ms=5)
    # 2 × 200 across a minute boundary: no flood
    for i in range(400):
        add(at(day2, 10, 30, 30) + timedelta(seconds=i * 60 // 400), "103.2.3.6", ASSETS[i % 5],
            ua=HUMAN_UAS["firefox"], ms=None)

    # the rest, at random over the two days
    clients = [f"{rng.randint(1, 223)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
               for _ in range(60)]
    targets = PAGES + ASSETS + [_utf8_path(d) for d in DOWNLOADS] + [quote(CHINESE)]
    uas: list[str | None] = list(HUMAN_UAS.values()) * 3 + list(BOT_UAS.values()) + [CRAWLER_UA]
    while len(events) < n:
        when = at(rng.choice((day, day2)), 0, 0) + timedelta(seconds=rng.randrange(86400))
        target = rng.choice(targets)
        status = rng.choices((200, 304, 404, 301, 500), (80, 10, 5, 3, 2))[0]
        referrer: str | None = rng.choice([None, internal, "https://www.zj.gov.cn/", *SEARCH_REFERRERS[:2]])
        add(when, rng.choice(clients), target, status=status, ua=rng.choice(uas), referrer=referrer,
            ms=rng.choice((None, 7, 30, 120, 700, 3000)))
    events.sort(key=lambda e: e.at)
    return events


# --------------------------------------------------------------------------------------------
# benchmarks


def _big_events(lines: int, seed: int) -> Iterator[Event]:
    rng = random.Random(seed)
    sections = [f"/col/col{1000 + i}/index.html" for i in range(200)]
    articles = [f"/art/2024/{1 + i % 12}/{1 + i % 28}/art_{1000 + i % 200}_{50000 + i}.html" for i in range(3000)]
    files = [f"/module/download/downfile.jsp?classid=0&filename={i:06d}.pdf" for i in range(300)]
    assets = [f"/static/{name}" for name in ("main.css", "jquery.min.js", "logo.png", "banner.jpg", "font.woff")]
    urls = sections + articles + files + assets
    weights = [8] * len(sections) + [1] * len(articles) + [1] * len(files) + [400] * len(assets)
    uas: list[str | None] = list(HUMAN_UAS.values()) * 10 + list(BOT_UAS.values()) * 5 + [CRAWLER_UA] * 3
    for i in range(300):
        uas.append(f"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
                   f"Chrome/{90 + i % 30}.0.{4000 + i}.{i % 200} Safari/537.36")
    clients = [f"{rng.randint(1, 223)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
               for _ in range(30000)]
    start = datetime(2026, 12, 1, tzinfo=SHANGHAI)
    step = 86400 * 7 / max(lines, 1)  # a week
    host = "rsj.bl.gov.cn"
    cumulative = list(itertools.accumulate(weights))
    for i in range(lines):
        target = rng.choices(urls, cum_weights=cumulative)[0]
        yield Event(at=start + timedelta(seconds=int(i * step)), client=rng.choice(clients), method="GET",
                    target=target, status=rng.choices((200, 304, 404, 301), (85, 9, 4, 2))[0],
                    bytes=rng.randint(300, 60000), time_ms=rng.randint(1, 3000),
                    referrer=rng.choice((None, "http://rsj.bl.gov.cn/", SEARCH_REFERRERS[0])),
                    user_agent=rng.choice(uas), forwarded_for=None, host=host)


def big_log(path: Path, fmt: str, lines: int, seed: int = 0, **options: Any) -> None:
    """``lines`` requests of a week in ``fmt`` (w3c, iis, combined, common, nginx, apache),
    streamed (constant memory): ~3,500 URLs, ~350 User-Agents, 30,000 client addresses."""
    events = _big_events(lines, seed)
    writers: dict[str, Callable[..., None]] = {
        "w3c": write_w3c, "iis": write_iis, "combined": write_combined, "common": write_common,
        "nginx": write_nginx_custom, "apache": write_apache_custom,
    }
    writers[fmt](path, events, **options)
