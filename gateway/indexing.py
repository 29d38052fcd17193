"""Keep the search index in step with the store (the store is the source of truth).

Each document row remembers the content hash of the version in the index (``indexed_hash``);
``sync`` sends only documents whose stored version differs, and removes gone ones, so it can
run after every crawl and, after an index loss, ``rebuild`` starts from an empty index.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, update

from gateway.store.models import Document
from gateway.store.repository import mark_indexed, pending_for_index, reset_indexed
from gateway.store.session import Store
from index.base import SearchIndex
from normalizers.models import Article, parse_item


def search_document(item) -> Article:
    """What the index holds for an item: articles as they are; service guides, letters and
    organisation pages as an article-shaped record of their title and searchable text, so the
    portal's one search box finds them too."""
    if isinstance(item, Article):
        return item
    return Article(
        id=item.id, site_code=item.site_code, column_path=item.column_path, category=item.category,
        title=item.display_title, published_at=getattr(item, "asked_at", None),
        body_text=item.search_text(), body_html="", source_url=item.source_url, fetched_at=item.fetched_at,
    )


@dataclass
class SyncResult:
    upserted: int = 0
    deleted: int = 0


def sync_index(store: Store, index: SearchIndex, batch: int = 500) -> SyncResult:
    """Send changed documents to the index and delete gone ones; return the counts."""
    result = SyncResult()
    while True:
        with store.session() as session:
            documents = pending_for_index(session, limit=batch)
            if not documents:
                break
            index.upsert(search_document(parse_item(d.item)) for d in documents)
            mark_indexed(session, [(d.id, d.content_hash) for d in documents])
            result.upserted += len(documents)
    with store.session() as session:
        gone = list(session.scalars(
            select(Document.id).where(Document.status == "gone", Document.indexed_hash.is_not(None))))
        if gone:
            result.deleted = index.delete(gone)
            session.execute(update(Document).where(Document.id.in_(gone)).values(indexed_hash=None))
    return result


def rebuild_index(store: Store, index: SearchIndex) -> SyncResult:
    """Empty the index and fill it again from the store alone."""
    index.clear()
    with store.session() as session:
        reset_indexed(session)
    return sync_index(store, index)
