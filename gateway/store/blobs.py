"""Content-addressed storage of attachment bytes: one copy per content, however many items or
sites link it.

A blob is named by the SHA-256 of its bytes. :class:`BlobStore` is the small interface the
crawl, the emergency copy and ``blgw restore`` use; :class:`FolderBlobStore` keeps blobs as
files in a folder (under the data dir by default; a shared mount when several workers crawl),
so an object store (S3/OSS/MinIO: put by key, get by key, head) can implement the same five
methods later.

Writes are atomic and durable: the bytes go to a temporary file in the store's own ``tmp/``
folder (same file system), are flushed and fsynced while their hash is computed, then renamed
into place (``os.replace``) and the folder fsynced. A crash leaves either the whole blob or a
temporary file that the next :meth:`FolderBlobStore.sweep` removes, never a partial blob under a
real name. Writing a blob that exists costs the hash and nothing else; two writers of the same
content race harmlessly (the same bytes under the same name). A blob read back can be checked
(:meth:`BlobStore.verify`): the store never trusts a name it did not compute.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Protocol

__all__ = ["BlobError", "BlobRef", "BlobStore", "BlobTooLarge", "FolderBlobStore"]

_SHA256 = re.compile(r"^[0-9a-f]{64}$")
CHUNK = 1 << 20


class BlobError(Exception):
    """A blob could not be stored or read (the message names the blob or the folder)."""


class BlobTooLarge(BlobError):
    """The bytes went over the size limit of the write (nothing was stored)."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"over the size limit of {limit:,} bytes: not stored")
        self.limit = limit


@dataclass(frozen=True, slots=True)
class BlobRef:
    """A stored blob: its SHA-256 (hex) and size in bytes; ``new`` when this write stored it."""

    sha256: str
    size: int
    new: bool = False


class BlobStore(Protocol):
    """Where attachment bytes are kept (see the module documentation)."""

    def put(self, chunks: Iterable[bytes], *, max_bytes: int | None = None) -> BlobRef:
        """Store the bytes ``chunks`` yield; :class:`BlobTooLarge` past ``max_bytes``."""
        ...

    def exists(self, sha256: str) -> bool: ...

    def open(self, sha256: str) -> BinaryIO:
        """The blob's bytes, to read (``BlobError`` when it is missing)."""
        ...

    def size(self, sha256: str) -> int: ...

    def verify(self, sha256: str) -> bool:
        """Whether the blob is present and its bytes still hash to its name."""
        ...


def _check(sha256: str) -> str:
    if not _SHA256.match(sha256):
        raise BlobError(f"not a blob name (64 lower-case hex digits): {sha256!r}")
    return sha256


class FolderBlobStore:
    """Blobs as files ``<root>/<ab>/<cd>/<sha256>`` (two levels of 256 folders: no folder
    grows past a few thousand files at a district's scale)."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root).absolute()  # the readers run in another working folder
        self._tmp = self.root / "tmp"

    def path(self, sha256: str) -> Path:
        """Where the blob's file is (whether or not it exists): what the API serves."""
        _check(sha256)
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def put(self, chunks: Iterable[bytes], *, max_bytes: int | None = None) -> BlobRef:
        try:
            self._tmp.mkdir(parents=True, exist_ok=True)
            fd, tmp_name = tempfile.mkstemp(dir=self._tmp, prefix="put-")
        except OSError as exc:
            raise BlobError(f"cannot write in the blob folder {self.root}: {exc}") from exc
        tmp = Path(tmp_name)
        digest, size = hashlib.sha256(), 0
        try:
            with os.fdopen(fd, "wb") as out:
                for chunk in chunks:  # the source's own errors (a reset download) propagate as they are
                    size += len(chunk)
                    if max_bytes is not None and size > max_bytes:
                        raise BlobTooLarge(max_bytes)
                    digest.update(chunk)
                    self._io(out.write, chunk)
                self._io(out.flush)
                self._io(os.fsync, out.fileno())
            sha = digest.hexdigest()
            final = self.path(sha)
            if final.exists():
                return BlobRef(sha, size, new=False)
            self._io(final.parent.mkdir, parents=True, exist_ok=True)
            self._io(os.chmod, tmp, 0o644)
            self._io(os.replace, tmp, final)
            _fsync_dir(final.parent)
            return BlobRef(sha, size, new=True)
        finally:
            tmp.unlink(missing_ok=True)

    def _io(self, operation: Callable[..., object], *args: Any, **kwargs: Any) -> None:
        """A file operation of the store: its OSError (disk full, permissions) is a BlobError
        naming the folder."""
        try:
            operation(*args, **kwargs)
        except OSError as exc:
            raise BlobError(f"cannot store a blob in {self.root}: {exc}") from exc

    def put_bytes(self, data: bytes, *, max_bytes: int | None = None) -> BlobRef:
        return self.put([data], max_bytes=max_bytes)

    def exists(self, sha256: str) -> bool:
        return self.path(sha256).is_file()

    def open(self, sha256: str) -> BinaryIO:
        try:
            return self.path(sha256).open("rb")
        except FileNotFoundError:
            raise BlobError(f"blob {sha256} is missing from {self.root}") from None

    def size(self, sha256: str) -> int:
        try:
            return self.path(sha256).stat().st_size
        except FileNotFoundError:
            raise BlobError(f"blob {sha256} is missing from {self.root}") from None

    def verify(self, sha256: str) -> bool:
        try:
            with self.open(sha256) as f:
                digest = hashlib.sha256()
                while chunk := f.read(CHUNK):
                    digest.update(chunk)
        except BlobError:
            return False
        return digest.hexdigest() == sha256

    def __iter__(self) -> Iterator[str]:
        """The names of the stored blobs."""
        for path in self.root.glob("[0-9a-f][0-9a-f]/[0-9a-f][0-9a-f]/*"):
            if _SHA256.match(path.name) and path.name.startswith(path.parent.parent.name + path.parent.name):
                yield path.name

    def sweep(self, older_than_seconds: float = 3600) -> int:
        """Remove temporary files a crashed write left (older than the given age: a write in
        progress elsewhere is younger); returns how many."""
        removed = 0
        cutoff = time.time() - older_than_seconds
        for path in self._tmp.glob("put-*") if self._tmp.is_dir() else ():
            try:
                if path.stat().st_mtime < cutoff:
                    path.unlink()
                    removed += 1
            except FileNotFoundError:
                continue
        return removed


def _fsync_dir(folder: Path) -> None:
    """Make a rename in ``folder`` durable (POSIX; a no-op where folders cannot be opened)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
