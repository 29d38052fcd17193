"""Every setting of the gateway, in one place: a ``BLGW_*`` name, a type, a default and one
line of documentation each (the fields of :class:`GatewaySettings`; ``blgw settings`` prints
them with their current values, ``docs/settings.md`` is generated from them).

A setting has one value however it is given. The sources, weakest first:

1. the default here;
2. the environment (``BLGW_REFETCH_DAYS=3 blgw crawl rsj``);
3. for a crawl, a Scrapy setting of the same name (``blgw crawl rsj -s BLGW_REFETCH_DAYS=3``,
   ``scrapy crawl rsj -s …``).

:func:`get_settings` reads 1 and 2 once per process. A crawl's Scrapy settings carry every
setting (:meth:`GatewaySettings.as_scrapy`, written by ``spiders.settings`` and the crawl
runner), ``-s`` overrides them, and each crawl component reads them back typed, once, with
:func:`from_scrapy`. A value that does not parse is an error naming the setting, whatever its
source.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Mapping
from functools import lru_cache
from pathlib import Path
from types import UnionType
from typing import Annotated, Any, Literal, Union, get_args, get_origin
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

__all__ = ["DEFAULT_USER_AGENT", "ENV_PREFIX", "GatewaySettings", "SettingsError", "from_scrapy", "get_settings",
           "parse_origins", "setting_name"]

ENV_PREFIX = "BLGW_"
DEFAULT_USER_AGENT = "blgw/0.1 (+https://www.bl.gov.cn; Beilun site-group gateway)"


class SettingsError(ValueError):
    """A setting whose value cannot be read; the message names the setting."""


def parse_origins(value: str | Mapping[str, str] | None) -> dict[str, str]:
    """``rsj=http://127.0.0.1:8080,qzfb=http://10.0.0.5`` → {site code: origin URL}."""
    if not value:
        return {}
    if isinstance(value, Mapping):
        pairs = list(value.items())
    else:
        pairs = []
        for part in value.split(","):
            if not part.strip():
                continue
            if "=" not in part:
                raise ValueError(f"origin override {part!r} must look like code=http://host:port")
            code, url = part.split("=", 1)
            pairs.append((code.strip(), url.strip()))
    origins = {}
    for code, url in pairs:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"origin for {code!r} must be an http(s) URL, got {url!r}")
        origins[code] = f"{parts.scheme}://{parts.netloc}"
    return origins


def _group(name: str) -> dict[str, Any]:
    return {"group": name}


