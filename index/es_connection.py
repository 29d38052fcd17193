"""How the Elasticsearch backend connects: the index URL (:func:`parse_url`), and the URL with
the Elasticsearch settings (the ``es_*`` fields of :mod:`gateway.settings`) turned into the
keyword arguments of ``elasticsearch.Elasticsearch`` (:func:`client_options`), the way the
client documents them.

The index URL
    ``http(s)://[user:password@]host[:port][/<index prefix>][?analyzer=auto|cjk|ik|smartcn]``

    * the scheme is ``http`` or ``https``; an explicit port wins, else ``https`` is port 443 (as
      the client itself and Elastic Cloud) and ``http`` is port 9200 (Elasticsearch's own
      default: an ``http://es-host`` URL means ``http://es-host:9200``);
    * ``user:password@`` is basic authentication (percent-decoded: ``p%40ss`` is ``p@ss``);
    * the path is the index prefix (the alias), default ``blgw-articles``;
    * the only query option is ``analyzer``; any other option, a repeated one or one without
      ``=`` is an error naming it (an option the gateway does not know is never ignored);
    * an IPv6 host keeps its brackets (``http://[::1]:9200``).

Authentication
    Basic authentication from the URL, or an API key from ``BLGW_ES_API_KEY``; both at once is
    an error (neither silently wins).

TLS (``https`` only; any TLS setting with an ``http://`` URL is an error, it would be ignored)
    A self-managed cluster since 8.0 serves HTTPS with a certificate signed by its own CA
    (``config/certs/http_ca.crt``), which the client does not trust by default (it trusts the
    ``certifi`` bundle, and ignores ``SSL_CERT_FILE`` and ``REQUESTS_CA_BUNDLE``). One of:

    * ``BLGW_ES_CA_CERTS=/path/to/http_ca.crt``: trust that CA (PEM); the file must exist and
      hold certificates, or it is an error naming the setting and the path;
    * ``BLGW_ES_SSL_FINGERPRINT=<SHA-256>``: pin a certificate of the chain the cluster
      presents (the "HTTP CA certificate SHA-256 fingerprint" the cluster prints on its first
      start, or ``openssl x509 -in http_ca.crt -noout -fingerprint -sha256``): 64 hex digits,
      colons allowed; the chain is then not otherwise verified;
    * ``BLGW_ES_VERIFY_CERTS=false``: no verification at all, logged as a WARNING naming the
      cluster every time a client is built (anyone on the path can impersonate the cluster
      and read the credentials). It cannot be combined with the two above.

    The CA file and the fingerprint are not combined either (the client would ignore the CA).

Elastic Cloud
    ``BLGW_ES_CLOUD_ID`` (the deployment's Cloud ID): the client connects with ``cloud_id=``;
    the URL then supplies only the index prefix, the options and basic authentication, and its
    host is the placeholder ``cloud`` (``https://cloud/blgw-articles``) or the Elasticsearch
    host the Cloud ID names, over ``https``.

Nothing here sends a request; retries are the index's business (:mod:`index.elasticsearch`
adds ``retry_on_timeout`` and ``max_retries`` to :func:`client_options`).
"""

from __future__ import annotations

import logging
import re
import ssl
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple
from urllib.parse import unquote, urlsplit

from gateway.settings import setting_name

if TYPE_CHECKING:
    from gateway.settings import GatewaySettings

__all__ = [
    "CLOUD_PLACEHOLDER",
    "DEFAULT_PREFIX",
    "HTTPS_DEFAULT_PORT",
    "HTTP_DEFAULT_PORT",
    "KNOWN_OPTIONS",
    "CloudTarget",
    "ConnectionSpec",
    "client_options",
    "cloud_target",
    "normalize_fingerprint",
    "parse_url",
    "redacted",
]

log = logging.getLogger(__name__)

DEFAULT_PREFIX = "blgw-articles"
"""The index prefix (alias) of a URL without a path."""

