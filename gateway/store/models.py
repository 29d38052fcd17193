"""Tables of the store, the gateway's source of truth (the index is rebuilt from it)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Connection,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    event,
    inspect,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, Mapper, mapped_column, relationship

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Timezone-aware datetimes stored as UTC (SQLite has no time zones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: the store keeps aware datetimes only")
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:  # SQLite
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)  # PostgreSQL answers in the session's time zone


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


@event.listens_for(Base, "before_insert", propagate=True)
@event.listens_for(Base, "before_update", propagate=True)
def _fit_strings(_mapper: Mapper[Any], _connection: Connection, target: Base) -> None:
    """Store text alike on every backend: NUL characters (PostgreSQL text cannot hold them) are
    dropped, and a value longer than its VARCHAR(n) column is cut to n characters (PostgreSQL
    refuses it, SQLite would keep it whole). Key columns are left as they are: a key that does
    not fit is an error, not something to shorten."""
    state = inspect(target)
    for prop in state.mapper.column_attrs:
        value = state.dict.get(prop.key)
        column = prop.columns[0]
        if (not isinstance(value, str) or not isinstance(column.type, String)
                or column.primary_key or column.foreign_keys):
            continue
        fitted = value.replace("\x00", "")
        if column.type.length is not None:
            fitted = fitted[: column.type.length]
        if fitted != value:
            setattr(target, prop.key, fitted)


class Site(Base):
    """A subsite known to the gateway (mirrors its plugin at the time of the last crawl)."""

    __tablename__ = "sites"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    base_url: Mapped[str] = mapped_column(String(500))
    platform: Mapped[str] = mapped_column(String(40), default="generic")
    plugin_source: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class CrawlRun(Base):
    """One crawl of one site, with the counts its report shows."""

    __tablename__ = "crawl_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    site_code: Mapped[str] = mapped_column(ForeignKey("sites.code"), index=True)
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # running → finished | failed (a run left 'running' by a dead process stays so until resumed)
    status: Mapped[str] = mapped_column(String(16), default="running")
    finish_reason: Mapped[str | None] = mapped_column(String(64), nullable=True)
    pages_fetched: Mapped[int] = mapped_column(Integer, default=0)
    items_new: Mapped[int] = mapped_column(Integer, default=0)
    items_changed: Mapped[int] = mapped_column(Integer, default=0)
    items_unchanged: Mapped[int] = mapped_column(Integer, default=0)
    error_count: Mapped[int] = mapped_column(Integer, default=0)
    items_gone: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    requests: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # HTTP requests sent
    full: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")  # every list page read
    resumes: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # times continued after a crash
    stats: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    errors: Mapped[list[CrawlError]] = relationship(
        back_populates="run", order_by="CrawlError.id", cascade="all, delete-orphan"
    )


class CrawlError(Base):
    """Something that went wrong in a run: an HTTP error, a page that could not be normalized,
    or one field of an item that could not be read (the item itself is kept)."""

    __tablename__ = "crawl_errors"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("crawl_runs.id", ondelete="CASCADE"), index=True)
    url: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(32))  # http, network, normalize, field, plugin
    field: Mapped[str | None] = mapped_column(String(100), nullable=True)
    message: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    run: Mapped[CrawlRun] = relationship(back_populates="errors")


class Document(Base):
    """The latest known state of one page of a subsite: its item, its last raw page and when
    it was seen. Rows are never deleted; a page that disappears is marked ``gone``."""

    __tablename__ = "documents"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # document_id(url)
    site_code: Mapped[str] = mapped_column(ForeignKey("sites.code"))
    url: Mapped[str] = mapped_column(Text)  # canonical public URL
    fetch_url: Mapped[str] = mapped_column(Text)  # where it was last fetched from
    title: Mapped[str] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(64))
    item: Mapped[dict[str, Any]] = mapped_column(JSON)  # the Article, as exported
    status: Mapped[str] = mapped_column(String(16), default="active")  # active | gone
    first_seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    last_changed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    last_run_id: Mapped[int | None] = mapped_column(ForeignKey("crawl_runs.id"), nullable=True)
    http_status: Mapped[int] = mapped_column(Integer, default=200)
    raw_content_type: Mapped[str | None] = mapped_column(String(200), nullable=True)
    raw_page: Mapped[bytes] = mapped_column(LargeBinary)  # zlib-compressed bytes as fetched
    column: Mapped[str | None] = mapped_column(String(200), nullable=True)  # the plugin column it was listed in
    last_listed_run_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # full list traversals of its column in a row that did not list it (stale-document purge)
    missed_runs: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    gone_reason: Mapped[str | None] = mapped_column(String(200), nullable=True)
    # the title the column's list showed for it when it was last stored: the next run's "unchanged"
    # check compares list titles with list titles (cut or decorated alike), not with the page's
    list_title: Mapped[str | None] = mapped_column(Text, nullable=True)

    __table_args__ = (
        Index("ix_documents_site_status", "site_code", "status"),
    )


class IndexOutbox(Base):
    """What the search index still has to be told: one row per document change, written in the
    same transaction as the change (so a change is queued if and only if it is committed), and
    deleted by :func:`gateway.ops.indexing.sync_index` once the index has applied it.

    ``action`` is ``upsert`` (send the stored item) or ``delete`` (the document is gone); for
    one document the row with the highest id wins.

    A row whose document the index refused (or whose stored item cannot be read) stays, with
    its ``attempts``, ``last_error`` and ``last_attempt_at``; after ``BLGW_OUTBOX_MAX_ATTEMPTS``
    refusals its ``state`` becomes ``quarantined`` (kept, reported, no longer sent until
    ``blgw index sync --retry-quarantined``) and later rows go on."""

    __tablename__ = "index_outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    document_id: Mapped[str] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(8))  # upsert | delete
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    state: Mapped[str] = mapped_column(String(12), default="pending", server_default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    last_attempt_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)

    __table_args__ = (
        CheckConstraint("action IN ('upsert', 'delete')", name="action"),
        CheckConstraint("state IN ('pending', 'quarantined')", name="state"),
        Index("ix_index_outbox_id", "id"),
        Index("ix_index_outbox_state_id", "state", "id"),
    )


class SiteLock(Base):
    """Who is crawling a site now: one row per running crawl, so two runs of one site never
    overlap. A holder that died (``kill -9``) leaves its row; the next run takes it over when
    the holder's process is gone (same host) or its heartbeat is older than the stale limit."""

    __tablename__ = "site_locks"

    site_code: Mapped[str] = mapped_column(ForeignKey("sites.code"), primary_key=True)
    holder: Mapped[str] = mapped_column(String(200))  # host:pid:token
    hostname: Mapped[str] = mapped_column(String(200))
    pid: Mapped[int] = mapped_column(Integer)
    run_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    acquired_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    heartbeat_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class JobLock(Base):
    """A job that must not run twice at once across processes and hosts, by name: ``index``
    (a rebuild of the search index, or an index sync; they exclude each other so that no write
    lands in an index that a rebuild is about to replace). Liveness as for site locks."""

    __tablename__ = "job_locks"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    purpose: Mapped[str] = mapped_column(String(40))  # rebuild | sync | restore
    holder: Mapped[str] = mapped_column(String(200))  # host:pid:token
    hostname: Mapped[str] = mapped_column(String(200))
    pid: Mapped[int] = mapped_column(Integer)
    acquired_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    heartbeat_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class FrontierEntry(Base):
    """One request of a run: written (``pending``) before the request is scheduled and marked
    ``done`` in the same transaction that stores what it produced. After a crash the run
    continues from its pending entries; done ones are never fetched again by that run."""

    __tablename__ = "frontier"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("crawl_runs.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(80))  # request fingerprint (method, url, body) [+ ":restartN"]
    kind: Mapped[str] = mapped_column(String(8))  # list | detail | recheck
    url: Mapped[str] = mapped_column(Text)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # what rebuilds the request
    state: Mapped[str] = mapped_column(String(8), default="pending")  # pending | done
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    done_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)

    __table_args__ = (
        UniqueConstraint("run_id", "key", name="uq_frontier_run_key"),
        Index("ix_frontier_run_state", "run_id", "state"),
    )


