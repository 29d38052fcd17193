"""The store's side of attachments: which documents link which file, what each fetch gave.

A document's attachment links are replaced whenever it is stored (:func:`link_attachments`,
in the transaction that stores it), so an attachment that is linked and has no file yet is
``pending`` in the store itself: a crawl that is killed before it fetched the file leaves the
row pending, and the next crawl of the site fetches it (:func:`due_attachments`). A fetch ends
as :func:`record_stored` (the bytes are in the blob store, the text read once per SHA-256),
:func:`record_failed` (named, fetched again next time) or ``too-large`` (the link is kept, the
file is not). :func:`verify_blobs` is what ``blgw restore`` checks: every stored file of an
active document present in the blob store with its SHA-256.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import quote

from sqlalchemy import Select, delete, select, update
from sqlalchemy.orm import Session

from gateway.store.blobs import BlobStore
from gateway.store.models import AttachmentFile, Document, DocumentAttachment, utcnow
from gateway.store.repository import enqueue_index
from normalizers.models import ATTACHMENT_TEXT_INLINE, Attachment, ExchangeItem, document_id, parse_item

__all__ = [
    "FILE_FIELDS",
    "RETRY_STATES",
    "MissingBlob",
    "content_disposition",
    "due_attachments",
    "enriched",
    "file_url",
    "known_text",
    "link_attachments",
    "linked_by_active",
    "linked_files",
    "recheck_attachments",
    "record_failed",
    "record_stored",
    "refetch_missing",
    "refresh_documents",
    "rows_for",
    "text_url",
    "verify_blobs",
]

RETRY_STATES = ("pending", "failed")
"""The states whose attachments the next crawl of their site fetches."""


def link_attachments(session: Session, site_code: str, links: Mapping[str, Iterable[str]]) -> list[str]:
    """Replace the attachment links of each document (document id → attachment URLs, in order)
    and create a ``pending`` row for every URL the store does not know yet; the ids of the
    linked attachments that are due (pending or failed), in link order."""
    if not links:
        return []
    wanted: dict[str, str] = {}
    pairs: set[tuple[str, str]] = set()
    for doc_id, urls in links.items():
        for url in urls:
            att_id = document_id(url)
            wanted.setdefault(att_id, url)
            pairs.add((doc_id, att_id))
    session.execute(delete(DocumentAttachment).where(DocumentAttachment.document_id.in_(list(links))))
    if not wanted:
        return []
    known = dict(session.execute(select(AttachmentFile.id, AttachmentFile.status)
                                 .where(AttachmentFile.id.in_(list(wanted)))).all())
    for att_id, url in wanted.items():
        if att_id not in known:
            session.add(AttachmentFile(id=att_id, site_code=site_code, url=url, status="pending"))
            known[att_id] = "pending"
    session.flush()  # the rows the links refer to
    session.add_all(DocumentAttachment(document_id=d, attachment_id=a) for d, a in sorted(pairs))
    return [a for a in wanted if known[a] in RETRY_STATES]


def linked_by_active() -> Select[str]:
    """The ids of the attachments an active document links (a subquery)."""
    return (select(DocumentAttachment.attachment_id)
            .join(Document, Document.id == DocumentAttachment.document_id)
            .where(Document.status == "active"))


def due_attachments(session: Session, site_code: str, limit: int = 10_000, *,
                    stale_before: dt.datetime | None = None, max_attempts: int | None = None) -> list[AttachmentFile]:
    """The attachments of the site the next crawl fetches, linked by an active document: the
    pending ones; the failed ones (after ``max_attempts`` failures in a row, only once their last
    attempt is older than ``stale_before``); and, given ``stale_before``, the kept and too-large
    ones whose last check is older than it or was cleared (:func:`recheck_attachments`: their
    document changed). Never checked first, then oldest check first."""
    linked = linked_by_active()
    failed = AttachmentFile.status == "failed"
    if max_attempts is not None:
        failed = failed & (AttachmentFile.attempts < max_attempts)
    due = (AttachmentFile.status == "pending") | failed
    if stale_before is not None:
        due = due | (AttachmentFile.checked_at.is_(None) | (AttachmentFile.checked_at < stale_before))
    stmt = (select(AttachmentFile)
            .where(AttachmentFile.site_code == site_code, due, AttachmentFile.id.in_(linked))
            .order_by(AttachmentFile.checked_at.is_not(None), AttachmentFile.checked_at, AttachmentFile.id)
            .limit(limit))
    return list(session.scalars(stmt))


def recheck_attachments(session: Session, document_ids: Iterable[str]) -> int:
    """The kept files of these documents (changed ones: a new version of a file may sit under
    the same URL) are checked again by the next fetch (conditional GET); how many."""
    ids = list(document_ids)
    if not ids:
        return 0
    linked = select(DocumentAttachment.attachment_id).where(DocumentAttachment.document_id.in_(ids))
    result = session.execute(update(AttachmentFile).where(AttachmentFile.id.in_(linked),
                                                          AttachmentFile.status.in_(("stored", "too-large")))
                             .values(checked_at=None))
    return int(getattr(result, "rowcount", 0) or 0)


@dataclass(frozen=True, slots=True)
class KnownText:
    """The text already read from some bytes (read once per SHA-256)."""

    status: str
    text: str | None
    truncated: bool
    pages: int | None
    title: str | None
    error: str | None = None  # status error: why, naming the file


def known_text(session: Session, sha256: str) -> KnownText | None:
    """What was read from the file with this SHA-256 before (by any attachment, any site)."""
    row = session.execute(
        select(AttachmentFile.text_status, AttachmentFile.text, AttachmentFile.text_truncated,
               AttachmentFile.pages, AttachmentFile.title, AttachmentFile.error)
        .where(AttachmentFile.sha256 == sha256, AttachmentFile.status == "stored",
               AttachmentFile.text_status.is_not(None))
        .limit(1)).first()
    if row is None:
        return None
    status, text, truncated, pages, title, error = row
    return KnownText(status or "error", text, truncated, pages, title, error if status == "error" else None)


def _row(session: Session, attachment_id: str) -> AttachmentFile:
    row = session.get(AttachmentFile, attachment_id)
    if row is None:
        raise KeyError(f"no attachment {attachment_id} in the store")
    return row


def record_stored(session: Session, attachment_id: str, *, sha256: str, size: int, content_type: str,
                  family: str, name: str | None, etag: str | None, last_modified: str | None,
                  text: KnownText, at: dt.datetime | None = None) -> bool:
    """The attachment's bytes are in the blob store: its row says so; whether the file changed
    (another SHA-256 than the one stored before: its documents are changed items)."""
    row = _row(session, attachment_id)
    at = at or utcnow()
    changed = row.sha256 != sha256
    row.status, row.sha256, row.size, row.content_type, row.family = "stored", sha256, size, content_type, family
    row.name = name or row.name
    row.etag, row.last_modified = etag, last_modified
    row.fetched_at = row.checked_at = at
    row.attempts, row.error = 0, text.error
    row.text_status, row.text, row.text_truncated = text.status, text.text, text.truncated
    row.pages, row.title = text.pages, text.title
    return changed


def record_failed(session: Session, attachment_id: str, *, error: str, too_large: bool = False,
                  at: dt.datetime | None = None) -> None:
    """A fetch of the attachment failed (``too_large``: over the size cap). A file stored
    before stays stored (the last good copy is kept: its row keeps its SHA-256 and text, and
    says what the last fetch met); otherwise the row is ``failed`` or ``too-large``."""
    row = _row(session, attachment_id)
    row.checked_at = at or utcnow()
    row.attempts += 1
    row.error = error[:2000]
    if row.status != "stored":
        row.status = "too-large" if too_large else "failed"


@dataclass(frozen=True, slots=True)
class MissingBlob:
    """A stored file of an active document that the blob store does not have intact."""

    document_id: str
    attachment_url: str
    sha256: str
    why: str  # "missing" or "corrupt"


def verify_blobs(session: Session, blobs: BlobStore, site_code: str | None = None) -> tuple[int, list[MissingBlob]]:
    """Check that every stored attachment file of every active document (of one site, or all)
    is in ``blobs`` with its SHA-256; the number of files checked and the ones that are not."""
    stmt = (select(DocumentAttachment.document_id, AttachmentFile.url, AttachmentFile.sha256)
            .join(AttachmentFile, AttachmentFile.id == DocumentAttachment.attachment_id)
            .join(Document, Document.id == DocumentAttachment.document_id)
            .where(Document.status == "active", AttachmentFile.status == "stored")
            .order_by(DocumentAttachment.document_id, AttachmentFile.url))
    if site_code is not None:
        stmt = stmt.where(Document.site_code == site_code)
    verdicts: dict[str, str | None] = {}  # per SHA-256, checked once
    missing: list[MissingBlob] = []
    for doc_id, url, sha in session.execute(stmt):
        assert sha is not None
        if sha not in verdicts:
            verdicts[sha] = None if blobs.verify(sha) else ("corrupt" if blobs.exists(sha) else "missing")
        if (why := verdicts[sha]) is not None:
            missing.append(MissingBlob(doc_id, url, sha, why))
    return len(verdicts), missing


def content_disposition(name: str, *, inline: bool = False) -> str:
    """A ``Content-Disposition`` value carrying ``name`` (a Chinese file name) to every browser:
    RFC 6266 with an ASCII ``filename`` fallback and the exact name in RFC 5987's
    ``filename*=UTF-8''…``; quotes, backslashes, control characters and path separators never
    reach the header."""
    clean = "".join(c for c in name if c.isprintable() and c not in '/\\"').strip() or "attachment"
    fallback = "".join(c if c.isascii() and (c.isalnum() or c in " ._-()[]") else "_" for c in clean)
    stem, dot, ext = fallback.rpartition(".")
    if dot and not stem.strip("_ "):  # all of the name was Chinese: keep at least the extension
        fallback = f"attachment.{ext}"
    disposition = "inline" if inline else "attachment"
    return f"{disposition}; filename=\"{fallback}\"; filename*=UTF-8''{quote(clean, safe='')}"


def text_url(attachment_id: str) -> str:
    """The gateway API path serving an attachment's whole text."""
    return f"/api/attachments/{attachment_id}/text"