class GatewaySettings(BaseSettings):
    """The settings of one gateway installation (see the module documentation)."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore", frozen=True)

    # --- where the data is ------------------------------------------------------------------
    data_dir: Path = Field(Path("data"), json_schema_extra=_group("data"),
                           description="Folder of the default store and index files")
    database_url: str = Field("", json_schema_extra=_group("data"),
                              description="SQLAlchemy URL of the store (default: SQLite <data dir>/gateway.sqlite; "
                                          "production: postgresql+psycopg://user:password@host/blgw)")
    index_url: str = Field("", json_schema_extra=_group("data"),
                           description="The search index: sqlite:///<path> (embedded; default <data dir>/index.sqlite) "
                                       "or http(s)://[user:password@]host[:port]/<alias> (Elasticsearch)")
    es_api_key: SecretStr | None = Field(None, json_schema_extra=_group("data"),
                                         description="Elasticsearch API key (instead of user:password in the index URL)")
    es_ca_certs: Path | None = Field(None, json_schema_extra={**_group("data"), "doc_type": "file"},
                                     description="Elasticsearch over https: trust this CA certificate file (PEM), "
                                                 "e.g. the cluster's config/certs/http_ca.crt (default: the certifi "
                                                 "bundle; SSL_CERT_FILE is not read)")
    es_ssl_fingerprint: str | None = Field(None, json_schema_extra=_group("data"),
                                           description="Elasticsearch over https: accept the cluster only if a "
                                                       "certificate of its chain has this SHA-256 fingerprint "
                                                       "(64 hex digits, colons allowed; instead of a CA file)")
    es_verify_certs: bool = Field(True, json_schema_extra=_group("data"),
                                  description="Elasticsearch over https: verify the cluster's certificate (false: "
                                              "no verification at all, logged as a warning; for tests only)")
    es_cloud_id: str | None = Field(None, json_schema_extra=_group("data"),
                                    description="Elastic Cloud: connect to the deployment of this Cloud ID; the "
                                                "index URL is then https://cloud/<alias>")
    es_analyzer: Literal["auto", "cjk", "ik", "smartcn"] = Field(
        "auto", json_schema_extra=_group("data"),
        description="Elasticsearch text analysis: auto (ik, else smartcn, else cjk) or one of them")
    outbox_max_attempts: int = Field(5, ge=1, json_schema_extra=_group("data"),
                                     description="How many index syncs try a document change the index refuses "
                                                 "before it is quarantined (kept and reported; "
                                                 "`blgw index sync --retry-quarantined` tries it again)")

    # --- plugins ----------------------------------------------------------------------------
    plugin_dirs: Annotated[list[Path], NoDecode] = Field(
        default_factory=list, json_schema_extra=_group("plugins"),
        description="Extra plugin folders (*.toml sites, *.py hooks), separated by ':'")
    load_plugins: Annotated[list[str] | None, NoDecode] = Field(
        None, json_schema_extra=_group("plugins"),
        description="Load only these entry-point plugins (comma-separated; default: all installed)")

    # --- fetching ---------------------------------------------------------------------------
    origins: Annotated[dict[str, str], NoDecode] = Field(
        default_factory=dict, json_schema_extra=_group("fetching"),
        description="Fetch a site from another origin: code=http://host:port,… (ids stay on its public URLs)")
    user_agent: str = Field(DEFAULT_USER_AGENT, min_length=1, json_schema_extra=_group("fetching"),
                            description="The User-Agent sent to the subsites (crawl, link check, probes)")
    max_page_bytes: int = Field(10 * 1024 * 1024, ge=1, json_schema_extra=_group("fetching"),
                                description="A list or detail page larger than this is refused (error kind too-large)")
    retry_backoff_base: float = Field(2.0, ge=0, json_schema_extra=_group("fetching"),
                                      description="Seconds before the first retry of a failed request; "
                                                  "doubles per attempt (±25 %)")
    retry_backoff_max: float = Field(60.0, ge=0, json_schema_extra=_group("fetching"),
                                     description="The longest wait before a retry, in seconds")
    chromium: str = Field("/usr/bin/chromium", min_length=1, json_schema_extra=_group("fetching"),
                          description="The Chromium binary for JavaScript pages (Debian's; nothing is downloaded)")
    browser_max_pages: int = Field(2, ge=1, json_schema_extra=_group("fetching"),
                                   description="Pages open at once in the browser")
    browser_recycle_pages: int = Field(100, ge=1, json_schema_extra=_group("fetching"),
                                       description="Restart the browser after this many pages (bounded memory)")
    browser_wait_ms: int = Field(15000, ge=0, json_schema_extra=_group("fetching"),
                                 description="How long a browser page waits for its list or title selector, in ms")

    selector_budget_seconds: float = Field(5.0, gt=0, json_schema_extra=_group("fetching"),
                                           description="How long a plugin's regular expressions may run on one page "
                                                       "(over it: an extraction error; the crawl goes on)")
    normalize_workers: int = Field(-1, ge=-1, json_schema_extra=_group("fetching"),
                                   description="Worker processes that normalize detail pages beside the crawl's "
                                               "event loop (-1: one when the machine has two cores or more; "
                                               "0: in the crawl process)")

    # --- attachments -------------------------------------------------------------------------
    attachments_enabled: bool = Field(True, json_schema_extra=_group("attachments"),
                                      description="Crawls fetch, keep and read the attachments of the items they "
                                                  "store (a site plugin may turn it off with attachments = false)")
    blob_dir: Path | None = Field(None, json_schema_extra=_group("attachments"),
                                  description="Folder of the kept attachment files, one per SHA-256 (default: "
                                              "<data dir>/blobs; a shared mount when several workers crawl)")
    attachment_max_bytes: int = Field(50 * 1024 * 1024, ge=1, json_schema_extra=_group("attachments"),
                                      description="An attachment larger than this is not kept (error kind "
                                                  "too-large; its link is); a site plugin may set a lower cap")
    attachment_readers: int = Field(1, ge=1, le=16, json_schema_extra=_group("attachments"),
                                    description="Attachments read at once, each in its own limited process")
    attachment_cpu_seconds: int = Field(15, ge=1, json_schema_extra=_group("attachments"),
                                        description="CPU seconds reading one attachment may take (over it: an "
                                                    "extraction error naming the file)")
    attachment_memory_mb: int = Field(1024, ge=64, json_schema_extra=_group("attachments"),
                                      description="Address space of the process reading one attachment, in MiB")

    # --- incremental crawls, resume, purge ------------------------------------------------
    store_enabled: bool = Field(True, json_schema_extra=_group("crawl"),
                                description="Crawls write to the store (off: a dry run, as `blgw plugin check`)")
    refetch_days: float = Field(30.0, ge=0, json_schema_extra=_group("crawl"),
                                description="A listed, stored, unchanged item is fetched again after this many days "
                                            "(0: always)")
    reverify_max_share: float = Field(0.05, ge=0, le=1, json_schema_extra=_group("crawl"),
                                      description="Rolling re-verification: the most stored pages an incremental run "
                                                  "fetches again, oldest-verified first, as a share of the site's "
                                                  "documents (the share needed to re-check every page within "
                                                  "BLGW_REFETCH_DAYS at the site's run interval, capped by this; 0: off)")
    incremental_stop: int = Field(1, ge=0, json_schema_extra=_group("crawl"),
                                  description="Stop paging a column after this many list pages in a row of known, "
                                              "unchanged items (0: never)")
    full_every_days: float = Field(7.0, ge=0, json_schema_extra=_group("crawl"),
                                   description="A site's run is full (every list page, then the purge) when its last "
                                               "full run is this old")
    purge_after_runs: int = Field(2, ge=0, json_schema_extra=_group("crawl"),
                                  description="A document missing from its column's lists for this many full runs is "
                                              "re-checked and marked gone (0: never)")
    adaptive_revisit: bool = Field(False, json_schema_extra=_group("crawl"),
                                   description="Skip columns whose adaptive revisit is not due (scheduled runs: "
                                               "`crawl --due` and the scheduler turn it on)")
    revisit_min_hours: float = Field(6.0, gt=0, json_schema_extra=_group("crawl"),
                                     description="The shortest adaptive revisit interval of a column")
    revisit_max_hours: float = Field(336.0, gt=0, json_schema_extra=_group("crawl"),
                                     description="The longest adaptive revisit interval of a column")
    lock_stale_seconds: float = Field(900.0, gt=0, json_schema_extra=_group("crawl"),
                                      description="Another host's site lock without a heartbeat for this long is dead "
                                                  "(crawl and scheduler)")
    lock_heartbeat_seconds: float = Field(30.0, gt=0, json_schema_extra=_group("crawl"),
                                          description="How often a crawl refreshes its site lock")
    host_id: str = Field("", max_length=200, json_schema_extra=_group("crawl"),
                         description="This worker's name in the site locks (empty: the host name); each "
                                     "host sharing one store needs its own")
    lock_holder: str = Field("", max_length=200, json_schema_extra=_group("crawl"),
                             description="Set by `blgw scheduler` for the crawls it starts: the site lock it "
                                         "claimed for them, which the crawl adopts (not set by hand)")
    retry_runs: int = Field(3, ge=0, json_schema_extra=_group("crawl"),
                            description="A page a run did not get (failed fetch, plugin hook or store) is fetched "
                                        "again by this many later runs, then given up and named (0: never)")
    progress_enabled: bool = Field(False, json_schema_extra=_group("crawl"),
                                   description="Print a progress line per site during a crawl (`blgw crawl` turns "
                                               "it on, -q off)")
    progress_interval: float = Field(2.0, gt=0, json_schema_extra=_group("crawl"),
                                     description="Seconds between progress lines")

    # --- site health ------------------------------------------------------------------------
    probes_per_day: int = Field(24, ge=1, le=1440, json_schema_extra=_group("health"),
                                description="Availability probe rounds a day (`blgw scheduler` spreads them evenly; "
                                            "the indicator asks for at least 20)")
    probe_timeout: float = Field(15.0, gt=0, le=120, json_schema_extra=_group("health"),
                                 description="Seconds a probe waits for an answer; longer is a failed probe")
    probe_pages: int = Field(2, ge=0, le=10, json_schema_extra=_group("health"),
                             description="Key pages probed per site besides the home page (its first columns' pages)")
    probe_control_url: str = Field("", json_schema_extra=_group("health"),
                                   description="A control target probed first in each round (e.g. the portal); when it "
                                               "fails the round is discarded as the gateway's own network failure")

    outbound_words: str = Field("", json_schema_extra=_group("health"),
                                description="A TOML file of the words that flag an outbound page as gambling, adult "
                                            "or parked (外链变异); empty: the packaged gateway/ops/outbound_words.toml")

    log_key: SecretStr | None = Field(None, json_schema_extra=_group("logs"),
                                      description="The key of the visitor hashes (keyed BLAKE2b of address and "
                                                  "User-Agent); unset: a random key kept in BLGW_DATA_DIR/log.key")
    log_batch_lines: int = Field(50_000, ge=100, le=10_000_000, json_schema_extra=_group("logs"),
                                 description="Log lines counted per transaction (the offset is saved with them)")
    log_flood_per_minute: int = Field(300, ge=10, json_schema_extra=_group("logs"),
                                      description="Requests of one client in one minute above which the minute "
                                                  "is a flood (security signal)")
    log_ingest_minutes: int = Field(15, ge=1, le=1440, json_schema_extra=_group("logs"),
                                    description="How often `blgw scheduler` reads the sites' watched log folders")

    @field_validator("plugin_dirs", mode="before")
    @classmethod
    def _split_dirs(cls, value: object) -> object:
        if isinstance(value, str):
            return [Path(p) for p in value.split(os.pathsep) if p]
        return value

    @field_validator("load_plugins", mode="before")
    @classmethod
    def _split_names(cls, value: object) -> object:
        if isinstance(value, str):
            return [p.strip() for p in value.split(",") if p.strip()]
        return value

    @field_validator("es_ca_certs", "es_ssl_fingerprint", "es_cloud_id", "blob_dir", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        # BLGW_ES_CA_CERTS= (empty) is no CA file, not the current folder
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("origins", mode="before")
    @classmethod
    def _origins(cls, value: object) -> object:
        if value is None or isinstance(value, (str, Mapping)):
            return parse_origins(value)
        return value

    @model_validator(mode="after")
    def _defaults_in_data_dir(self) -> GatewaySettings:
        # frozen: derived defaults are set through object.__setattr__, and stay out of the
        # fields set explicitly, so that as_scrapy() lets a crawl derive them again from its data dir
        if not self.database_url:
            object.__setattr__(self, "database_url", f"sqlite:///{(self.data_dir / 'gateway.sqlite').as_posix()}")
        if not self.index_url:
            object.__setattr__(self, "index_url", f"sqlite:///{(self.data_dir / 'index.sqlite').as_posix()}")
        if self.revisit_min_hours > self.revisit_max_hours:
            raise ValueError(f"{setting_name('revisit_min_hours')} ({self.revisit_min_hours}) is above "
                             f"{setting_name('revisit_max_hours')} ({self.revisit_max_hours})")
        return self

    def _explicit(self, name: str) -> bool:
        return name in self.model_fields_set

    @property
    def blob_root(self) -> Path:
        """The folder of the kept attachment files: ``BLGW_BLOB_DIR``, else ``<data dir>/blobs``."""
        return self.blob_dir if self.blob_dir is not None else self.data_dir / "blobs"

    @property
    def worker(self) -> str:
        """This worker's name in the site locks: ``BLGW_HOST_ID``, else the host name."""
        return self.host_id or socket.gethostname()[:200]

    def as_scrapy(self) -> dict[str, Any]:
        """Every setting as a Scrapy setting (``BLGW_<NAME>``), in the text form the
        environment would give it; a derived default (the store and index in the data dir) is
        left empty, so that a crawl given another ``BLGW_DATA_DIR`` derives it from that one.
        The secrets ``es_api_key`` and ``log_key`` are left out: crawls never use them."""
        out: dict[str, Any] = {}
        for name in type(self).model_fields:
            if name in ("es_api_key", "log_key"):
                continue
            value = getattr(self, name)
            if name in ("database_url", "index_url") and not self._explicit(name):
                value = ""
            out[setting_name(name)] = _text(value)
        return out

    @classmethod
    def documentation(cls) -> list[dict[str, Any]]:
        """Each setting: ``name`` (BLGW_…), ``field``, ``group``, ``type``, ``default`` (text)
        and ``description``, in declaration order."""
        rows = []
        for name, info in cls.model_fields.items():
            extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
            default = info.get_default(call_default_factory=True)
            rows.append({
                "name": setting_name(name), "field": name, "group": extra.get("group", ""),
                "type": extra.get("doc_type") or _type_name(info.annotation), "default": _text(default) if default is not None else "",
                "description": info.description or "",
            })
        return rows


