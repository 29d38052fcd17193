"""Reading one access-log line of any of the formats docs/logs.md lists into a :data:`Hit`.

A hit is a plain tuple (the ingest reads millions of them): ``(day, minute, client, method,
target, status, bytes, time_ms, referrer, user_agent, forwarded_for)`` where ``day`` is the
Asia/Shanghai date of the request (``YYYY-MM-DD``), ``minute`` the minutes since the epoch (flood
windows), ``target`` the request target as logged (path and query, percent-encoded as sent),
``bytes`` the bytes sent (0 when not logged), ``time_ms`` the time taken in milliseconds or None,
and the optional text fields None when the log has ``-`` or no such field.

A reader is made per file (:func:`reader`): a callable from a decoded line to a hit, raising
:class:`Malformed` with a reason for a line it cannot read; a W3C reader also takes the
``#Fields:`` directives (``reader.directive(line)``) and its layout is part of the ingest's saved
state. Times are read once per minute of text (a cache), the rest by one regular expression or
one split per line.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")

Hit = tuple[str, int, str, str, str, int, int, "float | None", "str | None", "str | None", "str | None"]

_MONTHS = {m: i for i, m in enumerate(("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov",
                                       "Dec"), start=1)}


class Malformed(ValueError):
    """A line that cannot be read, with the reason."""


def _day_minute(when: dt.datetime) -> tuple[str, int]:
    local = when.astimezone(SHANGHAI)
    return local.date().isoformat(), int(when.timestamp() // 60)


class _Clock:
    """Time texts to ``(day, minute)``, cached per minute of text (a log has few distinct minutes)."""

    def __init__(self, zone: ZoneInfo):
        self.zone = zone
        self.cache: dict[str, tuple[str, int]] = {}

    def _keep(self, key: str, value: tuple[str, int]) -> tuple[str, int]:
        if len(self.cache) > 20_000:
            self.cache.clear()
        self.cache[key] = value
        return value

    def apache(self, text: str) -> tuple[str, int]:
        """``06/Dec/2026:18:00:00 +0800`` (the seconds do not matter)."""
        key = text[:17] + text[20:]
        found = self.cache.get(key)
        if found is not None:
            return found
        try:
            day, month, rest = text.split("/", 2)
            year, hour, minute = rest[:4], rest[5:7], rest[8:10]
            offset = rest[rest.index(" ") + 1:]
            sign = -1 if offset[0] == "-" else 1
            zone = dt.timezone(sign * dt.timedelta(hours=int(offset[1:3]), minutes=int(offset[3:5])))
            when = dt.datetime(int(year), _MONTHS[month], int(day), int(hour), int(minute), tzinfo=zone)
        except (ValueError, KeyError, IndexError) as exc:
            raise Malformed(f"bad time {text!r}") from exc
        return self._keep(key, _day_minute(when))

    def iso(self, text: str) -> tuple[str, int]:
        """``2026-12-06T18:00:00+08:00`` (nginx ``$time_iso8601``)."""
        key = text[:16] + text[19:]
        found = self.cache.get(key)
        if found is not None:
            return found
        try:
            when = dt.datetime.fromisoformat(text)
        except ValueError as exc:
            raise Malformed(f"bad time {text!r}") from exc
        if when.tzinfo is None:
            when = when.replace(tzinfo=self.zone)
        return self._keep(key, _day_minute(when))

    def split(self, date: str, time: str, zone: dt.tzinfo) -> tuple[str, int]:
        """W3C ``2026-12-06`` ``10:00:00`` (UTC) or IIS native ``12/6/2026`` ``18:00:00`` (local)."""
        key = date + time[:-3]
        found = self.cache.get(key)
        if found is not None:
            return found
        try:
            if "/" in date:
                month, day, year = date.split("/")
            else:
                year, month, day = date.split("-")
            hour, minute = time.split(":")[:2]
            century = 2000 if len(year) == 2 else 0  # IIS native may write 03/20/01
            when = dt.datetime(century + int(year), int(month), int(day), int(hour), int(minute), tzinfo=zone)
        except ValueError as exc:
            raise Malformed(f"bad time {date} {time}") from exc
        return self._keep(key, _day_minute(when))


def _opt(value: str) -> str | None:
    return None if value == "-" or value == "" else value


def _request(line: str) -> tuple[str, str]:
    """``GET /path?q HTTP/1.1`` → method, target."""
    parts = line.split(" ")
    if len(parts) < 2 or not parts[0].isalpha():
        raise Malformed(f"bad request line {line[:80]!r}")
    return parts[0], parts[1]


def _status(text: str) -> int:
    if len(text) != 3 or not text.isdigit():
        raise Malformed(f"bad status {text[:20]!r}")
    return int(text)


def _bytes(text: str) -> int:
    return int(text) if text.isdigit() else 0


# ---- Apache / nginx ------------------------------------------------------------------------

_QUOTED = r'"([^"\\]*(?:\\.[^"\\]*)*)"'
# further fields after the User-Agent (nginx's "$http_x_forwarded_for", a time): each quoted whole or
# unquoted, so a line cut inside a quote is no line
_COMBINED = re.compile(r'(\S+) \S+ (?:\S+|"[^"]*") \[([^\]]+)\] ' + _QUOTED + r' (\d{3}) (\d+|-)'
                       r'(?: ' + _QUOTED + ' ' + _QUOTED + r')?((?: (?:' + _QUOTED[:1] + r'[^"\\]*(?:\\.[^"\\]*)*"|[^" ]+))*) *$')
_EXTRA_QUOTED = re.compile(_QUOTED)


def _unescape(text: str) -> str:
    return text.replace('\\"', '"').replace("\\\\", "\\") if "\\" in text else text


def combined_reader(clock: _Clock, *, common: bool = False) -> Callable[[str], Hit]:
    """Apache/nginx combined (and common): ``%h %l %u %t "%r" %>s %b "%{Referer}i" "%{User-Agent}i"``,
    and nginx's ``main`` (one more quoted field: ``"$http_x_forwarded_for"``)."""
    match = _COMBINED.match

    def read(line: str) -> Hit:
        m = match(line)
        if m is None:
            raise Malformed("not a combined/common line")
        client, when, request, status, size, referrer, agent, rest = m.groups()
        if common and referrer is not None:
            raise Malformed("a combined line in a common log")
        method, target = _request(_unescape(request))
        day, minute = clock.apache(when)
        forwarded = None
        if rest:
            extra = _EXTRA_QUOTED.search(rest)
            if extra:
                forwarded = _opt(extra.group(1))
        return (day, minute, client, method, target, int(status), _bytes(size), None,
                None if referrer is None else _opt(_unescape(referrer)),
                None if agent is None else _opt(_unescape(agent)), forwarded)

    return read