def file_url(document_id_: str, attachment_id: str) -> str:
    """The emergency copy's path serving an attachment's stored file (a download)."""
    return f"/cached/{document_id_}/attachments/{attachment_id}"


def rows_for(session: Session, urls: Iterable[str]) -> dict[str, AttachmentFile]:
    """The store's rows of these attachment URLs, by URL (the ones it has)."""
    ids = {document_id(u): u for u in urls}
    if not ids:
        return {}
    rows = session.scalars(select(AttachmentFile).where(AttachmentFile.id.in_(list(ids))))
    return {ids[row.id]: row for row in rows}


def _entry(link: Attachment, row: AttachmentFile | None) -> Attachment:
    """``link`` as the page shows it (name, URL, type), with what the store knows of its file."""
    page = Attachment(name=link.name, url=link.url, file_type=link.file_type)  # every other field: pending
    if row is None:
        return page
    fields: dict[str, object] = {"status": row.status, "error": row.error, "file_name": row.name}
    if row.status == "stored":
        text, cut = row.text, False
        if text is not None and len(text) > ATTACHMENT_TEXT_INLINE:
            text, cut = text[:ATTACHMENT_TEXT_INLINE], True
        truncated = cut or row.text_truncated
        fields.update(sha256=row.sha256, size=row.size, content_type=row.content_type, file_format=row.family,
                      text_status=row.text_status, text=text, text_truncated=truncated,
                      text_url=text_url(row.id) if truncated else None, pages=row.pages, title=row.title)
    return page.model_copy(update=fields)