class UrlState(Base):
    """What the last fetch of a URL (list or detail page) returned: HTTP validators for
    conditional GET, the body hash for change detection, and fetch/change counts."""

    __tablename__ = "url_state"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # document_id(url)
    site_code: Mapped[str] = mapped_column(String(32), index=True)
    url: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(8))  # list | detail
    etag: Mapped[str | None] = mapped_column(String(300), nullable=True)
    last_modified: Mapped[str | None] = mapped_column(String(100), nullable=True)
    body_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    last_status: Mapped[int | None] = mapped_column(Integer, nullable=True)
    last_fetched_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_changed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    fetches: Mapped[int] = mapped_column(Integer, default=0)
    changes: Mapped[int] = mapped_column(Integer, default=0)
    not_modified: Mapped[int] = mapped_column(Integer, default=0)  # 304 answers


class ColumnState(Base):
    """Adaptive revisit of one column: its interval shrinks when a visit finds new items and
    grows when it finds none, between the site's schedule and a ceiling."""

    __tablename__ = "column_state"

    site_code: Mapped[str] = mapped_column(String(32), primary_key=True)
    column: Mapped[str] = mapped_column(String(200), primary_key=True)
    revisit_seconds: Mapped[int] = mapped_column(Integer)
    last_visited_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    next_visit_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_new_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    visits: Mapped[int] = mapped_column(Integer, default=0)