# the directives a custom format may use, each a regex group and the field it fills
_APACHE = {
    "h": ("client", r"\S+"), "a": ("client", r"\S+"), "l": (None, r"\S+"), "u": (None, r'\S+|"[^"]*"'),
    "t": ("apache_time", r"\[[^\]]+\]"), "r": ("request", r"[^\"]*"), ">s": ("status", r"\d{3}"),
    "s": ("status", r"\d{3}"), "b": ("bytes", r"\d+|-"), "B": ("bytes", r"\d+"), "O": ("bytes", r"\d+|-"),
    "I": (None, r"\d+|-"), "D": ("micros", r"\d+|-"), "T": ("seconds", r"[\d.]+|-"), "v": (None, r"\S+"),
    "U": ("path", r"\S+"), "q": ("query", r"\S*"), "m": ("method", r"[A-Za-z]+"), "H": (None, r"\S+"),
}
_APACHE_HEADERS = {"referer": "referrer", "user-agent": "agent", "x-forwarded-for": "forwarded"}
_NGINX = {
    "remote_addr": ("client", r"\S+"), "remote_user": (None, r"\S+"), "time_local": ("apache_time", r"[^\]]+"),
    "time_iso8601": ("iso_time", r"\S+"), "request": ("request", r"[^\"]*"), "status": ("status", r"\d{3}"),
    "body_bytes_sent": ("bytes", r"\d+|-"), "bytes_sent": ("bytes", r"\d+|-"),
    "http_referer": ("referrer", r"[^\"]*"), "http_user_agent": ("agent", r"[^\"]*"),
    "http_x_forwarded_for": ("forwarded", r"[^\"]*"), "request_time": ("seconds", r"[\d.]+|-"),
    "upstream_response_time": (None, r"[^ \"]*"), "host": (None, r"\S+"), "request_method": ("method", r"[A-Za-z]+"),
    "request_uri": ("target", r"\S+"), "uri": ("path", r"\S+"), "args": ("query", r"\S*"),
}