FILE_FIELDS = ("attachments", "forms")
"""The fields of the exchange standard's items that list files (an article's 附件, a service
guide's 表格下载)."""


def linked_files(item: ExchangeItem) -> list[Attachment]:
    """Every file an item links, in order (its attachments, then a guide's forms)."""
    return [a for name in FILE_FIELDS for a in (getattr(item, name, None) or [])]


def enriched(item: ExchangeItem, rows: Mapping[str, AttachmentFile]) -> ExchangeItem:
    """``item`` with each file entry carrying what the store knows of its file (``rows``: by
    URL, :func:`rows_for`); the same object when nothing changes."""
    update = {}
    for name in FILE_FIELDS:
        links: list[Attachment] | None = getattr(item, name, None)
        if not links:
            continue
        entries = [_entry(link, rows.get(str(link.url))) for link in links]
        if entries != links:
            update[name] = entries
    return item.model_copy(update=update) if update else item


def refresh_documents(session: Session, attachment_id: str, *, at: dt.datetime | None = None) -> list[str]:
    """Re-export every active document linking the attachment with what its row says now; the
    ids of the documents that changed (a new file, its text: a changed item, queued for the
    search index in this transaction)."""
    docs = session.scalars(select(Document)
                           .join(DocumentAttachment, DocumentAttachment.document_id == Document.id)
                           .where(DocumentAttachment.attachment_id == attachment_id, Document.status == "active"))
    changed = []
    for doc in docs:
        item = parse_item(doc.item)
        new = enriched(item, rows_for(session, [str(a.url) for a in linked_files(item)]))
        exported = new.model_dump(mode="json")
        if exported["content_hash"] == doc.content_hash:
            continue
        doc.item, doc.content_hash = exported, exported["content_hash"]
        doc.last_changed_at = at or utcnow()
        enqueue_index(session, doc.id, "upsert")
        changed.append(doc.id)
    return changed


def refetch_missing(session: Session, missing: Iterable[MissingBlob]) -> int:
    """The attachments whose kept file is missing or corrupt are fetched again, whole, by the
    next crawl of their site (their last check cleared); how many rows."""
    shas = sorted({m.sha256 for m in missing})
    if not shas:
        return 0
    result = session.execute(update(AttachmentFile).where(AttachmentFile.sha256.in_(shas))
                             .values(checked_at=None, etag=None, last_modified=None))
    return int(getattr(result, "rowcount", 0) or 0)
