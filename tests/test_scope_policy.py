"""The scope policy itself (gateway/scope.py): every spelling of a host compares as the host a
fetcher would connect to, every URL form no fetch may follow is refused with a reason, and a
site's scope is exactly its origins."""

from __future__ import annotations

import ipaddress

import pytest

from gateway.scope import (
    MAX_URL_LENGTH,
    Origin,
    Refusal,
    Scope,
    ScopeRefused,
    address_refusal,
    canonical_host,
    parse_origin,
    restricted_address,
)


@pytest.mark.parametrize("spelling", [
    "http://127.0.0.2/", "http://2130706434/", "http://0x7f000002/", "http://0177.0.0.2/", "http://0x7f.0.0.2/",
    "http://127.0.2/", "http://127.2/", "http://127.0.0.2./", "http://[::ffff:127.0.0.2]/",
    "http://[::ffff:7f00:2]/", "http://127%2E0%2E0%2E2/", "http://127\u30020\uff0e0\uff612/", "HTTP://127.0.0.2:80/x",
    "http:127.0.0.2/", "http:\\\\127.0.0.2/", " http://127.0.0.2/\t", "http://127.0.0.2\n/",
])
def test_every_spelling_of_an_address_is_the_address(spelling):
    assert parse_origin(spelling) == Origin("http", "127.0.0.2", 80), spelling


@pytest.mark.parametrize(("spelling", "host"), [
    ("http://RSJ.bl.gov.CN./", "rsj.bl.gov.cn"),
    ("http://rsj\uff0ebl\u3002gov.cn/", "rsj.bl.gov.cn"),
    ("http://\uff52\uff53\uff4a.bl.gov.cn/", "rsj.bl.gov.cn"),  # full-width letters (NFKC), as browsers map them
    ("http://北仑.中国/", "xn--3mqy7h.xn--fiqs8s"),
    ("http://xn--3mqy7h.xn--fiqs8s/", "xn--3mqy7h.xn--fiqs8s"),
    ("http:///rsj.bl.gov.cn/", "rsj.bl.gov.cn"),  # extra slashes are skipped, as browsers do (WHATWG)
    ("http://%72sj.bl.gov.cn/", "rsj.bl.gov.cn"),
])
def test_host_names_are_canonical(spelling, host):
    origin = parse_origin(spelling)
    assert isinstance(origin, Origin), origin
    assert origin.host == host


@pytest.mark.parametrize(("url", "reason"), [
    ("http://rsj.bl.gov.cn@127.0.0.2/", "credentials"),
    ("http://user:pw@rsj.bl.gov.cn/", "credentials"),
    ("http://rsj.bl.gov.cn\\@127.0.0.2/", "backslash"),
    ("http://127.0.0.2\\.rsj.bl.gov.cn/", "backslash"),
    ("file:///etc/passwd", "not an http(s) URL"),
    ("javascript:alert(1)", "not an http(s) URL"),
    ("data:text/html,hi", "not an http(s) URL"),
    ("ftp://rsj.bl.gov.cn/", "not an http(s) URL"),
    ("gopher://127.0.0.1:6379/_FLUSHALL", "not an http(s) URL"),
    ("//rsj.bl.gov.cn/", "not an http(s) URL"),
    ("http://:80/", "not a valid host"),
    ("http://", "not a valid host"),
    ("http://rsj.bl.gov.cn:99999/", "not a valid host or port"),
    ("http://rsj.bl.gov.cn:8o/", "not a valid host or port"),
    ("http://rsj bl.gov.cn/", "not a valid host"),
    ("http://rsj.bl.gov.cn/" + "a" * MAX_URL_LENGTH, f"longer than {MAX_URL_LENGTH}"),
])
def test_forms_no_fetch_may_follow_are_refused_with_a_reason(url, reason):
    refusal = parse_origin(url)
    assert isinstance(refusal, Refusal), refusal
    assert refusal.kind == "scope"
    assert reason in refusal.reason, refusal.reason
    assert len(str(refusal)) < MAX_URL_LENGTH + 200  # an endless URL is not carried into reports whole


def test_a_url_of_the_longest_allowed_length_is_kept():
    url = "http://rsj.bl.gov.cn/" + "a" * (MAX_URL_LENGTH - len("http://rsj.bl.gov.cn/"))
    assert len(url) == MAX_URL_LENGTH
    assert isinstance(parse_origin(url), Origin)


@pytest.mark.parametrize(("address", "why"), [
    ("127.0.0.1", "loopback"), ("::1", "loopback"), ("::ffff:127.0.0.1", "loopback"),
    ("10.1.2.3", "private"), ("172.16.0.1", "private"), ("192.168.1.1", "private"), ("fd12::1", "private"),
    ("169.254.169.254", "cloud metadata"), ("100.100.100.200", "cloud metadata"), ("fd00:ec2::254", "cloud metadata"),
    ("169.254.1.1", "link-local"), ("fe80::1", "link-local"),
    ("100.64.0.1", "shared (CGNAT)"), ("224.0.0.1", "multicast"), ("0.0.0.0", "unspecified"),
    ("240.0.0.1", "address"), ("192.0.2.1", "private"),
])
def test_restricted_addresses(address, why):
    found = restricted_address(ipaddress.ip_address(address))
    assert found is not None and why in found, (address, found)