def _custom_pattern(layout: str, flavour: str) -> tuple[re.Pattern[str], list[str]]:
    """A regular expression for an Apache ``LogFormat`` or an nginx ``log_format`` string, and the
    field each group fills (None: matched and ignored)."""
    fields: list[str] = []
    out: list[str] = []
    if flavour == "apache":
        token = re.compile(r"%(?:\{([^}]+)\}([ioe])|(>?[a-zA-Z]))")
    else:
        token = re.compile(r"\$([a-z_0-9]+)")
    pos = 0
    for m in token.finditer(layout):
        out.append(re.escape(layout[pos:m.start()]))
        pos = m.end()
        if flavour == "apache":
            header, where, name = m.group(1), m.group(2), m.group(3)
            if header is not None:
                field = _APACHE_HEADERS.get(header.lower()) if where == "i" else None
                spec: tuple[str | None, str] = (field, r"[^\"]*" if field else r"\S*")
            elif name in _APACHE:
                spec = _APACHE[name]
            else:
                raise ValueError(f"log format {layout!r}: %{name} is not a supported directive")
        else:
            name = m.group(1)
            if name.startswith("http_") and name not in _NGINX:
                spec = (None, r"[^\"]*")
            elif name in _NGINX:
                spec = _NGINX[name]
            else:
                raise ValueError(f"log format {layout!r}: ${name} is not a supported variable")
        field, regex = spec
        fields.append(field or "")
        out.append(f"({regex})")
    out.append(re.escape(layout[pos:]))
    got = set(fields)
    if "client" not in got or not got & {"apache_time", "iso_time"} or "status" not in got \
            or not ({"request"} <= got or {"target"} <= got or {"path"} <= got):
        raise ValueError(f"log format {layout!r}: needs the client, the time, the request and the status")
    return re.compile("".join(out) + "$"), fields


def custom_reader(clock: _Clock, flavour: str, layout: str) -> Callable[[str], Hit]:
    """A reader of an Apache ``LogFormat`` (``flavour`` apache) or nginx ``log_format`` (nginx)."""
    pattern, fields = _custom_pattern(layout, flavour)
    match = pattern.match

    def read(line: str) -> Hit:
        m = match(line)
        if m is None:
            raise Malformed(f"not a line of the format {layout!r}")
        got: dict[str, Any] = {}
        for name, value in zip(fields, m.groups(), strict=True):
            if name:
                got[name] = value
        if "apache_time" in got:
            day, minute = clock.apache(got["apache_time"].strip("[]"))
        else:
            day, minute = clock.iso(got["iso_time"])
        if "request" in got:
            method, target = _request(_unescape(got["request"]))
        else:
            method = got.get("method") or "GET"
            target = got.get("target") or (got["path"] + (f"?{got['query']}" if got.get("query") else ""))
        time_ms: float | None = None
        if got.get("micros") not in (None, "-"):
            time_ms = int(got["micros"]) / 1000
        elif got.get("seconds") not in (None, "-"):
            time_ms = float(got["seconds"]) * 1000
        return (day, minute, got["client"], method, target, _status(got["status"]), _bytes(got.get("bytes", "-")),
                time_ms, _opt(_unescape(got.get("referrer", "-"))), _opt(_unescape(got.get("agent", "-"))),
                _opt(got.get("forwarded", "-")))

    return read


# ---- IIS -----------------------------------------------------------------------------------

