"""The one way to open a search index: :func:`open_index` picks the backend a URL names.

The backends (:mod:`index.embedded`, :mod:`index.elasticsearch`) implement the contract of
:mod:`index.base`; nothing else imports them directly.
"""

from __future__ import annotations

from pathlib import Path

from gateway.settings import GatewaySettings, get_settings
from index.base import SearchIndex, SearchIndexError
from index.embedded import EmbeddedIndex
from normalizers.urls import redact_url

__all__ = ["SUPPORTED_SCHEMES", "embedded_index_path", "open_index", "sqlite_path"]

SUPPORTED_SCHEMES = ("sqlite:///<path>", "sqlite://:memory:")


def sqlite_path(url: str) -> str:
    """The database path of a ``sqlite:`` URL, SQLAlchemy-style: ``sqlite:///rel/path``,
    ``sqlite:////abs/path``; ``sqlite://``, ``sqlite://:memory:`` and ``sqlite:///:memory:``
    are in memory (returned as ``:memory:``)."""
    rest = url[len("sqlite:"):]
    if rest in ("", "//", "//:memory:", "///:memory:", ":memory:"):
        return ":memory:"
    if not rest.startswith("///"):
        raise ValueError(
            f"cannot read the index URL {redact_url(url)!r}: a SQLite index URL is sqlite:///<path> "
            "(sqlite:////<absolute path>) or sqlite://:memory:")
    path = rest[3:].split("?", 1)[0]
    if not path:
        raise ValueError(f"the index URL {redact_url(url)!r} names no file")
    return path


def embedded_index_path(url: str) -> Path | None:
    """The file of an embedded (``sqlite:``) index URL; None for memory and other backends."""
    if not url.lower().startswith("sqlite:"):
        return None
    path = sqlite_path(url)
    return None if path == ":memory:" else Path(path)


def open_index(url: str, settings: GatewaySettings | None = None) -> SearchIndex:
    """The index a URL names.

    * ``sqlite:///<path>`` (relative), ``sqlite:////<absolute path>``: the embedded backend
      (:class:`index.embedded.EmbeddedIndex`) in that file, created with its parent directory
      if missing; ``sqlite://:memory:`` (or ``sqlite://``): a private in-memory index.
    * ``http(s)://[user:password@]host[:port][/<index prefix>][?analyzer=auto|cjk|ik|smartcn]``:
      the Elasticsearch backend (:class:`index.elasticsearch.ElasticsearchIndex`): the alias
      ``<index prefix>`` (default ``blgw-articles``) and its ``<index prefix>-v<N>-<timestamp>``
      indices. The URL and the Elasticsearch settings (``settings``, default the process's) make
      the client's options (:func:`index.es_connection.client_options`: https without a port is
      443, http 9200; an API key from ``BLGW_ES_API_KEY``; the cluster's CA from
      ``BLGW_ES_CA_CERTS``, or its fingerprint from ``BLGW_ES_SSL_FINGERPRINT``, or
      ``BLGW_ES_VERIFY_CERTS=false``; an Elastic Cloud deployment from ``BLGW_ES_CLOUD_ID`` with
      ``https://cloud/<index prefix>``); the analyzer comes from the URL, else
      ``BLGW_ES_ANALYZER``. An unknown URL option or a contradictory setting is a ValueError
      naming it. Nothing is sent to the cluster before the first use. The conformance suite
      opens a throw-away index by appending a name to BLGW_TEST_ELASTICSEARCH_URL.
    * anything else: ValueError naming the URL and the supported schemes.
    """
    scheme = url.split(":", 1)[0].lower() if ":" in url else ""
    if scheme == "sqlite":
        return EmbeddedIndex(sqlite_path(url))
    if scheme in ("http", "https"):
        settings = settings or get_settings()
        try:
            # imported here: the Elasticsearch client is heavy, and only installations on a
            # cluster need it
            from index.elasticsearch import ElasticsearchIndex
            from index.es_connection import client_options, parse_url, redacted
        except ImportError as exc:  # pragma: no cover - depends on the installation
            raise SearchIndexError(
                f"the index URL {redact_url(url)} needs the Elasticsearch backend, which needs the "
                "Python package 'elasticsearch' 8.x (pip install 'elasticsearch>=8.12,<9'; the 8.x "
                "client talks to 8.x and 9.x clusters)") from exc
        try:
            spec = parse_url(url)
            options = client_options(spec, settings)
            return ElasticsearchIndex(options.get("hosts"), prefix=spec.prefix,
                                      analyzer=spec.analyzer or settings.es_analyzer, client_options=options,
                                      where=redacted(spec, options.get("cloud_id")))
        except ValueError as exc:
            raise ValueError(f"cannot open the index URL {redact_url(url)!r}: {exc}") from None
    raise ValueError(
        f"unsupported index URL {redact_url(url)!r}: supported are {', '.join(SUPPORTED_SCHEMES)} "
        "(embedded SQLite FTS5) and http(s)://[user:password@]host[:port][/<index prefix>] "
        "(Elasticsearch)")
