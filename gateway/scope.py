"""Where the gateway may send a request: the one scope policy of every outbound request.

A subsite can be compromised (挂马/篡改): its pages may link, redirect or script their way to the
district's internal network, to cloud metadata services or to another port of the subsite's
own host. Nothing the gateway fetches on a site's behalf may leave that site's **origins**
(scheme, host and port): its public base URL (and the same host over HTTPS on 443), the hosts its
plugin names (``allowed_domains``, on 80 and 443), the exact extra origins its plugin allows
(``allowed_origins``: a CDN for attachments), and the origin it is fetched from instead
(``BLGW_ORIGINS`` / ``--origin``). The fixture subsites run on loopback, so the rule is "the
site's origins, nothing else", not "no loopback".

Hosts are compared in the form a fetcher would connect to, whatever their spelling: case, a
trailing dot, percent-escapes, full-width dots and IDNA are normalized, IPv4 addresses written as
one integer, in hex, in octal or with fewer parts are read as the address they are, IPv4-mapped
IPv6 as its IPv4 address; URLs with credentials (``user@host``: a classic way to disguise a host)
or with a backslash in the authority are refused.

Addresses are checked too, after name resolution (:func:`address_refusal`): loopback, private,
link-local, shared (CGNAT), multicast, unspecified, reserved and cloud-metadata addresses are
refused unless the name resolved is one of the gateway's configured origins (an intranet
subsite). The crawl's DNS resolver, the browser's host resolver and the link checker apply it.

This module is pure (no I/O but :func:`resolve`): the crawl (``spiders``), the link checker
(``gateway.ops.linkcheck``), ``/go/{id}`` and plugin validation all use it. A refusal has a kind,
``offsite`` (another origin) or ``scope`` (a scheme, an address or a URL form that is never
allowed), and says why.
"""

from __future__ import annotations

import functools
import ipaddress
import re
import socket
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

__all__ = ["DEFAULT_PORTS", "MAX_URL_LENGTH", "Origin", "Refusal", "Scope", "ScopeRefused", "address_refusal", "canonical_host",
           "parse_origin", "resolve", "restricted_address"]

DEFAULT_PORTS = {"http": 80, "https": 443}
MAX_URL_LENGTH = 2083  # what browsers of the subsites' era accepted (and Scrapy's URLLENGTH_LIMIT)
_FULLWIDTH_DOTS = str.maketrans({"\u3002": ".", "\uff0e": ".", "\uff61": "."})
_STRIPPED = re.compile(r"[\t\n\r]")  # removed anywhere in a URL, as browsers do (WHATWG)
_METADATA = {
    ipaddress.ip_address("169.254.169.254"),  # AWS, Azure, GCP, Huawei, OpenStack
    ipaddress.ip_address("169.254.0.23"),  # Tencent Cloud
    ipaddress.ip_address("100.100.100.200"),  # Alibaba Cloud
    ipaddress.ip_address("fd00:ec2::254"),  # AWS over IPv6
}
_SHARED = ipaddress.ip_network("100.64.0.0/10")  # carrier-grade NAT (RFC 6598)

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True)
class Refusal:
    """Why a URL may not be fetched: ``kind`` is ``offsite`` (another origin than the site's)
    or ``scope`` (never allowed: a scheme, an address, a URL form)."""

    kind: str
    reason: str
    url: str

    def __str__(self) -> str:
        return f"{self.reason}: {self.url}"


class ScopeRefused(ValueError):
    """A request refused by the scope policy (the :class:`Refusal` is ``refusal``)."""

    def __init__(self, refusal: Refusal):
        super().__init__(str(refusal))
        self.refusal = refusal


@dataclass(frozen=True, order=True)
class Origin:
    """A scheme, a canonical host and a port."""

    scheme: str
    host: str
    port: int

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = DEFAULT_PORTS.get(self.scheme)
        return f"{self.scheme}://{host}" + ("" if self.port == default else f":{self.port}")

    @property
    def address(self) -> Address | None:
        """The host as an IP address, when it is one."""
        try:
            return ipaddress.ip_address(self.host)
        except ValueError:
            return None


def _ipv4(host: str) -> str | None:
    """The dotted-quad form of a host that is an IPv4 address in any spelling browsers and
    ``inet_aton`` accept (``2130706433``, ``0x7f.1``, ``0177.0.0.1``, ``127.1``), else None."""
    parts = host.split(".")
    if parts and parts[-1] == "":
        parts = parts[:-1]
    if not parts or len(parts) > 4:
        return None
    numbers = []
    for part in parts:
        try:
            if part.lower().startswith("0x"):
                numbers.append(int(part[2:] or "0", 16))
            elif len(part) > 1 and part.startswith("0"):
                numbers.append(int(part, 8))
            else:
                numbers.append(int(part, 10))
        except ValueError:
            return None
    if any(n < 0 for n in numbers) or any(n > 255 for n in numbers[:-1]) or numbers[-1] >= 256 ** (5 - len(numbers)):
        return None
    value = numbers[-1]
    for i, n in enumerate(numbers[:-1]):
        value += n << (8 * (3 - i))
    return str(ipaddress.IPv4Address(value))


def canonical_host(host: str) -> str:
    """The host a fetcher connects to: lower case, percent-escapes and full-width dots decoded,
    IDNA (A-labels), no trailing dot; an IP address in its standard form (IPv4-mapped IPv6 as
    IPv4). ValueError for a host that is not one."""
    host = unquote(host).translate(_FULLWIDTH_DOTS).strip()
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if ":" in host:
        v6 = ipaddress.IPv6Address(host.split("%", 1)[0])
        return str(v6.ipv4_mapped) if v6.ipv4_mapped is not None else str(v6)
    host = host.rstrip(".").lower()
    if not host or any(c in host for c in " /\\@?#%<>^|"):
        raise ValueError(f"not a host name: {host!r}")
    if (v4 := _ipv4(host)) is not None:
        return v4
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError as exc:
        raise ValueError(f"not a host name: {host!r}") from exc


