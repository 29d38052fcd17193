"""Keep the search index in step with the store (the store is the source of truth).

Every document change is queued in the store's outbox (``index_outbox``) in the same
transaction as the change itself (:func:`gateway.store.repository.upsert_article`,
:func:`~gateway.store.repository.mark_gone`), so a committed change is always queued and a
rolled-back one never is. :func:`sync_index` applies the queue in id order, batch by batch, and
deletes a batch's rows only after the index accepted it: if the index is down, the rows stay
and the next sync catches up. :func:`rebuild_index` builds a new index from the store alone
(:meth:`SearchIndex.rebuild`, swapped in atomically) and drops the queue it has covered.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from gateway.store.models import Document
from gateway.store.repository import (
    delete_outbox,
    iter_items,
    last_outbox_id,
    outbox_batch,
)
from gateway.store.session import Store
from index.base import SearchIndex
from normalizers.models import Article, Letter, Navigation, Organisation, ServiceGuide, parse_item


def search_document(item: Article | Organisation | ServiceGuide | Letter | Navigation) -> Article:
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
    """Apply the outbox to the index, oldest rows first, ``batch`` rows per store transaction;
    return the counts (``deleted``: documents the index actually removed).

    Within a batch, the rows of one document collapse to its last action. An ``upsert`` sends
    the document as stored now (a document that is gone by now is deleted instead). A batch's
    rows are deleted in the transaction that read them, after the index calls returned; if the
    index raises, that transaction rolls back, the rows stay for the next sync and the
    exception propagates (batches applied before it stay applied). Rows queued while the sync
    runs are left for the next one, so it always ends."""
    result = SyncResult()
    with store.session() as session:
        up_to = last_outbox_id(session)
    while True:
        with store.session() as session:
            rows = outbox_batch(session, limit=batch, up_to=up_to)
            if not rows:
                break
            last: dict[str, str] = {}
            for row in rows:
                last.pop(row.document_id, None)  # keep the order of the last occurrence
                last[row.document_id] = row.action
            wanted = [doc_id for doc_id, action in last.items() if action == "upsert"]
            stored = {
                d.id: d for d in session.scalars(select(Document).where(Document.id.in_(wanted)))
            } if wanted else {}
            upserts = [stored[i] for i in wanted if i in stored and stored[i].status == "active"]
            deletes = [i for i in last if i not in {d.id for d in upserts}]
            if upserts:
                result.upserted += index.upsert(search_document(parse_item(d.item)) for d in upserts)
            if deletes:
                result.deleted += index.delete(deletes)
            delete_outbox(session, [row.id for row in rows])
    return result


def rebuild_index(store: Store, index: SearchIndex) -> SyncResult:
    """Build a new index from the store alone (active documents) and swap it in
    (:meth:`SearchIndex.rebuild`; searches see the old index until then), then drop the outbox
    rows that existed when the rebuild started (changes queued during it stay for the next
    sync). ``upserted`` is the number of documents in the new index."""
    with store.session() as session:
        up_to = last_outbox_id(session)
    with store.session() as session:
        count = index.rebuild(search_document(item) for item in iter_items(session))
    with store.session() as session:
        delete_outbox(session, up_to=up_to)
    return SyncResult(upserted=count)