KNOWN_OPTIONS = ("analyzer",)
"""The query options an index URL may carry."""

HTTPS_DEFAULT_PORT = 443  # the client's default, and Elastic Cloud's
HTTP_DEFAULT_PORT = 9200  # Elasticsearch's own default HTTP port
CLOUD_PLACEHOLDER = "cloud"
"""The host of an index URL whose cluster is named by ``BLGW_ES_CLOUD_ID``."""

_FINGERPRINT_RE = re.compile(r"[0-9a-f]{64}")

CA_CERTS = setting_name("es_ca_certs")
SSL_FINGERPRINT = setting_name("es_ssl_fingerprint")
VERIFY_CERTS = setting_name("es_verify_certs")
CLOUD_ID = setting_name("es_cloud_id")
API_KEY = setting_name("es_api_key")


@dataclass
class ConnectionSpec:
    """What an ``http(s)://[user:password@]host[:port][/prefix][?analyzer=…]`` URL says
    (:func:`parse_url`). ``hosts`` is the client's ``scheme://host:port`` (port always given);
    ``url_port`` is the port the URL itself wrote (None: the scheme's default). The password
    is kept out of ``repr``."""

    hosts: str
    prefix: str = DEFAULT_PREFIX
    basic_auth: tuple[str, str] | None = field(default=None, repr=False)
    analyzer: str | None = None
    options: dict[str, str] = field(default_factory=dict)
    url_port: int | None = None

    @property
    def scheme(self) -> str:
        return self.hosts.split("://", 1)[0].lower()

    @property
    def host(self) -> str:
        """The host as in ``hosts`` (an IPv6 address in brackets)."""
        netloc = self.hosts.split("://", 1)[-1]
        return netloc.rsplit(":", 1)[0] if not netloc.endswith("]") else netloc