class LinkTarget(Base):
    """A URL some subsite page links to, and the result of its last check (dead-link report)."""

    __tablename__ = "link_targets"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # document_id(url)
    url: Mapped[str] = mapped_column(Text)
    status: Mapped[int | None] = mapped_column(Integer, nullable=True)  # HTTP status; None: not checked / no answer
    ok: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)  # e.g. "timeout", "DNS lookup failed"
    final_url: Mapped[str | None] = mapped_column(Text, nullable=True)
    method: Mapped[str | None] = mapped_column(String(8), nullable=True)  # HEAD | GET
    checked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)  # consecutive failed checks
    # not requested on purpose (the status columns are then empty): robots | robots-unavailable |
    # script | counter, with the reason the report shows and when it was decided
    skip_kind: Mapped[str | None] = mapped_column(String(20), nullable=True)
    skip_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    skipped_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # 外链变异: an outbound link's page read at its check (gambling | adult | parked, the words that
    # said so), and the final URL of an earlier check when the final host has changed since
    content_flag: Mapped[str | None] = mapped_column(String(20), nullable=True)
    content_words: Mapped[str | None] = mapped_column(Text, nullable=True)
    previous_final_url: Mapped[str | None] = mapped_column(Text, nullable=True)


class LinkSource(Base):
    """A page of a site containing a link to a :class:`LinkTarget`."""

    __tablename__ = "link_sources"

    target_id: Mapped[str] = mapped_column(ForeignKey("link_targets.id", ondelete="CASCADE"), primary_key=True)
    source_id: Mapped[str] = mapped_column(String(32), primary_key=True)  # document_id(source_url)
    site_code: Mapped[str] = mapped_column(String(32), index=True)
    source_url: Mapped[str] = mapped_column(Text)
    anchor: Mapped[str | None] = mapped_column(Text, nullable=True)  # the link text
    tag: Mapped[str | None] = mapped_column(String(16), nullable=True)  # the element (a, img, script…); None: unknown
    last_seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        Index("ix_link_sources_source_id", "source_id"),  # a page's links, replaced on every fetch
    )


ATTACHMENT_STATES = ("pending", "stored", "failed", "too-large")


class AttachmentFile(Base):
    """One attachment URL of a site (附件, 表格下载) and what fetching and reading it gave.

    ``status``: ``pending`` (linked, not fetched yet: the next crawl of the site fetches it),
    ``stored`` (its bytes are in the blob store under ``sha256``), ``failed`` (the last fetch
    failed: ``error`` says how; fetched again by the next crawl) or ``too-large`` (over the
    size cap: the link is kept, the file is not). The bytes themselves are in the blob store
    (one copy per SHA-256 however many attachments, items or sites have them); the text read
    from them is here (``text_status``: ``ok``, ``empty``, ``unsupported`` or ``error``)."""

    __tablename__ = "attachments"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # document_id(url)
    site_code: Mapped[str] = mapped_column(String(32))
    url: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(12), default="pending", server_default="pending")
    name: Mapped[str | None] = mapped_column(Text, nullable=True)  # the server's file name (Content-Disposition, URL)
    sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    size: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    content_type: Mapped[str | None] = mapped_column(String(120), nullable=True)  # sniffed from the bytes
    family: Mapped[str | None] = mapped_column(String(24), nullable=True)  # normalizers.filetypes family
    etag: Mapped[str | None] = mapped_column(String(300), nullable=True)
    last_modified: Mapped[str | None] = mapped_column(String(100), nullable=True)
    fetched_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)  # the bytes last received
    checked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)  # the last answer of any kind
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # failed fetches in a row
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    text_status: Mapped[str | None] = mapped_column(String(12), nullable=True)
    text: Mapped[str | None] = mapped_column(Text, nullable=True)
    text_truncated: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    pages: Mapped[int | None] = mapped_column(Integer, nullable=True)
    title: Mapped[str | None] = mapped_column(Text, nullable=True)

    __table_args__ = (
        CheckConstraint("status IN ('pending', 'stored', 'failed', 'too-large')", name="status"),
        Index("ix_attachments_site_status", "site_code", "status"),
        Index("ix_attachments_sha256", "sha256"),
    )


class DocumentListing(Base):
    """A column's list shows a document (a document can be listed in several columns: a parent
    column and its child, 最新动态 beside 工作动态). ``documents.column`` is the primary one
    (:meth:`plugins.spec.SiteSpec.primary_column`); every listing counts in the navigation map."""

    __tablename__ = "document_listings"

    document_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    column: Mapped[str] = mapped_column(String(200), primary_key=True)
    site_code: Mapped[str] = mapped_column(String(32), index=True)
    first_listed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_listed_run_id: Mapped[int | None] = mapped_column(Integer, nullable=True)