def setting_name(field: str) -> str:
    """The ``BLGW_*`` name of a field (``refetch_days`` → ``BLGW_REFETCH_DAYS``)."""
    return ENV_PREFIX + field.upper()


def _text(value: Any) -> Any:
    """A value as the environment would spell it (numbers and booleans stay as they are)."""
    if isinstance(value, Path):
        return value.as_posix()
    if isinstance(value, dict):
        return ",".join(f"{k}={v}" for k, v in value.items())
    if isinstance(value, list):
        return (os.pathsep if value and isinstance(value[0], Path) else ",").join(_text(v) for v in value)
    if isinstance(value, SecretStr):
        return "***"
    if value is None:
        return ""
    return value


def _type_name(annotation: Any) -> str:
    """How a setting is written, for the documentation."""
    args = [a for a in get_args(annotation) if a is not type(None)]
    origin = get_origin(annotation)
    if origin is Annotated:
        return _type_name(args[0])
    if origin is Literal:
        return "one of " + ", ".join(f"`{a}`" for a in args)
    if origin in (Union, UnionType) and len(args) == 1:
        return _type_name(args[0])
    if origin is list:
        return "folders, ':'-separated" if args == [Path] else "names, comma-separated"
    if origin is dict:
        return "code=URL, comma-separated"
    return {Path: "folder", str: "text", int: "integer", float: "number", bool: "true/false",
            SecretStr: "secret text"}.get(annotation, str(annotation))


