"""The connection layer of the Elasticsearch backend (index/es_connection.py): the index URL,
and the URL with the BLGW_ES_* settings as the client's keyword arguments (auth, TLS, Elastic
Cloud). No cluster: the functions are checked directly, and one real TLS handshake against a
loopback server (certificates from trustme) shows the options do what the client documents."""

from __future__ import annotations

import base64
import hashlib
import http.server
import logging
import socket
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gateway.settings import GatewaySettings
from index import es_connection as conn
from index.factory import open_index

CLOUD_HOST = "abc.example.es.io"
# <name>:<base64 of "<parent host>:<port>$<es uuid>$<kibana uuid>">, as Elastic Cloud shows it
CLOUD_ID = "blgw-prod:" + base64.b64encode(b"example.es.io:443$abc$def").decode()
FINGERPRINT = "AB:" * 31 + "AB"  # 32 bytes, colon-separated, upper case


@pytest.fixture(autouse=True)
def _no_es_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("BLGW_ES_API_KEY", "BLGW_ES_CA_CERTS", "BLGW_ES_SSL_FINGERPRINT", "BLGW_ES_VERIFY_CERTS",
                 "BLGW_ES_CLOUD_ID", "BLGW_ES_ANALYZER"):
        monkeypatch.delenv(name, raising=False)


def settings(**values: Any) -> GatewaySettings:
    return GatewaySettings(**values)


@pytest.fixture
def ca_file(tmp_path: Path) -> Path:
    trustme = pytest.importorskip("trustme")
    path = tmp_path / "http_ca.crt"
    trustme.CA().cert_pem.write_to_path(str(path))
    return path


# --- the URL ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("url", "hosts", "port"), [
    ("https://es.example/blgw", "https://es.example:443", None),  # as the client and Elastic Cloud
    ("http://es.example/blgw", "http://es.example:9200", None),  # Elasticsearch's own default
    ("https://es.example:9200/blgw", "https://es.example:9200", 9200),
    ("http://es.example:80", "http://es.example:80", 80),
    ("HTTPS://ES.Example:9243", "https://es.example:9243", 9243),
    ("http://[::1]:9201/x", "http://[::1]:9201", 9201),
    ("https://[2001:db8::5]/x", "https://[2001:db8::5]:443", None),
])
def test_the_port_is_the_urls_else_443_for_https_and_9200_for_http(url: str, hosts: str, port: int | None) -> None:
    spec = conn.parse_url(url)
    assert spec.hosts == hosts and spec.url_port == port
    assert spec.scheme == hosts.split(":")[0]


def test_ipv6_hosts_keep_their_brackets() -> None:
    spec = conn.parse_url("https://elastic:pw@[fe80::1]:9200/p")
    assert spec.host == "[fe80::1]" and spec.hosts == "https://[fe80::1]:9200"


def test_the_path_is_the_prefix_and_the_user_part_is_basic_auth_percent_decoded() -> None:
    spec = conn.parse_url("https://elastic:p%40ss%3Aw%2Fd@es.example/blgw-prod?analyzer=ik")
    assert spec.prefix == "blgw-prod" and spec.analyzer == "ik" and spec.options == {"analyzer": "ik"}
    assert spec.basic_auth == ("elastic", "p@ss:w/d")
    assert "p@ss" not in repr(spec)  # the password stays out of logs of the spec
    spec = conn.parse_url("http://127.0.0.1:9201/")
    assert spec.prefix == conn.DEFAULT_PREFIX == "blgw-articles"
    assert spec.basic_auth is None and spec.analyzer is None
    assert conn.parse_url("http://u%20x@h/").basic_auth == ("u x", "")