def _clean(url: str) -> str:
    return _STRIPPED.sub("", url.strip(" \x00\x01\x02\x03\x04\x05\x06\x07\x08\x0b\x0c\x0e\x0f\x10\x11\x12\x13"
                                       "\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f"))


def parse_origin(url: str) -> Origin | Refusal:
    """The origin of an absolute URL, or the :class:`Refusal` of a URL no fetch may follow."""
    if len(url) > MAX_URL_LENGTH:
        return Refusal("scope", f"longer than {MAX_URL_LENGTH} characters (a trap or a planted payload)",
                       url[:MAX_URL_LENGTH] + "…")
    cleaned = _clean(url)
    scheme, sep, rest = cleaned.partition(":")
    scheme = scheme.lower()
    if not sep or scheme not in DEFAULT_PORTS:
        return Refusal("scope", f"not an http(s) URL ({scheme or 'no scheme'})", url)
    authority = rest.lstrip("/\\")
    authority = re.split(r"[/?#]", authority, maxsplit=1)[0]
    if "\\" in authority:
        return Refusal("scope", "a backslash in the host part (parsers disagree on where it ends)", url)
    if "@" in authority:
        return Refusal("scope", "credentials in the URL (user@host)", url)
    origin = _origin(scheme, authority)
    if isinstance(origin, str):
        return Refusal("scope", origin, url)
    return origin


@functools.lru_cache(maxsize=1024)
def _origin(scheme: str, authority: str) -> Origin | str:
    """The origin of ``scheme://authority``, or why it has none (a crawl asks for the same few
    authorities on every request: cached)."""
    try:
        parts = urlsplit(f"{scheme}://{authority}")
        port = parts.port or DEFAULT_PORTS[scheme]
        host = canonical_host(parts.hostname or "")
    except ValueError as exc:
        return f"not a valid host or port ({exc})"
    return Origin(scheme, host, port)


def restricted_address(address: Address) -> str | None:
    """Why an address is never fetched for a subsite (``loopback``, ``private`` …), or None for
    a public address."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address in _METADATA:
        return "a cloud metadata address"
    if address.is_loopback:
        return "a loopback address"
    if address.is_unspecified:
        return "the unspecified address"
    if address.is_link_local:
        return "a link-local address"
    if address.is_multicast:
        return "a multicast address"
    if isinstance(address, ipaddress.IPv4Address) and address in _SHARED:
        return "a shared (CGNAT) address"
    if address.is_private:
        return "a private address"
    if address.is_reserved or not address.is_global:
        return "a reserved address"
    return None


def resolve(host: str, port: int) -> list[Address]:
    """The addresses a host name resolves to (the system resolver); [] when it does not."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        return []
    found: list[Address] = []
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        if address not in found:
            found.append(address)
    return found


def address_refusal(url: str, host: str, addresses: Sequence[Address], *, trusted: bool = False) -> Refusal | None:
    """The refusal of a connection to ``host`` at ``addresses`` (what it resolved to): any
    restricted address, unless the caller ``trusted`` the destination (one of the configured
    origins: a subsite on the intranet, a fixture on loopback)."""
    if trusted:
        return None
    for address in addresses:
        why = restricted_address(address)
        if why is not None:
            return Refusal("scope", f"{host} is {why} ({address})" if str(address) == host
                           else f"{host} resolves to {why} ({address})", url)
    return None


@dataclass(frozen=True)
class Scope:
    """The origins one site's requests may go to."""

    origins: frozenset[Origin]

    @classmethod
    def of(cls, base_url: str, *, hosts: Iterable[str] = (), origins: Iterable[str] = (),
           fetch_origin: str | None = None) -> Scope:
        """A site's scope: its base URL's origin (and the same host over HTTPS on 443), each of
        ``hosts`` on 80 and 443, each of ``origins`` exactly, and the origin it is fetched from."""
        found: set[Origin] = set()
        base = parse_origin(base_url)
        if isinstance(base, Refusal):
            raise ScopeRefused(base)
        found.add(base)
        found.add(Origin("https", base.host, 443))
        for host in hosts:
            name = canonical_host(host)
            found.update((Origin("http", name, 80), Origin("https", name, 443)))
        for text in [*origins, *([fetch_origin] if fetch_origin else [])]:
            origin = parse_origin(text)
            if isinstance(origin, Refusal):
                raise ScopeRefused(origin)
            found.add(origin)
        return cls(frozenset(found))

    def with_origins(self, *urls: str) -> Scope:
        """This scope with more origins."""
        extra = {o for o in (parse_origin(u) for u in urls) if isinstance(o, Origin)}
        return Scope(self.origins | extra)

    @property
    def hosts(self) -> frozenset[str]:
        return frozenset(o.host for o in self.origins)

    def check(self, url: str) -> Refusal | None:
        """None when ``url`` may be fetched for the site, else why not."""
        origin = parse_origin(url)
        if isinstance(origin, Refusal):
            return origin
        if origin not in self.origins:
            allowed = ", ".join(str(o) for o in sorted(self.origins))
            return Refusal("offsite", f"outside the site's origins ({origin} is not one of {allowed})", url)
        return None

    def allows(self, url: str) -> bool:
        return self.check(url) is None