class W3CReader:
    """IIS W3C extended: the ``#Fields:`` directive in force says the layout (``fields``, part of
    the saved state); times are UTC; ``+`` stands for a space in the User-Agent and Referer."""

    def __init__(self, clock: _Clock, fields: list[str] | None = None):
        self.clock = clock
        self.fields: list[str] = []
        self._at: dict[str, int] = {}
        if fields:
            self.set_fields(fields)

    def set_fields(self, fields: list[str]) -> None:
        self.fields = fields
        self._at = {name.lower(): i for i, name in enumerate(fields)}
        for need in ("date", "time", "cs-uri-stem"):
            if need not in self._at:
                raise Malformed(f"#Fields without {need}")
        self._n = len(fields)
        at = self._at.get
        self._ix = (at("date"), at("time"), at("c-ip"), at("cs-method"), at("cs-uri-stem"), at("cs-uri-query"),
                    at("sc-status"), at("sc-bytes"), at("time-taken"), at("cs(referer)"), at("cs(user-agent)"),
                    at("x-forwarded-for") if at("x-forwarded-for") is not None else at("cs(x-forwarded-for)"))

    def directive(self, line: str) -> bool:
        """Take a ``#…`` line; True when it changed the layout."""
        if line.startswith("#Fields:"):
            self.set_fields(line[8:].split())
            return True
        return False

    def __call__(self, line: str) -> Hit:
        if not self.fields:
            raise Malformed("a W3C line before any #Fields directive")
        parts = line.split(" ")
        if len(parts) != self._n:
            raise Malformed(f"{len(parts)} fields where #Fields names {self._n}")
        date, time, ip, method, stem, query, status, size, taken, referrer, agent, forwarded = self._ix
        day, minute = self.clock.split(parts[date], parts[time], dt.UTC)  # type: ignore[index]
        target = parts[stem]  # type: ignore[index]
        if query is not None and parts[query] != "-":
            target = f"{target}?{parts[query]}"
        ref = None if referrer is None else _opt(parts[referrer])
        ua = None if agent is None else _opt(parts[agent])
        return (day, minute, parts[ip] if ip is not None else "-", parts[method] if method is not None else "GET",
                target, _status(parts[status]) if status is not None else 200,
                _bytes(parts[size]) if size is not None else 0,
                float(parts[taken]) if taken is not None and parts[taken].isdigit() else None,
                ref.replace("+", " ") if ref and "+" in ref and "?" not in ref else ref,
                ua.replace("+", " ") if ua else ua,
                None if forwarded is None else _opt(parts[forwarded]))


def iis_reader(clock: _Clock) -> Callable[[str], Hit]:
    """IIS native ("IIS log file format"): comma-and-space separated, local time, M/D/YYYY."""
    zone = clock.zone

    def read(line: str) -> Hit:
        parts = line.rstrip(",").split(", ")
        if len(parts) < 14:
            raise Malformed(f"{len(parts)} fields where the IIS format has 15")
        day, minute = clock.split(parts[2], parts[3], zone)
        target = parts[13]
        if parts[14:] and parts[14] not in ("-", ""):
            target = f"{target}?{parts[14]}"
        taken = parts[7]
        return (day, minute, parts[0], parts[12], target, _status(parts[10]), _bytes(parts[9]),
                float(taken) if taken.isdigit() else None, None, None, None)

    return read


def guess_format(first_lines: list[str]) -> str:
    """The format of a file from its first lines (``auto``)."""
    for line in first_lines:
        if line.startswith(("#Software", "#Fields", "#Version")):
            return "w3c"
        if not line.strip():
            continue
        if re.match(r"^\S+, \S+, \d{1,2}/\d{1,2}/\d{4}, \d", line):
            return "iis"
        m = _COMBINED.match(line)
        if m:
            return "combined" if m.group(6) is not None else "common"
    return "combined"


def reader(fmt: str, zone: str, fields: list[str] | None = None) -> Callable[[str], Hit]:
    """The line reader of a format (``w3c``, ``iis``, ``combined``, ``common``, ``apache:…``,
    ``nginx:…``); ``zone`` for local times without an offset; ``fields`` a W3C layout to resume."""
    clock = _Clock(ZoneInfo(zone))
    if fmt == "w3c":
        return W3CReader(clock, fields)
    if fmt == "iis":
        return iis_reader(clock)
    if fmt in ("combined", "common"):
        return combined_reader(clock, common=fmt == "common")
    flavour, _, layout = fmt.partition(":")
    if flavour in ("apache", "nginx") and layout:
        return custom_reader(clock, flavour, layout)
    raise ValueError(f"unknown log format {fmt!r}")
