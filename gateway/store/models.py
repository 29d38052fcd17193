"""Tables of the store, the gateway's source of truth (the index is rebuilt from it)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    JSON,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator):
    """Timezone-aware datetimes stored as UTC (SQLite has no time zones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: the store keeps aware datetimes only")
        return value.astimezone(dt.UTC)

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return value


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


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
    stats: Mapped[dict] = mapped_column(JSON, default=dict)

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
    item: Mapped[dict] = mapped_column(JSON)  # the Article, as exported
    status: Mapped[str] = mapped_column(String(16), default="active")  # active | gone
    first_seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    last_changed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    last_run_id: Mapped[int | None] = mapped_column(ForeignKey("crawl_runs.id"), nullable=True)
    http_status: Mapped[int] = mapped_column(Integer, default=200)
    raw_content_type: Mapped[str | None] = mapped_column(String(200), nullable=True)
    raw_page: Mapped[bytes] = mapped_column(LargeBinary)  # zlib-compressed bytes as fetched

    __table_args__ = (
        Index("ix_documents_site_status", "site_code", "status"),
    )


class IndexOutbox(Base):
    """What the search index still has to be told: one row per document change, written in the
    same transaction as the change (so a change is queued if and only if it is committed), and
    deleted by :func:`gateway.indexing.sync_index` once the index has applied it.

    ``action`` is ``upsert`` (send the stored item) or ``delete`` (the document is gone); for
    one document the row with the highest id wins."""

    __tablename__ = "index_outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    document_id: Mapped[str] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(8))  # upsert | delete
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        CheckConstraint("action IN ('upsert', 'delete')", name="action"),
        Index("ix_index_outbox_id", "id"),
    )