class DocumentAttachment(Base):
    """A stored document links an :class:`AttachmentFile` (replaced whenever the document is stored)."""

    __tablename__ = "document_attachments"

    document_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    attachment_id: Mapped[str] = mapped_column(ForeignKey("attachments.id", ondelete="CASCADE"), primary_key=True)

    __table_args__ = (
        Index("ix_document_attachments_attachment_id", "attachment_id"),
    )


class ProbeRound(Base):
    """One round of availability probes (站点无法访问). ``control_ok`` False: the control target
    failed, so the gateway's own network was down and the round's site probes were not sent (the
    round is discarded from every site's share)."""

    __tablename__ = "probe_rounds"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    control_url: Mapped[str | None] = mapped_column(Text, nullable=True)
    control_ok: Mapped[bool] = mapped_column(Boolean, default=True)
    control_error: Mapped[str | None] = mapped_column(Text, nullable=True)


class Probe(Base):
    """One probe of one page of a site: one GET, redirects not followed, within the timeout."""

    __tablename__ = "probes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("probe_rounds.id", ondelete="CASCADE"), index=True)
    site_code: Mapped[str] = mapped_column(String(32), index=True)
    url: Mapped[str] = mapped_column(Text)  # the public URL probed
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    ok: Mapped[bool] = mapped_column(Boolean)
    status: Mapped[int | None] = mapped_column(Integer, nullable=True)
    elapsed_ms: Mapped[int | None] = mapped_column(Integer, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)


class HealthSnapshot(Base):
    """One day's status of one site-health indicator of one site (the trend of the score cards)."""

    __tablename__ = "health_snapshots"

    site_code: Mapped[str] = mapped_column(String(32), primary_key=True)
    indicator: Mapped[str] = mapped_column(String(40), primary_key=True)
    day: Mapped[str] = mapped_column(String(10), primary_key=True)  # YYYY-MM-DD, Asia/Shanghai
    status: Mapped[str] = mapped_column(String(8))  # pass | warn | veto
    value: Mapped[float | None] = mapped_column(Float, nullable=True)
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class LogFile(Base):
    """One access-log file ingested (or being ingested), known by its identity: the SHA-256 of
    its first line (decompressed), so a file renamed by rotation, gzipped or delivered again is
    the same file. ``offset`` is how far its decompressed bytes are counted (always at a line's
    end), written in the same transaction as the counts of those lines: a line is counted once,
    whatever stops the ingest. ``state`` holds what the next line needs (the W3C ``#Fields``
    layout in force, the open flood windows)."""

    __tablename__ = "log_files"

    identity: Mapped[str] = mapped_column(String(64), primary_key=True)
    site_code: Mapped[str] = mapped_column(String(32))
    path: Mapped[str] = mapped_column(Text)  # where it was last read
    format: Mapped[str] = mapped_column(String(16))
    offset: Mapped[int] = mapped_column(BigInteger, default=0)
    lines: Mapped[int] = mapped_column(BigInteger, default=0)  # lines counted (directives included)
    malformed: Mapped[int] = mapped_column(BigInteger, default=0)
    state: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    first_seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class LogCount(Base):
    """One counter of one site's access logs on one day (Asia/Shanghai): ``kind`` and ``key``
    say what is counted (docs/logs.md lists them), ``hits`` the requests and ``bytes`` the bytes
    sent to them."""

    __tablename__ = "log_counts"

    site_code: Mapped[str] = mapped_column(String(32), primary_key=True)
    day: Mapped[str] = mapped_column(String(10), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    key: Mapped[str] = mapped_column(String(400), primary_key=True)
    hits: Mapped[int] = mapped_column(BigInteger, default=0)
    bytes: Mapped[int] = mapped_column(BigInteger, default=0)

    __table_args__ = (
        Index("ix_log_counts_site_kind", "site_code", "kind", "day"),
    )


class LogVisitor(Base):
    """A visitor (a keyed hash of the client address and User-Agent, never the address) seen
    on a site on a day: the unique visitors are these rows."""

    __tablename__ = "log_visitors"

    site_code: Mapped[str] = mapped_column(String(32), primary_key=True)
    day: Mapped[str] = mapped_column(String(10), primary_key=True)
    visitor: Mapped[str] = mapped_column(String(32), primary_key=True)


class LogMalformed(Base):
    """A sample of the lines of a log file that could not be read (the first few per file)."""

    __tablename__ = "log_malformed"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    identity: Mapped[str] = mapped_column(String(64))
    site_code: Mapped[str] = mapped_column(String(32))
    line_no: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(String(200))
    sample: Mapped[str] = mapped_column(Text)