def parse_url(url: str) -> ConnectionSpec:
    """The :class:`ConnectionSpec` of an index URL (rules in the module documentation); a URL
    that breaks them is a ValueError saying why (without the URL: the caller names it, redacted)."""
    shape = "an Elasticsearch index URL is http(s)://[user:password@]host[:port][/<index prefix>][?analyzer=…]"
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:  # a port that is not a number, a bad IPv6 literal
        raise ValueError(f"{shape}: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(shape)
    if parts.fragment:
        raise ValueError(f"{shape}; it has a fragment (#{parts.fragment}), which means nothing here")
    host = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
    default = HTTPS_DEFAULT_PORT if scheme == "https" else HTTP_DEFAULT_PORT
    auth = None
    if parts.username is not None:
        auth = (unquote(parts.username), unquote(parts.password or ""))
    options = _options(parts.query)
    return ConnectionSpec(hosts=f"{scheme}://{host}:{port or default}",
                          prefix=unquote(parts.path.strip("/")) or DEFAULT_PREFIX,
                          basic_auth=auth, analyzer=options.get("analyzer") or None, options=options,
                          url_port=port)


def _options(query: str) -> dict[str, str]:
    known = ", ".join(KNOWN_OPTIONS)
    options: dict[str, str] = {}
    for part in query.split("&"):
        if not part:
            continue
        name, sep, value = part.partition("=")
        name = unquote(name)
        if not sep:
            raise ValueError(f"the option {name!r} has no value (options are name=value; known: {known})")
        if name not in KNOWN_OPTIONS:
            raise ValueError(f"unknown option {name!r} (known: {known})")
        if name in options:
            raise ValueError(f"the option {name!r} is given twice")
        options[name] = unquote(value)
    return options


class CloudTarget(NamedTuple):
    """What a Cloud ID names: the deployment and its Elasticsearch host and port."""

    cluster_name: str
    host: str
    port: int


def cloud_target(cloud_id: str) -> CloudTarget:
    """The deployment a Cloud ID (``<name>:<base64 of host[:port]$es-uuid$kibana-uuid>``)
    names, decoded as the client does (:func:`elastic_transport.client_utils.parse_cloud_id`);
    one that does not decode, or names no Elasticsearch host, is a ValueError naming
    ``BLGW_ES_CLOUD_ID``."""
    # imported here: only a Cloud deployment needs the client's transport
    from elastic_transport.client_utils import parse_cloud_id

    try:
        parsed = parse_cloud_id(cloud_id)
    except ValueError:
        raise ValueError(f"{CLOUD_ID} is not an Elastic Cloud ID (<name>:<base64 text>, as the "
                         "deployment's page shows it)") from None
    if parsed.es_address is None or not all(parsed.es_address):
        raise ValueError(f"{CLOUD_ID} names no Elasticsearch host (cluster {parsed.cluster_name!r})")
    host, port = parsed.es_address
    return CloudTarget(parsed.cluster_name, host, port)


def normalize_fingerprint(value: str) -> str:
    """A SHA-256 certificate fingerprint as the client takes it: 64 lower-case hex digits
    (``AB:CD:…`` and spaces accepted); anything else is a ValueError naming
    ``BLGW_ES_SSL_FINGERPRINT``."""
    digits = re.sub(r"[\s:]", "", value).lower()
    if not _FINGERPRINT_RE.fullmatch(digits):
        hint = {40: " (a SHA-1?)", 32: " (an MD5?)"}.get(len(digits), "")
        what = f"{len(digits)} hex digits{hint}" if re.fullmatch(r"[0-9a-f]+", digits) else "not hex digits"
        raise ValueError(f"{SSL_FINGERPRINT} must be a SHA-256 fingerprint, 64 hex digits (colons allowed), "
                         f"got {what}: `openssl x509 -in http_ca.crt -noout -fingerprint -sha256`")
    return digits


def _ca_file(path: Path) -> str:
    path = path.expanduser()
    if not path.is_file():
        why = "is a folder" if path.is_dir() else "does not exist"
        raise ValueError(f"{CA_CERTS}: the CA certificate file {str(path)!r} {why}")
    try:
        ssl.create_default_context(cafile=str(path))  # readable, and holds PEM certificates
    except (OSError, ssl.SSLError) as exc:
        raise ValueError(f"{CA_CERTS}: cannot read CA certificates (PEM) from {str(path)!r}: {exc}") from None
    return str(path)


def _tls_options(settings: GatewaySettings) -> dict[str, Any]:
    """The TLS keyword arguments of the settings (empty: none given)."""
    given = {CA_CERTS: settings.es_ca_certs is not None,
             SSL_FINGERPRINT: bool((settings.es_ssl_fingerprint or "").strip()),
             f"{VERIFY_CERTS}=false": not settings.es_verify_certs}
    named = [name for name, on in given.items() if on]
    if len(named) > 1:
        raise ValueError(f"{' and '.join(named)} are given together; give one: {CA_CERTS} trusts the "
                         f"cluster's CA, {SSL_FINGERPRINT} pins its certificate, {VERIFY_CERTS}=false "
                         "trusts anyone")
    if settings.es_ca_certs is not None:
        return {"ca_certs": _ca_file(settings.es_ca_certs), "verify_certs": True}
    if settings.es_ssl_fingerprint and settings.es_ssl_fingerprint.strip():
        # the client then checks only the fingerprint, not the chain of trust nor the host name
        return {"ssl_assert_fingerprint": normalize_fingerprint(settings.es_ssl_fingerprint)}
    if not settings.es_verify_certs:
        return {"verify_certs": False}
    return {}


def client_options(spec: ConnectionSpec, settings: GatewaySettings, *,
                   request_timeout: float = 30.0) -> dict[str, Any]:
    """The keyword arguments of ``elasticsearch.Elasticsearch(**options)`` for ``spec`` and
    ``settings``: ``hosts`` (or ``cloud_id`` with ``BLGW_ES_CLOUD_ID``), ``request_timeout``,
    ``api_key`` or ``basic_auth``, and for ``https`` the TLS options (``ca_certs`` and
    ``verify_certs``, ``ssl_assert_fingerprint``, or ``verify_certs=False``, logged as a
    WARNING each call). Not ``max_retries`` nor ``retry_on_timeout``: the index decides those.

    A contradictory or unusable combination is a ValueError naming the settings involved: an
    API key and a URL password; two TLS settings; a TLS setting with an ``http://`` URL; a
    missing or unreadable CA file; a malformed fingerprint or Cloud ID; a URL host that is
    neither ``cloud`` nor the Cloud ID's host."""
    options: dict[str, Any] = {"request_timeout": request_timeout}
    cloud_id = (settings.es_cloud_id or "").strip()
    if cloud_id:
        _check_cloud_url(spec, cloud_target(cloud_id))
        options["cloud_id"] = cloud_id
    else:
        options["hosts"] = spec.hosts
    where = redacted(spec, cloud_id or None)

    api_key = settings.es_api_key.get_secret_value().strip() if settings.es_api_key is not None else ""
    if api_key and spec.basic_auth is not None:
        raise ValueError(f"both {API_KEY} and a user:password in the index URL are given; give one "
                         "(an API key, or basic authentication)")
    if api_key:
        options["api_key"] = api_key
    elif spec.basic_auth is not None:
        options["basic_auth"] = spec.basic_auth

    tls = _tls_options(settings)
    if tls and spec.scheme != "https":  # (a Cloud ID is https, checked above)
        given = (CA_CERTS if "ca_certs" in tls else SSL_FINGERPRINT if "ssl_assert_fingerprint" in tls
                 else f"{VERIFY_CERTS}=false")
        raise ValueError(f"{given} is given but the index URL is http://, which does not use TLS (the "
                         "setting would be ignored); write https://… or unset it")
    if spec.scheme == "https" and not tls:
        tls = {"verify_certs": True}  # the client's default, said explicitly
    if tls.get("verify_certs") is False:
        log.warning("TLS certificates of %s are NOT verified (%s=false): anyone on the network path can "
                    "pose as the cluster and read its credentials; trust its CA with %s or pin it with %s",
                    where, VERIFY_CERTS, CA_CERTS, SSL_FINGERPRINT)
    options.update(tls)
    return options


def _check_cloud_url(spec: ConnectionSpec, target: CloudTarget) -> None:
    if spec.scheme != "https":
        raise ValueError(f"{CLOUD_ID} is set: an Elastic Cloud deployment is reached over https; write the "
                         f"index URL as https://{CLOUD_PLACEHOLDER}/<index prefix>")
    host = spec.host.lower()
    if host == CLOUD_PLACEHOLDER:
        if spec.url_port is not None:
            raise ValueError(f"{CLOUD_ID} is set: the index URL's host {CLOUD_PLACEHOLDER!r} takes no port "
                             f"(the Cloud ID says {target.host}:{target.port})")
        return
    if host != target.host.lower():
        raise ValueError(f"the index URL's host {spec.host!r} is not the host {target.host!r} that {CLOUD_ID} "
                         f"names; write https://{CLOUD_PLACEHOLDER}/<index prefix> (or that host)")
    if spec.url_port is not None and spec.url_port != target.port:
        raise ValueError(f"the index URL's port {spec.url_port} is not the port {target.port} that "
                         f"{CLOUD_ID} names")


def redacted(spec: ConnectionSpec, cloud_id: str | None = None) -> str:
    """The cluster in words, for logs and messages (the index's ``where``), without any
    credential nor user name: ``https://es.example:443``, or for a Cloud ID the deployment and
    its host (``Elastic Cloud deployment 'prod' (abc.es.io:443)``)."""
    if cloud_id:
        try:
            target = cloud_target(cloud_id)
        except ValueError:
            return f"an Elastic Cloud deployment (unreadable {CLOUD_ID})"
        return f"Elastic Cloud deployment {target.cluster_name!r} ({target.host}:{target.port})"
    return spec.hosts