def _errors(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors(include_url=False):
        field = str(error["loc"][0]) if error.get("loc") else ""
        parts.append(f"{setting_name(field) if field else 'settings'}: {error['msg']} (got {error.get('input')!r})")
    return "; ".join(parts)


def load(**values: Any) -> GatewaySettings:
    """Settings from the environment, with ``values`` (field names) on top; a bad value raises
    :class:`SettingsError` naming the setting."""
    try:
        return GatewaySettings(**values)
    except ValidationError as exc:
        raise SettingsError(f"invalid setting: {_errors(exc)}") from None


@lru_cache(maxsize=1)
def get_settings() -> GatewaySettings:
    """The settings of this process (read once from the environment)."""
    return load()


def from_scrapy(get: Mapping[str, Any] | Callable[[str], Any]) -> GatewaySettings:
    """The settings a crawl runs with, from its Scrapy settings (``crawler.settings``, or any
    mapping of ``BLGW_*`` names): every ``BLGW_*`` value found there, the environment and the
    defaults below it. Empty values count as not given."""
    lookup = get.get if isinstance(get, Mapping) else get
    values: dict[str, Any] = {}
    for name in GatewaySettings.model_fields:
        value = lookup(setting_name(name))
        if value is None or value == "":
            continue
        values[name] = value
    return load(**values)
