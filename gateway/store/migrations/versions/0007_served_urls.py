"""served URLs: a stored document's URL is the URL as its server serves it, not its canonical key

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 19:50:00

Before this revision ``documents.url`` and the item's ``source_url`` held the canonical key
(``normalizers.urls.canonicalize_url``), which drops ``index.html``, writes a bare query key as
``key=`` and sorts the query: forms some servers do not serve. Each document's URL is rebuilt
from where it was fetched (``fetch_url``, rebased onto the stored URL's origin) in its served form
(``normalizers.urls.served_url``), only when that form has the same canonical key (the id never
changes), and the stored item is rewritten with it (its content hash recomputed, so the next
crawl sees it unchanged). Downgrade writes the canonical keys back.
"""
import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

BATCH = 500


def _rewrite(to_served: bool) -> None:
    # imported here: a data migration needs the URL rules and the item models of this version
    from normalizers.models import parse_item
    from normalizers.urls import canonicalize_url, origin, rebase, served_url

    bind = op.get_bind()
    documents = sa.table("documents", sa.column("id", sa.String), sa.column("url", sa.Text),
                         sa.column("fetch_url", sa.Text), sa.column("item", sa.JSON),
                         sa.column("content_hash", sa.String))
    last = ""
    while True:
        rows = bind.execute(sa.select(documents.c.id, documents.c.url, documents.c.fetch_url, documents.c.item)
                            .where(documents.c.id > last).order_by(documents.c.id).limit(BATCH)).all()
        if not rows:
            return
        last = rows[-1][0]
        for doc_id, url, fetch_url, item in rows:
            key = canonicalize_url(url)
            if to_served:
                fetched = fetch_url or url
                candidate = served_url(rebase(fetched, origin(fetched), origin(url)) if origin(fetched) else fetched)
            else:
                candidate = key
            if candidate == url or canonicalize_url(candidate) != key:
                continue
            values: dict[str, object] = {"url": candidate}
            try:
                exported = parse_item({**item, "source_url": candidate}).model_dump(mode="json")
            except Exception:  # noqa: BLE001 - an unreadable item keeps its JSON; its URL still moves
                exported = None
            if exported is not None:
                values.update(item=exported, content_hash=exported["content_hash"])
            bind.execute(sa.update(documents).where(documents.c.id == doc_id).values(**values))


def upgrade() -> None:
    _rewrite(to_served=True)


def downgrade() -> None:
    _rewrite(to_served=False)
