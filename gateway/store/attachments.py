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

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from gateway.store.blobs import BlobStore
from gateway.store.models import AttachmentFile, Document, DocumentAttachment, utcnow
from normalizers.models import document_id

__all__ = [
    "RETRY_STATES",
    "MissingBlob",
    "content_disposition",
    "due_attachments",
    "known_text",
    "link_attachments",
    "record_failed",
    "record_stored",
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


def due_attachments(session: Session, site_code: str, limit: int = 10_000) -> list[AttachmentFile]:
    """The attachments of the site the next crawl fetches: linked by an active document and
    pending or failed (oldest attempt first)."""
    linked = (select(DocumentAttachment.attachment_id)
              .join(Document, Document.id == DocumentAttachment.document_id)
              .where(Document.status == "active"))
    stmt = (select(AttachmentFile)
            .where(AttachmentFile.site_code == site_code, AttachmentFile.status.in_(RETRY_STATES),
                   AttachmentFile.id.in_(linked))
            .order_by(AttachmentFile.checked_at.is_not(None), AttachmentFile.checked_at, AttachmentFile.id)
            .limit(limit))
    return list(session.scalars(stmt))


@dataclass(frozen=True, slots=True)
class KnownText:
    """The text already read from some bytes (read once per SHA-256)."""

    status: str
    text: str | None
    truncated: bool
    pages: int | None
    title: str | None


def known_text(session: Session, sha256: str) -> KnownText | None:
    """What was read from the file with this SHA-256 before (by any attachment, any site)."""
    row = session.execute(
        select(AttachmentFile.text_status, AttachmentFile.text, AttachmentFile.text_truncated,
               AttachmentFile.pages, AttachmentFile.title)
        .where(AttachmentFile.sha256 == sha256, AttachmentFile.status == "stored",
               AttachmentFile.text_status.is_not(None))
        .limit(1)).first()
    if row is None:
        return None
    status, text, truncated, pages, title = row
    return KnownText(status or "error", text, truncated, pages, title)


def _row(session: Session, attachment_id: str) -> AttachmentFile:
    row = session.get(AttachmentFile, attachment_id)
    if row is None:
        raise KeyError(f"no attachment {attachment_id} in the store")
    return row


def record_stored(session: Session, attachment_id: str, *, sha256: str, size: int, content_type: str,
                  family: str, name: str | None, etag: str | None, last_modified: str | None,
                  text: KnownText, error: str | None = None, at: dt.datetime | None = None) -> bool:
    """The attachment's bytes are in the blob store: its row says so; whether the file changed
    (another SHA-256 than the one stored before: its documents are changed items)."""
    row = _row(session, attachment_id)
    at = at or utcnow()
    changed = row.sha256 != sha256
    row.status, row.sha256, row.size, row.content_type, row.family = "stored", sha256, size, content_type, family
    row.name = name or row.name
    row.etag, row.last_modified = etag, last_modified
    row.fetched_at = row.checked_at = at
    row.attempts, row.error = 0, error
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