@pytest.mark.parametrize(("url", "message"), [
    ("ftp://es.example", r"index URL is http\(s\)://"),
    ("https:///blgw", r"index URL is http\(s\)://"),
    ("http://es.example:port/", r"index URL is http\(s\)://"),
    ("http://es.example/blgw?shards=3", r"unknown option 'shards' \(known: analyzer\)"),
    ("http://es.example/blgw?analyzer=ik&verify_certs=false", "unknown option 'verify_certs'"),
    ("http://es.example/blgw?analyzer=ik&analyzer=cjk", "'analyzer' is given twice"),
    ("http://es.example/blgw?analyzer", "'analyzer' has no value"),
    ("http://es.example/blgw#frag", "fragment"),
])
def test_a_url_the_rules_refuse_is_an_error_saying_why(url: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        conn.parse_url(url)


def test_redacted_names_the_cluster_and_never_a_credential() -> None:
    spec = conn.parse_url("https://elastic:s3cret@es.example/blgw-prod")
    assert conn.redacted(spec) == "https://es.example:443"
    assert conn.redacted(conn.parse_url("http://[::1]/p")) == "http://[::1]:9200"
    shown = conn.redacted(conn.parse_url("https://elastic:s3cret@cloud/p"), CLOUD_ID)
    assert shown == f"Elastic Cloud deployment 'blgw-prod' ({CLOUD_HOST}:443)"
    assert conn.redacted(spec, "blgw:???") == "an Elastic Cloud deployment (unreadable BLGW_ES_CLOUD_ID)"


# --- authentication --------------------------------------------------------------------------


def test_plain_http_gets_hosts_and_timeout_only() -> None:
    assert conn.client_options(conn.parse_url("http://es.example/b"), settings(), request_timeout=5) == {
        "hosts": "http://es.example:9200", "request_timeout": 5}


def test_https_verifies_certificates_by_default() -> None:
    options = conn.client_options(conn.parse_url("https://es.example/b"), settings())
    assert options == {"hosts": "https://es.example:443", "request_timeout": 30.0, "verify_certs": True}


def test_basic_auth_comes_from_the_url_and_an_api_key_from_the_setting() -> None:
    options = conn.client_options(conn.parse_url("https://elastic:p%40ss@es.example/b"), settings())
    assert options["basic_auth"] == ("elastic", "p@ss") and "api_key" not in options
    options = conn.client_options(conn.parse_url("https://es.example/b"), settings(es_api_key="a2V5OnNlY3JldA=="))
    assert options["api_key"] == "a2V5OnNlY3JldA==" and "basic_auth" not in options
    options = conn.client_options(conn.parse_url("https://es.example/b"), settings(es_api_key=""))
    assert "api_key" not in options  # an empty setting is no key


def test_an_api_key_and_a_url_password_together_are_an_error_naming_both() -> None:
    with pytest.raises(ValueError, match=r"both BLGW_ES_API_KEY and a user:password in the index URL") as info:
        conn.client_options(conn.parse_url("https://elastic:s3cret@es.example/b"), settings(es_api_key="k3y"))
    assert "s3cret" not in str(info.value) and "k3y" not in str(info.value)


# --- TLS ---------------------------------------------------------------------------------------


def test_a_ca_file_is_trusted_and_verified(ca_file: Path) -> None:
    options = conn.client_options(conn.parse_url("https://es.example/b"), settings(es_ca_certs=ca_file))
    assert options["ca_certs"] == str(ca_file) and options["verify_certs"] is True
    assert "ssl_assert_fingerprint" not in options


def test_empty_tls_settings_are_not_set(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("BLGW_ES_CA_CERTS", "BLGW_ES_SSL_FINGERPRINT", "BLGW_ES_CLOUD_ID"):
        monkeypatch.setenv(name, "")
    config = settings()
    assert config.es_ca_certs is None and config.es_ssl_fingerprint is None and config.es_cloud_id is None
    assert conn.client_options(conn.parse_url("https://es.example/b"), config)["hosts"] == "https://es.example:443"


def test_a_missing_or_unreadable_ca_file_is_an_error_naming_the_setting_and_the_path(tmp_path: Path) -> None:
    spec = conn.parse_url("https://es.example/b")
    missing = tmp_path / "nope.crt"
    with pytest.raises(ValueError, match=r"BLGW_ES_CA_CERTS.*nope\.crt.*does not exist"):
        conn.client_options(spec, settings(es_ca_certs=missing))
    with pytest.raises(ValueError, match=r"BLGW_ES_CA_CERTS.*is a folder"):
        conn.client_options(spec, settings(es_ca_certs=tmp_path))
    garbage = tmp_path / "garbage.crt"
    garbage.write_text("not a certificate\n")
    with pytest.raises(ValueError, match=r"BLGW_ES_CA_CERTS: cannot read CA certificates \(PEM\) from .*garbage"):
        conn.client_options(spec, settings(es_ca_certs=garbage))


def test_a_fingerprint_is_normalized_and_pinned() -> None:
    options = conn.client_options(conn.parse_url("https://es.example/b"), settings(es_ssl_fingerprint=FINGERPRINT))
    assert options["ssl_assert_fingerprint"] == "ab" * 32
    assert "verify_certs" not in options and "ca_certs" not in options  # the pin is the check


@pytest.mark.parametrize(("value", "message"), [
    ("ab" * 20, r"40 hex digits \(a SHA-1\?\)"),
    ("ab" * 31, "62 hex digits"),
    ("zz" * 32, "not hex digits"),
    ("ab" * 33, "66 hex digits"),
])
def test_a_fingerprint_that_is_not_sha256_is_an_error_naming_the_setting(value: str, message: str) -> None:
    with pytest.raises(ValueError, match=f"BLGW_ES_SSL_FINGERPRINT must be a SHA-256 fingerprint.*{message}"):
        conn.client_options(conn.parse_url("https://es.example/b"), settings(es_ssl_fingerprint=value))
    assert conn.normalize_fingerprint(" " + FINGERPRINT.lower() + "\n") == "ab" * 32


def test_verify_certs_false_is_explicit_and_logged_every_time(caplog: pytest.LogCaptureFixture) -> None:
    spec = conn.parse_url("https://elastic:s3cret@es.example:9200/b")
    with caplog.at_level(logging.WARNING, logger="index.es_connection"):
        options = conn.client_options(spec, settings(es_verify_certs=False))
        conn.client_options(spec, settings(es_verify_certs=False))
    assert options["verify_certs"] is False and "ca_certs" not in options
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 2
    message = warnings[0].getMessage()
    assert "NOT verified" in message and "es.example:9200" in message and "BLGW_ES_VERIFY_CERTS=false" in message
    assert "s3cret" not in message
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="index.es_connection"):
        conn.client_options(spec, settings())
    assert not caplog.records


@pytest.mark.parametrize("values", [
    {"es_ssl_fingerprint": FINGERPRINT, "es_verify_certs": False},
    {"es_ca_certs": "CA", "es_ssl_fingerprint": FINGERPRINT},
    {"es_ca_certs": "CA", "es_verify_certs": False},
])
def test_two_tls_settings_together_are_an_error_naming_both(values: dict[str, Any], ca_file: Path) -> None:
    values = {k: ca_file if v == "CA" else v for k, v in values.items()}
    names = sorted("BLGW_" + k.upper() for k in values)
    with pytest.raises(ValueError, match="are given together") as info:
        conn.client_options(conn.parse_url("https://es.example/b"), settings(**values))
    assert all(name in str(info.value) for name in names)


@pytest.mark.parametrize(("values", "name"), [
    ({"es_ca_certs": "CA"}, "BLGW_ES_CA_CERTS"),
    ({"es_ssl_fingerprint": FINGERPRINT}, "BLGW_ES_SSL_FINGERPRINT"),
    ({"es_verify_certs": False}, "BLGW_ES_VERIFY_CERTS=false"),
])
def test_tls_settings_with_an_http_url_are_an_error(values: dict[str, Any], name: str, ca_file: Path) -> None:
    values = {k: ca_file if v == "CA" else v for k, v in values.items()}
    with pytest.raises(ValueError, match=f"{name} is given but the index URL is http://"):
        conn.client_options(conn.parse_url("http://es.example/b"), settings(**values))


# --- Elastic Cloud ---------------------------------------------------------------------------


def test_a_cloud_id_replaces_the_hosts_and_the_url_gives_the_prefix() -> None:
    target = conn.cloud_target(CLOUD_ID)
    assert target == conn.CloudTarget("blgw-prod", CLOUD_HOST, 443)
    for url in ("https://cloud/blgw-prod?analyzer=ik", f"https://{CLOUD_HOST}/blgw-prod",
                f"https://{CLOUD_HOST.upper()}:443/blgw-prod"):
        spec = conn.parse_url(url)
        options = conn.client_options(spec, settings(es_cloud_id=CLOUD_ID, es_api_key="k3y"))
        assert options == {"cloud_id": CLOUD_ID, "request_timeout": 30.0, "api_key": "k3y", "verify_certs": True}
        assert spec.prefix == "blgw-prod"
    # a Cloud ID with its own port
    other = "x:" + base64.b64encode(b"example.es.io:9243$abc$def").decode()
    assert conn.cloud_target(other).port == 9243
    assert "cloud_id" in conn.client_options(conn.parse_url("https://cloud/p"), settings(es_cloud_id=other))


def test_the_client_connects_to_the_host_the_cloud_id_names() -> None:
    from elasticsearch import Elasticsearch

    client = Elasticsearch(**conn.client_options(conn.parse_url("https://cloud/p"), settings(es_cloud_id=CLOUD_ID)))
    try:
        (node,) = client.transport.node_pool.all()
        assert (node.config.scheme, node.config.host, node.config.port) == ("https", CLOUD_HOST, 443)
    finally:
        client.close()


@pytest.mark.parametrize(("url", "message"), [
    ("https://es.example/p", f"host 'es.example' is not the host '{CLOUD_HOST}' that BLGW_ES_CLOUD_ID names"),
    ("http://cloud/p", "reached over https"),
    ("https://cloud:9243/p", "takes no port"),
    (f"https://{CLOUD_HOST}:9243/p", "port 9243 is not the port 443"),
])
def test_a_url_that_contradicts_the_cloud_id_is_an_error_naming_both(url: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        conn.client_options(conn.parse_url(url), settings(es_cloud_id=CLOUD_ID))


@pytest.mark.parametrize("cloud_id", ["blgw:not base64!", "blgw:" + base64.b64encode(b"$abc$def").decode(),
                                      "blgw:" + base64.b64encode(b"example.es.io:443").decode()])
def test_a_malformed_cloud_id_is_an_error_naming_the_setting(cloud_id: str) -> None:
    with pytest.raises(ValueError, match="BLGW_ES_CLOUD_ID"):
        conn.client_options(conn.parse_url("https://cloud/p"), settings(es_cloud_id=cloud_id))


# --- the factory refuses before it builds anything ------------------------------------------


@pytest.mark.parametrize(("url", "values", "message"), [
    ("https://es.example/b?shard=2", {}, "unknown option 'shard'"),
    ("http://es.example/b", {"es_ssl_fingerprint": FINGERPRINT}, "BLGW_ES_SSL_FINGERPRINT is given"),
    ("https://es.example/b", {"es_ca_certs": "/nonexistent/http_ca.crt"}, "BLGW_ES_CA_CERTS.*/nonexistent/http_ca.crt"),
    ("https://elastic:s3cret@es.example/b", {"es_api_key": "k"}, "BLGW_ES_API_KEY"),
    ("https://es.example/b", {"es_cloud_id": CLOUD_ID}, "BLGW_ES_CLOUD_ID"),
])
def test_open_index_names_the_url_and_the_problem(url: str, values: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message) as info:
        open_index(url, settings(**values))
    assert "cannot open the index URL" in str(info.value) and "s3cret" not in str(info.value)


# --- one real TLS handshake --------------------------------------------------------------------


class _NotElasticsearch(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def tls_server() -> Iterator[tuple[int, Any, bytes]]:
    """A loopback HTTPS server (not Elasticsearch: it answers 200 ``{}``) with a certificate
    for localhost from a trustme CA; yields its port, the CA and its certificate (DER)."""
    trustme = pytest.importorskip("trustme")
    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert = ca.issue_cert("localhost", "127.0.0.1")
    cert.configure_cert(context)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _NotElasticsearch)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], ca, ssl.PEM_cert_to_DER_cert(cert.cert_chain_pems[0].bytes().decode())
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def test_the_tls_options_work_against_a_real_tls_server(tls_server: tuple[int, Any, bytes], tmp_path: Path) -> None:
    import trustme
    from elastic_transport import ConnectionError as TransportConnectionError
    from elastic_transport import TlsError
    from elasticsearch import Elasticsearch

    port, ca, served = tls_server
    spec = conn.parse_url(f"https://localhost:{port}/blgw")

    def info(**values: Any) -> BaseException:
        client = Elasticsearch(**conn.client_options(spec, settings(**values), request_timeout=5), max_retries=0)
        try:
            client.info()
        except Exception as exc:
            return exc
        finally:
            client.close()
        raise AssertionError("the server is not Elasticsearch: info() cannot succeed")

    # (a) another CA: the handshake fails on certificate verification
    wrong = tmp_path / "wrong_ca.crt"
    trustme.CA().cert_pem.write_to_path(str(wrong))
    error = info(es_ca_certs=wrong)
    assert isinstance(error, TlsError), repr(error)
    assert "certificate verify failed" in str(error.message).lower(), repr(error)
    # (b) the server's CA: the handshake succeeds, and the client meets a server that is not
    # Elasticsearch (no X-Elastic-Product header)
    right = tmp_path / "http_ca.crt"
    ca.cert_pem.write_to_path(str(right))
    error = info(es_ca_certs=right)
    assert not isinstance(error, TransportConnectionError), repr(error)
    assert "not Elasticsearch" in str(error)
    # (c) the SHA-256 fingerprint of the server's certificate (as openssl prints it): accepted
    # without any CA
    digest = hashlib.sha256(served).hexdigest()
    colons = ":".join(digest[i:i + 2] for i in range(0, 64, 2)).upper()
    error = info(es_ssl_fingerprint=colons)
    assert not isinstance(error, TransportConnectionError), repr(error)
    assert "not Elasticsearch" in str(error)
    # ... and another certificate's fingerprint is refused
    other = ssl.PEM_cert_to_DER_cert(ca.issue_cert("localhost").cert_chain_pems[0].bytes().decode())
    error = info(es_ssl_fingerprint=hashlib.sha256(other).hexdigest())
    assert isinstance(error, TlsError) and "Fingerprints did not match" in str(error.message), repr(error)


# --- blgw index check: one clear line per problem ------------------------------------------------


def _index_check(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, url: str, **env: str) -> Any:
    from click.testing import CliRunner

    from gateway.cli import main
    from gateway.settings import get_settings

    monkeypatch.setenv("BLGW_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("BLGW_INDEX_URL", url)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    try:
        return CliRunner().invoke(main, ["index", "check"], catch_exceptions=False)
    finally:
        get_settings.cache_clear()


def _problems(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith(("problem:", "index check FAILED"))]


def test_index_check_of_an_unreachable_cluster_is_one_line_and_exit_3(monkeypatch, tmp_path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed when the block ends: nothing listens
    result = _index_check(monkeypatch, tmp_path, f"http://elastic:secret@127.0.0.1:{port}/blgw")
    assert result.exit_code == 3, result.output
    (line,) = _problems(result.output)
    assert f"cannot reach http://127.0.0.1:{port}" in line and "secret" not in result.output


def test_index_check_with_a_wrong_ca_is_one_line_naming_the_fix(monkeypatch, tmp_path, tls_server) -> None:
    import trustme

    port, _, _ = tls_server
    wrong = tmp_path / "wrong_ca.crt"
    trustme.CA().cert_pem.write_to_path(str(wrong))
    result = _index_check(monkeypatch, tmp_path, f"https://localhost:{port}/blgw", BLGW_ES_CA_CERTS=str(wrong))
    assert result.exit_code == 3, result.output
    (line,) = _problems(result.output)
    assert "certificate" in line and "BLGW_ES_CA_CERTS" in line


def test_index_check_of_the_embedded_index(monkeypatch, tmp_path) -> None:
    result = _index_check(monkeypatch, tmp_path, f"sqlite:///{tmp_path / 'index.sqlite'}")
    assert result.exit_code == 0, result.output
    assert "embedded index: 0 documents" in result.output
