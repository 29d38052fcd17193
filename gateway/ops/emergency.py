"""The emergency copy: bring the search index back from the store alone (``blgw restore``).

The store keeps the last GOOD version of every document (its normalized item and its raw
page; a worse re-fetch — an error page, an empty page — never replaces it, see
:func:`gateway.store.repository.degradation`), so the index can always be rebuilt from it, and
the API serves a read-only copy of an article while its subsite is down
(:mod:`gateway.api.emergency`). ``blgw restore`` is the command.

:func:`restore_index` is :func:`gateway.ops.indexing.rebuild_index` (every ACTIVE document's
stored item into a new index, swapped in atomically; documents read from the store in short
keyset batches; an item that cannot be read any more skipped and named; the outbox rows that
existed when it started dropped), then applies what was queued while it ran. :func:`verify_index` compares the index with the store: same number of documents, a
random sample of stored documents fetched back by id equal to what the store says, a sample
of gone documents absent.

An embedded index file that SQLite cannot read (garbage, a torn copy, a failed disk) is moved
aside to ``<file>.corrupt-<UTC timestamp>`` (with its ``-wal``/``-shm`` files), never deleted,
and rebuilt. A database that is readable but not a search index (the store, say) is refused.
"""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func, select

from gateway.ops.indexing import BATCH, UNREADABLE, RebuildReport, rebuild_index, search_document, sync_index
from gateway.store.models import Document
from gateway.store.repository import count_documents, count_outbox
from gateway.store.session import Store
from index.base import SearchIndex
from normalizers.models import parse_item

__all__ = ["CheckReport", "RestoreReport", "index_file_problem", "move_aside", "restore_index", "verify_index"]

SAMPLE = 50
SQLITE_HEADER = b"SQLite format 3\x00"


@dataclass
class RestoreReport(RebuildReport):
    synced: int = 0  # changes queued during the rebuild, applied afterwards


@dataclass
class CheckReport:
    store_active: int = 0
    store_gone: int = 0
    indexed: int = 0
    pending_outbox: int = 0
    sampled: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # sampled, not in the index
    different: list[str] = field(default_factory=list)  # sampled, in the index with other content
    unreadable: list[str] = field(default_factory=list)  # sampled, stored item cannot be parsed
    gone_sampled: int = 0
    gone_present: list[str] = field(default_factory=list)  # gone in the store, still in the index

    @property
    def problems(self) -> list[str]:
        out = []
        if self.indexed != self.store_active:
            msg = (f"the index holds {self.indexed} documents, the store {self.store_active} active ones "
                   f"({self.indexed - self.store_active:+d})")
            if self.pending_outbox:
                msg += f"; {self.pending_outbox} change(s) are still queued in the outbox (`blgw index sync`)"
            out.append(msg)
        if self.missing:
            out.append(f"{len(self.missing)} of {len(self.sampled)} sampled documents are not in the index: "
                       + ", ".join(self.missing[:5]) + (" …" if len(self.missing) > 5 else ""))
        if self.different:
            out.append(f"{len(self.different)} of {len(self.sampled)} sampled documents differ in the index "
                       "from the store: " + ", ".join(self.different[:5]) + (" …" if len(self.different) > 5 else ""))
        if self.unreadable:
            out.append(f"{len(self.unreadable)} sampled stored items cannot be read: " + ", ".join(self.unreadable[:5]))
        if self.gone_present:
            out.append(f"{len(self.gone_present)} gone documents are still in the index: "
                       + ", ".join(self.gone_present[:5]))
        return out

    @property
    def ok(self) -> bool:
        return not self.problems


# --- the embedded index file ---------------------------------------------------------------


