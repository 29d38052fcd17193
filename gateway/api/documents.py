"""The stored items: ``GET /api/documents/{id}`` (one item of the exchange standard, the
emergency copy's data) and ``GET /api/feed`` (信息报送: items changed since a cursor, in change
order)."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query
from fastapi import Path as PathParam
from fastapi.exceptions import RequestValidationError
from sqlalchemy import and_, or_, select

from gateway.api.deps import DOCUMENT_ID, StoreDep
from gateway.api.models import DocumentOut, FeedEntry, FeedOut
from gateway.store.models import Document

__all__ = ["CURSOR_MAX", "CURSOR_MIN", "decode_cursor", "encode_cursor", "router"]

router = APIRouter(tags=["documents"])

CURSOR_MIN = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
CURSOR_MAX = dt.datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=dt.UTC)
"""The times a cursor may hold (a document's change time is always within them)."""


def encode_cursor(changed_at: dt.datetime, doc_id: str) -> str:
    raw = f"{changed_at.astimezone(dt.UTC).isoformat()}|{doc_id}"
    return base64.urlsafe_b64encode(raw.encode("utf-8")).decode("ascii").rstrip("=")


def decode_cursor(cursor: str) -> tuple[dt.datetime, str]:
    """The (UTC timestamp, id) of a cursor; ValueError when it is not one of ours (its time
    outside :data:`CURSOR_MIN` … :data:`CURSOR_MAX` included)."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        raw = base64.urlsafe_b64decode(padded.encode("ascii")).decode("utf-8")
        stamp, sep, doc_id = raw.partition("|")
        if not sep:
            raise ValueError("no separator")
        when = dt.datetime.fromisoformat(stamp)
    except (ValueError, UnicodeError, binascii.Error) as exc:
        raise ValueError(f"invalid cursor {cursor[:80]!r}: pass the next_cursor of a previous /api/feed answer") from exc
    if when.tzinfo is None:
        raise ValueError(f"invalid cursor {cursor[:80]!r}: timestamp without time zone")
    if not DOCUMENT_ID.fullmatch(doc_id):
        raise ValueError(f"invalid cursor {cursor[:80]!r}: no document id")
    try:
        when = when.astimezone(dt.UTC)
        in_range = CURSOR_MIN <= when <= CURSOR_MAX
    except OverflowError:  # 0001-01-01T00:00+05:00 is in year 0
        in_range = False
    if not in_range:
        raise ValueError(f"invalid cursor {cursor[:80]!r}: its time is outside {CURSOR_MIN:%Y-%m-%d} to "
                         f"{CURSOR_MAX:%Y-%m-%d} (UTC)")
    return when, doc_id


@router.get("/api/documents/{doc_id}", response_model=DocumentOut,
            summary="The stored item (the emergency copy), from the store",
            responses={404: {"description": "Unknown id"}})
def api_document(store: StoreDep, doc_id: Annotated[str, PathParam(max_length=64)]) -> DocumentOut:
    with store.session() as session:
        doc = session.get(Document, doc_id) if DOCUMENT_ID.fullmatch(doc_id) else None
        if doc is None:
            raise HTTPException(404, detail=f"no document {doc_id!r}")
        return DocumentOut(id=doc.id, status=doc.status, site_code=doc.site_code, url=doc.url,
                           title=doc.title, first_seen_at=doc.first_seen_at, last_seen_at=doc.last_seen_at,
                           last_changed_at=doc.last_changed_at, item=doc.item)


@router.get("/api/feed", response_model=FeedOut, summary="信息报送: items changed since a cursor, in change order")
def api_feed(
    store: StoreDep,
    since: Annotated[str | None, Query(max_length=400, description="next_cursor of a previous answer; omit to start "
                                                                  "(anything else: 422)")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> FeedOut:
    stmt = select(Document).order_by(Document.last_changed_at, Document.id).limit(limit + 1)
    if since:
        try:
            when, after = decode_cursor(since)
        except ValueError as exc:
            # the 422 of every other bad parameter, naming this one
            raise RequestValidationError([{"type": "value_error", "loc": ("query", "since"),
                                           "msg": f"since: {exc}"}]) from None
        stmt = stmt.where(or_(Document.last_changed_at > when,
                              and_(Document.last_changed_at == when, Document.id > after)))
    with store.session() as session:
        docs = list(session.scalars(stmt))
        more = len(docs) > limit
        docs = docs[:limit]
        items = [FeedEntry(id=d.id, status=d.status, site_code=d.site_code, url=d.url,
                           last_changed_at=d.last_changed_at, item=d.item) for d in docs]
    cursor = encode_cursor(docs[-1].last_changed_at, docs[-1].id) if docs else (since or None)
    return FeedOut(items=items, next_cursor=cursor, has_more=more)