@pytest.mark.parametrize("address", ["202.107.200.1", "8.8.8.8", "2400:3200::1"])
def test_public_addresses_are_not_restricted(address):
    assert restricted_address(ipaddress.ip_address(address)) is None


def test_address_refusal_names_the_host_and_what_it_resolves_to():
    refusal = address_refusal("http://evil.example/", "evil.example", [ipaddress.ip_address("10.0.0.5")])
    assert refusal is not None and refusal.kind == "scope"
    assert "evil.example resolves to a private address (10.0.0.5)" in refusal.reason
    literal = address_refusal("http://10.0.0.5/", "10.0.0.5", [ipaddress.ip_address("10.0.0.5")])
    assert literal is not None and "10.0.0.5 is a private address" in literal.reason
    # any restricted address among several is enough (a rebinding name answers with both)
    mixed = [ipaddress.ip_address("202.107.200.1"), ipaddress.ip_address("127.0.0.1")]
    assert address_refusal("http://x.example/", "x.example", mixed) is not None
    assert address_refusal("http://x.example/", "x.example", mixed, trusted=True) is None
    assert address_refusal("http://x.example/", "x.example", [ipaddress.ip_address("202.107.200.1")]) is None


def test_a_scope_is_exactly_the_sites_origins():
    scope = Scope.of("http://rsj.bl.gov.cn/", hosts=["old-rsj.bl.gov.cn"], origins=["https://cdn.bl.gov.cn:8443"],
                     fetch_origin="http://127.0.0.1:18081")
    allowed = ["http://rsj.bl.gov.cn/a.html", "https://rsj.bl.gov.cn/a.html", "http://RSJ.bl.gov.cn:80/a",
               "http://old-rsj.bl.gov.cn/x", "https://old-rsj.bl.gov.cn/x", "https://cdn.bl.gov.cn:8443/f.pdf",
               "http://127.0.0.1:18081/col/1.html", "http://2130706433:18081/"]
    for url in allowed:
        assert scope.check(url) is None, url
    refused = ["http://rsj.bl.gov.cn:8080/", "https://rsj.bl.gov.cn:8443/", "http://old-rsj.bl.gov.cn:8080/",
               "http://cdn.bl.gov.cn/f.pdf", "https://cdn.bl.gov.cn/f.pdf", "http://127.0.0.1:18082/",
               "http://127.0.0.2:18081/", "http://bl.gov.cn/", "http://rsj.bl.gov.cn.evil.example/",
               "http://evilrsj.bl.gov.cn/"]
    for url in refused:
        refusal = scope.check(url)
        assert refusal is not None and refusal.kind == "offsite", url
        assert "outside the site's origins" in refusal.reason
        assert not scope.allows(url)
    assert scope.hosts == {"rsj.bl.gov.cn", "old-rsj.bl.gov.cn", "cdn.bl.gov.cn", "127.0.0.1"}


def test_a_scope_refuses_what_is_never_allowed_before_comparing_origins():
    scope = Scope.of("http://rsj.bl.gov.cn/")
    refusal = scope.check("http://rsj.bl.gov.cn@127.0.0.1/")
    assert refusal is not None and refusal.kind == "scope"
    with pytest.raises(ScopeRefused, match="not an http"):
        Scope.of("ftp://rsj.bl.gov.cn/")
    with pytest.raises(ScopeRefused, match="credentials"):
        Scope.of("http://rsj.bl.gov.cn/", origins=["http://a@b.example"])


def test_with_origins_adds_exactly_those_and_ignores_refused_ones():
    scope = Scope.of("http://rsj.bl.gov.cn/").with_origins("http://127.0.0.1:9000", "file:///etc")
    assert scope.allows("http://127.0.0.1:9000/x")
    assert not scope.allows("http://127.0.0.1:9001/x")
    assert len(scope.origins) == 3


@pytest.mark.parametrize(("origin", "text"), [
    (Origin("http", "rsj.bl.gov.cn", 80), "http://rsj.bl.gov.cn"),
    (Origin("https", "rsj.bl.gov.cn", 8443), "https://rsj.bl.gov.cn:8443"),
    (Origin("http", "::1", 8080), "http://[::1]:8080"),
])
def test_origins_print_as_urls_that_parse_back(origin, text):
    assert str(origin) == text
    assert parse_origin(text) == origin


def test_canonical_host_rejects_what_is_not_a_host():
    for bad in ["", "a/b", "a@b", "a b", "a?b", "a#b"]:
        with pytest.raises(ValueError):
            canonical_host(bad)
    assert canonical_host("[::FFFF:10.0.0.1]") == "10.0.0.1"
    assert canonical_host("fe80::1%25eth0") == "fe80::1"