def index_file_problem(path: Path) -> str | None:
    """Why SQLite cannot read the index file ``path`` (``PRAGMA quick_check`` fails, or it is
    not a database at all), or None: readable, empty (0 bytes) or missing. Whether it is a
    *search index* is the index's own check. A file that cannot be opened or is locked (not
    corruption) raises :class:`sqlite3.OperationalError`."""
    if not path.exists() or path.stat().st_size == 0:
        return None
    with path.open("rb") as f:
        header = f.read(len(SQLITE_HEADER))
    if header != SQLITE_HEADER:
        return f"not a SQLite database (the file starts with {header[:16]!r})"
    # Read-only: the probe never checkpoints, truncates or deletes the file's -wal (a read-write
    # connection deletes it on close), so what is moved aside is what was there.
    conn = sqlite3.connect(f"{path.resolve().as_uri().replace('file://', 'file:', 1)}?mode=ro", uri=True, timeout=30)
    try:
        rows = [r[0] for r in conn.execute("PRAGMA quick_check").fetchall()]
    except sqlite3.OperationalError:
        raise  # locked, unreadable folder…: not a reason to move the file
    except sqlite3.DatabaseError as exc:  # file is not a database, disk image is malformed
        return f"{type(exc).__name__}: {exc}"
    finally:
        conn.close()
    if rows != ["ok"]:
        return "PRAGMA quick_check: " + "; ".join(str(r) for r in rows[:3])
    return None


def move_aside(path: Path, now: dt.datetime | None = None) -> Path:
    """Rename an unreadable index file (and its ``-wal``, ``-shm``, ``-journal`` files, which
    must never be replayed into a new file) to ``<name>.corrupt-<UTC timestamp>[-N]``; return
    the new path of the main file. Nothing is deleted."""
    stamp = (now or dt.datetime.now(dt.UTC)).strftime("%Y%m%dT%H%M%SZ")
    target = path.with_name(f"{path.name}.corrupt-{stamp}")
    n = 1
    while target.exists():
        target = path.with_name(f"{path.name}.corrupt-{stamp}-{n}")
        n += 1
    for suffix in ("-wal", "-shm", "-journal"):
        side = path.with_name(path.name + suffix)
        if side.exists():
            os.replace(side, target.with_name(target.name + suffix))
    os.replace(path, target)
    return target


# --- restore and verify --------------------------------------------------------------------


def restore_index(store: Store, index: SearchIndex, *, batch: int = BATCH) -> RestoreReport:
    """Replace the index with the store's active documents (:func:`~gateway.ops.indexing.rebuild_index`:
    atomically, unreadable items skipped and named, the outbox it covers dropped), then apply
    the changes queued meanwhile (:func:`~gateway.ops.indexing.sync_index`)."""
    rebuilt = rebuild_index(store, index, batch=batch)
    synced = sync_index(store, index, batch=batch)
    return RestoreReport(indexed=rebuilt.indexed, skipped=rebuilt.skipped, outbox_cleared=rebuilt.outbox_cleared,
                         synced=synced.upserted + synced.deleted)


def verify_index(store: Store, index: SearchIndex, *, sample: int = SAMPLE) -> CheckReport:
    """Compare the index with the store (reads only): counts, ``sample`` random active
    documents fetched back by id, and up to ``sample`` // 5 (at least 1) gone ones."""
    report = CheckReport()
    with store.session() as session:
        report.store_active = count_documents(session)
        report.store_gone = count_documents(session, status="gone")
        report.pending_outbox = count_outbox(session)
        picked = session.execute(select(Document.id, Document.item).where(Document.status == "active")
                                 .order_by(func.random()).limit(max(sample, 0))).all()
        gone = list(session.scalars(select(Document.id).where(Document.status == "gone")
                                    .order_by(func.random()).limit(max(sample // 5, 1))))
    report.indexed = index.count()
    for doc_id, item in picked:
        report.sampled.append(doc_id)
        try:
            expected = search_document(parse_item(item))
        except UNREADABLE:
            report.unreadable.append(doc_id)
            continue
        got = index.get(doc_id)
        if got is None:
            report.missing.append(doc_id)
        elif got != expected:
            report.different.append(doc_id)
    report.gone_sampled = len(gone)
    report.gone_present = [doc_id for doc_id in gone if index.get(doc_id) is not None]
    return report
