"""The content-addressed blob store of attachments (``gateway.store.blobs``)."""

from __future__ import annotations

import hashlib
import os
import threading
import time

import pytest

from gateway.store.blobs import BlobError, BlobTooLarge, FolderBlobStore

PDF = b"%PDF-1.4\n" + "关于印发就业补助资金管理办法的通知".encode() * 2000


def test_one_copy_per_content_named_by_its_sha256(tmp_path):
    store = FolderBlobStore(tmp_path / "blobs")
    first = store.put_bytes(PDF)
    again = store.put([PDF[:1000], PDF[1000:]])  # the same bytes, streamed in pieces
    assert first.sha256 == again.sha256 == hashlib.sha256(PDF).hexdigest()
    assert (first.new, again.new) == (True, False)
    assert first.size == len(PDF)
    assert list(store) == [first.sha256]
    path = store.path(first.sha256)
    assert path.relative_to(tmp_path / "blobs").parts == (first.sha256[:2], first.sha256[2:4], first.sha256)
    with store.open(first.sha256) as f:
        assert f.read() == PDF
    assert store.size(first.sha256) == len(PDF) and store.verify(first.sha256)
    assert list((tmp_path / "blobs" / "tmp").iterdir()) == []  # no temporary file left


def test_over_the_size_limit_nothing_is_stored(tmp_path):
    store = FolderBlobStore(tmp_path)
    endless = (b"\x00" * 65536 for _ in range(10_000))  # an endless download, cut at the limit
    with pytest.raises(BlobTooLarge, match="1,000,000 bytes"):
        store.put(endless, max_bytes=1_000_000)
    assert list(store) == [] and list((tmp_path / "tmp").iterdir()) == []
    assert store.put_bytes(b"x" * 1000, max_bytes=1000).size == 1000  # at the limit: stored


def test_a_write_that_fails_midway_leaves_nothing(tmp_path):
    store = FolderBlobStore(tmp_path)

    def broken():
        yield PDF[:5000]
        raise ConnectionResetError("the subsite closed the connection")

    with pytest.raises(ConnectionResetError):
        store.put(broken())
    assert list(store) == [] and list((tmp_path / "tmp").iterdir()) == []


def test_a_damaged_blob_fails_verification_and_a_missing_one_is_named(tmp_path):
    store = FolderBlobStore(tmp_path)
    ref = store.put_bytes(PDF)
    store.path(ref.sha256).write_bytes(PDF[:-1] + b"!")  # bit rot, or a hand edit
    assert not store.verify(ref.sha256)
    missing = hashlib.sha256(b"never stored").hexdigest()
    assert not store.exists(missing) and not store.verify(missing)
    with pytest.raises(BlobError, match=missing):
        store.open(missing)


@pytest.mark.parametrize("name", ["../../etc/passwd", "A" * 64, "abc", "0" * 63 + "/"])
def test_names_that_are_not_sha256_are_refused(tmp_path, name):
    with pytest.raises(BlobError, match="not a blob name"):
        FolderBlobStore(tmp_path).path(name)


def test_concurrent_writers_of_the_same_content_store_one_blob(tmp_path):
    store = FolderBlobStore(tmp_path)
    refs = []
    threads = [threading.Thread(target=lambda: refs.append(store.put_bytes(PDF))) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert {r.sha256 for r in refs} == {hashlib.sha256(PDF).hexdigest()}
    assert list(store) == [refs[0].sha256] and store.verify(refs[0].sha256)


def test_sweep_removes_what_a_crashed_write_left_and_keeps_a_write_in_progress(tmp_path):
    store = FolderBlobStore(tmp_path)
    (tmp_path / "tmp").mkdir()
    old, young = tmp_path / "tmp" / "put-old", tmp_path / "tmp" / "put-young"
    old.write_bytes(b"half a file")
    young.write_bytes(b"being written")
    os.utime(old, (time.time() - 7200, time.time() - 7200))
    assert store.sweep(older_than_seconds=3600) == 1
    assert not old.exists() and young.exists()


def test_an_unwritable_folder_is_named(tmp_path):
    blocker = tmp_path / "blobs"
    blocker.write_text("a file where the folder should be")
    with pytest.raises(BlobError, match=str(blocker)):
        FolderBlobStore(blocker).put_bytes(PDF)
